//! `verify`: the verifier's policy from the command line, and the report.

use std::io::Write as _;
use std::path::Path;
#[cfg(feature = "cert")]
use std::path::PathBuf;
use std::process::ExitCode;

use baretpm::files::read_bounded;
use baretpm::proof::file::{Proof, Reference};
use baretpm::proof::hash::{self, HashOptions, Target};
use baretpm::proof::verify::{verify, Policy, Report};
use baretpm::proof::JsonFile;
use baretpm::text::Escaped;

use crate::util::{failed, CliError};

use super::args::{parse_nonce, VerifyArgs};

/// Largest AK public key file read by `verify --ak-pub`.
const MAX_AK_FILE: u64 = 64 * 1024;

/// The nonce, AK pin and SHA-1 rule of a verifier's policy, as `verify` and `reference` take
/// them.
pub(super) fn pin_policy(
    nonce: Option<&str>,
    ak_pub: Option<&Path>,
    allow_sha1: bool,
) -> Result<Policy, CliError> {
    let mut policy = Policy {
        nonce: nonce.map(parse_nonce).transpose()?,
        ..Policy::default()
    };
    policy.quote.allow_sha1_banks = allow_sha1;
    policy.quote.allow_sha1_signature = allow_sha1;
    if let Some(p) = ak_pub {
        policy.ak_public = Some(read_bounded(p, MAX_AK_FILE, "AK public key").map_err(failed)?);
    }
    Ok(policy)
}

/// Builds the verifier's policy from the command line (hashing the given files).
fn policy_from(a: &VerifyArgs) -> Result<Policy, CliError> {
    let mut policy = pin_policy(a.nonce.as_deref(), a.ak_pub.as_deref(), a.allow_sha1)?;
    policy.require_explained_start = a.require_explained_start;
    if let Some(p) = &a.reference {
        policy.reference = Some(Reference::read(p).map_err(failed)?);
    }
    // Certificate chains for the ek-certificate and ak-certificate rows (a build without the
    // `cert` feature, such as the initrd one, has no such flags and leaves both rows skipped).
    #[cfg(feature = "cert")]
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(failed)?
            .as_secs();
        let trust = |roots: &[PathBuf], chain: &[PathBuf], what| {
            if roots.is_empty() {
                if chain.is_empty() {
                    return Ok(None);
                }
                return Err(failed(format!("--{what}-chain needs --{what}-ca")));
            }
            Ok(Some(baretpm::proof::certs::CertTrust {
                roots: crate::certcmds::read_pool(roots, "--ek-ca/--ak-ca").map_err(failed)?,
                intermediates: crate::certcmds::read_pool(chain, "--ek-chain/--ak-chain")
                    .map_err(failed)?,
                at: now,
                allow_sha1: a.allow_sha1,
            }))
        };
        policy.ek_ca = trust(&a.ek_ca, &a.ek_chain, "ek")?;
        policy.ak_ca = trust(&a.ak_ca, &a.ak_chain, "ak")?;
    }
    let opts = HashOptions::default();
    for (list, out) in [
        (&a.inputs, &mut policy.inputs),
        (&a.outputs, &mut policy.outputs),
    ] {
        let targets: Vec<Target> = list.iter().map(|s| Target::parse(s)).collect();
        *out = hash::measure(&targets, &opts, &mut |_| {}).map_err(failed)?;
    }
    Ok(policy)
}

pub(super) fn verify_cmd(a: VerifyArgs) -> ExitCode {
    let fail_json = |kind: &str, m: &str| {
        if a.json {
            say!(
                "{}",
                serde_json::json!({"ok": false, "error": kind, "message": m})
            );
        } else {
            eprintln!("baretpm: {}", Escaped(m));
        }
    };
    let proof = match read_proof(&a.proof) {
        Ok(p) => p,
        Err((kind, m)) => {
            fail_json(kind, &m);
            return ExitCode::from(2);
        }
    };
    let policy = match policy_from(&a) {
        Ok(p) => p,
        Err(e) => {
            fail_json("usage", &e.to_string());
            return ExitCode::from(2);
        }
    };
    let report = match verify(&proof, &policy) {
        Ok(r) => r,
        Err(rej) => rej.report,
    };
    print_report(&report, a.json);
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_report(report: &Report, json: bool) {
    if json {
        say!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        );
    } else {
        say_raw!("{}", report.table());
    }
}

/// Reads a proof for `verify` or `reference`. A file that cannot be read or is not a valid
/// proof is an input error (exit 2), with a kind for `--json`; refusing a well-formed proof is
/// the report's job (exit 1).
pub(super) fn read_proof(path: &Path) -> Result<Proof, (&'static str, String)> {
    Proof::read(path).map_err(|e| (e.kind(), e.message()))
}
