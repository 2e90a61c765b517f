//! Every case of vectors/index.json through the library and through the CLI.
//!
//! The index says what a strict verifier must answer (`expect`); each answer maps to exactly
//! one `VerifyError` variant here, so a case passes only when the right check fires.

use baretpm::interop::{parse_pcr_file, parse_pcr_spec, PcrFileFormat};
use baretpm::types::{HashAlg, PcrValues, TpmlPcrSelection, TpmsAttest};
use baretpm::verify::{verify_quote, Ak, Expectations, Policy, VerifyError};
use baretpm::wire::Unmarshal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

struct Case {
    id: String,
    ak: Option<PathBuf>,
    message: PathBuf,
    signature: PathBuf,
    pcrs: Option<PathBuf>,
    pcrs_format: String,
    pcr_list: String,
    hash: String,
    nonce: String,
    expect: String,
}

fn cases() -> Vec<Case> {
    let index: Value =
        serde_json::from_slice(&std::fs::read(root().join("index.json")).unwrap()).unwrap();
    let path = |v: &Value| v.as_str().map(|s| root().join(s));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    index
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            id: text(&c["id"]),
            ak: path(&c["ak"]),
            message: path(&c["message"]).unwrap(),
            signature: path(&c["signature"]).unwrap(),
            pcrs: path(&c["pcrs"]),
            pcrs_format: text(&c["pcrs_format"]),
            pcr_list: text(&c["pcr_list"]),
            hash: text(&c["hash"]),
            nonce: text(&c["nonce"]),
            expect: text(&c["expect"]),
        })
        .collect()
}

/// The one error each `expect` keyword stands for.
fn matches_expect(expect: &str, got: &Result<HashAlg, VerifyError>) -> bool {
    matches!(
        (expect, got),
        ("ok", Ok(_))
            | (
                "bad_signature" | "wrong_key",
                Err(VerifyError::BadSignature)
            )
            | ("nonce_mismatch", Err(VerifyError::NonceMismatch))
            | ("selection_mismatch", Err(VerifyError::SelectionMismatch))
            | ("not_a_quote", Err(VerifyError::NotAQuote { .. }))
            | ("pcr_digest_mismatch", Err(VerifyError::PcrDigestMismatch))
            | ("bad_magic", Err(VerifyError::NotTpmGenerated { .. }))
            | ("curve_not_allowed", Err(VerifyError::EccCurveNotAllowed(_)))
    )
}

/// PCR values from the JSON form (`{"SHA256": {"0": "hex", ...}}`) in selection order.
fn json_values(path: &Path, selection: &TpmlPcrSelection) -> Vec<Vec<u8>> {
    let j: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    selection
        .iter_pcrs()
        .map(|(bank, i)| {
            let b = j
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(bank.name()))
                .unwrap()
                .1;
            hex::decode(b[i.to_string()].as_str().unwrap()).unwrap()
        })
        .collect()
}

/// Whether the selection quotes PCRs only in SHA-1 banks (no bank of SHA-256 or stronger).
fn sha1_only(selection: &TpmlPcrSelection) -> bool {
    selection.pcr_count() > 0
        && !selection
            .banks()
            .iter()
            .any(|b| b.bitmap() != 0 && Policy::bank_is_strong(b.hash))
}

/// The policy a case's `expect` is given under: SHA-1 permissions only where the case needs
/// them (a SHA-1-only selection, a SHA-1 signature). A SHA-1 bank next to SHA-256 needs none.
fn policy_for(c: &Case, selection: &TpmlPcrSelection) -> Policy {
    {
        let mut p = Policy::default();
        p.allow_sha1_banks = sha1_only(selection);
        p.allow_sha1_signature = c.hash == "sha1";
        p.allow_empty_nonce = c.nonce.is_empty();
        p
    }
}

fn selection_of(c: &Case) -> TpmlPcrSelection {
    if c.pcr_list.is_empty() {
        TpmlPcrSelection::default()
    } else {
        parse_pcr_spec(&c.pcr_list).unwrap()
    }
}

fn verify_case(c: &Case) -> Result<HashAlg, VerifyError> {
    verify_case_with(c, &policy_for(c, &selection_of(c)))
}

fn verify_case_with(c: &Case, policy: &Policy) -> Result<HashAlg, VerifyError> {
    let ak_bytes = std::fs::read(c.ak.as_ref().unwrap()).unwrap();
    let msg = std::fs::read(&c.message).unwrap();
    let sig = std::fs::read(&c.signature).unwrap();
    let nonce = hex::decode(&c.nonce).unwrap();
    let selection = selection_of(c);
    let pcr_bytes = c
        .pcrs
        .as_ref()
        .map(|p| std::fs::read(p).unwrap())
        .unwrap_or_default();
    let json;
    let pcrs = match (c.pcrs.as_ref(), c.pcrs_format.as_str()) {
        (None, _) => PcrValues::default(),
        (Some(p), "json") => {
            json = json_values(p, &selection);
            PcrValues {
                selection: selection.clone(),
                values: json.iter().map(|v| v.as_slice()).collect(),
            }
        }
        (Some(_), f) => {
            let format = PcrFileFormat::from_name(f).unwrap();
            let given = (format == PcrFileFormat::Values).then_some(&selection);
            parse_pcr_file(format, &pcr_bytes, given)
                .unwrap_or_else(|e| panic!("{}: PCR file: {e}", c.id))
        }
    };
    let (ak, _) = Ak::from_any(&ak_bytes)?;
    let expect = Expectations::new(&nonce, &pcrs);
    verify_quote(&ak, &msg, &sig, &expect, policy).map(|v| v.signing_hash)
}

#[test]
fn index_has_every_kind_of_case() {
    let all = cases();
    assert!(all.len() >= 50, "only {} cases", all.len());
    for kw in [
        "ok",
        "bad_signature",
        "nonce_mismatch",
        "selection_mismatch",
        "not_a_quote",
        "pcr_digest_mismatch",
    ] {
        assert!(all.iter().any(|c| c.expect == kw), "no case expects {kw}");
    }
}

#[test]
fn library_gives_each_expected_answer() {
    let mut failures = Vec::new();
    for c in cases() {
        if c.ak.is_none() {
            // Parse-only vector: no AK was published with it.
            let msg = std::fs::read(&c.message).unwrap();
            assert!(
                TpmsAttest::from_bytes(&msg).is_ok(),
                "{}: does not parse",
                c.id
            );
            continue;
        }
        let got = verify_case(&c);
        if !matches_expect(&c.expect, &got) {
            failures.push(format!("{}: expected {}, got {:?}", c.id, c.expect, got));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The SHA-1 rules over the whole index, under the strict default policy: a SHA-1 signature
/// is refused first (it is checked before any parsed field), then a SHA-1-only selection;
/// every other case, SHA-1 next to SHA-256 included, gets its `expect` unchanged.
#[test]
fn strict_policy_refuses_only_sha1_alone() {
    let mut failures = Vec::new();
    let mut sha1_next_to_strong = 0;
    for c in cases().into_iter().filter(|c| c.ak.is_some()) {
        let selection = selection_of(&c);
        let strict = {
            let mut p = Policy::default();
            p.allow_empty_nonce = c.nonce.is_empty();
            p
        };
        let got = verify_case_with(&c, &strict);
        let ok = if c.hash == "sha1" {
            got == Err(VerifyError::Sha1SignatureNotAllowed)
        } else if sha1_only(&selection) && c.expect == "ok" {
            got == Err(VerifyError::Sha1BankNotAllowed)
        } else {
            if selection.banks().iter().any(|b| b.hash == HashAlg::Sha1) {
                sha1_next_to_strong += 1;
            }
            matches_expect(&c.expect, &got)
        };
        if !ok {
            failures.push(format!("{}: expected {}, got {:?}", c.id, c.expect, got));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // swtpm-rsassa-multibank in its three PCR file forms: sha1:0,1,2+sha256:14,15,16.
    assert_eq!(sha1_next_to_strong, 3, "SHA-1 + SHA-256 cases checked");
}

#[test]
fn cli_gives_each_expected_answer() {
    let exe = env!("CARGO_BIN_EXE_baretpm");
    let mut failures = Vec::new();
    for c in cases()
        .into_iter()
        .filter(|c| c.ak.is_some() && c.pcrs_format != "json")
    {
        let mut cmd = Command::new(exe);
        cmd.arg("checkquote")
            .arg("-u")
            .arg(c.ak.as_ref().unwrap())
            .arg("-m")
            .arg(&c.message)
            .arg("-s")
            .arg(&c.signature)
            .arg("-g")
            .arg(&c.hash);
        if let Some(p) = &c.pcrs {
            cmd.arg("-f").arg(p).arg("-F").arg(&c.pcrs_format);
            if c.pcrs_format == "values" {
                cmd.arg("-l").arg(&c.pcr_list);
            }
        }
        if c.nonce.is_empty() {
            cmd.arg("--allow-no-nonce");
        } else {
            cmd.arg("-q").arg(&c.nonce);
        }
        if c.hash == "sha1" || sha1_only(&selection_of(&c)) {
            cmd.arg("--allow-sha1");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want_check = match c.expect.as_str() {
            "ok" => None,
            "bad_signature" | "wrong_key" => Some("signature:"),
            "nonce_mismatch" => Some("nonce:"),
            "selection_mismatch" => Some("pcr-selection:"),
            "not_a_quote" => Some("attest-type:"),
            "pcr_digest_mismatch" => Some("pcr-digest:"),
            "curve_not_allowed" => Some("ak-ecc-policy:"),
            other => panic!("{}: unknown expect {other}", c.id),
        };
        let ok = match want_check {
            None => out.status.success() && stderr.is_empty(),
            Some(check) => {
                out.status.code() == Some(1)
                    && stderr.lines().count() == 1
                    && stderr.contains(check)
            }
        };
        if !ok {
            failures.push(format!(
                "{}: expected {}, got {:?} {}",
                c.id,
                c.expect,
                out.status.code(),
                stderr.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
