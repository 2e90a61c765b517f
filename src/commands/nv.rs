//! NV_ReadPublic and NV_Read (used to read the EK certificate).

use super::{handles, passwords, Command, Handles, Passwords};
use crate::types::tpm2b::max;
use crate::types::{Tpm2bName, TpmCc, TpmsNvPublic};
use crate::wire::{Error, Reader, Writer};

/// `TPMS_NV_PUBLIC`, under the name this module first gave it.
pub type NvPublic<'r> = TpmsNvPublic<'r>;

/// TPM2_NV_ReadPublic.
pub struct NvReadPublic {
    /// `nvIndex`: the NV index (a TPM_HT_NV_INDEX handle, 0x01xxxxxx).
    pub nv_index: u32,
}

/// TPM2_NV_ReadPublic's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NvReadPublicResponse<'r> {
    /// `nvPublic`: the index's public area (attributes, nameAlg, size).
    pub nv_public: NvPublic<'r>,
    /// `nvName`: the index's Name (nameAlg and the digest of nvPublic), as returned; not
    /// recomputed here.
    pub nv_name: Tpm2bName<'r>,
}

impl Command for NvReadPublic {
    const CC: TpmCc = TpmCc::NV_READ_PUBLIC;
    type Response<'r> = NvReadPublicResponse<'r>;
    fn handles(&self) -> Handles {
        handles([self.nv_index])
    }
    fn parameters(&self, _: &mut Writer<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<NvReadPublicResponse<'r>, Error> {
        let nv_public = TpmsNvPublic::unmarshal_tpm2b(r)?;
        Ok(NvReadPublicResponse {
            nv_public,
            nv_name: Tpm2bName::read(r, "nvName")?,
        })
    }
}

/// TPM2_NV_Read of one chunk; [`crate::tpm::Tpm::nv_read_all`] reads a whole index in chunks.
pub struct NvRead<'a> {
    /// The index itself (authorized by its auth value) or TPM_RH_OWNER.
    pub auth_handle: u32,
    /// Password of `auth_handle` (empty for the EK certificate indices).
    pub auth: &'a [u8],
    /// `nvIndex`: the index to read.
    pub nv_index: u32,
    /// `size`: bytes to read (at most the TPM's TPM_PT_NV_BUFFER_MAX).
    pub size: u16,
    /// `offset`: where in the index to start, in bytes.
    pub offset: u16,
}

impl Command for NvRead<'_> {
    const CC: TpmCc = TpmCc::NV_READ;
    type Response<'r> = &'r [u8];
    fn handles(&self) -> Handles {
        handles([self.auth_handle, self.nv_index])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.size)?;
        w.u16(self.offset)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<&'r [u8], Error> {
        r.tpm2b(max::NV_BUFFER, "TPM2B_MAX_NV_BUFFER data")
    }
}
