//! TPMT_SIGNATURE as `tpm2_quote -s` writes it.
#![no_main]

use baretpm::types::{TpmAlgId, TpmtSignature};
use baretpm::wire::Unmarshal;
use baretpm_fuzz::{assert_reemits, check_wire_error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| match TpmtSignature::from_bytes(data) {
    Ok(s) => {
        assert_reemits(&s, data, "TPMT_SIGNATURE");
        assert_eq!(s.sig_alg().0.to_be_bytes(), [data[0], data[1]]);
        // Only NULL has no hash; every other accepted scheme names one.
        assert_eq!(s.hash().is_none(), s.sig_alg() == TpmAlgId::NULL);
    }
    Err(e) => check_wire_error(&e, data.len()),
});
