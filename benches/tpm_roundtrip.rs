//! Commands against a private swtpm (over loopback TCP), beside a raw-socket floor.
//!
//! The bench starts its own swtpm (fresh state, free port pair; skipped with a message when
//! swtpm is not installed), creates an RSA and an ECC attestation key with CreatePrimary in
//! the endorsement hierarchy, then times, per command:
//!
//! - `baretpm`: `Tpm::execute` (or `pcr_read_each`) over `SwtpmTransport`: build, send,
//!   receive, check and parse.
//! - `transport_only`: `SwtpmTransport::transact` with the pre-built command bytes (no
//!   build, no parse): what the transport alone adds to the floor.
//! - `replay`: `Tpm::execute` over a transport that hands back a recorded response at once:
//!   build, header checks and parse without any I/O.
//! - `raw_socket`: the floor. A plain `TcpStream` (TCP_NODELAY, like ours) writes the same
//!   pre-built bytes and reads the header then the rest. No timeouts, no checks.
//!
//! Library overhead = baretpm - raw_socket (target <= 5 µs per command).
//!
//! swtpm serves one data connection at a time, so the contenders take turns: ours is
//! disconnected before the raw client connects, and the raw client is dropped before ours (or
//! tpm2-tools) talks again. `tpm2_pcrextend` (if installed) is timed as a whole process per
//! call, with `TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=P`.

mod common;

#[allow(dead_code)]
#[path = "../tests/common/swtpm.rs"]
mod swtpm;

use std::convert::Infallible;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use baretpm::commands::{self, templates, CreatePrimary, PcrExtend, PcrRead, Quote};
use baretpm::tpm::Tpm;
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::{Timeouts, Transport};
use baretpm::types::{HashAlg, TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection, TpmtHa};
use common::Pair;
use criterion::{BenchmarkGroup, Criterion};
use swtpm::{Ek, Family, Options, SwtpmInstance};

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

use baretpm::types::alg::handle::RH_ENDORSEMENT as TPM_RH_ENDORSEMENT;
/// PCR 16 is the debug PCR: extending it disturbs nothing the quotes depend on.
const EXTEND_PCR: u32 = 16;
const EXTEND_DIGEST: [u8; 32] = [0x5a; 32];
const NONCE: [u8; 32] = [0x4e; 32];

/// The floor: one blocking socket, the command written whole, the response read by its size.
struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    fn connect(port: u16) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("raw client connects");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        RawClient {
            stream,
            buf: vec![0; 4096],
        }
    }

    /// Sends `cmd`, reads one response, returns its response code.
    fn transact(&mut self, cmd: &[u8]) -> u32 {
        self.stream.write_all(cmd).expect("send");
        self.stream.read_exact(&mut self.buf[..10]).expect("header");
        let size = u32::from_be_bytes(self.buf[2..6].try_into().expect("4 bytes")) as usize;
        self.stream
            .read_exact(&mut self.buf[10..size])
            .expect("body");
        u32::from_be_bytes(self.buf[6..10].try_into().expect("4 bytes"))
    }

    fn response(&self) -> &[u8] {
        let size = u32::from_be_bytes(self.buf[2..6].try_into().expect("4 bytes")) as usize;
        &self.buf[..size]
    }
}

/// A transport that answers every command with the same recorded response.
struct Replay {
    response: Vec<u8>,
}

impl Transport for Replay {
    type Error = Infallible;
    fn transact<'b>(&mut self, _cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], Infallible> {
        let n = self.response.len();
        rsp[..n].copy_from_slice(&self.response);
        Ok(&rsp[..n])
    }
}

fn sha256_selection(indices: &[u32]) -> TpmlPcrSelection {
    let mut s = TpmlPcrSelection::default();
    s.push(TpmsPcrSelection::new(HashAlg::Sha256, indices).expect("selection"))
        .expect("one bank");
    s
}

/// Times the raw client on `cmd` (after checking it succeeds once), then drops it so the port
/// is free again. Returns the recorded response for the replay transport.
fn bench_raw(g: &mut Group<'_>, port: u16, cmd: &[u8]) -> Vec<u8> {
    let mut raw = RawClient::connect(port);
    assert_eq!(raw.transact(cmd), 0, "raw client: command refused");
    let recorded = raw.response().to_vec();
    g.bench_function("raw_socket", |b| b.iter(|| raw.transact(black_box(cmd))));
    recorded
}

/// The four contenders for one command: ours, our transport alone, ours without I/O, raw.
fn command_group<C: commands::Command>(
    c: &mut Criterion,
    name: &str,
    tpm: &mut Tpm<SwtpmTransport>,
    port: u16,
    cmd: &C,
    quick: bool,
) {
    let mut built = vec![0u8; commands::MAX_COMMAND_SIZE];
    let n = commands::build(cmd, &mut built).expect("command builds");
    built.truncate(n);

    let mut g = c.benchmark_group(name);
    if quick {
        // Signing commands take milliseconds; fewer samples keep the run short.
        g.sample_size(10);
    }
    tpm.execute(cmd).expect("baretpm: command succeeds");
    g.bench_function("baretpm", |b| {
        b.iter(|| {
            tpm.execute(cmd).map(|r| {
                black_box(&r);
            })
        })
    });
    let mut rsp = vec![0u8; commands::MAX_RESPONSE_SIZE];
    g.bench_function("transport_only", |b| {
        b.iter(|| {
            tpm.transport()
                .transact(black_box(&built), &mut rsp)
                .map(|r| r.len())
        })
    });
    tpm.transport().disconnect();

    let recorded = bench_raw(&mut g, port, &built);

    let mut replay = Tpm::new(Replay { response: recorded });
    replay.execute(cmd).expect("recorded response parses");
    g.bench_function("replay", |b| {
        b.iter(|| {
            replay.execute(black_box(cmd)).map(|r| {
                black_box(&r);
            })
        })
    });
    g.finish();
}

/// Medians over rounds of one paired measurement (ns per command).
struct PairedResult {
    name: String,
    ours: f64,
    transport: f64,
    raw: f64,
    overhead: f64,
    /// Minima over rounds: the least-disturbed batch of each contender.
    ours_min: f64,
    raw_min: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Criterion times the contenders one after the other, seconds apart; on a shared machine the
/// load can change in between by more than the overhead being measured. This runs them in
/// alternating batches instead (ours, our transport, raw; reversed every other round), each
/// batch a fresh connection, and takes the median of the per-round differences.
fn paired<C: commands::Command>(
    tpm: &mut Tpm<SwtpmTransport>,
    port: u16,
    name: &str,
    cmd: &C,
    batch: u32,
    rounds: usize,
) -> PairedResult {
    let mut built = vec![0u8; commands::MAX_COMMAND_SIZE];
    let n = commands::build(cmd, &mut built).expect("command builds");
    built.truncate(n);
    let mut rsp = vec![0u8; commands::MAX_RESPONSE_SIZE];
    let per = |t: Instant| t.elapsed().as_nanos() as f64 / f64::from(batch);

    let mut ours_v = Vec::new();
    let mut transport_v = Vec::new();
    let mut raw_v = Vec::new();
    let mut diff_v = Vec::new();
    for round in 0..rounds {
        let mut run_ours = |tpm: &mut Tpm<SwtpmTransport>| {
            tpm.execute(cmd).expect("warm-up command");
            let t = Instant::now();
            for _ in 0..batch {
                let r = tpm.execute(cmd).map(|r| {
                    black_box(&r);
                });
                black_box(r.is_ok());
            }
            let ours = per(t);
            let t = Instant::now();
            for _ in 0..batch {
                black_box(
                    tpm.transport()
                        .transact(&built, &mut rsp)
                        .map(|r| r.len())
                        .ok(),
                );
            }
            let transport = per(t);
            tpm.transport().disconnect();
            (ours, transport)
        };
        let run_raw = || {
            let mut raw = RawClient::connect(port);
            raw.transact(&built);
            let t = Instant::now();
            for _ in 0..batch {
                black_box(raw.transact(black_box(&built)));
            }
            per(t)
        };
        let ((ours, transport), raw) = if round % 2 == 0 {
            let o = run_ours(tpm);
            (o, run_raw())
        } else {
            let r = run_raw();
            (run_ours(tpm), r)
        };
        ours_v.push(ours);
        transport_v.push(transport);
        raw_v.push(raw);
        diff_v.push(ours - raw);
        if std::env::var_os("PAIRED_DEBUG").is_some() {
            eprintln!("{name} round {round}: ours {ours:.0} transport {transport:.0} raw {raw:.0}");
        }
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    PairedResult {
        ours_min: min(&ours_v),
        raw_min: min(&raw_v),
        name: name.to_string(),
        ours: median(&mut ours_v),
        transport: median(&mut transport_v),
        raw: median(&mut raw_v),
        overhead: median(&mut diff_v),
    }
}

fn print_paired(results: &[PairedResult]) {
    if results.is_empty() {
        return;
    }
    println!("\n== tpm_roundtrip: paired batches (medians over rounds, per command) ==");
    let signed = |ns: f64| {
        if ns >= 0.0 {
            common::show(ns)
        } else {
            format!("-{}", common::show(-ns))
        }
    };
    println!(
        "{:<12} {:>12} {:>16} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "command",
        "baretpm",
        "transport_only",
        "raw_socket",
        "median(o-r)",
        "min baretpm",
        "min raw",
        "min o-r"
    );
    for r in results {
        println!(
            "{:<12} {:>12} {:>16} {:>12} {:>12} {:>12} {:>12} {:>12}",
            r.name,
            common::show(r.ours),
            common::show(r.transport),
            common::show(r.raw),
            signed(r.overhead),
            common::show(r.ours_min),
            common::show(r.raw_min),
            signed(r.ours_min - r.raw_min),
        );
    }
}

fn tools_installed() -> bool {
    Command::new("tpm2_pcrextend")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn run(c: &mut Criterion, port: u16) -> Vec<PairedResult> {
    let mut pairs = Vec::new();
    let mut tpm = Tpm::new(
        SwtpmTransport::tcp("127.0.0.1", port, Timeouts::DEFAULT).expect("connect to swtpm"),
    );
    let mut create = |public: baretpm::types::TpmtPublic<'static>| {
        tpm.execute(&CreatePrimary {
            primary_handle: TPM_RH_ENDORSEMENT,
            hierarchy_auth: &[],
            user_auth: &[],
            public,
            outside_info: &[],
            creation_pcr: TpmlPcrSelection::default(),
        })
        .expect("CreatePrimary")
        .object_handle
    };
    let rsa_ak = create(templates::ak_rsa());
    let ecc_ak = create(templates::ak_ecc());

    let mut digests = TpmlDigestValues::default();
    digests
        .digests
        .push(TpmtHa {
            hash: HashAlg::Sha256,
            digest: &EXTEND_DIGEST,
        })
        .expect("one digest");
    let extend = PcrExtend {
        pcr: EXTEND_PCR,
        auth: &[],
        digests,
    };
    command_group(c, "pcr_extend", &mut tpm, port, &extend, false);
    if common::wanted("pcr_extend") {
        pairs.push(paired(&mut tpm, port, "pcr_extend", &extend, 50, 60));
    }

    let selection = sha256_selection(&[14, 15, 16]);
    let read = PcrRead {
        selection: selection.clone(),
    };
    command_group(c, "pcr_read", &mut tpm, port, &read, false);
    if common::wanted("pcr_read") {
        pairs.push(paired(&mut tpm, port, "pcr_read", &read, 50, 60));
    }
    // The loop callers use: pcr_read_each, one PCR_Read for three values.
    {
        let mut g = c.benchmark_group("pcr_read");
        g.bench_function("baretpm_pcr_read_each", |b| {
            b.iter(|| {
                tpm.pcr_read_each(&selection, |_, _, v| {
                    black_box(v);
                })
            })
        });
        g.finish();
        tpm.transport().disconnect();
    }

    for (name, handle) in [("quote_rsa", rsa_ak), ("quote_ecc", ecc_ak)] {
        let quote = Quote {
            sign_handle: handle,
            sign_auth: &[],
            qualifying_data: &NONCE,
            pcr_select: selection.clone(),
        };
        command_group(c, name, &mut tpm, port, &quote, true);
        if common::wanted(name) {
            let batch = if name == "quote_rsa" { 4 } else { 10 };
            pairs.push(paired(&mut tpm, port, name, &quote, batch, 30));
        }
    }

    // One tpm2-tools call per iteration: process start, TCTI load, connect, command, exit.
    if tools_installed() {
        let tcti = format!("swtpm:host=127.0.0.1,port={port}");
        let arg = format!(
            "{EXTEND_PCR}:sha256={}",
            EXTEND_DIGEST
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let call = || {
            Command::new("tpm2_pcrextend")
                .arg(&arg)
                .env("TPM2TOOLS_TCTI", &tcti)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run tpm2_pcrextend")
        };
        assert!(
            call().success(),
            "tpm2_pcrextend failed against the bench swtpm"
        );
        let mut g = c.benchmark_group("pcr_extend");
        g.sample_size(10);
        g.bench_function("tpm2_pcrextend_process", |b| b.iter(|| call().success()));
        g.finish();
    } else {
        println!("tpm_roundtrip: tpm2_pcrextend not found; the per-process figure is skipped");
    }
    pairs
}

const PAIRS: &[Pair<'static>] = &[
    Pair {
        group: "pcr_extend",
        ours: "baretpm",
        peer: "raw_socket",
    },
    Pair {
        group: "pcr_extend",
        ours: "transport_only",
        peer: "raw_socket",
    },
    Pair {
        group: "pcr_extend",
        ours: "tpm2_pcrextend_process",
        peer: "baretpm",
    },
    Pair {
        group: "pcr_read",
        ours: "baretpm",
        peer: "raw_socket",
    },
    Pair {
        group: "pcr_read",
        ours: "baretpm_pcr_read_each",
        peer: "raw_socket",
    },
    Pair {
        group: "pcr_read",
        ours: "transport_only",
        peer: "raw_socket",
    },
    Pair {
        group: "quote_rsa",
        ours: "baretpm",
        peer: "raw_socket",
    },
    Pair {
        group: "quote_rsa",
        ours: "transport_only",
        peer: "raw_socket",
    },
    Pair {
        group: "quote_ecc",
        ours: "baretpm",
        peer: "raw_socket",
    },
    Pair {
        group: "quote_ecc",
        ours: "transport_only",
        peer: "raw_socket",
    },
];

const NO_IO: &[(&str, &str)] = &[
    ("pcr_extend", "replay"),
    ("pcr_read", "replay"),
    ("quote_rsa", "replay"),
    ("quote_ecc", "replay"),
];

fn main() {
    let since = SystemTime::now();
    let instance = match SwtpmInstance::start_with(Options {
        ek: Ek::None,
        family: Family::Tcp,
    }) {
        Ok(i) => i,
        Err(e) => {
            println!("tpm_roundtrip: skipped, no swtpm to measure against: {e}");
            return;
        }
    };
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
        .configure_from_args();
    let paired_results = run(&mut c, instance.port());
    c.final_summary();
    drop(instance);

    common::print_ratios(
        "tpm_roundtrip: ours against the raw-socket floor (ours-peer = library overhead)",
        PAIRS,
        since,
    );
    print_paired(&paired_results);
    if common::measuring() {
        println!("\nbuild + checks + parse without I/O (replay transport, criterion median):");
        for (group, id) in NO_IO {
            if let Some(ns) = common::median_ns(group, id, since) {
                println!("  {group:<12} {}", common::show(ns));
            }
        }
    }
}
