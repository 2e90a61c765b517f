//! Setting up the TPM side: which TPM, opening it (or a private swtpm), the runtime log,
//! the default firmware log and the flow's session.

use std::path::{Path, PathBuf};

use baretpm::proof::flow::{self, AttestOptions};
use baretpm::proof::runtime;
use baretpm::proof::session::FlowSession;
use baretpm::proof::swtpm::PrivateSwtpm;
use baretpm::text::Escaped;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::{self, AnyTransport};

use crate::util::{failed, flow_err, CliError};

use super::args::{read_boot_log, session_mode, QuoteArgs};

/// A TPM connection, and the private swtpm behind it when one was started. The connection is
/// dropped before the swtpm.
pub(super) struct Session {
    pub(super) tpm: Tpm<AnyTransport>,
    pub(super) private: Option<PrivateSwtpm>,
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
pub(super) enum Which {
    /// -T, else TPM2TOOLS_TCTI, else /dev/tpmrm0.
    Configured,
    /// A throw-away swtpm started here.
    Private,
}

/// `run`'s TPM: never a private swtpm unless asked for, since its proof says nothing about
/// the machine.
pub(super) fn run_tpm(private_swtpm: bool, tcti_arg: Option<&str>) -> Result<Which, CliError> {
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
pub(super) fn demo_tpm(tcti_arg: Option<&str>) -> Which {
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

/// Opens `which` TPM (through [`crate::util::open_tpm`]); an unreachable one is a flow error
/// (exit 1).
pub(super) fn open_session(tcti_arg: Option<&str>, which: Which) -> Result<Session, CliError> {
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

/// Starts the flow's session for `measure` and `attest`, showing its warnings and notes.
pub(super) fn begin_session(
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
pub(super) fn runtime_path(s: &mut Session) -> Option<PathBuf> {
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
pub(super) fn lock_runtime(path: Option<&Path>) -> Result<Option<runtime::RuntimeLog>, CliError> {
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
pub(super) fn term_note(m: &str) {
    eprintln!("baretpm: {}", Escaped(m));
}

/// The default firmware log: the kernel's, when the TPM is a device (a swtpm's PCRs owe
/// nothing to this machine's firmware) and neither --boot-log nor --no-boot-log was given.
pub(super) fn default_boot_log(q: &QuoteArgs, opts: &mut AttestOptions, s: &mut Session) {
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
pub(super) fn machine_boot_log(s: &mut Session) -> Option<Result<Vec<u8>, CliError>> {
    if !matches!(s.tpm.transport(), AnyTransport::Device(_)) {
        return None;
    }
    Some(read_boot_log(Path::new(
        baretpm::proof::boot::SYSFS_BOOT_LOG,
    )))
}
