//! Where PCR14 and PCR15 stood when a run began.
//!
//! PCR14 is rarely zero on a real machine: shim measures MokList, MokListX and MokSBState into
//! it on every Secure Boot Linux, and a second run in one boot finds it extended by the first.
//! So `run`, `measure` and `attest` read each bank's value of PCR14/15 before their first
//! extend and record it ([`RunStart`]); the proof's own events replay from that start to the
//! quoted value. The start itself is not signed, but it is bound by the hash chain: no other
//! start replays through the same events to the quoted value, so a passing `pcr14-log` row
//! proves the run's events were the last ones, in order, whatever came before.
//!
//! What came before is reported by the `pcr14-start` / `pcr15-start` rows: zero; explained by
//! the firmware log's events in that PCR; explained by earlier baretpm runs in this boot (their
//! events, kept in a machine-wide runtime log, travel in the proof as `earlier`); or not
//! explained (a warning unless the verifier requires an explained start).

use std::string::String;
use std::vec::Vec;
use std::{format, vec};

use super::event::{extend, Event};
use super::file::Proof;
use super::verify::{Policy, Report, Status};
use super::{INPUT_PCR, OUTPUT_PCR};
use crate::eventlog::{replay, EventLog, ReplayedPcrs};
use crate::types::hash::HashUnavailable;
use crate::types::HashAlg;

/// The value of PCR14 or PCR15 in each bank before a run's first event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunStart {
    /// The PCR: 14 or 15.
    pub pcr: u32,
    /// Each bank's value, as read from the TPM before the first extend.
    pub values: Vec<(HashAlg, Vec<u8>)>,
    /// Events earlier baretpm runs in this boot extended into the PCR, in order (from the
    /// runtime log), when they explain `values`; empty otherwise.
    pub earlier: Vec<Event>,
}

impl RunStart {
    /// Zero in every bank of `banks`.
    pub fn zero(pcr: u32, banks: &[HashAlg]) -> RunStart {
        RunStart {
            pcr,
            values: banks
                .iter()
                .map(|&b| (b, vec![0; b.digest_size()]))
                .collect(),
            earlier: vec![],
        }
    }

    /// The start value of `bank`, if recorded.
    pub fn value(&self, bank: HashAlg) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(b, _)| *b == bank)
            .map(|(_, v)| v.as_slice())
    }

    /// Every recorded bank is zero.
    pub fn is_zero(&self) -> bool {
        self.values.iter().all(|(_, v)| v.iter().all(|&x| x == 0))
    }
}

/// Replays `events` in `bank` from `start` instead of zero.
pub fn replay_from(
    start: &[u8],
    bank: HashAlg,
    events: &[Event],
) -> Result<Vec<u8>, HashUnavailable> {
    let mut pcr = start.to_vec();
    for e in events {
        pcr = extend(bank, &pcr, e.extend_digest(bank)?.as_bytes())?
            .as_bytes()
            .to_vec();
    }
    Ok(pcr)
}

/// The start of `pcr` in `bank` as `proof` records it: zero when it records no start for
/// that PCR (version 1, or a zero start), `None` when it records a start without that bank.
pub fn start_of(proof: &Proof, pcr: u32, bank: HashAlg) -> Option<Vec<u8>> {
    match proof.starts.iter().find(|s| s.pcr == pcr) {
        None => Some(vec![0; bank.digest_size()]),
        Some(s) => s.value(bank).map(<[u8]>::to_vec),
    }
}

/// What the firmware log leaves in `pcr` of `bank` (zero when the log does not extend it,
/// `None` when there is no usable log or it lacks the bank).
pub fn boot_log_value(log: &[u8], pcr: u32, bank: HashAlg) -> Option<Vec<u8>> {
    let parsed = EventLog::parse(log).ok()?;
    let mut r = std::boxed::Box::<ReplayedPcrs>::default();
    replay(&parsed, &mut r).ok()?;
    r.bank(bank)?.value(pcr as usize).map(<[u8]>::to_vec)
}

/// Where a start value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Zero in every bank: nothing extended the PCR before.
    Zero,
    /// The firmware log's events in the PCR (shim's MokList into PCR14).
    BootLog,
    /// Earlier baretpm runs' events, from zero or from the firmware log's value.
    EarlierRuns {
        /// Whether the runs started from the firmware log's value rather than zero.
        after_boot_log: bool,
    },
    /// Neither: something else extended the PCR.
    NotExplained,
}

/// Explains `start` bank by bank; every bank must be explained on its own.
pub fn explain(start: &RunStart, boot_log: Option<&[u8]>) -> Origin {
    if start.values.is_empty() {
        return Origin::NotExplained;
    }
    if start.earlier.is_empty() && start.is_zero() {
        return Origin::Zero;
    }
    let mut after_boot_log = false;
    for (bank, v) in &start.values {
        let zero = vec![0; bank.digest_size()];
        let base = boot_log
            .and_then(|l| boot_log_value(l, start.pcr, *bank))
            .unwrap_or_else(|| zero.clone());
        match replay_from(&base, *bank, &start.earlier) {
            Ok(x) if x == *v => after_boot_log |= base != zero,
            _ => return Origin::NotExplained,
        }
    }
    if start.earlier.is_empty() {
        Origin::BootLog
    } else {
        Origin::EarlierRuns { after_boot_log }
    }
}

fn row_name(pcr: u32) -> &'static str {
    if pcr == INPUT_PCR {
        "pcr14-start"
    } else {
        "pcr15-start"
    }
}

/// The `pcr14-start` and `pcr15-start` rows.
pub(crate) fn push_rows(proof: &Proof, policy: &Policy, quoted: bool, r: &mut Report) {
    for pcr in [INPUT_PCR, OUTPUT_PCR] {
        let name = row_name(pcr);
        let zero;
        let start = match proof.starts.iter().find(|s| s.pcr == pcr) {
            Some(s) => s,
            None => {
                zero = RunStart::zero(pcr, &[]);
                &zero
            }
        };
        if !quoted {
            r.push(
                name,
                Status::NotRun,
                "not proven: the quote did not verify, so the start value is the proof's own claim",
            );
            continue;
        }
        if start.values.is_empty() {
            r.push(
                name,
                Status::Pass,
                format!(
                    "zero: the log replays from zero, so nothing was extended into PCR{pcr} \
                     before this run's events"
                ),
            );
            continue;
        }
        match explain(start, proof.boot_log.as_deref()) {
            Origin::Zero => r.push(
                name,
                Status::Pass,
                format!("zero: nothing extended PCR{pcr} before this run"),
            ),
            Origin::BootLog => r.push(
                name,
                Status::Pass,
                format!(
                    "explained by the firmware event log: its PCR{pcr} events (a boot \
                     loader's, e.g. shim's MokList) replay to the start value in every bank"
                ),
            ),
            Origin::EarlierRuns { after_boot_log } => r.push(
                name,
                Status::Pass,
                format!(
                    "explained by {} event(s) of earlier baretpm runs in this boot (carried in \
                     the proof, not matched by --input/--output){}",
                    start.earlier.len(),
                    if after_boot_log {
                        ", after the firmware log's own PCR events"
                    } else {
                        ""
                    }
                ),
            ),
            Origin::NotExplained if policy.require_explained_start => r.push(
                name,
                Status::Fail,
                format!(
                    "not explained: PCR{pcr} was extended before this run by something neither \
                     the firmware log nor earlier baretpm runs account for \
                     (--require-explained-start)"
                ),
            ),
            Origin::NotExplained => r.push(
                name,
                Status::Skip,
                format!(
                    "WARNING: not explained: PCR{pcr} was extended before this run by something \
                     neither the firmware log nor earlier baretpm runs account for; this run's \
                     own events are still proven from that start (--require-explained-start \
                     refuses such a proof)"
                ),
            ),
        }
    }
}

/// A short description of a start for notes: `zero` or the first bytes of each bank.
pub fn describe(start: &RunStart) -> String {
    if start.is_zero() {
        return "zero".into();
    }
    start
        .values
        .iter()
        .map(|(b, v)| format!("{b}:{}…", hex::encode(&v[..v.len().min(8)])))
        .collect::<Vec<_>>()
        .join(" ")
}
