//! Parsing and ECDSA quote verification do not touch the heap; RSA verification allocates a
//! bounded number of times that does not grow with the attestation.
//!
//! A counting global allocator wraps the system one. Only allocations made by the measuring
//! thread while its flag is up are counted, and measurements are serialised by a mutex, so
//! other tests in this binary (and the harness's own threads) cannot pollute the count.
//! Allocation, zeroed allocation and reallocation each count once; frees are not counted.

#![cfg(all(feature = "std", feature = "rsa", feature = "p256"))]

use baretpm::commands::templates;
use baretpm::types::tpm2b::max;
use baretpm::types::{
    HashAlg, PcrValues, PublicDetails, Tpm2b, Tpm2bPublic, TpmlPcrSelection, TpmsAttest,
    TpmsClockInfo, TpmsEccPoint, TpmsPcrSelection, TpmsQuoteInfo, TpmsSignatureEcc,
    TpmsSignatureRsa, TpmtPublic, TpmtSignature, TpmuAttest,
};
use baretpm::verify::{verify_quote, Ak, Expectations, Policy};
use baretpm::wire::{self, Marshal, Reader, Unmarshal};
use sha2::Digest as _;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

// ------------------------------------------------------------------------------------------
// The counting allocator.
// ------------------------------------------------------------------------------------------

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static MEASURING: Mutex<()> = Mutex::new(());

thread_local! {
    // A const-initialised `Cell<bool>` needs no lazy setup and no destructor, so reading it
    // from inside the allocator cannot itself allocate.
    static COUNT_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    if COUNT_THIS_THREAD.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the GlobalAlloc
// contract; the counter only adds a relaxed atomic increment.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the number of heap allocations it made on this thread.
/// The result is returned (not dropped inside), and frees are not counted anyway.
fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let _guard = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNT_THIS_THREAD.with(|c| c.set(true));
    let r = black_box(f());
    COUNT_THIS_THREAD.with(|c| c.set(false));
    (r, ALLOCATIONS.load(Ordering::SeqCst))
}

#[test]
fn the_counter_counts() {
    let (v, n) = count_allocations(|| vec![1u8; 100]);
    assert_eq!(v.len(), 100);
    assert_eq!(n, 1);
    let (_, n) = count_allocations(|| black_box(1 + 1));
    assert_eq!(n, 0);
}

// ------------------------------------------------------------------------------------------
// Parsing real captures.
// ------------------------------------------------------------------------------------------

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/external/props");

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!("{VECTORS}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Asserts that `f` makes no allocation, naming what was measured.
fn assert_alloc_free<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let (r, n) = count_allocations(f);
    println!("{what}: {n} allocations");
    assert_eq!(n, 0, "{what} allocated {n} times");
    r
}

#[test]
fn parsing_real_vectors_allocates_nothing() {
    let quote = vector("gce-cos-85-nonce9009.sha256.quote.bin");
    let creation = vector("gvtpm_ecc_p256_ak.certifycreation.attest.bin");
    let rsa_sig = vector("gce-cos-85-nonce9009.sha256.sig.bin");
    let ecc_sig = vector("gvtpm_ecc_p256_ak.certifycreation.sig.bin");
    let rsa_ak = vector("gce-cos-85-nonce9009.akpub.bin");
    let ecc_ak = vector("gvtpm_ecc_p256_ak.akpub.bin");
    let tpm2b_ak = vector("keylime-ak.pub");
    let mut sized_quote = (quote.len() as u16).to_be_bytes().to_vec();
    sized_quote.extend_from_slice(&quote);

    for (name, bytes) in [("quote", &quote), ("certify-creation", &creation)] {
        assert_alloc_free(&format!("TpmsAttest::from_bytes({name})"), || {
            TpmsAttest::from_bytes(black_box(bytes)).expect("attest")
        });
    }
    assert_alloc_free("TpmsAttest::read_tpm2b", || {
        TpmsAttest::read_tpm2b(&mut Reader::new(black_box(&sized_quote))).expect("TPM2B_ATTEST")
    });
    for (name, bytes) in [("RSASSA", &rsa_sig), ("ECDSA", &ecc_sig)] {
        assert_alloc_free(&format!("TpmtSignature::from_bytes({name})"), || {
            TpmtSignature::from_bytes(black_box(bytes)).expect("signature")
        });
    }
    for (name, bytes) in [("RSA AK", &rsa_ak), ("ECC AK", &ecc_ak)] {
        assert_alloc_free(&format!("TpmtPublic::from_bytes({name})"), || {
            TpmtPublic::from_bytes(black_box(bytes)).expect("public")
        });
        assert_alloc_free(&format!("Tpm2bPublic::from_tpmt_bytes({name})"), || {
            Tpm2bPublic::from_tpmt_bytes(black_box(bytes)).expect("public")
        });
    }
    let p = assert_alloc_free("Tpm2bPublic::from_bytes(keylime ak.pub)", || {
        Tpm2bPublic::from_bytes(black_box(&tpm2b_ak)).expect("TPM2B_PUBLIC")
    });
    assert_alloc_free("Tpm2bPublic::name", || p.name().expect("name"));

    // The quote's own PCR selection, and emitting into a caller's buffer.
    let a = TpmsAttest::from_bytes(&quote).expect("attest");
    let sel = wire::to_vec(&a.quote().expect("quote").pcr_select, 256).expect("selection");
    assert_alloc_free("TpmlPcrSelection::from_bytes", || {
        TpmlPcrSelection::from_bytes(black_box(&sel)).expect("selection")
    });
    let mut buf = [0u8; max::ATTEST];
    assert_alloc_free("TpmsAttest::to_bytes", || {
        a.to_bytes(black_box(&mut buf))
            .map(<[u8]>::len)
            .expect("emit")
    });
}

// ------------------------------------------------------------------------------------------
// Forged quotes: an ECDSA P-256 key and an RSA-2048 test key sign quotes of several sizes.
// ------------------------------------------------------------------------------------------

/// Owned parts of a quote over `banks` (each selecting PCRs `0..pcrs`), with its PCR values,
/// a nonce of `nonce_len` bytes and a qualifiedSigner of `signer_len` bytes.
struct QuoteParts {
    selection: TpmlPcrSelection,
    values: Vec<Vec<u8>>,
    digest: Vec<u8>,
    signer: Vec<u8>,
    nonce: Vec<u8>,
}

impl QuoteParts {
    fn new(banks: &[(HashAlg, u8)], pcrs: u32, nonce_len: usize, signer_len: usize) -> Self {
        let mut selection = TpmlPcrSelection::default();
        for &(hash, size_of_select) in banks {
            let indices: Vec<u32> = (0..pcrs).collect();
            let bitmap = TpmsPcrSelection::new(hash, &indices)
                .expect("selection")
                .bitmap();
            let s = TpmsPcrSelection::from_select(hash, size_of_select, bitmap).expect("size");
            selection.push(s).expect("bank");
        }
        let values: Vec<Vec<u8>> = selection
            .iter_pcrs()
            .map(|(bank, index)| vec![index as u8 ^ 0x5a; bank.digest_size()])
            .collect();
        let mut h = sha2::Sha256::new();
        for v in &values {
            h.update(v);
        }
        Self {
            selection,
            values,
            digest: h.finalize().to_vec(),
            signer: vec![0x42; signer_len],
            nonce: (0..nonce_len).map(|i| i as u8).collect(),
        }
    }

    fn attest(&self) -> Vec<u8> {
        let a = TpmsAttest {
            qualified_signer: Tpm2b(&self.signer),
            extra_data: Tpm2b(&self.nonce),
            clock_info: TpmsClockInfo {
                clock: 123_456,
                reset_count: 3,
                restart_count: 0,
                safe: true,
            },
            firmware_version: 0x2019_1023_0016_3636,
            attested: TpmuAttest::Quote(TpmsQuoteInfo {
                pcr_select: self.selection.clone(),
                pcr_digest: Tpm2b(&self.digest),
            }),
        };
        wire::to_vec(&a, max::ATTEST).expect("emit attest")
    }

    fn pcr_values(&self) -> PcrValues<'_> {
        let mut p = PcrValues {
            selection: self.selection.clone(),
            ..PcrValues::default()
        };
        for v in &self.values {
            p.values.push(v).expect("values");
        }
        p
    }
}

/// Small to large: one PCR of one bank with a 1-byte nonce and a 4-byte (handle) signer, up
/// to all 24 PCRs of every bank the default policy allows, with a 64-byte nonce and a
/// 68-byte signer. The PCR digest input grows from 32 to 24 * 336 bytes as well.
fn quote_shapes() -> Vec<QuoteParts> {
    let all_banks = [
        (HashAlg::Sha256, 3),
        (HashAlg::Sha384, 4),
        (HashAlg::Sha512, 3),
        (HashAlg::Sm3_256, 4),
        (HashAlg::Sha3_256, 3),
        (HashAlg::Sha3_384, 4),
        (HashAlg::Sha3_512, 3),
    ];
    vec![
        QuoteParts::new(&[(HashAlg::Sha256, 3)], 1, 1, 4),
        QuoteParts::new(&[(HashAlg::Sha256, 3)], 24, 20, 34),
        QuoteParts::new(&all_banks[..3], 24, 32, 50),
        QuoteParts::new(&all_banks, 24, 64, 68),
    ]
}

/// Verifies each forged quote with `ak`, returning the allocation count of each call.
fn verify_counts(ak: &Ak<'_>, signed: &[(Vec<u8>, Vec<u8>, &QuoteParts)]) -> Vec<usize> {
    signed
        .iter()
        .map(|(attest, sig, parts)| {
            let pcrs = parts.pcr_values();
            let expect = Expectations::new(&parts.nonce, &pcrs);
            let policy = Policy::default();
            let (r, n) = count_allocations(|| verify_quote(ak, attest, sig, &expect, &policy));
            r.unwrap_or_else(|e| panic!("forged quote of {} bytes refused: {e}", attest.len()));
            println!(
                "verify_quote, {} byte attest: {n} allocations",
                attest.len()
            );
            n
        })
        .collect()
}

#[test]
fn ecdsa_p256_quote_verification_allocates_nothing() {
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::{Signature, SigningKey};

    // A fixed scalar: signing is deterministic (RFC 6979), so the test is too.
    let key = SigningKey::from_slice(&[0x17; 32]).expect("scalar");
    let point = key.verifying_key().to_encoded_point(false);
    // The crate's standard ECC AK template, with this key's point as its unique field.
    let mut public = templates::ak_ecc();
    if let PublicDetails::Ecc { unique, .. } = &mut public.details {
        *unique = TpmsEccPoint {
            x: Tpm2b(point.x().expect("x")),
            y: Tpm2b(point.y().expect("y")),
        };
    }
    let ak_bytes = wire::to_vec(&public, 1024).expect("emit AK");

    let shapes = quote_shapes();
    let signed: Vec<_> = shapes
        .iter()
        .map(|parts| {
            let attest = parts.attest();
            let sig: Signature = key.sign(&attest);
            let (r, s) = sig.split_bytes();
            let t = TpmtSignature::Ecdsa(TpmsSignatureEcc {
                hash: HashAlg::Sha256,
                signature_r: Tpm2b(&r),
                signature_s: Tpm2b(&s),
            });
            (attest, wire::to_vec(&t, 256).expect("emit sig"), parts)
        })
        .collect();

    let (ak, n) = count_allocations(|| Ak::from_tpmt_public(&ak_bytes).expect("ECC AK"));
    println!("Ak::from_tpmt_public (ECC P-256): {n} allocations");
    assert_eq!(n, 0, "reading an ECC AK allocated");

    let counts = verify_counts(&ak, &signed);
    assert_eq!(
        counts,
        vec![0; signed.len()],
        "ECDSA verification allocated"
    );
}

#[test]
fn rsa_quote_verification_allocations_are_bounded_and_size_independent() {
    use rsa::pkcs8::DecodePrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    use rsa::{Pkcs1v15Sign, RsaPrivateKey};

    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/vectors/props/rsa2048-test-key.pem"
    ))
    .expect("test key");
    let key = RsaPrivateKey::from_pkcs8_pem(&pem).expect("PKCS#8 RSA key");
    let modulus = key.n().to_bytes_be();
    // The crate's standard RSA AK template (RSASSA-SHA256, 2048 bits) with this key's modulus.
    let mut public = templates::ak_rsa();
    if let PublicDetails::Rsa { unique, .. } = &mut public.details {
        *unique = Tpm2b(&modulus);
    }
    let ak_bytes = wire::to_vec(&public, 1024).expect("emit AK");

    let shapes = quote_shapes();
    let signed: Vec<_> = shapes
        .iter()
        .map(|parts| {
            let attest = parts.attest();
            let digest = sha2::Sha256::digest(&attest);
            let raw = key
                .sign(Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
                .expect("sign");
            let t = TpmtSignature::RsaSsa(TpmsSignatureRsa {
                hash: HashAlg::Sha256,
                sig: Tpm2b(&raw),
            });
            (attest, wire::to_vec(&t, 1024).expect("emit sig"), parts)
        })
        .collect();

    // Reported, not asserted to be zero: the modulus becomes a heap big integer.
    let (ak, n) = count_allocations(|| Ak::from_tpmt_public(&ak_bytes).expect("RSA AK"));
    println!("Ak::from_tpmt_public (RSA-2048): {n} allocations");
    assert!(n < 200, "reading an RSA AK allocated {n} times");
    let counts = verify_counts(&ak, &signed);

    // The real GCE quote (RSA-2048, RSASSA-SHA256) for comparison.
    let quote = vector("gce-cos-85-nonce9009.sha256.quote.bin");
    let sig = vector("gce-cos-85-nonce9009.sha256.sig.bin");
    let akpub = vector("gce-cos-85-nonce9009.akpub.bin");
    let gce_ak = Ak::from_tpmt_public(&akpub).expect("GCE AK");
    let json: serde_json::Value =
        serde_json::from_slice(&vector("gce-cos-85-nonce9009.sha256.pcrs.json")).expect("json");
    let parsed = TpmsAttest::from_bytes(&quote).expect("quote");
    let selection = parsed.quote().expect("quote").pcr_select.clone();
    let values: Vec<Vec<u8>> = selection
        .iter_pcrs()
        .map(|(_, i)| hex::decode(json["pcrs"][i.to_string()].as_str().expect("PCR")).expect("hex"))
        .collect();
    let mut pcrs = PcrValues {
        selection,
        ..PcrValues::default()
    };
    for v in &values {
        pcrs.values.push(v).expect("values");
    }
    let expect = Expectations::new(&[0x90, 0x09], &pcrs);
    let policy = Policy::default();
    let (r, n) = count_allocations(|| verify_quote(&gce_ak, &quote, &sig, &expect, &policy));
    r.expect("the GCE quote verifies");
    println!(
        "verify_quote, GCE quote ({} bytes): {n} allocations",
        quote.len()
    );

    let gce_count = n;
    assert!(
        gce_count < 200,
        "GCE RSA verification allocated {gce_count} times"
    );

    // One key, quotes from the smallest to the largest: the RSA arithmetic works on the
    // 256-byte signature and modulus only and the attestation is hashed without allocating, so
    // the count must not grow with the quote. (Across keys it differs by a few, through
    // value-dependent big-integer sizes; that is not the quote's doing.) A spread of a few
    // allocations is tolerated for the same reason; today it is zero.
    let (lo, hi) = (
        *counts.iter().min().expect("counts"),
        *counts.iter().max().expect("counts"),
    );
    assert!(hi < 200, "RSA verification allocated {hi} times");
    assert!(
        hi - lo <= 4,
        "RSA allocation counts vary with the quote: {counts:?}"
    );
}

/// The shapes really do differ in size, so "independent of size" means something.
#[test]
fn quote_shapes_differ_in_size() {
    let sizes: Vec<usize> = quote_shapes().iter().map(|p| p.attest().len()).collect();
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
}
