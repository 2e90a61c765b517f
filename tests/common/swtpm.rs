//! A throw-away swtpm for integration tests.
//!
//! ```ignore
//! mod common;
//! use common::swtpm::SwtpmInstance;
//!
//! let tpm = SwtpmInstance::start().expect("swtpm");       // TCP, EK + EK certificate
//! let t = SwtpmTransport::tcp("127.0.0.1", tpm.port(), Timeouts::DEFAULT)?;
//! // or: tcti::open(&tpm.tcti_string().parse()?, ...)
//! ```
//!
//! Each instance gets a fresh state directory (a `tempfile::TempDir`), made by `swtpm_setup`,
//! and its own port pair or socket, so tests can run in parallel and never share TPM state.
//! The process is started with `--flags not-need-init,startup-clear`, so it accepts commands
//! at once. Dropping the instance kills the process (SIGKILL) and reaps it, then removes the
//! directory.

use std::fs::File;
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long `start` waits for swtpm to accept connections.
const READY_WAIT: Duration = Duration::from_secs(10);
/// How many port pairs to try when another process takes ours first.
const PORT_ATTEMPTS: usize = 8;

const INSTALL_HINT: &str = "install it with `apt-get install swtpm swtpm-tools`";

/// What `swtpm_setup` should create in the fresh state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ek {
    /// No endorsement key: the quickest setup.
    None,
    /// RSA and ECC EKs, no certificates.
    Key,
    /// EKs and their certificates, signed by swtpm-localca (as in FACTS.md).
    KeyAndCert,
}

/// Which socket family the instance listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Tcp,
    Unix,
}

/// How to start an instance. `Default` is TCP with EK and EK certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub ek: Ek,
    pub family: Family,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ek: Ek::KeyAndCert,
            family: Family::Tcp,
        }
    }
}

/// Where the running instance listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Tcp { port: u16 },
    Unix { path: PathBuf },
}

/// A running swtpm process with its own state directory.
pub struct SwtpmInstance {
    child: Option<Child>,
    endpoint: Endpoint,
    // Dropped after the process is gone (Drop kills first).
    dir: tempfile::TempDir,
}

impl SwtpmInstance {
    /// TCP on 127.0.0.1, EK and EK certificate created.
    pub fn start() -> Result<SwtpmInstance, String> {
        Self::start_with(Options::default())
    }

    /// TCP on 127.0.0.1, EK keys but no certificates (no swtpm-localca involved).
    pub fn start_without_cert() -> Result<SwtpmInstance, String> {
        Self::start_with(Options {
            ek: Ek::Key,
            family: Family::Tcp,
        })
    }

    /// Unix sockets `DIR/swtpm.sock` and `DIR/swtpm.sock.ctrl`, EK and EK certificate.
    pub fn start_unix() -> Result<SwtpmInstance, String> {
        Self::start_with(Options {
            ek: Ek::KeyAndCert,
            family: Family::Unix,
        })
    }

    /// Starts an instance as `opts` says.
    pub fn start_with(opts: Options) -> Result<SwtpmInstance, String> {
        check_installed("swtpm")?;
        check_installed("swtpm_setup")?;
        let dir = tempfile::Builder::new()
            .prefix("baretpm-swtpm-")
            .tempdir()
            .map_err(|e| format!("cannot make a temp dir for swtpm state: {e}"))?;
        let state = dir.path().join("state");
        std::fs::create_dir(&state)
            .map_err(|e| format!("cannot create {}: {e}", state.display()))?;
        setup(&state, dir.path(), opts.ek)?;
        match opts.family {
            Family::Tcp => start_tcp(dir, &state),
            Family::Unix => start_unix(dir, &state),
        }
    }

    /// The TCP data port (control is `port() + 1`). Panics for a Unix instance, which is a
    /// bug in the test that asked.
    pub fn port(&self) -> u16 {
        match &self.endpoint {
            Endpoint::Tcp { port } => *port,
            Endpoint::Unix { .. } => panic!("port() called on a Unix-socket swtpm"),
        }
    }

    /// The data socket path. Panics for a TCP instance.
    pub fn socket_path(&self) -> &Path {
        match &self.endpoint {
            Endpoint::Unix { path } => path,
            Endpoint::Tcp { .. } => panic!("socket_path() called on a TCP swtpm"),
        }
    }

    /// Where the instance listens.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The TCTI string tpm2-tools (and baretpm) take: `swtpm:host=127.0.0.1,port=P` or
    /// `swtpm:path=S`.
    pub fn tcti_string(&self) -> String {
        match &self.endpoint {
            Endpoint::Tcp { port } => format!("swtpm:host=127.0.0.1,port={port}"),
            Endpoint::Unix { path } => format!("swtpm:path={}", path.display()),
        }
    }

    /// The TPM state directory (`--tpmstate dir=`).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The swtpm process id (0 once killed).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// What swtpm wrote to stdout/stderr so far (for failure messages).
    pub fn log(&self) -> String {
        read_log(&self.dir.path().join("swtpm.log"))
    }

    /// Kills the process at once (SIGKILL) and reaps it. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Waits up to `limit` for the process to exit on its own (e.g. after a SHUTDOWN control
    /// command). Returns whether it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            match self.child.as_mut().map(Child::try_wait) {
                None | Some(Ok(Some(_))) | Some(Err(_)) => {
                    self.child = None;
                    return true;
                }
                Some(Ok(None)) => sleep(Duration::from_millis(20)),
            }
        }
        false
    }
}

impl Drop for SwtpmInstance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn check_installed(tool: &str) -> Result<(), String> {
    match Command::new(tool)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(format!("`{tool}` not found in PATH; {INSTALL_HINT}"))
        }
        Err(e) => Err(format!("cannot run `{tool}`: {e}; {INSTALL_HINT}")),
    }
}

/// Runs swtpm_setup. It uses the system's /etc/swtpm_setup.conf (as root that works out of
/// the box on Debian: certificates come from swtpm-localca with its CA under
/// /var/lib/swtpm-localca, created on first use).
fn setup(state: &Path, dir: &Path, ek: Ek) -> Result<(), String> {
    let log_path = dir.join("swtpm_setup.log");
    let log = File::create(&log_path).map_err(|e| format!("cannot create setup log: {e}"))?;
    let log2 = log
        .try_clone()
        .map_err(|e| format!("cannot clone setup log handle: {e}"))?;
    let mut cmd = Command::new("swtpm_setup");
    cmd.arg("--tpm2")
        .arg("--tpmstate")
        .arg(state)
        .args(["--pcr-banks", "sha1,sha256"]);
    match ek {
        Ek::None => {}
        Ek::Key => {
            cmd.arg("--createek");
        }
        Ek::KeyAndCert => {
            cmd.args(["--createek", "--create-ek-cert"]);
        }
    }
    let status = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .status()
        .map_err(|e| format!("cannot run swtpm_setup: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "swtpm_setup failed ({status}); its output:\n{}",
            read_log(&log_path)
        ))
    }
}

fn spawn_swtpm(dir: &Path, state: &Path, server: &str, ctrl: &str) -> Result<Child, String> {
    let log_path = dir.join("swtpm.log");
    let log = File::create(&log_path).map_err(|e| format!("cannot create swtpm log: {e}"))?;
    let log2 = log
        .try_clone()
        .map_err(|e| format!("cannot clone swtpm log handle: {e}"))?;
    Command::new("swtpm")
        .args(["socket", "--tpm2", "--tpmstate"])
        .arg(format!("dir={}", state.display()))
        .args(["--server", server, "--ctrl", ctrl])
        .args(["--flags", "not-need-init,startup-clear"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("cannot start swtpm: {e}"))
}

/// A data port P from the kernel with P+1 free too, both on 127.0.0.1. The ports are released
/// before swtpm binds them, so another process may take one first: swtpm then exits ("Address
/// already in use") and the caller tries another pair.
fn free_port_pair() -> Result<u16, String> {
    for _ in 0..64 {
        let data = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        let port = data
            .local_addr()
            .map_err(|e| format!("local_addr: {e}"))?
            .port();
        let Some(next) = port.checked_add(1) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", next)).is_ok() {
            return Ok(port);
        }
    }
    Err("found no free pair of adjacent TCP ports on 127.0.0.1".into())
}

fn start_tcp(dir: tempfile::TempDir, state: &Path) -> Result<SwtpmInstance, String> {
    let log_path = dir.path().join("swtpm.log");
    let mut last = String::new();
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port_pair()?;
        let server = format!("type=tcp,port={port},bindaddr=127.0.0.1");
        let ctrl = format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1);
        let mut child = spawn_swtpm(dir.path(), state, &server, &ctrl)?;
        let pid = child.id();
        // Ready once *this* process listens on both ports. Connecting to test readiness could
        // reach a listener another test opened on a port just released for ours (taking that
        // test's connection, and mistaking it for our swtpm).
        let ready = wait_ready(&mut child, &log_path, || {
            listens_on(pid, port) && listens_on(pid, port + 1)
        });
        match ready {
            Ok(()) => {
                return Ok(SwtpmInstance {
                    child: Some(child),
                    endpoint: Endpoint::Tcp { port },
                    dir,
                })
            }
            Err(e) => {
                // A port was taken between our check and swtpm's bind: try another pair.
                let _ = child.kill();
                let _ = child.wait();
                last = e;
            }
        }
    }
    Err(format!(
        "swtpm did not start after {PORT_ATTEMPTS} port pairs; last: {last}"
    ))
}

/// Whether process `pid` holds a TCP socket listening on 127.0.0.1:`port` (or on every IPv4
/// address), read from `/proc/net/tcp` and `/proc/PID/fd`: no connection is made.
pub fn listens_on(pid: u32, port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let wanted = [
        format!("0100007F:{port:04X}"),
        format!("00000000:{port:04X}"),
    ];
    // local_address is field 1, st field 3 (0A: LISTEN), inode field 9.
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<&str>>())
        .filter(|f| f.len() > 9 && f[3] == "0A" && wanted.iter().any(|w| w == f[1]))
        .map(|f| format!("socket:[{}]", f[9]))
        .collect();
    if inodes.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok).any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
    })
}

fn start_unix(dir: tempfile::TempDir, state: &Path) -> Result<SwtpmInstance, String> {
    let log_path = dir.path().join("swtpm.log");
    let path = dir.path().join("swtpm.sock");
    let ctrl_path = dir.path().join("swtpm.sock.ctrl");
    let server = format!("type=unixio,path={}", path.display());
    let ctrl = format!("type=unixio,path={}", ctrl_path.display());
    let mut child = spawn_swtpm(dir.path(), state, &server, &ctrl)?;
    let ready = wait_ready(&mut child, &log_path, || {
        UnixStream::connect(&ctrl_path)
            .and_then(|_| UnixStream::connect(&path))
            .is_ok()
    });
    if let Err(e) = ready {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(SwtpmInstance {
        child: Some(child),
        endpoint: Endpoint::Unix { path },
        dir,
    })
}

/// Polls `ready` until it holds, the process exits, or READY_WAIT passes.
fn wait_ready(child: &mut Child, log_path: &Path, ready: impl Fn() -> bool) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if !matches!(child.try_wait(), Ok(None)) {
            return Err(format!(
                "swtpm exited early; its output:\n{}",
                read_log(log_path)
            ));
        }
        if ready() {
            return Ok(());
        }
        if start.elapsed() > READY_WAIT {
            return Err(format!(
                "swtpm did not accept connections within {READY_WAIT:?}; its output:\n{}",
                read_log(log_path)
            ));
        }
        sleep(Duration::from_millis(20));
    }
}

fn read_log(path: &Path) -> String {
    let mut s = String::new();
    match File::open(path) {
        Ok(f) => {
            let _ = f.take(64 * 1024).read_to_string(&mut s);
        }
        Err(e) => s = format!("(no log at {}: {e})", path.display()),
    }
    s
}

/// Runs the baretpm CLI against `sw`, with `TPM2TOOLS_TCTI` cleared.
pub fn baretpm(sw: &SwtpmInstance, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .arg("-T")
        .arg(sw.tcti_string())
        .args(args)
        .env_remove("TPM2TOOLS_TCTI")
        .output()
        .unwrap()
}

/// Runs a tpm2-tools `tool` against `sw`, then flushes the transient objects it leaves
/// behind (tpm2-tools without a resource manager do not flush their own).
pub fn tpm2(sw: &SwtpmInstance, tool: &str, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(tool)
        .args(args)
        .env("TPM2TOOLS_TCTI", sw.tcti_string())
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (.ci/run installs tpm2-tools)"));
    let _ = std::process::Command::new("tpm2_flushcontext")
        .arg("-t")
        .env("TPM2TOOLS_TCTI", sw.tcti_string())
        .output();
    out
}

/// Asserts that a CLI run succeeded (showing its exit code, stdout and stderr otherwise) and
/// returns its stdout.
pub fn ok(o: &std::process::Output, what: &str) -> String {
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout: {text}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    text
}
