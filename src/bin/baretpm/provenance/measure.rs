//! `measure`: extend files, directories or text into PCR14/15 and append to an event log.

use baretpm::proof::event::{Event, INPUT_PCR};
use baretpm::proof::file::EventLog;
use baretpm::proof::flow::{self, Observer};
use baretpm::proof::hash::{self, Target};
use baretpm::proof::JsonFile;

use crate::util::{failed, flow_err, CliError};

use super::args::{hash_options, MeasureArgs};
use super::progress::Term;
use super::setup::{
    begin_session, lock_runtime, machine_boot_log, open_session, runtime_path, term_note, Which,
};

pub(super) fn measure(a: MeasureArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
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
    let mut s = open_session(tcti_arg, Which::Configured)?;
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
