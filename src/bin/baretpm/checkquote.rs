//! `baretpm checkquote`: tpm2_checkquote's flags, a strict verifier behind them.

use crate::util::{failed, hash_alg, parse_hex, pcr_form, read_small, refused, CliError};
use baretpm::interop::{parse_pcr_file, parse_pcr_spec, PcrFileFormat};
use baretpm::types::{HashAlg, PcrValues};
use baretpm::verify::{verify_quote, Ak, Expectations, Policy};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// AK public key: PEM or DER SubjectPublicKeyInfo, TPM2B_PUBLIC or TPMT_PUBLIC (detected).
    #[arg(short = 'u', long = "public")]
    public: PathBuf,
    /// The quote message (TPMS_ATTEST, as tpm2_quote -m writes it).
    #[arg(short = 'm', long)]
    message: PathBuf,
    /// The signature (TPMT_SIGNATURE, as tpm2_quote -s writes it).
    #[arg(short = 's', long)]
    signature: PathBuf,
    /// PCR values file (as tpm2_quote -o / tpm2_pcrread -o write it). Without it no PCR
    /// value is given, so any quote over PCRs is refused (pcr-selection).
    #[arg(short = 'f', long = "pcr")]
    pcr: Option<PathBuf>,
    /// Hash algorithm the AK signed with; must match the signature's.
    #[arg(short = 'g', long = "hash-algorithm", value_parser = hash_alg)]
    hash_algorithm: Option<HashAlg>,
    /// The nonce the quote must carry in extraData: a hex string or the path of a file
    /// holding the bytes (as tpm2_checkquote 5.4 takes it). A value that is both refused.
    #[arg(short = 'q', long)]
    qualification: Option<String>,
    /// PCR selection, e.g. sha1:0,1+sha256:14,15. Required with -F values; otherwise it must
    /// equal the PCR file's selection.
    #[arg(short = 'l', long = "pcr-list")]
    pcr_list: Option<String>,
    /// PCR file form: serialized (default), values, marshaled.
    #[arg(short = 'F', long, default_value = "serialized", value_parser = pcr_form)]
    format: PcrFileFormat,
    /// Accept a quote whose only PCR banks are SHA-1, and SHA-1 signatures. (A SHA-1 bank
    /// next to a SHA-256 or stronger bank is accepted without it; every bank is checked.)
    #[arg(long)]
    allow_sha1: bool,
    /// Accept a quote without a nonce (it can then be replayed; only for old captures).
    #[arg(long)]
    allow_no_nonce: bool,
    /// Accept an AK whose TPMT_PUBLIC lacks restricted/sign/fixedTPM/fixedParent.
    #[arg(long)]
    allow_unrestricted_ak: bool,
}

pub fn run(a: &Args) -> Result<(), CliError> {
    let ak_bytes = read_small(&a.public, "AK public key")?;
    let msg = read_small(&a.message, "quote message")?;
    let sig = read_small(&a.signature, "signature")?;
    let pcr_bytes = match &a.pcr {
        Some(p) => read_small(p, "PCR file")?,
        None => Vec::new(),
    };

    let format = a.format;
    let selection = match &a.pcr_list {
        Some(s) => Some(parse_pcr_spec(s).map_err(|e| failed(format!("-l {s}: {e}")))?),
        None => None,
    };
    let pcrs = match &a.pcr {
        Some(p) => parse_pcr_file(format, &pcr_bytes, selection.as_ref())
            .map_err(|e| refused(format!("pcr-file: {}: {e}", p.display())))?,
        None => PcrValues::default(),
    };
    let nonce = match &a.qualification {
        Some(q) => qualification(q)?,
        None => Vec::new(),
    };
    let want_hash = a.hash_algorithm;
    let policy = {
        let mut p = Policy::default();
        p.allow_sha1_banks = a.allow_sha1;
        p.allow_sha1_signature = a.allow_sha1;
        p.allow_empty_nonce = a.allow_no_nonce;
        p.require_ak_attributes = !a.allow_unrestricted_ak;
        p
    };
    let (ak, ak_format) = Ak::from_any(&ak_bytes).map_err(|e| refused(e.to_string()))?;
    let expect = Expectations::new(&nonce, &pcrs);
    let verified =
        verify_quote(&ak, &msg, &sig, &expect, &policy).map_err(|e| refused(e.to_string()))?;
    if let Some(h) = want_hash {
        if h != verified.signing_hash {
            return Err(refused(format!(
                "signature-scheme: the AK signed with {}, not the {} given with -g",
                verified.signing_hash, h
            )));
        }
    }
    let c = verified.clock_info();
    println!("quote verified");
    println!("  ak: {ak_format:?}");
    println!("  signature hash: {}", verified.signing_hash);
    println!(
        "  pcrs: {}",
        baretpm::interop::display_pcr_spec(&pcrs.selection)
    );
    println!(
        "  nonce: {}",
        if nonce.is_empty() {
            "none (replayable)".to_string()
        } else {
            hex::encode(&nonce)
        }
    );
    println!(
        "  clock: {} ms, resetCount {}, restartCount {}, safe {}",
        c.clock, c.reset_count, c.restart_count, c.safe
    );
    println!("  firmware: {:#018x}", verified.attest.firmware_version);
    Ok(())
}

/// `-q` as tpm2_checkquote 5.4 takes it: the path of a file holding the qualifying data, or
/// the data as hex. tpm2-tools tries the file first and silently prefers it; here a value
/// that names an existing file *and* reads as hex is refused as ambiguous (`./NAME` is the
/// file, `0xHEX` the hex), so the nonce checked is never a surprise.
fn qualification(q: &str) -> Result<Vec<u8>, CliError> {
    let path = Path::new(q);
    let hex = parse_hex(q, "-q");
    let bytes = match (path.is_file(), hex) {
        (true, Ok(_)) => {
            return Err(failed(format!(
                "-q {q:?}: names a file and is also hex; write ./{q} for the file or 0x{q} \
                 for the hex string"
            )))
        }
        (true, Err(_)) => read_small(path, "qualifying data (-q)")?,
        (false, Ok(b)) => return Ok(b),
        (false, Err(_)) if path.exists() => {
            return Err(failed(format!(
                "-q {q:?}: not a regular file, and not hex either"
            )))
        }
        (false, Err(_)) => {
            return Err(failed(format!(
                "-q {q:?}: neither hex nor an existing file"
            )))
        }
    };
    // TPMS_ATTEST.extraData is a TPM2B_DATA: a longer nonce can never be in a quote.
    let max = baretpm::types::tpm2b::max::DATA;
    if bytes.len() > max {
        return Err(failed(format!(
            "-q {q:?}: the file holds {} bytes; qualifying data is at most {max}",
            bytes.len()
        )));
    }
    Ok(bytes)
}
