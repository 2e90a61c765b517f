//! Arguments of the provenance verbs, and their parsing into the flow's options.

use std::path::{Path, PathBuf};

use baretpm::files::read_bounded;
use baretpm::proof::file::MAX_NONCE;
use baretpm::proof::flow::{AkKind, AttestOptions};
use baretpm::proof::hash::HashOptions;
use baretpm::proof::session::SessionMode;
use baretpm::types::HashAlg;

use crate::util::{failed, CliError};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum AkArg {
    Rsa,
    Ecc,
}

impl From<AkArg> for AkKind {
    fn from(a: AkArg) -> AkKind {
        match a {
            AkArg::Rsa => AkKind::Rsa,
            AkArg::Ecc => AkKind::Ecc,
        }
    }
}

#[derive(clap::Args)]
pub struct QuoteArgs {
    /// The verifier's challenge, in hex (1 to 64 bytes). Without it a random nonce is used
    /// and the proof says it shows no freshness.
    #[arg(long, value_name = "HEX")]
    pub(super) nonce: Option<String>,
    /// Attestation key.
    #[arg(long, value_enum, default_value = "ecc")]
    pub(super) ak: AkArg,
    /// PCRs to quote besides 14 and 15: a list such as 0-7,14 (the -l grammar without the
    /// bank), all, or none.
    #[arg(long, value_name = "LIST", default_value = "0-7")]
    pub(super) pcrs: String,
    /// Banks to quote (comma separated); default: every active bank.
    #[arg(long, value_name = "LIST")]
    pub(super) banks: Option<String>,
    /// The firmware's TCG event log to carry in the proof. Default: the kernel's
    /// /sys/kernel/security/tpm0/binary_bios_measurements when the TPM is a device and the
    /// file is readable.
    #[arg(long, value_name = "FILE", conflicts_with = "no_boot_log")]
    pub(super) boot_log: Option<PathBuf>,
    /// Make a proof without the firmware event log.
    #[arg(long)]
    pub(super) no_boot_log: bool,
    /// An AK certificate from the attestation CA (`baretpm ca issue`, PEM or DER) to carry
    /// in the proof; `verify --ak-ca CA.crt` checks it certifies the quote's AK.
    #[cfg(feature = "cert")]
    #[arg(long, value_name = "FILE")]
    pub(super) ak_cert: Option<PathBuf>,
    #[command(flatten)]
    pub(super) session: crate::ek_session::SessionArgs,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// An input: a file, a directory, or git:PATH (the repository's HEAD commit).
    #[arg(long = "input", value_name = "PATH")]
    pub(super) inputs: Vec<String>,
    /// An output, measured after the command succeeded.
    #[arg(long = "output", value_name = "PATH")]
    pub(super) outputs: Vec<String>,
    /// Where to write the proof.
    #[arg(long, value_name = "FILE")]
    pub(super) proof: PathBuf,
    #[command(flatten)]
    pub(super) quote: QuoteArgs,
    /// Hashing threads (default: the number of cores, at most 8).
    #[arg(long)]
    pub(super) threads: Option<usize>,
    /// Run on a throw-away swtpm started for this run. Its proof shows the flow works and
    /// proves nothing about this machine; without this flag `run` needs a TPM (-T,
    /// TPM2TOOLS_TCTI or /dev/tpmrm0).
    #[arg(long)]
    pub(super) private_swtpm: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub(super) command: Vec<String>,
}

#[derive(clap::Args)]
pub struct MeasureArgs {
    /// 14 for inputs, 15 for outputs.
    #[arg(long, value_parser = clap::value_parser!(u32).range(14..=15))]
    pub(super) pcr: u32,
    /// The event log to append to (created if missing).
    #[arg(long, value_name = "FILE")]
    pub(super) log: PathBuf,
    /// A line of text to measure (after the paths).
    #[arg(long = "text", value_name = "TEXT")]
    pub(super) texts: Vec<String>,
    /// Hashing threads.
    #[arg(long)]
    pub(super) threads: Option<usize>,
    /// Files, directories, or git:PATH.
    #[arg(value_name = "PATH")]
    pub(super) paths: Vec<String>,
    #[command(flatten)]
    pub(super) session: crate::ek_session::SessionArgs,
}

#[derive(clap::Args)]
pub struct AttestArgs {
    /// Event logs made by `measure` (one for PCR14, one for PCR15; a missing one is empty).
    #[arg(long = "log", value_name = "FILE", num_args = 1.., required = true)]
    pub(super) logs: Vec<PathBuf>,
    /// Where to write the proof.
    #[arg(long, value_name = "FILE")]
    pub(super) proof: PathBuf,
    #[command(flatten)]
    pub(super) quote: QuoteArgs,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The proof file.
    pub(super) proof: PathBuf,
    /// The nonce this verifier sent, in hex; the quote must carry it.
    #[arg(long, value_name = "HEX")]
    pub(super) nonce: Option<String>,
    /// Expected PCR values (from `baretpm reference`).
    #[arg(long, value_name = "FILE")]
    pub(super) reference: Option<PathBuf>,
    /// The AK this verifier trusts: TPM2B_PUBLIC (`baretpm ak-pub`, `tpm2_readpublic -o`) or
    /// a PEM/DER public key.
    #[arg(long, value_name = "FILE")]
    pub(super) ak_pub: Option<PathBuf>,
    /// A file, directory or git:PATH that must be an event of the PCR14 log.
    #[arg(long = "input", value_name = "PATH")]
    pub(super) inputs: Vec<String>,
    /// A file, directory or git:PATH that must be an event of the PCR15 log.
    #[arg(long = "output", value_name = "PATH")]
    pub(super) outputs: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub(super) json: bool,
    /// Accept proofs whose only banks, or whose signature, use SHA-1.
    #[arg(long)]
    pub(super) allow_sha1: bool,
    #[cfg(feature = "cert")]
    /// Trusted roots for the EK certificates (PEM bundle, DER, or a directory; may repeat):
    /// the ek-certificate row passes only when a chain validates.
    #[arg(long, value_name = "ROOTS")]
    pub(super) ek_ca: Vec<PathBuf>,
    #[cfg(feature = "cert")]
    /// Intermediate certificates for the EK chain (may repeat).
    #[arg(long, value_name = "FILE")]
    pub(super) ek_chain: Vec<PathBuf>,
    #[cfg(feature = "cert")]
    /// Trusted roots for cloud AK certificates: the ak-certificate row passes only when one
    /// validates and certifies the quote's AK.
    #[arg(long, value_name = "ROOTS")]
    pub(super) ak_ca: Vec<PathBuf>,
    #[cfg(feature = "cert")]
    /// Intermediate certificates for the AK chain (may repeat).
    #[arg(long, value_name = "FILE")]
    pub(super) ak_chain: Vec<PathBuf>,
    /// Refuse a proof whose PCR14/15 start value is not explained (by zero, the firmware log
    /// or earlier baretpm runs in the same boot); by default that is a warning.
    #[arg(long)]
    pub(super) require_explained_start: bool,
}

#[derive(clap::Args)]
pub struct ReferenceArgs {
    /// A known-good proof.
    #[arg(long, value_name = "FILE")]
    pub(super) from: PathBuf,
    /// PCRs to take: a list such as 0-7,14, or all.
    #[arg(long, value_name = "LIST", default_value = "0-7")]
    pub(super) pcrs: String,
    /// Output file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(super) out: Option<PathBuf>,
    /// The nonce the proof must carry, in hex (as `verify --nonce`).
    #[arg(long, value_name = "HEX")]
    pub(super) nonce: Option<String>,
    /// The AK the proof must be signed by (as `verify --ak-pub`).
    #[arg(long, value_name = "FILE")]
    pub(super) ak_pub: Option<PathBuf>,
    /// Accept a proof whose only banks, or whose signature, use SHA-1 (as `verify`).
    #[arg(long)]
    pub(super) allow_sha1: bool,
}

#[derive(clap::Args)]
pub struct AkPubArgs {
    /// Attestation key.
    #[arg(long, value_enum, default_value = "ecc")]
    pub(super) ak: AkArg,
    /// Output file (TPM2B_PUBLIC).
    #[arg(short, long, value_name = "FILE")]
    pub(super) out: PathBuf,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Keep the demo's files (data, model, proof, AK) in this directory.
    #[arg(long, value_name = "DIR")]
    pub(super) keep: Option<PathBuf>,
    /// Attestation key.
    #[arg(long, value_enum, default_value = "ecc")]
    pub(super) ak: AkArg,
}

pub(super) fn parse_nonce(s: &str) -> Result<Vec<u8>, CliError> {
    let s = s.trim();
    if s.len() > 2 * MAX_NONCE {
        return Err(failed(format!(
            "--nonce: {} hex digits, at most {} allowed",
            s.len(),
            2 * MAX_NONCE
        )));
    }
    let v = hex::decode(s).map_err(|e| failed(format!("--nonce: not hex: {e}")))?;
    if v.is_empty() {
        return Err(failed("--nonce: empty"));
    }
    Ok(v)
}

fn parse_banks(s: &str) -> Result<Vec<HashAlg>, CliError> {
    let mut v = Vec::new();
    for name in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let h = HashAlg::from_name(name)
            .ok_or_else(|| failed(format!("--banks: unknown bank {name:?}")))?;
        if !v.contains(&h) {
            v.push(h);
        }
    }
    if v.is_empty() {
        return Err(failed("--banks: no bank given"));
    }
    Ok(v)
}

pub(super) fn attest_options(q: &QuoteArgs) -> Result<AttestOptions, CliError> {
    Ok(AttestOptions {
        ak: q.ak.into(),
        nonce: q.nonce.as_deref().map(parse_nonce).transpose()?,
        pcrs: crate::util::parse_pcr_list(&q.pcrs, "--pcrs")?,
        banks: q.banks.as_deref().map(parse_banks).transpose()?,
        boot_log: match &q.boot_log {
            Some(p) => Some(read_boot_log(p)?),
            None => None,
        },
        starts: vec![],
        runtime_log: None,
        #[cfg(feature = "cert")]
        ak_certificate: q.ak_cert.as_deref().map(read_ak_cert).transpose()?,
        #[cfg(not(feature = "cert"))]
        ak_certificate: None,
        session: session_mode(q.session),
    })
}

/// `--ak-cert`: one certificate, PEM or DER, kept as DER.
#[cfg(feature = "cert")]
fn read_ak_cert(p: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = baretpm::files::read_bounded(p, 64 * 1024, "AK certificate").map_err(failed)?;
    let mut certs = baretpm::cert::certificates_from_bytes(&bytes, 1)
        .map_err(|e| failed(format!("--ak-cert {}: {e}", p.display())))?;
    certs
        .pop()
        .map(|c| c.der().to_vec())
        .ok_or_else(|| failed(format!("--ak-cert {}: no certificate", p.display())))
}

pub(super) fn session_mode(a: crate::ek_session::SessionArgs) -> SessionMode {
    if a.no_session {
        SessionMode::Off
    } else {
        SessionMode::Salted
    }
}

pub(super) fn hash_options(threads: Option<usize>) -> Result<HashOptions, CliError> {
    let mut o = HashOptions::default();
    if let Some(t) = threads {
        if !(1..=64).contains(&t) {
            return Err(failed("--threads: 1 to 64"));
        }
        o.threads = t;
    }
    Ok(o)
}

/// Reads a firmware event log given with `--boot-log` (bounded; it must parse).
pub(super) fn read_boot_log(p: &Path) -> Result<Vec<u8>, CliError> {
    use baretpm::proof::file::MAX_BOOT_LOG;
    let bytes = read_bounded(p, MAX_BOOT_LOG as u64, "firmware event log").map_err(failed)?;
    baretpm::eventlog::EventLog::parse(&bytes)
        .map_err(|e| failed(format!("--boot-log {}: {e}", p.display())))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces() {
        assert_eq!(parse_nonce("00ff").ok(), Some(vec![0, 255]));
        assert!(parse_nonce("").is_err());
        assert!(parse_nonce("0").is_err());
        assert!(parse_nonce(&"00".repeat(65)).is_err());
        assert!(parse_nonce("zz").is_err());
    }
}
