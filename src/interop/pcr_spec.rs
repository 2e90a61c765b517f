//! PCR selection lists as tpm2-tools spells them on the command line (`-l`, `tpm2_pcrread`).
//!
//! Grammar accepted here (whitespace allowed around every token):
//!
//! ```text
//! spec  := bank ( '+' bank )*
//! bank  := hash ':' list
//! hash  := sha1 | sha256 | sha384 | sha512 | ...   (anything HashAlg::from_name knows)
//! list  := 'all' | 'none' | item ( ',' item )*
//! item  := index | index '-' index                  (ranges are inclusive)
//! index := decimal 0..=23, no leading zero
//! ```
//!
//! Differences from tpm2-tools 5.4, each deliberate:
//! - tpm2-tools reads indices with `strtoul(.., 0)`, so `010` is PCR 8 there. A leading zero is
//!   refused here rather than guessed.
//! - tpm2-tools silently drops PCR 24 and up (the bit lands beyond `sizeofSelect`); here it is
//!   an error, as is a bank listed twice (tpm2-tools sends both).
//! - tpm2-tools matches `all`/`none` as prefixes (`alll` is `all`); here they are whole words.
//! - Ranges (`0-7`) are an extension; tpm2-tools 5.4 rejects them. [`PcrSpecDisplay`] never
//!   emits ranges, so its output is always accepted by tpm2-tools.

use core::fmt;
use core::str::FromStr;

use crate::types::pcr::IMPLEMENTATION_PCR;
use crate::types::{HashAlg, TpmlPcrSelection, TpmsPcrSelection};

/// Bitmap of every PCR a PC Client TPM implements (0..=23).
const ALL_PCRS: u32 = (1 << IMPLEMENTATION_PCR) - 1;

/// A short copy of the offending input text, kept inline so errors stay `Copy` and `'static`.
///
/// Holds at most [`Token::CAPACITY`] bytes, cut at a character boundary; longer input is
/// marked as truncated and shown with a trailing `...`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Token {
    buf: [u8; Token::CAPACITY],
    len: u8,
    truncated: bool,
}

impl Token {
    /// Most bytes of input text a token keeps.
    pub const CAPACITY: usize = 16;

    fn new(s: &str) -> Self {
        let mut len = s.len().min(Self::CAPACITY);
        while !s.is_char_boundary(len) {
            len -= 1;
        }
        let mut buf = [0u8; Self::CAPACITY];
        buf[..len].copy_from_slice(&s.as_bytes()[..len]);
        Self {
            buf,
            len: len as u8,
            truncated: len < s.len(),
        }
    }

    /// The kept text (a prefix of the input when [`Token::is_truncated`]).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether the input text was longer than what is kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}{}\"",
            self.as_str(),
            if self.truncated { "..." } else { "" }
        )
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a PCR selection string was refused. `at` is the byte offset in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcrSpecError {
    /// The string is empty or only whitespace.
    Empty,
    /// A `+`-separated entry is empty (`sha1:0++sha256:1`, or a trailing `+`).
    EmptyBank {
        /// Byte offset of the empty entry.
        at: usize,
    },
    /// An entry has no `:` between the bank name and its PCR list.
    MissingColon {
        /// The entry, as given.
        entry: Token,
        /// Byte offset of the entry.
        at: usize,
    },
    /// The bank name is not a hash algorithm.
    UnknownBank {
        /// The name, as given.
        name: Token,
        /// Byte offset of the name.
        at: usize,
    },
    /// Nothing follows the `:` of a bank.
    EmptyPcrList {
        /// The bank.
        bank: HashAlg,
        /// Byte offset just after the `:`.
        at: usize,
    },
    /// A `,`-separated item of a PCR list is empty (`0,,1`, or a trailing `,`).
    EmptyItem {
        /// The bank of the list.
        bank: HashAlg,
        /// Byte offset of the empty item.
        at: usize,
    },
    /// An item is neither a decimal index nor a range of two.
    BadIndex {
        /// The item, as given.
        text: Token,
        /// Byte offset of the item.
        at: usize,
    },
    /// A multi-digit index starts with `0`; tpm2-tools would read it as octal.
    LeadingZero {
        /// The index, as given.
        text: Token,
        /// Byte offset of the index.
        at: usize,
    },
    /// An index is 24 or above.
    IndexOutOfRange {
        /// The index.
        index: u32,
        /// Byte offset of the index.
        at: usize,
    },
    /// A range whose start is above its end.
    BadRange {
        /// The range's first index.
        start: u32,
        /// The range's last index.
        end: u32,
        /// Byte offset of the range.
        at: usize,
    },
    /// `all` or `none` appears next to other items.
    KeywordNotAlone {
        /// `all` or `none`.
        keyword: &'static str,
        /// The bank of the list.
        bank: HashAlg,
        /// Byte offset of the keyword.
        at: usize,
    },
    /// The same bank appears in two entries.
    DuplicateBank {
        /// The bank.
        bank: HashAlg,
        /// Byte offset of its second entry.
        at: usize,
    },
    /// More banks than a TPML_PCR_SELECTION holds.
    TooManyBanks {
        /// Byte offset of the entry past the limit.
        at: usize,
    },
}

impl fmt::Display for PcrSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => f.write_str("empty selection"),
            Self::EmptyBank { at } => write!(f, "empty bank entry at byte {at}"),
            Self::MissingColon { entry, at } => {
                write!(
                    f,
                    "missing ':' between bank and PCR list in {entry} at byte {at}"
                )
            }
            Self::UnknownBank { name, at } => write!(f, "unknown bank {name} at byte {at}"),
            Self::EmptyPcrList { bank, at } => {
                write!(f, "no PCRs listed for bank {bank} at byte {at}")
            }
            Self::EmptyItem { bank, at } => {
                write!(f, "empty item in the PCR list of bank {bank} at byte {at}")
            }
            Self::BadIndex { text, at } => write!(f, "bad PCR index {text} at byte {at}"),
            Self::LeadingZero { text, at } => write!(
                f,
                "PCR index {text} has a leading zero (tpm2-tools would read it as octal) \
                 at byte {at}"
            ),
            Self::IndexOutOfRange { index, at } => write!(
                f,
                "PCR index {index} out of range 0-{} at byte {at}",
                IMPLEMENTATION_PCR - 1
            ),
            Self::BadRange { start, end, at } => write!(f, "bad range {start}-{end} at byte {at}"),
            Self::KeywordNotAlone { keyword, bank, at } => write!(
                f,
                "\"{keyword}\" must be the whole PCR list of bank {bank} at byte {at}"
            ),
            Self::DuplicateBank { bank, at } => write!(f, "bank {bank} listed twice at byte {at}"),
            Self::TooManyBanks { at } => write!(
                f,
                "more than {} banks at byte {at}",
                crate::types::pcr::MAX_PCR_BANKS
            ),
        }
    }
}

impl core::error::Error for PcrSpecError {}

/// `s` with surrounding whitespace removed, and the offset of what remains within `s`.
fn trim_at(s: &str) -> (&str, usize) {
    let start = s.len() - s.trim_start().len();
    (s.trim(), start)
}

/// Parses one index: decimal digits only, no leading zero, below 24.
fn parse_index(text: &str, at: usize) -> Result<u32, PcrSpecError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PcrSpecError::BadIndex {
            text: Token::new(text),
            at,
        });
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(PcrSpecError::LeadingZero {
            text: Token::new(text),
            at,
        });
    }
    let index: u32 = text.parse().map_err(|_| PcrSpecError::BadIndex {
        text: Token::new(text),
        at,
    })?;
    if index >= IMPLEMENTATION_PCR {
        return Err(PcrSpecError::IndexOutOfRange { index, at });
    }
    Ok(index)
}

/// Parses one list item (an index or an inclusive range) into a bitmap.
fn parse_item(item: &str, at: usize) -> Result<u32, PcrSpecError> {
    let Some((lo, hi)) = item.split_once('-') else {
        return parse_index(item, at).map(|i| 1 << i);
    };
    let (lo_t, lo_off) = trim_at(lo);
    let (hi_t, hi_off) = trim_at(hi);
    if lo_t.is_empty() || hi_t.is_empty() {
        return Err(PcrSpecError::BadIndex {
            text: Token::new(item),
            at,
        });
    }
    let start = parse_index(lo_t, at + lo_off)?;
    let end = parse_index(hi_t, at + lo.len() + 1 + hi_off)?;
    if start > end {
        return Err(PcrSpecError::BadRange { start, end, at });
    }
    // start <= end < 24, so neither shift overflows.
    Ok(((1u32 << (end + 1)) - 1) & !((1u32 << start) - 1))
}

/// Parses the PCR list after a bank's `:` (`list` untrimmed, starting at byte `at`).
fn parse_list(bank: HashAlg, list: &str, at: usize) -> Result<u32, PcrSpecError> {
    let (whole, whole_off) = trim_at(list);
    if whole.is_empty() {
        return Err(PcrSpecError::EmptyPcrList {
            bank,
            at: at + whole_off,
        });
    }
    if whole.eq_ignore_ascii_case("all") {
        return Ok(ALL_PCRS);
    }
    if whole.eq_ignore_ascii_case("none") {
        return Ok(0);
    }
    let mut pcrs = 0u32;
    let mut pos = at;
    for raw in list.split(',') {
        let (item, off) = trim_at(raw);
        let item_at = pos + off;
        if item.is_empty() {
            return Err(PcrSpecError::EmptyItem { bank, at: item_at });
        }
        for keyword in ["all", "none"] {
            if item.eq_ignore_ascii_case(keyword) {
                return Err(PcrSpecError::KeywordNotAlone {
                    keyword,
                    bank,
                    at: item_at,
                });
            }
        }
        pcrs |= parse_item(item, item_at)?;
        pos += raw.len() + 1;
    }
    Ok(pcrs)
}

/// Parses a tpm2-tools PCR selection list such as `sha1:0,1+sha256:14,15` or `sha256:0-7,14`.
///
/// Banks keep the order they are written in (that order decides the order of PCR values in a
/// quote); every selection uses the 3-byte `sizeofSelect` TPMs and tpm2-tools use. Never
/// panics, whatever the input.
pub fn parse_pcr_spec(s: &str) -> Result<TpmlPcrSelection, PcrSpecError> {
    if s.trim().is_empty() {
        return Err(PcrSpecError::Empty);
    }
    let mut sel = TpmlPcrSelection::default();
    let mut pos = 0usize;
    for raw in s.split('+') {
        let (entry, off) = trim_at(raw);
        let entry_at = pos + off;
        if entry.is_empty() {
            return Err(PcrSpecError::EmptyBank { at: entry_at });
        }
        let Some((name, list)) = entry.split_once(':') else {
            return Err(PcrSpecError::MissingColon {
                entry: Token::new(entry),
                at: entry_at,
            });
        };
        let (name_t, _) = trim_at(name);
        let bank = HashAlg::from_name(name_t).ok_or(PcrSpecError::UnknownBank {
            name: Token::new(name_t),
            at: entry_at,
        })?;
        if sel.banks().iter().any(|b| b.hash == bank) {
            return Err(PcrSpecError::DuplicateBank { bank, at: entry_at });
        }
        let pcrs = parse_list(bank, list, entry_at + name.len() + 1)?;
        sel.push(TpmsPcrSelection::from_bitmap(bank, pcrs))
            .map_err(|_| PcrSpecError::TooManyBanks { at: entry_at })?;
        pos += raw.len() + 1;
    }
    Ok(sel)
}

impl FromStr for TpmlPcrSelection {
    type Err = PcrSpecError;

    /// Same as [`parse_pcr_spec`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_pcr_spec(s)
    }
}

/// Formats a selection the way tpm2-tools reads it: `sha1:0,1+sha256:all+sha384:none`.
///
/// Banks in list order, indices ascending, `all` for PCRs 0-23, `none` for an empty bank, no
/// ranges. Bits above 23 and `sizeofSelect` are not representable in this syntax and are
/// left out; an empty list formats as the empty string.
#[derive(Clone, Copy, Debug)]
pub struct PcrSpecDisplay<'a>(pub &'a TpmlPcrSelection);

impl fmt::Display for PcrSpecDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, bank) in self.0.banks().iter().enumerate() {
            if n > 0 {
                f.write_str("+")?;
            }
            write!(f, "{}:", bank.hash)?;
            let pcrs = bank.bitmap() & ALL_PCRS;
            if pcrs == ALL_PCRS {
                f.write_str("all")?;
            } else if pcrs == 0 {
                f.write_str("none")?;
            } else {
                for (k, i) in bank.indices().enumerate() {
                    if k > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{i}")?;
                }
            }
        }
        Ok(())
    }
}

/// Shorthand for [`PcrSpecDisplay`]: `format!("{}", display_pcr_spec(&sel))`.
pub fn display_pcr_spec(sel: &TpmlPcrSelection) -> PcrSpecDisplay<'_> {
    PcrSpecDisplay(sel)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn banks(sel: &TpmlPcrSelection) -> Vec<(HashAlg, Vec<u32>)> {
        sel.banks()
            .iter()
            .map(|b| (b.hash, b.indices().collect()))
            .collect()
    }

    fn err(s: &str) -> PcrSpecError {
        parse_pcr_spec(s).unwrap_err()
    }

    #[test]
    fn single_bank() {
        let sel = parse_pcr_spec("sha256:0,1,2").unwrap();
        assert_eq!(banks(&sel), [(HashAlg::Sha256, Vec::from([0, 1, 2]))]);
        assert_eq!(sel.banks()[0].size_of_select(), 3);
    }

    #[test]
    fn banks_keep_written_order() {
        let sel = parse_pcr_spec("sha256:14,15+sha1:0,1").unwrap();
        assert_eq!(
            banks(&sel),
            [
                (HashAlg::Sha256, Vec::from([14, 15])),
                (HashAlg::Sha1, Vec::from([0, 1]))
            ]
        );
    }

    #[test]
    fn all_none_and_ranges() {
        let sel = parse_pcr_spec("sha256:all+sha1:none+sha384:0-3,14,20-20").unwrap();
        assert_eq!(sel.banks()[0].bitmap(), 0x00ff_ffff);
        assert_eq!(sel.banks()[1].bitmap(), 0);
        assert_eq!(
            sel.banks()[2].indices().collect::<Vec<_>>(),
            [0, 1, 2, 3, 14, 20]
        );
        assert_eq!(
            parse_pcr_spec("sha512:0-23").unwrap().banks()[0].bitmap(),
            0x00ff_ffff
        );
    }

    #[test]
    fn whitespace_is_tolerated() {
        let sel = parse_pcr_spec("  sha1 : 0 , 1 - 2 +\tsha256:\n14 ").unwrap();
        assert_eq!(
            banks(&sel),
            [
                (HashAlg::Sha1, Vec::from([0, 1, 2])),
                (HashAlg::Sha256, Vec::from([14]))
            ]
        );
    }

    #[test]
    fn repeated_index_is_harmless() {
        assert_eq!(
            parse_pcr_spec("sha1:3,3,1-3").unwrap().banks()[0].bitmap(),
            0b1110
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(err(""), PcrSpecError::Empty);
        assert_eq!(err(" \t"), PcrSpecError::Empty);
        assert_eq!(
            err("empty").to_string(),
            "missing ':' between bank and PCR list in \"empty\" at byte 0"
        );
        assert_eq!(err("md5:0").to_string(), "unknown bank \"md5\" at byte 0");
        assert_eq!(
            err("sha256:24").to_string(),
            "PCR index 24 out of range 0-23 at byte 7"
        );
        assert_eq!(err("sha256:7-3").to_string(), "bad range 7-3 at byte 7");
        assert_eq!(
            err("sha256:1+sha256:2").to_string(),
            "bank sha256 listed twice at byte 9"
        );
        assert_eq!(err("").to_string(), "empty selection");
    }

    #[test]
    fn each_error_variant() {
        use PcrSpecError::*;
        assert_eq!(err("sha1:0++sha256:1"), EmptyBank { at: 7 });
        assert_eq!(err("sha1:0+"), EmptyBank { at: 7 });
        assert!(matches!(err("sha256"), MissingColon { at: 0, .. }));
        assert!(matches!(err("sha1:0+md5:1"), UnknownBank { at: 7, .. }));
        assert_eq!(
            err("sha256:"),
            EmptyPcrList {
                bank: HashAlg::Sha256,
                at: 7
            }
        );
        assert_eq!(
            err("sha256:  "),
            EmptyPcrList {
                bank: HashAlg::Sha256,
                at: 7
            }
        );
        assert_eq!(
            err("sha256:1,,2"),
            EmptyItem {
                bank: HashAlg::Sha256,
                at: 9
            }
        );
        assert_eq!(
            err("sha256:1,"),
            EmptyItem {
                bank: HashAlg::Sha256,
                at: 9
            }
        );
        assert!(matches!(err("sha256:x"), BadIndex { at: 7, .. }));
        assert!(matches!(err("sha256:-1"), BadIndex { at: 7, .. }));
        assert!(matches!(err("sha256:3-"), BadIndex { at: 7, .. }));
        assert!(matches!(err("sha256:0x0e"), BadIndex { .. }));
        assert!(matches!(err("sha256:1 2"), BadIndex { .. }));
        assert!(matches!(err("sha256:99999999999"), BadIndex { .. }));
        assert!(matches!(err("sha256:010"), LeadingZero { at: 7, .. }));
        assert_eq!(err("sha256:0,24"), IndexOutOfRange { index: 24, at: 9 });
        assert_eq!(err("sha256:0-24"), IndexOutOfRange { index: 24, at: 9 });
        assert_eq!(
            err("sha256:7-3"),
            BadRange {
                start: 7,
                end: 3,
                at: 7
            }
        );
        assert_eq!(
            err("sha256:1,all"),
            KeywordNotAlone {
                keyword: "all",
                bank: HashAlg::Sha256,
                at: 9
            }
        );
        assert!(matches!(err("sha256:alll"), BadIndex { .. }));
        assert_eq!(
            err("sha1:0+0x4:1"),
            DuplicateBank {
                bank: HashAlg::Sha1,
                at: 7
            }
        );
    }

    #[test]
    fn long_tokens_are_truncated_in_errors() {
        let e = err("averyveryverylongbankname:1");
        let PcrSpecError::UnknownBank { name, .. } = e else {
            panic!("{e:?}")
        };
        assert!(name.is_truncated());
        assert_eq!(name.as_str(), "averyveryverylon");
        assert_eq!(
            e.to_string(),
            "unknown bank \"averyveryverylon...\" at byte 0"
        );
        // Multi-byte characters are cut at a boundary, never inside one.
        let e = err("ééééééééé:1");
        let PcrSpecError::UnknownBank { name, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(name.as_str(), "éééééééé");
    }

    #[test]
    fn display_matches_tpm2_tools_syntax() {
        let sel = parse_pcr_spec("sha256:14,15,0-2+sha1:all+sha384:none").unwrap();
        let s = display_pcr_spec(&sel).to_string();
        assert_eq!(s, "sha256:0,1,2,14,15+sha1:all+sha384:none");
        assert_eq!(parse_pcr_spec(&s).unwrap(), sel);
        assert_eq!(
            display_pcr_spec(&TpmlPcrSelection::default()).to_string(),
            String::new()
        );
    }

    #[test]
    fn from_str_is_parse() {
        let sel: TpmlPcrSelection = "sha1:0".parse().unwrap();
        assert_eq!(banks(&sel), [(HashAlg::Sha1, Vec::from([0]))]);
    }
}
