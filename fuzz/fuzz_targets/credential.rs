//! The credential parsers and MakeCredential on untrusted bytes.
//!
//! The whole input is tried as a tpm2-tools credential file, a TPM2B_ID_OBJECT and a
//! TPM2B_ENCRYPTED_SECRET (accepted inputs must re-emit unchanged), as an EK
//! SubjectPublicKeyInfo (PEM or DER), and as an AK TPM2B_PUBLIC for the attribute checks.
//! Then the first byte `k` splits the rest: `rest[..k]` as the fixed inputs (RSA seed and OAEP
//! seed, or an ECC ephemeral key) and `rest[k..]` as an EK TPMT_PUBLIC to make a credential
//! for; whatever the bytes, MakeCredential returns a result and never panics.
#![no_main]

use baretpm::credential::{self, FixedInputs};
use baretpm::interop::CredentialFile;
use baretpm::types::{Tpm2bEncryptedSecret, Tpm2bIdObject, Tpm2bPublic, TpmtPublic};
use baretpm::wire::Unmarshal;
use baretpm_fuzz::{assert_reemits, check_wire_error};
use libfuzzer_sys::fuzz_target;

const NAME: [u8; 34] = [0x00, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32];

fuzz_target!(|data: &[u8]| {
    match CredentialFile::parse(data) {
        Ok(f) => {
            let mut out = vec![0u8; data.len() + 16];
            let n = f.write(&mut out).expect("accepted file re-emits");
            assert_eq!(&out[..n], data, "credential file re-emits differently");
        }
        Err(e) => check_wire_error(&e, data.len()),
    }
    match Tpm2bIdObject::from_bytes(data) {
        Ok(v) => assert_reemits(&v, data, "TPM2B_ID_OBJECT"),
        Err(e) => check_wire_error(&e, data.len()),
    }
    match Tpm2bEncryptedSecret::from_bytes(data) {
        Ok(v) => assert_reemits(&v, data, "TPM2B_ENCRYPTED_SECRET"),
        Err(e) => check_wire_error(&e, data.len()),
    }
    if let Ok(ek) = credential::ek_public_from_spki(data) {
        TpmtPublic::from_bytes(&ek).expect("a synthesized EK public parses");
    }
    if let Ok(ak) = Tpm2bPublic::from_bytes(data) {
        if let Ok(name) = credential::check_ak(&ak) {
            assert_eq!(name, ak.name().expect("a checked AK has a Name"));
        }
    }
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let (fixed, ek_bytes) = rest.split_at(usize::from(k).min(rest.len()));
    let Ok(ek) = TpmtPublic::from_bytes(ek_bytes) else {
        return;
    };
    let (a, b) = fixed.split_at(fixed.len() / 2);
    for inputs in [
        FixedInputs::Rsa {
            seed: a,
            oaep_seed: b,
        },
        FixedInputs::Ecc {
            ephemeral_private: fixed,
        },
    ] {
        if let Ok(made) = credential::make_credential_fixed(&ek, &NAME, &[7; 32], inputs) {
            Tpm2bIdObject::from_bytes(made.id_object_bytes()).expect("our ID object parses");
        }
    }
});
