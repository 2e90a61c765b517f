//! A certificate's public key in a form comparable with a TPM public area.

use super::error::CertError;
use super::oid;
use crate::types::{PublicDetails, Tpm2bPublic, TpmEccCurve, TpmtPublic};
use crate::wire::Unmarshal as _;
use alloc::vec::Vec;
use x509_cert::der::asn1::{ObjectIdentifier as Oid, UintRef};
use x509_cert::der::{Decode, Reader, SliceReader};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

/// Curves an EK or AK may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpmCurve {
    /// NIST P-256 (secp256r1), 32-byte coordinates.
    P256,
    /// NIST P-384 (secp384r1), 48-byte coordinates.
    P384,
    /// NIST P-521 (secp521r1), 66-byte coordinates.
    P521,
}

impl TpmCurve {
    fn field_size(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }
}

/// A public key reduced to what identifies it: RSA modulus and exponent (no leading zero
/// bytes), or an EC curve with both coordinates at the field size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectKey {
    /// An RSA key.
    Rsa {
        /// The modulus, big-endian, no leading zero bytes.
        modulus: Vec<u8>,
        /// The public exponent, big-endian, no leading zero bytes.
        exponent: Vec<u8>,
    },
    /// An EC key.
    Ec {
        /// Its curve.
        curve: TpmCurve,
        /// X coordinate, big-endian, at the field size.
        x: Vec<u8>,
        /// Y coordinate, big-endian, at the field size.
        y: Vec<u8>,
    },
}

fn strip(b: &[u8]) -> Vec<u8> {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b[i..].to_vec()
}

/// Left-pads a coordinate to the field size; `None` if it is longer.
fn pad(b: &[u8], size: usize) -> Option<Vec<u8>> {
    let b = &b[b.iter().position(|&x| x != 0).unwrap_or(b.len())..];
    if b.len() > size {
        return None;
    }
    let mut v = alloc::vec![0u8; size - b.len()];
    v.extend_from_slice(b);
    Some(v)
}

impl SubjectKey {
    /// From a SubjectPublicKeyInfo: rsaEncryption, id-RSAES-OAEP (TPM 1.2 EKs) or
    /// id-ecPublicKey on P-256/P-384/P-521 with an uncompressed point.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, CertError> {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or(CertError::UnsupportedKey(spki.algorithm.oid))?;
        match spki.algorithm.oid {
            oid::RSA_ENCRYPTION | oid::RSAES_OAEP => {
                let (n, e) =
                    rsa_parts(bits).ok_or(CertError::UnsupportedKey(spki.algorithm.oid))?;
                Ok(Self::Rsa {
                    modulus: strip(n),
                    exponent: strip(e),
                })
            }
            oid::EC_PUBLIC_KEY => {
                let curve_oid: Oid = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<Oid>().ok())
                    .ok_or(CertError::UnsupportedKey(spki.algorithm.oid))?;
                let curve = match curve_oid {
                    oid::SECP256R1 => TpmCurve::P256,
                    oid::SECP384R1 => TpmCurve::P384,
                    oid::SECP521R1 => TpmCurve::P521,
                    other => return Err(CertError::UnsupportedKey(other)),
                };
                let n = curve.field_size();
                if bits.len() != 1 + 2 * n || bits[0] != 0x04 {
                    return Err(CertError::UnsupportedKey(curve_oid));
                }
                Ok(Self::Ec {
                    curve,
                    x: bits[1..1 + n].to_vec(),
                    y: bits[1 + n..].to_vec(),
                })
            }
            other => Err(CertError::UnsupportedKey(other)),
        }
    }

    /// From a TPM public area (RSA: exponent 0 means 65537).
    pub fn from_tpmt_public(p: &TpmtPublic<'_>) -> Result<Self, CertError> {
        match &p.details {
            PublicDetails::Rsa { parms, unique } => Ok(Self::Rsa {
                modulus: strip(unique.as_bytes()),
                exponent: strip(&parms.effective_exponent().to_be_bytes()),
            }),
            PublicDetails::Ecc { parms, unique } => {
                let curve = match parms.curve_id {
                    TpmEccCurve::NIST_P256 => TpmCurve::P256,
                    TpmEccCurve::NIST_P384 => TpmCurve::P384,
                    TpmEccCurve::NIST_P521 => TpmCurve::P521,
                    _ => return Err(CertError::BadComparisonKey),
                };
                let n = curve.field_size();
                Ok(Self::Ec {
                    curve,
                    x: pad(unique.x.as_bytes(), n).ok_or(CertError::BadComparisonKey)?,
                    y: pad(unique.y.as_bytes(), n).ok_or(CertError::BadComparisonKey)?,
                })
            }
            _ => Err(CertError::BadComparisonKey),
        }
    }

    /// From TPM2B_PUBLIC, TPMT_PUBLIC, DER SubjectPublicKeyInfo or PEM `PUBLIC KEY` bytes.
    pub fn from_key_bytes(bytes: &[u8]) -> Result<Self, CertError> {
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(bytes.len());
        if bytes[start..].starts_with(b"-----BEGIN") {
            let (label, der) = x509_cert::der::pem::decode_vec(&bytes[start..])
                .map_err(|_| CertError::BadComparisonKey)?;
            if label != "PUBLIC KEY" {
                return Err(CertError::BadComparisonKey);
            }
            return Self::from_spki_der(&der);
        }
        if bytes.len() >= 2
            && usize::from(u16::from_be_bytes([bytes[0], bytes[1]])) == bytes.len() - 2
        {
            if let Ok(p) = Tpm2bPublic::from_bytes(bytes) {
                return Self::from_tpmt_public(&p.public_area());
            }
        }
        if bytes.first() == Some(&0x30) {
            if let Ok(k) = Self::from_spki_der(bytes) {
                return Ok(k);
            }
        }
        let p = Tpm2bPublic::from_tpmt_bytes(bytes).map_err(|_| CertError::BadComparisonKey)?;
        Self::from_tpmt_public(&p.public_area())
    }

    fn from_spki_der(der: &[u8]) -> Result<Self, CertError> {
        let spki =
            SubjectPublicKeyInfoOwned::from_der(der).map_err(|_| CertError::BadComparisonKey)?;
        Self::from_spki(&spki).map_err(|_| CertError::BadComparisonKey)
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
pub(crate) fn rsa_parts(bits: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut r = SliceReader::new(bits).ok()?;
    let parts = r
        .sequence(|r| {
            let n = UintRef::decode(r)?;
            let e = UintRef::decode(r)?;
            Ok((n.as_bytes(), e.as_bytes()))
        })
        .ok()?;
    r.finish(parts).ok()
}
