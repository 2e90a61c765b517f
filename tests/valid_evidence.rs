//! Valid evidence that baretpm once refused (issue 8, items 8-11): RSA-PSS with the maximal
//! salt, SHA-1 banks next to SHA-256, P-384 AKs, and `checkquote -q FILE`. Each rule is
//! checked through the library on forged quotes (`tests/common/forge.rs`) and, where a
//! captured quote exists, through the CLI on `vectors/`.

mod common;

use baretpm::interop::{write_pcr_file, PcrFileFormat};
use baretpm::types::{HashAlg, PcrValues};
use baretpm::verify::{Policy, VerifyError};
use common::forge::{repo_path, AkForm, AkScheme, Forged, PcrSet, QuoteForge, SigScheme, TestKey};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rsa() -> QuoteForge {
    QuoteForge::new(TestKey::Rsa2048)
}

/// Writes a forged quote as tpm2_quote would (AK, message, signature, serialized PCRs).
struct QuoteFiles {
    _dir: tempfile::TempDir,
    ak: PathBuf,
    msg: PathBuf,
    sig: PathBuf,
    pcrs: PathBuf,
    nonce_hex: String,
    dir: PathBuf,
}

fn write_files(f: &Forged) -> QuoteFiles {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("ak.pub"), &f.ak).unwrap();
    std::fs::write(p("quote.msg"), &f.attest).unwrap();
    std::fs::write(p("quote.sig"), &f.sig).unwrap();
    let values = PcrValues {
        selection: f.given.selection.clone(),
        values: f.given.values.iter().map(Vec::as_slice).collect(),
    };
    let mut buf = vec![0u8; 64 * 1024];
    let file = write_pcr_file(PcrFileFormat::Serialized, &values, &mut buf).unwrap();
    std::fs::write(p("quote.pcrs"), file).unwrap();
    QuoteFiles {
        ak: p("ak.pub"),
        msg: p("quote.msg"),
        sig: p("quote.sig"),
        pcrs: p("quote.pcrs"),
        nonce_hex: hex::encode(&f.nonce),
        dir: dir.path().to_path_buf(),
        _dir: dir,
    }
}

fn checkquote(ak: &Path, msg: &Path, sig: &Path, pcrs: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .arg("checkquote")
        .arg("-u")
        .arg(ak)
        .arg("-m")
        .arg(msg)
        .arg("-s")
        .arg(sig)
        .arg("-f")
        .arg(pcrs)
        .args(extra)
        .output()
        .unwrap()
}

fn checkquote_files(q: &QuoteFiles, extra: &[&str]) -> Output {
    checkquote(&q.ak, &q.msg, &q.sig, &q.pcrs, extra)
}

fn assert_exit(out: &Output, code: i32, stderr_has: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: stderr {stderr}");
    assert!(
        stderr.contains(stderr_has),
        "{what}: stderr {stderr:?} lacks {stderr_has:?}"
    );
}

/// A captured vector's files and nonce, by id (`vectors/index.json`).
fn vector(id: &str) -> (PathBuf, PathBuf, PathBuf, PathBuf, String) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo_path("vectors/index.json")).unwrap()).unwrap();
    let c = index
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"));
    let path = |k: &str| repo_path("vectors").join(c[k].as_str().unwrap());
    (
        path("ak"),
        path("message"),
        path("signature"),
        path("pcrs"),
        c["nonce"].as_str().unwrap().to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// Item 8: RSA-PSS salt lengths

/// TPM 2.0 Part 1 B.7: a non-FIPS TPM salts RSA-PSS with the largest length the key and
/// hash allow (222 bytes for RSA-2048 with SHA-256). Library and CLI accept it.
#[test]
fn pss_max_salt_accepted() {
    for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
        let f = rsa().rsa_pss_max_salt(hash);
        assert_eq!(
            f.sig,
            SigScheme::RsaPss {
                hash,
                salt: 256 - hash.digest_size() - 2
            }
        );
        let forged = f.build();
        let v = forged.verify().unwrap_or_else(|e| panic!("{hash}: {e}"));
        assert_eq!(v.signing_hash, hash);
    }
    let q = write_files(&rsa().rsa_pss_max_salt(HashAlg::Sha256).build());
    let out = checkquote_files(&q, &["-g", "sha256", "-q", &q.nonce_hex]);
    assert_exit(&out, 0, "", "checkquote, PSS with salt 222");
}

/// Every salt length from 0 to the maximum verifies; the salt is recovered from the
/// signature, so one signature verifies only for its own message.
#[test]
fn pss_every_salt_length_accepted() {
    for salt in [0, 1, 20, 32, 48, 64, 200, 221, 222] {
        let mut f = rsa().rsa_pss(HashAlg::Sha256);
        f.sig = SigScheme::RsaPss {
            hash: HashAlg::Sha256,
            salt,
        };
        let forged = f.build();
        forged
            .verify()
            .unwrap_or_else(|e| panic!("salt {salt}: {e}"));
        // The same signature over another attestation (one byte of the nonce changed).
        let mut other = forged.attest.clone();
        let n = other.len();
        other[n - 1] ^= 1;
        let ak = forged.load_ak().unwrap();
        assert_eq!(
            forged.verify_with(&ak, &other, &forged.sig).err(),
            Some(VerifyError::BadSignature),
            "salt {salt}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Item 9: SHA-1 banks and SHA-1 signatures

/// `tpm2_quote -l sha1:...+sha256:...` is ordinary: accepted by the strict default policy,
/// with both banks checked (a wrong SHA-1 value still fails the PCR digest).
#[test]
fn sha1_plus_sha256_selection_accepted() {
    let mut f = rsa();
    f.quoted = PcrSet::of(&[
        (HashAlg::Sha1, &[0, 1, 2]),
        (HashAlg::Sha256, &[14, 15, 16]),
    ]);
    assert_eq!(f.policy, Policy::default());
    f.build().verify().unwrap();

    // Every bank is still checked: a changed SHA-1 value is refused.
    let mut given = f.quoted.clone();
    given.values[1][0] ^= 1;
    f.given = Some(given);
    assert_eq!(
        f.build().verify().err(),
        Some(VerifyError::PcrDigestMismatch)
    );

    // The captured swtpm quote over sha1:0,1,2+sha256:14,15,16, without --allow-sha1.
    let (ak, msg, sig, pcrs, nonce) = vector("swtpm-rsassa-multibank");
    let out = checkquote(&ak, &msg, &sig, &pcrs, &["-g", "sha256", "-q", &nonce]);
    assert_exit(&out, 0, "", "checkquote on swtpm-rsassa-multibank");
}

/// A selection with PCRs only in SHA-1 banks is refused unless `allow_sha1_banks`
/// (`--allow-sha1`); a SHA-256 bank that selects nothing does not count.
#[test]
fn sha1_only_selection_refused() {
    for banks in [
        &[(HashAlg::Sha1, &[0u32, 1, 7][..])][..],
        &[(HashAlg::Sha256, &[][..]), (HashAlg::Sha1, &[0][..])][..],
    ] {
        let mut f = rsa();
        f.quoted = PcrSet::of(banks);
        assert_eq!(
            f.build().verify().err(),
            Some(VerifyError::Sha1BankNotAllowed)
        );
        // The signature knob does not open the bank rule...
        f.policy.allow_sha1_signature = true;
        assert_eq!(
            f.build().verify().err(),
            Some(VerifyError::Sha1BankNotAllowed)
        );
        // ...the bank knob does.
        f.policy.allow_sha1_banks = true;
        f.build().verify().unwrap();
    }
    let (ak, msg, sig, pcrs, nonce) = vector("swtpm-rsassa-sha1bank");
    let out = checkquote(&ak, &msg, &sig, &pcrs, &["-g", "sha256", "-q", &nonce]);
    assert_exit(&out, 1, "pcr-bank-policy:", "swtpm-rsassa-sha1bank, strict");
    let out = checkquote(
        &ak,
        &msg,
        &sig,
        &pcrs,
        &["-g", "sha256", "-q", &nonce, "--allow-sha1"],
    );
    assert_exit(&out, 0, "", "swtpm-rsassa-sha1bank, --allow-sha1");
}

/// A SHA-1 signature digest has its own knob: refused even next to a SHA-256 bank and with
/// SHA-1 banks allowed.
#[test]
fn sha1_signature_refused_unless_allowed() {
    let mut f = rsa();
    f.ak_scheme = AkScheme::RsaSsa(HashAlg::Sha1);
    f.sig = SigScheme::RsaSsa(HashAlg::Sha1);
    f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[0, 1])]);
    assert_eq!(
        f.build().verify().err(),
        Some(VerifyError::Sha1SignatureNotAllowed)
    );
    f.policy.allow_sha1_banks = true;
    assert_eq!(
        f.build().verify().err(),
        Some(VerifyError::Sha1SignatureNotAllowed)
    );
    f.policy.allow_sha1_signature = true;
    assert_eq!(f.build().verify().unwrap().signing_hash, HashAlg::Sha1);
}

// ---------------------------------------------------------------------------------------------
// Item 10: P-384 AKs

/// ECDSA P-384 AKs (what `tpm2_createak -G ecc384` makes) in every AK form, with SHA-384 and
/// SHA-256, and the captured swtpm P-384 quote through the CLI.
#[test]
fn p384_ak_accepted() {
    for form in [
        AkForm::Tpm2bPublic,
        AkForm::TpmtPublic,
        AkForm::SpkiPem,
        AkForm::SpkiDer,
    ] {
        for hash in [HashAlg::Sha384, HashAlg::Sha256] {
            let mut f = QuoteForge::new(TestKey::P384);
            f.ak_form = form;
            f.ak_scheme = AkScheme::Ecdsa(hash);
            f.sig = SigScheme::Ecdsa(hash);
            f.quoted = PcrSet::of(&[(HashAlg::Sha384, &[14, 15, 16])]);
            let forged = f.build();
            let v = forged
                .verify()
                .unwrap_or_else(|e| panic!("{form:?} {hash}: {e}"));
            assert_eq!(v.signing_hash, hash);
        }
    }
    let (ak, msg, sig, pcrs, nonce) = vector("swtpm-ecdsa-p384-sha384");
    let out = checkquote(&ak, &msg, &sig, &pcrs, &["-g", "sha384", "-q", &nonce]);
    assert_exit(&out, 0, "", "checkquote on swtpm-ecdsa-p384-sha384");
    // The same AK as tpm2_readpublic's PEM.
    let pem = repo_path("vectors/swtpm/ecc384.ak.pem");
    let out = checkquote(&pem, &msg, &sig, &pcrs, &["-g", "sha384", "-q", &nonce]);
    assert_exit(&out, 0, "", "checkquote on swtpm-ecdsa-p384-sha384, PEM AK");
}

// ---------------------------------------------------------------------------------------------
// Item 11: checkquote -q FILE

/// tpm2_checkquote 5.4: "-q, --qualification=HEX_STRING_OR_PATH". A file path is read as the
/// nonce bytes; hex still works; a value that is both is refused (exit 2), as is one that is
/// neither.
#[test]
fn checkquote_q_takes_file_path() {
    let forged = rsa().build();
    let q = write_files(&forged);
    let g = ["-g", "sha256"];
    let nonce_file = q.dir.join("nonce.bin");
    std::fs::write(&nonce_file, &forged.nonce).unwrap();
    let nonce_path = nonce_file.to_str().unwrap();

    let out = checkquote_files(&q, &[&g[..], &["-q", nonce_path]].concat());
    assert_exit(&out, 0, "", "-q FILE");
    let out = checkquote_files(&q, &[&g[..], &["-q", &q.nonce_hex]].concat());
    assert_exit(&out, 0, "", "-q HEX");

    // A file holding other bytes: the nonce check refuses.
    let wrong = q.dir.join("wrong.bin");
    std::fs::write(&wrong, b"other nonce").unwrap();
    let out = checkquote_files(&q, &[&g[..], &["-q", wrong.to_str().unwrap()]].concat());
    assert_exit(&out, 1, "nonce:", "-q FILE with another nonce");

    // A file whose name is hex too: ambiguous, refused; ./NAME picks the file.
    let hexname = q.dir.join("c0ffee");
    std::fs::write(&hexname, &forged.nonce).unwrap();
    let run_in_dir = |qarg: &str| {
        Command::new(env!("CARGO_BIN_EXE_baretpm"))
            .current_dir(&q.dir)
            .args([
                "checkquote",
                "-u",
                "ak.pub",
                "-m",
                "quote.msg",
                "-s",
                "quote.sig",
            ])
            .args(["-f", "quote.pcrs", "-g", "sha256", "-q", qarg])
            .output()
            .unwrap()
    };
    assert_exit(
        &run_in_dir("c0ffee"),
        2,
        "names a file and is also hex",
        "-q ambiguous",
    );
    assert_exit(&run_in_dir("./c0ffee"), 0, "", "-q ./NAME");
    assert_exit(&run_in_dir("0xc0ffee"), 1, "nonce:", "-q 0xHEX");

    // Neither a file nor hex; a file longer than any qualifying data.
    let missing = q.dir.join("missing.bin");
    let out = checkquote_files(&q, &[&g[..], &["-q", missing.to_str().unwrap()]].concat());
    assert_exit(
        &out,
        2,
        "neither hex nor an existing file",
        "-q missing file",
    );
    let long = q.dir.join("long.bin");
    std::fs::write(&long, [7u8; 67]).unwrap();
    let out = checkquote_files(&q, &[&g[..], &["-q", long.to_str().unwrap()]].concat());
    assert_exit(&out, 2, "at most 66", "-q FILE of 67 bytes");
}
