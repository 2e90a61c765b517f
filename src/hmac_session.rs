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
//! [`SaltedSession::execute_encrypted`] also encrypts parameters (Part 1, 21.3, the session's
//! symmetric algorithm being AES-128-CFB): the command's first parameter
//! (`TPMA_SESSION.decrypt`) and the response's (`TPMA_SESSION.encrypt`), each a TPM2B whose
//! data is encrypted with key ‖ IV = `KDFa(authHash, sessionKey ‖ authValue, "CFB",
//! nonceNewer, nonceOlder, 128 + 128 bits)`. The HMACs cover the encrypted bytes; a response
//! is decrypted only once its HMAC checks.
//!
//! What this does not give: the EK public key must itself be trusted (from its certificate or
//! pinned); an interposer that could substitute the EK public key would receive the salt
//! ([`crate::proof::session`] compares it with the EK certificate).

use std::format;
use std::string::String;

use rand_core::{OsRng, RngCore as _};

use crate::commands::{
    check_first_response_hmac, AuthSession, Command, FlushContext, Handles, HmacAuth, Passwords,
    Sessions, StartAuthSession, TpmSe, CONTINUE_SESSION, MAX_COMMAND_SIZE,
};
use crate::credential::{self, CredentialError};
use crate::tpm::{Tpm, TpmError};
use crate::transport::Transport;
use crate::types::alg::handle::RH_NULL;
use crate::types::hash::MAX_DIGEST;
use crate::types::{HashAlg, TpmAlgId, TpmCc, TpmtPublic, TpmtSymDefObject};
use crate::wire::{Error, ErrorKind, Reader, Writer};

/// `TPMA_SESSION.decrypt`: the command's first parameter is encrypted.
pub const DECRYPT: u8 = 0x20;
/// `TPMA_SESSION.encrypt`: the TPM encrypts the response's first parameter.
pub const ENCRYPT: u8 = 0x40;

/// The session's symmetric algorithm for parameter encryption.
const SESSION_SYMMETRIC: TpmtSymDefObject = TpmtSymDefObject::Cipher {
    algorithm: TpmAlgId::AES,
    key_bits: 128,
    mode: TpmAlgId::CFB,
};

/// Which first parameters travel encrypted under the session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParameterEncryption {
    /// The command's first parameter, a TPM2B (`TPMA_SESSION.decrypt`).
    pub command: bool,
    /// The response's first parameter, a TPM2B (`TPMA_SESSION.encrypt`).
    pub response: bool,
}

/// AES-128 key ‖ IV for one parameter: `KDFa(hash, key, "CFB", newer, older, 256)`.
fn cfb_key(hash: HashAlg, key: &[u8], newer: &[u8], older: &[u8]) -> Result<[u8; 32], Error> {
    let mut out = [0u8; 32];
    credential::kdf::kdfa(hash, key, b"CFB", newer, older, 256, &mut out).map_err(|_| {
        Error::new(
            ErrorKind::Unsupported {
                value: u32::from(hash.alg_id().0),
            },
            "parameter encryption key (KDFa)",
            0,
        )
    })?;
    Ok(out)
}

/// AES-128-CFB over the data of the TPM2B at the start of `params` (its size field stays in
/// the clear), in place.
fn cfb_first_tpm2b(params: &mut [u8], key_iv: &[u8; 32], encrypt: bool) -> Result<(), Error> {
    use cfb_mode::cipher::{AsyncStreamCipher, KeyIvInit};
    let not_tpm2b = || {
        Error::new(
            ErrorKind::Inconsistent {
                expected: "a TPM2B first parameter within the parameters",
            },
            "encrypted parameter",
            0,
        )
    };
    let size = match params {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        _ => return Err(not_tpm2b()),
    };
    let data = params.get_mut(2..2 + size).ok_or_else(not_tpm2b)?;
    let (key, iv) = key_iv.split_at(16);
    if encrypt {
        cfb_mode::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| not_tpm2b())?
            .encrypt(data);
    } else {
        cfb_mode::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| not_tpm2b())?
            .decrypt(data);
    }
    Ok(())
}

/// Why a salted session could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SessionError<E: core::fmt::Debug + core::fmt::Display> {
    #[error("salted session: the EK cannot salt a session: {0}")]
    /// The EK cannot salt a session (not a restricted decryption key, unsupported curve...).
    Ek(#[from] CredentialError),
    #[error("salted session: {0}")]
    /// A TPM command of the session set-up failed.
    Tpm(TpmError<E>),
    #[error("salted session: {0}")]
    /// Deriving the session key failed.
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
                symmetric: SESSION_SYMMETRIC,
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

    /// Sends `cmd` with this session as the authorization of its first authorized handle (or
    /// as an extra session when it has none), `names` being the Names of its handles in handle
    /// order (a PCR's or a hierarchy's Name is its handle, big-endian; an object's is
    /// nameAlg ‖ H(public area)). The authorized entity's authValue is the password `cmd`
    /// would have sent; a second session of `cmd` (a policy session) is sent as it is. The
    /// response HMAC is checked before the response is used.
    pub fn execute<'t, T: Transport, C: Command>(
        &mut self,
        tpm: &'t mut Tpm<T>,
        cmd: &C,
        names: &[&[u8]],
    ) -> Result<C::Response<'t>, TpmError<T::Error>> {
        self.execute_encrypted(tpm, cmd, names, ParameterEncryption::default())
    }

    /// [`SaltedSession::execute`] with the first command and/or response parameter
    /// encrypted as `enc` says (each must be a TPM2B, or the TPM refuses the attribute).
    pub fn execute_encrypted<'t, T: Transport, C: Command>(
        &mut self,
        tpm: &'t mut Tpm<T>,
        cmd: &C,
        names: &[&[u8]],
        enc: ParameterEncryption,
    ) -> Result<C::Response<'t>, TpmError<T::Error>> {
        let size = self.hash.digest_size();
        let mut nonce_caller = [0u8; MAX_DIGEST];
        OsRng.fill_bytes(&mut nonce_caller[..size]);
        let inner_sessions = cmd.sessions();
        let (auth_value, rest): (&[u8], &[AuthSession<'_>]) = match inner_sessions.as_slice() {
            [] => (&[], &[]),
            [AuthSession::Password(p), rest @ ..] => (p, rest),
            _ => {
                return Err(TpmError::Protocol {
                    cc: C::CC,
                    what: "a salted session takes the place of a command's first session, \
                           which must be a password session",
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
        let mut attributes = CONTINUE_SESSION;
        let mut command_key = None;
        if enc.command {
            attributes |= DECRYPT;
            // nonceNewer = nonceCaller, nonceOlder = the TPM's last nonce.
            command_key = Some(
                cfb_key(
                    self.hash,
                    &key[..key_len],
                    &nonce_caller[..size],
                    &older[..older_len],
                )
                .map_err(|error| TpmError::Build { cc: C::CC, error })?,
            );
        }
        if enc.response {
            attributes |= ENCRYPT;
        }
        let mut sessions = Sessions::new();
        let _ = sessions.push(AuthSession::Hmac(HmacAuth {
            handle: self.handle,
            hash: self.hash,
            key: &key[..key_len],
            names,
            nonce_caller: &nonce_caller[..size],
            nonce_tpm: &older[..older_len],
            attributes,
        }));
        for s in rest {
            sessions.push(*s).map_err(|_| TpmError::Protocol {
                cc: C::CC,
                what: "more sessions than a command carries",
            })?;
        }
        let count = sessions.len();
        let wrapped = WithSession {
            inner: cmd,
            sessions,
            command_key,
        };
        let hash = self.hash;
        let nonce_tpm = &mut self.nonce_tpm;
        let nonce_tpm_len = &mut self.nonce_tpm_len;
        tpm.execute_transformed(&wrapped, |rsp| {
            let fresh = check_first_response_hmac(
                rsp,
                C::CC,
                C::RESPONSE_HANDLES,
                count,
                hash,
                &key[..key_len],
                &nonce_caller[..size],
            )?;
            let Some(n) = fresh else { return Ok(()) };
            nonce_tpm[..n.len].copy_from_slice(n.as_bytes());
            *nonce_tpm_len = n.len;
            if enc.response {
                // nonceNewer = the TPM's new nonce, nonceOlder = nonceCaller. The HMAC was
                // checked over the encrypted bytes: decrypt only now.
                let k = cfb_key(hash, &key[..key_len], n.as_bytes(), &nonce_caller[..size])?;
                let at = 10 + 4 * C::RESPONSE_HANDLES;
                let size_field = rsp.get(at..at + 4).ok_or(Error::new(
                    ErrorKind::Inconsistent {
                        expected: "a parameterSize",
                    },
                    "parameterSize",
                    at,
                ))?;
                let params = u32::from_be_bytes([
                    size_field[0],
                    size_field[1],
                    size_field[2],
                    size_field[3],
                ]) as usize;
                let end = (at + 4).saturating_add(params).min(rsp.len());
                let first = rsp.get_mut(at + 4..end).unwrap_or(&mut []);
                cfb_first_tpm2b(first, &k, false)?;
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

/// `cmd` with its first (password) session replaced by the HMAC session, and its first
/// parameter encrypted under `command_key` (AES-128 key ‖ IV) when set.
struct WithSession<'a, C> {
    inner: &'a C,
    sessions: Sessions<'a>,
    command_key: Option<[u8; 32]>,
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
        self.sessions.clone()
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        let Some(key) = &self.command_key else {
            return self.inner.parameters(w);
        };
        let mut buf = std::vec![0u8; MAX_COMMAND_SIZE];
        let mut inner = Writer::new(&mut buf);
        self.inner.parameters(&mut inner)?;
        let n = inner.len();
        let params = buf.get_mut(..n).unwrap_or(&mut []);
        cfb_first_tpm2b(params, key, true)?;
        w.bytes(params)
    }
    fn response<'r>(handles: &[u32], r: &mut Reader<'r>) -> Result<C::Response<'r>, Error> {
        C::response(handles, r)
    }
    fn check_response(&self, response: &C::Response<'_>) -> Result<(), Error> {
        self.inner.check_response(response)
    }
}

impl SaltedSession {
    /// TPM2_ActivateCredential with this session in the AK's place (its authValue is
    /// `keys.ak_auth`) and `certInfo`, the released credential, returned encrypted
    /// (`TPMA_SESSION.encrypt`): it never crosses the bus in the clear, and it is decrypted
    /// only once the response HMAC checks. The EK is authorized as `keys.ek_auth` says (a
    /// policy session is flushed on every path). `ak_name` and `ek_name` are the keys' Names.
    /// Writes the credential into `out` and returns its length.
    #[allow(clippy::too_many_arguments)]
    pub fn activate_credential<T: Transport>(
        &mut self,
        tpm: &mut Tpm<T>,
        keys: &crate::activation::ActivationKeys<'_>,
        ak_name: &[u8],
        ek_name: &[u8],
        credential_blob: crate::types::Tpm2bIdObject<'_>,
        secret: crate::types::Tpm2bEncryptedSecret<'_>,
        out: &mut [u8],
    ) -> Result<usize, TpmError<T::Error>> {
        use crate::commands::ActivateCredential;
        let (key_auth, policy) = tpm.ek_authorization(keys.ek_auth)?;
        let cmd = ActivateCredential {
            activate_handle: keys.ak,
            activate_auth: AuthSession::Password(keys.ak_auth),
            key_handle: keys.ek,
            key_auth,
            credential_blob,
            secret,
        };
        let enc = ParameterEncryption {
            command: false,
            response: true,
        };
        let result = self
            .execute_encrypted(tpm, &cmd, &[ak_name, ek_name], enc)
            .and_then(|cert_info| crate::activation::copy_cert_info(cert_info.as_bytes(), out));
        if let (Err(_), Some(s)) = (&result, policy) {
            tpm.flush_quietly(s);
        }
        result
    }
}
