//! `run`: measure inputs, run the command, measure outputs, quote, write the proof.

use baretpm::proof::file::Proof;
use baretpm::proof::flow::{self, AttestOptions, Observer, RunSpec};
use baretpm::proof::hash::Target;
use baretpm::proof::JsonFile;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::AnyTransport;

use crate::run_guard;
use crate::util::{failed, flow_err, CliError};

use super::args::{attest_options, hash_options, RunArgs};
use super::progress::Term;
use super::setup::{default_boot_log, open_session, run_tpm, runtime_path};

pub(super) fn run(a: RunArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
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
    let mut s = open_session(tcti_arg, which)?;
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
pub(super) fn unsigned_tpm_info(proof: &Proof) -> String {
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
