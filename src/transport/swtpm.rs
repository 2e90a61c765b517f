//! swtpm over a socket: the raw data channel, and the control channel next to it.
//!
//! swtpm listens on two sockets. The *data channel* takes raw TPM command bytes and answers
//! with raw response bytes. The *control channel* (TCP port + 1, or a second Unix socket,
//! `PATH.ctrl` by convention) takes a big-endian `u32` command code followed by a small body,
//! and answers with a `u32` result (0 = success) followed by command-specific data.
//!
//! Connection policy:
//! - The data channel is connected **eagerly** by [`SwtpmTransport::connect`], so a wrong
//!   address shows up at once. swtpm serves one data connection at a time, so a second client
//!   waits until this transport is dropped.
//! - After any failed exchange the data connection is dropped, since the stream may be out of
//!   step; the next [`Transport::transact`] connects again. swtpm keeps its TPM state across
//!   connections, so this loses nothing but the failed command's answer.
//! - The control channel is connected **per control command** and closed right after the
//!   answer. swtpm serves one control connection at a time; holding it open would lock out
//!   other tools such as `swtpm_ioctl`.
//!
//! Every connect, send and receive is bounded by [`Timeouts`]. Host names are resolved on a
//! helper thread so that the connect timeout also covers a slow resolver.

use std::format;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use std::vec::Vec;

use super::frame::{self, FrameError};
use super::{Timeouts, Transport, TransportError};

/// The default swtpm data port used by tpm2-tools (`swtpm` with no options).
pub const DEFAULT_PORT: u16 = 2321;
/// The default swtpm host used by tpm2-tools.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// Control channel command codes (swtpm's `tpm_ioctl.h`).
pub mod ctrl {
    /// Answers a `u64` bit mask of supported control commands (no result word).
    pub const GET_CAPABILITY: u32 = 0x01;
    /// Body: `u32` flags. (Re)starts the TPM; a TPM2_Startup is needed afterwards.
    pub const INIT: u32 = 0x02;
    /// Stops the TPM and ends the swtpm process.
    pub const SHUTDOWN: u32 = 0x03;
    /// Answers result, then one byte: the TPM-established flag (then 3 padding bytes).
    pub const GET_TPMESTABLISHED: u32 = 0x04;
    /// Body: `u8` locality 0..=4.
    pub const SET_LOCALITY: u32 = 0x05;
    /// Asks the TPM to cancel the command in progress.
    pub const CANCEL_TPM_CMD: u32 = 0x09;
    /// Stops the TPM; the process keeps running and accepts INIT.
    pub const STOP: u32 = 0x0e;

    /// INIT flag: delete the volatile state before starting.
    pub const INIT_FLAG_DELETE_VOLATILE: u32 = 1;

    /// GET_CAPABILITY bit: INIT is supported.
    pub const CAP_INIT: u64 = 1 << 0;
    /// GET_CAPABILITY bit: SHUTDOWN is supported.
    pub const CAP_SHUTDOWN: u64 = 1 << 1;
    /// GET_CAPABILITY bit: GET_TPMESTABLISHED is supported.
    pub const CAP_GET_TPMESTABLISHED: u64 = 1 << 2;
    /// GET_CAPABILITY bit: SET_LOCALITY is supported.
    pub const CAP_SET_LOCALITY: u64 = 1 << 3;
    /// GET_CAPABILITY bit: CANCEL_TPM_CMD is supported.
    pub const CAP_CANCEL_TPM_CMD: u64 = 1 << 5;
    /// GET_CAPABILITY bit: STOP is supported.
    pub const CAP_STOP: u64 = 1 << 10;
}

/// Where a swtpm listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwtpmAddr {
    /// Data channel at `host:port`, control channel at `host:port+1`.
    Tcp {
        /// Host name or IP address (an IPv6 literal may be bracketed).
        host: String,
        /// Data port.
        port: u16,
    },
    /// Data channel at `path`, control channel at `ctrl`.
    Unix {
        /// Data socket.
        path: PathBuf,
        /// Control socket.
        ctrl: PathBuf,
    },
}

impl SwtpmAddr {
    /// A TCP address; the control channel is at `port + 1`.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        SwtpmAddr::Tcp {
            host: host.into(),
            port,
        }
    }

    /// A Unix socket address; the control channel is at `path` with `.ctrl` appended.
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut ctrl = path.clone().into_os_string();
        ctrl.push(".ctrl");
        SwtpmAddr::Unix {
            path,
            ctrl: PathBuf::from(ctrl),
        }
    }

    /// A Unix socket address with an explicit control socket path.
    pub fn unix_with_ctrl(path: impl Into<PathBuf>, ctrl: impl Into<PathBuf>) -> Self {
        SwtpmAddr::Unix {
            path: path.into(),
            ctrl: ctrl.into(),
        }
    }

    /// The name errors use for the data channel, e.g. `swtpm 127.0.0.1:2321` or
    /// `swtpm unix:/run/swtpm.sock`.
    pub fn data_name(&self) -> String {
        match self {
            SwtpmAddr::Tcp { host, port } => format!("swtpm {}", host_port(host, *port)),
            SwtpmAddr::Unix { path, .. } => format!("swtpm unix:{}", path.display()),
        }
    }

    /// The name errors use for the control channel, e.g. `swtpm control 127.0.0.1:2322`.
    pub fn ctrl_name(&self) -> String {
        match self {
            SwtpmAddr::Tcp { host, port } => match port.checked_add(1) {
                Some(p) => format!("swtpm control {}", host_port(host, p)),
                None => format!(
                    "swtpm control {} (no port after it)",
                    host_port(host, *port)
                ),
            },
            SwtpmAddr::Unix { ctrl, .. } => format!("swtpm control unix:{}", ctrl.display()),
        }
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A connected socket of either family.
#[derive(Debug)]
enum Conn {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Conn {
    fn set_read_timeout(&self, d: Duration) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_read_timeout(Some(frame::nonzero(d))),
            #[cfg(unix)]
            Conn::Unix(s) => s.set_read_timeout(Some(frame::nonzero(d))),
        }
    }

    fn set_write_timeout(&self, d: Duration) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_write_timeout(Some(frame::nonzero(d))),
            #[cfg(unix)]
            Conn::Unix(s) => s.set_write_timeout(Some(frame::nonzero(d))),
        }
    }
}

impl Conn {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_nonblocking(on),
            #[cfg(unix)]
            Conn::Unix(s) => s.set_nonblocking(on),
        }
    }

    /// How many bytes are waiting to be read right now (up to a small sample; they are
    /// consumed). `Ok(0)` when nothing waits, or the peer has closed (the next exchange reports
    /// that).
    fn waiting_bytes(&mut self) -> io::Result<usize> {
        self.set_nonblocking(true)?;
        let mut sample = [0u8; 64];
        let r = loop {
            match self.read(&mut sample) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(0),
                other => break other,
            }
        };
        self.set_nonblocking(false)?;
        r
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Conn::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.flush(),
            #[cfg(unix)]
            Conn::Unix(s) => s.flush(),
        }
    }
}

/// A reader that enforces one deadline across many `read` calls, by shrinking the socket's
/// read timeout to the time left before each call.
struct UntilDeadline<'a> {
    conn: &'a mut Conn,
    deadline: Instant,
}

impl Read for UntilDeadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.conn.set_read_timeout(left)?;
        self.conn.read(buf)
    }
}

/// Runs `f` on a helper thread and waits at most `timeout` for its result.
///
/// `Err(None)` means the time ran out: the thread is left to finish on its own and its result
/// is dropped. `Err(Some(e))` means no thread could be started.
fn within<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Option<io::Error>> {
    let (tx, rx) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name("baretpm-connect".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(Some)?;
    rx.recv_timeout(timeout).map_err(|_| None)
}

fn connect_error(peer: &str, e: io::Error, timeout: Duration) -> TransportError {
    let peer = peer.to_string();
    match e.kind() {
        io::ErrorKind::ConnectionRefused => TransportError::ConnectRefused { peer },
        io::ErrorKind::NotFound => TransportError::NotFound { peer },
        io::ErrorKind::PermissionDenied => TransportError::PermissionDenied { peer },
        _ if frame::is_timeout(&e) => TransportError::Timeout {
            peer,
            after: timeout,
            during: "connecting",
        },
        _ => TransportError::ConnectFailed { peer, source: e },
    }
}

/// Connects to `host:port` within `timeout`, trying each resolved address in turn.
fn connect_tcp(
    peer: &str,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Conn, TransportError> {
    let timeout = frame::nonzero(timeout);
    let start = Instant::now();
    let timed_out = || TransportError::Timeout {
        peer: peer.to_string(),
        after: timeout,
        during: "connecting",
    };
    // A bracketed IPv6 literal is accepted as tpm2-tss spells it.
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => std::vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let name = String::from(bare);
            let resolved = within(timeout, move || {
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(|it| it.collect::<Vec<_>>())
            });
            match resolved {
                Err(None) => return Err(timed_out()),
                Err(Some(e)) | Ok(Err(e)) => return Err(connect_error(peer, e, timeout)),
                Ok(Ok(a)) => a,
            }
        }
    };
    let mut last = None;
    for addr in addrs {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(timed_out());
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                // Commands are small and latency matters more than batching.
                let _ = s.set_nodelay(true);
                return Ok(Conn::Tcp(s));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => connect_error(peer, e, timeout),
        None => TransportError::ConnectFailed {
            peer: peer.to_string(),
            source: io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address"),
        },
    })
}

/// Connects to a Unix socket within `timeout`. A Unix connect can block when the server's
/// backlog is full, so it runs on a helper thread.
#[cfg(unix)]
fn connect_unix(peer: &str, path: &Path, timeout: Duration) -> Result<Conn, TransportError> {
    let timeout = frame::nonzero(timeout);
    let owned = PathBuf::from(path);
    match within(timeout, move || UnixStream::connect(owned)) {
        Ok(Ok(s)) => Ok(Conn::Unix(s)),
        Err(Some(e)) | Ok(Err(e)) => Err(connect_error(peer, e, timeout)),
        Err(None) => Err(TransportError::Timeout {
            peer: peer.to_string(),
            after: timeout,
            during: "connecting",
        }),
    }
}

#[cfg(not(unix))]
fn connect_unix(peer: &str, _path: &Path, _timeout: Duration) -> Result<Conn, TransportError> {
    Err(TransportError::ConnectFailed {
        peer: peer.to_string(),
        source: io::Error::new(
            io::ErrorKind::Unsupported,
            "Unix sockets need a Unix system",
        ),
    })
}

/// A TPM reached through swtpm's socket interface.
///
/// See the [module documentation](self) for the connection policy.
#[derive(Debug)]
pub struct SwtpmTransport {
    addr: SwtpmAddr,
    timeouts: Timeouts,
    data: Option<Conn>,
    data_name: String,
    ctrl_name: String,
    deadline: frame::CommandDeadline,
}

impl SwtpmTransport {
    /// Connects the data channel now and returns the transport. The control channel is
    /// connected only when a control method is called.
    pub fn connect(addr: SwtpmAddr, timeouts: Timeouts) -> Result<Self, TransportError> {
        let mut t = SwtpmTransport {
            data_name: addr.data_name(),
            ctrl_name: addr.ctrl_name(),
            addr,
            timeouts,
            data: None,
            deadline: frame::CommandDeadline::default(),
        };
        t.data_conn()?;
        Ok(t)
    }

    /// [`connect`](Self::connect) to `host:port` over TCP (control channel at `port + 1`).
    pub fn tcp(host: &str, port: u16, timeouts: Timeouts) -> Result<Self, TransportError> {
        Self::connect(SwtpmAddr::tcp(host, port), timeouts)
    }

    /// [`connect`](Self::connect) to a Unix socket (control channel at `path.ctrl`).
    pub fn unix(path: impl AsRef<Path>, timeouts: Timeouts) -> Result<Self, TransportError> {
        Self::connect(SwtpmAddr::unix(path.as_ref()), timeouts)
    }

    /// The address this transport talks to.
    pub fn addr(&self) -> &SwtpmAddr {
        &self.addr
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Changes the timeouts for the following calls.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// The name used in this transport's data channel errors.
    pub fn name(&self) -> &str {
        &self.data_name
    }

    /// True while a data connection is open.
    pub fn is_connected(&self) -> bool {
        self.data.is_some()
    }

    /// Closes the data connection (letting another client in); the next command reconnects.
    pub fn disconnect(&mut self) {
        self.data = None;
    }

    /// Connects the data channel unless it is connected already.
    fn data_conn(&mut self) -> Result<(), TransportError> {
        if self.data.is_none() {
            self.data = Some(self.open_channel(false)?);
        }
        Ok(())
    }

    fn open_channel(&self, control: bool) -> Result<Conn, TransportError> {
        let peer = if control {
            &self.ctrl_name
        } else {
            &self.data_name
        };
        match &self.addr {
            SwtpmAddr::Tcp { host, port } => {
                let port = if control {
                    match port.checked_add(1) {
                        Some(p) => p,
                        None => {
                            return Err(TransportError::ConnectFailed {
                                peer: peer.clone(),
                                source: io::Error::new(
                                    io::ErrorKind::InvalidInput,
                                    "data port 65535 leaves no port for the control channel",
                                ),
                            })
                        }
                    }
                } else {
                    *port
                };
                connect_tcp(peer, host, port, self.timeouts.connect)
            }
            SwtpmAddr::Unix { path, ctrl } => connect_unix(
                peer,
                if control { ctrl } else { path },
                self.timeouts.connect,
            ),
        }
    }

    fn exchange<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], TransportError> {
        self.data_conn()?;
        let timeouts = self.timeouts;
        // Borrow the connection and the name as separate fields.
        let name = &self.data_name;
        let Some(conn) = self.data.as_mut() else {
            // data_conn just connected it; reported rather than asserted.
            return Err(TransportError::Poisoned {
                peer: name.clone(),
                reason: "no data connection",
            });
        };
        // Whatever waits on the socket now answers no command of ours (a peer that sends each
        // answer twice, or an injected frame): read as the next answer it would desynchronise
        // every later exchange. transact() drops the connection on this error.
        let surplus = |bytes, during| TransportError::Surplus {
            peer: name.clone(),
            bytes,
            during,
        };
        match conn.waiting_bytes() {
            Ok(0) => {}
            Ok(n) => return Err(surplus(n, "waiting before the command was sent")),
            Err(e) => {
                return Err(TransportError::Io {
                    peer: name.clone(),
                    during: "checking the connection before sending",
                    source: e,
                })
            }
        }
        send(conn, cmd, name, timeouts.write, "sending command")?;
        let wait = self
            .deadline
            .wait(timeouts.read)
            .ok_or_else(|| TransportError::Timeout {
                peer: name.clone(),
                after: timeouts.read,
                during: "waiting for the command's answer, retries included",
            })?;
        let mut r = UntilDeadline {
            conn,
            deadline: Instant::now() + wait,
        };
        let during = if wait < timeouts.read {
            "waiting for the command's answer, retries included"
        } else {
            "waiting for response"
        };
        let n = frame::read_response(&mut r, rsp)
            .map_err(|e| frame::to_transport_error(name, e, timeouts.read, during, None))?;
        // Bytes already past the declared size: the response was not the size it said.
        if let Ok(extra @ 1..) = r.conn.waiting_bytes() {
            return Err(surplus(extra, "after the response's declared size"));
        }
        Ok(&rsp[..n])
    }

    /// Sends one control command and reads its answer: the result word (unless `has_result`
    /// is false, as for GET_CAPABILITY), then exactly `extra.len()` bytes.
    fn control(
        &mut self,
        name: &'static str,
        code: u32,
        body: &[u8],
        has_result: bool,
        extra: &mut [u8],
    ) -> Result<(), TransportError> {
        let timeouts = self.timeouts;
        let peer = self.ctrl_name.clone();
        let mut conn = self.open_channel(true)?;
        // The bodies we send are at most 4 bytes; assemble one message so it arrives as one.
        let mut msg = [0u8; 8];
        msg[..4].copy_from_slice(&code.to_be_bytes());
        let len = 4 + body.len().min(4);
        msg[4..len].copy_from_slice(&body[..len - 4]);
        send(
            &mut conn,
            &msg[..len],
            &peer,
            timeouts.write,
            "sending control command",
        )?;

        let mut r = UntilDeadline {
            conn: &mut conn,
            deadline: Instant::now() + timeouts.read,
        };
        let total = if has_result { 4 } else { 0 } + extra.len();
        let err = |e: FrameError| {
            frame::to_transport_error(
                &peer,
                e,
                timeouts.read,
                "waiting for control answer",
                Some("control answer"),
            )
        };
        if has_result {
            let mut result = [0u8; 4];
            frame::fill(&mut r, &mut result, 0, total).map_err(err)?;
            let result = u32::from_be_bytes(result);
            if result != 0 {
                return Err(TransportError::ControlFailed {
                    peer: peer.clone(),
                    command: name,
                    result,
                });
            }
        }
        frame::fill(&mut r, extra, total - extra.len(), total).map_err(err)
    }

    /// GET_CAPABILITY: the bit mask of control commands this swtpm supports (see
    /// [`ctrl`]`::CAP_*`). This answer has no result word; it is 8 bytes of mask.
    pub fn get_capability(&mut self) -> Result<u64, TransportError> {
        let mut caps = [0u8; 8];
        self.control(
            "GET_CAPABILITY",
            ctrl::GET_CAPABILITY,
            &[],
            false,
            &mut caps,
        )?;
        Ok(u64::from_be_bytes(caps))
    }

    /// INIT: (re)starts the TPM with `flags` (e.g. [`ctrl::INIT_FLAG_DELETE_VOLATILE`]).
    /// The TPM then expects TPM2_Startup, unless swtpm runs with `--flags startup-clear`
    /// and is starting for the first time.
    pub fn init(&mut self, flags: u32) -> Result<(), TransportError> {
        self.control("INIT", ctrl::INIT, &flags.to_be_bytes(), true, &mut [])
    }

    /// SET_LOCALITY: the locality (0..=4) for the following commands. swtpm answers
    /// `TPM_BAD_LOCALITY` (0x3d) for anything else, reported as
    /// [`TransportError::ControlFailed`].
    pub fn set_locality(&mut self, locality: u8) -> Result<(), TransportError> {
        self.control(
            "SET_LOCALITY",
            ctrl::SET_LOCALITY,
            &[locality],
            true,
            &mut [],
        )
    }

    /// STOP: stops the TPM; the swtpm process keeps running. Data channel commands then get
    /// an error response from swtpm until [`init`](Self::init).
    pub fn stop(&mut self) -> Result<(), TransportError> {
        self.control("STOP", ctrl::STOP, &[], true, &mut [])
    }

    /// CANCEL_TPM_CMD: asks the TPM to cancel the command in progress.
    pub fn cancel(&mut self) -> Result<(), TransportError> {
        self.control("CANCEL_TPM_CMD", ctrl::CANCEL_TPM_CMD, &[], true, &mut [])
    }

    /// GET_TPMESTABLISHED: the TPM-established flag.
    pub fn get_tpm_established(&mut self) -> Result<bool, TransportError> {
        let mut rest = [0u8; 4];
        self.control(
            "GET_TPMESTABLISHED",
            ctrl::GET_TPMESTABLISHED,
            &[],
            true,
            &mut rest,
        )?;
        Ok(rest[0] != 0)
    }

    /// SHUTDOWN: stops the TPM and ends the swtpm process. The data connection is closed too.
    pub fn shutdown(&mut self) -> Result<(), TransportError> {
        let r = self.control("SHUTDOWN", ctrl::SHUTDOWN, &[], true, &mut []);
        self.data = None;
        r
    }
}

fn send(
    conn: &mut Conn,
    bytes: &[u8],
    peer: &str,
    timeout: Duration,
    during: &'static str,
) -> Result<(), TransportError> {
    let r = conn
        .set_write_timeout(timeout)
        .and_then(|()| conn.write_all(bytes))
        .and_then(|()| conn.flush());
    r.map_err(|e| {
        if frame::is_timeout(&e) {
            TransportError::Timeout {
                peer: peer.to_string(),
                after: timeout,
                during,
            }
        } else {
            TransportError::Io {
                peer: peer.to_string(),
                during,
                source: e,
            }
        }
    })
}

impl Transport for SwtpmTransport {
    type Error = TransportError;

    fn begin_command(&mut self) {
        self.deadline.start(self.timeouts.read);
    }

    fn end_command(&mut self) {
        self.deadline.end();
    }

    /// Sends `cmd` on the data channel and reads exactly one response into `rsp`.
    ///
    /// On any error the data connection is dropped (the stream may be out of step); the next
    /// call reconnects.
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], TransportError> {
        if let Err((len, declared)) = frame::check_command(cmd) {
            return Err(TransportError::BadCommand {
                peer: self.data_name.clone(),
                len,
                declared,
            });
        }
        // Split the borrow: on failure, drop the connection before returning.
        let r = self.exchange(cmd, rsp);
        if r.is_err() {
            self.data = None;
        }
        r
    }
}
