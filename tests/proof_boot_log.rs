//! Proofs that carry the firmware event log (issue 12): a synthetic crypto-agile log is
//! extended into a private swtpm's PCRs as firmware would, then `attest` carries it and
//! `verify` replays it against the quote (`boot-log` row, boot facts shown as `skip`). A log
//! that does not match is refused before the quote, a proof whose log was swapped fails the
//! row, version 1 proofs still verify (row `skip`), and the CLI's --boot-log/--no-boot-log work.
#![cfg(feature = "std")]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use baretpm::proof::file::Proof;
use baretpm::proof::flow::{self, AttestOptions};
use baretpm::proof::verify::{verify, Policy, Report, Status};
use baretpm::proof::JsonFile;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::Timeouts;
use baretpm::types::HashAlg;

use common::firmware::{boot, secure_boot_log, synthetic_log};
use common::swtpm::SwtpmInstance;

fn open(sw: &SwtpmInstance) -> Tpm<AnyTransport> {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    Tpm::new(tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap())
}

const CMDLINE: &str = "root=/dev/sda1 quiet \u{1b}[31mred \u{202e}gnp.exe";

fn row<'r>(r: &'r Report, name: &str) -> &'r baretpm::proof::verify::Check {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} row in {}", r.table()))
}

fn pinned(proof: &Proof) -> Policy {
    Policy {
        nonce: Some(proof.nonce.clone()),
        ak_public: Some(proof.ak_public.clone()),
        ..Policy::default()
    }
}

#[test]
fn a_proof_carrying_the_firmware_log_verifies_and_a_swapped_log_fails() {
    let sw = SwtpmInstance::start().unwrap();
    let mut tpm = open(&sw);
    let banks = flow::active_banks(&mut tpm).unwrap();
    let log = synthetic_log(&banks, CMDLINE, b"POST");

    // Before the firmware's events are in the TPM, the log does not explain PCR0: refused
    // before any quote.
    let early = flow::attest(
        &mut tpm,
        &AttestOptions {
            nonce: Some(vec![7; 16]),
            boot_log: Some(log.bytes.clone()),
            ..AttestOptions::default()
        },
        vec![],
        vec![],
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        early.contains("firmware event log does not match this TPM") && early.contains("PCR 0"),
        "{early}"
    );

    boot(&mut tpm, &log);
    let proof = flow::attest(
        &mut tpm,
        &AttestOptions {
            nonce: Some(vec![7; 16]),
            // PCR 8 too: grub's events (the command line) are checked when quoted.
            pcrs: flow::DEFAULT_QUOTE_PCRS | (1 << 8),
            boot_log: Some(log.bytes.clone()),
            ..AttestOptions::default()
        },
        vec![],
        vec![],
        None,
    )
    .unwrap();
    assert_eq!(proof.version, 2);
    let json = proof.to_json();
    assert!(json.contains("\"version\": 2"), "{json}");
    assert!(json.contains("\"boot_log\""));
    let proof = Proof::from_json(json.as_bytes()).unwrap();
    assert_eq!(proof.boot_log.as_deref(), Some(log.bytes.as_slice()));

    let report = verify(&proof, &pinned(&proof)).unwrap();
    let b = row(&report, "boot-log");
    assert_eq!(b.status, Status::Pass, "{}", report.table());
    assert!(b.detail.contains("PCR 0,1,2,3,4,5,6,7,8"), "{}", b.detail);
    let sb = row(&report, "secure-boot");
    assert_eq!(sb.status, Status::Skip);
    assert!(sb
        .detail
        .contains("does not measure the SecureBoot variable"));
    let chain = row(&report, "boot-chain");
    assert_eq!(chain.status, Status::Skip);
    assert!(
        chain.detail.contains("root=/dev/sda1 quiet"),
        "{}",
        chain.detail
    );
    // The log's text is escaped in the row itself (so --json is safe too) and in the table.
    assert!(!chain.detail.contains('\u{1b}') && !chain.detail.contains('\u{202e}'));
    let table = report.table();
    assert!(!table.contains('\u{1b}') && !table.contains('\u{202e}'));
    assert!(table.contains("\\u{1b}[31mred"), "{table}");

    // The same proof with another machine's log (one POST code differs): boot-log fails,
    // naming the PCR, and the verdict fails.
    let other = synthetic_log(&banks, CMDLINE, b"POST!");
    let mut swapped = proof.clone();
    swapped.boot_log = Some(other.bytes.clone());
    let rej = verify(&swapped, &pinned(&swapped)).unwrap_err();
    let b = row(&rej.report, "boot-log");
    assert_eq!(b.status, Status::Fail);
    assert!(b.detail.contains("PCR 0"), "{}", b.detail);
    assert_eq!(rej.report.failed(), vec!["boot-log"]);

    // A log that is not a log: the row fails with the parser's reason.
    let mut garbage = proof.clone();
    garbage.boot_log = Some(vec![1, 2, 3]);
    let rej = verify(&garbage, &pinned(&garbage)).unwrap_err();
    assert!(row(&rej.report, "boot-log")
        .detail
        .contains("malformed firmware log"));

    // A tampered quote: the row is not run (the log would only agree with the proof itself).
    let mut bad_sig = proof.clone();
    let n = bad_sig.signature.len();
    bad_sig.signature[n - 1] ^= 1;
    let rej = verify(&bad_sig, &pinned(&bad_sig)).unwrap_err();
    assert_eq!(row(&rej.report, "boot-log").status, Status::NotRun);

    // Version 1: no boot_log field; the new verifier reads it and says the log is absent.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["version"] = 1.into();
    let with_log_v1 = serde_json::to_vec(&v).unwrap();
    let err = Proof::from_json(&with_log_v1).unwrap_err().to_string();
    assert!(
        err.contains("boot_log: not part of a version 1 proof"),
        "{err}"
    );
    v.as_object_mut().unwrap().remove("boot_log");
    let v1 = Proof::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(v1.version, 1);
    let report = verify(&v1, &pinned(&v1)).unwrap();
    let b = row(&report, "boot-log");
    assert_eq!(b.status, Status::Skip);
    assert!(b.detail.contains("version 1 proof"), "{}", b.detail);
    assert!(report.table().contains("proof version 1"));

    // Bounded: a log longer than the event-log parser's limit is refused by its hex length.
    let mut big = v.clone();
    big["version"] = 2.into();
    big["boot_log"] = "00".repeat(baretpm::proof::file::MAX_BOOT_LOG + 1).into();
    let err = Proof::from_json(&serde_json::to_vec(&big).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("boot_log:") && err.contains("more than"),
        "{err}"
    );
    drop(big);

    v["version"] = 3.into();
    let err = Proof::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("version 3 is not supported"), "{err}");
}

fn cli(sw: &SwtpmInstance, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .arg("-T")
        .arg(sw.tcti_string())
        .args(args)
        .env_remove("TPM2TOOLS_TCTI")
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn cli_attest_carries_a_boot_log_and_verify_replays_it() {
    let sw = SwtpmInstance::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let mut tpm = open(&sw);
    let banks = flow::active_banks(&mut tpm).unwrap();
    let log = synthetic_log(&banks, "root=/dev/vda", b"POST");
    boot(&mut tpm, &log);
    drop(tpm);
    std::fs::write(d("bios.bin"), &log.bytes).unwrap();
    std::fs::write(d("in.txt"), b"data").unwrap();
    let o = cli(
        &sw,
        &[
            "measure",
            "--pcr",
            "14",
            "--log",
            &d("in.json"),
            &d("in.txt"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    let o = cli(
        &sw,
        &[
            "attest",
            "--log",
            &d("in.json"),
            "--proof",
            &d("p.json"),
            "--boot-log",
            &d("bios.bin"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(&sw, &["verify", &d("p.json")]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("boot-log ") && l.contains(" pass ")),
        "{t}"
    );
    assert!(t.contains("kernel command line \"root=/dev/vda\""), "{t}");
    // The default quote (PCR0-7): the log's PCR 8 event is named as not checked.
    assert!(t.contains("the log also extends PCR 8, not quoted"), "{t}");

    // --no-boot-log: no log, the row is skipped and says why.
    let o = cli(
        &sw,
        &[
            "attest",
            "--log",
            &d("in.json"),
            "--proof",
            &d("q.json"),
            "--no-boot-log",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let q = Proof::read(Path::new(&d("q.json"))).unwrap();
    assert!(q.boot_log.is_none());
    let t = text(&cli(&sw, &["verify", &d("q.json")]));
    assert!(t.contains("carries no firmware event log"), "{t}");

    // A file that is not a log: input error, exit 2, nothing quoted.
    std::fs::write(d("junk.bin"), b"not a log").unwrap();
    let o = cli(
        &sw,
        &[
            "attest",
            "--log",
            &d("in.json"),
            "--proof",
            &d("r.json"),
            "--boot-log",
            &d("junk.bin"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--boot-log"), "{}", text(&o));
    assert!(!Path::new(&d("r.json")).exists());

    // Both flags: usage error.
    let o = cli(
        &sw,
        &[
            "attest",
            "--log",
            &d("in.json"),
            "--proof",
            &d("r.json"),
            "--boot-log",
            &d("bios.bin"),
            "--no-boot-log",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// Reference files pin boot facts (issue 12): `reference --from` writes what the proof's log
/// shows and its quote proves; `verify --reference` checks each pin as its own row, and a pin
/// on a PCR the quote does not cover fails.
#[test]
fn references_pin_secure_boot_db_dbx_kernel_and_command_line() {
    let sw = SwtpmInstance::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let mut tpm = open(&sw);
    let banks = flow::active_banks(&mut tpm).unwrap();
    let log = secure_boot_log(&banks, "root=/dev/vda ro", b"db-certs", b"dbx-hashes");
    boot(&mut tpm, &log);
    drop(tpm);
    std::fs::write(d("bios.bin"), &log.bytes).unwrap();
    std::fs::write(d("in.txt"), b"data").unwrap();
    ok(cli(
        &sw,
        &[
            "measure",
            "--pcr",
            "14",
            "--log",
            &d("in.json"),
            &d("in.txt"),
        ],
    ));
    // PCR 8 quoted too: the command line is grub's, in PCR 8.
    for (proof, pcrs) in [("p09.json", "0-9"), ("p07.json", "0-7")] {
        ok(cli(
            &sw,
            &[
                "attest",
                "--log",
                &d("in.json"),
                "--proof",
                &d(proof),
                "--boot-log",
                &d("bios.bin"),
                "--pcrs",
                pcrs,
            ],
        ));
    }
    let t = text(&ok(cli(&sw, &["verify", &d("p09.json")])));
    assert!(t.contains("Secure Boot on"), "{t}");
    assert!(t.contains("2 boot application(s)"), "{t}");

    ok(cli(
        &sw,
        &["reference", "--from", &d("p09.json"), "-o", &d("ref.json")],
    ));
    let r = baretpm::proof::file::Reference::read(Path::new(&d("ref.json"))).unwrap();
    let b = r.boot.clone().expect("boot facts in the reference");
    assert_eq!(b.secure_boot, Some(true));
    assert_eq!(b.db_sha256.as_deref(), Some(&sha256(b"db-certs")[..]));
    assert_eq!(b.dbx_sha256.as_deref(), Some(&sha256(b"dbx-hashes")[..]));
    let last_app = &log.measured.iter().rev().find(|(p, _)| *p == 4).unwrap().1;
    let app256 = &last_app
        .iter()
        .find(|(a, _)| *a == HashAlg::Sha256)
        .unwrap()
        .1;
    assert_eq!(b.kernel_sha256.as_ref(), Some(app256));
    assert_eq!(b.kernel_cmdline.as_deref(), Some("root=/dev/vda ro"));
    assert!(std::fs::read_to_string(d("ref.json"))
        .unwrap()
        .contains("\"version\": 2"));

    // Each pin is a row and passes.
    let t = text(&ok(cli(
        &sw,
        &["verify", &d("p09.json"), "--reference", &d("ref.json")],
    )));
    for row in [
        "reference-secure-boot",
        "reference-db",
        "reference-dbx",
        "reference-kernel",
        "reference-kernel-cmdline",
    ] {
        assert!(
            t.lines()
                .any(|l| l.starts_with(&format!("{row} ")) && l.contains(" pass ")),
            "{row}:\n{t}"
        );
    }
    // A proof that does not quote PCR 8: the command line pin fails (unproven), the others pass.
    let o = cli(
        &sw,
        &["verify", &d("p07.json"), "--reference", &d("ref.json")],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("VERDICT: FAIL (reference-kernel-cmdline)"),
        "{t}"
    );
    assert!(
        t.contains("PCR 8, where it is measured, is not quoted"),
        "{t}"
    );

    // Pins that differ fail, each on its own row; PCR values are left out so only the
    // facts are judged.
    let mut other = r.clone();
    other.pcrs = Default::default();
    let mut ob = b.clone();
    ob.secure_boot = Some(false);
    ob.dbx_sha256 = Some(vec![0; 32]);
    ob.kernel_cmdline = Some("root=/dev/vda rw init=/bin/sh".into());
    other.boot = Some(ob);
    other.write(Path::new(&d("other.json"))).unwrap();
    let o = cli(
        &sw,
        &["verify", &d("p09.json"), "--reference", &d("other.json")],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(
            "VERDICT: FAIL (reference-secure-boot, reference-dbx, reference-kernel-cmdline)"
        ),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.starts_with("reference ") && l.contains(" skip ")),
        "{t}"
    );

    // A proof without a log cannot show pinned facts.
    ok(cli(
        &sw,
        &[
            "attest",
            "--log",
            &d("in.json"),
            "--proof",
            &d("nolog.json"),
            "--no-boot-log",
        ],
    ));
    let o = cli(
        &sw,
        &["verify", &d("nolog.json"), "--reference", &d("other.json")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("carries no firmware log to show them"),
        "{}",
        text(&o)
    );

    // A version 1 reference cannot carry boot facts.
    let v1 = std::fs::read_to_string(d("ref.json"))
        .unwrap()
        .replace("\"version\": 2", "\"version\": 1");
    std::fs::write(d("v1.json"), v1).unwrap();
    let o = cli(
        &sw,
        &["verify", &d("p09.json"), "--reference", &d("v1.json")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("boot: not part of a version 1 reference"),
        "{}",
        text(&o)
    );
}

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(b).to_vec()
}

fn ok(o: std::process::Output) -> std::process::Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}
