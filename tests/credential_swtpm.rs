//! Credential activation end to end on a private swtpm: credentials made in software by
//! `baretpm::credential` and released by TPM2_ActivateCredential through our own commands,
//! for RSA and ECC EKs (low range, and the high-range P-384 EK when swtpm_setup made one) and
//! RSA and ECC AKs; and the refusals: another AK's Name, a tampered HMAC or encIdentity, the
//! wrong EK, a password where the EK wants its policy. No session is left open.

#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "rsa",
    feature = "p256",
    feature = "p384"
))]

mod common;

use baretpm::activation::{is_integrity_failure, ActivationKeys, EkAuth};
use baretpm::commands::{templates, CreatePrimary, GetCapability, ReadPublic};
use baretpm::credential::{self, make_credential};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::Timeouts;
use baretpm::types::capability::cap;
use baretpm::types::{Tpm2b, Tpm2bIdObject, Tpm2bPublic, TpmsCapabilityData, TpmtPublic};
use baretpm::wire::Unmarshal;
use common::swtpm::SwtpmInstance;

type T = Tpm<SwtpmTransport>;

fn connect(sw: &SwtpmInstance) -> T {
    Tpm::new(
        SwtpmTransport::tcp("127.0.0.1", sw.port(), Timeouts::default()).expect("connect to swtpm"),
    )
}

/// A primary key in the endorsement hierarchy: its handle and TPM2B_PUBLIC bytes.
fn primary(tpm: &mut T, template: TpmtPublic<'static>) -> (u32, Vec<u8>) {
    let rsp = tpm
        .execute(&CreatePrimary::in_endorsement(template))
        .expect("CreatePrimary");
    let mut public = (rsp.out_public.raw().len() as u16).to_be_bytes().to_vec();
    public.extend_from_slice(rsp.out_public.raw());
    (rsp.object_handle, public)
}

fn open_sessions(tpm: &mut T) -> usize {
    // Loaded policy/HMAC sessions: TPM_HT_POLICY_SESSION (0x03) and TPM_HT_HMAC_SESSION (0x02).
    [0x0200_0000u32, 0x0300_0000]
        .into_iter()
        .map(|first| {
            let rsp = tpm
                .execute(&GetCapability {
                    capability: cap::HANDLES,
                    property: first,
                    property_count: 64,
                })
                .expect("GetCapability(HANDLES)");
            match rsp.data {
                TpmsCapabilityData::Handles(h) => {
                    h.iter().filter(|x| *x >> 24 == first >> 24).count()
                }
                _ => panic!("asked for handles"),
            }
        })
        .sum()
}

fn activate(
    tpm: &mut T,
    ak: u32,
    ek: u32,
    ek_public: &TpmtPublic<'_>,
    made: &credential::MadeCredential,
) -> Result<Vec<u8>, TpmError<baretpm::transport::TransportError>> {
    let mut out = [0u8; 64];
    let n = tpm.activate_credential(
        &ActivationKeys {
            ak,
            ak_auth: &[],
            ek,
            ek_auth: EkAuth::for_ek(ek_public),
        },
        made.id_object(),
        made.encrypted_secret(),
        &mut out,
    )?;
    Ok(out[..n].to_vec())
}

#[test]
fn rsa_and_ecc_eks_and_aks_round_trip_and_refusals() {
    let sw = SwtpmInstance::start().expect("swtpm must be installed (.ci/run installs it)");
    let mut tpm = connect(&sw);
    tpm.backoff = Some(|a| std::thread::sleep(std::time::Duration::from_millis(5 * u64::from(a))));
    let mut rng = rand_core::OsRng;
    // swtpm holds three transient objects: one EK and both AKs at a time.
    for template in [templates::ek_rsa(), templates::ek_ecc()] {
        let (ek, ek_bytes) = primary(&mut tpm, template);
        let aks = [
            primary(&mut tpm, templates::ak_rsa()),
            primary(&mut tpm, templates::ak_ecc()),
        ];
        let ek_public = Tpm2bPublic::from_bytes(&ek_bytes).unwrap().public_area();
        for (i, (ak, ak_bytes)) in aks.iter().enumerate() {
            let ak_public = Tpm2bPublic::from_bytes(ak_bytes).unwrap();
            let secret: [u8; 32] = std::array::from_fn(|j| (i * 7 + j) as u8);
            let made = make_credential(&mut rng, &ek_public, &ak_public, &secret).unwrap();
            let got = activate(&mut tpm, *ak, ek, &ek_public, &made).expect("activation");
            assert!(credential::credential_matches(&secret, &got));

            // Made for the other AK: the TPM refuses with TPM_RC_INTEGRITY on the blob.
            let (other, _) = aks[1 - i];
            let e = activate(&mut tpm, other, ek, &ek_public, &made).unwrap_err();
            let rc = e.rc().expect("TPM error");
            assert!(is_integrity_failure(rc), "other AK: {e}");
            assert_eq!(rc.0, 0x1DF, "TPM_RC_INTEGRITY on parameter 1");
        }
        for h in [ek, aks[0].0, aks[1].0] {
            tpm.flush_quietly(h);
        }
    }
    let eks = [
        primary(&mut tpm, templates::ek_rsa()),
        primary(&mut tpm, templates::ek_ecc()),
    ];
    let aks = [primary(&mut tpm, templates::ak_rsa())];
    let ek_rsa = Tpm2bPublic::from_bytes(&eks[0].1).unwrap().public_area();
    let ak_pub = Tpm2bPublic::from_bytes(&aks[0].1).unwrap();
    let made = make_credential(&mut rng, &ek_rsa, &ak_pub, &[9; 32]).unwrap();
    let id = made.id_object();

    // A flipped bit in the integrity HMAC, and in encIdentity.
    for flip_hmac in [true, false] {
        let mut hmac = id.integrity_hmac.as_bytes().to_vec();
        let mut enc = id.enc_identity.to_vec();
        if flip_hmac {
            hmac[5] ^= 0x10;
        } else {
            enc[3] ^= 0x01;
        }
        let mut out = [0u8; 64];
        let e = tpm
            .activate_credential(
                &ActivationKeys {
                    ak: aks[0].0,
                    ak_auth: &[],
                    ek: eks[0].0,
                    ek_auth: EkAuth::for_ek(&ek_rsa),
                },
                Tpm2bIdObject {
                    integrity_hmac: Tpm2b(&hmac),
                    enc_identity: &enc,
                },
                made.encrypted_secret(),
                &mut out,
            )
            .unwrap_err();
        assert_eq!(e.rc().map(|r| r.0), Some(0x1DF), "tampered: {e}");
    }

    // The wrong EK: a credential made for the RSA EK, offered to the ECC EK.
    let ek_ecc = Tpm2bPublic::from_bytes(&eks[1].1).unwrap().public_area();
    let e = activate(&mut tpm, aks[0].0, eks[1].0, &ek_ecc, &made).unwrap_err();
    assert!(e.rc().is_some(), "wrong EK must be refused by the TPM: {e}");

    // A password session for a low-range EK (userWithAuth clear): TPM_RC_AUTH_UNAVAILABLE.
    let mut out = [0u8; 64];
    let e = tpm
        .activate_credential(
            &ActivationKeys {
                ak: aks[0].0,
                ak_auth: &[],
                ek: eks[0].0,
                ek_auth: EkAuth::Password(&[]),
            },
            made.id_object(),
            made.encrypted_secret(),
            &mut out,
        )
        .unwrap_err();
    assert_eq!(e.rc().map(|r| r.0), Some(0x12F), "{e}");

    // Every failure above closed its policy session.
    assert_eq!(open_sessions(&mut tpm), 0);
    // And the credential still activates.
    let got = activate(&mut tpm, aks[0].0, eks[0].0, &ek_rsa, &made).unwrap();
    assert_eq!(got, [9; 32]);
    assert_eq!(open_sessions(&mut tpm), 0);
    for h in eks.iter().chain(&aks).map(|x| x.0) {
        tpm.flush_quietly(h);
    }
}

/// swtpm_setup persists its EKs; when it made the high-range P-384 EK (SHA-384, AES-256,
/// userWithAuth set) at 0x81010016, activation works with a password session and SHA-384
/// KDFs. The persistent RSA EK at 0x81010001 is exercised the same way.
#[test]
fn persistent_eks_from_swtpm_setup() {
    let sw = SwtpmInstance::start().expect("swtpm must be installed (.ci/run installs it)");
    let mut tpm = connect(&sw);
    let (ak, ak_bytes) = primary(&mut tpm, templates::ak_ecc());
    let ak_public = Tpm2bPublic::from_bytes(&ak_bytes).unwrap();
    let mut tried = 0;
    for handle in [0x8101_0001u32, 0x8101_0016] {
        let ek_bytes = match tpm.execute(&ReadPublic {
            object_handle: handle,
        }) {
            Ok(r) => r.out_public.raw().to_vec(),
            Err(_) => continue,
        };
        let ek_public = TpmtPublic::from_bytes(&ek_bytes).unwrap();
        let made = make_credential(&mut rand_core::OsRng, &ek_public, &ak_public, &[3; 32])
            .unwrap_or_else(|e| panic!("{handle:#x}: {e}"));
        let got = activate(&mut tpm, ak, handle, &ek_public, &made)
            .unwrap_or_else(|e| panic!("{handle:#x}: {e}"));
        assert_eq!(got, [3; 32]);
        eprintln!("activated with the persistent EK {handle:#x}");
        tried += 1;
    }
    assert_eq!(
        tried, 2,
        "swtpm_setup --createek should persist the RSA and P-384 EKs"
    );
    assert_eq!(open_sessions(&mut tpm), 0);
    tpm.flush_quietly(ak);
}

/// Template H-3 recreates the P-384 EK swtpm_setup persisted (same key, same public area),
/// and a credential made for the persisted EK activates with the recreated one.
#[test]
fn high_range_p384_template_recreates_the_persisted_ek() {
    let sw = SwtpmInstance::start().expect("swtpm must be installed (.ci/run installs it)");
    let mut tpm = connect(&sw);
    let persisted = tpm
        .execute(&ReadPublic {
            object_handle: 0x8101_0016,
        })
        .expect("swtpm_setup --createek persists the P-384 EK at 0x81010016")
        .out_public
        .raw()
        .to_vec();
    let (ek, ek_bytes) = primary(&mut tpm, templates::ek_ecc_p384_high());
    assert_eq!(&ek_bytes[2..], &persisted[..]);
    // The EK rebuilt from its SubjectPublicKeyInfo alone (as from an EK certificate) is the
    // same public area: the H-3 parameters are inferred from the P-384 key.
    let p = TpmtPublic::from_bytes(&persisted).unwrap();
    let baretpm::types::PublicDetails::Ecc { unique, .. } = p.details else {
        panic!("P-384 EK is ECC")
    };
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(unique.x.as_bytes());
    sec1.extend_from_slice(unique.y.as_bytes());
    let der = {
        use p384::pkcs8::EncodePublicKey as _;
        p384::PublicKey::from_sec1_bytes(&sec1)
            .unwrap()
            .to_public_key_der()
            .unwrap()
    };
    assert_eq!(
        credential::ek_public_from_spki(der.as_bytes()).unwrap(),
        persisted
    );
    let (ak, ak_bytes) = primary(&mut tpm, templates::ak_rsa());
    let ek_public = TpmtPublic::from_bytes(&persisted).unwrap();
    let ak_public = Tpm2bPublic::from_bytes(&ak_bytes).unwrap();
    let made = make_credential(&mut rand_core::OsRng, &ek_public, &ak_public, &[0xa5; 48]).unwrap();
    assert_eq!(
        activate(&mut tpm, ak, ek, &ek_public, &made).unwrap(),
        [0xa5; 48]
    );
    tpm.flush_quietly(ak);
    tpm.flush_quietly(ek);
}
