//! Response frames: `commands::response_code`, then `commands::parse_response` for every
//! command this crate sends, on the same bytes. Also decodes the response code.
#![no_main]

use baretpm::commands::{self, templates, *};
use baretpm::types::rc::TpmRc;
use baretpm::types::{HashAlg, TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection, TpmtHa};
use baretpm_fuzz::check_wire_error;
use libfuzzer_sys::fuzz_target;

/// Checks the invariants that hold whatever the command, then hands back the result.
fn check<C: Command>(cmd: &C, data: &[u8], header: &Result<TpmRc, baretpm::wire::Error>) {
    match parse_response(cmd, data) {
        Ok(_) => {
            let rc = header
                .as_ref()
                .expect("parsed a response with a bad header");
            assert!(rc.is_success(), "parsed a response with code {rc}");
        }
        Err(ResponseError::Tpm(rc)) => {
            assert_eq!(header.as_ref().ok(), Some(&rc));
            assert!(!rc.is_success());
            assert_eq!(
                data.len(),
                HEADER_SIZE,
                "an error response is the header alone"
            );
        }
        Err(ResponseError::Malformed(e)) => check_wire_error(&e, data.len()),
    }
}

fn selection() -> TpmlPcrSelection {
    let mut s = TpmlPcrSelection::default();
    s.push(TpmsPcrSelection::new(HashAlg::Sha256, &[0, 1, 2, 3, 4, 5, 6, 7, 14, 15]).unwrap())
        .unwrap();
    s.push(TpmsPcrSelection::new(HashAlg::Sha1, &[14]).unwrap())
        .unwrap();
    s
}

fuzz_target!(|data: &[u8]| {
    let header = commands::response_code(data);
    match &header {
        Ok(rc) => {
            assert!(data.len() >= HEADER_SIZE);
            let size = u32::from_be_bytes([data[2], data[3], data[4], data[5]]);
            assert_eq!(size as usize, data.len());
            assert_eq!(rc.0.to_be_bytes(), [data[6], data[7], data[8], data[9]]);
            // Decoding any code is total and cannot overrun.
            let _ = rc.decode();
            let _ = rc.info();
            let _ = rc.name();
            let _ = rc.base();
            let _ = rc.to_string();
            if rc.is_retryable() {
                assert!(!rc.is_success());
            }
        }
        Err(e) => check_wire_error(e, data.len()),
    }

    let digest = [0x11u8; 32];
    let mut digests = TpmlDigestValues::default();
    digests
        .digests
        .push(TpmtHa {
            hash: HashAlg::Sha256,
            digest: &digest,
        })
        .unwrap();
    check(
        &PcrRead {
            selection: selection(),
        },
        data,
        &header,
    );
    check(
        &PcrExtend {
            pcr: 16,
            auth: &[],
            digests,
        },
        data,
        &header,
    );
    check(
        &PcrEvent {
            pcr: 16,
            auth: &[],
            event_data: b"event",
        },
        data,
        &header,
    );
    check(&PcrReset { pcr: 16, auth: &[] }, data, &header);
    check(
        &Quote {
            sign_handle: 0x8000_0000,
            sign_auth: &[],
            qualifying_data: b"nonce",
            pcr_select: selection(),
        },
        data,
        &header,
    );
    check(
        &Certify {
            object_handle: 0x8000_0001,
            object_auth: &[],
            sign_handle: 0x8000_0000,
            sign_auth: &[],
            qualifying_data: b"nonce",
        },
        data,
        &header,
    );
    check(
        &GetCapability {
            capability: 6,
            property: 0x100,
            property_count: 64,
        },
        data,
        &header,
    );
    check(
        &GetRandom {
            bytes_requested: 32,
        },
        data,
        &header,
    );
    check(
        &Startup {
            startup_type: SU_CLEAR,
        },
        data,
        &header,
    );
    check(
        &Shutdown {
            shutdown_type: SU_STATE,
        },
        data,
        &header,
    );
    check(&SelfTest { full_test: true }, data, &header);
    check(&ReadClock, data, &header);
    check(
        &NvReadPublic {
            nv_index: templates::EK_CERT_RSA_NV_INDEX,
        },
        data,
        &header,
    );
    check(
        &NvRead {
            auth_handle: templates::EK_CERT_RSA_NV_INDEX,
            auth: &[],
            nv_index: templates::EK_CERT_RSA_NV_INDEX,
            size: 512,
            offset: 0,
        },
        data,
        &header,
    );
    check(
        &CreatePrimary {
            primary_handle: baretpm::types::alg::handle::RH_ENDORSEMENT,
            hierarchy_auth: &[],
            user_auth: &[],
            public: templates::ak_ecc(),
            outside_info: &[],
            creation_pcr: TpmlPcrSelection::default(),
        },
        data,
        &header,
    );
    check(
        &ReadPublic {
            object_handle: 0x8000_0000,
        },
        data,
        &header,
    );
    check(
        &FlushContext {
            flush_handle: 0x8000_0000,
        },
        data,
        &header,
    );
    check(
        &EvictControl {
            auth_handle: baretpm::types::alg::handle::RH_OWNER,
            auth: &[],
            object_handle: 0x8000_0000,
            persistent_handle: 0x8100_0100,
        },
        data,
        &header,
    );
    // Credential activation (issue 11): a policy session, PolicySecret, ActivateCredential.
    check(
        &StartAuthSession::policy(&[0; 16], HashAlg::Sha256),
        data,
        &header,
    );
    check(
        &PolicySecret {
            auth_handle: baretpm::types::alg::handle::RH_ENDORSEMENT,
            auth: &[],
            policy_session: 0x0300_0000,
            nonce_tpm: &[],
            cp_hash_a: &[],
            policy_ref: &[],
            expiration: 0,
        },
        data,
        &header,
    );
    check(
        &ActivateCredential {
            activate_handle: 0x8000_0001,
            activate_auth: AuthSession::Password(&[]),
            key_handle: 0x8000_0000,
            key_auth: AuthSession::Policy {
                handle: 0x0300_0000,
                attributes: 0,
            },
            credential_blob: baretpm::types::Tpm2bIdObject {
                integrity_hmac: baretpm::types::Tpm2b(&[0; 32]),
                enc_identity: &[0; 34],
            },
            secret: baretpm::types::Tpm2b(&[0; 70]),
        },
        data,
        &header,
    );
});
