//! The byte format: TCG_PCR_EVENT, TCG_EfiSpecIDEvent, TCG_PCR_EVENT2 (PFP section 10.2).

use super::{MAX_BANKS, MAX_LOG_BYTES};
use crate::types::HashAlg;
use core::fmt;

/// `TCG_EVENTTYPE` (PFP section 10.4.1): kept as the raw value, so unknown types survive a
/// parse and can be refused by the caller that reasons about them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct TcgEventType(pub u32);

impl TcgEventType {
    /// `EV_PREBOOT_CERT` (0x0000_0000): deprecated; not expected in a PC Client log.
    pub const EV_PREBOOT_CERT: Self = Self(0x0000_0000);
    /// `EV_POST_CODE` (0x0000_0001): a firmware (POST) component measured into PCR 0.
    pub const EV_POST_CODE: Self = Self(0x0000_0001);
    /// `EV_UNUSED` (0x0000_0002): reserved; never used.
    pub const EV_UNUSED: Self = Self(0x0000_0002);
    /// `EV_NO_ACTION` (0x0000_0003): informational, extended into no PCR (Spec ID event,
    /// StartupLocality).
    pub const EV_NO_ACTION: Self = Self(0x0000_0003);
    /// `EV_SEPARATOR` (0x0000_0004): the end of pre-OS measurements for its PCR (or an error
    /// marker).
    pub const EV_SEPARATOR: Self = Self(0x0000_0004);
    /// `EV_ACTION` (0x0000_0005): a string naming an action the firmware took.
    pub const EV_ACTION: Self = Self(0x0000_0005);
    /// `EV_EVENT_TAG` (0x0000_0006): tagged event data (TCG_PCClientTaggedEvent).
    pub const EV_EVENT_TAG: Self = Self(0x0000_0006);
    /// `EV_S_CRTM_CONTENTS` (0x0000_0007): the contents of the S-CRTM.
    pub const EV_S_CRTM_CONTENTS: Self = Self(0x0000_0007);
    /// `EV_S_CRTM_VERSION` (0x0000_0008): the version of the S-CRTM.
    pub const EV_S_CRTM_VERSION: Self = Self(0x0000_0008);
    /// `EV_CPU_MICROCODE` (0x0000_0009): a CPU microcode update.
    pub const EV_CPU_MICROCODE: Self = Self(0x0000_0009);
    /// `EV_PLATFORM_CONFIG_FLAGS` (0x0000_000A): platform configuration flags.
    pub const EV_PLATFORM_CONFIG_FLAGS: Self = Self(0x0000_000A);
    /// `EV_TABLE_OF_DEVICES` (0x0000_000B): a table of devices.
    pub const EV_TABLE_OF_DEVICES: Self = Self(0x0000_000B);
    /// `EV_COMPACT_HASH` (0x0000_000C): a platform-specific measurement; its digest is not
    /// recomputed from the event data here.
    pub const EV_COMPACT_HASH: Self = Self(0x0000_000C);
    /// `EV_IPL` (0x0000_000D): the initial program loader's code or data (grub measures its
    /// commands and the kernel command line this way).
    pub const EV_IPL: Self = Self(0x0000_000D);
    /// `EV_IPL_PARTITION_DATA` (0x0000_000E): partition data the IPL used.
    pub const EV_IPL_PARTITION_DATA: Self = Self(0x0000_000E);
    /// `EV_NONHOST_CODE` (0x0000_000F): code of a non-host component (e.g. a management
    /// controller).
    pub const EV_NONHOST_CODE: Self = Self(0x0000_000F);
    /// `EV_NONHOST_CONFIG` (0x0000_0010): configuration of a non-host component.
    pub const EV_NONHOST_CONFIG: Self = Self(0x0000_0010);
    /// `EV_NONHOST_INFO` (0x0000_0011): information about a non-host component.
    pub const EV_NONHOST_INFO: Self = Self(0x0000_0011);
    /// `EV_OMIT_BOOT_DEVICE_EVENTS` (0x0000_0012): boot device events are not measured.
    pub const EV_OMIT_BOOT_DEVICE_EVENTS: Self = Self(0x0000_0012);
    /// `EV_EFI_VARIABLE_DRIVER_CONFIG` (0x8000_0001): a Secure Boot configuration variable
    /// (SecureBoot, PK, KEK, db, dbx) as UEFI_VARIABLE_DATA, into PCR 7.
    pub const EV_EFI_VARIABLE_DRIVER_CONFIG: Self = Self(0x8000_0001);
    /// `EV_EFI_VARIABLE_BOOT` (0x8000_0002): a boot variable (BootOrder, Boot####) as
    /// UEFI_VARIABLE_DATA, into PCR 1.
    pub const EV_EFI_VARIABLE_BOOT: Self = Self(0x8000_0002);
    /// `EV_EFI_BOOT_SERVICES_APPLICATION` (0x8000_0003): a UEFI application loaded from a boot
    /// device (UEFI_IMAGE_LOAD_EVENT), into PCR 4.
    pub const EV_EFI_BOOT_SERVICES_APPLICATION: Self = Self(0x8000_0003);
    /// `EV_EFI_BOOT_SERVICES_DRIVER` (0x8000_0004): a UEFI boot services driver
    /// (UEFI_IMAGE_LOAD_EVENT).
    pub const EV_EFI_BOOT_SERVICES_DRIVER: Self = Self(0x8000_0004);
    /// `EV_EFI_RUNTIME_SERVICES_DRIVER` (0x8000_0005): a UEFI runtime services driver
    /// (UEFI_IMAGE_LOAD_EVENT).
    pub const EV_EFI_RUNTIME_SERVICES_DRIVER: Self = Self(0x8000_0005);
    /// `EV_EFI_GPT_EVENT` (0x8000_0006): the boot disk's GPT header and partition entries
    /// (UEFI_GPT_DATA), into PCR 5.
    pub const EV_EFI_GPT_EVENT: Self = Self(0x8000_0006);
    /// `EV_EFI_ACTION` (0x8000_0007): a string naming a UEFI action (`Calling EFI Application
    /// from Boot Option`, `DMA Protection Disabled`).
    pub const EV_EFI_ACTION: Self = Self(0x8000_0007);
    /// `EV_EFI_PLATFORM_FIRMWARE_BLOB` (0x8000_0008): a firmware volume, by base and length
    /// (UEFI_PLATFORM_FIRMWARE_BLOB).
    pub const EV_EFI_PLATFORM_FIRMWARE_BLOB: Self = Self(0x8000_0008);
    /// `EV_EFI_HANDOFF_TABLES` (0x8000_0009): tables handed to the OS
    /// (UEFI_HANDOFF_TABLE_POINTERS).
    pub const EV_EFI_HANDOFF_TABLES: Self = Self(0x8000_0009);
    /// `EV_EFI_PLATFORM_FIRMWARE_BLOB2` (0x8000_000A): a firmware blob with a description
    /// (UEFI_PLATFORM_FIRMWARE_BLOB2).
    pub const EV_EFI_PLATFORM_FIRMWARE_BLOB2: Self = Self(0x8000_000A);
    /// `EV_EFI_HANDOFF_TABLES2` (0x8000_000B): handoff tables with a description
    /// (UEFI_HANDOFF_TABLE_POINTERS2).
    pub const EV_EFI_HANDOFF_TABLES2: Self = Self(0x8000_000B);
    /// `EV_EFI_VARIABLE_BOOT2` (0x8000_000C): a boot variable whose digest covers the whole
    /// UEFI_VARIABLE_DATA.
    pub const EV_EFI_VARIABLE_BOOT2: Self = Self(0x8000_000C);
    /// `EV_EFI_GPT_EVENT2` (0x8000_000D): the boot disk's GPT (UEFI_GPT_DATA), the later
    /// counterpart of EV_EFI_GPT_EVENT.
    pub const EV_EFI_GPT_EVENT2: Self = Self(0x8000_000D);
    /// `EV_EFI_HCRTM_EVENT` (0x8000_0010): the H-CRTM's measurement, into PCR 0 (PCR 0 then
    /// starts at 4).
    pub const EV_EFI_HCRTM_EVENT: Self = Self(0x8000_0010);
    /// `EV_EFI_VARIABLE_AUTHORITY` (0x8000_00E0): the db entry (certificate or hash) that
    /// authorized a loaded image, into PCR 7.
    pub const EV_EFI_VARIABLE_AUTHORITY: Self = Self(0x8000_00E0);
    /// `EV_EFI_SPDM_FIRMWARE_BLOB` (0x8000_00E1): a device's firmware, measured through SPDM.
    pub const EV_EFI_SPDM_FIRMWARE_BLOB: Self = Self(0x8000_00E1);
    /// `EV_EFI_SPDM_FIRMWARE_CONFIG` (0x8000_00E2): a device's configuration, measured through
    /// SPDM.
    pub const EV_EFI_SPDM_FIRMWARE_CONFIG: Self = Self(0x8000_00E2);

    /// The PFP's name, or `None` for a value it does not define.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::EV_PREBOOT_CERT => "EV_PREBOOT_CERT",
            Self::EV_POST_CODE => "EV_POST_CODE",
            Self::EV_UNUSED => "EV_UNUSED",
            Self::EV_NO_ACTION => "EV_NO_ACTION",
            Self::EV_SEPARATOR => "EV_SEPARATOR",
            Self::EV_ACTION => "EV_ACTION",
            Self::EV_EVENT_TAG => "EV_EVENT_TAG",
            Self::EV_S_CRTM_CONTENTS => "EV_S_CRTM_CONTENTS",
            Self::EV_S_CRTM_VERSION => "EV_S_CRTM_VERSION",
            Self::EV_CPU_MICROCODE => "EV_CPU_MICROCODE",
            Self::EV_PLATFORM_CONFIG_FLAGS => "EV_PLATFORM_CONFIG_FLAGS",
            Self::EV_TABLE_OF_DEVICES => "EV_TABLE_OF_DEVICES",
            Self::EV_COMPACT_HASH => "EV_COMPACT_HASH",
            Self::EV_IPL => "EV_IPL",
            Self::EV_IPL_PARTITION_DATA => "EV_IPL_PARTITION_DATA",
            Self::EV_NONHOST_CODE => "EV_NONHOST_CODE",
            Self::EV_NONHOST_CONFIG => "EV_NONHOST_CONFIG",
            Self::EV_NONHOST_INFO => "EV_NONHOST_INFO",
            Self::EV_OMIT_BOOT_DEVICE_EVENTS => "EV_OMIT_BOOT_DEVICE_EVENTS",
            Self::EV_EFI_VARIABLE_DRIVER_CONFIG => "EV_EFI_VARIABLE_DRIVER_CONFIG",
            Self::EV_EFI_VARIABLE_BOOT => "EV_EFI_VARIABLE_BOOT",
            Self::EV_EFI_BOOT_SERVICES_APPLICATION => "EV_EFI_BOOT_SERVICES_APPLICATION",
            Self::EV_EFI_BOOT_SERVICES_DRIVER => "EV_EFI_BOOT_SERVICES_DRIVER",
            Self::EV_EFI_RUNTIME_SERVICES_DRIVER => "EV_EFI_RUNTIME_SERVICES_DRIVER",
            Self::EV_EFI_GPT_EVENT => "EV_EFI_GPT_EVENT",
            Self::EV_EFI_ACTION => "EV_EFI_ACTION",
            Self::EV_EFI_PLATFORM_FIRMWARE_BLOB => "EV_EFI_PLATFORM_FIRMWARE_BLOB",
            Self::EV_EFI_HANDOFF_TABLES => "EV_EFI_HANDOFF_TABLES",
            Self::EV_EFI_PLATFORM_FIRMWARE_BLOB2 => "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
            Self::EV_EFI_HANDOFF_TABLES2 => "EV_EFI_HANDOFF_TABLES2",
            Self::EV_EFI_VARIABLE_BOOT2 => "EV_EFI_VARIABLE_BOOT2",
            Self::EV_EFI_GPT_EVENT2 => "EV_EFI_GPT_EVENT2",
            Self::EV_EFI_HCRTM_EVENT => "EV_EFI_HCRTM_EVENT",
            Self::EV_EFI_VARIABLE_AUTHORITY => "EV_EFI_VARIABLE_AUTHORITY",
            Self::EV_EFI_SPDM_FIRMWARE_BLOB => "EV_EFI_SPDM_FIRMWARE_BLOB",
            Self::EV_EFI_SPDM_FIRMWARE_CONFIG => "EV_EFI_SPDM_FIRMWARE_CONFIG",
            _ => return None,
        })
    }
}

impl fmt::Display for TcgEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "EV_UNKNOWN({:#010x})", self.0),
        }
    }
}

/// Whether a log is in the SHA-1 (TCG 1.2 style) or the crypto-agile format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LogFormat {
    /// Every event a `TCG_PCR_EVENT` with one SHA-1 digest.
    Sha1,
    /// A Spec ID event, then `TCG_PCR_EVENT2`s with the digests it declares.
    CryptoAgile,
}

/// What was wrong, without where (see [`EventLogError`] for the where).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseErrorKind {
    /// The input has no bytes at all.
    Empty,
    /// The log is longer than [`MAX_LOG_BYTES`].
    LogTooLarge {
        /// Length of the log in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A field needs more bytes than remain.
    Truncated {
        /// Bytes the field needs.
        need: u64,
        /// Bytes left in the log.
        left: usize,
    },
    /// The Spec ID event's signature is "Spec ID Event03" but the event is not an
    /// EV_NO_ACTION on PCR 0 with a zero digest.
    SpecIdHeader,
    /// `specVersionMajor.specVersionMinor` other than 2.0.
    SpecIdVersion {
        /// specVersionMajor.
        major: u8,
        /// specVersionMinor.
        minor: u8,
    },
    /// `uintnSize` other than 1 (UINT32) or 2 (UINT64).
    SpecIdUintnSize {
        /// The uintnSize read.
        value: u8,
    },
    /// `numberOfAlgorithms` zero or above [`MAX_BANKS`].
    AlgorithmCount {
        /// numberOfAlgorithms.
        count: u32,
        /// The most banks this parser takes.
        max: usize,
    },
    /// An algorithm that is not a TPM 2.0 hash algorithm.
    UnknownAlgorithm {
        /// The algorithmId (TPM_ALG_ID).
        alg: u16,
    },
    /// An algorithm declared twice in the Spec ID event or digested twice in one event.
    DuplicateAlgorithm {
        /// The algorithmId (TPM_ALG_ID).
        alg: u16,
    },
    /// A digest size in the Spec ID event that is not the algorithm's.
    DigestSize {
        /// The algorithmId (TPM_ALG_ID).
        alg: u16,
        /// The digestSize declared.
        size: u16,
    },
    /// vendorInfoSize does not account for exactly the bytes left in the Spec ID event.
    VendorInfoSize {
        /// vendorInfoSize.
        declared: u8,
        /// Bytes left in the event.
        left: usize,
    },
    /// A `TCG_PCR_EVENT2.digests.count` above the number of algorithms the Spec ID declared.
    DigestCount {
        /// `digests.count`.
        count: u32,
        /// Number of algorithms the Spec ID event declared.
        max: usize,
    },
    /// A digest algorithm the Spec ID event did not declare.
    UndeclaredAlgorithm {
        /// The algorithmId (TPM_ALG_ID).
        alg: u16,
    },
    /// A Spec ID event anywhere but first.
    SpecIdMisplaced,
}

/// A malformed log: what, in which event (0 = the header event), which field, at which byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EventLogError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// Index of the event being parsed (0 is the first event of the log).
    pub event: usize,
    /// The field, spelled as in the PFP (`eventSize`, `digests.count`, ...).
    pub field: &'static str,
    /// Byte offset in the log where the field starts.
    pub offset: usize,
}

impl fmt::Display for EventLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event {}, field {} (offset {:#x}): ",
            self.event, self.field, self.offset
        )?;
        match self.kind {
            ParseErrorKind::Empty => f.write_str("the log is empty"),
            ParseErrorKind::LogTooLarge { len, max } => {
                write!(f, "log of {len} bytes is over the {max}-byte limit")
            }
            ParseErrorKind::Truncated { need, left } => {
                write!(f, "needs {need} bytes, {left} left")
            }
            ParseErrorKind::SpecIdHeader => {
                f.write_str("Spec ID event must be EV_NO_ACTION on PCR 0 with a zero SHA-1 digest")
            }
            ParseErrorKind::SpecIdVersion { major, minor } => {
                write!(f, "spec version {major}.{minor}, expected 2.0")
            }
            ParseErrorKind::SpecIdUintnSize { value } => {
                write!(f, "uintnSize {value}, expected 1 or 2")
            }
            ParseErrorKind::AlgorithmCount { count, max } => {
                write!(f, "{count} algorithms, expected 1 to {max}")
            }
            ParseErrorKind::UnknownAlgorithm { alg } => {
                write!(f, "algorithm {alg:#06x} is not a TPM 2.0 hash algorithm")
            }
            ParseErrorKind::DuplicateAlgorithm { alg } => {
                write!(f, "algorithm {alg:#06x} appears twice")
            }
            ParseErrorKind::DigestSize { alg, size } => {
                write!(f, "digest size {size} is wrong for algorithm {alg:#06x}")
            }
            ParseErrorKind::VendorInfoSize { declared, left } => write!(
                f,
                "vendorInfoSize {declared} but {left} bytes are left in the Spec ID event"
            ),
            ParseErrorKind::DigestCount { count, max } => {
                write!(
                    f,
                    "{count} digests, the Spec ID event declares {max} algorithms"
                )
            }
            ParseErrorKind::UndeclaredAlgorithm { alg } => write!(
                f,
                "digest algorithm {alg:#06x} is not declared in the Spec ID event"
            ),
            ParseErrorKind::SpecIdMisplaced => {
                f.write_str("a Spec ID event is only allowed as the first event")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EventLogError {}

/// A little-endian cursor that names the event and field of every failure.
struct Le<'a> {
    buf: &'a [u8],
    pos: usize,
    event: usize,
}

impl<'a> Le<'a> {
    fn err(&self, kind: ParseErrorKind, field: &'static str, offset: usize) -> EventLogError {
        EventLogError {
            kind,
            event: self.event,
            field,
            offset,
        }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: u64, field: &'static str) -> Result<&'a [u8], EventLogError> {
        let left = self.left();
        if n > left as u64 {
            return Err(self.err(ParseErrorKind::Truncated { need: n, left }, field, self.pos));
        }
        let n = n as usize;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, EventLogError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, EventLogError> {
        let b = self.take(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, EventLogError> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// One `{algorithmId, digestSize}` of a Spec ID event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SpecIdAlgorithm {
    /// `algorithmId`, as a hash algorithm.
    pub alg: HashAlg,
    /// `digestSize`, in bytes (checked to be the algorithm's).
    pub digest_size: u16,
}

/// The algorithms of a Spec ID event, inline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Banks {
    algs: [Option<SpecIdAlgorithm>; MAX_BANKS],
    len: usize,
}

impl Banks {
    const SHA1_ONLY: Self = {
        let mut algs = [None; MAX_BANKS];
        algs[0] = Some(SpecIdAlgorithm {
            alg: HashAlg::Sha1,
            digest_size: 20,
        });
        Self { algs, len: 1 }
    };

    fn size_of(&self, id: u16) -> Option<u16> {
        self.iter()
            .find(|a| a.alg.alg_id().0 == id)
            .map(|a| a.digest_size)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = SpecIdAlgorithm> + '_ {
        self.algs[..self.len].iter().flatten().copied()
    }
}

/// `TCG_EfiSpecIDEvent` (PFP 10.4.5.1), the data of a crypto-agile log's first event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TcgEfiSpecIdEvent<'a> {
    /// `platformClass`: 0 for client platforms, 1 for servers.
    pub platform_class: u32,
    /// `specVersionMinor` (0).
    pub spec_version_minor: u8,
    /// `specVersionMajor` (2).
    pub spec_version_major: u8,
    /// `specErrata`: the errata revision of the PFP the log follows.
    pub spec_errata: u8,
    /// `uintnSize`: 1 for UINT32, 2 for UINT64 (the size of UINTN in UEFI structures).
    pub uintn_size: u8,
    pub(super) banks: Banks,
    /// `vendorInfo`: vendor data, at most 255 bytes.
    pub vendor_info: &'a [u8],
}

impl<'a> TcgEfiSpecIdEvent<'a> {
    /// The signature that makes a log crypto-agile.
    pub const SIGNATURE: &'static [u8; 16] = b"Spec ID Event03\0";

    /// The declared algorithms, in log order.
    pub fn algorithms(&self) -> impl Iterator<Item = SpecIdAlgorithm> + '_ {
        self.banks.iter()
    }

    /// `data` is the header event's data; `base` its offset in the log (for errors).
    fn parse(data: &'a [u8], base: usize) -> Result<Self, EventLogError> {
        let mut r = Le {
            buf: data,
            pos: 0,
            event: 0,
        };
        let at = |r: &Le<'_>| base + r.pos;
        let fix = |mut e: EventLogError| {
            e.offset += base;
            e
        };
        r.take(16, "TCG_EfiSpecIDEvent.signature").map_err(fix)?;
        let platform_class = r.u32("TCG_EfiSpecIDEvent.platformClass").map_err(fix)?;
        let spec_version_minor = r.u8("TCG_EfiSpecIDEvent.specVersionMinor").map_err(fix)?;
        let spec_version_major = r.u8("TCG_EfiSpecIDEvent.specVersionMajor").map_err(fix)?;
        if (spec_version_major, spec_version_minor) != (2, 0) {
            return Err(r.err(
                ParseErrorKind::SpecIdVersion {
                    major: spec_version_major,
                    minor: spec_version_minor,
                },
                "TCG_EfiSpecIDEvent.specVersionMajor",
                base + 21,
            ));
        }
        let spec_errata = r.u8("TCG_EfiSpecIDEvent.specErrata").map_err(fix)?;
        let uintn_at = at(&r);
        let uintn_size = r.u8("TCG_EfiSpecIDEvent.uintnSize").map_err(fix)?;
        if !matches!(uintn_size, 1 | 2) {
            return Err(r.err(
                ParseErrorKind::SpecIdUintnSize { value: uintn_size },
                "TCG_EfiSpecIDEvent.uintnSize",
                uintn_at,
            ));
        }
        let count_at = at(&r);
        let count = r
            .u32("TCG_EfiSpecIDEvent.numberOfAlgorithms")
            .map_err(fix)?;
        if count == 0 || count as usize > MAX_BANKS {
            return Err(r.err(
                ParseErrorKind::AlgorithmCount {
                    count,
                    max: MAX_BANKS,
                },
                "TCG_EfiSpecIDEvent.numberOfAlgorithms",
                count_at,
            ));
        }
        let mut banks = Banks {
            algs: [None; MAX_BANKS],
            len: 0,
        };
        for _ in 0..count {
            let alg_at = at(&r);
            let id = r
                .u16("TCG_EfiSpecIDEvent.digestSizes.algorithmId")
                .map_err(fix)?;
            let size = r
                .u16("TCG_EfiSpecIDEvent.digestSizes.digestSize")
                .map_err(fix)?;
            let field = "TCG_EfiSpecIDEvent.digestSizes.algorithmId";
            let alg = HashAlg::from_alg_id(crate::types::TpmAlgId(id)).ok_or(r.err(
                ParseErrorKind::UnknownAlgorithm { alg: id },
                field,
                alg_at,
            ))?;
            if banks.size_of(id).is_some() {
                return Err(r.err(
                    ParseErrorKind::DuplicateAlgorithm { alg: id },
                    field,
                    alg_at,
                ));
            }
            if usize::from(size) != alg.digest_size() {
                return Err(r.err(
                    ParseErrorKind::DigestSize { alg: id, size },
                    "TCG_EfiSpecIDEvent.digestSizes.digestSize",
                    alg_at + 2,
                ));
            }
            banks.algs[banks.len] = Some(SpecIdAlgorithm {
                alg,
                digest_size: size,
            });
            banks.len += 1;
        }
        let vendor_at = at(&r);
        let vendor_size = r.u8("TCG_EfiSpecIDEvent.vendorInfoSize").map_err(fix)?;
        if usize::from(vendor_size) != r.left() {
            return Err(r.err(
                ParseErrorKind::VendorInfoSize {
                    declared: vendor_size,
                    left: r.left(),
                },
                "TCG_EfiSpecIDEvent.vendorInfoSize",
                vendor_at,
            ));
        }
        let vendor_info = r
            .take(u64::from(vendor_size), "TCG_EfiSpecIDEvent.vendorInfo")
            .map_err(fix)?;
        Ok(Self {
            platform_class,
            spec_version_minor,
            spec_version_major,
            spec_errata,
            uintn_size,
            banks,
            vendor_info,
        })
    }
}

/// `TPML_DIGEST_VALUES` of one event, as a view over the bytes already checked by the parser.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DigestValues<'a> {
    raw: &'a [u8],
    count: u32,
    banks: Banks,
    /// A SHA-1 format event: `raw` is the bare 20-byte digest, no algorithm IDs.
    bare_sha1: bool,
}

impl<'a> DigestValues<'a> {
    /// Number of digests the event carries.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the event carries no digest.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The event's digest for `alg`, if it carries one.
    pub fn get(&self, alg: HashAlg) -> Option<&'a [u8]> {
        self.iter().find(|(a, _)| *a == alg).map(|(_, d)| d)
    }

    /// `(algorithm, digest)` in log order.
    pub fn iter(&self) -> impl Iterator<Item = (HashAlg, &'a [u8])> + '_ {
        let mut pos = 0usize;
        let mut n = 0u32;
        core::iter::from_fn(move || {
            if self.bare_sha1 {
                if n == 0 {
                    n = 1;
                    return Some((HashAlg::Sha1, self.raw));
                }
                return None;
            }
            if n >= self.count {
                return None;
            }
            n += 1;
            // The parser checked every id and size; a failed lookup ends the walk.
            let id = self.raw.get(pos..pos + 2)?;
            let id = u16::from_le_bytes([id[0], id[1]]);
            let alg = HashAlg::from_alg_id(crate::types::TpmAlgId(id))?;
            let size = usize::from(self.banks.size_of(id)?);
            let d = self.raw.get(pos + 2..pos + 2 + size)?;
            pos += 2 + size;
            Some((alg, d))
        })
    }
}

/// One event of the log, as a borrowed view: `TCG_PCR_EVENT2` (PFP 10.2.2). The events of a
/// SHA-1 log and the header event (`TCG_PCR_EVENT`, 10.2.1) are shown the same way, with their
/// one SHA-1 digest.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TcgPcrEvent2<'a> {
    /// Position in the log; the header event is 0.
    pub index: usize,
    /// Byte offset of the event in the log.
    pub offset: usize,
    /// `pcrIndex`: the PCR the event was extended into (EV_NO_ACTION events extend none).
    pub pcr_index: u32,
    /// `eventType`.
    pub event_type: TcgEventType,
    /// `digests`: one digest per bank (TPML_DIGEST_VALUES, little-endian count).
    pub digests: DigestValues<'a>,
    /// The event data (`event[eventSize]`).
    pub event: &'a [u8],
    /// The whole event as it appears in the log.
    pub raw: &'a [u8],
}

/// A parsed log header, from which the events are walked.
#[derive(Clone, Copy, Debug)]
pub struct EventLog<'a> {
    bytes: &'a [u8],
    format: LogFormat,
    spec_id: Option<TcgEfiSpecIdEvent<'a>>,
    banks: Banks,
}

impl<'a> EventLog<'a> {
    /// Checks the first event (and the Spec ID event of a crypto-agile log). The rest is
    /// checked as it is walked: see [`EventLog::events`] and [`EventLog::validate`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EventLogError> {
        if bytes.is_empty() {
            return Err(EventLogError {
                kind: ParseErrorKind::Empty,
                event: 0,
                field: "pcrIndex",
                offset: 0,
            });
        }
        if bytes.len() > MAX_LOG_BYTES {
            return Err(EventLogError {
                kind: ParseErrorKind::LogTooLarge {
                    len: bytes.len(),
                    max: MAX_LOG_BYTES,
                },
                event: 0,
                field: "log",
                offset: 0,
            });
        }
        let first = parse_sha1_event(bytes, 0, 0, &Banks::SHA1_ONLY)?;
        let sig = TcgEfiSpecIdEvent::SIGNATURE;
        if first.event.len() >= 16 && &first.event[..16] == sig {
            if first.pcr_index != 0
                || first.event_type != TcgEventType::EV_NO_ACTION
                || first.digests.raw.iter().any(|&b| b != 0)
            {
                return Err(EventLogError {
                    kind: ParseErrorKind::SpecIdHeader,
                    event: 0,
                    field: "TCG_PCR_EVENT",
                    offset: 0,
                });
            }
            let spec = TcgEfiSpecIdEvent::parse(first.event, 32)?;
            return Ok(Self {
                bytes,
                format: LogFormat::CryptoAgile,
                spec_id: Some(spec),
                banks: spec.banks,
            });
        }
        Ok(Self {
            bytes,
            format: LogFormat::Sha1,
            spec_id: None,
            banks: Banks::SHA1_ONLY,
        })
    }

    /// SHA-1 (TCG_PCR_EVENT only) or crypto-agile.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// The Spec ID event of a crypto-agile log; `None` for a SHA-1 log.
    pub fn spec_id(&self) -> Option<&TcgEfiSpecIdEvent<'a>> {
        self.spec_id.as_ref()
    }

    /// The banks the log's events carry digests for (SHA-1 alone for a SHA-1 log).
    pub fn algorithms(&self) -> impl Iterator<Item = SpecIdAlgorithm> + '_ {
        self.banks.iter()
    }

    /// The log's bytes, as given.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Every event, the header first. After an error the iterator ends.
    pub fn events(&self) -> Events<'a> {
        Events {
            bytes: self.bytes,
            pos: 0,
            index: 0,
            format: self.format,
            banks: self.banks,
            done: false,
        }
    }

    /// Walks the whole log; the number of events, or the first malformed one.
    pub fn validate(&self) -> Result<usize, EventLogError> {
        let mut n = 0;
        for e in self.events() {
            e?;
            n += 1;
        }
        Ok(n)
    }
}

/// Iterator over the events of a log; yields an error once, then ends.
#[derive(Clone, Debug)]
pub struct Events<'a> {
    bytes: &'a [u8],
    pos: usize,
    index: usize,
    format: LogFormat,
    banks: Banks,
    done: bool,
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<TcgPcrEvent2<'a>, EventLogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.bytes.len() {
            return None;
        }
        let r = if self.index == 0 || self.format == LogFormat::Sha1 {
            parse_sha1_event(self.bytes, self.pos, self.index, &self.banks)
        } else {
            parse_event2(self.bytes, self.pos, self.index, &self.banks)
        };
        let r = r.and_then(|e| {
            if e.index > 0
                && e.event_type == TcgEventType::EV_NO_ACTION
                && e.event.starts_with(b"Spec ID Event")
            {
                Err(EventLogError {
                    kind: ParseErrorKind::SpecIdMisplaced,
                    event: e.index,
                    field: "event",
                    offset: e.offset,
                })
            } else {
                Ok(e)
            }
        });
        match &r {
            Ok(e) => {
                self.pos += e.raw.len();
                self.index += 1;
            }
            Err(_) => self.done = true,
        }
        Some(r)
    }
}

fn parse_sha1_event<'a>(
    bytes: &'a [u8],
    start: usize,
    index: usize,
    banks: &Banks,
) -> Result<TcgPcrEvent2<'a>, EventLogError> {
    let mut r = Le {
        buf: bytes,
        pos: start,
        event: index,
    };
    let pcr_index = r.u32("pcrIndex")?;
    let event_type = TcgEventType(r.u32("eventType")?);
    let digest = r.take(20, "digest")?;
    let size = r.u32("eventDataSize")?;
    let event = r.take(u64::from(size), "event")?;
    Ok(TcgPcrEvent2 {
        index,
        offset: start,
        pcr_index,
        event_type,
        digests: DigestValues {
            raw: digest,
            count: 1,
            banks: *banks,
            bare_sha1: true,
        },
        event,
        raw: &bytes[start..r.pos],
    })
}

fn parse_event2<'a>(
    bytes: &'a [u8],
    start: usize,
    index: usize,
    banks: &Banks,
) -> Result<TcgPcrEvent2<'a>, EventLogError> {
    let mut r = Le {
        buf: bytes,
        pos: start,
        event: index,
    };
    let pcr_index = r.u32("pcrIndex")?;
    let event_type = TcgEventType(r.u32("eventType")?);
    let count_at = r.pos;
    let count = r.u32("digests.count")?;
    if count as usize > banks.len {
        return Err(r.err(
            ParseErrorKind::DigestCount {
                count,
                max: banks.len,
            },
            "digests.count",
            count_at,
        ));
    }
    let digests_at = r.pos;
    let mut seen = [0u16; MAX_BANKS];
    for i in 0..count as usize {
        let alg_at = r.pos;
        let id = r.u16("digests.digests.hashAlg")?;
        let size = banks.size_of(id).ok_or(r.err(
            ParseErrorKind::UndeclaredAlgorithm { alg: id },
            "digests.digests.hashAlg",
            alg_at,
        ))?;
        if seen[..i].contains(&id) {
            return Err(r.err(
                ParseErrorKind::DuplicateAlgorithm { alg: id },
                "digests.digests.hashAlg",
                alg_at,
            ));
        }
        seen[i] = id;
        r.take(u64::from(size), "digests.digests.digest")?;
    }
    let raw_digests = &bytes[digests_at..r.pos];
    let size = r.u32("eventSize")?;
    let event = r.take(u64::from(size), "event")?;
    Ok(TcgPcrEvent2 {
        index,
        offset: start,
        pcr_index,
        event_type,
        digests: DigestValues {
            raw: raw_digests,
            count,
            banks: *banks,
            bare_sha1: false,
        },
        event,
        raw: &bytes[start..r.pos],
    })
}
