//! X.509 certificate parsing plus chain validation: the input is read as a certificate
//! bundle (concatenated DER, PEM, or one NV-wrapped/padded certificate); the first
//! certificate is validated with the others as intermediates and the last one as the only
//! root, as an EK and as an AK. The same bytes are also tried as a comparison key.
#![no_main]

use baretpm::cert::{
    certificates_from_bytes, validate, CertError, Certificate, ChainLink, Policy, Role,
    SubjectKey, MAX_CHAIN, MAX_SIGNATURE_CHECKS,
};
use libfuzzer_sys::fuzz_target;

fn check_error(e: &CertError) {
    let s = e.to_string();
    assert!(!s.is_empty() && !s.contains('\n'), "error not one line: {s:?}");
}

fuzz_target!(|data: &[u8]| {
    if let Err(e) = Certificate::from_nv_bytes(data) {
        check_error(&e);
    }
    if let Err(e) = SubjectKey::from_key_bytes(data) {
        check_error(&e);
    }
    let certs = match certificates_from_bytes(data, 16) {
        Ok(c) => c,
        Err(e) => return check_error(&e),
    };
    for c in &certs {
        // The signed bytes are a slice of the certificate as read.
        assert!(c.tbs_der().len() < c.der().len());
        let _ = c.subject_key();
        let _ = c.display_name();
    }
    let (leaf, rest) = certs.split_first().expect("at least one certificate");
    let roots = match rest.last() {
        Some(r) => core::slice::from_ref(r),
        None => core::slice::from_ref(leaf),
    };
    for role in [Role::Ek, Role::Ak, Role::Any] {
        for at in [0u64, 1_800_000_000, u64::MAX] {
            let policy = Policy {
                at,
                allow_sha1: true,
                role,
            };
            match validate(leaf, rest, roots, &policy) {
                Ok(v) => {
                    assert_eq!(v.links.first(), Some(&ChainLink::Leaf));
                    assert!(matches!(v.links.last(), Some(ChainLink::Root(_))));
                    assert!(v.links.len() <= MAX_CHAIN);
                    assert!(v.signature_checks <= MAX_SIGNATURE_CHECKS);
                }
                Err(e) => check_error(&e),
            }
        }
    }
});
