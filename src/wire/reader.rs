use super::{Error, ErrorKind};

/// A cursor over untrusted big-endian bytes. Every read is bounds-checked; nothing panics.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` within the outermost buffer, so errors point at absolute offsets.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`; offsets in errors count from `buf[0]`.
    pub const fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// Absolute offset of the next byte to be read.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind, what: &'static str) -> Error {
        Error::new(kind, what, self.offset())
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let available = self.remaining();
        if n > available {
            return Err(self.error(
                ErrorKind::Truncated {
                    needed: n,
                    available,
                },
                what,
            ));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Takes the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let b = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads one byte; `what` names the field in errors.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a big-endian UINT16; `what` names the field in errors.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian UINT32; `what` names the field in errors.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian UINT64; `what` names the field in errors.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Reads a `u16` size and checks it against `max` and against the bytes present.
    fn size_u16(&mut self, max: usize, what: &'static str) -> Result<usize, Error> {
        let at = self.offset();
        let size = usize::from(self.u16(what)?);
        if size > max {
            return Err(Error::new(ErrorKind::SizeAboveMax { size, max }, what, at));
        }
        let available = self.remaining();
        if size > available {
            return Err(Error::new(
                ErrorKind::Truncated {
                    needed: size,
                    available,
                },
                what,
                at,
            ));
        }
        Ok(size)
    }

    /// Reads a `TPM2B`: a `u16` size, at most `max`, then that many bytes.
    pub fn tpm2b(&mut self, max: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let size = self.size_u16(max, what)?;
        self.bytes(size, what)
    }

    /// Reads a `TPM2B` that wraps a structure (e.g. `TPM2B_PUBLIC`, `TPM2B_ATTEST`).
    ///
    /// The size is bounded by `max` and by the bytes present; `f` parses inside a sub-reader
    /// that must be consumed exactly. Returns the parsed value and the raw inner bytes, so a
    /// caller can hash exactly what was received.
    pub fn sized<T>(
        &mut self,
        max: usize,
        what: &'static str,
        f: impl FnOnce(&mut Reader<'a>) -> Result<T, Error>,
    ) -> Result<(T, &'a [u8]), Error> {
        let size = self.size_u16(max, what)?;
        let base = self.offset();
        let inner = self.bytes(size, what)?;
        let mut sub = Reader {
            buf: inner,
            pos: 0,
            base,
        };
        let value = f(&mut sub)?;
        if !sub.is_empty() {
            return Err(sub.error(
                ErrorKind::SizedNotConsumed {
                    declared: size,
                    unused: sub.remaining(),
                },
                what,
            ));
        }
        Ok((value, inner))
    }

    /// Takes the next `n` bytes as a reader of their own whose errors keep absolute offsets.
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, Error> {
        let base = self.offset();
        let buf = self.bytes(n, what)?;
        Ok(Reader { buf, pos: 0, base })
    }

    /// Reads a `TPML` count (`u32`) and checks it against `max`.
    ///
    /// Each element still has to be present: the caller's element reads are bounds-checked.
    pub fn count(&mut self, max: usize, what: &'static str) -> Result<usize, Error> {
        let at = self.offset();
        let count = self.u32(what)?;
        let count_usize = usize::try_from(count).unwrap_or(usize::MAX);
        if count_usize > max {
            return Err(Error::new(
                ErrorKind::CountAboveMax {
                    count: count_usize,
                    max,
                },
                what,
                at,
            ));
        }
        Ok(count_usize)
    }

    /// Fails if any bytes remain.
    pub fn finish(&self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(
                ErrorKind::TrailingBytes {
                    count: self.remaining(),
                },
                "trailing data",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[0, 1, 2]);
        assert_eq!(r.u16("a").unwrap(), 1);
        let e = r.u16("b").unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 2,
                available: 1
            }
        );
        assert_eq!(e.offset, 2);
        assert_eq!(e.what, "b");
    }

    #[test]
    fn tpm2b_checks_max_then_presence() {
        let e = Reader::new(&[0, 5, 1, 2, 3, 4, 5])
            .tpm2b(4, "x")
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::SizeAboveMax { size: 5, max: 4 });
        let e = Reader::new(&[0, 3, 1, 2]).tpm2b(4, "x").unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 3,
                available: 2
            }
        );
        assert_eq!(Reader::new(&[0, 2, 1, 2]).tpm2b(4, "x").unwrap(), &[1, 2]);
    }

    #[test]
    fn sized_must_consume_exactly() {
        let short = Reader::new(&[0, 3, 0, 1, 9]).sized(8, "s", |r| r.u16("v"));
        assert_eq!(
            short.unwrap_err().kind,
            ErrorKind::SizedNotConsumed {
                declared: 3,
                unused: 1
            }
        );
        let long = Reader::new(&[0, 1, 0, 1]).sized(8, "s", |r| r.u16("v"));
        let e = long.unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 2,
                available: 1
            }
        );
        assert_eq!(e.offset, 2);
        let (v, raw) = Reader::new(&[0, 2, 0, 7])
            .sized(8, "s", |r| r.u16("v"))
            .unwrap();
        assert_eq!((v, raw), (7, &[0u8, 7][..]));
    }

    #[test]
    fn count_is_bounded_and_finish_rejects_trailing() {
        let e = Reader::new(&[0xff, 0xff, 0xff, 0xff])
            .count(16, "c")
            .unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::CountAboveMax {
                count: 0xffff_ffff,
                max: 16
            }
        );
        let mut r = Reader::new(&[1, 2]);
        r.u8("a").unwrap();
        assert_eq!(
            r.finish().unwrap_err().kind,
            ErrorKind::TrailingBytes { count: 1 }
        );
    }
}
