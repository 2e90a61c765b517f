//! `run` and `demo` never lose a run (issue 8, items 12-16): what can be checked is checked
//! before the first PCR_Extend (each refusal below leaves PCR14 at zero, read back from the
//! TPM), a proof never replaces an input or output, a failure after an extend says what was
//! extended and what to do, `demo --keep` neither overwrites nor trips over a relative path,
//! and an over-long command line is named with its limit, the one the format document gives.
#![cfg(feature = "std")]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use baretpm::proof::event::{MAX_NAME_LEN, OUTPUT_PCR};
use baretpm::proof::file::EventLog;
use baretpm::proof::flow;
use baretpm::proof::JsonFile;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::Timeouts;
use common::swtpm::{Ek, Family, Options, SwtpmInstance};

fn swtpm() -> SwtpmInstance {
    SwtpmInstance::start_with(Options {
        ek: Ek::None,
        family: Family::Unix,
    })
    .expect("swtpm")
}

fn open(sw: &SwtpmInstance) -> Tpm<AnyTransport> {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    Tpm::new(tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap())
}

/// `baretpm -T SWTPM ARGS` in `dir`.
fn baretpm(sw: &SwtpmInstance, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .current_dir(dir)
        .arg("-T")
        .arg(sw.tcti_string())
        .args(args)
        .env_remove("TPM2TOOLS_TCTI")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts exit status 2 with `needle` in the message, and that PCR14 and PCR15 still read
/// zero in every bank (nothing was extended).
fn refused_before_extending(sw: &SwtpmInstance, o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "{needle:?} not in: {}",
        stderr(o)
    );
    let mut tpm = open(sw);
    let banks = flow::active_banks(&mut tpm).unwrap();
    for pcr in [14, 15] {
        flow::check_pcr_state(&mut tpm, pcr, &banks, &[])
            .unwrap_or_else(|e| panic!("PCR{pcr} changed by a refused run: {e}"));
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The command the tests run: copies in.txt to out.txt and leaves a mark that it ran.
const COPY: [&str; 4] = ["sh", "-c", "touch ran; cp in.txt out.txt", "-"];

fn run_args<'a>(proof: &'a str, extra: &[&'a str], command: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["run", "--proof", proof];
    v.extend_from_slice(extra);
    v.push("--");
    v.extend_from_slice(command);
    v
}

#[test]
fn item12_run_checks_the_proof_path_before_extending() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.txt"), "input").unwrap();
    fs::write(d.join("a-file"), "x").unwrap();
    fs::create_dir(d.join("a-dir")).unwrap();
    let io = ["--input", "in.txt", "--output", "out.txt"];
    for (proof, why) in [
        ("no-such-dir/p.json", "no-such-dir"),
        ("a-file/p.json", "a-file"),
        ("a-dir", "is a directory"),
    ] {
        let o = baretpm(&sw, d, &run_args(proof, &io, &COPY));
        refused_before_extending(&sw, &o, why);
        assert!(stderr(&o).contains("--proof"), "{}", stderr(&o));
        assert!(
            !d.join("ran").exists(),
            "the command ran for --proof {proof}"
        );
    }
    // A good path: the run works and the writability check left nothing behind.
    let o = baretpm(&sw, d, &run_args("p.json", &io, &COPY));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        listing(d),
        ["a-dir", "a-file", "in.txt", "out.txt", "p.json", "ran"]
    );
}

#[test]
fn item12_run_checks_the_program_before_extending() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.txt"), "input").unwrap();
    fs::write(d.join("train.sh"), "#!/bin/sh\ntouch ran\n").unwrap();
    fs::set_permissions(d.join("train.sh"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::create_dir(d.join("bin")).unwrap();
    let io = ["--input", "in.txt"];
    for (program, why) in [
        ("no-such-program-baretpm", "not found in PATH"),
        ("./no-such-program", "./no-such-program"),
        ("./train.sh", "no execute permission"),
        ("train.sh", "not found in PATH"),
        ("./bin", "is a directory"),
    ] {
        let o = baretpm(&sw, d, &run_args("p.json", &io, &[program]));
        refused_before_extending(&sw, &o, why);
        assert!(stderr(&o).contains(program), "{}", stderr(&o));
    }
    assert!(!d.join("ran").exists());
    assert!(!d.join("p.json").exists());
    // Made executable, the same path runs (found as the shell finds it).
    fs::set_permissions(d.join("train.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    let o = baretpm(&sw, d, &run_args("p.json", &io, &["./train.sh"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("ran").exists());
}

#[test]
fn item12_run_refuses_a_path_given_twice_before_extending() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.txt"), "input").unwrap();
    for extra in [
        ["--input", "in.txt", "--input", "./in.txt"],
        ["--output", "out.txt", "--output", "x/../out.txt"],
    ] {
        let o = baretpm(&sw, d, &run_args("p.json", &extra, &COPY));
        refused_before_extending(&sw, &o, "are the same file");
    }
    assert!(!d.join("ran").exists());
}

#[test]
fn item13_run_refuses_a_proof_path_equal_to_an_input_or_output() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.txt"), "input").unwrap();
    fs::write(d.join("model.bin"), "trained weights").unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("model.bin", d.join("link")).unwrap();
    let train = ["sh", "-c", "touch ran; cat in.txt > model.bin", "-"];
    for (proof, extra) in [
        ("model.bin", ["--input", "in.txt", "--output", "model.bin"]),
        (
            "./model.bin",
            ["--input", "in.txt", "--output", "model.bin"],
        ),
        (
            "sub/../model.bin",
            ["--input", "in.txt", "--output", "model.bin"],
        ),
        ("link", ["--input", "in.txt", "--output", "model.bin"]),
        ("in.txt", ["--input", "in.txt", "--output", "model.bin"]),
        // An output that does not exist yet is compared by its directory.
        (
            "sub/new.bin",
            ["--input", "in.txt", "--output", "./sub/new.bin"],
        ),
    ] {
        let o = baretpm(&sw, d, &run_args(proof, &extra, &train));
        refused_before_extending(&sw, &o, "are the same file");
        assert!(
            stderr(&o).contains("the proof would replace it"),
            "{}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(&format!("--proof {proof}")),
            "{}",
            stderr(&o)
        );
    }
    assert!(!d.join("ran").exists());
    assert_eq!(fs::read(d.join("model.bin")).unwrap(), b"trained weights");
    assert_eq!(fs::read(d.join("in.txt")).unwrap(), b"input");
    assert!(!d.join("sub/new.bin").exists());
}

#[test]
fn item14_a_failed_command_after_extending_says_what_was_extended_and_what_to_do() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.txt"), "input").unwrap();
    let o = baretpm(
        &sw,
        d,
        &run_args("p.json", &["--input", "in.txt"], &["false"]),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let mut tpm = open(&sw);
    let banks = flow::active_banks(&mut tpm).unwrap();
    let names: Vec<&str> = banks.iter().map(|b| b.name()).collect();
    assert!(err.contains("the command false failed"), "{err}");
    assert!(
        err.contains(&format!(
            "PCR14 (2 events) already extended in the {} bank(s)",
            names.join(", ")
        )),
        "{err}"
    );
    assert!(
        err.contains("a new run records them as its start value"),
        "{err}"
    );
    // A failed command is not finished by hand: no measure/attest advice.
    assert!(!err.contains("baretpm attest"), "{err}");
    // The partial log is kept and replays to what the TPM holds now.
    let log = EventLog::read(&d.join("p.json.pcr14.json")).unwrap();
    assert_eq!(log.events.len(), 2);
    flow::check_pcr_state(&mut tpm, 14, &banks, &log.events).unwrap();
    assert!(err.contains("p.json.pcr14.json"), "{err}");
    assert!(!d.join("p.json").exists());
    drop(tpm);
    // A second run in this boot (issue 12) records where PCR14 stands (the failed run's
    // events; no runtime log here, so nothing explains them) and makes a proof that verifies,
    // with the start reported as a warning.
    let o = baretpm(
        &sw,
        d,
        &run_args("p.json", &["--input", "in.txt"], &["true"]),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("PCR14 starts at") && stderr(&o).contains("not explained"),
        "{}",
        stderr(&o)
    );
    let v = baretpm(&sw, d, &["verify", "p.json", "--input", "in.txt"]);
    let out = String::from_utf8_lossy(&v.stdout).into_owned();
    assert!(v.status.success(), "{out}");
    assert!(out.contains("WARNING: not explained"), "{out}");
}

#[test]
fn item14_a_missing_output_after_extending_leaves_a_way_to_finish() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.txt"), "input").unwrap();
    // The command succeeds but writes its output somewhere else.
    let o = baretpm(
        &sw,
        d,
        &run_args(
            "p.json",
            &["--input", "in.txt", "--output", "model.bin"],
            &["sh", "-c", "echo w > model.bim"],
        ),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("model.bin"), "{err}");
    assert!(err.contains("PCR14 (2 events) already extended"), "{err}");
    assert!(err.contains("reboot"), "{err}");
    assert!(
        err.contains("baretpm measure --pcr 15 --log p.json.pcr15.json"),
        "{err}"
    );
    // Following the advice makes a proof that verifies.
    fs::rename(d.join("model.bim"), d.join("model.bin")).unwrap();
    let ok = |o: Output| assert!(o.status.success(), "{}", stderr(&o));
    ok(baretpm(
        &sw,
        d,
        &[
            "measure",
            "--pcr",
            "15",
            "--log",
            "p.json.pcr15.json",
            "model.bin",
        ],
    ));
    ok(baretpm(
        &sw,
        d,
        &[
            "attest",
            "--log",
            "p.json.pcr14.json",
            "--log",
            "p.json.pcr15.json",
            "--proof",
            "p.json",
        ],
    ));
    let o = baretpm(
        &sw,
        d,
        &[
            "verify",
            "p.json",
            "--input",
            "in.txt",
            "--output",
            "model.bin",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let mut tpm = open(&sw);
    let banks = flow::active_banks(&mut tpm).unwrap();
    let log15 = EventLog::read(&d.join("p.json.pcr15.json")).unwrap();
    flow::check_pcr_state(&mut tpm, OUTPUT_PCR, &banks, &log15.events).unwrap();
}

#[test]
fn item15_demo_keep_refuses_a_non_empty_directory() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("keep")).unwrap();
    fs::write(d.join("keep/train.sh"), "my own script").unwrap();
    let o = baretpm(&sw, d, &["demo", "--keep", "keep"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    assert_eq!(listing(&d.join("keep")), ["train.sh"]);
    assert_eq!(fs::read(d.join("keep/train.sh")).unwrap(), b"my own script");
    refused_before_extending(&sw, &o, "--keep keep");
}

#[test]
fn item15_demo_keep_takes_a_relative_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("empty")).unwrap();
    for keep in ["new/kept", "empty"] {
        // A fresh TPM each time: the demo's run needs PCR14/15 at zero.
        let sw = swtpm();
        let o = baretpm(&sw, d, &["demo", "--keep", keep]);
        assert!(o.status.success(), "{}", stderr(&o));
        for f in [
            "ak.pub",
            "proof.json",
            "model.txt",
            "train.sh",
            "data/jan.csv",
        ] {
            assert!(d.join(keep).join(f).is_file(), "{keep}/{f} missing");
        }
    }
}

#[test]
fn item16_a_command_line_too_long_names_the_command_line_and_the_limit() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long = "x".repeat(5000);
    let o = baretpm(&sw, d, &run_args("p.json", &[], &["echo", &long]));
    refused_before_extending(&sw, &o, "the command line is 5020 bytes as recorded");
    assert!(
        stderr(&o).contains(&format!("more than the {MAX_NAME_LEN} bytes")),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("event name is"), "{}", stderr(&o));
    // Exactly at the limit: accepted (`command: ["echo","` is 18 bytes, `"]` 2).
    let fits = "x".repeat(MAX_NAME_LEN - 20);
    let o = baretpm(&sw, d, &run_args("p.json", &[], &["echo", &fits]));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn item16_proof_format_states_the_command_line_limit_of_the_code() {
    let doc =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/proof-format.md")).unwrap();
    let row = doc
        .lines()
        .find(|l| l.starts_with("| `command` | present for `run`"))
        .expect("the command row of the proof fields table");
    let limit = format!("at most {MAX_NAME_LEN} bytes");
    assert!(row.contains(&limit), "{row}");
    assert!(row.contains("`command: `"), "{row}");
    assert!(!row.contains("64 KiB"), "{row}");
    assert!(
        doc.contains(&format!(
            "the command line so recorded is at most {MAX_NAME_LEN}\nbytes"
        )),
        "section 1 does not state the limit"
    );
}

/// One PCR-list grammar (issue 9): an empty `--pcrs` is refused with exit 2 by every verb that
/// takes one, naming the option, before anything is extended or written; `none` is how to
/// quote no PCR besides 14 and 15. The tpm2-tools verbs refuse an empty selection too.
#[test]
fn an_empty_pcr_list_is_refused_everywhere() {
    let sw = swtpm();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.txt"), "input").unwrap();
    let io = ["--input", "in.txt", "--output", "out.txt"];
    let empty = |o: &Output| {
        assert!(
            stderr(o).contains("--pcrs \"\": empty PCR list"),
            "{}",
            stderr(o)
        );
    };

    let o = baretpm(
        &sw,
        d,
        &run_args("p.json", &[&io[..], &["--pcrs", ""]].concat(), &COPY),
    );
    refused_before_extending(&sw, &o, "--pcrs");
    empty(&o);
    assert!(!d.join("ran").exists() && !d.join("p.json").exists());

    EventLog::new(OUTPUT_PCR)
        .write(&d.join("l15.json"))
        .unwrap();
    let attest = [
        "attest", "--log", "l15.json", "--proof", "a.json", "--pcrs", "",
    ];
    let o = baretpm(&sw, d, &attest);
    refused_before_extending(&sw, &o, "--pcrs");
    empty(&o);
    assert!(!d.join("a.json").exists());

    // A proof quoting no PCR but 14 and 15, then a reference asked for an empty list.
    let o = baretpm(
        &sw,
        d,
        &run_args("p.json", &[&io[..], &["--pcrs", "none"]].concat(), &COPY),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = baretpm(&sw, d, &["reference", "--from", "p.json", "--pcrs", ""]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    empty(&o);

    let o = baretpm(&sw, d, &["pcrread", ""]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("empty selection"), "{}", stderr(&o));
    let quote = [
        "quote", "-l", "", "-q", "00", "-m", "m", "-s", "s", "-o", "o",
    ];
    let o = baretpm(&sw, d, &quote);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("empty selection"), "{}", stderr(&o));
}
