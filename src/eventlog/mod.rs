//! TCG PC Client firmware event logs (`binary_bios_measurements`): parse, decode, replay.
//!
//! `no_std` and allocation-free: [`EventLog::parse`] checks the header (and the Spec ID event
//! of a crypto-agile log), [`EventLog::events`] walks the rest as borrowed [`TcgPcrEvent2`]
//! views, [`replay`] extends every bank into a caller-provided [`ReplayedPcrs`], and
//! [`ReplayedPcrs::compare`] checks each quoted bank on its own.
//!
//! The format is the TCG PC Client Platform Firmware Profile (PFP), section 10: every integer
//! is **little-endian** (unlike TPM structures), the first event is always a `TCG_PCR_EVENT`
//! with a 20-byte SHA-1 digest field, and a log is crypto-agile iff that first event is an
//! `EV_NO_ACTION` on PCR 0 whose data is a `TCG_EfiSpecIDEvent` ("Spec ID Event03\0"). The
//! digest sizes of a crypto-agile log come only from that Spec ID event.
//!
//! Limits (each checked before a length is used; every length is also checked against the
//! bytes that remain):
//! - [`MAX_LOG_BYTES`]: 16 MiB. The PFP puts no bound on the log; firmware reserves it in the
//!   ACPI TPM2/TCPA table's "Log Area Minimum Length" (64 KiB on EDK2/OVMF), and the largest
//!   real log in this project's material is 73 KB. 16 MiB leaves 200× room.
//! - [`MAX_BANKS`]: 8 algorithms in a Spec ID event, one per hash algorithm TPM 2.0 Part 2
//!   defines (`HashAlg::ALL`); a repeated or unknown algorithm is refused. `TCG_PCR_EVENT2`
//!   digest counts are bounded by the number of algorithms the Spec ID event declared.
//! - PCR indices: any `u32` parses (Windows logs put `EV_NO_ACTION` trust points at PCR
//!   0xFFFFFFFF); replay refuses a measured event outside PCR 0–23 (`IMPLEMENTATION_PCR`),
//!   and one for the DRTM PCRs 17–22, which an SRTM log cannot explain.

mod decode;
mod parse;
mod replay;
#[cfg(feature = "std")]
pub mod report;
mod secureboot;

pub use decode::{
    check_digest, classify, DecodeError, DevicePath, DevicePathNode, DigestCheck, EfiGuid,
    EfiLoadOption, EventData, GptEntry, IplString, IplStringKind, Quirk, SeparatorValue,
    UefiGptData, UefiImageLoadEvent, UefiPlatformFirmwareBlob, UefiVariableData, Utf16Str,
    WbclTaggedEvent, EFI_GLOBAL_VARIABLE, EFI_IMAGE_SECURITY_DATABASE_GUID, SHIM_LOCK_GUID,
};
pub use parse::{
    DigestValues, EventLog, EventLogError, Events, LogFormat, ParseErrorKind, SpecIdAlgorithm,
    TcgEfiSpecIdEvent, TcgEventType, TcgPcrEvent2,
};
pub use replay::{
    replay, CompareError, ExpectedPcr, PcrStart, ReplayError, ReplayedBank, ReplayedPcrs,
};
pub use secureboot::{
    check_structure, BootApplication, MeasuredVariable, SecureBootSummary, StructureError,
    MAX_AUTHORITIES, MAX_BOOT_APPLICATIONS,
};

/// Largest log accepted, in bytes (see the module documentation for the source).
pub const MAX_LOG_BYTES: usize = 16 << 20;
/// Most algorithms a Spec ID event may declare: one per TPM 2.0 hash algorithm.
pub const MAX_BANKS: usize = crate::types::HashAlg::ALL.len();
/// PCRs a PC Client TPM implements (TPM 2.0 PC Client Platform TPM Profile).
pub const NUM_PCRS: usize = 24;
