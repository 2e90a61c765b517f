//! The attestation CA's messages (`baretpm::ca`): enrollment requests, challenges and
//! responses, strict JSON.
//!
//! Invariants: no panic and no allocation driven by a declared length; whatever parses is
//! within the documented limits and writes back as JSON that parses to the same value; a
//! parsed request goes through every stateless check of the CA (`check_request`, with no
//! trusted roots, so a request with an EK certificate is refused and one without reaches the
//! EK template and AK checks), and a request that passes has an AK Name of the AK's nameAlg.
#![no_main]

use baretpm::ca::{
    check_request, Challenge, ChallengePolicy, ChallengeResponse, EnrollRequest, MAX_EK_CERTS,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = EnrollRequest::from_json(data) {
        assert!(r.ek_certificates.len() <= MAX_EK_CERTS);
        let again = EnrollRequest::from_json(&r.to_json())
            .unwrap_or_else(|e| panic!("a parsed request does not parse once written: {e}"));
        assert_eq!(again, r);
        let mut policy = ChallengePolicy::new(vec![], vec![]);
        policy.allow_no_ek_cert = true;
        match check_request(&r, &policy) {
            Ok(c) => {
                assert!(r.ek_certificates.is_empty(), "a certificate passed with no roots");
                assert!(c.ak_name.len() >= 2 + 20);
                assert!(c.ek_binding.starts_with("ek-name:"));
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    if let Ok(c) = Challenge::from_json(data) {
        let again = Challenge::from_json(&c.to_json())
            .unwrap_or_else(|e| panic!("a parsed challenge does not parse once written: {e}"));
        assert_eq!(again, c);
        let _ = c.credential_bytes().map(|b| baretpm::interop::CredentialFile::parse(&b).is_ok());
    }
    if let Ok(r) = ChallengeResponse::from_json(data) {
        let again = ChallengeResponse::from_json(&r.to_json())
            .unwrap_or_else(|e| panic!("a parsed response does not parse once written: {e}"));
        assert_eq!(again, r);
    }
});
