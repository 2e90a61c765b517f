//! The README's first command (install swtpm when missing, then run the demo) works as root,
//! where `sudo` usually does not exist (plain containers), and as a user with `sudo`
//! (issue 8, item 20).
//!
//! The command is taken from README.md as written and run by `sh` and by `bash` with PATH set
//! to a directory of recording stand-ins for `id`, `sudo`, `apt-get` and `cargo`: what is
//! checked is the command's own logic (who installs, with or without sudo, and that the demo
//! runs afterwards), without installing packages or building a release binary here. The demo
//! itself is run for real by `tests/proof_e2e.rs` (`cli_demo_on_a_private_swtpm`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// The first ```sh block after "## The two commands".
fn first_command() -> String {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find("## The two commands")
        .expect("README has a 'The two commands' section")..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = start + section[start..].find("```").unwrap();
    let block = section[start..end].trim().to_string();
    assert_eq!(block.lines().count(), 1, "one command: {block}");
    block
}

fn script(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the command with `shell` as user `uid` (what the `id` stand-in says), with or
/// without `sudo` and `swtpm_setup` on PATH; returns the log of the stand-ins' calls and
/// the exit status.
fn run(shell: &str, uid: u32, have_sudo: bool, have_swtpm: bool) -> (String, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let log = dir.path().join("log");
    std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).unwrap();
    script(
        &bin,
        "id",
        "[ \"$1\" = -u ] && echo \"$FAKE_UID\" || echo \"uid=$FAKE_UID\"",
    );
    script(
        &bin,
        "apt-get",
        "echo \"apt-get $* (as uid $FAKE_UID)\" >> \"$LOG\"",
    );
    script(&bin, "cargo", "echo \"cargo $*\" >> \"$LOG\"");
    if have_sudo {
        script(
            &bin,
            "sudo",
            "echo \"sudo $*\" >> \"$LOG\"; FAKE_UID=0 exec \"$@\"",
        );
    }
    if have_swtpm {
        script(&bin, "swtpm_setup", "exit 0");
    }
    let out = Command::new(shell)
        .arg("-c")
        .arg(first_command())
        .env_clear()
        .env("PATH", &bin)
        .env("FAKE_UID", uid.to_string())
        .env("LOG", &log)
        .output()
        .unwrap();
    let mut calls = fs::read_to_string(&log).unwrap_or_default();
    calls.push_str(&String::from_utf8_lossy(&out.stderr));
    (calls, out.status.code())
}

#[test]
fn item20_readme_first_command_installs_without_sudo_as_root() {
    for shell in ["/bin/sh", "/bin/bash"] {
        // Root in a plain container: no sudo at all.
        let (calls, code) = run(shell, 0, false, false);
        assert_eq!(code, Some(0), "{shell}: {calls}");
        assert_eq!(
            calls,
            "apt-get update (as uid 0)\n\
             apt-get install -y swtpm swtpm-tools (as uid 0)\n\
             cargo run --release -- demo\n",
            "{shell}"
        );
    }
}

#[test]
fn item20_readme_first_command_uses_sudo_for_a_user() {
    for shell in ["/bin/sh", "/bin/bash"] {
        let (calls, code) = run(shell, 1000, true, false);
        assert_eq!(code, Some(0), "{shell}: {calls}");
        assert_eq!(
            calls,
            "sudo sh -c apt-get update && apt-get install -y swtpm swtpm-tools\n\
             apt-get update (as uid 0)\n\
             apt-get install -y swtpm swtpm-tools (as uid 0)\n\
             cargo run --release -- demo\n",
            "{shell}"
        );
    }
}

#[test]
fn item20_readme_first_command_installs_nothing_when_swtpm_is_there() {
    for uid in [0, 1000] {
        let (calls, code) = run("/bin/sh", uid, false, true);
        assert_eq!(code, Some(0), "{calls}");
        assert_eq!(calls, "cargo run --release -- demo\n");
    }
}
