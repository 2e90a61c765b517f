//! Decoders for the event data a verifier reasons about, as borrowed views (no allocation).
//!
//! Text views (`Display`) write the untrusted characters as they are: whoever prints them to a
//! terminal must escape them (the CLI does).

use super::parse::{TcgEventType, TcgPcrEvent2};
use crate::types::hash;
use crate::types::HashAlg;
use core::fmt;

/// A decoder could not read the event data: which field, and why.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DecodeError {
    /// The structure field, spelled as in the PFP or UEFI spec (`UEFI_VARIABLE_DATA.VariableName`).
    pub field: &'static str,
    /// What is wrong with it (`truncated`, `overflows`...).
    pub reason: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

struct Cur<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn take(&mut self, n: u64, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.left() as u64 {
            return Err(DecodeError {
                field,
                reason: "runs past the end of the event data",
            });
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn guid(&mut self, field: &'static str) -> Result<EfiGuid, DecodeError> {
        let b = self.take(16, field)?;
        let mut g = [0u8; 16];
        g.copy_from_slice(b);
        Ok(EfiGuid(g))
    }
    fn end(&self, field: &'static str) -> Result<(), DecodeError> {
        if self.left() != 0 {
            return Err(DecodeError {
                field,
                reason: "bytes left over after the structure",
            });
        }
        Ok(())
    }
}

/// `EFI_GUID` in its on-disk form (first three fields little-endian).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EfiGuid(pub [u8; 16]);

impl EfiGuid {
    /// Parses the canonical text form `8be4df61-93ca-11d2-aa0d-00e098032b8c` (for constants:
    /// a non-hex digit reads as 0).
    pub const fn from_text(s: &str) -> Self {
        let b = s.as_bytes();
        let mut raw = [0u8; 16];
        // Byte order of the text digits, per field: LE u32, LE u16, LE u16, then bytes.
        const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
        let mut i = 0;
        let mut n = 0;
        // Malformed text (odd digit count) stops early, leaving the rest zero.
        while i + 1 < b.len() && n < 16 {
            if b[i] == b'-' {
                i += 1;
                continue;
            }
            let v = (hexval(b[i]) << 4) | hexval(b[i + 1]);
            raw[ORDER[n]] = v;
            n += 1;
            i += 2;
        }
        Self(raw)
    }

    /// The name of a GUID this decoder knows (UEFI and shim variable vendors).
    pub fn name(&self) -> Option<&'static str> {
        KNOWN_GUIDS
            .iter()
            .find(|(g, _)| g.0 == self.0)
            .map(|(_, n)| *n)
    }
}

const fn hexval(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

impl fmt::Display for EfiGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
            u16::from_le_bytes([g[4], g[5]]),
            u16::from_le_bytes([g[6], g[7]]),
            g[8],
            g[9],
            g[10],
            g[11],
            g[12],
            g[13],
            g[14],
            g[15]
        )
    }
}

/// `EFI_GLOBAL_VARIABLE` (UEFI 2.10, 3.3): SecureBoot, PK, KEK, Boot####, BootOrder.
pub const EFI_GLOBAL_VARIABLE: EfiGuid = EfiGuid::from_text("8be4df61-93ca-11d2-aa0d-00e098032b8c");
/// `EFI_IMAGE_SECURITY_DATABASE_GUID` (UEFI 2.10, 32.6.1): db, dbx, dbt, dbr.
pub const EFI_IMAGE_SECURITY_DATABASE_GUID: EfiGuid =
    EfiGuid::from_text("d719b2cb-3d3a-4596-a3bc-dad00e67656f");
/// shim's `SHIM_LOCK_GUID`: MokList, MokListX, MokSBState, SbatLevel.
pub const SHIM_LOCK_GUID: EfiGuid = EfiGuid::from_text("605dab50-e046-4300-abb6-3dd810dd8b23");

const KNOWN_GUIDS: &[(EfiGuid, &str)] = &[
    (EFI_GLOBAL_VARIABLE, "EFI_GLOBAL_VARIABLE"),
    (
        EFI_IMAGE_SECURITY_DATABASE_GUID,
        "EFI_IMAGE_SECURITY_DATABASE_GUID",
    ),
    (SHIM_LOCK_GUID, "SHIM_LOCK_GUID"),
    (
        EfiGuid::from_text("a5c059a1-94e4-4aa7-87b5-ab155c2bf072"),
        "EFI_CERT_X509_GUID",
    ),
    (
        EfiGuid::from_text("c1c41626-504c-4092-aca9-41f936934328"),
        "EFI_CERT_SHA256_GUID",
    ),
];

/// UTF-16LE text from the log (names, paths, version strings). `Display` decodes it,
/// replacing unpaired surrogates with U+FFFD and stopping at the first NUL.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Utf16Str<'a>(pub &'a [u8]);

impl<'a> Utf16Str<'a> {
    /// The UTF-16 code units (little-endian pairs), up to the first NUL; an odd last byte is
    /// dropped.
    pub fn units(&self) -> impl Iterator<Item = u16> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
    }

    /// Whether the text equals the ASCII string `s`.
    pub fn eq_ascii(&self, s: &str) -> bool {
        self.units().eq(s.bytes().map(u16::from))
    }
}

impl fmt::Display for Utf16Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in char::decode_utf16(self.units()) {
            fmt::Write::write_char(f, c.unwrap_or(char::REPLACEMENT_CHARACTER))?;
        }
        Ok(())
    }
}

/// `UEFI_VARIABLE_DATA` (PFP 10.4.3): EV_EFI_VARIABLE_* event data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UefiVariableData<'a> {
    /// `VariableName`: the variable's vendor GUID.
    pub variable_name: EfiGuid,
    /// `UnicodeName`: the variable's name (`SecureBoot`, `db`, `Boot0001`...).
    pub unicode_name: Utf16Str<'a>,
    /// `VariableData`: the variable's contents as measured.
    pub variable_data: &'a [u8],
    /// Bytes after `VariableData` (old shim adds one; see [`Quirk::ShimAuthorityExtraByte`]).
    pub trailing: &'a [u8],
}

impl<'a> UefiVariableData<'a> {
    /// Reads the structure; `VariableData` may be followed by trailing bytes (kept in `trailing`).
    pub fn parse(data: &'a [u8]) -> Result<Self, DecodeError> {
        let mut c = Cur::new(data);
        let variable_name = c.guid("UEFI_VARIABLE_DATA.VariableName")?;
        let n = c.u64("UEFI_VARIABLE_DATA.UnicodeNameLength")?;
        let d = c.u64("UEFI_VARIABLE_DATA.VariableDataLength")?;
        let name = c.take(
            n.checked_mul(2).ok_or(DecodeError {
                field: "UEFI_VARIABLE_DATA.UnicodeNameLength",
                reason: "overflows",
            })?,
            "UEFI_VARIABLE_DATA.UnicodeName",
        )?;
        let variable_data = c.take(d, "UEFI_VARIABLE_DATA.VariableData")?;
        let trailing = c.rest();
        Ok(Self {
            variable_name,
            unicode_name: Utf16Str(name),
            variable_data,
            trailing,
        })
    }

    /// Whether this is `guid`:`name`.
    pub fn is(&self, guid: &EfiGuid, name: &str) -> bool {
        self.variable_name == *guid && self.unicode_name.eq_ascii(name)
    }
}

/// One node of an `EFI_DEVICE_PATH_PROTOCOL` (UEFI 2.10 section 10.3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DevicePathNode<'a> {
    /// `Type` (1 hardware, 2 ACPI, 3 messaging, 4 media, 5 BIOS boot, 0x7F end).
    pub node_type: u8,
    /// `SubType`, whose meaning depends on `Type`.
    pub sub_type: u8,
    /// The node's data after its 4-byte header.
    pub data: &'a [u8],
}

/// A device path, walked node by node; `Display` gives the UEFI text form for the common
/// nodes (`PciRoot(0x0)/Pci(0x3,0x0)/HD(1,GPT,…)/\EFI\BOOT\BOOTX64.EFI`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DevicePath<'a>(pub &'a [u8]);

impl<'a> DevicePath<'a> {
    /// Nodes up to the end-of-path node; a node whose length is under 4 or past the end
    /// yields an error and ends the walk.
    pub fn nodes(&self) -> impl Iterator<Item = Result<DevicePathNode<'a>, DecodeError>> + 'a {
        let mut c = Cur::new(self.0);
        let mut done = false;
        core::iter::from_fn(move || {
            if done || c.left() == 0 {
                return None;
            }
            let node = (|| {
                let node_type = c.u8("EFI_DEVICE_PATH_PROTOCOL.Type")?;
                let sub_type = c.u8("EFI_DEVICE_PATH_PROTOCOL.SubType")?;
                let len = c.u16("EFI_DEVICE_PATH_PROTOCOL.Length")?;
                if len < 4 {
                    return Err(DecodeError {
                        field: "EFI_DEVICE_PATH_PROTOCOL.Length",
                        reason: "shorter than the 4-byte node header",
                    });
                }
                let data = c.take(u64::from(len - 4), "EFI_DEVICE_PATH_PROTOCOL.Data")?;
                Ok(DevicePathNode {
                    node_type,
                    sub_type,
                    data,
                })
            })();
            match node {
                Ok(n) if n.node_type == 0x7F && n.sub_type == 0xFF => {
                    done = true;
                    None
                }
                Ok(n) => Some(Ok(n)),
                Err(e) => {
                    done = true;
                    Some(Err(e))
                }
            }
        })
    }

    /// The path must be well-formed node by node.
    pub fn check(&self) -> Result<(), DecodeError> {
        self.nodes().try_for_each(|n| n.map(|_| ()))
    }
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}
fn le_u32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    match b.get(at..at + 8) {
        Some(s) => {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        }
        None => 0,
    }
}
fn guid_at(b: &[u8], at: usize) -> Option<EfiGuid> {
    let s = b.get(at..at + 16)?;
    let mut g = [0u8; 16];
    g.copy_from_slice(s);
    Some(EfiGuid(g))
}

impl fmt::Display for DevicePathNode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.data;
        match (self.node_type, self.sub_type, d.len()) {
            (0x01, 0x01, 2) => write!(f, "Pci({:#x},{:#x})", d[1], d[0]),
            (0x01, 0x04, n) if n >= 16 => match guid_at(d, 0) {
                Some(g) => write!(f, "VenHw({g})"),
                None => Ok(()),
            },
            (0x02, 0x01, 8) => {
                let hid = le_u32(d, 0);
                let uid = le_u32(d, 4);
                if hid & 0xFFFF == 0x41D0 {
                    match hid >> 16 {
                        0x0A03 | 0x0A08 => write!(f, "PciRoot({uid:#x})"),
                        p => write!(f, "Acpi(PNP{p:04X},{uid:#x})"),
                    }
                } else {
                    write!(f, "Acpi({hid:#x},{uid:#x})")
                }
            }
            (0x03, 0x02, 4) => write!(f, "Scsi({:#x},{:#x})", le_u16(d, 0), le_u16(d, 2)),
            (0x03, 0x05, 2) => write!(f, "USB({:#x},{:#x})", d[0], d[1]),
            (0x03, 0x0B, n) if n >= 32 => {
                f.write_str("MAC(")?;
                for b in &d[..6] {
                    write!(f, "{b:02x}")?;
                }
                write!(f, ",{:#x})", d[32.min(n - 1)])
            }
            (0x03, 0x12, 6) => write!(
                f,
                "Sata({:#x},{:#x},{:#x})",
                le_u16(d, 0),
                le_u16(d, 2),
                le_u16(d, 4)
            ),
            (0x03, 0x17, 12) => write!(f, "NVMe({:#x},{:016x})", le_u32(d, 0), le_u64(d, 4)),
            (0x03, 0x0A, n) if n >= 16 => match guid_at(d, 0) {
                Some(g) => write!(f, "VenMsg({g})"),
                None => Ok(()),
            },
            (0x04, 0x01, 38) => {
                let sig_type = d[37];
                write!(f, "HD({},", le_u32(d, 0))?;
                match (sig_type, guid_at(d, 20)) {
                    (2, Some(g)) => write!(f, "GPT,{g}")?,
                    (1, _) => write!(f, "MBR,{:#010x}", le_u32(d, 20))?,
                    _ => write!(f, "{sig_type}")?,
                }
                write!(f, ",{:#x},{:#x})", le_u64(d, 4), le_u64(d, 12))
            }
            (0x04, 0x02, _) => write!(f, "CDROM({:#x})", le_u32(d, 0)),
            (0x04, 0x03, n) if n >= 16 => match guid_at(d, 0) {
                Some(g) => write!(f, "VenMedia({g})"),
                None => Ok(()),
            },
            (0x04, 0x04, _) => Utf16Str(d).fmt(f),
            (0x04, 0x06, 16) => match guid_at(d, 0) {
                Some(g) => write!(f, "FvFile({g})"),
                None => Ok(()),
            },
            (0x04, 0x07, 16) => match guid_at(d, 0) {
                Some(g) => write!(f, "Fv({g})"),
                None => Ok(()),
            },
            (0x04, 0x08, 20) => write!(f, "Offset({:#x},{:#x})", le_u64(d, 4), le_u64(d, 12)),
            (0x7F, 0x01, _) => f.write_str(","),
            (t, s, _) => {
                write!(f, "Path({t},{s},")?;
                for b in d {
                    write!(f, "{b:02x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for DevicePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for n in self.nodes() {
            match n {
                Ok(n) => {
                    let instance_end = n.node_type == 0x7F && n.sub_type == 0x01;
                    if !(first || instance_end) {
                        f.write_str("/")?;
                    }
                    first = n.node_type == 0x7F;
                    n.fmt(f)?;
                }
                Err(e) => return write!(f, "<malformed: {e}>"),
            }
        }
        Ok(())
    }
}

/// `UEFI_IMAGE_LOAD_EVENT` (PFP 10.4.4): data of boot applications and drivers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UefiImageLoadEvent<'a> {
    /// `ImageLocationInMemory`: where the image was loaded.
    pub image_location_in_memory: u64,
    /// `ImageLengthInMemory`: its size in memory, in bytes.
    pub image_length_in_memory: u64,
    /// `ImageLinkTimeAddress`: its link-time base address.
    pub image_link_time_address: u64,
    /// `DevicePath`: where the image was loaded from (checked to be well formed).
    pub device_path: DevicePath<'a>,
    /// Bytes after the device path. Old shim (Debian 10's) logs its second-stage loader and
    /// the kernel with all fields zero and 9 such bytes: no location, no path.
    pub trailing: &'a [u8],
}

impl<'a> UefiImageLoadEvent<'a> {
    /// Reads the structure; the device path's nodes are checked.
    pub fn parse(data: &'a [u8]) -> Result<Self, DecodeError> {
        let mut c = Cur::new(data);
        let image_location_in_memory = c.u64("UEFI_IMAGE_LOAD_EVENT.ImageLocationInMemory")?;
        let image_length_in_memory = c.u64("UEFI_IMAGE_LOAD_EVENT.ImageLengthInMemory")?;
        let image_link_time_address = c.u64("UEFI_IMAGE_LOAD_EVENT.ImageLinkTimeAddress")?;
        let n = c.u64("UEFI_IMAGE_LOAD_EVENT.LengthOfDevicePath")?;
        let dp = DevicePath(c.take(n, "UEFI_IMAGE_LOAD_EVENT.DevicePath")?);
        dp.check()?;
        Ok(Self {
            image_location_in_memory,
            image_length_in_memory,
            image_link_time_address,
            device_path: dp,
            trailing: c.rest(),
        })
    }
}

/// `EFI_LOAD_OPTION` (UEFI 2.10, 3.1.3): the data of a `Boot####` variable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EfiLoadOption<'a> {
    /// `Attributes`: LOAD_OPTION_* bits (active, hidden, category...).
    pub attributes: u32,
    /// `Description`: the boot entry's name, as shown in the boot menu.
    pub description: Utf16Str<'a>,
    /// `FilePathList`: the device path(s) of what to boot.
    pub file_path_list: DevicePath<'a>,
    /// `OptionalData`: data passed to the loaded image.
    pub optional_data: &'a [u8],
}

impl<'a> EfiLoadOption<'a> {
    /// Reads a load option from a `Boot####` variable's data.
    pub fn parse(data: &'a [u8]) -> Result<Self, DecodeError> {
        let mut c = Cur::new(data);
        let attributes = c.u32("EFI_LOAD_OPTION.Attributes")?;
        let path_len = c.u16("EFI_LOAD_OPTION.FilePathListLength")?;
        // Description: NUL-terminated UTF-16.
        let rest = &data[c.pos..];
        let units = rest
            .chunks_exact(2)
            .position(|u| u == [0, 0])
            .ok_or(DecodeError {
                field: "EFI_LOAD_OPTION.Description",
                reason: "no NUL terminator",
            })?;
        let description = Utf16Str(c.take(units as u64 * 2, "EFI_LOAD_OPTION.Description")?);
        c.take(2, "EFI_LOAD_OPTION.Description")?;
        let file_path_list =
            DevicePath(c.take(u64::from(path_len), "EFI_LOAD_OPTION.FilePathList")?);
        file_path_list.check()?;
        Ok(Self {
            attributes,
            description,
            file_path_list,
            optional_data: c.rest(),
        })
    }
}

/// One `EFI_PARTITION_ENTRY` of a GPT event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GptEntry<'a> {
    /// `PartitionTypeGUID`: the kind of partition (EFI system, Linux filesystem...).
    pub partition_type_guid: EfiGuid,
    /// `UniquePartitionGUID`: this partition's GUID.
    pub unique_partition_guid: EfiGuid,
    /// `StartingLBA`: first block of the partition.
    pub starting_lba: u64,
    /// `EndingLBA`: last block of the partition (inclusive).
    pub ending_lba: u64,
    /// `Attributes`: partition attribute bits.
    pub attributes: u64,
    /// `PartitionName`: the partition's name.
    pub partition_name: Utf16Str<'a>,
}

/// `UEFI_GPT_DATA` (PFP 10.4.6): the GPT header and the partition entries in use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UefiGptData<'a> {
    /// `DiskGUID` from the GPT header.
    pub disk_guid: EfiGuid,
    /// `NumberOfPartitions`: the entries that follow.
    pub number_of_partitions: u64,
    /// `SizeOfPartitionEntry` from the GPT header, in bytes.
    pub size_of_partition_entry: u32,
    entries: &'a [u8],
}

/// `sizeof(EFI_PARTITION_TABLE_HEADER)` (UEFI 2.10, 5.3.2).
const GPT_HEADER_SIZE: u64 = 92;

impl<'a> UefiGptData<'a> {
    /// Reads the GPT header (checking its `EFI PART` signature) and bounds the entries.
    pub fn parse(data: &'a [u8]) -> Result<Self, DecodeError> {
        let mut c = Cur::new(data);
        let h = c.take(GPT_HEADER_SIZE, "UEFI_GPT_DATA.UEFIPartitionHeader")?;
        if &h[..8] != b"EFI PART" {
            return Err(DecodeError {
                field: "UEFI_GPT_DATA.UEFIPartitionHeader.Signature",
                reason: "not \"EFI PART\"",
            });
        }
        let disk_guid = guid_at(h, 56).unwrap_or(EfiGuid([0; 16]));
        let size_of_partition_entry = le_u32(h, 84);
        if size_of_partition_entry < 128 {
            return Err(DecodeError {
                field: "UEFI_GPT_DATA.UEFIPartitionHeader.SizeOfPartitionEntry",
                reason: "below the 128 bytes of an EFI_PARTITION_ENTRY",
            });
        }
        let number_of_partitions = c.u64("UEFI_GPT_DATA.NumberOfPartitions")?;
        let len = number_of_partitions
            .checked_mul(u64::from(size_of_partition_entry))
            .ok_or(DecodeError {
                field: "UEFI_GPT_DATA.NumberOfPartitions",
                reason: "overflows",
            })?;
        let entries = c.take(len, "UEFI_GPT_DATA.Partitions")?;
        c.end("UEFI_GPT_DATA.Partitions")?;
        Ok(Self {
            disk_guid,
            number_of_partitions,
            size_of_partition_entry,
            entries,
        })
    }

    /// The partition entries, in order.
    pub fn entries(&self) -> impl Iterator<Item = GptEntry<'a>> + 'a {
        self.entries
            .chunks_exact(self.size_of_partition_entry as usize)
            .map(|e| GptEntry {
                partition_type_guid: guid_at(e, 0).unwrap_or(EfiGuid([0; 16])),
                unique_partition_guid: guid_at(e, 16).unwrap_or(EfiGuid([0; 16])),
                starting_lba: le_u64(e, 32),
                ending_lba: le_u64(e, 40),
                attributes: le_u64(e, 48),
                partition_name: Utf16Str(e.get(56..128).unwrap_or(&[])),
            })
    }
}

/// What an EV_IPL string is, from its prefix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IplStringKind {
    /// grub: `grub_cmd: …` (PCR 8).
    GrubCmd,
    /// grub: `kernel_cmdline: …` (PCR 8).
    KernelCmdline,
    /// grub: `grub_kernel_cmdline …` (older grub, PCR 8).
    GrubKernelCmdline,
    /// Other ASCII text (file paths measured into PCR 9, shim's MokList names, …).
    Text,
    /// UTF-16 text (systemd-boot's kernel command line, PCR 12 or 8).
    Utf16,
}

/// EV_IPL data decoded as a string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IplString<'a> {
    /// What the string is, from its prefix.
    pub kind: IplStringKind,
    /// The whole data without its trailing NUL(s).
    pub text: &'a [u8],
    /// The part after the grub prefix (`text` for other kinds).
    pub value: &'a [u8],
}

impl<'a> IplString<'a> {
    /// `None` when the data is neither printable ASCII/UTF-8 nor UTF-16LE text.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let trimmed = trim_nuls(data);
        if trimmed.is_empty() {
            return None;
        }
        if core::str::from_utf8(trimmed).is_ok() && !trimmed.contains(&0) {
            for (prefix, kind) in [
                (&b"grub_cmd: "[..], IplStringKind::GrubCmd),
                (&b"kernel_cmdline: "[..], IplStringKind::KernelCmdline),
                (
                    &b"grub_kernel_cmdline "[..],
                    IplStringKind::GrubKernelCmdline,
                ),
            ] {
                if let Some(v) = trimmed.strip_prefix(prefix) {
                    return Some(Self {
                        kind,
                        text: trimmed,
                        value: v,
                    });
                }
            }
            return Some(Self {
                kind: IplStringKind::Text,
                text: trimmed,
                value: trimmed,
            });
        }
        if data.len() % 2 == 0 && looks_utf16(data) {
            return Some(Self {
                kind: IplStringKind::Utf16,
                text: data,
                value: data,
            });
        }
        None
    }
}

fn trim_nuls(mut d: &[u8]) -> &[u8] {
    while let [rest @ .., 0] = d {
        d = rest;
    }
    d
}

fn looks_utf16(d: &[u8]) -> bool {
    let units = Utf16Str(d).units();
    let mut n = 0;
    for u in units {
        if u == 0 || (u < 0x20 && u != 0x09 && u != 0x0A) {
            return false;
        }
        n += 1;
    }
    n > 0 && char::decode_utf16(Utf16Str(d).units()).all(|c| c.is_ok())
}

/// The value of an EV_SEPARATOR (PFP 10.4.1: 0 normally, 1s on an error; Windows `WBCL`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SeparatorValue {
    /// Four zero bytes: the normal separator.
    Normal,
    /// Four 0xFF bytes: the firmware met an error before this point.
    Error,
    /// `WBCL`: the separator Windows Boot Manager writes.
    Wbcl,
}

impl SeparatorValue {
    /// The value of a separator's data, or `None` for other data.
    pub fn parse(data: &[u8]) -> Option<Self> {
        match data {
            [0, 0, 0, 0] => Some(Self::Normal),
            [0xFF, 0xFF, 0xFF, 0xFF] => Some(Self::Error),
            b"WBCL" => Some(Self::Wbcl),
            _ => None,
        }
    }

    /// The data bytes every separator value has.
    pub const ALL: [&'static [u8]; 3] = [&[0, 0, 0, 0], &[0xFF; 4], b"WBCL"];
}

/// `UEFI_PLATFORM_FIRMWARE_BLOB` / `…BLOB2` (PFP 10.4.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UefiPlatformFirmwareBlob<'a> {
    /// BLOB2 only.
    pub description: Option<&'a [u8]>,
    /// `BlobBase`: the firmware volume's physical address.
    pub blob_base: u64,
    /// `BlobLength`: its length in bytes.
    pub blob_length: u64,
}

impl<'a> UefiPlatformFirmwareBlob<'a> {
    /// Reads a BLOB (or BLOB2 when `blob2`, with its description first).
    pub fn parse(data: &'a [u8], blob2: bool) -> Result<Self, DecodeError> {
        let mut c = Cur::new(data);
        let description = if blob2 {
            let n = c.u8("UEFI_PLATFORM_FIRMWARE_BLOB2.BlobDescriptionSize")?;
            Some(c.take(u64::from(n), "UEFI_PLATFORM_FIRMWARE_BLOB2.BlobDescription")?)
        } else {
            None
        };
        let blob_base = c.u64("UEFI_PLATFORM_FIRMWARE_BLOB.BlobBase")?;
        let blob_length = c.u64("UEFI_PLATFORM_FIRMWARE_BLOB.BlobLength")?;
        c.end("UEFI_PLATFORM_FIRMWARE_BLOB")?;
        Ok(Self {
            description,
            blob_base,
            blob_length,
        })
    }
}

/// Windows boot configuration log (WBCL) data of an EV_EVENT_TAG: a list of SIPA events
/// `{u32 type, u32 size, data}`; types with bit 0x00010000 are containers of more of them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WbclTaggedEvent<'a>(pub &'a [u8]);

/// SIPA container flag (Microsoft `SIPAEVENTTYPE_CONTAINER`).
const SIPA_CONTAINER: u32 = 0x0001_0000;
/// Deepest container nesting accepted (Windows logs nest 2 levels).
const SIPA_MAX_DEPTH: usize = 8;

impl<'a> WbclTaggedEvent<'a> {
    /// Checks the TLV structure, containers included (bounded depth).
    pub fn parse(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_sipa(data, 0)?;
        Ok(Self(data))
    }

    /// Top-level `(type, data)` items.
    pub fn items(&self) -> impl Iterator<Item = (u32, &'a [u8])> + 'a {
        sipa_items(self.0)
    }

    /// A name for the SIPA event types Windows logs most.
    pub fn type_name(t: u32) -> Option<&'static str> {
        Some(match t {
            0x0004_0001 => "SIPAEVENT_TRUSTBOUNDARY",
            0x0004_0002 => "SIPAEVENT_ELAM_AGGREGATION",
            0x0004_0003 => "SIPAEVENT_LOADEDMODULE_AGGREGATION",
            0x000C_0004 => "SIPAEVENT_TRUSTPOINT_AGGREGATION",
            0x0005_0001 => "SIPAEVENT_INFORMATION",
            0x0005_0002 => "SIPAEVENT_BOOTCOUNTER",
            0x0005_0003 => "SIPAEVENT_TRANSFER_CONTROL",
            0x0005_0004 => "SIPAEVENT_APPLICATION_RETURN",
            0x0005_0005 => "SIPAEVENT_BITLOCKER_UNLOCK",
            0x0005_0006 => "SIPAEVENT_EVENTCOUNTER",
            0x0005_0007 => "SIPAEVENT_COUNTERID",
            0x0005_0008 => "SIPAEVENT_MORBIT_NOT_CANCELABLE",
            0x0005_0009 => "SIPAEVENT_APPLICATION_SVN",
            0x0005_000A => "SIPAEVENT_SVN_CHAIN_STATUS",
            0x0005_000B => "SIPAEVENT_MORBIT_API_STATUS",
            0x0006_0001 => "SIPAEVENT_BOOTDEBUGGING",
            0x0006_0002 => "SIPAEVENT_BOOT_REVOCATION_LIST",
            0x0007_0001 => "SIPAEVENT_OSKERNELDEBUG",
            0x0007_0002 => "SIPAEVENT_CODEINTEGRITY",
            0x0007_0003 => "SIPAEVENT_TESTSIGNING",
            0x0007_0004 => "SIPAEVENT_DATAEXECUTIONPREVENTION",
            0x0007_0005 => "SIPAEVENT_SAFEMODE",
            0x0007_0006 => "SIPAEVENT_WINPE",
            0x0007_0007 => "SIPAEVENT_PHYSICALADDRESSEXTENSION",
            0x0007_0008 => "SIPAEVENT_OSDEVICE",
            0x0007_0009 => "SIPAEVENT_SYSTEMROOT",
            0x0007_000A => "SIPAEVENT_HYPERVISOR_LAUNCH_TYPE",
            0x0007_000B => "SIPAEVENT_HYPERVISOR_PATH",
            0x0007_000C => "SIPAEVENT_HYPERVISOR_IOMMU_POLICY",
            0x0007_000D => "SIPAEVENT_HYPERVISOR_DEBUG",
            0x0007_000E => "SIPAEVENT_DRIVER_LOAD_POLICY",
            0x0007_000F => "SIPAEVENT_SI_POLICY",
            0x0007_0010 => "SIPAEVENT_HYPERVISOR_MMIO_NX_POLICY",
            0x0007_0011 => "SIPAEVENT_HYPERVISOR_MSR_FILTER_POLICY",
            0x0007_0012 => "SIPAEVENT_VSM_LAUNCH_TYPE",
            0x0007_0013 => "SIPAEVENT_OS_REVOCATION_LIST",
            0x0007_0014 => "SIPAEVENT_SMT_STATUS",
            0x0007_0015 => "SIPAEVENT_VSM_IDK_INFO",
            0x0007_0016 => "SIPAEVENT_FLIGHTSIGNING",
            0x0007_0017 => "SIPAEVENT_PAGEFILE_ENCRYPTION_ENABLED",
            0x0007_0018 => "SIPAEVENT_VSM_IDKS_INFO",
            0x0007_0019 => "SIPAEVENT_HIBERNATION_DISABLED",
            0x0007_001A => "SIPAEVENT_DUMPS_DISABLED",
            0x0007_001B => "SIPAEVENT_DUMP_ENCRYPTION_ENABLED",
            0x0007_001C => "SIPAEVENT_DUMP_ENCRYPTION_KEY_DIGEST",
            0x0007_001D => "SIPAEVENT_LSAISO_CONFIG",
            0x0007_001E => "SIPAEVENT_SBCP_INFO",
            0x0007_0030 => "SIPAEVENT_HYPERVISOR_BOOT_DMA_PROTECTION",
            0x000A_0001 => "SIPAEVENT_NOAUTHORITY",
            0x000A_0002 => "SIPAEVENT_AUTHORITYPUBKEY",
            0x000B_0001 => "SIPAEVENT_FILEPATH",
            0x000B_0002 => "SIPAEVENT_IMAGESIZE",
            0x000B_0003 => "SIPAEVENT_HASHALGORITHMID",
            0x000B_0004 => "SIPAEVENT_AUTHENTICODEHASH",
            0x000B_0005 => "SIPAEVENT_AUTHORITYISSUER",
            0x000B_0006 => "SIPAEVENT_AUTHORITYSERIAL",
            0x000B_0007 => "SIPAEVENT_IMAGEBASE",
            0x000B_0008 => "SIPAEVENT_AUTHORITYPUBLISHER",
            0x000B_0009 => "SIPAEVENT_AUTHORITYSHA1THUMBPRINT",
            0x000B_000A => "SIPAEVENT_IMAGEVALIDATED",
            0x000B_000B => "SIPAEVENT_MODULE_SVN",
            _ => return None,
        })
    }

    /// Whether a SIPA event type is a container of other SIPA events.
    pub fn is_container(t: u32) -> bool {
        t & SIPA_CONTAINER != 0
    }
}

fn sipa_items(data: &[u8]) -> impl Iterator<Item = (u32, &[u8])> + '_ {
    let mut c = Cur::new(data);
    core::iter::from_fn(move || {
        let t = c.u32("SIPA.type").ok()?;
        let n = c.u32("SIPA.size").ok()?;
        let d = c.take(u64::from(n), "SIPA.data").ok()?;
        Some((t, d))
    })
}

fn check_sipa(data: &[u8], depth: usize) -> Result<(), DecodeError> {
    if depth > SIPA_MAX_DEPTH {
        return Err(DecodeError {
            field: "SIPA.type",
            reason: "containers nested too deep",
        });
    }
    let mut c = Cur::new(data);
    while c.left() > 0 {
        let t = c.u32("SIPA.type")?;
        let n = c.u32("SIPA.size")?;
        let d = c.take(u64::from(n), "SIPA.data")?;
        if t & SIPA_CONTAINER != 0 {
            check_sipa(d, depth + 1)?;
        }
    }
    Ok(())
}

/// The decoded data of one event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EventData<'a> {
    /// The Spec ID event (see [`super::EventLog::spec_id`]).
    SpecId,
    /// StartupLocality: PCR 0's start value.
    StartupLocality(u8),
    /// Another EV_NO_ACTION, with its signature when it starts with printable ASCII
    /// (`SP800-155 Event`, Windows trust points, ...).
    NoAction(&'a [u8]),
    /// EV_SEPARATOR.
    Separator(SeparatorValue),
    /// EV_EFI_ACTION / EV_ACTION / EV_POST_CODE / EV_S_CRTM_CONTENTS text.
    Text(&'a [u8]),
    /// EV_S_CRTM_VERSION: a UTF-16 version string.
    ScrtmVersion(Utf16Str<'a>),
    /// EV_EFI_VARIABLE_* (UEFI_VARIABLE_DATA).
    Variable(UefiVariableData<'a>),
    /// EV_EFI_BOOT_SERVICES_APPLICATION / _DRIVER, EV_EFI_RUNTIME_SERVICES_DRIVER.
    ImageLoad(UefiImageLoadEvent<'a>),
    /// EV_EFI_GPT_EVENT or EV_EFI_GPT_EVENT2 (UEFI_GPT_DATA).
    Gpt(UefiGptData<'a>),
    /// EV_IPL data that reads as a string.
    Ipl(IplString<'a>),
    /// EV_EFI_PLATFORM_FIRMWARE_BLOB / BLOB2 (or a 16-byte binary EV_POST_CODE).
    FirmwareBlob(UefiPlatformFirmwareBlob<'a>),
    /// EV_EVENT_TAG that reads as Windows WBCL (SIPA) tagged events.
    Wbcl(WbclTaggedEvent<'a>),
    /// No decoder for this type, or binary data in a text type.
    Raw(&'a [u8]),
    /// The type has a structure and the data does not follow it.
    Malformed(DecodeError),
}

fn printable(d: &[u8]) -> Option<&[u8]> {
    let t = trim_nuls(d);
    (!t.is_empty() && core::str::from_utf8(t).is_ok() && !t.contains(&0)).then_some(t)
}

/// Decodes an event's data according to its type.
pub fn classify<'a>(e: &TcgPcrEvent2<'a>) -> EventData<'a> {
    let d = e.event;
    let ok = |r: Result<EventData<'a>, DecodeError>| r.unwrap_or_else(EventData::Malformed);
    match e.event_type {
        TcgEventType::EV_NO_ACTION => {
            if e.index == 0 && d.starts_with(b"Spec ID Event03\0") {
                EventData::SpecId
            } else if d.len() == 17 && d.starts_with(b"StartupLocality\0") {
                EventData::StartupLocality(d[16])
            } else {
                let sig = d.split(|&b| b == 0).next().unwrap_or(&[]);
                let sig = if sig.iter().all(|b| (0x20..0x7F).contains(b)) {
                    sig
                } else {
                    &[]
                };
                EventData::NoAction(sig)
            }
        }
        TcgEventType::EV_SEPARATOR => match SeparatorValue::parse(d) {
            Some(v) => EventData::Separator(v),
            None => EventData::Malformed(DecodeError {
                field: "event",
                reason: "separator data is not 00000000, FFFFFFFF or WBCL",
            }),
        },
        TcgEventType::EV_EFI_ACTION
        | TcgEventType::EV_ACTION
        | TcgEventType::EV_POST_CODE
        | TcgEventType::EV_S_CRTM_CONTENTS
        | TcgEventType::EV_EFI_HCRTM_EVENT
        | TcgEventType::EV_COMPACT_HASH
        | TcgEventType::EV_OMIT_BOOT_DEVICE_EVENTS => match printable(d) {
            Some(t) => EventData::Text(t),
            None if e.event_type == TcgEventType::EV_POST_CODE && d.len() == 16 => {
                ok(UefiPlatformFirmwareBlob::parse(d, false).map(EventData::FirmwareBlob))
            }
            None => EventData::Raw(d),
        },
        TcgEventType::EV_S_CRTM_VERSION => {
            if d.len() % 2 == 0 && looks_utf16(d) {
                EventData::ScrtmVersion(Utf16Str(d))
            } else {
                EventData::Raw(d)
            }
        }
        TcgEventType::EV_EFI_VARIABLE_DRIVER_CONFIG
        | TcgEventType::EV_EFI_VARIABLE_BOOT
        | TcgEventType::EV_EFI_VARIABLE_BOOT2
        | TcgEventType::EV_EFI_VARIABLE_AUTHORITY => {
            ok(UefiVariableData::parse(d).map(EventData::Variable))
        }
        TcgEventType::EV_EFI_BOOT_SERVICES_APPLICATION
        | TcgEventType::EV_EFI_BOOT_SERVICES_DRIVER
        | TcgEventType::EV_EFI_RUNTIME_SERVICES_DRIVER => {
            ok(UefiImageLoadEvent::parse(d).map(EventData::ImageLoad))
        }
        TcgEventType::EV_EFI_GPT_EVENT | TcgEventType::EV_EFI_GPT_EVENT2 => {
            ok(UefiGptData::parse(d).map(EventData::Gpt))
        }
        TcgEventType::EV_IPL => match IplString::parse(d) {
            Some(s) => EventData::Ipl(s),
            None => EventData::Raw(d),
        },
        TcgEventType::EV_EFI_PLATFORM_FIRMWARE_BLOB => {
            ok(UefiPlatformFirmwareBlob::parse(d, false).map(EventData::FirmwareBlob))
        }
        TcgEventType::EV_EFI_PLATFORM_FIRMWARE_BLOB2 => {
            ok(UefiPlatformFirmwareBlob::parse(d, true).map(EventData::FirmwareBlob))
        }
        TcgEventType::EV_EVENT_TAG => match WbclTaggedEvent::parse(d) {
            Ok(w) => EventData::Wbcl(w),
            Err(_) => EventData::Raw(d),
        },
        _ => EventData::Raw(d),
    }
}

/// A known firmware deviation from "the digest is the hash of the event data".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Quirk {
    /// EV_EFI_VARIABLE_BOOT measured as H(VariableData) rather than H(UEFI_VARIABLE_DATA)
    /// (EDK2/OVMF and most firmware; PFP 10.4.4 asks for the whole structure).
    VariableBootDataOnly,
    /// EV_EFI_VARIABLE_AUTHORITY from old shim: one trailing byte not covered by the digest
    /// (go-attestation issue 157).
    ShimAuthorityExtraByte,
    /// grub's PCR 8 strings: the digest covers the text after the `grub_cmd: ` /
    /// `kernel_cmdline: ` prefix (with or without its NUL).
    GrubIplPrefix,
}

impl Quirk {
    /// The quirk's stable name (for reports and JSON).
    pub fn name(self) -> &'static str {
        match self {
            Self::VariableBootDataOnly => "variable-boot-data-only",
            Self::ShimAuthorityExtraByte => "shim-authority-extra-byte",
            Self::GrubIplPrefix => "grub-ipl-prefix",
        }
    }
}

/// Whether an event's digest in one bank is the hash of its data.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DigestCheck {
    /// digest = H(event data).
    Verified,
    /// digest = H(part of the data), a named firmware quirk.
    VerifiedQuirk(Quirk),
    /// The PFP says this type's digest is H(data), and it is not.
    Mismatch,
    /// The type's digest covers something not in the log (an image, a firmware region):
    /// the data is unauthenticated.
    NotRecomputable,
    /// The event has no digest in this bank, or this build cannot compute the algorithm.
    Unavailable,
}

impl DigestCheck {
    /// Whether the data is covered by the digest (fully or through a named quirk).
    pub fn is_verified(self) -> bool {
        matches!(self, Self::Verified | Self::VerifiedQuirk(_))
    }

    /// The result's stable name (for reports and JSON).
    pub fn name(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::VerifiedQuirk(_) => "verified-quirk",
            Self::Mismatch => "mismatch",
            Self::NotRecomputable => "not-recomputable",
            Self::Unavailable => "unavailable",
        }
    }
}

/// Types whose digest the PFP defines as the hash of the event data.
fn digest_is_data(t: TcgEventType) -> bool {
    matches!(
        t,
        TcgEventType::EV_SEPARATOR
            | TcgEventType::EV_EFI_ACTION
            | TcgEventType::EV_ACTION
            | TcgEventType::EV_EFI_GPT_EVENT
            | TcgEventType::EV_EFI_GPT_EVENT2
            | TcgEventType::EV_EFI_VARIABLE_DRIVER_CONFIG
            | TcgEventType::EV_EFI_VARIABLE_BOOT
            | TcgEventType::EV_EFI_VARIABLE_BOOT2
            | TcgEventType::EV_EFI_VARIABLE_AUTHORITY
            | TcgEventType::EV_S_CRTM_VERSION
    )
}

fn eq_hash(alg: HashAlg, data: &[u8], want: &[u8]) -> bool {
    hash::digest(alg, &[data]).is_ok_and(|d| d.as_bytes() == want)
}

/// Checks the event's `alg` digest against its data, with the firmware quirks above.
pub fn check_digest(e: &TcgPcrEvent2<'_>, alg: HashAlg) -> DigestCheck {
    let Some(want) = e.digests.get(alg) else {
        return DigestCheck::Unavailable;
    };
    if !hash::available(alg) {
        return DigestCheck::Unavailable;
    }
    let d = e.event;
    if eq_hash(alg, d, want) {
        return DigestCheck::Verified;
    }
    match e.event_type {
        TcgEventType::EV_EFI_VARIABLE_BOOT => {
            if let Ok(v) = UefiVariableData::parse(d) {
                if eq_hash(alg, v.variable_data, want) {
                    return DigestCheck::VerifiedQuirk(Quirk::VariableBootDataOnly);
                }
            }
        }
        TcgEventType::EV_EFI_VARIABLE_AUTHORITY => {
            if let Some((_, head)) = d.split_last() {
                if eq_hash(alg, head, want) {
                    return DigestCheck::VerifiedQuirk(Quirk::ShimAuthorityExtraByte);
                }
            }
        }
        TcgEventType::EV_IPL if e.pcr_index == 8 => {
            if let Some(s) = IplString::parse(d) {
                if s.kind != IplStringKind::Text && s.kind != IplStringKind::Utf16 {
                    let start = s.text.len() - s.value.len();
                    let with_nul = d.get(start..start + s.value.len() + 1);
                    if eq_hash(alg, s.value, want)
                        || with_nul.is_some_and(|w| eq_hash(alg, w, want))
                    {
                        return DigestCheck::VerifiedQuirk(Quirk::GrubIplPrefix);
                    }
                }
            }
        }
        _ => {}
    }
    if digest_is_data(e.event_type) {
        DigestCheck::Mismatch
    } else {
        DigestCheck::NotRecomputable
    }
}
