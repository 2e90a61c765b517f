//! Issue 15 in the provenance flow: `run`, `measure` and `attest` send PCR_Extend, the AK's
//! CreatePrimary and the Quote under an HMAC session salted to an EK checked against its
//! certificate. Through a bus interposer (tests/common/proxy.rs) in front of swtpm:
//! - (a) the AK template rewritten in CreatePrimary, (b) an extended digest rewritten, (c) the
//!   quote nonce rewritten: each refused by the TPM's HMAC check, exit 1, no proof written,
//!   the PCRs as the saved logs say;
//! - (d) the EK public rewritten in CreatePrimary's answer: refused by the certificate check
//!   before any salt is sent or anything extended;
//! - a response rewritten on the way back: refused by the response HMAC check;
//! - `measure` (an extend rewritten) and `attest` (the nonce rewritten) refuse too;
//! - (e) `activatecredential`: the secret comes back encrypted (never in the clear on the bus,
//!   unlike `--no-session`), and a flipped byte of it is refused by the response check;
//! - the honest path passes and records the session in the proof (unsigned, shown by
//!   `verify`); `--no-session` says what it gives up and records `none`.
#![cfg(all(feature = "std", feature = "credential", feature = "cert"))]

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use baretpm::proof::flow::AkKind;
use baretpm::proof::{JsonFile, Proof};
use baretpm::tpm::Tpm;
use baretpm::transport::tcti;
use baretpm::transport::Timeouts;
use baretpm::types::pcr::{TpmlPcrSelection, TpmsPcrSelection};
use baretpm::types::{HashAlg, TpmCc};
use common::proxy;
use common::swtpm::{Ek, Family, Options, SwtpmInstance};

fn swtpm(ek: Ek) -> SwtpmInstance {
    SwtpmInstance::start_with(Options {
        ek,
        family: Family::Unix,
    })
    .expect("swtpm")
}

fn cli(tcti: &str, dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .current_dir(dir)
        .env_remove("TPM2TOOLS_TCTI")
        .env_remove("BARETPM_RUNTIME_LOG")
        .arg("-T")
        .arg(tcti)
        .args(args)
        .output()
        .unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// PCR `pcr` of the SHA-256 bank, read on an honest connection.
fn pcr(sw: &SwtpmInstance, pcr: u32) -> Vec<u8> {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    let mut tpm = Tpm::new(tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap());
    let mut sel = TpmlPcrSelection::default();
    sel.push(TpmsPcrSelection::new(HashAlg::Sha256, &[pcr]).unwrap())
        .unwrap();
    let mut out = Vec::new();
    tpm.pcr_read_each(&sel, |_, _, v| out = v.to_vec()).unwrap();
    out
}

const NONCE: &str = "c0ffee00c0ffee00";

fn run_args<'a>(proof: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "run", "--input", "in.txt", "--output", "out.txt", "--proof", proof, "--nonce", NONCE,
        "--pcrs", "0",
    ];
    v.extend_from_slice(extra);
    v.extend_from_slice(&["--", "sh", "-c", "cp in.txt out.txt"]);
    v
}

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), b"the input\n").unwrap();
    dir
}

fn no_edit_command() -> proxy::EditCommand {
    Box::new(|_: &mut Vec<u8>| {})
}

fn no_edit_response() -> proxy::EditResponse {
    Box::new(|_: &[u8], _: &mut Vec<u8>| {})
}

fn session_of(path: &Path) -> Option<&'static str> {
    Proof::read(path).unwrap().session.map(|s| s.name())
}

#[test]
fn honest_run_measure_attest_use_the_session_and_record_it() {
    let sw = swtpm(Ek::KeyAndCert);
    let dir = workdir();
    let d = dir.path();
    // measure + attest on the fresh TPM, each under its own session (PCR15 measured without
    // one, as asked).
    let o = cli(
        &sw.tcti_string(),
        d,
        &["measure", "--pcr", "14", "--log", "l14.json", "in.txt"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(!err(&o).contains("warning"), "{}", err(&o));
    std::fs::write(d.join("out.txt"), b"out\n").unwrap();
    let o = cli(
        &sw.tcti_string(),
        d,
        &[
            "measure",
            "--pcr",
            "15",
            "--log",
            "l15.json",
            "--no-session",
            "out.txt",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("warning: --no-session"), "{}", err(&o));
    let o = cli(
        &sw.tcti_string(),
        d,
        &[
            "attest", "--log", "l14.json", "--log", "l15.json", "--proof", "a.json", "--nonce",
            NONCE, "--pcrs", "0",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(session_of(&d.join("a.json")), Some("salted-ek-certified"));
    // The field is optional (older proofs parse, and say nothing) and strict.
    let json = std::fs::read_to_string(d.join("a.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["session"] = "salted".into();
    let e = Proof::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("session: \"salted\" is not"), "{e}");
    v.as_object_mut().unwrap().remove("session");
    let old = Proof::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(old.session, None);
    let report = baretpm::proof::verify(&old, &baretpm::proof::Policy::default()).unwrap();
    let row = report.checks.iter().find(|c| c.name == "session").unwrap();
    assert!(row.detail.contains("does not say"), "{}", row.detail);

    // run through a proxy that changes nothing: the same bytes as a direct connection.
    let p = proxy::start(sw.socket_path(), no_edit_command(), no_edit_response());
    let o = cli(&p.tcti(), d, &run_args("p.json", &[]));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(!err(&o).contains("warning"), "{}", err(&o));
    assert!(!err(&o).contains("unverified"), "{}", err(&o));
    assert_eq!(session_of(&d.join("p.json")), Some("salted-ek-certified"));
    let v = cli(&p.tcti(), d, &["verify", "p.json", "--nonce", NONCE]);
    assert_eq!(v.status.code(), Some(0), "{}", err(&v));
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(
        out.lines().any(|l| l.starts_with("session")
            && l.contains("skip")
            && l.contains("unsigned: the prover says")
            && l.contains("salted to the EK of its EK certificate")),
        "{out}"
    );

    // Opting out: the same warning as createak/quote, and the proof says so.
    let o = cli(&sw.tcti_string(), d, &run_args("n.json", &["--no-session"]));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        err(&o).contains(
            "baretpm: warning: --no-session: commands go without a salted session: a bus \
             interposer that rewrites them would not be seen"
        ),
        "{}",
        err(&o)
    );
    assert_eq!(session_of(&d.join("n.json")), Some("none"));
}

#[test]
fn a_tpm_without_ek_certificate_gets_an_unverified_session() {
    let sw = swtpm(Ek::None);
    let dir = workdir();
    let d = dir.path();
    let o = cli(&sw.tcti_string(), d, &run_args("p.json", &[]));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        err(&o).contains("note: the EK salting the session is unverified"),
        "{}",
        err(&o)
    );
    assert_eq!(session_of(&d.join("p.json")), Some("salted-ek-unverified"));
}

/// Runs `run` through a proxy that rewrites commands with `edit`; asserts exit 1, the
/// message, no proof, and returns stderr.
fn refused_run(sw: &SwtpmInstance, edit: proxy::EditCommand, expect: &[&str]) -> String {
    let dir = workdir();
    let d = dir.path();
    let p = proxy::start(sw.socket_path(), edit, no_edit_response());
    let o = cli(&p.tcti(), d, &run_args("p.json", &[]));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    for e in expect {
        assert!(err(&o).contains(e), "{e}: {}", err(&o));
    }
    assert!(!d.join("p.json").exists());
    err(&o)
}

#[test]
fn a_rewritten_ak_template_is_refused_by_the_tpm() {
    let sw = swtpm(Ek::KeyAndCert);
    let before = pcr(&sw, 14);
    // (a) Item 1: `restricted` cleared in the AK template (the EK's template differs).
    let attrs = AkKind::Ecc.template().object_attributes.0;
    refused_run(
        &sw,
        Box::new(move |cmd: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::CREATE_PRIMARY.0 {
                if let Some(at) =
                    (27..cmd.len() - 4).find(|&i| cmd[i..i + 4] == attrs.to_be_bytes())
                {
                    let cleared = attrs & !(1 << 16);
                    cmd[at..at + 4].copy_from_slice(&cleared.to_be_bytes());
                }
            }
        }),
        &[
            "CreatePrimary(AK)",
            "the TPM refused the command's session HMAC",
        ],
    );
    // The run's inputs were extended before the quote step: PCR14 moved, by the honest events.
    assert_ne!(pcr(&sw, 14), before);
}

#[test]
fn a_rewritten_extend_is_refused_by_the_tpm_and_does_not_reach_the_pcr() {
    let sw = swtpm(Ek::KeyAndCert);
    let before = pcr(&sw, 14);
    // (b) The digest of the first extend (the last byte of the command) flipped.
    refused_run(
        &sw,
        Box::new(|cmd: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::PCR_EXTEND.0 {
                let last = cmd.len() - 1;
                cmd[last] ^= 0x01;
            }
        }),
        &["PCR_Extend", "the TPM refused the command's session HMAC"],
    );
    assert_eq!(pcr(&sw, 14), before, "the rewritten extend reached PCR14");
}

#[test]
fn a_rewritten_quote_nonce_is_refused_by_the_tpm() {
    let sw = swtpm(Ek::KeyAndCert);
    // (c) One byte of the verifier's nonce flipped in the Quote command.
    refused_run(
        &sw,
        Box::new(|cmd: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::QUOTE.0 {
                let at = (14..cmd.len() - 4)
                    .find(|&i| cmd[i..i + 4] == [0xc0, 0xff, 0xee, 0x00])
                    .expect("the nonce in the Quote command");
                cmd[at] ^= 0x01;
            }
        }),
        &["Quote", "the TPM refused the command's session HMAC"],
    );
}

#[test]
fn a_rewritten_answer_is_refused_by_the_response_check() {
    let sw = swtpm(Ek::KeyAndCert);
    let dir = workdir();
    let d = dir.path();
    // The Quote's answer: one byte of its response HMAC (the last bytes) flipped.
    let p = proxy::start(
        sw.socket_path(),
        no_edit_command(),
        Box::new(|cmd: &[u8], rsp: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::QUOTE.0 && rsp.len() > 40 {
                let last = rsp.len() - 1;
                rsp[last] ^= 0x01;
            }
        }),
    );
    let o = cli(&p.tcti(), d, &run_args("p.json", &[]));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("Quote: the answer's session HMAC does not check"),
        "{}",
        err(&o)
    );
    assert!(!d.join("p.json").exists());
}

/// Replaces the key in a CreatePrimary answer as an interposer would: the last byte of the
/// public key changed, and the Name recomputed so that the answer stays consistent.
fn replace_key(rsp: &mut [u8]) {
    use sha2::Digest as _;
    let be16 = |b: &[u8], i: usize| u16::from_be_bytes([b[i], b[i + 1]]) as usize;
    let size = be16(rsp, 18);
    let public = 20..20 + size;
    rsp[public.end - 1] ^= 0x01;
    let name_alg = be16(rsp, 22);
    let mut i = public.end;
    i += 2 + be16(rsp, i); // creationData
    i += 2 + be16(rsp, i); // creationHash
    i += 6; // creationTicket: tag, hierarchy
    i += 2 + be16(rsp, i); // creationTicket.digest
    let digest = match name_alg {
        0x000b => sha2::Sha256::digest(&rsp[public.clone()]).to_vec(),
        0x000c => sha2::Sha384::digest(&rsp[public.clone()]).to_vec(),
        other => panic!("EK nameAlg {other:#06x}"),
    };
    assert_eq!(be16(rsp, i), 2 + digest.len());
    rsp[i + 4..i + 4 + digest.len()].copy_from_slice(&digest);
}

/// A proxy that changes the first CreatePrimary answer (the EK's) with `edit`.
fn ek_proxy(sw: &SwtpmInstance, edit: fn(&mut [u8])) -> proxy::Proxy {
    let mut seen = false;
    proxy::start(
        sw.socket_path(),
        no_edit_command(),
        Box::new(move |cmd: &[u8], rsp: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::CREATE_PRIMARY.0 && !seen && rsp.len() > 30 {
                seen = true;
                edit(rsp);
            }
        }),
    )
}

#[test]
fn a_replaced_ek_is_refused_by_the_certificate_check() {
    let sw = swtpm(Ek::KeyAndCert);
    let before = pcr(&sw, 14);
    let dir = workdir();
    let d = dir.path();
    // (d) The EK's public key replaced in CreatePrimary's answer (consistent Name): the
    // salt would go to the interposer's key. The certificate's key differs: refused before
    // any salt is sent or anything extended.
    let p = ek_proxy(&sw, replace_key);
    let o = cli(&p.tcti(), d, &run_args("p.json", &[]));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("ek-certificate-match: the EK certificate at NV 0x01c000")
            && err(&o).contains("is not the certificate's key"),
        "{}",
        err(&o)
    );
    assert!(!d.join("p.json").exists());
    assert_eq!(pcr(&sw, 14), before, "extended after the EK check failed");

    // createak refuses it the same way.
    let p = ek_proxy(&sw, replace_key);
    let o = cli(&p.tcti(), d, &["createak", "--alg", "ecc", "-u", "ak.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("ek-certificate-match"), "{}", err(&o));
    assert!(!d.join("ak.pub").exists());

    // A malformed EK answer (the key changed, not the Name) is refused too, not a reason to
    // go without a session.
    let p = ek_proxy(&sw, |rsp| {
        let size = u16::from_be_bytes([rsp[18], rsp[19]]) as usize;
        rsp[20 + size - 1] ^= 0x01;
    });
    let o = cli(&p.tcti(), d, &run_args("p.json", &[]));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("CreatePrimary(EK)") && !err(&o).contains("warning"),
        "{}",
        err(&o)
    );
    assert!(!d.join("p.json").exists());
    assert_eq!(pcr(&sw, 14), before);
}

#[test]
fn activatecredential_gets_the_secret_encrypted_and_refuses_a_changed_answer() {
    let sw = swtpm(Ek::KeyAndCert);
    let dir = workdir();
    let d = dir.path();
    let t = sw.tcti_string();
    let ok = |o: Output| assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    ok(cli(&t, d, &["createek", "-G", "ecc", "-u", "ek.pub"]));
    ok(cli(&t, d, &["createak", "--alg", "ecc", "-u", "ak.pub"]));
    let secret: Vec<u8> = (0..32).map(|i| 0x5a ^ i).collect();
    std::fs::write(d.join("secret"), &secret).unwrap();
    ok(cli(
        &t,
        d,
        &[
            "makecredential",
            "-u",
            "ek.pub",
            "-s",
            "secret",
            "--ak-public",
            "ak.pub",
            "-o",
            "cred",
        ],
    ));
    let activate = [
        "activatecredential",
        "--ek",
        "ecc",
        "--ak",
        "ecc",
        "-i",
        "cred",
        "-o",
    ];

    // Honest, watched: the secret is recovered and never crosses the bus in the clear.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(false));
    let (seen_c, seen_r, s1, s2) = (seen.clone(), seen.clone(), secret.clone(), secret.clone());
    let has = |hay: &[u8], s: &[u8]| hay.windows(s.len()).any(|w| w == s);
    let p = proxy::start(
        sw.socket_path(),
        Box::new(move |cmd: &mut Vec<u8>| {
            *seen_c.lock().unwrap() |= has(cmd, &s1);
        }),
        Box::new(move |_: &[u8], rsp: &mut Vec<u8>| {
            *seen_r.lock().unwrap() |= has(rsp, &s2);
        }),
    );
    let mut args = activate.to_vec();
    args.push("out1");
    let o = cli(&p.tcti(), d, &args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(std::fs::read(d.join("out1")).unwrap(), secret);
    assert!(
        !*seen.lock().unwrap(),
        "the secret crossed the bus in the clear"
    );

    // Without the session it does cross in the clear (what the encryption is for).
    let seen = std::sync::Arc::new(std::sync::Mutex::new(false));
    let seen_r = seen.clone();
    let s2 = secret.clone();
    let p = proxy::start(
        sw.socket_path(),
        no_edit_command(),
        Box::new(move |_: &[u8], rsp: &mut Vec<u8>| {
            *seen_r.lock().unwrap() |= has(rsp, &s2);
        }),
    );
    let mut args = activate.to_vec();
    args.extend(["out2", "--no-session"]);
    let o = cli(&p.tcti(), d, &args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("warning: --no-session"), "{}", err(&o));
    assert!(*seen.lock().unwrap());

    // (e) One byte of the encrypted secret flipped on the way back (certInfo's data starts
    // after the header, parameterSize and its size field): refused by the response check.
    let p = proxy::start(
        sw.socket_path(),
        no_edit_command(),
        Box::new(|cmd: &[u8], rsp: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::ACTIVATE_CREDENTIAL.0 && rsp.len() > 30 {
                rsp[16 + 3] ^= 0x01;
            }
        }),
    );
    let mut args = activate.to_vec();
    args.push("out3");
    let o = cli(&p.tcti(), d, &args);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("ActivateCredential: the answer's session HMAC does not check"),
        "{}",
        err(&o)
    );
    assert!(!d.join("out3").exists());
}

#[test]
fn measure_and_attest_refuse_rewrites_too() {
    let sw = swtpm(Ek::KeyAndCert);
    let dir = workdir();
    let d = dir.path();
    let before = pcr(&sw, 14);
    // measure: the extend rewritten on the way is refused, the log stays empty.
    let p = proxy::start(
        sw.socket_path(),
        Box::new(|cmd: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::PCR_EXTEND.0 {
                let last = cmd.len() - 1;
                cmd[last] ^= 0x01;
            }
        }),
        no_edit_response(),
    );
    let o = cli(
        &p.tcti(),
        d,
        &["measure", "--pcr", "14", "--log", "l14.json", "in.txt"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("PCR_Extend: the TPM refused the command's session HMAC"),
        "{}",
        err(&o)
    );
    assert_eq!(pcr(&sw, 14), before);
    let log = baretpm::proof::EventLog::read(&d.join("l14.json")).unwrap();
    assert!(log.events.is_empty());

    // attest: the nonce rewritten in the Quote is refused, no proof written.
    let p = proxy::start(
        sw.socket_path(),
        Box::new(|cmd: &mut Vec<u8>| {
            if proxy::command_code(cmd) == TpmCc::QUOTE.0 {
                if let Some(at) =
                    (14..cmd.len() - 4).find(|&i| cmd[i..i + 4] == [0xc0, 0xff, 0xee, 0x00])
                {
                    cmd[at] ^= 0x01;
                }
            }
        }),
        no_edit_response(),
    );
    let o = cli(
        &p.tcti(),
        d,
        &[
            "attest", "--log", "l14.json", "--proof", "a.json", "--nonce", NONCE, "--pcrs", "0",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("Quote: the TPM refused the command's session HMAC"),
        "{}",
        err(&o)
    );
    assert!(!d.join("a.json").exists());
}
