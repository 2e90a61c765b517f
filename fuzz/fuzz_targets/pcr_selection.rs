//! TPML_PCR_SELECTION (and the lists around it: TPMS_PCR_SELECTION, TPML_DIGEST,
//! TPML_DIGEST_VALUES, TPMS_CAPABILITY_DATA), plus tpm2-tools selection strings
//! (`sha1:0,1,2+sha256:all`) when the input is UTF-8.
#![no_main]

use baretpm::interop::{display_pcr_spec, parse_pcr_spec, PcrSpecError};
use baretpm::types::pcr::{IMPLEMENTATION_PCR, MAX_PCR_BANKS, PCR_SELECT_MAX, PCR_SELECT_MIN};
use baretpm::types::{
    TpmlDigest, TpmlDigestValues, TpmlPcrSelection, TpmsCapabilityData, TpmsPcrSelection,
};
use baretpm::wire::Unmarshal;
use baretpm_fuzz::{assert_reemits, check_wire_error};
use libfuzzer_sys::fuzz_target;

fn check_bank(b: &TpmsPcrSelection) {
    assert!((PCR_SELECT_MIN..=PCR_SELECT_MAX).contains(&b.size_of_select()));
    assert_eq!(b.bitmap() >> IMPLEMENTATION_PCR, 0, "PCR index >= 24 accepted");
    assert_eq!(b.indices().count(), b.count());
    assert!(b.indices().all(|i| b.contains(i)));
}

fn check_selection(s: &TpmlPcrSelection) {
    assert!(s.banks().len() <= MAX_PCR_BANKS);
    s.banks().iter().for_each(check_bank);
    assert_eq!(s.iter_pcrs().count(), s.pcr_count());
    if let Some(h) = s.duplicate_bank() {
        assert!(s.banks().iter().filter(|b| b.hash == h).count() >= 2);
    }
}

fn spec_error_offset(e: &PcrSpecError) -> Option<usize> {
    use PcrSpecError::*;
    match *e {
        Empty => None,
        EmptyBank { at }
        | MissingColon { at, .. }
        | UnknownBank { at, .. }
        | EmptyPcrList { at, .. }
        | EmptyItem { at, .. }
        | BadIndex { at, .. }
        | LeadingZero { at, .. }
        | IndexOutOfRange { at, .. }
        | BadRange { at, .. }
        | KeywordNotAlone { at, .. }
        | DuplicateBank { at, .. }
        | TooManyBanks { at } => Some(at),
    }
}

fn same_banks(a: &TpmlPcrSelection, b: &TpmlPcrSelection) -> bool {
    a.same_pcrs(b)
}

fuzz_target!(|data: &[u8]| {
    match TpmlPcrSelection::from_bytes(data) {
        Ok(s) => {
            check_selection(&s);
            assert_reemits(&s, data, "TPML_PCR_SELECTION");
        }
        Err(e) => check_wire_error(&e, data.len()),
    }
    match TpmsPcrSelection::from_bytes(data) {
        Ok(b) => {
            check_bank(&b);
            assert_reemits(&b, data, "TPMS_PCR_SELECTION");
        }
        Err(e) => check_wire_error(&e, data.len()),
    }
    match TpmlDigest::from_bytes(data) {
        Ok(d) => assert_reemits(&d, data, "TPML_DIGEST"),
        Err(e) => check_wire_error(&e, data.len()),
    }
    match TpmlDigestValues::from_bytes(data) {
        Ok(d) => {
            assert!(d
                .digests
                .iter()
                .all(|h| h.digest.len() == h.hash.digest_size()));
            assert_reemits(&d, data, "TPML_DIGEST_VALUES");
        }
        Err(e) => check_wire_error(&e, data.len()),
    }
    match TpmsCapabilityData::from_bytes(data) {
        Ok(c) => {
            if let TpmsCapabilityData::Pcrs(s) = &c {
                check_selection(s);
            }
            assert_reemits(&c, data, "TPMS_CAPABILITY_DATA");
        }
        Err(e) => check_wire_error(&e, data.len()),
    }

    if let Ok(text) = core::str::from_utf8(data) {
        match parse_pcr_spec(text) {
            Ok(s) => {
                check_selection(&s);
                assert!(s.duplicate_bank().is_none(), "{text:?}: bank listed twice");
                let shown = display_pcr_spec(&s).to_string();
                let again = parse_pcr_spec(&shown)
                    .unwrap_or_else(|e| panic!("{text:?} shown as {shown:?} does not parse: {e}"));
                assert!(
                    same_banks(&s, &again),
                    "{text:?} -> {shown:?} -> another selection"
                );
            }
            Err(e) => {
                if let Some(at) = spec_error_offset(&e) {
                    assert!(at <= text.len(), "{e:?} beyond {} bytes", text.len());
                }
                let _ = e.to_string();
            }
        }
    }
});
