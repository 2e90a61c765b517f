//! Enrollment with the attestation CA (src/ca) on a private swtpm, beside tpm2-tools doing the
//! same credential-activation round trip.
//!
//! - `ca_challenge/rsa_ek`: `ca::challenge` in process: request checks (EK template, AK
//!   attributes and Name), MakeCredential for an RSA-2048 EK, and the pending challenge
//!   written to the CA directory (temp file, fsync, rename, directory fsync, under flock).
//!   The request has no EK certificate (`allow_no_ek_cert`): chain validation is measured by
//!   the `cert` bench.
//! - `enrollment/baretpm_processes`: the whole exchange as a user runs it, four processes:
//!   `baretpm enroll request` (CreatePrimary EK and AK), `baretpm ca challenge`, `baretpm
//!   enroll activate` (EK and AK again, StartAuthSession, PolicySecret, ActivateCredential),
//!   `baretpm ca issue` (constant-time check, challenge consumed, X.509 AK certificate signed
//!   with the CA's P-256 key).
//! - `enrollment/tpm2_tools_processes`: the same round trip with tpm2-tools:
//!   `tpm2_createek`, `tpm2_createak`, `tpm2_makecredential -T none`, `tpm2_startauthsession`,
//!   `tpm2_policysecret`, `tpm2_activatecredential`, `tpm2_flushcontext` (the session, and
//!   the transient objects after createek, createak and activatecredential: without a
//!   resource manager the tools leave them loaded and swtpm has three object slots), ten
//!   processes in all. tpm2-tools has no CA: no request/challenge files, no state, no
//!   certificate, so this side does less work.
//!
//! swtpm or tpm2-tools missing: that part prints `skipped`.

mod common;
use common::{run_quiet, tools};

#[allow(dead_code)]
#[path = "../tests/common/swtpm.rs"]
mod swtpm;

use baretpm::ca::{self, CaDir, ChallengePolicy, EnrollRequest};
use criterion::Criterion;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use swtpm::{Ek, Family, Options, SwtpmInstance};

fn baretpm(tcti: Option<&str>, args: &[&str]) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baretpm"));
    if let Some(t) = tcti {
        c.args(["-T", t]);
    }
    let o = run_quiet(c.args(args).env_remove("TPM2TOOLS_TCTI"));
    assert!(
        o.status.success(),
        "baretpm {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn bench(c: &mut Criterion, dir: &Path) {
    let sw = match SwtpmInstance::start_with(Options {
        ek: Ek::None,
        family: Family::Tcp,
    }) {
        Ok(s) => s,
        Err(e) => {
            println!("enrollment: skipped, no swtpm: {e}");
            return;
        }
    };
    let tcti = sw.tcti_string();
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let ca_dir = d("ca");
    baretpm(None, &["ca", "init", &ca_dir]);
    baretpm(Some(&tcti), &["enroll", "request", "-o", &d("req.json")]);

    // The CA's share in process.
    {
        let ca = CaDir::open(Path::new(&ca_dir)).unwrap();
        let req = EnrollRequest::from_json(&std::fs::read(d("req.json")).unwrap()).unwrap();
        let mut policy = ChallengePolicy::new(vec![], vec![]);
        policy.allow_no_ek_cert = true;
        let mut g = c.benchmark_group("ca_challenge");
        g.sample_size(20);
        g.bench_function("rsa_ek", |b| {
            b.iter(|| ca::challenge(&ca, &req, &policy).unwrap())
        });
        g.finish();
    }

    let mut g = c.benchmark_group("enrollment");
    g.sample_size(10);
    g.bench_function("baretpm_processes", |b| {
        b.iter(|| {
            baretpm(Some(&tcti), &["enroll", "request", "-o", &d("r.json")]);
            baretpm(
                None,
                &[
                    "ca",
                    "challenge",
                    &ca_dir,
                    &d("r.json"),
                    "--allow-no-ek-cert",
                    "-o",
                    &d("c.json"),
                ],
            );
            baretpm(
                Some(&tcti),
                &["enroll", "activate", &d("c.json"), "-o", &d("p.json")],
            );
            baretpm(
                None,
                &["ca", "issue", &ca_dir, &d("p.json"), "-o", &d("ak.crt")],
            );
        })
    });
    let installed = run_quiet(Command::new("tpm2_createek").arg("-v"))
        .status
        .success();
    if !installed {
        println!("enrollment/tpm2_tools_processes: skipped, tpm2-tools not installed");
        g.finish();
        return;
    }
    std::fs::write(d("secret"), [9u8; 32]).unwrap();
    let session = format!("session:{}", d("session.ctx"));
    g.bench_function("tpm2_tools_processes", |b| {
        b.iter(|| {
            tools(
                &tcti,
                "tpm2_createek",
                &["-c", &d("ek.ctx"), "-G", "rsa", "-u", &d("ek.pub")],
            );
            // No resource manager: the tools leave their objects loaded (swtpm has 3 slots).
            tools(&tcti, "tpm2_flushcontext", &["-t"]);
            tools(
                &tcti,
                "tpm2_createak",
                &[
                    "-C",
                    &d("ek.ctx"),
                    "-c",
                    &d("ak.ctx"),
                    "-G",
                    "rsa",
                    "-u",
                    &d("ak.pub"),
                    "-n",
                    &d("ak.name"),
                ],
            );
            tools(&tcti, "tpm2_flushcontext", &["-t"]);
            let name = hex::encode(std::fs::read(d("ak.name")).unwrap());
            tools(
                &tcti,
                "tpm2_makecredential",
                &[
                    "-T",
                    "none",
                    "-u",
                    &d("ek.pub"),
                    "-s",
                    &d("secret"),
                    "-n",
                    &name,
                    "-o",
                    &d("cred"),
                ],
            );
            tools(
                &tcti,
                "tpm2_startauthsession",
                &["--policy-session", "-S", &d("session.ctx")],
            );
            tools(
                &tcti,
                "tpm2_policysecret",
                &["-S", &d("session.ctx"), "-c", "e"],
            );
            tools(
                &tcti,
                "tpm2_activatecredential",
                &[
                    "-c",
                    &d("ak.ctx"),
                    "-C",
                    &d("ek.ctx"),
                    "-i",
                    &d("cred"),
                    "-o",
                    &d("out"),
                    "-P",
                    &session,
                ],
            );
            tools(&tcti, "tpm2_flushcontext", &[&d("session.ctx")]);
            tools(&tcti, "tpm2_flushcontext", &["-t"]);
        })
    });
    g.finish();
    assert_eq!(std::fs::read(d("out")).unwrap(), [9; 32]);
}

fn main() {
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10)
        .configure_from_args();
    let dir = tempfile::tempdir().unwrap();
    bench(&mut c, dir.path());
    c.final_summary();
}
