//! An EK template and EK nonce stored in NV by the platform (TCG EK Credential Profile, low
//! range 0x01c0000b/0x01c0000c for ECC P-256) on a real swtpm: every place that creates the EK
//! (`createek`, the salted session of `run`, `enroll request`, `activatecredential --ek ecc`)
//! must create the key the platform's EK certificate certifies (here a certificate made for
//! the key `createek` reports), and without the nonce that certificate must be refused.

#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "cert",
    feature = "rsa",
    feature = "p256"
))]

mod common;

use baretpm::commands::templates;
use baretpm::wire::{Marshal, Writer};
use common::swtpm::{baretpm, ok, tpm2, SwtpmInstance};
use std::path::Path;
use std::process::{Command, Output};

const ECC_NONCE_INDEX: &str = "0x01c0000b";
const ECC_TEMPLATE_INDEX: &str = "0x01c0000c";
const ECC_CERT_INDEX: &str = "0x01c0000a";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Defines `index` in the platform hierarchy (as a platform would: readable with the index's
/// empty password) and writes `file` into it.
fn nv_store(sw: &SwtpmInstance, index: &str, file: &Path) {
    let size = std::fs::metadata(file).unwrap().len().to_string();
    ok(
        &tpm2(
            sw,
            "tpm2_nvdefine",
            &[
                index,
                "-C",
                "p",
                "-s",
                &size,
                "-a",
                "ppwrite|ppread|ownerread|authread|platformcreate|no_da",
            ],
        ),
        &format!("tpm2_nvdefine {index}"),
    );
    ok(
        &tpm2(sw, "tpm2_nvwrite", &[index, "-C", "p", "-i", s(file)]),
        &format!("tpm2_nvwrite {index}"),
    );
}

fn openssl(args: &[&str]) {
    let o = Command::new("openssl").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn ek_template_and_nonce_in_nv_are_honoured_everywhere() {
    let sw = SwtpmInstance::start().expect("swtpm must be installed");
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);

    // The default EK, before the platform stores anything.
    ok(
        &baretpm(&sw, &["createek", "-G", "ecc", "-u", s(&p("default.pub"))]),
        "createek (default)",
    );

    // Template L-2 and a 12-byte nonce in NV.
    let mut buf = [0u8; 1024];
    let mut w = Writer::new(&mut buf);
    templates::ek_ecc().marshal(&mut w).unwrap();
    std::fs::write(p("template.bin"), w.written()).unwrap();
    std::fs::write(p("nonce.bin"), b"baretpm-test").unwrap();
    nv_store(&sw, ECC_TEMPLATE_INDEX, &p("template.bin"));
    nv_store(&sw, ECC_NONCE_INDEX, &p("nonce.bin"));

    // createek honours both and says so; the key is the same every time, and not the default
    // one. (tpm2_createek -t of tpm2-tools 5.4 is no reference here: with a nonce in NV it
    // makes a different EK on every run, see docs/ek-templates.md.)
    let out = ok(
        &baretpm(&sw, &["createek", "-G", "ecc", "-u", s(&p("ek.pub"))]),
        "createek (NV)",
    );
    assert!(out.contains("template: from NV, nonce from NV"), "{out}");
    ok(
        &baretpm(&sw, &["createek", "-G", "ecc", "-u", s(&p("ek-again.pub"))]),
        "createek (NV, again)",
    );
    let ek = std::fs::read(p("ek.pub")).unwrap();
    assert_eq!(ek, std::fs::read(p("ek-again.pub")).unwrap());
    assert_ne!(
        ek,
        std::fs::read(p("default.pub")).unwrap(),
        "the nonce must change the EK"
    );

    // An EK certificate for that key at the P-256 index (swtpm made certificates for RSA-2048
    // and P-384 only), so the flow's session picks this EK.
    ok(
        &baretpm(
            &sw,
            &["createek", "-G", "ecc", "-f", "pem", "-u", s(&p("ek.pem"))],
        ),
        "createek -f pem",
    );
    std::fs::write(
        p("ext.cnf"),
        "[ek]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyAgreement\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        s(&p("ca.key")),
        "-out",
        s(&p("ca.pem")),
        "-subj",
        "/CN=baretpm test EK CA",
        "-days",
        "2",
    ]);
    openssl(&[
        "x509",
        "-new",
        "-force_pubkey",
        s(&p("ek.pem")),
        "-subj",
        "/CN=baretpm test EK",
        "-CA",
        s(&p("ca.pem")),
        "-CAkey",
        s(&p("ca.key")),
        "-days",
        "2",
        "-extfile",
        s(&p("ext.cnf")),
        "-extensions",
        "ek",
        "-outform",
        "DER",
        "-out",
        s(&p("ek.der")),
    ]);
    nv_store(&sw, ECC_CERT_INDEX, &p("ek.der"));

    // run: the session is salted to the certified EK.
    let o = baretpm(
        &sw,
        &[
            "run",
            "--proof",
            s(&p("proof.json")),
            "--no-boot-log",
            "--",
            "true",
        ],
    );
    ok(&o, "run");
    assert!(
        stderr(&o).contains("the EK certificate at NV 0x01c0000a certifies"),
        "{}",
        stderr(&o)
    );
    let proof = std::fs::read_to_string(p("proof.json")).unwrap();
    assert!(proof.contains("\"salted-ek-certified\""), "{proof}");

    // enroll request: the request's EK is the same key.
    let out = ok(
        &baretpm(
            &sw,
            &["enroll", "request", "--ek", "ecc", "-o", s(&p("req.json"))],
        ),
        "enroll request",
    );
    assert!(out.contains("nonce from NV"), "{out}");
    let req = std::fs::read_to_string(p("req.json")).unwrap();
    assert!(req.contains(&hex::encode(&ek)), "{req}");

    // activatecredential --ek ecc recovers a secret made for that EK.
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
        "createak",
    );
    let name = hex::encode(std::fs::read(p("ak.name")).unwrap());
    std::fs::write(p("secret"), [0x5au8; 32]).unwrap();
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
                "-o",
                s(&p("cred")),
            ],
        ),
        "makecredential",
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
        "activatecredential",
    );
    assert_eq!(std::fs::read(p("out")).unwrap(), [0x5au8; 32]);

    // Without the nonce the TPM makes another EK, which the certificate does not certify:
    // the session refuses it rather than salting to an unverified key.
    ok(
        &tpm2(&sw, "tpm2_nvundefine", &[ECC_NONCE_INDEX, "-C", "p"]),
        "tpm2_nvundefine",
    );
    let o = baretpm(
        &sw,
        &[
            "run",
            "--proof",
            s(&p("proof2.json")),
            "--no-boot-log",
            "--",
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!p("proof2.json").exists());
}

/// NV contents that are not a template, or a nonce too long for `unique`, are refused by
/// name; nothing falls back to the default template.
#[test]
fn malformed_ek_template_or_nonce_in_nv_is_refused() {
    let sw = SwtpmInstance::start().expect("swtpm must be installed");
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    std::fs::write(p("nonce.bin"), [7u8; 40]).unwrap();
    nv_store(&sw, ECC_NONCE_INDEX, &p("nonce.bin"));
    let o = baretpm(&sw, &["createek", "-G", "ecc", "-u", s(&p("ek.pub"))]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("EK nonce"), "{}", stderr(&o));
    assert!(!p("ek.pub").exists());

    std::fs::write(p("template.bin"), [1u8, 2, 3]).unwrap();
    nv_store(&sw, ECC_TEMPLATE_INDEX, &p("template.bin"));
    let o = baretpm(&sw, &["createek", "-G", "ecc", "-u", s(&p("ek.pub"))]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("EK template in NV"), "{}", stderr(&o));
}
