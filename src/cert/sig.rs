//! Certificate signatures: RSA PKCS#1 v1.5 and PSS, ECDSA on P-256 and P-384, with SHA-1
//! (only when allowed), SHA-256, SHA-384 or SHA-512, through the RustCrypto crates.

use super::error::CertError;
use super::key::rsa_parts;
use super::oid;
use super::parse::Certificate;
use alloc::vec::Vec;
use x509_cert::der::asn1::{Null, ObjectIdentifier as Oid};
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::AlgorithmIdentifierOwned;

/// Digest of a signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureHash {
    /// SHA-1 (refused unless the policy allows it).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl SignatureHash {
    fn from_oid(o: &Oid) -> Option<Self> {
        match *o {
            oid::SHA1 => Some(Self::Sha1),
            oid::SHA256 => Some(Self::Sha256),
            oid::SHA384 => Some(Self::Sha384),
            oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1v15(self) -> rsa::Pkcs1v15Sign {
        match self {
            Self::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
            Self::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Self::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Self::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }

    fn pss(self, salt_len: usize) -> rsa::Pss {
        match self {
            Self::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt_len),
            Self::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt_len),
            Self::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt_len),
            Self::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt_len),
        }
    }
}

/// A certificate signature algorithm this verifier implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureAlg {
    /// RSASSA-PKCS1-v1_5 with this hash (sha256WithRSAEncryption, ...).
    RsaPkcs1v15(SignatureHash),
    /// RSASSA-PSS (MGF1 with the same hash).
    RsaPss {
        /// The message hash (and MGF1's).
        hash: SignatureHash,
        /// The salt length in bytes, from the parameters.
        salt_len: usize,
    },
    /// ECDSA with this hash (ecdsa-with-SHA256, ...).
    Ecdsa(SignatureHash),
}

impl SignatureAlg {
    /// Reads an AlgorithmIdentifier. RSA PKCS#1 v1.5 takes NULL or absent parameters; ECDSA
    /// takes absent or NULL (Intel's OnDie root writes NULL); PSS needs MGF1 with the same hash.
    pub fn from_algorithm_identifier(a: &AlgorithmIdentifierOwned) -> Result<Self, CertError> {
        let null_or_absent = a
            .parameters
            .as_ref()
            .map_or(true, |p| p.decode_as::<Null>().is_ok());
        let simple = |alg| {
            if null_or_absent {
                Ok(alg)
            } else {
                Err(CertError::UnsupportedSignatureAlgorithm(a.oid))
            }
        };
        match a.oid {
            oid::SHA1_WITH_RSA => simple(Self::RsaPkcs1v15(SignatureHash::Sha1)),
            oid::SHA256_WITH_RSA => simple(Self::RsaPkcs1v15(SignatureHash::Sha256)),
            oid::SHA384_WITH_RSA => simple(Self::RsaPkcs1v15(SignatureHash::Sha384)),
            oid::SHA512_WITH_RSA => simple(Self::RsaPkcs1v15(SignatureHash::Sha512)),
            oid::ECDSA_WITH_SHA1 => simple(Self::Ecdsa(SignatureHash::Sha1)),
            oid::ECDSA_WITH_SHA256 => simple(Self::Ecdsa(SignatureHash::Sha256)),
            oid::ECDSA_WITH_SHA384 => simple(Self::Ecdsa(SignatureHash::Sha384)),
            oid::ECDSA_WITH_SHA512 => simple(Self::Ecdsa(SignatureHash::Sha512)),
            oid::RSASSA_PSS => pss_params(a),
            other => Err(CertError::UnsupportedSignatureAlgorithm(other)),
        }
    }

    /// The hash the algorithm signs with.
    pub fn hash(self) -> SignatureHash {
        match self {
            Self::RsaPkcs1v15(h) | Self::Ecdsa(h) | Self::RsaPss { hash: h, .. } => h,
        }
    }
}

fn pss_params(a: &AlgorithmIdentifierOwned) -> Result<SignatureAlg, CertError> {
    let unsupported = || CertError::UnsupportedPssParameters;
    let params = a.parameters.as_ref().ok_or_else(unsupported)?;
    let der = params.to_der().map_err(|_| unsupported())?;
    let p = rsa::pkcs1::RsaPssParams::from_der(&der).map_err(|_| unsupported())?;
    let hash = SignatureHash::from_oid(&p.hash.oid).ok_or_else(unsupported)?;
    if p.mask_gen.oid != oid::MGF1 {
        return Err(unsupported());
    }
    let mgf_hash = p
        .mask_gen
        .parameters
        .as_ref()
        .and_then(|h| SignatureHash::from_oid(&h.oid));
    if mgf_hash != Some(hash) {
        return Err(unsupported());
    }
    Ok(SignatureAlg::RsaPss {
        hash,
        salt_len: usize::from(p.salt_len),
    })
}

/// A CA's public key, ready to check signatures.
#[derive(Clone, Debug)]
pub enum IssuerKey {
    /// An RSA key.
    Rsa(rsa::RsaPublicKey),
    /// An ECDSA key on P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// An ECDSA key on P-384.
    P384(p384::ecdsa::VerifyingKey),
}

impl IssuerKey {
    /// The key of `cert` (RSA up to 4096 bits, P-256, P-384).
    pub fn of(cert: &Certificate) -> Result<Self, CertError> {
        let spki = &cert.tbs.subject_public_key_info;
        let bad = || CertError::BadPublicKey {
            subject: cert.display_name(),
        };
        let bits = spki.subject_public_key.as_bytes().ok_or_else(bad)?;
        match spki.algorithm.oid {
            oid::RSA_ENCRYPTION => {
                let (n, e) = rsa_parts(bits).ok_or_else(bad)?;
                let key = rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(n),
                    rsa::BigUint::from_bytes_be(e),
                )
                .map_err(|_| bad())?;
                Ok(Self::Rsa(key))
            }
            oid::EC_PUBLIC_KEY => {
                let curve: Oid = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<Oid>().ok())
                    .ok_or_else(bad)?;
                match curve {
                    oid::SECP256R1 => p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                        .map(Self::P256)
                        .map_err(|_| bad()),
                    oid::SECP384R1 => p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                        .map(Self::P384)
                        .map_err(|_| bad()),
                    other => Err(CertError::UnsupportedKey(other)),
                }
            }
            other => Err(CertError::UnsupportedKey(other)),
        }
    }
}

/// Checks `cert`'s signature with `issuer_key`, over the tbsCertificate bytes as read.
pub fn verify_signature(
    cert: &Certificate,
    issuer_key: &IssuerKey,
    issuer_name: &str,
    allow_sha1: bool,
) -> Result<(), CertError> {
    if cert.signature_algorithm != cert.tbs.signature {
        return Err(CertError::SignatureAlgorithmMismatch);
    }
    let alg = SignatureAlg::from_algorithm_identifier(&cert.signature_algorithm)?;
    if alg.hash() == SignatureHash::Sha1 && !allow_sha1 {
        return Err(CertError::Sha1NotAllowed);
    }
    let digest = alg.hash().digest(cert.tbs_der());
    let sig = cert.signature();
    let bad = || CertError::BadSignature {
        subject: cert.display_name(),
        issuer: issuer_name.into(),
    };
    let wrong = || CertError::WrongKeyType {
        issuer: issuer_name.into(),
    };
    use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
    match (alg, issuer_key) {
        (SignatureAlg::RsaPkcs1v15(h), IssuerKey::Rsa(k)) => {
            k.verify(h.pkcs1v15(), &digest, sig).map_err(|_| bad())
        }
        (SignatureAlg::RsaPss { hash, salt_len }, IssuerKey::Rsa(k)) => k
            .verify(hash.pss(salt_len), &digest, sig)
            .map_err(|_| bad()),
        (SignatureAlg::Ecdsa(_), IssuerKey::P256(k)) => {
            let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
            k.verify_prehash(&digest, &s).map_err(|_| bad())
        }
        (SignatureAlg::Ecdsa(_), IssuerKey::P384(k)) => {
            let s = p384::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
            k.verify_prehash(&digest, &s).map_err(|_| bad())
        }
        _ => Err(wrong()),
    }
}

/// The usual name of a signature algorithm OID, for display.
pub fn signature_algorithm_name(o: &Oid) -> Option<&'static str> {
    Some(match *o {
        oid::SHA1_WITH_RSA => "sha1WithRSAEncryption",
        oid::SHA256_WITH_RSA => "sha256WithRSAEncryption",
        oid::SHA384_WITH_RSA => "sha384WithRSAEncryption",
        oid::SHA512_WITH_RSA => "sha512WithRSAEncryption",
        oid::RSASSA_PSS => "RSASSA-PSS",
        oid::ECDSA_WITH_SHA1 => "ecdsa-with-SHA1",
        oid::ECDSA_WITH_SHA256 => "ecdsa-with-SHA256",
        oid::ECDSA_WITH_SHA384 => "ecdsa-with-SHA384",
        oid::ECDSA_WITH_SHA512 => "ecdsa-with-SHA512",
        _ => return None,
    })
}
