//! Authorization sessions: the command authorization area and TPM2_StartAuthSession.
//!
//! A command lists one [`AuthSession`] per handle that needs authorization, in handle order.
//! [`super::build`] reserves the area, writes the parameters after it, then fills the area
//! with the parameter bytes in hand: a session kind whose HMAC covers the command (HMAC and
//! salted sessions, with their cpHash) fits in as one more variant and one more arm here.

use super::{Command, Handles};
use crate::types::alg::handle::{RH_NULL, RS_PW};
use crate::types::tpm2b::max;
use crate::types::{HashAlg, Tpm2bDigest, TpmCc, TpmtSymDefObject};
use crate::wire::{Error, Reader, Writer};

/// `TPMA_SESSION.continueSession`.
pub const CONTINUE_SESSION: u8 = 0x01;

/// `TPM_SE`: the kind of session StartAuthSession opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmSe(pub u8);

impl TpmSe {
    /// `TPM_SE_HMAC`: an HMAC session.
    pub const HMAC: Self = Self(0x00);
    /// `TPM_SE_POLICY`: a policy session.
    pub const POLICY: Self = Self(0x01);
    /// `TPM_SE_TRIAL`: a trial policy session (computes a policy digest, authorizes nothing).
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
        /// The policy session's handle (TPM_HT_POLICY_SESSION, from StartAuthSession).
        handle: u32,
        /// `TPMA_SESSION` bits; without continueSession the TPM closes the session on success.
        attributes: u8,
    },
    /// An HMAC session: its HMAC over the command's cpHash and the nonces is computed when
    /// the parameters are in place.
    #[cfg(feature = "credential")]
    Hmac(HmacAuth<'a>),
}

/// What an HMAC session needs to authorize one command (TPM 2.0 Part 1, 19.6): the HMAC key
/// (sessionKey ‖ authValue of the entity, or sessionKey alone), the Names of the command's
/// handles for the cpHash, and this command's nonces.
#[cfg(feature = "credential")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HmacAuth<'a> {
    /// The HMAC session's handle (TPM_HT_HMAC_SESSION, from StartAuthSession).
    pub handle: u32,
    /// The session's authHash.
    pub hash: HashAlg,
    /// The HMAC key: the sessionKey followed by the entity's authValue (or the sessionKey
    /// alone when the entity is the session's bind entity).
    pub key: &'a [u8],
    /// The Names of the command's handles, in handle order.
    pub names: &'a [&'a [u8]],
    /// The caller's fresh nonce for this command (nonceNewer).
    pub nonce_caller: &'a [u8],
    /// The TPM's last nonce (nonceOlder).
    pub nonce_tpm: &'a [u8],
    /// `TPMA_SESSION` bits.
    pub attributes: u8,
}

#[cfg(feature = "credential")]
fn hash_unavailable(h: HashAlg) -> Error {
    Error::new(
        crate::wire::ErrorKind::Unsupported {
            value: u32::from(h.alg_id().0),
        },
        "session authHash",
        0,
    )
}

/// `H(parts...)` into `out`; returns the digest size.
#[cfg(feature = "credential")]
fn digest_of(
    h: HashAlg,
    parts: &[&[u8]],
    out: &mut [u8; crate::types::hash::MAX_DIGEST],
) -> Result<usize, Error> {
    let mut hasher = crate::types::hash::Hasher::new(h).map_err(|_| hash_unavailable(h))?;
    for p in parts {
        hasher.update(p);
    }
    let d = hasher.finish();
    let d = d.as_bytes();
    out[..d.len()].copy_from_slice(d);
    Ok(d.len())
}

#[cfg(feature = "credential")]
impl HmacAuth<'_> {
    /// `HMAC(key, cpHash ‖ nonceCaller ‖ nonceTPM ‖ sessionAttributes)`, cpHash = H(commandCode
    /// ‖ Names ‖ parameters).
    fn command_hmac(
        &self,
        cc: TpmCc,
        parameters: &[u8],
        out: &mut [u8; crate::types::hash::MAX_DIGEST],
    ) -> Result<usize, Error> {
        let mut cp = [0u8; crate::types::hash::MAX_DIGEST];
        let cc_bytes = cc.0.to_be_bytes();
        let mut hasher =
            crate::types::hash::Hasher::new(self.hash).map_err(|_| hash_unavailable(self.hash))?;
        hasher.update(&cc_bytes);
        for n in self.names {
            hasher.update(n);
        }
        hasher.update(parameters);
        let d = hasher.finish();
        let n = d.as_bytes().len();
        cp[..n].copy_from_slice(d.as_bytes());
        crate::credential::kdf::hmac_parts(
            self.hash,
            self.key,
            &[
                &cp[..n],
                self.nonce_caller,
                self.nonce_tpm,
                &[self.attributes],
            ],
            out,
        )
        .map_err(|_| hash_unavailable(self.hash))
    }
}

/// A nonce the TPM returned, at most one digest long.
#[cfg(feature = "credential")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionNonce {
    /// Bytes used in `bytes` (the session's authHash digest size at most).
    pub len: usize,
    /// The nonce, in its first `len` bytes.
    pub bytes: [u8; crate::types::hash::MAX_DIGEST],
}

#[cfg(feature = "credential")]
impl SessionNonce {
    /// The nonce (the first `len` bytes).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Checks the HMAC of a response to a command sent with one HMAC session, before anything in
/// the response is used: `HMAC(key, rpHash ‖ nonceTPM ‖ nonceCaller ‖ sessionAttributes)`,
/// rpHash = H(responseCode ‖ commandCode ‖ parameters). Returns the TPM's new nonce, or None
/// for an error response (a header alone, which carries no session).
#[cfg(feature = "credential")]
pub fn check_response_hmac(
    rsp: &[u8],
    cc: TpmCc,
    response_handles: usize,
    hash: HashAlg,
    key: &[u8],
    nonce_caller: &[u8],
) -> Result<Option<SessionNonce>, Error> {
    check_first_response_hmac(rsp, cc, response_handles, 1, hash, key, nonce_caller)
}

/// [`check_response_hmac`] for a command sent with `sessions` sessions of which the HMAC
/// session is the first: the other entries of the response's authorization area (a policy
/// session's nonce and attributes) are read for shape only.
#[cfg(feature = "credential")]
pub fn check_first_response_hmac(
    rsp: &[u8],
    cc: TpmCc,
    response_handles: usize,
    sessions: usize,
    hash: HashAlg,
    key: &[u8],
    nonce_caller: &[u8],
) -> Result<Option<SessionNonce>, Error> {
    let mut r = Reader::new(rsp);
    let tag = r.u16("response tag")?;
    r.u32("response size")?;
    let rc = r.u32("response code")?;
    if rc != 0 {
        return Ok(None);
    }
    if tag != crate::types::TpmSt::SESSIONS.0 {
        return Err(Error::new(
            crate::wire::ErrorKind::InvalidValue {
                value: u32::from(tag),
            },
            "response tag (a session was sent: the answer must carry its HMAC)",
            0,
        ));
    }
    for _ in 0..response_handles {
        r.u32("response handle")?;
    }
    let size = r.u32("parameterSize")? as usize;
    let parameters = r.bytes(size, "response parameters")?;
    let nonce = r.tpm2b(max::DIGEST, "TPMS_AUTH_RESPONSE.nonce")?;
    let attributes = r.u8("TPMS_AUTH_RESPONSE.sessionAttributes")?;
    let at = r.offset();
    let hmac = r.tpm2b(max::DIGEST, "TPMS_AUTH_RESPONSE.hmac")?;
    // At most three sessions in a command (Part 1, 18.2.1): the others' entries.
    read_acks(&mut r, sessions.min(3).saturating_sub(1))?;
    r.finish()?;
    let mut rp = [0u8; crate::types::hash::MAX_DIGEST];
    let n = digest_of(
        hash,
        &[&rc.to_be_bytes(), &cc.0.to_be_bytes(), parameters],
        &mut rp,
    )?;
    let mut expected = [0u8; crate::types::hash::MAX_DIGEST];
    let m = crate::credential::kdf::hmac_parts(
        hash,
        key,
        &[&rp[..n], nonce, nonce_caller, &[attributes]],
        &mut expected,
    )
    .map_err(|_| hash_unavailable(hash))?;
    use subtle::ConstantTimeEq as _;
    if hmac.len() != m || !bool::from(hmac.ct_eq(&expected[..m])) {
        return Err(Error::new(
            crate::wire::ErrorKind::Inconsistent {
                expected: "the HMAC of the response under the session key (the answer was \
                           changed on the way, or does not come from the TPM the session was \
                           salted for)",
            },
            "TPMS_AUTH_RESPONSE.hmac",
            at,
        ));
    }
    let mut bytes = [0u8; crate::types::hash::MAX_DIGEST];
    bytes[..nonce.len()].copy_from_slice(nonce);
    Ok(Some(SessionNonce {
        len: nonce.len(),
        bytes,
    }))
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
                #[cfg(feature = "credential")]
                Self::Hmac(a) => a.nonce_caller.len() + a.hash.digest_size(),
            }
    }

    /// Writes this TPMS_AUTH_COMMAND. `_cc` and `_parameters` are the command code and
    /// parameter bytes, which an HMAC session folds into its cpHash.
    fn write(&self, w: &mut Writer<'_>, _cc: TpmCc, _parameters: &[u8]) -> Result<(), Error> {
        match *self {
            #[cfg(feature = "credential")]
            Self::Hmac(a) => {
                let mut hmac = [0u8; crate::types::hash::MAX_DIGEST];
                let n = a.command_hmac(_cc, _parameters, &mut hmac)?;
                w.u32(a.handle)?;
                w.tpm2b(a.nonce_caller, max::DIGEST, "TPMS_AUTH_COMMAND.nonce")?;
                w.u8(a.attributes)?;
                w.tpm2b(&hmac[..n], max::DIGEST, "TPMS_AUTH_COMMAND.hmac")
            }
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
    /// `tpmKey`: the handle of the key that decrypts `encrypted_salt`, or TPM_RH_NULL (unsalted).
    pub tpm_key: u32,
    /// `bind`: the entity whose authValue goes into the session key, or TPM_RH_NULL (unbound).
    pub bind: u32,
    /// 16 bytes up to the digest size of `auth_hash`.
    pub nonce_caller: &'a [u8],
    /// `encryptedSalt`: the salt encrypted to `tpm_key`; empty when `tpm_key` is TPM_RH_NULL.
    pub encrypted_salt: &'a [u8],
    /// `sessionType`: HMAC, policy or trial.
    pub session_type: TpmSe,
    /// Parameter encryption of the session (`TPMT_SYM_DEF`); NULL for none.
    pub symmetric: TpmtSymDefObject,
    /// `authHash`: the session's hash (HMACs, policy digest, nonces' size).
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
    /// The handle of the new session (TPM_HT_HMAC_SESSION or TPM_HT_POLICY_SESSION).
    pub session_handle: u32,
    /// `nonceTPM`: the TPM's first nonce for the session, authHash-sized.
    pub nonce_tpm: Tpm2bDigest<'r>,
}

impl Command for StartAuthSession<'_> {
    const CC: TpmCc = TpmCc::START_AUTH_SESSION;
    const RESPONSE_HANDLES: usize = 1;
    type Response<'r> = StartAuthSessionResponse<'r>;
    fn handles(&self) -> Handles {
        super::handles([self.tpm_key, self.bind])
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
        // TPMT_SYM_DEF: the same layout as TPMT_SYM_DEF_OBJECT for what a session uses.
        self.symmetric.write(w)?;
        w.u16(self.auth_hash.alg_id().0)
    }
    fn response<'r>(h: &[u32], r: &mut Reader<'r>) -> Result<StartAuthSessionResponse<'r>, Error> {
        Ok(StartAuthSessionResponse {
            session_handle: h.first().copied().unwrap_or(0),
            nonce_tpm: Tpm2bDigest::read(r, "nonceTPM")?,
        })
    }
}
