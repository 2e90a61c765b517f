//! The attestation key: read from TPM2B_PUBLIC, TPMT_PUBLIC or SubjectPublicKeyInfo, and
//! checked against the key policy.

use super::{Policy, VerifyError};
use crate::types::{
    PublicDetails, Tpm2bPublic, TpmAlgId, TpmEccCurve, TpmaObject, TpmtEccScheme, TpmtRsaScheme,
};
use crate::wire::Unmarshal;

/// A public key usable for signature checks.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AkKey {
    #[cfg(feature = "rsa")]
    /// An RSA key (from TPMS_RSA_PARMS and `unique.rsa`, or an RSA SubjectPublicKeyInfo).
    Rsa(rsa::RsaPublicKey),
    #[cfg(feature = "p256")]
    /// An ECDSA key on NIST P-256 (TPM_ECC_NIST_P256).
    P256(p256::ecdsa::VerifyingKey),
    #[cfg(feature = "p384")]
    /// An ECDSA key on NIST P-384 (TPM_ECC_NIST_P384).
    P384(p384::ecdsa::VerifyingKey),
}

/// An attestation key, with its TPM public area when it was given in TPM form.
#[derive(Clone, Debug)]
pub struct Ak<'a> {
    pub(crate) key: AkKey,
    /// The TPMT_PUBLIC (and its bytes) when known; `None` for a bare SubjectPublicKeyInfo.
    pub public: Option<Tpm2bPublic<'a>>,
}

/// What a key was given as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AkFormat {
    /// TPM2B_PUBLIC: a big-endian UINT16 size, then TPMT_PUBLIC.
    Tpm2bPublic,
    /// A bare TPMT_PUBLIC (no size prefix).
    TpmtPublic,
    /// A DER SubjectPublicKeyInfo.
    SpkiDer,
    /// A PEM `PUBLIC KEY` block (SubjectPublicKeyInfo).
    SpkiPem,
}

impl<'a> Ak<'a> {
    /// The public key signatures are checked with.
    pub fn key(&self) -> &AkKey {
        &self.key
    }

    /// Reads a TPM2B_PUBLIC (as `tpm2_readpublic -o` and `tpm2_createak -u` write it).
    pub fn from_tpm2b_public(bytes: &'a [u8]) -> Result<Self, VerifyError> {
        let public = Tpm2bPublic::from_bytes(bytes).map_err(VerifyError::AkUnreadable)?;
        Self::from_public(public)
    }

    /// Reads a bare TPMT_PUBLIC.
    pub fn from_tpmt_public(bytes: &'a [u8]) -> Result<Self, VerifyError> {
        let public = Tpm2bPublic::from_tpmt_bytes(bytes).map_err(VerifyError::AkUnreadable)?;
        Self::from_public(public)
    }

    fn from_public(public: Tpm2bPublic<'a>) -> Result<Self, VerifyError> {
        let key = match &public.public_area().details {
            #[cfg(feature = "rsa")]
            PublicDetails::Rsa { parms, unique } => AkKey::Rsa(rsa_key(
                unique.as_bytes(),
                &parms.effective_exponent().to_be_bytes(),
            )?),
            #[cfg(any(feature = "p256", feature = "p384"))]
            PublicDetails::Ecc { parms, unique } => {
                ecc_key(parms.curve_id, unique.x.as_bytes(), unique.y.as_bytes())?
            }
            _ => {
                return Err(VerifyError::AkTypeUnsupported(
                    public.public_area().type_alg(),
                ))
            }
        };
        Ok(Self {
            key,
            public: Some(public),
        })
    }

    /// Reads a DER SubjectPublicKeyInfo (RSA, EC P-256 or P-384), via the RustCrypto decoders.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, VerifyError> {
        #[cfg(any(feature = "p256", feature = "p384"))]
        use spki::DecodePublicKey as _;
        #[cfg(feature = "rsa")]
        if let Some((n, e)) = spki_rsa_parts(der) {
            return Ok(Self {
                key: AkKey::Rsa(rsa_key(n, e)?),
                public: None,
            });
        }
        #[cfg(feature = "p256")]
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(Self {
                key: AkKey::P256(k.into()),
                public: None,
            });
        }
        #[cfg(feature = "p384")]
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Ok(Self {
                key: AkKey::P384(k.into()),
                public: None,
            });
        }
        Err(spki_refusal(der))
    }

    /// Reads a PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`).
    #[cfg(feature = "alloc")]
    pub fn from_spki_pem(pem: &str) -> Result<Self, VerifyError> {
        let (label, der) = spki::Document::from_pem(pem).map_err(|_| VerifyError::AkSpkiInvalid)?;
        if label != "PUBLIC KEY" {
            return Err(VerifyError::AkSpkiInvalid);
        }
        Self::from_spki_der(der.as_bytes())
    }

    /// Detects the form: PEM text, DER SubjectPublicKeyInfo, TPM2B_PUBLIC or TPMT_PUBLIC.
    pub fn from_any(bytes: &'a [u8]) -> Result<(Self, AkFormat), VerifyError> {
        let trimmed = trim_ascii_start(bytes);
        if trimmed.starts_with(b"-----BEGIN") {
            #[cfg(feature = "alloc")]
            {
                let text = core::str::from_utf8(trimmed).map_err(|_| VerifyError::AkSpkiInvalid)?;
                return Self::from_spki_pem(text).map(|a| (a, AkFormat::SpkiPem));
            }
            #[cfg(not(feature = "alloc"))]
            return Err(VerifyError::AkSpkiInvalid);
        }
        if bytes.len() >= 2
            && usize::from(u16::from_be_bytes([bytes[0], bytes[1]])) == bytes.len() - 2
        {
            return Self::from_tpm2b_public(bytes).map(|a| (a, AkFormat::Tpm2bPublic));
        }
        if bytes.first() == Some(&0x30) {
            return Self::from_spki_der(bytes).map(|a| (a, AkFormat::SpkiDer));
        }
        Self::from_tpmt_public(bytes).map(|a| (a, AkFormat::TpmtPublic))
    }

    /// The key's algorithm (`TPM_ALG_RSA` or `TPM_ALG_ECC`).
    pub fn key_type(&self) -> TpmAlgId {
        match self.key {
            #[cfg(feature = "rsa")]
            AkKey::Rsa(_) => TpmAlgId::RSA,
            #[cfg(feature = "p256")]
            AkKey::P256(_) => TpmAlgId::ECC,
            #[cfg(feature = "p384")]
            AkKey::P384(_) => TpmAlgId::ECC,
        }
    }

    /// Checks the key against the policy: sizes, exponent, curve and, when the TPMT_PUBLIC is
    /// known, the attributes an attestation key must have.
    pub fn check_policy(&self, policy: &Policy) -> Result<(), VerifyError> {
        match &self.key {
            #[cfg(feature = "rsa")]
            AkKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts as _;
                let bits = k.n().bits();
                if bits < policy.min_rsa_bits {
                    return Err(VerifyError::RsaKeyTooSmall {
                        bits,
                        min: policy.min_rsa_bits,
                    });
                }
                if let Some(PublicDetails::Rsa { parms, .. }) =
                    self.public.as_ref().map(|p| p.public_area().details)
                {
                    if usize::from(parms.key_bits) != bits {
                        return Err(VerifyError::RsaKeyBitsMismatch {
                            declared: parms.key_bits,
                            actual: bits,
                        });
                    }
                }
            }
            #[cfg(feature = "p256")]
            AkKey::P256(_) => {}
            #[cfg(feature = "p384")]
            AkKey::P384(_) => {}
        }
        if let (Some(p), true) = (&self.public, policy.require_ak_attributes) {
            let a = p.public_area().object_attributes;
            if !a.has(TpmaObject::RESTRICTED) {
                return Err(VerifyError::AkNotRestricted);
            }
            if !a.has(TpmaObject::SIGN_ENCRYPT) {
                return Err(VerifyError::AkNotSigning);
            }
            if a.has(TpmaObject::DECRYPT) {
                return Err(VerifyError::AkDecryptSet);
            }
            if !a.has(TpmaObject::FIXED_TPM) {
                return Err(VerifyError::AkNotFixedTpm);
            }
            if !a.has(TpmaObject::FIXED_PARENT) {
                return Err(VerifyError::AkNotFixedParent);
            }
        }
        Ok(())
    }

    /// The signing scheme the key pins, if its TPMT_PUBLIC names one: (scheme, hash).
    pub fn pinned_scheme(&self) -> Option<(TpmAlgId, crate::types::HashAlg)> {
        match self.public.as_ref()?.public_area().details {
            PublicDetails::Rsa { parms, .. } => match parms.scheme {
                TpmtRsaScheme::RsaSsa(h) => Some((TpmAlgId::RSASSA, h)),
                TpmtRsaScheme::RsaPss(h) => Some((TpmAlgId::RSAPSS, h)),
                _ => None,
            },
            PublicDetails::Ecc { parms, .. } => match parms.scheme {
                TpmtEccScheme::Ecdsa(h) => Some((TpmAlgId::ECDSA, h)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Big-endian bytes as a number, or `None` above `u64`.
#[cfg(feature = "rsa")]
fn be_u64(b: &[u8]) -> Option<u64> {
    let b = &b[b.iter().take_while(|&&x| x == 0).count()..];
    (b.len() <= 8).then(|| b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
}

/// Builds an RSA key from modulus and exponent, refusing with the check that failed: the
/// exponent rule (odd, at least 65537), then the size floor, before the `rsa` crate's own checks.
#[cfg(feature = "rsa")]
fn rsa_key(n: &[u8], e: &[u8]) -> Result<rsa::RsaPublicKey, VerifyError> {
    let exponent = be_u64(e).unwrap_or(u64::MAX);
    if exponent < 65537 || exponent % 2 == 0 {
        return Err(VerifyError::RsaExponentRejected { exponent });
    }
    let n_trimmed = &n[n.iter().take_while(|&&x| x == 0).count()..];
    let bits = n_trimmed
        .first()
        .map_or(0, |top| 8 * n_trimmed.len() - top.leading_zeros() as usize);
    let min = Policy::default().min_rsa_bits;
    if bits < min {
        return Err(VerifyError::RsaKeyTooSmall { bits, min });
    }
    rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from_bytes_be(e),
    )
    .map_err(|_| VerifyError::RsaKeyUnusable { bits })
}

/// Modulus and exponent of an RSA SubjectPublicKeyInfo, if that is what `der` is.
#[cfg(feature = "rsa")]
fn spki_rsa_parts(der: &[u8]) -> Option<(&[u8], &[u8])> {
    use rsa::pkcs1::der::Decode as _;
    const RSA_ENCRYPTION: spki::ObjectIdentifier =
        spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let info = spki::SubjectPublicKeyInfoRef::from_der(der).ok()?;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return None;
    }
    let key = rsa::pkcs1::RsaPublicKey::from_der(info.subject_public_key.as_bytes()?).ok()?;
    Some((key.modulus.as_bytes(), key.public_exponent.as_bytes()))
}

/// An ECDSA key from TPMS_ECC_POINT coordinates, on a curve the policy allows (P-256, P-384).
#[cfg(any(feature = "p256", feature = "p384"))]
fn ecc_key(curve: TpmEccCurve, x: &[u8], y: &[u8]) -> Result<AkKey, VerifyError> {
    #[cfg(feature = "p256")]
    if curve == TpmEccCurve::NIST_P256 {
        let x = pad_be::<32>(x).ok_or(VerifyError::EccPointInvalid)?;
        let y = pad_be::<32>(y).ok_or(VerifyError::EccPointInvalid)?;
        let point = p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
        return p256::ecdsa::VerifyingKey::from_encoded_point(&point)
            .map(AkKey::P256)
            .map_err(|_| VerifyError::EccPointInvalid);
    }
    #[cfg(feature = "p384")]
    if curve == TpmEccCurve::NIST_P384 {
        let x = pad_be::<48>(x).ok_or(VerifyError::EccPointInvalid)?;
        let y = pad_be::<48>(y).ok_or(VerifyError::EccPointInvalid)?;
        let point = p384::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
        return p384::ecdsa::VerifyingKey::from_encoded_point(&point)
            .map(AkKey::P384)
            .map_err(|_| VerifyError::EccPointInvalid);
    }
    Err(VerifyError::EccCurveNotAllowed(curve))
}

/// Why a SubjectPublicKeyInfo we could not use was refused: an EC key on another curve gets
/// the curve error, anything else the generic one.
fn spki_refusal(der: &[u8]) -> VerifyError {
    use spki::der::Decode as _;
    const EC_PUBLIC_KEY: spki::ObjectIdentifier =
        spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    const P256: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    const P384: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.132.0.34");
    let Ok(info) = spki::SubjectPublicKeyInfoRef::from_der(der) else {
        return VerifyError::AkSpkiInvalid;
    };
    if info.algorithm.oid != EC_PUBLIC_KEY {
        return VerifyError::AkSpkiInvalid;
    }
    let curve_oid = info.algorithm.parameters_oid().ok();
    if (cfg!(feature = "p256") && curve_oid == Some(P256))
        || (cfg!(feature = "p384") && curve_oid == Some(P384))
    {
        // A well-formed key on a curve we take that its crate refused: the point is not on
        // the curve.
        return VerifyError::EccPointInvalid;
    }
    let curve = info
        .algorithm
        .parameters_oid()
        .ok()
        .map(|oid| match oid.as_bytes() {
            // secp224r1, secp384r1, secp521r1 under 1.3.132.0
            [0x2b, 0x81, 0x04, 0x00, 0x21] => TpmEccCurve::NIST_P224,
            [0x2b, 0x81, 0x04, 0x00, 0x22] => TpmEccCurve::NIST_P384,
            [0x2b, 0x81, 0x04, 0x00, 0x23] => TpmEccCurve::NIST_P521,
            _ => TpmEccCurve::NONE,
        });
    match curve {
        Some(c) if c != TpmEccCurve::NONE => VerifyError::EccCurveNotAllowed(c),
        _ => VerifyError::AkSpkiInvalid,
    }
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Left-pads a big-endian integer to `N` bytes (the field size); `None` if it is longer.
///
/// No leading zeros are stripped first: a 33-byte encoding of a 32-byte number is refused, so
/// one signature or point has one encoding.
#[cfg(any(feature = "p256", feature = "p384"))]
pub(crate) fn pad_be<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    if b.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    out[N - b.len()..].copy_from_slice(b);
    Some(out)
}

#[cfg(feature = "alloc")]
impl Ak<'_> {
    /// The key as a PEM SubjectPublicKeyInfo (what `tpm2_readpublic -f pem` writes).
    pub fn to_spki_pem(&self) -> Result<alloc::string::String, VerifyError> {
        use spki::EncodePublicKey as _;
        let pem = match &self.key {
            #[cfg(feature = "rsa")]
            AkKey::Rsa(k) => k.to_public_key_pem(spki::der::pem::LineEnding::LF),
            #[cfg(feature = "p256")]
            AkKey::P256(k) => {
                p256::PublicKey::from(k).to_public_key_pem(spki::der::pem::LineEnding::LF)
            }
            #[cfg(feature = "p384")]
            AkKey::P384(k) => {
                p384::PublicKey::from(k).to_public_key_pem(spki::der::pem::LineEnding::LF)
            }
        };
        pem.map_err(|_| VerifyError::AkSpkiInvalid)
    }
}
