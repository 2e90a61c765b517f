//! TPM2B_PUBLIC (`tpm2_readpublic -o`) and bare TPMT_PUBLIC, then the same bytes as an AK in
//! every form `Ak::from_any` detects, with the key policy checked.
#![no_main]

use baretpm::types::{Tpm2bPublic, TpmaObject};
use baretpm::verify::{Ak, Policy, VerifyError};
use baretpm::wire::Unmarshal;
use baretpm_fuzz::{assert_reemits, check_wire_error};
use libfuzzer_sys::fuzz_target;

fn check_public(p: &Tpm2bPublic<'_>) {
    assert_eq!(
        p.public_area().object_attributes.0 & TpmaObject::RESERVED,
        0,
        "reserved attribute bits accepted"
    );
    // The Name is computed over the bytes received; it either works or says why not.
    if let Ok(name) = p.name() {
        let alg = p.public_area().name_alg.expect("a Name needs a nameAlg");
        assert_eq!(name.as_bytes().len(), 2 + alg.digest_size());
    }
}

fn check_verify_error(e: &VerifyError, len: usize) {
    if let VerifyError::AkUnreadable(w) = e {
        check_wire_error(w, len);
    }
    let _ = format!("{e}");
}

fuzz_target!(|data: &[u8]| {
    match Tpm2bPublic::from_bytes(data) {
        Ok(p) => {
            assert_eq!(p.raw(), &data[2..]);
            assert_reemits(&p, data, "TPM2B_PUBLIC");
            check_public(&p);
        }
        Err(e) => check_wire_error(&e, data.len()),
    }
    match Tpm2bPublic::from_tpmt_bytes(data) {
        Ok(p) => {
            assert_eq!(p.raw(), data);
            assert_reemits(&p.public_area(), data, "TPMT_PUBLIC");
            check_public(&p);
        }
        Err(e) => check_wire_error(&e, data.len()),
    }
    match Ak::from_any(data) {
        Ok((ak, _format)) => {
            let strict = ak.check_policy(&Policy::default());
            if let Err(e) = &strict {
                check_verify_error(e, data.len());
            }
            // A key that passes the strict policy passes every laxer one.
            if strict.is_ok() {
                let lax = {
                    let mut p = Policy::default();
                    p.allow_sha1_banks = true;
                    p.allow_sha1_signature = true;
                    p.allow_empty_nonce = true;
                    p.min_rsa_bits = 1024;
                    p.require_ak_attributes = false;
                    p.require_safe_clock = false;
                    p
                };
                assert!(ak.check_policy(&lax).is_ok());
            }
        }
        Err(e) => check_verify_error(&e, data.len()),
    }
});
