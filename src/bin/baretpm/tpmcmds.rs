//! Subcommands that talk to a TPM, spelled like tpm2-tools.

use crate::util::{
    failed, handle, hash_alg, open_tpm, parse_hex, pcr_form, public_form, refused, CliError,
    PublicForm,
};
use baretpm::commands::{FlushContext, PcrExtend, Quote, ReadPublic};
use baretpm::interop::{display_pcr_spec, parse_pcr_spec, write_pcr_file, PcrFileFormat};
use baretpm::proof::flow::{self, AkKind};
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::AnyTransport;
use baretpm::types::{hash, HashAlg, PcrValues, TpmlDigestValues, TpmlPcrSelection, TpmtHa};
use baretpm::verify::Ak;
use std::io::Write;
use std::path::{Path, PathBuf};

fn write_file(path: &Path, bytes: &[u8], what: &str) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| failed(format!("{what} {}: {e}", path.display())))
}

#[derive(clap::Args)]
pub struct GetRandomArgs {
    /// Number of bytes (at most 4096).
    count: usize,
    /// Print hex instead of raw bytes.
    #[arg(long)]
    hex: bool,
    /// Write to a file instead of stdout.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

pub fn getrandom(tcti: Option<&str>, a: &GetRandomArgs) -> Result<(), CliError> {
    if a.count > 4096 {
        return Err(failed(format!(
            "getrandom: {} bytes asked, at most 4096",
            a.count
        )));
    }
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let mut buf = vec![0u8; a.count];
    tpm.get_random(&mut buf).map_err(failed)?;
    let out = if a.hex {
        format!("{}\n", hex::encode(&buf)).into_bytes()
    } else {
        buf
    };
    match &a.output {
        Some(p) => write_file(p, &out, "output"),
        None => std::io::stdout()
            .write_all(&out)
            .map_err(|e| failed(format!("stdout: {e}"))),
    }
}

/// Every PCR of every allocated bank.
fn all_pcrs(tpm: &mut Tpm<AnyTransport>) -> Result<TpmlPcrSelection, CliError> {
    tpm.pcr_banks().map_err(failed)
}

/// Reads `sel` into owned values in selection order.
pub fn read_pcrs(
    tpm: &mut Tpm<AnyTransport>,
    sel: &TpmlPcrSelection,
) -> Result<Vec<Vec<u8>>, CliError> {
    let mut values = Vec::with_capacity(sel.pcr_count());
    tpm.pcr_read_each(sel, |_, _, v| values.push(v.to_vec()))
        .map_err(failed)?;
    Ok(values)
}

fn pcr_values<'a>(sel: &TpmlPcrSelection, values: &'a [Vec<u8>]) -> PcrValues<'a> {
    PcrValues {
        selection: sel.clone(),
        values: values.iter().map(Vec::as_slice).collect(),
    }
}

#[derive(clap::Args)]
pub struct PcrReadArgs {
    /// Selection such as sha256:0,14,15 or sha1:0-7+sha256:all. Default: every bank, every PCR.
    spec: Option<String>,
    /// Also write the values to a file.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Form of the -o file: serialized (default), values, marshaled.
    #[arg(short = 'F', long, default_value = "serialized", value_parser = pcr_form)]
    format: PcrFileFormat,
}

pub fn pcrread(tcti: Option<&str>, a: &PcrReadArgs) -> Result<(), CliError> {
    let format = a.format;
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let sel = match &a.spec {
        Some(s) => parse_pcr_spec(s).map_err(|e| failed(format!("pcrread {s}: {e}")))?,
        None => all_pcrs(&mut tpm)?,
    };
    let values = read_pcrs(&mut tpm, &sel)?;
    let pv = pcr_values(&sel, &values);
    let mut out = String::new();
    for bank in sel.banks() {
        out.push_str(&format!("  {}:\n", bank.hash));
        for (h, i, v) in pv.iter().filter(|(h, _, _)| *h == bank.hash) {
            debug_assert_eq!(h, bank.hash);
            out.push_str(&format!("    {i:<2}: 0x{}\n", hex::encode_upper(v)));
        }
    }
    print!("{out}");
    if let Some(p) = &a.output {
        write_pcrs(p, format, &pv)?;
    }
    Ok(())
}

fn write_pcrs(path: &Path, format: PcrFileFormat, pv: &PcrValues<'_>) -> Result<(), CliError> {
    let mut buf = vec![0u8; baretpm::interop::encoded_len(format, pv)];
    let bytes = write_pcr_file(format, pv, &mut buf).map_err(failed)?;
    write_file(path, bytes, "PCR file")
}

#[derive(clap::Args)]
pub struct PcrExtendArgs {
    /// PCR and digests, e.g. 14:sha256=HEX[,sha1=HEX]; several may be given.
    #[arg(required = true)]
    specs: Vec<String>,
}

pub fn pcrextend(tcti: Option<&str>, a: &PcrExtendArgs) -> Result<(), CliError> {
    // Parse everything first, so a typo in the third argument extends nothing.
    let mut parsed = Vec::new();
    for spec in &a.specs {
        let (pcr, digests) = spec
            .split_once(':')
            .ok_or_else(|| failed(format!("pcrextend {spec}: expected PCR:ALG=HEX[,ALG=HEX]")))?;
        let pcr: u32 = pcr
            .trim()
            .parse()
            .ok()
            .filter(|p| *p < 24)
            .ok_or_else(|| failed(format!("pcrextend {spec}: PCR must be 0..23")))?;
        let mut list = Vec::new();
        for d in digests.split(',') {
            let (alg, hexv) = d
                .split_once('=')
                .ok_or_else(|| failed(format!("pcrextend {spec}: expected ALG=HEX")))?;
            let alg = HashAlg::from_name(alg)
                .ok_or_else(|| failed(format!("pcrextend {spec}: unknown bank {alg}")))?;
            let bytes = parse_hex(hexv, "pcrextend digest")?;
            if bytes.len() != alg.digest_size() {
                return Err(failed(format!(
                    "pcrextend {spec}: {alg} digest must be {} bytes, got {}",
                    alg.digest_size(),
                    bytes.len()
                )));
            }
            if list.iter().any(|(a, _): &(HashAlg, Vec<u8>)| *a == alg) {
                return Err(failed(format!("pcrextend {spec}: bank {alg} given twice")));
            }
            list.push((alg, bytes));
        }
        parsed.push((pcr, list));
    }
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    for (pcr, list) in &parsed {
        let mut digests = TpmlDigestValues::default();
        for (hash, digest) in list {
            digests
                .digests
                .push(TpmtHa {
                    hash: *hash,
                    digest,
                })
                .map_err(|_| failed("pcrextend: too many banks"))?;
        }
        tpm.execute(&PcrExtend {
            pcr: *pcr,
            auth: &[],
            digests,
        })
        .map_err(failed)?;
    }
    Ok(())
}

/// Output form of a public key.
pub fn write_public(path: &Path, form: PublicForm, tpm2b_public: &[u8]) -> Result<(), CliError> {
    match form {
        PublicForm::Tpm2b => write_file(path, tpm2b_public, "public key"),
        PublicForm::Pem => {
            let (ak, _) = Ak::from_any(tpm2b_public).map_err(failed)?;
            write_file(
                path,
                ak.to_spki_pem().map_err(failed)?.as_bytes(),
                "public key",
            )
        }
    }
}

fn parse_handle(s: &str) -> Result<u32, CliError> {
    handle(s).map_err(|m| failed(format!("handle {s}: {m}")))
}

#[derive(clap::Args)]
pub struct ReadPublicArgs {
    /// Object handle, e.g. 0x81010001.
    #[arg(short = 'c', long = "object-context", value_parser = handle)]
    handle: u32,
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// tpm2b (TPM2B_PUBLIC; also tss) or pem.
    #[arg(short = 'f', long, default_value = "tpm2b", value_parser = public_form)]
    format: PublicForm,
    /// Write the object's Name here.
    #[arg(short = 'n', long)]
    name: Option<PathBuf>,
}

pub fn readpublic(tcti: Option<&str>, a: &ReadPublicArgs) -> Result<(), CliError> {
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let rsp = tpm
        .execute(&ReadPublic {
            object_handle: a.handle,
        })
        .map_err(failed)?;
    let public = baretpm::wire::to_vec(&rsp.out_public, 4096).map_err(failed)?;
    let name = rsp.name.0.to_vec();
    write_public(&a.output, a.format, &public)?;
    if let Some(n) = &a.name {
        write_file(n, &name, "name")?;
    }
    println!("name: {}", hex::encode(&name));
    Ok(())
}

/// Which AK template.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum AkAlg {
    Rsa,
    Ecc,
}

/// An AK made from a standard template, loaded as a transient object.
pub struct LoadedAk {
    pub handle: u32,
    /// TPM2B_PUBLIC bytes.
    pub public: Vec<u8>,
    pub name: Vec<u8>,
}

/// Creates the standard AK in the endorsement hierarchy: the same key every time on one TPM.
pub fn create_ak(tpm: &mut Tpm<AnyTransport>, alg: AkAlg) -> Result<LoadedAk, CliError> {
    let kind = match alg {
        AkAlg::Rsa => AkKind::Rsa,
        AkAlg::Ecc => AkKind::Ecc,
    };
    let (handle, public, name) = flow::create_ak(tpm, kind).map_err(failed)?;
    Ok(LoadedAk {
        handle,
        public,
        name,
    })
}

pub fn flush(tpm: &mut Tpm<AnyTransport>, handle: u32) -> Result<(), CliError> {
    tpm.execute(&FlushContext {
        flush_handle: handle,
    })
    .map_err(failed)
}

#[derive(clap::Args)]
pub struct CreateAkArgs {
    #[arg(long, value_enum, default_value = "rsa")]
    alg: AkAlg,
    /// Where to write the AK public key.
    #[arg(short = 'u', long)]
    public: PathBuf,
    /// tpm2b (TPM2B_PUBLIC; also tss) or pem.
    #[arg(short = 'f', long, default_value = "tpm2b", value_parser = public_form)]
    format: PublicForm,
    /// Where to write the AK's Name.
    #[arg(short = 'n', long)]
    name: Option<PathBuf>,
    #[command(flatten)]
    session: crate::ek_session::SessionArgs,
}

fn ak_kind(alg: AkAlg) -> AkKind {
    match alg {
        AkAlg::Rsa => AkKind::Rsa,
        AkAlg::Ecc => AkKind::Ecc,
    }
}

/// The standard AK, under the salted session when there is one.
fn create_ak_in(
    tpm: &mut Tpm<AnyTransport>,
    session: Option<&mut crate::ek_session::EkSession>,
    alg: AkAlg,
) -> Result<LoadedAk, CliError> {
    match session {
        Some(s) => crate::ek_session::create_ak(tpm, s, ak_kind(alg)),
        None => create_ak(tpm, alg),
    }
}

pub fn createak(tcti: Option<&str>, a: &CreateAkArgs) -> Result<(), CliError> {
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let mut session = crate::ek_session::begin(&mut tpm, a.session)?;
    let ak = create_ak_in(&mut tpm, session.as_mut(), a.alg);
    if let Some(s) = session {
        s.close(&mut tpm);
    }
    let ak = ak?;
    flush(&mut tpm, ak.handle)?;
    write_public(&a.public, a.format, &ak.public)?;
    if let Some(n) = &a.name {
        write_file(n, &ak.name, "name")?;
    }
    println!("name: {}", hex::encode(&ak.name));
    Ok(())
}

#[derive(clap::Args)]
pub struct QuoteArgs {
    /// rsa or ecc (the standard AK, created for this quote) or a loaded/persistent handle.
    #[arg(long, default_value = "rsa")]
    ak: String,
    /// PCR selection, e.g. sha256:0-7,14,15.
    #[arg(short = 'l', long = "pcr-list")]
    pcr_list: String,
    /// Nonce (hex) placed in extraData.
    #[arg(short = 'q', long)]
    qualification: String,
    /// TPMS_ATTEST output.
    #[arg(short = 'm', long)]
    message: PathBuf,
    /// TPMT_SIGNATURE output.
    #[arg(short = 's', long)]
    signature: PathBuf,
    /// PCR values output.
    #[arg(short = 'o', long)]
    pcr: PathBuf,
    /// Form of the PCR file: serialized (default), values, marshaled.
    #[arg(short = 'F', long, default_value = "serialized", value_parser = pcr_form)]
    format: PcrFileFormat,
    /// Hash the AK must sign with (the standard AKs use sha256).
    #[arg(short = 'g', long, value_parser = hash_alg)]
    hash_algorithm: Option<HashAlg>,
    /// Also write the AK public key (TPM2B_PUBLIC) here.
    #[arg(short = 'u', long)]
    public: Option<PathBuf>,
    #[command(flatten)]
    session: crate::ek_session::SessionArgs,
}

/// One quote with the PCR values it covers, as owned bytes.
pub struct QuoteOutput {
    pub attest: Vec<u8>,
    pub signature: Vec<u8>,
    pub values: Vec<Vec<u8>>,
    pub signing_hash: Option<HashAlg>,
}

/// Quotes `sel` and reads the PCR values; re-reads (up to three times) if a PCR changed
/// between the two, so the values always match the quote's pcrDigest.
///
/// The Quote is sent under a salted session when one is given with the AK's Name (for the
/// cpHash).
fn quote_with_values_in(
    tpm: &mut Tpm<AnyTransport>,
    ak_handle: u32,
    nonce: &[u8],
    sel: &TpmlPcrSelection,
    mut session: Option<(&mut crate::ek_session::EkSession, &[u8])>,
) -> Result<QuoteOutput, CliError> {
    for _ in 0..3 {
        let cmd = Quote {
            sign_handle: ak_handle,
            sign_auth: &[],
            qualifying_data: nonce,
            pcr_select: sel.clone(),
        };
        let q = match session.as_mut() {
            Some((s, name)) => crate::ek_session::execute(tpm, s, &cmd, &[name])
                .map_err(|e| crate::ek_session::under_session("Quote", &e))?,
            None => tpm.execute(&cmd).map_err(failed)?,
        };
        let attest = q.attest_bytes.to_vec();
        let signature = q.signature_bytes.to_vec();
        let signing_hash = q.signature.hash();
        let qi = q.attest.quote().ok_or_else(|| {
            refused("quote: the TPM answered with an attestation that is not a quote")
        })?;
        // A different selection would read as "PCRs kept changing" below: name the lie.
        if !qi.pcr_select.same_pcrs(sel) {
            return Err(refused(format!(
                "quote: the TPM quoted {}, not the {} asked for; no file written",
                display_pcr_spec(&qi.pcr_select),
                display_pcr_spec(sel)
            )));
        }
        let quoted_digest = qi.pcr_digest.0.to_vec();
        let values = read_pcrs(tpm, sel)?;
        let h = signing_hash.ok_or_else(|| refused("quote: the TPM returned an unsigned quote"))?;
        let mut hasher = hash::Hasher::new(h).map_err(failed)?;
        values.iter().for_each(|v| hasher.update(v));
        if hasher.finish().as_bytes() == quoted_digest.as_slice() {
            return Ok(QuoteOutput {
                attest,
                signature,
                values,
                signing_hash,
            });
        }
    }
    Err(failed(
        "quote: PCR values kept changing while quoting; try again",
    ))
}

/// Checks a quote the TPM just returned against what was asked, with the verifier's own
/// checks, before any file is written: the AK's signature, TPM_GENERATED and the quote type,
/// the nonce, the signer (the standard AK under the endorsement hierarchy, or the qualified
/// Name ReadPublic gave for a handle), the selection and the PCR digest. Something on the bus
/// that changed the nonce or the selection in flight is caught here (exit 1).
fn check_own_quote(
    public: &[u8],
    qualified_name: Option<&[u8]>,
    nonce: &[u8],
    sel: &TpmlPcrSelection,
    out: &QuoteOutput,
) -> Result<(), CliError> {
    use baretpm::types::alg::handle::RH_ENDORSEMENT;
    use baretpm::verify::{verify_quote, Expectations, Policy};
    let (ak, _) = Ak::from_any(public).map_err(failed)?;
    let endorsement = RH_ENDORSEMENT.to_be_bytes();
    let values = pcr_values(sel, &out.values);
    let expect = {
        let mut e = Expectations::new(nonce, &values);
        e.ak_parent_qualified_name = qualified_name.is_none().then_some(&endorsement[..]);
        e
    };
    // What the caller asked for is the policy here: SHA-1 banks, an empty nonce or a key of
    // the caller's choosing are theirs to judge when they verify.
    let policy = {
        let mut p = Policy::default();
        p.allow_sha1_banks = true;
        p.allow_sha1_signature = true;
        p.allow_empty_nonce = true;
        p.require_ak_attributes = false;
        p
    };
    let refuse = |what: String| {
        refused(format!(
            "quote: the TPM's answer is not the quote asked for ({what}); no file written"
        ))
    };
    let verified = verify_quote(&ak, &out.attest, &out.signature, &expect, &policy)
        .map_err(|e| refuse(e.to_string()))?;
    if let Some(qn) = qualified_name {
        if verified.attest.qualified_signer.as_bytes() != qn {
            return Err(refuse(
                "qualifiedSigner is not the key's qualified name".into(),
            ));
        }
    }
    Ok(())
}

pub fn quote(tcti: Option<&str>, a: &QuoteArgs) -> Result<(), CliError> {
    let format = a.format;
    let sel = parse_pcr_spec(&a.pcr_list).map_err(|e| failed(format!("-l {}: {e}", a.pcr_list)))?;
    let nonce = parse_hex(&a.qualification, "-q")?;
    let want = a.hash_algorithm;
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let mut session = crate::ek_session::begin(&mut tpm, a.session)?;
    let result = quote_in(&mut tpm, a, &nonce, &sel, session.as_mut());
    if let Some(s) = session {
        s.close(&mut tpm);
    }
    let (public, qualified_name, out) = result?;
    if let (Some(w), Some(h)) = (want, out.signing_hash) {
        if w != h {
            return Err(refused(format!(
                "quote: the AK signs with {h}, not the {w} asked with -g"
            )));
        }
    }
    check_own_quote(&public, qualified_name.as_deref(), &nonce, &sel, &out)?;
    write_file(&a.message, &out.attest, "message")?;
    write_file(&a.signature, &out.signature, "signature")?;
    write_pcrs(&a.pcr, format, &pcr_values(&sel, &out.values))?;
    if let Some(u) = &a.public {
        write_file(u, &public, "public key")?;
    }
    println!(
        "quoted {} with nonce {}",
        display_pcr_spec(&sel),
        hex::encode(&nonce)
    );
    Ok(())
}

/// The AK public key, its qualified name when it was a handle, and the quote.
type QuoteResult = (Vec<u8>, Option<Vec<u8>>, QuoteOutput);

fn quote_in(
    tpm: &mut Tpm<AnyTransport>,
    a: &QuoteArgs,
    nonce: &[u8],
    sel: &TpmlPcrSelection,
    mut session: Option<&mut crate::ek_session::EkSession>,
) -> Result<QuoteResult, CliError> {
    let (handle, public, created, qualified_name, name) = match a.ak.as_str() {
        "rsa" | "ecc" => {
            let ak = create_ak_in(
                tpm,
                session.as_deref_mut(),
                if a.ak == "rsa" {
                    AkAlg::Rsa
                } else {
                    AkAlg::Ecc
                },
            )?;
            (ak.handle, ak.public, true, None, ak.name)
        }
        h => {
            let handle = parse_handle(h)?;
            let rsp = tpm
                .execute(&ReadPublic {
                    object_handle: handle,
                })
                .map_err(failed)?;
            (
                handle,
                baretpm::wire::to_vec(&rsp.out_public, 4096).map_err(failed)?,
                false,
                Some(rsp.qualified_name.0.to_vec()),
                rsp.name.0.to_vec(),
            )
        }
    };
    let result = quote_with_values_in(
        tpm,
        handle,
        nonce,
        sel,
        session.map(|s| (s, name.as_slice())),
    );
    if created {
        flush(tpm, handle)?;
    }
    Ok((public, qualified_name, result?))
}
