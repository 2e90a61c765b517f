//! Signature checks over the exact bytes the TPM signed.

#[cfg(any(feature = "p256", feature = "p384"))]
use super::key::pad_be;
use super::key::{Ak, AkKey};
use super::{Policy, VerifyError};
use crate::types::{hash, HashAlg, TpmtSignature};

/// Checks that `sig` is the AK's signature over `message`, with a scheme and hash the key and
/// policy allow. Returns the hash the signer used.
pub fn verify_signature(
    ak: &Ak<'_>,
    policy: &Policy,
    message: &[u8],
    sig: &TpmtSignature<'_>,
) -> Result<HashAlg, VerifyError> {
    let key_type = ak.key_type();
    let fits = match (&ak.key, sig) {
        #[cfg(feature = "rsa")]
        (AkKey::Rsa(_), TpmtSignature::RsaSsa(_) | TpmtSignature::RsaPss(_)) => true,
        #[cfg(feature = "p256")]
        (AkKey::P256(_), TpmtSignature::Ecdsa(_)) => true,
        #[cfg(feature = "p384")]
        (AkKey::P384(_), TpmtSignature::Ecdsa(_)) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    };
    let hash_alg = match (fits, sig.hash()) {
        (true, Some(h)) => h,
        _ => {
            return Err(VerifyError::SignatureAlgorithmMismatch {
                key: key_type,
                signature: sig.sig_alg(),
            })
        }
    };
    if let Some((scheme, h)) = ak.pinned_scheme() {
        if scheme != sig.sig_alg() {
            return Err(VerifyError::SignatureSchemeMismatch {
                key_scheme: scheme,
                signature: sig.sig_alg(),
            });
        }
        if h != hash_alg {
            return Err(VerifyError::SignatureHashMismatch {
                key_hash: h,
                signature: hash_alg,
            });
        }
    }
    if hash_alg == HashAlg::Sha1 && !policy.allow_sha1_signature {
        return Err(VerifyError::Sha1SignatureNotAllowed);
    }
    let digest = hash::digest(hash_alg, &[message])
        .map_err(|_| VerifyError::SignatureHashNotSupported(hash_alg))?;
    match (&ak.key, sig) {
        #[cfg(feature = "rsa")]
        (AkKey::Rsa(k), TpmtSignature::RsaSsa(s) | TpmtSignature::RsaPss(s)) => {
            let pss = matches!(sig, TpmtSignature::RsaPss(_));
            rsa_verify(k, pss, hash_alg, digest.as_bytes(), s.sig.as_bytes())?
        }
        #[cfg(feature = "p256")]
        (AkKey::P256(k), TpmtSignature::Ecdsa(s)) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
            if !matches!(
                hash_alg,
                HashAlg::Sha1 | HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512
            ) {
                return Err(VerifyError::SignatureHashNotSupported(hash_alg));
            }
            let r =
                pad_be::<32>(s.signature_r.as_bytes()).ok_or(VerifyError::EcdsaScalarOutOfRange)?;
            let s =
                pad_be::<32>(s.signature_s.as_bytes()).ok_or(VerifyError::EcdsaScalarOutOfRange)?;
            let signature = p256::ecdsa::Signature::from_scalars(r, s)
                .map_err(|_| VerifyError::EcdsaScalarOutOfRange)?;
            k.verify_prehash(digest.as_bytes(), &signature)
                .map_err(|_| VerifyError::BadSignature)?
        }
        // P-384: a digest shorter than half the field (SHA-1) is not accepted by the ECDSA
        // crate, and no TPM pairs the two; SHA-256 and up are.
        #[cfg(feature = "p384")]
        (AkKey::P384(k), TpmtSignature::Ecdsa(s)) => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier as _;
            if !matches!(
                hash_alg,
                HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512
            ) {
                return Err(VerifyError::SignatureHashNotSupported(hash_alg));
            }
            let r =
                pad_be::<48>(s.signature_r.as_bytes()).ok_or(VerifyError::EcdsaScalarOutOfRange)?;
            let s =
                pad_be::<48>(s.signature_s.as_bytes()).ok_or(VerifyError::EcdsaScalarOutOfRange)?;
            let signature = p384::ecdsa::Signature::from_scalars(r, s)
                .map_err(|_| VerifyError::EcdsaScalarOutOfRange)?;
            k.verify_prehash(digest.as_bytes(), &signature)
                .map_err(|_| VerifyError::BadSignature)?
        }
        #[allow(unreachable_patterns)]
        _ => {
            return Err(VerifyError::SignatureAlgorithmMismatch {
                key: key_type,
                signature: sig.sig_alg(),
            })
        }
    }
    Ok(hash_alg)
}

#[cfg(feature = "rsa")]
fn rsa_verify(
    key: &rsa::RsaPublicKey,
    pss: bool,
    hash_alg: HashAlg,
    digest: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    use rsa::traits::PublicKeyParts as _;
    use rsa::Pkcs1v15Sign;
    let expected = key.size();
    if sig.len() != expected {
        return Err(VerifyError::RsaSignatureLength {
            got: sig.len(),
            expected,
        });
    }
    // RSA-PSS: any salt length (the digest size for FIPS-mode TPMs, the maximum for others,
    // TPM 2.0 Part 1 B.7), recovered from the encoded message.
    // `digest` was computed with `hash_alg`, so the hash is one this build has.
    if pss {
        return super::pss::verify_pss_any_salt(key, hash_alg, digest, sig);
    }
    let result = match hash_alg {
        #[cfg(feature = "sha1")]
        HashAlg::Sha1 => key.verify(Pkcs1v15Sign::new::<sha1::Sha1>(), digest, sig),
        HashAlg::Sha256 => key.verify(Pkcs1v15Sign::new::<sha2::Sha256>(), digest, sig),
        HashAlg::Sha384 => key.verify(Pkcs1v15Sign::new::<sha2::Sha384>(), digest, sig),
        HashAlg::Sha512 => key.verify(Pkcs1v15Sign::new::<sha2::Sha512>(), digest, sig),
        other => return Err(VerifyError::SignatureHashNotSupported(other)),
    };
    result.map_err(|_| VerifyError::BadSignature)
}
