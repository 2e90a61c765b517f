//! `baretpm makecredential` / `baretpm activatecredential` against a private swtpm, and
//! interop with tpm2-tools both ways: our credential file activated by
//! tpm2_activatecredential, tpm2_makecredential's file activated by us; and the refusals with
//! their exit codes.

#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "rsa",
    feature = "p256"
))]

mod common;

use common::swtpm::{baretpm, tpm2, Ek, Family, Options, SwtpmInstance};
use std::path::Path;
use std::process::Output;

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start() -> SwtpmInstance {
    SwtpmInstance::start_with(Options {
        ek: Ek::Key,
        family: Family::Tcp,
    })
    .expect("swtpm must be installed")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn baretpm_makes_tpm2_tools_activates() {
    let sw = start();
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    ok(
        &tpm2(
            &sw,
            "tpm2_createek",
            &["-c", s(&p("ek.ctx")), "-G", "rsa", "-u", s(&p("ek.pub"))],
        ),
        "tpm2_createek",
    );
    ok(
        &tpm2(
            &sw,
            "tpm2_createak",
            &[
                "-C",
                s(&p("ek.ctx")),
                "-c",
                s(&p("ak.ctx")),
                "-G",
                "rsa",
                "-g",
                "sha256",
                "-s",
                "rsassa",
                "-u",
                s(&p("ak.pub")),
                "-n",
                s(&p("ak.name")),
            ],
        ),
        "tpm2_createak",
    );
    let name = hex::encode(std::fs::read(p("ak.name")).unwrap());
    let secret = [0x42u8; 32];
    std::fs::write(p("secret"), secret).unwrap();
    // With the AK public: its attributes are checked and its Name must equal -n.
    ok(
        &baretpm(
            &sw,
            &[
                "makecredential",
                "-u",
                s(&p("ek.pub")),
                "-s",
                s(&p("secret")),
                "-n",
                &name,
                "--ak-public",
                s(&p("ak.pub")),
                "-o",
                s(&p("cred")),
            ],
        ),
        "baretpm makecredential",
    );
    ok(
        &tpm2(
            &sw,
            "tpm2_startauthsession",
            &["--policy-session", "-S", s(&p("session.ctx"))],
        ),
        "tpm2_startauthsession",
    );
    ok(
        &tpm2(
            &sw,
            "tpm2_policysecret",
            &["-S", s(&p("session.ctx")), "-c", "e"],
        ),
        "tpm2_policysecret",
    );
    let session = format!("session:{}", s(&p("session.ctx")));
    ok(
        &tpm2(
            &sw,
            "tpm2_activatecredential",
            &[
                "-c",
                s(&p("ak.ctx")),
                "-C",
                s(&p("ek.ctx")),
                "-i",
                s(&p("cred")),
                "-o",
                s(&p("out")),
                "-P",
                &session,
            ],
        ),
        "tpm2_activatecredential",
    );
    assert_eq!(std::fs::read(p("out")).unwrap(), secret);

    // A Name that is not the AK's is refused before anything is made (exit 1).
    let mut other = name.clone();
    other.replace_range(10..12, if &other[10..12] == "00" { "01" } else { "00" });
    let out = baretpm(
        &sw,
        &[
            "makecredential",
            "-u",
            s(&p("ek.pub")),
            "-s",
            s(&p("secret")),
            "-n",
            &other,
            "--ak-public",
            s(&p("ak.pub")),
            "-o",
            s(&p("cred2")),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not the Name of the AK"));

    // An AK public without fixedTPM is refused (exit 1), naming the attribute.
    let mut ak = std::fs::read(p("ak.pub")).unwrap();
    ak[9] &= !0x02; // TPMA_OBJECT low byte: after size, type, nameAlg and 3 attribute bytes
    std::fs::write(p("ak-bad.pub"), &ak).unwrap();
    let out = baretpm(
        &sw,
        &[
            "makecredential",
            "-u",
            s(&p("ek.pub")),
            "-s",
            s(&p("secret")),
            "--ak-public",
            s(&p("ak-bad.pub")),
            "-o",
            s(&p("cred3")),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not fixedTPM"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!p("cred3").exists());
}

#[test]
fn tpm2_tools_makes_baretpm_activates_and_refusals() {
    let sw = start();
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    // The EK from template L-2 is the same key tpm2_createek -G ecc makes.
    ok(
        &tpm2(
            &sw,
            "tpm2_createek",
            &["-c", s(&p("ek.ctx")), "-G", "ecc", "-u", s(&p("ek.pub"))],
        ),
        "tpm2_createek",
    );
    ok(
        &baretpm(
            &sw,
            &[
                "createak",
                "--alg",
                "ecc",
                "-u",
                s(&p("ak.pub")),
                "-n",
                s(&p("ak.name")),
            ],
        ),
        "baretpm createak",
    );
    let name = hex::encode(std::fs::read(p("ak.name")).unwrap());
    let secret: Vec<u8> = (0..32).collect();
    std::fs::write(p("secret"), &secret).unwrap();
    ok(
        &tpm2(
            &sw,
            "tpm2_makecredential",
            &[
                "-T",
                "none",
                "-u",
                s(&p("ek.pub")),
                "-s",
                s(&p("secret")),
                "-n",
                &name,
                "-o",
                s(&p("cred")),
            ],
        ),
        "tpm2_makecredential",
    );
    ok(
        &baretpm(
            &sw,
            &[
                "activatecredential",
                "--ek",
                "ecc",
                "--ak",
                "ecc",
                "-i",
                s(&p("cred")),
                "-o",
                s(&p("out")),
            ],
        ),
        "baretpm activatecredential",
    );
    assert_eq!(std::fs::read(p("out")).unwrap(), secret);

    // The same credential offered with the RSA AK (another Name): the TPM refuses, exit 1.
    let out = baretpm(
        &sw,
        &[
            "activatecredential",
            "--ek",
            "ecc",
            "--ak",
            "rsa",
            "-i",
            s(&p("cred")),
            "-o",
            s(&p("out2")),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another AK Name"), "{err}");
    assert!(!p("out2").exists());

    // A flipped integrity HMAC byte: refused the same way.
    let mut cred = std::fs::read(p("cred")).unwrap();
    cred[8 + 2 + 2 + 3] ^= 0x80;
    std::fs::write(p("cred-bad"), &cred).unwrap();
    let out = baretpm(
        &sw,
        &[
            "activatecredential",
            "--ek",
            "ecc",
            "--ak",
            "ecc",
            "-i",
            s(&p("cred-bad")),
            "-o",
            s(&p("out3")),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    // A file that is not a credential file: exit 2, before any TPM command.
    std::fs::write(p("junk"), b"not a credential").unwrap();
    let out = baretpm(
        &sw,
        &[
            "activatecredential",
            "--ek",
            "ecc",
            "--ak",
            "ecc",
            "-i",
            s(&p("junk")),
            "-o",
            s(&p("out4")),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a credential file"));

    // Our own round trip with the PEM form of the EK and the RSA pair.
    ok(
        &tpm2(
            &sw,
            "tpm2_createek",
            &[
                "-c",
                s(&p("ekr.ctx")),
                "-G",
                "rsa",
                "-u",
                s(&p("ekr.pem")),
                "-f",
                "pem",
            ],
        ),
        "tpm2_createek -f pem",
    );
    ok(
        &baretpm(&sw, &["createak", "--alg", "rsa", "-u", s(&p("akr.pub"))]),
        "baretpm createak",
    );
    ok(
        &baretpm(
            &sw,
            &[
                "makecredential",
                "-u",
                s(&p("ekr.pem")),
                "-s",
                s(&p("secret")),
                "--ak-public",
                s(&p("akr.pub")),
                "-o",
                s(&p("credr")),
            ],
        ),
        "baretpm makecredential (PEM EK)",
    );
    ok(
        &baretpm(
            &sw,
            &[
                "activatecredential",
                "--ek",
                "rsa",
                "--ak",
                "rsa",
                "-i",
                s(&p("credr")),
                "-o",
                s(&p("outr")),
            ],
        ),
        "baretpm activatecredential (RSA)",
    );
    assert_eq!(std::fs::read(p("outr")).unwrap(), secret);

    // The high-range P-384 EK: its PEM (as an EK certificate would give it) to makecredential,
    // and --ek ecc384 (template H-3, SHA-384, AES-256, password session) to activate.
    ok(
        &tpm2(
            &sw,
            "tpm2_readpublic",
            &["-c", "0x81010016", "-f", "pem", "-o", s(&p("ek384.pem"))],
        ),
        "tpm2_readpublic 0x81010016",
    );
    ok(
        &baretpm(
            &sw,
            &[
                "makecredential",
                "-u",
                s(&p("ek384.pem")),
                "-s",
                s(&p("secret")),
                "--ak-public",
                s(&p("akr.pub")),
                "-o",
                s(&p("cred384")),
            ],
        ),
        "baretpm makecredential (P-384 PEM EK)",
    );
    ok(
        &baretpm(
            &sw,
            &[
                "activatecredential",
                "--ek",
                "ecc384",
                "--ak",
                "rsa",
                "-i",
                s(&p("cred384")),
                "-o",
                s(&p("out384")),
            ],
        ),
        "baretpm activatecredential --ek ecc384",
    );
    assert_eq!(std::fs::read(p("out384")).unwrap(), secret);
}
