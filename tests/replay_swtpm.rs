//! Record a session with swtpm through `RecordingTransport`, replay it through
//! `ReplayTransport`, and get the same answers.
//!
//! The session runs the operations of the `tpm_replay` fuzz target, by the same codes (see
//! fuzz/fuzz_targets/tpm_replay.rs). With `BARETPM_FUZZ_SEEDS=DIR` set, the test also writes
//! what it recorded as fuzz seeds: every response to `DIR/response_frame/`, and per operation
//! (and for the whole session) a `tpm_replay` input to `DIR/tpm_replay/`. fuzz/seed.sh does that.

mod common;

use baretpm::commands::{templates, *};
use baretpm::tpm::Tpm;
use baretpm::transport::replay::{push_frame, RecordingTransport, ReplayTransport};
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::{Timeouts, Transport};
use baretpm::types::alg::handle::RH_OWNER;
use baretpm::types::capability::cap;
use baretpm::types::{HashAlg, TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection, TpmtHa};
use common::swtpm::SwtpmInstance;
use std::path::Path;

fn selection(spec: &[(HashAlg, &[u32])]) -> TpmlPcrSelection {
    let mut s = TpmlPcrSelection::default();
    for (h, i) in spec {
        s.push(TpmsPcrSelection::new(*h, i).unwrap()).unwrap();
    }
    s
}

/// The order the session runs the fuzz target's operation codes in: the AK first (later
/// operations use its handle), flushed last.
const SESSION: [u8; 16] = [6, 5, 4, 11, 2, 0, 1, 7, 8, 9, 10, 12, 3, 13, 15, 14];

/// Runs operation `op` (the fuzz target's code) and describes its outcome.
fn run<T: Transport>(tpm: &mut Tpm<T>, op: u8, handle: &mut u32) -> String {
    let h = *handle;
    match op {
        0 => format!(
            "{:?}",
            tpm.execute(&GetRandom {
                bytes_requested: 16
            })
        ),
        1 => {
            let mut out = [0u8; 100];
            format!("{:?} {out:?}", tpm.get_random(&mut out))
        }
        2 => {
            let sel = selection(&[
                (HashAlg::Sha256, &[0, 1, 2, 3, 4, 5, 6, 7, 14, 15]),
                (HashAlg::Sha1, &[14]),
            ]);
            let mut seen = Vec::new();
            let r = tpm.pcr_read_each(&sel, |b, i, v| seen.push((b, i, v.to_vec())));
            format!("{r:?} {seen:?}")
        }
        3 => {
            let mut out = [0u8; 2048];
            let r = tpm.nv_read_all(templates::EK_CERT_RSA_NV_INDEX, 512, &mut out);
            format!("{r:?} {:?}", &out[..*r.as_ref().unwrap_or(&0)])
        }
        4 => format!(
            "{:?}",
            tpm.execute(&Quote {
                sign_handle: h,
                sign_auth: &[],
                qualifying_data: b"fresh",
                pcr_select: selection(&[(HashAlg::Sha256, &[14, 15, 16])]),
            })
        ),
        5 => format!("{:?}", tpm.execute(&ReadPublic { object_handle: h })),
        6 => {
            let r = tpm.execute(&CreatePrimary::in_endorsement(templates::ak_ecc()));
            if let Ok(r) = &r {
                *handle = r.object_handle;
            }
            format!("{r:?}")
        }
        7 => format!("{:?}", tpm.pcr_banks()),
        8 => format!("{:?}", tpm.identity()),
        9 => {
            let digest = [0x5a; 32];
            let mut digests = TpmlDigestValues::default();
            digests
                .digests
                .push(TpmtHa {
                    hash: HashAlg::Sha256,
                    digest: &digest,
                })
                .unwrap();
            format!(
                "{:?}",
                tpm.execute(&PcrExtend {
                    pcr: 16,
                    auth: &[],
                    digests,
                })
            )
        }
        10 => format!(
            "{:?}",
            tpm.execute(&PcrEvent {
                pcr: 16,
                auth: &[],
                event_data: b"event",
            })
        ),
        11 => format!(
            "{:?}",
            tpm.execute(&Certify {
                object_handle: h,
                object_auth: &[],
                sign_handle: h,
                sign_auth: &[],
                qualifying_data: b"fresh",
            })
        ),
        12 => format!(
            "{:?}",
            tpm.execute(&NvReadPublic {
                nv_index: templates::EK_CERT_RSA_NV_INDEX,
            })
        ),
        13 => format!(
            "{:?}",
            tpm.execute(&GetCapability {
                capability: cap::ALGS,
                property: 0,
                property_count: 64,
            })
        ),
        14 => format!("{:?}", tpm.execute(&FlushContext { flush_handle: h })),
        _ => {
            let evict = tpm.execute(&EvictControl {
                auth_handle: RH_OWNER,
                auth: &[],
                object_handle: h,
                persistent_handle: 0x8100_0100,
            });
            let evict = format!("{evict:?}");
            format!("{evict} {:?}", tpm.execute(&SelfTest { full_test: false }))
        }
    }
}

/// Writes the recorded responses as fuzz seeds under `dir`.
fn write_seeds(
    dir: &Path,
    exchanges: &[baretpm::transport::replay::Exchange],
    spans: &[(u8, usize, usize)],
) {
    let frames_dir = dir.join("response_frame");
    let replay_dir = dir.join("tpm_replay");
    std::fs::create_dir_all(&frames_dir).unwrap();
    std::fs::create_dir_all(&replay_dir).unwrap();
    for (i, e) in exchanges.iter().enumerate() {
        let cc = u32::from_be_bytes(e.command[6..10].try_into().unwrap());
        let name = format!("swtpm-{i:02}-cc{cc:03x}.bin");
        std::fs::write(frames_dir.join(name), &e.response).unwrap();
    }
    // One input per operation: 1 operation, its code, 4 attempts, its responses.
    for &(op, from, to) in spans {
        let mut input = vec![0, op, 3];
        for e in &exchanges[from..to] {
            assert!(push_frame(&mut input, &e.response));
        }
        std::fs::write(replay_dir.join(format!("swtpm-op{op:02}.bin")), input).unwrap();
    }
    // The whole session.
    let mut input = vec![SESSION.len() as u8 - 1];
    input.extend_from_slice(&SESSION);
    input.push(3);
    for e in exchanges {
        assert!(push_frame(&mut input, &e.response));
    }
    std::fs::write(replay_dir.join("swtpm-session.bin"), input).unwrap();
}

#[test]
fn a_recorded_swtpm_session_replays_to_the_same_answers() {
    let sw = SwtpmInstance::start().expect("swtpm must be installed (.ci/run installs it)");
    let t = SwtpmTransport::tcp("127.0.0.1", sw.port(), Timeouts::default()).unwrap();
    let mut tpm = Tpm::new(RecordingTransport::new(t));
    let mut handle = 0;
    let mut answers = Vec::new();
    let mut spans = Vec::new();
    for op in SESSION {
        let from = tpm.transport().exchanges().len();
        answers.push(run(&mut tpm, op, &mut handle));
        spans.push((op, from, tpm.transport().exchanges().len()));
    }
    for (op, a) in SESSION.iter().zip(&answers) {
        assert!(a.starts_with("Ok"), "op {op} failed against swtpm: {a}");
    }
    let (_, exchanges) = tpm.into_transport().into_parts();
    drop(sw);

    // Replay, checking every command against the recorded one.
    let pairs: Vec<(&[u8], &[u8])> = exchanges
        .iter()
        .map(|e| (e.command.as_slice(), e.response.as_slice()))
        .collect();
    let mut replay = Tpm::new(ReplayTransport::with_commands(&pairs));
    let mut replay_handle = 0;
    for (op, recorded) in SESSION.iter().zip(&answers) {
        assert_eq!(
            &run(&mut replay, *op, &mut replay_handle),
            recorded,
            "op {op}"
        );
    }
    assert!(replay.transport().is_exhausted());
    // One more command: the replay says it has nothing left, by name.
    let e = replay
        .execute(&GetRandom { bytes_requested: 1 })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("replay: no response left ({} answered)", pairs.len())
    );

    // The same responses as frames (no command check) give the same answers too.
    let mut frames = Vec::new();
    for e in &exchanges {
        assert!(push_frame(&mut frames, &e.response));
    }
    let mut framed = Tpm::new(ReplayTransport::from_frames(&frames));
    let mut framed_handle = 0;
    for (op, recorded) in SESSION.iter().zip(&answers) {
        assert_eq!(
            &run(&mut framed, *op, &mut framed_handle),
            recorded,
            "op {op}"
        );
    }

    if let Some(dir) = std::env::var_os("BARETPM_FUZZ_SEEDS") {
        write_seeds(Path::new(&dir), &exchanges, &spans);
    }
}
