//! PCR14/15 that are not zero, and many runs per boot (issue 12): on a swtpm whose PCR14 was
//! extended at "boot" (shim's MokList, in the firmware log), `run` twice, each proof verified;
//! the second run's start is explained by the first run's events (the runtime log), a third's
//! also by an event another baretpm process appended between runs; a file
//! only the first run read fails the second proof's `input` row; an extend by another process
//! between runs makes the next start "not explained" (a warning, or a failure with
//! `--require-explained-start`); two concurrent runs on one TPM are serialized and both verify.
#![cfg(feature = "std")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use baretpm::commands::PcrExtend;
use baretpm::proof::file::Proof;
use baretpm::proof::flow;
use baretpm::proof::JsonFile;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::Timeouts;
use baretpm::types::{HashAlg, TpmlDigestValues, TpmtHa};
use common::firmware::{boot, synthetic_log_with, SyntheticLog, EV_IPL};
use common::swtpm::SwtpmInstance;

fn open(sw: &SwtpmInstance) -> Tpm<AnyTransport> {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    Tpm::new(tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap())
}

struct Machine {
    sw: SwtpmInstance,
    dir: tempfile::TempDir,
    log: SyntheticLog,
}

impl Machine {
    /// A swtpm "booted" with a firmware log whose last event is shim's MokList into PCR14.
    fn boot() -> Machine {
        let sw = SwtpmInstance::start().unwrap();
        let mut tpm = open(&sw);
        let banks = flow::active_banks(&mut tpm).unwrap();
        let log = synthetic_log_with(
            &banks,
            "root=/dev/vda",
            b"POST",
            &[(14, EV_IPL, b"MokList\0")],
        );
        boot(&mut tpm, &log);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bios.bin"), &log.bytes).unwrap();
        Machine { sw, dir, log }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cli(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_baretpm"));
        c.arg("-T")
            .arg(self.sw.tcti_string())
            .args(args)
            .env_remove("TPM2TOOLS_TCTI")
            .env(
                baretpm::proof::runtime::RUNTIME_LOG_ENV,
                self.path("runtime/log.jsonl"),
            );
        c
    }

    /// `run --input IN --output OUT --boot-log bios.bin -- sh -c SCRIPT`.
    fn run(&self, input: &str, output: &str, proof: &str, script: &str) -> Command {
        let (i, o, p, b) = (
            self.path(input),
            self.path(output),
            self.path(proof),
            self.path("bios.bin"),
        );
        let mut c = self.cli(&[]);
        c.arg("run")
            .arg("--input")
            .arg(&i)
            .arg("--output")
            .arg(&o)
            .arg("--proof")
            .arg(&p)
            .arg("--boot-log")
            .arg(&b)
            .args(["--", "sh", "-c", script]);
        c
    }

    fn verify(&self, proof: &str, extra: &[&str]) -> Output {
        let mut c = self.cli(&["verify"]);
        c.arg(self.path(proof)).args(extra);
        c.output().unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn row<'t>(t: &'t str, name: &str) -> &'t str {
    t.lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} row:\n{t}"))
}

/// A row's status and detail: `row_is(t, "pcr14-start", "pass", "zero")`.
fn row_is(t: &str, name: &str, status: &str, needle: &str) -> bool {
    let l = row(t, name);
    let rest = l[name.len()..].trim_start();
    rest.starts_with(status) && rest[status.len()..].contains(needle)
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

#[test]
fn two_runs_in_one_boot_after_shim_both_verify_and_a_foreign_extend_is_reported() {
    let m = Machine::boot();
    std::fs::write(m.path("a.txt"), b"first input").unwrap();
    std::fs::write(m.path("b.txt"), b"second input").unwrap();

    // Run 1: PCR14 starts at shim's MokList (the firmware log explains it), PCR15 at zero.
    ok(
        m.run("a.txt", "out1.txt", "p1.json", "echo one > \"$0\"; true")
            .arg(m.path("out1.txt"))
            .output()
            .unwrap(),
    );
    let t = text(&ok(m.verify("p1.json", &[])));
    assert!(
        row_is(
            &t,
            "pcr14-start",
            "pass",
            "explained by the firmware event log"
        ),
        "{t}"
    );
    assert!(row_is(&t, "pcr15-start", "pass", "zero"), "{t}");
    assert!(
        row_is(&t, "pcr14-log", "pass", "from the recorded start"),
        "{t}"
    );
    assert!(row_is(&t, "boot-log", "pass", ""), "{t}");
    assert!(t.contains("the log extends PCR 14 before the run"), "{t}");

    // Run 2 in the same boot: both starts explained by run 1's events (the runtime log).
    ok(
        m.run("b.txt", "out2.txt", "p2.json", "echo two > \"$0\"; true")
            .arg(m.path("out2.txt"))
            .output()
            .unwrap(),
    );
    let p2 = Proof::read(&m.path("p2.json")).unwrap();
    let s14 = p2.starts.iter().find(|s| s.pcr == 14).unwrap();
    assert_eq!(s14.earlier.len(), 2, "run 1's input and command events");
    let b = m.path("b.txt").display().to_string();
    let a = m.path("a.txt").display().to_string();
    let t = text(&ok(
        m.verify("p2.json", &["--input", &b, "--require-explained-start"])
    ));
    assert!(
        row_is(
            &t,
            "pcr14-start",
            "pass",
            "explained by 2 event(s) of earlier baretpm runs"
        ) && row(&t, "pcr14-start").contains("after the firmware log"),
        "{t}"
    );
    assert!(
        row_is(&t, "pcr15-start", "pass", "explained by 2 event(s)"),
        "{t}"
    );
    // The first run's input is in proof 2 only as an earlier event: it does not count.
    let o = m.verify("p2.json", &["--input", &a]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(row(&text(&o), "input").contains("FAIL"), "{}", text(&o));
    // Proof 1 still verifies (its own start and events).
    ok(m.verify("p1.json", &["--input", &a, "--require-explained-start"]));

    // Another baretpm process appends an event between runs (a pipeline's `measure`): the
    // next run's start is explained by it and by both runs before.
    ok(m.cli(&["measure", "--pcr", "14", "--log"])
        .arg(m.path("other.json"))
        .args(["--text", "another process"])
        .output()
        .unwrap());
    ok(
        m.run("b.txt", "out5.txt", "p5.json", "echo five > \"$0\"; true")
            .arg(m.path("out5.txt"))
            .output()
            .unwrap(),
    );
    let p5 = Proof::read(&m.path("p5.json")).unwrap();
    let s14 = p5.starts.iter().find(|s| s.pcr == 14).unwrap();
    assert_eq!(
        s14.earlier.len(),
        5,
        "two runs' two events each, then measure's"
    );
    assert_eq!(s14.earlier[4].name(), "another process");
    let t = text(&ok(
        m.verify("p5.json", &["--input", &b, "--require-explained-start"])
    ));
    assert!(
        row_is(
            &t,
            "pcr14-start",
            "pass",
            "explained by 5 event(s) of earlier baretpm runs"
        ),
        "{t}"
    );

    // Something other than baretpm extends PCR14 between runs.
    let mut tpm = open(&m.sw);
    let banks = flow::active_banks(&mut tpm).unwrap();
    let digests: Vec<(HashAlg, Vec<u8>)> = banks
        .iter()
        .map(|&b| (b, common::firmware::h(b, b"someone else")))
        .collect();
    let mut values = TpmlDigestValues::default();
    for (b, d) in &digests {
        values
            .digests
            .push(TpmtHa {
                hash: *b,
                digest: d,
            })
            .unwrap();
    }
    tpm.execute(&PcrExtend {
        pcr: 14,
        auth: &[],
        digests: values,
    })
    .unwrap();
    drop(tpm);
    let o = ok(m
        .run("b.txt", "out3.txt", "p3.json", "echo three > \"$0\"; true")
        .arg(m.path("out3.txt"))
        .output()
        .unwrap());
    assert!(text(&o).contains("PCR14 starts at"), "{}", text(&o));
    assert!(text(&o).contains("not explained"), "{}", text(&o));
    // Verified with a warning: the run's own events are still proven from that start.
    let t = text(&ok(m.verify("p3.json", &["--input", &b])));
    assert!(
        row_is(&t, "pcr14-start", "skip", "WARNING: not explained"),
        "{t}"
    );
    assert!(row_is(&t, "pcr14-log", "pass", ""), "{t}");
    assert!(row_is(&t, "input", "pass", ""), "{t}");
    // Unless the verifier requires an explained start.
    let o = m.verify("p3.json", &["--require-explained-start"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        row(&text(&o), "pcr14-start").contains("FAIL"),
        "{}",
        text(&o)
    );

    // A forged start (the proof says PCR14 started elsewhere): the log no longer replays to
    // the quoted value, so pcr14-log fails.
    let mut forged = Proof::read(&m.path("p2.json")).unwrap();
    for s in forged.starts.iter_mut().filter(|s| s.pcr == 14) {
        for (_, v) in s.values.iter_mut() {
            v[0] ^= 1;
        }
    }
    forged.write(&m.path("forged.json")).unwrap();
    let o = m.verify("forged.json", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(row(&text(&o), "pcr14-log").contains("FAIL"), "{}", text(&o));
    // docs/replay.py, the independent replayer, starts from the recorded start too.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/replay.py");
    let py = |p: &str| {
        Command::new("python3")
            .arg(&script)
            .arg(m.path(p))
            .output()
            .unwrap()
    };
    ok(py("p2.json"));
    assert!(!py("forged.json").status.success());
    let _ = &m.log;
}

#[test]
fn concurrent_runs_on_one_tpm_are_serialized_and_both_verify() {
    let m = Machine::boot();
    std::fs::write(m.path("a.txt"), b"a").unwrap();
    std::fs::write(m.path("b.txt"), b"b").unwrap();
    // Each command sleeps, so without the lock their extends would interleave (and the first
    // proof's PCR14 would hold the second run's inputs).
    let mut first = m
        .run("a.txt", "o1", "c1.json", "sleep 1; echo 1 > \"$0\"")
        .arg(m.path("o1"))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut second = m
        .run("b.txt", "o2", "c2.json", "sleep 1; echo 2 > \"$0\"")
        .arg(m.path("o2"))
        .spawn()
        .unwrap();
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    let a = m.path("a.txt").display().to_string();
    let b = m.path("b.txt").display().to_string();
    let t1 = text(&ok(
        m.verify("c1.json", &["--input", &a, "--require-explained-start"])
    ));
    let t2 = text(&ok(
        m.verify("c2.json", &["--input", &b, "--require-explained-start"])
    ));
    // One of them ran first (the lock decides which): the other's start is its events.
    let earlier = [&t1, &t2]
        .iter()
        .filter(|t| row(t, "pcr15-start").contains("earlier baretpm runs"))
        .count();
    assert_eq!(earlier, 1, "{t1}\n{t2}");
}

#[test]
fn measure_and_attest_record_the_start_in_the_log() {
    let m = Machine::boot();
    std::fs::write(m.path("a.txt"), b"a").unwrap();
    let log = m.path("in.json").display().to_string();
    let a = m.path("a.txt").display().to_string();
    ok(m.cli(&["measure", "--pcr", "14", "--log", &log, &a])
        .output()
        .unwrap());
    let l = baretpm::proof::file::EventLog::read(Path::new(&log)).unwrap();
    let s = l.start.expect("a new log records the start");
    assert!(!s.is_zero(), "PCR14 held shim's MokList");
    let text_log = std::fs::read_to_string(&log).unwrap();
    assert!(text_log.contains("\"version\": 2"), "{text_log}");
    let proof = m.path("m.json").display().to_string();
    let bios = m.path("bios.bin").display().to_string();
    ok(m.cli(&[
        "attest",
        "--log",
        &log,
        "--proof",
        &proof,
        "--boot-log",
        &bios,
    ])
    .output()
    .unwrap());
    let t = text(&ok(
        m.verify("m.json", &["--input", &a, "--require-explained-start"])
    ));
    assert!(
        row(&t, "pcr14-start").contains("explained by the firmware event log"),
        "{t}"
    );
}
