//! Files (std only): reading untrusted files with a size cap, writing a file atomically, and
//! private temporary directories.
//!
//! A file is never read past its cap: a 1 GiB garbage "proof" costs one `stat` and at most
//! `max + 1` bytes, not a gigabyte of memory.

use std::format;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::string::ToString;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use std::vec::Vec;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {what} {path}: {source}")]
    /// Opening or reading the file failed.
    Io {
        /// What the file is (`CA key`, `packed-refs`...).
        what: &'static str,
        /// The path, as given.
        path: std::string::String,
        /// The I/O error.
        source: std::io::Error,
    },
    #[error("cannot read {what} {path}: {size} bytes is more than the {max} allowed")]
    /// The file is larger than this kind of file may be.
    TooLarge {
        /// What the file is (`CA key`, `packed-refs`...).
        what: &'static str,
        /// The path, as given.
        path: std::string::String,
        /// The file's size in bytes.
        size: u64,
        /// The most this kind of file may be, in bytes.
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

/// Creates something under a name of its own in `dir`: `PREFIX-PID-NANOS-N`, where `create`
/// must fail with `AlreadyExists` when the name is taken (it is then tried again under another
/// name, 16 times at most). Returns the path and what `create` made.
fn create_unique<T>(
    dir: &Path,
    prefix: &str,
    mut create: impl FnMut(&Path) -> io::Result<T>,
) -> io::Result<(PathBuf, T)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut last = None;
    for _ in 0..16 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{prefix}-{}-{nanos:x}-{n}", std::process::id()));
        match create(&path) {
            Ok(made) => return Ok((path, made)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free name")))
}

/// Writes `bytes` to `path` so that a reader, or a crash, never leaves half a file: the bytes
/// go to a new temporary file in the same directory (created exclusively, so no existing file
/// or link is followed), which is flushed to disk, renamed over `path`, and then the directory
/// itself is flushed so that the rename survives a crash. On failure the temporary file is
/// removed and `path` is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_mode(path, bytes, 0o666)
}

/// [`write_atomic`] with the new file created with permission bits `mode` (less the umask),
/// e.g. 0o600 for a file only its owner may read.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.tmp", name.to_string_lossy());
    let (tmp, mut file) = create_unique(dir, &prefix, |p| {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(p)
    })?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A directory only this user can enter (mode 0700), under the system temp directory, removed
/// with all it holds when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new directory named `PREFIX-PID-...` under the system temp directory.
    pub fn new(prefix: &str) -> io::Result<TempDir> {
        create_unique(&std::env::temp_dir(), prefix, |p| {
            fs::DirBuilder::new().mode(0o700).create(p)
        })
        .map(|(path, ())| TempDir(path))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Keeps the directory: returns its path, and nothing is removed on drop.
    pub fn into_path(self) -> PathBuf {
        let me = std::mem::ManuallyDrop::new(self);
        me.0.clone()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let d = TempDir::new("baretpm-files-test").unwrap();
        assert_eq!(
            fs::metadata(d.path()).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let p = d.path().join("proof.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["proof.json"]);
    }

    #[test]
    fn atomic_write_fails_cleanly() {
        let d = TempDir::new("baretpm-files-test").unwrap();
        // The target is a non-empty directory: the rename fails, nothing is left behind.
        let target = d.path().join("taken");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("x"), b"x").unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
        assert!(write_atomic(&d.path().join("missing/dir/f"), b"data").is_err());
        assert!(write_atomic(Path::new("/"), b"data").is_err());
        let kept = d.path().to_path_buf();
        drop(d);
        assert!(!kept.exists());
    }
}
