//! The `marshaled` form (`-F marshaled`): a TPML_PCR_SELECTION, a big-endian count of
//! TPML_DIGEST lists, then the lists, in TPM byte order.

use super::*;

/// Smallest marshaled TPML_DIGEST (an empty list: just its count).
const MIN_MARSHALED_LIST: usize = 4;

/// Parses a `-F marshaled` PCR file.
pub fn parse_marshaled(bytes: &[u8]) -> Result<PcrValues<'_>, PcrFileError> {
    let mut r = Reader::new(bytes);
    // A count over the maximum here is a bank count, whatever the wire error calls it.
    let selection = TpmlPcrSelection::unmarshal(&mut r).map_err(|e| match e.kind {
        ErrorKind::CountAboveMax { count, .. } => PcrFileError::BankCountAboveMax {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            at: e.offset,
        },
        _ => from_wire(e),
    })?;
    let at = r.offset();
    let lists = r.u32("TPML_DIGEST list count").map_err(from_wire)?;
    let room = r.remaining() / MIN_MARSHALED_LIST;
    check_list_count(lists, room, &selection, at)?;
    let selected = selection.pcr_count();
    let mut values = heapless::Vec::new();
    {
        let mut sink = ValueSink {
            pairs: selection.iter_pcrs(),
            selected,
            out: &mut values,
        };
        for _ in 0..lists {
            let list_at = r.offset();
            let list = TpmlDigest::unmarshal(&mut r).map_err(from_wire)?;
            let mut slot = list_at + 4;
            for d in &list.digests {
                sink.push(d.as_bytes(), slot)?;
                slot += 2 + d.len();
            }
        }
    }
    r.finish().map_err(from_wire)?;
    if values.len() != selected {
        return Err(PcrFileError::TooFewDigests {
            found: values.len(),
            selected,
            at: r.offset(),
        });
    }
    Ok(PcrValues { selection, values })
}
/// Writes `v` in the `marshaled` form, eight digests per TPML_DIGEST as TPM2_PCR_Read returns
/// them.
pub fn write_marshaled<'b>(
    v: &PcrValues<'_>,
    out: &'b mut [u8],
) -> Result<&'b [u8], PcrWriteError> {
    check_writable(v)?;
    let len = encoded_len(PcrFileFormat::Marshaled, v);
    let buf = take(out, len)?;
    let mut w = Writer::new(buf);
    // After check_writable and with the buffer sized by encoded_len, the only error left for
    // the writer is running out of room, which would mean encoded_len is wrong.
    let full = |_: Error| PcrWriteError::BufferTooSmall {
        needed: len + 1,
        available: len,
    };
    v.selection.marshal(&mut w).map_err(full)?;
    let lists = digest_list_count(v.values.len());
    w.u32(lists as u32).map_err(full)?;
    for j in 0..lists {
        let mut list = TpmlDigest::default();
        for value in v.values.iter().skip(j * MAX_DIGESTS).take(MAX_DIGESTS) {
            // Cannot fail: take(MAX_DIGESTS) bounds the list to its capacity.
            let _ = list.digests.push(Tpm2b(value));
        }
        list.marshal(&mut w).map_err(full)?;
    }
    let written = w.len();
    Ok(&out[..written])
}
