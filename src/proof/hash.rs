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
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    /// Sum of the file sizes seen when the work was planned.
    pub bytes_total: u64,
}

/// Why something could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error(
        "{path}: is a {what}; only regular files, directories and symbolic links inside a \
         directory can be measured"
    )]
    SpecialFile { path: String, what: &'static str },
    #[error(
        "{path}: changed while it was being measured (expected {expected} bytes, read {read})"
    )]
    Changed {
        path: String,
        expected: u64,
        read: u64,
    },
    #[error("{path}: not measurable as git: {message}")]
    Git { path: String, message: String },
    #[error("{path}: {source}")]
    Event { path: String, source: EventError },
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
    pub size: u64,
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

// ---------------------------------------------------------------------------------------------
// Planning: which files to hash, and what each target becomes

#[derive(Clone)]
struct Job {
    path: PathBuf,
    /// Follow a symbolic link at `path` (true only for a path the user named).
    follow: bool,
    /// Size when planned (for progress).
    expected: u64,
}

enum Plan {
    File(usize),
    Dir(Vec<DirEntry>),
    Git(Vec<u8>),
}

enum DirEntry {
    File { rel: Vec<u8>, job: usize },
    Link { rel: Vec<u8>, target: Vec<u8> },
    Dir { rel: Vec<u8> },
}

impl DirEntry {
    fn rel(&self) -> &[u8] {
        match self {
            Self::File { rel, .. } | Self::Link { rel, .. } | Self::Dir { rel } => rel,
        }
    }
}

fn plan(t: &Target, queue: &Queue, tick: &mut dyn FnMut()) -> Result<Plan, HashError> {
    match t {
        Target::Git(p) => git_head(p).map(Plan::Git),
        Target::Path(p) => {
            let meta = fs::metadata(p).map_err(io_error(p))?;
            if meta.is_file() {
                Ok(Plan::File(queue.push(Job {
                    path: p.clone(),
                    follow: true,
                    expected: meta.len(),
                })))
            } else if meta.is_dir() {
                walk(p, queue, tick).map(Plan::Dir)
            } else {
                Err(special(p, meta.file_type()))
            }
        }
    }
}

fn special(path: &Path, ft: fs::FileType) -> HashError {
    let what = if ft.is_fifo() {
        "named pipe (FIFO)"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    };
    HashError::SpecialFile {
        path: path.display().to_string(),
        what,
    }
}

/// Lists everything below `root` (not following links), sorted by relative path bytes. The
/// files of each directory are queued as soon as the directory is read, so workers hash while
/// the walk goes on (one queue operation per directory, not per file).
fn walk(root: &Path, queue: &Queue, tick: &mut dyn FnMut()) -> Result<Vec<DirEntry>, HashError> {
    let mut entries = Vec::new();
    let mut stack = vec![(root.to_path_buf(), Vec::new())];
    let mut files: Vec<(Vec<u8>, Job)> = Vec::new();
    while let Some((dir, rel)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_error(&dir))? {
            let entry = entry.map_err(io_error(&dir))?;
            let mut r: Vec<u8> = rel.clone();
            if !r.is_empty() {
                r.push(b'/');
            }
            r.extend_from_slice(entry.file_name().as_bytes());
            // lstat relative to the open directory: no path walk from the root per entry.
            let meta = entry.metadata().map_err(|e| io_error(&entry.path())(e))?;
            let ft = meta.file_type();
            if ft.is_dir() {
                stack.push((entry.path(), r.clone()));
                entries.push(DirEntry::Dir { rel: r });
            } else if ft.is_file() {
                let job = Job {
                    path: entry.path(),
                    follow: false,
                    expected: meta.len(),
                };
                files.push((r, job));
            } else if ft.is_symlink() {
                let path = entry.path();
                let target = fs::read_link(&path).map_err(io_error(&path))?;
                entries.push(DirEntry::Link {
                    rel: r,
                    target: target.as_os_str().as_bytes().to_vec(),
                });
            } else {
                return Err(special(&entry.path(), ft));
            }
        }
        let (rels, jobs): (Vec<_>, Vec<_>) = files.drain(..).unzip();
        let first = queue.push_all(jobs);
        entries.extend(rels.into_iter().enumerate().map(|(k, rel)| DirEntry::File {
            rel,
            job: first + k,
        }));
        tick();
    }
    entries.sort_unstable_by(|a, b| a.rel().cmp(b.rel()));
    Ok(entries)
}

/// SHA-256 of the manifest of a directory (layout in `docs/proof-format.md`).
fn manifest_digest(entries: &[DirEntry], digests: &[FileDigest]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DIR_MANIFEST_TAG);
    for e in entries {
        let rel = e.rel();
        match e {
            DirEntry::File { job, .. } => {
                h.update([b'f']);
                h.update((rel.len() as u32).to_be_bytes());
                h.update(rel);
                let d = &digests[*job];
                h.update(d.size.to_be_bytes());
                h.update(d.sha256);
            }
            DirEntry::Link { target, .. } => {
                h.update([b'l']);
                h.update((rel.len() as u32).to_be_bytes());
                h.update(rel);
                h.update((target.len() as u32).to_be_bytes());
                h.update(target);
            }
            DirEntry::Dir { .. } => {
                h.update([b'd']);
                h.update((rel.len() as u32).to_be_bytes());
                h.update(rel);
            }
        }
    }
    h.finalize().into()
}

// ---------------------------------------------------------------------------------------------
// The worker pool

/// Jobs shared by the planning thread, which adds them, and the workers, which take them.
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    files_total: AtomicU64,
    bytes_total: AtomicU64,
}

struct QueueState {
    jobs: Vec<Job>,
    next: usize,
    closed: bool,
}

impl Queue {
    fn new() -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                jobs: Vec::new(),
                next: 0,
                closed: false,
            }),
            ready: Condvar::new(),
            files_total: AtomicU64::new(0),
            bytes_total: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Nothing panics while holding the lock; a poisoned lock still holds valid data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a job; returns its index.
    fn push(&self, job: Job) -> usize {
        self.push_all(vec![job])
    }

    /// Adds jobs; returns the index of the first. Wakes waiting workers once.
    fn push_all(&self, jobs: Vec<Job>) -> usize {
        if jobs.is_empty() {
            return self.lock().jobs.len();
        }
        self.files_total
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        self.bytes_total.fetch_add(
            jobs.iter().map(|j| j.expected).sum::<u64>(),
            Ordering::Relaxed,
        );
        let mut s = self.lock();
        let first = s.jobs.len();
        s.jobs.extend(jobs);
        drop(s);
        self.ready.notify_all();
        first
    }

    /// No more jobs will come.
    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    fn len(&self) -> usize {
        self.lock().jobs.len()
    }

    /// The next job (index, a copy, and whether nothing else is waiting behind it), or `None`
    /// once the queue is closed and drained, or `stop` is set.
    fn take(&self, stop: &AtomicBool) -> Option<(usize, Job, bool)> {
        let mut s = self.lock();
        loop {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            if s.next < s.jobs.len() {
                let i = s.next;
                s.next += 1;
                let last = s.next == s.jobs.len();
                return Some((i, s.jobs[i].clone(), last));
            }
            if s.closed {
                return None;
            }
            s = self.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// What every worker shares.
struct Shared<'a> {
    queue: &'a Queue,
    stop: &'a AtomicBool,
    bytes: &'a AtomicU64,
    files: &'a AtomicU64,
    buffer_size: usize,
    may_pipeline: bool,
}

/// Jobs a worker hashed, and the first error it met (with its job index).
type WorkerResult = (Vec<(usize, FileDigest)>, Option<(usize, HashError)>);

/// Takes jobs until the queue is drained (or `stop`), calling `tick` as work progresses.
fn work(sh: &Shared<'_>, tick: &mut dyn FnMut()) -> WorkerResult {
    let mut buf = vec![0u8; sh.buffer_size];
    let mut done = Vec::new();
    let mut error = None;
    while let Some((i, job, last)) = sh.queue.take(sh.stop) {
        match hash_job(&job, &mut buf, sh.may_pipeline && last, sh.bytes, tick) {
            Ok(d) => done.push((i, d)),
            Err(e) => {
                sh.stop.store(true, Ordering::Relaxed);
                sh.queue.ready.notify_all();
                error = Some((i, e));
            }
        }
        sh.files.fetch_add(1, Ordering::Relaxed);
        tick();
    }
    (done, error)
}

/// Hashes with `opts.threads` threads in all: this thread runs `planner` (which queues the
/// files to hash and returns what the caller needs to assemble events) while `threads - 1`
/// spawned workers already hash what it queued, then joins them as a worker. Returns the
/// planner's result with the digests of every queued job, in queue order.
///
/// Workers keep their results to themselves until they finish, so nothing wakes another
/// thread per file; `progress` is called from this thread a few times a second.
fn run_pool<T>(
    opts: &HashOptions,
    progress: &mut dyn FnMut(&Progress),
    planner: impl FnOnce(&Queue, &mut dyn FnMut()) -> Result<T, HashError>,
) -> Result<(T, Vec<FileDigest>), HashError> {
    let threads = opts.threads.clamp(1, 64);
    let queue = Queue::new();
    let stop = AtomicBool::new(false);
    let bytes = AtomicU64::new(0);
    let files = AtomicU64::new(0);
    let shared = Shared {
        queue: &queue,
        stop: &stop,
        bytes: &bytes,
        files: &files,
        buffer_size: opts.buffer_size.max(4096),
        // Read ahead on a helper thread only when more than one thread was asked for.
        may_pipeline: threads > 1,
    };
    let me = thread::current();
    let running = AtomicUsize::new(threads - 1);
    let snapshot = || Progress {
        files_done: files.load(Ordering::Relaxed),
        files_total: queue.files_total.load(Ordering::Relaxed),
        bytes_done: bytes.load(Ordering::Relaxed),
        bytes_total: queue.bytes_total.load(Ordering::Relaxed),
    };

    let (planned, outcomes) = thread::scope(|s| {
        let handles: Vec<_> = (1..threads)
            .map(|_| {
                let (shared, me, running) = (&shared, &me, &running);
                s.spawn(move || {
                    let r = work(shared, &mut || {});
                    // Count down before waking this thread, so it never goes back to sleep
                    // for a worker that is done but has not returned yet.
                    running.fetch_sub(1, Ordering::Release);
                    me.unpark();
                    r
                })
            })
            .collect();
        let mut last = Instant::now();
        let mut tick = || {
            if last.elapsed() >= Duration::from_millis(100) {
                progress(&snapshot());
                last = Instant::now();
            }
        };
        let planned = planner(&queue, &mut tick);
        if planned.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        queue.close();
        let mine = work(&shared, &mut tick);
        while running.load(Ordering::Acquire) > 0 {
            progress(&snapshot());
            thread::park_timeout(Duration::from_millis(100));
        }
        let mut outcomes: Vec<WorkerResult> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| (Vec::new(), None)))
            .collect();
        outcomes.push(mine);
        (planned, outcomes)
    });
    progress(&snapshot());
    let planned = planned?;

    let mut results: Vec<Option<FileDigest>> = vec![None; queue.len()];
    let mut first_error: Option<(usize, HashError)> = None;
    for (done, error) in outcomes {
        for (i, d) in done {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(d);
            }
        }
        // Report the error of the earliest job, whatever order workers met them in.
        if let Some((i, e)) = error {
            if first_error.as_ref().map_or(true, |(j, _)| i < *j) {
                first_error = Some((i, e));
            }
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    let jobs = std::mem::take(&mut queue.lock().jobs);
    let mut out = Vec::with_capacity(results.len());
    for (r, job) in results.into_iter().zip(jobs) {
        out.push(r.ok_or_else(|| HashError::Io {
            path: job.path.display().to_string(),
            source: io::Error::other("file was not hashed (a worker thread panicked)"),
        })?);
    }
    Ok((planned, out))
}

fn hash_job(
    job: &Job,
    buf: &mut [u8],
    pipeline: bool,
    bytes: &AtomicU64,
    tick: &mut dyn FnMut(),
) -> Result<FileDigest, HashError> {
    let path = &job.path;
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !job.follow {
        flags |= libc::O_NOFOLLOW;
    }
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) && !job.follow {
                HashError::Changed {
                    path: path.display().to_string(),
                    expected: job.expected,
                    read: 0,
                }
            } else {
                io_error(path)(e)
            }
        })?;
    let meta = f.metadata().map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(special(path, meta.file_type()));
    }
    let expected = meta.len();
    let (size, sha256) = if pipeline && expected >= PIPELINE_MIN_SIZE {
        hash_pipelined(f, buf.len(), bytes, tick)
    } else {
        hash_reader(&mut f, buf, bytes, tick)
    }
    .map_err(io_error(path))?;
    if size != expected {
        return Err(HashError::Changed {
            path: path.display().to_string(),
            expected,
            read: size,
        });
    }
    Ok(FileDigest { size, sha256 })
}

/// Reads `r` to its end through `buf`, hashing as it goes.
fn hash_reader(
    r: &mut impl Read,
    buf: &mut [u8],
    bytes: &AtomicU64,
    tick: &mut dyn FnMut(),
) -> io::Result<(u64, [u8; 32])> {
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        match r.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                total += n as u64;
                bytes.fetch_add(n as u64, Ordering::Relaxed);
                if n == buf.len() {
                    tick();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((total, h.finalize().into()))
}

/// Fills `buf` as far as the file allows; returns the bytes read (0 at end of file).
fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Hashes a file while a helper thread reads ahead: three buffers circulate between the two
/// threads, so memory stays at three buffers whatever the file size.
fn hash_pipelined(
    mut f: File,
    buffer_size: usize,
    bytes: &AtomicU64,
    tick: &mut dyn FnMut(),
) -> io::Result<(u64, [u8; 32])> {
    const BUFFERS: usize = 3;
    let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(BUFFERS);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        // The channel holds BUFFERS items and the receiver is alive: this cannot fail.
        let _ = empty_tx.send(vec![0u8; buffer_size]);
    }
    thread::scope(|s| {
        let reader = s.spawn(move || -> io::Result<()> {
            while let Ok(mut b) = empty_rx.recv() {
                let n = read_full(&mut f, &mut b)?;
                if full_tx.send((b, n)).is_err() || n == 0 {
                    break;
                }
            }
            Ok(())
        });
        let mut h = Sha256::new();
        let mut total = 0u64;
        while let Ok((b, n)) = full_rx.recv() {
            if n == 0 {
                break;
            }
            h.update(&b[..n]);
            total += n as u64;
            bytes.fetch_add(n as u64, Ordering::Relaxed);
            let _ = empty_tx.send(b);
            tick();
        }
        drop(empty_tx);
        drop(full_rx);
        match reader.join() {
            Ok(Ok(())) => Ok((total, h.finalize().into())),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("reader thread panicked")),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// git

/// The raw commit id HEAD points at in the repository at `repo` (a work tree with `.git` as
/// a directory or a `gitdir:` file, or a bare repository). Reads `HEAD`, then the ref it
/// names as a loose file or from `packed-refs`, following symbolic refs. Repositories using
/// the reftable ref storage are refused.
pub fn git_head(repo: &Path) -> Result<Vec<u8>, HashError> {
    let fail = |message: String| HashError::Git {
        path: repo.display().to_string(),
        message,
    };
    let git_dir = find_git_dir(repo).map_err(fail)?;
    let common = match read_small(&git_dir.join("commondir")) {
        Ok(Some(s)) => git_dir.join(s.trim()),
        Ok(None) => git_dir.clone(),
        Err(e) => return Err(fail(e)),
    };
    if git_dir.join("reftable").is_dir() || common.join("reftable").is_dir() {
        return Err(fail(
            "the repository stores refs as reftable, which baretpm does not read; pass the \
             commit id as a text event instead"
                .into(),
        ));
    }
    let head = read_small(&git_dir.join("HEAD"))
        .map_err(fail)?
        .ok_or_else(|| fail(format!("{} has no HEAD file", git_dir.display())))?;
    let mut value = head.trim().to_string();
    for _ in 0..MAX_REF_DEPTH {
        let Some(name) = value.strip_prefix("ref:") else {
            return parse_commit_id(&value).ok_or_else(|| {
                fail(format!(
                    "HEAD resolves to {value:?}, which is not a commit id"
                ))
            });
        };
        let name = name.trim().to_string();
        if !valid_ref_name(&name) {
            return Err(fail(format!("HEAD names an invalid ref {name:?}")));
        }
        value = resolve_ref(&git_dir, &common, &name)
            .map_err(fail)?
            .ok_or_else(|| {
                fail(format!(
                    "HEAD points at {name}, which has no commit yet (an empty repository?)"
                ))
            })?;
    }
    Err(fail(format!(
        "more than {MAX_REF_DEPTH} symbolic refs from HEAD"
    )))
}

fn find_git_dir(repo: &Path) -> Result<PathBuf, String> {
    let dot = repo.join(".git");
    match fs::metadata(&dot) {
        Ok(m) if m.is_dir() => return Ok(dot),
        Ok(m) if m.is_file() => {
            let s = read_small(&dot)?.unwrap_or_default();
            let target = s
                .trim()
                .strip_prefix("gitdir:")
                .ok_or_else(|| format!("{} is a file without a gitdir: line", dot.display()))?
                .trim()
                .to_string();
            return Ok(repo.join(target));
        }
        _ => {}
    }
    if repo.join("HEAD").is_file() && repo.join("objects").is_dir() {
        return Ok(repo.to_path_buf());
    }
    Err("not a git repository (no .git, and not a bare repository)".into())
}

/// Reads a small text file; `Ok(None)` if it does not exist.
fn read_small(path: &Path) -> Result<Option<String>, String> {
    match crate::files::read_bounded(path, MAX_REF_FILE, "git file") {
        Ok(b) => String::from_utf8(b)
            .map(Some)
            .map_err(|_| format!("{} is not UTF-8", path.display())),
        Err(crate::files::FileError::Io { source, .. })
            if source.kind() == io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// `refs/...` with no empty, `.` or `..` component: safe to join onto the git directory.
fn valid_ref_name(name: &str) -> bool {
    name.starts_with("refs/")
        && !name.contains('\0')
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// The value of a ref: a loose file (in the worktree's git dir, then the common dir), else a
/// line of `packed-refs`.
fn resolve_ref(git_dir: &Path, common: &Path, name: &str) -> Result<Option<String>, String> {
    for base in [git_dir, common] {
        if let Some(s) = read_small(&base.join(name))? {
            return Ok(Some(s.trim().to_string()));
        }
    }
    let packed = common.join("packed-refs");
    let bytes = match crate::files::read_bounded(&packed, MAX_PACKED_REFS, "packed-refs") {
        Ok(b) => b,
        Err(crate::files::FileError::Io { source, .. })
            if source.kind() == io::ErrorKind::NotFound =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e.to_string()),
    };
    for line in bytes.split(|&b| b == b'\n') {
        if line.starts_with(b"#") || line.starts_with(b"^") {
            continue;
        }
        let mut parts = line.splitn(2, |&b| b == b' ');
        let (Some(id), Some(r)) = (parts.next(), parts.next()) else {
            continue;
        };
        if r.strip_suffix(b"\r").unwrap_or(r) == name.as_bytes() {
            return Ok(Some(String::from_utf8_lossy(id).into_owned()));
        }
    }
    Ok(None)
}

/// 40 (SHA-1) or 64 (SHA-256) lower- or upper-case hex digits.
fn parse_commit_id(s: &str) -> Option<Vec<u8>> {
    if s.len() != 40 && s.len() != 64 {
        return None;
    }
    hex::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names() {
        assert!(valid_ref_name("refs/heads/main"));
        assert!(valid_ref_name("refs/heads/feature/x"));
        assert!(!valid_ref_name("refs/../../etc/passwd"));
        assert!(!valid_ref_name("HEAD"));
        assert!(!valid_ref_name("refs//x"));
        assert!(!valid_ref_name("refs/heads/./x"));
    }

    #[test]
    fn commit_ids() {
        assert_eq!(parse_commit_id(&"ab".repeat(20)).unwrap().len(), 20);
        assert_eq!(parse_commit_id(&"AB".repeat(32)).unwrap().len(), 32);
        assert!(parse_commit_id(&"ab".repeat(21)).is_none());
        assert!(parse_commit_id(&"zz".repeat(20)).is_none());
    }
}
