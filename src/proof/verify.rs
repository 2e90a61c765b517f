//! Verifying a proof: the quote (through the foundation verifier), the event logs against
//! the quoted PCR14/PCR15, the files a verifier holds, a reference for other PCRs, the AK pin
//! and the nonce. The result is a [`Report`] with one row per check.

use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use super::event::{command_text, exit_status_text, Event, INPUT_PCR, OUTPUT_PCR};
use super::file::{Proof, Reference};
use crate::text::Escaped;
use crate::types::alg::handle;
use crate::types::{HashAlg, PcrValues, TpmsAttest};
use crate::verify::{self as qv, Ak, AkKey, Expectations, VerifyError};

/// What a verifier requires beyond the proof's own consistency.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// The nonce the verifier sent. `None`: the nonce is not checked, and the report says the
    /// proof shows no freshness.
    pub nonce: Option<Vec<u8>>,
    /// The AK the verifier trusts (TPM2B_PUBLIC, TPMT_PUBLIC, or SubjectPublicKeyInfo PEM or
    /// DER). `None`: any AK is accepted, and the report says so.
    pub ak_public: Option<Vec<u8>>,
    /// Expected values of other PCRs (typically the boot chain, PCR0-7).
    pub reference: Option<Reference>,
    /// Events the verifier measured itself that must appear in the PCR14 log.
    pub inputs: Vec<Event>,
    /// Events the verifier measured itself that must appear in the PCR15 log.
    pub outputs: Vec<Event>,
    /// The quote verifier's policy, SHA-1 rules included (see `verify::Policy`): SHA-1 banks
    /// are accepted alongside a stronger bank, since every bank is checked and the stronger
    /// one carries the proof; SHA-1-only selections and SHA-1 signatures need the knobs.
    pub quote: qv::Policy,
    /// Roots (and intermediates) for the EK certificates: the `ek-certificate` row passes only
    /// when one of the proof's EK certificates validates. `None`: the row says `skip`.
    #[cfg(feature = "cert")]
    pub ek_ca: Option<super::certs::CertTrust>,
    /// Roots for cloud AK certificates: the `ak-certificate` row passes only when one
    /// validates and certifies the quote's AK. `None`: the row says `skip`.
    #[cfg(feature = "cert")]
    pub ak_ca: Option<super::certs::CertTrust>,
    /// Refuse a proof whose PCR14/15 start value nothing explains (rows `pcr14-start`,
    /// `pcr15-start`); by default that is a warning and the run's own events are still proven.
    pub require_explained_start: bool,
}

/// The result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The check was made and passed.
    Pass,
    /// The check was made and failed; the proof is rejected.
    Fail,
    /// Not asked for (no `--nonce`, no `--ak-pub`, ...); does not fail the proof.
    Skip,
    /// Could not run because an earlier check it depends on failed.
    NotRun,
}

impl Status {
    /// The word the report prints: `pass`, `FAIL`, `skip`, `not run`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "FAIL",
            Self::Skip => "skip",
            Self::NotRun => "not run",
        }
    }
}

/// One row of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// A short stable name (`signature`, `nonce`, `pcr14-log`, `output`, ...).
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was compared, or why it failed, for a person.
    pub detail: String,
}

/// Every check that was made, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The checks, in the order they were made.
    pub checks: Vec<Check>,
}

impl Report {
    pub(crate) fn push(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
        });
    }

    /// True when no check failed and none was prevented from running.
    pub fn passed(&self) -> bool {
        self.checks
            .iter()
            .all(|c| matches!(c.status, Status::Pass | Status::Skip))
    }

    /// The first failed check.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }

    /// Names of the failed checks, in order.
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.name)
            .collect()
    }

    /// The status of the first check named `name`.
    pub fn status_of(&self, name: &str) -> Option<Status> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.status)
    }

    /// A table for a person: one line per check, then a verdict line. Details quote
    /// untrusted text (file names, command lines, vendor strings), so each is shown through
    /// [`Escaped`]: no control character, escape sequence or bidi override reaches the
    /// terminal, and a detail can never start a line of its own.
    pub fn table(&self) -> String {
        let w = self
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut s = format!("{:<w$}  {:<7}  DETAIL\n", "CHECK", "RESULT");
        for c in &self.checks {
            s.push_str(&format!(
                "{:<w$}  {:<7}  {}\n",
                c.name,
                c.status.name(),
                Escaped(&c.detail)
            ));
        }
        let skipped: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Skip)
            .map(|c| c.name)
            .collect();
        if self.passed() {
            s.push_str("VERDICT: PASS");
            if !skipped.is_empty() {
                s.push_str(&format!(
                    " (not checked: {}; see details)",
                    skipped.join(", ")
                ));
            }
        } else {
            s.push_str(&format!("VERDICT: FAIL ({})", self.failed().join(", ")));
        }
        s.push('\n');
        s
    }

    /// The report for a program.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "ok": self.passed(),
            "failed": self.failed(),
            "checks": self.checks.iter().map(|c| serde_json::json!({
                "name": c.name,
                "status": match c.status {
                    Status::Pass => "pass",
                    Status::Fail => "fail",
                    Status::Skip => "skip",
                    Status::NotRun => "not-run",
                },
                "detail": c.detail,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A proof that did not pass, with the full report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Every check, the failed ones included.
    pub report: Report,
}

impl core::fmt::Display for Rejected {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.report.first_failure() {
            Some(c) => write!(f, "proof refused: {}: {}", c.name, Escaped(&c.detail)),
            None => f.write_str("proof refused: a check could not run"),
        }
    }
}

impl std::error::Error for Rejected {}

/// Rows the quote verification is reported as, in the order the verifier makes its checks:
/// every step but the clock, which has a row only when it fails (a proof carries no earlier
/// quote to compare clocks with).
const QUOTE_ROWS: [&str; 7] = {
    let mut rows = [""; 7];
    let mut i = 0;
    while i < 7 {
        rows[i] = qv::Stage::ALL[i].name();
        i += 1;
    }
    rows
};

fn quote_row(e: &VerifyError) -> &'static str {
    e.stage().name()
}

/// The qualified name of a primary key's parent: the hierarchy handle (the standard AK is a
/// primary key of the endorsement hierarchy).
const ENDORSEMENT_QN: [u8; 4] = handle::RH_ENDORSEMENT.to_be_bytes();

/// Checks `proof` against `policy`. `Ok` carries the report when every check passed (skipped
/// ones aside); `Err` carries it when any failed.
pub fn verify(proof: &Proof, policy: &Policy) -> Result<Report, Rejected> {
    let mut r = Report::default();
    r.push(
        "format",
        Status::Pass,
        format!(
            "proof version {}; {} PCR values; {} input and {} output events",
            proof.version,
            proof.pcrs.len(),
            proof.pcr14.len(),
            proof.pcr15.len()
        ),
    );

    // The AK certificate is checked first (its row comes last): when it validates against
    // --ak-ca and certifies the quote's AK, it pins the AK as --ak-pub would.
    #[cfg(feature = "cert")]
    let ak_certificate = super::certs::ak_row(proof, policy.ak_ca.as_ref());
    #[cfg(feature = "cert")]
    let certified = ak_certificate.0 == Status::Pass;
    #[cfg(not(feature = "cert"))]
    let certified = false;
    let verified = check_ak_and_quote(proof, policy, certified, &mut r);
    match &verified {
        Some(a) if a.firmware_version == proof.tpm.firmware_version => r.push(
            "tpm-firmware",
            Status::Pass,
            format!(
                "firmware {:#018x} matches the signed quote",
                a.firmware_version
            ),
        ),
        Some(a) => r.push(
            "tpm-firmware",
            Status::Fail,
            format!(
                "proof says firmware {:#018x}, the signed quote says {:#018x}",
                proof.tpm.firmware_version, a.firmware_version
            ),
        ),
        None => r.push("tpm-firmware", Status::NotRun, "quote not verified"),
    }
    // GetCapability's answer is not part of TPMS_ATTEST: show it as the unsigned claim it is.
    r.push(
        "tpm-info",
        Status::Skip,
        format!(
            "unsigned: the proof says manufacturer \"{}\", vendor \"{}\"; neither is \
             covered by the quote's signature",
            proof.tpm.manufacturer_text(),
            proof.tpm.vendor
        ),
    );
    // The prover's word about its own bus: no signature covers it either.
    let session = match proof.session {
        None => "the proof does not say whether the prover used a salted session (made \
                 before sessions were recorded)"
            .to_string(),
        Some(super::file::SessionRecord::None) => "unsigned: the prover says its PCR_Extend, \
             CreatePrimary(AK) and Quote went without a salted HMAC session (a bus interposer \
             would not have been seen)"
            .to_string(),
        Some(super::file::SessionRecord::SaltedEkUnverified) => "unsigned: the prover says \
             its PCR_Extend, CreatePrimary(AK) and Quote went under an HMAC session salted to \
             an EK it could not compare with a certificate"
            .to_string(),
        Some(super::file::SessionRecord::SaltedEkCertified) => "unsigned: the prover says its \
             PCR_Extend, CreatePrimary(AK) and Quote went under an HMAC session salted to the \
             EK of its EK certificate"
            .to_string(),
    };
    r.push("session", Status::Skip, session);

    let quoted = verified.is_some();
    check_log(proof, policy, INPUT_PCR, &proof.pcr14, quoted, &mut r);
    check_log(proof, policy, OUTPUT_PCR, &proof.pcr15, quoted, &mut r);
    super::start::push_rows(proof, policy, quoted, &mut r);
    super::boot::push_rows(proof, policy, quoted, &mut r);
    if quoted {
        check_command(proof, &mut r);
        for e in &policy.inputs {
            check_file("input", INPUT_PCR, &proof.pcr14, e, &mut r);
        }
        for e in &policy.outputs {
            check_file("output", OUTPUT_PCR, &proof.pcr15, e, &mut r);
        }
    } else {
        // Without a verified quote the logs prove nothing: a match would only say that the
        // proof agrees with itself.
        let why = "not proven: the quote did not verify, so the event logs prove nothing";
        if proof.command.is_some() {
            r.push("command", Status::NotRun, why);
        } else {
            check_command(proof, &mut r);
        }
        for _ in &policy.inputs {
            r.push("input", Status::NotRun, why);
        }
        for _ in &policy.outputs {
            r.push("output", Status::NotRun, why);
        }
    }
    check_reference(proof, policy, quoted, &mut r);
    #[cfg(feature = "cert")]
    {
        let (status, detail) = super::certs::ek_row(proof, policy.ek_ca.as_ref());
        r.push("ek-certificate", status, detail);
        let (status, detail) = ak_certificate;
        r.push("ak-certificate", status, detail);
    }
    #[cfg(not(feature = "cert"))]
    {
        if proof.ek_certificates.is_empty() {
            r.push(
                "ek-certificate",
                Status::Skip,
                "the TPM had no EK certificate in NV",
            );
        } else {
            let list: Vec<String> = proof
                .ek_certificates
                .iter()
                .map(|c| format!("NV {:#010x} ({} bytes)", c.nv_index, c.der.len()))
                .collect();
            r.push(
                "ek-certificate",
                Status::Skip,
                format!(
                    "present: {}; not validated here (no CA chain check, and the AK is not bound \
                 to the EK by this proof)",
                    list.join(", ")
                ),
            );
        }
    }

    if r.passed() {
        Ok(r)
    } else {
        Err(Rejected { report: r })
    }
}

/// How far the verifier's `--ak-pub` fixes the proof's AK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pin {
    /// No pin, or a pin that did not match: the AK is whatever the proof says.
    None,
    /// A bare public key (PEM or DER SubjectPublicKeyInfo): the key is fixed, its TPM
    /// attributes (restricted, fixedTPM, ...) are not.
    KeyOnly,
    /// A TPM2B_PUBLIC or TPMT_PUBLIC: the whole public area, attributes included, is fixed.
    PublicArea,
    /// No TPM public area pinned, but an AK certificate that validates against --ak-ca
    /// certifies the key: the CA vouches that it is an attestation key (restricted signing,
    /// in a TPM), which is what an attestation CA checks before it issues one.
    Certified,
}

/// AK name and pin, then the quote. Returns the verified TPMS_ATTEST, or `None` when the quote
/// did not verify.
fn check_ak_and_quote<'p>(
    proof: &'p Proof,
    policy: &Policy,
    certified: bool,
    r: &mut Report,
) -> Option<TpmsAttest<'p>> {
    let ak = match Ak::from_tpm2b_public(&proof.ak_public) {
        Ok(ak) => ak,
        Err(e) => {
            r.push("ak", Status::Fail, e.to_string());
            for row in &QUOTE_ROWS[1..] {
                r.push(row, Status::NotRun, "no usable AK");
            }
            return None;
        }
    };
    let name = ak.public.as_ref().and_then(|p| p.name().ok());
    match &name {
        Some(n) if n.as_bytes() == proof.ak_name.as_slice() => r.push(
            "ak-name",
            Status::Pass,
            format!("AK name {}", hex::encode(n.as_bytes())),
        ),
        Some(n) => r.push(
            "ak-name",
            Status::Fail,
            format!(
                "proof says AK name {}, its public area hashes to {}",
                hex::encode(&proof.ak_name),
                hex::encode(n.as_bytes())
            ),
        ),
        None => r.push("ak-name", Status::Fail, "AK public area has no Name"),
    }
    let pin = check_ak_pin(&ak, policy, certified, r);

    // The quote verifier's SHA-1 rules apply as they are (`qv::Policy`): SHA-1 banks ride
    // along with a stronger bank, a SHA-1 signature needs its own permission.
    let selection = proof.pcrs.selection();
    let mut values = PcrValues {
        selection,
        values: heapless::Vec::new(),
    };
    for b in &proof.pcrs.banks {
        for v in &b.values {
            // At most 8 banks of 24 PCRs, which is the capacity: validation keeps it so.
            let _ = values.values.push(&v.value);
        }
    }
    let nonce: &[u8] = policy.nonce.as_deref().unwrap_or(&proof.nonce);
    let expect = Expectations {
        nonce,
        pcrs: &values,
        previous: None,
        ak_parent_qualified_name: Some(&ENDORSEMENT_QN),
    };
    let result = qv::verify_quote(&ak, &proof.attest, &proof.signature, &expect, &policy.quote);
    let failed_row = result.as_ref().err().map(quote_row);
    let verified = result.as_ref().ok().map(|v| &v.attest);
    let mut reached_failure = false;
    for row in QUOTE_ROWS {
        if reached_failure {
            r.push(row, Status::NotRun, "an earlier quote check failed");
            continue;
        }
        if Some(row) == failed_row {
            reached_failure = true;
            let e = result
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            r.push(row, Status::Fail, e);
            continue;
        }
        let (status, detail) = quote_pass_detail(row, proof, policy, &ak, pin, verified);
        r.push(row, status, detail);
    }
    if let Some("clock") = failed_row {
        let e = result
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        r.push("clock", Status::Fail, e);
    }
    result.ok().map(|v| v.attest)
}

/// The row for a quote check that passed: `Pass` only for what the signature (and the pin)
/// actually establish.
fn quote_pass_detail(
    row: &str,
    proof: &Proof,
    policy: &Policy,
    ak: &Ak<'_>,
    pin: Pin,
    attest: Option<&TpmsAttest<'_>>,
) -> (Status, String) {
    let pass = |s: String| (Status::Pass, s);
    let unpinned = |what: &str| {
        (
            Status::Skip,
            match pin {
                Pin::KeyOnly => format!(
                    "{what} as the proof's own public area declares; --ak-pub is a bare public \
                     key, which fixes the key but not its TPM attributes: pin the TPM2B_PUBLIC \
                     (baretpm ak-pub) to check them"
                ),
                _ => format!(
                    "{what} as the proof's own public area declares; nothing pins that area \
                     (no --ak-pub TPM2B_PUBLIC), so a software key could claim the same"
                ),
            },
        )
    };
    let key = if ak.key_type() == crate::types::TpmAlgId::RSA {
        "RSA"
    } else {
        "ECC"
    };
    match row {
        "ak" if pin == Pin::PublicArea => pass(format!(
            "{key} attestation key; restricted signing key attributes (fixed by the pinned \
             public area)"
        )),
        "ak" if pin == Pin::Certified => pass(format!(
            "{key} attestation key; restricted signing key attributes, and the key is one an AK \
             certificate from --ak-ca certifies (the CA vouches that it is an attestation key)"
        )),
        "ak" => unpinned(&format!("{key} key with restricted signing key attributes")),
        "signature" => pass("the AK's signature over the quote verifies".into()),
        "attest" => pass("TPM_GENERATED quote".into()),
        "nonce" => {
            let Some(carried) = attest.map(|a| a.extra_data.as_bytes()) else {
                return (Status::NotRun, "quote not verified".into());
            };
            if carried != proof.nonce.as_slice() {
                return (
                    Status::Fail,
                    format!(
                        "the proof's nonce.value {} is not the nonce the quote carries ({})",
                        hex::encode(&proof.nonce),
                        hex::encode(carried)
                    ),
                );
            }
            match &policy.nonce {
                Some(_) => pass(format!(
                    "quote carries the expected nonce {}",
                    hex::encode(carried)
                )),
                // The proof's nonce.source label is unsigned: the warning does not depend on it.
                None => (
                    Status::Skip,
                    format!(
                        "no --nonce given: the quote carries {}, a value this verifier did not \
                         choose, so the proof shows no freshness and could be a replay",
                        hex::encode(carried)
                    ),
                ),
            }
        }
        "qualified-signer" if pin == Pin::PublicArea => {
            pass("signed by a primary key of the endorsement hierarchy".into())
        }
        "qualified-signer" if pin == Pin::Certified => pass(
            "signed by a primary key of the endorsement hierarchy, whose key an AK certificate \
             from --ak-ca certifies"
                .into(),
        ),
        "qualified-signer" => unpinned("signed by a primary key of the endorsement hierarchy"),
        "pcr-selection" => {
            let banks: Vec<&str> = proof.pcrs.banks.iter().map(|b| b.bank.name()).collect();
            pass(format!(
                "{} PCRs quoted in {}",
                proof.pcrs.len(),
                banks.join(", ")
            ))
        }
        _ => pass("the PCR values in the proof are the quoted ones".into()),
    }
}

/// The `ak-pin` row. `certified`: the `ak-certificate` row passes (a certificate that
/// validates against --ak-ca certifies exactly the quote's AK).
fn check_ak_pin(ak: &Ak<'_>, policy: &Policy, certified: bool, r: &mut Report) -> Pin {
    let Some(pinned) = &policy.ak_public else {
        if certified {
            r.push(
                "ak-pin",
                Status::Pass,
                "no --ak-pub given; the AK is pinned by its AK certificate instead, which \
                 validates against --ak-ca and certifies exactly this key (ak-certificate row)",
            );
            return Pin::Certified;
        }
        r.push(
            "ak-pin",
            Status::Skip,
            "no --ak-pub given: any key, even one made in software, is accepted as the AK",
        );
        return Pin::None;
    };
    let pinned = match Ak::from_any(pinned) {
        Ok((p, _)) => p,
        Err(e) => {
            r.push("ak-pin", Status::Fail, format!("pinned AK unreadable: {e}"));
            return Pin::None;
        }
    };
    let (same, pin) = match (&pinned.public, &ak.public) {
        (Some(p), Some(a)) => match (p.name(), a.name()) {
            (Ok(x), Ok(y)) => (x == y, Pin::PublicArea),
            _ => (false, Pin::None),
        },
        _ => (same_key(&pinned.key, &ak.key), Pin::KeyOnly),
    };
    if same {
        r.push(
            "ak-pin",
            Status::Pass,
            match pin {
                Pin::PublicArea => "the proof's AK is the pinned AK (same public area and Name)",
                _ if certified => {
                    "the proof's AK is the pinned key (a bare public key), and an AK certificate \
                     from --ak-ca certifies it (ak-certificate row)"
                }
                _ => "the proof's AK is the pinned key (a bare public key: attributes not pinned)",
            },
        );
        // A bare key fixes no attributes; the CA's certificate of the same key vouches for them.
        if pin == Pin::KeyOnly && certified {
            Pin::Certified
        } else {
            pin
        }
    } else {
        r.push(
            "ak-pin",
            Status::Fail,
            "the proof's AK is not the pinned AK",
        );
        Pin::None
    }
}

#[allow(unreachable_patterns)]
fn same_key(a: &AkKey, b: &AkKey) -> bool {
    match (a, b) {
        #[cfg(feature = "rsa")]
        (AkKey::Rsa(x), AkKey::Rsa(y)) => x == y,
        #[cfg(feature = "p256")]
        (AkKey::P256(x), AkKey::P256(y)) => x == y,
        #[cfg(feature = "p384")]
        (AkKey::P384(x), AkKey::P384(y)) => x == y,
        _ => false,
    }
}

/// The log must replay from zero to the quoted value in every quoted bank that holds `pcr`.
/// `quoted` says whether the quote checks passed, i.e. whether the proof's PCR values are the
/// TPM's; the detail says which values the log was replayed against.
fn check_log(
    proof: &Proof,
    policy: &Policy,
    pcr: u32,
    events: &[Event],
    quoted: bool,
    r: &mut Report,
) {
    let name = if pcr == INPUT_PCR {
        "pcr14-log"
    } else {
        "pcr15-log"
    };
    let mut matched = Vec::new();
    let mut strong = false;
    for b in &proof.pcrs.banks {
        let Some(quoted) = b.get(pcr) else { continue };
        let Some(start) = super::start::start_of(proof, pcr, b.bank) else {
            r.push(
                name,
                Status::Fail,
                format!("the proof records no {} start value of PCR{pcr}", b.bank),
            );
            return;
        };
        match super::start::replay_from(&start, b.bank, events) {
            Ok(v) if v == quoted => {
                matched.push(b.bank.name());
                strong |= b.bank != HashAlg::Sha1;
            }
            Ok(v) => {
                r.push(
                    name,
                    Status::Fail,
                    format!(
                        "the {} events replay to {} in {}, but PCR{pcr} is {} (an event was \
                         added, removed, changed or reordered)",
                        events.len(),
                        hex::encode(v),
                        b.bank,
                        hex::encode(quoted)
                    ),
                );
                return;
            }
            Err(e) => {
                r.push(name, Status::Fail, format!("cannot replay: {e}"));
                return;
            }
        }
    }
    if matched.is_empty() {
        r.push(name, Status::Fail, format!("PCR{pcr} is not in the quote"));
    } else if !strong && !policy.quote.allow_sha1_banks {
        r.push(
            name,
            Status::Fail,
            format!("PCR{pcr} is quoted only in the SHA-1 bank, refused by policy"),
        );
    } else {
        r.push(
            name,
            Status::Pass,
            format!(
                "{} events replay from {} to {} in {}{}",
                events.len(),
                if proof.starts.iter().any(|s| s.pcr == pcr && !s.is_zero()) {
                    "the recorded start"
                } else {
                    "zero"
                },
                if quoted {
                    format!("the quoted PCR{pcr}")
                } else {
                    format!("PCR{pcr} as the proof gives it")
                },
                matched.join(", "),
                if quoted {
                    ""
                } else {
                    "; not proven by the TPM, as the quote checks failed"
                }
            ),
        );
    }
}

fn check_command(proof: &Proof, r: &mut Report) {
    let Some(c) = &proof.command else {
        r.push(
            "command",
            Status::Skip,
            "no command recorded (a proof made with measure and attest)",
        );
        return;
    };
    let cmd = command_text(&c.argv);
    let exit = exit_status_text(c.exit_status);
    let in_log = |log: &[Event], text: &str| {
        log.iter()
            .any(|e| e.kind() == super::event::EventKind::Text && e.name() == text)
    };
    if !in_log(&proof.pcr14, &cmd) {
        r.push(
            "command",
            Status::Fail,
            "the recorded command line is not the one measured into PCR14",
        );
    } else if !in_log(&proof.pcr15, &exit) {
        r.push(
            "command",
            Status::Fail,
            "the recorded exit status is not the one measured into PCR15",
        );
    } else if c.exit_status != 0 {
        r.push(
            "command",
            Status::Fail,
            format!("the command exited with status {}", c.exit_status),
        );
    } else {
        r.push(
            "command",
            Status::Pass,
            format!(
                "{} exited with status 0 (both measured)",
                shell_words(&c.argv)
            ),
        );
    }
}

/// The arguments joined for display, quoting those with spaces or quotes.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty()
                || a.chars()
                    .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
            {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_file(row: &'static str, pcr: u32, log: &[Event], e: &Event, r: &mut Report) {
    match log.iter().position(|x| x.same_content(e)) {
        Some(i) => {
            let logged = if log[i].name() == e.name() {
                String::new()
            } else {
                format!(", logged as {:?}", log[i].name())
            };
            r.push(
                row,
                Status::Pass,
                format!(
                    "{} ({} {}) is event {i} of the PCR{pcr} log{logged}",
                    e.name(),
                    e.kind(),
                    short(e.digest()),
                ),
            )
        }
        None => r.push(
            row,
            Status::Fail,
            format!(
                "{} ({} {}) is not in the PCR{pcr} log",
                e.name(),
                e.kind(),
                short(e.digest())
            ),
        ),
    }
}

fn short(d: &[u8]) -> String {
    let h = hex::encode(d);
    format!("{}…", &h[..h.len().min(16)])
}

fn check_reference(proof: &Proof, policy: &Policy, quoted: bool, r: &mut Report) {
    let Some(reference) = &policy.reference else {
        r.push("reference", Status::Skip, "no --reference given");
        return;
    };
    if !quoted {
        r.push(
            "reference",
            Status::NotRun,
            "not proven: the quote did not verify, so the proof's PCR values are its own claim",
        );
        return;
    }
    if reference.pcrs.is_empty() {
        r.push(
            "reference",
            Status::Skip,
            "the reference pins no PCR values (only boot facts, in their own rows)",
        );
        return;
    }
    let mut problems = vec![];
    let mut count = 0;
    for b in &reference.pcrs.banks {
        for v in &b.values {
            count += 1;
            match proof.pcrs.get(b.bank, v.index) {
                None => problems.push(format!("{}:{} is not quoted", b.bank, v.index)),
                Some(q) if q != v.value.as_slice() => problems.push(format!(
                    "{}:{} is {}, reference says {}",
                    b.bank,
                    v.index,
                    short(q),
                    short(&v.value)
                )),
                Some(_) => {}
            }
        }
    }
    if problems.is_empty() {
        r.push(
            "reference",
            Status::Pass,
            format!("{count} PCR values equal the reference"),
        );
    } else {
        let n = problems.len();
        problems.truncate(4);
        let more = if n > 4 {
            format!(" (and {} more)", n - 4)
        } else {
            String::new()
        };
        r.push(
            "reference",
            Status::Fail,
            format!("{}{more}", problems.join("; ")),
        );
    }
}
