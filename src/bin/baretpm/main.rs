//! The `baretpm` command line.
#![forbid(unsafe_code)]

// The provenance commands need a quote verifier, so at least one signature algorithm.
#[cfg(any(feature = "rsa", feature = "p256"))]
mod provenance;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "baretpm",
    version,
    about = "TPM 2.0 attestation with no external TSS"
)]
struct Cli {
    /// TPM to use, as tpm2-tools spell it (device:/dev/tpmrm0, swtpm:host=H,port=P,
    /// swtpm:path=S). Default: $TPM2TOOLS_TCTI, else /dev/tpmrm0.
    #[arg(short = 'T', long = "tcti", global = true)]
    tcti: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[cfg(any(feature = "rsa", feature = "p256"))]
    #[command(flatten)]
    Provenance(provenance::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        #[cfg(any(feature = "rsa", feature = "p256"))]
        Command::Provenance(c) => provenance::main(c, cli.tcti.as_deref()),
    }
}
