//! CreatePrimary, ReadPublic, FlushContext, EvictControl.

use super::{handles, passwords, Command, Handles, Passwords};
use crate::types::pcr::TpmlPcrSelection;
use crate::types::{
    Tpm2b, Tpm2bData, Tpm2bDigest, Tpm2bName, Tpm2bPublic, TpmCc, TpmsCreationData,
    TpmsSensitiveCreate, TpmtPublic, TpmtTkCreation,
};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// TPM2_CreatePrimary.
pub struct CreatePrimary<'a> {
    /// TPM_RH_ENDORSEMENT, TPM_RH_OWNER, TPM_RH_PLATFORM or TPM_RH_NULL.
    pub primary_handle: u32,
    /// Authorization (password) of the hierarchy in `primary_handle`; empty by default.
    pub hierarchy_auth: &'a [u8],
    /// `inSensitive.userAuth` of the new key.
    pub user_auth: &'a [u8],
    /// `inPublic`: the template of the key.
    pub public: TpmtPublic<'a>,
    /// `outsideInfo`: data the TPM copies into the creation data (at most 66 bytes).
    pub outside_info: &'a [u8],
    /// `creationPCR`: PCRs whose digest goes into the creation data; empty for none.
    pub creation_pcr: TpmlPcrSelection,
}

impl<'a> CreatePrimary<'a> {
    /// A key of the endorsement hierarchy (AK, EK) from `public`, with empty authorizations,
    /// no outside info and no creation PCRs: how this crate makes its primary keys.
    pub fn in_endorsement(public: TpmtPublic<'a>) -> Self {
        Self {
            primary_handle: crate::types::alg::handle::RH_ENDORSEMENT,
            hierarchy_auth: &[],
            user_auth: &[],
            public,
            outside_info: &[],
            creation_pcr: TpmlPcrSelection::default(),
        }
    }
}

/// TPM2_CreatePrimary's answer (creation data and ticket are checked for shape and skipped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatePrimaryResponse<'r> {
    /// The handle of the new transient object (TPM_HT_TRANSIENT).
    pub object_handle: u32,
    /// `outPublic`: the key's public area, checked to be made from the template sent.
    pub out_public: Tpm2bPublic<'r>,
    /// `creationHash`: digest of the TPMS_CREATION_DATA (the creation data itself is not kept).
    pub creation_hash: Tpm2bDigest<'r>,
    /// `name`: the key's Name, checked against `out_public`.
    pub name: Tpm2bName<'r>,
}

impl Command for CreatePrimary<'_> {
    const CC: TpmCc = TpmCc::CREATE_PRIMARY;
    const RESPONSE_HANDLES: usize = 1;
    type Response<'r> = CreatePrimaryResponse<'r>;
    fn handles(&self) -> Handles {
        handles([self.primary_handle])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.hierarchy_auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        TpmsSensitiveCreate {
            user_auth: Tpm2b(self.user_auth),
            data: Tpm2b(&[]),
        }
        .marshal_tpm2b(w)?;
        self.public.marshal_tpm2b(w)?;
        let outside_info: Tpm2bData<'_> = Tpm2b(self.outside_info);
        outside_info.write(w, "outsideInfo")?;
        self.creation_pcr.marshal(w)
    }
    fn check_response(&self, rsp: &CreatePrimaryResponse<'_>) -> Result<(), Error> {
        rsp.out_public
            .public_area()
            .check_made_from(&self.public)
            .map_err(|field| {
                Error::new(
                    ErrorKind::Inconsistent {
                        expected: "the template sent (CreatePrimary made another kind of object)",
                    },
                    field,
                    0,
                )
            })
    }
    fn response<'r>(h: &[u32], r: &mut Reader<'r>) -> Result<CreatePrimaryResponse<'r>, Error> {
        let out_public = Tpm2bPublic::unmarshal(r)?;
        TpmsCreationData::unmarshal_tpm2b(r)?;
        let creation_hash = Tpm2bDigest::read(r, "creationHash")?;
        TpmtTkCreation::unmarshal(r)?;
        let at = r.offset();
        let name = Tpm2bName::read(r, "name")?;
        out_public.check_name(name.0, "CreatePrimary name", at)?;
        Ok(CreatePrimaryResponse {
            object_handle: h.first().copied().unwrap_or(0),
            out_public,
            creation_hash,
            name,
        })
    }
}

/// TPM2_ReadPublic.
pub struct ReadPublic {
    /// The handle of a loaded or persistent object.
    pub object_handle: u32,
}

/// TPM2_ReadPublic's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadPublicResponse<'r> {
    /// `outPublic`: the object's public area.
    pub out_public: Tpm2bPublic<'r>,
    /// `name`: the object's Name, checked against `out_public`.
    pub name: Tpm2bName<'r>,
    /// `qualifiedName`: the object's Qualified Name (parent chain folded in), as the TPM returned it.
    pub qualified_name: Tpm2bName<'r>,
}

impl Command for ReadPublic {
    const CC: TpmCc = TpmCc::READ_PUBLIC;
    type Response<'r> = ReadPublicResponse<'r>;
    fn handles(&self) -> Handles {
        handles([self.object_handle])
    }
    fn parameters(&self, _: &mut Writer<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<ReadPublicResponse<'r>, Error> {
        let out_public = Tpm2bPublic::unmarshal(r)?;
        let at = r.offset();
        let name = Tpm2bName::read(r, "name")?;
        out_public.check_name(name.0, "ReadPublic name", at)?;
        Ok(ReadPublicResponse {
            out_public,
            name,
            qualified_name: Tpm2bName::read(r, "qualifiedName")?,
        })
    }
}

/// TPM2_FlushContext: the handle travels as a parameter, not in the handle area.
pub struct FlushContext {
    /// The transient object or session to flush.
    pub flush_handle: u32,
}

impl Command for FlushContext {
    const CC: TpmCc = TpmCc::FLUSH_CONTEXT;
    type Response<'r> = ();
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.flush_handle)
    }
    fn response<'r>(_: &[u32], _: &mut Reader<'r>) -> Result<(), Error> {
        Ok(())
    }
}

/// TPM2_EvictControl: make a transient object persistent, or remove a persistent one.
pub struct EvictControl<'a> {
    /// TPM_RH_OWNER or TPM_RH_PLATFORM.
    pub auth_handle: u32,
    /// Password of `auth_handle` (owner or platform authorization).
    pub auth: &'a [u8],
    /// The transient object to persist, or the persistent object to evict.
    pub object_handle: u32,
    /// The persistent handle (0x81xxxxxx) to give the object; for an eviction, the same handle
    /// as `object_handle`.
    pub persistent_handle: u32,
}

impl Command for EvictControl<'_> {
    const CC: TpmCc = TpmCc::EVICT_CONTROL;
    type Response<'r> = ();
    fn handles(&self) -> Handles {
        handles([self.auth_handle, self.object_handle])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.persistent_handle)
    }
    fn response<'r>(_: &[u32], _: &mut Reader<'r>) -> Result<(), Error> {
        Ok(())
    }
}
