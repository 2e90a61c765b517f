//! `baretpm._native`: the Python extension. It is a thin layer over the crate: proofs are
//! read, hashed and verified by `baretpm::proof`, quotes by `baretpm::verify`, PCR files by
//! `baretpm::interop`. The Python package (`baretpm/__init__.py`) turns what these functions
//! return into `Report`, `Check` and `QuoteResult` objects.
//!
//! Every function that reads files, hashes or verifies does so with the GIL released
//! (`Python::detach`): only owned or borrowed-immutable Rust values cross into that closure.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use baretpm::cert::{certificates_from_bytes, CertError, Certificate, MAX_POOL};
use baretpm::eventlog::MAX_LOG_BYTES;
use baretpm::files::read_bounded;
use baretpm::interop::{display_pcr_spec, parse_pcr_file, parse_pcr_spec, PcrFileFormat};
use baretpm::proof::certs::CertTrust;
use baretpm::proof::file::MAX_NONCE;
use baretpm::proof::hash::{self, HashOptions, Target};
use baretpm::proof::JsonFile;
use baretpm::proof::{verify as verify_proof, Event, Policy, Proof, Reference, Report, Status};
use baretpm::types::{HashAlg, PcrValues, TpmlPcrSelection, TpmsAttest, TpmuAttest};
use baretpm::verify::{self as qv, Ak, AkFormat, Expectations};
use baretpm::wire::Unmarshal;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

create_exception!(
    baretpm,
    ProofError,
    PyValueError,
    "An input could not be read or is malformed (the cases where `baretpm verify` exits 2).\n\n\
     `kind` is the CLI's `--json` error kind: 'proof-unreadable', 'proof-malformed' or 'usage'\n\
     ('eventlog-malformed' for a log `baretpm eventlog` refuses with exit 2)."
);

/// Largest AK public key file read (as `baretpm verify --ak-pub`).
const MAX_AK_FILE: u64 = 64 * 1024;
/// Largest key, attestation, signature or PCR file read by `checkquote` (as the CLI).
const MAX_SMALL_FILE: u64 = 1 << 20;
/// Largest certificate bundle file, and most files read from a roots directory (the limits of
/// the CLI's `--ek-ca`/`--ak-ca`).
const MAX_BUNDLE_FILE: u64 = 4 * 1024 * 1024;
const MAX_DIR_FILES: usize = 512;

/// An input error: the CLI's `--json` kind and its message.
struct InputError {
    kind: &'static str,
    message: String,
}

fn input(kind: &'static str, message: impl std::fmt::Display) -> InputError {
    InputError {
        kind,
        message: message.to_string(),
    }
}

impl InputError {
    fn into_py(self, py: Python<'_>) -> PyErr {
        let err = ProofError::new_err(self.message);
        // Setting an attribute on a fresh exception instance cannot fail in practice; if it
        // did, the exception still carries its message.
        let _ = err.value(py).setattr("kind", self.kind);
        err
    }
}

/// Bytes given directly, or a path to read (bounded) without the GIL.
enum Source<'a> {
    Data(&'a [u8]),
    Path(PathBuf),
}

impl Source<'_> {
    fn new<'a>(data: Option<&'a [u8]>, path: Option<PathBuf>) -> Option<Source<'a>> {
        match (data, path) {
            (Some(d), _) => Some(Source::Data(d)),
            (None, Some(p)) => Some(Source::Path(p)),
            (None, None) => None,
        }
    }

    fn read(&self, max: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
        match self {
            Source::Data(d) if d.len() as u64 > max => Err(input(
                "usage",
                format!("{what}: {} bytes is more than the {max} allowed", d.len()),
            )),
            Source::Data(d) => Ok(d.to_vec()),
            Source::Path(p) => read_bounded(p, max, what).map_err(|e| input("usage", e)),
        }
    }
}

/// A nonce given as bytes or as hex text, checked as `baretpm verify --nonce` checks it.
fn nonce_of(data: Option<&[u8]>, hex_text: Option<&str>) -> Result<Option<Vec<u8>>, InputError> {
    let v = match (data, hex_text) {
        (Some(d), _) => d.to_vec(),
        (None, Some(s)) => {
            let s = s.trim();
            if s.len() > 2 * MAX_NONCE {
                return Err(input(
                    "usage",
                    format!(
                        "nonce: {} hex digits, at most {} allowed",
                        s.len(),
                        2 * MAX_NONCE
                    ),
                ));
            }
            hex::decode(s).map_err(|e| input("usage", format!("nonce: not hex: {e}")))?
        }
        (None, None) => return Ok(None),
    };
    if v.is_empty() {
        return Err(input("usage", "nonce: empty"));
    }
    if v.len() > MAX_NONCE {
        return Err(input(
            "usage",
            format!("nonce: {} bytes, at most {MAX_NONCE} allowed", v.len()),
        ));
    }
    Ok(Some(v))
}

/// `git:PATH` is a git target, anything else a file or directory (as the CLI's `--input`).
fn target_of(p: &Path) -> Target {
    match p.to_str() {
        Some(s) => Target::parse(s),
        None => Target::Path(p.to_path_buf()),
    }
}

fn measure(paths: &[PathBuf], threads: Option<usize>) -> Result<Vec<Event>, InputError> {
    let mut opts = HashOptions::default();
    if let Some(t) = threads {
        opts.threads = t.clamp(1, 64);
    }
    let targets: Vec<Target> = paths.iter().map(|p| target_of(p)).collect();
    hash::measure(&targets, &opts, &mut |_| {}).map_err(|e| input("usage", e))
}

fn read_proof(src: &Source<'_>) -> Result<Proof, InputError> {
    let r = match src {
        Source::Data(d) => Proof::from_json(d),
        Source::Path(p) => Proof::read(p),
    };
    r.map_err(|e| input(e.kind(), e.message()))
}

fn read_reference(src: &Source<'_>) -> Result<Reference, InputError> {
    let r = match src {
        Source::Data(d) => Reference::from_json(d),
        Source::Path(p) => Reference::read(p),
    };
    r.map_err(|e| input("usage", e))
}

/// One entry of `ek_ca`/`ak_ca`/`ek_chain`/`ak_chain`: certificate bytes, or a path to a PEM
/// bundle, DER file or directory of them.
type CertItem = (Option<Vec<u8>>, Option<PathBuf>);

/// The files a roots or chain argument names: a directory's regular files in name order (at
/// most `MAX_DIR_FILES`), as the CLI reads `--ek-ca DIR`.
fn pool_files(p: &Path, what: &str) -> Result<Vec<PathBuf>, InputError> {
    if !p.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| input("usage", format!("{what} {}: {e}", p.display())))?
        .take(MAX_DIR_FILES + 1)
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    if entries.len() > MAX_DIR_FILES {
        return Err(input(
            "usage",
            format!("{what} {}: more than {MAX_DIR_FILES} files", p.display()),
        ));
    }
    entries.sort();
    Ok(entries)
}

/// Every certificate of the given items (at most `MAX_POOL` in all).
fn read_pool(items: &[CertItem], what: &str) -> Result<Vec<Certificate>, InputError> {
    let mut pool = Vec::new();
    let mut add = |bytes: &[u8], name: &str| -> Result<(), InputError> {
        let left = MAX_POOL.saturating_sub(pool.len());
        let certs = certificates_from_bytes(bytes, left).map_err(|e| match e {
            CertError::TooManyCertificates { .. } => input(
                "usage",
                format!("{what}: more than {MAX_POOL} certificates in all, refused"),
            ),
            e => input(
                "usage",
                format!("{what}: {}: {e}", baretpm::text::escape(name)),
            ),
        })?;
        pool.extend(certs);
        Ok(())
    };
    for item in items {
        match item {
            (Some(d), _) if d.len() as u64 > MAX_BUNDLE_FILE => {
                return Err(input(
                    "usage",
                    format!(
                        "{what}: {} bytes is more than the {MAX_BUNDLE_FILE} allowed",
                        d.len()
                    ),
                ))
            }
            (Some(d), _) => add(d, "bytes")?,
            (None, Some(p)) => {
                for f in pool_files(p, what)? {
                    let bytes = read_bounded(&f, MAX_BUNDLE_FILE, "certificates")
                        .map_err(|e| input("usage", format!("{what}: {e}")))?;
                    add(&bytes, &f.display().to_string())?;
                }
            }
            (None, None) => {}
        }
    }
    Ok(pool)
}

/// The trust for one kind of certificate, as the CLI builds it from `--ek-ca`/`--ek-chain`:
/// no roots and no chain is no trust (the row is a skip); a chain without roots is a usage
/// error.
fn cert_trust(
    roots: &[CertItem],
    chain: &[CertItem],
    what: &str,
    allow_sha1: bool,
) -> Result<Option<CertTrust>, InputError> {
    if roots.is_empty() {
        if chain.is_empty() {
            return Ok(None);
        }
        return Err(input("usage", format!("{what}_chain needs {what}_ca")));
    }
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| input("usage", e))?
        .as_secs();
    Ok(Some(CertTrust {
        roots: read_pool(roots, &format!("{what}_ca"))?,
        intermediates: read_pool(chain, &format!("{what}_chain"))?,
        at,
        allow_sha1,
    }))
}

/// `(name, result, detail)` of one report row.
type Row = (&'static str, &'static str, String);
/// `(passed, rows, table, json)`.
type VerifyResult = (bool, Vec<Row>, String, String);
/// `(kind, name, digest algorithm, digest)` of one measured target.
type Measured = (&'static str, String, &'static str, Py<PyBytes>);
/// `(passed, failed check, message, details)`.
type QuoteResult<'py> = (bool, Option<String>, String, Option<Bound<'py, PyDict>>);

/// What `verify` hands back to Python: the rows, the CLI's table and its `--json` text.
struct Verified {
    passed: bool,
    rows: Vec<Row>,
    table: String,
    json: String,
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Skip => "skip",
        Status::NotRun => "not run",
    }
}

fn verified(report: &Report) -> Verified {
    Verified {
        passed: report.passed(),
        rows: report
            .checks
            .iter()
            .map(|c| (c.name, status_text(c.status), c.detail.clone()))
            .collect(),
        table: report.table(),
        json: serde_json::to_string_pretty(&report.to_json()).unwrap_or_default(),
    }
}

/// Verifies a proof (see `baretpm.verify`). The order of work is the CLI's: the proof is read
/// first (its errors win), then the policy inputs, then the checks.
#[pyfunction]
#[pyo3(signature = (
    proof_data, proof_path, nonce_data, nonce_hex, ak_data, ak_path, inputs, outputs,
    reference_data, reference_path, allow_sha1, threads, ek_ca=Vec::new(), ek_chain=Vec::new(),
    ak_ca=Vec::new(), ak_chain=Vec::new()
))]
#[allow(clippy::too_many_arguments)]
fn verify(
    py: Python<'_>,
    proof_data: Option<&[u8]>,
    proof_path: Option<PathBuf>,
    nonce_data: Option<&[u8]>,
    nonce_hex: Option<&str>,
    ak_data: Option<&[u8]>,
    ak_path: Option<PathBuf>,
    inputs: Vec<PathBuf>,
    outputs: Vec<PathBuf>,
    reference_data: Option<&[u8]>,
    reference_path: Option<PathBuf>,
    allow_sha1: bool,
    threads: Option<usize>,
    ek_ca: Vec<CertItem>,
    ek_chain: Vec<CertItem>,
    ak_ca: Vec<CertItem>,
    ak_chain: Vec<CertItem>,
) -> PyResult<VerifyResult> {
    let proof_src = Source::new(proof_data, proof_path)
        .ok_or_else(|| input("usage", "no proof given").into_py(py))?;
    let ak_src = Source::new(ak_data, ak_path);
    let reference_src = Source::new(reference_data, reference_path);
    let result = py.detach(|| -> Result<Verified, InputError> {
        let proof = read_proof(&proof_src)?;
        let mut policy = Policy {
            nonce: nonce_of(nonce_data, nonce_hex)?,
            ..Policy::default()
        };
        policy.quote.allow_sha1_banks = allow_sha1;
        policy.quote.allow_sha1_signature = allow_sha1;
        if let Some(s) = &ak_src {
            policy.ak_public = Some(s.read(MAX_AK_FILE, "AK public key")?);
        }
        if let Some(s) = &reference_src {
            policy.reference = Some(read_reference(s)?);
        }
        policy.ek_ca = cert_trust(&ek_ca, &ek_chain, "ek", allow_sha1)?;
        policy.ak_ca = cert_trust(&ak_ca, &ak_chain, "ak", allow_sha1)?;
        policy.inputs = measure(&inputs, threads)?;
        policy.outputs = measure(&outputs, threads)?;
        let report = match verify_proof(&proof, &policy) {
            Ok(r) => r,
            Err(rejected) => rejected.report,
        };
        Ok(verified(&report))
    });
    match result {
        Ok(v) => Ok((v.passed, v.rows, v.table, v.json)),
        Err(e) => Err(e.into_py(py)),
    }
}

/// One measured file, directory or git HEAD: `(kind, name, digest algorithm, digest)`.
#[pyfunction]
#[pyo3(signature = (paths, threads=None))]
fn measure_paths(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    threads: Option<usize>,
) -> PyResult<Vec<Measured>> {
    let events = py
        .detach(|| measure(&paths, threads))
        .map_err(|e| e.into_py(py))?;
    Ok(events
        .iter()
        .map(|e| {
            (
                e.kind().name(),
                e.name().to_string(),
                e.digest_alg().name(),
                PyBytes::new(py, e.digest()).unbind(),
            )
        })
        .collect())
}

fn selection_list<'py>(py: Python<'py>, s: &TpmlPcrSelection) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for b in s.banks() {
        let d = PyDict::new(py);
        d.set_item("hash", b.hash.name())?;
        d.set_item("pcrs", b.indices().collect::<Vec<u32>>())?;
        list.append(d)?;
    }
    Ok(list)
}

fn attest_dict<'py>(py: Python<'py>, a: &TpmsAttest<'_>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("magic", TpmsAttest::MAGIC)?;
    d.set_item("type", a.attested.type_name())?;
    d.set_item(
        "qualified_signer",
        PyBytes::new(py, a.qualified_signer.as_bytes()),
    )?;
    d.set_item("extra_data", PyBytes::new(py, a.extra_data.as_bytes()))?;
    let c = PyDict::new(py);
    c.set_item("clock", a.clock_info.clock)?;
    c.set_item("reset_count", a.clock_info.reset_count)?;
    c.set_item("restart_count", a.clock_info.restart_count)?;
    c.set_item("safe", a.clock_info.safe)?;
    d.set_item("clock_info", c)?;
    d.set_item("firmware_version", a.firmware_version)?;
    let b = PyDict::new(py);
    let bytes = |x: &[u8]| PyBytes::new(py, x);
    match &a.attested {
        TpmuAttest::Quote(q) => {
            b.set_item("pcr_select", selection_list(py, &q.pcr_select)?)?;
            b.set_item("pcr_digest", bytes(q.pcr_digest.as_bytes()))?;
        }
        TpmuAttest::Certify(x) => {
            b.set_item("name", bytes(x.name.as_bytes()))?;
            b.set_item("qualified_name", bytes(x.qualified_name.as_bytes()))?;
        }
        TpmuAttest::SessionAudit(x) => {
            b.set_item("exclusive_session", x.exclusive_session)?;
            b.set_item("session_digest", bytes(x.session_digest.as_bytes()))?;
        }
        TpmuAttest::CommandAudit(x) => {
            b.set_item("audit_counter", x.audit_counter)?;
            b.set_item("digest_alg", x.digest_alg.0)?;
            b.set_item("audit_digest", bytes(x.audit_digest.as_bytes()))?;
            b.set_item("command_digest", bytes(x.command_digest.as_bytes()))?;
        }
        TpmuAttest::Time(x) => {
            b.set_item("time", x.time)?;
            let c = PyDict::new(py);
            c.set_item("clock", x.clock_info.clock)?;
            c.set_item("reset_count", x.clock_info.reset_count)?;
            c.set_item("restart_count", x.clock_info.restart_count)?;
            c.set_item("safe", x.clock_info.safe)?;
            b.set_item("clock_info", c)?;
            b.set_item("firmware_version", x.firmware_version)?;
        }
        TpmuAttest::Creation(x) => {
            b.set_item("object_name", bytes(x.object_name.as_bytes()))?;
            b.set_item("creation_hash", bytes(x.creation_hash.as_bytes()))?;
        }
        TpmuAttest::Nv(x) => {
            b.set_item("index_name", bytes(x.index_name.as_bytes()))?;
            b.set_item("offset", x.offset)?;
            b.set_item("nv_contents", bytes(x.nv_contents.as_bytes()))?;
        }
        TpmuAttest::NvDigest(x) => {
            b.set_item("index_name", bytes(x.index_name.as_bytes()))?;
            b.set_item("nv_digest", bytes(x.nv_digest.as_bytes()))?;
        }
    }
    d.set_item("attested", b)?;
    Ok(d)
}

/// Parses a TPMS_ATTEST (what `tpm2_quote -m` writes). Parsing is not verifying: nothing in
/// the result is trustworthy until the signature is checked (`checkquote`).
#[pyfunction]
fn parse_attest<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    match TpmsAttest::from_bytes(data) {
        Ok(a) => attest_dict(py, &a),
        Err(e) => Err(input("usage", format!("TPMS_ATTEST: {e}")).into_py(py)),
    }
}

/// A quote check's outcome before it becomes Python objects.
enum QuoteOutcome {
    Verified {
        attest: Vec<u8>,
        signing_hash: HashAlg,
        ak_format: AkFormat,
        selection: TpmlPcrSelection,
    },
    Refused {
        check: String,
        message: String,
    },
}

fn refused(check: &str, message: impl std::fmt::Display) -> QuoteOutcome {
    QuoteOutcome::Refused {
        check: check.to_string(),
        message: message.to_string(),
    }
}

fn ak_format_name(f: AkFormat) -> &'static str {
    match f {
        AkFormat::Tpm2bPublic => "TPM2B_PUBLIC",
        AkFormat::TpmtPublic => "TPMT_PUBLIC",
        AkFormat::SpkiDer => "SubjectPublicKeyInfo (DER)",
        AkFormat::SpkiPem => "SubjectPublicKeyInfo (PEM)",
    }
}

/// Options of `checkquote`, as the CLI's flags.
struct QuoteOptions<'a> {
    nonce: Vec<u8>,
    pcr_format: &'a str,
    pcr_list: Option<&'a str>,
    hash_algorithm: Option<&'a str>,
    policy: qv::Policy,
}

fn check_quote(
    ak: &Source<'_>,
    attest: &Source<'_>,
    signature: &Source<'_>,
    pcrs: Option<&Source<'_>>,
    o: &QuoteOptions<'_>,
) -> Result<QuoteOutcome, InputError> {
    let ak_bytes = ak.read(MAX_SMALL_FILE, "AK public key")?;
    let msg = attest.read(MAX_SMALL_FILE, "quote message")?;
    let sig = signature.read(MAX_SMALL_FILE, "signature")?;
    let pcr_bytes = match pcrs {
        Some(s) => Some(s.read(MAX_SMALL_FILE, "PCR file")?),
        None => None,
    };
    let format = PcrFileFormat::from_name(o.pcr_format).ok_or_else(|| {
        input(
            "usage",
            format!(
                "pcr_format {:?}: expected serialized, values or marshaled",
                o.pcr_format
            ),
        )
    })?;
    let selection = match o.pcr_list {
        Some(s) => {
            Some(parse_pcr_spec(s).map_err(|e| input("usage", format!("pcr_list {s}: {e}")))?)
        }
        None => None,
    };
    let want_hash = match o.hash_algorithm {
        Some(g) => Some(HashAlg::from_name(g).ok_or_else(|| {
            input(
                "usage",
                format!("hash_algorithm {g}: unknown hash algorithm"),
            )
        })?),
        None => None,
    };
    let values = match &pcr_bytes {
        Some(b) => match parse_pcr_file(format, b, selection.as_ref()) {
            Ok(v) => v,
            Err(e) => {
                // Worded as the CLI words it, with the file's name when there is one.
                let name = match pcrs {
                    Some(Source::Path(p)) => format!("{}: ", p.display()),
                    _ => String::new(),
                };
                return Ok(refused("pcr-file", format!("pcr-file: {name}{e}")));
            }
        },
        None => PcrValues::default(),
    };
    let (ak, ak_format) = match Ak::from_any(&ak_bytes) {
        Ok(x) => x,
        Err(e) => return Ok(refused(e.check_name(), e)),
    };
    let expect = Expectations::new(&o.nonce, &values);
    let v = match qv::verify_quote(&ak, &msg, &sig, &expect, &o.policy) {
        Ok(v) => v,
        Err(e) => return Ok(refused(e.check_name(), e)),
    };
    if let Some(h) = want_hash {
        if h != v.signing_hash {
            return Ok(refused(
                "signature-scheme",
                format!(
                    "signature-scheme: the AK signed with {}, not the {h} given as hash_algorithm",
                    v.signing_hash
                ),
            ));
        }
    }
    Ok(QuoteOutcome::Verified {
        attest: msg.clone(),
        signing_hash: v.signing_hash,
        ak_format,
        selection: values.selection.clone(),
    })
}

/// Verifies a tpm2-tools quote (see `baretpm.checkquote`). Returns `(passed, check, message,
/// details)`; `details` is a dict for a verified quote, else None.
#[pyfunction]
#[pyo3(signature = (
    ak_data, ak_path, attest_data, attest_path, sig_data, sig_path, pcrs_data, pcrs_path,
    nonce_data, nonce_hex, pcr_format, pcr_list, hash_algorithm, allow_sha1, allow_no_nonce,
    allow_unrestricted_ak
))]
#[allow(clippy::too_many_arguments)]
fn checkquote<'py>(
    py: Python<'py>,
    ak_data: Option<&[u8]>,
    ak_path: Option<PathBuf>,
    attest_data: Option<&[u8]>,
    attest_path: Option<PathBuf>,
    sig_data: Option<&[u8]>,
    sig_path: Option<PathBuf>,
    pcrs_data: Option<&[u8]>,
    pcrs_path: Option<PathBuf>,
    nonce_data: Option<&[u8]>,
    nonce_hex: Option<&str>,
    pcr_format: &str,
    pcr_list: Option<&str>,
    hash_algorithm: Option<&str>,
    allow_sha1: bool,
    allow_no_nonce: bool,
    allow_unrestricted_ak: bool,
) -> PyResult<QuoteResult<'py>> {
    let missing = |what: &str| input("usage", format!("no {what} given")).into_py(py);
    let ak = Source::new(ak_data, ak_path).ok_or_else(|| missing("AK"))?;
    let attest = Source::new(attest_data, attest_path).ok_or_else(|| missing("attest"))?;
    let sig = Source::new(sig_data, sig_path).ok_or_else(|| missing("signature"))?;
    let pcrs = Source::new(pcrs_data, pcrs_path);
    let nonce = match (nonce_data, nonce_hex) {
        (None, None) => Vec::new(),
        (d, h) => nonce_of(d, h)
            .map_err(|e| e.into_py(py))?
            .unwrap_or_default(),
    };
    let opts = QuoteOptions {
        nonce,
        pcr_format,
        pcr_list,
        hash_algorithm,
        policy: {
            let mut p = qv::Policy::default();
            p.allow_sha1_banks = allow_sha1;
            p.allow_sha1_signature = allow_sha1;
            p.allow_empty_nonce = allow_no_nonce;
            p.require_ak_attributes = !allow_unrestricted_ak;
            p
        },
    };
    let outcome = py
        .detach(|| check_quote(&ak, &attest, &sig, pcrs.as_ref(), &opts))
        .map_err(|e| e.into_py(py))?;
    match outcome {
        QuoteOutcome::Refused { check, message } => Ok((false, Some(check), message, None)),
        QuoteOutcome::Verified {
            attest,
            signing_hash,
            ak_format,
            selection,
        } => {
            // verify_quote parsed these bytes already.
            let parsed = TpmsAttest::from_bytes(&attest)
                .map_err(|e| input("usage", format!("TPMS_ATTEST: {e}")).into_py(py))?;
            let d = PyDict::new(py);
            d.set_item("signing_hash", signing_hash.name())?;
            d.set_item("ak_format", ak_format_name(ak_format))?;
            d.set_item("pcrs", display_pcr_spec(&selection).to_string())?;
            d.set_item("attest", attest_dict(py, &parsed)?)?;
            Ok((true, None, "quote verified".to_string(), Some(d)))
        }
    }
}

/// Parses, replays and summarises a TCG event log (see `baretpm.eventlog`): the text
/// `baretpm eventlog --json` prints, from the same library function.
#[pyfunction]
fn eventlog_json(py: Python<'_>, data: &[u8]) -> PyResult<String> {
    if data.len() > MAX_LOG_BYTES {
        return Err(input(
            "usage",
            format!(
                "event log: {} bytes is more than the {MAX_LOG_BYTES} allowed",
                data.len()
            ),
        )
        .into_py(py));
    }
    py.detach(|| baretpm::eventlog::report::json_text(data))
        .map_err(|e| input("eventlog-malformed", format!("eventlog: {e}")).into_py(py))
}

/// Untrusted text made safe to show (the CLI's escaping: control characters, ESC and
/// bidirectional overrides become visible escapes).
#[pyfunction]
fn escape(text: &str) -> String {
    baretpm::text::escape(text)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ProofError", m.py().get_type::<ProofError>())?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(measure_paths, m)?)?;
    m.add_function(wrap_pyfunction!(parse_attest, m)?)?;
    m.add_function(wrap_pyfunction!(checkquote, m)?)?;
    m.add_function(wrap_pyfunction!(escape, m)?)?;
    m.add_function(wrap_pyfunction!(eventlog_json, m)?)?;
    m.add("MAX_NONCE", MAX_NONCE)?;
    Ok(())
}
