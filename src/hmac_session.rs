//! Salted HMAC sessions bound to the EK: what makes an active bus interposer visible.
//!
//! [`SaltedSession::start`] sends TPM2_StartAuthSession with `tpmKey` = the EK and a fresh salt
//! encrypted to the EK's public key (RSA-OAEP with label "SECRET", or ECDH + KDFe for ECC EKs,
//! TPM 2.0 Part 1 11.4.10 and annex B/C), unbound. Only the TPM holding that EK can recover
//! the salt, so only it and this process know
//! `sessionKey = KDFa(authHash, salt, "ATH", nonceTPM, nonceCaller, digest bits)`.
//!
//! [`SaltedSession::execute`] then sends a command with the session's HMAC over its cpHash
//! (command code, the Names of its handles, its parameter bytes) and the rolling nonces: a
//! command changed on the way fails the TPM's HMAC check. The response's HMAC over its rpHash
//! is checked before anything in the response is parsed or used: an answer changed on the way
//! is refused here.
//!
//! What this does not give: the EK public key must itself be trusted (from its certificate or
//! pinned); an interposer that could substitute the EK public key would receive the salt.
//! Parameter encryption (TPMA_SESSION.decrypt/encrypt) is not used yet: secrets still travel in
//! the clear.

use std::format;
use std::string::String;

use rand_core::{OsRng, RngCore as _};

use crate::commands::{
    check_response_hmac, AuthSession, Command, FlushContext, Handles, HmacAuth, Passwords,
    Sessions, StartAuthSession, TpmSe, CONTINUE_SESSION,
};
use crate::credential::{self, CredentialError};
use crate::tpm::{Tpm, TpmError};
use crate::transport::Transport;
use crate::types::alg::handle::RH_NULL;
use crate::types::hash::MAX_DIGEST;
use crate::types::{HashAlg, TpmCc, TpmtPublic, TpmtSymDefObject};
use crate::wire::{Error, Reader, Writer};

/// Why a salted session could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SessionError<E: core::fmt::Debug + core::fmt::Display> {
    #[error("salted session: the EK cannot salt a session: {0}")]
    Ek(#[from] CredentialError),
    #[error("salted session: {0}")]
    Tpm(TpmError<E>),
    #[error("salted session: {0}")]
    Key(String),
}

/// A started HMAC session salted to the EK. Flush it with [`SaltedSession::flush`] (the TPM
/// also drops it when the connection of a resource manager closes, or at a restart).
#[derive(Debug)]
pub struct SaltedSession {
    handle: u32,
    hash: HashAlg,
    key: [u8; MAX_DIGEST],
    nonce_tpm: [u8; MAX_DIGEST],
    nonce_tpm_len: usize,
}

impl SaltedSession {
    /// Starts an HMAC session over `hash`, salted to the EK loaded at `ek_handle` whose public
    /// area is `ek_public` (trusted by the caller).
    pub fn start<T: Transport>(
        tpm: &mut Tpm<T>,
        ek_handle: u32,
        ek_public: &TpmtPublic<'_>,
        hash: HashAlg,
    ) -> Result<SaltedSession, SessionError<T::Error>>
    where
        T::Error: core::fmt::Debug + core::fmt::Display,
    {
        let params = credential::ek_params(ek_public)?;
        let (salt, encrypted) = credential::encapsulate_seed(&mut OsRng, &params, b"SECRET")?;
        let size = hash.digest_size();
        let mut nonce_caller = [0u8; MAX_DIGEST];
        OsRng.fill_bytes(&mut nonce_caller[..size]);
        let rsp = tpm
            .execute(&StartAuthSession {
                tpm_key: ek_handle,
                bind: RH_NULL,
                nonce_caller: &nonce_caller[..size],
                encrypted_salt: encrypted.as_bytes(),
                session_type: TpmSe::HMAC,
                symmetric: TpmtSymDefObject::Null,
                auth_hash: hash,
            })
            .map_err(SessionError::Tpm)?;
        let handle = rsp.session_handle;
        let nonce_tpm_in = rsp.nonce_tpm.as_bytes();
        let mut me = SaltedSession {
            handle,
            hash,
            key: [0; MAX_DIGEST],
            nonce_tpm: [0; MAX_DIGEST],
            nonce_tpm_len: nonce_tpm_in.len(),
        };
        me.nonce_tpm[..nonce_tpm_in.len()].copy_from_slice(nonce_tpm_in);
        let bits = (size * 8) as u32;
        let r = credential::kdf::kdfa(
            hash,
            salt.as_bytes(),
            b"ATH",
            &me.nonce_tpm[..me.nonce_tpm_len],
            &nonce_caller[..size],
            bits,
            &mut me.key,
        );
        if let Err(e) = r {
            me.flush(tpm);
            return Err(SessionError::Key(format!("KDFa: {e}")));
        }
        Ok(me)
    }

    /// The session handle.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Sends `cmd` with this session as the authorization of its one authorized handle (or as
    /// an extra session when it has none), `names` being the Names of its handles in handle
    /// order (a PCR's or a hierarchy's Name is its handle, big-endian; an object's is
    /// nameAlg ‖ H(public area)). The authorized entity's authValue is the password `cmd`
    /// would have sent. The response HMAC is checked before the response is used.
    pub fn execute<'t, T: Transport, C: Command>(
        &mut self,
        tpm: &'t mut Tpm<T>,
        cmd: &C,
        names: &[&[u8]],
    ) -> Result<C::Response<'t>, TpmError<T::Error>> {
        let size = self.hash.digest_size();
        let mut nonce_caller = [0u8; MAX_DIGEST];
        OsRng.fill_bytes(&mut nonce_caller[..size]);
        let inner_sessions = cmd.sessions();
        let auth_value: &[u8] = match inner_sessions.as_slice() {
            [] => &[],
            [AuthSession::Password(p)] => p,
            _ => {
                return Err(TpmError::Protocol {
                    cc: C::CC,
                    what: "a salted session authorizes commands with at most one password \
                           session",
                })
            }
        };
        // Trailing zeros of an authValue are not part of the HMAC key (Part 1, 19.6.8).
        let end = auth_value
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        let mut key = [0u8; 2 * MAX_DIGEST];
        let key_len = size + end;
        if end > MAX_DIGEST {
            return Err(TpmError::Protocol {
                cc: C::CC,
                what: "authValue longer than a digest",
            });
        }
        key[..size].copy_from_slice(&self.key[..size]);
        key[size..key_len].copy_from_slice(&auth_value[..end]);
        let (older, older_len) = (self.nonce_tpm, self.nonce_tpm_len);
        let wrapped = WithSession {
            inner: cmd,
            auth: HmacAuth {
                handle: self.handle,
                hash: self.hash,
                key: &key[..key_len],
                names,
                nonce_caller: &nonce_caller[..size],
                nonce_tpm: &older[..older_len],
                attributes: CONTINUE_SESSION,
            },
        };
        let hash = self.hash;
        let nonce_tpm = &mut self.nonce_tpm;
        let nonce_tpm_len = &mut self.nonce_tpm_len;
        tpm.execute_checked(&wrapped, |rsp| {
            let fresh = check_response_hmac(
                rsp,
                C::CC,
                C::RESPONSE_HANDLES,
                hash,
                &key[..key_len],
                &nonce_caller[..size],
            )?;
            if let Some(n) = fresh {
                nonce_tpm[..n.len].copy_from_slice(n.as_bytes());
                *nonce_tpm_len = n.len;
            }
            Ok(())
        })
    }

    /// Closes the session in the TPM (errors ignored: the TPM may have closed it already).
    pub fn flush<T: Transport>(self, tpm: &mut Tpm<T>) {
        let _ = tpm.execute(&FlushContext {
            flush_handle: self.handle,
        });
    }
}

/// The Name of a PCR, a hierarchy or a session: its handle, big-endian.
pub fn handle_name(handle: u32) -> [u8; 4] {
    handle.to_be_bytes()
}

/// `cmd` with its password sessions replaced by one HMAC session.
struct WithSession<'a, C> {
    inner: &'a C,
    auth: HmacAuth<'a>,
}

impl<C: Command> Command for WithSession<'_, C> {
    const CC: TpmCc = C::CC;
    const RESPONSE_HANDLES: usize = C::RESPONSE_HANDLES;
    type Response<'r> = C::Response<'r>;
    fn handles(&self) -> Handles {
        self.inner.handles()
    }
    fn passwords(&self) -> Passwords<'_> {
        Passwords::new()
    }
    fn sessions(&self) -> Sessions<'_> {
        let mut s = Sessions::new();
        let _ = s.push(AuthSession::Hmac(self.auth));
        s
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.inner.parameters(w)
    }
    fn response<'r>(handles: &[u32], r: &mut Reader<'r>) -> Result<C::Response<'r>, Error> {
        C::response(handles, r)
    }
    fn check_response(&self, response: &C::Response<'_>) -> Result<(), Error> {
        self.inner.check_response(response)
    }
}
