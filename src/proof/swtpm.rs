//! A private swtpm: a throw-away software TPM in a temporary directory, for the demo and for
//! `run` on a machine with no TPM configured. It listens on a Unix socket inside its own
//! directory (no port to race for), and is killed and its directory removed when dropped.
//!
//! A proof from a private swtpm shows the flow works; it proves nothing about a machine,
//! since the TPM is a process the prover controls.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::string::{String, ToString};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::sleep;
use std::time::{Duration, Instant};
use std::{format, vec::Vec};

use crate::transport::swtpm::SwtpmAddr;
use crate::transport::tcti::Tcti;

/// How to install swtpm, for error messages.
pub const INSTALL_HINT: &str = "install it with `sudo apt-get install -y swtpm swtpm-tools` \
     (Debian, Ubuntu) or `sudo dnf install -y swtpm swtpm-tools` (Fedora)";
/// PCR banks the private TPM activates.
pub const BANKS: &str = "sha256,sha384";
/// How long to wait for swtpm to accept connections.
const READY_WAIT: Duration = Duration::from_secs(10);

/// Why a private swtpm could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SwtpmError {
    #[error("`{tool}` was not found: {INSTALL_HINT}")]
    /// A tool is not installed.
    NotInstalled {
        /// `swtpm` or `swtpm_setup`.
        tool: &'static str,
    },
    #[error("{0}")]
    /// Setting up or starting the swtpm failed (the message says where).
    Failed(String),
}

/// What a private swtpm leaves behind until it is stopped: the swtpm process and its
/// directory. Clones share one state, so a signal-handling thread can stop the TPM while its
/// owner is blocked in a command; stopping twice does nothing the second time.
#[derive(Clone, Debug)]
pub struct Reaper(Arc<Mutex<ReaperState>>);

#[derive(Debug)]
struct ReaperState {
    child: Option<Child>,
    dir: Option<PathBuf>,
}

impl Reaper {
    fn new(dir: PathBuf) -> Reaper {
        Reaper(Arc::new(Mutex::new(ReaperState {
            child: None,
            dir: Some(dir),
        })))
    }

    fn set_child(&self, child: Child) {
        let mut st = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        st.child = Some(child);
    }

    fn with_child<R>(&self, f: impl FnOnce(Option<&mut Child>) -> R) -> R {
        let mut st = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(st.child.as_mut())
    }

    /// Kills swtpm (and waits for it) and removes the directory with the TPM state.
    pub fn reap(&self) {
        let mut st = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(mut c) = st.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(d) = st.dir.take() {
            let _ = fs::remove_dir_all(d);
        }
    }
}

/// A running private swtpm.
#[derive(Debug)]
pub struct PrivateSwtpm {
    reaper: Reaper,
    dir: PathBuf,
    socket: PathBuf,
    ek_certificate: bool,
}

impl PrivateSwtpm {
    /// Creates a fresh TPM state (with EKs, and EK certificates when swtpm's local CA works)
    /// and starts swtpm on it.
    pub fn start() -> Result<PrivateSwtpm, SwtpmError> {
        PrivateSwtpm::start_with(|_| {})
    }

    /// [`PrivateSwtpm::start`], handing `register` the [`Reaper`] as soon as the directory
    /// exists (before swtpm_setup and swtpm run), so that a signal arriving during the start
    /// can clean up too.
    pub fn start_with(register: impl FnOnce(Reaper)) -> Result<PrivateSwtpm, SwtpmError> {
        for tool in ["swtpm", "swtpm_setup"] {
            check_installed(tool)?;
        }
        let dir = TempDir::new("baretpm-swtpm")
            .map_err(|e| SwtpmError::Failed(format!("cannot create a directory for swtpm: {e}")))?
            .into_path();
        // From here the directory is removed on every error path by the Reaper (Drop).
        let reaper = Reaper::new(dir.clone());
        register(reaper.clone());
        let mut me = PrivateSwtpm {
            reaper,
            socket: dir.join("swtpm.sock"),
            dir,
            ek_certificate: false,
        };
        let state = me.dir.join("state");
        fs::create_dir(&state)
            .map_err(|e| SwtpmError::Failed(format!("cannot create {}: {e}", state.display())))?;
        me.ek_certificate = match me.setup(&state, true) {
            Ok(()) => true,
            Err(first) => {
                // The local CA may not be usable (permissions): an EK without certificate
                // still gives a working TPM.
                let _ = fs::remove_dir_all(&state);
                fs::create_dir(&state).map_err(|e| {
                    SwtpmError::Failed(format!("cannot create {}: {e}", state.display()))
                })?;
                me.setup(&state, false).map_err(|second| {
                    SwtpmError::Failed(format!("{second}\n(with EK certificate: {first})"))
                })?;
                false
            }
        };
        me.spawn(&state)?;
        Ok(me)
    }

    fn setup(&self, state: &Path, cert: bool) -> Result<(), String> {
        let log_path = self.dir.join("swtpm_setup.log");
        let log = File::create(&log_path).map_err(|e| format!("cannot create a log: {e}"))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new("swtpm_setup");
        cmd.arg("--tpm2")
            .arg("--tpmstate")
            .arg(state)
            .args(["--pcr-banks", BANKS, "--createek"]);
        if cert {
            cmd.arg("--create-ek-cert");
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
                "swtpm_setup failed ({status}):\n{}",
                read_log(&log_path)
            ))
        }
    }

    fn spawn(&mut self, state: &Path) -> Result<(), SwtpmError> {
        let log_path = self.dir.join("swtpm.log");
        let log = File::create(&log_path)
            .map_err(|e| SwtpmError::Failed(format!("cannot create a log: {e}")))?;
        let log2 = log
            .try_clone()
            .map_err(|e| SwtpmError::Failed(e.to_string()))?;
        let ctrl = ctrl_path(&self.socket);
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", state.display()))
            .arg("--server")
            .arg(format!("type=unixio,path={}", self.socket.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}", ctrl.display()))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| SwtpmError::Failed(format!("cannot start swtpm: {e}")))?;
        self.reaper.set_child(child);
        let start = Instant::now();
        loop {
            // No child: reaped meanwhile (a signal), which counts as exited.
            let exited = self
                .reaper
                .with_child(|c| c.map_or(true, |c| !matches!(c.try_wait(), Ok(None))));
            if exited {
                return Err(SwtpmError::Failed(format!(
                    "swtpm exited at once:\n{}",
                    read_log(&log_path)
                )));
            }
            if UnixStream::connect(&ctrl).is_ok() && UnixStream::connect(&self.socket).is_ok() {
                return Ok(());
            }
            if start.elapsed() > READY_WAIT {
                return Err(SwtpmError::Failed(format!(
                    "swtpm did not accept connections within {READY_WAIT:?}:\n{}",
                    read_log(&log_path)
                )));
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// The TCTI that reaches this TPM.
    pub fn tcti(&self) -> Tcti {
        Tcti::Swtpm(SwtpmAddr::unix(self.socket.clone()))
    }

    /// Whether swtpm_setup wrote EK certificates into NV.
    pub fn has_ek_certificate(&self) -> bool {
        self.ek_certificate
    }

    /// The directory holding the TPM state and the sockets.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills swtpm and removes its directory (also done on drop).
    pub fn stop(&mut self) {
        self.reaper.reap();
    }

    /// A handle that stops this swtpm from another thread (see [`Reaper`]).
    pub fn reaper(&self) -> Reaper {
        self.reaper.clone()
    }
}

impl Drop for PrivateSwtpm {
    fn drop(&mut self) {
        self.stop();
    }
}

fn ctrl_path(socket: &Path) -> PathBuf {
    let mut s = socket.as_os_str().to_os_string();
    s.push(".ctrl");
    PathBuf::from(s)
}

fn check_installed(tool: &'static str) -> Result<(), SwtpmError> {
    match Command::new(tool)
        .arg("--help")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(SwtpmError::NotInstalled { tool }),
        Err(e) => Err(SwtpmError::Failed(format!("cannot run `{tool}`: {e}"))),
    }
}

pub use crate::files::TempDir;

fn read_log(path: &Path) -> String {
    let mut v = Vec::new();
    if let Ok(f) = File::open(path) {
        let _ = f.take(16 * 1024).read_to_end(&mut v);
    }
    String::from_utf8_lossy(&v).into_owned()
}
