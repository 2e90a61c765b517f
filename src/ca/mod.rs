//! An attestation CA (issue 11): certifies a TPM's AK after proving, by credential
//! activation, that the AK lives in the same TPM as an EK whose certificate chains to a
//! manufacturer root the CA trusts.
//!
//! The exchange (see docs/attestation-ca.md):
//! 1. the machine sends an [`EnrollRequest`]: EK certificates from NV, EK and AK public areas;
//! 2. [`challenge`] validates the EK certificate chain, checks that the EK public area is the
//!    certificate's key and was made from a TCG EK template, checks the AK ([`check_ak`]:
//!    restricted, sign, not decrypt, fixedTPM, fixedParent, sensitiveDataOrigin), computes
//!    the AK's Name itself and makes a credential for a fresh 32-byte secret bound to that
//!    Name and encrypted to the EK;
//! 3. the TPM opens it (TPM2_ActivateCredential) and the machine returns the secret in a
//!    [`ChallengeResponse`];
//! 4. [`issue`] compares it (constant time), consumes the challenge and signs an X.509 AK
//!    certificate.
//!
//! State lives in a directory ([`CaDir`]):
//! - `ca.key`: the CA's PKCS#8 private key, created with O_EXCL and mode 0600;
//! - `ca.crt`: the self-signed CA certificate (PEM), what verifiers trust (`--ak-ca`);
//! - `pending/ID.json`: one file per open challenge. It holds the SHA-256 of the secret, not
//!   the secret: someone who reads the state directory still cannot answer a challenge
//!   (the secret is 32 random bytes, so its hash cannot be searched);
//! - `done/ID.json`: challenges used or expired (a replayed response is refused by name);
//! - `lock`: every state change holds an exclusive `flock` on it; files are written to a
//!   temporary name, synced, renamed, and the directory synced.
//!
//! A response is checked before the challenge is consumed: a wrong secret is refused and the
//! challenge stays open (only the TPM can produce the right one, so an attacker without it
//! cannot burn someone else's enrollment). A right secret moves the challenge to `done/`
//! under the lock before the certificate is signed: of two concurrent issuers exactly one
//! finds it pending.
//!
//! The AK certificate: subject `O=baretpm, CN=baretpm AK, serialNumber=ek-cert-sha256:HEX`
//! (the SHA-256 of the EK certificate's DER; `ek-name:HEX`, the EK's Name, when the CA was
//! told to accept an EK without certificate), the AK's public key, extendedKeyUsage
//! tcg-kp-AIKCertificate (2.23.133.8.3), keyUsage digitalSignature, basicConstraints cA
//! false, subject and authority key identifiers, and a non-critical subjectAltName
//! directoryName with the TPM manufacturer, model and version attributes (2.23.133.2.1-3)
//! copied from the EK certificate when it has them.

mod msg;
mod x509;

pub use msg::{
    Challenge, ChallengeResponse, EnrollRequest, NvCertificate, UnsignedTpmIdentity,
    CHALLENGE_ID_LEN, MAX_EK_CERTS, MAX_MESSAGE, MAX_PUBLIC, MESSAGE_VERSION, SECRET_LEN,
};
pub use x509::CaAlg;

use crate::cert::{validate, CertError, Certificate, Policy, Role, SubjectKey};
use crate::commands::templates::EkType;
use crate::credential::{check_ak, make_credential_for_name};
use crate::interop::{CredentialFile, MAX_CREDENTIAL_FILE};
use crate::types::{Tpm2bPublic, TpmtPublic};
use crate::wire::Unmarshal as _;
use msg::{challenge_id, hex_field};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

/// Default lifetime of a challenge: 10 minutes.
pub const DEFAULT_CHALLENGE_LIFETIME: u64 = 600;
/// Default lifetime of an AK certificate: one year.
pub const DEFAULT_CERT_LIFETIME: u64 = 365 * 24 * 3600;
/// Lifetime of the CA certificate: 10 years.
pub const CA_CERT_LIFETIME: u64 = 10 * 365 * 24 * 3600;
/// Largest state file (pending challenge, CA key, CA certificate).
const MAX_STATE_FILE: u64 = 64 * 1024;

/// Why the CA refused or failed. Messages name the failed check and never contain the CA's
/// private key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A message is not valid JSON of the expected shape, version and sizes.
    #[error("{0}")]
    Malformed(String),
    /// A check refused the request or response.
    #[error("refused: {0}")]
    Refused(String),
    /// The state directory could not be read or written.
    #[error("{0}")]
    Io(String),
    /// Encoding or signing failed (not caused by the request).
    #[error("{0}")]
    Internal(String),
}

impl CaError {
    /// Whether a check refused the input (as opposed to malformed input or an I/O failure).
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

fn refused(msg: impl Into<String>) -> CaError {
    CaError::Refused(msg.into())
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> CaError {
    let shown = format!(
        "{what} {}",
        crate::text::escape(&path.display().to_string())
    );
    move |e| CaError::Io(format!("{shown}: {e}"))
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A CA state directory.
#[derive(Debug, Clone)]
pub struct CaDir {
    dir: PathBuf,
}

/// The exclusive lock on a CA directory, released on drop.
struct Lock(#[allow(dead_code)] File);

/// A pending challenge as stored (mode 0600) in `pending/ID.json`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    version: u32,
    challenge_id: String,
    /// SHA-256 of the secret, hex.
    secret_sha256: String,
    /// The AK's TPM2B_PUBLIC, hex (the key to certify).
    ak_public: String,
    /// `ek-cert-sha256:HEX` or `ek-name:HEX`.
    ek_binding: String,
    /// DER of the TPM attributes Name (from the EK certificate), hex, or empty.
    tpm_attributes: String,
    expires: u64,
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CaError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io("create", path))?;
    f.write_all(bytes).map_err(io("write", path))?;
    f.sync_all().map_err(io("sync", path))
}

fn sync_dir(path: &Path) -> Result<(), CaError> {
    File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(io("sync directory", path))
}

impl CaDir {
    /// Makes a new CA in `dir` (created if missing, mode 0700): key and self-signed
    /// certificate. Refuses a directory that already has a `ca.key`.
    pub fn init(dir: &Path, alg: CaAlg) -> Result<CaDir, CaError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io("create", dir))?;
        let me = CaDir {
            dir: dir.to_path_buf(),
        };
        for d in ["pending", "done"] {
            let p = dir.join(d);
            match fs::DirBuilder::new().mode(0o700).create(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io("create", &p)(e)),
            }
        }
        let _lock = me.lock()?;
        let key_path = dir.join("ca.key");
        if key_path.exists() {
            return Err(CaError::Io(format!(
                "{}: a CA key already exists; refusing to replace it",
                crate::text::escape(&key_path.display().to_string())
            )));
        }
        let (key, pem) = x509::CaKey::generate(alg)?;
        let t = now();
        let der = key.self_signed(t.saturating_sub(60), t.saturating_add(CA_CERT_LIFETIME))?;
        write_new(&key_path, pem.as_bytes(), 0o600)?;
        let crt = dir.join("ca.crt");
        crate::files::write_atomic_mode(&crt, x509::cert_pem(&der)?.as_bytes(), 0o644)
            .map_err(io("write", &crt))?;
        Ok(me)
    }

    /// Opens an existing CA directory (`ca.key` and `ca.crt` must exist).
    pub fn open(dir: &Path) -> Result<CaDir, CaError> {
        for f in ["ca.key", "ca.crt", "pending", "done"] {
            let p = dir.join(f);
            if !p.exists() {
                return Err(CaError::Io(format!(
                    "{}: not a CA directory (no {f}; run `baretpm ca init`)",
                    crate::text::escape(&dir.display().to_string())
                )));
            }
        }
        Ok(CaDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The CA directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate (what verifiers pass as `--ak-ca`).
    pub fn certificate(&self) -> Result<Certificate, CaError> {
        let p = self.dir.join("ca.crt");
        let bytes = crate::files::read_bounded(&p, MAX_STATE_FILE, "CA certificate")
            .map_err(|e| CaError::Io(e.to_string()))?;
        let mut v = crate::cert::certificates_from_bytes(&bytes, 1)
            .map_err(|e| CaError::Io(format!("ca.crt: {e}")))?;
        v.pop()
            .ok_or_else(|| CaError::Io(String::from("ca.crt: no certificate")))
    }

    fn key(&self) -> Result<x509::CaKey, CaError> {
        let p = self.dir.join("ca.key");
        let bytes = crate::files::read_bounded(&p, MAX_STATE_FILE, "CA key")
            .map_err(|e| CaError::Io(e.to_string()))?;
        let text = core::str::from_utf8(&bytes)
            .map_err(|_| CaError::Io(String::from("ca.key: not PEM text")))?;
        x509::CaKey::from_pem(text)
    }

    fn lock(&self) -> Result<Lock, CaError> {
        let p = self.dir.join("lock");
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&p)
            .map_err(io("open", &p))?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| io("lock", &p)(e.into()))?;
        Ok(Lock(f))
    }

    fn pending_path(&self, id: &str) -> PathBuf {
        self.dir.join("pending").join(format!("{id}.json"))
    }

    fn done_path(&self, id: &str) -> PathBuf {
        self.dir.join("done").join(format!("{id}.json"))
    }

    /// Ids of the challenges still pending (for tests and listings).
    pub fn pending_ids(&self) -> Result<Vec<String>, CaError> {
        let p = self.dir.join("pending");
        let mut out = Vec::new();
        for e in fs::read_dir(&p).map_err(io("read", &p))? {
            let e = e.map_err(io("read", &p))?;
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(id) = name.strip_suffix(".json") {
                out.push(id.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    fn store_pending(&self, p: &Pending) -> Result<(), CaError> {
        let _lock = self.lock()?;
        let path = self.pending_path(&p.challenge_id);
        let json = serde_json::to_vec(p).map_err(|e| CaError::Internal(e.to_string()))?;
        crate::files::write_atomic_mode(&path, &json, 0o600).map_err(io("write", &path))
    }

    /// Moves a pending challenge to `done/` (the caller holds the lock).
    fn retire(&self, id: &str) -> Result<(), CaError> {
        let from = self.pending_path(id);
        let to = self.done_path(id);
        fs::rename(&from, &to).map_err(io("rename", &from))?;
        sync_dir(&self.dir.join("pending"))?;
        sync_dir(&self.dir.join("done"))
    }
}

/// What [`challenge`] trusts and allows.
#[derive(Clone, Debug)]
pub struct ChallengePolicy {
    /// Roots an EK certificate must chain to (the TPM manufacturers' CAs).
    pub ek_roots: Vec<Certificate>,
    /// Intermediates offered for chain building.
    pub ek_chain: Vec<Certificate>,
    /// Accept a request without an EK certificate (the EK is then trusted as given: only for
    /// TPMs the operator vouches for).
    pub allow_no_ek_cert: bool,
    /// Seconds a challenge stays valid.
    pub lifetime: u64,
    /// Unix seconds "now" (certificate validity and expiry).
    pub at: u64,
    /// Accept SHA-1 signatures in the EK chain.
    pub allow_sha1: bool,
}

impl ChallengePolicy {
    /// A policy with these EK roots and intermediates: an EK certificate required, SHA-1
    /// refused, the default challenge lifetime, and the current time.
    pub fn new(ek_roots: Vec<Certificate>, ek_chain: Vec<Certificate>) -> Self {
        ChallengePolicy {
            ek_roots,
            ek_chain,
            allow_no_ek_cert: false,
            lifetime: DEFAULT_CHALLENGE_LIFETIME,
            at: now(),
            allow_sha1: false,
        }
    }
}

/// Checks that an EK public area was made from one of the TCG EK templates (low range L-1,
/// L-2; high range H-1 to H-7 that this crate knows): every field but `unique` equal.
fn check_ek_template(ek: &TpmtPublic<'_>) -> Result<(), CaError> {
    let kinds = [
        EkType::Rsa2048,
        EkType::EccP256,
        EkType::EccP384,
        EkType::Rsa3072,
        EkType::Rsa4096,
    ];
    let mut first = None;
    for k in kinds {
        for high in [false, true] {
            match ek.check_made_from(&k.template(high)) {
                Ok(()) => return Ok(()),
                Err(field) => {
                    first.get_or_insert(field);
                }
            }
        }
    }
    Err(refused(format!(
        "EK public area is not from a TCG EK template (first difference with L-1: {})",
        first.unwrap_or("?")
    )))
}

/// The EK binding text for a certificate: `ek-cert-sha256:HEX`.
fn ek_cert_binding(der: &[u8]) -> String {
    format!("ek-cert-sha256:{}", hex::encode(Sha256::digest(der)))
}

/// A request that passed every check of [`check_request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRequest {
    /// The EK's TPM2B_PUBLIC.
    pub ek_public: Vec<u8>,
    /// The AK's TPM2B_PUBLIC.
    pub ak_public: Vec<u8>,
    /// The AK's Name, computed here from `ak_public`.
    pub ak_name: Vec<u8>,
    /// What the AK certificate will name as its EK: `ek-cert-sha256:HEX` or `ek-name:HEX`.
    pub ek_binding: String,
    /// DER of the TPM attributes (manufacturer, model, version) of the EK certificate.
    pub tpm_attributes: Option<Vec<u8>>,
}

/// The checks of step 2, with no state: the EK public area (TCG template, usable for
/// MakeCredential), an EK certificate that chains to a trusted root and certifies that EK
/// (unless `allow_no_ek_cert` and there is none), and the AK ([`check_ak`]).
pub fn check_request(
    req: &EnrollRequest,
    policy: &ChallengePolicy,
) -> Result<CheckedRequest, CaError> {
    // The EK public area.
    let ek_bytes = hex_field("ek_public", &req.ek_public, MAX_PUBLIC)?;
    let ek2b = Tpm2bPublic::from_bytes(&ek_bytes)
        .map_err(|e| CaError::Malformed(format!("ek_public: not a TPM2B_PUBLIC: {e}")))?;
    let ek = ek2b.public_area();
    check_ek_template(&ek)?;
    let ek_key =
        SubjectKey::from_tpmt_public(&ek).map_err(|e| refused(format!("EK public key: {e}")))?;

    // The EK certificate: one must chain to a trusted root and certify this EK.
    let mut tpm_attributes = None;
    let ek_binding = if req.ek_certificates.is_empty() {
        if !policy.allow_no_ek_cert {
            return Err(refused(
                "the request has no EK certificate (allow_no_ek_cert not given)",
            ));
        }
        let name = ek2b
            .name()
            .map_err(|_| refused("EK nameAlg: no Name can be computed"))?;
        format!("ek-name:{}", hex::encode(name.as_bytes()))
    } else {
        let chain_policy = Policy {
            at: policy.at,
            allow_sha1: policy.allow_sha1,
            role: Role::Ek,
        };
        let mut errors: Vec<String> = vec![];
        let mut found = None;
        for (i, c) in req.ek_certificates.iter().enumerate() {
            let der = hex_field(
                &format!("ek_certificates[{i}].der"),
                &c.der,
                crate::cert::MAX_CERT_LEN,
            )?;
            let cert = match Certificate::from_nv_bytes(&der) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(format!("NV {:#010x}: {e}", c.nv_index));
                    continue;
                }
            };
            if let Err(e) = validate(&cert, &policy.ek_chain, &policy.ek_roots, &chain_policy) {
                errors.push(format!(
                    "NV {:#010x}: EK certificate chain: {e}",
                    c.nv_index
                ));
                continue;
            }
            match cert.subject_key() {
                Ok(k) if k == ek_key => {
                    found = Some(cert);
                    break;
                }
                Ok(_) => errors.push(format!(
                    "NV {:#010x}: {}: the request's EK public is not the certificate's key",
                    c.nv_index,
                    CertError::KeyMismatch
                )),
                Err(e) => errors.push(format!("NV {:#010x}: {e}", c.nv_index)),
            }
        }
        let Some(cert) = found else {
            return Err(refused(format!(
                "no EK certificate is both trusted and for the request's EK: {}",
                errors.join("; ")
            )));
        };
        tpm_attributes = x509::tpm_attributes(&cert);
        ek_cert_binding(cert.der())
    };

    // The AK: attributes checked, Name computed here.
    let ak_bytes = hex_field("ak_public", &req.ak_public, MAX_PUBLIC)?;
    let ak = Tpm2bPublic::from_bytes(&ak_bytes)
        .map_err(|e| CaError::Malformed(format!("ak_public: not a TPM2B_PUBLIC: {e}")))?;
    let ak_name = check_ak(&ak).map_err(|e| refused(e.to_string()))?;
    // The key must be one a certificate can carry.
    x509::spki_of(
        &SubjectKey::from_tpmt_public(&ak.public_area())
            .map_err(|e| refused(format!("AK public key: {e}")))?,
    )?;

    crate::credential::ek_params(&ek).map_err(|e| refused(e.to_string()))?;
    let tpm_attributes = match &tpm_attributes {
        Some(n) => {
            use x509_cert::der::Encode;
            Some(
                n.to_der()
                    .map_err(|e| CaError::Internal(format!("TPM attributes: {e}")))?,
            )
        }
        None => None,
    };
    Ok(CheckedRequest {
        ek_public: ek_bytes.clone(),
        ak_public: ak_bytes.clone(),
        ak_name: ak_name.as_bytes().to_vec(),
        ek_binding,
        tpm_attributes,
    })
}

/// Step 2: validates a request ([`check_request`]) and makes its challenge: a credential for
/// a fresh 32-byte secret from the OS generator, bound to the AK's Name and encrypted to the
/// EK, recorded as pending in `ca`.
pub fn challenge(
    ca: &CaDir,
    req: &EnrollRequest,
    policy: &ChallengePolicy,
) -> Result<Challenge, CaError> {
    let checked = check_request(req, policy)?;
    let ek = Tpm2bPublic::from_bytes(&checked.ek_public)
        .map_err(|e| CaError::Internal(format!("ek_public: {e}")))?
        .public_area();
    let mut secret = [0u8; SECRET_LEN];
    let mut id = [0u8; CHALLENGE_ID_LEN];
    {
        use rand_core::RngCore;
        rand_core::OsRng.fill_bytes(&mut secret);
        rand_core::OsRng.fill_bytes(&mut id);
    }
    let made = make_credential_for_name(&mut rand_core::OsRng, &ek, &checked.ak_name, &secret)
        .map_err(|e| refused(format!("makecredential: {e}")))?;
    let mut file = [0u8; MAX_CREDENTIAL_FILE];
    let n = CredentialFile {
        id_object: made.id_object(),
        encrypted_secret: made.encrypted_secret(),
    }
    .write(&mut file)
    .map_err(|e| CaError::Internal(format!("credential file: {e}")))?;
    let id = hex::encode(id);
    let expires = policy.at.saturating_add(policy.lifetime);
    let tpm_attributes = checked
        .tpm_attributes
        .as_ref()
        .map(hex::encode)
        .unwrap_or_default();
    ca.store_pending(&Pending {
        version: MESSAGE_VERSION,
        challenge_id: id.clone(),
        secret_sha256: hex::encode(Sha256::digest(secret)),
        ak_public: hex::encode(&checked.ak_public),
        ek_binding: checked.ek_binding,
        tpm_attributes,
        expires,
    })?;
    Ok(Challenge {
        version: MESSAGE_VERSION,
        challenge_id: id,
        credential: hex::encode(file.get(..n).unwrap_or_default()),
        ak_name: hex::encode(&checked.ak_name),
        expires,
    })
}

/// An issued AK certificate.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The same certificate, PEM.
    pub pem: String,
}

/// Step 4: checks a response and, if the secret is right and the challenge pending and not
/// expired, consumes the challenge and returns the AK certificate. `at` is "now" (Unix
/// seconds), `cert_lifetime` the certificate's validity in seconds.
pub fn issue(
    ca: &CaDir,
    resp: &ChallengeResponse,
    at: u64,
    cert_lifetime: u64,
) -> Result<Issued, CaError> {
    use subtle::ConstantTimeEq;
    let id = challenge_id(&resp.challenge_id)?;
    let secret = hex_field("secret", &resp.secret, crate::credential::MAX_CREDENTIAL)?;
    let (not_before, not_after) = (at.saturating_sub(60), at.saturating_add(cert_lifetime));
    // A validity the certificate cannot hold is refused before the challenge is consumed.
    x509::validity(not_before, not_after)?;
    let key = ca.key()?;
    let ca_cert = ca.certificate()?;
    let lock = ca.lock()?;
    let path = ca.pending_path(&id);
    let bytes = match crate::files::read_bounded(&path, MAX_STATE_FILE, "pending challenge") {
        Ok(b) => b,
        Err(_) if ca.done_path(&id).exists() => {
            return Err(refused(format!(
                "challenge {id} was already used or has expired (replayed response)"
            )))
        }
        Err(_) => return Err(refused(format!("unknown challenge id {id}"))),
    };
    let p: Pending = serde_json::from_slice(&bytes)
        .map_err(|e| CaError::Io(format!("pending challenge {id}: {e}")))?;
    if at > p.expires {
        ca.retire(&id)?;
        return Err(refused(format!(
            "challenge {id} expired at {} (now {})",
            crate::cert::time_text(p.expires),
            crate::cert::time_text(at)
        )));
    }
    let want = hex_field("pending secret_sha256", &p.secret_sha256, 32)?;
    let got = Sha256::digest(&secret);
    if secret.len() != SECRET_LEN || !bool::from(got[..].ct_eq(&want[..])) {
        return Err(refused(format!(
            "challenge {id}: the secret is not the one the credential protected (the \
             challenge stays pending)"
        )));
    }
    // Consumed before signing: a second issuer waiting on the lock finds it in done/.
    ca.retire(&id)?;
    drop(lock);

    let ak_bytes = hex_field("pending ak_public", &p.ak_public, MAX_PUBLIC)?;
    let ak = Tpm2bPublic::from_bytes(&ak_bytes)
        .map_err(|e| CaError::Io(format!("pending ak_public: {e}")))?;
    let ak_key = SubjectKey::from_tpmt_public(&ak.public_area())
        .map_err(|e| CaError::Io(format!("pending ak_public: {e}")))?;
    let tpm_attributes = if p.tpm_attributes.is_empty() {
        None
    } else {
        use x509_cert::der::Decode;
        let der = hex_field("pending tpm_attributes", &p.tpm_attributes, 4096)?;
        Some(
            x509_cert::name::Name::from_der(&der)
                .map_err(|e| CaError::Io(format!("pending tpm_attributes: {e}")))?,
        )
    };
    let der = key.issue_ak(
        ca_cert.subject(),
        &ak_key,
        &x509::AkCertContents {
            ek_binding: p.ek_binding,
            tpm_attributes,
        },
        not_before,
        not_after,
    )?;
    let pem = x509::cert_pem(&der)?;
    Ok(Issued { der, pem })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_makes_a_ca_certificate_and_a_private_key_file() {
        for alg in [CaAlg::EccP256, CaAlg::Rsa2048] {
            let t = tempfile::tempdir().unwrap();
            let dir = t.path().join("ca");
            let ca = CaDir::init(&dir, alg).unwrap();
            let c = ca.certificate().unwrap();
            assert!(c.is_ca() && c.is_self_issued());
            // The self-signature verifies with the crate's own chain code.
            let policy = Policy {
                at: now(),
                allow_sha1: false,
                role: Role::Any,
            };
            validate(&c, &[], core::slice::from_ref(&c), &policy).unwrap();
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join("ca.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            // A second init refuses to replace the key.
            assert!(CaDir::init(&dir, alg).is_err());
            assert!(ca.key().is_ok());
        }
    }

    #[test]
    fn messages_are_strict() {
        let ok =
            br#"{"version":1,"challenge_id":"00112233445566778899aabbccddeeff","secret":"00"}"#;
        ChallengeResponse::from_json(ok).unwrap();
        let unknown = br#"{"version":1,"challenge_id":"00112233445566778899aabbccddeeff","secret":"00","x":1}"#;
        assert!(ChallengeResponse::from_json(unknown).is_err());
        let v2 =
            br#"{"version":2,"challenge_id":"00112233445566778899aabbccddeeff","secret":"00"}"#;
        assert!(ChallengeResponse::from_json(v2).is_err());
        let path =
            br#"{"version":1,"challenge_id":"../../../../etc/passwd00000000","secret":"00"}"#;
        assert!(ChallengeResponse::from_json(path).is_err());
        let long = std::format!(
            r#"{{"version":1,"challenge_id":"00112233445566778899aabbccddeeff","secret":"{}"}}"#,
            "00".repeat(65)
        );
        assert!(ChallengeResponse::from_json(long.as_bytes()).is_err());
        let big = std::vec![b' '; MAX_MESSAGE + 1];
        assert!(EnrollRequest::from_json(&big).is_err());
    }

    /// A pending challenge with a known secret, as `challenge` would store it (the TPM part
    /// is covered by tests/enroll.rs).
    fn pending(ca: &CaDir, id: &str, secret: &[u8], expires: u64) {
        let ak = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/vectors/credential/swtpm/ek-ecc.ak-rsa.ak.tpm2b_public.bin"
        ));
        ca.store_pending(&Pending {
            version: MESSAGE_VERSION,
            challenge_id: id.into(),
            secret_sha256: hex::encode(Sha256::digest(secret)),
            ak_public: hex::encode(ak),
            ek_binding: "ek-name:000b00".into(),
            tpm_attributes: String::new(),
            expires,
        })
        .unwrap();
        // Only the CA's owner may read a pending challenge.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(ca.pending_path(id))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "pending/{id}.json mode {mode:o}");
    }

    fn response(id: &str, secret: &[u8]) -> ChallengeResponse {
        ChallengeResponse {
            version: MESSAGE_VERSION,
            challenge_id: id.into(),
            secret: hex::encode(secret),
        }
    }

    #[test]
    fn of_many_concurrent_issuers_exactly_one_gets_a_certificate() {
        let t = tempfile::tempdir().unwrap();
        let ca = CaDir::init(&t.path().join("ca"), CaAlg::EccP256).unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        pending(&ca, id, &[7; 32], now() + 600);
        let results: Vec<Result<Issued, CaError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| issue(&ca, &response(id, &[7; 32]), now(), 3600)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wins: Vec<&Issued> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(wins.len(), 1);
        for r in &results {
            if let Err(e) = r {
                assert!(
                    e.is_refusal() && e.to_string().contains("already used"),
                    "{e}"
                );
            }
        }
        // The certificate: an AK certificate under the CA, for the pending AK's key.
        let cert = Certificate::from_der(&wins[0].der).unwrap();
        let root = ca.certificate().unwrap();
        let policy = Policy {
            at: now(),
            allow_sha1: false,
            role: Role::Ak,
        };
        validate(&cert, &[], core::slice::from_ref(&root), &policy).unwrap();
        let ak = Tpm2bPublic::from_bytes(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/vectors/credential/swtpm/ek-ecc.ak-rsa.ak.tpm2b_public.bin"
        )))
        .unwrap();
        assert_eq!(
            cert.subject_key().unwrap(),
            SubjectKey::from_tpmt_public(&ak.public_area()).unwrap()
        );
        assert!(ca.pending_ids().unwrap().is_empty());
    }

    #[test]
    fn wrong_secrets_leave_the_challenge_pending_and_expiry_consumes_it() {
        let t = tempfile::tempdir().unwrap();
        let ca = CaDir::init(&t.path().join("ca"), CaAlg::Rsa2048).unwrap();
        let id = "00000000000000000000000000000001";
        pending(&ca, id, &[1; 32], now() + 600);
        for wrong in [&[2u8; 32][..], &[1; 31], &[1; 33], &[]] {
            let e = issue(&ca, &response(id, wrong), now(), 3600).unwrap_err();
            assert!(e.to_string().contains("the secret is not the one"), "{e}");
        }
        assert_eq!(ca.pending_ids().unwrap(), [id]);
        // After its expiry even the right secret is refused, and then as used.
        let e = issue(&ca, &response(id, &[1; 32]), now() + 601, 3600).unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
        let e = issue(&ca, &response(id, &[1; 32]), now(), 3600).unwrap_err();
        assert!(e.to_string().contains("already used"), "{e}");
        let e = issue(
            &ca,
            &response("ffffffffffffffffffffffffffffffff", &[1; 32]),
            now(),
            1,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown challenge id"), "{e}");
    }
}
