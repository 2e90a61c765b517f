//! EK certificate chain validation.
//!
//! `chain/validate`: `cert::validate` on a pre-parsed 3-certificate EK chain (swtpm RSA-2048
//! EK <- swtpm-localca (RSA-3072) <- root, and the P-256 EK <- P-384 <- RSA-3072 PSS root of
//! vectors/certs/gen), next to `chain/signatures_only`: the two `verify_signature` calls of
//! the chain with the issuer keys already built. Target: validate ≤ 1.1× signatures.
//! `chain/parse_and_validate` adds parsing the three DER certificates.
//!
//! `process/checkcert` vs `process/openssl_verify`: one `baretpm checkcert` process against
//! one `openssl verify` process on the same chain (skipped when openssl is absent).

use baretpm::cert::{
    certificates_from_bytes, validate, verify_signature, Certificate, IssuerKey, Policy, Role,
};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn vec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/certs")
}

fn load(name: &str) -> Certificate {
    let b = std::fs::read(vec_dir().join(name)).unwrap();
    certificates_from_bytes(&b, 1).unwrap().remove(0)
}

struct Chain {
    name: &'static str,
    leaf: Certificate,
    ica: Certificate,
    root: Certificate,
    files: [&'static str; 3],
}

fn chains() -> Vec<Chain> {
    [
        (
            "swtpm_rsa",
            [
                "material/ek-rsa2048.crt",
                "material/swtpm-localca-issuercert.pem",
                "material/swtpm-localca-rootca-cert.pem",
            ],
        ),
        (
            "p256_p384_pss",
            ["gen/ek-p256.pem", "gen/p384-ica.pem", "gen/pss-root.pem"],
        ),
    ]
    .into_iter()
    .map(|(name, files)| Chain {
        name,
        leaf: load(files[0]),
        ica: load(files[1]),
        root: load(files[2]),
        files,
    })
    .collect()
}

fn policy() -> Policy {
    Policy {
        at: 1_811_808_000,
        allow_sha1: false,
        role: Role::Ek,
    }
}

fn bench_chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    for ch in chains() {
        let p = policy();
        let v = validate(
            &ch.leaf,
            std::slice::from_ref(&ch.ica),
            std::slice::from_ref(&ch.root),
            &p,
        )
        .expect("bench chain validates");
        assert_eq!(v.links.len(), 3);
        g.bench_function(format!("{}/validate", ch.name), |b| {
            b.iter(|| {
                validate(
                    black_box(&ch.leaf),
                    std::slice::from_ref(&ch.ica),
                    std::slice::from_ref(&ch.root),
                    &p,
                )
                .unwrap()
            })
        });
        let ica_key = IssuerKey::of(&ch.ica).unwrap();
        let root_key = IssuerKey::of(&ch.root).unwrap();
        g.bench_function(format!("{}/signatures_only", ch.name), |b| {
            b.iter(|| {
                verify_signature(black_box(&ch.leaf), &ica_key, "ica", false).unwrap();
                verify_signature(black_box(&ch.ica), &root_key, "root", false).unwrap();
            })
        });
        let ders: Vec<Vec<u8>> = [&ch.leaf, &ch.ica, &ch.root]
            .iter()
            .map(|c| c.der().to_vec())
            .collect();
        g.bench_function(format!("{}/parse_and_validate", ch.name), |b| {
            b.iter(|| {
                let l = Certificate::from_der(black_box(&ders[0])).unwrap();
                let i = Certificate::from_der(&ders[1]).unwrap();
                let r = Certificate::from_der(&ders[2]).unwrap();
                validate(&l, &[i], &[r], &p).unwrap()
            })
        });
    }
    g.finish();
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn bench_process(c: &mut Criterion) {
    let bin = env!("CARGO_BIN_EXE_baretpm");
    let d = vec_dir();
    let ch = &chains()[0];
    let f = |i: usize| d.join(ch.files[i]).display().to_string();
    let (leaf, ica, root) = (f(0), f(1), f(2));
    let mut g = c.benchmark_group("process");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    let run_ours = || {
        let o = Command::new(bin)
            .args(["checkcert", &leaf, "--ek", "--ca", &root, "--chain", &ica])
            .output()
            .unwrap();
        assert!(o.status.success());
    };
    run_ours();
    g.bench_function("checkcert", |b| b.iter(run_ours));
    if openssl_available() {
        let tmp = tempfile::tempdir().unwrap();
        let leaf_pem = tmp.path().join("leaf.pem");
        let run_openssl = || {
            let o = Command::new("openssl")
                .args(["verify", "-CAfile", &root, "-untrusted", &ica])
                .arg(&leaf_pem)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        };
        // openssl verify wants the leaf as PEM.
        let pem = x509_cert::der::pem::encode_string(
            "CERTIFICATE",
            x509_cert::der::pem::LineEnding::LF,
            ch.leaf.der(),
        )
        .unwrap();
        std::fs::write(&leaf_pem, pem).unwrap();
        run_openssl();
        g.bench_function("openssl_verify", |b| b.iter(run_openssl));
    } else {
        println!("process/openssl_verify: skipped, openssl not found");
    }
    g.finish();
}

criterion_group!(benches, bench_chain, bench_process);
criterion_main!(benches);
