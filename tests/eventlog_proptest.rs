//! No input makes the event-log layer panic: random bytes, and real logs with bytes flipped,
//! inserted or cut, through parse, replay, the structure checks, the Secure Boot summary and
//! every decoder (their text forms included).

#![cfg(feature = "std")]

use baretpm::eventlog::{
    check_digest, check_structure, classify, replay, EventData, EventLog, ExpectedPcr,
    ReplayedPcrs, SecureBootSummary,
};
use proptest::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

fn exercise(bytes: &[u8]) {
    let Ok(log) = EventLog::parse(bytes) else {
        return;
    };
    let mut out = ReplayedPcrs::default();
    let _ = replay(&log, &mut out);
    for b in out.banks() {
        for p in 0..24u32 {
            if let Some(v) = b.value(p as usize) {
                let v = v.to_vec();
                let _ = out.check(&ExpectedPcr {
                    bank: b.alg,
                    pcr: p,
                    value: &v,
                });
            }
        }
    }
    let _ = check_structure(&log);
    let _ = SecureBootSummary::from_log(&log).map(|s| s.enabled());
    let mut sink = String::new();
    for e in log.events() {
        let Ok(e) = e else { break };
        for (alg, _) in e.digests.iter() {
            let _ = check_digest(&e, alg);
        }
        match classify(&e) {
            EventData::ImageLoad(i) => {
                let _ = write!(sink, "{}", i.device_path);
            }
            EventData::Variable(v) => {
                let _ = write!(sink, "{}{}", v.variable_name, v.unicode_name);
            }
            EventData::Gpt(g) => {
                for p in g.entries() {
                    let _ = write!(sink, "{}", p.partition_name);
                }
            }
            EventData::Wbcl(w) => sink.push_str(&w.items().count().to_string()),
            EventData::ScrtmVersion(v) => {
                let _ = write!(sink, "{v}");
            }
            _ => {}
        }
        sink.clear();
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/eventlogs");
    [
        "tpm2-tools/event-sd-boot-fedora37.bin",
        "go-tpm-tools/debian-10.bin",
        "go-tpm-tools/glinux-alex.bin",
        "go-attestation/windows_gcp_shielded_vm.eventlog.bin",
        "go-attestation/sb_cert_eventlog",
    ]
    .iter()
    .map(|p| std::fs::read(dir.join(p)).unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
        // The same bytes behind a valid crypto-agile header.
        let mut l = seeds()[0][..65].to_vec();
        l.extend(&bytes);
        exercise(&l);
    }

    #[test]
    fn mutated_real_logs_never_panic(
        which in 0usize..5,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut l = seeds()[which].clone();
        for (at, byte, op) in edits {
            let i = at.index(l.len());
            match op {
                0 => l[i] = byte,
                1 => l.insert(i, byte),
                _ => { l.remove(i); }
            }
        }
        exercise(&l);
        let n = cut.index(l.len());
        exercise(&l[..n]);
    }
}
