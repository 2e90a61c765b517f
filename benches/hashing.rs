//! Hashing throughput of the provenance layer, side by side with the tools people use.
//!
//! - One large file (1 GiB by default; `BARETPM_BENCH_FILE_MIB` changes it), from the page
//!   cache: `baretpm::proof::hash::hash_file` with 2 threads (read-ahead) and with 1, against
//!   `openssl dgst -sha256` and coreutils `sha256sum` run on the same file in the same run.
//!   Peer figures (FACTS.md): openssl ~1.7 GB/s, sha256sum ~0.54 GB/s.
//! - A directory of 10,000 small files (1 to 8 KiB): `hash::measure` with 1 and 2 threads.
//!   Target: 2 threads at least 1.6x faster than 1.
//!
//! First an interleaved side-by-side run (best of several rounds, the runs of each round one
//! after the other, so that load from other processes hits all of them alike) prints a summary
//! with ratios; then criterion measures the same things. `BARETPM_BENCH_SUMMARY_ONLY=1` skips
//! criterion.

use std::fs;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use baretpm::proof::hash::{self, HashOptions, Target};
use criterion::{BenchmarkId, Criterion, Throughput};

const SMALL_FILES: usize = 10_000;

fn file_mib() -> u64 {
    std::env::var("BARETPM_BENCH_FILE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// A file of `mib` MiB of pseudo-random bytes (xorshift), then read once so it is cached.
fn make_large_file(dir: &Path, mib: u64) -> PathBuf {
    let path = dir.join("large.bin");
    let mut f = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&path).unwrap());
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let _ = Command::new("cat")
        .arg(&path)
        .stdout(Stdio::null())
        .status();
    path
}

/// 10,000 files of 1 to 8 KiB in 100 subdirectories.
fn make_small_files(dir: &Path) -> PathBuf {
    let root = dir.join("small");
    let mut x = 0x1234_5678u64;
    for i in 0..SMALL_FILES {
        let sub = root.join(format!("d{:03}", i % 100));
        if i < 100 {
            fs::create_dir_all(&sub).unwrap();
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let size = 1024 + (x % 7168) as usize;
        let data: Vec<u8> = (0..size).map(|k| (k as u64 ^ x) as u8).collect();
        fs::write(sub.join(format!("f{i:05}.dat")), data).unwrap();
    }
    root
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn tool(cmd: &str, args: &[&str], file: &Path) {
    let out = Command::new(cmd).args(args).arg(file).output().unwrap();
    assert!(out.status.success(), "{cmd} failed");
    black_box(out.stdout);
}

fn threads(n: usize) -> HashOptions {
    HashOptions {
        threads: n,
        ..HashOptions::default()
    }
}

/// CPU time (user + system) of this process and its waited-for children, in clock ticks
/// (1/100 s on Linux), from /proc/self/stat.
fn cpu_ticks() -> u64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime, cstime are fields 14-17 of the line, 12-15 after the name.
    f.get(11..15).map_or(0, |v| v.iter().sum())
}

fn time(f: &mut dyn FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

type Case<'a> = (&'a str, Box<dyn FnMut() + 'a>);

/// Runs every case once per round, `rounds` times; returns the best wall time of each and
/// its mean CPU time per run (all threads and child processes).
fn side_by_side(rounds: usize, cases: &mut [Case<'_>]) -> Vec<(Duration, Duration)> {
    let mut best = vec![Duration::MAX; cases.len()];
    let mut cpu = vec![0u64; cases.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in cases.iter_mut().enumerate() {
            let c = cpu_ticks();
            best[i] = best[i].min(time(f.as_mut()));
            cpu[i] += cpu_ticks() - c;
        }
    }
    best.into_iter()
        .zip(cpu)
        .map(|(b, c)| (b, Duration::from_millis(c * 10 / rounds as u64)))
        .collect()
}

fn summary(large: &Path, mib: u64, small: &Path) {
    let bytes = mib << 20;
    let gbs = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e9;
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "== side by side (best of rounds); load average at start: {}",
        load.trim()
    );

    let mut cases: Vec<Case<'_>> = vec![
        (
            "baretpm hash_file, 2 threads (read-ahead)",
            Box::new(|| {
                black_box(hash::hash_file(large, &threads(2)).unwrap());
            }),
        ),
        (
            "baretpm hash_file, 1 thread",
            Box::new(|| {
                black_box(hash::hash_file(large, &threads(1)).unwrap());
            }),
        ),
    ];
    if have("openssl") {
        cases.push((
            "openssl dgst -sha256",
            Box::new(|| tool("openssl", &["dgst", "-sha256"], large)),
        ));
    }
    if have("sha256sum") {
        cases.push(("sha256sum", Box::new(|| tool("sha256sum", &[], large))));
    }
    let best = side_by_side(5, &mut cases);
    println!("{mib} MiB file from the page cache (best wall time; mean CPU time per run):");
    for ((name, _), (d, cpu)) in cases.iter().zip(&best) {
        println!(
            "  {name:<44} {:>7.3} s  {:>5.2} GB/s  ({:.2}x openssl)  cpu {:.2} s",
            d.as_secs_f64(),
            gbs(*d),
            best.get(2)
                .map_or(0.0, |o| o.0.as_secs_f64() / d.as_secs_f64()),
            cpu.as_secs_f64()
        );
    }

    let target = [Target::Path(small.to_path_buf())];
    let mut cases: Vec<Case<'_>> = vec![
        (
            "baretpm measure dir, 1 thread",
            Box::new(|| {
                black_box(hash::measure(&target, &threads(1), &mut |_| {}).unwrap());
            }),
        ),
        (
            "baretpm measure dir, 2 threads",
            Box::new(|| {
                black_box(hash::measure(&target, &threads(2), &mut |_| {}).unwrap());
            }),
        ),
    ];
    let best = side_by_side(9, &mut cases);
    println!("directory of {SMALL_FILES} files (1-8 KiB), from the page cache:");
    for ((name, _), (d, cpu)) in cases.iter().zip(&best) {
        println!(
            "  {name:<44} {:>7.1} ms  ({:.0} files/s)  cpu {:.0} ms",
            d.as_secs_f64() * 1e3,
            SMALL_FILES as f64 / d.as_secs_f64(),
            cpu.as_secs_f64() * 1e3
        );
    }
    println!(
        "  speedup 2 threads / 1 thread: {:.2}x",
        best[0].0.as_secs_f64() / best[1].0.as_secs_f64()
    );
}

fn main() {
    // BARETPM_BENCH_WORKDIR=DIR keeps the generated files in DIR and reuses them next time.
    let kept = std::env::var_os("BARETPM_BENCH_WORKDIR").map(PathBuf::from);
    let temp = tempfile::Builder::new()
        .prefix("baretpm-bench-")
        .tempdir()
        .unwrap();
    let dir = kept.as_deref().unwrap_or(temp.path());
    fs::create_dir_all(dir).unwrap();
    let mib = file_mib();
    let large = match dir.join("large.bin") {
        p if p.metadata().is_ok_and(|m| m.len() == mib << 20) => p,
        _ => make_large_file(dir, mib),
    };
    let small = match dir.join("small") {
        p if p.is_dir() => p,
        _ => make_small_files(dir),
    };
    // Warm the small files' pages and metadata.
    hash::measure(&[Target::Path(small.clone())], &threads(2), &mut |_| {}).unwrap();

    if let Some(n) = std::env::var("BARETPM_BENCH_DIR_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        // For profilers: hash the small-file directory 20 times with n threads.
        for _ in 0..20 {
            let t = Instant::now();
            hash::measure(&[Target::Path(small.clone())], &threads(n), &mut |_| {}).unwrap();
            println!("{n} thread(s): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        }
        return;
    }
    summary(&large, mib, &small);
    if std::env::var_os("BARETPM_BENCH_SUMMARY_ONLY").is_some() {
        return;
    }

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    {
        let mut g = c.benchmark_group(format!("large-file-{mib}MiB"));
        g.throughput(Throughput::Bytes(mib << 20));
        for n in [1, 2] {
            g.bench_with_input(BenchmarkId::new("baretpm", n), &n, |b, &n| {
                b.iter(|| hash::hash_file(&large, &threads(n)).unwrap())
            });
        }
        if have("openssl") {
            g.bench_function("openssl-dgst-sha256", |b| {
                b.iter(|| tool("openssl", &["dgst", "-sha256"], &large))
            });
        }
        if have("sha256sum") {
            g.bench_function("sha256sum", |b| b.iter(|| tool("sha256sum", &[], &large)));
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("dir-10000-small-files");
        g.throughput(Throughput::Elements(SMALL_FILES as u64));
        let target = [Target::Path(small.clone())];
        for n in [1, 2] {
            g.bench_with_input(BenchmarkId::new("baretpm-threads", n), &n, |b, &n| {
                b.iter(|| hash::measure(&target, &threads(n), &mut |_| {}).unwrap())
            });
        }
        g.finish();
    }
    c.final_summary();
}
