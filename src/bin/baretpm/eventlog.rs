//! `baretpm eventlog LOG [--json]`: tpm2_eventlog's job, with the strict parser and replay.
//!
//! Text for people (every string from the log escaped), or with `--json` a document with the
//! decoded events, the replayed PCRs of every bank (`"pcrs": {"sha256": {"0": "<hex>"}}`) and
//! the Secure Boot summary. Exit 0 when the log parses and replays, 2 when it is malformed
//! (one line naming the event index and field).

use crate::util::{failed, CliError};
use baretpm::eventlog::{
    check_digest, check_structure, classify, replay, EfiLoadOption, EventData, EventLog,
    IplStringKind, LogFormat, PcrStart, ReplayedPcrs, SecureBootSummary, SeparatorValue,
    TcgEventType, TcgPcrEvent2, UefiVariableData, Utf16Str, WbclTaggedEvent, EFI_GLOBAL_VARIABLE,
    MAX_LOG_BYTES,
};
use serde_json::{json, Map, Value};
use sha2::Digest as _;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The binary log (e.g. /sys/kernel/security/tpm0/binary_bios_measurements).
    log: PathBuf,
    /// Print a JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Untrusted text made safe for a terminal (see [`baretpm::text::is_unsafe_char`]).
pub fn escape(s: &str) -> String {
    baretpm::text::escape(s)
}

fn lossy(b: &[u8]) -> String {
    escape(&String::from_utf8_lossy(b))
}

fn utf16(s: Utf16Str<'_>) -> String {
    escape(&s.to_string())
}

pub fn run(a: &Args) -> Result<(), CliError> {
    let bytes =
        baretpm::files::read_bounded(&a.log, MAX_LOG_BYTES as u64, "event log").map_err(failed)?;
    let malformed = |e: &dyn std::fmt::Display| failed(format!("eventlog: malformed log: {e}"));
    let log = EventLog::parse(&bytes).map_err(|e| malformed(&e))?;
    let mut pcrs = ReplayedPcrs::default();
    replay(&log, &mut pcrs).map_err(|e| malformed(&e))?;
    check_structure(&log).map_err(|e| malformed(&e))?;
    let sb = SecureBootSummary::from_log(&log);
    let out = if a.json {
        let mut s = serde_json::to_string_pretty(&document(&log, &pcrs, &sb))
            .map_err(|e| failed(format!("eventlog: {e}")))?;
        s.push('\n');
        s
    } else {
        text(&log, &pcrs, &sb)
    };
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error of the log.
    let _ = stdout.write_all(out.as_bytes());
    Ok(())
}

fn format_name(f: LogFormat) -> &'static str {
    match f {
        LogFormat::Sha1 => "sha1",
        LogFormat::CryptoAgile => "crypto-agile",
    }
}

fn events<'a>(log: &EventLog<'a>) -> impl Iterator<Item = TcgPcrEvent2<'a>> + 'a {
    // Replay already walked the whole log without error.
    log.events().map_while(Result::ok)
}

/// EFI_SIGNATURE_DATA: owner GUID, then the signature (an X.509 certificate or a hash).
fn authority_json(event: usize, v: &UefiVariableData<'_>) -> Value {
    let data = v.variable_data;
    let (owner, sig) = if data.len() >= 16 {
        let mut g = [0u8; 16];
        g.copy_from_slice(&data[..16]);
        (Some(baretpm::eventlog::EfiGuid(g).to_string()), &data[16..])
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

fn secure_boot_json(
    sb: &Result<SecureBootSummary<'_>, baretpm::eventlog::StructureError>,
) -> Value {
    let s = match sb {
        Ok(s) => s,
        Err(e) => return json!({ "error": escape(&e.to_string()) }),
    };
    let var = |v: &Option<baretpm::eventlog::MeasuredVariable<'_>>| match v {
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
fn boot_variable(v: &UefiVariableData<'_>) -> Option<Value> {
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

fn ipl_kind(k: IplStringKind) -> &'static str {
    match k {
        IplStringKind::GrubCmd => "grub_cmd",
        IplStringKind::KernelCmdline => "kernel_cmdline",
        IplStringKind::GrubKernelCmdline => "grub_kernel_cmdline",
        IplStringKind::Text => "text",
        IplStringKind::Utf16 => "utf16",
    }
}

fn separator_name(v: SeparatorValue) -> &'static str {
    match v {
        SeparatorValue::Normal => "00000000",
        SeparatorValue::Error => "ffffffff (error)",
        SeparatorValue::Wbcl => "WBCL",
    }
}

fn decoded_json(d: &EventData<'_>) -> Value {
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

fn pcr0_start_json(s: PcrStart) -> Value {
    match s {
        PcrStart::Zero => json!({"kind": "zero"}),
        PcrStart::Locality { locality, event } => {
            json!({"kind": "startup_locality", "locality": locality, "event": event})
        }
        PcrStart::Hcrtm { event } => json!({"kind": "h-crtm", "event": event}),
    }
}

fn document(
    log: &EventLog<'_>,
    pcrs: &ReplayedPcrs,
    sb: &Result<SecureBootSummary<'_>, baretpm::eventlog::StructureError>,
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
                    baretpm::eventlog::DigestCheck::VerifiedQuirk(q) => {
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

fn describe(d: &EventData<'_>) -> String {
    match d {
        EventData::SpecId => "Spec ID event".into(),
        EventData::StartupLocality(l) => format!("StartupLocality {l}"),
        EventData::NoAction([]) => "no action".into(),
        EventData::NoAction(sig) => format!("no action: {}", lossy(sig)),
        EventData::Separator(v) => format!("separator {}", separator_name(*v)),
        EventData::Text(t) => format!("\"{}\"", lossy(t)),
        EventData::ScrtmVersion(v) => format!("S-CRTM version \"{}\"", utf16(*v)),
        EventData::Variable(v) => {
            let boot = match boot_variable(v) {
                Some(b) if b.get("boot_order").is_some() => format!(" {}", b["boot_order"]),
                Some(b) if b.get("description").is_some() => format!(
                    " \"{}\" {}",
                    b["description"].as_str().unwrap_or(""),
                    b["device_path"].as_str().unwrap_or("")
                ),
                _ => String::new(),
            };
            let trailing = if v.trailing.is_empty() {
                String::new()
            } else {
                format!(", {} trailing", v.trailing.len())
            };
            format!(
                "{}:{} ({} bytes{trailing}){boot}",
                v.variable_name
                    .name()
                    .unwrap_or(&v.variable_name.to_string()),
                utf16(v.unicode_name),
                v.variable_data.len(),
            )
        }
        EventData::ImageLoad(i) => format!(
            "image {} bytes: {}{}",
            i.image_length_in_memory,
            escape(&i.device_path.to_string()),
            if i.trailing.is_empty() {
                String::new()
            } else {
                format!(" ({} trailing bytes)", i.trailing.len())
            }
        ),
        EventData::Gpt(g) => {
            let mut s = format!("GPT disk {}", g.disk_guid);
            for p in g.entries() {
                let _ = write!(
                    s,
                    "; {} [{}..{}] \"{}\"",
                    p.unique_partition_guid,
                    p.starting_lba,
                    p.ending_lba,
                    utf16(p.partition_name)
                );
            }
            s
        }
        EventData::Ipl(s) => match s.kind {
            IplStringKind::Utf16 => format!("utf16 \"{}\"", utf16(Utf16Str(s.text))),
            k => format!("{} \"{}\"", ipl_kind(k), lossy(s.text)),
        },
        EventData::FirmwareBlob(b) => format!(
            "{}base {:#x} length {:#x}",
            b.description
                .map(|d| format!("\"{}\" ", lossy(d)))
                .unwrap_or_default(),
            b.blob_base,
            b.blob_length
        ),
        EventData::Wbcl(w) => {
            let names: Vec<String> = w
                .items()
                .map(|(t, _)| match WbclTaggedEvent::type_name(t) {
                    Some(n) => n.to_string(),
                    None => format!("{t:#010x}"),
                })
                .collect();
            format!("WBCL [{}]", names.join(", "))
        }
        EventData::Raw(d) => format!("{} bytes", d.len()),
        EventData::Malformed(e) => format!("MALFORMED {e}"),
    }
}

fn text(
    log: &EventLog<'_>,
    pcrs: &ReplayedPcrs,
    sb: &Result<SecureBootSummary<'_>, baretpm::eventlog::StructureError>,
) -> String {
    let mut o = String::new();
    let banks: Vec<&str> = log.algorithms().map(|a| a.alg.name()).collect();
    let _ = writeln!(
        o,
        "log: {} format, {} events, banks {}",
        format_name(log.format()),
        pcrs.events,
        banks.join(" ")
    );
    for e in events(log) {
        let checks: Vec<String> = e
            .digests
            .iter()
            .map(|(alg, _)| match check_digest(&e, alg) {
                _ if e.event_type == TcgEventType::EV_NO_ACTION => format!("{alg}:not-extended"),
                baretpm::eventlog::DigestCheck::VerifiedQuirk(q) => {
                    format!("{alg}:verified({})", q.name())
                }
                c => format!("{alg}:{}", c.name()),
            })
            .collect();
        let _ = writeln!(
            o,
            "event {:>3}  PCR {:<2}  {}  {}  [{}]",
            e.index,
            if e.pcr_index == u32::MAX {
                "-1".to_string()
            } else {
                e.pcr_index.to_string()
            },
            e.event_type,
            describe(&classify(&e)),
            checks.join(" ")
        );
        for (alg, d) in e.digests.iter() {
            let _ = writeln!(o, "           {:<7} {}", alg.name(), hex::encode(d));
        }
    }
    let _ = writeln!(
        o,
        "PCR 0 start: {}",
        match pcrs.pcr0_start {
            PcrStart::Zero => "zero".to_string(),
            PcrStart::Locality { locality, event } => {
                format!("locality {locality} (StartupLocality, event {event})")
            }
            PcrStart::Hcrtm { event } => format!("H-CRTM 00..04 (event {event})"),
        }
    );
    let _ = writeln!(o, "replayed PCRs:");
    for b in pcrs.banks() {
        if !b.computable {
            let _ = writeln!(
                o,
                "  {}: not computed ({} unavailable in this build)",
                b.alg, b.alg
            );
            continue;
        }
        let _ = writeln!(o, "  {}:", b.alg);
        for p in b.extended() {
            if let Some(v) = b.value(p) {
                let _ = writeln!(o, "    {p:>2}: {}", hex::encode(v));
            }
        }
    }
    match sb {
        Err(e) => {
            let _ = writeln!(
                o,
                "secure boot: cannot summarise: {}",
                escape(&e.to_string())
            );
        }
        Ok(s) => {
            let state = match s.secure_boot {
                None => "SecureBoot variable not measured",
                Some(false) => "disabled",
                Some(true) if s.enabled() => "enabled",
                Some(true) => "SecureBoot=1 but PK, KEK or db missing or empty",
            };
            let _ = writeln!(o, "secure boot: {state}");
            for (name, v) in [("PK", s.pk), ("KEK", s.kek), ("db", s.db), ("dbx", s.dbx)] {
                match v {
                    Some(v) => {
                        let _ = writeln!(
                            o,
                            "  {name:<3} measured (event {}, {} bytes)",
                            v.event,
                            v.data.len()
                        );
                    }
                    None => {
                        let _ = writeln!(o, "  {name:<3} not measured");
                    }
                }
            }
            if s.dma_protection_disabled {
                let _ = writeln!(o, "  DMA protection disabled");
            }
            if s.debug_mode {
                let _ = writeln!(o, "  UEFI debug mode");
            }
            for a in &s.applications {
                let path = a
                    .image
                    .map(|i| escape(&i.device_path.to_string()))
                    .unwrap_or_else(|| "(malformed image event)".into());
                let _ = writeln!(o, "  boot application (event {}): {path}", a.event);
                if a.authorities.is_empty() {
                    let _ = writeln!(o, "    no new authority logged before it");
                }
                for (e, v) in &a.authorities {
                    let j = authority_json(*e, v);
                    let _ = writeln!(
                        o,
                        "    verified by {} entry (event {e}), signature sha256 {}",
                        utf16(v.unicode_name),
                        j["signature_sha256"].as_str().unwrap_or("")
                    );
                }
            }
            for (e, v) in &s.later_authorities {
                let _ = writeln!(
                    o,
                    "  later authority: {} (event {e})",
                    utf16(v.unicode_name)
                );
            }
        }
    }
    o
}
