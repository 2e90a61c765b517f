//! The TPM side of credential activation on `Tpm<T>`: a policy session that satisfies the EK's
//! PolicyA (PolicySecret with TPM_RH_ENDORSEMENT), or a password for EKs with userWithAuth,
//! then TPM2_ActivateCredential. Sessions are closed on every path.

use crate::commands::{
    ActivateCredential, AuthSession, FlushContext, PolicySecret, StartAuthSession,
};
use crate::tpm::{Tpm, TpmError};
use crate::transport::Transport;
use crate::types::alg::handle::RH_ENDORSEMENT;
use crate::types::rc::TpmRc;
use crate::types::{HashAlg, Tpm2bEncryptedSecret, Tpm2bIdObject, TpmaObject, TpmtPublic};

/// How the EK's USER role is authorized for ActivateCredential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EkAuth<'a> {
    /// A fresh policy session over `policy_hash` (the EK's nameAlg) that runs
    /// PolicySecret(TPM_RH_ENDORSEMENT) with the endorsement hierarchy's password: the EK
    /// templates' PolicyA (low-range EKs have userWithAuth clear).
    PolicySecret {
        /// The endorsement hierarchy's password (empty by default).
        endorsement_auth: &'a [u8],
        /// The policy session's hash: the EK's nameAlg.
        policy_hash: HashAlg,
    },
    /// A password session with the EK's authValue (high-range EKs set userWithAuth).
    Password(&'a [u8]),
}

impl<'a> EkAuth<'a> {
    /// The authorization an EK's public area asks for, with empty passwords: a password when
    /// userWithAuth is set, else the PolicySecret policy over its nameAlg.
    pub fn for_ek(ek: &TpmtPublic<'_>) -> EkAuth<'static> {
        if ek.object_attributes.has(TpmaObject::USER_WITH_AUTH) {
            EkAuth::Password(&[])
        } else {
            EkAuth::PolicySecret {
                endorsement_auth: &[],
                policy_hash: ek.name_alg.unwrap_or(HashAlg::Sha256),
            }
        }
    }
}

/// The two keys of an activation and how each is authorized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationKeys<'a> {
    /// The AK (`activateHandle`, ADMIN role, a password session with its authValue).
    pub ak: u32,
    /// The AK's password (its authValue; empty for this crate's AKs).
    pub ak_auth: &'a [u8],
    /// The EK (`keyHandle`, USER role).
    pub ek: u32,
    /// How the EK's USER role is authorized.
    pub ek_auth: EkAuth<'a>,
}

/// Whether `rc` is TPM_RC_INTEGRITY (any parameter): what a TPM answers to a credential made
/// for another AK Name or EK, or altered on the way. Format one (bit 7 set), error number
/// 0x1F, whatever parameter, handle or session it names; codes from other layers are not.
pub fn is_integrity_failure(rc: TpmRc) -> bool {
    rc.0 & 0xFFFF_F000 == 0 && rc.0 & 0x0000_00BF == 0x0000_009F
}

impl<T: Transport> Tpm<T> {
    /// Starts an unsalted, unbound policy session over `hash`; returns its handle.
    pub fn start_policy_session(&mut self, hash: HashAlg) -> Result<u32, TpmError<T::Error>> {
        // The session is neither salted nor bound and computes no HMAC, so the caller nonce
        // only has to have a legal size (16 bytes up to the digest size).
        let nonce = [0u8; 16];
        Ok(self
            .execute(&StartAuthSession::policy(&nonce, hash))?
            .session_handle)
    }

    /// Runs PolicySecret(TPM_RH_ENDORSEMENT) in `session` with the endorsement password.
    pub fn policy_secret_endorsement(
        &mut self,
        session: u32,
        endorsement_auth: &[u8],
    ) -> Result<(), TpmError<T::Error>> {
        self.execute(&PolicySecret {
            auth_handle: RH_ENDORSEMENT,
            auth: endorsement_auth,
            policy_session: session,
            nonce_tpm: &[],
            cp_hash_a: &[],
            policy_ref: &[],
            expiration: 0,
        })
        .map(|_| ())
    }

    /// TPM2_ActivateCredential with the AK and EK of `keys`; writes
    /// the released credential into `out` and returns its length. A policy session made for
    /// the EK is flushed whatever happens. TPM_RC_RETRY is retried a bounded number of times
    /// (`max_attempts`) by `execute`, with the same session.
    pub fn activate_credential(
        &mut self,
        keys: &ActivationKeys<'_>,
        credential_blob: Tpm2bIdObject<'_>,
        secret: Tpm2bEncryptedSecret<'_>,
        out: &mut [u8],
    ) -> Result<usize, TpmError<T::Error>> {
        let (key_auth, session) = self.ek_authorization(keys.ek_auth)?;
        let result = self
            .execute(&ActivateCredential {
                activate_handle: keys.ak,
                activate_auth: AuthSession::Password(keys.ak_auth),
                key_handle: keys.ek,
                key_auth,
                credential_blob,
                secret,
            })
            .and_then(|cert_info| copy_cert_info(cert_info.as_bytes(), out));
        if let (Err(_), Some(s)) = (&result, session) {
            self.flush_quietly(s);
        }
        result
    }

    /// The EK's authorization for ActivateCredential as `auth` says: a password session, or a
    /// fresh policy session that has run PolicySecret(TPM_RH_ENDORSEMENT), returned with its
    /// handle so that the caller flushes it when the command fails (on success the TPM
    /// closes it: no continueSession). A policy session whose PolicySecret fails is flushed
    /// here.
    pub fn ek_authorization<'a>(
        &mut self,
        auth: EkAuth<'a>,
    ) -> Result<(AuthSession<'a>, Option<u32>), TpmError<T::Error>> {
        match auth {
            EkAuth::Password(p) => Ok((AuthSession::Password(p), None)),
            EkAuth::PolicySecret {
                endorsement_auth,
                policy_hash,
            } => {
                let s = self.start_policy_session(policy_hash)?;
                if let Err(e) = self.policy_secret_endorsement(s, endorsement_auth) {
                    self.flush_quietly(s);
                    return Err(e);
                }
                let session = AuthSession::Policy {
                    handle: s,
                    attributes: 0,
                };
                Ok((session, Some(s)))
            }
        }
    }

    /// Flushes a handle, ignoring a failure (used on error paths, where the first error is
    /// the one to report).
    pub fn flush_quietly(&mut self, handle: u32) {
        let _ = self.execute(&FlushContext {
            flush_handle: handle,
        });
    }
}

/// Copies ActivateCredential's certInfo (the released credential) into `out`, refusing one
/// longer than `out`.
pub(crate) fn copy_cert_info<E: core::fmt::Debug + core::fmt::Display>(
    cert_info: &[u8],
    out: &mut [u8],
) -> Result<usize, TpmError<E>> {
    let dst = out.get_mut(..cert_info.len()).ok_or(TpmError::Protocol {
        cc: crate::types::TpmCc::ACTIVATE_CREDENTIAL,
        what: "credential longer than the output buffer",
    })?;
    dst.copy_from_slice(cert_info);
    Ok(cert_info.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_codes() {
        for rc in [0x09F, 0x19F, 0x1DF, 0x2DF, 0x99F] {
            assert!(is_integrity_failure(TpmRc(rc)), "{rc:#x}");
        }
        for rc in [0x000, 0x01F, 0x11F, 0x91F, 0x922, 0x12F, 0x9A2, 0x000B_01DF] {
            assert!(!is_integrity_failure(TpmRc(rc)), "{rc:#x}");
        }
    }
}
