//! The provenance flow end to end against swtpm: a run verifies; tampering with an output, a
//! log event, a PCR value, the quote or the signature, replaying against a new nonce, a
//! reference mismatch, another AK or a changed command record each fail with the check named;
//! tpm2_checkquote accepts the quote; the CLI pipeline and the demo work.
#![cfg(feature = "std")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use baretpm::proof::event::{Event, INPUT_PCR, OUTPUT_PCR};
use baretpm::proof::file::{BankValues, NonceSource, PcrTable, PcrValue, Proof, Reference};
use baretpm::proof::flow::{self, AkKind, AttestOptions, FlowError, RunSpec};
use baretpm::proof::hash::{self, HashOptions, Target};
use baretpm::proof::verify::{verify, Policy, Report, Status};
use baretpm::proof::JsonFile;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::Timeouts;
use baretpm::types::HashAlg;
use common::swtpm::{Ek, Family, Options, SwtpmInstance};

fn open(sw: &SwtpmInstance) -> Tpm<AnyTransport> {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    Tpm::new(tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap())
}

fn measure(p: &Path) -> Event {
    hash::measure_one(
        &Target::Path(p.to_path_buf()),
        &HashOptions::default(),
        &mut |_| {},
    )
    .unwrap()
}

/// Everything the tests check, made once on one swtpm (sha1 + sha256 banks, EK certificate).
struct Fixture {
    /// ECC AK, verifier nonce.
    proof: Proof,
    nonce: Vec<u8>,
    ak_ecc: Vec<u8>,
    ak_rsa: Vec<u8>,
    inputs: Vec<Event>,
    outputs: Vec<Event>,
    output_bytes: Vec<u8>,
    /// The same logs quoted again: random nonce.
    proof_random: Proof,
    /// ... with the RSA AK.
    proof_rsa: Proof,
    /// ... over the SHA-1 bank only.
    proof_sha1: Proof,
    /// A second `run` on the same TPM (PCR14/15 no longer zero, no runtime log).
    rerun: Proof,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(make_fixture)
}

fn make_fixture() -> Fixture {
    let sw = SwtpmInstance::start().expect("swtpm");
    let mut tpm = open(&sw);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dataset");
    fs::create_dir(&data).unwrap();
    for i in 0..5 {
        fs::write(
            data.join(format!("part{i}.csv")),
            format!("x,y\n{i},{}\n", i * 2),
        )
        .unwrap();
    }
    let config = dir.path().join("config.txt");
    fs::write(&config, "epochs=1\n").unwrap();
    let model = dir.path().join("model.bin");
    let ak_ecc = flow::ak_public(&mut tpm, AkKind::Ecc).unwrap().0;
    let ak_rsa = flow::ak_public(&mut tpm, AkKind::Rsa).unwrap().0;
    let nonce: Vec<u8> = (0u8..20).collect();
    let spec = RunSpec {
        inputs: vec![Target::Path(data.clone()), Target::Path(config.clone())],
        outputs: vec![Target::Path(model.clone())],
        argv: vec![
            "sh".into(),
            "-c".into(),
            "cat \"$1\"/*.csv \"$2\" > \"$3\"".into(),
            "train".into(),
            data.display().to_string(),
            config.display().to_string(),
            model.display().to_string(),
        ],
        attest: AttestOptions {
            nonce: Some(nonce.clone()),
            ..AttestOptions::default()
        },
        hash: HashOptions::default(),
    };
    let proof = flow::run(&mut tpm, &spec, &mut ()).unwrap();
    // Through the file and back, as a verifier would get it.
    let path = dir.path().join("proof.json");
    proof.write(&path).unwrap();
    let proof = Proof::read(&path).unwrap();

    let again = |tpm: &mut Tpm<AnyTransport>, opts: AttestOptions| {
        flow::attest(
            tpm,
            &opts,
            proof.pcr14.clone(),
            proof.pcr15.clone(),
            proof.command.clone(),
        )
        .unwrap()
    };
    let proof_random = again(&mut tpm, AttestOptions::default());
    let proof_rsa = again(
        &mut tpm,
        AttestOptions {
            ak: AkKind::Rsa,
            nonce: Some(nonce.clone()),
            ..AttestOptions::default()
        },
    );
    let proof_sha1 = again(
        &mut tpm,
        AttestOptions {
            nonce: Some(nonce.clone()),
            banks: Some(vec![HashAlg::Sha1]),
            ..AttestOptions::default()
        },
    );
    let rerun = flow::run(&mut tpm, &spec, &mut ()).unwrap();

    Fixture {
        inputs: vec![measure(&data), measure(&config)],
        outputs: vec![measure(&model)],
        output_bytes: fs::read(&model).unwrap(),
        proof,
        nonce,
        ak_ecc,
        ak_rsa,
        proof_random,
        proof_rsa,
        proof_sha1,
        rerun,
    }
}

/// The verifier's full policy for the fixture's main proof.
fn policy() -> Policy {
    let f = fixture();
    Policy {
        nonce: Some(f.nonce.clone()),
        ak_public: Some(f.ak_ecc.clone()),
        inputs: f.inputs.clone(),
        outputs: f.outputs.clone(),
        ..Policy::default()
    }
}

fn report(proof: &Proof, policy: &Policy) -> Report {
    match verify(proof, policy) {
        Ok(r) => r,
        Err(rej) => rej.report,
    }
}

/// Verification must fail, and `check` must be the first failed check.
fn fails_at(proof: &Proof, policy: &Policy, check: &str) -> Report {
    let r = report(proof, policy);
    assert!(
        !r.passed(),
        "accepted, expected {check} to fail:\n{}",
        r.table()
    );
    let first = r.first_failure().expect("a failed check");
    assert_eq!(
        first.name,
        check,
        "wrong check failed first:\n{}",
        r.table()
    );
    r
}

// ---------------------------------------------------------------------------------------------
// A genuine run

#[test]
fn a_run_verifies() {
    let f = fixture();
    let r = verify(&f.proof, &policy()).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
    for name in [
        "format",
        "ak-name",
        "ak-pin",
        "ak",
        "signature",
        "attest",
        "nonce",
        "qualified-signer",
        "pcr-selection",
        "pcr-digest",
        "tpm-firmware",
        "pcr14-log",
        "pcr15-log",
        "command",
        "input",
        "output",
    ] {
        assert_eq!(
            r.status_of(name),
            Some(Status::Pass),
            "{name}:\n{}",
            r.table()
        );
    }
    assert_eq!(r.status_of("reference"), Some(Status::Skip));
    // The proof's shape: inputs then the command line in PCR14, exit status then outputs in
    // PCR15, PCR0-7, 14, 15 of both banks, the EK certificate swtpm_setup made.
    let p = &f.proof;
    assert_eq!(p.pcr14.len(), 3);
    assert!(p.pcr14[2].name().starts_with("command: [\"sh\",\"-c\""));
    assert_eq!(p.pcr15[0].name(), "exit-status: 0");
    assert_eq!(p.pcr15.len(), 2);
    assert_eq!(p.nonce_source, NonceSource::Verifier);
    let banks: Vec<HashAlg> = p.pcrs.banks.iter().map(|b| b.bank).collect();
    assert_eq!(banks, [HashAlg::Sha1, HashAlg::Sha256]);
    for b in &p.pcrs.banks {
        let idx: Vec<u32> = b.values.iter().map(|v| v.index).collect();
        assert_eq!(idx, [0, 1, 2, 3, 4, 5, 6, 7, 14, 15]);
    }
    assert!(!p.ek_certificates.is_empty());
    assert_eq!(p.command.as_ref().unwrap().exit_status, 0);
    assert_eq!(&p.tpm.manufacturer.to_be_bytes()[..3], b"IBM");
    // The table names every check and ends with the verdict.
    assert!(r.table().contains("VERDICT: PASS"));
    assert_eq!(r.to_json()["ok"], true);
}

#[test]
fn random_nonce_proof_says_so_and_verifies_without_a_nonce() {
    let f = fixture();
    assert_eq!(f.proof_random.nonce_source, NonceSource::Random);
    let p = Policy {
        nonce: None,
        ..policy()
    };
    let r = verify(&f.proof_random, &p).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
    assert_eq!(r.status_of("nonce"), Some(Status::Skip));
    let nonce_row = r.checks.iter().find(|c| c.name == "nonce").unwrap();
    assert!(
        nonce_row.detail.contains("no freshness"),
        "{}",
        nonce_row.detail
    );
    // A verifier that did send a nonce refuses it.
    fails_at(&f.proof_random, &policy(), "nonce");
}

#[test]
fn rsa_ak_proof_verifies_with_its_pin() {
    let f = fixture();
    let p = Policy {
        ak_public: Some(f.ak_rsa.clone()),
        ..policy()
    };
    verify(&f.proof_rsa, &p).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
}

/// Issue 12: a second run in one boot records where PCR14/15 stood and still proves its own
/// events; without a runtime log nothing explains that start, which is a warning unless the
/// verifier requires an explained start.
#[test]
fn a_second_run_on_the_same_tpm_records_its_start_and_verifies() {
    let f = fixture();
    let p = &f.rerun;
    assert!(p.starts.iter().all(|s| !s.is_zero()), "{:?}", p.starts);
    let mut policy = policy();
    policy.inputs = f.inputs.clone();
    policy.outputs = f.outputs.clone();
    let report = verify(p, &policy).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
    for row in ["pcr14-start", "pcr15-start"] {
        let c = report.checks.iter().find(|c| c.name == row).unwrap();
        assert_eq!(c.status, Status::Skip, "{}", report.table());
        assert!(
            c.detail.starts_with("WARNING: not explained"),
            "{}",
            c.detail
        );
    }
    assert_eq!(report.status_of("pcr14-log"), Some(Status::Pass));
    policy.require_explained_start = true;
    let rej = verify(p, &policy).unwrap_err();
    assert_eq!(rej.report.failed(), vec!["pcr14-start", "pcr15-start"]);
    // The first proof's starts were zero.
    let first = verify(&f.proof, &policy).unwrap();
    assert_eq!(first.status_of("pcr14-start"), Some(Status::Pass));
}

// ---------------------------------------------------------------------------------------------
// Tampering

#[test]
fn changed_output_file_fails_output() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = f.output_bytes.clone();
    bytes[0] ^= 1;
    let p = dir.path().join("model.bin");
    fs::write(&p, &bytes).unwrap();
    let policy = Policy {
        outputs: vec![measure(&p)],
        ..policy()
    };
    let r = fails_at(&f.proof, &policy, "output");
    assert_eq!(r.failed(), ["output"]);
    // An input given as an output is not found either (different log).
    let policy = Policy {
        outputs: vec![f.inputs[1].clone()],
        ..self::policy()
    };
    fails_at(&f.proof, &policy, "output");
}

#[test]
fn changed_log_event_fails_replay() {
    let f = fixture();
    // Another digest in an input event.
    let mut p = f.proof.clone();
    let e = &p.pcr14[1];
    let forged = Event::file(e.name().into(), [7; 32]).unwrap();
    p.pcr14[1] = forged;
    fails_at(&p, &policy(), "pcr14-log");
    // Renamed event: the name is part of the encoding.
    let mut p = f.proof.clone();
    let e = &p.pcr15[1];
    p.pcr15[1] = Event::new(
        e.kind(),
        "other-name".into(),
        e.digest_alg(),
        e.digest().to_vec(),
    )
    .unwrap();
    fails_at(&p, &policy(), "pcr15-log");
}

#[test]
fn extra_missing_or_reordered_events_fail_replay() {
    let f = fixture();
    let mut extra = f.proof.clone();
    extra.pcr15.push(Event::text("extra".into()).unwrap());
    fails_at(&extra, &policy(), "pcr15-log");
    let mut missing = f.proof.clone();
    missing.pcr14.remove(0);
    fails_at(&missing, &policy(), "pcr14-log");
    let mut reordered = f.proof.clone();
    reordered.pcr14.swap(0, 1);
    fails_at(&reordered, &policy(), "pcr14-log");
    // Moving an event to the other log.
    let mut moved = f.proof.clone();
    let e = moved.pcr14.remove(1);
    moved.pcr15.push(e);
    fails_at(&moved, &policy(), "pcr14-log");
}

fn set_pcr(p: &mut Proof, bank: HashAlg, index: u32, value: Vec<u8>) {
    let b = p.pcrs.banks.iter_mut().find(|b| b.bank == bank).unwrap();
    b.values
        .iter_mut()
        .find(|v| v.index == index)
        .unwrap()
        .value = value;
}

#[test]
fn changed_pcr_value_fails_pcr_digest() {
    let f = fixture();
    let mut p = f.proof.clone();
    set_pcr(&mut p, HashAlg::Sha256, 0, vec![0x42; 32]);
    fails_at(&p, &policy(), "pcr-digest");
    // Forging PCR14 to what a forged log replays to is still caught by the quote.
    let mut p = f.proof.clone();
    p.pcr14[0] = Event::dir("dataset".into(), [9; 32]).unwrap();
    for bank in [HashAlg::Sha1, HashAlg::Sha256] {
        let v = baretpm::proof::event::replay(bank, &p.pcr14).unwrap();
        set_pcr(&mut p, bank, INPUT_PCR, v);
    }
    let r = fails_at(&p, &policy(), "pcr-digest");
    assert_eq!(r.status_of("pcr14-log"), Some(Status::Pass));
    // A value dropped from the list: the selection no longer matches the quote.
    let mut p = f.proof.clone();
    p.pcrs.banks[1].values.retain(|v| v.index != 3);
    fails_at(&p, &policy(), "pcr-selection");
}

#[test]
fn changed_quote_fails_signature() {
    let f = fixture();
    for at in [10, 40, f.proof.attest.len() - 1] {
        let mut p = f.proof.clone();
        p.attest[at] ^= 0x01;
        fails_at(&p, &policy(), "signature");
    }
}

#[test]
fn changed_signature_fails_signature() {
    let f = fixture();
    let n = f.proof.signature.len();
    for at in [8, n / 2, n - 1] {
        let mut p = f.proof.clone();
        p.signature[at] ^= 0x80;
        fails_at(&p, &policy(), "signature");
    }
    let mut p = f.proof.clone();
    p.signature.truncate(n - 3);
    fails_at(&p, &policy(), "signature");
}

#[test]
fn old_proof_against_a_new_nonce_fails_nonce() {
    let f = fixture();
    let p = Policy {
        nonce: Some(vec![0xaa; 20]),
        ..policy()
    };
    fails_at(&f.proof, &p, "nonce");
    // A prefix of the right nonce is not the nonce.
    let p = Policy {
        nonce: Some(f.nonce[..19].to_vec()),
        ..policy()
    };
    fails_at(&f.proof, &p, "nonce");
    // Nor is the right nonce with the proof's nonce field edited to match another.
    let mut forged = f.proof.clone();
    forged.nonce = vec![0xaa; 20];
    let p = Policy {
        nonce: Some(vec![0xaa; 20]),
        ..policy()
    };
    fails_at(&forged, &p, "nonce");
}

#[test]
fn reference_mismatch_fails_reference() {
    let f = fixture();
    let good = Reference::from_proof(&f.proof, &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(good.pcrs.len(), 16);
    let p = Policy {
        reference: Some(good.clone()),
        ..policy()
    };
    let r = verify(&f.proof, &p).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
    assert_eq!(r.status_of("reference"), Some(Status::Pass));
    let mut bad = good.clone();
    bad.pcrs.banks[1].values[0].value[0] ^= 1;
    let p = Policy {
        reference: Some(bad),
        ..policy()
    };
    fails_at(&f.proof, &p, "reference");
    // A reference for a PCR the proof does not quote.
    let other = Reference {
        pcrs: PcrTable {
            banks: vec![BankValues {
                bank: HashAlg::Sha256,
                values: vec![PcrValue {
                    index: 20,
                    value: vec![0; 32],
                }],
            }],
        },
        boot: None,
    };
    let p = Policy {
        reference: Some(other),
        ..policy()
    };
    let r = fails_at(&f.proof, &p, "reference");
    let row = r.checks.iter().find(|c| c.name == "reference").unwrap();
    assert!(row.detail.contains("not quoted"), "{}", row.detail);
}

#[test]
fn another_ak_fails_the_pin() {
    let f = fixture();
    let p = Policy {
        ak_public: Some(f.ak_rsa.clone()),
        ..policy()
    };
    fails_at(&f.proof, &p, "ak-pin");
    // The AK swapped inside the proof: its name no longer matches, the pin fails, and the
    // signature does not verify under the other key.
    let mut swapped = f.proof.clone();
    swapped.ak_public = f.proof_rsa.ak_public.clone();
    let r = fails_at(&swapped, &policy(), "ak-name");
    assert!(r.failed().contains(&"ak-pin"));
    assert!(r.failed().contains(&"signature") || r.failed().contains(&"ak"));
}

#[test]
fn changed_command_record_fails_command() {
    let f = fixture();
    let mut p = f.proof.clone();
    p.command.as_mut().unwrap().argv[2] = "rm -rf /".into();
    fails_at(&p, &policy(), "command");
    let mut p = f.proof.clone();
    p.command.as_mut().unwrap().exit_status = 1;
    fails_at(&p, &policy(), "command");
}

#[test]
fn sha1_only_quote_is_refused_unless_allowed() {
    let f = fixture();
    fails_at(&f.proof_sha1, &policy(), "pcr-selection");
    let mut p = policy();
    p.quote.allow_sha1_banks = true;
    verify(&f.proof_sha1, &p).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
}

/// The proof of a run on a TPM with SHA-1 and SHA-256 banks quotes both (every active bank):
/// the strict policy accepts it, the SHA-1 bank checked like the other.
#[test]
fn proof_sha1_plus_sha256_selection_accepted() {
    let f = fixture();
    let banks: Vec<HashAlg> = f.proof.pcrs.banks.iter().map(|b| b.bank).collect();
    assert!(
        banks.contains(&HashAlg::Sha1) && banks.contains(&HashAlg::Sha256),
        "{banks:?}"
    );
    let p = policy();
    assert!(!p.quote.allow_sha1_banks && !p.quote.allow_sha1_signature);
    verify(&f.proof, &p).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
}

// ---------------------------------------------------------------------------------------------
// What a person reads is what was checked (issue 8, items 1-7 and 17)

fn row<'r>(r: &'r Report, name: &str) -> &'r baretpm::proof::verify::Check {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} row:\n{}", r.table()))
}

/// Writes `proof` to a file in `dir` and runs `baretpm verify` on it with `args`.
fn cli_verify(dir: &Path, proof: &Proof, args: &[&str]) -> std::process::Output {
    let path = dir.join("proof.json");
    proof.write(&path).unwrap();
    baretpm()
        .arg("verify")
        .arg(&path)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn terminal_control_bytes_from_a_proof_are_escaped() {
    let f = fixture();
    let mut p = f.proof.clone();
    // An unsigned text field that reaches the report: clear the screen, start a fake verdict.
    p.tpm.vendor = "\x1b[2J\nPASS\u{202e}".into();
    let r = report(&p, &policy());
    let table = r.table();
    assert!(
        !table.contains('\x1b') && !table.contains('\u{202e}'),
        "{table}"
    );
    assert!(table.lines().all(|l| !l.starts_with("PASS")), "{table}");
    assert!(table.contains("\\u{1b}[2J"), "{table}");

    // The CLI's table, and its error messages that echo JSON keys.
    let dir = tempfile::tempdir().unwrap();
    let out = cli_verify(dir.path(), &p, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains('\x1b'), "{stdout}");
    let mut json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    json["\x1b[2J\u{202e}evil"] = "x".into();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, serde_json::to_vec(&json).unwrap()).unwrap();
    let out = baretpm().arg("verify").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown field"), "{stderr}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\u{202e}'),
        "{stderr}"
    );
    // --json stays JSON (its encoder escapes control characters).
    let out = cli_verify(dir.path(), &p, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["detail"].as_str().unwrap().contains("\x1b[2J")));
}

#[test]
fn rows_do_not_pass_on_unproven_ak_attributes() {
    let f = fixture();
    let (ak, _) = baretpm::verify::Ak::from_any(&f.ak_ecc).unwrap();
    let pem = ak.to_spki_pem().unwrap();
    // A bare public key pins the key, not its TPM attributes.
    let p = Policy {
        ak_public: Some(pem.into_bytes()),
        ..policy()
    };
    let r = verify(&f.proof, &p).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
    assert_eq!(r.status_of("ak-pin"), Some(Status::Pass));
    for name in ["ak", "qualified-signer"] {
        assert_eq!(r.status_of(name), Some(Status::Skip), "{}", r.table());
        assert!(
            row(&r, name).detail.contains("bare public key"),
            "{}",
            r.table()
        );
    }
    let verdict = r.table();
    assert!(
        verdict.contains("not checked: ak, qualified-signer"),
        "{verdict}"
    );
    // No pin at all: the same rows are the proof's own claim.
    let p = Policy {
        ak_public: None,
        ..policy()
    };
    let r = verify(&f.proof, &p).unwrap_or_else(|rej| panic!("{}", rej.report.table()));
    for name in ["ak-pin", "ak", "qualified-signer"] {
        assert_eq!(r.status_of(name), Some(Status::Skip), "{}", r.table());
    }
    // The TPM2B_PUBLIC pin fixes the attributes: those rows pass.
    let r = verify(&f.proof, &policy()).unwrap();
    for name in ["ak", "qualified-signer"] {
        assert_eq!(r.status_of(name), Some(Status::Pass), "{}", r.table());
    }
}

#[test]
fn nonce_row_prints_the_quotes_nonce_and_refuses_an_edited_nonce_value() {
    let f = fixture();
    let r = verify(&f.proof, &policy()).unwrap();
    assert!(row(&r, "nonce").detail.contains(&hex::encode(&f.nonce)));
    let mut p = f.proof.clone();
    p.nonce = vec![0xde, 0xad, 0xbe, 0xef];
    let r = fails_at(&p, &policy(), "nonce");
    let d = &row(&r, "nonce").detail;
    assert!(
        d.contains("deadbeef") && d.contains(&hex::encode(&f.nonce)),
        "{d}"
    );
    assert!(d.contains("not the nonce the quote carries"), "{d}");
}

#[test]
fn unsigned_tpm_manufacturer_is_not_shown_as_signed() {
    let f = fixture();
    let mut p = f.proof.clone();
    p.tpm.manufacturer = u32::from_be_bytes(*b"INTC");
    let r = verify(&p, &policy()).unwrap();
    let fw = &row(&r, "tpm-firmware").detail;
    assert!(!fw.contains("INTC") && fw.contains("signed quote"), "{fw}");
    let info = row(&r, "tpm-info");
    assert_eq!(info.status, Status::Skip);
    assert!(
        info.detail.starts_with("unsigned") && info.detail.contains("INTC"),
        "{}",
        info.detail
    );
    assert!(r.table().contains("not checked: tpm-info"), "{}", r.table());
}

#[test]
fn nonce_source_label_does_not_change_the_freshness_warning() {
    let f = fixture();
    let no_nonce = Policy {
        nonce: None,
        ..policy()
    };
    let mut relabelled = f.proof.clone();
    relabelled.nonce_source = NonceSource::Random;
    let a = row(&verify(&f.proof, &no_nonce).unwrap(), "nonce").clone();
    let b = row(&verify(&relabelled, &no_nonce).unwrap(), "nonce").clone();
    assert_eq!(a, b);
    assert_eq!(a.status, Status::Skip);
    assert!(a.detail.contains("no freshness"), "{}", a.detail);
}

#[test]
fn command_input_output_rows_are_not_run_when_the_quote_fails() {
    let f = fixture();
    let mut p = f.proof.clone();
    let n = p.signature.len();
    p.signature[n - 1] ^= 1;
    let pol = Policy {
        reference: Some(Reference::from_proof(&f.proof, &[0, 1, 2])),
        ..policy()
    };
    let r = fails_at(&p, &pol, "signature");
    for name in ["command", "input", "output", "reference"] {
        assert_eq!(r.status_of(name), Some(Status::NotRun), "{}", r.table());
        assert!(row(&r, name).detail.contains("not proven"), "{}", r.table());
    }
    assert!(r.checks.iter().all(|c| c.status != Status::Pass
        || !["command", "input", "output", "reference"].contains(&c.name)));
}

#[test]
fn reference_from_refuses_a_proof_whose_quote_does_not_verify() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let mut p = f.proof.clone();
    let n = p.signature.len();
    p.signature[n - 1] ^= 1;
    let bad = dir.path().join("bad.json");
    p.write(&bad).unwrap();
    let out_file = dir.path().join("ref.json");
    let out = baretpm()
        .args(["reference", "--from"])
        .arg(&bad)
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not verify") && stderr.contains("signature"),
        "{stderr}"
    );
    assert!(!out_file.exists());
    // The genuine proof gives a reference; with the wrong nonce it does not.
    let good = dir.path().join("good.json");
    f.proof.write(&good).unwrap();
    let ak = dir.path().join("ak.pub");
    fs::write(&ak, &f.ak_ecc).unwrap();
    let nonce = hex::encode(&f.nonce);
    let args = |n: &str| {
        let mut c = baretpm();
        c.args(["reference", "--from"])
            .arg(&good)
            .args(["--nonce", n, "--ak-pub"])
            .arg(&ak);
        c
    };
    let json = run_ok(&mut args(&nonce));
    assert!(json.contains("baretpm-reference"), "{json}");
    assert_eq!(args("0badc0de").output().unwrap().status.code(), Some(1));
}

#[test]
fn verify_of_a_missing_or_unreadable_proof_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let out = baretpm().arg("verify").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read proof"), "{stderr}");
    assert!(!stderr.contains("refused"), "{stderr}");
    let out = baretpm()
        .arg("verify")
        .arg(&missing)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"], "proof-unreadable");
    // A directory is not readable as a proof either.
    let out = baretpm().arg("verify").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Not JSON: malformed input, exit 2.
    fs::write(&missing, "{").unwrap();
    let out = baretpm().arg("verify").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed proof"));
}

// ---------------------------------------------------------------------------------------------
// Cross-checks with other implementations

/// tpm2-tools' serialized PCR file: TPML_PCR_SELECTION as a little-endian C struct (132
/// bytes), u32 N, then N TPML_DIGEST structs (532 bytes: u32 count, 8 × {u16 size, 64 bytes}),
/// values in selection order, 8 per struct.
fn tpm2_tools_pcr_file(pcrs: &PcrTable) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pcrs.banks.len() as u32).to_le_bytes());
    for i in 0..16 {
        let mut entry = [0u8; 8];
        if let Some(b) = pcrs.banks.get(i) {
            entry[0..2].copy_from_slice(&b.bank.alg_id().0.to_le_bytes());
            entry[2] = 3;
            let mut bits = 0u32;
            for v in &b.values {
                bits |= 1 << v.index;
            }
            entry[3..7].copy_from_slice(&bits.to_le_bytes());
        }
        out.extend_from_slice(&entry);
    }
    assert_eq!(out.len(), 132);
    let values: Vec<&[u8]> = pcrs
        .banks
        .iter()
        .flat_map(|b| b.values.iter().map(|v| v.value.as_slice()))
        .collect();
    let blocks: Vec<&[&[u8]]> = values.chunks(8).collect();
    out.extend_from_slice(&(blocks.len() as u32).to_le_bytes());
    for block in blocks {
        out.extend_from_slice(&(block.len() as u32).to_le_bytes());
        for slot in 0..8 {
            let mut d = [0u8; 66];
            if let Some(v) = block.get(slot) {
                d[0..2].copy_from_slice(&(v.len() as u16).to_le_bytes());
                d[2..2 + v.len()].copy_from_slice(v);
            }
            out.extend_from_slice(&d);
        }
    }
    out
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

#[test]
fn tpm2_checkquote_accepts_the_quote() {
    if !have("tpm2_checkquote") {
        eprintln!("tpm2_checkquote not installed; skipping");
        return;
    }
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    for (p, ak, nonce) in [(&f.proof, "ecc", &f.nonce), (&f.proof_rsa, "rsa", &f.nonce)] {
        fs::write(d("ak.pub"), &p.ak_public).unwrap();
        fs::write(d("quote.msg"), &p.attest).unwrap();
        fs::write(d("quote.sig"), &p.signature).unwrap();
        fs::write(d("pcrs.bin"), tpm2_tools_pcr_file(&p.pcrs)).unwrap();
        let run = |nonce_hex: &str| {
            Command::new("tpm2_checkquote")
                .arg("-u")
                .arg(d("ak.pub"))
                .arg("-m")
                .arg(d("quote.msg"))
                .arg("-s")
                .arg(d("quote.sig"))
                .arg("-f")
                .arg(d("pcrs.bin"))
                .args(["-g", "sha256", "-q", nonce_hex])
                .output()
                .unwrap()
        };
        let ok = run(&hex::encode(nonce));
        assert!(
            ok.status.success(),
            "tpm2_checkquote refused the {ak} quote: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let bad = run("aabbccdd");
        assert!(
            !bad.status.success(),
            "tpm2_checkquote accepted a wrong nonce"
        );
    }
}

#[test]
fn python_replayer_agrees() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not installed; skipping");
        return;
    }
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proof.json");
    f.proof.write(&path).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/replay.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let mut bad = f.proof.clone();
    bad.pcr15.swap(0, 1);
    bad.write(&path).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

// ---------------------------------------------------------------------------------------------
// Flow errors

#[test]
fn a_failing_command_stops_the_flow() {
    let sw = SwtpmInstance::start_with(Options {
        ek: Ek::None,
        family: Family::Unix,
    })
    .expect("swtpm");
    let mut tpm = open(&sw);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = RunSpec {
        outputs: vec![Target::Path(out.clone())],
        argv: vec![
            "sh".into(),
            "-c".into(),
            "echo partial > \"$1\"; exit 3".into(),
            "x".into(),
            out.display().to_string(),
        ],
        ..RunSpec::default()
    };
    let e = flow::run(&mut tpm, &spec, &mut ()).unwrap_err();
    assert!(matches!(e, FlowError::CommandFailed { .. }), "{e}");
    assert!(e.to_string().contains("exit status: 3"), "{e}");
    // Nothing was extended into PCR15.
    let banks = flow::active_banks(&mut tpm).unwrap();
    flow::check_pcr_state(&mut tpm, OUTPUT_PCR, &banks, &[]).unwrap();
    // A command that cannot start is refused before the TPM is asked anything.
    let spec = RunSpec {
        argv: vec!["/nonexistent/train".into()],
        ..RunSpec::default()
    };
    let e = flow::run(&mut tpm, &spec, &mut ()).unwrap_err();
    assert!(matches!(e, FlowError::Preflight(_)), "{e}");
    assert!(e.to_string().contains("/nonexistent/train"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The command line

fn baretpm() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baretpm"));
    c.env_remove("TPM2TOOLS_TCTI");
    c
}

fn run_ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_measure_attest_verify_reference() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let t = sw.tcti_string();
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| -> PathBuf { dir.path().join(n) };
    fs::create_dir(d("data")).unwrap();
    fs::write(d("data/a.csv"), "1,2\n").unwrap();
    fs::write(d("model"), "weights").unwrap();
    let s = |p: PathBuf| p.display().to_string();
    let nonce = "00112233445566778899";
    run_ok(
        baretpm()
            .args(["-T", &t, "measure", "--pcr", "14", "--log"])
            .arg(d("in.json"))
            .arg(d("data")),
    );
    run_ok(
        baretpm()
            .args([
                "-T", &t, "measure", "--pcr", "14", "--text", "lr=0.1", "--log",
            ])
            .arg(d("in.json")),
    );
    run_ok(
        baretpm()
            .args(["-T", &t, "measure", "--pcr", "15", "--log"])
            .arg(d("out.json"))
            .arg(d("model")),
    );
    run_ok(
        baretpm()
            .args(["-T", &t, "attest", "--nonce", nonce, "--ak", "rsa", "--log"])
            .arg(d("in.json"))
            .arg(d("out.json"))
            .arg("--proof")
            .arg(d("proof.json")),
    );
    run_ok(
        baretpm()
            .args(["-T", &t, "ak-pub", "--ak", "rsa", "-o"])
            .arg(d("ak.pub")),
    );
    run_ok(
        baretpm()
            .arg("reference")
            .arg("--from")
            .arg(d("proof.json"))
            .arg("-o")
            .arg(d("ref.json")),
    );
    let table = run_ok(
        baretpm()
            .arg("verify")
            .arg(d("proof.json"))
            .args([
                "--nonce",
                nonce,
                "--ak-pub",
                &s(d("ak.pub")),
                "--reference",
                &s(d("ref.json")),
            ])
            .args(["--input", &s(d("data")), "--output", &s(d("model"))]),
    );
    assert!(table.contains("VERDICT: PASS"), "{table}");
    assert!(
        table.contains("command") && table.contains("skip"),
        "{table}"
    );

    // A wrong nonce: exit 1, and the JSON report names the check.
    let out = baretpm()
        .arg("verify")
        .arg(d("proof.json"))
        .args(["--nonce", "ffff", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["failed"][0], "nonce");
    // A changed output: exit 1.
    fs::write(d("model"), "weightz").unwrap();
    let out = baretpm()
        .arg("verify")
        .arg(d("proof.json"))
        .args(["--output", &s(d("model"))])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("VERDICT: FAIL (output)"));
    // A damaged proof file: a clear error, exit 2 (malformed input), no panic.
    let text = fs::read_to_string(d("proof.json")).unwrap();
    fs::write(
        d("bad.json"),
        text.replacen("\"version\": 2", "\"version\": 7", 1),
    )
    .unwrap();
    let out = baretpm().arg("verify").arg(d("bad.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("version 7"));
    // Measuring on top of a log the TPM no longer matches is refused.
    fs::write(d("stale.json"), fs::read(d("in.json")).unwrap().as_slice()).unwrap();
    run_ok(
        baretpm()
            .args(["-T", &t, "measure", "--pcr", "14", "--log"])
            .arg(d("in.json"))
            .arg(d("model")),
    );
    let out = baretpm()
        .args(["-T", &t, "measure", "--pcr", "14", "--log"])
        .arg(d("stale.json"))
        .arg(d("model"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PCR14"));
    // Usage errors: exit 2.
    let out = baretpm()
        .arg("verify")
        .arg(d("proof.json"))
        .args(["--nonce", "xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_run_with_a_configured_tpm() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("in.txt"), "input").unwrap();
    run_ok(
        baretpm()
            .current_dir(dir.path())
            .args([
                "-T",
                &sw.tcti_string(),
                "run",
                "--input",
                "in.txt",
                "--output",
                "out.txt",
            ])
            .args(["--proof", "p.json", "--", "cp", "in.txt", "out.txt"]),
    );
    let table = run_ok(baretpm().current_dir(dir.path()).args([
        "verify", "p.json", "--input", "in.txt", "--output", "out.txt",
    ]));
    assert!(table.contains("VERDICT: PASS"), "{table}");
    assert!(table.contains("no freshness"), "{table}");
    // The command failing: exit 1, no proof.
    let out = baretpm()
        .current_dir(dir.path())
        .args([
            "-T",
            &sw.tcti_string(),
            "run",
            "--proof",
            "q.json",
            "--",
            "false",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("q.json").exists());
}

#[test]
fn cli_demo_on_a_private_swtpm() {
    // With no -T and no TPM2TOOLS_TCTI the demo uses its private swtpm, also where
    // /dev/tpmrm0 exists (issue 15 item 10).
    let out = run_ok(baretpm().arg("demo"));
    assert!(
        out.contains("genuine proof ACCEPTED; changed output REFUSED by output; stale nonce REFUSED by nonce"),
        "{out}"
    );
}
