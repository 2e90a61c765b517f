//! Provenance subcommands: run, measure, attest, verify, reference, ak-pub, demo.
//!
//! Exit status as for every command ([`crate::util::CliError`]): 0 success (for verify: every check
//! passed), 1 a proof was refused or a flow step failed, 2 a usage or input error.

use std::process::ExitCode;

/// `println!` that ignores a closed standard output (e.g. `| head`) instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `print!` that ignores a closed standard output.
macro_rules! say_raw {
    ($($t:tt)*) => {{
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

mod ak_pub;
mod args;
mod attest;
mod demo;
mod measure;
mod progress;
mod reference;
mod run;
mod setup;
mod verify;

use self::ak_pub::ak_pub;
use self::args::{
    AkPubArgs, AttestArgs, DemoArgs, MeasureArgs, ReferenceArgs, RunArgs, VerifyArgs,
};
use self::attest::attest;
use self::demo::demo;
use self::measure::measure;
use self::reference::reference;
use self::run::run;
use self::verify::verify_cmd;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Measure inputs into PCR14, run a command, measure its outputs into PCR15, quote, and
    /// write a proof file.
    Run(RunArgs),
    /// Measure files, directories, git:PATH or text into PCR14 or PCR15, appending the events
    /// to an event log (a pipeline step; `attest` makes the proof).
    Measure(MeasureArgs),
    /// Quote PCR14/15 and write a proof with the event logs made by `measure`.
    Attest(AttestArgs),
    /// Verify a proof file: quote, event logs, files, reference values, AK and nonce.
    Verify(VerifyArgs),
    /// Write a reference file (expected PCR values) from a known-good proof.
    Reference(ReferenceArgs),
    /// Write the standard attestation key's public area (TPM2B_PUBLIC), to pin it with
    /// `verify --ak-pub`.
    AkPub(AkPubArgs),
    /// Show the whole flow on a private swtpm: measure, train, attest, verify, and see a
    /// changed output and a stale nonce refused.
    Demo(DemoArgs),
}

/// Runs a provenance subcommand.
pub fn main(cmd: Command, tcti: Option<&str>) -> ExitCode {
    let result = match cmd {
        Command::Run(a) => run(a, tcti),
        Command::Measure(a) => measure(a, tcti),
        Command::Attest(a) => attest(a, tcti),
        Command::Verify(a) => return verify_cmd(a),
        Command::Reference(a) => reference(a),
        Command::AkPub(a) => ak_pub(a, tcti),
        Command::Demo(a) => demo(a, tcti),
    };
    crate::cleanup::wait_if_signalled();
    crate::util::exit(result)
}
