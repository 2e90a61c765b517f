//! Parse, emit, parse again: the second value equals the first, and the emitted bytes equal
//! the input (a strict parser accepts only canonical bytes). Byte 0 picks the structure:
//! TPMS_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC, TPMT_PUBLIC, TPML_PCR_SELECTION.
#![no_main]

use baretpm::types::{Tpm2bPublic, TpmlPcrSelection, TpmsAttest, TpmtPublic, TpmtSignature};
use baretpm::wire::{Marshal, Unmarshal};
use libfuzzer_sys::fuzz_target;

/// A macro rather than a generic function: the two parses borrow from different buffers, and
/// letting each call infer its own lifetimes keeps that simple.
macro_rules! roundtrip {
    ($ty:ident, $input:expr, $what:literal) => {{
        let input: &[u8] = $input;
        if let Ok(first) = $ty::from_bytes(input) {
            let mut buf = vec![0u8; input.len() + 64];
            let emitted = first
                .to_bytes(&mut buf)
                .unwrap_or_else(|e| panic!("{}: parsed value does not emit: {e}", $what));
            let second = $ty::from_bytes(emitted)
                .unwrap_or_else(|e| panic!("{}: emitted bytes do not parse: {e}", $what));
            assert_eq!(
                second, first,
                "{}: value changed through emit and parse",
                $what
            );
            assert_eq!(emitted, input, "{}: accepted input is not canonical", $what);
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => roundtrip!(TpmsAttest, input, "TPMS_ATTEST"),
        1 => roundtrip!(TpmtSignature, input, "TPMT_SIGNATURE"),
        2 => roundtrip!(Tpm2bPublic, input, "TPM2B_PUBLIC"),
        3 => roundtrip!(TpmtPublic, input, "TPMT_PUBLIC"),
        _ => roundtrip!(TpmlPcrSelection, input, "TPML_PCR_SELECTION"),
    }
});
