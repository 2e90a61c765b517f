//! Inputs the fuzz targets (fuzz/) found or checked, run through the same code paths on the
//! stable toolchain. Each test names its target; the input is also a seed of that target.

use baretpm::tpm::Tpm;
use baretpm::transport::replay::ReplayTransport;
use baretpm::types::{HashAlg, TpmlPcrSelection, TpmsPcrSelection};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// tpm_replay: a PCR_Read answer whose pcrSelectionOut lists the SHA-256 bank twice, each time
/// with PCR 0, and carries two digests. `pcr_read_each` hands PCR 0 to the callback twice (with
/// two different values) and then reported success (fixed: the repeat is now refused with
/// `TpmError::Protocol`, as a PCR that was not asked for is).
/// Seed: fuzz/seeds/tpm_replay/regression-pcr-read-duplicate-bank.bin.
#[test]
fn pcr_read_each_refuses_a_bank_listed_twice() {
    let rsp = unhex(concat!(
        "80010000006600000000", // header: no sessions, 102 bytes, TPM_RC_SUCCESS
        "00000001",             // pcrUpdateCounter
        "00000002",             // pcrSelectionOut: two banks...
        "000b03010000",         // ...SHA-256 PCR 0
        "000b03010000",         // ...SHA-256 PCR 0 again
        "00000002",             // pcrValues: two digests
        "0020",
        "0101010101010101010101010101010101010101010101010101010101010101",
        "0020",
        "0202020202020202020202020202020202020202020202020202020202020202",
    ));
    let responses = [rsp.as_slice()];
    let mut tpm = Tpm::new(ReplayTransport::new(&responses));
    let mut selection = TpmlPcrSelection::default();
    selection
        .push(TpmsPcrSelection::new(HashAlg::Sha256, &[0]).unwrap())
        .unwrap();
    let mut delivered = Vec::new();
    let result = tpm.pcr_read_each(&selection, |bank, index, value| {
        delivered.push((bank, index, value.to_vec()))
    });
    // The repeat is refused as a protocol error; PCR 0 is never delivered twice.
    assert!(
        matches!(result, Err(baretpm::tpm::TpmError::Protocol { .. })),
        "{result:?}"
    );
    assert_eq!(delivered.len(), 1, "{delivered:?}");
}
