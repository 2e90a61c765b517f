//! Authorization sessions: the command authorization area and TPM2_StartAuthSession.
//!
//! A command lists one [`AuthSession`] per handle that needs authorization, in handle order.
//! [`super::build`] reserves the area, writes the parameters after it, then fills the area
//! with the parameter bytes in hand: a session kind whose HMAC covers the command (HMAC and
//! salted sessions, with their cpHash) fits in as one more variant and one more arm here.

use super::{Command, Handles};
use crate::types::alg::handle::{RH_NULL, RS_PW};
use crate::types::tpm2b::max;
use crate::types::{HashAlg, Tpm2bDigest, TpmAlgId, TpmCc, TpmtSymDefObject};
use crate::wire::{Error, Reader, Writer};

/// `TPMA_SESSION.continueSession`.
pub const CONTINUE_SESSION: u8 = 0x01;

/// `TPM_SE`: the kind of session StartAuthSession opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmSe(pub u8);

impl TpmSe {
    pub const HMAC: Self = Self(0x00);
    pub const POLICY: Self = Self(0x01);
    pub const TRIAL: Self = Self(0x03);
}

/// One entry of a command's authorization area (`TPMS_AUTH_COMMAND`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthSession<'a> {
    /// TPM_RS_PW with this password (the authValue in the clear).
    Password(&'a [u8]),
    /// A policy session whose policy digest the caller has brought to the object's
    /// authPolicy. Its HMAC is empty: the policy did not run PolicyAuthValue.
    Policy {
        handle: u32,
        /// `TPMA_SESSION` bits; without continueSession the TPM closes the session on success.
        attributes: u8,
    },
}

impl AuthSession<'_> {
    /// Bytes of this TPMS_AUTH_COMMAND.
    fn encoded_len(&self) -> usize {
        4 + 2
            + 1
            + 2
            + match self {
                Self::Password(p) => p.len(),
                Self::Policy { .. } => 0,
            }
    }

    /// Writes this TPMS_AUTH_COMMAND. `_cc` and `_parameters` are the command code and
    /// parameter bytes, which an HMAC session folds into its cpHash (with the Names of the
    /// entities it authorizes, which such a variant would carry).
    fn write(&self, w: &mut Writer<'_>, _cc: TpmCc, _parameters: &[u8]) -> Result<(), Error> {
        match *self {
            Self::Password(p) => {
                w.u32(RS_PW)?;
                w.tpm2b(&[], max::DIGEST, "TPMS_AUTH_COMMAND.nonce")?;
                w.u8(CONTINUE_SESSION)?;
                w.tpm2b(p, max::DIGEST, "TPMS_AUTH_COMMAND.hmac")
            }
            Self::Policy { handle, attributes } => {
                w.u32(handle)?;
                w.tpm2b(&[], max::DIGEST, "TPMS_AUTH_COMMAND.nonce")?;
                w.u8(attributes)?;
                w.tpm2b(&[], max::DIGEST, "TPMS_AUTH_COMMAND.hmac")
            }
        }
    }
}

/// Length of the authorization area with its u32 size, or 0 when there are no sessions.
pub(super) fn area_len(sessions: &[AuthSession<'_>]) -> usize {
    if sessions.is_empty() {
        0
    } else {
        4 + sessions.iter().map(AuthSession::encoded_len).sum::<usize>()
    }
}

/// Writes the authorization area (its size, then one TPMS_AUTH_COMMAND per session) into
/// `area`, which [`area_len`] sized. `parameters` follow the area in the command.
pub(super) fn write_area(
    area: &mut [u8],
    sessions: &[AuthSession<'_>],
    cc: TpmCc,
    parameters: &[u8],
) -> Result<(), Error> {
    let mut w = Writer::new(area);
    let size = area_len(sessions).saturating_sub(4);
    w.u32(size as u32)?;
    for s in sessions {
        s.write(&mut w, cc, parameters)?;
    }
    Ok(())
}

/// Reads one TPMS_AUTH_RESPONSE per session. Password and policy sessions without
/// PolicyAuthValue carry no response HMAC to check; nonce and HMAC are bounded by their
/// maxima and otherwise ignored.
pub(super) fn read_acks(r: &mut Reader<'_>, sessions: usize) -> Result<(), Error> {
    for _ in 0..sessions {
        r.tpm2b(max::DIGEST, "TPMS_AUTH_RESPONSE.nonce")?;
        r.u8("TPMS_AUTH_RESPONSE.sessionAttributes")?;
        r.tpm2b(max::DIGEST, "TPMS_AUTH_RESPONSE.hmac")?;
    }
    Ok(())
}

/// TPM2_StartAuthSession. Unsalted and unbound when `tpm_key` and `bind` are TPM_RH_NULL
/// (the only form this crate uses so far; `encrypted_salt` must then be empty).
pub struct StartAuthSession<'a> {
    pub tpm_key: u32,
    pub bind: u32,
    /// 16 bytes up to the digest size of `auth_hash`.
    pub nonce_caller: &'a [u8],
    pub encrypted_salt: &'a [u8],
    pub session_type: TpmSe,
    /// Parameter encryption of the session (`TPMT_SYM_DEF`); NULL for none.
    pub symmetric: TpmtSymDefObject,
    pub auth_hash: HashAlg,
}

impl<'a> StartAuthSession<'a> {
    /// An unsalted, unbound policy session over `auth_hash`.
    pub fn policy(nonce_caller: &'a [u8], auth_hash: HashAlg) -> Self {
        Self {
            tpm_key: RH_NULL,
            bind: RH_NULL,
            nonce_caller,
            encrypted_salt: &[],
            session_type: TpmSe::POLICY,
            symmetric: TpmtSymDefObject::Null,
            auth_hash,
        }
    }
}

/// TPM2_StartAuthSession's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartAuthSessionResponse<'r> {
    pub session_handle: u32,
    pub nonce_tpm: Tpm2bDigest<'r>,
}

impl Command for StartAuthSession<'_> {
    const CC: TpmCc = TpmCc::START_AUTH_SESSION;
    const RESPONSE_HANDLES: usize = 1;
    type Response<'r> = StartAuthSessionResponse<'r>;
    fn handles(&self) -> Handles {
        super::handles(&[self.tpm_key, self.bind])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.tpm2b(self.nonce_caller, max::DIGEST, "nonceCaller")?;
        // TPM2B_ENCRYPTED_SECRET.
        w.tpm2b(
            self.encrypted_salt,
            crate::types::credential::MAX_ENCRYPTED_SECRET,
            "encryptedSalt",
        )?;
        w.u8(self.session_type.0)?;
        match self.symmetric {
            TpmtSymDefObject::Null => w.u16(TpmAlgId::NULL.0)?,
            TpmtSymDefObject::Cipher {
                algorithm,
                key_bits,
                mode,
            } => {
                w.u16(algorithm.0)?;
                w.u16(key_bits)?;
                w.u16(mode.0)?;
            }
        }
        w.u16(self.auth_hash.alg_id().0)
    }
    fn response<'r>(h: &[u32], r: &mut Reader<'r>) -> Result<StartAuthSessionResponse<'r>, Error> {
        Ok(StartAuthSessionResponse {
            session_handle: h.first().copied().unwrap_or(0),
            nonce_tpm: Tpm2bDigest::read(r, "nonceTPM")?,
        })
    }
}
