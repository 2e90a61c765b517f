//! Our StartAuthSession, PolicySecret and ActivateCredential commands are byte for byte the
//! ones swtpm accepted in the research transcript (vectors/credential/swtpm/wire-transcript.json),
//! and its responses parse, including the TPM_RC_RETRY the first ActivateCredential got.

#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "rsa",
    feature = "p256"
))]

use baretpm::commands::{
    build, parse_response, ActivateCredential, AuthSession, PolicySecret, ResponseError,
    StartAuthSession, MAX_COMMAND_SIZE,
};
use baretpm::types::alg::handle::RH_ENDORSEMENT;
use baretpm::types::{HashAlg, Tpm2bEncryptedSecret, Tpm2bIdObject};
use baretpm::wire::Unmarshal;
use serde_json::Value;

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn commands_match_the_transcript() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/credential/swtpm/wire-transcript.json");
    let runs: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    let mut activations = 0;
    for run in runs.as_array().unwrap() {
        let steps = run["transcript"].as_array().unwrap();
        let step = |prefix: &str| {
            steps
                .iter()
                .filter(|s| s["step"].as_str().unwrap().starts_with(prefix))
                .collect::<Vec<_>>()
        };
        let mut buf = [0u8; MAX_COMMAND_SIZE];

        let sas = step("StartAuthSession")[0];
        let want = hx(&sas["command"]);
        // The caller nonce is at bytes 20.. (after header, two handles and its u16 size).
        let nonce = &want[20..20 + usize::from(u16::from_be_bytes([want[18], want[19]]))];
        let n = build(&StartAuthSession::policy(nonce, HashAlg::Sha256), &mut buf).unwrap();
        assert_eq!(&buf[..n], &want[..]);
        let rsp = hx(&sas["response"]);
        let session = parse_response(&StartAuthSession::policy(nonce, HashAlg::Sha256), &rsp)
            .unwrap()
            .session_handle;
        assert_eq!(session >> 24, 0x03, "a policy session handle");

        let ps = step("PolicySecret")[0];
        let cmd = PolicySecret {
            auth_handle: RH_ENDORSEMENT,
            auth: &[],
            policy_session: session,
            nonce_tpm: &[],
            cp_hash_a: &[],
            policy_ref: &[],
            expiration: 0,
        };
        let n = build(&cmd, &mut buf).unwrap();
        assert_eq!(&buf[..n], &hx(&ps["command"])[..]);
        parse_response(&cmd, &hx(&ps["response"])).unwrap();

        let id_bytes = hx(&run["tpm2b_id_object"]);
        let secret_bytes = hx(&run["tpm2b_encrypted_secret"]);
        let id = Tpm2bIdObject::from_bytes(&id_bytes).unwrap();
        let secret = Tpm2bEncryptedSecret::from_bytes(&secret_bytes).unwrap();
        for ac in step("ActivateCredential") {
            let want = hx(&ac["command"]);
            let ak = u32::from_be_bytes(want[10..14].try_into().unwrap());
            let ek = u32::from_be_bytes(want[14..18].try_into().unwrap());
            let cmd = ActivateCredential {
                activate_handle: ak,
                activate_auth: AuthSession::Password(&[]),
                key_handle: ek,
                key_auth: AuthSession::Policy {
                    handle: session,
                    attributes: 0,
                },
                credential_blob: id,
                secret,
            };
            let n = build(&cmd, &mut buf).unwrap();
            assert_eq!(&buf[..n], &want[..]);
            match parse_response(&cmd, &hx(&ac["response"])) {
                Ok(c) => {
                    assert_eq!(c.as_bytes(), &hx(&run["credential"])[..]);
                    activations += 1;
                }
                Err(ResponseError::Tpm(rc)) => assert_eq!(rc.0, 0x922, "only RETRY expected"),
                Err(e) => panic!("{e}"),
            }
        }
    }
    assert_eq!(activations, 2);
}

/// ActivateCredential responses that are not what a TPM may send are refused, and an error
/// code comes back as the code.
#[test]
fn activate_credential_responses_are_checked() {
    let hmac = [0u8; 32];
    let enc = [0u8; 34];
    let secret = [0u8; 70];
    let cmd = ActivateCredential {
        activate_handle: 0x8000_0001,
        activate_auth: AuthSession::Password(&[]),
        key_handle: 0x8000_0000,
        key_auth: AuthSession::Policy {
            handle: 0x0300_0000,
            attributes: 0,
        },
        credential_blob: Tpm2bIdObject {
            integrity_hmac: baretpm::types::Tpm2b(&hmac),
            enc_identity: &enc,
        },
        secret: baretpm::types::Tpm2b(&secret),
    };
    // tag, size, rc, parameterSize, certInfo, two session acks (nonce, attrs, hmac).
    let frame = |cert: &[u8], param_extra: u32, acks: usize| {
        let mut p = (cert.len() as u16).to_be_bytes().to_vec();
        p.extend_from_slice(cert);
        let mut r = vec![0x80, 0x02, 0, 0, 0, 0, 0, 0, 0, 0];
        r.extend_from_slice(&(p.len() as u32 + param_extra).to_be_bytes());
        r.extend_from_slice(&p);
        for _ in 0..acks {
            r.extend_from_slice(&[0, 0, 1, 0, 0]);
        }
        let n = r.len() as u32;
        r[2..6].copy_from_slice(&n.to_be_bytes());
        r
    };
    let good = frame(&[7; 32], 0, 2);
    assert_eq!(parse_response(&cmd, &good).unwrap().as_bytes(), &[7; 32]);
    // certInfo above sizeof(TPMU_HA), parameterSize beyond the parameters, one ack missing,
    // a byte after the acks.
    for bad in [
        frame(&[7; 65], 0, 2),
        frame(&[7; 32], 1, 2),
        frame(&[7; 32], 0, 1),
        {
            let mut b = frame(&[7; 32], 0, 2);
            b.push(0);
            let n = b.len() as u32;
            b[2..6].copy_from_slice(&n.to_be_bytes());
            b
        },
    ] {
        assert!(matches!(
            parse_response(&cmd, &bad),
            Err(ResponseError::Malformed(_))
        ));
    }
    let integrity = [0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0xdf];
    assert!(matches!(
        parse_response(&cmd, &integrity),
        Err(ResponseError::Tpm(rc)) if rc.0 == 0x1df && baretpm::activation::is_integrity_failure(rc)
    ));
}
