//! Helpers shared by the fuzz targets: invariant checks and a cursor over the fuzz input.

use baretpm::wire::{self, Marshal};

/// The invariants every wire error must keep: it points inside (or just past) the input, and
/// it can be displayed.
pub fn check_wire_error(e: &wire::Error, input_len: usize) {
    assert!(
        e.offset <= input_len,
        "error offset {} beyond the input ({input_len} bytes): {e:?}",
        e.offset
    );
    assert!(!e.what.is_empty(), "error without a field name: {e:?}");
    let _ = format!("{e}");
}

/// Emits `value` and checks that the bytes are exactly `input`: a strict parser accepts only
/// the canonical encoding, so whatever it accepts must re-emit unchanged.
pub fn assert_reemits<M: Marshal + core::fmt::Debug>(value: &M, input: &[u8], what: &str) {
    let mut buf = vec![0u8; input.len() + 64];
    let out = value
        .to_bytes(&mut buf)
        .unwrap_or_else(|e| panic!("{what}: parsed value does not re-emit: {e} ({value:?})"));
    assert_eq!(
        out, input,
        "{what}: accepted input re-emits differently ({value:?})"
    );
}

/// Reads small values from the front of the fuzz input; reads past the end give zeros, so a
/// target never has to care about running out.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        (u64::from(self.u32()) << 32) | u64::from(self.u32())
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }

    /// A length byte, then up to that many bytes.
    pub fn short_bytes(&mut self) -> &'a [u8] {
        let n = usize::from(self.u8());
        self.take(n)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}
