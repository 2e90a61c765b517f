//! EK/AK certificates: `nvread`, `getekcertificate`, `createek` (TPM side) and `checkcert`
//! (validation, no TPM needed).

use crate::util::{failed, open_tpm, public_form, refused, CliError, PublicForm};
use baretpm::cert::{
    self, chain_names, escape, time_text, validate, CertError, Certificate, Policy, Role,
    SubjectKey, MAX_POOL,
};
use baretpm::commands::templates::EkType;
use baretpm::commands::{FlushContext, GetCapability, NvRead, NvReadPublic};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::AnyTransport;
use baretpm::types::alg::handle;
use baretpm::types::capability::cap;
use baretpm::types::TpmsCapabilityData;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Largest certificate file (a leaf, possibly NV-padded).
const MAX_LEAF_FILE: u64 = 64 * 1024;
/// Largest trust store or chain file (the 143-intermediate vendor bundle is ~310 KiB).
const MAX_BUNDLE_FILE: u64 = 4 * 1024 * 1024;
/// Most files read from a `--ca` directory.
const MAX_DIR_FILES: usize = 512;
/// EK certificate chain NV range (TCG EK Credential Profile).
const EK_CHAIN_FIRST: u32 = 0x01C0_0100;
const EK_CHAIN_LAST: u32 = 0x01C0_01FF;

fn write_file(path: &Path, bytes: &[u8], what: &str) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| failed(format!("{what} {}: {e}", path.display())))
}

fn parse_u32(s: &str, what: &str) -> Result<u32, CliError> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    };
    v.ok_or_else(|| failed(format!("{what} {s}: expected a number such as 0x01c00002")))
}

// ---------------------------------------------------------------------------------------------
// nvread

#[derive(clap::Args)]
pub struct NvReadArgs {
    /// NV index, e.g. 0x01c00002.
    index: String,
    /// Write the data here instead of stdout.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Bytes to read (default: from the offset to the end of the index).
    #[arg(short = 's', long)]
    size: Option<u16>,
    /// Offset of the first byte.
    #[arg(long, default_value_t = 0)]
    offset: u16,
    /// Authorization: the index itself (default), o (owner) or p (platform), empty password.
    #[arg(short = 'C', long = "hierarchy", default_value = "index", value_parser = nv_auth)]
    auth: NvAuth,
}

/// Who authorizes an NV read (`-C`).
#[derive(Clone, Copy)]
enum NvAuth {
    /// The index itself.
    Index,
    /// A hierarchy: TPM_RH_OWNER or TPM_RH_PLATFORM.
    Hierarchy(u32),
}

/// Parses `-C` (a clap `value_parser`).
fn nv_auth(s: &str) -> Result<NvAuth, String> {
    match s {
        "index" => Ok(NvAuth::Index),
        "o" | "owner" => Ok(NvAuth::Hierarchy(handle::RH_OWNER)),
        "p" | "platform" => Ok(NvAuth::Hierarchy(handle::RH_PLATFORM)),
        _ => Err("expected index, o or p".into()),
    }
}

/// The size of an NV index, or `None` when it is not defined.
fn nv_size(tpm: &mut Tpm<AnyTransport>, nv_index: u32) -> Result<Option<u16>, CliError> {
    match tpm.execute(&NvReadPublic { nv_index }) {
        Ok(r) => Ok(Some(r.nv_public.data_size)),
        Err(TpmError::Tpm { .. }) => Ok(None),
        Err(e) => Err(failed(e)),
    }
}

/// The TPM's NV buffer size (TPM_PT_NV_BUFFER_MAX), capped so a chunk fits a response.
fn nv_chunk(tpm: &mut Tpm<AnyTransport>) -> Result<u16, CliError> {
    let id = tpm.identity().map_err(failed)?;
    let max = if id.nv_buffer_max == 0 {
        1024
    } else {
        id.nv_buffer_max
    };
    Ok(max.clamp(1, 1024) as u16)
}

fn nv_read_range(
    tpm: &mut Tpm<AnyTransport>,
    auth_handle: u32,
    nv_index: u32,
    offset: u16,
    size: u16,
    chunk: u16,
) -> Result<Vec<u8>, CliError> {
    let mut out = Vec::with_capacity(usize::from(size));
    let end = usize::from(offset) + usize::from(size);
    let mut at = usize::from(offset);
    while at < end {
        let want = (end - at).min(usize::from(chunk)) as u16;
        let data = tpm
            .execute(&NvRead {
                auth_handle,
                auth: &[],
                nv_index,
                size: want,
                offset: at as u16,
            })
            .map_err(failed)?;
        if data.len() != usize::from(want) {
            return Err(failed(format!(
                "NV_Read {nv_index:#010x}: asked {want} bytes at {at}, got {}",
                data.len()
            )));
        }
        out.extend_from_slice(data);
        at += usize::from(want);
    }
    Ok(out)
}

pub fn nvread(tcti: Option<&str>, a: &NvReadArgs) -> Result<(), CliError> {
    let index = parse_u32(&a.index, "nvread")?;
    if index >> 24 != 0x01 {
        return Err(failed(format!(
            "nvread {}: not an NV index (0x01xxxxxx)",
            a.index
        )));
    }
    let auth_handle = match a.auth {
        NvAuth::Index => index,
        NvAuth::Hierarchy(h) => h,
    };
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let total = nv_size(&mut tpm, index)?
        .ok_or_else(|| failed(format!("nvread: NV index {index:#010x} is not defined")))?;
    if a.offset > total {
        return Err(failed(format!(
            "nvread: offset {} is past the index's {total} bytes",
            a.offset
        )));
    }
    let size = a.size.unwrap_or(total - a.offset);
    if u32::from(a.offset) + u32::from(size) > u32::from(total) {
        return Err(failed(format!(
            "nvread: {size} bytes at offset {} is past the index's {total} bytes",
            a.offset
        )));
    }
    let chunk = nv_chunk(&mut tpm)?;
    let data = nv_read_range(&mut tpm, auth_handle, index, a.offset, size, chunk)?;
    match &a.output {
        Some(p) => write_file(p, &data, "output"),
        None => std::io::stdout()
            .write_all(&data)
            .map_err(|e| failed(format!("stdout: {e}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// getekcertificate

#[derive(clap::Args)]
pub struct GetEkCertArgs {
    /// Write the certificate (DER, NV wrapper and padding removed) here; with --all, each
    /// one to FILE-0xINDEX.der.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Every EK certificate (low and high range) and the EK CA chain indices, not just the
    /// first one found.
    #[arg(long)]
    all: bool,
}

/// Defined NV indices in `first..=last` (GetCapability(TPM_CAP_HANDLES)).
fn nv_indices_in(tpm: &mut Tpm<AnyTransport>, first: u32, last: u32) -> Result<Vec<u32>, CliError> {
    let mut out = Vec::new();
    let mut from = first;
    // Each round returns at least one handle or ends; 256 rounds cover the whole range.
    for _ in 0..=256 {
        let rsp = tpm
            .execute(&GetCapability {
                capability: cap::HANDLES,
                property: from,
                property_count: 64,
            })
            .map_err(failed)?;
        let more = rsp.more_data;
        let TpmsCapabilityData::Handles(h) = rsp.data else {
            return Err(failed(
                "GetCapability(HANDLES): another capability returned",
            ));
        };
        let mut last_seen = None;
        for &x in h.iter() {
            if (first..=last).contains(&x) && !out.contains(&x) {
                out.push(x);
            }
            last_seen = Some(x);
        }
        match last_seen {
            Some(x) if more && x < last => from = x + 1,
            _ => break,
        }
    }
    Ok(out)
}

pub fn getekcertificate(tcti: Option<&str>, a: &GetEkCertArgs) -> Result<(), CliError> {
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    let chunk = nv_chunk(&mut tpm)?;
    let mut indices: Vec<u32> = Vec::new();
    for i in baretpm::commands::templates::EK_CERT_NV_INDICES {
        if nv_size(&mut tpm, i)?.is_some() {
            indices.push(i);
        }
    }
    if a.all {
        indices.extend(nv_indices_in(&mut tpm, EK_CHAIN_FIRST, EK_CHAIN_LAST)?);
    }
    if indices.is_empty() {
        return Err(refused(
            "getekcertificate: the TPM has no EK certificate in NV",
        ));
    }
    if !a.all {
        indices.truncate(1);
    }
    for index in indices {
        let size = nv_size(&mut tpm, index)?.unwrap_or(0);
        let raw = nv_read_range(&mut tpm, index, index, 0, size, chunk)?;
        let is_chain = (EK_CHAIN_FIRST..=EK_CHAIN_LAST).contains(&index);
        // Chain indices hold concatenated DER (a certificate may span indices): written raw.
        let (bytes, what) = if is_chain {
            (raw.clone(), "EK CA chain data".to_string())
        } else {
            let der = cert::strip_nv_wrapper(&raw)
                .map_err(|e| refused(format!("NV {index:#010x}: {e}")))?;
            let c = Certificate::from_der(der)
                .map_err(|e| refused(format!("NV {index:#010x}: {e}")))?;
            (
                der.to_vec(),
                format!("EK certificate '{}'", c.display_name()),
            )
        };
        println!(
            "{index:#010x}: {what}, {} bytes (NV size {})",
            bytes.len(),
            raw.len()
        );
        if let Some(out) = &a.output {
            let path = if a.all {
                let mut s = out.as_os_str().to_owned();
                s.push(format!("-{index:#010x}.der"));
                PathBuf::from(s)
            } else {
                out.clone()
            };
            write_file(&path, &bytes, "output")?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// createek

#[derive(clap::Args)]
pub struct CreateEkArgs {
    /// rsa (RSA-2048), ecc (P-256), ecc384, rsa3072, rsa4096 (the last three: high range).
    #[arg(short = 'G', long, default_value = "rsa", value_parser = ek_type)]
    alg: EkType,
    /// High-range template (H-1/H-2 for rsa/ecc: PolicyB, userWithAuth, empty unique).
    #[arg(long)]
    high: bool,
    /// Public key output.
    #[arg(short = 'u', long)]
    public: PathBuf,
    /// tpm2b (TPM2B_PUBLIC; also tss) or pem.
    #[arg(short = 'f', long, default_value = "tpm2b", value_parser = public_form)]
    format: PublicForm,
}

/// Parses `createek -G` (a clap `value_parser`).
fn ek_type(name: &str) -> Result<EkType, String> {
    Ok(match name {
        "rsa" | "rsa2048" => EkType::Rsa2048,
        "ecc" | "ecc256" => EkType::EccP256,
        "ecc384" => EkType::EccP384,
        "rsa3072" => EkType::Rsa3072,
        "rsa4096" => EkType::Rsa4096,
        _ => return Err("expected rsa, ecc, ecc384, rsa3072 or rsa4096".into()),
    })
}

pub fn createek(tcti: Option<&str>, a: &CreateEkArgs) -> Result<(), CliError> {
    let kind = a.alg;
    let high = a.high || kind.high_only();
    let mut tpm = open_tpm(tcti, CliError::Failed)?;
    // A template in NV replaces the default; a nonce (low range) goes into `unique`.
    let ek = crate::util::create_ek(&mut tpm, kind, high)?;
    tpm.execute(&FlushContext {
        flush_handle: ek.handle,
    })
    .map_err(failed)?;
    let tpm2b = ek.public;
    if a.format == PublicForm::Pem {
        let key = SubjectKey::from_key_bytes(&tpm2b).map_err(failed)?;
        write_file(&a.public, spki_pem(&key)?.as_bytes(), "public key")?;
    } else {
        write_file(&a.public, &tpm2b, "public key")?;
    }
    println!("template: {}", ek.origin);
    println!("name: {}", hex::encode(ek.name));
    Ok(())
}

fn spki_pem(key: &SubjectKey) -> Result<String, CliError> {
    use p256::pkcs8::{EncodePublicKey as _, LineEnding};
    let pem = match key {
        SubjectKey::Rsa { modulus, exponent } => rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(modulus),
            rsa::BigUint::from_bytes_be(exponent),
        )
        .map_err(failed)?
        .to_public_key_pem(LineEnding::LF)
        .map_err(failed)?,
        SubjectKey::Ec { curve, x, y } => {
            let mut sec1 = vec![4u8];
            sec1.extend_from_slice(x);
            sec1.extend_from_slice(y);
            match curve {
                cert::TpmCurve::P256 => p256::PublicKey::from_sec1_bytes(&sec1)
                    .map_err(failed)?
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(failed)?,
                cert::TpmCurve::P384 => p384::PublicKey::from_sec1_bytes(&sec1)
                    .map_err(failed)?
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(failed)?,
                cert::TpmCurve::P521 => return Err(failed("P-521 keys cannot be written as PEM")),
            }
        }
    };
    Ok(pem)
}

// ---------------------------------------------------------------------------------------------
// checkcert

#[derive(clap::Args)]
pub struct CheckCertArgs {
    /// The certificate to check: DER, PEM or raw NV bytes.
    leaf: PathBuf,
    /// Trusted roots: a PEM bundle, a DER file or a directory of them (may repeat).
    #[arg(long = "ca", required = true)]
    ca: Vec<PathBuf>,
    /// Intermediate certificates (PEM bundle, DER, concatenated DER; may repeat).
    #[arg(long = "chain")]
    chain: Vec<PathBuf>,
    /// The certificate's key must be this key (TPM2B_PUBLIC, TPMT_PUBLIC or PEM).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Check the leaf as an EK certificate.
    #[arg(long, conflicts_with = "ak")]
    ek: bool,
    /// Check the leaf as an AK certificate.
    #[arg(long)]
    ak: bool,
    /// Validity time, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Accept SHA-1 signatures.
    #[arg(long)]
    allow_sha1: bool,
}

fn cert_failed(path: &Path, e: CertError) -> CliError {
    let msg = format!("{}: {e}", escape(&path.display().to_string()));
    if e.is_malformed() {
        failed(msg)
    } else {
        refused(msg)
    }
}

/// Reads every certificate of the files (directories: each regular file in name order),
/// at most `MAX_POOL` in all.
pub fn read_pool(paths: &[PathBuf], what: &'static str) -> Result<Vec<Certificate>, CliError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| failed(format!("{what} {}: {e}", p.display())))?
                .take(MAX_DIR_FILES + 1)
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            if entries.len() > MAX_DIR_FILES {
                return Err(failed(format!(
                    "{what} {}: more than {MAX_DIR_FILES} files",
                    p.display()
                )));
            }
            entries.sort();
            files.extend(entries);
        } else {
            files.push(p.clone());
        }
    }
    let mut pool = Vec::new();
    for f in files {
        let bytes = baretpm::files::read_bounded(&f, MAX_BUNDLE_FILE, what).map_err(failed)?;
        let left = MAX_POOL.saturating_sub(pool.len());
        let certs = cert::certificates_from_bytes(&bytes, left).map_err(|e| match e {
            CertError::TooManyCertificates { .. } => failed(format!(
                "{what}: more than {MAX_POOL} certificates in all, refused"
            )),
            e => cert_failed(&f, e),
        })?;
        pool.extend(certs);
    }
    Ok(pool)
}

/// Parses RFC 3339 (`2024-05-01T12:00:00Z`, an offset, fractional seconds) or a bare date,
/// into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let s = s.trim();
    let num = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut d = date.split('-');
    let (y, mo, da) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if d.next().is_some() || date.len() != 10 {
        return None;
    }
    let (mut h, mut mi, mut se, mut offset) = (0u32, 0u32, 0u32, 0i64);
    if let Some(t) = time {
        let (clock, off) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
            (c, 0i64)
        } else {
            let i = t.rfind(['+', '-'])?;
            let (c, o) = t.split_at(i);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            (c, sign * i64::from(num(oh)? * 3600 + num(om)? * 60))
        };
        let clock = clock.split('.').next()?;
        let mut c = clock.split(':');
        h = num(c.next()?)?;
        mi = num(c.next()?)?;
        se = num(c.next()?)?;
        if c.next().is_some() {
            return None;
        }
        offset = off;
    }
    let dt = x509_cert::der::DateTime::new(
        u16::try_from(y).ok()?,
        u8::try_from(mo).ok()?,
        u8::try_from(da).ok()?,
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(se).ok()?,
    )
    .ok()?;
    let secs = i64::try_from(dt.unix_duration().as_secs()).ok()? - offset;
    u64::try_from(secs).ok()
}

fn key_text(c: &Certificate) -> String {
    match c.subject_key() {
        Ok(SubjectKey::Rsa { modulus, .. }) => format!("RSA-{}", modulus.len() * 8),
        Ok(SubjectKey::Ec { curve, .. }) => format!("ECC {curve:?}"),
        Err(_) => format!(
            "unsupported ({})",
            c.tbs.subject_public_key_info.algorithm.oid
        ),
    }
}

fn describe(c: &Certificate) {
    println!("certificate: {}", c.display_name());
    println!("  issuer: {}", c.issuer_text());
    println!("  serial: {}", c.serial_hex());
    println!(
        "  validity: {} to {}",
        time_text(c.not_before),
        time_text(c.not_after)
    );
    let alg = &c.signature_algorithm.oid;
    match cert::signature_algorithm_name(alg) {
        Some(n) => println!("  signature algorithm: {n}"),
        None => println!("  signature algorithm: {alg} (not supported)"),
    }
    println!("  key: {}", key_text(c));
    let e = &c.extensions;
    match &e.tpm {
        Some(t) => {
            let name = t
                .manufacturer_name()
                .unwrap_or("not in the TCG vendor registry");
            println!(
                "  TPM manufacturer: {name} ({})",
                t.manufacturer.as_deref().unwrap_or("absent")
            );
            println!("  TPM model: {}", t.model.as_deref().unwrap_or("absent"));
            println!(
                "  TPM firmware version: {}",
                t.version.as_deref().unwrap_or("absent")
            );
        }
        None => println!("  TPM manufacturer: not stated (no TPM attributes in a subjectAltName)"),
    }
    if let Some(s) = &e.tpm_spec {
        println!(
            "  TPM specification: family {} level {} revision {}",
            s.family, s.level, s.revision
        );
    }
    if let Some(eku) = &e.ext_key_usage {
        let list: Vec<String> = eku
            .iter()
            .map(|o| {
                if *o == cert::oid::KP_EK_CERTIFICATE {
                    format!("{o} (EK certificate)")
                } else if *o == cert::oid::KP_AK_CERTIFICATE {
                    format!("{o} (AK certificate)")
                } else {
                    o.to_string()
                }
            })
            .collect();
        println!("  extended key usage: {}", list.join(", "));
    }
    if let Some((policies, critical)) = &e.policies {
        let list: Vec<String> = policies.iter().map(|o| o.to_string()).collect();
        println!(
            "  certificate policies{}: {}",
            if *critical { " (critical)" } else { "" },
            list.join(", ")
        );
    }
    if let Some(g) = &e.gce {
        println!(
            "  GCE instance: project {} (number {}), zone {}, instance {} (id {})",
            g.project_id, g.project_number, g.zone, g.instance_name, g.instance_id
        );
        if let Some(s) = &g.security {
            println!(
                "  GCE security: version {}, production {}",
                s.security_version
                    .map_or("absent".to_string(), |v| v.to_string()),
                s.is_production
                    .map_or("absent".to_string(), |v| v.to_string())
            );
        }
    }
}

pub fn checkcert(a: &CheckCertArgs) -> Result<(), CliError> {
    let leaf_bytes =
        baretpm::files::read_bounded(&a.leaf, MAX_LEAF_FILE, "certificate").map_err(failed)?;
    let leaf = cert::certificates_from_bytes(&leaf_bytes, 1)
        .map_err(|e| cert_failed(&a.leaf, e))?
        .remove(0);
    let roots = read_pool(&a.ca, "--ca")?;
    let intermediates = read_pool(&a.chain, "--chain")?;
    if roots.len() + intermediates.len() > MAX_POOL {
        return Err(failed(format!(
            "--ca and --chain: more than {MAX_POOL} certificates in all, refused"
        )));
    }
    let at = match &a.at {
        Some(s) => parse_rfc3339(s)
            .ok_or_else(|| failed(format!("--at {}: expected RFC 3339", escape(s))))?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(failed)?
            .as_secs(),
    };
    let role = if a.ek {
        Role::Ek
    } else if a.ak {
        Role::Ak
    } else {
        Role::Any
    };
    describe(&leaf);
    let policy = Policy {
        at,
        allow_sha1: a.allow_sha1,
        role,
    };
    let v = validate(&leaf, &intermediates, &roots, &policy)
        .map_err(|e| refused(format!("checkcert: refused: {e}")))?;
    println!("chain:");
    let names = chain_names(&v, &leaf, &intermediates, &roots);
    for (i, (link, name)) in v.links.iter().zip(names).enumerate() {
        let (kind, c) = match *link {
            cert::ChainLink::Leaf => ("leaf", &leaf),
            cert::ChainLink::Intermediate(j) => ("intermediate", &intermediates[j]),
            cert::ChainLink::Root(j) => ("root", &roots[j]),
        };
        println!(
            "  {i} {kind}: {name} (valid {} to {})",
            time_text(c.not_before),
            time_text(c.not_after)
        );
    }
    if let Some(k) = &a.key {
        let bytes = crate::util::read_small(k, "key")?;
        let want = SubjectKey::from_key_bytes(&bytes).map_err(|e| cert_failed(k, e))?;
        let have = leaf
            .subject_key()
            .map_err(|e| refused(format!("checkcert: refused: {e}")))?;
        if want != have {
            return Err(refused(format!(
                "checkcert: refused: {}",
                CertError::KeyMismatch
            )));
        }
        println!(
            "key: the certificate's key is {}",
            escape(&k.display().to_string())
        );
    }
    println!(
        "result: valid at {}{}",
        time_text(at),
        match role {
            Role::Ek => " as an EK certificate",
            Role::Ak => " as an AK certificate",
            Role::Any => "",
        }
    );
    Ok(())
}
