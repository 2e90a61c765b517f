//! Replay of a TCG event log and the comparison with quoted PCR values
//! (`eventlog::replay`, `ReplayedPcrs::check` / `compare`).
//!
//! Input: byte 0 picks the PCR (`b % 24`) and byte 1 the bank whose "quoted" value is
//! tampered with; the rest is the log.
//!
//! Invariants: replay is deterministic; the replayed values compare equal to themselves in
//! every bank; a value changed in one bit is refused for exactly that bank and PCR, naming
//! the last event extended into it (or that the log never extends it), while every other
//! bank still passes on its own; a PCR the log never extends holds its initial value.
#![no_main]

use baretpm::eventlog::{replay, CompareError, EventLog, ExpectedPcr, ReplayedPcrs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [p, b, log @ ..] = data else { return };
    let Ok(log) = EventLog::parse(log) else { return };
    let mut out = ReplayedPcrs::default();
    let first = replay(&log, &mut out);
    let mut again = ReplayedPcrs::default();
    assert_eq!(replay(&log, &mut again), first);
    if first.is_err() {
        let _ = first.map_err(|e| e.to_string());
        return;
    }
    let pcr = u32::from(*p % 24);
    let banks: Vec<_> = out.banks().filter(|b| b.computable).collect();
    if banks.is_empty() {
        return;
    }
    let mut expected: Vec<(usize, u32, Vec<u8>)> = Vec::new();
    for (i, bank) in banks.iter().enumerate() {
        for q in 0..24u32 {
            let v = bank.value(q as usize).unwrap().to_vec();
            assert_eq!(v.len(), bank.alg.digest_size());
            if bank.last_event(q as usize).is_none() {
                let init = if (17..=22).contains(&q) { 0xFF } else { 0 };
                let pcr0_start = q == 0 && v.iter().take(v.len() - 1).all(|&x| x == 0);
                assert!(v.iter().all(|&x| x == init) || pcr0_start, "PCR {q} not initial");
            }
            expected.push((i, q, v));
        }
    }
    fn as_expected<'v>(
        banks: &[&baretpm::eventlog::ReplayedBank],
        list: &'v [(usize, u32, Vec<u8>)],
    ) -> Vec<(usize, ExpectedPcr<'v>)> {
        list.iter()
            .map(|(i, q, v)| {
                (
                    *i,
                    ExpectedPcr {
                        bank: banks[*i].alg,
                        pcr: *q,
                        value: v,
                    },
                )
            })
            .collect()
    }
    let all: Vec<ExpectedPcr<'_>> = as_expected(&banks, &expected).into_iter().map(|(_, e)| e).collect();
    assert_eq!(out.compare(&all), Ok(()));

    let target = usize::from(*b) % banks.len();
    let mut tampered = expected.clone();
    for (i, q, v) in tampered.iter_mut() {
        if *i == target && *q == pcr {
            let at = usize::from(*b) % v.len();
            v[at] ^= 1 << (*p % 8);
        }
    }
    for (i, e) in as_expected(&banks, &tampered) {
        let r = out.check(&e);
        if i == target && e.pcr == pcr {
            let bank = banks[i];
            match (r, bank.last_event(pcr as usize)) {
                (Err(CompareError::Mismatch { bank: a, pcr: q, last_event }), Some(l)) => {
                    assert_eq!((a, q, last_event), (bank.alg, pcr, l));
                }
                (Err(CompareError::NotExtendedNotInitial { bank: a, pcr: q }), None) => {
                    assert_eq!((a, q), (bank.alg, pcr));
                }
                (r, l) => panic!("tampered {} PCR {pcr}: {r:?} (last event {l:?})", bank.alg),
            }
        } else {
            assert_eq!(r, Ok(()), "an untouched bank/PCR must pass on its own");
        }
    }
});
