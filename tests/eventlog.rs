//! The event-log layer against every real log in vectors/eventlogs/: each replays to the PCR
//! values of its machine (`*.pcrs.json`), bank by bank; the deliberately broken ones are
//! refused with the reason they were collected for.

#![cfg(feature = "std")]

mod common;

use baretpm::eventlog::{
    check_structure, classify, replay, CompareError, EventData, EventLog, ExpectedPcr, LogFormat,
    ParseErrorKind, PcrStart, ReplayedPcrs, SecureBootSummary,
};
use baretpm::types::HashAlg;
use common::eventlogs::{all_logs, dir};

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `{bank: {pcr: hex}}` of a `.pcrs.json` (bank names in either case).
fn expected(rel: &str) -> Vec<(HashAlg, u32, Vec<u8>)> {
    let p = dir().join(format!("{rel}.pcrs.json"));
    let Ok(text) = std::fs::read_to_string(&p) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (bank, pcrs) in v.as_object().unwrap() {
        let alg = HashAlg::from_name(bank).unwrap_or_else(|| panic!("{rel}: bank {bank}"));
        for (i, hex) in pcrs.as_object().unwrap() {
            out.push((
                alg,
                i.parse().unwrap(),
                hex::decode(hex.as_str().unwrap()).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

fn replayed(bytes: &[u8]) -> ReplayedPcrs {
    let log = EventLog::parse(bytes).unwrap();
    let mut out = ReplayedPcrs::default();
    replay(&log, &mut out).unwrap();
    out
}

/// Logs collected because they must be refused or must not replay; everything else must
/// parse, pass the structure checks and replay to its PCR values.
const NEGATIVE: &[&str] = &[
    "keylime/binary_bios_measurements-bogus",
    "keylime/binary_bios_measurements-empty",
    "tpm2-tools/specid-vendordata.bin",
];

#[test]
fn every_log_replays_to_its_pcr_values_bank_by_bank() {
    let mut checked = 0;
    let mut logs_with_values = 0;
    for rel in all_logs() {
        if NEGATIVE.contains(&rel.as_str()) {
            continue;
        }
        let bytes = read(&rel);
        let log = EventLog::parse(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        log.validate().unwrap_or_else(|e| panic!("{rel}: {e}"));
        check_structure(&log).unwrap_or_else(|e| panic!("{rel}: {e}"));
        SecureBootSummary::from_log(&log).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let mut pcrs = ReplayedPcrs::default();
        replay(&log, &mut pcrs).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let want = expected(&rel);
        if !want.is_empty() {
            logs_with_values += 1;
        }
        for (bank, pcr, value) in &want {
            let e = ExpectedPcr {
                bank: *bank,
                pcr: *pcr,
                value,
            };
            let r = pcrs.check(&e);
            if rel == "go-attestation/ebs_event_missing_eventlog" {
                // Collected because its copy lacks PCR 5's ExitBootServices events, and it is
                // a SHA-1 log against SHA-1 and SHA-256 values.
                match bank {
                    HashAlg::Sha1 => assert!(
                        matches!(r, Err(CompareError::Mismatch { pcr: 5, .. })),
                        "{rel}: {r:?}"
                    ),
                    _ => assert!(
                        matches!(r, Err(CompareError::BankNotInLog { pcr: 5, .. })),
                        "{rel}: {r:?}"
                    ),
                }
                continue;
            }
            r.unwrap_or_else(|err| panic!("{rel}: {err}"));
            checked += 1;
        }
    }
    assert!(logs_with_values >= 20, "{logs_with_values}");
    assert!(checked >= 300, "only {checked} PCR values checked");
}

#[test]
fn negative_logs_are_refused_with_their_reason() {
    let e = EventLog::parse(&read("keylime/binary_bios_measurements-empty")).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Empty);

    let bogus = read("keylime/binary_bios_measurements-bogus");
    let err = EventLog::parse(&bogus).unwrap_err();
    assert!(
        matches!(err.kind, ParseErrorKind::Truncated { .. }) && err.field == "event",
        "{err:?}"
    );

    let e = EventLog::parse(&read("tpm2-tools/specid-vendordata.bin")).unwrap_err();
    assert!(
        matches!(
            e.kind,
            ParseErrorKind::VendorInfoSize {
                declared: 4,
                left: 0
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.field, "TCG_EfiSpecIDEvent.vendorInfoSize");
}

#[test]
fn startup_locality_and_hcrtm_set_pcr0_start() {
    let alex = replayed(&read("go-tpm-tools/glinux-alex.bin"));
    assert!(matches!(
        alex.pcr0_start,
        PcrStart::Locality { locality: 3, .. }
    ));
    let hcrtm = replayed(&read("tpm2-tss/binary_measurements_hcrtm.bin"));
    assert!(matches!(hcrtm.pcr0_start, PcrStart::Hcrtm { .. }));
    let plain = replayed(&read("go-tpm-tools/cos-85-amd-sev.bin"));
    assert_eq!(plain.pcr0_start, PcrStart::Zero);
}

#[test]
fn sha1_and_agile_formats_are_told_apart() {
    for (rel, format) in [
        ("go-tpm-tools/debian-10.bin", LogFormat::Sha1),
        ("go-attestation/short_no_action_eventlog", LogFormat::Sha1),
        ("go-attestation/option_rom_eventlog", LogFormat::Sha1),
        ("go-tpm-tools/cos-101-amd-sev.bin", LogFormat::CryptoAgile),
        (
            "tpm2-tss/binary_measurements_hcrtm.bin",
            LogFormat::CryptoAgile,
        ),
    ] {
        let bytes = read(rel);
        assert_eq!(EventLog::parse(&bytes).unwrap().format(), format, "{rel}");
    }
    let bytes = read("go-attestation/short_no_action_eventlog");
    assert_eq!(EventLog::parse(&bytes).unwrap().validate().unwrap(), 1);
}

#[test]
fn a_quoted_bank_is_judged_on_its_own() {
    // glinux-alex: SHA-1 and SHA-256 values; break only the SHA-256 one of PCR 4.
    let bytes = read("go-tpm-tools/glinux-alex.bin");
    let pcrs = replayed(&bytes);
    let want = expected("go-tpm-tools/glinux-alex.bin");
    let mut bad: Vec<(HashAlg, u32, Vec<u8>)> = want.clone();
    for (b, p, v) in bad.iter_mut() {
        if *b == HashAlg::Sha256 && *p == 4 {
            v[0] ^= 1;
        }
    }
    let as_expected = |v: &[(HashAlg, u32, Vec<u8>)]| -> Vec<_> {
        v.iter()
            .map(|(bank, pcr, value)| (*bank, *pcr, value.clone()))
            .collect()
    };
    let bad = as_expected(&bad);
    let list: Vec<ExpectedPcr<'_>> = bad
        .iter()
        .map(|(bank, pcr, value)| ExpectedPcr {
            bank: *bank,
            pcr: *pcr,
            value,
        })
        .collect();
    let err = pcrs.compare(&list).unwrap_err();
    assert!(
        matches!(
            err,
            CompareError::Mismatch {
                bank: HashAlg::Sha256,
                pcr: 4,
                ..
            }
        ),
        "{err:?}"
    );
    // A PCR the log never touches must hold its initial value.
    let z = [1u8; 32];
    let e = ExpectedPcr {
        bank: HashAlg::Sha256,
        pcr: 10,
        value: &z,
    };
    assert_eq!(
        pcrs.check(&e),
        Err(CompareError::NotExtendedNotInitial {
            bank: HashAlg::Sha256,
            pcr: 10
        })
    );
    // A bank the log does not carry is not explained by it.
    let z = [0u8; 48];
    let e = ExpectedPcr {
        bank: HashAlg::Sha384,
        pcr: 0,
        value: &z,
    };
    assert!(matches!(
        pcrs.check(&e),
        Err(CompareError::BankNotInLog { .. })
    ));
}

#[test]
fn secure_boot_summaries_of_known_machines() {
    // Debian 10 on GCE with Secure Boot on; Ubuntu 21.04 GCE with it off.
    let bytes = read("go-tpm-tools/debian-10.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let s = SecureBootSummary::from_log(&log).unwrap();
    assert_eq!(s.secure_boot, Some(true));
    assert!(s.enabled());
    assert!(s.db.is_some() && s.dbx.is_some());
    assert!(!s.applications.is_empty());
    assert!(
        !s.applications[0].authorities.is_empty(),
        "the first boot application is verified by a db authority"
    );

    let bytes = read("go-tpm-tools/ubuntu-2104-no-secure-boot.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let s = SecureBootSummary::from_log(&log).unwrap();
    assert_eq!(s.secure_boot, Some(false));
    assert!(!s.enabled());
}

#[test]
fn decoders_read_the_events_of_real_logs() {
    let bytes = read("go-tpm-tools/ubuntu-2104-no-dbx.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let mut seen_path = false;
    let mut seen_cmdline = false;
    let mut seen_gpt = false;
    for e in log.events() {
        let e = e.unwrap();
        match classify(&e) {
            EventData::ImageLoad(img) => {
                let t = img.device_path.to_string();
                seen_path |= t.contains("\\EFI\\");
            }
            EventData::Ipl(s) => {
                seen_cmdline |= s.kind == baretpm::eventlog::IplStringKind::KernelCmdline;
            }
            EventData::Gpt(g) => {
                seen_gpt = g.entries().count() > 0;
            }
            EventData::Malformed(m) => panic!("event {}: {m}", e.index),
            _ => {}
        }
    }
    assert!(seen_path && seen_cmdline && seen_gpt);
}

/// One event as tpm2-tools 5.8's expected output (`event-pretty/*.yaml`) shows it.
#[derive(Default, Debug)]
struct YamlEvent {
    num: usize,
    pcr: u32,
    ty: String,
    digests: Vec<(String, String)>,
    size: usize,
    variable_name: Option<String>,
    unicode_name: Option<String>,
    string: Option<String>,
}

/// A small reader for the fields above (the YAML of these fixtures is line-oriented).
fn yaml_events(text: &str) -> Vec<YamlEvent> {
    let mut out: Vec<YamlEvent> = Vec::new();
    let mut alg = String::new();
    let mut block = false;
    let mut fresh = false;
    for line in text.lines() {
        let t = line.trim_start();
        if std::mem::take(&mut block) {
            if let Some(e) = out.last_mut() {
                e.string = Some(t.to_string());
            }
            continue;
        }
        if t == "Event: |-" {
            block = true;
            continue;
        }
        let field = |name: &str| t.strip_prefix(name).map(|v| v.trim().to_string());
        if let Some(n) = field("- EventNum:") {
            out.push(YamlEvent {
                num: n.parse().unwrap(),
                ..Default::default()
            });
            // TCG_PCR_EVENTs (the header, SHA-1 logs) show a bare SHA-1 Digest.
            alg = "sha1".into();
            fresh = true;
            continue;
        }
        // SHA-1 logs come without EventNum: each event starts at its PCRIndex.
        if t.starts_with("PCRIndex:") && !std::mem::take(&mut fresh) {
            out.push(YamlEvent {
                num: out.len(),
                ..Default::default()
            });
            alg = "sha1".into();
        }
        let Some(e) = out.last_mut() else { continue };
        if t == "pcrs:" || line.starts_with("pcrs:") {
            break;
        }
        if let Some(v) = field("PCRIndex:") {
            e.pcr = v.parse::<i64>().unwrap() as u32;
        } else if let Some(v) = field("EventType:") {
            e.ty = v;
        } else if let Some(v) = field("- AlgorithmId:") {
            alg = v;
        } else if let Some(v) = field("Digest:") {
            e.digests
                .push((alg.clone(), v.trim_matches('"').to_string()));
        } else if let Some(v) = field("EventSize:") {
            e.size = v.parse().unwrap();
        } else if let Some(v) = field("VariableName:") {
            e.variable_name = Some(v);
        } else if let Some(v) = field("UnicodeName:") {
            e.unicode_name = Some(v);
        } else if let Some(v) = field("String:") {
            e.string = Some(v);
        }
    }
    out
}

#[test]
fn fields_match_tpm2_tools_5_8_expected_output() {
    let mut compared = 0;
    for rel in all_logs() {
        let Some(name) = rel.strip_prefix("tpm2-tools/") else {
            continue;
        };
        if NEGATIVE.contains(&rel.as_str()) {
            continue;
        }
        let yaml = std::fs::read_to_string(dir().join(format!("tpm2-tools/{name}.yaml"))).unwrap();
        let want = yaml_events(&yaml);
        let bytes = read(&rel);
        let log = EventLog::parse(&bytes).unwrap();
        let got: Vec<_> = log.events().map(Result::unwrap).collect();
        assert_eq!(got.len(), want.len(), "{rel}");
        for (g, w) in got.iter().zip(&want) {
            let at = format!("{rel} event {}", w.num);
            assert_eq!(g.index, w.num, "{at}");
            assert_eq!(g.pcr_index, w.pcr, "{at}");
            assert_eq!(g.event_type.to_string(), w.ty, "{at}");
            assert_eq!(g.event.len(), w.size, "{at}");
            let digests: Vec<(String, String)> = g
                .digests
                .iter()
                .map(|(a, d)| (a.name().to_string(), hex::encode(d)))
                .collect();
            assert_eq!(digests, w.digests, "{at}");
            match classify(g) {
                EventData::Variable(v) => {
                    assert_eq!(Some(v.variable_name.to_string()), w.variable_name, "{at}");
                    assert_eq!(Some(v.unicode_name.to_string()), w.unicode_name, "{at}");
                }
                EventData::Ipl(s) if s.kind != baretpm::eventlog::IplStringKind::Utf16 => {
                    // tpm2-tools quotes the data and shows the NULs as \0.
                    let shown = w.string.as_deref().unwrap_or_default();
                    let inner = shown.trim_matches('"').trim_end_matches("\\0");
                    if !inner.contains('\\') {
                        assert_eq!(std::str::from_utf8(s.text).unwrap(), inner, "{at}");
                    }
                }
                EventData::Text(t) if g.event_type.to_string() == "EV_EFI_ACTION" => {
                    let shown = w.string.as_deref().unwrap_or_default();
                    assert_eq!(
                        std::str::from_utf8(t).unwrap(),
                        shown.trim_matches('"'),
                        "{at}"
                    );
                }
                _ => {}
            }
            compared += 1;
        }
    }
    assert!(compared > 400, "{compared}");
}

#[test]
fn the_cli_json_pcrs_are_the_replay_and_the_machines_values() {
    for rel in all_logs() {
        if NEGATIVE.contains(&rel.as_str()) {
            continue;
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
            .args(["eventlog", "--json"])
            .arg(dir().join(&rel))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{rel}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let pcrs = replayed(&read(&rel));
        let mut n = 0;
        for b in pcrs.banks().filter(|b| b.computable) {
            let shown = v["pcrs"][b.alg.name()].as_object().unwrap();
            assert_eq!(shown.len(), b.extended().count(), "{rel}");
            for p in b.extended() {
                assert_eq!(
                    shown[&p.to_string()].as_str().unwrap(),
                    hex::encode(b.value(p).unwrap()),
                    "{rel}"
                );
                n += 1;
            }
        }
        for (bank, pcr, value) in expected(&rel) {
            if rel.contains("ebs_event_missing") {
                continue;
            }
            if let Some(s) = v["pcrs"][bank.name()][pcr.to_string()].as_str() {
                assert_eq!(s, hex::encode(&value), "{rel} {bank} {pcr}");
            }
        }
        assert!(n > 0 || rel.contains("short_no_action"), "{rel}");
        assert_eq!(v["events"].as_array().unwrap().len(), pcrs.events, "{rel}");
    }
}

fn event_at<'a>(log: &EventLog<'a>, i: usize) -> baretpm::eventlog::TcgPcrEvent2<'a> {
    log.events().nth(i).unwrap().unwrap()
}

#[test]
fn decoded_text_of_known_events() {
    use baretpm::eventlog::{
        check_digest, DigestCheck, EfiLoadOption, IplStringKind, Quirk, SeparatorValue, Utf16Str,
    };
    let bytes = read("go-tpm-tools/debian-10.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let EventData::ScrtmVersion(v) = classify(&event_at(&log, 0)) else {
        panic!()
    };
    assert_eq!(v.to_string(), "GCE Virtual Firmware v1");
    let EventData::ImageLoad(img) = classify(&event_at(&log, 21)) else {
        panic!()
    };
    assert_eq!(
        img.device_path.to_string(),
        "PciRoot(0x0)/Pci(0x3,0x0)/Scsi(0x1,0x0)/HD(15,GPT,70f5fb2b-5c34-6c42-90b1-f8f78823537d,\
         0x2000,0x3e000)/\\EFI\\BOOT\\BOOTX64.EFI"
    );
    let e = event_at(&log, 10);
    let EventData::Variable(v) = classify(&e) else {
        panic!()
    };
    let opt = EfiLoadOption::parse(v.variable_data).unwrap();
    assert_eq!(opt.description.to_string(), "UEFI Google PersistentDisk ");
    assert_eq!(
        opt.file_path_list.to_string(),
        "PciRoot(0x0)/Pci(0x3,0x0)/Scsi(0x1,0x0)"
    );
    assert_eq!(
        check_digest(&e, HashAlg::Sha1),
        DigestCheck::VerifiedQuirk(Quirk::VariableBootDataOnly)
    );

    // Old shim's authority events: one byte more than the digest covers (go-attestation #157).
    let bytes = read("go-attestation/sb_cert_eventlog");
    let log = EventLog::parse(&bytes).unwrap();
    let quirks = log
        .events()
        .map(Result::unwrap)
        .filter(|e| {
            check_digest(e, HashAlg::Sha256)
                == DigestCheck::VerifiedQuirk(Quirk::ShimAuthorityExtraByte)
        })
        .count();
    assert!(quirks > 0);

    // grub's PCR 8 strings: digest over the text after the prefix.
    let bytes = read("go-tpm-tools/ubuntu-2104-no-dbx.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let cmdline = log
        .events()
        .map(Result::unwrap)
        .find(
            |e| matches!(classify(e), EventData::Ipl(s) if s.kind == IplStringKind::KernelCmdline),
        )
        .unwrap();
    assert_eq!(
        check_digest(&cmdline, HashAlg::Sha256),
        DigestCheck::VerifiedQuirk(Quirk::GrubIplPrefix)
    );

    // systemd-boot's UTF-16 kernel command line.
    let bytes = read("tpm2-tools/event-sd-boot-fedora37.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let EventData::Ipl(s) = classify(&event_at(&log, 23)) else {
        panic!()
    };
    assert_eq!(s.kind, IplStringKind::Utf16);
    assert_eq!(
        Utf16Str(s.text).to_string(),
        " console=ttyS0 console=tty0 efi=debug "
    );

    // Windows: WBCL separators, SIPA events, a trust point at PCR -1.
    let bytes = read("go-attestation/windows_gcp_shielded_vm.eventlog.bin");
    let log = EventLog::parse(&bytes).unwrap();
    let events: Vec<_> = log.events().map(Result::unwrap).collect();
    assert!(events
        .iter()
        .any(|e| classify(e) == EventData::Separator(SeparatorValue::Wbcl)));
    assert!(events
        .iter()
        .any(|e| matches!(classify(e), EventData::Wbcl(w) if w.items().count() > 0)));
    // option_rom_eventlog: the Windows AIK trust point, an EV_NO_ACTION at PCR 0xFFFFFFFF.
    let bytes = read("go-attestation/option_rom_eventlog");
    let log = EventLog::parse(&bytes).unwrap();
    let minus_one: Vec<_> = log
        .events()
        .map(Result::unwrap)
        .filter(|e| e.pcr_index == u32::MAX)
        .collect();
    assert!(!minus_one.is_empty());
    assert!(minus_one
        .iter()
        .all(|e| e.event_type == baretpm::eventlog::TcgEventType::EV_NO_ACTION));
}
