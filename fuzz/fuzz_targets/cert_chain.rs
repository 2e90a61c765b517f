//! X.509 certificate parsing plus chain validation: the input is read as a certificate
//! bundle (concatenated DER, PEM, or one NV-wrapped/padded certificate); the first
//! certificate is validated with the others as intermediates and the last one as the only
//! root, as an EK and as an AK. The same bytes are also tried as a comparison key, and
//! `cert_key`'s DER walk must find the same subject key as the X.509 parser.
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

/// The initrd build's DER walk (`baretpm::cert_key`) must find the key the X.509 parser finds
/// in every certificate that parser reads.
fn check_walk_agrees(data: &[u8], full: &Certificate) {
    let Ok(key) = full.subject_key() else {
        return;
    };
    let walk = baretpm::cert_key::cert_key(data);
    let strip = |b: &[u8]| b[b.iter().take_while(|&&x| x == 0).count()..].to_vec();
    match (key, walk) {
        (
            SubjectKey::Rsa { modulus, exponent },
            Ok(baretpm::cert_key::CertKey::Rsa {
                modulus: m,
                exponent: e,
            }),
        ) => assert!(modulus == m && exponent == e, "RSA keys differ"),
        (SubjectKey::Ec { x, y, .. }, Ok(baretpm::cert_key::CertKey::Ec { x: wx, y: wy, .. })) => {
            assert!(strip(&x) == wx && strip(&y) == wy, "EC keys differ")
        }
        (key, walk) => panic!("X.509 parser found {key:?}, the DER walk {walk:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    match Certificate::from_nv_bytes(data) {
        Ok(c) => check_walk_agrees(data, &c),
        Err(e) => check_error(&e),
    }
    let _ = baretpm::cert_key::cert_key(data);
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
