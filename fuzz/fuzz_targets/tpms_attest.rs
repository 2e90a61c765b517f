//! TPMS_ATTEST as `tpm2_quote -m` writes it, and TPM2B_ATTEST as a Quote response carries it.
#![no_main]

use baretpm::types::TpmsAttest;
use baretpm::wire::{Reader, Unmarshal};
use baretpm_fuzz::{assert_reemits, check_wire_error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match TpmsAttest::from_bytes(data) {
        Ok(a) => {
            assert_reemits(&a, data, "TPMS_ATTEST");
            // A parsed value always carries the TPM's magic and a known body.
            assert_eq!(&data[..4], &TpmsAttest::MAGIC.to_be_bytes());
            assert_eq!(a.attested.tag().0.to_be_bytes(), [data[4], data[5]]);
            let _ = a.attested.type_name();
        }
        Err(e) => check_wire_error(&e, data.len()),
    }

    // The sized form: the raw bytes handed back must be exactly the inner structure.
    let mut r = Reader::new(data);
    match TpmsAttest::read_tpm2b(&mut r) {
        Ok((a, raw)) => {
            assert_eq!(raw.len() + 2, r.offset());
            assert_eq!(raw, &data[2..2 + raw.len()]);
            assert_eq!(TpmsAttest::from_bytes(raw).as_ref(), Ok(&a));
        }
        Err(e) => check_wire_error(&e, data.len()),
    }
});
