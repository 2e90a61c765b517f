//! `attest`: quote PCR14/15 and write a proof with the event logs `measure` made.

use baretpm::proof::event::{Event, INPUT_PCR};
use baretpm::proof::file::EventLog;
use baretpm::proof::flow::{self};
use baretpm::proof::JsonFile;
use baretpm::text::Escaped;

use crate::util::{failed, flow_err, CliError};

use super::args::{attest_options, AttestArgs};
use super::run::unsigned_tpm_info;
use super::setup::{
    begin_session, default_boot_log, lock_runtime, open_session, runtime_path, Which,
};

pub(super) fn attest(a: AttestArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
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
    let mut s = open_session(tcti_arg, Which::Configured)?;
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
