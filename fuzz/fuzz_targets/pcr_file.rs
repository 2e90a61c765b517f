//! tpm2-tools PCR files (`-F serialized`, `values`, `marshaled`) through
//! `interop::parse_pcr_file`, with and without an expected selection, and back through
//! `write_pcr_file`.
//!
//! Input: byte 0 picks the form (`PcrFileFormat::ALL[b % 3]`: values, serialized, marshaled),
//! byte 1 the expected selection (see `expected`), the rest is the file.
#![no_main]

use baretpm::interop::{encoded_len, parse_pcr_file, write_pcr_file, PcrFileError, PcrFileFormat};
use baretpm::types::{HashAlg, PcrValues, TpmlPcrSelection, TpmsPcrSelection};
use libfuzzer_sys::fuzz_target;

/// Selections a caller might expect (those of the vectors, and a full bank).
fn table(i: u8) -> TpmlPcrSelection {
    let banks: &[(HashAlg, &[u32])] = match i % 6 {
        0 => &[(HashAlg::Sha256, &[14, 15, 16])],
        1 => &[
            (HashAlg::Sha1, &[0, 1, 2]),
            (HashAlg::Sha256, &[14, 15, 16]),
        ],
        2 => &[(HashAlg::Sha256, &[0, 1, 2, 3, 4, 5, 6, 7, 14, 15])],
        3 => &[(HashAlg::Sha1, &[14, 15, 16])],
        4 => &[(HashAlg::Sha384, &[14, 15, 16])],
        _ => &[(
            HashAlg::Sha256,
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                23,
            ],
        )],
    };
    let mut s = TpmlPcrSelection::default();
    for (h, idx) in banks {
        s.push(TpmsPcrSelection::new(*h, idx).unwrap()).unwrap();
    }
    s
}

/// The selection to pass: always one for `values` (it cannot be split without), none for the
/// other forms when byte 1 is below 64.
fn expected(format: PcrFileFormat, b: u8) -> Option<TpmlPcrSelection> {
    (format == PcrFileFormat::Values || b >= 64).then(|| table(b))
}

fn same_banks(a: &TpmlPcrSelection, b: &TpmlPcrSelection) -> bool {
    a.same_pcrs(b)
}

fn error_offset(e: &PcrFileError) -> Option<usize> {
    use PcrFileError::*;
    match *e {
        Truncated { at, .. }
        | BankCountAboveMax { at, .. }
        | UnknownHash { at, .. }
        | BadSizeofSelect { at, .. }
        | PcrIndexOutOfRange { at, .. }
        | DigestListCountAboveData { at, .. }
        | DigestListCountMismatch { at, .. }
        | DigestCountAboveMax { at, .. }
        | DigestSizeAboveMax { at, .. }
        | DigestSizeMismatch { at, .. }
        | TooManyDigests { at, .. }
        | TooFewDigests { at, .. }
        | TrailingBytes { at, .. } => Some(at),
        Wire(w) => Some(w.offset),
        ValuesLengthMismatch { .. } | SelectionRequired | SelectionMismatch => None,
    }
}

fn check_values(v: &PcrValues<'_>) {
    assert!(
        v.is_complete(),
        "{} values for {} PCRs",
        v.values.len(),
        v.selection.pcr_count()
    );
    for (bank, index, value) in v.iter() {
        assert!(index < 24);
        assert_eq!(value.len(), bank.digest_size());
    }
}

fuzz_target!(|data: &[u8]| {
    let [f, s, file @ ..] = data else { return };
    let format = PcrFileFormat::ALL[usize::from(*f) % 3];
    let selection = expected(format, *s);
    let result = parse_pcr_file(format, file, selection.as_ref());

    // With an expected selection, the answer is the answer without one, plus the comparison.
    if let (Some(sel), true) = (&selection, format.has_selection()) {
        match (parse_pcr_file(format, file, None), &result) {
            (Ok(free), Ok(bound)) => {
                assert!(same_banks(sel, &free.selection));
                assert_eq!(&free, bound);
            }
            (Ok(free), Err(PcrFileError::SelectionMismatch)) => {
                assert!(!same_banks(sel, &free.selection));
            }
            (Err(a), Err(b)) => assert_eq!(&a, b),
            (a, b) => panic!("with and without a selection disagree: {a:?} / {b:?}"),
        }
    }

    match result {
        Ok(v) => {
            check_values(&v);
            if let Some(sel) = &selection {
                assert!(same_banks(sel, &v.selection));
            }
            let mut out = vec![0u8; encoded_len(format, &v)];
            let written = write_pcr_file(format, &v, &mut out)
                .unwrap_or_else(|e| panic!("accepted {format} file does not write back: {e}"));
            if format == PcrFileFormat::Values {
                assert_eq!(written, file);
            }
            let again = parse_pcr_file(format, written, selection.as_ref())
                .unwrap_or_else(|e| panic!("written {format} file does not parse: {e}"));
            assert_eq!(again, v);
        }
        Err(e) => {
            if let Some(at) = error_offset(&e) {
                assert!(at <= file.len(), "{e:?} beyond {} bytes", file.len());
            }
            let _ = e.to_string();
        }
    }
});
