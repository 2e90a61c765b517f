//! Bad event logs: each refused with its own error naming the event and field, never a panic,
//! never an allocation (the parser and replay are allocation-free, so a 16 MiB log costs no
//! memory beyond its bytes, and a 64 MiB one is refused before it is walked).

#![cfg(feature = "std")]

use baretpm::eventlog::{
    check_structure, classify, replay, EventLog, ParseErrorKind, ReplayError, ReplayedPcrs,
    SecureBootSummary, StructureError, TcgEventType, MAX_LOG_BYTES,
};
use baretpm::types::HashAlg;
use sha2::Digest as _;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

// ------------------------------------------------------------------------------------------
// A counting allocator (same scheme as tests/alloc_free.rs): only the measuring thread counts.
// ------------------------------------------------------------------------------------------

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static MEASURING: Mutex<()> = Mutex::new(());
thread_local! {
    static COUNT_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}
fn note() {
    if COUNT_THIS_THREAD.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}
// SAFETY: forwards every call unchanged to `System`; the counter is a relaxed atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        System.realloc(p, l, n)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_of(f: impl FnOnce()) -> usize {
    let _g = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNT_THIS_THREAD.with(|c| c.set(true));
    f();
    COUNT_THIS_THREAD.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::SeqCst)
}

// ------------------------------------------------------------------------------------------
// A small log builder (little-endian, as the PFP lays logs out).
// ------------------------------------------------------------------------------------------

const SHA1: u16 = 0x0004;
const SHA256: u16 = 0x000B;

fn spec_id(algs: &[(u16, u16)], count: u32, vendor: &[u8]) -> Vec<u8> {
    let mut d = b"Spec ID Event03\0".to_vec();
    d.extend(0u32.to_le_bytes()); // platformClass
    d.extend([0, 2, 0, 2]); // minor, major, errata, uintnSize
    d.extend(count.to_le_bytes());
    for (id, size) in algs {
        d.extend(id.to_le_bytes());
        d.extend(size.to_le_bytes());
    }
    d.push(vendor.len() as u8);
    d.extend(vendor);
    sha1_event(0, 3, &[0; 20], &d)
}

fn sha1_event(pcr: u32, ty: u32, digest: &[u8; 20], data: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend(pcr.to_le_bytes());
    e.extend(ty.to_le_bytes());
    e.extend(digest);
    e.extend((data.len() as u32).to_le_bytes());
    e.extend(data);
    e
}

fn event2(pcr: u32, ty: u32, digests: &[(u16, Vec<u8>)], data: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend(pcr.to_le_bytes());
    e.extend(ty.to_le_bytes());
    e.extend((digests.len() as u32).to_le_bytes());
    for (id, d) in digests {
        e.extend(id.to_le_bytes());
        e.extend(d);
    }
    e.extend((data.len() as u32).to_le_bytes());
    e.extend(data);
    e
}

/// An event measured the way firmware does: every bank's digest is H(data).
fn measured(pcr: u32, ty: u32, data: &[u8]) -> Vec<u8> {
    event2(
        pcr,
        ty,
        &[
            (SHA1, sha1::Sha1::digest(data).to_vec()),
            (SHA256, sha2::Sha256::digest(data).to_vec()),
        ],
        data,
    )
}

fn header() -> Vec<u8> {
    spec_id(&[(SHA1, 20), (SHA256, 32)], 2, &[])
}

fn log_of(events: &[Vec<u8>]) -> Vec<u8> {
    let mut l = header();
    for e in events {
        l.extend(e);
    }
    l
}

fn parse_err(bytes: &[u8]) -> baretpm::eventlog::EventLogError {
    match EventLog::parse(bytes) {
        Err(e) => e,
        Ok(log) => log.validate().unwrap_err(),
    }
}

fn replay_err(bytes: &[u8]) -> ReplayError {
    let log = EventLog::parse(bytes).unwrap();
    let mut out = ReplayedPcrs::default();
    replay(&log, &mut out).unwrap_err()
}

fn structure_err(bytes: &[u8]) -> StructureError {
    check_structure(&EventLog::parse(bytes).unwrap()).unwrap_err()
}

fn vector(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("vectors/eventlogs")
            .join(rel),
    )
    .unwrap()
}

// ------------------------------------------------------------------------------------------

#[test]
fn a_well_formed_synthetic_log_replays() {
    let l = log_of(&[measured(0, 0x8000_0007, b"x"), measured(4, 4, &[0; 4])]);
    let log = EventLog::parse(&l).unwrap();
    assert_eq!(log.validate().unwrap(), 3);
    let mut out = ReplayedPcrs::default();
    replay(&log, &mut out).unwrap();
    let d = sha2::Sha256::digest(b"x");
    let want = sha2::Sha256::digest([[0u8; 32].as_slice(), &d].concat());
    assert_eq!(
        out.bank(HashAlg::Sha256).unwrap().value(0).unwrap(),
        &want[..]
    );
    check_structure(&log).unwrap();
}

#[test]
fn every_truncation_of_a_real_log_is_refused_or_ends_at_an_event() {
    let bytes = vector("tpm2-tools/event-sd-boot-fedora37.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let ends: Vec<usize> = log
        .events()
        .map(|e| {
            let e = e.unwrap();
            e.offset + e.raw.len()
        })
        .collect();
    for n in 0..bytes.len() {
        let cut = &bytes[..n];
        match EventLog::parse(cut).and_then(|l| l.validate()) {
            Ok(count) => {
                assert!(ends.contains(&n), "prefix {n} parsed");
                assert_eq!(ends[count - 1], n);
            }
            Err(e) => {
                assert!(!ends.contains(&n) || n == 0, "prefix {n}: {e}");
                assert!(
                    matches!(
                        e.kind,
                        ParseErrorKind::Truncated { .. }
                            | ParseErrorKind::Empty
                            | ParseErrorKind::VendorInfoSize { .. }
                    ),
                    "prefix {n}: {e}"
                );
            }
        }
    }
}

#[test]
fn sizes_past_the_end_are_refused_with_event_and_field() {
    let mut e = measured(4, 0x8000_0007, b"abc");
    let at = e.len() - 3 - 4;
    e[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = parse_err(&log_of(&[measured(0, 8, b"v"), e]));
    assert_eq!(err.event, 2);
    assert_eq!(err.field, "event");
    assert_eq!(
        err.kind,
        ParseErrorKind::Truncated {
            need: u64::from(u32::MAX),
            left: 3
        }
    );
    assert!(err.to_string().starts_with("event 2, field event"), "{err}");

    // SHA-1 log, eventDataSize past the end.
    let mut l = sha1_event(0, 8, &[1; 20], b"abcd");
    l.extend(sha1_event(0, 8, &[1; 20], b"abcd"));
    let n = l.len();
    l[n - 8..n - 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let err = parse_err(&l);
    assert_eq!((err.event, err.field), (1, "event"));
}

#[test]
fn counts_over_the_limits_are_refused() {
    for count in [0u32, 9, 0xFFFF_FFFF] {
        let err = parse_err(&spec_id(&[(SHA256, 32)], count, &[]));
        assert_eq!(
            err.kind,
            ParseErrorKind::AlgorithmCount { count, max: 8 },
            "{count}"
        );
        assert_eq!(err.field, "TCG_EfiSpecIDEvent.numberOfAlgorithms");
    }
    // digests.count above the Spec ID's algorithms.
    let mut e = measured(0, 8, b"v");
    e[8..12].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    let err = parse_err(&log_of(&[e]));
    assert_eq!(
        err.kind,
        ParseErrorKind::DigestCount {
            count: 0xFFFF_FFFF,
            max: 2
        }
    );
    assert_eq!((err.event, err.field), (1, "digests.count"));
}

#[test]
fn unknown_undeclared_and_repeated_algorithms_are_refused() {
    let err = parse_err(&spec_id(&[(0x0099, 32)], 1, &[]));
    assert_eq!(err.kind, ParseErrorKind::UnknownAlgorithm { alg: 0x0099 });
    let err = parse_err(&spec_id(&[(SHA256, 20)], 1, &[]));
    assert_eq!(
        err.kind,
        ParseErrorKind::DigestSize {
            alg: SHA256,
            size: 20
        }
    );
    let err = parse_err(&spec_id(&[(SHA256, 32), (SHA256, 32)], 2, &[]));
    assert_eq!(err.kind, ParseErrorKind::DuplicateAlgorithm { alg: SHA256 });
    // An event digest in a bank the Spec ID does not declare (SHA-384).
    let e = event2(0, 8, &[(0x000C, vec![0; 48])], b"v");
    let err = parse_err(&log_of(&[e]));
    assert_eq!(
        err.kind,
        ParseErrorKind::UndeclaredAlgorithm { alg: 0x000C }
    );
    assert_eq!((err.event, err.field), (1, "digests.digests.hashAlg"));
    // The same bank twice in one event.
    let e = event2(0, 8, &[(SHA1, vec![0; 20]), (SHA1, vec![0; 20])], b"v");
    let err = parse_err(&log_of(&[e]));
    assert_eq!(err.kind, ParseErrorKind::DuplicateAlgorithm { alg: SHA1 });
    // Vendor info that does not fill the Spec ID event exactly.
    let mut h = spec_id(&[(SHA256, 32)], 1, &[1, 2]);
    let n = h.len();
    h[n - 3] = 5;
    assert!(matches!(
        parse_err(&h).kind,
        ParseErrorKind::VendorInfoSize { declared: 5, .. }
    ));
}

#[test]
fn a_spec_id_event_in_the_wrong_place_is_refused() {
    // A second Spec ID event, crypto-agile log.
    let spec_data = &spec_id(&[(SHA256, 32)], 1, &[])[32..];
    let e = event2(
        0,
        3,
        &[(SHA1, vec![0; 20]), (SHA256, vec![0; 32])],
        spec_data,
    );
    let err = parse_err(&log_of(&[measured(0, 8, b"v"), e]));
    assert_eq!(err.kind, ParseErrorKind::SpecIdMisplaced);
    assert_eq!(err.event, 2);
    // SHA-1 log whose second event is a Spec ID event.
    let mut l = sha1_event(0, 8, &[1; 20], b"v");
    l.extend(spec_id(&[(SHA256, 32)], 1, &[]));
    assert_eq!(parse_err(&l).kind, ParseErrorKind::SpecIdMisplaced);
    // The Spec ID signature on an event that is not EV_NO_ACTION on PCR 0.
    let mut h = header();
    h[0] = 1;
    assert_eq!(parse_err(&h).kind, ParseErrorKind::SpecIdHeader);
    // Spec version 1.2 with a 03 signature.
    let mut h = header();
    h[32 + 21] = 1;
    assert!(matches!(
        parse_err(&h).kind,
        ParseErrorKind::SpecIdVersion { major: 1, .. }
    ));
}

#[test]
fn pcr_0xffffffff_is_refused_when_measured_and_kept_when_not() {
    let no_action = event2(
        u32::MAX,
        3,
        &[(SHA1, vec![0; 20]), (SHA256, vec![0; 32])],
        b"Windows AIK",
    );
    let l = log_of(&[measured(0, 8, b"v"), no_action]);
    let mut out = ReplayedPcrs::default();
    replay(&EventLog::parse(&l).unwrap(), &mut out).unwrap();

    let l = log_of(&[measured(u32::MAX, 0x8000_0007, b"x")]);
    assert_eq!(
        replay_err(&l),
        ReplayError::PcrOutOfRange {
            event: 1,
            pcr: u32::MAX
        }
    );
    assert!(replay_err(&l).to_string().contains("pcrIndex"));
    let l = log_of(&[measured(24, 0x8000_0007, b"x")]);
    assert!(matches!(
        replay_err(&l),
        ReplayError::PcrOutOfRange { pcr: 24, .. }
    ));
    let l = log_of(&[measured(17, 0x8000_0007, b"x")]);
    assert_eq!(replay_err(&l), ReplayError::DrtmPcr { event: 1, pcr: 17 });
}

#[test]
fn pcr0_start_events_must_be_well_formed_and_first() {
    let zeros = || vec![(SHA1, vec![0; 20]), (SHA256, vec![0; 32])];
    let loc = |l: u8| {
        event2(
            0,
            3,
            &zeros(),
            &[b"StartupLocality\0".as_slice(), &[l]].concat(),
        )
    };
    assert_eq!(
        replay_err(&log_of(&[loc(2)])),
        ReplayError::StartupLocalityValue {
            event: 1,
            locality: 2
        }
    );
    assert_eq!(
        replay_err(&log_of(&[measured(0, 8, b"v"), loc(3)])),
        ReplayError::StartupLocalityMisplaced { event: 2 }
    );
    assert_eq!(
        replay_err(&log_of(&[loc(3), loc(3)])),
        ReplayError::StartupLocalityMisplaced { event: 2 }
    );
    let long = event2(0, 3, &zeros(), b"StartupLocality\0\x03\x00");
    assert_eq!(
        replay_err(&log_of(&[long])),
        ReplayError::StartupLocalitySize { event: 1, size: 18 }
    );
    // H-CRTM after another PCR 0 measurement.
    assert_eq!(
        replay_err(&log_of(&[
            measured(0, 8, b"v"),
            measured(0, 0x8000_0010, b"HCRTM")
        ])),
        ReplayError::HcrtmMisplaced { event: 2 }
    );
    // Locality 3 then H-CRTM: H-CRTM decides (00..04).
    let l = log_of(&[loc(3), measured(0, 0x8000_0010, b"HCRTM")]);
    let mut out = ReplayedPcrs::default();
    replay(&EventLog::parse(&l).unwrap(), &mut out).unwrap();
    let mut start = [0u8; 32];
    start[31] = 4;
    let want = sha2::Sha256::digest([start.as_slice(), &sha2::Sha256::digest(b"HCRTM")].concat());
    assert_eq!(
        out.bank(HashAlg::Sha256).unwrap().value(0).unwrap(),
        &want[..]
    );
}

#[test]
fn a_measured_event_missing_a_declared_bank_is_refused() {
    let e = event2(0, 8, &[(SHA1, vec![0; 20])], b"v");
    assert_eq!(
        replay_err(&log_of(&[e])),
        ReplayError::MissingDigest {
            event: 1,
            bank: HashAlg::Sha256
        }
    );
}

#[test]
fn fake_duplicate_and_bad_separators_are_refused() {
    // An EV_EFI_ACTION that carries the separator's digests: a retyped separator.
    let sep = [0u8; 4];
    let fake = event2(
        4,
        0x8000_0007,
        &[
            (SHA1, sha1::Sha1::digest(sep).to_vec()),
            (SHA256, sha2::Sha256::digest(sep).to_vec()),
        ],
        b"Calling EFI Application from Boot Option",
    );
    assert!(matches!(
        structure_err(&log_of(&[fake])),
        StructureError::FakeSeparator { event: 1, .. }
    ));
    let l = log_of(&[measured(4, 4, &sep), measured(4, 4, &sep)]);
    assert_eq!(
        structure_err(&l),
        StructureError::DuplicateSeparator {
            event: 2,
            pcr: 4,
            first: 1
        }
    );
    let l = log_of(&[measured(4, 4, &[1, 2, 3, 4])]);
    assert_eq!(
        structure_err(&l),
        StructureError::SeparatorData { event: 1 }
    );
    let bad = event2(4, 4, &[(SHA1, vec![7; 20]), (SHA256, vec![7; 32])], &sep);
    assert!(matches!(
        structure_err(&log_of(&[bad])),
        StructureError::SeparatorDigest { event: 1, .. }
    ));
}

#[test]
fn retyped_pcr7_events_are_refused_by_the_secure_boot_summary() {
    // EV_UNUSED in PCR 7 (the retyping attack hides real variable events this way).
    let l = log_of(&[measured(7, 2, b"hidden")]);
    let log = EventLog::parse(&l).unwrap();
    assert_eq!(
        SecureBootSummary::from_log(&log).unwrap_err(),
        StructureError::UnexpectedPcr7Event {
            event: 1,
            event_type: TcgEventType::EV_UNUSED
        }
    );
    // A variable event whose digest is not the hash of its data.
    let real = vector("go-tpm-tools/debian-10.bin");
    let mut l = real.clone();
    // debian-10 event 2 is SecureBoot=1 in PCR 7: flip its value to 0.
    let log = EventLog::parse(&real).unwrap();
    let e = log.events().nth(2).unwrap().unwrap();
    l[e.offset + e.raw.len() - 1] ^= 1;
    let log = EventLog::parse(&l).unwrap();
    assert!(matches!(
        SecureBootSummary::from_log(&log).unwrap_err(),
        StructureError::Pcr7Digest { event: 2, .. }
    ));
}

#[test]
fn logs_over_the_limit_are_refused_before_being_walked() {
    let big = vec![0u8; 64 << 20];
    let err = EventLog::parse(&big).unwrap_err();
    assert_eq!(
        err.kind,
        ParseErrorKind::LogTooLarge {
            len: 64 << 20,
            max: MAX_LOG_BYTES
        }
    );
    // The CLI refuses a 64 MiB file from its size, before reading it.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.bin");
    std::fs::File::create(&p)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .arg("eventlog")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("more than"), "{err}");
}

#[test]
fn parse_and_replay_allocate_nothing_even_for_a_16_mib_log() {
    // Just under the limit, made of small measured events.
    let mut l = header();
    let e = measured(8, 0x0D, b"grub_cmd: x");
    while l.len() + e.len() <= MAX_LOG_BYTES {
        l.extend(&e);
    }
    let real = vector("go-attestation/option_rom_eventlog");
    for bytes in [&l, &real] {
        let mut out = ReplayedPcrs::default();
        let n = allocations_of(|| {
            let log = EventLog::parse(bytes).unwrap();
            replay(&log, &mut out).unwrap();
            check_structure(&log).unwrap();
            let s = SecureBootSummary::from_log(&log).unwrap();
            std::hint::black_box(&s);
            for e in log.events() {
                std::hint::black_box(classify(&e.unwrap()));
            }
        });
        assert_eq!(n, 0, "{} allocations", n);
        assert!(out.events > 10);
    }
}

#[test]
fn the_cli_names_event_and_field_and_escapes_untrusted_text() {
    let dir = tempfile::tempdir().unwrap();
    let run = |bytes: &[u8], json: bool| {
        let p = dir.path().join("log.bin");
        std::fs::write(&p, bytes).unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_baretpm"));
        c.arg("eventlog");
        if json {
            c.arg("--json");
        }
        c.arg(&p).output().unwrap()
    };
    let mut bad = log_of(&[measured(0, 8, b"v")]);
    bad.extend(&[1, 2, 3]);
    let out = run(&bad, false);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("event 2, field pcrIndex"), "{err}");

    // ESC sequences and a right-to-left override in an EV_EFI_ACTION and a variable name.
    let evil = "Calling \x1b[2J\x1b]0;pwned\x07 EFI \u{202e}exe.txt";
    let l = log_of(&[measured(4, 0x8000_0007, evil.as_bytes())]);
    for json in [false, true] {
        let out = run(&l, json);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\x07'));
        assert!(!text.contains('\u{202e}'));
        assert!(
            text.contains("\\u{1b}[2J") || text.contains("\\\\u{1b}[2J"),
            "{text}"
        );
    }
}
