use super::{Error, ErrorKind};

/// A cursor that writes big-endian values into a caller-provided buffer.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Appends `b`; `BufferFull` (and nothing written) if it does not fit.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), Error> {
        let end = self
            .pos
            .checked_add(b.len())
            .filter(|&e| e <= self.buf.len())
            .ok_or(Error::new(ErrorKind::BufferFull, "output", self.pos))?;
        self.buf[self.pos..end].copy_from_slice(b);
        self.pos = end;
        Ok(())
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> Result<(), Error> {
        self.bytes(&[v])
    }

    /// Appends a big-endian UINT16.
    pub fn u16(&mut self, v: u16) -> Result<(), Error> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian UINT32.
    pub fn u32(&mut self, v: u32) -> Result<(), Error> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian UINT64.
    pub fn u64(&mut self, v: u64) -> Result<(), Error> {
        self.bytes(&v.to_be_bytes())
    }

    /// Writes a `TPM2B`: `u16` size then the bytes. Refuses data longer than `max`, so we never
    /// emit what we would refuse to parse.
    pub fn tpm2b(&mut self, data: &[u8], max: usize, what: &'static str) -> Result<(), Error> {
        if data.len() > max {
            return Err(Error::new(
                ErrorKind::SizeAboveMax {
                    size: data.len(),
                    max,
                },
                what,
                self.pos,
            ));
        }
        // max never exceeds u16::MAX for a TPM2B, but do not trust the caller on it.
        let size = u16::try_from(data.len()).map_err(|_| {
            Error::new(
                ErrorKind::SizeAboveMax {
                    size: data.len(),
                    max: 0xffff,
                },
                what,
                self.pos,
            )
        })?;
        self.u16(size)?;
        self.bytes(data)
    }

    /// Writes a sized structure: reserves the `u16` size, runs `f`, then fills the size in.
    pub fn sized(
        &mut self,
        max: usize,
        what: &'static str,
        f: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let at = self.pos;
        self.u16(0)?;
        let start = self.pos;
        f(self)?;
        let size = self.pos - start;
        if size > max || size > usize::from(u16::MAX) {
            return Err(Error::new(ErrorKind::SizeAboveMax { size, max }, what, at));
        }
        self.buf[at..start].copy_from_slice(&(size as u16).to_be_bytes());
        Ok(())
    }

    /// Overwrites a big-endian `u32` at an earlier position (command size fields).
    pub fn patch_u32(&mut self, at: usize, v: u32) -> Result<(), Error> {
        let slot = self
            .buf
            .get_mut(at..at.saturating_add(4))
            .filter(|_| at + 4 <= self.pos)
            .ok_or(Error::new(ErrorKind::BufferFull, "patch", at))?;
        slot.copy_from_slice(&v.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_backpatches_and_full_is_an_error() {
        let mut buf = [0u8; 6];
        let mut w = Writer::new(&mut buf);
        w.sized(10, "s", |w| w.u16(0xabcd)).unwrap();
        assert_eq!(w.written(), &[0, 2, 0xab, 0xcd]);
        assert_eq!(w.u32(1).unwrap_err().kind, ErrorKind::BufferFull);
        let mut w = Writer::new(&mut buf);
        let e = w.tpm2b(&[1, 2, 3], 2, "t").unwrap_err();
        assert_eq!(e.kind, ErrorKind::SizeAboveMax { size: 3, max: 2 });
    }
}
