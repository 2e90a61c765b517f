//! TCG event logs: parse + replay in the library, and `baretpm eventlog --json` against
//! `tpm2_eventlog` (tpm2-tools 5.4) as processes.
//!
//! - `eventlog_library/<log>/parse`: `EventLog::parse` + `validate` (every event walked).
//! - `eventlog_library/<log>/parse_replay`: parse, then `replay` into a `ReplayedPcrs`
//!   (every bank hashed; the work a verifier does before comparing with a quote).
//! - `eventlog_library/<log>/full`: parse, replay, `check_structure`, `SecureBootSummary`,
//!   and `classify` of every event (what the CLI computes before printing).
//! - `eventlog_process/<log>/baretpm_json` and `/tpm2_eventlog`: one process per iteration,
//!   output discarded. Read against each other (ratio), and against FACTS.md's ~4.8 ms per
//!   tpm2-tools call.
//!
//! Logs: `option_rom_eventlog` (72.8 KB, the largest in vectors/eventlogs/, SHA-1, 61
//! events; tpm2_eventlog 5.4 crashes on it) and `ubuntu-2104-no-dbx.bin` (33.8 KB,
//! crypto-agile SHA-1/256/384, 111 events; both tools parse it).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use baretpm::eventlog::{
    check_structure, classify, replay, EventLog, ReplayedPcrs, SecureBootSummary,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/eventlogs")
        .join(rel)
}

const LOGS: [(&str, &str); 2] = [
    ("option_rom", "go-attestation/option_rom_eventlog"),
    ("ubuntu_2104", "go-tpm-tools/ubuntu-2104-no-dbx.bin"),
];

fn library(c: &mut Criterion) {
    let mut g = c.benchmark_group("eventlog_library");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    for (name, rel) in LOGS {
        let bytes = std::fs::read(path(rel)).unwrap();
        g.bench_function(format!("{name}/parse"), |b| {
            b.iter(|| {
                let log = EventLog::parse(black_box(&bytes)).unwrap();
                black_box(log.validate().unwrap())
            })
        });
        let mut out = ReplayedPcrs::default();
        g.bench_function(format!("{name}/parse_replay"), |b| {
            b.iter(|| {
                let log = EventLog::parse(black_box(&bytes)).unwrap();
                replay(&log, &mut out).unwrap();
                black_box(&out);
            })
        });
        g.bench_function(format!("{name}/full"), |b| {
            b.iter(|| {
                let log = EventLog::parse(black_box(&bytes)).unwrap();
                replay(&log, &mut out).unwrap();
                check_structure(&log).unwrap();
                black_box(SecureBootSummary::from_log(&log).unwrap());
                for e in log.events() {
                    black_box(classify(&e.unwrap()));
                }
            })
        });
    }
    g.finish();
}

fn run(cmd: &mut Command) {
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
}

fn processes(c: &mut Criterion) {
    let mut g = c.benchmark_group("eventlog_process");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    let (name, rel) = LOGS[1];
    let p = path(rel);
    let ours = env!("CARGO_BIN_EXE_baretpm");
    g.bench_function(format!("{name}/baretpm_json"), |b| {
        b.iter(|| run(Command::new(ours).args(["eventlog", "--json"]).arg(&p)))
    });
    if Command::new("tpm2_eventlog")
        .arg(&p)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        g.bench_function(format!("{name}/tpm2_eventlog"), |b| {
            b.iter(|| run(Command::new("tpm2_eventlog").arg(&p)))
        });
    } else {
        eprintln!("eventlog_process: tpm2_eventlog not installed, peer skipped");
    }
    g.finish();
}

criterion_group!(benches, library, processes);
criterion_main!(benches);
