//! Provenance subcommands: run, measure, attest, verify, reference, ak-pub, demo.
//!
//! Exit status as for every command ([`CliError`]): 0 success (for verify: every check
//! passed), 1 a proof was refused or a flow step failed, 2 a usage or input error.

use std::fs;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use baretpm::files::read_bounded;
use baretpm::proof::event::{Event, INPUT_PCR};
use baretpm::proof::file::{EventLog, Proof, Reference, MAX_NONCE};
use baretpm::proof::flow::{self, AkKind, AttestOptions, Observer, RunSpec};
use baretpm::proof::hash::{self, HashOptions, Progress, Target};
use baretpm::proof::runtime;
use baretpm::proof::session::{FlowSession, SessionMode};
use baretpm::proof::swtpm::{PrivateSwtpm, TempDir};
use baretpm::proof::verify::{verify, Policy, Report};
use baretpm::proof::JsonFile;
use baretpm::text::Escaped;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::types::HashAlg;

use crate::run_guard;
use crate::util::{failed, flow_err, CliError};

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

/// Largest AK public key file read by `verify --ak-pub`.
const MAX_AK_FILE: u64 = 64 * 1024;

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
    nonce: Option<String>,
    /// Attestation key.
    #[arg(long, value_enum, default_value = "ecc")]
    ak: AkArg,
    /// PCRs to quote besides 14 and 15.
    #[arg(long, value_name = "LIST", default_value = "0-7")]
    pcrs: String,
    /// Banks to quote (comma separated); default: every active bank.
    #[arg(long, value_name = "LIST")]
    banks: Option<String>,
    /// The firmware's TCG event log to carry in the proof. Default: the kernel's
    /// /sys/kernel/security/tpm0/binary_bios_measurements when the TPM is a device and the
    /// file is readable.
    #[arg(long, value_name = "FILE", conflicts_with = "no_boot_log")]
    boot_log: Option<PathBuf>,
    /// Make a proof without the firmware event log.
    #[arg(long)]
    no_boot_log: bool,
    /// An AK certificate from the attestation CA (`baretpm ca issue`, PEM or DER) to carry
    /// in the proof; `verify --ak-ca CA.crt` checks it certifies the quote's AK.
    #[cfg(feature = "cert")]
    #[arg(long, value_name = "FILE")]
    ak_cert: Option<PathBuf>,
    #[command(flatten)]
    session: crate::ek_session::SessionArgs,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// An input: a file, a directory, or git:PATH (the repository's HEAD commit).
    #[arg(long = "input", value_name = "PATH")]
    inputs: Vec<String>,
    /// An output, measured after the command succeeded.
    #[arg(long = "output", value_name = "PATH")]
    outputs: Vec<String>,
    /// Where to write the proof.
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,
    #[command(flatten)]
    quote: QuoteArgs,
    /// Hashing threads (default: the number of cores, at most 8).
    #[arg(long)]
    threads: Option<usize>,
    /// Run on a throw-away swtpm started for this run. Its proof shows the flow works and
    /// proves nothing about this machine; without this flag `run` needs a TPM (-T,
    /// TPM2TOOLS_TCTI or /dev/tpmrm0).
    #[arg(long)]
    private_swtpm: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(clap::Args)]
pub struct MeasureArgs {
    /// 14 for inputs, 15 for outputs.
    #[arg(long, value_parser = clap::value_parser!(u32).range(14..=15))]
    pcr: u32,
    /// The event log to append to (created if missing).
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
    /// A line of text to measure (after the paths).
    #[arg(long = "text", value_name = "TEXT")]
    texts: Vec<String>,
    /// Hashing threads.
    #[arg(long)]
    threads: Option<usize>,
    /// Files, directories, or git:PATH.
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
    #[command(flatten)]
    session: crate::ek_session::SessionArgs,
}

#[derive(clap::Args)]
pub struct AttestArgs {
    /// Event logs made by `measure` (one for PCR14, one for PCR15; a missing one is empty).
    #[arg(long = "log", value_name = "FILE", num_args = 1.., required = true)]
    logs: Vec<PathBuf>,
    /// Where to write the proof.
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,
    #[command(flatten)]
    quote: QuoteArgs,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The proof file.
    proof: PathBuf,
    /// The nonce this verifier sent, in hex; the quote must carry it.
    #[arg(long, value_name = "HEX")]
    nonce: Option<String>,
    /// Expected PCR values (from `baretpm reference`).
    #[arg(long, value_name = "FILE")]
    reference: Option<PathBuf>,
    /// The AK this verifier trusts: TPM2B_PUBLIC (`baretpm ak-pub`, `tpm2_readpublic -o`) or
    /// a PEM/DER public key.
    #[arg(long, value_name = "FILE")]
    ak_pub: Option<PathBuf>,
    /// A file, directory or git:PATH that must be an event of the PCR14 log.
    #[arg(long = "input", value_name = "PATH")]
    inputs: Vec<String>,
    /// A file, directory or git:PATH that must be an event of the PCR15 log.
    #[arg(long = "output", value_name = "PATH")]
    outputs: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Accept proofs whose only banks, or whose signature, use SHA-1.
    #[arg(long)]
    allow_sha1: bool,
    #[cfg(feature = "cert")]
    /// Trusted roots for the EK certificates (PEM bundle, DER, or a directory; may repeat):
    /// the ek-certificate row passes only when a chain validates.
    #[arg(long, value_name = "ROOTS")]
    ek_ca: Vec<PathBuf>,
    #[cfg(feature = "cert")]
    /// Intermediate certificates for the EK chain (may repeat).
    #[arg(long, value_name = "FILE")]
    ek_chain: Vec<PathBuf>,
    #[cfg(feature = "cert")]
    /// Trusted roots for cloud AK certificates: the ak-certificate row passes only when one
    /// validates and certifies the quote's AK.
    #[arg(long, value_name = "ROOTS")]
    ak_ca: Vec<PathBuf>,
    #[cfg(feature = "cert")]
    /// Intermediate certificates for the AK chain (may repeat).
    #[arg(long, value_name = "FILE")]
    ak_chain: Vec<PathBuf>,
    /// Refuse a proof whose PCR14/15 start value is not explained (by zero, the firmware log
    /// or earlier baretpm runs in the same boot); by default that is a warning.
    #[arg(long)]
    require_explained_start: bool,
}

#[derive(clap::Args)]
pub struct ReferenceArgs {
    /// A known-good proof.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// PCRs to take.
    #[arg(long, value_name = "LIST", default_value = "0-7")]
    pcrs: String,
    /// Output file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The nonce the proof must carry, in hex (as `verify --nonce`).
    #[arg(long, value_name = "HEX")]
    nonce: Option<String>,
    /// The AK the proof must be signed by (as `verify --ak-pub`).
    #[arg(long, value_name = "FILE")]
    ak_pub: Option<PathBuf>,
    /// Accept a proof whose only banks, or whose signature, use SHA-1 (as `verify`).
    #[arg(long)]
    allow_sha1: bool,
}

#[derive(clap::Args)]
pub struct AkPubArgs {
    /// Attestation key.
    #[arg(long, value_enum, default_value = "ecc")]
    ak: AkArg,
    /// Output file (TPM2B_PUBLIC).
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Keep the demo's files (data, model, proof, AK) in this directory.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Attestation key.
    #[arg(long, value_enum, default_value = "ecc")]
    ak: AkArg,
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

// ---------------------------------------------------------------------------------------------
// Argument parsing

fn parse_nonce(s: &str) -> Result<Vec<u8>, CliError> {
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

fn attest_options(q: &QuoteArgs) -> Result<AttestOptions, CliError> {
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

fn session_mode(a: crate::ek_session::SessionArgs) -> SessionMode {
    if a.no_session {
        SessionMode::Off
    } else {
        SessionMode::Salted
    }
}

/// Starts the flow's session for `measure` and `attest`, showing its warnings and notes.
fn begin_session(
    tpm: &mut Tpm<AnyTransport>,
    a: crate::ek_session::SessionArgs,
) -> Result<FlowSession, CliError> {
    let session = FlowSession::begin(tpm, session_mode(a)).map_err(flow_err)?;
    for m in session.messages() {
        term_note(m);
    }
    Ok(session)
}

/// The runtime log for this TPM: `$BARETPM_RUNTIME_LOG` when set, else the machine's when
/// the TPM is a device (a swtpm's PCRs are not the machine's), else none.
fn runtime_path(s: &mut Session) -> Option<PathBuf> {
    if s.private.is_some() {
        // A fresh TPM for this process alone: nothing earlier to explain, nothing to share.
        return None;
    }
    if std::env::var_os(runtime::RUNTIME_LOG_ENV).is_some_and(|v| !v.is_empty()) {
        return runtime::default_path();
    }
    if s.private.is_none() && matches!(s.tpm.transport(), AnyTransport::Device(_)) {
        return runtime::default_path();
    }
    None
}

/// Locks the runtime log (waiting for another run on this TPM), noting a damaged one.
fn lock_runtime(path: Option<&Path>) -> Result<Option<runtime::RuntimeLog>, CliError> {
    let Some(p) = path else { return Ok(None) };
    let rt = runtime::RuntimeLog::lock(p).map_err(flow_err)?;
    if let Some(m) = &rt.problem {
        eprintln!(
            "baretpm: note: the runtime log is not used ({}); it starts afresh",
            Escaped(m)
        );
    }
    Ok(Some(rt))
}

/// A note on standard error, untrusted text escaped.
fn term_note(m: &str) {
    eprintln!("baretpm: {}", Escaped(m));
}

/// Reads a firmware event log given with `--boot-log` (bounded; it must parse).
fn read_boot_log(p: &Path) -> Result<Vec<u8>, CliError> {
    use baretpm::proof::file::MAX_BOOT_LOG;
    let bytes = read_bounded(p, MAX_BOOT_LOG as u64, "firmware event log").map_err(failed)?;
    baretpm::eventlog::EventLog::parse(&bytes)
        .map_err(|e| failed(format!("--boot-log {}: {e}", p.display())))?;
    Ok(bytes)
}

/// The default firmware log: the kernel's, when the TPM is a device (a swtpm's PCRs owe
/// nothing to this machine's firmware) and neither --boot-log nor --no-boot-log was given.
fn default_boot_log(q: &QuoteArgs, opts: &mut AttestOptions, s: &mut Session) {
    if q.no_boot_log || opts.boot_log.is_some() {
        return;
    }
    match machine_boot_log(s) {
        None => {}
        Some(Ok(b)) => {
            // Taken by default, not asked for: a log that cannot explain this TPM's PCRs (a
            // bank the firmware does not log, a firmware quirk) is left out with a note rather
            // than refusing the run; --boot-log makes it a requirement.
            let trial = AttestOptions {
                boot_log: Some(b),
                ..opts.clone()
            };
            let banks = match &trial.banks {
                Some(b) => Ok(b.clone()),
                None => flow::active_banks(&mut s.tpm),
            };
            match banks.and_then(|banks| flow::check_boot_log(&mut s.tpm, &trial, &banks)) {
                Ok(()) => opts.boot_log = trial.boot_log,
                Err(e) => eprintln!(
                    "baretpm: note: the proof carries no firmware event log: {}",
                    Escaped(&e.to_string())
                ),
            }
        }
        Some(Err(e)) => eprintln!(
            "baretpm: note: the proof carries no firmware event log: {}",
            Escaped(&e.to_string())
        ),
    }
}

/// The kernel's firmware log when the TPM is a device; `None` for a swtpm.
fn machine_boot_log(s: &mut Session) -> Option<Result<Vec<u8>, CliError>> {
    if !matches!(s.tpm.transport(), AnyTransport::Device(_)) {
        return None;
    }
    Some(read_boot_log(Path::new(
        baretpm::proof::boot::SYSFS_BOOT_LOG,
    )))
}

fn hash_options(threads: Option<usize>) -> Result<HashOptions, CliError> {
    let mut o = HashOptions::default();
    if let Some(t) = threads {
        if !(1..=64).contains(&t) {
            return Err(failed("--threads: 1 to 64"));
        }
        o.threads = t;
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Opening the TPM

/// A TPM connection, and the private swtpm behind it when one was started. The connection is
/// dropped before the swtpm.
struct Session {
    tpm: Tpm<AnyTransport>,
    private: Option<PrivateSwtpm>,
}

/// Whether the user named a TPM: -T or a non-empty TPM2TOOLS_TCTI.
fn tpm_named(tcti_arg: Option<&str>) -> bool {
    tcti_arg.is_some() || std::env::var_os(tcti::ENV_VAR).is_some_and(|v| !v.is_empty())
}

/// Whether the user configured no TPM at all: no -T, no TPM2TOOLS_TCTI, no /dev/tpmrm0.
fn no_tpm_configured(tcti_arg: Option<&str>) -> bool {
    !tpm_named(tcti_arg) && !Path::new(baretpm::transport::device::DEFAULT_DEVICE).exists()
}

/// Which TPM a subcommand talks to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    /// -T, else TPM2TOOLS_TCTI, else /dev/tpmrm0.
    Configured,
    /// A throw-away swtpm started here.
    Private,
}

/// `run`'s TPM: never a private swtpm unless asked for, since its proof says nothing about
/// the machine.
fn run_tpm(private_swtpm: bool, tcti_arg: Option<&str>) -> Result<Which, CliError> {
    if private_swtpm {
        if tcti_arg.is_some() {
            return Err(failed(
                "--private-swtpm and -T both name a TPM: give one of them",
            ));
        }
        return Ok(Which::Private);
    }
    if no_tpm_configured(tcti_arg) {
        return Err(failed(format!(
            "no TPM configured (no -T, no {}, no /dev/tpmrm0): name the TPM with -T, or give \
             --private-swtpm for a proof from a throw-away software TPM, which shows the flow \
             but proves nothing about this machine",
            tcti::ENV_VAR
        )));
    }
    Ok(Which::Configured)
}

/// `demo`'s TPM: its private swtpm unless a TPM is named explicitly (-T or TPM2TOOLS_TCTI);
/// a TPM device merely present is not used, since the demo extends PCR14 and PCR15.
fn demo_tpm(tcti_arg: Option<&str>) -> Which {
    if tpm_named(tcti_arg) {
        Which::Configured
    } else {
        Which::Private
    }
}

/// Starts a private swtpm that a SIGINT, SIGTERM or SIGHUP also stops.
fn start_private() -> Result<PrivateSwtpm, CliError> {
    crate::cleanup::install().map_err(flow_err)?;
    PrivateSwtpm::start_with(crate::cleanup::swtpm).map_err(flow_err)
}

fn open_tpm(tcti_arg: Option<&str>, which: Which) -> Result<Session, CliError> {
    if which == Which::Private {
        eprintln!("baretpm: starting a private swtpm");
        let sw = start_private()?;
        let tpm = crate::util::open_tcti(&sw.tcti(), CliError::Flow)?;
        return Ok(Session {
            tpm,
            private: Some(sw),
        });
    }
    let tpm = crate::util::open_tpm(tcti_arg, CliError::Flow)?;
    Ok(Session { tpm, private: None })
}

// ---------------------------------------------------------------------------------------------
// Progress on a terminal

/// Draws a progress bar on standard error when it is a terminal; prints notes always.
struct Term {
    bar: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl Term {
    fn new() -> Term {
        Term {
            bar: std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}

impl Observer for Term {
    fn progress(&mut self, stage: &str, p: &Progress) {
        if !self.bar {
            return;
        }
        let done = p.files_done == p.files_total;
        if done {
            self.clear();
            return;
        }
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let frac = if p.bytes_total > 0 {
            (p.bytes_done as f64 / p.bytes_total as f64).min(1.0)
        } else {
            0.0
        };
        let width = 30;
        let filled = (frac * width as f64) as usize;
        eprint!(
            "\r\x1b[2K{stage}: [{}{}] {:3.0}%  {} / {}  {}/{} files",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            human(p.bytes_done),
            human(p.bytes_total),
            p.files_done,
            p.files_total
        );
        let _ = std::io::stderr().flush();
        self.drawn = true;
    }

    fn note(&mut self, message: &str) {
        self.clear();
        eprintln!("baretpm: {}", Escaped(message));
    }
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

// ---------------------------------------------------------------------------------------------
// Subcommands

fn run(a: RunArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
    let mut spec = RunSpec {
        inputs: a.inputs.iter().map(|s| Target::parse(s)).collect(),
        outputs: a.outputs.iter().map(|s| Target::parse(s)).collect(),
        argv: a.command.clone(),
        attest: attest_options(&a.quote)?,
        hash: hash_options(a.threads)?,
    };
    // Before the TPM is touched: a run that fails after its first extend cannot be repeated
    // until a reboot.
    run_guard::preflight(&spec.inputs, &spec.outputs, &a.proof, &spec.argv).map_err(failed)?;
    let which = run_tpm(a.private_swtpm, tcti_arg)?;
    let mut s = open_tpm(tcti_arg, which)?;
    check_banks_first(&mut s.tpm, &spec.attest)?;
    default_boot_log(&a.quote, &mut spec.attest, &mut s);
    spec.attest.runtime_log = runtime_path(&mut s);
    if s.private.is_some() {
        eprintln!(
            "baretpm: note: a proof from a private swtpm shows the flow, not the machine it ran on"
        );
    }
    let mut term = Term::new();
    let mut extended = flow::Extended::default();
    let proof = match flow::run_tracked(&mut s.tpm, &spec, &mut term, &mut extended) {
        Ok(p) => p,
        Err(e) => {
            term.clear();
            let message = run_guard::after_failure(&e, &extended, &a.proof, s.private.is_some());
            return Err(match e {
                flow::FlowError::Preflight(_) => failed(message),
                _ => flow_err(message),
            });
        }
    };
    if let Err(e) = proof.write(&a.proof) {
        return Err(flow_err(run_guard::proof_not_written(&proof, &a.proof, &e)));
    }
    term.note(&format!(
        "wrote {} ({} input events, {} output events, nonce {})",
        a.proof.display(),
        proof.pcr14.len(),
        proof.pcr15.len(),
        proof.nonce_source.name()
    ));
    term.note(&unsigned_tpm_info(&proof));
    Ok(())
}

/// What the proof records from GetCapability, said to be unsigned: an interposer or a fake
/// TPM can answer anything there, and no signature covers it.
fn unsigned_tpm_info(proof: &Proof) -> String {
    format!(
        "TPM manufacturer {:?}, vendor {:?}: recorded unsigned, as GetCapability answered; no \
         signature covers them (the quote signs only the firmware version)",
        proof.tpm.manufacturer_text(),
        proof.tpm.vendor
    )
}

/// `run --banks`: every bank named must be active, checked before PCR14/15 are extended (the
/// quote would refuse it only after the run, when the extends cannot be undone).
fn check_banks_first(tpm: &mut Tpm<AnyTransport>, opts: &AttestOptions) -> Result<(), CliError> {
    let Some(wanted) = &opts.banks else {
        return Ok(());
    };
    let active = flow::active_banks(tpm).map_err(flow_err)?;
    if let Some(x) = wanted.iter().find(|x| !active.contains(x)) {
        return Err(failed(format!(
            "--banks: bank {} is not active on this TPM (active: {}); nothing was extended",
            x.name(),
            active
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

fn measure(a: MeasureArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
    if a.paths.is_empty() && a.texts.is_empty() {
        return Err(failed("measure: nothing to measure (give paths or --text)"));
    }
    let mut log = if a.log.exists() {
        let log = EventLog::read(&a.log).map_err(failed)?;
        if log.pcr != a.pcr {
            return Err(failed(format!(
                "{} is the event log of PCR{}, not PCR{}",
                a.log.display(),
                log.pcr,
                a.pcr
            )));
        }
        log
    } else {
        EventLog::new(a.pcr)
    };
    // The TPM first: no point hashing a large dataset for a TPM that is not there, or whose
    // PCR no longer matches the log.
    let mut s = open_tpm(tcti_arg, Which::Configured)?;
    let banks = flow::active_banks(&mut s.tpm).map_err(flow_err)?;
    // Serialized with runs on this TPM; a new log records where the PCR stands first.
    let mut rt = lock_runtime(runtime_path(&mut s).as_deref())?;
    if log.events.is_empty() && log.start.is_none() {
        let earlier = rt.as_ref().map_or(&[][..], |r| r.events(a.pcr));
        let boot_log = machine_boot_log(&mut s).and_then(Result::ok);
        let start = flow::read_start(&mut s.tpm, a.pcr, &banks, earlier, boot_log.as_deref())
            .map_err(flow_err)?;
        if !start.is_zero() {
            term_note(&format!(
                "PCR{} starts at {} (recorded in the log)",
                a.pcr,
                baretpm::proof::start::describe(&start)
            ));
        }
        log.start = Some(start);
    }
    flow::check_pcr_state_from(&mut s.tpm, a.pcr, &banks, log.start.as_ref(), &log.events)
        .map_err(flow_err)?;
    let targets: Vec<Target> = a.paths.iter().map(|s| Target::parse(s)).collect();
    let mut term = Term::new();
    let stage = if a.pcr == INPUT_PCR {
        "inputs"
    } else {
        "outputs"
    };
    let mut events = hash::measure(&targets, &hash_options(a.threads)?, &mut |p| {
        term.progress(stage, p)
    })
    .map_err(flow_err)?;
    for t in &a.texts {
        events.push(Event::text(t.clone()).map_err(failed)?);
    }
    let n = events.len();
    let before = log.events.len();
    let mut session = begin_session(&mut s.tpm, a.session)?;
    let result = flow::measure_into_in(&mut s.tpm, &mut session, &banks, &mut log, events);
    session.close(&mut s.tpm);
    if let Some(rt) = rt.as_mut() {
        if let Err(m) = rt.append(a.pcr, &log.events[before..]) {
            term_note(&format!("the runtime log was not updated: {m}"));
        }
    }
    // Write what was extended, even when a later event failed.
    log.write(&a.log).map_err(flow_err)?;
    result.map_err(flow_err)?;
    term.note(&format!(
        "extended {n} event(s) into PCR{} ({}); {} now holds {} event(s)",
        a.pcr,
        banks
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", "),
        a.log.display(),
        log.events.len()
    ));
    Ok(())
}

fn attest(a: AttestArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
    let mut pcr14: Option<Vec<Event>> = None;
    let mut pcr15: Option<Vec<Event>> = None;
    let mut starts = Vec::new();
    for path in &a.logs {
        let log = EventLog::read(path).map_err(failed)?;
        let slot = if log.pcr == INPUT_PCR {
            &mut pcr14
        } else {
            &mut pcr15
        };
        if slot.is_some() {
            return Err(failed(format!(
                "two event logs for PCR{} (the second is {})",
                log.pcr,
                path.display()
            )));
        }
        starts.extend(log.start.clone());
        *slot = Some(log.events);
    }
    let mut opts = attest_options(&a.quote)?;
    opts.starts = starts;
    let mut s = open_tpm(tcti_arg, Which::Configured)?;
    default_boot_log(&a.quote, &mut opts, &mut s);
    // Nothing extends PCR14/15 between the check and the quote while the lock is held.
    let _rt = lock_runtime(runtime_path(&mut s).as_deref())?;
    let mut session = begin_session(&mut s.tpm, a.quote.session)?;
    let proof = flow::attest_in(
        &mut s.tpm,
        &mut session,
        &opts,
        pcr14.unwrap_or_default(),
        pcr15.unwrap_or_default(),
        None,
    );
    session.close(&mut s.tpm);
    let proof = proof.map_err(flow_err)?;
    proof.write(&a.proof).map_err(flow_err)?;
    eprintln!(
        "baretpm: wrote {} ({} input events, {} output events, nonce {})",
        a.proof.display(),
        proof.pcr14.len(),
        proof.pcr15.len(),
        proof.nonce_source.name()
    );
    eprintln!("baretpm: {}", Escaped(&unsigned_tpm_info(&proof)));
    Ok(())
}

/// The nonce, AK pin and SHA-1 rule of a verifier's policy, as `verify` and `reference` take
/// them.
fn pin_policy(
    nonce: Option<&str>,
    ak_pub: Option<&Path>,
    allow_sha1: bool,
) -> Result<Policy, CliError> {
    let mut policy = Policy {
        nonce: nonce.map(parse_nonce).transpose()?,
        ..Policy::default()
    };
    policy.quote.allow_sha1_banks = allow_sha1;
    policy.quote.allow_sha1_signature = allow_sha1;
    if let Some(p) = ak_pub {
        policy.ak_public = Some(read_bounded(p, MAX_AK_FILE, "AK public key").map_err(failed)?);
    }
    Ok(policy)
}

/// Builds the verifier's policy from the command line (hashing the given files).
fn policy_from(a: &VerifyArgs) -> Result<Policy, CliError> {
    let mut policy = pin_policy(a.nonce.as_deref(), a.ak_pub.as_deref(), a.allow_sha1)?;
    policy.require_explained_start = a.require_explained_start;
    if let Some(p) = &a.reference {
        policy.reference = Some(Reference::read(p).map_err(failed)?);
    }
    // Certificate chains for the ek-certificate and ak-certificate rows (a build without the
    // `cert` feature, such as the initrd one, has no such flags and leaves both rows skipped).
    #[cfg(feature = "cert")]
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(failed)?
            .as_secs();
        let trust = |roots: &[PathBuf], chain: &[PathBuf], what| {
            if roots.is_empty() {
                if chain.is_empty() {
                    return Ok(None);
                }
                return Err(failed(format!("--{what}-chain needs --{what}-ca")));
            }
            Ok(Some(baretpm::proof::certs::CertTrust {
                roots: crate::certcmds::read_pool(roots, "--ek-ca/--ak-ca").map_err(failed)?,
                intermediates: crate::certcmds::read_pool(chain, "--ek-chain/--ak-chain")
                    .map_err(failed)?,
                at: now,
                allow_sha1: a.allow_sha1,
            }))
        };
        policy.ek_ca = trust(&a.ek_ca, &a.ek_chain, "ek")?;
        policy.ak_ca = trust(&a.ak_ca, &a.ak_chain, "ak")?;
    }
    let opts = HashOptions::default();
    for (list, out) in [
        (&a.inputs, &mut policy.inputs),
        (&a.outputs, &mut policy.outputs),
    ] {
        let targets: Vec<Target> = list.iter().map(|s| Target::parse(s)).collect();
        *out = hash::measure(&targets, &opts, &mut |_| {}).map_err(failed)?;
    }
    Ok(policy)
}

fn verify_cmd(a: VerifyArgs) -> ExitCode {
    let fail_json = |kind: &str, m: &str| {
        if a.json {
            say!(
                "{}",
                serde_json::json!({"ok": false, "error": kind, "message": m})
            );
        } else {
            eprintln!("baretpm: {}", Escaped(m));
        }
    };
    let proof = match read_proof(&a.proof) {
        Ok(p) => p,
        Err((kind, m)) => {
            fail_json(kind, &m);
            return ExitCode::from(2);
        }
    };
    let policy = match policy_from(&a) {
        Ok(p) => p,
        Err(e) => {
            fail_json("usage", &e.to_string());
            return ExitCode::from(2);
        }
    };
    let report = match verify(&proof, &policy) {
        Ok(r) => r,
        Err(rej) => rej.report,
    };
    print_report(&report, a.json);
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_report(report: &Report, json: bool) {
    if json {
        say!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        );
    } else {
        say_raw!("{}", report.table());
    }
}

/// Reads a proof for `verify` or `reference`. A file that cannot be read or is not a valid
/// proof is an input error (exit 2), with a kind for `--json`; refusing a well-formed proof is
/// the report's job (exit 1).
fn read_proof(path: &Path) -> Result<Proof, (&'static str, String)> {
    Proof::read(path).map_err(|e| (e.kind(), e.message()))
}

fn reference(a: ReferenceArgs) -> Result<(), CliError> {
    let proof = read_proof(&a.from).map_err(|(_, m)| failed(m))?;
    let bits = crate::util::parse_pcr_list(&a.pcrs, "--pcrs")?;
    // A reference is what later proofs are judged by: take it only from a proof that verifies
    // under the same checks as `verify`.
    let policy = pin_policy(a.nonce.as_deref(), a.ak_pub.as_deref(), a.allow_sha1)?;
    let report = match verify(&proof, &policy) {
        Ok(r) => r,
        Err(rej) => {
            return Err(flow_err(format!(
                "{} does not verify, no reference written: {rej}",
                a.from.display()
            )))
        }
    };
    let skipped: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == baretpm::proof::Status::Skip)
        .map(|c| c.name)
        .collect();
    if !skipped.is_empty() {
        eprintln!(
            "baretpm: {} verifies; not checked: {} (give --ak-pub and --nonce to check more)",
            a.from.display(),
            skipped.join(", ")
        );
    }
    let indices: Vec<u32> = (0..24).filter(|i| bits & (1 << i) != 0).collect();
    let r = Reference::from_proof(&proof, &indices);
    if r.pcrs.is_empty() && r.boot.is_none() {
        return Err(failed(format!(
            "{} quotes none of the PCRs {}",
            a.from.display(),
            a.pcrs
        )));
    }
    match &a.out {
        Some(p) => r.write(p).map_err(flow_err)?,
        None => say_raw!("{}", r.to_json()),
    }
    Ok(())
}

fn ak_pub(a: AkPubArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
    let mut s = open_tpm(tcti_arg, Which::Configured)?;
    let (public, name) = flow::ak_public(&mut s.tpm, a.ak.into()).map_err(flow_err)?;
    fs::write(&a.out, &public).map_err(|e| flow_err(format!("{}: {e}", a.out.display())))?;
    eprintln!(
        "baretpm: wrote {} (AK name {})",
        a.out.display(),
        hex::encode(name)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The demo

const DEMO_FILES: [(&str, &[u8]); 4] = [
    (
        "data/jan.csv",
        include_bytes!("../../../vectors/demo/data/jan.csv"),
    ),
    (
        "data/feb.csv",
        include_bytes!("../../../vectors/demo/data/feb.csv"),
    ),
    (
        "data/mar.csv",
        include_bytes!("../../../vectors/demo/data/mar.csv"),
    ),
    ("train.sh", include_bytes!("../../../vectors/demo/train.sh")),
];

fn step(n: u32, title: &str) {
    say!("\n== {n}. {title}");
}

fn demo(a: DemoArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
    let temp;
    let kept_dir;
    let dir: &Path = match &a.keep {
        Some(d) => {
            kept_dir = keep_dir(d)?;
            &kept_dir
        }
        None => {
            crate::cleanup::install().map_err(flow_err)?;
            temp = TempDir::new("baretpm-demo")
                .map_err(|e| flow_err(format!("temporary directory: {e}")))?;
            crate::cleanup::dir(temp.path().to_path_buf());
            temp.path()
        }
    };
    say!("baretpm demo: the provenance of a tiny training run, proven with a TPM quote");

    step(1, "a TPM");
    let mut s = open_tpm(tcti_arg, demo_tpm(tcti_arg))?;
    match &s.private {
        Some(sw) => say!(
            "private swtpm in {} (EK certificate: {})",
            sw.dir().display(),
            if sw.has_ek_certificate() { "yes" } else { "no" }
        ),
        None => say!("using the configured TPM"),
    }
    let banks = flow::active_banks(&mut s.tpm).map_err(flow_err)?;
    say!(
        "active PCR banks: {}",
        banks
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    );

    step(2, "the training job and its data");
    for (name, bytes) in DEMO_FILES {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| flow_err(format!("{}: {e}", parent.display())))?;
        }
        fs::write(&p, bytes).map_err(|e| flow_err(format!("{}: {e}", p.display())))?;
    }
    say!("in {}: data/ (3 CSV files) and train.sh", dir.display());
    // Work inside the directory so event names are short relative paths.
    std::env::set_current_dir(dir).map_err(|e| flow_err(format!("{}: {e}", dir.display())))?;

    step(3, "the verifier pins the AK and sends a challenge");
    let ak_kind: AkKind = a.ak.into();
    let (ak_public, ak_name) = flow::ak_public(&mut s.tpm, ak_kind).map_err(flow_err)?;
    let ak_path = dir.join("ak.pub");
    let kept = dir.display().to_string();
    fs::write(&ak_path, &ak_public).map_err(|e| flow_err(format!("{}: {e}", ak_path.display())))?;
    let nonce = fresh_nonce(&mut s.tpm)?;
    say!("AK ({ak_kind:?}) name {} -> ak.pub", hex::encode(ak_name));
    say!("nonce {}", hex::encode(&nonce));

    let data = PathBuf::from("data");
    let train = PathBuf::from("train.sh");
    let model = PathBuf::from("model.txt");
    let proof_path = PathBuf::from("proof.json");
    let d = |p: &Path| p.display().to_string();
    step(4, "run: inputs -> PCR14, train, outputs -> PCR15, quote");
    say!(
        "baretpm run --input {} --input {} --output {} --proof {} --nonce {} -- sh {} {} {}",
        d(&data),
        d(&train),
        d(&model),
        d(&proof_path),
        hex::encode(&nonce),
        d(&train),
        d(&data),
        d(&model)
    );
    let spec = RunSpec {
        inputs: vec![Target::Path(data.clone()), Target::Path(train.clone())],
        outputs: vec![Target::Path(model.clone())],
        argv: vec!["sh".into(), d(&train), d(&data), d(&model)],
        attest: AttestOptions {
            ak: ak_kind,
            nonce: Some(nonce.clone()),
            ..AttestOptions::default()
        },
        hash: HashOptions::default(),
    };
    let mut term = Term::new();
    let mut extended = flow::Extended::default();
    let proof = flow::run_tracked(&mut s.tpm, &spec, &mut term, &mut extended).map_err(|e| {
        term.clear();
        flow_err(run_guard::after_failure(
            &e,
            &extended,
            &dir.join(&proof_path),
            s.private.is_some(),
        ))
    })?;
    proof
        .write(&proof_path)
        .map_err(|e| flow_err(run_guard::proof_not_written(&proof, &proof_path, &e)))?;
    let size = fs::metadata(&proof_path).map(|m| m.len()).unwrap_or(0);
    say!(
        "proof.json: {size} bytes; PCR14 log: {}; PCR15 log: {}",
        proof
            .pcr14
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(", "),
        proof
            .pcr15
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(", ")
    );
    drop(s); // the TPM is not needed to verify

    // The verifier's side: only the proof, the pinned AK, its nonce and the files.
    let hash_opts = HashOptions::default();
    let measure = |p: &Path| {
        hash::measure_one(&Target::Path(p.to_path_buf()), &hash_opts, &mut |_| {}).map_err(flow_err)
    };
    let base_policy = Policy {
        nonce: Some(nonce.clone()),
        ak_public: Some(ak_public.clone()),
        inputs: vec![measure(&data)?, measure(&train)?],
        outputs: vec![measure(&model)?],
        ..Policy::default()
    };
    let reread = Proof::read(&proof_path).map_err(flow_err)?;

    step(5, "verify: baretpm verify proof.json --nonce N --ak-pub ak.pub --input ... --output model.txt");
    let genuine = report_of(&reread, &base_policy);
    say_raw!("{}", genuine.table());

    step(6, "a changed output: one byte of model.txt flipped");
    let mut bytes = fs::read(&model).map_err(|e| flow_err(format!("{}: {e}", model.display())))?;
    if let Some(b) = bytes.first_mut() {
        *b ^= 0x01;
    }
    fs::write(&model, &bytes).map_err(|e| flow_err(format!("{}: {e}", model.display())))?;
    say!(
        "model.txt now starts with {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(12)])
    );
    let tampered_policy = Policy {
        outputs: vec![measure(&model)?],
        ..base_policy.clone()
    };
    let tampered = report_of(&reread, &tampered_policy);
    say_raw!("{}", tampered.table());

    step(7, "a replayed proof: the verifier sends a new nonce");
    let mut other = nonce.clone();
    other[0] ^= 0xff;
    say!("new nonce {}", hex::encode(&other));
    let stale_policy = Policy {
        nonce: Some(other),
        ..base_policy.clone()
    };
    let stale = report_of(&reread, &stale_policy);
    say_raw!("{}", stale.table());

    let ok = genuine.passed()
        && tampered.failed() == ["output"]
        && stale.failed().first() == Some(&"nonce");
    say!(
        "\n== result: genuine proof {}; changed output {}; stale nonce {}",
        if genuine.passed() {
            "ACCEPTED"
        } else {
            "REFUSED (unexpected)"
        },
        if tampered.passed() {
            "ACCEPTED (unexpected)".to_string()
        } else {
            format!("REFUSED by {}", tampered.failed().join(", "))
        },
        if stale.passed() {
            "ACCEPTED (unexpected)".to_string()
        } else {
            format!("REFUSED by {}", stale.failed().join(", "))
        },
    );
    if a.keep.is_some() {
        say!("files kept in {kept}");
    }
    if ok {
        Ok(())
    } else {
        Err(flow_err("the demo did not behave as expected"))
    }
}

/// The `demo --keep` directory: created when missing, refused when it holds anything (the
/// demo would overwrite its files), and made absolute, since the demo changes into it.
fn keep_dir(d: &Path) -> Result<PathBuf, CliError> {
    let shown = || d.display().to_string();
    match fs::read_dir(d) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(failed(format!(
                    "--keep {}: the directory is not empty; the demo writes data/, train.sh, \
                     model.txt, proof.json and ak.pub there: give a new or empty directory",
                    shown()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(d).map_err(|e| failed(format!("--keep {}: {e}", shown())))?;
        }
        Err(e) => return Err(failed(format!("--keep {}: {e}", shown()))),
    }
    fs::canonicalize(d).map_err(|e| failed(format!("--keep {}: {e}", shown())))
}

fn report_of(proof: &Proof, policy: &Policy) -> Report {
    match verify(proof, policy) {
        Ok(r) => r,
        Err(rej) => rej.report,
    }
}

fn fresh_nonce(tpm: &mut Tpm<AnyTransport>) -> Result<Vec<u8>, CliError> {
    // A verifier would use its own randomness; the demo borrows the TPM's.
    let mut n = vec![0u8; 16];
    tpm.get_random(&mut n).map_err(flow_err)?;
    Ok(n)
}

/// `kind name` of an event, the name cut at 48 characters.
fn describe(e: &Event) -> String {
    let name = e.name();
    if name.chars().count() > 48 {
        let cut: String = name.chars().take(48).collect();
        format!("{} {}…", e.kind(), Escaped(&cut))
    } else {
        format!("{} {}", e.kind(), Escaped(name))
    }
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
