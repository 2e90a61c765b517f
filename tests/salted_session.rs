//! Issue 15, sessions: an HMAC session salted to the EK makes an active interposer visible.
//! Against swtpm, through an in-process interposer that rewrites commands and responses:
//! - honest commands (CreatePrimary of the AK, PCR_Extend, several in a row so the nonces
//!   roll) succeed with the session, with RSA and ECC EKs;
//! - the item-1 template rewrite and a PCR_Extend digest rewrite are refused by the TPM (its
//!   HMAC check fails), and the PCR keeps its value;
//! - a response changed on the way (CreatePrimary's creationHash, which no other check covers;
//!   a PCR_Extend response HMAC) is refused by the response check, and the object it names
//!   is flushed.
#![cfg(all(feature = "std", feature = "credential"))]

mod common;

use std::time::Duration;

use baretpm::commands::{templates, CreatePrimary, GetCapability, PcrExtend};
use baretpm::hmac_session::{handle_name, SaltedSession};
use baretpm::proof::flow::AkKind;
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::{Timeouts, Transport};
use baretpm::types::alg::handle::RH_ENDORSEMENT;
use baretpm::types::capability::cap;
use baretpm::types::pcr::{TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection};
use baretpm::types::{HashAlg, Tpm2bPublic, TpmCc, TpmsCapabilityData, TpmtHa, TpmtPublic};
use common::swtpm::SwtpmInstance;
use sha2::{Digest as _, Sha256};

/// Rewrites commands and responses in flight.
struct Interposer<T, C, R> {
    inner: T,
    edit_command: C,
    edit_response: R,
}

impl<T: Transport, C: FnMut(&mut Vec<u8>), R: FnMut(&[u8], &mut [u8], usize)> Transport
    for Interposer<T, C, R>
{
    type Error = T::Error;
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], T::Error> {
        let mut edited = cmd.to_vec();
        (self.edit_command)(&mut edited);
        let n = self.inner.transact(&edited, rsp)?.len();
        (self.edit_response)(&edited, rsp, n);
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

/// The EK made from `template` (handle, TPMT_PUBLIC bytes), read on an honest connection.
fn make_ek<T: Transport>(tpm: &mut Tpm<T>, template: TpmtPublic<'static>) -> (u32, Vec<u8>)
where
    T::Error: std::fmt::Debug,
{
    let rsp = tpm
        .execute(&CreatePrimary::in_endorsement(template))
        .unwrap();
    (rsp.object_handle, rsp.out_public.raw().to_vec())
}

fn ak_command(kind: AkKind) -> CreatePrimary<'static> {
    CreatePrimary::in_endorsement(kind.template())
}

fn extend_command(digest: &[u8]) -> PcrExtend<'_> {
    let mut digests = TpmlDigestValues::default();
    digests
        .digests
        .push(TpmtHa {
            hash: HashAlg::Sha256,
            digest,
        })
        .unwrap();
    PcrExtend {
        pcr: 16,
        auth: &[],
        digests,
    }
}

fn pcr16<T: Transport>(tpm: &mut Tpm<T>) -> Vec<u8>
where
    T::Error: std::fmt::Debug,
{
    let mut sel = TpmlPcrSelection::default();
    sel.push(TpmsPcrSelection::new(HashAlg::Sha256, &[16]).unwrap())
        .unwrap();
    let mut out = Vec::new();
    tpm.pcr_read_each(&sel, |_, _, v| out = v.to_vec()).unwrap();
    out
}

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
        other => panic!("{other:?}"),
    }
}

fn session_over<T: Transport>(tpm: &mut Tpm<T>, ek: u32, ek_public: &[u8]) -> SaltedSession
where
    T::Error: std::fmt::Debug + std::fmt::Display,
{
    let public = Tpm2bPublic::from_tpmt_bytes(ek_public).unwrap();
    SaltedSession::start(tpm, ek, &public.public_area(), HashAlg::Sha256)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The TPM's answer when session 1's command HMAC does not check: TPM_RC_BAD_AUTH for an
/// entity without dictionary-attack protection (PCRs, hierarchies), TPM_RC_AUTH_FAIL otherwise.
fn is_hmac_refusal(rc: Option<u32>) -> bool {
    matches!(rc, Some(0x9a2 | 0x98e))
}

#[test]
fn honest_commands_pass_with_a_salted_session_rsa_and_ecc_eks() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    for template in [templates::ek_ecc(), templates::ek_rsa()] {
        let mut tpm = Tpm::new(open(&sw));
        let (ek, ek_public) = make_ek(&mut tpm, template);
        let mut s = session_over(&mut tpm, ek, &ek_public);
        let before = pcr16(&mut tpm);
        let digest = Sha256::digest(b"an honest event").to_vec();
        for _ in 0..3 {
            s.execute(&mut tpm, &extend_command(&digest), &[&handle_name(16)])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let mut expected = before;
        for _ in 0..3 {
            expected = Sha256::new()
                .chain_update(&expected)
                .chain_update(&digest)
                .finalize()
                .to_vec();
        }
        assert_eq!(pcr16(&mut tpm), expected);
        let rsp = s
            .execute(
                &mut tpm,
                &ak_command(AkKind::Ecc),
                &[&handle_name(RH_ENDORSEMENT)],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let ak = rsp.object_handle;
        assert!(rsp.out_public.public_area().object_attributes.0 & (1 << 16) != 0);
        tpm.flush_quietly(ak);
        s.flush(&mut tpm);
        tpm.flush_quietly(ek);
        assert_eq!(transient_handles(&mut tpm), Vec::<u32>::new());
    }
}

#[test]
fn commands_rewritten_in_flight_are_refused_by_the_tpm() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let mut honest = Tpm::new(open(&sw));
    let (ek, ek_public) = make_ek(&mut honest, templates::ek_ecc());
    let before = pcr16(&mut honest);
    drop(honest);
    // The EK stays loaded: swtpm keeps transient objects across connections.
    let attrs = AkKind::Ecc.template().object_attributes.0;
    let mut tpm = Tpm::new(Interposer {
        inner: open(&sw),
        edit_command: move |cmd: &mut Vec<u8>| {
            let cc = command_code(cmd);
            if cc == TpmCc::CREATE_PRIMARY.0 {
                // Item 1: clear `restricted` in the AK template.
                if let Some(at) =
                    (27..cmd.len() - 4).find(|&i| cmd[i..i + 4] == attrs.to_be_bytes())
                {
                    let cleared = attrs & !(1 << 16);
                    cmd[at..at + 4].copy_from_slice(&cleared.to_be_bytes());
                }
            } else if cc == TpmCc::PCR_EXTEND.0 {
                // The extended digest, the last byte of the command.
                let last = cmd.len() - 1;
                cmd[last] ^= 0x01;
            }
        },
        edit_response: |_: &[u8], _: &mut [u8], _: usize| {},
    });
    let mut s = session_over(&mut tpm, ek, &ek_public);
    let digest = Sha256::digest(b"the real event").to_vec();
    let e = s
        .execute(&mut tpm, &extend_command(&digest), &[&handle_name(16)])
        .unwrap_err();
    assert!(is_hmac_refusal(e.rc().map(|rc| rc.0)), "{e}");
    let e = s
        .execute(
            &mut tpm,
            &ak_command(AkKind::Ecc),
            &[&handle_name(RH_ENDORSEMENT)],
        )
        .unwrap_err();
    assert!(is_hmac_refusal(e.rc().map(|rc| rc.0)), "{e}");
    drop(tpm);
    let mut honest = Tpm::new(open(&sw));
    assert_eq!(
        pcr16(&mut honest),
        before,
        "the rewritten extend reached the PCR"
    );
    assert_eq!(transient_handles(&mut honest), vec![ek]);

    // Without the session the same rewrite goes through (what the session is for).
    drop(honest);
    let mut bare = Tpm::new(Interposer {
        inner: open(&sw),
        edit_command: |cmd: &mut Vec<u8>| {
            if command_code(cmd) == TpmCc::PCR_EXTEND.0 {
                let last = cmd.len() - 1;
                cmd[last] ^= 0x01;
            }
        },
        edit_response: |_: &[u8], _: &mut [u8], _: usize| {},
    });
    bare.execute(&extend_command(&digest)).unwrap();
    assert_ne!(pcr16(&mut bare), before);
}

#[test]
fn responses_rewritten_in_flight_are_refused_before_use() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let mut honest = Tpm::new(open(&sw));
    let (ek, ek_public) = make_ek(&mut honest, templates::ek_rsa());
    drop(honest);
    // creationHash (a 32-byte TPM2B followed by the TPMT_TK_CREATION tag 0x8021): no check
    // but the session's covers it.
    let flip_creation_hash = |cmd: &[u8], rsp: &mut [u8], n: usize| {
        if command_code(cmd) == TpmCc::CREATE_PRIMARY.0 && n > 40 {
            if let Some(i) = (14..n - 36)
                .find(|&i| rsp[i..i + 2] == [0, 32] && rsp[i + 34..i + 36] == [0x80, 0x21])
            {
                rsp[i + 2] ^= 0x01;
            }
        }
    };
    // Without a session the change goes unseen.
    let mut bare = Tpm::new(Interposer {
        inner: open(&sw),
        edit_command: |_: &mut Vec<u8>| {},
        edit_response: flip_creation_hash,
    });
    let ak = bare
        .execute(&ak_command(AkKind::Rsa))
        .unwrap()
        .object_handle;
    bare.flush_quietly(ak);
    drop(bare);

    let mut tpm = Tpm::new(Interposer {
        inner: open(&sw),
        edit_command: |_: &mut Vec<u8>| {},
        edit_response: flip_creation_hash,
    });
    let mut s = session_over(&mut tpm, ek, &ek_public);
    let e = s
        .execute(
            &mut tpm,
            &ak_command(AkKind::Rsa),
            &[&handle_name(RH_ENDORSEMENT)],
        )
        .unwrap_err();
    assert!(
        matches!(e, TpmError::Malformed { .. })
            && e.to_string().contains("TPMS_AUTH_RESPONSE.hmac"),
        "{e}"
    );
    s.flush(&mut tpm);
    drop(tpm);
    // The object the refused answer named was flushed.
    let mut honest = Tpm::new(open(&sw));
    assert_eq!(transient_handles(&mut honest), vec![ek]);
    drop(honest);

    // A response HMAC changed on the way (PCR_Extend: the HMAC is the last bytes).
    let mut tpm = Tpm::new(Interposer {
        inner: open(&sw),
        edit_command: |_: &mut Vec<u8>| {},
        edit_response: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::PCR_EXTEND.0 && n > 20 {
                rsp[n - 1] ^= 0x01;
            }
        },
    });
    let mut s = session_over(&mut tpm, ek, &ek_public);
    let digest = Sha256::digest(b"x").to_vec();
    let e = s
        .execute(&mut tpm, &extend_command(&digest), &[&handle_name(16)])
        .unwrap_err();
    assert!(e.to_string().contains("TPMS_AUTH_RESPONSE.hmac"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The CLI: `createak` and `quote` use the session by default.

fn cli(tcti: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .current_dir(dir)
        .env_remove("TPM2TOOLS_TCTI")
        .arg("-T")
        .arg(tcti)
        .args(args)
        .output()
        .unwrap()
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const QUOTE: [&str; 13] = [
    "quote",
    "--ak",
    "ecc",
    "-l",
    "sha256:0,16",
    "-q",
    "c0ffee",
    "-m",
    "m.bin",
    "-s",
    "s.bin",
    "-o",
    "pcrs.bin",
];

#[test]
fn cli_createak_and_quote_refuse_rewrites_under_the_default_session() {
    let sw = SwtpmInstance::start_with(common::swtpm::Options {
        ek: common::swtpm::Ek::None,
        family: common::swtpm::Family::Unix,
    })
    .expect("swtpm");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Honest: no warning, files written.
    let o = cli(
        &sw.tcti_string(),
        d,
        &["createak", "--alg", "ecc", "-u", "ak.pub"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(!err(&o).contains("warning"), "{}", err(&o));
    let o = cli(&sw.tcti_string(), d, &QUOTE);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(d.join("m.bin").exists());
    // Opting out says what it gives up.
    let o = cli(
        &sw.tcti_string(),
        d,
        &["createak", "--alg", "ecc", "-u", "ak2.pub", "--no-session"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("warning: --no-session"), "{}", err(&o));

    // An interposer clears `restricted` in the AK template (item 1) and flips a nonce byte in
    // the Quote: the TPM refuses both commands' HMACs.
    let attrs = AkKind::Ecc.template().object_attributes.0;
    let proxy = common::proxy::start(
        sw.socket_path(),
        Box::new(move |cmd: &mut Vec<u8>| {
            let cc = common::proxy::command_code(cmd);
            if cc == TpmCc::CREATE_PRIMARY.0 {
                if let Some(at) =
                    (27..cmd.len() - 4).find(|&i| cmd[i..i + 4] == attrs.to_be_bytes())
                {
                    let cleared = attrs & !(1 << 16);
                    cmd[at..at + 4].copy_from_slice(&cleared.to_be_bytes());
                }
            }
        }),
        Box::new(|_: &[u8], _: &mut Vec<u8>| {}),
    );
    let o = cli(
        &proxy.tcti(),
        d,
        &["createak", "--alg", "ecc", "-u", "ak3.pub"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("session HMAC"), "{}", err(&o));
    assert!(!d.join("ak3.pub").exists());
    let proxy = common::proxy::start(
        sw.socket_path(),
        Box::new(|cmd: &mut Vec<u8>| {
            if common::proxy::command_code(cmd) == TpmCc::QUOTE.0 {
                let at = (14..cmd.len() - 3)
                    .find(|&i| cmd[i..i + 3] == [0xc0, 0xff, 0xee])
                    .expect("the nonce in the Quote command");
                cmd[at] ^= 0x01;
            }
        }),
        Box::new(|_: &[u8], _: &mut Vec<u8>| {}),
    );
    let mut quote = QUOTE;
    quote[8] = "m2.bin";
    let o = cli(&proxy.tcti(), d, &quote);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains("Quote: the TPM refused the command's session HMAC"),
        "{}",
        err(&o)
    );
    assert!(!d.join("m2.bin").exists());
}
