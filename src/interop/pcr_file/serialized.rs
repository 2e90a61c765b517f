//! The `serialized` form (`-F serialized`): tpm2-tools' C structures dumped little-endian.
//! Layout in the parent module's documentation.

use super::*;

/// Bank slots in tpm2-tools' C struct (`TPM2_NUM_PCR_BANKS`); only the first `count` are used,
/// and `count` may not exceed [`MAX_PCR_BANKS`].
pub const SERIALIZED_BANK_SLOTS: usize = 16;
/// Bytes of the serialized TPML_PCR_SELECTION (count plus 16 slots of 8 bytes).
pub const SERIALIZED_SELECTION_LEN: usize = 4 + SERIALIZED_BANK_SLOTS * SERIALIZED_BANK_SLOT;
/// Bytes of one serialized TPML_DIGEST (count plus 8 slots of 66 bytes).
pub const SERIALIZED_DIGEST_LIST_LEN: usize = 4 + MAX_DIGESTS * SERIALIZED_DIGEST_SLOT;
/// Offset of the first serialized TPML_DIGEST (after the selection and the list count).
pub const SERIALIZED_LISTS_OFFSET: usize = SERIALIZED_SELECTION_LEN + 4;

const SERIALIZED_BANK_SLOT: usize = 8;
const SERIALIZED_DIGEST_SLOT: usize = 2 + MAX_DIGEST_SIZE;

// ---------------------------------------------------------------------------------------------
// Little-endian field access for the serialized form. Callers check lengths first; these only
// ever see in-bounds offsets, and fall back to zero rather than panic if that were violated.

fn le16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_le_bytes([x, y]),
        _ => 0,
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[a, c, d, e]) => u32::from_le_bytes([a, c, d, e]),
        _ => 0,
    }
}

/// Parses a `-F serialized` PCR file.
pub fn parse_serialized(bytes: &[u8]) -> Result<PcrValues<'_>, PcrFileError> {
    let len = bytes.len();
    if len < SERIALIZED_SELECTION_LEN {
        return Err(PcrFileError::Truncated {
            what: "TPML_PCR_SELECTION",
            at: 0,
            needed: SERIALIZED_SELECTION_LEN,
            available: len,
        });
    }
    let count = le32(bytes, 0);
    if count as usize > MAX_PCR_BANKS {
        return Err(PcrFileError::BankCountAboveMax { count, at: 0 });
    }
    let mut selection = TpmlPcrSelection::default();
    for i in 0..count as usize {
        let slot = 4 + i * SERIALIZED_BANK_SLOT;
        let alg = le16(bytes, slot);
        let hash = HashAlg::from_alg_id(TpmAlgId(alg))
            .ok_or(PcrFileError::UnknownHash { alg, at: slot })?;
        let size = bytes[slot + 2];
        // Only the first `size` select bytes count (the rest is ignored, as tpm2-tools does).
        let select = bytes.get(slot + 3..slot + 3 + usize::from(size));
        let bank = TpmsPcrSelection::from_select(hash, size, select.map_or(0, bitmap_le)).map_err(
            |kind| match kind {
                ErrorKind::BadSizeofSelect { size } => {
                    PcrFileError::BadSizeofSelect { size, at: slot + 2 }
                }
                kind => from_wire(Error::new(kind, "TPMS_PCR_SELECTION.pcrSelect", slot + 3)),
            },
        )?;
        // Cannot fail: count <= MAX_PCR_BANKS was checked above.
        let _ = selection.push(bank);
    }

    let at = SERIALIZED_SELECTION_LEN;
    if len < SERIALIZED_LISTS_OFFSET {
        return Err(PcrFileError::Truncated {
            what: "TPML_DIGEST list count",
            at,
            needed: 4,
            available: len - at,
        });
    }
    let lists = le32(bytes, at);
    let room = (len - SERIALIZED_LISTS_OFFSET) / SERIALIZED_DIGEST_LIST_LEN;
    check_list_count(lists, room, &selection, at)?;
    let selected = selection.pcr_count();
    let end = SERIALIZED_LISTS_OFFSET + lists as usize * SERIALIZED_DIGEST_LIST_LEN;
    if len != end {
        return Err(PcrFileError::TrailingBytes {
            count: len - end,
            at: end,
        });
    }

    let mut values = heapless::Vec::new();
    {
        let mut sink = ValueSink {
            pairs: selection.iter_pcrs(),
            selected,
            out: &mut values,
        };
        for j in 0..lists as usize {
            let list = SERIALIZED_LISTS_OFFSET + j * SERIALIZED_DIGEST_LIST_LEN;
            let n = le32(bytes, list);
            if n as usize > MAX_DIGESTS {
                return Err(PcrFileError::DigestCountAboveMax { count: n, at: list });
            }
            for k in 0..n as usize {
                let slot = list + 4 + k * SERIALIZED_DIGEST_SLOT;
                let size = le16(bytes, slot);
                if usize::from(size) > MAX_DIGEST_SIZE {
                    return Err(PcrFileError::DigestSizeAboveMax { size, at: slot });
                }
                sink.push(&bytes[slot + 2..slot + 2 + usize::from(size)], slot)?;
            }
        }
    }
    if values.len() != selected {
        return Err(PcrFileError::TooFewDigests {
            found: values.len(),
            selected,
            at: end,
        });
    }
    Ok(PcrValues { selection, values })
}

/// Writes `v` in the `serialized` form, byte for byte as tpm2-tools writes it.
pub fn write_serialized<'b>(
    v: &PcrValues<'_>,
    out: &'b mut [u8],
) -> Result<&'b [u8], PcrWriteError> {
    check_writable(v)?;
    let len = encoded_len(PcrFileFormat::Serialized, v);
    let buf = take(out, len)?;
    buf.fill(0);
    buf[..4].copy_from_slice(&(v.selection.banks().len() as u32).to_le_bytes());
    for (i, b) in v.selection.banks().iter().enumerate() {
        let slot = 4 + i * SERIALIZED_BANK_SLOT;
        buf[slot..slot + 2].copy_from_slice(&b.hash.alg_id().0.to_le_bytes());
        buf[slot + 2] = b.size_of_select();
        // No bit above 23 (a TpmsPcrSelection holds none), so the fourth select byte stays
        // zero for size 3.
        buf[slot + 3..slot + 7].copy_from_slice(&b.bitmap().to_le_bytes());
    }
    let lists = digest_list_count(v.values.len());
    buf[SERIALIZED_SELECTION_LEN..SERIALIZED_LISTS_OFFSET]
        .copy_from_slice(&(lists as u32).to_le_bytes());
    for j in 0..lists {
        let list = SERIALIZED_LISTS_OFFSET + j * SERIALIZED_DIGEST_LIST_LEN;
        let chunk = v.values.iter().skip(j * MAX_DIGESTS).take(MAX_DIGESTS);
        buf[list..list + 4].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
        for (k, value) in chunk.enumerate() {
            let slot = list + 4 + k * SERIALIZED_DIGEST_SLOT;
            buf[slot..slot + 2].copy_from_slice(&(value.len() as u16).to_le_bytes());
            buf[slot + 2..slot + 2 + value.len()].copy_from_slice(value);
        }
    }
    Ok(&out[..len])
}
