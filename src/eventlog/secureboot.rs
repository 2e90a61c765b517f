//! Structure checks a verifier needs before trusting decoded events, and the Secure Boot
//! summary (PCR 7 and the boot applications of PCR 4).
//!
//! The event type is not measured, only the digest (TCG's answer to go-attestation's 2019
//! report). So facts come only from events whose digest is recomputed from their data, an
//! event that carries a separator's digest must be a separator, a PCR 0–7 has at most one
//! separator, and an unexpected event type in PCR 7 is refused rather than skipped.

use super::decode::{
    check_digest, DigestCheck, SeparatorValue, UefiImageLoadEvent, UefiVariableData,
    EFI_GLOBAL_VARIABLE, EFI_IMAGE_SECURITY_DATABASE_GUID,
};
use super::parse::{EventLog, EventLogError, TcgEventType, TcgPcrEvent2};
use super::MAX_BANKS;
use crate::types::hash::{self, Digest};
use crate::types::HashAlg;
use core::fmt;

/// Why a log's structure cannot be trusted, naming the event and field.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StructureError {
    /// The log itself does not parse.
    Parse(EventLogError),
    /// A non-separator event whose digest is a separator's (the retyping attack).
    FakeSeparator {
        /// Index of the event.
        event: usize,
        /// Its type.
        event_type: TcgEventType,
        /// The bank whose digest is a separator's.
        bank: HashAlg,
    },
    /// A separator whose data is not 00000000, FFFFFFFF or WBCL (`event`).
    SeparatorData {
        /// Index of the separator.
        event: usize,
    },
    /// A separator whose digest is not the hash of its data (`digests`).
    SeparatorDigest {
        /// Index of the separator.
        event: usize,
        /// The bank whose digest is wrong.
        bank: HashAlg,
    },
    /// A second separator in one of PCRs 0–7 (`pcrIndex`).
    DuplicateSeparator {
        /// Index of the second separator.
        event: usize,
        /// The PCR.
        pcr: u32,
        /// Index of the first separator.
        first: usize,
    },
    /// A PCR 7 event of a type a Secure Boot verifier does not expect (`eventType`).
    UnexpectedPcr7Event {
        /// Index of the event.
        event: usize,
        /// Its type.
        event_type: TcgEventType,
    },
    /// An EV_EFI_ACTION in PCR 7 other than "DMA Protection Disabled" / "UEFI Debug Mode".
    UnexpectedPcr7Action {
        /// Index of the event.
        event: usize,
    },
    /// A PCR 7 event whose digest does not match its data in some bank (`digests`).
    Pcr7Digest {
        /// Index of the event.
        event: usize,
        /// The bank whose digest is wrong.
        bank: HashAlg,
    },
    /// A PCR 7 event whose data is not a UEFI_VARIABLE_DATA (`event`).
    Pcr7VariableData {
        /// Index of the event.
        event: usize,
    },
    /// A Secure Boot variable measured twice (`UnicodeName`).
    DuplicateVariable {
        /// Index of the second measurement.
        event: usize,
        /// Index of the first measurement.
        first: usize,
    },
    /// A configuration variable measured after PCR 7's separator (`eventType`).
    VariableAfterSeparator {
        /// Index of the variable's event.
        event: usize,
    },
    /// The SecureBoot variable's data is neither 0 nor 1 byte (`VariableDataLength`).
    SecureBootDataSize {
        /// Index of the event.
        event: usize,
        /// Length of the variable data in bytes.
        size: usize,
    },
}

impl From<EventLogError> for StructureError {
    fn from(e: EventLogError) -> Self {
        Self::Parse(e)
    }
}

impl fmt::Display for StructureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Parse(e) => e.fmt(f),
            Self::FakeSeparator { event, event_type, bank } => write!(
                f,
                "event {event}, field digests: {event_type} carries a separator's {bank} digest"
            ),
            Self::SeparatorData { event } => write!(
                f,
                "event {event}, field event: separator data is not 00000000, FFFFFFFF or WBCL"
            ),
            Self::SeparatorDigest { event, bank } => write!(
                f,
                "event {event}, field digests: separator's {bank} digest is not the hash of its data"
            ),
            Self::DuplicateSeparator { event, pcr, first } => write!(
                f,
                "event {event}, field pcrIndex: second separator in PCR {pcr} (first: event {first})"
            ),
            Self::UnexpectedPcr7Event { event, event_type } => write!(
                f,
                "event {event}, field eventType: {event_type} is not expected in PCR 7"
            ),
            Self::UnexpectedPcr7Action { event } => write!(
                f,
                "event {event}, field event: unexpected EV_EFI_ACTION text in PCR 7"
            ),
            Self::Pcr7Digest { event, bank } => write!(
                f,
                "event {event}, field digests: {bank} digest is not the hash of the event data"
            ),
            Self::Pcr7VariableData { event } => write!(
                f,
                "event {event}, field event: not a UEFI_VARIABLE_DATA"
            ),
            Self::DuplicateVariable { event, first } => write!(
                f,
                "event {event}, field UnicodeName: variable already measured by event {first}"
            ),
            Self::VariableAfterSeparator { event } => write!(
                f,
                "event {event}, field eventType: configuration variable after PCR 7's separator"
            ),
            Self::SecureBootDataSize { event, size } => write!(
                f,
                "event {event}, field VariableDataLength: SecureBoot data of {size} byte(s) is not a single 0 or 1"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for StructureError {}

/// The separator digests of every computable bank of the log: `[bank][value]`.
struct SeparatorDigests {
    d: [(HashAlg, [Option<Digest>; 3]); MAX_BANKS],
    len: usize,
}

impl SeparatorDigests {
    fn new(log: &EventLog<'_>) -> Self {
        let mut d = [(HashAlg::Sha1, [None; 3]); MAX_BANKS];
        let mut len = 0;
        for a in log.algorithms() {
            let mut v = [None; 3];
            for (slot, data) in v.iter_mut().zip(SeparatorValue::ALL) {
                *slot = hash::digest(a.alg, &[data]).ok();
            }
            d[len] = (a.alg, v);
            len += 1;
        }
        Self { d, len }
    }

    fn matches(&self, e: &TcgPcrEvent2<'_>) -> Option<HashAlg> {
        self.d[..self.len].iter().find_map(|(alg, ds)| {
            let have = e.digests.get(*alg)?;
            ds.iter()
                .flatten()
                .any(|d| d.as_bytes() == have)
                .then_some(*alg)
        })
    }
}

/// Every bank with a digest must verify the data (a quirk named in [`Quirk`] counts).
///
/// [`Quirk`]: super::Quirk
fn require_verified(e: &TcgPcrEvent2<'_>) -> Result<(), HashAlg> {
    for (alg, _) in e.digests.iter() {
        match check_digest(e, alg) {
            DigestCheck::Verified | DigestCheck::VerifiedQuirk(_) | DigestCheck::Unavailable => {}
            DigestCheck::Mismatch | DigestCheck::NotRecomputable => return Err(alg),
        }
    }
    Ok(())
}

/// Checks separators across the log: data, digests, no fakes, no duplicates in PCRs 0–7.
pub fn check_structure(log: &EventLog<'_>) -> Result<(), StructureError> {
    let seps = SeparatorDigests::new(log);
    let mut first_sep = [usize::MAX; 8];
    for e in log.events() {
        let e = e?;
        if e.event_type == TcgEventType::EV_NO_ACTION {
            continue;
        }
        if e.event_type != TcgEventType::EV_SEPARATOR {
            // Boot Guard firmware measures four zero bytes of S-CRTM content into PCR 0
            // (glinux-alex event 4): the one non-separator that carries H(00000000).
            let boot_guard_zero =
                e.pcr_index == 0 && e.event_type == TcgEventType::EV_S_CRTM_CONTENTS;
            if let Some(bank) = seps.matches(&e).filter(|_| !boot_guard_zero) {
                return Err(StructureError::FakeSeparator {
                    event: e.index,
                    event_type: e.event_type,
                    bank,
                });
            }
            continue;
        }
        if SeparatorValue::parse(e.event).is_none() {
            return Err(StructureError::SeparatorData { event: e.index });
        }
        require_verified(&e).map_err(|bank| StructureError::SeparatorDigest {
            event: e.index,
            bank,
        })?;
        if let Some(first) = first_sep.get_mut(e.pcr_index as usize) {
            if *first != usize::MAX {
                return Err(StructureError::DuplicateSeparator {
                    event: e.index,
                    pcr: e.pcr_index,
                    first: *first,
                });
            }
            *first = e.index;
        }
    }
    Ok(())
}

/// A Secure Boot variable measured into PCR 7, digest verified.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MeasuredVariable<'a> {
    /// Index of the event in the log.
    pub event: usize,
    /// The variable's data (`VariableData`).
    pub data: &'a [u8],
}

/// Most boot applications a summary lists (real logs have 1–6); more set `truncated`.
pub const MAX_BOOT_APPLICATIONS: usize = 32;
/// Most authorities recorded per boot application.
pub const MAX_AUTHORITIES: usize = 8;

/// An EV_EFI_BOOT_SERVICES_APPLICATION of PCR 4 and the EV_EFI_VARIABLE_AUTHORITY events of
/// PCR 7 logged since the previous application (firmware logs an authority once, the first
/// time it verifies an image: an empty list means "an authority already listed", or no
/// verification at all when Secure Boot is off).
#[derive(Clone, Debug)]
pub struct BootApplication<'a> {
    /// Index of the application's event in the log.
    pub event: usize,
    /// Its UEFI_IMAGE_LOAD_EVENT, `None` when the data does not decode.
    pub image: Option<UefiImageLoadEvent<'a>>,
    /// The authorities logged for it: event index and the db entry (UEFI_VARIABLE_DATA).
    pub authorities: heapless::Vec<(usize, UefiVariableData<'a>), MAX_AUTHORITIES>,
}

/// What the log says about Secure Boot. Built only from digest-verified PCR 7 events.
#[derive(Clone, Debug, Default)]
pub struct SecureBootSummary<'a> {
    /// The SecureBoot variable: `Some(true)` when its data is 1, `Some(false)` when 0 or
    /// empty (not set), `None` when the log does not measure it.
    pub secure_boot: Option<bool>,
    /// Index of the SecureBoot variable's event.
    pub secure_boot_event: Option<usize>,
    /// PK (the platform key), as measured.
    pub pk: Option<MeasuredVariable<'a>>,
    /// KEK (the key exchange keys), as measured.
    pub kek: Option<MeasuredVariable<'a>>,
    /// db (the allowed signatures database), as measured.
    pub db: Option<MeasuredVariable<'a>>,
    /// dbx (the forbidden signatures database), as measured.
    pub dbx: Option<MeasuredVariable<'a>>,
    /// PCR 7 separator's event index.
    pub separator: Option<usize>,
    /// "DMA Protection Disabled" was measured.
    pub dma_protection_disabled: bool,
    /// "UEFI Debug Mode" was measured.
    pub debug_mode: bool,
    /// Boot applications of PCR 4, in order, with their authorities.
    pub applications: heapless::Vec<BootApplication<'a>, MAX_BOOT_APPLICATIONS>,
    /// Authorities logged after the last application (shim verifying the kernel, ...).
    pub later_authorities: heapless::Vec<(usize, UefiVariableData<'a>), MAX_AUTHORITIES>,
    /// More applications or authorities than the lists hold.
    pub truncated: bool,
}

impl<'a> SecureBootSummary<'a> {
    /// Secure Boot is on, and its keys (PK, KEK, db) are measured and not empty.
    pub fn enabled(&self) -> bool {
        self.secure_boot == Some(true)
            && [self.pk, self.kek, self.db]
                .iter()
                .all(|v| v.is_some_and(|v| !v.data.is_empty()))
    }

    /// Reads the Secure Boot facts from a log: checks every separator and every PCR 7 event
    /// (digests, types, order) and refuses a log that does not hold together.
    pub fn from_log(log: &EventLog<'a>) -> Result<Self, StructureError> {
        let mut s = Self::default();
        let mut pending: heapless::Vec<(usize, UefiVariableData<'a>), MAX_AUTHORITIES> =
            heapless::Vec::new();
        for e in log.events() {
            let e = e?;
            if e.pcr_index == 4 && e.event_type == TcgEventType::EV_EFI_BOOT_SERVICES_APPLICATION {
                let app = BootApplication {
                    event: e.index,
                    image: UefiImageLoadEvent::parse(e.event).ok(),
                    authorities: core::mem::take(&mut pending),
                };
                if s.applications.push(app).is_err() {
                    s.truncated = true;
                }
                continue;
            }
            if e.pcr_index != 7 || e.event_type == TcgEventType::EV_NO_ACTION {
                continue;
            }
            match e.event_type {
                TcgEventType::EV_SEPARATOR => {
                    s.separator.get_or_insert(e.index);
                }
                TcgEventType::EV_EFI_ACTION => {
                    require_verified(&e).map_err(|bank| StructureError::Pcr7Digest {
                        event: e.index,
                        bank,
                    })?;
                    match e.event {
                        b"DMA Protection Disabled" => s.dma_protection_disabled = true,
                        b"UEFI Debug Mode" => s.debug_mode = true,
                        _ => return Err(StructureError::UnexpectedPcr7Action { event: e.index }),
                    }
                }
                TcgEventType::EV_EFI_VARIABLE_DRIVER_CONFIG => {
                    require_verified(&e).map_err(|bank| StructureError::Pcr7Digest {
                        event: e.index,
                        bank,
                    })?;
                    if s.separator.is_some() {
                        return Err(StructureError::VariableAfterSeparator { event: e.index });
                    }
                    let v = UefiVariableData::parse(e.event)
                        .ok()
                        .filter(|v| v.trailing.is_empty())
                        .ok_or(StructureError::Pcr7VariableData { event: e.index })?;
                    s.note_variable(e.index, &v)?;
                }
                TcgEventType::EV_EFI_VARIABLE_AUTHORITY => {
                    require_verified(&e).map_err(|bank| StructureError::Pcr7Digest {
                        event: e.index,
                        bank,
                    })?;
                    let v = UefiVariableData::parse(e.event)
                        .map_err(|_| StructureError::Pcr7VariableData { event: e.index })?;
                    if pending.push((e.index, v)).is_err() {
                        s.truncated = true;
                    }
                }
                t => {
                    return Err(StructureError::UnexpectedPcr7Event {
                        event: e.index,
                        event_type: t,
                    })
                }
            }
        }
        s.later_authorities = pending;
        Ok(s)
    }

    fn note_variable(
        &mut self,
        event: usize,
        v: &UefiVariableData<'a>,
    ) -> Result<(), StructureError> {
        let m = MeasuredVariable {
            event,
            data: v.variable_data,
        };
        let slot = if v.is(&EFI_GLOBAL_VARIABLE, "SecureBoot") {
            if let Some(first) = self.secure_boot_event {
                return Err(StructureError::DuplicateVariable { event, first });
            }
            self.secure_boot_event = Some(event);
            self.secure_boot = Some(match v.variable_data {
                [] | [0] => false,
                [1] => true,
                d => {
                    return Err(StructureError::SecureBootDataSize {
                        event,
                        size: d.len(),
                    })
                }
            });
            return Ok(());
        } else if v.is(&EFI_GLOBAL_VARIABLE, "PK") {
            &mut self.pk
        } else if v.is(&EFI_GLOBAL_VARIABLE, "KEK") {
            &mut self.kek
        } else if v.is(&EFI_IMAGE_SECURITY_DATABASE_GUID, "db") {
            &mut self.db
        } else if v.is(&EFI_IMAGE_SECURITY_DATABASE_GUID, "dbx") {
            &mut self.dbx
        } else {
            return Ok(());
        };
        if let Some(first) = slot {
            return Err(StructureError::DuplicateVariable {
                event,
                first: first.event,
            });
        }
        *slot = Some(m);
        Ok(())
    }
}
