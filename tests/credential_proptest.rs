//! The credential parsers and MakeCredential never panic on arbitrary or mutated input;
//! accepted inputs re-emit unchanged; a credential made with fixed inputs is a function of
//! them (same inputs, same bytes) and changes with the AK Name.

#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "rsa",
    feature = "p256"
))]

use baretpm::credential::{self, make_credential_fixed, FixedInputs};
use baretpm::interop::CredentialFile;
use baretpm::types::{Tpm2bEncryptedSecret, Tpm2bIdObject, Tpm2bPublic, TpmtPublic};
use baretpm::wire::{Marshal, Unmarshal};
use proptest::prelude::*;

fn file(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/vectors/credential/swtpm/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn kat_hex(case: &str, key: &str) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_slice(&file(&format!("{case}.kat.json"))).unwrap();
    hex::decode(v[key].as_str().unwrap()).unwrap()
}

/// A real input with a few bytes overwritten, some inserted or removed, or cut short.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (
        prop::collection::vec((0..len.max(1), any::<u8>()), 0..4),
        0..3usize,
        0..=len,
    )
        .prop_map(move |(writes, mode, cut)| {
            let mut b = base.clone();
            for (i, v) in writes {
                if i < b.len() {
                    b[i] = v;
                }
            }
            match mode {
                0 => b.truncate(cut),
                1 => b.insert(cut.min(b.len()), 0),
                _ => {}
            }
            b
        })
}

fn reemits<M: Marshal>(v: &M, input: &[u8]) {
    let mut buf = vec![0u8; input.len() + 64];
    let out = v.to_bytes(&mut buf).expect("accepted value re-emits");
    assert_eq!(out, input);
}

fn all_parsers(data: &[u8]) {
    match CredentialFile::parse(data) {
        Ok(f) => {
            let mut out = vec![0u8; data.len() + 16];
            let n = f.write(&mut out).unwrap();
            assert_eq!(&out[..n], data);
        }
        Err(e) => assert!(e.offset <= data.len()),
    }
    match Tpm2bIdObject::from_bytes(data) {
        Ok(v) => reemits(&v, data),
        Err(e) => assert!(e.offset <= data.len()),
    }
    match Tpm2bEncryptedSecret::from_bytes(data) {
        Ok(v) => reemits(&v, data),
        Err(e) => assert!(e.offset <= data.len()),
    }
    if let Ok(ek) = credential::ek_public_from_spki(data) {
        TpmtPublic::from_bytes(&ek).unwrap();
    }
    if let Ok(ak) = Tpm2bPublic::from_bytes(data) {
        let _ = credential::check_ak(&ak);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..400)) {
        all_parsers(&data);
    }

    #[test]
    fn mutated_credential_files(data in mutated(file("ek-rsa.ak-rsa.credential-file.bin"))) {
        all_parsers(&data);
    }

    #[test]
    fn mutated_ecc_credential_files(data in mutated(file("ek-ecc.ak-ecc.credential-file.bin"))) {
        all_parsers(&data);
    }

    #[test]
    fn mutated_ek_publics_never_panic_make_credential(
        ek in mutated(kat_hex("ek-ecc.ak-ecc", "ek_tpmt_public")),
        eph in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        if let Ok(p) = TpmtPublic::from_bytes(&ek) {
            let name = kat_hex("ek-ecc.ak-ecc", "ak_name");
            let _ = make_credential_fixed(&p, &name, &[1; 32], FixedInputs::Ecc { ephemeral_private: &eph });
            let _ = make_credential_fixed(&p, &name, &[1; 32], FixedInputs::Rsa { seed: &eph, oaep_seed: &eph });
        }
    }

    #[test]
    fn fixed_inputs_determine_the_credential(
        eph in prop::array::uniform32(1u8..),
        cred in prop::collection::vec(any::<u8>(), 1..=64),
        flip in 2usize..34,
    ) {
        let ek_bytes = kat_hex("ek-ecc.ak-ecc", "ek_tpmt_public");
        let ek = TpmtPublic::from_bytes(&ek_bytes).unwrap();
        let name = kat_hex("ek-ecc.ak-ecc", "ak_name");
        let fixed = FixedInputs::Ecc { ephemeral_private: &eph };
        let made = |n: &[u8]| make_credential_fixed(&ek, n, &cred, fixed);
        // A 32-byte value above the P-256 order is refused, not reduced.
        let Ok(a) = made(&name) else { return Ok(()); };
        prop_assert_eq!(a, made(&name).unwrap());
        prop_assert_eq!(a.id_object().enc_identity.len(), 2 + cred.len());
        let mut other = name.clone();
        other[flip] ^= 1;
        let b = made(&other).unwrap();
        prop_assert_ne!(a.id_object(), b.id_object());
        // The seed does not depend on the Name; the encrypted secret is the same.
        prop_assert_eq!(a.encrypted_secret(), b.encrypted_secret());
    }
}
