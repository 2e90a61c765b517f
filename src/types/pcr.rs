//! TPMS_PCR_SELECTION, TPML_PCR_SELECTION, TPML_DIGEST.

use super::alg::HashAlg;
use super::tpm2b::Tpm2bDigest;
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// PCRs a PC Client TPM implements; selections naming a higher index are refused.
pub const IMPLEMENTATION_PCR: u32 = 24;
/// Minimum `sizeofSelect` for a PC Client TPM (24 PCRs).
pub const PCR_SELECT_MIN: u8 = 3;
/// Maximum `sizeofSelect` (`PCR_SELECT_MAX` in the tss2 headers).
pub const PCR_SELECT_MAX: u8 = 4;
/// The most banks a TPML_PCR_SELECTION may list: one per hash algorithm the spec defines
/// (`HashAlg::ALL`), since a bank listed twice is refused anyway. The tss2 headers allow 16;
/// keeping the inline list at 8 halves the size of every parsed quote.
pub const MAX_PCR_BANKS: usize = HashAlg::ALL.len();
/// Digests in one TPML_DIGEST (`TPML_DIGEST.count` maximum for PCR_Read).
pub const MAX_DIGESTS: usize = 8;

/// Bits of the PCRs a PC Client TPM implements (0 to 23).
const IMPLEMENTED_PCRS: u32 = (1 << IMPLEMENTATION_PCR) - 1;

/// `TPMS_PCR_SELECTION`: one bank and a bitmap of PCR indices.
///
/// The bitmap and its wire size are private so that every value satisfies what the parser
/// checks: `sizeofSelect` is 3 or 4 and no PCR above 23 is selected. Build one with
/// [`new`](Self::new), [`from_bitmap`](Self::from_bitmap) or [`from_select`](Self::from_select).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsPcrSelection {
    /// The bank (any hash algorithm is a valid bank).
    pub hash: HashAlg,
    /// Bytes of bitmap on the wire (3 or 4); kept so a parsed selection re-emits unchanged.
    size_of_select: u8,
    /// Bit `i` set means PCR `i` is selected. Bits 24 and up are always clear.
    pcrs: u32,
}

impl TpmsPcrSelection {
    /// A selection of `indices` (each below 24) in the 3-byte form TPMs emit.
    pub fn new(hash: HashAlg, indices: &[u32]) -> Result<Self, Error> {
        let mut pcrs = 0u32;
        for &i in indices {
            if i >= IMPLEMENTATION_PCR {
                return Err(Error::new(
                    ErrorKind::PcrIndexOutOfRange { index: i },
                    "TPMS_PCR_SELECTION.pcrSelect",
                    0,
                ));
            }
            pcrs |= 1 << i;
        }
        Ok(Self {
            hash,
            size_of_select: PCR_SELECT_MIN,
            pcrs,
        })
    }

    /// A selection from a bitmap (bit `i` is PCR `i`), in the 3-byte form TPMs emit; bits of
    /// PCRs 24 and up, which no PC Client TPM has, are dropped.
    pub fn from_bitmap(hash: HashAlg, pcrs: u32) -> Self {
        Self {
            hash,
            size_of_select: PCR_SELECT_MIN,
            pcrs: pcrs & IMPLEMENTED_PCRS,
        }
    }

    /// A selection as a file or the wire spells it: `size_of_select` bytes of bitmap (3 or 4)
    /// holding `pcrs`. The one place both rules are checked; the error names the rule broken
    /// (`BadSizeofSelect` or `PcrIndexOutOfRange` with the lowest PCR out of range).
    pub fn from_select(hash: HashAlg, size_of_select: u8, pcrs: u32) -> Result<Self, ErrorKind> {
        if !(PCR_SELECT_MIN..=PCR_SELECT_MAX).contains(&size_of_select) {
            return Err(ErrorKind::BadSizeofSelect {
                size: size_of_select,
            });
        }
        let above = pcrs & !IMPLEMENTED_PCRS;
        if above != 0 {
            return Err(ErrorKind::PcrIndexOutOfRange {
                index: above.trailing_zeros(),
            });
        }
        Ok(Self {
            hash,
            size_of_select,
            pcrs,
        })
    }

    /// `sizeofSelect`: bytes of bitmap on the wire (3 or 4).
    pub fn size_of_select(&self) -> u8 {
        self.size_of_select
    }

    /// The bitmap: bit `i` set means PCR `i` is selected; bits 24 and up are always clear.
    pub fn bitmap(&self) -> u32 {
        self.pcrs
    }

    /// True when no PCR of the bank is selected.
    pub fn is_empty(&self) -> bool {
        self.pcrs == 0
    }

    /// The same selection with PCR `index` added; `None` when `index` is 24 or above.
    pub fn with(self, index: u32) -> Option<Self> {
        (index < IMPLEMENTATION_PCR).then(|| Self {
            pcrs: self.pcrs | 1 << index,
            ..self
        })
    }

    /// The same selection without PCR `index`.
    pub fn without(self, index: u32) -> Self {
        let bit = 1u32.checked_shl(index).unwrap_or(0);
        Self {
            pcrs: self.pcrs & !bit,
            ..self
        }
    }

    /// Whether PCR `index` is selected.
    pub fn contains(&self, index: u32) -> bool {
        index < 32 && self.pcrs & (1 << index) != 0
    }

    /// Number of PCRs selected.
    pub fn count(&self) -> usize {
        self.pcrs.count_ones() as usize
    }

    /// Selected indices in ascending order, the order a TPM returns and digests them.
    pub fn indices(&self) -> impl Iterator<Item = u32> + '_ {
        let pcrs = self.pcrs;
        (0..IMPLEMENTATION_PCR).filter(move |i| pcrs & (1 << i) != 0)
    }
}

impl<'a> Unmarshal<'a> for TpmsPcrSelection {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let hash = HashAlg::read(r, "TPMS_PCR_SELECTION.hash")?;
        let size_at = r.offset();
        let size = r.u8("TPMS_PCR_SELECTION.sizeofSelect")?;
        let bad_size = |kind| Error::new(kind, "TPMS_PCR_SELECTION.sizeofSelect", size_at);
        // Checks the size before reading that many bytes.
        Self::from_select(hash, size, 0).map_err(bad_size)?;
        let at = r.offset();
        let bitmap = r.bytes(usize::from(size), "TPMS_PCR_SELECTION.pcrSelect")?;
        Self::from_select(hash, size, bitmap_le(bitmap))
            .map_err(|kind| Error::new(kind, "TPMS_PCR_SELECTION.pcrSelect", at))
    }
}

/// The bitmap of a `pcrSelect` field: byte `i` holds PCRs `8i` to `8i + 7` (at most four
/// bytes are read).
pub fn bitmap_le(select: &[u8]) -> u32 {
    select
        .iter()
        .take(usize::from(PCR_SELECT_MAX))
        .enumerate()
        .fold(0, |pcrs, (i, b)| pcrs | u32::from(*b) << (8 * i))
}

impl Marshal for TpmsPcrSelection {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.hash.alg_id().0)?;
        w.u8(self.size_of_select)?;
        let bytes = self.pcrs.to_le_bytes();
        let n = usize::from(self.size_of_select.min(PCR_SELECT_MAX));
        w.bytes(&bytes[..n])
    }
}

/// `TPML_PCR_SELECTION`: banks in the order given; order matters for the PCR digest.
///
/// At most [`MAX_PCR_BANKS`] banks, each a valid [`TpmsPcrSelection`]; add banks with
/// [`push`](Self::push), read them with [`banks`](Self::banks).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct TpmlPcrSelection {
    banks: heapless::Vec<TpmsPcrSelection, MAX_PCR_BANKS>,
}

impl TpmlPcrSelection {
    /// The banks, in order.
    pub fn banks(&self) -> &[TpmsPcrSelection] {
        &self.banks
    }

    /// The banks, to edit in place (each stays a valid [`TpmsPcrSelection`]; the count does
    /// not change).
    pub fn banks_mut(&mut self) -> &mut [TpmsPcrSelection] {
        &mut self.banks
    }

    /// Removes and returns bank number `i`, keeping the order of the others.
    pub fn remove(&mut self, i: usize) -> Option<TpmsPcrSelection> {
        (i < self.banks.len()).then(|| self.banks.remove(i))
    }

    /// True when the list names no bank.
    pub fn is_empty(&self) -> bool {
        self.banks.is_empty()
    }

    /// Takes PCR `index` of `bank` off the first bank entry that selects it; false when none
    /// does.
    pub fn deselect(&mut self, bank: HashAlg, index: u32) -> bool {
        match self
            .banks
            .iter_mut()
            .find(|b| b.hash == bank && b.contains(index))
        {
            Some(b) => {
                *b = b.without(index);
                true
            }
            None => false,
        }
    }

    /// Whether both select the same PCRs of the same banks in the same order (`sizeofSelect`,
    /// a detail of the encoding, aside).
    pub fn same_pcrs(&self, other: &TpmlPcrSelection) -> bool {
        self.banks.len() == other.banks.len()
            && self
                .banks
                .iter()
                .zip(other.banks.iter())
                .all(|(a, b)| a.hash == b.hash && a.pcrs == b.pcrs)
    }

    /// Total PCRs selected over all banks.
    pub fn pcr_count(&self) -> usize {
        self.banks.iter().map(TpmsPcrSelection::count).sum()
    }

    /// Adds a bank; fails when the list is full.
    pub fn push(&mut self, s: TpmsPcrSelection) -> Result<(), Error> {
        self.banks.push(s).map_err(|_| {
            Error::new(
                ErrorKind::CountAboveMax {
                    count: MAX_PCR_BANKS + 1,
                    max: MAX_PCR_BANKS,
                },
                "TPML_PCR_SELECTION.count",
                0,
            )
        })
    }

    /// `(bank, index)` pairs in the order a TPM concatenates PCR values.
    pub fn iter_pcrs(&self) -> impl Iterator<Item = (HashAlg, u32)> + '_ {
        self.banks
            .iter()
            .flat_map(|b| b.indices().map(move |i| (b.hash, i)))
    }

    /// The first bank that appears twice, if any.
    pub fn duplicate_bank(&self) -> Option<HashAlg> {
        self.banks
            .iter()
            .enumerate()
            .find(|(i, b)| self.banks[..*i].iter().any(|a| a.hash == b.hash))
            .map(|(_, b)| b.hash)
    }
}

impl<'a> Unmarshal<'a> for TpmlPcrSelection {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let count = r.count(MAX_PCR_BANKS, "TPML_PCR_SELECTION.count")?;
        let mut banks = heapless::Vec::new();
        for _ in 0..count {
            // Cannot overflow: count <= capacity was checked above.
            let _ = banks.push(TpmsPcrSelection::unmarshal(r)?);
        }
        Ok(Self { banks })
    }
}

impl Marshal for TpmlPcrSelection {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.banks.len() as u32)?;
        self.banks.iter().try_for_each(|b| b.marshal(w))
    }
}

/// `TPML_DIGEST`: up to eight digests, borrowed from the input.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct TpmlDigest<'a> {
    /// `digests`: the digests, in order; at most eight (the spec's `count` limit for
    /// TPM2_PCR_Read answers).
    pub digests: heapless::Vec<Tpm2bDigest<'a>, MAX_DIGESTS>,
}

impl<'a> Unmarshal<'a> for TpmlDigest<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let count = r.count(MAX_DIGESTS, "TPML_DIGEST.count")?;
        let mut digests = heapless::Vec::new();
        for _ in 0..count {
            let _ = digests.push(Tpm2bDigest::read(r, "TPML_DIGEST.digests")?);
        }
        Ok(Self { digests })
    }
}

impl Marshal for TpmlDigest<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.digests.len() as u32)?;
        self.digests
            .iter()
            .try_for_each(|d| d.write(w, "TPML_DIGEST.digests"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_bitmap_is_little_endian_bytes() {
        // sha256, 3 bytes: PCR 0, 14, 15 => 01 c0 00
        let bytes = [0x00, 0x0b, 3, 0x01, 0xc0, 0x00];
        let s = TpmsPcrSelection::from_bytes(&bytes).unwrap();
        assert_eq!(s.indices().collect::<heapless::Vec<u32, 24>>(), [0, 14, 15]);
        let mut buf = [0u8; 8];
        assert_eq!(s.to_bytes(&mut buf).unwrap(), &bytes);
    }

    #[test]
    fn selection_rejects_bad_size_and_high_index() {
        let e = TpmsPcrSelection::from_bytes(&[0, 0x0b, 2, 0, 0]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadSizeofSelect { size: 2 });
        let e = TpmsPcrSelection::from_bytes(&[0, 0x0b, 5, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadSizeofSelect { size: 5 });
        let e = TpmsPcrSelection::from_bytes(&[0, 0x0b, 4, 0, 0, 0, 2]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::PcrIndexOutOfRange { index: 25 });
        let e = TpmsPcrSelection::from_bytes(&[0, 0x99, 3, 0, 0, 0]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnknownValue { value: 0x99 });
    }
}

/// Most PCR values one selection can name: every bank, every PCR.
pub const MAX_PCR_VALUES: usize = MAX_PCR_BANKS * IMPLEMENTATION_PCR as usize;

/// PCR values together with the selection they belong to.
///
/// `values[k]` is the value of the k-th `(bank, index)` pair of `selection.iter_pcrs()`: banks
/// in list order, indices ascending, which is the order a TPM concatenates them for a quote.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PcrValues<'a> {
    /// The PCRs the values belong to.
    pub selection: TpmlPcrSelection,
    /// One value per selected PCR, in selection order (see above); each is a digest of its
    /// bank's size when the set is complete and checked.
    pub values: heapless::Vec<&'a [u8], MAX_PCR_VALUES>,
}

impl<'a> PcrValues<'a> {
    /// `(bank, index, value)` triples in selection order. Pairs without a value are skipped;
    /// [`PcrValues::is_complete`] tells whether every selected PCR has one.
    pub fn iter(&self) -> impl Iterator<Item = (HashAlg, u32, &'a [u8])> + '_ {
        self.selection
            .iter_pcrs()
            .zip(self.values.iter().copied())
            .map(|((h, i), v)| (h, i, v))
    }

    /// Whether there is exactly one value per selected PCR.
    pub fn is_complete(&self) -> bool {
        self.values.len() == self.selection.pcr_count()
    }

    /// The value of one PCR, if selected.
    pub fn get(&self, bank: HashAlg, index: u32) -> Option<&'a [u8]> {
        self.iter()
            .find(|(h, i, _)| *h == bank && *i == index)
            .map(|(_, _, v)| v)
    }
}

/// `TPML_DIGEST_VALUES`: one digest per bank (PCR_Extend input, PCR_Event output).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct TpmlDigestValues<'a> {
    /// One TPMT_HA per bank, at most one per PCR bank this crate handles.
    pub digests: heapless::Vec<crate::types::TpmtHa<'a>, MAX_PCR_BANKS>,
}

impl<'a> Unmarshal<'a> for TpmlDigestValues<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let count = r.count(MAX_PCR_BANKS, "TPML_DIGEST_VALUES.count")?;
        let mut digests = heapless::Vec::new();
        for _ in 0..count {
            let _ = digests.push(crate::types::TpmtHa::read(r, "TPML_DIGEST_VALUES.digests")?);
        }
        Ok(Self { digests })
    }
}

impl Marshal for TpmlDigestValues<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.digests.len() as u32)?;
        self.digests
            .iter()
            .try_for_each(|d| d.write(w, "TPML_DIGEST_VALUES.digests"))
    }
}
