//! The provenance flow against a TPM: extend events into PCR14/15, quote, and assemble the
//! proof; and `run`, which does it all around a command.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt as _;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use super::event::{Event, INPUT_PCR, OUTPUT_PCR};
use super::file::{
    BankValues, CommandRecord, EkCertificate, EventLog, NonceSource, PcrTable, PcrValue, Proof,
    ProofFileError, TpmInfo, MAX_EK_CERT, MAX_NONCE,
};
use super::hash::{self, HashError, HashOptions, Progress, Target};
use super::preflight::{self, PreflightError};
use super::runtime::RuntimeLog;
use super::session::{FlowSession, SessionMode};
use super::start::{self, RunStart};
use super::verify::{self, Policy, Status};
use crate::commands::{self, templates};
use crate::tpm::{Tpm, TpmError};
use crate::transport::Transport;
use crate::types::alg::handle;
use crate::types::{HashAlg, TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection, TpmtHa};

/// PCRs quoted by default (0-7, 14, 15) as a bitmap.
pub const DEFAULT_QUOTE_PCRS: u32 = 0xff | (1 << INPUT_PCR) | (1 << OUTPUT_PCR);
/// Length of a nonce drawn when the verifier gave none.
pub const RANDOM_NONCE_LEN: usize = 32;
/// Quote attempts when PCRs change between the quote and the read-back.
const QUOTE_ATTEMPTS: usize = 3;

/// Why the flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// A TPM command failed; `rc` is the TPM's response code when the TPM itself refused
    /// (so a caller can tell TPM_RC_LOCKOUT from a dropped connection).
    #[error("TPM {step}: {message}")]
    Tpm {
        /// The command that failed, with its purpose (`PCR_Read`, `CreatePrimary(EK)`...).
        step: &'static str,
        /// The TPM's response code, or `None` when the failure was not the TPM's answer.
        rc: Option<crate::types::rc::TpmRc>,
        /// The error as shown.
        message: String,
    },
    #[error(transparent)]
    /// Hashing the files of an input or output failed.
    Hash(#[from] HashError),
    #[error(transparent)]
    /// Reading or writing a proof, log or reference failed.
    File(#[from] ProofFileError),
    #[error(
        "PCR{pcr} in the {bank} bank is {actual}, but {expected_what} gives {expected}: {hint}"
    )]
    /// PCR14 or PCR15 does not hold what the log (or a fresh start) gives: something else
    /// extended it, or the TPM was reset.
    PcrState {
        /// The PCR index.
        pcr: u32,
        /// The bank compared.
        bank: HashAlg,
        /// The TPM's value, hex.
        actual: String,
        /// The value expected, hex.
        expected: String,
        /// What gave the expected value (`a fresh start`, `the event log (N events)`).
        expected_what: String,
        /// What probably happened, for the person reading.
        hint: &'static str,
    },
    #[error("cannot start the command {command}: {message}")]
    /// The command could not be started (not found, not executable).
    CommandStart {
        /// The command line, as shown.
        command: String,
        /// The operating system's error.
        message: String,
    },
    #[error(
        "the command {command} failed ({status}); outputs were not measured and no proof was made"
    )]
    /// The command ended with a non-zero status or a signal.
    CommandFailed {
        /// The command line, as shown.
        command: String,
        /// How it ended (exit status or signal).
        status: String,
    },
    #[error("{0}")]
    /// Inconsistent input or TPM state (no active bank, a recorded start without this bank...).
    Invalid(String),
    #[error("the proof just made does not verify: {0}")]
    /// The proof just made failed its own verification (with the report).
    SelfCheck(verify::Rejected),
    /// Refused before anything was extended.
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    /// The EK created to salt the session is not the key of the TPM's EK certificate at
    /// `nv_index`: an interposer may have replaced it to read the salt.
    #[error(
        "ek-certificate-match: the EK certificate at NV {nv_index:#010x} does not certify the EK \
         the TPM answered with ({why}); no session was salted to it"
    )]
    EkMismatch {
        /// The NV index of the certificate.
        nv_index: u32,
        /// How the keys differ.
        why: String,
    },
}

fn tpm_err<E: core::fmt::Display>(step: &'static str) -> impl FnOnce(TpmError<E>) -> FlowError {
    move |e| FlowError::Tpm {
        step,
        rc: e.rc(),
        message: e.to_string(),
    }
}

/// Which standard attestation key to quote with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AkKind {
    /// RSA 2048 (restricted RSASSA-SHA256 signing key).
    Rsa,
    /// ECC P-256 (the default: key creation and signing are quick).
    #[default]
    Ecc,
}

impl AkKind {
    /// The TPMT_PUBLIC template of this AK (restricted signing key, fixedTPM, fixedParent,
    /// sensitiveDataOrigin, userWithAuth).
    pub fn template(self) -> crate::types::TpmtPublic<'static> {
        match self {
            Self::Rsa => templates::ak_rsa(),
            Self::Ecc => templates::ak_ecc(),
        }
    }
}

/// How to quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestOptions {
    /// The kind of AK to create.
    pub ak: AkKind,
    /// The verifier's challenge; `None` draws a random nonce from the TPM, and the proof then
    /// says it carries no freshness.
    pub nonce: Option<Vec<u8>>,
    /// PCR indices to quote, as a bitmap; 14 and 15 are always added.
    pub pcrs: u32,
    /// Banks to quote; `None`: every active bank.
    pub banks: Option<Vec<HashAlg>>,
    /// The firmware's TCG event log, carried in the proof and checked against the TPM's
    /// PCRs before anything is extended or quoted; `None`: the proof carries none.
    pub boot_log: Option<Vec<u8>>,
    /// PCR14/15 before the logs' first events (read by `run`, or kept in `measure`'s logs);
    /// a PCR without an entry started at zero.
    pub starts: Vec<RunStart>,
    /// The machine-wide runtime log `run` locks, reads and appends to (see
    /// [`super::runtime`]); `None`: runs are neither logged nor serialized. [`attest`] does
    /// not take the lock itself (its caller holds it).
    pub runtime_log: Option<std::path::PathBuf>,
    /// An AK certificate (DER) from an attestation CA, carried in the proof as is.
    pub ak_certificate: Option<Vec<u8>>,
    /// Whether PCR_Extend, CreatePrimary(AK) and Quote go under an HMAC session salted to
    /// the EK (see [`super::session`]).
    pub session: SessionMode,
}

impl Default for AttestOptions {
    fn default() -> Self {
        Self {
            ak: AkKind::default(),
            nonce: None,
            pcrs: DEFAULT_QUOTE_PCRS,
            banks: None,
            boot_log: None,
            starts: vec![],
            runtime_log: None,
            ak_certificate: None,
            session: SessionMode::default(),
        }
    }
}

/// Hooks for a caller that shows what is going on.
pub trait Observer {
    /// Hashing progress for a stage (`inputs`, `outputs`).
    fn progress(&mut self, _stage: &str, _p: &Progress) {}
    /// A step started or finished.
    fn note(&mut self, _message: &str) {}
}

/// An observer that shows nothing.
impl Observer for () {}

/// The PCR banks the TPM has allocated, in the TPM's order.
pub fn active_banks<T: Transport>(tpm: &mut Tpm<T>) -> Result<Vec<HashAlg>, FlowError> {
    let sel = tpm.pcr_banks().map_err(tpm_err("GetCapability(PCRS)"))?;
    let banks: Vec<HashAlg> = sel.banks().iter().map(|b| b.hash).collect();
    if banks.is_empty() {
        return Err(FlowError::Invalid("the TPM has no active PCR bank".into()));
    }
    if let Some(b) = banks.iter().find(|b| !crate::types::hash::available(**b)) {
        return Err(FlowError::Invalid(format!(
            "the TPM has an active {b} bank, which this build cannot compute"
        )));
    }
    Ok(banks)
}

/// Reads the PCRs of `selection`; values in selection order.
pub fn read_pcrs<T: Transport>(
    tpm: &mut Tpm<T>,
    selection: &TpmlPcrSelection,
) -> Result<PcrTable, FlowError> {
    let mut got: BTreeMap<(HashAlg, u32), Vec<u8>> = BTreeMap::new();
    tpm.pcr_read_each(selection, |bank, index, v| {
        got.insert((bank, index), v.to_vec());
    })
    .map_err(tpm_err("PCR_Read"))?;
    let mut table = PcrTable::default();
    for s in selection.banks() {
        let mut values = Vec::new();
        for index in s.indices() {
            let value = got.remove(&(s.hash, index)).ok_or_else(|| {
                FlowError::Invalid(format!("PCR_Read did not return {}:{index}", s.hash))
            })?;
            values.push(PcrValue { index, value });
        }
        table.banks.push(BankValues {
            bank: s.hash,
            values,
        });
    }
    Ok(table)
}

fn selection(banks: &[HashAlg], pcrs: u32) -> TpmlPcrSelection {
    let mut sel = TpmlPcrSelection::default();
    for &hash in banks {
        // At most MAX_PCR_BANKS (one per hash algorithm), the list's capacity.
        let _ = sel.push(TpmsPcrSelection::from_bitmap(hash, pcrs));
    }
    sel
}

/// Checks that `pcr` holds, in every bank, the value `events` replay to (zero for no events).
pub fn check_pcr_state<T: Transport>(
    tpm: &mut Tpm<T>,
    pcr: u32,
    banks: &[HashAlg],
    events: &[Event],
) -> Result<(), FlowError> {
    check_pcr_state_from(tpm, pcr, banks, None, events)
}

/// Reads where `pcr` stands now in every bank: the start of a run. `earlier` (the runtime
/// log's events for `pcr`) is kept when it explains that value, from the firmware log's value
/// of `pcr` (or zero).
pub fn read_start<T: Transport>(
    tpm: &mut Tpm<T>,
    pcr: u32,
    banks: &[HashAlg],
    earlier: &[Event],
    boot_log: Option<&[u8]>,
) -> Result<RunStart, FlowError> {
    let table = read_pcrs(tpm, &selection(banks, 1 << pcr))?;
    let mut start = RunStart {
        pcr,
        values: table
            .banks
            .iter()
            .map(|b| (b.bank, b.get(pcr).unwrap_or(&[]).to_vec()))
            .collect(),
        earlier: earlier.to_vec(),
    };
    if start::explain(&start, boot_log) == start::Origin::NotExplained {
        start.earlier.clear();
    }
    Ok(start)
}

/// [`check_pcr_state`] from a recorded start instead of zero.
pub fn check_pcr_state_from<T: Transport>(
    tpm: &mut Tpm<T>,
    pcr: u32,
    banks: &[HashAlg],
    start: Option<&RunStart>,
    events: &[Event],
) -> Result<(), FlowError> {
    let table = read_pcrs(tpm, &selection(banks, 1 << pcr))?;
    for b in &table.banks {
        let actual = b.get(pcr).unwrap_or(&[]);
        let from = match start {
            None => vec![0; b.bank.digest_size()],
            Some(s) => s.value(b.bank).map(<[u8]>::to_vec).ok_or_else(|| {
                FlowError::Invalid(format!(
                    "the recorded start of PCR{pcr} has no {} value (the TPM's banks changed?)",
                    b.bank
                ))
            })?,
        };
        let expected = start::replay_from(&from, b.bank, events)
            .map_err(|e| FlowError::Invalid(e.to_string()))?;
        if actual != expected.as_slice() {
            let (expected_what, hint) = if events.is_empty() && start.is_none() {
                (
                    "a fresh start".to_string(),
                    "something else extended this PCR since the TPM was last reset. PCR14 and \
                     PCR15 start at zero only after a reboot (or use a private swtpm: run \
                     without -T and without TPM2TOOLS_TCTI on a machine without /dev/tpmrm0)",
                )
            } else {
                (
                    format!("the event log ({} events)", events.len()),
                    "the TPM was reset, or something else extended this PCR, since the log \
                     was written",
                )
            };
            return Err(FlowError::PcrState {
                pcr,
                bank: b.bank,
                actual: hex::encode(actual),
                expected: hex::encode(&expected),
                expected_what,
                hint,
            });
        }
    }
    Ok(())
}

/// Extends `event` into `pcr` in every bank of `banks` with one PCR_Extend.
pub fn extend<T: Transport>(
    tpm: &mut Tpm<T>,
    pcr: u32,
    banks: &[HashAlg],
    event: &Event,
) -> Result<(), FlowError> {
    extend_in(tpm, &mut FlowSession::none(), pcr, banks, event)
}

/// [`extend`] under `session` (the PCR's authValue is empty).
pub fn extend_in<T: Transport>(
    tpm: &mut Tpm<T>,
    session: &mut FlowSession,
    pcr: u32,
    banks: &[HashAlg],
    event: &Event,
) -> Result<(), FlowError> {
    let digests: Vec<_> = banks
        .iter()
        .map(|&b| event.extend_digest(b))
        .collect::<Result<_, _>>()
        .map_err(|e| FlowError::Invalid(e.to_string()))?;
    let mut values = TpmlDigestValues::default();
    for d in &digests {
        values
            .digests
            .push(TpmtHa {
                hash: d.alg(),
                digest: d.as_bytes(),
            })
            .map_err(|_| FlowError::Invalid("more than 16 PCR banks".into()))?;
    }
    let cmd = commands::PcrExtend {
        pcr,
        auth: &[],
        digests: values,
    };
    session
        .execute(tpm, &cmd, &[&pcr.to_be_bytes()], "PCR_Extend")
        .map(|_| ())
}

/// Checks that the TPM's PCR matches `log`, then extends each of `events` and appends it to
/// the log. On error the log holds exactly the events that were extended.
pub fn measure_into<T: Transport>(
    tpm: &mut Tpm<T>,
    banks: &[HashAlg],
    log: &mut EventLog,
    events: Vec<Event>,
) -> Result<(), FlowError> {
    measure_into_in(tpm, &mut FlowSession::none(), banks, log, events)
}

/// [`measure_into`], each PCR_Extend under `session`.
pub fn measure_into_in<T: Transport>(
    tpm: &mut Tpm<T>,
    session: &mut FlowSession,
    banks: &[HashAlg],
    log: &mut EventLog,
    events: Vec<Event>,
) -> Result<(), FlowError> {
    check_pcr_state_from(tpm, log.pcr, banks, log.start.as_ref(), &log.events)?;
    for e in events {
        extend_in(tpm, session, log.pcr, banks, &e)?;
        log.events.push(e);
    }
    Ok(())
}

/// The standard AK, created in the endorsement hierarchy from its template (the same key each
/// time on the same TPM). Returns its TPM2B_PUBLIC and its Name; the key is flushed.
pub fn ak_public<T: Transport>(
    tpm: &mut Tpm<T>,
    kind: AkKind,
) -> Result<(Vec<u8>, Vec<u8>), FlowError> {
    let (handle, public, name) = create_ak(tpm, kind)?;
    flush(tpm, handle)?;
    Ok((public, name))
}

/// Loads the standard AK (endorsement hierarchy, standard template) as a transient object:
/// its handle, TPM2B_PUBLIC and Name. The caller flushes the handle.
pub fn create_ak<T: Transport>(
    tpm: &mut Tpm<T>,
    kind: AkKind,
) -> Result<(u32, Vec<u8>, Vec<u8>), FlowError> {
    create_ak_in(tpm, &mut FlowSession::none(), kind)
}

/// [`create_ak`] under `session`.
pub fn create_ak_in<T: Transport>(
    tpm: &mut Tpm<T>,
    session: &mut FlowSession,
    kind: AkKind,
) -> Result<(u32, Vec<u8>, Vec<u8>), FlowError> {
    let cmd = commands::CreatePrimary::in_endorsement(kind.template());
    let rsp = session.execute(
        tpm,
        &cmd,
        &[&handle::RH_ENDORSEMENT.to_be_bytes()],
        "CreatePrimary(AK)",
    )?;
    Ok((
        rsp.object_handle,
        rsp.out_public.to_vec(),
        rsp.name.as_bytes().to_vec(),
    ))
}

fn flush<T: Transport>(tpm: &mut Tpm<T>, handle: u32) -> Result<(), FlowError> {
    tpm.execute(&commands::FlushContext {
        flush_handle: handle,
    })
    .map_err(tpm_err("FlushContext"))
}

fn tpm_info<T: Transport>(tpm: &mut Tpm<T>) -> Result<TpmInfo, FlowError> {
    let id = tpm
        .identity()
        .map_err(tpm_err("GetCapability(TPM_PROPERTIES)"))?;
    Ok(TpmInfo::from(&id))
}

/// EK certificates found at [`templates::EK_CERT_NV_INDICES`]; absent indices are skipped.
pub(super) fn ek_certificates<T: Transport>(
    tpm: &mut Tpm<T>,
) -> Result<Vec<EkCertificate>, FlowError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; MAX_EK_CERT];
    // Cloud AK certificates travel in the same list (their indices say what they are).
    let indices = templates::EK_CERT_NV_INDICES
        .into_iter()
        .chain(templates::AK_CERT_NV_INDICES);
    for nv_index in indices {
        if out.len() >= super::file::MAX_EK_CERTS {
            break;
        }
        match tpm.nv_read_all(nv_index, 1024, &mut buf) {
            Ok(n) if n > 0 => out.push(EkCertificate {
                nv_index,
                der: buf[..n].to_vec(),
            }),
            Ok(_) => {}
            Err(TpmError::Transport(e)) => {
                return Err(FlowError::Tpm {
                    step: "NV_Read(EK certificate)",
                    rc: None,
                    message: e.to_string(),
                })
            }
            // Not defined, not readable with an empty password, too large: leave it out.
            Err(_) => {}
        }
    }
    Ok(out)
}

/// Quotes PCR14, PCR15 and the chosen PCRs with the standard AK and assembles the proof with
/// the given event logs. Checks first that the TPM's PCR14/15 are what the logs replay to,
/// and last that the new proof verifies. The AK's CreatePrimary and the Quote go under a
/// session as `opts.session` asks (its warnings are not shown: [`attest_in`] lets the caller
/// show them).
pub fn attest<T: Transport>(
    tpm: &mut Tpm<T>,
    opts: &AttestOptions,
    pcr14: Vec<Event>,
    pcr15: Vec<Event>,
    command: Option<CommandRecord>,
) -> Result<Proof, FlowError> {
    let mut session = FlowSession::begin(tpm, opts.session)?;
    let result = attest_in(tpm, &mut session, opts, pcr14, pcr15, command);
    session.close(tpm);
    result
}

/// [`attest`] under a session the caller started (`opts.session` is not looked at); the
/// proof records what `session` is.
pub fn attest_in<T: Transport>(
    tpm: &mut Tpm<T>,
    session: &mut FlowSession,
    opts: &AttestOptions,
    pcr14: Vec<Event>,
    pcr15: Vec<Event>,
    command: Option<CommandRecord>,
) -> Result<Proof, FlowError> {
    let active = active_banks(tpm)?;
    let banks = match &opts.banks {
        None => active.clone(),
        Some(b) => {
            if let Some(x) = b.iter().find(|x| !active.contains(x)) {
                return Err(FlowError::Invalid(format!(
                    "bank {x} is not active on this TPM (active: {})",
                    active
                        .iter()
                        .map(|a| a.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            b.clone()
        }
    };
    let start_of = |pcr: u32| opts.starts.iter().find(|s| s.pcr == pcr);
    check_pcr_state_from(tpm, INPUT_PCR, &active, start_of(INPUT_PCR), &pcr14)?;
    check_pcr_state_from(tpm, OUTPUT_PCR, &active, start_of(OUTPUT_PCR), &pcr15)?;
    check_boot_log(tpm, opts, &banks)?;
    // A zero start with nothing before it means what no entry means: left out, so that the
    // proof has no field whose removal changes nothing.
    let starts: Vec<RunStart> = [INPUT_PCR, OUTPUT_PCR]
        .into_iter()
        .filter_map(start_of)
        .filter(|s| !(s.is_zero() && s.earlier.is_empty()))
        .cloned()
        .collect();

    let (nonce, nonce_source) = match &opts.nonce {
        Some(n) if n.is_empty() || n.len() > MAX_NONCE => {
            return Err(FlowError::Invalid(format!(
                "the nonce must be 1 to {MAX_NONCE} bytes, not {}",
                n.len()
            )))
        }
        Some(n) => (n.clone(), NonceSource::Verifier),
        None => {
            let mut n = vec![0u8; RANDOM_NONCE_LEN];
            tpm.get_random(&mut n).map_err(tpm_err("GetRandom"))?;
            (n, NonceSource::Random)
        }
    };
    let tpm_info = tpm_info(tpm)?;
    let ek_certificates = session.take_ek_certificates(tpm)?;
    let sel = selection(&banks, opts.pcrs | (1 << INPUT_PCR) | (1 << OUTPUT_PCR));

    let (handle, ak_public, ak_name) = create_ak_in(tpm, session, opts.ak)?;
    let result = quote_until_stable(
        tpm,
        session,
        handle,
        &sel,
        &nonce,
        Proof {
            tpm: tpm_info,
            ak_public,
            ak_name,
            ek_certificates,
            nonce: nonce.clone(),
            nonce_source,
            attest: vec![],
            signature: vec![],
            pcrs: PcrTable::default(),
            pcr14,
            pcr15,
            command,
            boot_log: opts.boot_log.clone(),
            version: super::file::PROOF_VERSION,
            starts,
            ak_certificate: opts.ak_certificate.clone(),
            session: Some(session.record()),
        },
    );
    let flushed = flush(tpm, handle);
    let proof = result?;
    flushed?;
    Ok(proof)
}

/// Checks that the firmware log in `opts` explains the TPM's PCRs of the quote selection
/// now (see [`super::boot`]), so that a log that cannot pass `verify` is refused before
/// anything is extended or quoted.
pub fn check_boot_log<T: Transport>(
    tpm: &mut Tpm<T>,
    opts: &AttestOptions,
    banks: &[HashAlg],
) -> Result<(), FlowError> {
    let Some(log) = &opts.boot_log else {
        return Ok(());
    };
    let now = read_pcrs(tpm, &selection(banks, opts.pcrs))?;
    super::boot::match_quoted(log, &now, true)
        .map(|_| ())
        .map_err(|e| {
            FlowError::Invalid(format!(
                "the firmware event log does not match this TPM: {e} (is it this machine's log, \
                 and this its TPM? --no-boot-log makes a proof without it)"
            ))
        })
}

/// Quotes, reads the PCRs back, and checks the proof; retries when a PCR changed in between.
fn quote_until_stable<T: Transport>(
    tpm: &mut Tpm<T>,
    session: &mut FlowSession,
    handle: u32,
    sel: &TpmlPcrSelection,
    nonce: &[u8],
    mut proof: Proof,
) -> Result<Proof, FlowError> {
    // SHA-1 is the verifier's call (some TPMs only have a SHA-1 bank); the self-check only
    // makes sure the proof is consistent.
    let mut policy = Policy {
        nonce: Some(nonce.to_vec()),
        ak_public: Some(proof.ak_public.clone()),
        ..Policy::default()
    };
    policy.quote = policy.quote.with_sha1();
    let mut last = None;
    for _ in 0..QUOTE_ATTEMPTS {
        let cmd = commands::Quote {
            sign_handle: handle,
            sign_auth: &[],
            qualifying_data: nonce,
            pcr_select: sel.clone(),
        };
        let ak_name = proof.ak_name.clone();
        let q = session.execute(tpm, &cmd, &[&ak_name], "Quote")?;
        proof.attest = q.attest_bytes.to_vec();
        proof.signature = q.signature_bytes.to_vec();
        proof.pcrs = read_pcrs(tpm, sel)?;
        match verify::verify(&proof, &policy) {
            Ok(_) => return Ok(proof),
            Err(rej) if rej.report.status_of("pcr-digest") == Some(Status::Fail) => {
                last = Some(rej);
            }
            Err(rej) => return Err(FlowError::SelfCheck(rej)),
        }
    }
    Err(FlowError::SelfCheck(last.unwrap_or(verify::Rejected {
        report: verify::Report::default(),
    })))
}

/// What `run` does.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    /// Files, directories and `git:` repositories measured into PCR14 before the command
    /// runs.
    pub inputs: Vec<Target>,
    /// Files, directories and `git:` repositories measured into PCR15 after it exits with
    /// status 0.
    pub outputs: Vec<Target>,
    /// The command and its arguments (at least one element).
    pub argv: Vec<String>,
    /// How to quote after the command.
    pub attest: AttestOptions,
    /// How to hash inputs and outputs.
    pub hash: HashOptions,
}

/// What a run has extended so far: the banks, and the events of PCR14 and PCR15 that are in
/// the TPM. After a failure these logs replay to the TPM's PCR14/15.
#[derive(Clone, Debug)]
pub struct Extended {
    /// The banks extended.
    pub banks: Vec<HashAlg>,
    /// Events extended into PCR14 so far (inputs).
    pub pcr14: EventLog,
    /// Events extended into PCR15 so far (exit status, outputs).
    pub pcr15: EventLog,
}

impl Default for Extended {
    fn default() -> Self {
        Self {
            banks: vec![],
            pcr14: EventLog::new(INPUT_PCR),
            pcr15: EventLog::new(OUTPUT_PCR),
        }
    }
}

impl Extended {
    /// Whether nothing was extended.
    pub fn is_empty(&self) -> bool {
        self.pcr14.events.is_empty() && self.pcr15.events.is_empty()
    }
}

/// The whole flow: check PCR14/15 are fresh; measure the inputs into PCR14, then the command
/// line; run the command (a failure stops here); measure its exit status, then the outputs,
/// into PCR15; quote; return the proof.
///
/// The command is checked first ([`preflight::check_command`]): a command line too long for
/// an event, or a program that cannot be found or run, is refused before anything is
/// extended.
pub fn run<T: Transport>(
    tpm: &mut Tpm<T>,
    spec: &RunSpec,
    observer: &mut dyn Observer,
) -> Result<Proof, FlowError> {
    run_tracked(tpm, spec, observer, &mut Extended::default())
}

/// [`run`], recording in `extended` each event as it is extended, so that a caller can say
/// what is in the PCRs when a later step fails.
pub fn run_tracked<T: Transport>(
    tpm: &mut Tpm<T>,
    spec: &RunSpec,
    observer: &mut dyn Observer,
    extended: &mut Extended,
) -> Result<Proof, FlowError> {
    let command = preflight::check_command(&spec.argv)?;
    let banks = active_banks(tpm)?;
    let mut session = FlowSession::begin(tpm, spec.attest.session)?;
    for m in session.messages() {
        observer.note(m);
    }
    let result = run_in(tpm, &mut session, spec, observer, extended, command, banks);
    session.close(tpm);
    result
}

fn run_in<T: Transport>(
    tpm: &mut Tpm<T>,
    session: &mut FlowSession,
    spec: &RunSpec,
    observer: &mut dyn Observer,
    extended: &mut Extended,
    command: preflight::CheckedCommand,
    banks: Vec<HashAlg>,
) -> Result<Proof, FlowError> {
    // Serialize with other runs on this TPM, then record where PCR14/15 stand (anything the
    // boot loader or earlier runs extended): the proof replays this run's events from there.
    let mut runtime = match &spec.attest.runtime_log {
        Some(p) => Some(RuntimeLog::lock(p).map_err(FlowError::Invalid)?),
        None => None,
    };
    if let Some(m) = runtime.as_ref().and_then(|r| r.problem.clone()) {
        observer.note(&format!(
            "the runtime log is not used ({m}); it starts afresh"
        ));
    }
    let boot_log = spec.attest.boot_log.as_deref();
    let mut starts = Vec::new();
    for pcr in [INPUT_PCR, OUTPUT_PCR] {
        let earlier = runtime.as_ref().map_or(&[][..], |r| r.events(pcr));
        let s = read_start(tpm, pcr, &banks, earlier, boot_log)?;
        if !s.is_zero() {
            let origin = match start::explain(&s, boot_log) {
                start::Origin::Zero => "zero",
                start::Origin::BootLog => "explained by the firmware log",
                start::Origin::EarlierRuns { .. } => "explained by earlier baretpm runs",
                start::Origin::NotExplained => "not explained: something else extended it",
            };
            observer.note(&format!(
                "PCR{pcr} starts at {} ({origin})",
                start::describe(&s)
            ));
        }
        starts.push(s);
    }
    check_boot_log(
        tpm,
        &spec.attest,
        spec.attest.banks.as_deref().unwrap_or(&banks),
    )?;
    let shown = spec.argv.join(" ");
    let invalid = |e: super::event::EventError| FlowError::Invalid(e.to_string());

    observer.note(&format!("hashing {} input(s)", spec.inputs.len()));
    let mut inputs = hash::measure(&spec.inputs, &spec.hash, &mut |p| {
        observer.progress("inputs", p)
    })?;
    inputs.push(command.event);
    *extended = Extended {
        banks: banks.clone(),
        ..Extended::default()
    };
    extended.pcr14.start = Some(starts[0].clone());
    extended.pcr15.start = Some(starts[1].clone());
    let done = measure_into_in(tpm, session, &banks, &mut extended.pcr14, inputs);
    note_runtime(&mut runtime, &extended.pcr14, observer);
    done?;
    observer.note(&format!(
        "extended {} event(s) into PCR14 ({})",
        extended.pcr14.events.len(),
        banks
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    observer.note(&format!("running {shown}"));
    let status = std::process::Command::new(&command.program)
        .arg0(&spec.argv[0])
        .args(&spec.argv[1..])
        .status()
        .map_err(|e| FlowError::CommandStart {
            command: shown.clone(),
            message: e.to_string(),
        })?;
    let code = match status.code() {
        Some(0) => 0,
        _ => {
            return Err(FlowError::CommandFailed {
                command: shown,
                status: status.to_string(),
            })
        }
    };

    observer.note(&format!("hashing {} output(s)", spec.outputs.len()));
    let mut outputs = vec![Event::exit_status(code).map_err(invalid)?];
    outputs.extend(hash::measure(&spec.outputs, &spec.hash, &mut |p| {
        observer.progress("outputs", p)
    })?);
    let done = measure_into_in(tpm, session, &banks, &mut extended.pcr15, outputs);
    note_runtime(&mut runtime, &extended.pcr15, observer);
    done?;
    observer.note(&format!(
        "extended {} event(s) into PCR15",
        extended.pcr15.events.len()
    ));

    observer.note("quoting");
    let opts = AttestOptions {
        starts,
        ..spec.attest.clone()
    };
    attest_in(
        tpm,
        session,
        &opts,
        extended.pcr14.events.clone(),
        extended.pcr15.events.clone(),
        Some(CommandRecord {
            argv: spec.argv.clone(),
            exit_status: code,
        }),
    )
}

/// Appends what `log` holds (every event this run extended into its PCR) to the runtime log.
fn note_runtime(runtime: &mut Option<RuntimeLog>, log: &EventLog, observer: &mut dyn Observer) {
    let Some(rt) = runtime else { return };
    if log.events.is_empty() {
        return;
    }
    if let Err(m) = rt.append(log.pcr, &log.events) {
        observer.note(&format!(
            "the runtime log was not updated ({m}): a later run's start will not be explained"
        ));
    }
}
