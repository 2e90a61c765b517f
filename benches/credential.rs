//! Credential activation: MakeCredential per second in software, and the activation round
//! trip on a private swtpm, each beside tpm2-tools doing the same.
//!
//! - `make_credential/{rsa2048,p256,p384}`: `credential::make_credential` (AK checks, Name,
//!   seed encapsulation, KDFs, AES-CFB, HMAC) with the OS random generator. RSA-2048 and P-256
//!   EKs are the swtpm KAT EKs; the P-384 EK is a fresh key with the H-3 template's
//!   parameters (SHA-384, AES-256).
//! - `make_credential_process/{baretpm,tpm2_makecredential}`: one process per credential,
//!   `baretpm makecredential` vs `tpm2_makecredential -T none` (tpm2-tools' software path),
//!   same RSA EK, Name and secret.
//! - `activation/{baretpm,baretpm_process,tpm2_tools_processes}` on swtpm with a persistent
//!   ECC EK (0x81010002) and AK (0x81000010): `Tpm::activate_credential` in process
//!   (StartAuthSession, PolicySecret, ActivateCredential); `baretpm activatecredential` as one
//!   process; and tpm2-tools' four processes (tpm2_startauthsession, tpm2_policysecret,
//!   tpm2_activatecredential, tpm2_flushcontext).
//!
//! swtpm and tpm2-tools missing: the swtpm part prints `skipped` and the rest still runs.

mod common;
use common::{run_quiet, tools};

#[allow(dead_code)]
#[path = "../tests/common/swtpm.rs"]
mod swtpm;

use baretpm::activation::{ActivationKeys, EkAuth};
use baretpm::credential::{self, MadeCredential};
use baretpm::interop::CredentialFile;
use baretpm::tpm::Tpm;
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::Timeouts;
use baretpm::types::{Tpm2bPublic, TpmtPublic};
use baretpm::wire::Unmarshal;
use criterion::Criterion;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use swtpm::{Ek, Family, Options, SwtpmInstance};

const EK_HANDLE: &str = "0x81010002";
const AK_HANDLE: &str = "0x81000010";

fn kat(case: &str, key: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("vectors/credential/swtpm/{case}.kat.json"));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    hex::decode(v[key].as_str().unwrap()).unwrap()
}

fn p384_ek() -> Vec<u8> {
    use p384::pkcs8::EncodePublicKey as _;
    let sk = p384::SecretKey::random(&mut rand_core::OsRng);
    let der = sk.public_key().to_public_key_der().unwrap();
    credential::ek_public_from_spki(der.as_bytes()).unwrap()
}

fn software(c: &mut Criterion) {
    let ak_bytes = kat("ek-ecc.ak-ecc", "ak_tpmt_public");
    let ak = Tpm2bPublic::from_tpmt_bytes(&ak_bytes).unwrap();
    let eks = [
        ("rsa2048", kat("ek-rsa.ak-rsa", "ek_tpmt_public")),
        ("p256", kat("ek-ecc.ak-ecc", "ek_tpmt_public")),
        ("p384", p384_ek()),
    ];
    let mut g = c.benchmark_group("make_credential");
    for (name, ek_bytes) in &eks {
        let ek = TpmtPublic::from_bytes(ek_bytes).unwrap();
        g.bench_function(*name, |b| {
            b.iter(|| {
                credential::make_credential(&mut rand_core::OsRng, &ek, &ak, black_box(&[7; 32]))
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn processes(c: &mut Criterion, dir: &Path) {
    if run_quiet(Command::new("tpm2_makecredential").arg("-v"))
        .status
        .code()
        != Some(0)
    {
        println!("make_credential_process: skipped, tpm2_makecredential not installed");
        return;
    }
    // The RSA KAT EK as TPM2B_PUBLIC, its AK's Name, a secret.
    let ek = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("vectors/credential/swtpm/ek-rsa.tpm2b_public.bin"),
    )
    .unwrap();
    std::fs::write(dir.join("ek.pub"), ek).unwrap();
    std::fs::write(dir.join("secret"), [7u8; 32]).unwrap();
    let name = hex::encode(kat("ek-rsa.ak-rsa", "ak_name"));
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let mut g = c.benchmark_group("make_credential_process");
    g.sample_size(10);
    g.bench_function("baretpm", |b| {
        b.iter(|| {
            let o = run_quiet(Command::new(env!("CARGO_BIN_EXE_baretpm")).args([
                "makecredential",
                "-u",
                &d("ek.pub"),
                "-s",
                &d("secret"),
                "-n",
                &name,
                "-o",
                &d("cred.ours"),
            ]));
            assert!(o.status.success());
        })
    });
    g.bench_function("tpm2_makecredential", |b| {
        b.iter(|| {
            let o = run_quiet(Command::new("tpm2_makecredential").args([
                "-T",
                "none",
                "-u",
                &d("ek.pub"),
                "-s",
                &d("secret"),
                "-n",
                &name,
                "-o",
                &d("cred.tools"),
            ]));
            assert!(o.status.success());
        })
    });
    g.finish();
}

fn activation(c: &mut Criterion, dir: &Path) {
    let sw = match SwtpmInstance::start_with(Options {
        ek: Ek::None,
        family: Family::Tcp,
    }) {
        Ok(s) => s,
        Err(e) => {
            println!("activation: skipped, no swtpm: {e}");
            return;
        }
    };
    let tcti = sw.tcti_string();
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    // Persistent ECC EK and AK, made and persisted by tpm2-tools.
    tools(
        &tcti,
        "tpm2_createek",
        &["-c", EK_HANDLE, "-G", "ecc", "-u", &d("ek.pub")],
    );
    tools(
        &tcti,
        "tpm2_createak",
        &[
            "-C",
            EK_HANDLE,
            "-c",
            &d("ak.ctx"),
            "-G",
            "ecc",
            "-u",
            &d("ak.pub"),
            "-n",
            &d("ak.name"),
        ],
    );
    tools(&tcti, "tpm2_evictcontrol", &["-c", &d("ak.ctx"), AK_HANDLE]);
    tools(&tcti, "tpm2_flushcontext", &["-t"]);

    let ek_bytes = std::fs::read(d("ek.pub")).unwrap();
    let ek = Tpm2bPublic::from_bytes(&ek_bytes).unwrap().public_area();
    let ak_bytes = std::fs::read(d("ak.pub")).unwrap();
    let ak = Tpm2bPublic::from_bytes(&ak_bytes).unwrap();
    let made: MadeCredential =
        credential::make_credential(&mut rand_core::OsRng, &ek, &ak, &[9; 32]).unwrap();
    let mut file = [0u8; baretpm::interop::MAX_CREDENTIAL_FILE];
    let n = CredentialFile {
        id_object: made.id_object(),
        encrypted_secret: made.encrypted_secret(),
    }
    .write(&mut file)
    .unwrap();
    std::fs::write(d("cred"), &file[..n]).unwrap();

    let mut g = c.benchmark_group("activation");
    g.sample_size(10);
    {
        let mut tpm =
            Tpm::new(SwtpmTransport::tcp("127.0.0.1", sw.port(), Timeouts::default()).unwrap());
        let keys = ActivationKeys {
            ak: 0x8100_0010,
            ak_auth: &[],
            ek: 0x8101_0002,
            ek_auth: EkAuth::for_ek(&ek),
        };
        g.bench_function("baretpm", |b| {
            b.iter(|| {
                let mut out = [0u8; 64];
                let n = tpm
                    .activate_credential(&keys, made.id_object(), made.encrypted_secret(), &mut out)
                    .unwrap();
                assert_eq!(&out[..n], &[9; 32]);
            })
        });
    } // disconnect: swtpm serves one client at a time
    g.bench_function("baretpm_process", |b| {
        b.iter(|| {
            let o = run_quiet(Command::new(env!("CARGO_BIN_EXE_baretpm")).args([
                "-T",
                &tcti,
                "activatecredential",
                "--ek",
                EK_HANDLE,
                "--ak",
                AK_HANDLE,
                "-i",
                &d("cred"),
                "-o",
                &d("out.ours"),
            ]));
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        })
    });
    let session = format!("session:{}", d("session.ctx"));
    g.bench_function("tpm2_tools_processes", |b| {
        b.iter(|| {
            tools(
                &tcti,
                "tpm2_startauthsession",
                &["--policy-session", "-S", &d("session.ctx")],
            );
            tools(
                &tcti,
                "tpm2_policysecret",
                &["-S", &d("session.ctx"), "-c", "e"],
            );
            tools(
                &tcti,
                "tpm2_activatecredential",
                &[
                    "-c",
                    AK_HANDLE,
                    "-C",
                    EK_HANDLE,
                    "-i",
                    &d("cred"),
                    "-o",
                    &d("out.tools"),
                    "-P",
                    &session,
                ],
            );
            tools(&tcti, "tpm2_flushcontext", &[&d("session.ctx")]);
        })
    });
    g.finish();
    assert_eq!(std::fs::read(d("out.tools")).unwrap(), [9; 32]);
    assert_eq!(std::fs::read(d("out.ours")).unwrap(), [9; 32]);
}

fn main() {
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
        .configure_from_args();
    let dir = tempfile::tempdir().unwrap();
    software(&mut c);
    processes(&mut c, dir.path());
    activation(&mut c, dir.path());
    c.final_summary();
}
