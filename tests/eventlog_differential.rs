//! Differential test: `tpm2_eventlog` (tpm2-tools 5.4, this machine's) against
//! `baretpm eventlog --json` on every log in vectors/eventlogs/.
//!
//! Every PCR value the two disagree on must be explained by one of tpm2_eventlog 5.4's known
//! faults, and where the machine's real PCR value is known (`*.pcrs.json`) baretpm must hold it:
//! - it extends EV_NO_ACTION events (tpm2-tools bug 3224, fixed in 5.6): every PCR with an
//!   EV_NO_ACTION event after the header (SP800-155 events, StartupLocality on PCR 0);
//! - it ignores StartupLocality and H-CRTM, so PCR 0 starts at zero (fixed in 5.6);
//! - it crashes (SIGSEGV) on an EV_NO_ACTION at PCR 0xFFFFFFFF in a SHA-1 log and on
//!   keylime's 34-byte bogus log (fixed in 5.8, 41f44ad7).
//!
//! When `tpm2_eventlog` cannot be run, each test says so on stderr and returns; `.ci/run`
//! installs tpm2-tools.

#![cfg(feature = "std")]

mod common;

use baretpm::eventlog::{EventLog, TcgEventType};
use common::eventlogs::{all_logs, dir};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// `{bank: {pcr: lower-case hex}}`.
type Pcrs = BTreeMap<String, BTreeMap<u32, String>>;

enum ToolRun {
    Pcrs(Pcrs),
    /// Exit status or signal; stderr's first line.
    Failed(String),
}

fn tpm2_eventlog(path: &Path) -> Option<ToolRun> {
    let out = match Command::new("tpm2_eventlog").arg(path).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run tpm2_eventlog: {e}"),
    };
    if !out.status.success() {
        let first = String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        return Some(ToolRun::Failed(format!("{} {first}", out.status)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut pcrs = Pcrs::new();
    let mut in_pcrs = false;
    let mut bank = String::new();
    for line in text.lines() {
        if line == "pcrs:" {
            in_pcrs = true;
            continue;
        }
        if !in_pcrs {
            continue;
        }
        let t = line.trim();
        if let Some(b) = t.strip_suffix(':') {
            bank = b.to_string();
            continue;
        }
        if let Some((i, v)) = t.split_once(':') {
            let v = v.trim().trim_start_matches("0x").to_lowercase();
            pcrs.entry(bank.clone())
                .or_default()
                .insert(i.trim().parse().unwrap(), v);
        }
    }
    Some(ToolRun::Pcrs(pcrs))
}

fn ours(path: &Path) -> Result<Pcrs, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .args(["eventlog", "--json"])
        .arg(path)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut pcrs = Pcrs::new();
    // Banks this build cannot hash (SM3_256) are marked, not compared.
    for b in v["banks_not_computed"].as_array().unwrap() {
        pcrs.insert(
            format!("not-computed:{}", b.as_str().unwrap()),
            BTreeMap::new(),
        );
    }
    for (bank, m) in v["pcrs"].as_object().unwrap() {
        for (i, hex) in m.as_object().unwrap() {
            pcrs.entry(bank.clone())
                .or_default()
                .insert(i.parse().unwrap(), hex.as_str().unwrap().to_string());
        }
    }
    Ok(pcrs)
}

fn truth(rel: &str) -> Pcrs {
    let Ok(text) = std::fs::read_to_string(dir().join(format!("{rel}.pcrs.json"))) else {
        return Pcrs::new();
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut pcrs = Pcrs::new();
    for (bank, m) in v.as_object().unwrap() {
        for (i, hex) in m.as_object().unwrap() {
            pcrs.entry(bank.to_lowercase())
                .or_default()
                .insert(i.parse().unwrap(), hex.as_str().unwrap().to_lowercase());
        }
    }
    pcrs
}

/// The log's features tpm2_eventlog 5.4 gets wrong: PCRs with an EV_NO_ACTION after the
/// header, and whether PCR 0 starts from StartupLocality / H-CRTM.
fn features(bytes: &[u8]) -> (BTreeSet<u32>, bool) {
    let log = EventLog::parse(bytes).unwrap();
    let mut no_action = BTreeSet::new();
    let mut pcr0_start = false;
    for e in log.events() {
        let e = e.unwrap();
        if e.index > 0 && e.event_type == TcgEventType::EV_NO_ACTION {
            no_action.insert(e.pcr_index);
            pcr0_start |= e.event.starts_with(b"StartupLocality\0");
        }
        pcr0_start |= e.event_type == TcgEventType::EV_EFI_HCRTM_EVENT;
    }
    (no_action, pcr0_start)
}

#[test]
fn tpm2_eventlog_differs_only_where_it_is_known_wrong() {
    let mut agree = 0usize;
    let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut crashed = BTreeSet::new();
    for rel in all_logs() {
        let path = dir().join(&rel);
        let Some(tool) = tpm2_eventlog(&path) else {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED tpm2_eventlog differential: tpm2_eventlog (tpm2-tools) is not \
                 installed; `apt-get install tpm2-tools` (.ci/run does)"
            );
            return;
        };
        let mine = ours(&path);
        let tool = match tool {
            ToolRun::Failed(why) => {
                if why.contains("SIGSEGV") {
                    crashed.insert(rel.clone());
                }
                let note = match &mine {
                    Ok(_) => format!("tpm2_eventlog refuses a log baretpm parses: {why}"),
                    Err(_) => format!("both refuse it (tpm2_eventlog: {why})"),
                };
                named.entry(rel).or_default().push(note);
                continue;
            }
            ToolRun::Pcrs(p) => p,
        };
        let mine = match mine {
            Ok(m) => m,
            Err(e) => {
                // We refuse it; tpm2_eventlog accepted it: only the strict-parse negative.
                assert_eq!(rel, "tpm2-tools/specid-vendordata.bin", "{rel}: {e}");
                named
                    .entry(rel)
                    .or_default()
                    .push("tpm2_eventlog reads vendorInfo past the Spec ID event".into());
                continue;
            }
        };
        let bytes = std::fs::read(&path).unwrap();
        let (no_action, pcr0_start) = features(&bytes);
        let truth = truth(&rel);
        let banks: BTreeSet<&String> = mine.keys().chain(tool.keys()).collect();
        for bank in banks {
            if bank.starts_with("not-computed:")
                || mine.contains_key(&format!("not-computed:{bank}"))
            {
                continue;
            }
            let empty = BTreeMap::new();
            let m = mine.get(bank).unwrap_or(&empty);
            let t = tool.get(bank).unwrap_or(&empty);
            let pcrs: BTreeSet<u32> = m.keys().chain(t.keys()).copied().collect();
            for pcr in pcrs {
                if m.get(&pcr) == t.get(&pcr) {
                    agree += 1;
                    continue;
                }
                let why = if pcr == 0 && pcr0_start {
                    "ignores StartupLocality/H-CRTM (PCR 0 start)"
                } else if no_action.contains(&pcr) {
                    "extends EV_NO_ACTION"
                } else {
                    panic!(
                        "{rel}: {bank} PCR {pcr}: unexplained difference, baretpm {:?}, \
                         tpm2_eventlog {:?}",
                        m.get(&pcr),
                        t.get(&pcr)
                    );
                };
                if let Some(real) = truth.get(bank).and_then(|b| b.get(&pcr)) {
                    assert_eq!(m.get(&pcr), Some(real), "{rel}: {bank} PCR {pcr}");
                    assert_ne!(t.get(&pcr), Some(real));
                }
                named
                    .entry(rel.clone())
                    .or_default()
                    .push(format!("{bank} PCR {pcr}: {why}"));
            }
        }
    }
    let report: Vec<String> = named
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.join("; ")))
        .collect();
    // The cases the research names, each seen.
    let has = |log: &str, what: &str| {
        named
            .get(log)
            .is_some_and(|v| v.iter().any(|s| s.contains(what)))
    };
    assert!(
        has(
            "go-tpm-tools/glinux-alex.bin",
            "sha1 PCR 0: ignores StartupLocality"
        ),
        "{report:#?}"
    );
    assert!(
        has(
            "tpm2-tss/binary_measurements_hcrtm.bin",
            "sha1 PCR 0: ignores"
        ),
        "{report:#?}"
    );
    assert!(
        has("go-tpm-tools/eventlogwithsp800155.bin", "sha256 PCR 0"),
        "{report:#?}"
    );
    assert!(
        crashed.contains("go-attestation/option_rom_eventlog"),
        "{report:#?}"
    );
    assert!(
        crashed.contains("keylime/binary_bios_measurements-bogus"),
        "{report:#?}"
    );
    // go-attestation's 49-byte SHA-1 log whose only event is a short EV_NO_ACTION.
    assert!(
        has(
            "go-attestation/short_no_action_eventlog",
            "refuses a log baretpm parses"
        ),
        "{report:#?}"
    );
    assert!(
        has("keylime/binary_bios_measurements-empty", "both refuse"),
        "{report:#?}"
    );
    assert!(agree > 300, "only {agree} PCR values agreed");
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "tpm2_eventlog 5.4 vs baretpm: {agree} PCR values agree; known faults:\n  {}",
        report.join("\n  ")
    );
}
