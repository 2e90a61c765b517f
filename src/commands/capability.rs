//! Startup, Shutdown, SelfTest, GetRandom, GetCapability, ReadClock.

use super::Command;
use crate::types::{Tpm2bDigest, TpmCc, TpmsCapabilityData, TpmsClockInfo};
use crate::wire::{Error, Reader, Unmarshal, Writer};

/// `TPM_SU_CLEAR`.
pub const SU_CLEAR: u16 = 0x0000;
/// `TPM_SU_STATE`.
pub const SU_STATE: u16 = 0x0001;

/// TPM2_Startup.
pub struct Startup {
    /// `startupType`: [`SU_CLEAR`] or [`SU_STATE`].
    pub startup_type: u16,
}

impl Command for Startup {
    const CC: TpmCc = TpmCc::STARTUP;
    type Response<'r> = ();
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.startup_type)
    }
    fn response<'r>(_: &[u32], _: &mut Reader<'r>) -> Result<(), Error> {
        Ok(())
    }
}

/// TPM2_Shutdown.
pub struct Shutdown {
    /// `shutdownType`: [`SU_CLEAR`] or [`SU_STATE`].
    pub shutdown_type: u16,
}

impl Command for Shutdown {
    const CC: TpmCc = TpmCc::SHUTDOWN;
    type Response<'r> = ();
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.shutdown_type)
    }
    fn response<'r>(_: &[u32], _: &mut Reader<'r>) -> Result<(), Error> {
        Ok(())
    }
}

/// TPM2_SelfTest.
pub struct SelfTest {
    /// `fullTest`: test every function (true), or only those not yet tested (false).
    pub full_test: bool,
}

impl Command for SelfTest {
    const CC: TpmCc = TpmCc::SELF_TEST;
    type Response<'r> = ();
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u8(u8::from(self.full_test))
    }
    fn response<'r>(_: &[u32], _: &mut Reader<'r>) -> Result<(), Error> {
        Ok(())
    }
}

/// TPM2_GetRandom. The TPM may return fewer bytes than asked (at most one digest's worth).
pub struct GetRandom {
    /// `bytesRequested`: how many random bytes to ask for.
    pub bytes_requested: u16,
}

impl Command for GetRandom {
    const CC: TpmCc = TpmCc::GET_RANDOM;
    type Response<'r> = &'r [u8];
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.bytes_requested)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<&'r [u8], Error> {
        Ok(Tpm2bDigest::read(r, "TPM2B_DIGEST randomBytes")?.0)
    }
}

/// TPM2_ReadClock: the TPM's time and clock. No handles, no authorization, no parameters.
pub struct ReadClock;

/// TPM2_ReadClock's answer: `TPMS_TIME_INFO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadClockResponse {
    /// `time`: milliseconds since the last TPM_Init (power-up or reset).
    pub time: u64,
    /// `clockInfo`: clock, resetCount, restartCount, safe.
    pub clock_info: TpmsClockInfo,
}

impl Command for ReadClock {
    const CC: TpmCc = TpmCc::READ_CLOCK;
    type Response<'r> = ReadClockResponse;
    fn parameters(&self, _: &mut Writer<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<ReadClockResponse, Error> {
        Ok(ReadClockResponse {
            time: r.u64("TPMS_TIME_INFO.time")?,
            clock_info: TpmsClockInfo::unmarshal(r)?,
        })
    }
}

/// TPM2_GetCapability.
pub struct GetCapability {
    /// `capability`: a TPM_CAP value (see `types::capability::cap`).
    pub capability: u32,
    /// `property`: where the list starts (the first handle, TPM_PT or TPM_ALG_ID to report).
    pub property: u32,
    /// `propertyCount`: the most entries to return.
    pub property_count: u32,
}

/// TPM2_GetCapability's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetCapabilityResponse {
    /// `moreData`: the TPM has more entries past the ones returned.
    pub more_data: bool,
    /// `capabilityData`: the entries returned.
    pub data: TpmsCapabilityData,
}

impl Command for GetCapability {
    const CC: TpmCc = TpmCc::GET_CAPABILITY;
    type Response<'r> = GetCapabilityResponse;
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.capability)?;
        w.u32(self.property)?;
        w.u32(self.property_count)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<GetCapabilityResponse, Error> {
        Ok(GetCapabilityResponse {
            more_data: crate::types::read_yes_no(r, "moreData")?,
            data: TpmsCapabilityData::unmarshal(r)?,
        })
    }
}
