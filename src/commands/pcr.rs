//! PCR_Read, PCR_Extend, PCR_Event, PCR_Reset.

use super::{handles, passwords, Command, Handles, Passwords};
use crate::types::tpm2b::max;
use crate::types::{TpmCc, TpmlDigest, TpmlDigestValues, TpmlPcrSelection};
use crate::wire::{Error, Marshal, Reader, Unmarshal, Writer};

/// TPM2_PCR_Read. A TPM returns at most eight digests per call and says which it returned in
/// `selection_out`; [`crate::tpm::Tpm::pcr_read_each`] loops until the whole selection is read.
pub struct PcrRead {
    /// `pcrSelectionIn`: the PCRs to read.
    pub selection: TpmlPcrSelection,
}

/// TPM2_PCR_Read's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcrReadResponse<'r> {
    /// `pcrUpdateCounter`: the TPM's PCR update counter when the values were read.
    pub update_counter: u32,
    /// `pcrSelectionOut`: the PCRs actually read (at most eight digests' worth).
    pub selection_out: TpmlPcrSelection,
    /// `pcrValues`: the values, in the order of `selection_out`.
    pub values: TpmlDigest<'r>,
}

impl Command for PcrRead {
    const CC: TpmCc = TpmCc::PCR_READ;
    type Response<'r> = PcrReadResponse<'r>;
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.selection.marshal(w)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<PcrReadResponse<'r>, Error> {
        Ok(PcrReadResponse {
            update_counter: r.u32("pcrUpdateCounter")?,
            selection_out: TpmlPcrSelection::unmarshal(r)?,
            values: TpmlDigest::unmarshal(r)?,
        })
    }
}

/// TPM2_PCR_Extend: one digest per bank, all in one command.
pub struct PcrExtend<'a> {
    /// `pcrHandle`: the PCR index (a TPM_HT_PCR handle).
    pub pcr: u32,
    /// The PCR's authorization (empty for the PC Client PCRs).
    pub auth: &'a [u8],
    /// `digests`: one digest per bank to extend with.
    pub digests: TpmlDigestValues<'a>,
}

impl Command for PcrExtend<'_> {
    const CC: TpmCc = TpmCc::PCR_EXTEND;
    type Response<'r> = ();
    fn handles(&self) -> Handles {
        handles([self.pcr])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.digests.marshal(w)
    }
    fn response<'r>(_: &[u32], _: &mut Reader<'r>) -> Result<(), Error> {
        Ok(())
    }
}

/// TPM2_PCR_Event: the TPM hashes `event_data` in every bank and extends the PCR.
pub struct PcrEvent<'a> {
    /// `pcrHandle`: the PCR index (a TPM_HT_PCR handle).
    pub pcr: u32,
    /// The PCR's authorization (empty for the PC Client PCRs).
    pub auth: &'a [u8],
    /// `eventData`: the data to hash and extend, at most 1024 bytes.
    pub event_data: &'a [u8],
}

impl Command for PcrEvent<'_> {
    const CC: TpmCc = TpmCc::PCR_EVENT;
    type Response<'r> = TpmlDigestValues<'r>;
    fn handles(&self) -> Handles {
        handles([self.pcr])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.tpm2b(self.event_data, max::EVENT, "TPM2B_EVENT eventData")
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<TpmlDigestValues<'r>, Error> {
        TpmlDigestValues::unmarshal(r)
    }
}

/// TPM2_PCR_Reset (PCR 16 and 23 are resettable from locality 0 on a PC Client TPM).
pub struct PcrReset<'a> {
    /// `pcrHandle`: the PCR index (a TPM_HT_PCR handle).
    pub pcr: u32,
    /// The PCR's authorization (empty for the PC Client PCRs).
    pub auth: &'a [u8],
}

impl Command for PcrReset<'_> {
    const CC: TpmCc = TpmCc::PCR_RESET;
    type Response<'r> = ();
    fn handles(&self) -> Handles {
        handles([self.pcr])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.auth])
    }
    fn parameters(&self, _: &mut Writer<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn response<'r>(_: &[u32], _: &mut Reader<'r>) -> Result<(), Error> {
        Ok(())
    }
}
