//! The JSON document of a TCG event log, as `baretpm eventlog --json` prints it and the
//! Python package's `eventlog()` returns it: decoded events with their digest checks, the
//! replayed PCRs of every computable bank (`"pcrs": {"sha256": {"0": "<hex>"}}`) and the
//! Secure Boot summary. One implementation, so the CLI and Python cannot drift apart.
//!
//! Every string taken from the log is escaped ([`crate::text::escape`]) before it is put in
//! the document.

use std::fmt;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::{
    check_digest, check_structure, classify, replay, DigestCheck, EfiGuid, EfiLoadOption,
    EventData, EventLog, IplStringKind, LogFormat, MeasuredVariable, PcrStart, ReplayedPcrs,
    SecureBootSummary, SeparatorValue, StructureError, TcgEventType, TcgPcrEvent2,
    UefiVariableData, Utf16Str, WbclTaggedEvent, EFI_GLOBAL_VARIABLE,
};
use crate::text::escape;
use serde_json::{json, Map, Value};
use sha2::Digest as _;

/// A log that parsed, replayed and passed the structure checks, with its Secure Boot summary
/// (which may itself be an error: a summary that cannot be made does not make the log
/// malformed).
pub struct Analysis<'a> {
    /// The parsed log.
    pub log: EventLog<'a>,
    /// Its replayed PCR values, per bank.
    pub pcrs: ReplayedPcrs,
    /// Its Secure Boot summary, or why none could be made.
    pub secure_boot: Result<SecureBootSummary<'a>, StructureError>,
}

/// Why a log was refused by [`analyse`]: the parser's, replay's or structure check's message
/// (naming the event index and field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedLog(pub String);

impl fmt::Display for MalformedLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed log: {}", self.0)
    }
}

impl std::error::Error for MalformedLog {}

/// Parses, replays and checks the structure of a log (in that order; the first error wins).
pub fn analyse(bytes: &[u8]) -> Result<Analysis<'_>, MalformedLog> {
    let bad = |e: &dyn fmt::Display| MalformedLog(e.to_string());
    let log = EventLog::parse(bytes).map_err(|e| bad(&e))?;
    let mut pcrs = ReplayedPcrs::default();
    replay(&log, &mut pcrs).map_err(|e| bad(&e))?;
    check_structure(&log).map_err(|e| bad(&e))?;
    let secure_boot = SecureBootSummary::from_log(&log);
    Ok(Analysis {
        log,
        pcrs,
        secure_boot,
    })
}

/// The `--json` text of a log: [`document`] pretty-printed, with a final newline.
pub fn json_text(bytes: &[u8]) -> Result<String, MalformedLog> {
    let a = analyse(bytes)?;
    let mut s = serde_json::to_string_pretty(&document(&a.log, &a.pcrs, &a.secure_boot))
        .map_err(|e| MalformedLog(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// Lossy UTF-8 of log bytes, escaped.
pub fn lossy(b: &[u8]) -> String {
    escape(&String::from_utf8_lossy(b))
}

/// A UTF-16 string from the log, escaped.
pub fn utf16(s: Utf16Str<'_>) -> String {
    escape(&s.to_string())
}

/// The log's format as the JSON report names it: `sha1` or `crypto-agile`.
pub fn format_name(f: LogFormat) -> &'static str {
    match f {
        LogFormat::Sha1 => "sha1",
        LogFormat::CryptoAgile => "crypto-agile",
    }
}

/// The log's events, header first (the log was already walked without error).
pub fn events<'a>(log: &EventLog<'a>) -> impl Iterator<Item = TcgPcrEvent2<'a>> + 'a {
    // Replay already walked the whole log without error.
    log.events().map_while(Result::ok)
}

/// EFI_SIGNATURE_DATA: owner GUID, then the signature (an X.509 certificate or a hash).
pub fn authority_json(event: usize, v: &UefiVariableData<'_>) -> Value {
    let data = v.variable_data;
    let (owner, sig) = if data.len() >= 16 {
        let mut g = [0u8; 16];
        g.copy_from_slice(&data[..16]);
        (Some(EfiGuid(g).to_string()), &data[16..])
    } else {
        (None, data)
    };
    json!({
        "event": event,
        "variable": utf16(v.unicode_name),
        "owner": owner,
        "signature_sha256": hex::encode(sha2::Sha256::digest(sig)),
        "signature_size": sig.len(),
        "trailing_bytes": v.trailing.len(),
    })
}

/// The Secure Boot summary as JSON (`{"error": ...}` when there is none), text escaped.
pub fn secure_boot_json(sb: &Result<SecureBootSummary<'_>, StructureError>) -> Value {
    let s = match sb {
        Ok(s) => s,
        Err(e) => return json!({ "error": escape(&e.to_string()) }),
    };
    let var = |v: &Option<MeasuredVariable<'_>>| match v {
        Some(v) => json!({
            "event": v.event,
            "size": v.data.len(),
            "sha256": hex::encode(sha2::Sha256::digest(v.data)),
        }),
        None => Value::Null,
    };
    let apps: Vec<Value> = s
        .applications
        .iter()
        .map(|a| {
            json!({
                "event": a.event,
                "device_path": a.image.map(|i| escape(&i.device_path.to_string())),
                "authorities": a.authorities.iter().map(|(e, v)| authority_json(*e, v)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "secure_boot": s.secure_boot,
        "enabled": s.enabled(),
        "secure_boot_event": s.secure_boot_event,
        "pk": var(&s.pk),
        "kek": var(&s.kek),
        "db": var(&s.db),
        "dbx": var(&s.dbx),
        "separator": s.separator,
        "dma_protection_disabled": s.dma_protection_disabled,
        "debug_mode": s.debug_mode,
        "applications": apps,
        "later_authorities": s.later_authorities.iter().map(|(e, v)| authority_json(*e, v)).collect::<Vec<_>>(),
        "truncated": s.truncated,
    })
}

/// BootOrder as `Boot0001,Boot0000`, Boot#### as its load option: the boot entries.
pub fn boot_variable(v: &UefiVariableData<'_>) -> Option<Value> {
    if v.variable_name != EFI_GLOBAL_VARIABLE {
        return None;
    }
    let name = v.unicode_name.to_string();
    if name == "BootOrder" {
        let order: Vec<String> = v
            .variable_data
            .chunks_exact(2)
            .map(|c| format!("Boot{:04X}", u16::from_le_bytes([c[0], c[1]])))
            .collect();
        return Some(json!({ "boot_order": order }));
    }
    let is_boot = name.len() == 8
        && name.starts_with("Boot")
        && name[4..].chars().all(|c| c.is_ascii_hexdigit());
    if !is_boot {
        return None;
    }
    Some(match EfiLoadOption::parse(v.variable_data) {
        Ok(o) => json!({
            "attributes": o.attributes,
            "description": utf16(o.description),
            "device_path": escape(&o.file_path_list.to_string()),
            "optional_data_size": o.optional_data.len(),
        }),
        Err(e) => json!({ "error": e.to_string() }),
    })
}

/// The IPL string kind as the JSON report names it (`grub_cmd`, `kernel_cmdline`...).
pub fn ipl_kind(k: IplStringKind) -> &'static str {
    match k {
        IplStringKind::GrubCmd => "grub_cmd",
        IplStringKind::KernelCmdline => "kernel_cmdline",
        IplStringKind::GrubKernelCmdline => "grub_kernel_cmdline",
        IplStringKind::Text => "text",
        IplStringKind::Utf16 => "utf16",
    }
}

/// The separator value as reports show it (`00000000`, `ffffffff (error)`, `WBCL`).
pub fn separator_name(v: SeparatorValue) -> &'static str {
    match v {
        SeparatorValue::Normal => "00000000",
        SeparatorValue::Error => "ffffffff (error)",
        SeparatorValue::Wbcl => "WBCL",
    }
}

/// An event's decoded data as JSON (`{"kind": ...}` and the fields of that kind).
pub fn decoded_json(d: &EventData<'_>) -> Value {
    match d {
        EventData::SpecId => json!({"kind": "spec_id"}),
        EventData::StartupLocality(l) => json!({"kind": "startup_locality", "locality": l}),
        EventData::NoAction(sig) => json!({"kind": "no_action", "signature": lossy(sig)}),
        EventData::Separator(v) => json!({"kind": "separator", "value": separator_name(*v)}),
        EventData::Text(t) => json!({"kind": "text", "text": lossy(t)}),
        EventData::ScrtmVersion(v) => json!({"kind": "s_crtm_version", "version": utf16(*v)}),
        EventData::Variable(v) => json!({
            "kind": "uefi_variable",
            "guid": v.variable_name.to_string(),
            "guid_name": v.variable_name.name(),
            "name": utf16(v.unicode_name),
            "data_size": v.variable_data.len(),
            "trailing_bytes": v.trailing.len(),
            "boot": boot_variable(v),
        }),
        EventData::ImageLoad(i) => json!({
            "kind": "image_load",
            "image_location": i.image_location_in_memory,
            "image_length": i.image_length_in_memory,
            "link_time_address": i.image_link_time_address,
            "device_path": escape(&i.device_path.to_string()),
            "trailing_bytes": i.trailing.len(),
        }),
        EventData::Gpt(g) => json!({
            "kind": "gpt",
            "disk_guid": g.disk_guid.to_string(),
            "partitions": g.entries().map(|p| json!({
                "type": p.partition_type_guid.to_string(),
                "guid": p.unique_partition_guid.to_string(),
                "starting_lba": p.starting_lba,
                "ending_lba": p.ending_lba,
                "attributes": p.attributes,
                "name": utf16(p.partition_name),
            })).collect::<Vec<_>>(),
        }),
        EventData::Ipl(s) => {
            let text = match s.kind {
                IplStringKind::Utf16 => utf16(Utf16Str(s.text)),
                _ => lossy(s.text),
            };
            json!({"kind": "ipl", "ipl_kind": ipl_kind(s.kind), "text": text})
        }
        EventData::FirmwareBlob(b) => json!({
            "kind": "firmware_blob",
            "description": b.description.map(lossy),
            "blob_base": b.blob_base,
            "blob_length": b.blob_length,
        }),
        EventData::Wbcl(w) => json!({
            "kind": "wbcl",
            "items": w.items().map(|(t, d)| json!({
                "type": format!("{t:#010x}"),
                "name": WbclTaggedEvent::type_name(t),
                "size": d.len(),
            })).collect::<Vec<_>>(),
        }),
        EventData::Raw(_) => json!({"kind": "raw"}),
        EventData::Malformed(e) => json!({"kind": "malformed", "error": e.to_string()}),
    }
}

/// How PCR 0 started, as JSON (`zero`, `startup_locality`, `h-crtm`).
pub fn pcr0_start_json(s: PcrStart) -> Value {
    match s {
        PcrStart::Zero => json!({"kind": "zero"}),
        PcrStart::Locality { locality, event } => {
            json!({"kind": "startup_locality", "locality": locality, "event": event})
        }
        PcrStart::Hcrtm { event } => json!({"kind": "h-crtm", "event": event}),
    }
}

/// The whole log as JSON: Spec ID event, events with their decoded data and digest checks,
/// replayed PCRs and the Secure Boot summary.
pub fn document(
    log: &EventLog<'_>,
    pcrs: &ReplayedPcrs,
    sb: &Result<SecureBootSummary<'_>, StructureError>,
) -> Value {
    let spec = log.spec_id().map(|s| {
        json!({
            "platform_class": s.platform_class,
            "spec_version": format!("{}.{}", s.spec_version_major, s.spec_version_minor),
            "spec_errata": s.spec_errata,
            "uintn_size": s.uintn_size,
            "algorithms": s.algorithms().map(|a| json!({"alg": a.alg.name(), "digest_size": a.digest_size})).collect::<Vec<_>>(),
            "vendor_info": hex::encode(s.vendor_info),
        })
    });
    let evs: Vec<Value> = events(log)
        .map(|e| {
            let mut digests = Map::new();
            let mut checks = Map::new();
            for (alg, d) in e.digests.iter() {
                digests.insert(alg.name().into(), hex::encode(d).into());
                let c = check_digest(&e, alg);
                let v = match c {
                    _ if e.event_type == TcgEventType::EV_NO_ACTION => "not-extended".to_string(),
                    DigestCheck::VerifiedQuirk(q) => {
                        format!("verified ({})", q.name())
                    }
                    c => c.name().to_string(),
                };
                checks.insert(alg.name().into(), v.into());
            }
            json!({
                "index": e.index,
                "offset": e.offset,
                "pcr": e.pcr_index,
                "type": e.event_type.to_string(),
                "type_value": e.event_type.0,
                "digests": digests,
                "digest_check": checks,
                "data": hex::encode(e.event),
                "decoded": decoded_json(&classify(&e)),
            })
        })
        .collect();
    let mut banks = Map::new();
    let mut not_computed = Vec::new();
    for b in pcrs.banks() {
        if !b.computable {
            not_computed.push(b.alg.name());
            continue;
        }
        let mut m = Map::new();
        for p in b.extended() {
            if let Some(v) = b.value(p) {
                m.insert(p.to_string(), hex::encode(v).into());
            }
        }
        banks.insert(b.alg.name().into(), Value::Object(m));
    }
    json!({
        "format": format_name(log.format()),
        "spec_id": spec,
        "events_count": pcrs.events,
        "pcr0_start": pcr0_start_json(pcrs.pcr0_start),
        "events": evs,
        "pcrs": banks,
        "banks_not_computed": not_computed,
        "secure_boot": secure_boot_json(sb),
    })
}
