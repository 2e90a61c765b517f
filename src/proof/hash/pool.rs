//! The worker pool: a queue of files to hash, filled by the thread that walks directories and
//! drained by `HashOptions::threads` workers (that thread included once it is done walking).

use super::plan::Job;
use super::read::hash_job;
use super::*;

/// Jobs shared by the planning thread, which adds them, and the workers, which take them.
pub(super) struct Queue {
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
    pub(super) fn push(&self, job: Job) -> usize {
        self.push_all(vec![job])
    }

    /// Adds jobs; returns the index of the first. Wakes waiting workers once.
    pub(super) fn push_all(&self, jobs: Vec<Job>) -> usize {
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
pub(super) fn run_pool<T>(
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
