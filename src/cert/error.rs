//! Why a certificate or a chain was refused: one variant per check.

use alloc::string::String;
use core::fmt;
use x509_cert::der::{self, asn1::ObjectIdentifier as Oid};

/// A refused certificate or chain. `subject` strings are already escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertError {
    /// The input holds no certificate at all.
    Empty,
    /// A certificate is larger than the 16 KiB any TPM certificate needs.
    TooLarge {
        /// Its size in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// More certificates than a trust store or chain file may hold.
    TooManyCertificates {
        /// The limit.
        max: usize,
    },
    /// The DER does not decode (length past the end, indefinite length, bad INTEGER...).
    Der {
        /// What was being decoded.
        what: &'static str,
        /// The DER error (with its position).
        error: der::Error,
    },
    /// A PEM block does not decode.
    Pem {
        /// What was being decoded.
        what: &'static str,
    },
    /// Bytes after the certificate that are not NV padding (0x00 or 0xFF).
    TrailingData {
        /// Number of trailing bytes.
        len: usize,
    },
    /// Extensions in a certificate that is not version 3.
    ExtensionsNotV3,
    /// The same extension twice.
    DuplicateExtension(Oid),
    /// A known extension whose content does not decode.
    BadExtension {
        /// The extension's OID.
        oid: Oid,
        /// The DER error.
        error: der::Error,
    },
    /// A critical extension this verifier does not understand.
    UnknownCriticalExtension(Oid),
    /// `signatureAlgorithm` differs from `tbsCertificate.signature`.
    SignatureAlgorithmMismatch,
    /// A signature algorithm this verifier does not implement.
    UnsupportedSignatureAlgorithm(Oid),
    /// RSA-PSS parameters this verifier does not accept (MGF other than MGF1 with the same hash).
    UnsupportedPssParameters,
    /// A SHA-1 signature, refused unless SHA-1 is allowed.
    Sha1NotAllowed,
    /// The signature BIT STRING has unused bits.
    SignatureBitString,
    /// A public key algorithm or curve this verifier does not implement.
    UnsupportedKey(Oid),
    /// The public key does not decode (bad modulus, point not on the curve, too large).
    BadPublicKey {
        /// The certificate's subject.
        subject: String,
    },
    /// The signature algorithm does not fit the issuer's key type (e.g. ECDSA with an RSA key).
    WrongKeyType {
        /// The issuer's subject.
        issuer: String,
    },
    /// The signature does not verify with the issuer's key.
    BadSignature {
        /// The certificate's subject.
        subject: String,
        /// The issuer's subject.
        issuer: String,
    },
    /// The certificate is not valid yet at the checked time.
    NotYetValid {
        /// The certificate's subject.
        subject: String,
        /// Its notBefore, as `YYYY-MM-DDThh:mm:ssZ`.
        not_before: String,
    },
    /// The certificate has expired at the checked time.
    Expired {
        /// The certificate's subject.
        subject: String,
        /// Its notAfter, as `YYYY-MM-DDThh:mm:ssZ`.
        not_after: String,
    },
    /// An issuer that is not a CA (no basicConstraints cA TRUE).
    NotCa {
        /// The issuer's subject.
        subject: String,
    },
    /// An issuer whose keyUsage lacks keyCertSign.
    NoKeyCertSign {
        /// The issuer's subject.
        subject: String,
    },
    /// An issuer whose pathLenConstraint is exceeded.
    PathLenExceeded {
        /// The issuer's subject.
        subject: String,
        /// Its pathLenConstraint.
        path_len: u8,
    },
    /// The leaf is a CA certificate, not an EK or AK certificate.
    LeafIsCa,
    /// The leaf's EKU does not allow the asked role.
    EkuMismatch {
        /// The role asked (`EK`, `AK` or `end-entity`).
        role: &'static str,
    },
    /// The leaf's keyUsage does not fit the asked role.
    KeyUsageMismatch {
        /// The role asked (`EK`, `AK` or `end-entity`).
        role: &'static str,
    },
    /// No certificate in the roots or chain files has the subject the issuer field names.
    IssuerNotFound {
        /// The certificate whose issuer is missing.
        subject: String,
        /// The issuer it names.
        issuer: String,
    },
    /// Every path tried comes back to a certificate already in it.
    ChainLoop {
        /// The certificate where the loop was found.
        subject: String,
    },
    /// A chain would need more than the allowed number of certificates.
    ChainTooLong {
        /// The most certificates a chain may have.
        max: usize,
    },
    /// Chain search gave up after checking this many signatures.
    SearchLimit {
        /// Signatures checked before giving up.
        checks: usize,
    },
    /// The certificate's key is not the key it was compared with.
    KeyMismatch,
    /// The key to compare with does not decode.
    BadComparisonKey,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no certificate in the input"),
            Self::TooLarge { len, max } => {
                write!(f, "certificate of {len} bytes, at most {max} accepted")
            }
            Self::TooManyCertificates { max } => {
                write!(f, "more than {max} certificates, refused")
            }
            Self::Der { what, error } => write!(f, "malformed DER in {what}: {error}"),
            Self::Pem { what } => write!(f, "malformed PEM in {what}"),
            Self::TrailingData { len } => write!(
                f,
                "{len} bytes after the certificate that are not NV padding"
            ),
            Self::ExtensionsNotV3 => f.write_str("extensions in a certificate that is not v3"),
            Self::DuplicateExtension(o) => write!(f, "extension {o} appears twice"),
            Self::BadExtension { oid, error } => {
                write!(f, "extension {oid} does not decode: {error}")
            }
            Self::UnknownCriticalExtension(o) => {
                write!(f, "unknown critical extension {o}")
            }
            Self::SignatureAlgorithmMismatch => {
                f.write_str("signatureAlgorithm differs from the one inside tbsCertificate")
            }
            Self::UnsupportedSignatureAlgorithm(o) => {
                write!(f, "unsupported signature algorithm {o}")
            }
            Self::UnsupportedPssParameters => {
                f.write_str("RSA-PSS parameters not supported (MGF1 with the same hash only)")
            }
            Self::Sha1NotAllowed => {
                f.write_str("SHA-1 signature refused (pass --allow-sha1 to accept it)")
            }
            Self::SignatureBitString => f.write_str("signature BIT STRING has unused bits"),
            Self::UnsupportedKey(o) => write!(f, "unsupported public key algorithm or curve {o}"),
            Self::BadPublicKey { subject } => {
                write!(f, "public key of '{subject}' does not decode")
            }
            Self::WrongKeyType { issuer } => write!(
                f,
                "signature algorithm does not fit the key type of issuer '{issuer}'"
            ),
            Self::BadSignature { subject, issuer } => write!(
                f,
                "signature of '{subject}' does not verify with the key of '{issuer}'"
            ),
            Self::NotYetValid {
                subject,
                not_before,
            } => write!(f, "'{subject}' is not valid before {not_before}"),
            Self::Expired { subject, not_after } => {
                write!(f, "'{subject}' expired at {not_after}")
            }
            Self::NotCa { subject } => write!(
                f,
                "issuer '{subject}' is not a CA (basicConstraints cA not TRUE)"
            ),
            Self::NoKeyCertSign { subject } => {
                write!(f, "issuer '{subject}' keyUsage lacks keyCertSign")
            }
            Self::PathLenExceeded { subject, path_len } => write!(
                f,
                "issuer '{subject}' allows {path_len} CA certificates below it, the chain has more"
            ),
            Self::LeafIsCa => f.write_str("the certificate is a CA certificate (cA TRUE)"),
            Self::EkuMismatch { role } => {
                write!(f, "extendedKeyUsage present without the {role} purpose")
            }
            Self::KeyUsageMismatch { role } => {
                write!(f, "keyUsage does not fit an {role} certificate")
            }
            Self::IssuerNotFound { subject, issuer } => write!(
                f,
                "no issuer '{issuer}' of '{subject}' among the roots and chain certificates"
            ),
            Self::ChainLoop { subject } => {
                write!(f, "the chain loops back to '{subject}'")
            }
            Self::ChainTooLong { max } => write!(f, "chain longer than {max} certificates"),
            Self::SearchLimit { checks } => {
                write!(f, "chain search stopped after {checks} signature checks")
            }
            Self::KeyMismatch => f.write_str("the certificate's public key is not the given key"),
            Self::BadComparisonKey => f.write_str("the key to compare with does not decode"),
        }
    }
}

impl core::error::Error for CertError {}

impl CertError {
    /// Whether the input was unreadable or malformed (exit 2) rather than refused (exit 1).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            Self::Empty
                | Self::TooLarge { .. }
                | Self::TooManyCertificates { .. }
                | Self::Der { .. }
                | Self::Pem { .. }
                | Self::TrailingData { .. }
                | Self::BadExtension { .. }
                | Self::BadComparisonKey
        )
    }
}
