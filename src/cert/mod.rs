//! X.509 EK and AK certificates: reading them as TPMs store them, checking their signatures
//! and building a chain to a trusted root.
//!
//! Parsing uses the RustCrypto `der`/`x509-cert` decoders for the fields, but every signature
//! is checked over the `tbsCertificate` bytes exactly as they were read (real TPM certificates
//! are not always canonical DER, so a re-encoding would not match what the CA signed).
//!
//! What TPM certificates need that a web PKI verifier refuses:
//! - an empty subject with a critical subjectAltName holding only a directoryName with the
//!   TPM manufacturer, model and firmware version (OIDs 2.23.133.2.1–3): understood;
//! - critical certificatePolicies on STMicro, Intel and older Infineon intermediates:
//!   accepted (no policy processing is done, so the extension only names policies);
//! - the TCG EKUs (2.23.133.8.1 EK, 2.23.133.8.3 AK) are checked on the leaf when present,
//!   never required of CA certificates.
//!
//! Any other unknown critical extension is refused. Sizes are bounded: a certificate over
//! [`MAX_CERT_LEN`] bytes, a pool of more than [`MAX_POOL`] certificates or a chain longer
//! than [`MAX_CHAIN`] is refused before any work proportional to it is done.

mod chain;
mod error;
mod key;
mod parse;
mod sig;
mod text;
mod vendor;

pub use chain::{
    chain_names, validate, ChainLink, Policy, Role, Validated, MAX_CHAIN, MAX_SIGNATURE_CHECKS,
};
pub use error::CertError;
pub use key::{SubjectKey, TpmCurve};
pub use parse::{
    certificates_from_bytes, strip_nv_wrapper, time_text, Certificate, Extensions, GceInstanceInfo,
    GceSecurityProperties, TpmDeviceInfo, TpmSpecification, MAX_CERT_LEN, MAX_POOL,
};
pub use sig::{signature_algorithm_name, verify_signature, IssuerKey, SignatureAlg, SignatureHash};
pub use text::escape;
pub use vendor::{manufacturer_name, TCG_VENDORS};

/// Object identifiers used by EK and AK certificates.
pub mod oid {
    use x509_cert::der::asn1::ObjectIdentifier as Oid;

    /// tcg-at-tpmManufacturer.
    pub const TPM_MANUFACTURER: Oid = Oid::new_unwrap("2.23.133.2.1");
    /// tcg-at-tpmModel.
    pub const TPM_MODEL: Oid = Oid::new_unwrap("2.23.133.2.2");
    /// tcg-at-tpmVersion.
    pub const TPM_VERSION: Oid = Oid::new_unwrap("2.23.133.2.3");
    /// tcg-at-tpmSpecification (in subjectDirectoryAttributes).
    pub const TPM_SPECIFICATION: Oid = Oid::new_unwrap("2.23.133.2.16");
    /// tcg-kp-EKCertificate.
    pub const KP_EK_CERTIFICATE: Oid = Oid::new_unwrap("2.23.133.8.1");
    /// tcg-kp-AIKCertificate (AK certificates).
    pub const KP_AK_CERTIFICATE: Oid = Oid::new_unwrap("2.23.133.8.3");
    /// anyExtendedKeyUsage.
    pub const ANY_EKU: Oid = Oid::new_unwrap("2.5.29.37.0");
    /// Google's GCE instance information extension.
    pub const GCE_INSTANCE_INFO: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.1.21");

    /// id-ce-subjectDirectoryAttributes (the TPM specification, model and version in EK certificates): 2.5.29.9.
    pub const SUBJECT_DIRECTORY_ATTRIBUTES: Oid = Oid::new_unwrap("2.5.29.9");
    /// id-ce-subjectKeyIdentifier: 2.5.29.14.
    pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
    /// id-ce-keyUsage: 2.5.29.15.
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    /// id-ce-subjectAltName (the TPM manufacturer, model and version in EK certificates): 2.5.29.17.
    pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
    /// id-ce-basicConstraints: 2.5.29.19.
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    /// id-ce-cRLDistributionPoints: 2.5.29.31.
    pub const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
    /// id-ce-certificatePolicies: 2.5.29.32.
    pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    /// id-ce-authorityKeyIdentifier: 2.5.29.35.
    pub const AUTHORITY_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.35");
    /// id-ce-extKeyUsage: 2.5.29.37.
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    /// id-pe-authorityInfoAccess: 1.3.6.1.5.5.7.1.1.
    pub const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");

    /// rsaEncryption: the SPKI algorithm of RSA keys: 1.2.840.113549.1.1.1.
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-RSAES-OAEP: the SPKI algorithm of TPM 1.2 EK certificates.
    pub const RSAES_OAEP: Oid = Oid::new_unwrap("1.2.840.113549.1.1.7");
    /// sha1WithRSAEncryption (PKCS#1 v1.5): 1.2.840.113549.1.1.5.
    pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    /// sha256WithRSAEncryption (PKCS#1 v1.5): 1.2.840.113549.1.1.11.
    pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption (PKCS#1 v1.5): 1.2.840.113549.1.1.12.
    pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption (PKCS#1 v1.5): 1.2.840.113549.1.1.13.
    pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    /// id-RSASSA-PSS: 1.2.840.113549.1.1.10.
    pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    /// id-mgf1 (the mask generation function of RSASSA-PSS parameters): 1.2.840.113549.1.1.8.
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    /// id-ecPublicKey: the SPKI algorithm of ECC keys: 1.2.840.10045.2.1.
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// ecdsa-with-SHA1: 1.2.840.10045.4.1.
    pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
    /// ecdsa-with-SHA256: 1.2.840.10045.4.3.2.
    pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    /// ecdsa-with-SHA384: 1.2.840.10045.4.3.3.
    pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    /// ecdsa-with-SHA512: 1.2.840.10045.4.3.4.
    pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    /// secp256r1 (NIST P-256): 1.2.840.10045.3.1.7.
    pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1 (NIST P-384): 1.3.132.0.34.
    pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    /// secp521r1 (NIST P-521): 1.3.132.0.35.
    pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
    /// id-sha1: 1.3.14.3.2.26.
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    /// id-sha256: 2.16.840.1.101.3.4.2.1.
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// id-sha384: 2.16.840.1.101.3.4.2.2.
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// id-sha512: 2.16.840.1.101.3.4.2.3.
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
}
