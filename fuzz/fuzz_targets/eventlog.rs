//! TCG PC Client event logs through `eventlog::EventLog::parse`, the event iterator, every
//! decoder (with its text form), the separator checks and the Secure Boot summary.
//!
//! Input: the log bytes, as `binary_bios_measurements` holds them.
#![no_main]

use baretpm::eventlog::{
    check_digest, check_structure, classify, EventData, EventLog, SecureBootSummary,
};
use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;

fuzz_target!(|data: &[u8]| {
    let log = match EventLog::parse(data) {
        Ok(l) => l,
        Err(e) => {
            assert!(e.offset <= data.len(), "{e:?}");
            assert_eq!(e.event, 0, "the header is event 0: {e:?}");
            let _ = e.to_string();
            return;
        }
    };
    let mut covered = 0usize;
    let mut count = 0usize;
    let mut failed = false;
    for e in log.events() {
        match e {
            Ok(e) => {
                // Events are contiguous, in order, and numbered from 0.
                assert_eq!(e.offset, covered);
                assert_eq!(e.index, count);
                assert_eq!(&data[e.offset..e.offset + e.raw.len()], e.raw);
                covered += e.raw.len();
                count += 1;
                assert_eq!(e.digests.iter().count(), e.digests.len());
                for (alg, d) in e.digests.iter() {
                    assert_eq!(d.len(), alg.digest_size());
                    // The header is a TCG_PCR_EVENT: its one digest field is SHA-1 in any log.
                    assert!(e.index == 0 || log.algorithms().any(|a| a.alg == alg));
                    let _ = check_digest(&e, alg);
                }
                let mut s = String::new();
                match classify(&e) {
                    EventData::ImageLoad(i) => write!(s, "{}", i.device_path).unwrap(),
                    EventData::Variable(v) => {
                        write!(s, "{}{}", v.variable_name, v.unicode_name).unwrap()
                    }
                    EventData::Gpt(g) => {
                        for p in g.entries() {
                            write!(s, "{}", p.partition_name).unwrap();
                        }
                    }
                    EventData::ScrtmVersion(v) => write!(s, "{v}").unwrap(),
                    EventData::Wbcl(w) => s.push_str(&w.items().count().to_string()),
                    EventData::Malformed(m) => s.push_str(&m.to_string()),
                    _ => {}
                }
            }
            Err(err) => {
                assert!(!failed, "the iterator ends after its error");
                failed = true;
                assert_eq!(err.event, count, "the error names the event being read");
                assert!(err.offset >= covered && err.offset <= data.len(), "{err:?}");
                let _ = err.to_string();
            }
        }
    }
    match log.validate() {
        Ok(n) => {
            assert!(!failed);
            assert_eq!(n, count);
            assert_eq!(covered, data.len(), "a valid log is its events, nothing more");
            let _ = check_structure(&log).map_err(|e| e.to_string());
            let _ = SecureBootSummary::from_log(&log).map(|s| s.enabled());
        }
        Err(_) => assert!(failed),
    }
});
