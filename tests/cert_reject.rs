//! Bad certificate input: each case a clear one-line refusal naming the failed check, no
//! panic, bounded work. Library cases assert the error variant; CLI cases the exit code (1
//! refused, 2 unreadable) and that stderr is one line.

use baretpm::cert::{
    certificates_from_bytes, strip_nv_wrapper, validate, CertError, Certificate, Policy, Role,
    MAX_CERT_LEN, MAX_POOL,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use x509_cert::der::{Reader, SliceReader};

fn vec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/certs")
}

fn der_of(name: &str) -> Vec<u8> {
    let bytes = std::fs::read(vec_dir().join(name)).unwrap();
    certificates_from_bytes(&bytes, 1).unwrap()[0]
        .der()
        .to_vec()
}

fn policy() -> Policy {
    Policy {
        at: 1_811_808_000, // 2027-06-01
        allow_sha1: false,
        role: Role::Any,
    }
}

/// DER length octets.
fn len_octets(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let b = (n as u32).to_be_bytes();
        let skip = b.iter().position(|&x| x != 0).unwrap();
        let mut v = vec![0x80 | (4 - skip) as u8];
        v.extend_from_slice(&b[skip..]);
        v
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(len_octets(content.len()));
    v.extend_from_slice(content);
    v
}

/// The TLVs of a SEQUENCE's content.
fn fields(seq: &[u8]) -> Vec<Vec<u8>> {
    let mut r = SliceReader::new(seq).unwrap();
    r.sequence(|r| {
        let mut out = Vec::new();
        while !r.is_finished() {
            out.push(r.tlv_bytes()?.to_vec());
        }
        Ok(out)
    })
    .unwrap()
}

/// A certificate rebuilt from `der` with TBS field `i` replaced (signature kept: the case
/// must be refused before or at the signature check).
fn with_tbs_field(der: &[u8], i: usize, value: Vec<u8>) -> Vec<u8> {
    let outer = fields(der);
    let mut tbs = fields(&outer[0]);
    tbs[i] = value;
    let tbs = tlv(0x30, &tbs.concat());
    tlv(0x30, &[tbs, outer[1].clone(), outer[2].clone()].concat())
}

fn parse(bytes: &[u8]) -> Result<Certificate, CertError> {
    certificates_from_bytes(bytes, 4).map(|mut v| v.remove(0))
}

fn one_line(e: &CertError) {
    let s = e.to_string();
    assert!(!s.contains('\n') && !s.is_empty(), "not one line: {s:?}");
}

#[test]
fn malformed_der_is_refused() {
    let good = der_of("material/ek-rsa2048.crt");
    // Lengths past the end.
    let e = parse(&good[..good.len() - 10]).unwrap_err();
    assert!(matches!(e, CertError::Der { .. }), "{e}");
    one_line(&e);
    // Indefinite length (BER, not DER).
    let mut indef = vec![0x30, 0x80];
    indef.extend_from_slice(&good[4..]);
    indef.extend_from_slice(&[0, 0]);
    let e = parse(&indef).unwrap_err();
    assert!(matches!(e, CertError::Der { .. }), "{e}");
    // Garbage and empty input.
    assert!(matches!(
        parse(b"\x30\x03\x02\x01"),
        Err(CertError::Der { .. })
    ));
    assert!(matches!(parse(&[]), Err(CertError::Empty)));
    assert!(matches!(parse(b"hello"), Err(CertError::Der { .. })));
    // A huge serial number (100 bytes).
    let mut serial = vec![0x01; 100];
    serial[0] = 0x7f;
    let huge = with_tbs_field(&good, 1, tlv(0x02, &serial));
    let e = parse(&huge).unwrap_err();
    assert!(matches!(e, CertError::Der { .. }), "{e}");
    one_line(&e);
    // A non-minimal INTEGER (leading 00 before a positive byte), as in the broken
    // "STM TPM EK Intermediate CA 05" of TrustedTpm.cab.
    let bad_int = with_tbs_field(&good, 1, tlv(0x02, &[0x00, 0x02]));
    assert!(matches!(parse(&bad_int), Err(CertError::Der { .. })));
    // Over 16 KiB.
    let big = vec![0x30, 0x82, 0x50, 0x00];
    let e = parse(&[big, vec![0; 0x5000]].concat()).unwrap_err();
    assert!(
        matches!(
            e,
            CertError::TooLarge {
                max: MAX_CERT_LEN,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn nv_wrapper_and_padding_are_removed() {
    let good = der_of("material/ek-rsa2048.crt");
    let mut nv = vec![0x10, 0x01, 0x00];
    nv.extend_from_slice(&(good.len() as u16).to_be_bytes());
    nv.extend_from_slice(&good);
    nv.extend(std::iter::repeat(0xff).take(600));
    assert_eq!(strip_nv_wrapper(&nv).unwrap(), &good[..]);
    assert_eq!(parse(&nv).unwrap().der(), &good[..]);
    // Padding alone (ST33 style: 0xFF to the NV size).
    let mut padded = good.clone();
    padded.extend(std::iter::repeat(0xff).take(584));
    assert_eq!(
        Certificate::from_nv_bytes(&padded).unwrap().der(),
        &good[..]
    );
    // Something that is not padding after the certificate.
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"junk");
    assert!(matches!(
        Certificate::from_nv_bytes(&trailing),
        Err(CertError::TrailingData { len: 4 })
    ));
    // A wrapper whose length runs past the data.
    let mut short = vec![0x10, 0x01, 0x00, 0x10, 0x00];
    short.extend_from_slice(&good[..100]);
    assert!(matches!(
        strip_nv_wrapper(&short),
        Err(CertError::Der { .. })
    ));
}

#[test]
fn huge_rsa_modulus_of_an_issuer_is_refused() {
    // The swtpm issuer re-made with an RSA-16384 modulus: its key does not load.
    let issuer = der_of("material/swtpm-localca-issuercert.pem");
    let tbs_fields = fields(&fields(&issuer)[0]);
    let spki_index = tbs_fields.len() - 2; // ..., subject, spki, [3] extensions
    let mut n = vec![0xc5u8; 2048];
    n[0] = 0x00;
    let rsa_pub = tlv(0x30, &[tlv(0x02, &n), tlv(0x02, &[1, 0, 1])].concat());
    let mut bits = vec![0u8];
    bits.extend(rsa_pub);
    let alg = tlv(
        0x30,
        &[
            vec![
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
            ],
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let spki = tlv(0x30, &[alg, tlv(0x03, &bits)].concat());
    let bad_issuer = with_tbs_field(&issuer, spki_index, spki);
    let bad_issuer = Certificate::from_der(&bad_issuer).unwrap();
    let leaf = Certificate::from_der(&der_of("material/ek-rsa2048.crt")).unwrap();
    let root = Certificate::from_der(&der_of("material/swtpm-localca-rootca-cert.pem")).unwrap();
    // The chain needs the issuer's key to check the leaf: refused on that key.
    let e = validate(&leaf, &[bad_issuer], &[root], &policy()).unwrap_err();
    assert!(matches!(e, CertError::BadPublicKey { .. }), "{e}");
    one_line(&e);
}

#[test]
fn a_tampered_signature_or_tbs_is_refused() {
    let leaf_der = der_of("material/ek-rsa2048.crt");
    let issuer = Certificate::from_der(&der_of("material/swtpm-localca-issuercert.pem")).unwrap();
    let root = Certificate::from_der(&der_of("material/swtpm-localca-rootca-cert.pem")).unwrap();
    // One bit of the modulus inside the TBS.
    let mut t = leaf_der.clone();
    t[300] ^= 1;
    let leaf = Certificate::from_der(&t).unwrap();
    let e = validate(
        &leaf,
        std::slice::from_ref(&issuer),
        std::slice::from_ref(&root),
        &policy(),
    )
    .unwrap_err();
    assert!(matches!(e, CertError::BadSignature { .. }), "{e}");
    // One bit of the signature.
    let mut t = leaf_der.clone();
    let n = t.len();
    t[n - 5] ^= 1;
    let leaf = Certificate::from_der(&t).unwrap();
    let e = validate(&leaf, &[issuer], &[root], &policy()).unwrap_err();
    assert!(matches!(e, CertError::BadSignature { .. }), "{e}");
}

#[test]
fn ten_thousand_certificates_in_a_bundle_are_refused_quickly() {
    let one = der_of("material/ek-rsa2048.crt");
    let bundle = one.repeat(10_000);
    let t = Instant::now();
    let e = certificates_from_bytes(&bundle, MAX_POOL).unwrap_err();
    assert!(
        matches!(e, CertError::TooManyCertificates { max: MAX_POOL }),
        "{e}"
    );
    // Also as PEM.
    let pem = x509_cert::der::pem::encode_string(
        "CERTIFICATE",
        x509_cert::der::pem::LineEnding::LF,
        &one,
    )
    .unwrap()
    .repeat(10_000);
    let e = certificates_from_bytes(pem.as_bytes(), MAX_POOL).unwrap_err();
    assert!(matches!(e, CertError::TooManyCertificates { .. }), "{e}");
    // Generous bound for a debug build on a shared machine; the point is "not quadratic".
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
}

#[test]
fn many_same_name_issuers_hit_the_search_limit() {
    // 200 copies of a CA whose name matches but whose key did not sign the leaf (the AKI is
    // absent on these synthetic twins, so each one is a candidate).
    let leaf = Certificate::from_der(&der_of("gen/twin-leaf.pem")).unwrap();
    let twin = Certificate::from_der(&der_of("gen/twin-root.pem")).unwrap();
    let pool: Vec<Certificate> = (0..200).map(|_| twin.clone()).collect();
    let t = Instant::now();
    let e = validate(&leaf, &pool, &[twin], &policy()).unwrap_err();
    assert!(matches!(e, CertError::SearchLimit { .. }), "{e}");
    one_line(&e);
    assert!(t.elapsed().as_secs() < 20);
}

#[test]
fn mutated_certificates_never_panic() {
    // Every single-byte change of two real certificates, at 97 positions each: parse and
    // validate must return, never panic.
    let root = Certificate::from_der(&der_of("material/swtpm-localca-rootca-cert.pem")).unwrap();
    let issuer = Certificate::from_der(&der_of("material/swtpm-localca-issuercert.pem")).unwrap();
    for name in ["material/ek-rsa2048.crt", "material/slb9670_ek_rsa2048.der"] {
        let der = der_of(name);
        for pos in (0..der.len()).step_by(der.len() / 97 + 1) {
            for v in [0x00u8, 0xff, 0x80, der[pos] ^ 0x01] {
                let mut m = der.clone();
                m[pos] = v;
                if let Ok(c) = Certificate::from_nv_bytes(&m) {
                    let _ = validate(
                        &c,
                        std::slice::from_ref(&issuer),
                        std::slice::from_ref(&root),
                        &policy(),
                    );
                }
                let _ = Certificate::from_der(&m[..pos]);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CLI: exit codes and one-line messages.

fn checkcert(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .arg("checkcert")
        .args(args)
        .current_dir(vec_dir())
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn checkcert_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage = tmp.path().join("garbage.der");
    std::fs::write(&garbage, b"\x30\x82\x10\x00not a certificate").unwrap();
    let g = garbage.display().to_string();
    let huge_bundle = tmp.path().join("bundle.der");
    std::fs::write(&huge_bundle, der_of("material/ek-rsa2048.crt").repeat(2000)).unwrap();
    let hb = huge_bundle.display().to_string();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &[
                "material/ek-rsa2048.crt",
                "--ca",
                "material/swtpm-localca-rootca-cert.pem",
                "--chain",
                "material/swtpm-localca-issuercert.pem",
                "--ek",
                "--at",
                "2027-06-01T00:00:00Z",
            ],
            0,
            "",
        ),
        (
            &[
                "material/ek-rsa2048.crt",
                "--ca",
                "material/gcp_ek_ak_ca_root.crt",
                "--ek",
            ],
            1,
            "no issuer",
        ),
        (
            &[
                "material/pca_tpm_rsa_enc_cert.pem",
                "--ca",
                "material/gcp_ek_ak_ca_root.crt",
                "--chain",
                "material/gcp_ek_ak_ca_intermediate_v3.crt",
                "--at",
                "2060-01-01",
            ],
            1,
            "expired",
        ),
        (
            &[
                "gen/nokcs-leaf.pem",
                "--ca",
                "gen/pss-root.pem",
                "--chain",
                "gen/nokcs-ica.pem",
            ],
            1,
            "keyCertSign",
        ),
        (
            &[
                "gen/loop-leaf.pem",
                "--ca",
                "gen/pss-root.pem",
                "--chain",
                "gen/loop-chain.pem",
            ],
            1,
            "loops",
        ),
        (
            &[
                "material/ek-rsa2048.crt",
                "--ca",
                "material/swtpm-localca-rootca-cert.pem",
                "--chain",
                "material/swtpm-localca-issuercert.pem",
                "--key",
                "material/ek-secp384r1.persistent-0x81010016.tpm2b_public.bin",
            ],
            1,
            "not the given key",
        ),
        (&[&g, "--ca", "gen/pss-root.pem"], 2, "malformed DER"),
        (&["material/ek-rsa2048.crt", "--ca", &hb], 2, "more than"),
        (
            &[
                "material/ek-rsa2048.crt",
                "--ca",
                "gen/pss-root.pem",
                "--at",
                "yesterday",
            ],
            2,
            "RFC 3339",
        ),
        (
            &["no-such-file.der", "--ca", "gen/pss-root.pem"],
            2,
            "no-such-file",
        ),
    ];
    for (args, code, needle) in cases {
        let (got, out, err) = checkcert(args);
        assert_eq!(got, Some(*code), "{args:?}\nstdout: {out}\nstderr: {err}");
        if *code == 0 {
            assert!(out.contains("result: valid"), "{out}");
            assert!(err.is_empty(), "{err}");
        } else {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
}

#[test]
fn certificate_text_is_escaped() {
    // gen/esc-leaf.pem has ESC and a right-to-left override in its CN.
    let (code, out, _) = checkcert(&["gen/esc-leaf.pem", "--ca", "gen/pss-root.pem"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(out.contains("\\u{202e}"), "{out}");
    for line in out.lines() {
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
    }
}
