//! Replay: extend every bank from its initial value, event by event, into fixed arrays.
//!
//! Rules (PFP 3.3.4 and TPM 2.0 Part 1 section 34.3): PCRs 0–16 and 23 start at zero, 17–22
//! (DRTM) at all-ones; `EV_NO_ACTION` is never extended; a `StartupLocality` EV_NO_ACTION
//! event on PCR 0 (data "StartupLocality\0" + one byte) makes PCR 0 start at `00…0L`; an
//! `EV_EFI_HCRTM_EVENT` as the first measurement of PCR 0 makes it start at `00…04`.

use super::parse::{EventLog, EventLogError, TcgEventType, TcgPcrEvent2};
use super::{MAX_BANKS, NUM_PCRS};
use crate::types::hash::{self, Hasher, MAX_DIGEST};
use crate::types::HashAlg;
use core::fmt;

/// Where PCR 0 started.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PcrStart {
    /// All zero: no StartupLocality, no H-CRTM event.
    Zero,
    /// `00…0L` from the StartupLocality event at this index.
    Locality {
        /// The locality (0 or 3).
        locality: u8,
        /// Index of the StartupLocality event.
        event: usize,
    },
    /// `00…04` from the EV_EFI_HCRTM_EVENT at this index.
    Hcrtm {
        /// Index of the EV_EFI_HCRTM_EVENT.
        event: usize,
    },
}

/// One bank after replay.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ReplayedBank {
    /// The bank's hash algorithm.
    pub alg: HashAlg,
    /// False when this build cannot compute the algorithm (SM3_256): values are not set.
    pub computable: bool,
    values: [[u8; MAX_DIGEST]; NUM_PCRS],
    /// Index of the last event extended into each PCR, `usize::MAX` for none.
    last_event: [usize; NUM_PCRS],
}

impl ReplayedBank {
    /// The replayed value of `pcr` (its initial value if the log never extends it).
    pub fn value(&self, pcr: usize) -> Option<&[u8]> {
        if !self.computable || pcr >= NUM_PCRS {
            return None;
        }
        Some(&self.values[pcr][..self.alg.digest_size()])
    }

    /// The last event the log extended into `pcr`, if any.
    pub fn last_event(&self, pcr: usize) -> Option<usize> {
        self.last_event
            .get(pcr)
            .copied()
            .filter(|&e| e != usize::MAX)
    }

    /// PCRs the log extends, ascending.
    pub fn extended(&self) -> impl Iterator<Item = usize> + '_ {
        (0..NUM_PCRS).filter(|&p| self.last_event(p).is_some())
    }
}

/// The replayed PCRs of every bank the log declares. Caller-provided, fixed size
/// (about 14 KiB): [`replay`] fills it.
#[derive(Clone, Debug)]
pub struct ReplayedPcrs {
    banks: [Option<ReplayedBank>; MAX_BANKS],
    /// How PCR 0 started.
    pub pcr0_start: PcrStart,
    /// Events walked (the header included).
    pub events: usize,
}

impl Default for ReplayedPcrs {
    fn default() -> Self {
        Self {
            banks: [None; MAX_BANKS],
            pcr0_start: PcrStart::Zero,
            events: 0,
        }
    }
}

/// The value a PCR holds before anything is extended into it.
fn initial(pcr: usize, size: usize, out: &mut [u8; MAX_DIGEST]) {
    *out = [0; MAX_DIGEST];
    if (17..=22).contains(&pcr) {
        out[..size].fill(0xFF);
    }
}

/// Why a log could not be replayed: the event index and the field at fault.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplayError {
    /// The log itself is malformed.
    Parse(EventLogError),
    /// A measured event (not EV_NO_ACTION) for a PCR outside 0–23 (`pcrIndex`).
    PcrOutOfRange {
        /// Index of the event.
        event: usize,
        /// Its pcrIndex.
        pcr: u32,
    },
    /// A measured event for a DRTM PCR (17–22), which an SRTM log cannot explain.
    DrtmPcr {
        /// Index of the event.
        event: usize,
        /// Its pcrIndex.
        pcr: u32,
    },
    /// A measured event without a digest for a bank the Spec ID declares (`digests`).
    MissingDigest {
        /// Index of the event.
        event: usize,
        /// The bank without a digest.
        bank: HashAlg,
    },
    /// StartupLocality data is not "StartupLocality\0" + 1 byte (`event`).
    StartupLocalitySize {
        /// Index of the event.
        event: usize,
        /// Its eventSize.
        size: usize,
    },
    /// StartupLocality other than 0 or 3 (PFP 10.4.5.3) (`event.StartupLocality`).
    StartupLocalityValue {
        /// Index of the event.
        event: usize,
        /// The locality found.
        locality: u8,
    },
    /// A StartupLocality event after PCR 0 was extended, on another PCR, or a second one.
    StartupLocalityMisplaced {
        /// Index of the event.
        event: usize,
    },
    /// EV_EFI_HCRTM_EVENT that is not the first measurement of PCR 0 (`eventType`).
    HcrtmMisplaced {
        /// Index of the event.
        event: usize,
    },
}

impl From<EventLogError> for ReplayError {
    fn from(e: EventLogError) -> Self {
        Self::Parse(e)
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Parse(e) => e.fmt(f),
            Self::PcrOutOfRange { event, pcr } => write!(
                f,
                "event {event}, field pcrIndex: PCR {pcr:#x} is outside 0-23 and the event is measured"
            ),
            Self::DrtmPcr { event, pcr } => write!(
                f,
                "event {event}, field pcrIndex: PCR {pcr} is a DRTM PCR, not explained by a firmware log"
            ),
            Self::MissingDigest { event, bank } => write!(
                f,
                "event {event}, field digests: no {bank} digest, a bank the Spec ID event declares"
            ),
            Self::StartupLocalitySize { event, size } => write!(
                f,
                "event {event}, field event: StartupLocality data of {size} bytes, expected 17"
            ),
            Self::StartupLocalityValue { event, locality } => write!(
                f,
                "event {event}, field StartupLocality: locality {locality}, expected 0 or 3"
            ),
            Self::StartupLocalityMisplaced { event } => write!(
                f,
                "event {event}, field event: StartupLocality must be a single PCR 0 event before PCR 0 is extended"
            ),
            Self::HcrtmMisplaced { event } => write!(
                f,
                "event {event}, field eventType: EV_EFI_HCRTM_EVENT must be the first measurement of PCR 0"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ReplayError {}

const STARTUP_LOCALITY: &[u8; 16] = b"StartupLocality\0";

/// Replays `log` into `out` (every bank of the log; banks this build cannot hash are marked
/// not computable). The whole log is walked, so a malformed event anywhere is an error.
pub fn replay(log: &EventLog<'_>, out: &mut ReplayedPcrs) -> Result<(), ReplayError> {
    *out = ReplayedPcrs::default();
    for (slot, a) in out.banks.iter_mut().zip(log.algorithms()) {
        let mut bank = ReplayedBank {
            alg: a.alg,
            computable: hash::available(a.alg),
            values: [[0; MAX_DIGEST]; NUM_PCRS],
            last_event: [usize::MAX; NUM_PCRS],
        };
        for (i, v) in bank.values.iter_mut().enumerate() {
            initial(i, a.alg.digest_size(), v);
        }
        *slot = Some(bank);
    }
    let mut pcr0_extended = false;
    let mut locality: Option<(u8, usize)> = None;
    for e in log.events() {
        let e = e?;
        out.events += 1;
        if e.event_type == TcgEventType::EV_NO_ACTION {
            if e.event.starts_with(STARTUP_LOCALITY) {
                if e.event.len() != 17 {
                    return Err(ReplayError::StartupLocalitySize {
                        event: e.index,
                        size: e.event.len(),
                    });
                }
                if e.pcr_index != 0 || pcr0_extended || locality.is_some() {
                    return Err(ReplayError::StartupLocalityMisplaced { event: e.index });
                }
                let l = e.event[16];
                if !matches!(l, 0 | 3) {
                    return Err(ReplayError::StartupLocalityValue {
                        event: e.index,
                        locality: l,
                    });
                }
                locality = Some((l, e.index));
            }
            continue;
        }
        let pcr = check_pcr(&e)?;
        let hcrtm = e.event_type == TcgEventType::EV_EFI_HCRTM_EVENT;
        if hcrtm && (pcr != 0 || pcr0_extended) {
            return Err(ReplayError::HcrtmMisplaced { event: e.index });
        }
        if pcr == 0 && !pcr0_extended {
            pcr0_extended = true;
            let start = if hcrtm {
                Some((4, PcrStart::Hcrtm { event: e.index }))
            } else {
                locality.map(|(l, event)| (l, PcrStart::Locality { locality: l, event }))
            };
            if let Some((l, start)) = start {
                out.pcr0_start = start;
                for b in out.banks.iter_mut().flatten() {
                    let size = b.alg.digest_size();
                    b.values[0][size - 1] = l;
                }
            }
        }
        for b in out.banks.iter_mut().flatten() {
            let d = e.digests.get(b.alg).ok_or(ReplayError::MissingDigest {
                event: e.index,
                bank: b.alg,
            })?;
            b.last_event[pcr] = e.index;
            if !b.computable {
                continue;
            }
            let size = b.alg.digest_size();
            let Ok(mut h) = Hasher::new(b.alg) else {
                b.computable = false;
                continue;
            };
            h.update(&b.values[pcr][..size]);
            h.update(d);
            b.values[pcr][..size].copy_from_slice(h.finish().as_bytes());
        }
    }
    Ok(())
}

fn check_pcr(e: &TcgPcrEvent2<'_>) -> Result<usize, ReplayError> {
    let pcr = e.pcr_index;
    if pcr as usize >= NUM_PCRS {
        return Err(ReplayError::PcrOutOfRange {
            event: e.index,
            pcr,
        });
    }
    if (17..=22).contains(&pcr) {
        return Err(ReplayError::DrtmPcr {
            event: e.index,
            pcr,
        });
    }
    Ok(pcr as usize)
}

/// A PCR value to compare with the replay (typically from a verified quote).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ExpectedPcr<'b> {
    /// The bank.
    pub bank: HashAlg,
    /// The PCR index.
    pub pcr: u32,
    /// The value, as quoted.
    pub value: &'b [u8],
}

/// Why a quoted PCR value is not explained by the log. Each bank is judged on its own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CompareError {
    /// The log carries no digests for this bank (a SHA-1 log against a SHA-256 quote).
    BankNotInLog {
        /// The bank.
        bank: HashAlg,
        /// The PCR.
        pcr: u32,
    },
    /// The log declares the bank, but this build cannot compute it (SM3_256).
    BankNotComputable {
        /// The bank.
        bank: HashAlg,
        /// The PCR.
        pcr: u32,
    },
    /// PCR index outside 0–23.
    PcrOutOfRange {
        /// The bank.
        bank: HashAlg,
        /// The PCR index given.
        pcr: u32,
    },
    /// The expected value's length is not the bank's digest size.
    ValueLength {
        /// The bank.
        bank: HashAlg,
        /// The PCR.
        pcr: u32,
        /// The value's length in bytes.
        len: usize,
    },
    /// The log extends the PCR but replays to another value; `last_event` is the last event
    /// extended into it.
    Mismatch {
        /// The bank.
        bank: HashAlg,
        /// The PCR.
        pcr: u32,
        /// Index of the last event extended into it.
        last_event: usize,
    },
    /// The log never extends the PCR, and the value is not its initial value.
    NotExtendedNotInitial {
        /// The bank.
        bank: HashAlg,
        /// The PCR.
        pcr: u32,
    },
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BankNotInLog { bank, pcr } => {
                write!(f, "{bank} PCR {pcr}: the log has no {bank} digests")
            }
            Self::BankNotComputable { bank, pcr } => {
                write!(f, "{bank} PCR {pcr}: {bank} is not available in this build")
            }
            Self::PcrOutOfRange { bank, pcr } => {
                write!(f, "{bank} PCR {pcr}: index outside 0-23")
            }
            Self::ValueLength { bank, pcr, len } => write!(
                f,
                "{bank} PCR {pcr}: value of {len} bytes, a {bank} digest has {}",
                bank.digest_size()
            ),
            Self::Mismatch {
                bank,
                pcr,
                last_event,
            } => write!(
                f,
                "{bank} PCR {pcr}: the log replays to another value (last extended by event {last_event})"
            ),
            Self::NotExtendedNotInitial { bank, pcr } => write!(
                f,
                "{bank} PCR {pcr}: the log never extends it and the value is not the initial one"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CompareError {}

impl ReplayedPcrs {
    /// The replayed bank for `alg`, if the log declares it.
    pub fn bank(&self, alg: HashAlg) -> Option<&ReplayedBank> {
        self.banks.iter().flatten().find(|b| b.alg == alg)
    }

    /// Every bank, in the order the Spec ID event declares them.
    pub fn banks(&self) -> impl Iterator<Item = &ReplayedBank> {
        self.banks.iter().flatten()
    }

    /// Checks one expected PCR value against the replay of its own bank.
    pub fn check(&self, e: &ExpectedPcr<'_>) -> Result<(), CompareError> {
        let (bank, pcr) = (e.bank, e.pcr);
        if pcr as usize >= NUM_PCRS {
            return Err(CompareError::PcrOutOfRange { bank, pcr });
        }
        let b = self
            .bank(bank)
            .ok_or(CompareError::BankNotInLog { bank, pcr })?;
        if e.value.len() != bank.digest_size() {
            return Err(CompareError::ValueLength {
                bank,
                pcr,
                len: e.value.len(),
            });
        }
        let replayed = b
            .value(pcr as usize)
            .ok_or(CompareError::BankNotComputable { bank, pcr })?;
        if replayed == e.value {
            return Ok(());
        }
        Err(match b.last_event(pcr as usize) {
            Some(last_event) => CompareError::Mismatch {
                bank,
                pcr,
                last_event,
            },
            None => CompareError::NotExtendedNotInitial { bank, pcr },
        })
    }

    /// Checks every expected value; each bank must match on its own (never "any bank").
    pub fn compare(&self, expected: &[ExpectedPcr<'_>]) -> Result<(), CompareError> {
        expected.iter().try_for_each(|e| self.check(e))
    }
}
