//! `run` never loses a run silently: what is checked before the first PCR_Extend, and what is
//! said (and saved) when a step fails after it.

use std::path::{Path, PathBuf};

use baretpm::proof::event::{INPUT_PCR, OUTPUT_PCR};
use baretpm::proof::file::Proof;
use baretpm::proof::flow::{Extended, FlowError};
use baretpm::proof::hash::Target;
use baretpm::proof::preflight::{self, NamedPath, PreflightError};
use baretpm::proof::JsonFile;

/// Everything `run` can check before it opens the TPM: the command (found, runnable, short
/// enough for an event), the proof file (its directory exists and takes a new file), and no
/// path given twice (the proof in particular is none of the inputs and outputs).
pub fn preflight(
    inputs: &[Target],
    outputs: &[Target],
    proof: &Path,
    argv: &[String],
) -> Result<(), PreflightError> {
    preflight::check_command(argv)?;
    let proof_target = Target::Path(proof.to_path_buf());
    let mut named: Vec<NamedPath<'_>> = inputs
        .iter()
        .map(|target| NamedPath {
            option: "--input",
            target,
        })
        .collect();
    named.extend(outputs.iter().map(|target| NamedPath {
        option: "--output",
        target,
    }));
    named.push(NamedPath {
        option: "--proof",
        target: &proof_target,
    });
    preflight::check_distinct(&named)?;
    preflight::check_writable(proof, "--proof")
}

/// Joins the lines of one message: the caller prints the first after `baretpm: `.
const NEXT_LINE: &str = "\nbaretpm: ";

/// Where the event log of `pcr` is saved after a failure: next to the proof.
fn log_path(proof: &Path, pcr: u32) -> PathBuf {
    let mut name = proof.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".pcr{pcr}.json"));
    proof.with_file_name(name)
}

/// The message for a `run` that failed: the error, then, when PCRs were already extended,
/// which ones, in which banks, where their event logs were saved, and what to do next.
pub fn after_failure(
    error: &FlowError,
    extended: &Extended,
    proof: &Path,
    private: bool,
) -> String {
    let mut lines = vec![error.to_string()];
    if extended.is_empty() {
        return lines.join(NEXT_LINE);
    }
    let banks = extended
        .banks
        .iter()
        .map(|b| b.name())
        .collect::<Vec<_>>()
        .join(", ");
    let mut what = Vec::new();
    for log in [&extended.pcr14, &extended.pcr15] {
        if !log.events.is_empty() {
            what.push(format!("PCR{} ({} events)", log.pcr, log.events.len()));
        }
    }
    lines.push(format!(
        "{} already extended in the {banks} bank(s)",
        what.join(" and ")
    ));
    if private {
        lines.push(
            "(on the private swtpm, which is discarded now: nothing to recover; run again)".into(),
        );
        return lines.join(NEXT_LINE);
    }
    lines.push(
        "these events stay in PCR14/PCR15 until the TPM is reset; a new run records them as \
         its start value (explained by the runtime log when one is kept, otherwise reported \
         as not explained)"
            .into(),
    );
    let mut saved = Vec::new();
    for log in [&extended.pcr14, &extended.pcr15] {
        if log.events.is_empty() {
            continue;
        }
        let path = log_path(proof, log.pcr);
        match log.write(&path) {
            Ok(()) => saved.push((log.pcr, path)),
            Err(e) => lines.push(format!("could not save the PCR{} event log: {e}", log.pcr)),
        }
    }
    for (pcr, path) in &saved {
        lines.push(format!(
            "the PCR{pcr} events are saved in {} (they replay to the TPM's PCR{pcr} now; keep \
             the file)",
            path.display()
        ));
    }
    // After a failed or unstartable command only a new run makes an honest proof.
    let command_ran = !matches!(
        error,
        FlowError::CommandFailed { .. } | FlowError::CommandStart { .. }
    );
    lines.push("next: run again (a reboot gives a zero start)".into());
    if command_ran {
        let l14 = log_path(proof, INPUT_PCR).display().to_string();
        let l15 = log_path(proof, OUTPUT_PCR).display().to_string();
        let attest = format!(
            "baretpm attest --log {l14} --log {l15} --proof {}",
            proof.display()
        );
        let steps = if extended.pcr15.events.is_empty() {
            // The outputs were not measured (one was missing or unreadable).
            format!("baretpm measure --pcr 15 --log {l15} OUTPUTS..., then {attest}")
        } else {
            attest
        };
        lines.push(format!(
            "or, in this boot, finish from the saved logs: {steps} (that proof has no command \
             record: the verifier skips the command check)"
        ));
    }
    lines.join(NEXT_LINE)
}

/// The message when the finished proof could not be written to `path`: the proof is saved
/// in the temporary directory instead when possible.
pub fn proof_not_written(proof: &Proof, path: &Path, error: &dyn std::fmt::Display) -> String {
    let spare = std::env::temp_dir().join(format!("baretpm-proof-{}.json", std::process::id()));
    match proof.write(&spare) {
        Ok(()) => format!(
            "{error}{NEXT_LINE}the proof was made but not written to {}; it is saved in {} instead (move \
             it where it belongs: PCR14 and PCR15 are extended, so the run cannot be repeated \
             until a reboot)",
            path.display(),
            spare.display()
        ),
        Err(e2) => format!(
            "{error}{NEXT_LINE}the proof was made but could not be written to {} nor to {} ({e2}); here \
             it is:\n{}",
            path.display(),
            spare.display(),
            proof.to_json()
        ),
    }
}
