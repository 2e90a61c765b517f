//! The proof's firmware-log checks against real machines (vectors/eventlogs/): each log with
//! its machine's PCR values, as a quote would carry them, passes `boot-log`'s matcher; a
//! changed value fails naming the PCR; where shim measured MokList into PCR14, that PCR14
//! value, taken as a run's start, is explained by the log.
#![cfg(feature = "std")]

mod common;

use common::eventlogs::dir;

use baretpm::proof::boot::{facts, match_quoted};
use baretpm::proof::file::{BankValues, PcrTable, PcrValue};
use baretpm::proof::start::{explain, Origin, RunStart};
use baretpm::types::HashAlg;

/// Logs with a `.pcrs.json`, and their values as a quote's PCR table (banks in name order,
/// indices ascending).
fn machines() -> Vec<(String, Vec<u8>, PcrTable)> {
    let mut out = Vec::new();
    for sub in std::fs::read_dir(dir()).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let Some(log_name) = name.strip_suffix(".pcrs.json") else {
                continue;
            };
            let log = sub.join(log_name);
            let Ok(bytes) = std::fs::read(&log) else {
                continue;
            };
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let mut banks = Vec::new();
            for (bank, pcrs) in v.as_object().unwrap() {
                let bank = HashAlg::from_name(bank).unwrap();
                let mut values: Vec<PcrValue> = pcrs
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(i, h)| PcrValue {
                        index: i.parse().unwrap(),
                        value: hex::decode(h.as_str().unwrap()).unwrap(),
                    })
                    .collect();
                values.sort_by_key(|v| v.index);
                banks.push(BankValues { bank, values });
            }
            let rel = log
                .strip_prefix(dir())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, bytes, PcrTable { banks }));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Broken on purpose (see tests/eventlog.rs): refused, with the reason.
const REFUSED: &[(&str, &str)] = &[
    (
        "go-attestation/ebs_event_missing_eventlog",
        "does not explain sha1 PCR 5",
    ),
    ("tpm2-tools/specid-vendordata.bin", "malformed firmware log"),
];

/// SHA-1 logs quoted in SHA-1 alone: refused unless the verifier allows SHA-1 banks.
const SHA1_ONLY: &[&str] = &[
    "go-attestation/option_rom_eventlog",
    "go-tpm-tools/debian-10.bin",
    "tpm2-tools/event-uefi-sha1-log.bin",
    "tpm2-tss/binary_measurements_hcrtm.bin",
];

#[test]
fn real_logs_explain_their_machines_quoted_pcrs() {
    let mut passed = 0;
    let mut pcr14_explained = 0;
    for (rel, bytes, table) in machines() {
        let r = match_quoted(&bytes, &table, false);
        if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == rel) {
            let e = r.unwrap_err();
            assert!(e.contains(why), "{rel}: {e}");
            continue;
        }
        let m = if SHA1_ONLY.contains(&rel.as_str()) {
            let e = r.unwrap_err();
            assert!(e.contains("only against the SHA-1 bank"), "{rel}: {e}");
            match_quoted(&bytes, &table, true).unwrap_or_else(|e| panic!("{rel}: {e}"))
        } else {
            r.unwrap_or_else(|e| panic!("{rel}: {e}"))
        };
        passed += 1;
        // Every listed PCR 0-7 is checked (some value files list only a few).
        for p in 0..8 {
            if table.banks.iter().any(|b| b.get(p).is_some()) {
                assert!(m.checked.contains(&p), "{rel}: PCR {p} not checked");
            }
        }
        facts(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));

        // One changed value in any checked PCR fails, naming it.
        for &p in &m.checked {
            let mut t = table.clone();
            let b = t
                .banks
                .iter_mut()
                .find(|b| b.values.iter().any(|v| v.index == p))
                .unwrap();
            let bank = b.bank;
            let v = b.values.iter_mut().find(|v| v.index == p).unwrap();
            v.value[0] ^= 0x80;
            let e = match_quoted(&bytes, &t, true).unwrap_err();
            assert!(e.contains(&format!("{bank} PCR {p}:")), "{rel}: {e}");
        }

        // shim's PCR14 events: that PCR14, as a run's start, is explained by the log.
        if m.run_pcrs_in_log.contains(&14) {
            let start = RunStart {
                pcr: 14,
                values: table
                    .banks
                    .iter()
                    .filter_map(|b| b.get(14).map(|v| (b.bank, v.to_vec())))
                    .collect(),
                earlier: vec![],
            };
            if start.values.is_empty() {
                continue;
            }
            assert_eq!(explain(&start, Some(&bytes)), Origin::BootLog, "{rel}");
            // Without the log the same start is not explained.
            assert_eq!(explain(&start, None), Origin::NotExplained, "{rel}");
            pcr14_explained += 1;
        }
    }
    assert!(passed >= 18, "{passed}");
    assert!(pcr14_explained >= 3, "{pcr14_explained}");
}

#[test]
fn a_machine_without_secure_boot_says_so() {
    let (_, bytes, _) = machines()
        .into_iter()
        .find(|(r, _, _)| r == "go-tpm-tools/ubuntu-2104-no-secure-boot.bin")
        .unwrap();
    let f = facts(&bytes).unwrap();
    assert!(!f.secure_boot_enabled);
    assert!(
        f.secure_boot_text().starts_with("Secure Boot off"),
        "{}",
        f.secure_boot_text()
    );
    let (_, bytes, _) = machines()
        .into_iter()
        .find(|(r, _, _)| r == "tpm2-tools/event-gce-ubuntu-2104-log.bin")
        .unwrap();
    let f = facts(&bytes).unwrap();
    assert!(!f.applications.is_empty(), "{f:?}");
    assert!(!f.kernel_cmdlines.is_empty(), "{f:?}");
}
