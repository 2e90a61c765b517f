//! Structures of object creation (Part 2 §11.1.15-16, §10.7.3, §15.1): `TPMS_SENSITIVE_CREATE`
//! (sent with TPM2_CreatePrimary), `TPMS_CREATION_DATA` and `TPMT_TK_CREATION` (its answer).
//! Parse and emit side by side.

use super::pcr::{TpmlPcrSelection, MAX_PCR_BANKS, PCR_SELECT_MAX};
use super::tpm2b::Tpm2bAuth;
use super::tpm2b::{max, Tpm2b};
use super::{Tpm2bData, Tpm2bDigest, Tpm2bName, TpmAlgId, TpmSt};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// `sizeof(TPMS_SENSITIVE_CREATE)`: userAuth and data.
pub const MAX_SENSITIVE_CREATE: usize = (2 + max::DIGEST) + (2 + max::SENSITIVE_DATA);

/// `sizeof(TPMS_CREATION_DATA)` with the banks this crate accepts: selection, digest,
/// locality, parent name algorithm, parent names, outside info.
pub const MAX_CREATION_DATA: usize = (4 + MAX_PCR_BANKS * (2 + 1 + PCR_SELECT_MAX as usize))
    + (2 + max::DIGEST)
    + 1
    + 2
    + 2 * (2 + max::NAME)
    + (2 + max::DATA);

/// `TPM2B_SENSITIVE_DATA`.
pub type Tpm2bSensitiveData<'a> = Tpm2b<'a, { max::SENSITIVE_DATA }>;

/// `TPMS_SENSITIVE_CREATE`: the authorization value and data of a new object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TpmsSensitiveCreate<'a> {
    /// `userAuth` (`TPM2B_AUTH`).
    pub user_auth: Tpm2bAuth<'a>,
    /// `data`: key material or sealed data; empty for keys the TPM generates.
    pub data: Tpm2bSensitiveData<'a>,
}

impl<'a> TpmsSensitiveCreate<'a> {
    /// Reads a `TPM2B_SENSITIVE_CREATE`.
    pub fn unmarshal_tpm2b(r: &mut Reader<'a>) -> Result<Self, Error> {
        r.sized(
            MAX_SENSITIVE_CREATE,
            "TPM2B_SENSITIVE_CREATE",
            Self::unmarshal,
        )
        .map(|(v, _)| v)
    }

    /// Writes `self` as a `TPM2B_SENSITIVE_CREATE`.
    pub fn marshal_tpm2b(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.sized(MAX_SENSITIVE_CREATE, "TPM2B_SENSITIVE_CREATE", |w| {
            self.marshal(w)
        })
    }
}

impl<'a> Unmarshal<'a> for TpmsSensitiveCreate<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        Ok(Self {
            user_auth: Tpm2bDigest::read(r, "TPMS_SENSITIVE_CREATE.userAuth")?,
            data: Tpm2b::read(r, "TPMS_SENSITIVE_CREATE.data")?,
        })
    }
}

impl Marshal for TpmsSensitiveCreate<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.user_auth.write(w, "TPMS_SENSITIVE_CREATE.userAuth")?;
        self.data.write(w, "TPMS_SENSITIVE_CREATE.data")
    }
}

/// `TPMS_CREATION_DATA`: what the TPM saw when it made an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmsCreationData<'r> {
    /// `pcrSelect`: the PCRs named at creation.
    pub pcr_select: TpmlPcrSelection,
    /// `pcrDigest`: digest of those PCRs.
    pub pcr_digest: Tpm2bDigest<'r>,
    /// `locality` (`TPMA_LOCALITY`).
    pub locality: u8,
    /// `parentNameAlg`: `TPM_ALG_NULL` for a primary object.
    pub parent_name_alg: TpmAlgId,
    /// `parentName`: for a primary object, the hierarchy handle.
    pub parent_name: Tpm2bName<'r>,
    /// `parentQualifiedName`.
    pub parent_qualified_name: Tpm2bName<'r>,
    /// `outsideInfo`: the caller's data, echoed.
    pub outside_info: Tpm2bData<'r>,
}

impl<'r> TpmsCreationData<'r> {
    /// Reads a `TPM2B_CREATION_DATA`.
    pub fn unmarshal_tpm2b(r: &mut Reader<'r>) -> Result<Self, Error> {
        r.sized(MAX_CREATION_DATA, "TPM2B_CREATION_DATA", Self::unmarshal)
            .map(|(v, _)| v)
    }

    /// Writes `self` as a `TPM2B_CREATION_DATA`.
    pub fn marshal_tpm2b(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.sized(MAX_CREATION_DATA, "TPM2B_CREATION_DATA", |w| {
            self.marshal(w)
        })
    }
}

impl<'r> Unmarshal<'r> for TpmsCreationData<'r> {
    fn unmarshal(r: &mut Reader<'r>) -> Result<Self, Error> {
        Ok(Self {
            pcr_select: TpmlPcrSelection::unmarshal(r)?,
            pcr_digest: Tpm2bDigest::read(r, "TPMS_CREATION_DATA.pcrDigest")?,
            locality: r.u8("TPMS_CREATION_DATA.locality")?,
            parent_name_alg: TpmAlgId::read(r, "TPMS_CREATION_DATA.parentNameAlg")?,
            parent_name: Tpm2bName::read(r, "TPMS_CREATION_DATA.parentName")?,
            parent_qualified_name: Tpm2bName::read(r, "TPMS_CREATION_DATA.parentQualifiedName")?,
            outside_info: Tpm2bData::read(r, "TPMS_CREATION_DATA.outsideInfo")?,
        })
    }
}

impl Marshal for TpmsCreationData<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.pcr_select.marshal(w)?;
        self.pcr_digest.write(w, "TPMS_CREATION_DATA.pcrDigest")?;
        w.u8(self.locality)?;
        w.u16(self.parent_name_alg.0)?;
        self.parent_name.write(w, "TPMS_CREATION_DATA.parentName")?;
        self.parent_qualified_name
            .write(w, "TPMS_CREATION_DATA.parentQualifiedName")?;
        self.outside_info.write(w, "TPMS_CREATION_DATA.outsideInfo")
    }
}

/// `TPMT_TK_CREATION`: the TPM's ticket that it made an object (for TPM2_CertifyCreation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmtTkCreation<'r> {
    /// `hierarchy` (`TPMI_RH_HIERARCHY`) of the object.
    pub hierarchy: u32,
    /// `digest`: the TPM's HMAC over the creation data.
    pub digest: Tpm2bDigest<'r>,
}

impl<'r> Unmarshal<'r> for TpmtTkCreation<'r> {
    /// Reads the ticket; a `tag` other than `TPM_ST_CREATION` is refused.
    fn unmarshal(r: &mut Reader<'r>) -> Result<Self, Error> {
        let at = r.offset();
        let tag = TpmSt(r.u16("TPMT_TK_CREATION.tag")?);
        if tag != TpmSt::CREATION {
            return Err(Error::new(
                ErrorKind::InvalidValue {
                    value: u32::from(tag.0),
                },
                "TPMT_TK_CREATION.tag",
                at,
            ));
        }
        Ok(Self {
            hierarchy: r.u32("TPMT_TK_CREATION.hierarchy")?,
            digest: Tpm2bDigest::read(r, "TPMT_TK_CREATION.digest")?,
        })
    }
}

impl Marshal for TpmtTkCreation<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(TpmSt::CREATION.0)?;
        w.u32(self.hierarchy)?;
        self.digest.write(w, "TPMT_TK_CREATION.digest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::alg::handle::RH_ENDORSEMENT;
    use std::vec::Vec;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn emit(m: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>) -> Vec<u8> {
        let mut buf = [0u8; 1024];
        let mut w = Writer::new(&mut buf);
        m(&mut w).unwrap();
        w.written().to_vec()
    }

    /// `tpm2_createprimary -C e -G ecc --creation-data --creation-ticket` against swtpm 0.7
    /// (libtpms 0.9): the TPM2B_CREATION_DATA and TPMT_TK_CREATION it answered.
    const SWTPM_CREATION_DATA: &str = "0037000000000020e3b0c44298fc1c149afbf4c8996fb92427ae41e4\
        649b934ca495991b7852b85501001000044000000b00044000000b0000";
    const SWTPM_TICKET: &str = "80214000000b004085b740d17a3a82326c9021765794d65b7fd612102462\
        9dfb079ef88139f2f8a4d6323e697f1d2625b2b7535cc45b7e3c000bcdaef4c836a8139f23e979956246";

    #[test]
    fn creation_data_from_swtpm_round_trips() {
        let bytes = unhex(SWTPM_CREATION_DATA);
        let mut r = Reader::new(&bytes);
        let d = TpmsCreationData::unmarshal_tpm2b(&mut r).unwrap();
        r.finish().unwrap();
        assert!(d.pcr_select.banks().is_empty());
        // SHA-256 of nothing: no PCR was selected.
        assert_eq!(d.pcr_digest.0[..4], [0xe3, 0xb0, 0xc4, 0x42]);
        assert_eq!(d.locality, 1);
        assert_eq!(d.parent_name_alg, TpmAlgId::NULL);
        assert_eq!(d.parent_name.0, RH_ENDORSEMENT.to_be_bytes());
        assert_eq!(d.parent_qualified_name, d.parent_name);
        assert!(d.outside_info.is_empty());
        assert_eq!(emit(|w| d.marshal_tpm2b(w)), bytes);
    }

    #[test]
    fn ticket_from_swtpm_round_trips() {
        let bytes = unhex(SWTPM_TICKET);
        let t = TpmtTkCreation::from_bytes(&bytes).unwrap();
        assert_eq!(t.hierarchy, RH_ENDORSEMENT);
        assert_eq!(t.digest.len(), 64);
        assert_eq!(emit(|w| t.marshal(w)), bytes);
        let mut other = bytes.clone();
        other[1] = 0x22; // TPM_ST_VERIFIED: another kind of ticket
        assert!(TpmtTkCreation::from_bytes(&other).is_err());
    }

    #[test]
    fn sensitive_create_round_trips() {
        // The TPM2B_SENSITIVE_CREATE tpm2-tools sends for `tpm2_createprimary -p abc`.
        let bytes = unhex("000700036162630000");
        let s = TpmsSensitiveCreate::unmarshal_tpm2b(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(s.user_auth.0, b"abc");
        assert!(s.data.is_empty());
        assert_eq!(emit(|w| s.marshal_tpm2b(w)), bytes);
        assert_eq!(
            emit(|w| TpmsSensitiveCreate::default().marshal_tpm2b(w)),
            [0, 4, 0, 0, 0, 0]
        );
    }
}
