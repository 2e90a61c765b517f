//! The provenance flow's salted HMAC session (issue 15): PCR_Extend of PCR14/15, the AK's
//! CreatePrimary and the Quote go under an HMAC session salted to the EK, so that a command
//! rewritten on the bus is refused by the TPM (its HMAC check fails) and an answer rewritten
//! on the way back is refused here before it is used (see [`crate::hmac_session`]).
//!
//! The EK that salts the session is checked first against the TPM's EK certificate in NV:
//! the first certificate found of the TCG EK Credential Profile types (ECC before RSA) says
//! which EK to create, from the platform's template for it (the TCG default, or the template
//! and EK nonce stored in NV: [`crate::tpm::Tpm::ek_template`]), and the created EK's public
//! key must be the certificate's key; a mismatch is refused ([`FlowError::EkMismatch`]),
//! since an interposer that replaced the EK in CreatePrimary's answer would receive the salt.
//! A TPM without an EK certificate gets a session salted to the low-range ECC EK, said to be
//! unverified.
//!
//! Builds without the `cert` feature (the initrd's) read the certificate's key with
//! [`crate::cert_key`] instead of the X.509 parser; the comparison is the same.
//!
//! Limits: the certificate is compared by key, not chain-validated (`verify --ek-ca` does
//! that for the certificates a proof carries); NV reads go without a session, so an
//! interposer can hide the certificate and the EK is then only "unverified". Other reads
//! (PCR_Read, GetCapability, GetRandom) go without a session; the quote's signature covers
//! what matters of them.
//!
//! What the prover used is recorded in the proof ([`SessionRecord`]), unsigned.

use std::string::{String, ToString};
use std::vec::Vec;

use super::file::{EkCertificate, SessionRecord};
use super::flow::FlowError;
use crate::commands::Command;
use crate::tpm::{Tpm, TpmError};
use crate::transport::Transport;

/// Whether to use a salted session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionMode {
    /// A salted session when an EK can be created (without one: a warning, and none).
    #[default]
    Salted,
    /// No session (`--no-session`): a warning says what that gives up.
    Off,
}

/// What going without a salted session gives up (the same words as `createak`/`quote`).
pub const NO_SESSION_WARNING: &str = "commands go without a salted session: a bus interposer \
                                      that rewrites them would not be seen";

/// The flow's session: salted to a (checked) EK, or none.
pub struct FlowSession {
    #[cfg(feature = "credential")]
    salted: Option<crate::hmac_session::SaltedSession>,
    record: SessionRecord,
    messages: Vec<String>,
    /// The EK (and AK) certificates read from NV to find the EK to salt to, kept for the
    /// proof so that the flow does not read them twice.
    ek_certificates: Option<Vec<EkCertificate>>,
}

impl core::fmt::Debug for FlowSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FlowSession")
            .field("record", &self.record)
            .finish()
    }
}

impl FlowSession {
    /// No session and nothing to say (what the flow's older entry points use).
    pub fn none() -> FlowSession {
        FlowSession {
            #[cfg(feature = "credential")]
            salted: None,
            record: SessionRecord::None,
            messages: Vec::new(),
            ek_certificates: None,
        }
    }

    /// The certificates in NV for the proof: those [`FlowSession::begin`] read, or read now
    /// when it read none (no session asked for).
    pub(super) fn take_ek_certificates<T: Transport>(
        &mut self,
        tpm: &mut Tpm<T>,
    ) -> Result<Vec<EkCertificate>, FlowError> {
        match self.ek_certificates.take() {
            Some(certs) => Ok(certs),
            None => super::flow::ek_certificates(tpm),
        }
    }

    /// Starts the session `mode` asks for. Without an EK (endorsement hierarchy with a
    /// password, disabled, or a build without the `credential` feature) there is none and
    /// [`FlowSession::messages`] says so; an EK that does not match its certificate, or that
    /// refuses to salt a session, is an error.
    pub fn begin<T: Transport>(tpm: &mut Tpm<T>, mode: SessionMode) -> Result<Self, FlowError> {
        let mut me = FlowSession::none();
        if mode == SessionMode::Off {
            me.messages
                .push(std::format!("warning: --no-session: {NO_SESSION_WARNING}"));
            return Ok(me);
        }
        #[cfg(feature = "credential")]
        {
            with::begin(tpm, &mut me)?;
        }
        #[cfg(not(feature = "credential"))]
        {
            let _ = tpm;
            me.messages.push(std::format!(
                "warning: built without the credential feature: {NO_SESSION_WARNING}"
            ));
        }
        Ok(me)
    }

    /// What the proof records.
    pub fn record(&self) -> SessionRecord {
        self.record
    }

    /// Warnings and notes for the user (prefixed `warning:` or `note:`), in order.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// Whether commands go under a salted session.
    pub fn is_salted(&self) -> bool {
        self.record != SessionRecord::None
    }

    /// Sends `cmd` under the session when there is one (`names`: the Names of its handles),
    /// plainly otherwise. `step` names the command in errors.
    pub fn execute<'t, T: Transport, C: Command>(
        &mut self,
        tpm: &'t mut Tpm<T>,
        cmd: &C,
        names: &[&[u8]],
        step: &'static str,
    ) -> Result<C::Response<'t>, FlowError> {
        #[cfg(feature = "credential")]
        if let Some(s) = self.salted.as_mut() {
            return s
                .execute(tpm, cmd, names)
                .map_err(|e| session_error(step, e));
        }
        let _ = names;
        tpm.execute(cmd).map_err(|e| FlowError::Tpm {
            step,
            rc: e.rc(),
            message: e.to_string(),
        })
    }

    /// The salted session itself, for callers that send other commands under it (`None`
    /// when there is none).
    #[cfg(feature = "credential")]
    pub fn into_salted(self) -> Option<crate::hmac_session::SaltedSession> {
        self.salted
    }

    /// Closes the session in the TPM.
    pub fn close<T: Transport>(self, tpm: &mut Tpm<T>) {
        #[cfg(feature = "credential")]
        if let Some(s) = self.salted {
            s.flush(tpm);
        }
        let _ = tpm;
    }
}

/// Whether the TPM refused session 1's command HMAC: TPM_RC_BAD_AUTH (entities without
/// dictionary-attack protection: PCRs, hierarchies) or TPM_RC_AUTH_FAIL, with the session
/// number bits masked.
pub fn is_hmac_refusal(rc: u32) -> bool {
    matches!(rc & !0xF00, 0x0a2 | 0x08e)
}

/// What a failed command under a salted session says about the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionFailure {
    /// The TPM refused the command's session HMAC: the command was changed on the way.
    CommandChanged,
    /// The answer's session HMAC (TPMS_AUTH_RESPONSE.hmac) does not check or cannot be read:
    /// the answer was changed on the way.
    AnswerChanged,
    /// Any other failure.
    Other,
}

impl SessionFailure {
    /// Classifies `e`, a failure of a command sent under a salted session.
    pub fn of<E: core::fmt::Debug + core::fmt::Display>(e: &TpmError<E>) -> Self {
        match e {
            _ if e.rc().is_some_and(|rc| is_hmac_refusal(rc.0)) => Self::CommandChanged,
            TpmError::Malformed { error, .. } if error.what == "TPMS_AUTH_RESPONSE.hmac" => {
                Self::AnswerChanged
            }
            _ => Self::Other,
        }
    }
}

/// A failure under the session, saying which check failed: the TPM refusing the command's
/// HMAC (the command was changed on the way), or the answer's HMAC not checking (the answer
/// was changed on the way).
pub fn session_error<E: core::fmt::Debug + core::fmt::Display>(
    step: &'static str,
    e: TpmError<E>,
) -> FlowError {
    let message = match SessionFailure::of(&e) {
        SessionFailure::CommandChanged => std::format!(
            "the TPM refused the command's session HMAC: the command was changed on the way \
             to the TPM ({e})"
        ),
        SessionFailure::AnswerChanged => std::format!(
            "the answer's session HMAC does not check: it was changed on the way ({e})"
        ),
        SessionFailure::Other => std::format!("{e} (under the salted session)"),
    };
    FlowError::Tpm {
        step,
        rc: e.rc(),
        message,
    }
}

#[cfg(feature = "credential")]
mod with {
    use super::*;
    use crate::commands::templates::{self, EkType};
    use crate::commands::CreatePrimary;
    use crate::hmac_session::SaltedSession;
    use crate::types::{HashAlg, Tpm2bPublic};

    /// EK types in the order their certificates are looked for: ECC first (creating the key
    /// and salting to it are quick), low range before high.
    const ORDER: [(EkType, bool); 7] = [
        (EkType::EccP256, false),
        (EkType::EccP256, true),
        (EkType::EccP384, true),
        (EkType::Rsa2048, false),
        (EkType::Rsa2048, true),
        (EkType::Rsa3072, true),
        (EkType::Rsa4096, true),
    ];

    /// Whether this build has the key encapsulation for an EK of this type.
    fn can_salt(ty: EkType) -> bool {
        match ty {
            EkType::EccP256 => cfg!(feature = "p256"),
            EkType::EccP384 => cfg!(feature = "p384"),
            EkType::Rsa2048 | EkType::Rsa3072 | EkType::Rsa4096 => cfg!(feature = "rsa"),
        }
    }

    pub(super) fn begin<T: Transport>(
        tpm: &mut Tpm<T>,
        me: &mut FlowSession,
    ) -> Result<(), FlowError> {
        let certs = me
            .ek_certificates
            .insert(super::super::flow::ek_certificates(tpm)?);
        let certs_present = certs
            .iter()
            .any(|c| templates::EK_CERT_NV_INDICES.contains(&c.nv_index));
        // Only EK types this build can salt to: the initrd build has no P-384 code, and a
        // TPM with a P-384 EK certificate (swtpm_setup's default) must then get the next one.
        let found = ORDER
            .iter()
            .filter(|(ty, _)| can_salt(*ty))
            .find_map(|&(ty, high)| {
                let index = ty.cert_index(high);
                certs
                    .iter()
                    .find(|c| c.nv_index == index)
                    .map(|c| (ty, high, c))
            });
        // The platform's template for that EK: from NV when one is stored there, with the EK
        // nonce in the low range, or the certificate would not be for the EK created.
        let (ty, high) = found.map_or((EkType::EccP256, false), |(ty, high, _)| (ty, high));
        let ek_template = tpm.ek_template(ty, high).map_err(|e| FlowError::Tpm {
            step: "NV_Read(EK template)",
            rc: e.rc(),
            message: e.to_string(),
        })?;
        let template = ek_template
            .public()
            .map_err(|e| FlowError::Invalid(std::format!("EK template: {e}")))?;
        let made = match tpm.execute(&CreatePrimary::in_endorsement(template)) {
            Ok(r) => (r.object_handle, r.out_public.raw().to_vec()),
            // The TPM refused (endorsement hierarchy with a password, disabled, no room):
            // no EK, no session, and the user and the proof are told.
            Err(e @ TpmError::Tpm { .. }) => {
                me.messages.push(std::format!(
                    "warning: no EK available ({e}): {NO_SESSION_WARNING}"
                ));
                return Ok(());
            }
            // A malformed answer is no reason to go without a session: refused.
            Err(e) => {
                return Err(FlowError::Tpm {
                    step: "CreatePrimary(EK)",
                    rc: e.rc(),
                    message: e.to_string(),
                })
            }
        };
        let (ek, raw) = made;
        let result = salt_to(tpm, ek, &raw, found.map(|(_, _, c)| c));
        // The EK is needed only to start the session.
        tpm.flush_quietly(ek);
        let (session, record) = result?;
        if let (SessionRecord::SaltedEkCertified, Some((_, _, c))) = (record, found) {
            me.messages.push(std::format!(
                "note: commands go under an HMAC session salted to the EK that the EK \
                 certificate at NV {:#010x} certifies",
                c.nv_index
            ));
        }
        if record == SessionRecord::SaltedEkUnverified {
            let why = if certs_present {
                "no EK certificate in NV for a key type this build can salt to"
            } else {
                "no EK certificate in NV to compare it with"
            };
            me.messages.push(std::format!(
                "note: the EK salting the session is unverified ({why}): an interposer that \
                 replaced it could read the salt"
            ));
        }
        me.salted = Some(session);
        me.record = record;
        Ok(())
    }

    fn salt_to<T: Transport>(
        tpm: &mut Tpm<T>,
        ek: u32,
        raw: &[u8],
        cert: Option<&super::super::file::EkCertificate>,
    ) -> Result<(SaltedSession, SessionRecord), FlowError> {
        let public = Tpm2bPublic::from_tpmt_bytes(raw)
            .map_err(|e| FlowError::Invalid(std::format!("EK public area: {e}")))?;
        let record = match cert {
            None => SessionRecord::SaltedEkUnverified,
            Some(c) => check_against_certificate(&public.public_area(), c)?,
        };
        let session = SaltedSession::start(tpm, ek, &public.public_area(), HashAlg::Sha256)
            .map_err(|e| FlowError::Tpm {
                step: "StartAuthSession(salted to the EK)",
                rc: match &e {
                    crate::hmac_session::SessionError::Tpm(t) => t.rc(),
                    _ => None,
                },
                message: e.to_string(),
            })?;
        Ok((session, record))
    }

    #[cfg(feature = "cert")]
    fn check_against_certificate(
        public: &crate::types::TpmtPublic<'_>,
        c: &super::super::file::EkCertificate,
    ) -> Result<SessionRecord, FlowError> {
        use crate::cert::{Certificate, SubjectKey};
        let mismatch = |why: String| FlowError::EkMismatch {
            nv_index: c.nv_index,
            why,
        };
        let cert = Certificate::from_nv_bytes(&c.der)
            .map_err(|e| mismatch(std::format!("the certificate cannot be read: {e}")))?;
        let expected = cert
            .subject_key()
            .map_err(|e| mismatch(std::format!("the certificate's key: {e}")))?;
        let got = SubjectKey::from_tpmt_public(public)
            .map_err(|e| mismatch(std::format!("the EK's key: {e}")))?;
        if got != expected {
            return Err(mismatch(
                "the EK the TPM answered with is not the certificate's key".to_string(),
            ));
        }
        Ok(SessionRecord::SaltedEkCertified)
    }

    /// A build without the X.509 parser (the initrd's) finds the certificate's key with the
    /// bounded DER walk of [`crate::cert_key`] and compares it the same way.
    #[cfg(not(feature = "cert"))]
    fn check_against_certificate(
        public: &crate::types::TpmtPublic<'_>,
        c: &super::super::file::EkCertificate,
    ) -> Result<SessionRecord, FlowError> {
        let mismatch = |why: String| FlowError::EkMismatch {
            nv_index: c.nv_index,
            why,
        };
        let key = crate::cert_key::cert_key(&c.der)
            .map_err(|e| mismatch(std::format!("the certificate's key cannot be read: {e}")))?;
        if !crate::cert_key::same_key(&key, public) {
            return Err(mismatch(
                "the EK the TPM answered with is not the certificate's key".to_string(),
            ));
        }
        Ok(SessionRecord::SaltedEkCertified)
    }
}
