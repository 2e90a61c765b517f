//! TPMT_SIGNATURE.

use super::alg::{HashAlg, TpmAlgId};
use super::hash::MAX_DIGEST;
use super::tpm2b::{Tpm2bEccParameter, Tpm2bPublicKeyRsa};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// `TPMS_SIGNATURE_RSA` (RSASSA and RSAPSS).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsSignatureRsa<'a> {
    /// `hash`: the hash the message was digested with.
    pub hash: HashAlg,
    /// `sig`: the signature, as long as the key's modulus.
    pub sig: Tpm2bPublicKeyRsa<'a>,
}

/// `TPMS_SIGNATURE_ECC` (ECDSA).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsSignatureEcc<'a> {
    /// `hash`: the hash the message was digested with.
    pub hash: HashAlg,
    /// `signatureR`: the ECDSA r value, big-endian.
    pub signature_r: Tpm2bEccParameter<'a>,
    /// `signatureS`: the ECDSA s value, big-endian.
    pub signature_s: Tpm2bEccParameter<'a>,
}

/// `TPMT_HA`: a hash algorithm and a digest of exactly its size.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmtHa<'a> {
    /// `hashAlg`: the hash algorithm (never TPM_ALG_NULL).
    pub hash: HashAlg,
    /// `digest`: exactly `hash.digest_size()` bytes.
    pub digest: &'a [u8],
}

impl<'a> TpmtHa<'a> {
    /// Reads a TPMI_ALG_HASH then a digest of that algorithm's size; `what` names the field.
    pub fn read(r: &mut Reader<'a>, what: &'static str) -> Result<Self, Error> {
        let hash = HashAlg::read(r, what)?;
        let digest = r.bytes(hash.digest_size(), what)?;
        Ok(Self { hash, digest })
    }

    /// Writes the TPMI_ALG_HASH then the digest; refused if the digest is not of that size.
    pub fn write(&self, w: &mut Writer<'_>, what: &'static str) -> Result<(), Error> {
        let n = self.hash.digest_size();
        if self.digest.len() != n || n > MAX_DIGEST {
            return Err(Error::new(
                ErrorKind::SizeAboveMax {
                    size: self.digest.len(),
                    max: n,
                },
                what,
                w.len(),
            ));
        }
        w.u16(self.hash.alg_id().0)?;
        w.bytes(self.digest)
    }
}

/// `TPMT_SIGNATURE`. Schemes this crate cannot verify (ECDAA, SM2, EC-Schnorr) are refused
/// at parse time with [`ErrorKind::Unsupported`], so nothing downstream meets them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtSignature<'a> {
    /// `TPM_ALG_RSASSA`: RSA PKCS#1 v1.5 signature.
    RsaSsa(TpmsSignatureRsa<'a>),
    /// `TPM_ALG_RSAPSS`: RSA PSS signature.
    RsaPss(TpmsSignatureRsa<'a>),
    /// `TPM_ALG_ECDSA`: ECDSA signature (r, s).
    Ecdsa(TpmsSignatureEcc<'a>),
    /// `TPM_ALG_HMAC`: an HMAC, as a TPMT_HA.
    Hmac(TpmtHa<'a>),
    /// `TPM_ALG_NULL`: no signature (a TPM returns it for an unsigned attestation).
    Null,
}

impl TpmtSignature<'_> {
    /// `sigAlg`: the TPM_ALG_ID of the scheme (TPM_ALG_NULL for [`TpmtSignature::Null`]).
    pub fn sig_alg(&self) -> TpmAlgId {
        match self {
            Self::RsaSsa(_) => TpmAlgId::RSASSA,
            Self::RsaPss(_) => TpmAlgId::RSAPSS,
            Self::Ecdsa(_) => TpmAlgId::ECDSA,
            Self::Hmac(_) => TpmAlgId::HMAC,
            Self::Null => TpmAlgId::NULL,
        }
    }

    /// The hash the signer digested the message with (`None` for NULL).
    pub fn hash(&self) -> Option<HashAlg> {
        match self {
            Self::RsaSsa(s) | Self::RsaPss(s) => Some(s.hash),
            Self::Ecdsa(s) => Some(s.hash),
            Self::Hmac(h) => Some(h.hash),
            Self::Null => None,
        }
    }
}

impl<'a> Unmarshal<'a> for TpmtSignature<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let at = r.offset();
        let alg = TpmAlgId::read(r, "TPMT_SIGNATURE.sigAlg")?;
        let rsa = |r: &mut Reader<'a>| -> Result<TpmsSignatureRsa<'a>, Error> {
            Ok(TpmsSignatureRsa {
                hash: HashAlg::read(r, "TPMS_SIGNATURE_RSA.hash")?,
                sig: Tpm2bPublicKeyRsa::read(r, "TPMS_SIGNATURE_RSA.sig")?,
            })
        };
        Ok(match alg {
            TpmAlgId::RSASSA => Self::RsaSsa(rsa(r)?),
            TpmAlgId::RSAPSS => Self::RsaPss(rsa(r)?),
            TpmAlgId::ECDSA => Self::Ecdsa(TpmsSignatureEcc {
                hash: HashAlg::read(r, "TPMS_SIGNATURE_ECC.hash")?,
                signature_r: Tpm2bEccParameter::read(r, "TPMS_SIGNATURE_ECC.signatureR")?,
                signature_s: Tpm2bEccParameter::read(r, "TPMS_SIGNATURE_ECC.signatureS")?,
            }),
            TpmAlgId::HMAC => Self::Hmac(TpmtHa::read(r, "TPMT_SIGNATURE.hmac")?),
            TpmAlgId::NULL => Self::Null,
            TpmAlgId::ECDAA | TpmAlgId::SM2 | TpmAlgId::ECSCHNORR => {
                return Err(Error::new(
                    ErrorKind::Unsupported {
                        value: u32::from(alg.0),
                    },
                    "TPMT_SIGNATURE.sigAlg",
                    at,
                ))
            }
            other => {
                return Err(Error::new(
                    ErrorKind::UnknownValue {
                        value: u32::from(other.0),
                    },
                    "TPMT_SIGNATURE.sigAlg",
                    at,
                ))
            }
        })
    }
}

impl Marshal for TpmtSignature<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.sig_alg().0)?;
        match self {
            Self::RsaSsa(s) | Self::RsaPss(s) => {
                w.u16(s.hash.alg_id().0)?;
                s.sig.write(w, "TPMS_SIGNATURE_RSA.sig")
            }
            Self::Ecdsa(s) => {
                w.u16(s.hash.alg_id().0)?;
                s.signature_r.write(w, "TPMS_SIGNATURE_ECC.signatureR")?;
                s.signature_s.write(w, "TPMS_SIGNATURE_ECC.signatureS")
            }
            Self::Hmac(h) => h.write(w, "TPMT_SIGNATURE.hmac"),
            Self::Null => Ok(()),
        }
    }
}
