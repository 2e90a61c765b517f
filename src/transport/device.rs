//! A kernel TPM character device: `/dev/tpmrm0` (through the kernel's resource manager, the
//! default) or `/dev/tpm0` (direct, one user at a time).
//!
//! # Timeouts without `unsafe`
//!
//! A device node opened with `std::fs::File` has no read or write timeout, and `poll(2)` is
//! out of reach without `libc` (the crate forbids `unsafe`). So the file lives on a helper
//! thread that does the blocking open, write and read; the caller hands it each command over a
//! channel and waits for the answer with a timeout ([`Timeouts::connect`] for the open,
//! [`Timeouts::write`] + [`Timeouts::read`] for a whole exchange).
//!
//! If that wait expires, the helper may still be blocked inside the kernel (the Linux driver
//! runs the command during `write(2)` and bounds it with its own per-command durations). The
//! transport then reports [`TransportError::Timeout`] and refuses further commands with
//! [`TransportError::Poisoned`]: a silent reopen would give a fresh resource-manager context
//! and lose the caller's loaded objects. Dropping the transport lets the helper exit once the
//! kernel returns.
//!
//! # Framing
//!
//! The Linux driver hands over a whole response in one `read(2)` (at most 4096 bytes,
//! `TPM_BUFSIZE`). The helper therefore reads into a buffer of at least 4096 bytes, never
//! asking for just the header (older kernels dropped the unread rest of a response), and keeps
//! reading until the header's size has arrived.

use std::format;
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::Duration;
use std::vec::Vec;

use super::frame::{self, FrameError, HEADER_LEN};
use super::{Timeouts, Transport, TransportError};

/// The resource-manager device path as a literal, so that the default TCTI string can be
/// built from it at compile time (`concat!`) instead of spelling the path a second time.
macro_rules! default_device {
    () => {
        "/dev/tpmrm0"
    };
}
pub(crate) use default_device;

/// The resource-manager device, used when no path is given.
pub const DEFAULT_DEVICE: &str = default_device!();

/// The smallest buffer the helper reads into: the Linux driver's `TPM_BUFSIZE`.
const MIN_READ: usize = 4096;
/// The largest buffer the helper reads into, however large the caller's buffer is.
const MAX_READ: usize = 64 * 1024;
/// How long dropping a transport waits for its helper thread to close the device. The Linux
/// driver lets one process at a time open `/dev/tpm0` (EBUSY for the next) and flushes a
/// `/dev/tpmrm0` connection's objects only on close, so the close must have happened when the
/// drop returns; only a helper stuck in a hung device is left behind after this bound.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A TPM reached through a kernel character device.
#[derive(Debug)]
pub struct DeviceTransport {
    path: PathBuf,
    name: String,
    timeouts: Timeouts,
    worker: Worker,
    poisoned: bool,
    deadline: frame::CommandDeadline,
    /// The buffers of the last exchange, handed to the next one: after the first command a
    /// transaction allocates nothing.
    spare: Option<Job>,
}

impl DeviceTransport {
    /// Opens `path` for reading and writing, within [`Timeouts::connect`].
    ///
    /// A missing node gives [`TransportError::NotFound`], a refused one
    /// [`TransportError::PermissionDenied`]; both name the path.
    pub fn open(path: impl AsRef<Path>, timeouts: Timeouts) -> Result<Self, TransportError> {
        let path = PathBuf::from(path.as_ref());
        let name = format!("device {}", path.display());
        let open_path = path.clone();
        let worker = Worker::spawn(&name, timeouts.connect, move || {
            // Opening for writing changes nothing; writing would. So the opened file's kind
            // (not the path's, which could be swapped) is checked before any command is sent.
            let f = OpenOptions::new().read(true).write(true).open(open_path)?;
            match device_kind(&f.metadata()?.file_type()) {
                Ok(()) => Ok(f),
                Err(kind) => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    NotADevice(kind),
                )),
            }
        })?;
        Ok(DeviceTransport {
            path,
            name,
            timeouts,
            worker,
            poisoned: false,
            spare: None,
            deadline: frame::CommandDeadline::default(),
        })
    }

    /// Opens [`DEFAULT_DEVICE`] (`/dev/tpmrm0`).
    pub fn open_default(timeouts: Timeouts) -> Result<Self, TransportError> {
        Self::open(DEFAULT_DEVICE, timeouts)
    }

    /// The device path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name used in this transport's errors (`device PATH`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Changes the timeouts for the following commands.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    #[cfg(test)]
    fn with_io<D: Read + Write + Send + 'static>(
        io: D,
        timeouts: Timeouts,
    ) -> Result<Self, TransportError> {
        let name = String::from("device test");
        let worker = Worker::spawn(&name, timeouts.connect, move || Ok(io))?;
        Ok(DeviceTransport {
            path: PathBuf::from("test"),
            name,
            timeouts,
            worker,
            poisoned: false,
            spare: None,
            deadline: frame::CommandDeadline::default(),
        })
    }
}

impl Transport for DeviceTransport {
    fn begin_command(&mut self) {
        self.deadline
            .start(self.timeouts.write.saturating_add(self.timeouts.read));
    }

    fn end_command(&mut self) {
        self.deadline.end();
    }

    type Error = TransportError;

    /// Writes `cmd` to the device and reads exactly one response into `rsp`.
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], TransportError> {
        if self.poisoned {
            return Err(TransportError::Poisoned {
                peer: self.name.clone(),
                reason:
                    "an earlier command timed out and may still be running; open a new transport",
            });
        }
        if let Err((len, declared)) = frame::check_command(cmd) {
            return Err(TransportError::BadCommand {
                peer: self.name.clone(),
                len,
                declared,
            });
        }
        let cap = rsp.len().clamp(MIN_READ, MAX_READ);
        let mut job = self.spare.take().unwrap_or_default();
        job.cmd.clear();
        job.cmd.extend_from_slice(cmd);
        job.cap = cap;
        if self
            .worker
            .jobs
            .as_ref()
            .map_or(true, |j| j.send(job).is_err())
        {
            return Err(self.worker_gone());
        }
        let per_attempt = self.timeouts.write.saturating_add(self.timeouts.read);
        let Some(wait) = self.deadline.wait(per_attempt) else {
            return Err(TransportError::Timeout {
                peer: self.name.clone(),
                after: per_attempt,
                during: "waiting for the command's answer, retries included",
            });
        };
        let answer = match self.worker.answers.recv_timeout(frame::nonzero(wait)) {
            Ok(a) => a,
            Err(RecvTimeoutError::Timeout) => {
                self.poisoned = true;
                return Err(TransportError::Timeout {
                    peer: self.name.clone(),
                    after: per_attempt,
                    during: if wait < per_attempt {
                        "waiting for the command's answer, retries included"
                    } else {
                        "waiting for response"
                    },
                });
            }
            Err(RecvTimeoutError::Disconnected) => return Err(self.worker_gone()),
        };
        match answer {
            Ok(job) => {
                let bytes = &job.rsp;
                // The helper checked the header against its own buffer; check the size
                // against the caller's now.
                if bytes.len() > rsp.len() {
                    return Err(TransportError::ResponseTooLarge {
                        peer: self.name.clone(),
                        size: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
                        max: rsp.len(),
                    });
                }
                let out = &mut rsp[..bytes.len()];
                out.copy_from_slice(bytes);
                self.spare = Some(job);
                Ok(out)
            }
            Err(WorkerError::Write(e)) => Err(TransportError::Io {
                peer: self.name.clone(),
                during: "sending command",
                source: e,
            }),
            Err(WorkerError::Read(FrameError::TooLarge { size, .. })) => {
                Err(TransportError::ResponseTooLarge {
                    peer: self.name.clone(),
                    size,
                    max: rsp.len(),
                })
            }
            Err(WorkerError::Read(e)) => Err(frame::to_transport_error(
                &self.name,
                e,
                wait,
                "waiting for response",
                None,
            )),
        }
    }
}

impl DeviceTransport {
    fn worker_gone(&mut self) -> TransportError {
        self.poisoned = true;
        TransportError::Poisoned {
            peer: self.name.clone(),
            reason: "the device's helper thread has stopped",
        }
    }
}

/// One command for the helper thread, how many response bytes it may read, and the buffer
/// it reads them into (the answer hands the whole job back, so both buffers are reused).
#[derive(Debug, Default)]
struct Job {
    cmd: Vec<u8>,
    cap: usize,
    rsp: Vec<u8>,
}

enum WorkerError {
    Write(io::Error),
    Read(FrameError),
}

type Answer = Result<Job, WorkerError>;

/// The helper thread's end of the two channels.
struct Worker {
    /// `None` once the transport is being dropped.
    jobs: Option<SyncSender<Job>>,
    answers: Receiver<Answer>,
    /// Disconnected when the helper thread has closed the device and ended.
    closed: Receiver<()>,
}

impl Drop for Worker {
    /// Ends the helper thread and waits (bounded) until it has closed the device.
    fn drop(&mut self) {
        self.jobs = None;
        let _ = self.closed.recv_timeout(CLOSE_WAIT);
    }
}

impl core::fmt::Debug for Worker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Worker")
    }
}

impl Worker {
    /// Starts the helper, which first runs `open`; waits at most `timeout` for that.
    fn spawn<D, F>(name: &str, timeout: Duration, open: F) -> Result<Worker, TransportError>
    where
        D: Read + Write + Send + 'static,
        F: FnOnce() -> io::Result<D> + Send + 'static,
    {
        // One job is in flight at a time. Bounded channels keep their slot from the start, so
        // sending a job or an answer allocates nothing (an unbounded one allocates blocks).
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(1);
        let (ans_tx, ans_rx) = mpsc::sync_channel::<Answer>(1);
        let (ready_tx, ready_rx) = mpsc::sync_channel::<io::Result<()>>(1);
        let (closed_tx, closed_rx) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("baretpm-device".into())
            .spawn(move || {
                // Dropped after `dev` (locals drop in reverse order): the transport's drop
                // waits for this, so the device is closed by then.
                let _closed = closed_tx;
                let mut dev = match open() {
                    Ok(d) => {
                        let _ = ready_tx.send(Ok(()));
                        d
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // Ends when the transport (the sender) is dropped.
                for mut job in job_rx.iter() {
                    let answer = run_job(&mut dev, &mut job).map(|()| job);
                    if ans_tx.send(answer).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| TransportError::Io {
                peer: name.to_string(),
                during: "starting the device helper thread",
                source: e,
            })?;
        match ready_rx.recv_timeout(frame::nonzero(timeout)) {
            Ok(Ok(())) => Ok(Worker {
                jobs: Some(job_tx),
                answers: ans_rx,
                closed: closed_rx,
            }),
            Ok(Err(e)) => Err(open_error(name, e)),
            Err(RecvTimeoutError::Timeout) => Err(TransportError::Timeout {
                peer: name.to_string(),
                after: timeout,
                during: "opening the device",
            }),
            Err(RecvTimeoutError::Disconnected) => Err(TransportError::Poisoned {
                peer: name.to_string(),
                reason: "the device's helper thread stopped while opening",
            }),
        }
    }
}

/// `Ok` for what a TPM path can be: a character device (`/dev/tpmrm0`), or a FIFO (which the
/// tests use as an echoing peer). Otherwise what the path is, for the error.
fn device_kind(t: &std::fs::FileType) -> Result<(), &'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_char_device() || t.is_fifo() {
            return Ok(());
        }
        if t.is_block_device() {
            return Err("block device");
        }
        if t.is_socket() {
            return Err("socket");
        }
    }
    Err(if t.is_dir() {
        "directory"
    } else if t.is_file() {
        "regular file"
    } else {
        "file of another kind"
    })
}

/// The open succeeded on something that is not a device (carried inside an `io::Error`).
#[derive(Debug)]
struct NotADevice(&'static str);

impl core::fmt::Display for NotADevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "not a TPM device but a {}", self.0)
    }
}

impl std::error::Error for NotADevice {}

fn open_error(name: &str, e: io::Error) -> TransportError {
    let peer = name.to_string();
    if let Some(NotADevice(kind)) = e.get_ref().and_then(|x| x.downcast_ref::<NotADevice>()) {
        return TransportError::NotADevice { peer, kind };
    }
    match e.kind() {
        io::ErrorKind::NotFound => TransportError::NotFound { peer },
        io::ErrorKind::PermissionDenied => TransportError::PermissionDenied { peer },
        _ => TransportError::ConnectFailed { peer, source: e },
    }
}

/// Writes one command and reads one response, on the helper thread.
fn run_job<D: Read + Write>(dev: &mut D, job: &mut Job) -> Result<(), WorkerError> {
    dev.write_all(&job.cmd)
        .and_then(|()| dev.flush())
        .map_err(WorkerError::Write)?;
    // `cap` was chosen by the caller's buffer size (clamped), never by the device. Within
    // the capacity of the reused buffer this does not allocate.
    job.rsp.clear();
    job.rsp.resize(job.cap, 0);
    let n = read_whole(dev, &mut job.rsp).map_err(WorkerError::Read)?;
    job.rsp.truncate(n);
    Ok(())
}

/// Reads until the header's size has arrived, asking for as much as the buffer holds each
/// time (see the module notes on why not just the header first).
fn read_whole<D: Read>(dev: &mut D, buf: &mut [u8]) -> Result<usize, FrameError> {
    let mut got = 0;
    let mut size = None;
    loop {
        let want = size.unwrap_or(buf.len());
        if let Some(s) = size {
            if got >= s {
                return Ok(s);
            }
        }
        match dev.read(&mut buf[got..want]) {
            Ok(0) => {
                return Err(FrameError::Closed {
                    got,
                    expected: size.unwrap_or(HEADER_LEN),
                })
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FrameError::Io(e)),
        }
        if size.is_none() && got >= HEADER_LEN {
            let mut header = [0u8; HEADER_LEN];
            header.copy_from_slice(&buf[..HEADER_LEN]);
            let s = frame::check_header(&header, buf.len())?;
            if got > s {
                return Err(FrameError::Overrun {
                    declared: u32::try_from(s).unwrap_or(u32::MAX),
                    received: got,
                });
            }
            size = Some(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;
    use std::vec;

    /// A fake device: answers each write with a canned response, delivered in chunks.
    struct Canned {
        replies: Vec<Vec<u8>>,
        pending: Vec<u8>,
        chunk: usize,
    }

    impl Read for Canned {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.pending.len().min(buf.len()).min(self.chunk);
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    impl Write for Canned {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if !self.replies.is_empty() {
                self.pending = self.replies.remove(0);
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A fake device whose read blocks until released.
    struct Stall(Arc<Mutex<()>>);

    impl Read for Stall {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            let _g = self.0.lock();
            Ok(0)
        }
    }

    impl Write for Stall {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    const GET_RANDOM: [u8; 12] = [0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x7b, 0, 8];

    fn rsp(size: u32, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        v[..2].copy_from_slice(&[0x80, 0x01]);
        v[2..6].copy_from_slice(&size.to_be_bytes());
        v
    }

    fn canned(replies: Vec<Vec<u8>>, chunk: usize) -> DeviceTransport {
        let dev = Canned {
            replies,
            pending: Vec::new(),
            chunk,
        };
        DeviceTransport::with_io(dev, Timeouts::uniform(Duration::from_secs(5))).unwrap()
    }

    #[test]
    fn whole_response_in_chunks() {
        let mut t = canned(vec![rsp(20, 20)], 3);
        let mut buf = [0u8; 64];
        assert_eq!(t.transact(&GET_RANDOM, &mut buf).unwrap().len(), 20);
    }

    #[test]
    fn refusals() {
        let mut buf = [0u8; 64];
        let mut t = canned(vec![rsp(70000, 16)], 4096);
        let e = t.transact(&GET_RANDOM, &mut buf).unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::ResponseTooLarge {
                    size: 70000,
                    max: 64,
                    ..
                }
            ),
            "{e}"
        );

        let mut t = canned(vec![rsp(100, 100)], 4096);
        let e = t.transact(&GET_RANDOM, &mut buf).unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::ResponseTooLarge {
                    size: 100,
                    max: 64,
                    ..
                }
            ),
            "{e}"
        );

        let mut t = canned(vec![rsp(12, 14)], 4096);
        let e = t.transact(&GET_RANDOM, &mut buf).unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::SizeMismatch {
                    declared: 12,
                    received: 14,
                    ..
                }
            ),
            "{e}"
        );

        let mut t = canned(vec![rsp(30, 16)], 4096);
        let e = t.transact(&GET_RANDOM, &mut buf).unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::ClosedEarly {
                    got: 16,
                    expected: 30,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("device test: peer closed after 16 of 30"),
            "{e}"
        );
    }

    #[test]
    fn stalled_device_times_out_and_poisons() {
        let lock = Arc::new(Mutex::new(()));
        let guard = lock.lock().unwrap();
        let timeouts = Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_millis(200),
            write: Duration::from_millis(100),
        };
        let mut t = DeviceTransport::with_io(Stall(lock.clone()), timeouts).unwrap();
        let mut buf = [0u8; 64];
        let start = Instant::now();
        let e = t.transact(&GET_RANDOM, &mut buf).unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(
            e.to_string(),
            "device test: timed out after 300ms waiting for response"
        );
        let e = t.transact(&GET_RANDOM, &mut buf).unwrap_err();
        assert!(matches!(e, TransportError::Poisoned { .. }), "{e}");
        drop(guard);
    }

    /// A fake device that takes a while to close and records that it did.
    struct SlowClose(Arc<std::sync::atomic::AtomicBool>);

    impl Read for SlowClose {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Ok(0)
        }
    }

    impl Write for SlowClose {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Drop for SlowClose {
        fn drop(&mut self) {
            thread::sleep(Duration::from_millis(100));
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Seen under qemu with the real driver: /dev/tpm0 answers EBUSY to an open while the
    /// previous user's file is still open, and /dev/tpmrm0 flushes a connection's objects only
    /// on close. So when a transport's drop returns, the device must be closed.
    #[test]
    fn drop_returns_after_the_device_is_closed() {
        let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let t = DeviceTransport::with_io(SlowClose(closed.clone()), Timeouts::DEFAULT).unwrap();
        drop(t);
        assert!(closed.load(std::sync::atomic::Ordering::SeqCst));
    }

    /// A helper stuck in a hung device does not hold the drop for longer than CLOSE_WAIT.
    #[test]
    fn drop_of_a_stuck_transport_is_bounded() {
        let lock = Arc::new(Mutex::new(()));
        let guard = lock.lock().unwrap();
        let timeouts = Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_millis(100),
            write: Duration::from_millis(100),
        };
        let mut t = DeviceTransport::with_io(Stall(lock.clone()), timeouts).unwrap();
        let mut buf = [0u8; 64];
        assert!(t.transact(&GET_RANDOM, &mut buf).unwrap_err().is_timeout());
        let start = Instant::now();
        drop(t);
        let took = start.elapsed();
        assert!(
            took >= CLOSE_WAIT && took < CLOSE_WAIT + Duration::from_secs(2),
            "{took:?}"
        );
        drop(guard);
    }
}
