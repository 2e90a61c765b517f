//! The CA's key and the certificates it signs (x509-cert's builder).
//!
//! The private key lives in `ca.key` (PKCS#8 PEM, mode 0600) and only in memory here: no
//! type in this module implements `Debug` or `Display` over it, and no error carries it.

use super::CaError;
use crate::cert::SubjectKey;
use std::boxed::Box;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{Any, ObjectIdentifier as Oid, PrintableStringRef, SetOfVec};
use x509_cert::der::{Decode, Encode, Tag};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

/// commonName.
const CN: Oid = Oid::new_unwrap("2.5.4.3");
/// organizationName.
const O: Oid = Oid::new_unwrap("2.5.4.10");
/// serialNumber (X.520), a PrintableString.
const SERIAL_NUMBER_ATTR: Oid = Oid::new_unwrap("2.5.4.5");

/// The CA key algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaAlg {
    /// ECDSA P-256 with SHA-256 (the default).
    EccP256,
    /// RSA-2048, PKCS#1 v1.5 with SHA-256.
    Rsa2048,
}

/// The CA's signing key. Deliberately without `Debug`.
pub(crate) enum CaKey {
    P256(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
}

fn internal<E: core::fmt::Display>(what: &'static str) -> impl Fn(E) -> CaError {
    move |e| CaError::Internal(format!("{what}: {e}"))
}

impl CaKey {
    pub(crate) fn generate(alg: CaAlg) -> Result<(Self, String), CaError> {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        let mut rng = rand_core::OsRng;
        match alg {
            CaAlg::EccP256 => {
                let sk = p256::SecretKey::random(&mut rng);
                // Only the PEM text is returned; an encoding error carries no key bytes.
                let pem = sk
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|_| CaError::Internal(String::from("encoding the CA key failed")))?;
                Ok((
                    Self::P256(p256::ecdsa::SigningKey::from(sk)),
                    pem.to_string(),
                ))
            }
            CaAlg::Rsa2048 => {
                let sk = rsa::RsaPrivateKey::new(&mut rng, 2048)
                    .map_err(|_| CaError::Internal(String::from("RSA key generation failed")))?;
                let pem = sk
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|_| CaError::Internal(String::from("encoding the CA key failed")))?;
                Ok((
                    Self::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(sk))),
                    pem.to_string(),
                ))
            }
        }
    }

    /// Reads `ca.key` (PKCS#8 PEM, P-256 or RSA). Errors never quote the file.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, CaError> {
        use p256::pkcs8::DecodePrivateKey;
        if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem) {
            return Ok(Self::P256(p256::ecdsa::SigningKey::from(k)));
        }
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            return Ok(Self::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k))));
        }
        Err(CaError::Io(String::from(
            "ca.key: not a PKCS#8 P-256 or RSA private key",
        )))
    }
}

/// One printable-string attribute as its own RDN.
fn rdn(oid: Oid, value: &str, tag: Tag) -> Result<RelativeDistinguishedName, CaError> {
    let any = Any::new(tag, value.as_bytes()).map_err(internal("name attribute"))?;
    let atv = x509_cert::attr::AttributeTypeAndValue { oid, value: any };
    Ok(RelativeDistinguishedName(
        SetOfVec::try_from(vec![atv]).map_err(internal("name attribute"))?,
    ))
}

/// A Name from (attribute, value) pairs, UTF8String values except serialNumber.
pub(crate) fn name(parts: &[(Oid, &str)]) -> Result<Name, CaError> {
    let mut rdns = Vec::new();
    for (oid, v) in parts {
        let tag = if *oid == SERIAL_NUMBER_ATTR {
            PrintableStringRef::new(v).map_err(internal("serialNumber"))?;
            Tag::PrintableString
        } else {
            Tag::Utf8String
        };
        rdns.push(rdn(*oid, v, tag)?);
    }
    Ok(RdnSequence(rdns))
}

pub(crate) fn ca_subject() -> Result<Name, CaError> {
    name(&[(O, "baretpm"), (CN, "baretpm attestation CA")])
}

/// The AK certificate's subject: `CN=baretpm AK`, and in serialNumber what ties it to the
/// EK (`ek-cert-sha256:HEX` or `ek-name:HEX`).
pub(crate) fn ak_subject(ek_binding: &str) -> Result<Name, CaError> {
    name(&[
        (O, "baretpm"),
        (CN, "baretpm AK"),
        (SERIAL_NUMBER_ATTR, ek_binding),
    ])
}

fn random_serial() -> Result<SerialNumber, CaError> {
    use rand_core::RngCore;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    // Positive and without a leading zero byte: 1..=0x7f in the first byte.
    b[0] = (b[0] & 0x7f) | 0x01;
    SerialNumber::new(&b).map_err(internal("serial number"))
}

pub(crate) fn validity(not_before: u64, not_after: u64) -> Result<Validity, CaError> {
    let t = |s: u64| -> Result<Time, CaError> {
        let st = std::time::UNIX_EPOCH
            .checked_add(std::time::Duration::from_secs(s))
            .ok_or_else(|| CaError::Refused(format!("validity: {s} s after 1970 is too late")))?;
        Time::try_from(st).map_err(|e| CaError::Refused(format!("validity: {e}")))
    };
    Ok(Validity {
        not_before: t(not_before)?,
        not_after: t(not_after)?,
    })
}

/// The SubjectPublicKeyInfo of a TPM key (RSA, P-256, P-384).
pub(crate) fn spki_of(key: &SubjectKey) -> Result<SubjectPublicKeyInfoOwned, CaError> {
    let der = match key {
        SubjectKey::Rsa { modulus, exponent } => rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(modulus),
            rsa::BigUint::from_bytes_be(exponent),
        )
        .map_err(|e| CaError::Refused(format!("AK public key: {e}")))?
        .to_public_key_der(),
        SubjectKey::Ec { curve, x, y } => {
            let mut sec1 = vec![4u8];
            sec1.extend_from_slice(x);
            sec1.extend_from_slice(y);
            let bad = |_| CaError::Refused(String::from("AK public key: point not on the curve"));
            match curve {
                crate::cert::TpmCurve::P256 => p256::PublicKey::from_sec1_bytes(&sec1)
                    .map_err(bad)?
                    .to_public_key_der(),
                crate::cert::TpmCurve::P384 => p384::PublicKey::from_sec1_bytes(&sec1)
                    .map_err(bad)?
                    .to_public_key_der(),
                crate::cert::TpmCurve::P521 => {
                    return Err(CaError::Refused(String::from(
                        "AK public key: P-521 AKs are not certified by this CA",
                    )))
                }
            }
        }
    }
    .map_err(internal("AK public key"))?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(internal("AK public key"))
}

/// The fields of a certificate to sign.
struct Tbs {
    profile: Profile,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    not_before: u64,
    not_after: u64,
    eku: Option<ExtendedKeyUsage>,
    san: Option<SubjectAltName>,
}

fn sign_with<S, Sig>(signer: &S, t: Tbs) -> Result<Vec<u8>, CaError>
where
    S: signature::Keypair
        + x509_cert::spki::DynSignatureAlgorithmIdentifier
        + signature::Signer<Sig>,
    S::VerifyingKey: EncodePublicKey,
    Sig: x509_cert::spki::SignatureBitStringEncoding,
{
    let Tbs {
        profile,
        subject,
        spki,
        not_before,
        not_after,
        eku,
        san,
    } = t;
    let mut b = CertificateBuilder::new(
        profile,
        random_serial()?,
        validity(not_before, not_after)?,
        subject,
        spki,
        signer,
    )
    .map_err(internal("certificate"))?;
    if let Some(e) = eku {
        b.add_extension(&e).map_err(internal("extendedKeyUsage"))?;
    }
    if let Some(s) = san {
        b.add_extension(&s).map_err(internal("subjectAltName"))?;
    }
    // Signing errors are generic ("signature error"): no key material in them.
    let cert = b
        .build::<Sig>()
        .map_err(|_| CaError::Internal(String::from("signing the certificate failed")))?;
    cert.to_der().map_err(internal("certificate encoding"))
}

/// What an AK certificate says besides its key.
pub(crate) struct AkCertContents {
    pub ek_binding: String,
    /// TPM manufacturer/model/version attributes copied from the EK certificate.
    pub tpm_attributes: Option<Name>,
}

impl CaKey {
    /// The CA's public key as a SubjectPublicKeyInfo.
    pub(crate) fn spki(&self) -> Result<SubjectPublicKeyInfoOwned, CaError> {
        use signature::Keypair;
        match self {
            Self::P256(k) => SubjectPublicKeyInfoOwned::from_key(*k.verifying_key()),
            Self::Rsa(k) => SubjectPublicKeyInfoOwned::from_key(k.verifying_key()),
        }
        .map_err(internal("CA public key"))
    }

    /// The self-signed CA certificate, DER.
    pub(crate) fn self_signed(&self, not_before: u64, not_after: u64) -> Result<Vec<u8>, CaError> {
        let tbs = Tbs {
            profile: Profile::Root,
            subject: ca_subject()?,
            spki: self.spki()?,
            not_before,
            not_after,
            eku: None,
            san: None,
        };
        match self {
            Self::P256(s) => sign_with::<_, p256::ecdsa::DerSignature>(s, tbs),
            Self::Rsa(s) => sign_with::<_, rsa::pkcs1v15::Signature>(s.as_ref(), tbs),
        }
    }

    /// An AK certificate for `ak`, issued by `issuer` (the CA certificate's subject).
    pub(crate) fn issue_ak(
        &self,
        issuer: &Name,
        ak: &SubjectKey,
        contents: &AkCertContents,
        not_before: u64,
        not_after: u64,
    ) -> Result<Vec<u8>, CaError> {
        let spki = spki_of(ak)?;
        let subject = ak_subject(&contents.ek_binding)?;
        let profile = Profile::Leaf {
            issuer: issuer.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        };
        let eku = Some(ExtendedKeyUsage(vec![crate::cert::oid::KP_AK_CERTIFICATE]));
        let san = contents
            .tpm_attributes
            .clone()
            .map(|n| SubjectAltName(vec![GeneralName::DirectoryName(n)]));
        let tbs = Tbs {
            profile,
            subject,
            spki,
            not_before,
            not_after,
            eku,
            san,
        };
        match self {
            Self::P256(s) => sign_with::<_, p256::ecdsa::DerSignature>(s, tbs),
            Self::Rsa(s) => sign_with::<_, rsa::pkcs1v15::Signature>(s.as_ref(), tbs),
        }
    }
}

/// PEM text of a DER certificate.
pub(crate) fn cert_pem(der: &[u8]) -> Result<String, CaError> {
    x509_cert::der::pem::encode_string("CERTIFICATE", x509_cert::der::pem::LineEnding::LF, der)
        .map_err(internal("certificate PEM"))
}

/// The TPM manufacturer/model/version attributes of an EK certificate's subjectAltName, as a
/// Name to copy into the AK certificate (values kept byte for byte).
pub(crate) fn tpm_attributes(ek: &crate::cert::Certificate) -> Option<Name> {
    use crate::cert::oid;
    let exts = ek.tbs.extensions.as_ref()?;
    let ext = exts.iter().find(|e| e.extn_id == oid::SUBJECT_ALT_NAME)?;
    let san = SubjectAltName::from_der(ext.extn_value.as_bytes()).ok()?;
    let mut rdns = Vec::new();
    for gn in &san.0 {
        let GeneralName::DirectoryName(n) = gn else {
            continue;
        };
        for r in &n.0 {
            for atv in r.0.iter() {
                if matches!(
                    atv.oid,
                    oid::TPM_MANUFACTURER | oid::TPM_MODEL | oid::TPM_VERSION
                ) {
                    let set = SetOfVec::try_from(vec![atv.clone()]).ok()?;
                    rdns.push(RelativeDistinguishedName(set));
                }
            }
        }
    }
    (!rdns.is_empty()).then_some(RdnSequence(rdns))
}
