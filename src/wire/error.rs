use core::fmt;

/// What went wrong while reading or writing wire bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fewer bytes are present than the structure needs.
    Truncated {
        /// Bytes the structure needs from here.
        needed: usize,
        /// Bytes present from here.
        available: usize,
    },
    /// A `TPM2B` size field exceeds the type's spec maximum.
    SizeAboveMax {
        /// The size field's value.
        size: usize,
        /// The type's spec maximum.
        max: usize,
    },
    /// A `TPML` count exceeds the list's spec maximum.
    CountAboveMax {
        /// The count field's value.
        count: usize,
        /// The list's spec maximum.
        max: usize,
    },
    /// A nested sized structure did not consume exactly its declared size.
    SizedNotConsumed {
        /// The size the structure declared.
        declared: usize,
        /// Bytes of it left unread.
        unused: usize,
    },
    /// Bytes remain after a complete top-level structure.
    TrailingBytes {
        /// Number of trailing bytes.
        count: usize,
    },
    /// A value that selects a union member, or an enumerated constant, is not one the spec
    /// defines for this position.
    UnknownValue {
        /// The value read.
        value: u32,
    },
    /// The value is defined by the spec, but this crate does not implement it here.
    Unsupported {
        /// The value read.
        value: u32,
    },
    /// A value is defined but not allowed in this position (e.g. a bad magic, a reserved bit).
    InvalidValue {
        /// The value read.
        value: u32,
    },
    /// A structure's magic number is not the expected one (e.g. `TPM_GENERATED_VALUE`).
    BadMagic {
        /// The value read.
        value: u32,
    },
    /// `sizeofSelect` is below the PC Client minimum of 3 or above the maximum.
    BadSizeofSelect {
        /// The sizeofSelect read.
        size: u8,
    },
    /// A PCR selection names a PCR index this crate does not support (>= 24).
    PcrIndexOutOfRange {
        /// The PCR index.
        index: u32,
    },
    /// The output buffer is full.
    BufferFull,
    /// A well-formed value contradicts what it must equal (`expected` says what), e.g. a Name
    /// that is not the hash of the public area beside it.
    Inconsistent {
        /// What the value must equal.
        expected: &'static str,
    },
}

/// A wire error: what went wrong, in which field, at which byte offset.
///
/// `Copy`, no allocation: it can travel through `no_std` code freely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Name of the field or structure being read (spec spelling, e.g. `TPMS_ATTEST.extraData`).
    pub what: &'static str,
    /// Byte offset, from the start of the outermost buffer, where the problem was found.
    pub offset: usize,
}

impl Error {
    /// An error of `kind` in field `what`, at absolute byte `offset`.
    pub const fn new(kind: ErrorKind, what: &'static str, offset: usize) -> Self {
        Self { kind, what, offset }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} present")
            }
            ErrorKind::SizeAboveMax { size, max } => {
                write!(f, "size {size} above the maximum {max}")
            }
            ErrorKind::CountAboveMax { count, max } => {
                write!(f, "count {count} above the maximum {max}")
            }
            ErrorKind::SizedNotConsumed { declared, unused } => {
                write!(
                    f,
                    "sized structure of {declared} bytes left {unused} bytes unread"
                )
            }
            ErrorKind::TrailingBytes { count } => write!(f, "{count} trailing bytes"),
            ErrorKind::UnknownValue { value } => write!(f, "unknown value {value:#x}"),
            ErrorKind::Unsupported { value } => write!(f, "unsupported value {value:#x}"),
            ErrorKind::InvalidValue { value } => write!(f, "invalid value {value:#x}"),
            ErrorKind::BadMagic { value } => write!(f, "bad magic {value:#010x}"),
            ErrorKind::BadSizeofSelect { size } => {
                write!(f, "sizeofSelect {size} outside 3..=4")
            }
            ErrorKind::PcrIndexOutOfRange { index } => {
                write!(f, "PCR index {index} out of range (0..24)")
            }
            ErrorKind::BufferFull => write!(f, "output buffer full"),
            ErrorKind::Inconsistent { expected } => write!(f, "does not match {expected}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} at byte {}", self.what, self.kind, self.offset)
    }
}

impl core::error::Error for Error {}
