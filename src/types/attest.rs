//! TPMS_CLOCK_INFO, TPMS_ATTEST and its eight attestation bodies (TPMU_ATTEST).
//!
//! This is the only place that knows the layout of TPMS_ATTEST: the client that receives a
//! quote and the verifier that checks it both parse through here.

use super::alg::{TpmAlgId, TpmSt, TPM_GENERATED_VALUE};
use super::pcr::TpmlPcrSelection;
use super::tpm2b::{max, Tpm2bData, Tpm2bDigest, Tpm2bMaxNvBuffer, Tpm2bName};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};
use zerocopy::byteorder::big_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// The fixed 17-byte wire layout of TPMS_CLOCK_INFO.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct ClockInfoWire {
    clock: U64,
    reset_count: U32,
    restart_count: U32,
    safe: u8,
}

/// `TPMS_CLOCK_INFO`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TpmsClockInfo {
    /// Milliseconds the TPM has been powered since its last Clear.
    pub clock: u64,
    /// TPM Resets since the last Clear.
    pub reset_count: u32,
    /// TPM Restarts/Resumes since the last reset.
    pub restart_count: u32,
    /// Whether `clock` is known not to have gone back.
    pub safe: bool,
}

impl TpmsClockInfo {
    /// Marshaled size in bytes: UINT64 clock, UINT32 resetCount, UINT32 restartCount, BYTE safe.
    pub const SIZE: usize = 17;
}

impl<'a> Unmarshal<'a> for TpmsClockInfo {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let at = r.offset();
        let raw = r.bytes(Self::SIZE, "TPMS_CLOCK_INFO")?;
        let wire = ClockInfoWire::ref_from_bytes(raw).map_err(|_| {
            Error::new(
                ErrorKind::Truncated {
                    needed: Self::SIZE,
                    available: raw.len(),
                },
                "TPMS_CLOCK_INFO",
                at,
            )
        })?;
        let safe = match wire.safe {
            0 => false,
            1 => true,
            v => {
                return Err(Error::new(
                    ErrorKind::InvalidValue {
                        value: u32::from(v),
                    },
                    "TPMS_CLOCK_INFO.safe",
                    at + 16,
                ))
            }
        };
        Ok(Self {
            clock: wire.clock.get(),
            reset_count: wire.reset_count.get(),
            restart_count: wire.restart_count.get(),
            safe,
        })
    }
}

impl Marshal for TpmsClockInfo {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        let wire = ClockInfoWire {
            clock: U64::new(self.clock),
            reset_count: U32::new(self.reset_count),
            restart_count: U32::new(self.restart_count),
            safe: u8::from(self.safe),
        };
        w.bytes(wire.as_bytes())
    }
}

/// `TPMS_CERTIFY_INFO` (TPM2_Certify).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsCertifyInfo<'a> {
    /// `name`: the Name of the certified object (nameAlg then the digest of its TPMT_PUBLIC).
    pub name: Tpm2bName<'a>,
    /// `qualifiedName`: the Qualified Name of the certified object (its parent chain folded in).
    pub qualified_name: Tpm2bName<'a>,
}

/// `TPMS_QUOTE_INFO` (TPM2_Quote).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TpmsQuoteInfo<'a> {
    /// `pcrSelect`: the PCRs quoted, bank by bank.
    pub pcr_select: TpmlPcrSelection,
    /// `pcrDigest`: the digest, with the signing scheme's hash, of the selected PCR values
    /// concatenated in selection order.
    pub pcr_digest: Tpm2bDigest<'a>,
}

/// `TPMS_COMMAND_AUDIT_INFO` (TPM2_GetCommandAuditDigest).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsCommandAuditInfo<'a> {
    /// `auditCounter`: the TPM's command audit counter.
    pub audit_counter: u64,
    /// `digestAlg`: the hash of the command audit digest.
    pub digest_alg: TpmAlgId,
    /// `auditDigest`: the current command audit digest.
    pub audit_digest: Tpm2bDigest<'a>,
    /// `commandDigest`: digest of the list of audited command codes.
    pub command_digest: Tpm2bDigest<'a>,
}

/// `TPMS_SESSION_AUDIT_INFO` (TPM2_GetSessionAuditDigest).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsSessionAuditInfo<'a> {
    /// `exclusiveSession`: the session is exclusive (no command outside it ran since it
    /// started auditing).
    pub exclusive_session: bool,
    /// `sessionDigest`: the session's audit digest.
    pub session_digest: Tpm2bDigest<'a>,
}

/// `TPMS_TIME_ATTEST_INFO` (TPM2_GetTime): `TPMS_TIME_INFO` then the firmware version.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsTimeAttestInfo {
    /// `TPMS_TIME_INFO.time`: milliseconds since the last TPM Init.
    pub time: u64,
    /// `TPMS_TIME_INFO.clockInfo`.
    pub clock_info: TpmsClockInfo,
    /// `firmwareVersion`: TPM vendor-specific firmware version (also in TPMS_ATTEST).
    pub firmware_version: u64,
}

/// `TPMS_CREATION_INFO` (TPM2_CertifyCreation).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsCreationInfo<'a> {
    /// `objectName`: the Name of the object whose creation is certified.
    pub object_name: Tpm2bName<'a>,
    /// `creationHash`: digest of the TPMS_CREATION_DATA returned when the object was created.
    pub creation_hash: Tpm2bDigest<'a>,
}

/// `TPMS_NV_CERTIFY_INFO` (TPM2_NV_Certify).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsNvCertifyInfo<'a> {
    /// `indexName`: the Name of the NV index.
    pub index_name: Tpm2bName<'a>,
    /// `offset`: the byte offset in the index where `nv_contents` starts.
    pub offset: u16,
    /// `nvContents`: the certified bytes of the index.
    pub nv_contents: Tpm2bMaxNvBuffer<'a>,
}

/// `TPMS_NV_DIGEST_CERTIFY_INFO` (TPM2_NV_Certify with size 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsNvDigestCertifyInfo<'a> {
    /// `indexName`: the Name of the NV index.
    pub index_name: Tpm2bName<'a>,
    /// `nvDigest`: digest, with the signing hash, of the whole index contents.
    pub nv_digest: Tpm2bDigest<'a>,
}

/// `TPMU_ATTEST`, selected by `TPMS_ATTEST.type`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum TpmuAttest<'a> {
    /// TPM_ST_ATTEST_CERTIFY (TPM2_Certify).
    Certify(TpmsCertifyInfo<'a>),
    /// TPM_ST_ATTEST_QUOTE (TPM2_Quote).
    Quote(TpmsQuoteInfo<'a>),
    /// TPM_ST_ATTEST_SESSION_AUDIT (TPM2_GetSessionAuditDigest).
    SessionAudit(TpmsSessionAuditInfo<'a>),
    /// TPM_ST_ATTEST_COMMAND_AUDIT (TPM2_GetCommandAuditDigest).
    CommandAudit(TpmsCommandAuditInfo<'a>),
    /// TPM_ST_ATTEST_TIME (TPM2_GetTime).
    Time(TpmsTimeAttestInfo),
    /// TPM_ST_ATTEST_CREATION (TPM2_CertifyCreation).
    Creation(TpmsCreationInfo<'a>),
    /// TPM_ST_ATTEST_NV (TPM2_NV_Certify).
    Nv(TpmsNvCertifyInfo<'a>),
    /// TPM_ST_ATTEST_NV_DIGEST (TPM2_NV_Certify with size 0).
    NvDigest(TpmsNvDigestCertifyInfo<'a>),
}

impl TpmuAttest<'_> {
    /// The `TPMI_ST_ATTEST` tag that selects this body.
    pub fn tag(&self) -> TpmSt {
        match self {
            Self::Certify(_) => TpmSt::ATTEST_CERTIFY,
            Self::Quote(_) => TpmSt::ATTEST_QUOTE,
            Self::SessionAudit(_) => TpmSt::ATTEST_SESSION_AUDIT,
            Self::CommandAudit(_) => TpmSt::ATTEST_COMMAND_AUDIT,
            Self::Time(_) => TpmSt::ATTEST_TIME,
            Self::Creation(_) => TpmSt::ATTEST_CREATION,
            Self::Nv(_) => TpmSt::ATTEST_NV,
            Self::NvDigest(_) => TpmSt::ATTEST_NV_DIGEST,
        }
    }

    /// The spec name of the attestation type, for messages.
    pub fn type_name(&self) -> &'static str {
        self.tag().name().unwrap_or("TPMI_ST_ATTEST")
    }

    fn read<'a>(tag: TpmSt, at: usize, r: &mut Reader<'a>) -> Result<TpmuAttest<'a>, Error> {
        Ok(match tag {
            TpmSt::ATTEST_CERTIFY => TpmuAttest::Certify(TpmsCertifyInfo {
                name: Tpm2bName::read(r, "TPMS_CERTIFY_INFO.name")?,
                qualified_name: Tpm2bName::read(r, "TPMS_CERTIFY_INFO.qualifiedName")?,
            }),
            TpmSt::ATTEST_QUOTE => TpmuAttest::Quote(TpmsQuoteInfo {
                pcr_select: TpmlPcrSelection::unmarshal(r)?,
                pcr_digest: Tpm2bDigest::read(r, "TPMS_QUOTE_INFO.pcrDigest")?,
            }),
            TpmSt::ATTEST_SESSION_AUDIT => TpmuAttest::SessionAudit(TpmsSessionAuditInfo {
                exclusive_session: super::read_yes_no(
                    r,
                    "TPMS_SESSION_AUDIT_INFO.exclusiveSession",
                )?,
                session_digest: Tpm2bDigest::read(r, "TPMS_SESSION_AUDIT_INFO.sessionDigest")?,
            }),
            TpmSt::ATTEST_COMMAND_AUDIT => TpmuAttest::CommandAudit(TpmsCommandAuditInfo {
                audit_counter: r.u64("TPMS_COMMAND_AUDIT_INFO.auditCounter")?,
                digest_alg: TpmAlgId::read(r, "TPMS_COMMAND_AUDIT_INFO.digestAlg")?,
                audit_digest: Tpm2bDigest::read(r, "TPMS_COMMAND_AUDIT_INFO.auditDigest")?,
                command_digest: Tpm2bDigest::read(r, "TPMS_COMMAND_AUDIT_INFO.commandDigest")?,
            }),
            TpmSt::ATTEST_TIME => TpmuAttest::Time(TpmsTimeAttestInfo {
                time: r.u64("TPMS_TIME_INFO.time")?,
                clock_info: TpmsClockInfo::unmarshal(r)?,
                firmware_version: r.u64("TPMS_TIME_ATTEST_INFO.firmwareVersion")?,
            }),
            TpmSt::ATTEST_CREATION => TpmuAttest::Creation(TpmsCreationInfo {
                object_name: Tpm2bName::read(r, "TPMS_CREATION_INFO.objectName")?,
                creation_hash: Tpm2bDigest::read(r, "TPMS_CREATION_INFO.creationHash")?,
            }),
            TpmSt::ATTEST_NV => TpmuAttest::Nv(TpmsNvCertifyInfo {
                index_name: Tpm2bName::read(r, "TPMS_NV_CERTIFY_INFO.indexName")?,
                offset: r.u16("TPMS_NV_CERTIFY_INFO.offset")?,
                nv_contents: Tpm2bMaxNvBuffer::read(r, "TPMS_NV_CERTIFY_INFO.nvContents")?,
            }),
            TpmSt::ATTEST_NV_DIGEST => TpmuAttest::NvDigest(TpmsNvDigestCertifyInfo {
                index_name: Tpm2bName::read(r, "TPMS_NV_DIGEST_CERTIFY_INFO.indexName")?,
                nv_digest: Tpm2bDigest::read(r, "TPMS_NV_DIGEST_CERTIFY_INFO.nvDigest")?,
            }),
            other => {
                return Err(Error::new(
                    ErrorKind::UnknownValue {
                        value: u32::from(other.0),
                    },
                    "TPMS_ATTEST.type",
                    at,
                ))
            }
        })
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        match self {
            Self::Certify(c) => {
                c.name.write(w, "TPMS_CERTIFY_INFO.name")?;
                c.qualified_name.write(w, "TPMS_CERTIFY_INFO.qualifiedName")
            }
            Self::Quote(q) => {
                q.pcr_select.marshal(w)?;
                q.pcr_digest.write(w, "TPMS_QUOTE_INFO.pcrDigest")
            }
            Self::SessionAudit(s) => {
                w.u8(u8::from(s.exclusive_session))?;
                s.session_digest
                    .write(w, "TPMS_SESSION_AUDIT_INFO.sessionDigest")
            }
            Self::CommandAudit(c) => {
                w.u64(c.audit_counter)?;
                w.u16(c.digest_alg.0)?;
                c.audit_digest
                    .write(w, "TPMS_COMMAND_AUDIT_INFO.auditDigest")?;
                c.command_digest
                    .write(w, "TPMS_COMMAND_AUDIT_INFO.commandDigest")
            }
            Self::Time(t) => {
                w.u64(t.time)?;
                t.clock_info.marshal(w)?;
                w.u64(t.firmware_version)
            }
            Self::Creation(c) => {
                c.object_name.write(w, "TPMS_CREATION_INFO.objectName")?;
                c.creation_hash.write(w, "TPMS_CREATION_INFO.creationHash")
            }
            Self::Nv(n) => {
                n.index_name.write(w, "TPMS_NV_CERTIFY_INFO.indexName")?;
                w.u16(n.offset)?;
                n.nv_contents.write(w, "TPMS_NV_CERTIFY_INFO.nvContents")
            }
            Self::NvDigest(n) => {
                n.index_name
                    .write(w, "TPMS_NV_DIGEST_CERTIFY_INFO.indexName")?;
                n.nv_digest.write(w, "TPMS_NV_DIGEST_CERTIFY_INFO.nvDigest")
            }
        }
    }
}

/// `TPMS_ATTEST`: what the TPM signs in Quote, Certify and the other attestation commands.
///
/// Parsing refuses a magic other than `TPM_GENERATED_VALUE`: a structure without it was not
/// produced by a TPM and must never be mistaken for one.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TpmsAttest<'a> {
    /// `qualifiedSigner`: the Qualified Name of the signing key.
    pub qualified_signer: Tpm2bName<'a>,
    /// `extraData`: the caller's qualifying data (the verifier's nonce in a quote), at most
    /// 66 bytes (`max::DATA`).
    pub extra_data: Tpm2bData<'a>,
    /// `clockInfo`: the TPM clock and reset/restart counts when the TPM signed.
    pub clock_info: TpmsClockInfo,
    /// `firmwareVersion`: TPM vendor-specific firmware version.
    pub firmware_version: u64,
    /// `attested`: the type-specific body; `TPMS_ATTEST.type` is implied by its variant.
    pub attested: TpmuAttest<'a>,
}

impl<'a> TpmsAttest<'a> {
    /// `TPMS_ATTEST.magic` (always `TPM_GENERATED_VALUE` for a parsed value).
    pub const MAGIC: u32 = TPM_GENERATED_VALUE;

    /// The quote body, if this is a quote.
    pub fn quote(&self) -> Option<&TpmsQuoteInfo<'a>> {
        match &self.attested {
            TpmuAttest::Quote(q) => Some(q),
            _ => None,
        }
    }

    /// Reads a `TPM2B_ATTEST`, returning the structure and the exact bytes the TPM signed.
    pub fn read_tpm2b(r: &mut Reader<'a>) -> Result<(Self, &'a [u8]), Error> {
        r.sized(max::ATTEST, "TPM2B_ATTEST", Self::unmarshal)
    }
}

impl<'a> Unmarshal<'a> for TpmsAttest<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let at = r.offset();
        let magic = r.u32("TPMS_ATTEST.magic")?;
        if magic != TPM_GENERATED_VALUE {
            return Err(Error::new(
                ErrorKind::BadMagic { value: magic },
                "TPMS_ATTEST.magic",
                at,
            ));
        }
        let at = r.offset();
        let tag = TpmSt(r.u16("TPMS_ATTEST.type")?);
        // Refuse an unknown type before reading further, so the error points at the tag.
        if !tag.is_attest() {
            return Err(Error::new(
                ErrorKind::UnknownValue {
                    value: u32::from(tag.0),
                },
                "TPMS_ATTEST.type",
                at,
            ));
        }
        let qualified_signer = Tpm2bName::read(r, "TPMS_ATTEST.qualifiedSigner")?;
        let extra_data = Tpm2bData::read(r, "TPMS_ATTEST.extraData")?;
        let clock_info = TpmsClockInfo::unmarshal(r)?;
        let firmware_version = r.u64("TPMS_ATTEST.firmwareVersion")?;
        let attested = TpmuAttest::read(tag, at, r)?;
        Ok(Self {
            qualified_signer,
            extra_data,
            clock_info,
            firmware_version,
            attested,
        })
    }
}

impl Marshal for TpmsAttest<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(TPM_GENERATED_VALUE)?;
        w.u16(self.attested.tag().0)?;
        self.qualified_signer
            .write(w, "TPMS_ATTEST.qualifiedSigner")?;
        self.extra_data.write(w, "TPMS_ATTEST.extraData")?;
        self.clock_info.marshal(w)?;
        w.u64(self.firmware_version)?;
        self.attested.write(w)
    }
}
