//! A swtpm whose EK certificates come from a swtpm_localca of its own: a private configuration
//! in a temp dir (nothing written under /etc or /var/lib), so two instances have two different
//! EK roots. `swtpm_setup --create-ek-cert --ecc` makes the RSA-2048 and ECC (P-384)
//! certificates; the instance listens on a Unix socket and is killed and reaped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn installed(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn write(p: &Path, s: &str) {
    std::fs::write(p, s).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

pub struct LocalCaTpm {
    child: Child,
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for LocalCaTpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LocalCaTpm {
    /// Starts one, or prints why not and returns `None` when swtpm, swtpm_setup or
    /// swtpm_localca is not installed (the caller skips). Any other failure panics.
    pub fn start(prefix: &str) -> Option<LocalCaTpm> {
        for t in ["swtpm", "swtpm_setup", "swtpm_localca"] {
            if !installed(t) {
                println!("skipped: {t} not installed");
                return None;
            }
        }
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
        let d = dir.path();
        let ca = d.join("localca");
        let state = d.join("state");
        std::fs::create_dir(&ca).unwrap();
        std::fs::create_dir(&state).unwrap();
        write(
            &d.join("swtpm-localca.conf"),
            &format!(
                "statedir = {0}\nsigningkey = {0}/signkey.pem\nissuercert = {0}/issuercert.pem\ncertserial = {0}/certserial\n",
                ca.display()
            ),
        );
        write(
            &d.join("swtpm-localca.options"),
            "--platform-manufacturer baretpm\n--platform-version 2.1\n--platform-model test\n",
        );
        write(
            &d.join("swtpm_setup.conf"),
            &format!(
                "create_certs_tool = swtpm_localca\ncreate_certs_tool_config = {0}/swtpm-localca.conf\ncreate_certs_tool_options = {0}/swtpm-localca.options\n",
                d.display()
            ),
        );
        let out = Command::new("swtpm_setup")
            .arg("--tpm2")
            .arg("--tpmstate")
            .arg(&state)
            .arg("--config")
            .arg(d.join("swtpm_setup.conf"))
            .args([
                "--createek",
                "--create-ek-cert",
                "--ecc",
                "--pcr-banks",
                "sha256",
            ])
            // Keep XDG lookups inside the temp dir too.
            .env("XDG_CONFIG_HOME", d)
            .env("HOME", d)
            .stdin(Stdio::null())
            .output()
            .expect("swtpm_setup runs");
        assert!(
            out.status.success(),
            "swtpm_setup: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let socket = d.join("swtpm.sock");
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate"])
            .arg(format!("dir={}", state.display()))
            .arg("--server")
            .arg(format!("type=unixio,path={}", socket.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}.ctrl", socket.display()))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("swtpm starts");
        let me = LocalCaTpm { child, socket, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&me.socket).is_err() {
            assert!(Instant::now() < deadline, "swtpm did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(me)
    }

    /// The `-T` string for this instance.
    pub fn tcti(&self) -> String {
        format!("swtpm:path={}", self.socket.display())
    }

    /// `name` inside this instance's temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The local CA's root certificate (what `--ek-ca` trusts).
    pub fn root(&self) -> PathBuf {
        self.path("localca/swtpm-localca-rootca-cert.pem")
    }

    /// The local CA's intermediate, which issued the EK certificates.
    pub fn issuer(&self) -> PathBuf {
        self.path("localca/issuercert.pem")
    }
}
