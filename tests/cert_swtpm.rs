//! swtpm end to end: `swtpm_setup --create-ek-cert --ecc` with a private swtpm_localca
//! configuration in a temp dir (nothing written under /etc or /var/lib), then the CLI:
//! `getekcertificate`, `nvread`, `createek` (low and high range), and `checkcert --ek` with the
//! local CA (valid) and with another root (refused).

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::localca::LocalCaTpm;
use common::swtpm::ok;

/// `baretpm -T <this swtpm> ARGS...`.
trait Cli {
    fn baretpm(&self, args: &[&str]) -> Output;
}

impl Cli for LocalCaTpm {
    fn baretpm(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_baretpm"))
            .arg("-T")
            .arg(self.tcti())
            .args(args)
            .output()
            .expect("baretpm runs")
    }
}

#[test]
fn swtpm_ek_certificates_validate_end_to_end() {
    let Some(tpm) = LocalCaTpm::start("baretpm-ekcert-") else {
        return;
    };
    let p = |n: &str| tpm.path(n).display().to_string();
    let root = tpm.root().display().to_string();
    let issuer = tpm.issuer().display().to_string();

    // getekcertificate: the RSA certificate first, then all of them.
    let out = ok(
        &tpm.baretpm(&["getekcertificate", "-o", &p("ek-rsa.der")]),
        "getekcertificate",
    );
    assert!(out.contains("0x01c00002"), "{out}");
    let out = ok(
        &tpm.baretpm(&["getekcertificate", "--all", "-o", &p("ek")]),
        "getekcertificate --all",
    );
    assert!(
        out.contains("0x01c00016"),
        "P-384 EK certificate at the high-range index: {out}"
    );
    // nvread gives the same bytes (swtpm stores the bare DER).
    ok(
        &tpm.baretpm(&["nvread", "0x01c00002", "-o", &p("nv.bin")]),
        "nvread",
    );
    assert_eq!(
        std::fs::read(p("nv.bin")).unwrap(),
        std::fs::read(p("ek-rsa.der")).unwrap()
    );
    // nvread with offset and size: a slice of the same bytes.
    ok(
        &tpm.baretpm(&[
            "nvread",
            "0x01c00002",
            "--offset",
            "100",
            "-s",
            "50",
            "-o",
            &p("nv-part.bin"),
        ]),
        "nvread --offset",
    );
    assert_eq!(
        std::fs::read(p("nv-part.bin")).unwrap(),
        std::fs::read(p("nv.bin")).unwrap()[100..150]
    );

    // createek: low-range RSA (L-1) and high-range P-384 (H-3) are the certified keys.
    ok(
        &tpm.baretpm(&["createek", "-G", "rsa", "-u", &p("ek-rsa.pub")]),
        "createek rsa",
    );
    ok(
        &tpm.baretpm(&["createek", "-G", "ecc384", "-u", &p("ek-p384.pub")]),
        "createek ecc384",
    );
    ok(
        &tpm.baretpm(&[
            "createek",
            "-G",
            "ecc384",
            "-u",
            &p("ek-p384.pem"),
            "-f",
            "pem",
        ]),
        "createek ecc384 pem",
    );
    // The persisted EKs swtpm_setup made are the same keys, byte for byte.
    ok(
        &tpm.baretpm(&[
            "readpublic",
            "-c",
            "0x81010001",
            "-o",
            &p("persisted-rsa.pub"),
        ]),
        "readpublic",
    );
    assert_eq!(
        std::fs::read(p("persisted-rsa.pub")).unwrap(),
        std::fs::read(p("ek-rsa.pub")).unwrap(),
        "createek -G rsa must reproduce the persisted EK"
    );
    // swtpm 0.7.1 persists its P-384 EK (template H-3, empty unique) at 0x81010016.
    ok(
        &tpm.baretpm(&[
            "readpublic",
            "-c",
            "0x81010016",
            "-o",
            &p("persisted-p384.pub"),
        ]),
        "readpublic",
    );
    assert_eq!(
        std::fs::read(p("persisted-p384.pub")).unwrap(),
        std::fs::read(p("ek-p384.pub")).unwrap(),
        "createek -G ecc384 (template H-3) must reproduce the persisted EK"
    );

    let checkcert = |leaf: &str, ca: &str, key: &str| {
        Command::new(env!("CARGO_BIN_EXE_baretpm"))
            .args([
                "checkcert",
                leaf,
                "--ek",
                "--ca",
                ca,
                "--chain",
                &issuer,
                "--key",
                key,
            ])
            .output()
            .unwrap()
    };
    let out = ok(
        &checkcert(&p("ek-rsa.der"), &root, &p("ek-rsa.pub")),
        "checkcert RSA",
    );
    assert!(
        out.contains("TPM manufacturer: IBM (swtpm) (id:00001014)"),
        "{out}"
    );
    assert!(out.contains("result: valid"), "{out}");
    let out = ok(
        &checkcert(&p("ek-0x01c00016.der"), &root, &p("ek-p384.pub")),
        "checkcert P-384",
    );
    assert!(out.contains("key: ECC P384"), "{out}");
    ok(
        &checkcert(&p("ek-0x01c00016.der"), &root, &p("ek-p384.pem")),
        "checkcert P-384 PEM key",
    );

    // Another root: refused (exit 1) with one line naming the missing issuer.
    let other_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/certs/material/swtpm-localca-rootca-cert.pem");
    let o = checkcert(
        &p("ek-rsa.der"),
        &other_root.display().to_string(),
        &p("ek-rsa.pub"),
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no issuer"), "{err}");
    // The other EK's key: refused.
    let o = checkcert(&p("ek-rsa.der"), &root, &p("ek-p384.pub"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not the given key"));

    // The same through a proof: `run` carries the EK certificates, `verify --ek-ca` checks them.
    let proof = p("proof.json");
    ok(
        &tpm.baretpm(&["run", "--proof", &proof, "--", "true"]),
        "run",
    );
    let verify = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_baretpm"))
            .args(["verify", &proof])
            .args(extra)
            .output()
            .unwrap()
    };
    let row = |out: &str, name: &str| -> String {
        out.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} row in:\n{out}"))
            .to_string()
    };
    let o = verify(&[]);
    let out = ok(&o, "verify without --ek-ca");
    assert!(row(&out, "ek-certificate").contains("skip"), "{out}");
    assert!(row(&out, "ak-certificate").contains("skip"), "{out}");
    let o = verify(&["--ek-ca", &root, "--ek-chain", &issuer]);
    let out = ok(&o, "verify --ek-ca");
    let r = row(&out, "ek-certificate");
    assert!(r.contains("pass") && r.contains("IBM (swtpm)"), "{out}");
    let o = verify(&[
        "--ek-ca",
        &other_root.display().to_string(),
        "--ek-chain",
        &issuer,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(row(&out, "ek-certificate").contains("FAIL"), "{out}");
    // swtpm has no cloud AK certificate: asking for one fails the row.
    let o = verify(&["--ak-ca", &root]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(row(&out, "ak-certificate").contains("FAIL"), "{out}");
}
