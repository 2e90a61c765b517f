//! `ca init`, `ca challenge`, `ca issue`: the attestation CA (src/ca) on a state directory.
//! No TPM is used.

use crate::certcmds::read_pool;
use crate::util::{failed, refused, CliError};
use baretpm::ca::{
    self, CaAlg, CaDir, CaError, ChallengePolicy, ChallengeResponse, EnrollRequest,
    DEFAULT_CERT_LIFETIME, DEFAULT_CHALLENGE_LIFETIME,
};
use baretpm::cert::{time_text, Certificate};
use baretpm::text::escape;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum CaCommand {
    /// Make a CA: private key (DIR/ca.key, mode 0600) and self-signed certificate (DIR/ca.crt).
    Init(InitArgs),
    /// Check an enrollment request (EK certificate chain, EK, AK) and write its challenge.
    Challenge(ChallengeArgs),
    /// Check a challenge response and write the AK certificate (PEM).
    Issue(IssueArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256.
    Ecc,
    /// RSA-2048, PKCS#1 v1.5 with SHA-256.
    Rsa,
}

#[derive(clap::Args)]
pub struct InitArgs {
    /// The CA state directory (created, mode 0700).
    dir: PathBuf,
    #[arg(long, value_enum, default_value = "ecc")]
    alg: Alg,
}

#[derive(clap::Args)]
pub struct ChallengeArgs {
    /// The CA state directory.
    dir: PathBuf,
    /// The enrollment request (`baretpm enroll request -o`).
    request: PathBuf,
    /// Trusted EK roots (TPM manufacturer CAs): PEM bundles, DER files or directories.
    #[arg(long = "ek-ca", num_args = 1..)]
    ek_ca: Vec<PathBuf>,
    /// EK intermediate certificates.
    #[arg(long = "ek-chain", num_args = 1..)]
    ek_chain: Vec<PathBuf>,
    /// Accept a request without an EK certificate (the EK is then taken on trust).
    #[arg(long)]
    allow_no_ek_cert: bool,
    /// Seconds the challenge stays valid (1 to 604800, a week).
    #[arg(long, default_value_t = DEFAULT_CHALLENGE_LIFETIME,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    expires: u64,
    /// Where to write the challenge (JSON).
    #[arg(short = 'o', long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct IssueArgs {
    /// The CA state directory.
    dir: PathBuf,
    /// The response (`baretpm enroll activate -o`).
    response: PathBuf,
    /// Days the AK certificate is valid (1 to 36500).
    #[arg(long, default_value_t = DEFAULT_CERT_LIFETIME / 86400,
          value_parser = clap::value_parser!(u64).range(1..=36500))]
    days: u64,
    /// Where to write the AK certificate (PEM).
    #[arg(short = 'o', long)]
    output: PathBuf,
}

pub fn run(c: &CaCommand) -> Result<(), CliError> {
    match c {
        CaCommand::Init(a) => init(a),
        CaCommand::Challenge(a) => challenge(a),
        CaCommand::Issue(a) => issue(a),
    }
}

fn ca_error(what: &str, e: CaError) -> CliError {
    if e.is_refusal() {
        refused(format!("{what}: {e}"))
    } else {
        failed(format!("{what}: {e}"))
    }
}

fn shown(p: &Path) -> String {
    escape(&p.display().to_string())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| failed(format!("output {}: {e}", shown(path))))
}

fn init(a: &InitArgs) -> Result<(), CliError> {
    let alg = match a.alg {
        Alg::Ecc => CaAlg::EccP256,
        Alg::Rsa => CaAlg::Rsa2048,
    };
    let ca = CaDir::init(&a.dir, alg).map_err(|e| ca_error("ca init", e))?;
    let c = ca.certificate().map_err(|e| ca_error("ca init", e))?;
    println!("CA certificate: {}", shown(&a.dir.join("ca.crt")));
    println!("  subject: {}", c.subject_text());
    println!(
        "  key: {}",
        match a.alg {
            Alg::Ecc => "ECDSA P-256",
            Alg::Rsa => "RSA-2048",
        }
    );
    println!(
        "  valid {} to {}",
        time_text(c.not_before),
        time_text(c.not_after)
    );
    println!("private key: {} (mode 0600)", shown(&a.dir.join("ca.key")));
    Ok(())
}

fn read_message(path: &Path, what: &'static str) -> Result<Vec<u8>, CliError> {
    baretpm::files::read_bounded(path, ca::MAX_MESSAGE as u64, what).map_err(failed)
}

fn challenge(a: &ChallengeArgs) -> Result<(), CliError> {
    let ca = CaDir::open(&a.dir).map_err(|e| ca_error("ca challenge", e))?;
    let req = EnrollRequest::from_json(&read_message(&a.request, "enrollment request")?)
        .map_err(|e| ca_error("ca challenge", e))?;
    if a.ek_ca.is_empty() && !a.allow_no_ek_cert {
        return Err(failed(
            "ca challenge: give the trusted EK roots with --ek-ca (or --allow-no-ek-cert)",
        ));
    }
    let roots: Vec<Certificate> = read_pool(&a.ek_ca, "--ek-ca")?;
    let chain = read_pool(&a.ek_chain, "--ek-chain")?;
    let mut policy = ChallengePolicy::new(roots, chain);
    policy.allow_no_ek_cert = a.allow_no_ek_cert;
    policy.lifetime = a.expires;
    let ch = ca::challenge(&ca, &req, &policy).map_err(|e| ca_error("ca challenge", e))?;
    write_file(&a.output, &ch.to_json())?;
    println!("challenge {} for AK {}", ch.challenge_id, ch.ak_name);
    println!("expires: {}", time_text(ch.expires));
    Ok(())
}

fn issue(a: &IssueArgs) -> Result<(), CliError> {
    let ca = CaDir::open(&a.dir).map_err(|e| ca_error("ca issue", e))?;
    let resp = ChallengeResponse::from_json(&read_message(&a.response, "challenge response")?)
        .map_err(|e| ca_error("ca issue", e))?;
    let lifetime = a.days.saturating_mul(86400);
    let issued = ca::issue(&ca, &resp, ca::now(), lifetime).map_err(|e| ca_error("ca issue", e))?;
    write_file(&a.output, issued.pem.as_bytes())?;
    let c = Certificate::from_der(&issued.der).map_err(failed)?;
    println!("AK certificate: {}", shown(&a.output));
    println!("  subject: {}", c.subject_text());
    println!("  issuer: {}", c.issuer_text());
    println!("  serial: {}", c.serial_hex());
    println!(
        "  valid {} to {}",
        time_text(c.not_before),
        time_text(c.not_after)
    );
    Ok(())
}
