//! The initrd, for real: `tests/initrd/run.sh` boots the installed Debian kernel in qemu with
//! an initrd holding busybox and the static `baretpm`, a fresh swtpm as the VM's TPM (SeaBIOS
//! with tpm-tis, then OVMF with tpm-crb on q35). The guest quotes PCR0-7,14,15 over `/dev/tpmrm0`
//! and sends its proof back over a framed serial channel; here the host verifies it, and sees
//! each tampering refused by the named check. The guest also runs
//! `examples/initrd_device_probe.rs` against the kernel's driver, and every check must pass.
//! A third boot uses Debian's own initramfs, made by `mkinitramfs` with the hook and boot
//! script of `docs/hooks/initramfs-tools/` installed as docs/initrd.md says, and a fourth
//! one made by dracut with the module of `docs/hooks/dracut/90baretpm/`.
//!
//! Needs qemu-system-x86, a linux-image package, busybox-static and ovmf, and for the last two
//! boots initramfs-tools-core and dracut-core (`.ci/run` installs them). When they are missing
//! the tests print `SKIP ...` and pass, unless `BARETPM_INITRD_REQUIRED=1` (set by `.ci/run`
//! once it installed them), which makes a missing tool a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;
use std::io::Write as _;

/// Writes past the test harness's output capture, so a skip or a timing shows in `cargo test`.
macro_rules! note {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// One boot at a time (two qemu processes would fight for the two cores), and the
/// accelerator the first boot chose is reused, so a broken /dev/kvm is probed only once.
static BOOT: Mutex<Option<String>> = Mutex::new(None);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// Why this machine cannot run the boot, if it cannot.
fn missing(mode: &str) -> Option<String> {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return Some("not an x86_64 Linux host".into());
    }
    for (tool, pkg) in [
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("swtpm", "swtpm"),
        ("swtpm_setup", "swtpm-tools"),
        ("swtpm_ioctl", "swtpm-tools"),
        ("cpio", "cpio"),
        ("file", "file"),
    ] {
        if !on_path(tool) {
            return Some(format!("{tool} is not installed ({pkg})"));
        }
    }
    let kernel = std::fs::read_dir("/boot").ok().is_some_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("vmlinuz-"))
    });
    if !kernel {
        return Some("no /boot/vmlinuz-* (linux-image-amd64)".into());
    }
    if !Path::new("/bin/busybox").exists() && !Path::new("/usr/bin/busybox").exists() {
        return Some("no busybox (busybox-static)".into());
    }
    if mode == "initramfs-tools" && !(on_path("mkinitramfs") && on_path("lsinitramfs")) {
        return Some("mkinitramfs is not installed (initramfs-tools-core)".into());
    }
    if mode == "dracut" && !(on_path("dracut") && on_path("lsinitrd")) {
        return Some("dracut is not installed (dracut-core)".into());
    }
    if mode == "uefi" && !Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd").exists() {
        return Some("no /usr/share/OVMF/OVMF_CODE_4M.fd (ovmf)".into());
    }
    None
}

/// Returns false (after saying why) when the boot cannot run here and may be skipped.
fn can_run(test: &str, mode: &str) -> bool {
    let Some(why) = missing(mode) else {
        return true;
    };
    if std::env::var("BARETPM_INITRD_REQUIRED").as_deref() == Ok("1") {
        panic!("{test}: BARETPM_INITRD_REQUIRED=1 but {why}");
    }
    note!(
        "SKIP {test}: {why}. Install qemu-system-x86 linux-image-amd64 busybox-static ovmf \
         initramfs-tools-core dracut-core (bash .ci/run does) to run the qemu boot."
    );
    false
}

/// Runs `tests/initrd/run.sh OUT mode` and returns OUT (kept alive by the TempDir).
fn boot(mode: &str) -> (tempfile::TempDir, PathBuf) {
    let mut accel = BOOT.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::Builder::new()
        .prefix(&format!("baretpm-initrd-{mode}-"))
        .tempdir()
        .expect("temp dir");
    let out = dir.path().join("out");
    let mut cmd = Command::new("timeout");
    cmd.args(["--kill-after=10", "1800", "bash"])
        .arg(root().join("tests/initrd/run.sh"))
        .arg(&out)
        .arg(mode);
    if let Some(a) = accel.as_deref() {
        if std::env::var_os("BARETPM_QEMU_ACCEL").is_none() {
            cmd.env("BARETPM_QEMU_ACCEL", a);
        }
    }
    let r = cmd.output().expect("run tests/initrd/run.sh");
    let stderr = String::from_utf8_lossy(&r.stderr);
    eprintln!("{stderr}");
    assert!(
        r.status.success(),
        "tests/initrd/run.sh {mode} failed ({})",
        r.status
    );
    let timings = std::fs::read_to_string(out.join("timings")).expect("OUT/timings");
    note!("initrd {mode}: {}", timings.replace('\n', " "));
    if let Some(a) = timings.lines().find_map(|l| l.strip_prefix("accel=")) {
        *accel = Some(a.to_string());
    }
    (dir, out)
}

fn baretpm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baretpm"))
}

/// `baretpm verify PROOF --json ARGS...`: exit code and the report's rows (name, status).
fn verify(proof: &Path, args: &[&std::ffi::OsStr]) -> (i32, Vec<(String, String)>, String) {
    let r = baretpm()
        .arg("verify")
        .arg(proof)
        .arg("--json")
        .args(args)
        .output()
        .expect("run baretpm verify");
    let text = String::from_utf8_lossy(&r.stdout).into_owned();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("verify --json printed no JSON ({e}): {text}"));
    let rows = v["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_string(),
                        c["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (r.status.code().unwrap_or(-1), rows, text)
}

fn status<'a>(rows: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    rows.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, s)| s.as_str())
        .collect()
}

fn check_boot(test: &str, mode: &str) {
    if !can_run(test, mode) {
        return;
    }
    let (_dir, out) = boot(mode);
    let proof = out.join("proof.json");
    let nonce = std::fs::read_to_string(out.join("nonce")).expect("OUT/nonce");
    let nonce = nonce.trim();
    assert_eq!(nonce.len(), 64, "a 32-byte nonce in hex: {nonce:?}");
    assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()));

    // The AK the guest used is the one the host enrolled from the same TPM before the boot.
    let ak = std::fs::read(out.join("ak.pub")).expect("OUT/ak.pub");
    assert_eq!(
        ak,
        std::fs::read(out.join("ak.guest.pub")).expect("OUT/ak.guest.pub")
    );

    // The firmware event log came out of securityfs: a crypto-agile (TCG2) log starts with
    // the Spec ID event. (Replaying it against PCR0-7 is the event-log layer's work.)
    let log = std::fs::read(out.join("boot_log.bin")).expect("OUT/boot_log.bin");
    assert!(
        log.windows(15).any(|w| w == b"Spec ID Event03"),
        "{mode}: boot_log.bin ({} bytes) has no Spec ID event",
        log.len()
    );

    // What the kernel's driver did to the device transport (examples/initrd_device_probe.rs).
    let device = std::fs::read_to_string(out.join("device.txt")).expect("OUT/device.txt");
    // No probe in the generators' initramfs: the documented boot script measured, and said
    // so on the console in the generator's own way.
    let success = match mode {
        "initramfs-tools" => {
            Some("Success: baretpm: measured /init and /etc/baretpm/initrd.conf into PCR14")
        }
        "dracut" => Some("dracut: baretpm: measured /init and /etc/baretpm/initrd.conf into PCR14"),
        _ => None,
    };
    if let Some(success) = success {
        let console = std::fs::read(out.join("console.log")).expect("OUT/console.log");
        let console = String::from_utf8_lossy(&console);
        assert!(
            console.contains(success),
            "{mode}: the boot script's success line {success:?} is missing:\n{console}"
        );
        assert!(device.contains("/bin/baretpm"), "{mode}:\n{device}");
    } else {
        check_device_probe(mode, &device);
    }

    // The proof quotes PCR0-7,14,15 in sha256, and the firmware did measure into PCR0.
    let p: Value =
        serde_json::from_slice(&std::fs::read(&proof).expect("proof.json")).expect("proof JSON");
    // The TPM has an EK certificate (swtpm_setup --create-ek-cert): the guest's measure and
    // attest salted their session to the EK it certifies, after comparing the two. The
    // initramfs-tools and dracut images carry the initrd build (no X.509 parser), which
    // compares with the DER walk of src/cert_key.rs; bios and uefi the full static CLI.
    assert_eq!(
        p["session"], "salted-ek-certified",
        "{mode}: the guest's session"
    );
    let sha256 = p["pcrs"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["bank"] == "sha256"))
        .expect("a sha256 bank in the proof");
    let values = sha256["values"].as_array().expect("values");
    let quoted: Vec<u64> = values.iter().filter_map(|v| v["pcr"].as_u64()).collect();
    assert_eq!(quoted, [0, 1, 2, 3, 4, 5, 6, 7, 14, 15]);
    assert_ne!(
        values[0]["value"],
        "00".repeat(32),
        "PCR0 was never extended"
    );

    let ak_path = out.join("ak.pub");
    let init = out.join("initrd/init");
    let conf = out.join("initrd/etc/baretpm/initrd.conf");
    let good: Vec<&std::ffi::OsStr> = vec![
        "--nonce".as_ref(),
        nonce.as_ref(),
        "--ak-pub".as_ref(),
        ak_path.as_os_str(),
        "--input".as_ref(),
        init.as_os_str(),
        "--input".as_ref(),
        conf.as_os_str(),
    ];
    let (code, rows, text) = verify(&proof, &good);
    assert_eq!(code, 0, "{mode}: the guest's proof must verify:\n{text}");
    for row in [
        "ak-pin",
        "signature",
        "nonce",
        "pcr-selection",
        "pcr-digest",
        "pcr14-log",
    ] {
        assert_eq!(status(&rows, row), ["pass"], "{mode}: row {row}:\n{text}");
    }
    assert_eq!(
        status(&rows, "input"),
        ["pass", "pass"],
        "{mode}: /init and the config file are the PCR14 events:\n{text}"
    );
    // The proof carries the firmware log (the guest's attest --boot-log), and it replays to
    // the quoted PCR0-7, every bank on its own.
    assert_eq!(
        status(&rows, "boot-log"),
        ["pass"],
        "{mode}: the firmware log must explain PCR0-7:\n{text}"
    );
    assert_eq!(
        p["boot_log"].as_str().map(|h| h.len()),
        Some(2 * log.len()),
        "{mode}: the proof carries the log the guest copied out"
    );
    // Facts are shown, never passed: nothing here checks them against a policy.
    for row in ["secure-boot", "boot-chain"] {
        assert_eq!(status(&rows, row), ["skip"], "{mode}: row {row}:\n{text}");
    }

    // A stale nonce.
    let mut stale = nonce.to_string();
    let last = if stale.ends_with('0') { "1" } else { "0" };
    stale.replace_range(63.., last);
    let mut args = good.clone();
    args[1] = stale.as_ref();
    let (code, rows, text) = verify(&proof, &args);
    assert_eq!(code, 1, "{mode}: stale nonce:\n{text}");
    assert_eq!(status(&rows, "nonce"), ["fail"], "{mode}:\n{text}");

    // PCR0 changed in the proof (a different firmware claimed).
    let mut forged = p.clone();
    forged["pcrs"]
        .as_array_mut()
        .and_then(|b| b.iter_mut().find(|b| b["bank"] == "sha256"))
        .expect("sha256 bank")["values"][0]["value"] = Value::String("11".repeat(32));
    let forged_path = out.join("forged-pcr0.json");
    std::fs::write(&forged_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let (code, rows, text) = verify(&forged_path, &good);
    assert_eq!(code, 1, "{mode}: forged PCR0:\n{text}");
    assert_eq!(status(&rows, "pcr-digest"), ["fail"], "{mode}:\n{text}");

    // A PCR14 event's digest changed: the log no longer replays to the quoted PCR14.
    let mut forged = p.clone();
    forged["events"]["pcr14"][0]["digest"] = Value::String("22".repeat(32));
    let forged_path = out.join("forged-pcr14.json");
    std::fs::write(&forged_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let (code, rows, text) = verify(&forged_path, &good);
    assert_eq!(code, 1, "{mode}: forged PCR14 event:\n{text}");
    assert_eq!(status(&rows, "pcr14-log"), ["fail"], "{mode}:\n{text}");

    // An /init other than the one measured.
    let other_init = out.join("other-init");
    let mut body = std::fs::read(&init).unwrap();
    body.extend_from_slice(b"# one more line\n");
    std::fs::write(&other_init, body).unwrap();
    let mut args = good.clone();
    args[5] = other_init.as_os_str();
    let (code, rows, text) = verify(&proof, &args);
    assert_eq!(code, 1, "{mode}: another /init:\n{text}");
    assert_eq!(status(&rows, "input"), ["fail", "pass"], "{mode}:\n{text}");

    // The right proof under another AK pin (the ECC AK of the swtpm that made vectors/).
    let other = root().join("vectors/swtpm/ecc.ak.pub");
    assert_ne!(std::fs::read(&other).expect("vectors/swtpm/ecc.ak.pub"), ak);
    let mut args = good.clone();
    args[3] = other.as_os_str();
    let (code, rows, text) = verify(&proof, &args);
    assert_eq!(code, 1, "{mode}: another AK pinned:\n{text}");
    assert_eq!(status(&rows, "ak-pin"), ["fail"], "{mode}:\n{text}");

    // A transfer cut short or altered is refused by the host side of the channel.
    check_transfer_refusals(&out);
}

/// Every check of `examples/initrd_device_probe.rs` passed in the guest.
fn check_device_probe(mode: &str, device: &str) {
    for check in [
        "rm-virtual-handle",
        "rm-isolation",
        "rm-flush-on-close",
        "tpm0-ebusy",
        "in-flight-close",
        "tpm0-direct",
    ] {
        assert!(
            device
                .lines()
                .any(|l| l.starts_with(&format!("device-probe: {check} pass "))),
            "{mode}: device check {check}:\n{device}"
        );
    }
    assert!(
        device.lines().any(|l| l == "device-probe exit 0"),
        "{mode}:\n{device}"
    );
}

fn check_transfer_refusals(out: &Path) {
    let t = std::fs::read_to_string(out.join("transfer.txt")).expect("OUT/transfer.txt");
    let decode = |text: &str, what: &str| -> (bool, String) {
        let d = out.join(format!("decode-{what}"));
        std::fs::create_dir_all(&d).unwrap();
        let input = d.join("transfer.txt");
        std::fs::write(&input, text).unwrap();
        let r = Command::new("bash")
            .arg(root().join("tests/initrd/decode.sh"))
            .arg(&input)
            .arg(&d)
            .args([
                "proof.json",
                "ak.pub",
                "pcr14.log",
                "boot_log.bin",
                "device.txt",
            ])
            .output()
            .expect("run decode.sh");
        (
            r.status.success(),
            String::from_utf8_lossy(&r.stderr).into_owned(),
        )
    };
    // The real transfer decodes to the files run.sh left.
    let (ok, err) = decode(&t, "intact");
    assert!(ok, "the guest's own transfer: {err}");
    assert_eq!(
        std::fs::read(out.join("decode-intact/proof.json")).unwrap(),
        std::fs::read(out.join("proof.json")).unwrap()
    );

    let lines: Vec<&str> = t.split_inclusive('\n').collect();
    let cut = lines[..lines.len() - 3].concat();
    let (ok, err) = decode(&cut, "cut");
    assert!(
        !ok && err.contains("truncated"),
        "truncated transfer: {err}"
    );

    // One base64 character of proof.json changed: the SHA-256 no longer matches.
    let body = lines
        .iter()
        .position(|l| l.starts_with("FILE proof.json "))
        .expect("proof.json frame")
        + 1;
    let mut altered: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let first = altered[body].remove(0);
    altered[body].insert(0, if first == 'A' { 'B' } else { 'A' });
    let (ok, err) = decode(&altered.concat(), "altered");
    assert!(
        !ok && err.contains("proof.json: SHA-256"),
        "altered transfer: {err}"
    );

    // A file left out, with the count adjusted: the host still wants all four.
    let start = lines
        .iter()
        .position(|l| l.starts_with("FILE boot_log.bin "))
        .expect("boot_log.bin frame");
    let end = lines
        .iter()
        .position(|l| l.trim_end() == "END boot_log.bin")
        .expect("boot_log.bin end");
    let mut dropped: Vec<String> = lines[..start]
        .iter()
        .chain(&lines[end + 1..])
        .map(|l| l.to_string())
        .collect();
    for l in &mut dropped {
        if l.starts_with("BARETPM-XFER-DONE ") {
            *l = "BARETPM-XFER-DONE 4\r\n".into();
        }
    }
    let (ok, err) = decode(&dropped.concat(), "dropped");
    assert!(
        !ok && err.contains("boot_log.bin was not sent"),
        "transfer without boot_log.bin: {err}"
    );
}

#[test]
fn initrd_bios_seabios_tpm_tis() {
    check_boot("initrd_bios_seabios_tpm_tis", "bios");
}

#[test]
fn initrd_uefi_ovmf_tpm_crb() {
    check_boot("initrd_uefi_ovmf_tpm_crb", "uefi");
}

#[test]
fn initrd_debian_initramfs_tools_hook() {
    check_boot("initrd_debian_initramfs_tools_hook", "initramfs-tools");
}

#[test]
fn initrd_dracut_hook() {
    check_boot("initrd_dracut_hook", "dracut");
}
