//! The PCR files tpm2-tools writes (`tpm2_pcrread -o`, `tpm2_quote -o`) and reads
//! (`tpm2_checkquote -f`), in their three forms.
//!
//! All three carry the same thing, a PCR selection and one value per selected PCR, which this
//! module parses into (and writes from) a [`PcrValues`] that borrows the values from the file.
//! Nothing here allocates; every count read from a file is checked against the bytes present
//! before it is used.
//!
//! # `serialized` (`-F serialized`; the default of `tpm2_quote -o`)
//!
//! A dump of tpm2-tools' in-memory C structures with integers converted to little-endian:
//!
//! ```text
//! offset  size  field
//!      0     4  TPML_PCR_SELECTION.count (u32 LE; 16 slots, this parser accepts at most 8)
//!      4   128  16 slots of TPMS_PCR_SELECTION, 8 bytes each:
//!               u16 LE hash, u8 sizeofSelect, u8[4] pcrSelect, u8 padding
//!    132     4  N, the number of TPML_DIGEST lists (u32 LE)
//!    136 532*N  N lists of 532 bytes: u32 LE count (at most 8), then 8 slots of
//!               { u16 LE size, u8[64] buffer }
//! ```
//!
//! Values follow the selection order (banks as listed, indices ascending), split over the lists
//! the way TPM2_PCR_Read returned them: eight per list, the last one partial. tpm2-tools always
//! issues at least one PCR_Read, so an empty selection still has one (empty) list. Slots past a
//! count, padding, the unused fourth select byte and buffer bytes past a digest's size are
//! ignored when reading and written as zero, as tpm2-tools does.
//!
//! # `values` (`-F values`; the default of `tpm2_pcrread -o`)
//!
//! The selected digests concatenated, nothing else; the selection has to come from elsewhere
//! (the `-l` string).
//!
//! # `marshaled` (`-F marshaled`)
//!
//! Not available in tpm2-tools 5.4 (both tools refuse the name). Later tpm2-tools write the
//! same content in TPM byte order with the TSS2 marshalling functions: a TPML_PCR_SELECTION,
//! a u32 (big-endian) count of TPML_DIGEST lists, then the lists.
//!
//! # Strictness
//!
//! Every check below has its own [`PcrFileError`] variant: bank count at most 8
//! ([`MAX_PCR_BANKS`]: one per hash algorithm the spec defines), known hash
//! algorithms, `sizeofSelect` 3 or 4, no PCR index above 23, a list count that fits in the data
//! and equals `max(1, ceil(selected / 8))`, at most 8 digests per list, digest sizes at most 64
//! and equal to the bank's digest size, exactly one digest per selected PCR, and no bytes after
//! the last list.

mod marshaled;
mod serialized;
mod values;

pub use marshaled::{parse_marshaled, write_marshaled};
pub use serialized::{
    parse_serialized, write_serialized, SERIALIZED_BANK_SLOTS, SERIALIZED_DIGEST_LIST_LEN,
    SERIALIZED_LISTS_OFFSET, SERIALIZED_SELECTION_LEN,
};
pub use values::{parse_values, write_values};

use core::fmt;

use crate::types::pcr::{
    bitmap_le, IMPLEMENTATION_PCR, MAX_DIGESTS, MAX_PCR_BANKS, MAX_PCR_VALUES, PCR_SELECT_MAX,
    PCR_SELECT_MIN,
};
use crate::types::tpm2b::max::DIGEST as MAX_DIGEST_SIZE;
use crate::types::tpm2b::Tpm2b;
use crate::types::{HashAlg, PcrValues, TpmAlgId, TpmlDigest, TpmlPcrSelection, TpmsPcrSelection};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// Which of tpm2-tools' PCR file forms (`-F`/`--pcrs_format`) a file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PcrFileFormat {
    /// Little-endian C structure dump, selection included.
    Serialized,
    /// Bare concatenated digests; the selection is given separately.
    Values,
    /// TPM-byte-order TPML_PCR_SELECTION, u32 list count, TPML_DIGEST lists.
    Marshaled,
}

impl PcrFileFormat {
    /// Every form, in the order tpm2-tools documents them.
    pub const ALL: [PcrFileFormat; 3] = [Self::Values, Self::Serialized, Self::Marshaled];

    /// The form named as tpm2-tools' `-F` option spells it (`serialized`, `values`,
    /// `marshaled`), or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name.trim())
    }

    /// The `-F` spelling of this form.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Serialized => "serialized",
            Self::Values => "values",
            Self::Marshaled => "marshaled",
        }
    }

    /// Whether files of this form carry their own PCR selection.
    pub const fn has_selection(self) -> bool {
        !matches!(self, Self::Values)
    }
}

impl fmt::Display for PcrFileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a PCR file was refused, or could not be written. `at` is a byte offset in the file
/// (for writers, in the output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcrFileError {
    /// The file ends inside `what`.
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Byte offset where it starts.
        at: usize,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left in the file.
        available: usize,
    },
    /// TPML_PCR_SELECTION.count is above [`MAX_PCR_BANKS`] (8).
    BankCountAboveMax {
        /// The count read.
        count: u32,
        /// Byte offset of the count.
        at: usize,
    },
    /// A bank's algorithm is not a hash algorithm.
    UnknownHash {
        /// The TPM_ALG_ID read.
        alg: u16,
        /// Byte offset of the algorithm.
        at: usize,
    },
    /// `sizeofSelect` is not 3 or 4.
    BadSizeofSelect {
        /// The sizeofSelect read.
        size: u8,
        /// Byte offset of sizeofSelect.
        at: usize,
    },
    /// The selection names a PCR index of 24 or above.
    PcrIndexOutOfRange {
        /// The PCR index.
        index: u32,
        /// Byte offset of the bitmap.
        at: usize,
    },
    /// The file says it holds more TPML_DIGEST lists than its remaining bytes can.
    DigestListCountAboveData {
        /// The count read.
        count: u32,
        /// How many lists the remaining bytes can hold.
        room: usize,
        /// Byte offset of the count.
        at: usize,
    },
    /// The number of TPML_DIGEST lists is not `max(1, ceil(selected / 8))`.
    DigestListCountMismatch {
        /// The count read.
        count: u32,
        /// The count the selection calls for.
        expected: usize,
        /// Byte offset of the count.
        at: usize,
    },
    /// A TPML_DIGEST.count is above 8.
    DigestCountAboveMax {
        /// The count read.
        count: u32,
        /// Byte offset of the count.
        at: usize,
    },
    /// A digest's size is above 64.
    DigestSizeAboveMax {
        /// The size read.
        size: u16,
        /// Byte offset of the size.
        at: usize,
    },
    /// A digest's size is not its bank's digest size.
    DigestSizeMismatch {
        /// The bank of the digest.
        bank: HashAlg,
        /// The PCR it is the value of.
        pcr: u32,
        /// The size read.
        size: usize,
        /// The bank's digest size.
        expected: usize,
        /// Byte offset of the size.
        at: usize,
    },
    /// The lists hold more digests than PCRs are selected.
    TooManyDigests {
        /// Number of PCRs selected.
        selected: usize,
        /// Byte offset of the first digest too many.
        at: usize,
    },
    /// The lists hold fewer digests than PCRs are selected.
    TooFewDigests {
        /// Digests found.
        found: usize,
        /// Number of PCRs selected.
        selected: usize,
        /// Byte offset of the end of the lists.
        at: usize,
    },
    /// Bytes follow the last structure of the file.
    TrailingBytes {
        /// Number of trailing bytes.
        count: usize,
        /// Byte offset where they start.
        at: usize,
    },
    /// A `values` file is not exactly as long as the selected banks' digests together.
    ValuesLengthMismatch {
        /// Length of the file in bytes.
        len: usize,
        /// Sum of the selected PCRs' digest sizes in bytes.
        expected: usize,
    },
    /// A `values` file was given without the selection needed to split it.
    SelectionRequired,
    /// The file's own selection differs from the one the caller expects.
    SelectionMismatch,
    /// A wire-level error with no more specific variant above.
    Wire(Error),
}

impl fmt::Display for PcrFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated {
                what,
                at,
                needed,
                available,
            } => write!(
                f,
                "truncated {what} at byte {at}: needs {needed} bytes, {available} present"
            ),
            Self::BankCountAboveMax { count, at } => write!(
                f,
                "TPML_PCR_SELECTION.count {count} above the maximum {MAX_PCR_BANKS} at byte {at}"
            ),
            Self::UnknownHash { alg, at } => {
                write!(
                    f,
                    "bank algorithm {} is not a hash at byte {at}",
                    TpmAlgId(alg)
                )
            }
            Self::BadSizeofSelect { size, at } => write!(
                f,
                "sizeofSelect {size} outside {PCR_SELECT_MIN}..={PCR_SELECT_MAX} at byte {at}"
            ),
            Self::PcrIndexOutOfRange { index, at } => write!(
                f,
                "selection names PCR {index}, out of range 0-{} at byte {at}",
                IMPLEMENTATION_PCR - 1
            ),
            Self::DigestListCountAboveData { count, room, at } => write!(
                f,
                "{count} TPML_DIGEST lists announced but the rest of the file holds at most \
                 {room} at byte {at}"
            ),
            Self::DigestListCountMismatch {
                count,
                expected,
                at,
            } => write!(
                f,
                "{count} TPML_DIGEST lists where the selection needs {expected} at byte {at}"
            ),
            Self::DigestCountAboveMax { count, at } => write!(
                f,
                "TPML_DIGEST.count {count} above the maximum {MAX_DIGESTS} at byte {at}"
            ),
            Self::DigestSizeAboveMax { size, at } => write!(
                f,
                "digest size {size} above the maximum {MAX_DIGEST_SIZE} at byte {at}"
            ),
            Self::DigestSizeMismatch {
                bank,
                pcr,
                size,
                expected,
                at,
            } => write!(
                f,
                "{bank} PCR {pcr} value is {size} bytes, a {bank} digest is {expected}, \
                 at byte {at}"
            ),
            Self::TooManyDigests { selected, at } => write!(
                f,
                "more digests than the {selected} selected PCRs at byte {at}"
            ),
            Self::TooFewDigests {
                found,
                selected,
                at,
            } => write!(
                f,
                "{found} digests for {selected} selected PCRs (file ends at byte {at})"
            ),
            Self::TrailingBytes { count, at } => {
                write!(f, "{count} trailing bytes at byte {at}")
            }
            Self::ValuesLengthMismatch { len, expected } => write!(
                f,
                "values file is {len} bytes, the selection's digests make {expected}"
            ),
            Self::SelectionRequired => {
                f.write_str("a values file needs the PCR selection (-l) to be split")
            }
            Self::SelectionMismatch => {
                f.write_str("the file's PCR selection differs from the expected one")
            }
            Self::Wire(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for PcrFileError {}

/// Why [`PcrValues`] could not be written as a PCR file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcrWriteError {
    /// The number of values is not the number of selected PCRs.
    ValueCountMismatch {
        /// Number of values given.
        values: usize,
        /// Number of PCRs selected.
        selected: usize,
    },
    /// Value number `index` (for `bank` PCR `pcr`) is not a digest of its bank's size.
    ValueSizeMismatch {
        /// Position of the value in the list (0-based).
        index: usize,
        /// The bank of the PCR.
        bank: HashAlg,
        /// The PCR index.
        pcr: u32,
        /// The value's length in bytes.
        size: usize,
        /// The bank's digest size.
        expected: usize,
    },
    /// The output buffer is smaller than the file.
    BufferTooSmall {
        /// Bytes the file needs.
        needed: usize,
        /// Bytes the buffer holds.
        available: usize,
    },
}

impl fmt::Display for PcrWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ValueCountMismatch { values, selected } => {
                write!(f, "{values} PCR values for {selected} selected PCRs")
            }
            Self::ValueSizeMismatch {
                index,
                bank,
                pcr,
                size,
                expected,
            } => write!(
                f,
                "value #{index} ({bank} PCR {pcr}) is {size} bytes, a {bank} digest is {expected}"
            ),
            Self::BufferTooSmall { needed, available } => {
                write!(
                    f,
                    "output buffer of {available} bytes, the file needs {needed}"
                )
            }
        }
    }
}

impl core::error::Error for PcrWriteError {}

/// Number of TPML_DIGEST lists tpm2-tools writes for `selected` PCRs: one per TPM2_PCR_Read
/// call, eight digests per call, and at least one call.
pub const fn digest_list_count(selected: usize) -> usize {
    if selected == 0 {
        1
    } else {
        selected.div_ceil(MAX_DIGESTS)
    }
}

/// Maps a wire error (from the marshaled form, or from a check the serialized form shares with
/// the wire parser) to the variant the serialized form would use.
fn from_wire(e: Error) -> PcrFileError {
    let sat = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    match e.kind {
        ErrorKind::Truncated { needed, available } => PcrFileError::Truncated {
            what: e.what,
            at: e.offset,
            needed,
            available,
        },
        ErrorKind::CountAboveMax { count, .. } => PcrFileError::DigestCountAboveMax {
            count: sat(count),
            at: e.offset,
        },
        ErrorKind::SizeAboveMax { size, .. } => PcrFileError::DigestSizeAboveMax {
            size: u16::try_from(size).unwrap_or(u16::MAX),
            at: e.offset,
        },
        ErrorKind::UnknownValue { value } => PcrFileError::UnknownHash {
            alg: u16::try_from(value).unwrap_or(u16::MAX),
            at: e.offset,
        },
        ErrorKind::BadSizeofSelect { size } => PcrFileError::BadSizeofSelect { size, at: e.offset },
        ErrorKind::PcrIndexOutOfRange { index } => PcrFileError::PcrIndexOutOfRange {
            index,
            at: e.offset,
        },
        ErrorKind::TrailingBytes { count } => PcrFileError::TrailingBytes {
            count,
            at: e.offset,
        },
        _ => PcrFileError::Wire(e),
    }
}

/// Appends one value and its bank/index check, shared by the two list-carrying forms.
struct ValueSink<'s, 'a, I: Iterator<Item = (HashAlg, u32)>> {
    pairs: I,
    selected: usize,
    out: &'s mut heapless::Vec<&'a [u8], MAX_PCR_VALUES>,
}

impl<'a, I: Iterator<Item = (HashAlg, u32)>> ValueSink<'_, 'a, I> {
    fn push(&mut self, value: &'a [u8], at: usize) -> Result<(), PcrFileError> {
        let Some((bank, pcr)) = self.pairs.next() else {
            return Err(PcrFileError::TooManyDigests {
                selected: self.selected,
                at,
            });
        };
        let expected = bank.digest_size();
        if value.len() != expected {
            return Err(PcrFileError::DigestSizeMismatch {
                bank,
                pcr,
                size: value.len(),
                expected,
                at,
            });
        }
        // Cannot overflow: at most one value per selected PCR, and a selection has at most
        // MAX_PCR_VALUES PCRs.
        self.out
            .push(value)
            .map_err(|_| PcrFileError::TooManyDigests {
                selected: self.selected,
                at,
            })
    }
}

/// The number of digest lists must fit the bytes present (`room`) and be exactly what the
/// selection needs, in both the serialized and the marshaled form.
fn check_list_count(
    lists: u32,
    room: usize,
    selection: &TpmlPcrSelection,
    at: usize,
) -> Result<(), PcrFileError> {
    if lists as usize > room {
        return Err(PcrFileError::DigestListCountAboveData {
            count: lists,
            room,
            at,
        });
    }
    let expected = digest_list_count(selection.pcr_count());
    if lists as usize != expected {
        return Err(PcrFileError::DigestListCountMismatch {
            count: lists,
            expected,
            at,
        });
    }
    Ok(())
}

/// Parses a PCR file of the given form.
///
/// `selection` is required for [`PcrFileFormat::Values`]. For the other forms it is optional;
/// when given, the file's own selection must name the same banks in the same order with the
/// same PCRs, or [`PcrFileError::SelectionMismatch`] is returned.
pub fn parse_pcr_file<'a>(
    format: PcrFileFormat,
    bytes: &'a [u8],
    selection: Option<&TpmlPcrSelection>,
) -> Result<PcrValues<'a>, PcrFileError> {
    let parsed = match format {
        PcrFileFormat::Values => {
            return parse_values(bytes, selection.ok_or(PcrFileError::SelectionRequired)?)
        }
        PcrFileFormat::Serialized => parse_serialized(bytes)?,
        PcrFileFormat::Marshaled => parse_marshaled(bytes)?,
    };
    match selection {
        Some(s) if !s.same_pcrs(&parsed.selection) => Err(PcrFileError::SelectionMismatch),
        _ => Ok(parsed),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Checks that `v` can be written: one value per selected PCR, each of its bank's size. (Its
/// selection is one the parsers accept: a [`TpmsPcrSelection`] cannot hold another.)
fn check_writable(v: &PcrValues<'_>) -> Result<(), PcrWriteError> {
    let selected = v.selection.pcr_count();
    if v.values.len() != selected {
        return Err(PcrWriteError::ValueCountMismatch {
            values: v.values.len(),
            selected,
        });
    }
    for (index, ((bank, pcr), value)) in v.selection.iter_pcrs().zip(&v.values).enumerate() {
        let expected = bank.digest_size();
        if value.len() != expected {
            return Err(PcrWriteError::ValueSizeMismatch {
                index,
                bank,
                pcr,
                size: value.len(),
                expected,
            });
        }
    }
    Ok(())
}

/// Bytes a file of `format` holding `v` takes, when `v` is writable (see [`write_pcr_file`]).
pub fn encoded_len(format: PcrFileFormat, v: &PcrValues<'_>) -> usize {
    let selected = v.selection.pcr_count();
    let digests: usize = v.selection.iter_pcrs().map(|(h, _)| h.digest_size()).sum();
    match format {
        PcrFileFormat::Values => digests,
        PcrFileFormat::Serialized => {
            SERIALIZED_LISTS_OFFSET + digest_list_count(selected) * SERIALIZED_DIGEST_LIST_LEN
        }
        PcrFileFormat::Marshaled => {
            let banks = v.selection.banks().iter();
            let selection = 4 + banks
                .map(|b| 3 + usize::from(b.size_of_select()))
                .sum::<usize>();
            selection + 4 + digest_list_count(selected) * 4 + 2 * selected + digests
        }
    }
}

/// The first `len` bytes of `out`, or the error saying the buffer is too small.
fn take(out: &mut [u8], len: usize) -> Result<&mut [u8], PcrWriteError> {
    let available = out.len();
    out.get_mut(..len).ok_or(PcrWriteError::BufferTooSmall {
        needed: len,
        available,
    })
}

/// Writes `v` in the given form into `out` and returns the bytes written
/// ([`encoded_len`] of them).
pub fn write_pcr_file<'b>(
    format: PcrFileFormat,
    v: &PcrValues<'_>,
    out: &'b mut [u8],
) -> Result<&'b [u8], PcrWriteError> {
    match format {
        PcrFileFormat::Serialized => write_serialized(v, out),
        PcrFileFormat::Values => write_values(v, out),
        PcrFileFormat::Marshaled => write_marshaled(v, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 20] = [0xaa; 20];
    const B: [u8; 32] = [0xbb; 32];
    const C: [u8; 32] = [0xcc; 32];

    fn sample() -> PcrValues<'static> {
        let mut selection = TpmlPcrSelection::default();
        selection
            .push(TpmsPcrSelection::new(HashAlg::Sha256, &[14, 15]).unwrap())
            .unwrap();
        selection
            .push(TpmsPcrSelection::new(HashAlg::Sha1, &[0]).unwrap())
            .unwrap();
        let mut values = heapless::Vec::new();
        for v in [&B[..], &C[..], &A[..]] {
            values.push(v).unwrap();
        }
        PcrValues { selection, values }
    }

    #[test]
    fn format_names_round_trip() {
        for f in PcrFileFormat::ALL {
            assert_eq!(PcrFileFormat::from_name(f.name()), Some(f));
        }
        assert_eq!(PcrFileFormat::from_name("marshalled"), None);
        assert_eq!(PcrFileFormat::from_name("Serialized"), None);
        assert!(!PcrFileFormat::Values.has_selection());
    }

    #[test]
    fn list_count_follows_pcr_read_calls() {
        assert_eq!(digest_list_count(0), 1);
        assert_eq!(digest_list_count(1), 1);
        assert_eq!(digest_list_count(8), 1);
        assert_eq!(digest_list_count(9), 2);
        assert_eq!(digest_list_count(24), 3);
    }

    #[test]
    fn each_form_round_trips_and_has_its_length() {
        let v = sample();
        let mut buf = [0u8; 2048];
        for f in PcrFileFormat::ALL {
            let bytes = write_pcr_file(f, &v, &mut buf).unwrap();
            assert_eq!(bytes.len(), encoded_len(f, &v), "{f}");
            let back = parse_pcr_file(f, bytes, Some(&v.selection)).unwrap();
            assert_eq!(back, v, "{f}");
        }
    }

    #[test]
    fn serialized_layout_is_little_endian_and_zero_padded() {
        let v = sample();
        let mut buf = [0xffu8; 700];
        let bytes = write_serialized(&v, &mut buf).unwrap();
        assert_eq!(bytes.len(), 668);
        assert_eq!(&bytes[..4], &[2, 0, 0, 0]);
        // sha256, sizeofSelect 3, PCR 14 and 15 (byte 1 = 0xc0), zero fourth byte and pad.
        assert_eq!(&bytes[4..12], &[0x0b, 0, 3, 0, 0xc0, 0, 0, 0]);
        assert_eq!(&bytes[12..20], &[0x04, 0, 3, 1, 0, 0, 0, 0]);
        assert!(bytes[20..132].iter().all(|&b| b == 0));
        assert_eq!(&bytes[132..140], &[1, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&bytes[140..142], &[32, 0]);
        assert_eq!(&bytes[142..174], &B);
        assert!(bytes[174..206].iter().all(|&b| b == 0));
        assert_eq!(&bytes[272..274], &[20, 0]);
        assert!(bytes[294..].iter().all(|&b| b == 0));
    }

    #[test]
    fn marshaled_layout_is_tpm_byte_order() {
        let v = sample();
        let mut buf = [0u8; 256];
        let bytes = write_marshaled(&v, &mut buf).unwrap();
        let head = [
            0, 0, 0, 2, 0, 0x0b, 3, 0, 0xc0, 0, 0, 0x04, 3, 1, 0, 0, // selection
            0, 0, 0, 1, // one TPML_DIGEST
            0, 0, 0, 3, 0, 32, // three digests, the first of 32 bytes
        ];
        assert_eq!(&bytes[..head.len()], &head);
        assert_eq!(bytes.len(), head.len() + 32 + 2 + 32 + 2 + 20);
    }

    #[test]
    fn writers_refuse_what_parsers_would() {
        let mut buf = [0u8; 2048];
        let mut v = sample();
        assert_eq!(
            write_serialized(&v, &mut buf[..667]),
            Err(PcrWriteError::BufferTooSmall {
                needed: 668,
                available: 667
            })
        );
        v.values.pop();
        assert_eq!(
            write_values(&v, &mut buf),
            Err(PcrWriteError::ValueCountMismatch {
                values: 2,
                selected: 3
            })
        );
        v.values.push(&A[..10]).unwrap();
        assert_eq!(
            write_marshaled(&v, &mut buf),
            Err(PcrWriteError::ValueSizeMismatch {
                index: 2,
                bank: HashAlg::Sha1,
                pcr: 0,
                size: 10,
                expected: 20
            })
        );
        // A selection the parsers would refuse cannot be built, so none can be written.
        assert_eq!(
            TpmsPcrSelection::from_select(HashAlg::Sha1, 2, 1),
            Err(ErrorKind::BadSizeofSelect { size: 2 })
        );
        assert_eq!(
            TpmsPcrSelection::from_select(HashAlg::Sha1, 4, 1 << 30),
            Err(ErrorKind::PcrIndexOutOfRange { index: 30 })
        );
    }

    #[test]
    fn values_need_a_selection_and_the_exact_length() {
        let v = sample();
        let mut buf = [0u8; 128];
        let bytes = write_values(&v, &mut buf).unwrap();
        assert_eq!(
            parse_pcr_file(PcrFileFormat::Values, bytes, None),
            Err(PcrFileError::SelectionRequired)
        );
        assert_eq!(
            parse_values(&bytes[1..], &v.selection),
            Err(PcrFileError::ValuesLengthMismatch {
                len: 83,
                expected: 84
            })
        );
    }

    #[test]
    fn expected_selection_must_match_the_file() {
        let v = sample();
        let mut buf = [0u8; 700];
        let bytes = write_serialized(&v, &mut buf).unwrap();
        let mut other = TpmlPcrSelection::default();
        for b in v.selection.banks().iter().rev() {
            other.push(*b).unwrap();
        }
        assert_eq!(
            parse_pcr_file(PcrFileFormat::Serialized, bytes, Some(&other)),
            Err(PcrFileError::SelectionMismatch)
        );
    }
}
