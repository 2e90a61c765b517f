//! The firmware event log a proof carries (`boot_log`): replayed against the quoted PCRs, and
//! the boot facts it shows (Secure Boot state, boot chain).
//!
//! Rules: every quoted bank of every PCR the log extends must equal the log's replay of that
//! bank on its own (never "any bank"); every quoted PCR 0-7 the log never extends must hold
//! its initial value. PCR14 and PCR15 are left to the run's own event logs (a boot loader's
//! PCR14 events are the start value of PCR14, not its final one). Facts come only from a log
//! that passed [`check_structure`] (digests of PCR 7 events recomputed, no fake separator).

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::file::PcrTable;
use super::{INPUT_PCR, OUTPUT_PCR};
use crate::eventlog::{
    check_structure, classify, replay, EventData, EventLog, ExpectedPcr, IplStringKind, PcrStart,
    ReplayedPcrs, SecureBootSummary, NUM_PCRS,
};
use crate::text::escape;
use crate::types::HashAlg;

/// Default path of the firmware log the kernel exposes.
pub const SYSFS_BOOT_LOG: &str = "/sys/kernel/security/tpm0/binary_bios_measurements";

/// Most characters of one untrusted string shown in a report row.
const MAX_SHOWN: usize = 160;
/// Most boot applications listed in the `boot-chain` row.
const MAX_APPS_SHOWN: usize = 8;

/// What replaying the log against the quoted values established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootLogMatch {
    /// Events in the log (the header included).
    pub events: usize,
    /// Quoted PCRs that were checked (0-7 and any other the log extends, except 14 and 15).
    pub checked: Vec<u32>,
    /// Banks checked.
    pub banks: Vec<HashAlg>,
    /// PCRs the log extends that the quote does not cover (not checked).
    pub not_quoted: Vec<u32>,
    /// PCR14/15 events in the log (the start of those PCRs, not checked here).
    pub run_pcrs_in_log: Vec<u32>,
    /// How PCR 0 started: zero, a StartupLocality event, or an H-CRTM event.
    pub pcr0_start: PcrStart,
}

impl BootLogMatch {
    /// One line for a report row.
    pub fn describe(&self, quoted: bool) -> String {
        let list = |v: &[u32]| {
            v.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let banks: Vec<&str> = self.banks.iter().map(|b| b.name()).collect();
        let mut s = format!(
            "{} firmware events replay to {} PCR {} in {} (each bank on its own; PCRs the log \
             never extends hold their initial value)",
            self.events,
            if quoted { "the quoted" } else { "the proof's" },
            list(&self.checked),
            banks.join(", ")
        );
        match self.pcr0_start {
            PcrStart::Zero => {}
            PcrStart::Locality { locality, .. } => {
                s.push_str(&format!("; PCR0 started at locality {locality}"))
            }
            PcrStart::Hcrtm { .. } => s.push_str("; PCR0 started at H-CRTM (4)"),
        }
        if !self.not_quoted.is_empty() {
            s.push_str(&format!(
                "; the log also extends PCR {}, not quoted (not checked)",
                list(&self.not_quoted)
            ));
        }
        if !self.run_pcrs_in_log.is_empty() {
            s.push_str(&format!(
                "; the log extends PCR {} before the run (their start value)",
                list(&self.run_pcrs_in_log)
            ));
        }
        s
    }
}

/// Parses, structure-checks and replays `log`, and checks it against `pcrs` (see the module
/// rules). `Err` names the first PCR, bank or event at fault.
pub fn match_quoted(
    log: &[u8],
    pcrs: &PcrTable,
    allow_sha1_banks: bool,
) -> Result<BootLogMatch, String> {
    let parsed = EventLog::parse(log).map_err(|e| format!("malformed firmware log: {e}"))?;
    let mut replayed = std::boxed::Box::<ReplayedPcrs>::default();
    replay(&parsed, &mut replayed).map_err(|e| format!("firmware log cannot be replayed: {e}"))?;
    check_structure(&parsed).map_err(|e| format!("firmware log refused: {e}"))?;

    let mut touched = [false; NUM_PCRS];
    for b in replayed.banks() {
        for p in b.extended() {
            touched[p] = true;
        }
    }
    let mut checked: Vec<u32> = Vec::new();
    let mut banks: Vec<HashAlg> = Vec::new();
    let mut strong = false;
    for b in &pcrs.banks {
        for v in &b.values {
            let p = v.index;
            if p == INPUT_PCR || p == OUTPUT_PCR {
                continue;
            }
            if p > 7 && !touched.get(p as usize).copied().unwrap_or(false) {
                continue;
            }
            replayed
                .check(&ExpectedPcr {
                    bank: b.bank,
                    pcr: p,
                    value: &v.value,
                })
                .map_err(|e| format!("the firmware log does not explain {e}"))?;
            if !checked.contains(&p) {
                checked.push(p);
            }
            if !banks.contains(&b.bank) {
                banks.push(b.bank);
            }
            strong |= b.bank != HashAlg::Sha1;
        }
    }
    checked.sort_unstable();
    if checked.is_empty() {
        return Err(
            "no quoted PCR is one the firmware log explains (quote PCR0-7 with the log)".into(),
        );
    }
    if !strong && !allow_sha1_banks {
        return Err(
            "the firmware log is checked only against the SHA-1 bank, refused by policy".into(),
        );
    }
    let quoted_somewhere = |p: u32| pcrs.banks.iter().any(|b| b.get(p).is_some());
    let not_quoted = (0..NUM_PCRS as u32)
        .filter(|&p| touched[p as usize] && p != INPUT_PCR && p != OUTPUT_PCR)
        .filter(|&p| !quoted_somewhere(p))
        .collect();
    let run_pcrs_in_log = [INPUT_PCR, OUTPUT_PCR]
        .into_iter()
        .filter(|&p| touched[p as usize])
        .collect();
    Ok(BootLogMatch {
        events: replayed.events,
        checked,
        banks,
        not_quoted,
        run_pcrs_in_log,
        pcr0_start: replayed.pcr0_start,
    })
}

/// Untrusted text for a row: escaped, and cut to [`MAX_SHOWN`] characters.
fn shown(s: &str) -> String {
    let e = escape(s);
    if e.chars().count() > MAX_SHOWN {
        let mut t: String = e.chars().take(MAX_SHOWN).collect();
        t.push('…');
        t
    } else {
        e
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

/// Facts a verifier reads from a log that has been matched against the quote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootFacts {
    /// The SecureBoot variable: on, off, or not measured.
    pub secure_boot: Option<bool>,
    /// SecureBoot on and PK, KEK, db measured and not empty.
    pub secure_boot_enabled: bool,
    /// SHA-256 of the variable data of PK, KEK, db and dbx as measured.
    pub pk_sha256: Option<String>,
    /// SHA-256 of KEK's variable data as measured.
    pub kek_sha256: Option<String>,
    /// SHA-256 of db's variable data as measured.
    pub db_sha256: Option<String>,
    /// SHA-256 of dbx's variable data as measured.
    pub dbx_sha256: Option<String>,
    /// An EV_EFI_ACTION "DMA Protection Disabled" was measured into PCR 7.
    pub dma_protection_disabled: bool,
    /// An EV_EFI_ACTION "UEFI Debug Mode" was measured into PCR 7.
    pub debug_mode: bool,
    /// Boot applications (PCR 4) as device paths, escaped, with the count of authorities.
    pub applications: Vec<String>,
    /// The SHA-256 digest each boot application was measured with (PCR 4), when the log has
    /// a SHA-256 bank: the Authenticode digest of the image.
    pub application_sha256: Vec<String>,
    /// Kernel command lines measured as EV_IPL strings (grub), escaped.
    pub kernel_cmdlines: Vec<String>,
    /// The last kernel command line as measured (UTF-8, unescaped: for comparison only).
    pub kernel_cmdline_raw: Option<String>,
    /// The PCR that command line was measured into (8 with grub).
    pub kernel_cmdline_pcr: Option<u32>,
    /// The summary had more applications or authorities than it lists.
    pub truncated: bool,
}

/// The facts of `log`. Call only after [`match_quoted`] passed.
pub fn facts(log: &[u8]) -> Result<BootFacts, String> {
    let parsed = EventLog::parse(log).map_err(|e| format!("malformed firmware log: {e}"))?;
    let sb = SecureBootSummary::from_log(&parsed).map_err(|e| format!("firmware log: {e}"))?;
    let var = |v: &Option<crate::eventlog::MeasuredVariable<'_>>| v.map(|v| sha256_hex(v.data));
    let mut f = BootFacts {
        secure_boot: sb.secure_boot,
        secure_boot_enabled: sb.enabled(),
        pk_sha256: var(&sb.pk),
        kek_sha256: var(&sb.kek),
        db_sha256: var(&sb.db),
        dbx_sha256: var(&sb.dbx),
        dma_protection_disabled: sb.dma_protection_disabled,
        debug_mode: sb.debug_mode,
        truncated: sb.truncated,
        ..BootFacts::default()
    };
    for a in &sb.applications {
        let path = match &a.image {
            Some(i) => shown(&i.device_path.to_string()),
            None => "(image event not decoded)".into(),
        };
        f.applications.push(format!(
            "{path} [event {}, {} authorit{}]",
            a.event,
            a.authorities.len(),
            if a.authorities.len() == 1 { "y" } else { "ies" }
        ));
    }
    for e in parsed.events() {
        let e = e.map_err(|e| format!("malformed firmware log: {e}"))?;
        if e.pcr_index == 4
            && e.event_type == crate::eventlog::TcgEventType::EV_EFI_BOOT_SERVICES_APPLICATION
        {
            if let Some(d) = e.digests.get(HashAlg::Sha256) {
                f.application_sha256.push(hex::encode(d));
            }
        }
        if let EventData::Ipl(s) = classify(&e) {
            if matches!(
                s.kind,
                IplStringKind::KernelCmdline | IplStringKind::GrubKernelCmdline
            ) {
                let raw = String::from_utf8_lossy(s.value).into_owned();
                f.kernel_cmdlines.push(shown(&raw));
                f.kernel_cmdline_raw = Some(raw);
                f.kernel_cmdline_pcr = Some(e.pcr_index);
            }
        }
    }
    Ok(f)
}

impl BootFacts {
    /// The `secure-boot` row's text.
    pub fn secure_boot_text(&self) -> String {
        let state = match (self.secure_boot, self.secure_boot_enabled) {
            (Some(true), true) => "Secure Boot on (SecureBoot=1; PK, KEK and db measured)",
            (Some(true), false) => "SecureBoot=1 but PK, KEK or db is missing or empty",
            (Some(false), _) => "Secure Boot off (SecureBoot=0 or unset)",
            (None, _) => "the log does not measure the SecureBoot variable",
        };
        let mut s = state.to_string();
        let short = |h: &Option<String>| match h {
            Some(h) => format!("{}…", &h[..16]),
            None => "not measured".into(),
        };
        s.push_str(&format!(
            "; db sha256 {}, dbx sha256 {}",
            short(&self.db_sha256),
            short(&self.dbx_sha256)
        ));
        if self.dma_protection_disabled {
            s.push_str("; DMA protection disabled");
        }
        if self.debug_mode {
            s.push_str("; UEFI debug mode");
        }
        s
    }

    /// The `boot-chain` row's text.
    pub fn boot_chain_text(&self) -> String {
        let mut s = if self.applications.is_empty() {
            "no boot application measured in PCR 4".to_string()
        } else {
            let n = self.applications.len();
            let apps: Vec<&str> = self
                .applications
                .iter()
                .take(MAX_APPS_SHOWN)
                .map(|a| a.as_str())
                .collect();
            let more = if n > MAX_APPS_SHOWN {
                format!(" (and {} more)", n - MAX_APPS_SHOWN)
            } else {
                String::new()
            };
            let joined = apps.join(" -> ");
            format!("{n} boot application(s): {joined}{more}")
        };
        if self.truncated {
            s.push_str(" (summary truncated)");
        }
        match self.kernel_cmdlines.last() {
            Some(c) => s.push_str(&format!("; kernel command line \"{c}\"")),
            None => s.push_str("; no kernel command line measured"),
        }
        s
    }
}

/// The `boot-log` row, then (when it passed) the `secure-boot` and `boot-chain` rows, which
/// show facts and are `skip`: nothing checks them against a policy here.
pub(crate) fn push_rows(
    proof: &super::file::Proof,
    policy: &super::verify::Policy,
    quoted: bool,
    r: &mut super::verify::Report,
) {
    use super::verify::Status;
    let Some(log) = &proof.boot_log else {
        let why = if proof.version < 2 {
            "a version 1 proof carries no firmware event log: PCR0-7 are unexplained values \
             (compare them with --reference)"
        } else {
            "the proof carries no firmware event log (none was readable, or --no-boot-log): \
             PCR0-7 are unexplained values (compare them with --reference)"
        };
        r.push("boot-log", Status::Skip, why);
        push_reference_rows_without_log(
            policy,
            Status::Fail,
            "the reference pins boot facts, and the proof carries no firmware log to show them",
            r,
        );
        return;
    };
    if !quoted {
        r.push(
            "boot-log",
            Status::NotRun,
            "not proven: the quote did not verify, so the PCR values are the proof's own claim",
        );
        push_reference_rows_without_log(policy, Status::NotRun, "the quote did not verify", r);
        return;
    }
    let checked = match match_quoted(log, &proof.pcrs, policy.quote.allow_sha1_banks) {
        Ok(m) => {
            r.push("boot-log", Status::Pass, m.describe(true));
            m.checked
        }
        Err(e) => {
            r.push("boot-log", Status::Fail, e);
            push_reference_rows_without_log(
                policy,
                Status::NotRun,
                "the firmware log does not match the quote",
                r,
            );
            return;
        }
    };
    let proven = |pcr: u32| {
        if checked.contains(&pcr) {
            format!("proven by the quoted PCR {pcr}")
        } else {
            format!("NOT proven: PCR {pcr} is not quoted")
        }
    };
    match facts(log) {
        Ok(f) => {
            push_reference_rows(policy, Ok((&f, &checked)), r);
            r.push(
                "secure-boot",
                Status::Skip,
                format!(
                    "shown, not checked against a policy: {} ({})",
                    f.secure_boot_text(),
                    proven(7)
                ),
            );
            let cmdline = match f.kernel_cmdline_pcr {
                Some(p) => format!("; command line {}", proven(p)),
                None => String::new(),
            };
            r.push(
                "boot-chain",
                Status::Skip,
                format!(
                    "shown, not checked against a policy: {} (applications {}{cmdline})",
                    f.boot_chain_text(),
                    proven(4)
                ),
            );
        }
        Err(e) => {
            push_reference_rows(policy, Err("the firmware log's facts could not be read"), r);
            r.push("secure-boot", Status::Fail, e)
        }
    }
}

/// Boot facts a reference file pins (`"boot"` in a version 2 reference).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootReference {
    /// Secure Boot on (SecureBoot=1 with PK, KEK and db measured) or off.
    pub secure_boot: Option<bool>,
    /// SHA-256 of db's and dbx's variable data as measured into PCR 7.
    pub db_sha256: Option<Vec<u8>>,
    /// SHA-256 of dbx's variable data.
    pub dbx_sha256: Option<Vec<u8>>,
    /// The PCR 4 SHA-256 digest (Authenticode) of the last boot application: the kernel on a
    /// shim, grub, kernel chain.
    pub kernel_sha256: Option<Vec<u8>>,
    /// The last kernel command line measured (grub's `kernel_cmdline: ` EV_IPL string).
    pub kernel_cmdline: Option<String>,
}

impl BootReference {
    /// Whether the reference pins nothing.
    pub fn is_empty(&self) -> bool {
        *self == BootReference::default()
    }

    /// Every fact `f` has whose PCR is in `checked` (the PCRs the log was matched against).
    pub fn from_facts(f: &BootFacts, checked: &[u32]) -> BootReference {
        let hex = |h: &Option<String>| h.as_deref().and_then(|h| hex::decode(h).ok());
        let pcr7 = checked.contains(&7);
        BootReference {
            secure_boot: f
                .secure_boot
                .map(|_| f.secure_boot_enabled)
                .filter(|_| pcr7),
            db_sha256: hex(&f.db_sha256).filter(|_| pcr7),
            dbx_sha256: hex(&f.dbx_sha256).filter(|_| pcr7),
            kernel_sha256: hex(&f.application_sha256.last().cloned())
                .filter(|_| checked.contains(&4)),
            kernel_cmdline: f
                .kernel_cmdline_raw
                .clone()
                .filter(|_| f.kernel_cmdline_pcr.is_some_and(|p| checked.contains(&p))),
        }
    }

    /// The facts of `proof`'s firmware log that its quote proves (`None` without a log, or
    /// when the log does not match the quoted values).
    pub fn from_proof(proof: &super::file::Proof) -> Option<BootReference> {
        let log = proof.boot_log.as_deref()?;
        let m = match_quoted(log, &proof.pcrs, true).ok()?;
        let f = facts(log).ok()?;
        Some(BootReference::from_facts(&f, &m.checked)).filter(|b| !b.is_empty())
    }
}

/// One row per boot fact the reference pins: `pass` only when the fact, read from a firmware
/// log that replayed to the quoted PCRs, equals the pinned value.
fn push_reference_rows(
    policy: &super::verify::Policy,
    facts: Result<(&BootFacts, &[u32]), &str>,
    r: &mut super::verify::Report,
) {
    use super::verify::Status;
    let Some(pin) = policy.reference.as_ref().and_then(|x| x.boot.as_ref()) else {
        return;
    };
    let (f, checked) = match facts {
        Ok(f) => f,
        Err(why) => {
            for name in reference_rows(pin) {
                r.push(name, Status::NotRun, why);
            }
            return;
        }
    };
    let short = |h: &[u8]| {
        let t = hex::encode(h);
        format!("{}…", &t[..t.len().min(16)])
    };
    // A fact counts only when the PCR it was measured into is one the quote proves.
    let mut row = |name: &'static str, pcr: Option<u32>, ok: bool, detail: String| match pcr {
        Some(p) if !checked.contains(&p) => r.push(
            name,
            Status::Fail,
            format!(
                "{detail}; but PCR {p}, where it is measured, is not quoted, so the log's \
                     word is unproven (quote it: --pcrs 0-{p})"
            ),
        ),
        _ => r.push(name, if ok { Status::Pass } else { Status::Fail }, detail),
    };
    if let Some(want) = pin.secure_boot {
        let got = f.secure_boot.map(|_| f.secure_boot_enabled);
        let say = |v: Option<bool>| match v {
            Some(true) => "on",
            Some(false) => "off",
            None => "not measured",
        };
        row(
            "reference-secure-boot",
            Some(7),
            got == Some(want),
            format!(
                "Secure Boot {}, the reference says {}",
                say(got),
                say(Some(want))
            ),
        );
    }
    for (name, what, want, got) in [
        ("reference-db", "db", &pin.db_sha256, &f.db_sha256),
        ("reference-dbx", "dbx", &pin.dbx_sha256, &f.dbx_sha256),
    ] {
        let Some(want) = want else { continue };
        let got = got.as_deref().and_then(|h| hex::decode(h).ok());
        row(
            name,
            Some(7),
            got.as_deref() == Some(want.as_slice()),
            match &got {
                Some(g) => format!(
                    "{what} sha256 {}, the reference says {}",
                    short(g),
                    short(want)
                ),
                None => format!("{what} is not measured; the reference says {}", short(want)),
            },
        );
    }
    if let Some(want) = &pin.kernel_sha256 {
        let got = f
            .application_sha256
            .last()
            .and_then(|h| hex::decode(h).ok());
        row(
            "reference-kernel",
            Some(4),
            got.as_deref() == Some(want.as_slice()),
            match &got {
                Some(g) => format!(
                    "last boot application sha256 {}, the reference says {}",
                    short(g),
                    short(want)
                ),
                None => "no boot application with a SHA-256 digest is measured".into(),
            },
        );
    }
    if let Some(want) = &pin.kernel_cmdline {
        let got = f.kernel_cmdline_raw.as_deref();
        row(
            "reference-kernel-cmdline",
            f.kernel_cmdline_pcr,
            got == Some(want.as_str()),
            match got {
                Some(g) if g == want => format!("kernel command line \"{}\" as pinned", shown(g)),
                Some(g) => format!(
                    "kernel command line \"{}\", the reference says \"{}\"",
                    shown(g),
                    shown(want)
                ),
                None => format!(
                    "no kernel command line is measured; the reference says \"{}\"",
                    shown(want)
                ),
            },
        );
    }
}

/// The row names a pin produces, in order.
fn reference_rows(pin: &BootReference) -> Vec<&'static str> {
    let mut v = Vec::new();
    if pin.secure_boot.is_some() {
        v.push("reference-secure-boot");
    }
    if pin.db_sha256.is_some() {
        v.push("reference-db");
    }
    if pin.dbx_sha256.is_some() {
        v.push("reference-dbx");
    }
    if pin.kernel_sha256.is_some() {
        v.push("reference-kernel");
    }
    if pin.kernel_cmdline.is_some() {
        v.push("reference-kernel-cmdline");
    }
    v
}

/// The reference rows when the log cannot be used: `FAIL` when the proof has none (the pinned
/// facts cannot be shown), `not run` when an earlier check failed.
pub(crate) fn push_reference_rows_without_log(
    policy: &super::verify::Policy,
    status: super::verify::Status,
    why: &str,
    r: &mut super::verify::Report,
) {
    if let Some(pin) = policy.reference.as_ref().and_then(|x| x.boot.as_ref()) {
        for name in reference_rows(pin) {
            r.push(name, status, why);
        }
    }
}
