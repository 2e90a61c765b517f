//! Big-endian reader and writer over byte slices.
//!
//! The reader and writer know nothing about TPM semantics beyond the two framing rules every
//! TPM 2.0 structure uses: sized buffers (`TPM2B_*`: a `u16` size then that many bytes) and
//! counted lists (`TPML_*`: a `u32` count then that many elements). Every length read from the
//! wire is checked twice before it is used: against the bytes actually present and against the
//! spec maximum the caller names.
//!
//! [`ErrorKind`] is shared by every layer that parses: besides the framing failures it has
//! the kinds the `types` parsers report (`BadMagic`, `BadSizeofSelect`, `PcrIndexOutOfRange`,
//! `Inconsistent`, ...), so one `Copy` error type carries any parse failure with its offset.

mod error;
mod reader;
mod writer;

pub use error::{Error, ErrorKind};
pub use reader::Reader;
pub use writer::Writer;

/// A structure that can be read from TPM wire bytes.
pub trait Unmarshal<'a>: Sized {
    /// Reads one value, advancing the reader past it.
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error>;

    /// Parses `bytes` as exactly one value: trailing bytes are an error.
    fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let v = Self::unmarshal(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// A structure that can be written as TPM wire bytes.
pub trait Marshal {
    /// Appends the wire form of `self` to the writer.
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error>;

    /// Writes `self` into `buf` and returns the bytes written.
    fn to_bytes<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], Error> {
        let mut w = Writer::new(buf);
        self.marshal(&mut w)?;
        let n = w.len();
        Ok(&buf[..n])
    }
}

#[cfg(feature = "alloc")]
extern crate alloc;

/// Marshals into a freshly allocated vector (std/alloc layers and tests only).
///
/// The buffer grows by doubling up to `limit`, so the size is bounded by the caller, never by
/// data read from the wire.
#[cfg(feature = "alloc")]
pub fn to_vec<M: Marshal + ?Sized>(m: &M, limit: usize) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut cap = 256usize;
    loop {
        let mut buf = alloc::vec![0u8; cap.min(limit)];
        let mut w = Writer::new(&mut buf);
        match m.marshal(&mut w) {
            Ok(()) => {
                let n = w.len();
                buf.truncate(n);
                return Ok(buf);
            }
            Err(e) if e.kind == ErrorKind::BufferFull && cap < limit => cap = cap.saturating_mul(2),
            Err(e) => return Err(e),
        }
    }
}
