//! A bus interposer for tests: a Unix-socket proxy in front of a swtpm that can rewrite each
//! command on its way to the TPM and each response on its way back, as a compromised bus or a
//! fake TPM would. The control channel (`PATH.ctrl`) is forwarded unchanged.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// Changes a command (whole frame) before it reaches the TPM.
pub type EditCommand = Box<dyn FnMut(&mut Vec<u8>) + Send>;
/// Changes a response (whole frame) before it reaches the client; gets the command too.
pub type EditResponse = Box<dyn FnMut(&[u8], &mut Vec<u8>) + Send>;

pub struct Proxy {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Proxy {
    /// The TCTI string a client uses to go through the proxy.
    pub fn tcti(&self) -> String {
        format!("swtpm:path={}", self.path.display())
    }
}

/// The command code of a command frame.
pub fn command_code(frame: &[u8]) -> u32 {
    frame
        .get(6..10)
        .map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap()))
}

fn read_frame(s: &mut UnixStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 10];
    s.read_exact(&mut header).ok()?;
    let size = u32::from_be_bytes(header[2..6].try_into().unwrap()) as usize;
    let mut frame = header.to_vec();
    frame.resize(size.clamp(10, 8192), 0);
    s.read_exact(&mut frame[10..]).ok()?;
    Some(frame)
}

/// Accepts connections on `listener` for `idle` after the last one, handing each to `serve`.
fn accept_loop(listener: UnixListener, idle: Duration, mut serve: impl FnMut(UnixStream)) {
    listener.set_nonblocking(true).unwrap();
    let mut last = Instant::now();
    while last.elapsed() < idle {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                serve(s);
                last = Instant::now();
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Starts a proxy for the swtpm whose data socket is `target` (control: `target.ctrl`). It
/// serves connections one after another, and stops 30 s after the last one.
pub fn start(
    target: &Path,
    mut edit_command: EditCommand,
    mut edit_response: EditResponse,
) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proxy.sock");
    let data = UnixListener::bind(&path).unwrap();
    let ctrl = UnixListener::bind(dir.path().join("proxy.sock.ctrl")).unwrap();
    let target = target.to_path_buf();
    let mut target_ctrl = target.clone().into_os_string();
    target_ctrl.push(".ctrl");
    let idle = Duration::from_secs(30);
    thread::spawn(move || {
        accept_loop(data, idle, |mut client| {
            let Ok(mut tpm) = UnixStream::connect(&target) else {
                return;
            };
            while let Some(mut cmd) = read_frame(&mut client) {
                edit_command(&mut cmd);
                if tpm.write_all(&cmd).is_err() {
                    return;
                }
                let Some(mut rsp) = read_frame(&mut tpm) else {
                    return;
                };
                edit_response(&cmd, &mut rsp);
                if client.write_all(&rsp).is_err() {
                    return;
                }
            }
        })
    });
    thread::spawn(move || {
        accept_loop(ctrl, idle, |client| {
            let Ok(tpm) = UnixStream::connect(&target_ctrl) else {
                return;
            };
            let (mut from_client, mut to_tpm) =
                (client.try_clone().unwrap(), tpm.try_clone().unwrap());
            let up = thread::spawn(move || {
                let _ = std::io::copy(&mut from_client, &mut to_tpm);
                let _ = to_tpm.shutdown(std::net::Shutdown::Write);
            });
            let (mut tpm, mut client) = (tpm, client);
            let _ = std::io::copy(&mut tpm, &mut client);
            let _ = up.join();
        })
    });
    Proxy { _dir: dir, path }
}
