//! NV_ReadPublic and NV_Read (used to read the EK certificate).

use super::{handles, passwords, Command, Handles, Passwords};
use crate::types::tpm2b::max;
use crate::types::{HashAlg, Tpm2bDigest, Tpm2bName, TpmAlgId, TpmCc};
use crate::wire::{Error, ErrorKind, Reader, Writer};

/// `TPMS_NV_PUBLIC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NvPublic<'r> {
    pub nv_index: u32,
    pub name_alg: HashAlg,
    pub attributes: u32,
    pub auth_policy: Tpm2bDigest<'r>,
    pub data_size: u16,
}

/// TPM2_NV_ReadPublic.
pub struct NvReadPublic {
    pub nv_index: u32,
}

/// TPM2_NV_ReadPublic's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NvReadPublicResponse<'r> {
    pub nv_public: NvPublic<'r>,
    pub nv_name: Tpm2bName<'r>,
}

impl Command for NvReadPublic {
    const CC: TpmCc = TpmCc::NV_READ_PUBLIC;
    type Response<'r> = NvReadPublicResponse<'r>;
    fn handles(&self) -> Handles {
        handles(&[self.nv_index])
    }
    fn parameters(&self, _: &mut Writer<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<NvReadPublicResponse<'r>, Error> {
        let (nv_public, _) = r.sized(4 + 2 + 4 + 2 + max::DIGEST + 2, "TPM2B_NV_PUBLIC", |r| {
            let nv_index = r.u32("TPMS_NV_PUBLIC.nvIndex")?;
            let at = r.offset();
            let alg = TpmAlgId(r.u16("TPMS_NV_PUBLIC.nameAlg")?);
            let name_alg = HashAlg::from_alg_id(alg).ok_or(Error::new(
                ErrorKind::UnknownValue {
                    value: u32::from(alg.0),
                },
                "TPMS_NV_PUBLIC.nameAlg",
                at,
            ))?;
            Ok(NvPublic {
                nv_index,
                name_alg,
                attributes: r.u32("TPMS_NV_PUBLIC.attributes")?,
                auth_policy: Tpm2bDigest::read(r, "TPMS_NV_PUBLIC.authPolicy")?,
                data_size: r.u16("TPMS_NV_PUBLIC.dataSize")?,
            })
        })?;
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
    pub auth: &'a [u8],
    pub nv_index: u32,
    pub size: u16,
    pub offset: u16,
}

impl Command for NvRead<'_> {
    const CC: TpmCc = TpmCc::NV_READ;
    type Response<'r> = &'r [u8];
    fn handles(&self) -> Handles {
        handles(&[self.auth_handle, self.nv_index])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords(&[self.auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.size)?;
        w.u16(self.offset)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<&'r [u8], Error> {
        r.tpm2b(max::NV_BUFFER, "TPM2B_MAX_NV_BUFFER data")
    }
}
