//! Issue 15, parameter encryption under a salted session (AES-128-CFB, TPM 2.0 Part 1 21.3),
//! checked against swtpm, with the bytes on the bus watched by an in-process interposer:
//! - command side (`decrypt`): TPM2_Hash's data sent encrypted; swtpm's digest is the SHA-256
//!   of the plaintext (so swtpm decrypted what we encrypted), and the plaintext never crosses;
//! - response side (`encrypt`): TPM2_Hash's outHash comes back encrypted and decrypts to the
//!   SHA-256 of the data;
//! - ActivateCredential: the released secret comes back encrypted (never in the clear on the
//!   bus) and decrypts to what MakeCredential encrypted, with RSA and ECC EKs; an encrypted
//!   answer flipped on the way is refused by the response HMAC check before it is decrypted.
//! - the response check (with one to three sessions) reads arbitrary bytes without panicking.
#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "rsa",
    feature = "p256"
))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baretpm::activation::{ActivationKeys, EkAuth};
use baretpm::commands::{templates, Command, CreatePrimary};
use baretpm::credential::{self, make_credential};
use baretpm::hmac_session::{ParameterEncryption, SaltedSession};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::{Timeouts, Transport};
use baretpm::types::alg::handle::RH_NULL;
use baretpm::types::{HashAlg, Tpm2bPublic, TpmCc, TpmtPublic};
use baretpm::wire::{Error, Reader, Writer};
use common::swtpm::SwtpmInstance;
use sha2::{Digest as _, Sha256};

/// Records every command and response, and flips the byte at `flip` (cc, offset) in a
/// response of that command.
struct Tap<T> {
    inner: T,
    log: Log,
    flip: Option<(u32, usize)>,
}

impl<T: Transport> Transport for Tap<T> {
    type Error = T::Error;
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], T::Error> {
        let n = self.inner.transact(cmd, rsp)?.len();
        let cc = u32::from_be_bytes(cmd[6..10].try_into().unwrap());
        if let Some((at_cc, at)) = self.flip {
            if cc == at_cc && n > at {
                rsp[at] ^= 0x01;
            }
        }
        self.log
            .lock()
            .unwrap()
            .push((cmd.to_vec(), rsp[..n].to_vec()));
        Ok(&rsp[..n])
    }
}

type Log = Arc<Mutex<Vec<(Vec<u8>, Vec<u8>)>>>;

fn open(sw: &SwtpmInstance, flip: Option<(u32, usize)>) -> (Tpm<Tap<AnyTransport>>, Log) {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    let inner = tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap();
    let log: Log = Arc::default();
    let tpm = Tpm::new(Tap {
        inner,
        log: log.clone(),
        flip,
    });
    (tpm, log)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether `bytes` crossed the bus in the clear, in a command or a response.
fn seen_in_clear(log: &Log, bytes: &[u8]) -> bool {
    log.lock()
        .unwrap()
        .iter()
        .any(|(c, r)| contains(c, bytes) || contains(r, bytes))
}

/// TPM2_Hash (Part 3, 15.4): data (TPM2B_MAX_BUFFER, the first parameter), hashAlg,
/// hierarchy; answers outHash (TPM2B_DIGEST, the first response parameter) and a ticket.
struct Hash<'a> {
    data: &'a [u8],
}

impl Command for Hash<'_> {
    const CC: TpmCc = TpmCc(0x0000_017D);
    type Response<'r> = Vec<u8>;
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.tpm2b(self.data, 1024, "data")?;
        w.u16(HashAlg::Sha256.alg_id().0)?;
        w.u32(RH_NULL)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<Vec<u8>, Error> {
        let out = r.tpm2b(64, "outHash")?.to_vec();
        r.u16("validation.tag")?;
        r.u32("validation.hierarchy")?;
        r.tpm2b(64, "validation.digest")?;
        Ok(out)
    }
}

fn ek<T: Transport>(tpm: &mut Tpm<T>, template: TpmtPublic<'static>) -> (u32, Vec<u8>, Vec<u8>)
where
    T::Error: std::fmt::Debug,
{
    let rsp = tpm
        .execute(&CreatePrimary::in_endorsement(template))
        .unwrap();
    (
        rsp.object_handle,
        rsp.out_public.raw().to_vec(),
        rsp.name.as_bytes().to_vec(),
    )
}

fn salted<T: Transport>(tpm: &mut Tpm<T>, handle: u32, public: &[u8]) -> SaltedSession
where
    T::Error: std::fmt::Debug + std::fmt::Display,
{
    let p = Tpm2bPublic::from_tpmt_bytes(public).unwrap();
    SaltedSession::start(tpm, handle, &p.public_area(), HashAlg::Sha256)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn hash_data_sent_encrypted_and_digest_returned_encrypted() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let (mut tpm, log) = open(&sw, None);
    let (ek_handle, ek_public, _) = ek(&mut tpm, templates::ek_ecc());
    let mut s = salted(&mut tpm, ek_handle, &ek_public);
    let data = b"a secret the bus must not see, 0123456789";
    let expected = Sha256::digest(data).to_vec();
    for (command, response) in [(true, false), (false, true), (true, true)] {
        log.lock().unwrap().clear();
        let enc = ParameterEncryption { command, response };
        let got = s
            .execute_encrypted(&mut tpm, &Hash { data }, &[], enc)
            .unwrap_or_else(|e| panic!("{enc:?}: {e}"));
        // swtpm hashed the plaintext: it decrypted what we encrypted (and we what it did).
        assert_eq!(got, expected, "{enc:?}");
        assert_eq!(
            seen_in_clear(&log, data),
            !command,
            "{enc:?}: data on the bus"
        );
        assert_eq!(
            seen_in_clear(&log, &expected),
            !response,
            "{enc:?}: digest on the bus"
        );
    }
    s.flush(&mut tpm);
    tpm.flush_quietly(ek_handle);
}

#[test]
fn activate_credential_returns_the_secret_encrypted() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let mut rng = rand_core::OsRng;
    for template in [templates::ek_ecc(), templates::ek_rsa()] {
        let (mut tpm, log) = open(&sw, None);
        let (ek_handle, ek_public, ek_name) = ek(&mut tpm, template);
        let ek_area = Tpm2bPublic::from_tpmt_bytes(&ek_public)
            .unwrap()
            .public_area();
        let rsp = tpm
            .execute(&CreatePrimary::in_endorsement(templates::ak_ecc()))
            .unwrap();
        let (ak, ak_name) = (rsp.object_handle, rsp.name.as_bytes().to_vec());
        let ak_raw = rsp.out_public.raw().to_vec();
        let ak_public = Tpm2bPublic::from_tpmt_bytes(&ak_raw).unwrap();
        let secret: [u8; 32] = std::array::from_fn(|i| 0xa0 ^ i as u8);
        let made = make_credential(&mut rng, &ek_area, &ak_public, &secret).unwrap();
        let keys = ActivationKeys {
            ak,
            ak_auth: &[],
            ek: ek_handle,
            ek_auth: EkAuth::for_ek(&ek_area),
        };
        let mut s = salted(&mut tpm, ek_handle, &ek_public);
        log.lock().unwrap().clear();
        let mut out = [0u8; 64];
        let n = s
            .activate_credential(
                &mut tpm,
                &keys,
                &ak_name,
                &ek_name,
                made.id_object(),
                made.encrypted_secret(),
                &mut out,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(credential::credential_matches(&secret, &out[..n]));
        assert!(
            !seen_in_clear(&log, &secret),
            "the secret crossed in the clear"
        );
        s.flush(&mut tpm);
        drop(tpm);

        // (e) One byte of the encrypted certInfo flipped on the way back (certInfo follows
        // parameterSize: header 10 + parameterSize 4 + size 2): the response HMAC refuses it.
        let (mut tpm, _) = open(&sw, Some((TpmCc::ACTIVATE_CREDENTIAL.0, 16 + 3)));
        let mut s = salted(&mut tpm, ek_handle, &ek_public);
        let e = s
            .activate_credential(
                &mut tpm,
                &keys,
                &ak_name,
                &ek_name,
                made.id_object(),
                made.encrypted_secret(),
                &mut out,
            )
            .unwrap_err();
        assert!(
            matches!(e, TpmError::Malformed { .. })
                && e.to_string().contains("TPMS_AUTH_RESPONSE.hmac"),
            "{e}"
        );
        s.flush(&mut tpm);
        tpm.flush_quietly(ak);
        tpm.flush_quietly(ek_handle);
    }
}

proptest::proptest! {
    /// The response check reads any bytes (a lying TPM's, an interposer's) without panicking,
    /// for one to three sessions, and refuses them (no key here makes their HMAC).
    #[test]
    fn response_check_never_panics(
        rsp in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        handles in 0usize..2,
        sessions in 1usize..4,
    ) {
        let mut frame = rsp.clone();
        if frame.len() >= 10 {
            // A success header with the size of the bytes: the parser gets past the header.
            frame[..2].copy_from_slice(&0x8002u16.to_be_bytes());
            let n = frame.len() as u32;
            frame[2..6].copy_from_slice(&n.to_be_bytes());
            frame[6..10].copy_from_slice(&[0; 4]);
        }
        for f in [&rsp, &frame] {
            let r = baretpm::commands::check_first_response_hmac(
                f,
                TpmCc::ACTIVATE_CREDENTIAL,
                handles,
                sessions,
                HashAlg::Sha256,
                &[7; 32],
                &[9; 32],
            );
            if f.len() >= 10 && f[6..10] == [0; 4] {
                proptest::prop_assert!(r.is_err());
            }
        }
    }
}
