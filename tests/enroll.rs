//! The attestation CA end to end on swtpm (`ca init|challenge|issue`, `enroll
//! request|activate`), and the attacks it must refuse with the CA state left as it was.
//!
//! Each TPM gets EK certificates from its own swtpm_localca (a private configuration in a temp
//! dir, nothing written under /etc or /var/lib), so two TPMs have two different EK roots.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::localca::LocalCaTpm;
use common::swtpm::ok;

/// A swtpm with EK certificates from a local CA of its own (`common::localca`), its paths as
/// the strings the CLI takes.
struct Tpm(LocalCaTpm);

impl Tpm {
    fn start() -> Option<Tpm> {
        LocalCaTpm::start("baretpm-enroll-").map(Tpm)
    }

    fn tcti(&self) -> String {
        self.0.tcti()
    }

    fn p(&self, name: &str) -> String {
        self.0.path(name).display().to_string()
    }

    /// The local CA's root (what `--ek-ca` trusts) and its intermediate.
    fn root(&self) -> String {
        self.0.root().display().to_string()
    }

    fn issuer(&self) -> String {
        self.0.issuer().display().to_string()
    }

    fn cli(&self, log: &mut Log, args: &[&str]) -> Output {
        let mut all = vec!["-T".to_string(), self.tcti()];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
        log.run(&refs)
    }
}

/// Runs the CLI and keeps everything it printed (to check that the CA key never appears).
#[derive(Default)]
struct Log {
    text: String,
}

impl Log {
    fn run(&mut self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_baretpm"))
            .args(args)
            .env_remove("TPM2TOOLS_TCTI")
            .output()
            .expect("baretpm runs");
        self.text.push_str(&String::from_utf8_lossy(&out.stdout));
        self.text.push_str(&String::from_utf8_lossy(&out.stderr));
        out
    }
}

/// Asserts exit `code` and that stderr names `reason`.
fn refused(o: &Output, code: i32, reason: &str, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{what}: expected exit {code}\nstdout: {}\nstderr: {err}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        err.contains(reason),
        "{what}: stderr does not name '{reason}': {err}"
    );
}

/// The CA's state: pending and done challenge files with their contents.
fn state(ca: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for d in ["pending", "done"] {
        for e in std::fs::read_dir(ca.join(d)).unwrap() {
            let e = e.unwrap();
            v.push((
                format!("{d}/{}", e.file_name().to_string_lossy()),
                std::fs::read(e.path()).unwrap(),
            ));
        }
    }
    v.sort();
    v
}

fn json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &str, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// The key's PEM body lines: none may appear in any output.
fn key_lines(ca: &Path) -> Vec<String> {
    std::fs::read_to_string(ca.join("ca.key"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(|l| l.to_string())
        .collect()
}

fn assert_no_key(ca: &Path, log: &Log, files: &[&str]) {
    let lines = key_lines(ca);
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(!log.text.contains(l.as_str()), "CA key line in the output");
        for f in files {
            let t = String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_string();
            assert!(!t.contains(l.as_str()), "CA key line in {f}");
        }
    }
}

/// request → challenge → activate → issue; returns the AK certificate path.
fn enroll(tpm: &Tpm, log: &mut Log, ca: &str, ak: &str, tag: &str) -> String {
    let req = tpm.p(&format!("{tag}-req.json"));
    let ch = tpm.p(&format!("{tag}-ch.json"));
    let resp = tpm.p(&format!("{tag}-resp.json"));
    let crt = tpm.p(&format!("{tag}-ak.crt"));
    let out = ok(
        &tpm.cli(log, &["enroll", "request", "-o", &req, "--ak", ak]),
        "enroll request",
    );
    assert!(out.contains("0x01c00002"), "{out}");
    let out = ok(
        &log.run(&[
            "ca",
            "challenge",
            ca,
            &req,
            "--ek-ca",
            &tpm.root(),
            "--ek-chain",
            &tpm.issuer(),
            "-o",
            &ch,
        ]),
        "ca challenge",
    );
    assert!(out.contains("challenge "), "{out}");
    ok(
        &tpm.cli(log, &["enroll", "activate", &ch, "-o", &resp]),
        "enroll activate",
    );
    ok(
        &log.run(&["ca", "issue", ca, &resp, "-o", &crt]),
        "ca issue",
    );
    crt
}

#[test]
fn enrollment_issues_ak_certificates_for_rsa_and_ecc_aks() {
    let Some(tpm) = Tpm::start() else { return };
    let mut log = Log::default();
    for (ca_alg, ak) in [("ecc", "rsa"), ("rsa", "ecc")] {
        let ca = tpm.p(&format!("ca-{ca_alg}"));
        ok(&log.run(&["ca", "init", &ca, "--alg", ca_alg]), "ca init");
        let crt = enroll(&tpm, &mut log, &ca, ak, &format!("{ca_alg}-{ak}"));
        // The certificate chains to the CA as an AK certificate and certifies this TPM's AK.
        let akpub = tpm.p(&format!("ak-{ak}.pub"));
        ok(
            &tpm.cli(&mut log, &["createak", "--alg", ak, "-u", &akpub]),
            "createak",
        );
        let out = ok(
            &log.run(&[
                "checkcert",
                &crt,
                "--ca",
                &format!("{ca}/ca.crt"),
                "--ak",
                "--key",
                &akpub,
            ]),
            "checkcert",
        );
        assert!(out.contains("as an AK certificate"), "{out}");
        assert!(out.contains("2.23.133.8.3"), "{out}");
        // TPM attributes copied from the EK certificate, and the EK certificate's hash.
        assert!(out.contains("TPM model: swtpm"), "{out}");
        assert!(out.contains("ek-cert-sha256:"), "{out}");
        // Another CA's certificate does not validate it.
        let other = tpm.p(&format!("other-{ca_alg}"));
        ok(&log.run(&["ca", "init", &other]), "ca init other");
        let o = log.run(&[
            "checkcert",
            &crt,
            "--ca",
            &format!("{other}/ca.crt"),
            "--ak",
        ]);
        assert_eq!(o.status.code(), Some(1));
        // The certificate in a proof: `verify --ak-ca` passes only with this CA, and only
        // for the AK it certifies.
        let input = tpm.p("input.txt");
        std::fs::write(&input, format!("model {ca_alg}-{ak}")).unwrap();
        let proof = tpm.p(&format!("proof-{ca_alg}-{ak}.json"));
        let other_ak = if ak == "rsa" { "ecc" } else { "rsa" };
        let wrong_proof = tpm.p(&format!("proof-wrong-{ca_alg}-{ak}.json"));
        for (p, key) in [(&proof, ak), (&wrong_proof, other_ak)] {
            if key == "ecc" {
                // measure + attest carry the certificate as run does.
                let ev = tpm.p(&format!("events-{ca_alg}-{ak}.json"));
                let o = tpm.cli(&mut log, &["measure", "--pcr", "14", "--log", &ev, &input]);
                ok(&o, "measure");
                // PCR15 was extended by an earlier run: measure records its start.
                let ev15 = tpm.p(&format!("events15-{ca_alg}-{ak}.json"));
                let m15 = ["measure", "--pcr", "15", "--log", &ev15, "--text", "done"];
                ok(&tpm.cli(&mut log, &m15), "measure 15");
                let args = [
                    "attest",
                    "--log",
                    &ev,
                    &ev15,
                    "--proof",
                    p,
                    "--ak",
                    key,
                    "--ak-cert",
                    &crt,
                    "--no-boot-log",
                ];
                ok(&tpm.cli(&mut log, &args), "attest --ak-cert");
                continue;
            }
            let args = [
                "run",
                "--proof",
                p,
                "--ak",
                key,
                "--ak-cert",
                &crt,
                "--no-boot-log",
                "--input",
                &input,
                "--",
                "true",
            ];
            ok(&tpm.cli(&mut log, &args), "run --ak-cert");
        }
        assert!(json(&proof)["ak_certificate"].is_string());
        let ca_crt = format!("{ca}/ca.crt");
        let (tpm_root, tpm_issuer) = (tpm.root(), tpm.issuer());
        let verify = |log: &mut Log, p: &str, extra: &[&str]| {
            let mut args = vec!["verify", p, "--ek-ca", &tpm_root, "--ek-chain", &tpm_issuer];
            args.extend_from_slice(extra);
            let o = log.run(&args);
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            let row = text
                .lines()
                .find(|l| l.starts_with("ak-certificate"))
                .unwrap_or_else(|| panic!("no ak-certificate row: {text}"))
                .to_string();
            (o, row)
        };
        let (o, row) = verify(&mut log, &proof, &["--ak-ca", &ca_crt]);
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(o.status.success(), "{text}");
        assert!(row.contains(" pass "), "{row}");
        assert!(row.contains("certifies the quote's AK"), "{row}");
        assert!(row.contains("EK certificate at NV 0x01c00002"), "{row}");
        assert!(row.contains("TPM manufacturer root"), "{row}");
        assert!(text.contains("ek-certificate    pass"), "{text}");
        // The certificate pins the AK where no --ak-pub is given: the rows that need a pin pass
        // and say why.
        for name in ["ak-pin", "ak", "qualified-signer"] {
            let r = row_of(&text, name);
            assert!(r.contains(" pass ") && r.contains("--ak-ca"), "{r}");
        }
        // Without --ak-ca: not checked, never pass, and nothing else pins the AK.
        let (o, row) = verify(&mut log, &proof, &[]);
        assert!(
            row.contains(" skip ") && row.contains("no --ak-ca"),
            "{row}"
        );
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        for name in ["ak-pin", "ak", "qualified-signer"] {
            assert!(row_of(&text, name).contains(" skip "), "{text}");
        }
        // Another CA: FAIL, and the certificate pins nothing.
        let other_crt = format!("{other}/ca.crt");
        let (o, row) = verify(&mut log, &proof, &["--ak-ca", &other_crt]);
        assert_eq!(o.status.code(), Some(1), "{row}");
        assert!(row.contains("FAIL"), "{row}");
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        for name in ["ak-pin", "ak", "qualified-signer"] {
            assert!(row_of(&text, name).contains(" skip "), "{text}");
        }
        // A certificate for another AK than the quote's: FAIL.
        let (o, row) = verify(&mut log, &wrong_proof, &["--ak-ca", &ca_crt]);
        assert_eq!(o.status.code(), Some(1), "{row}");
        assert!(row.contains("certifies another key"), "{row}");
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(row_of(&text, "ak-pin").contains(" skip "), "{text}");

        // The one challenge is used up.
        let st = state(Path::new(&ca));
        assert_eq!(st.len(), 1);
        assert!(st[0].0.starts_with("done/"));
        assert_no_key(Path::new(&ca), &log, &[&crt]);
    }
}

/// Sets `v[key]` (a hex string) to `f(bytes)`.
fn edit_hex(v: &mut serde_json::Value, key: &str, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = hex::decode(v[key].as_str().unwrap()).unwrap();
    f(&mut b);
    v[key] = serde_json::Value::String(hex::encode(b));
}

/// TPM2B_PUBLIC: size (2), type (2), nameAlg (2), objectAttributes (4).
fn edit_attributes(b: &mut [u8], clear: u32, set: u32) {
    let a = u32::from_be_bytes(b[6..10].try_into().unwrap());
    b[6..10].copy_from_slice(&((a & !clear) | set).to_be_bytes());
}

fn ca_challenge(
    log: &mut Log,
    ca: &str,
    req: &str,
    roots: &Tpm,
    out: &str,
    extra: &[&str],
) -> Output {
    let (root, issuer) = (roots.root(), roots.issuer());
    let mut args = vec![
        "ca",
        "challenge",
        ca,
        req,
        "--ek-ca",
        &root,
        "--ek-chain",
        &issuer,
        "-o",
        out,
    ];
    args.extend_from_slice(extra);
    log.run(&args)
}

#[test]
fn enrollment_attacks_are_refused_and_leave_the_ca_state_intact() {
    let Some(a) = Tpm::start() else { return };
    let Some(b) = Tpm::start() else { return };
    let mut log = Log::default();
    let ca = a.p("ca");
    let cap = Path::new(&ca).to_path_buf();
    ok(&log.run(&["ca", "init", &ca]), "ca init");
    let req = a.p("req.json");
    ok(
        &a.cli(&mut log, &["enroll", "request", "-o", &req]),
        "request A",
    );
    let req_b = b.p("req.json");
    ok(
        &b.cli(&mut log, &["enroll", "request", "-o", &req_b]),
        "request B",
    );
    let t = |n: &str| a.p(n);

    // Requests the CA must refuse before making any challenge.
    let before = state(&cap);
    let mut bad = |name: &str, edit: &dyn Fn(&mut serde_json::Value), code: i32, reason: &str| {
        let mut v = json(&req);
        edit(&mut v);
        let path = t(&format!("{name}.json"));
        write_json(&path, &v);
        let o = ca_challenge(
            &mut log,
            &ca,
            &path,
            &a,
            &t(&format!("{name}-ch.json")),
            &[],
        );
        refused(&o, code, reason, name);
        assert!(
            !Path::new(&t(&format!("{name}-ch.json"))).exists(),
            "{name}"
        );
        assert_eq!(state(&cap), before, "{name}: CA state changed");
    };
    bad(
        "ak-not-restricted",
        &|v| edit_hex(v, "ak_public", |b| edit_attributes(b, 0x0001_0000, 0)),
        1,
        "not restricted",
    );
    bad(
        "ak-not-fixedtpm",
        &|v| edit_hex(v, "ak_public", |b| edit_attributes(b, 0x0000_0002, 0)),
        1,
        "not fixedTPM",
    );
    bad(
        "ak-decrypt",
        &|v| edit_hex(v, "ak_public", |b| edit_attributes(b, 0, 0x0002_0000)),
        1,
        "decrypt is set",
    );
    let ek_b = json(&req_b)["ek_public"].clone();
    bad(
        "ek-not-the-certificate-key",
        &|v| v["ek_public"] = ek_b.clone(),
        1,
        "the request's EK public is not the certificate's key",
    );
    bad(
        "ek-not-from-template",
        &|v| edit_hex(v, "ek_public", |b| edit_attributes(b, 0, 0x0000_0040)),
        1,
        "not from a TCG EK template",
    );
    bad(
        "no-ek-certificate",
        &|v| v["ek_certificates"] = serde_json::json!([]),
        1,
        "no EK certificate",
    );
    bad(
        "unknown-field",
        &|v| v["extra"] = serde_json::json!(1),
        2,
        "unknown field",
    );
    bad(
        "version-2",
        &|v| v["version"] = serde_json::json!(2),
        2,
        "version 2",
    );
    // An EK certificate from a root the CA does not trust: B's own request against A's root,
    // and A's request against B's root.
    let o = ca_challenge(&mut log, &ca, &req_b, &a, &t("untrusted-ch.json"), &[]);
    refused(
        &o,
        1,
        "EK certificate chain",
        "untrusted root (B's request)",
    );
    let o = ca_challenge(&mut log, &ca, &req, &b, &t("untrusted2-ch.json"), &[]);
    refused(&o, 1, "EK certificate chain", "untrusted root (B's root)");
    assert_eq!(state(&cap), before, "untrusted root: CA state changed");

    // A credential for another AK's Name: A's EK with B's AK. The CA cannot tell, the TPM
    // refuses to release the secret to an AK that is not the one named.
    let mut v = json(&req);
    v["ak_public"] = json(&req_b)["ak_public"].clone();
    write_json(&t("other-ak.json"), &v);
    ok(
        &ca_challenge(
            &mut log,
            &ca,
            &t("other-ak.json"),
            &a,
            &t("other-ak-ch.json"),
            &[],
        ),
        "challenge for B's AK",
    );
    let o = a.cli(
        &mut log,
        &[
            "enroll",
            "activate",
            &t("other-ak-ch.json"),
            "--ak",
            "rsa",
            "-o",
            &t("x.json"),
        ],
    );
    refused(&o, 1, "another AK Name", "credential for another AK on A");
    let o = b.cli(
        &mut log,
        &[
            "enroll",
            "activate",
            &t("other-ak-ch.json"),
            "-o",
            &t("x.json"),
        ],
    );
    refused(&o, 1, "another EK", "credential for B's AK, activated on B");

    // The real challenge.
    let ch = t("ch.json");
    ok(
        &ca_challenge(&mut log, &ca, &req, &a, &ch, &[]),
        "challenge",
    );
    // Activated on another TPM: refused by that TPM.
    let o = b.cli(&mut log, &["enroll", "activate", &ch, "-o", &t("x.json")]);
    refused(&o, 1, "another EK", "challenge activated on TPM B");
    // A tampered challenge: the credential altered (the TPM's integrity check), an unknown
    // field and a bad id (the parser).
    let mut v = json(&ch);
    edit_hex(&mut v, "credential", |b| {
        let i = 12;
        b[i] ^= 1;
    });
    write_json(&t("ch-tampered.json"), &v);
    let o = a.cli(
        &mut log,
        &[
            "enroll",
            "activate",
            &t("ch-tampered.json"),
            "-o",
            &t("x.json"),
        ],
    );
    refused(&o, 1, "altered", "tampered credential");
    let mut v = json(&ch);
    v["note"] = serde_json::json!("x");
    write_json(&t("ch-field.json"), &v);
    let o = a.cli(
        &mut log,
        &[
            "enroll",
            "activate",
            &t("ch-field.json"),
            "-o",
            &t("x.json"),
        ],
    );
    refused(&o, 2, "unknown field", "challenge with an unknown field");

    let resp = t("resp.json");
    ok(
        &a.cli(&mut log, &["enroll", "activate", &ch, "-o", &resp]),
        "activate",
    );
    let pending = state(&cap);
    // Wrong secret: refused, the challenge stays pending.
    let mut v = json(&resp);
    edit_hex(&mut v, "secret", |b| b[0] ^= 0x80);
    write_json(&t("resp-wrong.json"), &v);
    let o = log.run(&["ca", "issue", &ca, &t("resp-wrong.json"), "-o", &t("x.crt")]);
    refused(&o, 1, "the secret is not the one", "wrong secret");
    assert!(!Path::new(&t("x.crt")).exists());
    assert_eq!(state(&cap), pending, "wrong secret: CA state changed");
    // A response for an id the CA never issued, and a malformed one.
    let mut v = json(&resp);
    v["challenge_id"] = serde_json::json!("00112233445566778899aabbccddeeff");
    write_json(&t("resp-id.json"), &v);
    let o = log.run(&["ca", "issue", &ca, &t("resp-id.json"), "-o", &t("x.crt")]);
    refused(&o, 1, "unknown challenge id", "unknown id");
    let mut v = json(&resp);
    v["challenge_id"] = serde_json::json!("../../ca");
    write_json(&t("resp-path.json"), &v);
    let o = log.run(&["ca", "issue", &ca, &t("resp-path.json"), "-o", &t("x.crt")]);
    refused(&o, 2, "not 32 hex digits", "path in the id");
    assert_eq!(state(&cap), pending, "bad responses: CA state changed");

    // Two concurrent issuers on one response: exactly one certificate.
    let bin = env!("CARGO_BIN_EXE_baretpm");
    let spawn = |out: String| {
        Command::new(bin)
            .args(["ca", "issue", &ca, &resp, "-o", &out])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (c1, c2) = (spawn(t("ak1.crt")), spawn(t("ak2.crt")));
    let (o1, o2) = (
        c1.wait_with_output().unwrap(),
        c2.wait_with_output().unwrap(),
    );
    let wins = [&o1, &o2].iter().filter(|o| o.status.success()).count();
    assert_eq!(wins, 1, "{o1:?} {o2:?}");
    let loser = if o1.status.success() { &o2 } else { &o1 };
    refused(loser, 1, "already used", "second concurrent issuer");
    for o in [&o1, &o2] {
        log.text.push_str(&String::from_utf8_lossy(&o.stdout));
        log.text.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    // Replayed afterwards: refused by name.
    let o = log.run(&["ca", "issue", &ca, &resp, "-o", &t("ak3.crt")]);
    refused(&o, 1, "replayed", "replayed response");

    // An expired challenge: refused, and then counted as used.
    let ch2 = t("ch2.json");
    ok(
        &ca_challenge(&mut log, &ca, &req, &a, &ch2, &["--expires", "1"]),
        "challenge 2",
    );
    let resp2 = t("resp2.json");
    ok(
        &a.cli(&mut log, &["enroll", "activate", &ch2, "-o", &resp2]),
        "activate 2",
    );
    std::thread::sleep(Duration::from_millis(2100));
    let o = log.run(&["ca", "issue", &ca, &resp2, "-o", &t("ak4.crt")]);
    refused(&o, 1, "expired", "expired challenge");
    let o = log.run(&["ca", "issue", &ca, &resp2, "-o", &t("ak4.crt")]);
    refused(&o, 1, "already used or has expired", "expired, retried");
    assert!(!Path::new(&t("ak4.crt")).exists());

    let winner = if o1.status.success() {
        t("ak1.crt")
    } else {
        t("ak2.crt")
    };
    assert_no_key(&cap, &log, &[&winner, &ch, &resp, &req]);
}

/// The line of `verify`'s table for check `name` (the first, for repeated rows).
fn row_of(table: &str, name: &str) -> String {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} row: {table}"))
        .to_string()
}
