//! Proof files, event logs and reference files (`baretpm::proof::file`, strict JSON), and the
//! proof verifier on every proof that parses.
//!
//! Invariants: no panic, and no allocation driven by a declared length (the runs use
//! `-malloc_limit_mb=64`); whatever parses is within the documented limits, writes back as
//! JSON that parses to the same value; `proof::verify` answers `Ok` exactly when its report
//! passed.
#![no_main]

use baretpm::proof::file::{MAX_EK_CERTS, MAX_EVENTS, MAX_NONCE, MAX_SIGNATURE};
use baretpm::proof::{verify, EventLog, JsonFile, Policy, Proof, Reference};
use baretpm::types::tpm2b::max;
use libfuzzer_sys::fuzz_target;

fn check_proof(p: &Proof) {
    assert!(
        (1..=MAX_NONCE).contains(&p.nonce.len()),
        "nonce of {} bytes",
        p.nonce.len()
    );
    assert!(p.attest.len() <= max::ATTEST);
    assert!(p.signature.len() <= MAX_SIGNATURE);
    assert!(p.ak_public.len() <= 2 + max::PUBLIC);
    assert!(p.ek_certificates.len() <= MAX_EK_CERTS);
    assert!(p.pcr14.len() <= MAX_EVENTS && p.pcr15.len() <= MAX_EVENTS);

    let again = Proof::from_json(p.to_json().as_bytes())
        .unwrap_or_else(|e| panic!("a parsed proof does not parse once written: {e}"));
    assert_eq!(&again, p, "proof changed through JSON");

    match verify(p, &Policy::default()) {
        Ok(report) => assert!(report.passed(), "Ok with a failed check: {report:?}"),
        Err(rejected) => {
            assert!(!rejected.report.passed(), "refused with every check passed");
            let _ = rejected.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match Proof::from_json(data) {
        Ok(p) => check_proof(&p),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(log) = EventLog::from_json(data) {
        assert!(log.events.len() <= MAX_EVENTS);
        let again = EventLog::from_json(log.to_json().as_bytes())
            .unwrap_or_else(|e| panic!("a parsed event log does not parse once written: {e}"));
        assert_eq!(again, log);
    }
    if let Ok(r) = Reference::from_json(data) {
        let again = Reference::from_json(r.to_json().as_bytes())
            .unwrap_or_else(|e| panic!("a parsed reference does not parse once written: {e}"));
        assert_eq!(again, r);
    }
});
