//! The command layer against a real swtpm: every command, the AK and EK templates, quotes
//! checked by our verifier, and the error paths a TPM really produces.

mod common;

use baretpm::commands::{self, templates, *};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::{Timeouts, TransportError};
use baretpm::types::alg::handle::{RH_ENDORSEMENT, RH_OWNER};
use baretpm::types::capability::pt;
use baretpm::types::rc::TpmRc;
use baretpm::types::*;
use baretpm::verify::{verify_quote, verify_signature, Ak, Expectations, Policy, VerifyError};
use common::swtpm::{Ek, Family, Options, SwtpmInstance};

fn connect(sw: &SwtpmInstance) -> Tpm<SwtpmTransport> {
    Tpm::new(
        SwtpmTransport::tcp("127.0.0.1", sw.port(), Timeouts::default()).expect("connect to swtpm"),
    )
}

fn start(ek: Ek) -> SwtpmInstance {
    SwtpmInstance::start_with(Options {
        ek,
        family: Family::Tcp,
    })
    .expect("swtpm must be installed (.ci/run installs it)")
}

fn sel(spec: &[(HashAlg, &[u32])]) -> TpmlPcrSelection {
    let mut s = TpmlPcrSelection::default();
    for (h, i) in spec {
        s.push(TpmsPcrSelection::new(*h, i).unwrap()).unwrap();
    }
    s
}

fn read_one(tpm: &mut Tpm<SwtpmTransport>, bank: HashAlg, pcr: u32) -> Vec<u8> {
    let mut out = Vec::new();
    tpm.pcr_read_each(&sel(&[(bank, &[pcr])]), |_, _, v| out = v.to_vec())
        .unwrap();
    out
}

struct AkInfo {
    handle: u32,
    public: Vec<u8>,
    name: Vec<u8>,
}

fn create(tpm: &mut Tpm<SwtpmTransport>, public: TpmtPublic<'static>) -> AkInfo {
    let rsp = tpm
        .execute(&CreatePrimary {
            primary_handle: RH_ENDORSEMENT,
            hierarchy_auth: &[],
            user_auth: &[],
            public,
            outside_info: &[],
            creation_pcr: TpmlPcrSelection::default(),
        })
        .unwrap();
    AkInfo {
        handle: rsp.object_handle,
        public: baretpm::wire::to_vec(&rsp.out_public, 4096).unwrap(),
        name: rsp.name.0.to_vec(),
    }
}

#[test]
fn read_clock_moves_forward_within_one_power_cycle() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    let a = tpm.execute(&ReadClock).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    let b = tpm.execute(&ReadClock).unwrap();
    assert!(b.time > a.time, "time went from {} to {}", a.time, b.time);
    assert!(b.clock_info.clock >= a.clock_info.clock);
    assert_eq!(b.clock_info.reset_count, a.clock_info.reset_count);
    assert_eq!(b.clock_info.restart_count, a.clock_info.restart_count);
    // The same clock a quote signs: a fresh quote's clockInfo is not behind it.
    let ak = create(&mut tpm, templates::ak_ecc());
    let q = tpm
        .execute(&Quote {
            sign_handle: ak.handle,
            sign_auth: &[],
            qualifying_data: b"clock",
            pcr_select: sel(&[(HashAlg::Sha256, &[0])]),
        })
        .unwrap();
    assert!(q.attest.clock_info.clock >= b.clock_info.clock);
    assert_eq!(q.attest.clock_info.reset_count, b.clock_info.reset_count);
}

#[test]
fn extend_read_event_reset_follow_the_spec() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    // PCR 14 starts at zero; extend = H(old || digest) in each bank, both banks at once.
    let d256 = [0x11u8; 32];
    let d1 = [0x22u8; 20];
    let mut digests = TpmlDigestValues::default();
    digests
        .digests
        .push(TpmtHa {
            hash: HashAlg::Sha256,
            digest: &d256,
        })
        .unwrap();
    digests
        .digests
        .push(TpmtHa {
            hash: HashAlg::Sha1,
            digest: &d1,
        })
        .unwrap();
    tpm.execute(&PcrExtend {
        pcr: 14,
        auth: &[],
        digests,
    })
    .unwrap();
    let want256 = hash::digest(HashAlg::Sha256, &[&[0u8; 32], &d256]).unwrap();
    let want1 = hash::digest(HashAlg::Sha1, &[&[0u8; 20], &d1]).unwrap();
    assert_eq!(read_one(&mut tpm, HashAlg::Sha256, 14), want256.as_bytes());
    assert_eq!(read_one(&mut tpm, HashAlg::Sha1, 14), want1.as_bytes());

    // PCR_Event: the TPM hashes the data per bank, returns the digests, extends with them.
    let before = read_one(&mut tpm, HashAlg::Sha256, 15);
    let ev256 = {
        let ev = tpm
            .execute(&PcrEvent {
                pcr: 15,
                auth: &[],
                event_data: b"model.bin",
            })
            .unwrap();
        ev.digests
            .iter()
            .find(|d| d.hash == HashAlg::Sha256)
            .unwrap()
            .digest
            .to_vec()
    };
    assert_eq!(
        ev256,
        hash::digest(HashAlg::Sha256, &[b"model.bin"])
            .unwrap()
            .as_bytes()
    );
    let want = hash::digest(HashAlg::Sha256, &[&before, &ev256]).unwrap();
    assert_eq!(read_one(&mut tpm, HashAlg::Sha256, 15), want.as_bytes());

    // PCR 16 is resettable at locality 0; PCR 0 is not.
    tpm.execute(&PcrEvent {
        pcr: 16,
        auth: &[],
        event_data: b"x",
    })
    .unwrap();
    assert_ne!(read_one(&mut tpm, HashAlg::Sha256, 16), [0u8; 32]);
    tpm.execute(&PcrReset { pcr: 16, auth: &[] }).unwrap();
    assert_eq!(read_one(&mut tpm, HashAlg::Sha256, 16), [0u8; 32]);
    let e = tpm.execute(&PcrReset { pcr: 0, auth: &[] }).unwrap_err();
    assert_eq!(e.rc().map(TpmRc::base), Some(TpmRc::LOCALITY), "{e}");
}

#[test]
fn reads_all_48_pcrs_in_rounds_of_eight() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    let banks = tpm.pcr_banks().unwrap();
    assert_eq!(
        banks.banks().iter().map(|b| b.hash).collect::<Vec<_>>(),
        [HashAlg::Sha1, HashAlg::Sha256]
    );
    let mut seen = Vec::new();
    tpm.pcr_read_each(&banks, |h, i, v| seen.push((h, i, v.len())))
        .unwrap();
    assert_eq!(seen.len(), 48);
    let expected: Vec<_> = banks
        .iter_pcrs()
        .map(|(h, i)| (h, i, h.digest_size()))
        .collect();
    assert_eq!(seen, expected);
    // A bank swtpm did not allocate gives a clear protocol error, not a hang or garbage.
    let e = tpm
        .pcr_read_each(&sel(&[(HashAlg::Sha512, &[0])]), |_, _, _| {})
        .unwrap_err();
    assert!(matches!(e, TpmError::Protocol { .. }), "{e}");
}

#[test]
fn startup_selftest_random_and_identity() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    // swtpm was started with startup-clear: a second Startup is refused with TPM_RC_INITIALIZE.
    let e = tpm
        .execute(&Startup {
            startup_type: SU_CLEAR,
        })
        .unwrap_err();
    assert_eq!(e.rc(), Some(TpmRc::INITIALIZE), "{e}");
    tpm.execute(&SelfTest { full_test: true }).unwrap();
    let mut a = [0u8; 100];
    let mut b = [0u8; 100];
    tpm.get_random(&mut a).unwrap();
    tpm.get_random(&mut b).unwrap();
    assert_ne!(a, b);
    let id = tpm.identity().unwrap();
    assert_eq!(
        &id.manufacturer.to_be_bytes()[..3],
        b"IBM",
        "swtpm reports IBM as manufacturer"
    );
    assert_ne!(id.firmware_version, 0);
    let mut max_nv = 0;
    tpm.tpm_properties(pt::NV_BUFFER_MAX, 1, |p| max_nv = p.value)
        .unwrap();
    assert!(max_nv >= 512, "NV buffer max {max_nv}");
}

#[test]
fn standard_aks_are_deterministic_restricted_signers_and_quotes_verify() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    for template in [templates::ak_rsa(), templates::ak_ecc()] {
        let first = create(&mut tpm, template);
        let second = create(&mut tpm, template);
        assert_eq!(
            first.public, second.public,
            "same template, same hierarchy: same key"
        );
        assert_eq!(first.name, second.name);
        tpm.execute(&FlushContext {
            flush_handle: second.handle,
        })
        .unwrap();

        let ak = Ak::from_tpm2b_public(&first.public).unwrap();
        ak.check_policy(&Policy::default()).unwrap();
        assert_eq!(
            ak.public.unwrap().name().unwrap().as_bytes(),
            first.name.as_slice()
        );

        let selection = sel(&[
            (HashAlg::Sha256, &[0, 1, 2, 3, 4, 5, 6, 7, 14, 15]),
            (HashAlg::Sha1, &[14]),
        ]);
        let q = tpm
            .execute(&Quote {
                sign_handle: first.handle,
                sign_auth: &[],
                qualifying_data: b"fresh",
                pcr_select: selection.clone(),
            })
            .unwrap();
        let (attest, sig) = (q.attest_bytes.to_vec(), q.signature_bytes.to_vec());
        let mut values = Vec::new();
        tpm.pcr_read_each(&selection, |_, _, v| values.push(v.to_vec()))
            .unwrap();
        let pcrs = PcrValues {
            selection,
            values: values.iter().map(Vec::as_slice).collect(),
        };
        let endorsement = RH_ENDORSEMENT.to_be_bytes();
        let expect = {
            let mut e = Expectations::new(b"fresh", &pcrs);
            e.ak_parent_qualified_name = Some(&endorsement);
            e
        };
        // SHA-1 next to SHA-256 is ordinary tpm2_quote output: the strict policy takes it.
        let policy = Policy::default();
        let v = verify_quote(&ak, &attest, &sig, &expect, &policy).unwrap();
        assert_eq!(v.signing_hash, HashAlg::Sha256);
        // The same quote refused for a wrong parent.
        let owner = RH_OWNER.to_be_bytes();
        let mut wrong = expect;
        wrong.ak_parent_qualified_name = Some(&owner);
        assert_eq!(
            verify_quote(&ak, &attest, &sig, &wrong, &policy),
            Err(VerifyError::QualifiedSignerMismatch)
        );
        // A second quote: same reset/restart counts, clock moving forward.
        let q2 = tpm
            .execute(&Quote {
                sign_handle: first.handle,
                sign_auth: &[],
                qualifying_data: b"again",
                pcr_select: pcrs.selection.clone(),
            })
            .unwrap();
        let (attest2, sig2) = (q2.attest_bytes.to_vec(), q2.signature_bytes.to_vec());
        let mut later = expect;
        later.nonce = b"again";
        later.previous = Some(v.clock_info());
        let v2 = verify_quote(&ak, &attest2, &sig2, &later, &policy).unwrap();
        assert!(v2.clock_info().clock >= v.clock_info().clock);
        tpm.execute(&FlushContext {
            flush_handle: first.handle,
        })
        .unwrap();
    }
}

#[test]
fn certify_is_signed_but_is_not_a_quote() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    let ak = create(&mut tpm, templates::ak_ecc());
    let c = tpm
        .execute(&Certify {
            object_handle: ak.handle,
            object_auth: &[],
            sign_handle: ak.handle,
            sign_auth: &[],
            qualifying_data: b"n",
        })
        .unwrap();
    let (attest, sig_bytes) = (c.attest_bytes.to_vec(), c.signature_bytes.to_vec());
    match &c.attest.attested {
        TpmuAttest::Certify(info) => assert_eq!(info.name.0, ak.name.as_slice()),
        other => panic!("expected certify info, got {other:?}"),
    }
    let key = Ak::from_tpm2b_public(&ak.public).unwrap();
    let sig = <TpmtSignature as baretpm::wire::Unmarshal>::from_bytes(&sig_bytes).unwrap();
    verify_signature(&key, &Policy::default(), &attest, &sig).unwrap();
    let pcrs = PcrValues::default();
    let expect = Expectations::new(b"n", &pcrs);
    assert_eq!(
        verify_quote(&key, &attest, &sig_bytes, &expect, &Policy::default()),
        Err(VerifyError::NotAQuote {
            type_name: "TPM_ST_ATTEST_CERTIFY"
        })
    );
}

#[test]
fn ek_templates_match_the_ek_certificate_read_from_nv_in_chunks() {
    let sw = start(Ek::KeyAndCert);
    let mut tpm = connect(&sw);
    let mut cert = vec![0u8; 4096];
    // A small chunk forces several NV_Read rounds.
    let n = tpm
        .nv_read_all(templates::EK_CERT_RSA_NV_INDEX, 100, &mut cert)
        .unwrap();
    assert!(n > 300, "EK certificate of {n} bytes");
    let cert = &cert[..n];
    assert_eq!(cert[0], 0x30, "DER certificate");
    let ek = create(&mut tpm, templates::ek_rsa());
    let public = Tpm2bPublic::from_bytes_checked(&ek.public);
    let PublicDetails::Rsa { unique, .. } = public.public_area().details else {
        panic!("RSA EK")
    };
    assert_eq!(unique.0.len(), 256);
    // The certificate's SubjectPublicKeyInfo carries this exact modulus.
    assert!(
        cert.windows(256).any(|w| w == unique.0),
        "EK modulus not found in the EK certificate"
    );
    // swtpm_setup makes an RSA EK certificate only (ECC needs --ecc): the ECC index is absent,
    // and that is reported as the TPM's handle error, not as a malformed answer.
    let e = tpm
        .nv_read_all(templates::EK_CERT_ECC_NV_INDEX, 1024, &mut [0u8; 4096])
        .unwrap_err();
    assert_eq!(e.rc().map(TpmRc::base), Some(TpmRc::HANDLE), "{e}");
    let a = create(&mut tpm, templates::ek_ecc());
    let b = create(&mut tpm, templates::ek_ecc());
    assert_eq!(
        a.public, b.public,
        "the ECC EK template yields one key per TPM"
    );
}

trait CheckedParse<'a>: Sized {
    fn from_bytes_checked(b: &'a [u8]) -> Self;
}
impl<'a> CheckedParse<'a> for Tpm2bPublic<'a> {
    fn from_bytes_checked(b: &'a [u8]) -> Self {
        <Tpm2bPublic as baretpm::wire::Unmarshal>::from_bytes(b).unwrap()
    }
}

#[test]
fn evict_control_persists_and_removes_an_ak() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    let ak = create(&mut tpm, templates::ak_rsa());
    let persistent = 0x8101_0001;
    tpm.execute(&EvictControl {
        auth_handle: RH_OWNER,
        auth: &[],
        object_handle: ak.handle,
        persistent_handle: persistent,
    })
    .unwrap();
    let rsp = tpm
        .execute(&ReadPublic {
            object_handle: persistent,
        })
        .unwrap();
    assert_eq!(rsp.name.0, ak.name.as_slice());
    tpm.execute(&EvictControl {
        auth_handle: RH_OWNER,
        auth: &[],
        object_handle: persistent,
        persistent_handle: persistent,
    })
    .unwrap();
    let e = tpm
        .execute(&ReadPublic {
            object_handle: persistent,
        })
        .unwrap_err();
    assert_eq!(e.rc().map(TpmRc::base), Some(TpmRc::HANDLE), "{e}");
}

#[test]
fn tpm_errors_are_typed_and_named() {
    let sw = start(Ek::None);
    let mut tpm = connect(&sw);
    let e = tpm
        .execute(&ReadPublic {
            object_handle: 0x80ff_ffff,
        })
        .unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("TPM2_ReadPublic: TPM_RC_"), "{text}");
    // An oversized parameter is caught before anything is sent.
    let big = [0u8; 100];
    let e = tpm
        .execute(&Quote {
            sign_handle: 0x8000_0000,
            sign_auth: &[],
            qualifying_data: &big,
            pcr_select: TpmlPcrSelection::default(),
        })
        .unwrap_err();
    assert!(matches!(e, TpmError::Build { .. }), "{e}");
}

#[test]
fn a_dead_swtpm_is_a_transport_error_not_a_hang() {
    let mut sw = start(Ek::None);
    let mut tpm = connect(&sw);
    tpm.execute(&GetRandom { bytes_requested: 8 }).unwrap();
    sw.kill();
    let began = std::time::Instant::now();
    let e = tpm.execute(&GetRandom { bytes_requested: 8 }).unwrap_err();
    assert!(
        matches!(e, TpmError::Transport(ref t) if t.peer().is_some()),
        "{e}"
    );
    assert!(began.elapsed() < std::time::Duration::from_secs(10));
    let _: Option<&TransportError> = match &e {
        TpmError::Transport(t) => Some(t),
        _ => None,
    };
    let _ = commands::MAX_RESPONSE_SIZE;
}
