//! The `values` form (`-F values`): the selected digests concatenated, nothing else.

use super::*;

/// Parses a `-F values` PCR file, splitting it by `selection` (the `-l` string's selection).
pub fn parse_values<'a>(
    bytes: &'a [u8],
    selection: &TpmlPcrSelection,
) -> Result<PcrValues<'a>, PcrFileError> {
    let expected: usize = selection.iter_pcrs().map(|(h, _)| h.digest_size()).sum();
    if bytes.len() != expected {
        return Err(PcrFileError::ValuesLengthMismatch {
            len: bytes.len(),
            expected,
        });
    }
    let mut values = heapless::Vec::new();
    let mut rest = bytes;
    for (hash, _) in selection.iter_pcrs() {
        let (value, tail) = rest.split_at(hash.digest_size());
        // Cannot fail: a selection has at most MAX_PCR_VALUES PCRs.
        let _ = values.push(value);
        rest = tail;
    }
    Ok(PcrValues {
        selection: selection.clone(),
        values,
    })
}
/// Writes `v` in the `values` form: the digests concatenated in selection order.
pub fn write_values<'b>(v: &PcrValues<'_>, out: &'b mut [u8]) -> Result<&'b [u8], PcrWriteError> {
    check_writable(v)?;
    let len = encoded_len(PcrFileFormat::Values, v);
    let buf = take(out, len)?;
    let mut pos = 0;
    for value in &v.values {
        buf[pos..pos + value.len()].copy_from_slice(value);
        pos += value.len();
    }
    Ok(&out[..len])
}
