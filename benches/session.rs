//! What a salted HMAC session costs per command over swtpm (issue 15).
//!
//! - `session_pcr_extend/password`: PCR_Extend (SHA-256 bank, PCR16) with a password session,
//!   as the provenance flow sends it today.
//! - `session_pcr_extend/salted_hmac`: the same command through a `SaltedSession` (cpHash and
//!   command HMAC, response HMAC checked, nonces rolled).
//! - `session_quote/{password,salted_hmac}`: Quote (sha256:0,14,15, a 32-byte nonce) with the
//!   standard ECC AK, with a password session and through the `SaltedSession`.
//! - `session_start/{ecc_ek,rsa_ek}`: StartAuthSession salted to the EK (salt encapsulation
//!   in software, the TPM's decryption) and FlushContext: the one-off cost per connection.
//!
//! swtpm missing: prints `skipped` and exits 0.

#[allow(dead_code)]
#[path = "../tests/common/swtpm.rs"]
mod swtpm;

use baretpm::commands::{templates, CreatePrimary, PcrExtend, Quote};
use baretpm::hmac_session::{handle_name, SaltedSession};
use baretpm::tpm::Tpm;
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::Timeouts;
use baretpm::types::pcr::{TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection};
use baretpm::types::{HashAlg, Tpm2bPublic, TpmtHa, TpmtPublic};
use criterion::Criterion;
use std::time::Duration;
use swtpm::{Ek, Family, Options, SwtpmInstance};

fn extend(digest: &[u8]) -> PcrExtend<'_> {
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

fn make_ek(tpm: &mut Tpm<SwtpmTransport>, template: TpmtPublic<'static>) -> (u32, Vec<u8>) {
    let rsp = tpm
        .execute(&CreatePrimary::in_endorsement(template))
        .unwrap();
    (rsp.object_handle, rsp.out_public.raw().to_vec())
}

fn main() {
    let sw = match SwtpmInstance::start_with(Options {
        ek: Ek::None,
        family: Family::Tcp,
    }) {
        Ok(s) => s,
        Err(e) => {
            println!("session: skipped, no swtpm ({e})");
            return;
        }
    };
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    let mut tpm =
        Tpm::new(SwtpmTransport::tcp("127.0.0.1", sw.port(), Timeouts::DEFAULT).expect("connect"));
    let digest = [0x5a; 32];
    let (ecc_ek, ecc_pub) = make_ek(&mut tpm, templates::ek_ecc());
    let (rsa_ek, rsa_pub) = make_ek(&mut tpm, templates::ek_rsa());
    let ecc = Tpm2bPublic::from_tpmt_bytes(&ecc_pub).unwrap();
    let rsa = Tpm2bPublic::from_tpmt_bytes(&rsa_pub).unwrap();

    let mut g = c.benchmark_group("session_pcr_extend");
    g.bench_function("password", |b| {
        b.iter(|| tpm.execute(&extend(&digest)).unwrap())
    });
    let mut s = SaltedSession::start(&mut tpm, ecc_ek, &ecc.public_area(), HashAlg::Sha256)
        .expect("salted session");
    g.bench_function("salted_hmac", |b| {
        b.iter(|| {
            s.execute(&mut tpm, &extend(&digest), &[&handle_name(16)])
                .unwrap()
        })
    });
    g.finish();

    let ak = tpm
        .execute(&CreatePrimary::in_endorsement(templates::ak_ecc()))
        .unwrap();
    let (ak, ak_name) = (ak.object_handle, ak.name.as_bytes().to_vec());
    let mut sel = TpmlPcrSelection::default();
    sel.push(TpmsPcrSelection::new(HashAlg::Sha256, &[0, 14, 15]).unwrap())
        .unwrap();
    let nonce = [0x33u8; 32];
    let quote = Quote {
        sign_handle: ak,
        sign_auth: &[],
        qualifying_data: &nonce,
        pcr_select: sel,
    };
    let mut g = c.benchmark_group("session_quote");
    g.bench_function("password", |b| {
        b.iter(|| tpm.execute(&quote).unwrap().attest_bytes.len())
    });
    g.bench_function("salted_hmac", |b| {
        b.iter(|| {
            s.execute(&mut tpm, &quote, &[&ak_name])
                .unwrap()
                .attest_bytes
                .len()
        })
    });
    g.finish();
    tpm.flush_quietly(ak);
    s.flush(&mut tpm);

    let mut g = c.benchmark_group("session_start");
    for (name, ek, public) in [("ecc_ek", ecc_ek, &ecc), ("rsa_ek", rsa_ek, &rsa)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                SaltedSession::start(&mut tpm, ek, &public.public_area(), HashAlg::Sha256)
                    .expect("salted session")
                    .flush(&mut tpm)
            })
        });
    }
    g.finish();
    c.final_summary();
}
