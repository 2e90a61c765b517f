//! Hashing what a run reads and writes: files, directory trees and git HEADs.
//!
//! - Content is hashed once, with SHA-256 (the `sha2` crate, which uses the CPU's SHA
//!   instructions when it has them), whatever the number of PCR banks.
//! - Memory is fixed: each worker owns one read buffer ([`HashOptions::buffer_size`], 1 MiB by
//!   default); a large file hashed while a core would otherwise sit idle is read by a helper
//!   thread into three such buffers, so reading and hashing overlap.
//! - Files are spread over [`HashOptions::threads`] threads (both cores on a two-core
//!   machine): the calling thread walks directories while the others already hash the files
//!   found, then it hashes too.
//! - A directory hashes to SHA-256 of its *manifest*: every entry below it, sorted by relative
//!   path bytes, with each file's length and digest and each symbolic link's target. Links are
//!   recorded, never followed; FIFOs, sockets and devices are refused. The byte layout is in
//!   `docs/proof-format.md`.
//! - `git:PATH` measures the repository's HEAD commit id, read from the repository files
//!   directly (`HEAD`, loose refs, `packed-refs`), without running git.

mod git;
mod plan;
mod pool;
mod read;

pub use git::git_head;
use plan::{manifest_digest, plan, special, Job, Plan};
use pool::run_pool;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use std::vec::Vec;
use std::{format, thread, vec};

use sha2::{Digest as _, Sha256};

use super::event::{Event, EventError};

/// Default read buffer per worker.
pub const DEFAULT_BUFFER: usize = 1 << 20;
/// First eight bytes of a directory manifest.
pub const DIR_MANIFEST_TAG: [u8; 8] = *b"BTPMDIR1";
/// Files at least this large are read by a helper thread while the worker hashes, when a
/// core is free for it.
pub const PIPELINE_MIN_SIZE: u64 = 16 << 20;
/// Largest `.git/HEAD`, ref or `gitdir:` file read (a ref is one line).
const MAX_REF_FILE: u64 = 4096;
/// Largest `packed-refs` file read.
const MAX_PACKED_REFS: u64 = 64 << 20;
/// Symbolic refs followed before giving up.
const MAX_REF_DEPTH: usize = 8;

/// How to hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashOptions {
    /// Threads in all, the calling one included (at least 1). With 1, everything happens on
    /// the calling thread, one file after the other.
    pub threads: usize,
    /// Bytes per read (at least 4096).
    pub buffer_size: usize,
}

impl Default for HashOptions {
    fn default() -> Self {
        Self {
            threads: default_threads(),
            buffer_size: DEFAULT_BUFFER,
        }
    }
}

/// The machine's available parallelism, between 1 and 8.
pub fn default_threads() -> usize {
    thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// How far hashing has got, reported to the caller's callback a few times a second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Files hashed so far.
    pub files_done: u64,
    /// Files to hash in all.
    pub files_total: u64,
    /// Bytes hashed so far.
    pub bytes_done: u64,
    /// Sum of the file sizes seen when the work was planned.
    pub bytes_total: u64,
}

/// Why something could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("{path}: {source}")]
    /// Reading a file or directory failed.
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    #[error(
        "{path}: is a {what}; only regular files, directories and symbolic links inside a \
         directory can be measured"
    )]
    /// The path is neither a regular file nor a directory (a device, socket or FIFO).
    SpecialFile {
        /// The path.
        path: String,
        /// What it is (`socket`, `named pipe (FIFO)`, `block device`...).
        what: &'static str,
    },
    #[error(
        "{path}: changed while it was being measured (expected {expected} bytes, read {read})"
    )]
    /// The file's size changed while it was hashed.
    Changed {
        /// The path.
        path: String,
        /// Size when the work was planned, in bytes.
        expected: u64,
        /// Bytes actually read.
        read: u64,
    },
    #[error("{path}: not measurable as git: {message}")]
    /// A `git:` target could not be measured.
    Git {
        /// The repository path.
        path: String,
        /// What git or the repository lacked.
        message: String,
    },
    #[error("{path}: {source}")]
    /// The measurement could not be made into an event.
    Event {
        /// The path.
        path: String,
        /// Why the event was refused.
        source: EventError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> HashError + '_ {
    move |source| HashError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What to measure: a path (file or directory) or the HEAD of a git repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A file or a directory; the event's name is the path as given.
    Path(PathBuf),
    /// `git:PATH`: the HEAD commit of the repository at PATH; the event's name is PATH.
    Git(PathBuf),
}

impl Target {
    /// `git:PATH` is a git target, anything else a path.
    pub fn parse(arg: &str) -> Self {
        match arg.strip_prefix("git:") {
            Some(p) => Self::Git(PathBuf::from(p)),
            None => Self::Path(PathBuf::from(arg)),
        }
    }

    /// The event name this target gets: its path, lossily as UTF-8.
    pub fn name(&self) -> String {
        match self {
            Self::Path(p) | Self::Git(p) => p.to_string_lossy().into_owned(),
        }
    }
}

/// Length and SHA-256 of a file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// Length of the file, in bytes.
    pub size: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

/// Measures each target, in order, into one event each. Files (including every file of every
/// directory) are hashed by `opts.threads` threads, this one included; `progress` is called
/// from this thread a few times a second and once at the end.
pub fn measure(
    targets: &[Target],
    opts: &HashOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<Event>, HashError> {
    let (plans, digests) = run_pool(opts, progress, |queue, tick| {
        targets
            .iter()
            .map(|t| plan(t, queue, tick))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut events = Vec::with_capacity(plans.len());
    for (t, p) in targets.iter().zip(plans) {
        let name = t.name();
        let shown = name.clone();
        let event = match p {
            Plan::File(i) => Event::file(name, digests[i].sha256),
            Plan::Dir(entries) => Event::dir(name, manifest_digest(&entries, &digests)),
            Plan::Git(commit) => Event::git(name, &commit),
        };
        events.push(event.map_err(|source| HashError::Event {
            path: shown,
            source,
        })?);
    }
    Ok(events)
}

/// Measures one target (see [`measure`]).
pub fn measure_one(
    target: &Target,
    opts: &HashOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Event, HashError> {
    let mut v = measure(core::slice::from_ref(target), opts, progress)?;
    // measure returns exactly one event per target.
    v.pop().ok_or_else(|| HashError::Io {
        path: target.name(),
        source: io::Error::other("no event produced"),
    })
}

/// Hashes one file (symbolic links followed) with `opts.threads` deciding whether reading
/// and hashing may overlap.
pub fn hash_file(path: &Path, opts: &HashOptions) -> Result<FileDigest, HashError> {
    let meta = fs::metadata(path).map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(special(path, meta.file_type()));
    }
    let job = Job {
        path: path.to_path_buf(),
        follow: true,
        expected: meta.len(),
    };
    let ((), mut out) = run_pool(opts, &mut |_| {}, |queue, _| {
        queue.push(job);
        Ok(())
    })?;
    out.pop().ok_or_else(|| HashError::Io {
        path: path.display().to_string(),
        source: io::Error::other("no digest produced"),
    })
}
