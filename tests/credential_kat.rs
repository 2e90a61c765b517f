//! Known-answer tests for MakeCredential (vectors/credential/, origin in its ORIGIN.md):
//! KDFa and KDFe (TCG-validated vectors), RSA and ECC seed encapsulation under "IDENTITY",
//! the go-tpm legacy RSA credential, and the six swtpm-activated credentials byte for byte.

#![cfg(all(
    feature = "std",
    feature = "credential",
    feature = "rsa",
    feature = "p256"
))]

use baretpm::credential::{
    self, check_ak, ek_params, encapsulate_seed_fixed, kdf, make_credential_fixed, CredentialError,
    EkKey, EkParams, FixedInputs,
};
use baretpm::interop::CredentialFile;
use baretpm::types::{
    HashAlg, PublicDetails, Tpm2bPublic, TpmAlgId, TpmEccCurve, TpmtPublic, TpmtRsaScheme,
    TpmtSymDefObject,
};
use baretpm::wire::Unmarshal;
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/credential")
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir().join(name)).unwrap()).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn hash(v: &Value) -> HashAlg {
    HashAlg::from_alg_id(TpmAlgId(v.as_u64().unwrap() as u16)).unwrap()
}

#[test]
fn kdfa_vectors() {
    let cases = json("kdfa.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 100);
    for c in cases {
        let want = hx(&c["Result"]);
        let mut out = [0u8; 256];
        let n = kdf::kdfa(
            hash(&c["HashAlg"]),
            &hx(&c["Key"]),
            c["Label"].as_str().unwrap().as_bytes(),
            &hx(&c["ContextU"]),
            &hx(&c["ContextV"]),
            c["Bits"].as_u64().unwrap() as u32,
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[..n], &want[..], "{}", c["Name"]);
    }
}

#[test]
fn kdfe_vectors() {
    let cases = json("kdfe.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 100);
    for c in cases {
        let want = hx(&c["Result"]);
        let mut out = [0u8; 256];
        let n = kdf::kdfe(
            hash(&c["HashAlg"]),
            &hx(&c["Z"]),
            c["Label"].as_str().unwrap().as_bytes(),
            &hx(&c["ContextU"]),
            &hx(&c["ContextV"]),
            c["Bits"].as_u64().unwrap() as u32,
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[..n], &want[..], "{}", c["Name"]);
    }
}

#[test]
fn kdf_output_size_is_checked() {
    let mut out = [0u8; 4];
    assert_eq!(
        kdf::kdfa(HashAlg::Sha256, b"k", b"L", &[], &[], 0, &mut out),
        Ok(0)
    );
    assert!(kdf::kdfa(HashAlg::Sha256, b"k", b"L", &[], &[], 40, &mut out).is_err());
    assert!(kdf::kdfe(HashAlg::Sha256, b"z", b"L", &[], &[], 33, &mut out).is_err());
}

/// EK parameters for the encapsulation vectors, which include unrestricted keys (the check
/// that an EK is restricted belongs to MakeCredential, not to secret sharing).
fn params_of<'a>(p: &TpmtPublic<'a>) -> EkParams<'a> {
    let name_alg = p.name_alg.unwrap();
    let (sym, key) = match p.details {
        PublicDetails::Rsa { parms, unique } => (
            parms.symmetric,
            EkKey::Rsa {
                modulus: unique.as_bytes(),
                exponent: parms.effective_exponent(),
                oaep_hash: match parms.scheme {
                    TpmtRsaScheme::Oaep(h) => h,
                    _ => name_alg,
                },
            },
        ),
        PublicDetails::Ecc { parms, unique } => (
            parms.symmetric,
            EkKey::Ecc {
                curve: parms.curve_id,
                x: unique.x.as_bytes(),
                y: unique.y.as_bytes(),
            },
        ),
        _ => panic!("vector key is not RSA or ECC"),
    };
    let sym_bits = match sym {
        TpmtSymDefObject::Cipher { key_bits, .. } => key_bits,
        TpmtSymDefObject::Null => 0,
    };
    EkParams {
        name_alg,
        sym_bits,
        key,
    }
}

#[test]
fn rsa_identity_encapsulation_vectors() {
    let cases = json("rsa_labeled_encaps.identity.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 36);
    let mut checked = 0;
    for c in cases {
        let public = hx(&c["PublicKey"]);
        let p = TpmtPublic::from_bytes(&public).unwrap();
        let params = params_of(&p);
        let seed = hx(&c["Secret"]);
        let salt = hx(&c["OAEPSalt"]);
        let (s, ct) = encapsulate_seed_fixed(
            &params,
            credential::IDENTITY_LABEL,
            FixedInputs::Rsa {
                seed: &seed,
                oaep_seed: &salt,
            },
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c["Name"]));
        assert_eq!(s.as_bytes(), &seed[..], "{}", c["Name"]);
        assert_eq!(ct.as_bytes(), &hx(&c["Ciphertext"])[..], "{}", c["Name"]);
        checked += 1;
    }
    assert_eq!(checked, 36);
}

#[test]
fn ecc_identity_encapsulation_vectors() {
    let cases = json("ecc_labeled_encaps.identity.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 30);
    let (mut checked, mut p521) = (0, 0);
    for c in cases {
        let public = hx(&c["PublicKey"]);
        let p = TpmtPublic::from_bytes(&public).unwrap();
        let params = params_of(&p);
        let eph = hx(&c["EphemeralPrivate"]);
        let got = encapsulate_seed_fixed(
            &params,
            credential::IDENTITY_LABEL,
            FixedInputs::Ecc {
                ephemeral_private: &eph,
            },
        );
        if matches!(params.key, EkKey::Ecc { curve, .. } if curve == TpmEccCurve::NIST_P521) {
            assert_eq!(
                got.unwrap_err(),
                CredentialError::EkCurveUnsupported(TpmEccCurve::NIST_P521)
            );
            p521 += 1;
            continue;
        }
        let (s, ct) = got.unwrap_or_else(|e| panic!("{}: {e}", c["Name"]));
        assert_eq!(s.as_bytes(), &hx(&c["Secret"])[..], "{}", c["Name"]);
        assert_eq!(ct.as_bytes(), &hx(&c["Ciphertext"])[..], "{}", c["Name"]);
        checked += 1;
    }
    assert_eq!((checked, p521), (17, 13));
}

#[test]
fn go_tpm_legacy_rsa_credential() {
    let v = json("go-tpm-legacy-rsa-kat.json");
    // The EK is given as a SubjectPublicKeyInfo; go-tpm assumes template L-1's parameters.
    let ek_bytes =
        credential::ek_public_from_spki(v["ek_rsa_spki_pem"].as_str().unwrap().as_bytes()).unwrap();
    let ek = TpmtPublic::from_bytes(&ek_bytes).unwrap();
    let made = make_credential_fixed(
        &ek,
        &hx(&v["ak_name"]),
        &hx(&v["credential"]),
        FixedInputs::Rsa {
            seed: &hx(&v["seed"]),
            oaep_seed: &hx(&v["oaep_seed"]),
        },
    )
    .unwrap();
    let mut got = made.id_object_bytes().to_vec();
    got.extend_from_slice(made.encrypted_secret_bytes());
    assert_eq!(
        got,
        hx(&v["expected_tpm2b_id_object_then_tpm2b_encrypted_secret"])
    );
}

const SWTPM_CASES: [&str; 4] = [
    "ek-rsa.ak-rsa",
    "ek-rsa.ak-ecc",
    "ek-ecc.ak-rsa",
    "ek-ecc.ak-ecc",
];

#[test]
fn swtpm_activated_credentials_byte_exact() {
    for case in SWTPM_CASES {
        let v = json(&format!("swtpm/{case}.kat.json"));
        let ek_bytes = hx(&v["ek_tpmt_public"]);
        let ek = TpmtPublic::from_bytes(&ek_bytes).unwrap();
        let ak_bytes = hx(&v["ak_tpmt_public"]);
        let ak = Tpm2bPublic::from_tpmt_bytes(&ak_bytes).unwrap();
        // The AK passes the attribute checks and its Name is the one the TPM computed.
        let name = check_ak(&ak).unwrap();
        assert_eq!(name.as_bytes(), &hx(&v["ak_name"])[..], "{case}");
        let tools_name = std::fs::read(dir().join(format!("swtpm/{case}.ak.name"))).unwrap();
        assert_eq!(name.as_bytes(), &tools_name[..], "{case}");

        let params = ek_params(&ek).unwrap();
        assert_eq!(
            params.name_alg.alg_id().0 as u64,
            v["ek_nameAlg"].as_u64().unwrap()
        );
        assert_eq!(
            u64::from(params.sym_bits),
            v["ek_symmetric"]["bits"].as_u64().unwrap()
        );
        let eph = hx(&v["ephemeral_private"]);
        let seed = hx(&v["seed"]);
        let salt = hx(&v["oaep_salt"]);
        let fixed = if eph.is_empty() {
            FixedInputs::Rsa {
                seed: &seed,
                oaep_seed: &salt,
            }
        } else {
            FixedInputs::Ecc {
                ephemeral_private: &eph,
            }
        };
        // The seed and both derived keys match the intermediates.
        let (s, _) = encapsulate_seed_fixed(&params, credential::IDENTITY_LABEL, fixed).unwrap();
        assert_eq!(s.as_bytes(), &seed[..], "{case}: seed");
        let mut k = [0u8; 64];
        let n = kdf::kdfa(
            params.name_alg,
            &seed,
            credential::STORAGE_LABEL,
            name.as_bytes(),
            &[],
            u32::from(params.sym_bits),
            &mut k,
        )
        .unwrap();
        assert_eq!(&k[..n], &hx(&v["symmetric_key"])[..], "{case}: AES key");
        let n = kdf::kdfa(
            params.name_alg,
            &seed,
            credential::INTEGRITY_LABEL,
            &[],
            &[],
            256,
            &mut k,
        )
        .unwrap();
        assert_eq!(&k[..n], &hx(&v["hmac_key"])[..], "{case}: HMAC key");

        let cred = hx(&v["credential"]);
        let made = make_credential_fixed(&ek, name.as_bytes(), &cred, fixed).unwrap();
        assert_eq!(
            made.id_object_bytes(),
            &hx(&v["tpm2b_id_object"])[..],
            "{case}"
        );
        assert_eq!(
            made.encrypted_secret_bytes(),
            &hx(&v["tpm2b_encrypted_secret"])[..],
            "{case}"
        );

        // The tpm2-tools credential file swtpm activated is exactly what we write.
        let file = std::fs::read(dir().join(format!("swtpm/{case}.credential-file.bin"))).unwrap();
        let parsed = CredentialFile::parse(&file).unwrap();
        assert_eq!(parsed.id_object, made.id_object(), "{case}");
        assert_eq!(parsed.encrypted_secret, made.encrypted_secret(), "{case}");
        let mut out = [0u8; baretpm::interop::MAX_CREDENTIAL_FILE];
        let len = CredentialFile {
            id_object: made.id_object(),
            encrypted_secret: made.encrypted_secret(),
        }
        .write(&mut out)
        .unwrap();
        assert_eq!(&out[..len], &file[..], "{case}");
        // And swtpm answered with the credential.
        let activated = std::fs::read(dir().join(format!("swtpm/{case}.activated.bin"))).unwrap();
        assert!(credential::credential_matches(&cred, &activated), "{case}");
    }
}

#[test]
fn ek_tpm2b_public_files_match_the_kat_eks() {
    for (file, case) in [
        ("swtpm/ek-rsa.tpm2b_public.bin", "ek-rsa.ak-rsa"),
        ("swtpm/ek-ecc.tpm2b_public.bin", "ek-ecc.ak-ecc"),
    ] {
        let bytes = std::fs::read(dir().join(file)).unwrap();
        let p = Tpm2bPublic::from_bytes(&bytes).unwrap();
        let v = json(&format!("swtpm/{case}.kat.json"));
        assert_eq!(p.raw(), &hx(&v["ek_tpmt_public"])[..]);
    }
}

#[test]
fn random_credentials_differ_and_have_the_kat_shape() {
    let v = json("swtpm/ek-ecc.ak-ecc.kat.json");
    let ek_bytes = hx(&v["ek_tpmt_public"]);
    let ek = TpmtPublic::from_bytes(&ek_bytes).unwrap();
    let ak_bytes = hx(&v["ak_tpmt_public"]);
    let ak = Tpm2bPublic::from_tpmt_bytes(&ak_bytes).unwrap();
    let cred = [0x5a; 32];
    let a = credential::make_credential(&mut rand_core::OsRng, &ek, &ak, &cred).unwrap();
    let b = credential::make_credential(&mut rand_core::OsRng, &ek, &ak, &cred).unwrap();
    assert_ne!(a, b);
    assert_eq!(a.id_object_bytes().len(), 70);
    assert_eq!(a.encrypted_secret_bytes().len(), 70);
    let v = json("swtpm/ek-rsa.ak-ecc.kat.json");
    let ek_bytes = hx(&v["ek_tpmt_public"]);
    let ek = TpmtPublic::from_bytes(&ek_bytes).unwrap();
    let c = credential::make_credential(&mut rand_core::OsRng, &ek, &ak, &cred).unwrap();
    assert_eq!(c.encrypted_secret_bytes().len(), 258);
    assert_eq!(c.id_object_bytes().len(), 70);
}
