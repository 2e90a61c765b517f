//! baretpm: TPM 2.0 attestation from the command line, with no TSS installed.
#![forbid(unsafe_code)]

#[cfg(feature = "ca")]
mod ca;
#[cfg(feature = "cert")]
mod certcmds;
mod checkquote;
mod cleanup;
#[cfg(feature = "credential")]
mod credential;
mod ek_session;
#[cfg(feature = "ca")]
mod enroll;
mod eventlog;
mod provenance;
mod run_guard;
mod tpmcmds;
mod util;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "baretpm",
    version,
    about = "TPM 2.0 quotes and provenance proofs, no TSS needed"
)]
struct Cli {
    /// TPM to talk to: device:/dev/tpmrm0, swtpm:host=H,port=P or swtpm:path=S.
    /// Default: $TPM2TOOLS_TCTI, else device:/dev/tpmrm0.
    #[arg(short = 'T', long, global = true)]
    tcti: Option<String>,
    /// Seconds one TPM command may take, its retries included (default 120).
    #[arg(long, global = true, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a quote (the flags of tpm2_checkquote, stricter where that tool is wrong).
    Checkquote(checkquote::Args),
    /// Random bytes from the TPM.
    Getrandom(tpmcmds::GetRandomArgs),
    /// Read PCRs (output in the style of tpm2_pcrread).
    Pcrread(tpmcmds::PcrReadArgs),
    /// Extend PCRs: 14:sha256=HEX[,sha1=HEX], all banks in one command.
    Pcrextend(tpmcmds::PcrExtendArgs),
    /// Read an object's public area.
    Readpublic(tpmcmds::ReadPublicArgs),
    /// Create the standard attestation key (same key every time on one TPM).
    Createak(tpmcmds::CreateAkArgs),
    /// Quote PCRs, writing the files tpm2_quote writes.
    Quote(tpmcmds::QuoteArgs),
    /// Parse, decode and replay a TCG PC Client event log (tpm2_eventlog's job).
    Eventlog(eventlog::Args),
    /// Encrypt a secret to an EK, bound to an AK's Name (no TPM; tpm2_makecredential's file).
    #[cfg(feature = "credential")]
    Makecredential(credential::MakeCredentialArgs),
    /// Recover a credential's secret with the TPM holding the EK and the AK.
    #[cfg(feature = "credential")]
    Activatecredential(credential::ActivateCredentialArgs),
    #[cfg(feature = "cert")]
    /// Read an NV index (tpm2_nvread), in chunks of the TPM's NV buffer size.
    Nvread(certcmds::NvReadArgs),
    #[cfg(feature = "cert")]
    /// Read the EK certificate(s) from NV, wrapper and padding removed.
    Getekcertificate(certcmds::GetEkCertArgs),
    #[cfg(feature = "cert")]
    /// Create the EK from the TCG EK Credential Profile template (or the one in NV).
    Createek(certcmds::CreateEkArgs),
    #[cfg(feature = "cert")]
    /// Validate an EK/AK certificate up to trusted roots (no TPM needed).
    Checkcert(certcmds::CheckCertArgs),
    /// Attestation CA: init, challenge an enrollment request, issue AK certificates.
    #[cfg(feature = "ca")]
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// Enroll this TPM's AK with an attestation CA: request, activate the challenge.
    #[cfg(feature = "ca")]
    #[command(subcommand)]
    Enroll(enroll::EnrollCommand),
    #[command(flatten)]
    Provenance(provenance::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let tcti = cli.tcti.as_deref();
    util::set_timeout(cli.timeout);
    let result = match cli.command {
        Command::Provenance(c) => return provenance::main(c, tcti),
        Command::Checkquote(a) => checkquote::run(&a),
        Command::Eventlog(a) => eventlog::run(&a),
        Command::Getrandom(a) => tpmcmds::getrandom(tcti, &a),
        Command::Pcrread(a) => tpmcmds::pcrread(tcti, &a),
        Command::Pcrextend(a) => tpmcmds::pcrextend(tcti, &a),
        Command::Readpublic(a) => tpmcmds::readpublic(tcti, &a),
        Command::Createak(a) => tpmcmds::createak(tcti, &a),
        Command::Quote(a) => tpmcmds::quote(tcti, &a),
        #[cfg(feature = "credential")]
        Command::Makecredential(a) => credential::makecredential(&a),
        #[cfg(feature = "credential")]
        Command::Activatecredential(a) => credential::activatecredential(tcti, &a),
        #[cfg(feature = "cert")]
        Command::Nvread(a) => certcmds::nvread(tcti, &a),
        #[cfg(feature = "cert")]
        Command::Getekcertificate(a) => certcmds::getekcertificate(tcti, &a),
        #[cfg(feature = "cert")]
        Command::Createek(a) => certcmds::createek(tcti, &a),
        #[cfg(feature = "cert")]
        Command::Checkcert(a) => certcmds::checkcert(&a),
        #[cfg(feature = "ca")]
        Command::Ca(c) => ca::run(&c),
        #[cfg(feature = "ca")]
        Command::Enroll(c) => enroll::run(tcti, &c),
    };
    util::exit(result)
}
