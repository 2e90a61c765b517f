//! The proof file, the event log file and the reference file: JSON, versioned, strict.
//!
//! Reading is defensive: the whole file is read with a size cap ([`MAX_PROOF_FILE`]), unknown
//! fields are refused, every hex field's length is checked against its maximum before it is
//! decoded, event logs and argument lists have a maximum count, and every structure is checked
//! for the invariants the verifier relies on. A bad file gives an error naming the field,
//! never a panic. Field by field documentation: `docs/proof-format.md`.

use std::io;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use serde::{Deserialize, Serialize};

use super::boot::BootReference;
use super::event::{Event, EventKind, INPUT_PCR, OUTPUT_PCR};
use super::start::RunStart;
use crate::files::{read_bounded, FileError};
use crate::tpm::TpmIdentity;
use crate::types::pcr::{IMPLEMENTATION_PCR, MAX_PCR_BANKS};
use crate::types::tpm2b::max;
use crate::types::{HashAlg, TpmlPcrSelection, TpmsPcrSelection};

/// `format` of a proof file.
pub const PROOF_FORMAT: &str = "baretpm-proof";
/// `format` of an event log file (`baretpm measure --log`).
pub const LOG_FORMAT: &str = "baretpm-event-log";
/// `format` of a reference file (`baretpm reference`).
pub const REFERENCE_FORMAT: &str = "baretpm-reference";
/// The version of event log and reference files (written and read).
pub const VERSION: u32 = 1;
/// The proof version this code writes. It reads this one and version 1 (which has no
/// `boot_log`).
pub const PROOF_VERSION: u32 = 2;
/// The oldest proof version this code reads.
pub const MIN_PROOF_VERSION: u32 = 1;

/// Largest proof, log or reference file read: 16 MiB for everything but a firmware log, plus
/// the largest firmware log ([`crate::eventlog::MAX_LOG_BYTES`]) as hex.
pub const MAX_PROOF_FILE: u64 = (16 << 20) + 2 * crate::eventlog::MAX_LOG_BYTES as u64;
/// Largest firmware event log a proof carries (the event-log parser's limit).
pub const MAX_BOOT_LOG: usize = crate::eventlog::MAX_LOG_BYTES;
/// Most events in one log.
pub const MAX_EVENTS: usize = 100_000;
/// Most arguments in a recorded command line.
pub const MAX_ARGS: usize = 4096;
/// Longest recorded argument, in bytes.
pub const MAX_ARG_LEN: usize = 64 * 1024;
/// Largest EK certificate kept (DER).
pub const MAX_EK_CERT: usize = 16 * 1024;
/// Most EK certificates (one per TCG EK certificate NV index).
pub const MAX_EK_CERTS: usize = 8;
/// Largest TPMT_SIGNATURE (RSA-4096 plus header).
pub const MAX_SIGNATURE: usize = 2 + 2 + 2 + max::RSA_KEY_BYTES;
/// Longest nonce: TPM2B_DATA can carry 66 bytes, but TPMs commonly stop at a digest's 64.
pub const MAX_NONCE: usize = 64;
/// Longest vendor string (four TPM_PT_VENDOR_STRING properties).
pub const MAX_VENDOR: usize = 16;

/// Why a proof, log or reference file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProofFileError {
    #[error(transparent)]
    /// The file could not be read (missing, unreadable, or larger than allowed).
    Read(#[from] FileError),
    #[error("{what} {path}: {source}")]
    /// The file is not valid JSON of the expected form.
    Json {
        /// What the file was read as (`proof`, `event log`, `reference`...).
        what: &'static str,
        /// The file's path, as given.
        path: String,
        /// The JSON error, with its line and column.
        source: serde_json::Error,
    },
    #[error("cannot write {path}: {source}")]
    /// The file could not be written.
    Write {
        /// The file's path, as given.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
}

impl ProofFileError {
    /// The kind of input error, as `verify --json` and the Python package name it:
    /// `proof-unreadable` (the file could not be read), `proof-malformed` (it is not a valid
    /// proof), `write-failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Read(_) => "proof-unreadable",
            Self::Json { .. } => "proof-malformed",
            Self::Write { .. } => "write-failed",
        }
    }

    /// The one-line message for a person: `cannot read …` or `malformed …`.
    pub fn message(&self) -> String {
        match self {
            Self::Json { .. } => format!("malformed {self}"),
            _ => self.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validated types

/// Who chose the nonce in the quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceSource {
    /// The verifier's challenge (`--nonce`): the quote is fresh for that verifier.
    Verifier,
    /// Drawn by the prover: the quote shows no freshness and could be replayed.
    Random,
}

impl NonceSource {
    /// The name in the proof's JSON: `verifier` or `random`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Verifier => "verifier",
            Self::Random => "random",
        }
    }
}

/// Whether the prover sent its PCR_Extend, CreatePrimary(AK) and Quote under an HMAC session
/// salted to the EK (issue 15). Recorded by the prover and covered by no signature: a
/// verifier shows it, it proves nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionRecord {
    /// Without a salted session (`--no-session`, or no EK could be made).
    None,
    /// Under a session salted to an EK that had no certificate in NV to compare it with.
    SaltedEkUnverified,
    /// Under a session salted to an EK whose public key matched its NV certificate's key.
    SaltedEkCertified,
}

impl SessionRecord {
    /// The value of the proof's `session` field.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SaltedEkUnverified => "salted-ek-unverified",
            Self::SaltedEkCertified => "salted-ek-certified",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        [
            Self::None,
            Self::SaltedEkUnverified,
            Self::SaltedEkCertified,
        ]
        .into_iter()
        .find(|r| r.name() == s)
    }
}

/// What GetCapability said about the TPM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TpmInfo {
    /// TPM_PT_MANUFACTURER (four ASCII bytes, e.g. "IBM\0" for swtpm).
    pub manufacturer: u32,
    /// TPM_PT_FIRMWARE_VERSION_1 << 32 | TPM_PT_FIRMWARE_VERSION_2; also signed in the quote.
    pub firmware_version: u64,
    /// TPM_PT_VENDOR_STRING_1..4 as text, trailing NULs and spaces removed.
    pub vendor: String,
}

impl TpmInfo {
    /// The manufacturer as four characters, unprintable bytes as '.'
    /// ([`TpmIdentity::manufacturer_str`]'s rule).
    pub fn manufacturer_text(&self) -> String {
        TpmIdentity {
            manufacturer: self.manufacturer,
            ..TpmIdentity::default()
        }
        .manufacturer_str()
        .iter()
        .map(|&b| char::from(b))
        .collect()
    }
}

/// The proof's record of what GetCapability said: the vendor string as text.
impl From<&TpmIdentity> for TpmInfo {
    fn from(id: &TpmIdentity) -> Self {
        TpmInfo {
            manufacturer: id.manufacturer,
            firmware_version: id.firmware_version,
            vendor: String::from_utf8_lossy(&id.vendor)
                .trim_end_matches(['\0', ' '])
                .chars()
                .filter(|c| !c.is_control())
                .collect(),
        }
    }
}

/// An EK certificate read from its TCG NV index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EkCertificate {
    /// The TCG NV index it was read from (0x01c00002 RSA, 0x01c0000a ECC P-256, ...).
    pub nv_index: u32,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

/// A recorded command line and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRecord {
    /// The command and its arguments, as run.
    pub argv: Vec<String>,
    /// Its exit status (a proof is only made when it is 0).
    pub exit_status: i32,
}

/// One PCR value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcrValue {
    /// PCR index (0 to 23).
    pub index: u32,
    /// The PCR value, as long as the bank's digest.
    pub value: Vec<u8>,
}

/// The values of one bank, indices strictly ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankValues {
    /// The hash algorithm of the bank.
    pub bank: HashAlg,
    /// Its values, indices strictly ascending.
    pub values: Vec<PcrValue>,
}

impl BankValues {
    /// The value of PCR `index`, if listed.
    pub fn get(&self, index: u32) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|v| v.index == index)
            .map(|v| v.value.as_slice())
    }
}

/// PCR values of several banks, in quote order (banks as listed, indices ascending).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PcrTable {
    /// The banks, in quote order.
    pub banks: Vec<BankValues>,
}

impl PcrTable {
    /// The value of `index` in `bank`, if listed.
    pub fn get(&self, bank: HashAlg, index: u32) -> Option<&[u8]> {
        self.banks
            .iter()
            .find(|b| b.bank == bank)
            .and_then(|b| b.get(index))
    }

    /// The selection these values cover, in the same order.
    pub fn selection(&self) -> TpmlPcrSelection {
        let mut sel = TpmlPcrSelection::default();
        for b in &self.banks {
            let pcrs = b
                .values
                .iter()
                .fold(0u32, |m, v| m | 1u32.checked_shl(v.index).unwrap_or(0));
            // Validation keeps banks within MAX_PCR_BANKS and indices below 24.
            let _ = sel.push(TpmsPcrSelection::from_bitmap(b.bank, pcrs));
        }
        sel
    }

    /// Total number of values.
    pub fn len(&self) -> usize {
        self.banks.iter().map(|b| b.values.len()).sum()
    }

    /// Whether no value is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A provenance proof: the quote, what it covers, and the event logs that explain PCR14/15.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// Who made the TPM (manufacturer, vendor string, firmware), as it reported itself.
    pub tpm: TpmInfo,
    /// TPM2B_PUBLIC of the attestation key.
    pub ak_public: Vec<u8>,
    /// The AK's Name (nameAlg || H(TPMT_PUBLIC)), as the TPM reported it.
    pub ak_name: Vec<u8>,
    /// EK certificates read from the TPM's NV indices, possibly none.
    pub ek_certificates: Vec<EkCertificate>,
    /// The nonce in the quote's extraData.
    pub nonce: Vec<u8>,
    /// Who chose `nonce`.
    pub nonce_source: NonceSource,
    /// TPMS_ATTEST bytes as signed (what `tpm2_quote -m` writes).
    pub attest: Vec<u8>,
    /// TPMT_SIGNATURE bytes (what `tpm2_quote -s` writes).
    pub signature: Vec<u8>,
    /// Every quoted PCR value, in quote order.
    pub pcrs: PcrTable,
    /// Events extended into PCR14, in order.
    pub pcr14: Vec<Event>,
    /// Events extended into PCR15, in order.
    pub pcr15: Vec<Event>,
    /// The command `baretpm run` ran and measured (`None` for `attest`).
    pub command: Option<CommandRecord>,
    /// The firmware's TCG event log (`binary_bios_measurements`), as read; version 2.
    pub boot_log: Option<Vec<u8>>,
    /// The version the proof was read as ([`PROOF_VERSION`] for a new one).
    pub version: u32,
    /// PCR14/15 before the run's first event (version 2); no entry: zero.
    pub starts: Vec<RunStart>,
    /// An AK certificate from an attestation CA (`run`/`attest --ak-cert`, src/ca), DER;
    /// optional in every version.
    pub ak_certificate: Option<Vec<u8>>,
    /// Whether the prover's commands went under a salted session (unsigned); `None`: the
    /// proof does not say (made before sessions were recorded).
    pub session: Option<SessionRecord>,
}

/// An event log being built by `baretpm measure`: one PCR and its events in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventLog {
    /// The PCR the events are extended into (14 or 15).
    pub pcr: u32,
    /// The events, in the order they were extended.
    pub events: Vec<Event>,
    /// The PCR's value before the first event (version 2 logs); `None`: zero.
    pub start: Option<RunStart>,
}

/// Expected PCR values (e.g. PCR0-7 of a known-good boot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The expected values.
    pub pcrs: PcrTable,
    /// Boot facts pinned (version 2 references): checked against the proof's firmware log.
    pub boot: Option<BootReference>,
}

// ---------------------------------------------------------------------------------------------
// JSON forms

/// The largest count a JSON list may have, and the field it is named by in errors.
trait ListLimit {
    const MAX: usize;
    const FIELD: &'static str;
    const ITEMS: &'static str;
}

/// A JSON list refused as soon as it holds more than `L::MAX` entries, while it is parsed:
/// the limit holds memory near the file's size whatever the list's entries are (millions of
/// empty strings cost far more as a `Vec<String>` than as JSON text).
struct Limited<T, L>(Vec<T>, core::marker::PhantomData<L>);

impl<T, L> From<Vec<T>> for Limited<T, L> {
    fn from(v: Vec<T>) -> Self {
        Self(v, core::marker::PhantomData)
    }
}

impl<T, L> FromIterator<T> for Limited<T, L> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T: Serialize, L> Serialize for Limited<T, L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>, L: ListLimit> Deserialize<'de> for Limited<T, L> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T, L>(core::marker::PhantomData<(T, L)>);
        impl<'de, T: Deserialize<'de>, L: ListLimit> serde::de::Visitor<'de> for Visit<T, L> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "a list of at most {} {}", L::MAX, L::ITEMS)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Vec<T>, A::Error> {
                let mut v = Vec::new();
                while let Some(item) = seq.next_element()? {
                    if v.len() == L::MAX {
                        return Err(serde::de::Error::custom(format!(
                            "{}: more than the {} {} allowed",
                            L::FIELD,
                            L::MAX,
                            L::ITEMS
                        )));
                    }
                    v.push(item);
                }
                Ok(v)
            }
        }
        d.deserialize_seq(Visit::<T, L>(core::marker::PhantomData))
            .map(Self::from)
    }
}

macro_rules! list_limits {
    ($($name:ident: $field:literal, $max:expr, $items:literal;)*) => {$(
        struct $name;
        impl ListLimit for $name {
            const MAX: usize = $max;
            const FIELD: &'static str = $field;
            const ITEMS: &'static str = $items;
        }
    )*};
}

list_limits! {
    ArgvLimit: "command.argv", MAX_ARGS, "arguments";
    EventsLimit: "events", MAX_EVENTS, "events";
    Pcr14EventsLimit: "events.pcr14", MAX_EVENTS, "events";
    Pcr15EventsLimit: "events.pcr15", MAX_EVENTS, "events";
    BanksLimit: "pcrs", MAX_PCR_BANKS, "banks";
    ValuesLimit: "pcrs[].values", IMPLEMENTATION_PCR as usize, "PCR values (a bank's PCRs)";
    EkCertsLimit: "ek_certificates", MAX_EK_CERTS, "certificates";
    StartsLimit: "starts", 2, "start values (PCR14 and PCR15)";
    StartValuesLimit: "starts[].values", MAX_PCR_BANKS, "banks";
    EarlierLimit: "starts[].earlier_events", MAX_EVENTS, "events";
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTpm {
    manufacturer: String,
    firmware_version: String,
    vendor: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAk {
    public: String,
    name: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEkCert {
    nv_index: String,
    der: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNonce {
    value: String,
    source: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuote {
    attest: String,
    signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPcrValue {
    pcr: u32,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBank {
    bank: String,
    values: Limited<RawPcrValue, ValuesLimit>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStartValue {
    bank: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStart {
    pcr: u32,
    values: Limited<RawStartValue, StartValuesLimit>,
    earlier_events: Limited<RawEvent, EarlierLimit>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvent {
    kind: String,
    name: String,
    alg: String,
    digest: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    pcr14: Limited<RawEvent, Pcr14EventsLimit>,
    pcr15: Limited<RawEvent, Pcr15EventsLimit>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    argv: Limited<String, ArgvLimit>,
    exit_status: i32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProof {
    format: String,
    version: u32,
    tpm: RawTpm,
    ak: RawAk,
    ek_certificates: Limited<RawEkCert, EkCertsLimit>,
    nonce: RawNonce,
    quote: RawQuote,
    pcrs: Limited<RawBank, BanksLimit>,
    events: RawEvents,
    command: Option<RawCommand>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    boot_log: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    starts: Option<Limited<RawStart, StartsLimit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ak_certificate: Option<String>,
    session: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: String,
    version: u32,
    pcr: u32,
    events: Limited<RawEvent, EventsLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<RawStart>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    format: String,
    version: u32,
    pcrs: Limited<RawBank, BanksLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    boot: Option<RawBootReference>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBootReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secure_boot: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    db_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dbx_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kernel_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kernel_cmdline: Option<String>,
}

/// Longest kernel command line a reference pins (Linux's COMMAND_LINE_SIZE on x86 is 2048;
/// 4096 leaves room).
pub const MAX_KERNEL_CMDLINE: usize = 4096;

// ---------------------------------------------------------------------------------------------
// Field checks

type FieldResult<T> = Result<T, String>;

/// Decodes a hex field of `min..=max` bytes, checking the length before decoding.
fn hex_field(field: &str, s: &str, min: usize, max: usize) -> FieldResult<Vec<u8>> {
    if s.len() > 2 * max {
        return Err(format!(
            "{field}: {} hex digits, more than the {} allowed ({max} bytes)",
            s.len(),
            2 * max
        ));
    }
    if s.len() % 2 != 0 {
        return Err(format!("{field}: odd number of hex digits ({})", s.len()));
    }
    let v = hex::decode(s).map_err(|e| format!("{field}: not hex: {e}"))?;
    if v.len() < min {
        return Err(format!(
            "{field}: {} bytes, at least {min} required",
            v.len()
        ));
    }
    Ok(v)
}

fn hex_u32(field: &str, s: &str) -> FieldResult<u32> {
    let b = hex_field(field, s, 4, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn hex_u64(field: &str, s: &str) -> FieldResult<u64> {
    let b = hex_field(field, s, 8, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(&b);
    Ok(u64::from_be_bytes(a))
}

/// Only the exact lower-case names (`sha1`, `sha256`, ...).
fn bank_name(field: &str, s: &str) -> FieldResult<HashAlg> {
    HashAlg::ALL
        .into_iter()
        .find(|h| h.name() == s)
        .ok_or_else(|| format!("{field}: unknown hash algorithm {:?}", truncate(s)))
}

/// At most 64 characters of an untrusted string, for error messages.
fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn check_header(what: &str, format: &str, version: u32, expected: &str) -> FieldResult<()> {
    if format != expected {
        return Err(format!(
            "format is {:?}, expected {expected:?} (is this a {what}?)",
            truncate(format)
        ));
    }
    if version != VERSION {
        return Err(format!(
            "version {version} is not supported (this baretpm reads version {VERSION})"
        ));
    }
    Ok(())
}

fn check_proof_header(format: &str, version: u32) -> FieldResult<()> {
    if format != PROOF_FORMAT {
        return Err(format!(
            "format is {:?}, expected {PROOF_FORMAT:?} (is this a proof?)",
            truncate(format)
        ));
    }
    if !(MIN_PROOF_VERSION..=PROOF_VERSION).contains(&version) {
        return Err(format!(
            "version {version} is not supported (this baretpm reads proof versions \
             {MIN_PROOF_VERSION} to {PROOF_VERSION})"
        ));
    }
    Ok(())
}

pub(crate) fn event_from_raw(field: &str, r: RawEvent) -> FieldResult<Event> {
    let kind = EventKind::from_name(&r.kind)
        .ok_or_else(|| format!("{field}.kind: unknown kind {:?}", truncate(&r.kind)))?;
    let alg = bank_name(&format!("{field}.alg"), &r.alg)?;
    let digest = hex_field(&format!("{field}.digest"), &r.digest, 0, 64)?;
    Event::new(kind, r.name, alg, digest).map_err(|e| format!("{field}: {e}"))
}

pub(crate) fn event_to_raw(e: &Event) -> RawEvent {
    RawEvent {
        kind: e.kind().name().to_string(),
        name: e.name().to_string(),
        alg: e.digest_alg().name().to_string(),
        digest: hex::encode(e.digest()),
    }
}

fn events_from_raw<L>(field: &str, raw: Limited<RawEvent, L>) -> FieldResult<Vec<Event>> {
    raw.0
        .into_iter()
        .enumerate()
        .map(|(i, r)| event_from_raw(&format!("{field}[{i}]"), r))
        .collect()
}

fn start_from_raw(field: &str, r: RawStart) -> FieldResult<RunStart> {
    if r.pcr != INPUT_PCR && r.pcr != OUTPUT_PCR {
        return Err(format!(
            "{field}.pcr: {} is neither {INPUT_PCR} nor {OUTPUT_PCR}",
            r.pcr
        ));
    }
    let mut values: Vec<(HashAlg, Vec<u8>)> = Vec::with_capacity(r.values.0.len());
    for (i, v) in r.values.0.into_iter().enumerate() {
        let f = format!("{field}.values[{i}]");
        let bank = bank_name(&format!("{f}.bank"), &v.bank)?;
        if values.iter().any(|(b, _)| *b == bank) {
            return Err(format!("{f}.bank: {bank} listed twice"));
        }
        let n = bank.digest_size();
        values.push((bank, hex_field(&format!("{f}.value"), &v.value, n, n)?));
    }
    if values.is_empty() {
        return Err(format!("{field}.values: no bank"));
    }
    Ok(RunStart {
        pcr: r.pcr,
        values,
        earlier: events_from_raw(&format!("{field}.earlier_events"), r.earlier_events)?,
    })
}

fn start_to_raw(s: &RunStart) -> RawStart {
    RawStart {
        pcr: s.pcr,
        values: s
            .values
            .iter()
            .map(|(b, v)| RawStartValue {
                bank: b.name().to_string(),
                value: hex::encode(v),
            })
            .collect(),
        earlier_events: s.earlier.iter().map(event_to_raw).collect(),
    }
}

fn pcrs_from_raw(field: &str, raw: Limited<RawBank, BanksLimit>) -> FieldResult<PcrTable> {
    let mut banks: Vec<BankValues> = Vec::with_capacity(raw.0.len());
    for (i, b) in raw.0.into_iter().enumerate() {
        let f = format!("{field}[{i}]");
        let bank = bank_name(&format!("{f}.bank"), &b.bank)?;
        if banks.iter().any(|x| x.bank == bank) {
            return Err(format!("{f}.bank: {bank} listed twice"));
        }
        let mut values: Vec<PcrValue> = Vec::with_capacity(b.values.0.len());
        for (j, v) in b.values.0.into_iter().enumerate() {
            let fv = format!("{f}.values[{j}]");
            if v.pcr >= IMPLEMENTATION_PCR {
                return Err(format!(
                    "{fv}.pcr: {} is not a PCR index (0..{IMPLEMENTATION_PCR})",
                    v.pcr
                ));
            }
            if values.last().is_some_and(|p| p.index >= v.pcr) {
                return Err(format!(
                    "{fv}.pcr: indices must be strictly ascending ({} after {})",
                    v.pcr,
                    values.last().map_or(0, |p| p.index)
                ));
            }
            let n = bank.digest_size();
            let value = hex_field(&format!("{fv}.value"), &v.value, n, n)?;
            values.push(PcrValue {
                index: v.pcr,
                value,
            });
        }
        banks.push(BankValues { bank, values });
    }
    Ok(PcrTable { banks })
}

fn pcrs_to_raw(t: &PcrTable) -> Limited<RawBank, BanksLimit> {
    t.banks
        .iter()
        .map(|b| RawBank {
            bank: b.bank.name().to_string(),
            values: b
                .values
                .iter()
                .map(|v| RawPcrValue {
                    pcr: v.index,
                    value: hex::encode(&v.value),
                })
                .collect(),
        })
        .collect()
}

impl TryFrom<RawProof> for Proof {
    type Error = String;

    fn try_from(r: RawProof) -> FieldResult<Proof> {
        check_proof_header(&r.format, r.version)?;
        if r.tpm.vendor.len() > MAX_VENDOR {
            return Err(format!(
                "tpm.vendor: {} bytes, more than the {MAX_VENDOR} allowed",
                r.tpm.vendor.len()
            ));
        }
        let tpm = TpmInfo {
            manufacturer: hex_u32("tpm.manufacturer", &r.tpm.manufacturer)?,
            firmware_version: hex_u64("tpm.firmware_version", &r.tpm.firmware_version)?,
            vendor: r.tpm.vendor,
        };
        let ak_public = hex_field("ak.public", &r.ak.public, 4, 2 + max::PUBLIC)?;
        let ak_name = hex_field("ak.name", &r.ak.name, 2, max::NAME)?;
        let mut ek_certificates = Vec::new();
        for (i, c) in r.ek_certificates.0.into_iter().enumerate() {
            ek_certificates.push(EkCertificate {
                nv_index: hex_u32(&format!("ek_certificates[{i}].nv_index"), &c.nv_index)?,
                der: hex_field(&format!("ek_certificates[{i}].der"), &c.der, 1, MAX_EK_CERT)?,
            });
        }
        let nonce = hex_field("nonce.value", &r.nonce.value, 1, MAX_NONCE)?;
        let nonce_source = match r.nonce.source.as_str() {
            "verifier" => NonceSource::Verifier,
            "random" => NonceSource::Random,
            other => {
                return Err(format!(
                    "nonce.source: {:?} is neither \"verifier\" nor \"random\"",
                    truncate(other)
                ))
            }
        };
        let attest = hex_field("quote.attest", &r.quote.attest, 1, max::ATTEST)?;
        let signature = hex_field("quote.signature", &r.quote.signature, 1, MAX_SIGNATURE)?;
        let pcrs = pcrs_from_raw("pcrs", r.pcrs)?;
        if pcrs.is_empty() {
            return Err("pcrs: no PCR values".into());
        }
        let pcr14 = events_from_raw("events.pcr14", r.events.pcr14)?;
        let pcr15 = events_from_raw("events.pcr15", r.events.pcr15)?;
        let command = match r.command {
            None => None,
            Some(c) => {
                if c.argv.0.is_empty() {
                    return Err(format!(
                        "command.argv: no arguments, 1 to {MAX_ARGS} allowed"
                    ));
                }
                if let Some(i) = c.argv.0.iter().position(|a| a.len() > MAX_ARG_LEN) {
                    return Err(format!(
                        "command.argv[{i}]: longer than {MAX_ARG_LEN} bytes"
                    ));
                }
                Some(CommandRecord {
                    argv: c.argv.0,
                    exit_status: c.exit_status,
                })
            }
        };
        let boot_log = match r.boot_log {
            None => None,
            Some(_) if r.version < 2 => {
                return Err("boot_log: not part of a version 1 proof".into());
            }
            Some(h) => Some(hex_field("boot_log", &h, 1, MAX_BOOT_LOG)?),
        };
        let mut starts: Vec<RunStart> = Vec::new();
        if let Some(raw) = r.starts {
            if r.version < 2 {
                return Err("starts: not part of a version 1 proof".into());
            }
            for (i, s) in raw.0.into_iter().enumerate() {
                let s = start_from_raw(&format!("starts[{i}]"), s)?;
                if starts.iter().any(|x| x.pcr == s.pcr) {
                    return Err(format!("starts[{i}].pcr: PCR{} listed twice", s.pcr));
                }
                starts.push(s);
            }
        }
        let ak_certificate = match r.ak_certificate {
            None => None,
            Some(h) => Some(hex_field("ak_certificate", &h, 1, MAX_EK_CERT)?),
        };
        let session = match r.session {
            None => None,
            Some(v) => Some(SessionRecord::from_name(&v).ok_or_else(|| {
                format!(
                    "session: {:?} is not \"none\", \"salted-ek-unverified\" or \
                     \"salted-ek-certified\"",
                    truncate(&v)
                )
            })?),
        };
        Ok(Proof {
            version: r.version,
            boot_log,
            starts,
            ak_certificate,
            session,
            tpm,
            ak_public,
            ak_name,
            ek_certificates,
            nonce,
            nonce_source,
            attest,
            signature,
            pcrs,
            pcr14,
            pcr15,
            command,
        })
    }
}

impl From<&Proof> for RawProof {
    fn from(p: &Proof) -> RawProof {
        RawProof {
            format: PROOF_FORMAT.into(),
            // What the proof was read as (a version 1 proof stays readable by version 1
            // verifiers), but version 2 whenever it carries a version 2 field.
            version: if p.boot_log.is_some() || !p.starts.is_empty() {
                PROOF_VERSION
            } else {
                p.version.clamp(MIN_PROOF_VERSION, PROOF_VERSION)
            },
            tpm: RawTpm {
                manufacturer: hex::encode(p.tpm.manufacturer.to_be_bytes()),
                firmware_version: hex::encode(p.tpm.firmware_version.to_be_bytes()),
                vendor: p.tpm.vendor.clone(),
            },
            ak: RawAk {
                public: hex::encode(&p.ak_public),
                name: hex::encode(&p.ak_name),
            },
            ek_certificates: p
                .ek_certificates
                .iter()
                .map(|c| RawEkCert {
                    nv_index: hex::encode(c.nv_index.to_be_bytes()),
                    der: hex::encode(&c.der),
                })
                .collect(),
            nonce: RawNonce {
                value: hex::encode(&p.nonce),
                source: p.nonce_source.name().into(),
            },
            quote: RawQuote {
                attest: hex::encode(&p.attest),
                signature: hex::encode(&p.signature),
            },
            pcrs: pcrs_to_raw(&p.pcrs),
            events: RawEvents {
                pcr14: p.pcr14.iter().map(event_to_raw).collect(),
                pcr15: p.pcr15.iter().map(event_to_raw).collect(),
            },
            command: p.command.as_ref().map(|c| RawCommand {
                argv: c.argv.clone().into(),
                exit_status: c.exit_status,
            }),
            boot_log: p.boot_log.as_ref().map(hex::encode),
            starts: if p.starts.is_empty() {
                None
            } else {
                Some(p.starts.iter().map(start_to_raw).collect())
            },
            ak_certificate: p.ak_certificate.as_ref().map(hex::encode),
            session: p.session.map(|s| s.name().to_string()),
        }
    }
}

impl TryFrom<RawLog> for EventLog {
    type Error = String;

    fn try_from(r: RawLog) -> FieldResult<EventLog> {
        // Version 2 adds `start` (the PCR's value before the first event).
        let version = if r.version == 2 { VERSION } else { r.version };
        check_header("event log", &r.format, version, LOG_FORMAT)?;
        if r.version < 2 && r.start.is_some() {
            return Err("start: not part of a version 1 event log".into());
        }
        if r.pcr != INPUT_PCR && r.pcr != OUTPUT_PCR {
            return Err(format!(
                "pcr: {} is neither {INPUT_PCR} (inputs) nor {OUTPUT_PCR} (outputs)",
                r.pcr
            ));
        }
        let start = match r.start {
            None => None,
            Some(s) => {
                let s = start_from_raw("start", s)?;
                if s.pcr != r.pcr {
                    return Err(format!(
                        "start.pcr: {} in the event log of PCR{}",
                        s.pcr, r.pcr
                    ));
                }
                Some(s)
            }
        };
        Ok(EventLog {
            pcr: r.pcr,
            events: events_from_raw("events", r.events)?,
            start,
        })
    }
}

impl TryFrom<RawReference> for Reference {
    type Error = String;

    fn try_from(r: RawReference) -> FieldResult<Reference> {
        // Version 2 adds `boot` (pinned boot facts).
        let version = if r.version == 2 { VERSION } else { r.version };
        check_header("reference", &r.format, version, REFERENCE_FORMAT)?;
        let pcrs = pcrs_from_raw("pcrs", r.pcrs)?;
        let boot = match r.boot {
            None => None,
            Some(_) if r.version < 2 => {
                return Err("boot: not part of a version 1 reference".into());
            }
            Some(b) => {
                let sha = |f: &str, v: Option<String>| {
                    v.map(|h| hex_field(&format!("boot.{f}"), &h, 32, 32))
                        .transpose()
                };
                if b.kernel_cmdline
                    .as_ref()
                    .is_some_and(|c| c.len() > MAX_KERNEL_CMDLINE)
                {
                    return Err(format!(
                        "boot.kernel_cmdline: longer than {MAX_KERNEL_CMDLINE} bytes"
                    ));
                }
                let boot = BootReference {
                    secure_boot: b.secure_boot,
                    db_sha256: sha("db_sha256", b.db_sha256)?,
                    dbx_sha256: sha("dbx_sha256", b.dbx_sha256)?,
                    kernel_sha256: sha("kernel_sha256", b.kernel_sha256)?,
                    kernel_cmdline: b.kernel_cmdline,
                };
                if boot.is_empty() {
                    return Err("boot: pins nothing".into());
                }
                Some(boot)
            }
        };
        if pcrs.is_empty() && boot.is_none() {
            return Err("pcrs: no PCR values".into());
        }
        Ok(Reference { pcrs, boot })
    }
}

// ---------------------------------------------------------------------------------------------
// Reading and writing

/// Parses JSON into `R`, then validates it into `T`; errors carry serde's line and column.
fn parse<R, T>(bytes: &[u8], what: &'static str, path: &str) -> Result<T, ProofFileError>
where
    R: for<'de> Deserialize<'de>,
    T: TryFrom<R, Error = String>,
{
    let json = |source| ProofFileError::Json {
        what,
        path: path.into(),
        source,
    };
    let raw: R = serde_json::from_slice(bytes).map_err(json)?;
    T::try_from(raw).map_err(|m| json(serde::de::Error::custom(m)))
}

fn to_json<R: Serialize>(raw: &R) -> String {
    // Serializing plain structs of strings and integers cannot fail.
    let mut s = serde_json::to_string_pretty(raw).unwrap_or_default();
    s.push('\n');
    s
}

/// Writes `text` to `path` atomically ([`crate::files::write_atomic`]: temporary file in the
/// same directory, fsync, rename, fsync of the directory).
pub fn write_atomic(path: &Path, text: &[u8]) -> Result<(), ProofFileError> {
    crate::files::write_atomic(path, text).map_err(|source| ProofFileError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// The JSON files of a run (proof, event log, reference), read and written one way: parsed
/// into their `Raw*` form, then validated by `TryFrom`; read with a size cap
/// ([`MAX_PROOF_FILE`]); written pretty-printed and atomically ([`write_atomic`]).
pub trait JsonFile: Sized {
    /// What the file is called in errors: "proof", "event log", "reference".
    const WHAT: &'static str;

    /// Parses and validates JSON bytes; `path` only names the source in errors.
    fn parse_json(bytes: &[u8], path: &str) -> Result<Self, ProofFileError>;

    /// The file as pretty-printed JSON, with a final newline.
    fn to_json(&self) -> String;

    /// Parses and validates JSON bytes.
    fn from_json(bytes: &[u8]) -> Result<Self, ProofFileError> {
        Self::parse_json(bytes, "(bytes)")
    }

    /// Reads the file (at most [`MAX_PROOF_FILE`] bytes).
    fn read(path: &Path) -> Result<Self, ProofFileError> {
        let bytes = read_bounded(path, MAX_PROOF_FILE, Self::WHAT)?;
        Self::parse_json(&bytes, &path.display().to_string())
    }

    /// Writes the file, atomically.
    fn write(&self, path: &Path) -> Result<(), ProofFileError> {
        write_atomic(path, self.to_json().as_bytes())
    }
}

impl JsonFile for Proof {
    const WHAT: &'static str = "proof";

    fn parse_json(bytes: &[u8], path: &str) -> Result<Self, ProofFileError> {
        parse::<RawProof, Proof>(bytes, Self::WHAT, path)
    }

    fn to_json(&self) -> String {
        to_json(&RawProof::from(self))
    }
}

impl Proof {
    /// The event log of PCR 14 or 15.
    pub fn log(&self, pcr: u32) -> Option<&[Event]> {
        match pcr {
            INPUT_PCR => Some(&self.pcr14),
            OUTPUT_PCR => Some(&self.pcr15),
            _ => None,
        }
    }
}

impl EventLog {
    /// An empty log for PCR 14 or 15.
    pub fn new(pcr: u32) -> EventLog {
        EventLog {
            pcr,
            events: vec![],
            start: None,
        }
    }
}

impl JsonFile for EventLog {
    const WHAT: &'static str = "event log";

    fn parse_json(bytes: &[u8], path: &str) -> Result<Self, ProofFileError> {
        parse::<RawLog, EventLog>(bytes, Self::WHAT, path)
    }

    fn to_json(&self) -> String {
        to_json(&RawLog {
            format: LOG_FORMAT.into(),
            // A log with a start value is version 2; one without stays readable by version 1
            // readers.
            version: if self.start.is_some() { 2 } else { VERSION },
            pcr: self.pcr,
            events: self.events.iter().map(event_to_raw).collect(),
            start: self.start.as_ref().map(start_to_raw),
        })
    }
}

impl JsonFile for Reference {
    const WHAT: &'static str = "reference";

    fn parse_json(bytes: &[u8], path: &str) -> Result<Self, ProofFileError> {
        parse::<RawReference, Reference>(bytes, Self::WHAT, path)
    }

    fn to_json(&self) -> String {
        to_json(&RawReference {
            format: REFERENCE_FORMAT.into(),
            version: if self.boot.is_some() { 2 } else { VERSION },
            pcrs: pcrs_to_raw(&self.pcrs),
            boot: self.boot.as_ref().map(|b| RawBootReference {
                secure_boot: b.secure_boot,
                db_sha256: b.db_sha256.as_ref().map(hex::encode),
                dbx_sha256: b.dbx_sha256.as_ref().map(hex::encode),
                kernel_sha256: b.kernel_sha256.as_ref().map(hex::encode),
                kernel_cmdline: b.kernel_cmdline.clone(),
            }),
        })
    }
}

impl Reference {
    /// The reference values of `indices` (every bank) taken from a proof's quoted values.
    pub fn from_proof(proof: &Proof, indices: &[u32]) -> Reference {
        let banks = proof
            .pcrs
            .banks
            .iter()
            .map(|b| BankValues {
                bank: b.bank,
                values: b
                    .values
                    .iter()
                    .filter(|v| indices.contains(&v.index))
                    .cloned()
                    .collect(),
            })
            .filter(|b| !b.values.is_empty())
            .collect();
        // Boot facts from the firmware log (only meaningful for a proof that verified, whose
        // `boot-log` row passed).
        let boot = BootReference::from_proof(proof);
        Reference {
            pcrs: PcrTable { banks },
            boot,
        }
    }
}
