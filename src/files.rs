//! Reading untrusted files with a size cap (std only).
//!
//! A file is never read past its cap: a 1 GiB garbage "proof" costs one `stat` and at most
//! `max + 1` bytes, not a gigabyte of memory.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::vec::Vec;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: std::string::String,
        source: std::io::Error,
    },
    #[error("cannot read {what} {path}: {size} bytes is more than the {max} allowed")]
    TooLarge {
        what: &'static str,
        path: std::string::String,
        size: u64,
        max: u64,
    },
}

/// Reads at most `max` bytes of `path`; a larger file is an error, detected before reading.
pub fn read_bounded(path: &Path, max: u64, what: &'static str) -> Result<Vec<u8>, FileError> {
    let shown = || path.display().to_string();
    let io = |source| FileError::Io {
        what,
        path: shown(),
        source,
    };
    let f = File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if meta.is_file() && meta.len() > max {
        return Err(FileError::TooLarge {
            what,
            path: shown(),
            size: meta.len(),
            max,
        });
    }
    // A regular file's size is known and already checked against `max`: one allocation of
    // that size instead of doubling (which would cost up to twice the file).
    let expected = if meta.is_file() { meta.len() } else { 0 };
    let mut out = Vec::with_capacity(usize::try_from(expected.saturating_add(1)).unwrap_or(0));
    // take(max + 1) bounds non-regular files (pipes, /proc) the same way.
    f.take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(io)?;
    if out.len() as u64 > max {
        return Err(FileError::TooLarge {
            what,
            path: shown(),
            size: out.len() as u64,
            max,
        });
    }
    Ok(out)
}

use std::string::ToString;
