//! `demo`: the whole flow on a private swtpm, a changed output and a stale nonce refused.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use baretpm::proof::event::Event;
use baretpm::proof::file::Proof;
use baretpm::proof::flow::{self, AkKind, AttestOptions, RunSpec};
use baretpm::proof::hash::{self, HashOptions, Target};
use baretpm::proof::swtpm::TempDir;
use baretpm::proof::verify::{verify, Policy, Report};
use baretpm::proof::JsonFile;
use baretpm::text::Escaped;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::AnyTransport;

use crate::run_guard;
use crate::util::{failed, flow_err, CliError};

use super::args::DemoArgs;
use super::progress::Term;
use super::setup::{demo_tpm, open_session};

const DEMO_FILES: [(&str, &[u8]); 4] = [
    (
        "data/jan.csv",
        include_bytes!("../../../../vectors/demo/data/jan.csv"),
    ),
    (
        "data/feb.csv",
        include_bytes!("../../../../vectors/demo/data/feb.csv"),
    ),
    (
        "data/mar.csv",
        include_bytes!("../../../../vectors/demo/data/mar.csv"),
    ),
    (
        "train.sh",
        include_bytes!("../../../../vectors/demo/train.sh"),
    ),
];

pub(super) fn step(n: u32, title: &str) {
    say!("\n== {n}. {title}");
}

pub(super) fn demo(a: DemoArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
    let temp;
    let kept_dir;
    let dir: &Path = match &a.keep {
        Some(d) => {
            kept_dir = keep_dir(d)?;
            &kept_dir
        }
        None => {
            crate::cleanup::install().map_err(flow_err)?;
            temp = TempDir::new("baretpm-demo")
                .map_err(|e| flow_err(format!("temporary directory: {e}")))?;
            crate::cleanup::dir(temp.path().to_path_buf());
            temp.path()
        }
    };
    say!("baretpm demo: the provenance of a tiny training run, proven with a TPM quote");

    step(1, "a TPM");
    let mut s = open_session(tcti_arg, demo_tpm(tcti_arg))?;
    match &s.private {
        Some(sw) => say!(
            "private swtpm in {} (EK certificate: {})",
            sw.dir().display(),
            if sw.has_ek_certificate() { "yes" } else { "no" }
        ),
        None => say!("using the configured TPM"),
    }
    let banks = flow::active_banks(&mut s.tpm).map_err(flow_err)?;
    say!(
        "active PCR banks: {}",
        banks
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    );

    step(2, "the training job and its data");
    for (name, bytes) in DEMO_FILES {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            // One level only, never `create_dir_all`: once a signal's cleanup removed `dir`,
            // nothing here may bring it back (writes into it must fail instead).
            match fs::create_dir(parent) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(flow_err(format!("{}: {e}", parent.display()))),
            }
        }
        fs::write(&p, bytes).map_err(|e| flow_err(format!("{}: {e}", p.display())))?;
    }
    say!("in {}: data/ (3 CSV files) and train.sh", dir.display());
    // Work inside the directory so event names are short relative paths.
    std::env::set_current_dir(dir).map_err(|e| flow_err(format!("{}: {e}", dir.display())))?;

    step(3, "the verifier pins the AK and sends a challenge");
    let ak_kind: AkKind = a.ak.into();
    let (ak_public, ak_name) = flow::ak_public(&mut s.tpm, ak_kind).map_err(flow_err)?;
    let ak_path = dir.join("ak.pub");
    let kept = dir.display().to_string();
    fs::write(&ak_path, &ak_public).map_err(|e| flow_err(format!("{}: {e}", ak_path.display())))?;
    let nonce = fresh_nonce(&mut s.tpm)?;
    say!("AK ({ak_kind:?}) name {} -> ak.pub", hex::encode(ak_name));
    say!("nonce {}", hex::encode(&nonce));

    let data = PathBuf::from("data");
    let train = PathBuf::from("train.sh");
    let model = PathBuf::from("model.txt");
    let proof_path = PathBuf::from("proof.json");
    let d = |p: &Path| p.display().to_string();
    step(4, "run: inputs -> PCR14, train, outputs -> PCR15, quote");
    say!(
        "baretpm run --input {} --input {} --output {} --proof {} --nonce {} -- sh {} {} {}",
        d(&data),
        d(&train),
        d(&model),
        d(&proof_path),
        hex::encode(&nonce),
        d(&train),
        d(&data),
        d(&model)
    );
    let spec = RunSpec {
        inputs: vec![Target::Path(data.clone()), Target::Path(train.clone())],
        outputs: vec![Target::Path(model.clone())],
        argv: vec!["sh".into(), d(&train), d(&data), d(&model)],
        attest: AttestOptions {
            ak: ak_kind,
            nonce: Some(nonce.clone()),
            ..AttestOptions::default()
        },
        hash: HashOptions::default(),
    };
    let mut term = Term::new();
    let mut extended = flow::Extended::default();
    let proof = flow::run_tracked(&mut s.tpm, &spec, &mut term, &mut extended).map_err(|e| {
        term.clear();
        flow_err(run_guard::after_failure(
            &e,
            &extended,
            &dir.join(&proof_path),
            s.private.is_some(),
        ))
    })?;
    proof
        .write(&proof_path)
        .map_err(|e| flow_err(run_guard::proof_not_written(&proof, &proof_path, &e)))?;
    let size = fs::metadata(&proof_path).map(|m| m.len()).unwrap_or(0);
    say!(
        "proof.json: {size} bytes; PCR14 log: {}; PCR15 log: {}",
        proof
            .pcr14
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(", "),
        proof
            .pcr15
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join(", ")
    );
    drop(s); // the TPM is not needed to verify

    // The verifier's side: only the proof, the pinned AK, its nonce and the files.
    let hash_opts = HashOptions::default();
    let measure = |p: &Path| {
        hash::measure_one(&Target::Path(p.to_path_buf()), &hash_opts, &mut |_| {}).map_err(flow_err)
    };
    let base_policy = Policy {
        nonce: Some(nonce.clone()),
        ak_public: Some(ak_public.clone()),
        inputs: vec![measure(&data)?, measure(&train)?],
        outputs: vec![measure(&model)?],
        ..Policy::default()
    };
    let reread = Proof::read(&proof_path).map_err(flow_err)?;

    step(5, "verify: baretpm verify proof.json --nonce N --ak-pub ak.pub --input ... --output model.txt");
    let genuine = report_of(&reread, &base_policy);
    say_raw!("{}", genuine.table());

    step(6, "a changed output: one byte of model.txt flipped");
    let mut bytes = fs::read(&model).map_err(|e| flow_err(format!("{}: {e}", model.display())))?;
    if let Some(b) = bytes.first_mut() {
        *b ^= 0x01;
    }
    fs::write(&model, &bytes).map_err(|e| flow_err(format!("{}: {e}", model.display())))?;
    say!(
        "model.txt now starts with {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(12)])
    );
    let tampered_policy = Policy {
        outputs: vec![measure(&model)?],
        ..base_policy.clone()
    };
    let tampered = report_of(&reread, &tampered_policy);
    say_raw!("{}", tampered.table());

    step(7, "a replayed proof: the verifier sends a new nonce");
    let mut other = nonce.clone();
    other[0] ^= 0xff;
    say!("new nonce {}", hex::encode(&other));
    let stale_policy = Policy {
        nonce: Some(other),
        ..base_policy.clone()
    };
    let stale = report_of(&reread, &stale_policy);
    say_raw!("{}", stale.table());

    let ok = genuine.passed()
        && tampered.failed() == ["output"]
        && stale.failed().first() == Some(&"nonce");
    say!(
        "\n== result: genuine proof {}; changed output {}; stale nonce {}",
        if genuine.passed() {
            "ACCEPTED"
        } else {
            "REFUSED (unexpected)"
        },
        if tampered.passed() {
            "ACCEPTED (unexpected)".to_string()
        } else {
            format!("REFUSED by {}", tampered.failed().join(", "))
        },
        if stale.passed() {
            "ACCEPTED (unexpected)".to_string()
        } else {
            format!("REFUSED by {}", stale.failed().join(", "))
        },
    );
    if a.keep.is_some() {
        say!("files kept in {kept}");
    }
    if ok {
        Ok(())
    } else {
        Err(flow_err("the demo did not behave as expected"))
    }
}

/// The `demo --keep` directory: created when missing, refused when it holds anything (the
/// demo would overwrite its files), and made absolute, since the demo changes into it.
fn keep_dir(d: &Path) -> Result<PathBuf, CliError> {
    let shown = || d.display().to_string();
    match fs::read_dir(d) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(failed(format!(
                    "--keep {}: the directory is not empty; the demo writes data/, train.sh, \
                     model.txt, proof.json and ak.pub there: give a new or empty directory",
                    shown()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(d).map_err(|e| failed(format!("--keep {}: {e}", shown())))?;
        }
        Err(e) => return Err(failed(format!("--keep {}: {e}", shown()))),
    }
    fs::canonicalize(d).map_err(|e| failed(format!("--keep {}: {e}", shown())))
}

fn report_of(proof: &Proof, policy: &Policy) -> Report {
    match verify(proof, policy) {
        Ok(r) => r,
        Err(rej) => rej.report,
    }
}

fn fresh_nonce(tpm: &mut Tpm<AnyTransport>) -> Result<Vec<u8>, CliError> {
    // A verifier would use its own randomness; the demo borrows the TPM's.
    let mut n = vec![0u8; 16];
    tpm.get_random(&mut n).map_err(flow_err)?;
    Ok(n)
}

/// `kind name` of an event, the name cut at 48 characters.
pub(super) fn describe(e: &Event) -> String {
    let name = e.name();
    if name.chars().count() > 48 {
        let cut: String = name.chars().take(48).collect();
        format!("{} {}…", e.kind(), Escaped(&cut))
    } else {
        format!("{} {}", e.kind(), Escaped(name))
    }
}
