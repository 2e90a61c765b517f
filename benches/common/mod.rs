//! Shared by the bench binaries: reading test vectors, and printing ours-against-peer ratios
//! from the estimates criterion has just written.
//!
//! Each bench file pulls this in with `mod common;`; not every file uses every item.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Reads `vectors/<rel>` from the package root; panics with the path if it is missing, since a
/// bench without its input has nothing to measure.
pub fn vector(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Decodes a hex string (the nonces in `vectors/index.json`).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// True when the binary was started by `cargo bench` (criterion measures and writes its
/// estimates); false under `cargo test --benches`, where each bench runs once as a smoke test.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Where criterion keeps its results: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `target/criterion` (cargo runs benches from the package root).
fn criterion_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(h);
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => PathBuf::from(t).join("criterion"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion"),
    }
}

/// Median time per iteration (ns) criterion estimated for `group/id`, if it was written by
/// this process (files older than `since` are from an earlier run and are ignored).
pub fn median_ns(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// A duration in ns, shown with a unit that keeps three significant digits.
pub fn show(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// One line of a summary: ours against a peer in the same group.
pub struct Pair<'a> {
    pub group: &'a str,
    pub ours: &'a str,
    pub peer: &'a str,
}

/// Prints `ours / peer` and `ours - peer` for each pair whose both estimates this run wrote.
pub fn print_ratios(title: &str, pairs: &[Pair<'_>], since: SystemTime) {
    if !measuring() {
        return;
    }
    println!("\n== {title} (medians of this run) ==");
    println!(
        "{:<28} {:<30} {:>12} {:>12} {:>8} {:>12}",
        "group", "ours vs peer", "ours", "peer", "ratio", "ours-peer"
    );
    for p in pairs {
        match (
            median_ns(p.group, p.ours, since),
            median_ns(p.group, p.peer, since),
        ) {
            (Some(a), Some(b)) => println!(
                "{:<28} {:<30} {:>12} {:>12} {:>8.3} {:>12}",
                p.group,
                format!("{} / {}", p.ours, p.peer),
                show(a),
                show(b),
                a / b,
                if a >= b {
                    show(a - b)
                } else {
                    format!("-{}", show(b - a))
                }
            ),
            _ => println!(
                "{:<28} {} / {}: not measured in this run",
                p.group, p.ours, p.peer
            ),
        }
    }
}

/// The name filter given to the bench binary (`cargo bench --bench parse -- attest`), if any.
pub fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}

/// Whether a cross-check for `group` should run: only when measuring, and only for groups the
/// filter (if any) selects.
pub fn wanted(group: &str) -> bool {
    measuring() && filter().map_or(true, |f| group.contains(f.as_str()))
}

/// A contender of an interleaved run: a name and one call of the work being timed.
pub type Contender<'a> = (&'a str, &'a mut dyn FnMut());

/// Runs the contenders in alternating batches (`rounds` rounds, the starting contender
/// rotating each round), then prints per contender the median and the minimum time per call
/// over rounds, and both as ratios to the first contender's.
///
/// Criterion times one function after another, seconds apart; on a machine whose load swings
/// by a factor of three within a minute that can decide a 5% comparison. Interleaving exposes
/// every contender to the same load, and the minimum shows each one's unloaded cost.
pub fn interleaved(group: &str, contenders: &mut [Contender<'_>], batch: u32, rounds: usize) {
    let k = contenders.len();
    let mut samples = vec![Vec::with_capacity(rounds); k];
    for round in 0..rounds {
        for j in 0..k {
            let i = (round + j) % k;
            let f = &mut contenders[i].1;
            let start = std::time::Instant::now();
            for _ in 0..batch {
                f();
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / f64::from(batch));
        }
    }
    let stats: Vec<(f64, f64)> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(|a, b| a.total_cmp(b));
            (s[s.len() / 2], s[0])
        })
        .collect();
    println!("{group} (interleaved, {rounds} rounds of {batch}):");
    for (i, (name, _)) in contenders.iter().enumerate() {
        let (med, min) = stats[i];
        println!(
            "  {:<28} median {:>11}  min {:>11}  first/this: median {:>6.3}  min {:>6.3}",
            name,
            show(med),
            show(min),
            stats[0].0 / med,
            stats[0].1 / min,
        );
    }
}

/// Runs a process to completion with no standard input, its output kept (not shown).
pub fn run_quiet(cmd: &mut std::process::Command) -> std::process::Output {
    cmd.stdin(std::process::Stdio::null())
        .output()
        .expect("spawn")
}

/// Runs the tpm2-tools program `tool` against `tcti`; panics with its stderr on failure.
pub fn tools(tcti: &str, tool: &str, args: &[&str]) {
    let o = run_quiet(
        std::process::Command::new(tool)
            .args(args)
            .env("TPM2TOOLS_TCTI", tcti),
    );
    assert!(
        o.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
