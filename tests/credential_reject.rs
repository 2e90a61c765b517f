//! MakeCredential refuses AKs that are not attestation keys, EKs that are not restricted
//! decryption keys, malformed Names and credentials, each with its own error. No TPM needed.

#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "rsa",
    feature = "p256"
))]

use baretpm::credential::{
    check_ak, make_credential, make_credential_fixed, make_credential_for_name, CredentialError,
    FixedInputs,
};
use baretpm::types::{Tpm2bPublic, TpmaObject, TpmtPublic};
use baretpm::wire::{Marshal, Unmarshal, Writer};
use std::path::PathBuf;

fn kat(case: &str, key: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("vectors/credential/swtpm/{case}.kat.json"));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    hex::decode(v[key].as_str().unwrap()).unwrap()
}

/// The AK of a KAT with its attributes changed, re-marshaled (so its Name changes too).
fn ak_with(attrs: impl Fn(u32) -> u32) -> Vec<u8> {
    let bytes = kat("ek-ecc.ak-ecc", "ak_tpmt_public");
    let mut p = TpmtPublic::from_bytes(&bytes).unwrap();
    p.object_attributes = TpmaObject(attrs(p.object_attributes.0));
    let mut out = [0u8; 1024];
    let mut w = Writer::new(&mut out);
    p.marshal(&mut w).unwrap();
    w.written().to_vec()
}

fn check(bytes: &[u8]) -> Result<(), CredentialError> {
    check_ak(&Tpm2bPublic::from_tpmt_bytes(bytes).unwrap()).map(|_| ())
}

#[test]
fn ak_attribute_checks() {
    assert_eq!(check(&ak_with(|a| a)), Ok(()));
    let cases = [
        (TpmaObject::RESTRICTED, CredentialError::AkNotRestricted),
        (TpmaObject::FIXED_TPM, CredentialError::AkNotFixedTpm),
        (TpmaObject::FIXED_PARENT, CredentialError::AkNotFixedParent),
        (
            TpmaObject::SENSITIVE_DATA_ORIGIN,
            CredentialError::AkNotSensitiveDataOrigin,
        ),
    ];
    for (bit, err) in cases {
        assert_eq!(check(&ak_with(|a| a & !bit)), Err(err), "clearing {bit:#x}");
    }
    // A decrypt key (sign cleared, decrypt set) and a key that does both.
    assert_eq!(
        check(&ak_with(
            |a| (a & !TpmaObject::SIGN_ENCRYPT) | TpmaObject::DECRYPT
        )),
        Err(CredentialError::AkNotSign)
    );
    assert_eq!(
        check(&ak_with(|a| a | TpmaObject::DECRYPT)),
        Err(CredentialError::AkDecrypt)
    );
}

#[test]
fn refused_ak_gets_no_credential() {
    let ek_bytes = kat("ek-ecc.ak-ecc", "ek_tpmt_public");
    let ek = TpmtPublic::from_bytes(&ek_bytes).unwrap();
    let ak = ak_with(|a| a & !TpmaObject::FIXED_TPM);
    let ak = Tpm2bPublic::from_tpmt_bytes(&ak).unwrap();
    assert_eq!(
        make_credential(&mut rand_core::OsRng, &ek, &ak, &[1; 32]).unwrap_err(),
        CredentialError::AkNotFixedTpm
    );
}

#[test]
fn ek_must_be_restricted_decrypt_aes_cfb() {
    let name = kat("ek-ecc.ak-ecc", "ak_name");
    let ek_bytes = kat("ek-ecc.ak-ecc", "ek_tpmt_public");
    let good = TpmtPublic::from_bytes(&ek_bytes).unwrap();
    let mut ek = good;
    ek.object_attributes = TpmaObject(ek.object_attributes.0 & !TpmaObject::RESTRICTED);
    assert_eq!(
        make_credential_for_name(&mut rand_core::OsRng, &ek, &name, &[1; 32]).unwrap_err(),
        CredentialError::EkNotRestrictedDecrypt
    );
    // An AK (a signing key) as the EK.
    let ak_bytes = kat("ek-ecc.ak-ecc", "ak_tpmt_public");
    let ak = TpmtPublic::from_bytes(&ak_bytes).unwrap();
    assert_eq!(
        make_credential_for_name(&mut rand_core::OsRng, &ak, &name, &[1; 32]).unwrap_err(),
        CredentialError::EkNotRestrictedDecrypt
    );
    // An EK point off the curve.
    let mut off = ek_bytes.clone();
    let last = off.len() - 1;
    off[last] ^= 1;
    let ek = TpmtPublic::from_bytes(&off).unwrap();
    assert_eq!(
        make_credential_for_name(&mut rand_core::OsRng, &ek, &name, &[1; 32]).unwrap_err(),
        CredentialError::EkKeyInvalid
    );
}

#[test]
fn names_credentials_and_fixed_inputs_are_checked() {
    let ek_bytes = kat("ek-ecc.ak-ecc", "ek_tpmt_public");
    let ek = TpmtPublic::from_bytes(&ek_bytes).unwrap();
    let name = kat("ek-ecc.ak-ecc", "ak_name");
    let mut rng = rand_core::OsRng;
    for bad in [&name[..33], &name[1..], &[0x00, 0x0b][..], &[][..]] {
        assert_eq!(
            make_credential_for_name(&mut rng, &ek, bad, &[1; 32]).unwrap_err(),
            CredentialError::NameInvalid
        );
    }
    assert_eq!(
        make_credential_for_name(&mut rng, &ek, &name, &[]).unwrap_err(),
        CredentialError::CredentialSize(0)
    );
    assert_eq!(
        make_credential_for_name(&mut rng, &ek, &name, &[1; 65]).unwrap_err(),
        CredentialError::CredentialSize(65)
    );
    assert!(make_credential_for_name(&mut rng, &ek, &name, &[1; 64]).is_ok());
    assert_eq!(
        make_credential_fixed(
            &ek,
            &name,
            &[1; 32],
            FixedInputs::Rsa {
                seed: &[0; 32],
                oaep_seed: &[0; 32]
            }
        )
        .unwrap_err(),
        CredentialError::FixedInputKind
    );
    assert!(matches!(
        make_credential_fixed(
            &ek,
            &name,
            &[1; 32],
            FixedInputs::Ecc {
                ephemeral_private: &[0; 32]
            }
        ),
        Err(CredentialError::FixedInputInvalid(_))
    ));
}
