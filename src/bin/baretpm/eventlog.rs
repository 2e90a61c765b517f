//! `baretpm eventlog LOG [--json]`: tpm2_eventlog's job, with the strict parser and replay.
//!
//! Text for people (every string from the log escaped), or with `--json` a document with the
//! decoded events, the replayed PCRs of every bank (`"pcrs": {"sha256": {"0": "<hex>"}}`) and
//! the Secure Boot summary. Exit 0 when the log parses and replays, 2 when it is malformed
//! (one line naming the event index and field).

use crate::util::{failed, CliError};
use baretpm::eventlog::report::{
    analyse, authority_json, boot_variable, events, format_name, ipl_kind, json_text, lossy,
    separator_name, utf16,
};
use baretpm::eventlog::{
    check_digest, classify, EventData, EventLog, IplStringKind, PcrStart, ReplayedPcrs,
    SecureBootSummary, TcgEventType, Utf16Str, WbclTaggedEvent, MAX_LOG_BYTES,
};
use baretpm::text::escape;
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

pub fn run(a: &Args) -> Result<(), CliError> {
    let bytes =
        baretpm::files::read_bounded(&a.log, MAX_LOG_BYTES as u64, "event log").map_err(failed)?;
    let out = if a.json {
        json_text(&bytes).map_err(|e| failed(format!("eventlog: {e}")))?
    } else {
        let x = analyse(&bytes).map_err(|e| failed(format!("eventlog: {e}")))?;
        text(&x.log, &x.pcrs, &x.secure_boot)
    };
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error of the log.
    let _ = stdout.write_all(out.as_bytes());
    Ok(())
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
