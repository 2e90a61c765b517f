//! A TPM, or something on the bus, that lies (issue 15): each lie is driven through a
//! transport that rewrites a real swtpm's answers, and must be caught or cleaned up after.

mod common;

use std::time::Duration;

use baretpm::commands::GetCapability;
use baretpm::proof::flow::{self, AkKind};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::{Timeouts, Transport};
use baretpm::types::capability::cap;
use baretpm::types::{TpmCc, TpmsCapabilityData};
use common::swtpm::SwtpmInstance;

/// Forwards every command to a real TPM and lets `rewrite` change the answer in place
/// (command bytes, response buffer, response length) -> new length.
struct Rewriting<T, F> {
    inner: T,
    rewrite: F,
}

impl<T: Transport, F: FnMut(&[u8], &mut [u8], usize) -> usize> Transport for Rewriting<T, F> {
    type Error = T::Error;
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], T::Error> {
        let n = self.inner.transact(cmd, rsp)?.len();
        let n = (self.rewrite)(cmd, rsp, n).min(rsp.len());
        Ok(&rsp[..n])
    }
}

fn command_code(cmd: &[u8]) -> u32 {
    u32::from_be_bytes(cmd[6..10].try_into().unwrap())
}

fn open(sw: &SwtpmInstance) -> AnyTransport {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap()
}

/// Transient objects loaded in the TPM.
fn transient_handles<T: Transport>(tpm: &mut Tpm<T>) -> Vec<u32>
where
    T::Error: std::fmt::Debug,
{
    let rsp = tpm
        .execute(&GetCapability {
            capability: cap::HANDLES,
            property: 0x8000_0000,
            property_count: 64,
        })
        .unwrap();
    match &rsp.data {
        TpmsCapabilityData::Handles(h) => h.iter().copied().collect(),
        other => panic!("asked for handles, got {other:?}"),
    }
}

/// Issue 15, item 6: CreatePrimary answers whose header says success (the new object's handle
/// follows it) but whose parameters are malformed once leaked the object; three filled
/// swtpm's slots and an honest `createak` then failed with TPM_RC_OBJECT_MEMORY.
#[test]
fn transient_objects_are_flushed_when_a_success_answer_is_malformed() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let mangled = Rewriting {
        inner: open(&sw),
        rewrite: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::CREATE_PRIMARY.0 && n > 18 {
                // parameterSize (after the handle) now claims more than the answer holds.
                rsp[14..18].copy_from_slice(&u32::MAX.to_be_bytes());
            }
            n
        },
    };
    let mut tpm = Tpm::new(mangled);
    for kind in [AkKind::Ecc, AkKind::Rsa, AkKind::Ecc, AkKind::Ecc] {
        let e = flow::create_ak(&mut tpm, kind).unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
    }
    // swtpm serves one connection at a time.
    drop(tpm);
    let mut honest = Tpm::new(open(&sw));
    assert_eq!(transient_handles(&mut honest), Vec::<u32>::new());
    // And the slots are free: the real AK can be made.
    flow::create_ak(&mut honest, AkKind::Ecc).expect("createak after the lies");

    // A malformed answer to a command that makes no object flushes nothing.
    let before = transient_handles(&mut honest);
    drop(honest);
    let mut lying = Tpm::new(Rewriting {
        inner: open(&sw),
        rewrite: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::GET_RANDOM.0 {
                rsp[11] ^= 0xff;
            }
            n
        },
    });
    let mut out = [0u8; 8];
    assert!(matches!(
        lying.get_random(&mut out),
        Err(TpmError::Malformed { .. })
    ));
    drop(lying);
    assert_eq!(transient_handles(&mut Tpm::new(open(&sw))), before);
}
