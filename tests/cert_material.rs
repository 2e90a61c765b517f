//! Every certificate of the material (vectors/certs: real EK/AK certificates from GCE,
//! Infineon and swtpm, vendor CA bundles, keylime's store picks, and the synthetic chains of
//! vectors/certs/gen/make.sh) with its expected answer, and `openssl verify` agreeing on each
//! valid chain (skipped with a message when openssl is absent).

use baretpm::cert::{
    certificates_from_bytes, validate, CertError, Certificate, ChainLink, Policy, Role, SubjectKey,
    MAX_POOL,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/certs")
}

fn load(name: &str) -> Vec<Certificate> {
    let p = dir().join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    certificates_from_bytes(&bytes, MAX_POOL).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn load_all(names: &[&str]) -> Vec<Certificate> {
    names.iter().flat_map(|n| load(n)).collect()
}

fn unix(y: u16, m: u8, d: u8) -> u64 {
    x509_cert::der::DateTime::new(y, m, d, 0, 0, 0)
        .unwrap()
        .unix_duration()
        .as_secs()
}

/// A time at which every non-expired certificate of the material is valid (the synthetic
/// ones are made "now" with 100-year validity, so this must be after they were made).
fn at() -> u64 {
    unix(2027, 6, 1)
}

enum Expect {
    /// Valid, with this many certificates in the chain.
    Valid(usize),
    Refused(fn(&CertError) -> bool),
}

struct Case {
    name: &'static str,
    leaf: &'static str,
    roots: &'static [&'static str],
    chain: &'static [&'static str],
    role: Role,
    at: Option<(u16, u8, u8)>,
    allow_sha1: bool,
    key: Option<&'static str>,
    expect: Expect,
    /// Whether `openssl verify` is expected to accept the same chain (None: not comparable).
    openssl: Option<bool>,
}

const GCE_OLD: &[&str] = &[
    "material/tpm_ek_intermediate_2.crt",
    "material/tpm_ek_intermediate_3.crt",
];
const GCE_OLD_ROOT: &[&str] = &["material/tpm_ek_root_1.cer"];
const GCE_NEW: &[&str] = &["material/gcp_ek_ak_ca_intermediate_v3.crt"];
const GCE_NEW_ROOT: &[&str] = &["material/gcp_ek_ak_ca_root.crt"];
const SWTPM_ROOT: &[&str] = &["material/swtpm-localca-rootca-cert.pem"];
const SWTPM_ICA: &[&str] = &["material/swtpm-localca-issuercert.pem"];
const VENDOR_ROOTS: &[&str] = &["material/MIRROR.tpm-ca-certificates.pem"];
const VENDOR_ICAS: &[&str] = &["material/MIRROR.tpm-intermediate-ca-certificates.pem"];

fn case(name: &'static str, leaf: &'static str) -> Case {
    Case {
        name,
        leaf,
        roots: &[],
        chain: &[],
        role: Role::Any,
        at: None,
        allow_sha1: false,
        key: None,
        expect: Expect::Valid(3),
        openssl: Some(true),
    }
}

fn cases() -> Vec<Case> {
    use Expect::*;
    vec![
        Case {
            roots: SWTPM_ROOT,
            chain: SWTPM_ICA,
            role: Role::Ek,
            key: Some("material/ek-rsa2048.persistent-0x81010001.tpm2b_public.bin"),
            ..case("swtpm RSA-2048 EK", "material/ek-rsa2048.crt")
        },
        Case {
            roots: SWTPM_ROOT,
            chain: SWTPM_ICA,
            role: Role::Ek,
            key: Some("material/ek-secp384r1.persistent-0x81010016.tpm2b_public.bin"),
            ..case("swtpm P-384 EK (high range)", "material/ek-secp384r1.crt")
        },
        Case {
            roots: SWTPM_ROOT,
            chain: SWTPM_ICA,
            role: Role::Ek,
            key: Some("material/ek-secp384r1.persistent-0x81010016.tpm2b_public.bin"),
            expect: Refused(|e| matches!(e, CertError::KeyMismatch)),
            openssl: None,
            ..case(
                "swtpm RSA EK against the P-384 EK key",
                "material/ek-rsa2048.crt",
            )
        },
        Case {
            roots: VENDOR_ROOTS,
            chain: SWTPM_ICA,
            role: Role::Ek,
            expect: Refused(|e| matches!(e, CertError::IssuerNotFound { .. })),
            openssl: Some(false),
            ..case(
                "swtpm EK with the vendor roots (wrong root)",
                "material/ek-rsa2048.crt",
            )
        },
        Case {
            roots: SWTPM_ROOT,
            chain: SWTPM_ICA,
            role: Role::Ak,
            expect: Refused(|e| matches!(e, CertError::KeyUsageMismatch { .. })),
            openssl: None,
            ..case(
                "swtpm EK checked as an AK certificate",
                "material/ek-rsa2048.crt",
            )
        },
        Case {
            roots: &["material/OptigaRsaRootCA.pem"],
            chain: &["material/OptigaRsaMfrCA035.pem"],
            role: Role::Ek,
            key: Some("material/slb9670_ek_rsa2048.expected_tpm2b_public.bin"),
            ..case(
                "Infineon SLB 9670 RSA EK",
                "material/slb9670_ek_rsa2048.der",
            )
        },
        Case {
            roots: VENDOR_ROOTS,
            chain: VENDOR_ICAS,
            role: Role::Ek,
            ..case(
                "Infineon SLB 9670 RSA EK through the vendor bundles",
                "material/slb9670_ek_rsa2048.der",
            )
        },
        Case {
            roots: &["material/OptigaRsaRootCA.pem"],
            chain: &["material/OptigaRsaMfrCA035.pem"],
            role: Role::Ek,
            at: Some((2018, 6, 1)),
            expect: Refused(|e| matches!(e, CertError::NotYetValid { .. })),
            openssl: Some(false),
            ..case(
                "Infineon EK at its issuance (CA 035 re-issued 2023)",
                "material/slb9670_ek_rsa2048.der",
            )
        },
        Case {
            roots: &["material/IFX_RSA_RT.pem"],
            chain: &["material/IFX_RSA_20I.pem"],
            role: Role::Ek,
            expect: Refused(|e| matches!(e, CertError::Expired { .. })),
            openssl: None,
            ..case(
                "Infineon TPM 1.2 OAEP EK, expired",
                "material/tpm12_ek_rsaes_oaep.pem",
            )
        },
        Case {
            roots: &["material/IFX_RSA_RT.pem"],
            chain: &["material/IFX_RSA_20I.pem"],
            role: Role::Ek,
            at: Some((2020, 1, 1)),
            expect: Refused(|e| matches!(e, CertError::Sha1NotAllowed)),
            openssl: None,
            ..case(
                "Infineon TPM 1.2 OAEP EK, SHA-1 not allowed",
                "material/tpm12_ek_rsaes_oaep.pem",
            )
        },
        // OpenSSL cannot read the OAEP SPKI, and refuses IFX CA 20 under the IFX root because
        // its authorityKeyIdentifier names serial 03 while the root in keylime's store is a
        // re-issue with another serial (same key: the signature verifies).
        Case {
            roots: &["material/IFX_RSA_RT.pem"],
            chain: &["material/IFX_RSA_20I.pem"],
            role: Role::Ek,
            at: Some((2020, 1, 1)),
            allow_sha1: true,
            openssl: Some(false),
            ..case(
                "Infineon TPM 1.2 OAEP EK with --allow-sha1 in 2020",
                "material/tpm12_ek_rsaes_oaep.pem",
            )
        },
        Case {
            roots: GCE_NEW_ROOT,
            chain: GCE_NEW,
            role: Role::Ek,
            ..case("GCE RSA EK (new PKI)", "material/pca_tpm_rsa_enc_cert.pem")
        },
        Case {
            roots: GCE_NEW_ROOT,
            chain: GCE_NEW,
            role: Role::Ek,
            ..case("GCE ECC EK (new PKI)", "material/pca_tpm_ecc_enc_cert.pem")
        },
        Case {
            roots: GCE_NEW_ROOT,
            chain: GCE_NEW,
            role: Role::Ak,
            ..case("GCE RSA AK (new PKI)", "material/pca_tpm_rsa_sign_cert.pem")
        },
        Case {
            roots: GCE_NEW_ROOT,
            chain: GCE_NEW,
            role: Role::Ak,
            ..case("GCE ECC AK (new PKI)", "material/pca_tpm_ecc_sign_cert.pem")
        },
        Case {
            roots: GCE_NEW_ROOT,
            chain: GCE_NEW,
            role: Role::Ek,
            expect: Refused(|e| matches!(e, CertError::KeyUsageMismatch { .. })),
            openssl: None,
            ..case(
                "GCE AK checked as an EK certificate",
                "material/pca_tpm_rsa_sign_cert.pem",
            )
        },
        Case {
            roots: GCE_OLD_ROOT,
            chain: GCE_OLD,
            role: Role::Ek,
            ..case("GCE RSA EK (old PKI)", "material/uca_tpm_rsa_enc_cert.pem")
        },
        Case {
            roots: GCE_OLD_ROOT,
            chain: GCE_OLD,
            role: Role::Ek,
            ..case("GCE ECC EK (old PKI)", "material/uca_tpm_ecc_enc_cert.pem")
        },
        Case {
            roots: GCE_OLD_ROOT,
            chain: GCE_OLD,
            role: Role::Ak,
            ..case(
                "GCE RSA AK (old PKI, EK EKU)",
                "material/uca_tpm_rsa_sign_cert.pem",
            )
        },
        Case {
            roots: GCE_OLD_ROOT,
            chain: GCE_OLD,
            role: Role::Ak,
            ..case(
                "GCE ECC AK (old PKI, EK EKU)",
                "material/uca_tpm_ecc_sign_cert.pem",
            )
        },
        Case {
            roots: GCE_OLD_ROOT,
            chain: GCE_OLD,
            role: Role::Ak,
            key: Some("material/gce-cos-85-nonce9009.akpub.bin"),
            ..case(
                "GCE AK certificate of a captured quote, with its AK",
                "material/gce-cos-85-nonce9009.akcert.der",
            )
        },
        Case {
            roots: GCE_NEW_ROOT,
            chain: GCE_OLD,
            role: Role::Ak,
            expect: Refused(|e| matches!(e, CertError::IssuerNotFound { .. })),
            openssl: Some(false),
            ..case(
                "GCE old-PKI AK with the new-PKI root",
                "material/uca_tpm_rsa_sign_cert.pem",
            )
        },
        Case {
            roots: GCE_NEW_ROOT,
            chain: GCE_NEW,
            role: Role::Ek,
            at: Some((2060, 1, 1)),
            expect: Refused(|e| matches!(e, CertError::Expired { .. })),
            openssl: Some(false),
            ..case(
                "GCE EK in 2060 (expired)",
                "material/pca_tpm_rsa_enc_cert.pem",
            )
        },
        Case {
            roots: &["material/INTEL_RT.pem"],
            expect: Valid(2),
            ..case(
                "Intel PTT intermediate (critical EKU and policies)",
                "material/INTEL_I.pem",
            )
        },
        Case {
            roots: VENDOR_ROOTS,
            expect: Valid(2),
            ..case(
                "STM intermediate 05 (keylime copy) under the vendor roots",
                "material/STM_RSA_05I.pem",
            )
        },
        Case {
            roots: &["material/IFX_RSA_RT.pem"],
            allow_sha1: true,
            expect: Valid(2),
            openssl: Some(false),
            ..case(
                "IFX intermediate 20 (SHA-1) under the IFX root",
                "material/IFX_RSA_20I.pem",
            )
        },
        Case {
            roots: &["material/IFX_RSA_RT.pem"],
            expect: Refused(|e| matches!(e, CertError::Sha1NotAllowed)),
            openssl: None,
            ..case(
                "IFX intermediate 20 without --allow-sha1",
                "material/IFX_RSA_20I.pem",
            )
        },
        Case {
            roots: &["material/NTC1.pem"],
            expect: Valid(2),
            ..case(
                "Nuvoton root (unsorted SET) as its own anchor",
                "material/NTC1.pem",
            )
        },
        Case {
            roots: &["material/NUVO_2111.pem"],
            expect: Valid(2),
            ..case(
                "Nuvoton ECDSA root as its own anchor",
                "material/NUVO_2111.pem",
            )
        },
        // Synthetic chains.
        Case {
            roots: &["gen/pss-root.pem"],
            chain: &["gen/p384-ica.pem"],
            role: Role::Ek,
            key: Some("gen/ek-p256.pub.pem"),
            ..case(
                "RSA-PSS/SHA-384 root, P-384 intermediate, P-256 EK",
                "gen/ek-p256.pem",
            )
        },
        Case {
            roots: &["gen/p384-root.pem"],
            expect: Valid(2),
            ..case(
                "ecdsa-with-SHA512 on P-384 signing an RSA leaf",
                "gen/rsa-leaf.pem",
            )
        },
        Case {
            roots: &["gen/pss-root.pem"],
            chain: &["gen/nokcs-ica.pem"],
            expect: Refused(|e| matches!(e, CertError::NoKeyCertSign { .. })),
            openssl: Some(false),
            ..case("CA without keyCertSign", "gen/nokcs-leaf.pem")
        },
        Case {
            roots: &["gen/pss-root.pem"],
            chain: &["gen/notca-ica.pem"],
            expect: Refused(|e| matches!(e, CertError::NotCa { .. })),
            openssl: Some(false),
            ..case("issuer with cA FALSE", "gen/notca-leaf.pem")
        },
        Case {
            roots: &["gen/pl0-root.pem"],
            chain: &["gen/pl0-ica.pem"],
            expect: Refused(|e| matches!(e, CertError::PathLenExceeded { .. })),
            openssl: Some(false),
            ..case("pathLenConstraint 0 exceeded", "gen/pl0-leaf.pem")
        },
        Case {
            roots: &["gen/pss-root.pem"],
            chain: &["gen/loop-chain.pem"],
            expect: Refused(|e| matches!(e, CertError::ChainLoop { .. })),
            openssl: Some(false),
            ..case("two CAs certifying each other", "gen/loop-leaf.pem")
        },
        Case {
            roots: &["gen/twin-root.pem"],
            expect: Refused(|e| matches!(e, CertError::WrongKeyType { .. })),
            openssl: Some(false),
            ..case(
                "RSA signature, EC issuer of the same name",
                "gen/twin-leaf.pem",
            )
        },
        Case {
            roots: &["gen/pss-root.pem"],
            expect: Refused(|e| matches!(e, CertError::UnknownCriticalExtension(_))),
            openssl: Some(false),
            ..case("unknown critical extension", "gen/crit-leaf.pem")
        },
        Case {
            roots: &["gen/pss-root.pem"],
            role: Role::Ak,
            expect: Valid(2),
            ..case("AK certificate with the AK EKU", "gen/ak-leaf.pem")
        },
        Case {
            roots: &["gen/pss-root.pem"],
            role: Role::Ek,
            expect: Refused(|e| matches!(e, CertError::EkuMismatch { .. })),
            openssl: None,
            ..case(
                "AK certificate checked as an EK certificate",
                "gen/ak-leaf.pem",
            )
        },
        Case {
            roots: &["gen/pss-root.pem"],
            chain: &["gen/p384-ica.pem"],
            role: Role::Ek,
            key: Some("gen/ek-p256.pub.pem"),
            expect: Valid(3),
            ..case("the P-256 EK with its key again (PEM)", "gen/ek-p256.pem")
        },
    ]
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Writes `certs` as one PEM file.
fn pem_file(dirp: &Path, name: &str, certs: &[&Certificate]) -> PathBuf {
    let mut s = String::new();
    for c in certs {
        let pem = x509_cert::der::pem::encode_string(
            "CERTIFICATE",
            x509_cert::der::pem::LineEnding::LF,
            c.der(),
        )
        .unwrap();
        s.push_str(&pem);
    }
    let p = dirp.join(name);
    std::fs::write(&p, s).unwrap();
    p
}

fn openssl_verify(
    tmp: &Path,
    leaf: &Certificate,
    chain: &[Certificate],
    roots: &[Certificate],
    at: u64,
) -> (bool, String) {
    let leaf_p = pem_file(tmp, "leaf.pem", &[leaf]);
    let roots_p = pem_file(tmp, "roots.pem", &roots.iter().collect::<Vec<_>>());
    let mut cmd = Command::new("openssl");
    // Every --ca certificate is a trust anchor in baretpm, self-signed or not (the vendor
    // bundle has non-self-signed "roots" such as AMD Pluton Global Factory ICA).
    cmd.arg("verify")
        .arg("-partial_chain")
        .arg("-attime")
        .arg(at.to_string())
        .arg("-CAfile")
        .arg(&roots_p);
    if !chain.is_empty() {
        let chain_p = pem_file(tmp, "chain.pem", &chain.iter().collect::<Vec<_>>());
        cmd.arg("-untrusted").arg(chain_p);
    }
    let out = cmd.arg(&leaf_p).output().expect("openssl runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn every_material_certificate_has_its_expected_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let openssl = openssl_available();
    if !openssl {
        println!("openssl not found: the differential half of this test is skipped");
    }
    let mut compared = 0;
    for c in cases() {
        let leaf = load(c.leaf).remove(0);
        let roots = load_all(c.roots);
        let chain = load_all(c.chain);
        let when = c.at.map_or(at(), |(y, m, d)| unix(y, m, d));
        let policy = Policy {
            at: when,
            allow_sha1: c.allow_sha1,
            role: c.role,
        };
        let mut got = validate(&leaf, &chain, &roots, &policy);
        if let (Ok(_), Some(k)) = (&got, c.key) {
            let bytes = std::fs::read(dir().join(k)).unwrap();
            let want = SubjectKey::from_key_bytes(&bytes).unwrap();
            if leaf.subject_key().unwrap() != want {
                got = Err(CertError::KeyMismatch);
            }
        }
        match (&c.expect, &got) {
            (Expect::Valid(n), Ok(v)) => {
                assert_eq!(v.links.len(), *n, "{}: chain {:?}", c.name, v.links);
                assert_eq!(v.links[0], ChainLink::Leaf);
                assert!(matches!(v.links[n - 1], ChainLink::Root(_)), "{}", c.name);
            }
            (Expect::Refused(f), Err(e)) => {
                assert!(f(e), "{}: refused for another reason: {e}", c.name)
            }
            (Expect::Valid(_), Err(e)) => panic!("{}: refused: {e}", c.name),
            (Expect::Refused(_), Ok(v)) => panic!("{}: accepted: {:?}", c.name, v.links),
        }
        println!(
            "{:<60} {}",
            c.name,
            match &got {
                Ok(_) => "valid".into(),
                Err(e) => e.to_string(),
            }
        );
        if let (true, Some(expected)) = (openssl, c.openssl) {
            let (ok, text) = openssl_verify(tmp.path(), &leaf, &chain, &roots, when);
            assert_eq!(ok, expected, "{}: openssl verify said: {text}", c.name);
            compared += 1;
        }
    }
    if openssl {
        assert!(
            compared >= 25,
            "only {compared} cases compared with openssl"
        );
    }
}

/// Each of the 143 vendor intermediates against the 26 vendor roots (and the other
/// intermediates): baretpm's verdict against `openssl verify`'s. The only disagreements
/// allowed are algorithms baretpm does not implement (P-521).
#[test]
fn vendor_intermediates_agree_with_openssl() {
    let roots = load("material/MIRROR.tpm-ca-certificates.pem");
    let icas = load("material/MIRROR.tpm-intermediate-ca-certificates.pem");
    assert_eq!((roots.len(), icas.len()), (26, 143));
    let openssl = openssl_available();
    if !openssl {
        println!("openssl not found: verdicts are not compared");
    }
    let tmp = tempfile::tempdir().unwrap();
    let when = unix(2026, 6, 1);
    let policy = Policy {
        at: when,
        allow_sha1: true,
        role: Role::Any,
    };
    let (mut valid, mut unsupported, mut other) = (0, 0, 0);
    for (i, leaf) in icas.iter().enumerate() {
        let others: Vec<Certificate> = icas
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| c.clone())
            .collect();
        let got = validate(leaf, &others, &roots, &policy);
        let unsupported_alg = matches!(
            got,
            Err(CertError::UnsupportedKey(_)) | Err(CertError::UnsupportedSignatureAlgorithm(_))
        );
        match &got {
            Ok(_) => valid += 1,
            Err(_) if unsupported_alg => unsupported += 1,
            Err(e) => {
                other += 1;
                println!("refused {}: {e}", leaf.display_name());
            }
        }
        if openssl {
            let (ok, text) = openssl_verify(tmp.path(), leaf, &others, &roots, when);
            if unsupported_alg {
                continue;
            }
            assert_eq!(
                ok,
                got.is_ok(),
                "{}: baretpm {:?}, openssl: {text}",
                leaf.display_name(),
                got.as_ref().err()
            );
        }
    }
    println!("{valid} valid, {unsupported} with unsupported algorithms, {other} refused");
    assert!(valid >= 100, "only {valid} vendor intermediates validated");
}
