//! `reference`: expected PCR values taken from a known-good proof.

use std::io::Write as _;

use baretpm::proof::file::Reference;
use baretpm::proof::verify::verify;
use baretpm::proof::JsonFile;

use crate::util::{failed, flow_err, CliError};

use super::args::ReferenceArgs;
use super::verify::{pin_policy, read_proof};

pub(super) fn reference(a: ReferenceArgs) -> Result<(), CliError> {
    let proof = read_proof(&a.from).map_err(|(_, m)| failed(m))?;
    let bits = crate::util::parse_pcr_list(&a.pcrs, "--pcrs")?;
    // A reference is what later proofs are judged by: take it only from a proof that verifies
    // under the same checks as `verify`.
    let policy = pin_policy(a.nonce.as_deref(), a.ak_pub.as_deref(), a.allow_sha1)?;
    let report = match verify(&proof, &policy) {
        Ok(r) => r,
        Err(rej) => {
            return Err(flow_err(format!(
                "{} does not verify, no reference written: {rej}",
                a.from.display()
            )))
        }
    };
    let skipped: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == baretpm::proof::Status::Skip)
        .map(|c| c.name)
        .collect();
    if !skipped.is_empty() {
        eprintln!(
            "baretpm: {} verifies; not checked: {} (give --ak-pub and --nonce to check more)",
            a.from.display(),
            skipped.join(", ")
        );
    }
    let indices: Vec<u32> = (0..24).filter(|i| bits & (1 << i) != 0).collect();
    let r = Reference::from_proof(&proof, &indices);
    if r.pcrs.is_empty() && r.boot.is_none() {
        return Err(failed(format!(
            "{} quotes none of the PCRs {}",
            a.from.display(),
            a.pcrs
        )));
    }
    match &a.out {
        Some(p) => r.write(p).map_err(flow_err)?,
        None => say_raw!("{}", r.to_json()),
    }
    Ok(())
}
