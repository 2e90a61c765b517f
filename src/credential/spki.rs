//! An EK public area from a SubjectPublicKeyInfo (PEM or DER), for verifiers that hold only
//! the EK certificate's key.
//!
//! The TPM-specific parameters MakeCredential needs are not in the SPKI; they are taken from
//! the TCG EK Credential Profile template that matches the key: RSA-2048 and P-256 get
//! SHA-256 / AES-128-CFB (templates L-1, L-2, H-1, H-2), RSA-3072 and P-384 get SHA-384 /
//! AES-256-CFB (H-6, H-3), with those templates' attributes (userWithAuth set). The authPolicy
//! is the template's (it does not enter the credential).

use super::CredentialError;
use crate::commands::templates::{
    EK_ATTRIBUTES, EK_AUTH_POLICY, EK_AUTH_POLICY_B_SHA384, EK_HIGH_ATTRIBUTES,
};
use crate::types::{
    HashAlg, PublicDetails, Tpm2b, TpmAlgId, TpmEccCurve, TpmaObject, TpmsEccParms, TpmsEccPoint,
    TpmsRsaParms, TpmtEccScheme, TpmtKdfScheme, TpmtPublic, TpmtRsaScheme, TpmtSymDefObject,
};
use crate::wire::{Marshal, Writer};
use alloc::vec::Vec;

const OID_RSA: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.132.0.34");

fn sym(bits: u16) -> TpmtSymDefObject {
    TpmtSymDefObject::Cipher {
        algorithm: TpmAlgId::AES,
        key_bits: bits,
        mode: TpmAlgId::CFB,
    }
}

/// `(nameAlg, AES bits, authPolicy, attributes)` of the EK template for a key strength.
fn template(strong: bool) -> (HashAlg, u16, &'static [u8], u32) {
    if strong {
        (
            HashAlg::Sha384,
            256,
            &EK_AUTH_POLICY_B_SHA384,
            EK_HIGH_ATTRIBUTES,
        )
    } else {
        (HashAlg::Sha256, 128, &EK_AUTH_POLICY, EK_ATTRIBUTES)
    }
}

/// Builds the marshaled TPMT_PUBLIC of an EK from its SubjectPublicKeyInfo (PEM or DER).
pub fn ek_public_from_spki(input: &[u8]) -> Result<Vec<u8>, CredentialError> {
    let doc;
    let der: &[u8] = if input.trim_ascii_start().starts_with(b"-----BEGIN") {
        let text = core::str::from_utf8(input).map_err(|_| CredentialError::EkKeyInvalid)?;
        let (label, d) =
            spki::Document::from_pem(text).map_err(|_| CredentialError::EkKeyInvalid)?;
        if label != "PUBLIC KEY" {
            return Err(CredentialError::EkKeyInvalid);
        }
        doc = d;
        doc.as_bytes()
    } else {
        input
    };
    let info =
        spki::SubjectPublicKeyInfoRef::try_from(der).map_err(|_| CredentialError::EkKeyInvalid)?;
    let key_bits = info.subject_public_key.raw_bytes();
    let mut buf = [0u8; 2 * 48 + 1];
    let mut modulus = Vec::new();
    let public = if info.algorithm.oid == OID_RSA {
        rsa_public(der, &mut modulus)?
    } else if info.algorithm.oid == OID_EC {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| CredentialError::EkKeyInvalid)?;
        let (curve_id, size) = if curve == OID_P256 {
            (TpmEccCurve::NIST_P256, 32)
        } else if curve == OID_P384 {
            (TpmEccCurve::NIST_P384, 48)
        } else {
            return Err(CredentialError::EkCurveUnsupported(TpmEccCurve::NONE));
        };
        // Uncompressed SEC1 point: 04 ‖ x ‖ y (the point is checked on the curve when the
        // credential is made).
        if key_bits.len() != 1 + 2 * size || key_bits[0] != 4 {
            return Err(CredentialError::EkKeyInvalid);
        }
        buf[..key_bits.len()].copy_from_slice(key_bits);
        let (name_alg, bits, policy, attributes) = template(size == 48);
        TpmtPublic {
            name_alg: Some(name_alg),
            object_attributes: TpmaObject(attributes),
            auth_policy: Tpm2b(policy),
            details: PublicDetails::Ecc {
                parms: TpmsEccParms {
                    symmetric: sym(bits),
                    scheme: TpmtEccScheme::Null,
                    curve_id,
                    kdf: TpmtKdfScheme::Null,
                },
                unique: TpmsEccPoint {
                    x: Tpm2b(&buf[1..1 + size]),
                    y: Tpm2b(&buf[1 + size..1 + 2 * size]),
                },
            },
        }
    } else {
        return Err(CredentialError::EkTypeUnsupported(TpmAlgId::NULL));
    };
    let mut out = [0u8; crate::types::tpm2b::max::PUBLIC];
    let mut w = Writer::new(&mut out);
    public
        .marshal(&mut w)
        .map_err(|_| CredentialError::EkKeyInvalid)?;
    Ok(w.written().to_vec())
}

#[cfg(feature = "rsa")]
fn rsa_public<'a>(der: &[u8], modulus: &'a mut Vec<u8>) -> Result<TpmtPublic<'a>, CredentialError> {
    use rsa::pkcs8::DecodePublicKey as _;
    use rsa::traits::PublicKeyParts as _;
    let key =
        rsa::RsaPublicKey::from_public_key_der(der).map_err(|_| CredentialError::EkKeyInvalid)?;
    *modulus = key.n().to_bytes_be();
    let bits = (modulus.len() * 8) as u16;
    if !matches!(bits, 2048 | 3072) {
        return Err(CredentialError::EkRsaKeyUnsupported(bits));
    }
    let e = key.e().to_bytes_be();
    if e.len() > 4 {
        return Err(CredentialError::EkKeyInvalid);
    }
    let mut eb = [0u8; 4];
    eb[4 - e.len()..].copy_from_slice(&e);
    let e = u32::from_be_bytes(eb);
    let (name_alg, sym_bits, policy, attributes) = template(bits == 3072);
    Ok(TpmtPublic {
        name_alg: Some(name_alg),
        object_attributes: TpmaObject(attributes),
        auth_policy: Tpm2b(policy),
        details: PublicDetails::Rsa {
            parms: TpmsRsaParms {
                symmetric: sym(sym_bits),
                scheme: TpmtRsaScheme::Null,
                key_bits: bits,
                exponent: if e == 65537 { 0 } else { e },
            },
            unique: Tpm2b(modulus.as_slice()),
        },
    })
}

#[cfg(not(feature = "rsa"))]
fn rsa_public<'a>(_: &[u8], _: &'a mut Vec<u8>) -> Result<TpmtPublic<'a>, CredentialError> {
    Err(CredentialError::RsaUnavailable)
}
