//! Small helpers shared by the subcommands: errors with exit codes, bounded file reads, hex.

use baretpm::tpm::Tpm;
use baretpm::transport::tcti::{self, AnyTransport, Tcti};
use std::fmt;
use std::path::Path;

/// A failure the CLI reports on stderr, and the exit status it gives. This is the one
/// mapping, for every command (README "Exit codes"): **1** when a check refused the input or
/// a step of a provenance flow failed, **2** for bad usage, unreadable or malformed input, and
/// a TPM or transport failure of the one-command verbs (`pcrread`, `quote`, `nvread`, ...).
#[derive(Debug)]
pub enum CliError {
    /// A check refused the input (exit 1): the message names the check.
    Refused(String),
    /// A step of `run`, `measure`, `attest`, `reference`, `ak-pub` or `demo` failed, the TPM
    /// or the measured command included (exit 1): PCRs may have moved, so it is not an input
    /// error to retry as is.
    Flow(String),
    /// Bad usage, unreadable or malformed input, or a TPM/transport failure (exit 2).
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Refused(_) | Self::Flow(_) => 1,
            Self::Failed(_) => 2,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(m) | Self::Flow(m) | Self::Failed(m) => f.write_str(m),
        }
    }
}

/// Ends a command: nothing on success; else the message on stderr, escaped line by line
/// (messages quote file names, JSON keys and TPM text), and the error's exit status.
pub fn exit(result: Result<(), CliError>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baretpm: {}", baretpm::text::EscapedLines(&e.to_string()));
            std::process::ExitCode::from(e.exit_code())
        }
    }
}

/// Form of a public key file (`-f`): TPM2B_PUBLIC (`tpm2b`, or tpm2-tools' `tss`) or PEM
/// SubjectPublicKeyInfo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicForm {
    Tpm2b,
    Pem,
}

/// Parses `-f` (a clap `value_parser`: a plain function costs less binary than `ValueEnum`).
pub fn public_form(s: &str) -> Result<PublicForm, String> {
    match s {
        "tpm2b" | "tss" => Ok(PublicForm::Tpm2b),
        "pem" => Ok(PublicForm::Pem),
        _ => Err("expected tpm2b (or tss) or pem".into()),
    }
}

/// Parses `-F`, tpm2-tools' PCR file forms, by the library's own names.
pub fn pcr_form(s: &str) -> Result<baretpm::interop::PcrFileFormat, String> {
    baretpm::interop::PcrFileFormat::from_name(s)
        .ok_or_else(|| "expected serialized, values or marshaled".into())
}

/// Parses `-g`, a hash algorithm by name (`sha256`, `sha384`, ...) or TPM_ALG_ID.
pub fn hash_alg(s: &str) -> Result<baretpm::types::HashAlg, String> {
    baretpm::types::HashAlg::from_name(s).ok_or_else(|| "unknown hash algorithm".into())
}

/// Parses a TPM handle (`-c 0x81010001`): hexadecimal with `0x`, else decimal.
pub fn handle(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    };
    v.ok_or_else(|| "expected a number such as 0x81010001".into())
}

/// The bank `parse_pcr_list` reads a bank-less list under (any bank would do).
const LIST_BANK: &str = "sha256:";

/// Parses a PCR list without a bank (`--pcrs 0-7,14`; `all`, `none`) into a bitmap of PCR
/// indices: the list grammar of [`baretpm::interop::parse_pcr_spec`], the CLI's one PCR-list
/// grammar, read as one bank's list. An empty list is refused (`none` selects no PCR); errors
/// read `OPTION LIST: what is wrong at byte N`, as for `-l`.
pub fn parse_pcr_list(s: &str, option: &str) -> Result<u32, CliError> {
    use baretpm::interop::PcrSpecError as E;
    let fail = |m: String| failed(format!("{option} {s:?}: {m}"));
    if let Some(at) = s.find(['+', ':']) {
        return Err(fail(format!(
            "a PCR list names no bank ('+' or ':' at byte {at})"
        )));
    }
    let sel = baretpm::interop::parse_pcr_spec(&format!("{LIST_BANK}{s}")).map_err(|e| {
        // Offsets back into `s`; the bank this wrapper added is not named.
        let at = |a: usize| a.saturating_sub(LIST_BANK.len());
        fail(match e {
            E::Empty | E::EmptyPcrList { .. } => "empty PCR list (give none for no PCR)".into(),
            E::EmptyItem { at: a, .. } => format!("empty item at byte {}", at(a)),
            E::KeywordNotAlone { keyword, at: a, .. } => {
                format!("\"{keyword}\" must be the whole list at byte {}", at(a))
            }
            E::BadIndex { text, at: a } => E::BadIndex { text, at: at(a) }.to_string(),
            E::LeadingZero { text, at: a } => E::LeadingZero { text, at: at(a) }.to_string(),
            E::IndexOutOfRange { index, at: a } => {
                E::IndexOutOfRange { index, at: at(a) }.to_string()
            }
            E::BadRange { start, end, at: a } => E::BadRange {
                start,
                end,
                at: at(a),
            }
            .to_string(),
            other => other.to_string(),
        })
    })?;
    Ok(sel.banks().first().map_or(0, |b| b.bitmap()))
}

pub fn failed(msg: impl fmt::Display) -> CliError {
    CliError::Failed(msg.to_string())
}

pub fn refused(msg: impl fmt::Display) -> CliError {
    CliError::Refused(msg.to_string())
}

pub fn flow_err(msg: impl fmt::Display) -> CliError {
    CliError::Flow(msg.to_string())
}

static TIMEOUTS: std::sync::OnceLock<baretpm::transport::Timeouts> = std::sync::OnceLock::new();

/// Sets the TPM timeouts from `--timeout SECONDS`: the whole budget of one command with its
/// retries; connecting and sending get at most their defaults.
pub fn set_timeout(seconds: Option<u64>) {
    use baretpm::transport::Timeouts;
    if let Some(s) = seconds {
        let d = std::time::Duration::from_secs(s);
        let t = Timeouts {
            connect: d.min(Timeouts::DEFAULT.connect),
            read: d,
            write: d.min(Timeouts::DEFAULT.write),
        };
        let _ = TIMEOUTS.set(t);
    }
}

/// The timeouts every TPM connection of this run uses.
pub fn timeouts() -> baretpm::transport::Timeouts {
    TIMEOUTS.get().copied().unwrap_or_default()
}

/// The CLI's one way to open a TPM: the one `-T`, else `TPM2TOOLS_TCTI`, else the default
/// device names. A TCTI that does not parse is a usage error (exit 2); a TPM that cannot be
/// reached is reported as `unreachable` makes it (`CliError::Failed` for the one-command verbs,
/// `CliError::Flow` for the provenance ones).
pub fn open_tpm(
    tcti: Option<&str>,
    unreachable: fn(String) -> CliError,
) -> Result<Tpm<AnyTransport>, CliError> {
    let t = tcti::tcti_from_env_or(tcti).map_err(failed)?;
    open_tcti(&t, unreachable)
}

/// Opens the TPM at `t` with the `--timeout` budget ([`Tpm::open_tcti`]: the library's
/// sleeping backoff between retries), from a TCTI already resolved: a private swtpm's socket
/// path is not turned back into a string to be parsed again.
pub fn open_tcti(
    t: &Tcti,
    unreachable: fn(String) -> CliError,
) -> Result<Tpm<AnyTransport>, CliError> {
    Tpm::open_tcti(t, timeouts()).map_err(|e| unreachable(e.to_string()))
}

/// Largest key, attestation, signature or PCR file accepted (all are a few KiB at most).
pub const MAX_SMALL_FILE: u64 = 1 << 20;

pub fn read_small(path: &Path, what: &'static str) -> Result<Vec<u8>, CliError> {
    baretpm::files::read_bounded(path, MAX_SMALL_FILE, what).map_err(failed)
}

/// Decodes hex, tolerating a `0x` prefix and surrounding whitespace.
pub fn parse_hex(s: &str, what: &str) -> Result<Vec<u8>, CliError> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    hex::decode(t).map_err(|e| failed(format!("{what}: not hex ({e})")))
}

/// An EK this command created (transient: flush it when done).
// `name` and `origin` serve createek and enroll, which builds without `cert` (the initrd's)
// leave out.
#[cfg_attr(not(feature = "cert"), allow(dead_code))]
pub struct CreatedEk {
    pub handle: u32,
    /// TPM2B_PUBLIC, as the TPM answered it.
    pub public: Vec<u8>,
    pub name: Vec<u8>,
    /// Where the template came from (`EkTemplate::origin`).
    pub origin: &'static str,
}

/// Creates the EK of `ty` from the platform's template (`Tpm::ek_template`: a template and EK
/// nonce stored in NV are honoured). NV contents that are not a template or nonce exit 1,
/// naming them; a TPM or transport failure exits 2.
pub fn create_ek(
    tpm: &mut Tpm<AnyTransport>,
    ty: baretpm::commands::templates::EkType,
    high: bool,
) -> Result<CreatedEk, CliError> {
    use baretpm::tpm::TpmError;
    let t = tpm.ek_template(ty, high).map_err(|e| match e {
        TpmError::Malformed { .. } => refused(format!("EK template in NV: {e}")),
        e => failed(format!("reading the EK template from NV: {e}")),
    })?;
    let template = t
        .public()
        .map_err(|e| refused(format!("EK template in NV: {e}")))?;
    let rsp = tpm
        .execute(&baretpm::commands::CreatePrimary::in_endorsement(template))
        .map_err(|e| failed(format!("creating the EK: {e}")))?;
    Ok(CreatedEk {
        handle: rsp.object_handle,
        public: rsp.out_public.to_vec(),
        name: rsp.name.as_bytes().to_vec(),
        origin: t.origin(),
    })
}

impl CreatedEk {
    /// The TPMT_PUBLIC (the TPM2B_PUBLIC without its size).
    pub fn tpmt(&self) -> &[u8] {
        self.public.get(2..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcr_lists() {
        let list = |s| parse_pcr_list(s, "--pcrs").map_err(|e| e.to_string());
        assert_eq!(list("0-7"), Ok(0xff));
        assert_eq!(list("0-7,14,15"), Ok(0xc0ff));
        assert_eq!(list(" 0 - 7 , 14 "), Ok(0x40ff));
        assert_eq!(list("none"), Ok(0));
        assert_eq!(list("all"), Ok(0xff_ffff));
        assert_eq!(
            list(""),
            Err("--pcrs \"\": empty PCR list (give none for no PCR)".into())
        );
        assert_eq!(
            list("0,,1"),
            Err("--pcrs \"0,,1\": empty item at byte 2".into())
        );
        assert_eq!(
            list("7-0"),
            Err("--pcrs \"7-0\": bad range 7-0 at byte 0".into())
        );
        assert_eq!(
            list("1,24"),
            Err("--pcrs \"1,24\": PCR index 24 out of range 0-23 at byte 2".into())
        );
        assert!(list("x").is_err());
        assert!(list("07").is_err());
        assert!(list("0,all").is_err());
        assert!(list("99999999999999999999").is_err());
        assert!(list("sha1:0").is_err());
        assert!(list("0+sha1:1").is_err());
        assert!(parse_pcr_list("", "--pcrs").is_err_and(|e| e.exit_code() == 2));
    }
}
