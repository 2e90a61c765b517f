//! `makecredential` (no TPM) and `activatecredential`: credential activation with the files
//! tpm2_makecredential and tpm2_activatecredential use.

use crate::tpmcmds::{create_ak, flush, AkAlg};
use crate::util::{failed, open_tpm, parse_hex, read_small, refused, CliError};
use baretpm::activation::{is_integrity_failure, ActivationKeys, EkAuth};
use baretpm::commands::templates::EkType;
use baretpm::commands::ReadPublic;
use baretpm::credential::{
    self, check_ak, check_name, make_credential_for_name, CredentialError, MAX_CREDENTIAL,
};
use baretpm::interop::{CredentialFile, MAX_CREDENTIAL_FILE};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::AnyTransport;
use baretpm::types::{Tpm2bPublic, TpmtPublic};
use baretpm::wire::Unmarshal;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct MakeCredentialArgs {
    /// The EK public key: TPM2B_PUBLIC (tpm2_createek -u, tpm2_readpublic -o) or a
    /// SubjectPublicKeyInfo in PEM or DER (then the EK template's parameters are assumed:
    /// SHA-256/AES-128 for RSA-2048 and P-256, SHA-384/AES-256 for RSA-3072 and P-384).
    #[arg(short = 'u', long = "public")]
    public: PathBuf,
    /// File holding the secret to protect (1 to 64 bytes; 32 recommended).
    #[arg(short = 's', long = "secret")]
    secret: PathBuf,
    /// The AK's Name in hex (as tpm2_makecredential -n). With --ak-public it must match.
    #[arg(short = 'n', long = "name")]
    name: Option<String>,
    /// The AK's TPM2B_PUBLIC: its attributes are checked (restricted, sign, not decrypt,
    /// fixedTPM, fixedParent, sensitiveDataOrigin) and its Name computed from it.
    #[arg(long = "ak-public")]
    ak_public: Option<PathBuf>,
    /// Where to write the credential file (tpm2-tools format).
    #[arg(short = 'o', long = "credential-blob")]
    output: PathBuf,
}

fn credential_error(e: CredentialError) -> CliError {
    match e {
        CredentialError::Hash(_) | CredentialError::Kdf(_) | CredentialError::RsaEncrypt => {
            failed(format!("makecredential: {e}"))
        }
        CredentialError::CredentialSize(_) | CredentialError::NameInvalid => {
            failed(format!("makecredential: {e}"))
        }
        _ => refused(format!("makecredential: {e}")),
    }
}

/// Reads an EK public area from TPM2B_PUBLIC, PEM or DER; returns TPMT_PUBLIC bytes.
fn read_ek_public(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = read_small(path, "EK public key")?;
    if let Ok(p) = Tpm2bPublic::from_bytes(&bytes) {
        return Ok(p.raw().to_vec());
    }
    credential::ek_public_from_spki(&bytes).map_err(|e| {
        failed(format!(
            "{}: neither a TPM2B_PUBLIC nor a usable SubjectPublicKeyInfo ({e})",
            path.display()
        ))
    })
}

pub fn makecredential(a: &MakeCredentialArgs) -> Result<(), CliError> {
    let ek_bytes = read_ek_public(&a.public)?;
    let ek = TpmtPublic::from_bytes(&ek_bytes).map_err(|e| failed(format!("EK public: {e}")))?;
    let secret = read_small(&a.secret, "secret")?;
    if secret.is_empty() || secret.len() > MAX_CREDENTIAL {
        return Err(failed(format!(
            "{}: secret of {} bytes, must be 1 to {MAX_CREDENTIAL}",
            a.secret.display(),
            secret.len()
        )));
    }
    let given = a.name.as_deref().map(|n| parse_hex(n, "-n")).transpose()?;
    let name = match (&a.ak_public, given) {
        (Some(p), given) => {
            let bytes = read_small(p, "AK public key")?;
            let ak = Tpm2bPublic::from_bytes(&bytes)
                .map_err(|e| failed(format!("{}: not a TPM2B_PUBLIC: {e}", p.display())))?;
            let name = check_ak(&ak).map_err(credential_error)?.as_bytes().to_vec();
            if let Some(g) = given {
                if g != name {
                    return Err(refused(format!(
                        "makecredential: -n {} is not the Name of the AK in {} ({})",
                        hex::encode(&g),
                        p.display(),
                        hex::encode(&name)
                    )));
                }
            }
            name
        }
        (None, Some(g)) => {
            check_name(&g).map_err(credential_error)?;
            g
        }
        (None, None) => return Err(failed("makecredential: give -n NAME or --ak-public FILE")),
    };
    let made = make_credential_for_name(&mut rand_core::OsRng, &ek, &name, &secret)
        .map_err(credential_error)?;
    let mut out = [0u8; MAX_CREDENTIAL_FILE];
    let n = CredentialFile {
        id_object: made.id_object(),
        encrypted_secret: made.encrypted_secret(),
    }
    .write(&mut out)
    .map_err(|e| failed(format!("credential file: {e}")))?;
    std::fs::write(&a.output, &out[..n])
        .map_err(|e| failed(format!("output {}: {e}", a.output.display())))
}

#[derive(clap::Args)]
pub struct ActivateCredentialArgs {
    /// The EK: rsa, ecc or ecc384 (created from the TCG template L-1, L-2 or H-3, or the
    /// template and EK nonce the platform stored in NV) or a handle
    /// such as 0x81010001 (a persistent EK). userWithAuth EKs (H-3) get a password session.
    #[arg(long)]
    ek: String,
    /// The AK: rsa or ecc (baretpm's standard AK, as `baretpm createak`) or a loaded or
    /// persistent handle.
    #[arg(long)]
    ak: String,
    /// The AK's password.
    #[arg(long, default_value = "")]
    ak_auth: String,
    /// The endorsement hierarchy's password (for the EK's PolicySecret).
    #[arg(long, default_value = "")]
    endorsement_auth: String,
    /// The EK's own password, for EKs with userWithAuth (high range); usually empty.
    #[arg(long, default_value = "")]
    ek_auth: String,
    /// The credential file (tpm2_makecredential -o / baretpm makecredential -o).
    #[arg(short = 'i', long = "credential-blob")]
    input: PathBuf,
    /// Where to write the recovered secret.
    #[arg(short = 'o', long = "certinfo-data")]
    output: PathBuf,
    /// By default the AK's authorization is an HMAC session salted to the EK, and the secret
    /// comes back encrypted under it (it never crosses the bus in the clear).
    #[command(flatten)]
    session: crate::ek_session::SessionArgs,
}

fn parse_handle(s: &str, what: &str) -> Result<u32, CliError> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .ok_or_else(|| failed(format!("--{what} {s}: expected rsa, ecc or a hex handle")))?;
    u32::from_str_radix(t, 16).map_err(|_| failed(format!("--{what} {s}: not a hex handle")))
}

/// A key the command loaded (flushed at the end) or found at a handle.
struct Key {
    handle: u32,
    transient: bool,
    /// TPMT_PUBLIC bytes.
    public: Vec<u8>,
}

fn load_ek(tpm: &mut Tpm<AnyTransport>, spec: &str) -> Result<Key, CliError> {
    // The platform's template (a template and nonce in NV honoured, as `createek` does): the
    // credential was made for the EK its certificate certifies.
    let (ty, high) = match spec {
        "rsa" => (EkType::Rsa2048, false),
        "ecc" => (EkType::EccP256, false),
        "ecc384" => (EkType::EccP384, true),
        other => {
            let handle = parse_handle(other, "ek")?;
            let public = tpm
                .execute(&ReadPublic {
                    object_handle: handle,
                })
                .map_err(|e| failed(format!("EK {handle:#010x}: {e}")))?
                .out_public
                .raw()
                .to_vec();
            return Ok(Key {
                handle,
                transient: false,
                public,
            });
        }
    };
    let ek = crate::util::create_ek(tpm, ty, high)?;
    Ok(Key {
        handle: ek.handle,
        transient: true,
        public: ek.tpmt().to_vec(),
    })
}

fn load_ak(tpm: &mut Tpm<AnyTransport>, spec: &str) -> Result<Key, CliError> {
    let alg = match spec {
        "rsa" => AkAlg::Rsa,
        "ecc" => AkAlg::Ecc,
        other => {
            return Ok(Key {
                handle: parse_handle(other, "ak")?,
                transient: false,
                public: Vec::new(),
            })
        }
    };
    let ak = create_ak(tpm, alg)?;
    Ok(Key {
        handle: ak.handle,
        transient: true,
        public: ak.public,
    })
}

pub fn activatecredential(tcti: Option<&str>, a: &ActivateCredentialArgs) -> Result<(), CliError> {
    let file = read_small(&a.input, "credential file")?;
    let cred = CredentialFile::parse(&file)
        .map_err(|e| failed(format!("{}: not a credential file: {e}", a.input.display())))?;
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let ek = load_ek(&mut tpm, &a.ek)?;
    let ak = match load_ak(&mut tpm, &a.ak) {
        Ok(k) => k,
        Err(e) => {
            if ek.transient {
                tpm.flush_quietly(ek.handle);
            }
            return Err(e);
        }
    };
    let result = activate(&mut tpm, &ek, &ak, a, &cred);
    for k in [&ak, &ek] {
        if k.transient {
            flush(&mut tpm, k.handle)?;
        }
    }
    let secret = result?;
    std::fs::write(&a.output, &secret)
        .map_err(|e| failed(format!("output {}: {e}", a.output.display())))
}

/// The Names of the AK and the EK, from ReadPublic (a wrong Name makes the TPM refuse the
/// session's HMAC).
fn names(tpm: &mut Tpm<AnyTransport>, ak: u32, ek: u32) -> Result<(Vec<u8>, Vec<u8>), CliError> {
    let mut name = |handle: u32, what: &str| {
        tpm.execute(&ReadPublic {
            object_handle: handle,
        })
        .map(|r| r.name.as_bytes().to_vec())
        .map_err(|e| failed(format!("ReadPublic({what} {handle:#010x}): {e}")))
    };
    let ak_name = name(ak, "AK")?;
    let ek_name = name(ek, "EK")?;
    Ok((ak_name, ek_name))
}

fn activate(
    tpm: &mut Tpm<AnyTransport>,
    ek: &Key,
    ak: &Key,
    a: &ActivateCredentialArgs,
    cred: &CredentialFile<'_>,
) -> Result<Vec<u8>, CliError> {
    let ek_public =
        TpmtPublic::from_bytes(&ek.public).map_err(|e| failed(format!("EK public: {e}")))?;
    let ek_auth = match EkAuth::for_ek(&ek_public) {
        EkAuth::PolicySecret { policy_hash, .. } => EkAuth::PolicySecret {
            endorsement_auth: a.endorsement_auth.as_bytes(),
            policy_hash,
        },
        EkAuth::Password(_) => EkAuth::Password(a.ek_auth.as_bytes()),
    };
    let keys = ActivationKeys {
        ak: ak.handle,
        ak_auth: a.ak_auth.as_bytes(),
        ek: ek.handle,
        ek_auth,
    };
    let mut out = [0u8; MAX_CREDENTIAL];
    let result = match crate::ek_session::begin(tpm, a.session)? {
        Some(mut s) => {
            let (ak_name, ek_name) = match names(tpm, ak.handle, ek.handle) {
                Ok(n) => n,
                Err(e) => {
                    s.close(tpm);
                    return Err(e);
                }
            };
            let r = s.activate_credential(tpm, &keys, &ak_name, &ek_name, cred, &mut out);
            s.close(tpm);
            match r {
                Err(e) if crate::ek_session::changed_on_the_way(&e) => {
                    // Under an HMAC session a wrong AK password looks the same to the TPM.
                    let what = if a.ak_auth.is_empty() {
                        "ActivateCredential"
                    } else {
                        "ActivateCredential (or --ak-auth is wrong)"
                    };
                    return Err(crate::ek_session::under_session(what, &e));
                }
                r => r,
            }
        }
        None => tpm.activate_credential(&keys, cred.id_object, cred.encrypted_secret, &mut out),
    };
    match result {
        Ok(n) => Ok(out[..n].to_vec()),
        Err(TpmError::Tpm { cc, rc }) if is_integrity_failure(rc) => Err(refused(format!(
            "{cc}: {rc}: the TPM refused the credential: it was made for another AK Name or \
             another EK, or it was altered"
        ))),
        Err(e @ TpmError::Tpm { .. }) => Err(refused(format!(
            "the TPM refused the credential (made for another EK, or a wrong key or \
             password?): {e}"
        ))),
        Err(e) => Err(failed(e)),
    }
}
