//! The command/response path: `Tpm<ReplayTransport>` whose responses are fuzz bytes.
//!
//! Input: byte 0 gives the number of operations (`b % 16 + 1`), then one byte per operation
//! (its code, `b % OPS`, see `run`), then one byte for `max_attempts` (`b % 4 + 1`); the rest
//! is the responses, as frames (`u16` big-endian length, then the bytes). Every operation
//! sends at least one command, so once the frames run out every operation must fail with the
//! transport's own error. tests/replay_swtpm.rs records seeds for these codes from swtpm.
#![no_main]

use baretpm::commands::{self, templates, *};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::replay::{ReplayError, ReplayTransport};
use baretpm::transport::Transport;
use baretpm::types::alg::handle::{RH_ENDORSEMENT, RH_OWNER};
use baretpm::types::capability::cap;
use baretpm::types::{
    HashAlg, TpmlDigestValues, TpmlPcrSelection, TpmsAttest, TpmsPcrSelection, TpmtHa,
    TpmtSignature,
};
use baretpm::wire::Unmarshal;
use baretpm_fuzz::{check_wire_error, Cursor};
use libfuzzer_sys::fuzz_target;

/// Number of operation codes.
const OPS: u8 = 16;

/// The replay transport, remembering the length of the longest response it handed out
/// during the current operation (error offsets must fall within the response they point
/// into; after a malformed answer `Tpm` may send a FlushContext, whose answer comes later).
struct Probe<'a> {
    inner: ReplayTransport<'a>,
    last_len: usize,
}

impl Transport for Probe<'_> {
    type Error = ReplayError;
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], ReplayError> {
        let out = self.inner.transact(cmd, rsp)?;
        self.last_len = self.last_len.max(out.len());
        Ok(out)
    }
}

fn selection(spec: &[(HashAlg, &[u32])]) -> TpmlPcrSelection {
    let mut s = TpmlPcrSelection::default();
    for (h, i) in spec {
        s.push(TpmsPcrSelection::new(*h, i).unwrap()).unwrap();
    }
    s
}

/// Invariants of any error: codes are what they claim, offsets lie inside the response.
fn check_error(e: &TpmError<ReplayError>, last_len: usize, max_attempts: u32) {
    match e {
        TpmError::Tpm { rc, .. } => assert!(!rc.is_success(), "error with success code"),
        TpmError::RetriesExhausted { rc, attempts, .. } => {
            assert!(rc.is_retryable());
            assert_eq!(*attempts, max_attempts);
        }
        TpmError::Malformed { error, .. } => check_wire_error(error, last_len),
        TpmError::Build { error, .. } => panic!("a fixed command failed to build: {error}"),
        TpmError::Transport(_) | TpmError::Protocol { .. } => {}
        #[allow(unreachable_patterns)]
        _ => {}
    }
    let _ = e.to_string();
}

/// Runs operation `op`; returns its error, if any, for the caller's checks.
fn run(tpm: &mut Tpm<Probe<'_>>, op: u8) -> Result<(), TpmError<ReplayError>> {
    match op % OPS {
        0 => {
            let got = tpm.execute(&GetRandom {
                bytes_requested: 16,
            })?;
            assert!(got.len() <= 64);
        }
        1 => {
            let mut out = [0u8; 100];
            tpm.get_random(&mut out)?;
        }
        2 => {
            let sel = selection(&[
                (HashAlg::Sha256, &[0, 1, 2, 3, 4, 5, 6, 7, 14, 15]),
                (HashAlg::Sha1, &[14]),
            ]);
            let mut seen: Vec<(HashAlg, u32)> = Vec::new();
            tpm.pcr_read_each(&sel, |bank, index, value| {
                assert_eq!(value.len(), bank.digest_size(), "{bank} PCR {index}");
                seen.push((bank, index));
            })?;
            // Success means every selected PCR was delivered, each exactly once.
            let mut want: Vec<(HashAlg, u32)> = sel.iter_pcrs().collect();
            let key = |p: &(HashAlg, u32)| (p.0.alg_id().0, p.1);
            want.sort_by_key(key);
            seen.sort_by_key(key);
            assert_eq!(
                seen, want,
                "pcr_read_each succeeded without the exact selection"
            );
        }
        3 => {
            let mut out = [0u8; 2048];
            let n = tpm.nv_read_all(templates::EK_CERT_RSA_NV_INDEX, 512, &mut out)?;
            assert!(n <= out.len());
        }
        4 => {
            let q = tpm.execute(&Quote {
                sign_handle: 0x8000_0000,
                sign_auth: &[],
                qualifying_data: b"fresh",
                pcr_select: selection(&[(HashAlg::Sha256, &[14, 15, 16])]),
            })?;
            // The raw bytes handed back are exactly what was parsed.
            assert_eq!(
                TpmsAttest::from_bytes(q.attest_bytes).as_ref(),
                Ok(&q.attest)
            );
            assert_eq!(
                TpmtSignature::from_bytes(q.signature_bytes),
                Ok(q.signature)
            );
        }
        5 => {
            let r = tpm.execute(&ReadPublic {
                object_handle: 0x8000_0000,
            })?;
            let _ = r.out_public.name();
        }
        6 => {
            tpm.execute(&CreatePrimary {
                primary_handle: RH_ENDORSEMENT,
                hierarchy_auth: &[],
                user_auth: &[],
                public: templates::ak_ecc(),
                outside_info: &[],
                creation_pcr: TpmlPcrSelection::default(),
            })?;
        }
        7 => {
            let banks = tpm.pcr_banks()?;
            for b in banks.banks() {
                assert!(!b.is_empty() && b.bitmap() >> 24 == 0 && b.size_of_select() == 3);
            }
        }
        8 => {
            let id = tpm.identity()?;
            let _ = id.manufacturer_str();
        }
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
            tpm.execute(&PcrExtend {
                pcr: 16,
                auth: &[],
                digests,
            })?;
        }
        10 => {
            let d = tpm.execute(&PcrEvent {
                pcr: 16,
                auth: &[],
                event_data: b"event",
            })?;
            assert!(d
                .digests
                .iter()
                .all(|h| h.digest.len() == h.hash.digest_size()));
        }
        11 => {
            tpm.execute(&Certify {
                object_handle: 0x8000_0000,
                object_auth: &[],
                sign_handle: 0x8000_0000,
                sign_auth: &[],
                qualifying_data: b"fresh",
            })?;
        }
        12 => {
            tpm.execute(&NvReadPublic {
                nv_index: templates::EK_CERT_RSA_NV_INDEX,
            })?;
        }
        13 => {
            tpm.execute(&GetCapability {
                capability: cap::ALGS,
                property: 0,
                property_count: 64,
            })?;
        }
        14 => {
            tpm.execute(&FlushContext {
                flush_handle: 0x8000_0000,
            })?;
        }
        _ => {
            tpm.execute(&EvictControl {
                auth_handle: RH_OWNER,
                auth: &[],
                object_handle: 0x8000_0000,
                persistent_handle: 0x8100_0100,
            })?;
            tpm.execute(&commands::SelfTest { full_test: false })?;
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    let n = c.u8() % 16 + 1;
    let ops: Vec<u8> = (0..n).map(|_| c.u8()).collect();
    let max_attempts = u32::from(c.u8() % 4 + 1);
    let mut tpm = Tpm::new(Probe {
        inner: ReplayTransport::from_frames(c.rest()),
        last_len: 0,
    });
    tpm.max_attempts = max_attempts;
    for op in ops {
        let exhausted = tpm.transport().inner.is_exhausted();
        tpm.transport().last_len = 0;
        let result = run(&mut tpm, op);
        if exhausted {
            assert!(
                matches!(
                    result,
                    Err(TpmError::Transport(ReplayError::Exhausted { .. }))
                ),
                "op {op} after the last response: {result:?}"
            );
        }
        if let Err(e) = &result {
            let last_len = tpm.transport().last_len;
            check_error(e, last_len, max_attempts);
        }
    }
});
