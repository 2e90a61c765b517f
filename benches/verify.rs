//! Whole quote verification against its one signature check.
//!
//! Inputs are real swtpm captures (`vectors/swtpm/`): an RSA-2048 RSASSA-SHA256 quote and an
//! ECC P-256 ECDSA-SHA256 quote over sha256:14,15,16, an RSA-2048 RSA-PSS-SHA256 quote (salt
//! 32) and an ECC P-384 ECDSA-SHA384 quote over sha384:14,15,16, with their AKs (TPM2B_PUBLIC)
//! and the PCR files tpm2_quote wrote. Key decoding and PCR file reading happen once, outside
//! the timing.
//!
//! Read against, in the same group:
//! - `rsa_bare`: SHA-256 of the attest bytes, then `RsaPublicKey::verify(Pkcs1v15Sign)` with
//!   the `rsa` crate, on the same key, bytes and signature.
//! - `p256_bare`: SHA-256 of the attest bytes, `Signature::from_scalars(r, s)`, then
//!   `VerifyingKey::verify_prehash` with `p256`.
//! - `rsapss_bare`: SHA-256, then `RsaPublicKey::verify(Pss::new_with_salt::<Sha256>(32))`:
//!   the `rsa` crate's check of one fixed salt length, where baretpm recovers the salt length
//!   from the signature (its own EMSA-PSS-VERIFY over the same modpow).
//! - `p384_bare`: SHA-384, `Signature::from_scalars(r, s)`, `verify_prehash` with `p384`.
//!
//! `baretpm` is `verify_quote` with the default (strict) policy: key policy, signature parse,
//! the same signature check, attest parse, nonce, selection, PCR digest, clock.
//!
//! Target: baretpm within 5% of the bare check (ratio <= 1.05).
//!
//! The `pieces` group times the steps `verify_quote` adds around the signature, one by one,
//! so a ratio above target can be traced to a step.

mod common;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use baretpm::types::hash::{self, Hasher};
use baretpm::types::{
    HashAlg, PcrValues, PublicDetails, Tpm2bPublic, TpmlPcrSelection, TpmsAttest, TpmsPcrSelection,
    TpmtSignature,
};
use baretpm::verify::{verify_quote, Ak, Expectations, Policy};
use baretpm::wire::Unmarshal;
use common::{unhex, vector, Pair};
use criterion::{criterion_group, Criterion};
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};

/// A tpm2-tools PCR file in its default `-F serialized` form: a little-endian dump of
/// TPML_PCR_SELECTION (count, then 16 slots of {u16 hash, u8 sizeofSelect, u8[4], pad}),
/// a u32 number of TPML_DIGEST blocks, then the blocks (count, then 8 slots of {u16 size,
/// u8[64]}). Values follow the selection order, eight per block.
fn read_serialized_pcrs(file: &[u8]) -> PcrValues<'_> {
    const SEL_LEN: usize = 4 + 16 * 8;
    const BLOCK_LEN: usize = 4 + 8 * 66;
    let le32 = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes"));
    let le16 = |at: usize| u16::from_le_bytes(file[at..at + 2].try_into().expect("2 bytes"));

    let mut selection = TpmlPcrSelection::default();
    for i in 0..le32(0) as usize {
        let at = 4 + i * 8;
        let hash = HashAlg::ALL
            .into_iter()
            .find(|h| h.alg_id().0 == le16(at))
            .expect("hash algorithm in the PCR file");
        let size = file[at + 2];
        let bits = file[at + 3..at + 3 + usize::from(size)]
            .iter()
            .enumerate()
            .fold(0u32, |acc, (k, b)| acc | u32::from(*b) << (8 * k));
        let indices: Vec<u32> = (0..24).filter(|k| bits & (1 << k) != 0).collect();
        selection
            .push(TpmsPcrSelection::new(hash, &indices).expect("PCR selection"))
            .expect("bank fits");
    }
    let mut values = heapless::Vec::new();
    let blocks = le32(SEL_LEN) as usize;
    for blk in 0..blocks {
        let base = SEL_LEN + 4 + blk * BLOCK_LEN;
        for slot in 0..le32(base) as usize {
            let at = base + 4 + slot * 66;
            let size = usize::from(le16(at));
            values
                .push(&file[at + 2..at + 2 + size])
                .expect("value fits");
        }
    }
    let pcrs = PcrValues { selection, values };
    assert!(
        pcrs.is_complete(),
        "PCR file: values do not match the selection"
    );
    pcrs
}

struct Case {
    name: &'static str,
    ak: Vec<u8>,
    msg: Vec<u8>,
    sig: Vec<u8>,
    pcrs: Vec<u8>,
    nonce: Vec<u8>,
}

fn case(name: &'static str, ak: &str, stem: &str, nonce: &str) -> Case {
    Case {
        name,
        ak: vector(ak),
        msg: vector(&format!("{stem}.msg")),
        sig: vector(&format!("{stem}.sig")),
        pcrs: vector(&format!("{stem}.pcrs")),
        nonce: unhex(nonce),
    }
}

/// The peer's inputs: the key as its own crate's type and the raw signature, decoded from
/// the same files once, outside the timing.
enum Bare {
    Rsa {
        key: rsa::RsaPublicKey,
        sig: Vec<u8>,
    },
    P256 {
        key: p256::ecdsa::VerifyingKey,
        r: [u8; 32],
        s: [u8; 32],
    },
    RsaPss {
        key: rsa::RsaPublicKey,
        sig: Vec<u8>,
    },
    P384 {
        key: p384::ecdsa::VerifyingKey,
        r: [u8; 48],
        s: [u8; 48],
    },
}

impl Bare {
    fn id(&self) -> &'static str {
        match self {
            Bare::Rsa { .. } => "rsa_bare",
            Bare::P256 { .. } => "p256_bare",
            Bare::RsaPss { .. } => "rsapss_bare",
            Bare::P384 { .. } => "p384_bare",
        }
    }

    fn new(k: &Case) -> Bare {
        let public = Tpm2bPublic::from_bytes(&k.ak).expect("AK");
        match (
            TpmtSignature::from_bytes(&k.sig).expect("signature"),
            public.public_area().details,
        ) {
            (TpmtSignature::RsaSsa(s), PublicDetails::Rsa { unique, .. }) => {
                let key = rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(unique.as_bytes()),
                    rsa::BigUint::from(65537u32),
                )
                .expect("RSA key");
                assert_eq!(key.size(), s.sig.len());
                Bare::Rsa {
                    key,
                    sig: s.sig.as_bytes().to_vec(),
                }
            }
            (TpmtSignature::RsaPss(s), PublicDetails::Rsa { unique, .. }) => {
                let key = rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(unique.as_bytes()),
                    rsa::BigUint::from(65537u32),
                )
                .expect("RSA key");
                Bare::RsaPss {
                    key,
                    sig: s.sig.as_bytes().to_vec(),
                }
            }
            (TpmtSignature::Ecdsa(s), PublicDetails::Ecc { unique, .. })
                if unique.x.as_bytes().len() == 48 =>
            {
                let point = p384::EncodedPoint::from_affine_coordinates(
                    unique.x.as_bytes().into(),
                    unique.y.as_bytes().into(),
                    false,
                );
                Bare::P384 {
                    key: p384::ecdsa::VerifyingKey::from_encoded_point(&point).expect("P-384"),
                    r: s.signature_r.as_bytes().try_into().expect("48-byte r"),
                    s: s.signature_s.as_bytes().try_into().expect("48-byte s"),
                }
            }
            (TpmtSignature::Ecdsa(s), PublicDetails::Ecc { unique, .. }) => {
                let point = p256::EncodedPoint::from_affine_coordinates(
                    unique.x.as_bytes().into(),
                    unique.y.as_bytes().into(),
                    false,
                );
                Bare::P256 {
                    key: p256::ecdsa::VerifyingKey::from_encoded_point(&point).expect("P-256"),
                    r: s.signature_r.as_bytes().try_into().expect("32-byte r"),
                    s: s.signature_s.as_bytes().try_into().expect("32-byte s"),
                }
            }
            (other, _) => panic!("unexpected signature {other:?}"),
        }
    }

    /// One signature check over `msg`, as a verifier without our layer would write it.
    fn check(&self, msg: &[u8]) -> bool {
        if let Bare::P384 { key, r, s } = self {
            let digest = sha2::Sha384::digest(msg);
            return match p384::ecdsa::Signature::from_scalars(*black_box(r), *black_box(s)) {
                Ok(sig) => key.verify_prehash(&digest, &sig).is_ok(),
                Err(_) => false,
            };
        }
        let digest = Sha256::digest(msg);
        match self {
            Bare::Rsa { key, sig } => key
                .verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, black_box(sig))
                .is_ok(),
            Bare::P256 { key, r, s } => {
                match p256::ecdsa::Signature::from_scalars(*black_box(r), *black_box(s)) {
                    Ok(sig) => key.verify_prehash(&digest, &sig).is_ok(),
                    Err(_) => false,
                }
            }
            Bare::RsaPss { key, sig } => key
                .verify(
                    rsa::Pss::new_with_salt::<Sha256>(32),
                    &digest,
                    black_box(sig),
                )
                .is_ok(),
            Bare::P384 { .. } => false,
        }
    }
}

fn cases() -> [Case; 4] {
    [
        case(
            "verify_rsa2048",
            "swtpm/rsa.ak.pub",
            "swtpm/swtpm-rsassa-sha256",
            "258f80c4980b67e649542ce43cde7ca24213c177d6986fea1eb8a560b6381134",
        ),
        case(
            "verify_p256",
            "swtpm/ecc.ak.pub",
            "swtpm/swtpm-ecdsa-sha256",
            "8239a32454a15b16d6ee0fb41e90f3b4622b0f5a8e925ceeb6dbc61af8d0ad97",
        ),
        case(
            "verify_rsapss2048",
            "swtpm/rsapss.ak.pub",
            "swtpm/swtpm-rsapss-sha256",
            "1e4a82c1d5490edad675b4f1bf8b8cc2d7bfd1ac67e97e5318601f691e75bec7",
        ),
        case(
            "verify_p384",
            "swtpm/ecc384.ak.pub",
            "swtpm/swtpm-ecdsa-p384-sha384",
            "f90f29eb33d64382443aee242c778e19223b1534135772cf3abea0f9e585741f34855ea926067fe646d40569a4a5e109",
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let [rsa_case, ecc_case, pss_case, p384_case] = cases();
    let policy = Policy::default();

    for k in [&rsa_case, &ecc_case, &pss_case, &p384_case] {
        let ak = Ak::from_tpm2b_public(&k.ak).expect("AK");
        let pcrs = read_serialized_pcrs(&k.pcrs);
        let expect = Expectations::new(&k.nonce, &pcrs);
        verify_quote(&ak, &k.msg, &k.sig, &expect, &policy).expect("the vector verifies");
        let bare = Bare::new(k);
        assert!(bare.check(&k.msg), "the bare check accepts the vector");

        let mut g = c.benchmark_group(k.name);
        g.bench_function("baretpm", |b| {
            b.iter(|| {
                verify_quote(&ak, black_box(&k.msg), black_box(&k.sig), &expect, &policy).is_ok()
            })
        });
        g.bench_function(bare.id(), |b| b.iter(|| bare.check(black_box(&k.msg))));
        g.finish();
    }

    // What verify_quote does besides the signature, step by step (RSA case).
    let ak = Ak::from_tpm2b_public(&rsa_case.ak).expect("AK");
    let pcrs = read_serialized_pcrs(&rsa_case.pcrs);
    let mut g = c.benchmark_group("verify_pieces");
    g.bench_function("rsa_check_policy", |b| {
        b.iter(|| black_box(&ak).check_policy(&policy))
    });
    g.bench_function("parse_signature", |b| {
        b.iter(|| {
            let parsed = TpmtSignature::from_bytes(black_box(&rsa_case.sig));
            black_box(&parsed);
        })
    });
    g.bench_function("sha256_attest", |b| {
        b.iter(|| hash::digest(HashAlg::Sha256, &[black_box(&rsa_case.msg)]))
    });
    g.bench_function("parse_attest", |b| {
        b.iter(|| {
            let parsed = TpmsAttest::from_bytes(black_box(&rsa_case.msg));
            black_box(&parsed);
        })
    });
    g.bench_function("pcr_digest", |b| {
        b.iter(|| {
            let mut h = Hasher::new(HashAlg::Sha256).expect("sha256");
            for (_, _, v) in black_box(&pcrs).iter() {
                h.update(v);
            }
            h.finish()
        })
    });
    g.finish();
}

const PAIRS: &[Pair<'static>] = &[
    Pair {
        group: "verify_rsa2048",
        ours: "baretpm",
        peer: "rsa_bare",
    },
    Pair {
        group: "verify_p256",
        ours: "baretpm",
        peer: "p256_bare",
    },
    Pair {
        group: "verify_rsapss2048",
        ours: "baretpm",
        peer: "rsapss_bare",
    },
    Pair {
        group: "verify_p384",
        ours: "baretpm",
        peer: "p384_bare",
    },
];

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    targets = bench
}

/// verify_quote and the bare check again, interleaved (see `common::interleaved`).
fn cross_check() {
    if !common::measuring() {
        return;
    }
    println!("\n== verify: interleaved cross-check ==");
    let policy = Policy::default();
    for k in &cases() {
        if !common::wanted(k.name) {
            continue;
        }
        let ak = Ak::from_tpm2b_public(&k.ak).expect("AK");
        let pcrs = read_serialized_pcrs(&k.pcrs);
        let expect = Expectations::new(&k.nonce, &pcrs);
        let bare = Bare::new(k);
        common::interleaved(
            k.name,
            &mut [
                ("baretpm", &mut || {
                    black_box(
                        verify_quote(&ak, black_box(&k.msg), &k.sig, &expect, &policy).is_ok(),
                    );
                }),
                (bare.id(), &mut || {
                    black_box(bare.check(black_box(&k.msg)));
                }),
            ],
            5,
            60,
        );
    }
}

fn main() {
    let since = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    common::print_ratios(
        "verify: verify_quote against its bare signature check",
        PAIRS,
        since,
    );
    cross_check();
}
