//! `enroll request` and `enroll activate`: the machine's side of the attestation CA
//! (src/ca). The TPM makes the EK and AK from the standard templates, so `activate` finds the
//! same keys `request` described.

use crate::tpmcmds::{create_ak, flush, AkAlg};
use crate::util::{failed, open_tpm, refused, CliError};
use baretpm::activation::{is_integrity_failure, ActivationKeys, EkAuth};
use baretpm::ca::{
    Challenge, ChallengeResponse, EnrollRequest, NvCertificate, UnsignedTpmIdentity,
    MESSAGE_VERSION,
};
use baretpm::commands::templates::{self, EkType};
use baretpm::credential::MAX_CREDENTIAL;
use baretpm::interop::CredentialFile;
use baretpm::text::escape;
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::AnyTransport;
use baretpm::wire::Unmarshal as _;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum EnrollCommand {
    /// Read the EK certificates from NV, create the EK and the AK, write an enrollment request.
    Request(RequestArgs),
    /// Open the CA's challenge with the TPM (ActivateCredential) and write the response.
    Activate(ActivateArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EkAlg {
    /// TCG template L-1 (RSA-2048).
    Rsa,
    /// TCG template L-2 (ECC P-256).
    Ecc,
}

#[derive(clap::Args)]
pub struct RequestArgs {
    /// Where to write the request (JSON).
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// The AK to enroll: rsa or ecc (baretpm's standard AK, as `createak`).
    #[arg(long, value_enum, default_value = "rsa")]
    ak: AkAlg,
    /// The EK: rsa or ecc (default: rsa when the TPM has an RSA EK certificate, else ecc when
    /// it has an ECC one, else rsa).
    #[arg(long, value_enum)]
    ek: Option<EkAlg>,
}

#[derive(clap::Args)]
pub struct ActivateArgs {
    /// The challenge from `baretpm ca challenge`.
    challenge: PathBuf,
    /// Where to write the response (JSON).
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// The AK the challenge is for (default: the standard AK whose Name the challenge names).
    #[arg(long, value_enum)]
    ak: Option<AkAlg>,
    /// The EK (default: RSA when the credential's secret is RSA-encrypted, else ECC).
    #[arg(long, value_enum)]
    ek: Option<EkAlg>,
    /// The endorsement hierarchy's password (for the EK's PolicySecret).
    #[arg(long, default_value = "")]
    endorsement_auth: String,
}

pub fn run(tcti: Option<&str>, c: &EnrollCommand) -> Result<(), CliError> {
    match c {
        EnrollCommand::Request(a) => request(tcti, a),
        EnrollCommand::Activate(a) => activate(tcti, a),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| {
        failed(format!(
            "output {}: {e}",
            escape(&path.display().to_string())
        ))
    })
}

/// EK certificates from NV, DER (NV wrapper and padding removed). An index that is not
/// defined or readable, or does not hold a certificate, is left out (the latter reported);
/// losing the TPM is an error, not an empty list.
fn ek_certificates(
    tpm: &mut Tpm<AnyTransport>,
    chunk: u16,
) -> Result<Vec<NvCertificate>, CliError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; baretpm::cert::MAX_CERT_LEN];
    for index in templates::EK_CERT_NV_INDICES {
        let n = match tpm.nv_read_all(index, chunk, &mut buf) {
            Ok(n) => n,
            Err(e @ TpmError::Transport(_)) => {
                return Err(failed(format!("reading NV {index:#010x}: {e}")))
            }
            Err(_) => continue,
        };
        let raw = buf.get(..n).unwrap_or_default();
        match baretpm::cert::strip_nv_wrapper(raw) {
            Ok(der) => out.push(NvCertificate {
                nv_index: index,
                der: hex::encode(der),
            }),
            Err(e) => eprintln!("baretpm: NV {index:#010x}: not a certificate ({e}); left out"),
        }
    }
    Ok(out)
}

/// Creates the EK of `--ek` (low range) from the platform's template, as `createek` does.
fn create_ek(tpm: &mut Tpm<AnyTransport>, alg: EkAlg) -> Result<crate::util::CreatedEk, CliError> {
    let ty = match alg {
        EkAlg::Rsa => EkType::Rsa2048,
        EkAlg::Ecc => EkType::EccP256,
    };
    crate::util::create_ek(tpm, ty, false)
}

fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .filter(|&&b| b != 0)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

pub fn request(tcti: Option<&str>, a: &RequestArgs) -> Result<(), CliError> {
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let id = tpm.identity().map_err(failed)?;
    let chunk = if id.nv_buffer_max == 0 {
        1024
    } else {
        id.nv_buffer_max.clamp(1, 1024) as u16
    };
    let certs = ek_certificates(&mut tpm, chunk)?;
    let ek_alg = a.ek.unwrap_or_else(|| {
        let has = |i: u32| certs.iter().any(|c| c.nv_index == i);
        if !has(templates::EK_CERT_RSA_NV_INDEX) && has(templates::EK_CERT_ECC_NV_INDEX) {
            EkAlg::Ecc
        } else {
            EkAlg::Rsa
        }
    });
    let ek = create_ek(&mut tpm, ek_alg)?;
    let (ek_handle, ek_public, ek_origin) = (ek.handle, ek.public, ek.origin);
    flush(&mut tpm, ek_handle)?;
    let ak = create_ak(&mut tpm, a.ak)?;
    flush(&mut tpm, ak.handle)?;
    let req = EnrollRequest {
        version: MESSAGE_VERSION,
        ek_certificates: certs,
        ek_public: hex::encode(&ek_public),
        ak_public: hex::encode(&ak.public),
        unsigned_tpm_identity: UnsignedTpmIdentity {
            manufacturer: printable(&id.manufacturer.to_be_bytes()),
            vendor_string: printable(&id.vendor),
            firmware_version: format!("{:016x}", id.firmware_version),
        },
    };
    write_file(&a.output, &req.to_json())?;
    let indices: Vec<String> = req
        .ek_certificates
        .iter()
        .map(|c| format!("{:#010x}", c.nv_index))
        .collect();
    println!(
        "EK certificates: {}",
        if indices.is_empty() {
            "none in NV".to_string()
        } else {
            indices.join(", ")
        }
    );
    println!(
        "EK: {} (template: {ek_origin})",
        match ek_alg {
            EkAlg::Rsa => "RSA-2048",
            EkAlg::Ecc => "ECC P-256",
        }
    );
    println!("AK name: {}", hex::encode(&ak.name));
    Ok(())
}

fn read_message(path: &Path, what: &'static str) -> Result<Vec<u8>, CliError> {
    baretpm::files::read_bounded(path, baretpm::ca::MAX_MESSAGE as u64, what).map_err(failed)
}

pub fn activate(tcti: Option<&str>, a: &ActivateArgs) -> Result<(), CliError> {
    let bytes = read_message(&a.challenge, "challenge")?;
    let ch = Challenge::from_json(&bytes).map_err(failed)?;
    let file = ch.credential_bytes().map_err(failed)?;
    let cred =
        CredentialFile::parse(&file).map_err(|e| failed(format!("challenge credential: {e}")))?;
    // An RSA EK's encrypted seed is the RSA-OAEP ciphertext (256 bytes for RSA-2048); an ECC
    // EK's is an ephemeral point.
    let ek_alg = a.ek.unwrap_or(if cred.encrypted_secret.len() >= 256 {
        EkAlg::Rsa
    } else {
        EkAlg::Ecc
    });
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    // The AK: the one given, else the standard AK whose Name the challenge names (RSA first).
    let candidates: &[AkAlg] = match a.ak {
        Some(AkAlg::Rsa) => &[AkAlg::Rsa],
        Some(AkAlg::Ecc) => &[AkAlg::Ecc],
        None => &[AkAlg::Rsa, AkAlg::Ecc],
    };
    let mut ak = None;
    for &alg in candidates {
        let k = create_ak(&mut tpm, alg)?;
        if hex::encode(&k.name) == ch.ak_name.to_ascii_lowercase() || candidates.len() == 1 {
            ak = Some(k);
            break;
        }
        flush(&mut tpm, k.handle)?;
    }
    let ak = match ak {
        Some(k) => k,
        None => {
            // No standard AK has that Name: let the TPM say so with the RSA AK.
            eprintln!(
                "baretpm: the challenge is for AK {}, which is not this TPM's standard RSA or \
                 ECC AK; trying the RSA AK",
                escape(&ch.ak_name)
            );
            create_ak(&mut tpm, AkAlg::Rsa)?
        }
    };
    let (ek_handle, ek_public) = match create_ek(&mut tpm, ek_alg) {
        Ok(ek) => (ek.handle, ek.public),
        Err(e) => {
            tpm.flush_quietly(ak.handle);
            return Err(e);
        }
    };
    let result = activate_with(&mut tpm, ek_handle, &ek_public, ak.handle, a, &cred);
    tpm.flush_quietly(ek_handle);
    tpm.flush_quietly(ak.handle);
    let secret = result?;
    let resp = ChallengeResponse {
        version: MESSAGE_VERSION,
        challenge_id: ch.challenge_id.clone(),
        secret: hex::encode(&secret),
    };
    write_file(&a.output, &resp.to_json())?;
    println!(
        "challenge {}: the TPM released the secret ({} bytes)",
        escape(&ch.challenge_id),
        secret.len()
    );
    Ok(())
}

fn activate_with(
    tpm: &mut Tpm<AnyTransport>,
    ek_handle: u32,
    ek_public: &[u8],
    ak_handle: u32,
    a: &ActivateArgs,
    cred: &CredentialFile<'_>,
) -> Result<Vec<u8>, CliError> {
    let ek = baretpm::types::Tpm2bPublic::from_bytes(ek_public)
        .map_err(|e| failed(format!("EK public: {e}")))?;
    let ek_auth = match EkAuth::for_ek(&ek.public_area()) {
        EkAuth::PolicySecret { policy_hash, .. } => EkAuth::PolicySecret {
            endorsement_auth: a.endorsement_auth.as_bytes(),
            policy_hash,
        },
        other => other,
    };
    let keys = ActivationKeys {
        ak: ak_handle,
        ak_auth: &[],
        ek: ek_handle,
        ek_auth,
    };
    let mut out = [0u8; MAX_CREDENTIAL];
    match tpm.activate_credential(&keys, cred.id_object, cred.encrypted_secret, &mut out) {
        Ok(n) => Ok(out.get(..n).unwrap_or_default().to_vec()),
        Err(TpmError::Tpm { cc, rc }) if is_integrity_failure(rc) => Err(refused(format!(
            "{cc}: {rc}: the TPM refused the challenge: its credential was made for another \
             AK Name or another EK (another TPM), or it was altered"
        ))),
        Err(e @ TpmError::Tpm { .. }) => Err(refused(format!(
            "the TPM refused the challenge (made for another EK or AK?): {e}"
        ))),
        Err(e) => Err(failed(e)),
    }
}
