//! Parsing what a verifier receives: TPMS_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC.
//!
//! Read against: tpm2-protocol 1.x (no_std, zero-copy), same bytes, same group.
//! - `tpm2_protocol_view`: `TpmField::cast_prefix_field` (or the wire type's `cast`) plus a
//!   trailing-bytes check. It validates the layout (magic, tags, sizes against their maxima,
//!   list counts, TPMI_YES_NO) and hands back borrowed views; it decodes no value.
//! - `tpm2_protocol_view_decode` (TPMS_ATTEST only): the view, then every field a verifier
//!   needs read out of it (clock words, the quote's bank list as (hash, bitmap) pairs, the PCR
//!   digest), which is the work our parser does in one pass.
//! - `tpm2_protocol_unmarshal`: `TpmUnmarshal::unmarshal`, the owned form (copies every TPM2B
//!   into a fixed-capacity buffer).
//!
//! `baretpm` is `Unmarshal::from_bytes`: one pass that checks everything the view checks and
//! more (sizeofSelect 3..=4, PCR index < 24, hash algorithms only where the spec wants a
//! hash), and returns the decoded structure with borrowed byte fields.
//!
//! Target: baretpm / tpm2_protocol_view <= 1.0 for TPMS_ATTEST.

mod common;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use baretpm::types::{Tpm2bPublic, TpmsAttest, TpmtSignature};
use baretpm::wire::Unmarshal;
use common::{vector, Pair};
use criterion::{criterion_group, Criterion};
use tpm2_protocol::data as peer;
use tpm2_protocol::{TpmField, TpmUnmarshal};

/// Everything a quote verifier reads out of a TPMS_ATTEST, taken from tpm2-protocol's view.
#[allow(dead_code)] // the fields are there to be filled, and kept alive by black_box
#[derive(Default)]
struct PeerQuote<'a> {
    attest_type: u16,
    signer: &'a [u8],
    extra: &'a [u8],
    clock: u64,
    reset_count: u32,
    restart_count: u32,
    safe: bool,
    firmware: u64,
    banks: [(u16, u32); 8],
    bank_count: usize,
    pcr_digest: &'a [u8],
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

/// tpm2-protocol's validated view, then the fields decoded the way its API allows: clock info
/// from the validated 17 bytes, and the quote body walked with the crate's own field casts.
fn peer_view_decode(bytes: &[u8]) -> Result<PeerQuote<'_>, tpm2_protocol::TpmError> {
    let (v, rest) = <peer::TpmsAttest as TpmField>::cast_prefix_field(bytes)?;
    if !rest.is_empty() {
        return Err(tpm2_protocol::TpmError::TrailingData {
            offset: bytes.len() - rest.len(),
            actual: rest.len(),
        });
    }
    let ci = v.clock_info.as_bytes();
    let mut out = PeerQuote {
        attest_type: v.attest_type as u16,
        signer: v.qualified_signer.data(),
        extra: v.extra_data.data(),
        clock: be_u64(&ci[0..8]),
        reset_count: be_u32(&ci[8..12]),
        restart_count: be_u32(&ci[12..16]),
        safe: ci[16] == 1,
        firmware: v.firmware_version,
        ..PeerQuote::default()
    };
    if let peer::TpmuAttestView::Quote(q) = v.attested {
        let (list, tail) = <peer::TpmlPcrSelection as TpmField>::cast_prefix_field(q.as_bytes())?;
        let mut cur = list.items_bytes();
        for slot in out.banks.iter_mut().take(list.count()) {
            let ((hash, select), next) =
                <peer::TpmsPcrSelection as TpmField>::cast_prefix_field(cur)?;
            let bitmap = select
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (8 * i));
            *slot = (hash as u16, bitmap);
            cur = next;
        }
        out.bank_count = list.count();
        let (digest, _) = <peer::Tpm2bDigest as TpmField>::cast_prefix_field(tail)?;
        out.pcr_digest = digest.data();
    }
    Ok(out)
}

/// Makes the parsed value observable without copying it out: `black_box` on a reference forces
/// it to exist in memory, but unlike returning it to criterion (which black-boxes the value
/// itself) it does not charge the contender with a copy proportional to its result size.
#[inline(always)]
fn keep<T>(parsed: T) {
    black_box(&parsed);
}

fn attest_group(c: &mut Criterion, group: &str, bytes: &[u8]) {
    // Outside the timing: every contender accepts these bytes.
    TpmsAttest::from_bytes(bytes).expect("baretpm parses the vector");
    peer_view_decode(bytes).expect("tpm2-protocol parses the vector");
    peer::TpmsAttest::unmarshal(bytes).expect("tpm2-protocol unmarshals the vector");

    // Each closure hands what it parsed to `keep`, so no decoding can be optimised away.
    let mut g = c.benchmark_group(group);
    g.bench_function("baretpm", |b| {
        b.iter(|| keep(TpmsAttest::from_bytes(black_box(bytes))))
    });
    g.bench_function("tpm2_protocol_view", |b| {
        b.iter(|| {
            keep(
                <peer::TpmsAttest as TpmField>::cast_prefix_field(black_box(bytes))
                    .map(|(view, rest)| (view, rest.is_empty())),
            )
        })
    });
    g.bench_function("tpm2_protocol_view_decode", |b| {
        b.iter(|| keep(peer_view_decode(black_box(bytes))))
    });
    g.bench_function("tpm2_protocol_unmarshal", |b| {
        b.iter(|| keep(peer::TpmsAttest::unmarshal(black_box(bytes))))
    });
    g.finish();
}

fn signature_group(c: &mut Criterion, group: &str, bytes: &[u8]) {
    TpmtSignature::from_bytes(bytes).expect("baretpm parses the signature");
    let (_, rest) = <peer::TpmtSignature as TpmField>::cast_prefix_field(bytes)
        .expect("tpm2-protocol parses the signature");
    assert!(rest.is_empty());

    let mut g = c.benchmark_group(group);
    g.bench_function("baretpm", |b| {
        b.iter(|| keep(TpmtSignature::from_bytes(black_box(bytes))))
    });
    g.bench_function("tpm2_protocol_view", |b| {
        b.iter(|| {
            keep(
                <peer::TpmtSignature as TpmField>::cast_prefix_field(black_box(bytes))
                    .map(|(view, rest)| (view, rest.is_empty())),
            )
        })
    });
    g.bench_function("tpm2_protocol_unmarshal", |b| {
        b.iter(|| keep(peer::TpmtSignature::unmarshal(black_box(bytes))))
    });
    g.finish();
}

fn public_group(c: &mut Criterion, group: &str, bytes: &[u8]) {
    Tpm2bPublic::from_bytes(bytes).expect("baretpm parses the key");
    peer::Tpm2bPublicWire::cast(bytes)
        .and_then(|w| w.inner())
        .expect("tpm2-protocol parses the key");

    let mut g = c.benchmark_group(group);
    g.bench_function("baretpm", |b| {
        b.iter(|| keep(Tpm2bPublic::from_bytes(black_box(bytes))))
    });
    // `cast` validates the whole TPM2B (inner TPMT_PUBLIC included, no trailing bytes);
    // `inner` then walks the TPMT_PUBLIC again to hand out its field views.
    g.bench_function("tpm2_protocol_view", |b| {
        b.iter(|| keep(peer::Tpm2bPublicWire::cast(black_box(bytes)).and_then(|w| w.inner())))
    });
    g.bench_function("tpm2_protocol_unmarshal", |b| {
        b.iter(|| keep(peer::Tpm2bPublic::unmarshal(black_box(bytes))))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    attest_group(c, "attest_swtpm", &vector("swtpm/swtpm-rsassa-sha256.msg"));
    attest_group(
        c,
        "attest_gce",
        &vector("external/go-tpm-tools/gce-cos-85-nonce9009.sha256.quote.bin"),
    );
    signature_group(c, "signature_rsa", &vector("swtpm/swtpm-rsassa-sha256.sig"));
    signature_group(c, "signature_ecc", &vector("swtpm/swtpm-ecdsa-sha256.sig"));
    public_group(c, "public_rsa", &vector("swtpm/rsa.ak.pub"));
    public_group(c, "public_ecc", &vector("swtpm/ecc.ak.pub"));
}

/// The pairs the summary prints: ours against each peer form, group by group.
const PAIRS: &[Pair<'static>] = &[
    Pair {
        group: "attest_swtpm",
        ours: "baretpm",
        peer: "tpm2_protocol_view",
    },
    Pair {
        group: "attest_swtpm",
        ours: "baretpm",
        peer: "tpm2_protocol_view_decode",
    },
    Pair {
        group: "attest_swtpm",
        ours: "baretpm",
        peer: "tpm2_protocol_unmarshal",
    },
    Pair {
        group: "attest_gce",
        ours: "baretpm",
        peer: "tpm2_protocol_view",
    },
    Pair {
        group: "attest_gce",
        ours: "baretpm",
        peer: "tpm2_protocol_view_decode",
    },
    Pair {
        group: "attest_gce",
        ours: "baretpm",
        peer: "tpm2_protocol_unmarshal",
    },
    Pair {
        group: "signature_rsa",
        ours: "baretpm",
        peer: "tpm2_protocol_view",
    },
    Pair {
        group: "signature_rsa",
        ours: "baretpm",
        peer: "tpm2_protocol_unmarshal",
    },
    Pair {
        group: "signature_ecc",
        ours: "baretpm",
        peer: "tpm2_protocol_view",
    },
    Pair {
        group: "signature_ecc",
        ours: "baretpm",
        peer: "tpm2_protocol_unmarshal",
    },
    Pair {
        group: "public_rsa",
        ours: "baretpm",
        peer: "tpm2_protocol_view",
    },
    Pair {
        group: "public_rsa",
        ours: "baretpm",
        peer: "tpm2_protocol_unmarshal",
    },
    Pair {
        group: "public_ecc",
        ours: "baretpm",
        peer: "tpm2_protocol_view",
    },
    Pair {
        group: "public_ecc",
        ours: "baretpm",
        peer: "tpm2_protocol_unmarshal",
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

/// The same contenders again, interleaved (see `common::interleaved`).
fn cross_check() {
    const BATCH: u32 = 20_000;
    const ROUNDS: usize = 30;
    if !common::measuring() {
        return;
    }
    println!("\n== parse: interleaved cross-check ==");
    for (group, file) in [
        ("attest_swtpm", "swtpm/swtpm-rsassa-sha256.msg"),
        (
            "attest_gce",
            "external/go-tpm-tools/gce-cos-85-nonce9009.sha256.quote.bin",
        ),
    ] {
        if !common::wanted(group) {
            continue;
        }
        let bytes = &vector(file)[..];
        common::interleaved(
            group,
            &mut [
                ("baretpm", &mut || {
                    keep(TpmsAttest::from_bytes(black_box(bytes)))
                }),
                ("tpm2_protocol_view", &mut || {
                    keep(
                        <peer::TpmsAttest as TpmField>::cast_prefix_field(black_box(bytes))
                            .map(|(view, rest)| (view, rest.is_empty())),
                    )
                }),
                ("tpm2_protocol_view_decode", &mut || {
                    keep(peer_view_decode(black_box(bytes)))
                }),
                ("tpm2_protocol_unmarshal", &mut || {
                    keep(peer::TpmsAttest::unmarshal(black_box(bytes)))
                }),
            ],
            BATCH,
            ROUNDS,
        );
    }
    for (group, file) in [
        ("signature_rsa", "swtpm/swtpm-rsassa-sha256.sig"),
        ("signature_ecc", "swtpm/swtpm-ecdsa-sha256.sig"),
    ] {
        if !common::wanted(group) {
            continue;
        }
        let bytes = &vector(file)[..];
        common::interleaved(
            group,
            &mut [
                ("baretpm", &mut || {
                    keep(TpmtSignature::from_bytes(black_box(bytes)))
                }),
                ("tpm2_protocol_view", &mut || {
                    keep(
                        <peer::TpmtSignature as TpmField>::cast_prefix_field(black_box(bytes))
                            .map(|(view, rest)| (view, rest.is_empty())),
                    )
                }),
                ("tpm2_protocol_unmarshal", &mut || {
                    keep(peer::TpmtSignature::unmarshal(black_box(bytes)))
                }),
            ],
            BATCH,
            ROUNDS,
        );
    }
    for (group, file) in [
        ("public_rsa", "swtpm/rsa.ak.pub"),
        ("public_ecc", "swtpm/ecc.ak.pub"),
    ] {
        if !common::wanted(group) {
            continue;
        }
        let bytes = &vector(file)[..];
        common::interleaved(
            group,
            &mut [
                ("baretpm", &mut || {
                    keep(Tpm2bPublic::from_bytes(black_box(bytes)))
                }),
                ("tpm2_protocol_view", &mut || {
                    keep(peer::Tpm2bPublicWire::cast(black_box(bytes)).and_then(|w| w.inner()))
                }),
                ("tpm2_protocol_unmarshal", &mut || {
                    keep(peer::Tpm2bPublic::unmarshal(black_box(bytes)))
                }),
            ],
            BATCH,
            ROUNDS,
        );
    }
}

fn main() {
    let since = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    common::print_ratios("parse: baretpm against tpm2-protocol", PAIRS, since);
    cross_check();
}
