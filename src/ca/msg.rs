//! The enrollment messages: JSON, strictly parsed.
//!
//! Every message has a `version` (1), refuses unknown fields, and is bounded twice: the
//! whole text by [`MAX_MESSAGE`] before it is parsed, and every field by its own maximum
//! (hex decoded only after its length is checked). Binary fields are lowercase or uppercase
//! hex without a prefix.

use super::CaError;
use serde::{Deserialize, Serialize};
use std::format;
use std::string::String;
use std::vec::Vec;

/// The message format version this crate writes and accepts.
pub const MESSAGE_VERSION: u32 = 1;
/// Largest message accepted, checked before parsing.
pub const MAX_MESSAGE: usize = 128 * 1024;
/// Most EK certificates in a request (the TCG low and high range indices).
pub const MAX_EK_CERTS: usize = 8;
/// Largest TPM2B_PUBLIC (2 + sizeof(TPMT_PUBLIC)).
pub const MAX_PUBLIC: usize = 2 + crate::types::tpm2b::max::PUBLIC;
/// A challenge id: 16 random bytes, 32 hex digits.
pub const CHALLENGE_ID_LEN: usize = 16;
/// The secret a challenge protects (the credential): 32 bytes.
pub const SECRET_LEN: usize = crate::credential::RECOMMENDED_CREDENTIAL;
/// Longest unsigned identity string (manufacturer, vendor string, firmware version).
pub const MAX_IDENTITY_TEXT: usize = 64;

/// One EK certificate as read from TPM NV.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NvCertificate {
    /// The TCG NV index it was read from (0x01c00002 RSA, 0x01c0000a ECC P-256, ...).
    pub nv_index: u32,
    /// The DER certificate (NV wrapper and padding removed), hex.
    pub der: String,
}

/// What the TPM said about itself (GetCapability). Nothing signs it: the CA does not rely on
/// it and never copies it into a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsignedTpmIdentity {
    /// TPM_PT_MANUFACTURER as four characters.
    pub manufacturer: String,
    /// TPM_PT_VENDOR_STRING_1..4.
    pub vendor_string: String,
    /// TPM_PT_FIRMWARE_VERSION_1 and _2, hex.
    pub firmware_version: String,
}

/// The machine asks the CA to certify its AK (`baretpm enroll request`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// Message format version ([`MESSAGE_VERSION`]).
    pub version: u32,
    /// EK certificates from NV; may be empty (then the CA needs `allow_no_ek_cert`).
    pub ek_certificates: Vec<NvCertificate>,
    /// The EK's TPM2B_PUBLIC, hex.
    pub ek_public: String,
    /// The AK's TPM2B_PUBLIC, hex.
    pub ak_public: String,
    /// What the TPM reported about itself; not relied on.
    pub unsigned_tpm_identity: UnsignedTpmIdentity,
}

/// The CA's answer to a request: a credential only the TPM holding the EK can open, and only
/// with the AK of the request loaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Message format version ([`MESSAGE_VERSION`]).
    pub version: u32,
    /// 16 random bytes, hex.
    pub challenge_id: String,
    /// The credential in the tpm2_makecredential file format (the bytes `baretpm
    /// makecredential -o` writes), hex.
    pub credential: String,
    /// The Name of the AK the credential is bound to, hex (computed by the CA).
    pub ak_name: String,
    /// Unix seconds after which the CA refuses the response.
    pub expires: u64,
}

/// The machine's proof that its TPM opened the credential (`baretpm enroll activate`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeResponse {
    /// Message format version ([`MESSAGE_VERSION`]).
    pub version: u32,
    /// The `challenge_id` of the challenge answered, hex.
    pub challenge_id: String,
    /// The secret ActivateCredential returned, hex.
    pub secret: String,
}

/// Decodes a hex field of at most `max` bytes (length checked before decoding).
pub(crate) fn hex_field(what: &str, s: &str, max: usize) -> Result<Vec<u8>, CaError> {
    if s.len() > max.saturating_mul(2) {
        return Err(CaError::Malformed(format!(
            "{what}: longer than {max} bytes"
        )));
    }
    hex::decode(s).map_err(|e| CaError::Malformed(format!("{what}: not hex ({e})")))
}

/// A challenge id: exactly 32 hex digits, returned lowercase (also a file name in the CA
/// state directory, so nothing else may pass).
pub(crate) fn challenge_id(s: &str) -> Result<String, CaError> {
    if s.len() != 2 * CHALLENGE_ID_LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CaError::Malformed(String::from(
            "challenge_id: not 32 hex digits",
        )));
    }
    Ok(s.to_ascii_lowercase())
}

fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, CaError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(CaError::Malformed(format!(
            "{what}: {} bytes, more than the {MAX_MESSAGE} allowed",
            bytes.len()
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| CaError::Malformed(format!("{what}: {e}")))
}

fn check_version(v: u32, what: &str) -> Result<(), CaError> {
    if v != MESSAGE_VERSION {
        return Err(CaError::Malformed(format!(
            "{what}: version {v}, this build reads version {MESSAGE_VERSION}"
        )));
    }
    Ok(())
}

fn check_text(what: &str, s: &str) -> Result<(), CaError> {
    if s.len() > MAX_IDENTITY_TEXT {
        return Err(CaError::Malformed(format!(
            "{what}: longer than {MAX_IDENTITY_TEXT} bytes"
        )));
    }
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail (no maps with non-string keys).
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

impl EnrollRequest {
    /// Parses and bounds a request (no cryptographic check: that is [`super::challenge`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, CaError> {
        let r: Self = parse(bytes, "enrollment request")?;
        check_version(r.version, "enrollment request")?;
        if r.ek_certificates.len() > MAX_EK_CERTS {
            return Err(CaError::Malformed(format!(
                "enrollment request: {} EK certificates, at most {MAX_EK_CERTS}",
                r.ek_certificates.len()
            )));
        }
        for (i, c) in r.ek_certificates.iter().enumerate() {
            hex_field(
                &format!("ek_certificates[{i}].der"),
                &c.der,
                crate::cert::MAX_CERT_LEN,
            )?;
        }
        hex_field("ek_public", &r.ek_public, MAX_PUBLIC)?;
        hex_field("ak_public", &r.ak_public, MAX_PUBLIC)?;
        let id = &r.unsigned_tpm_identity;
        check_text("unsigned_tpm_identity.manufacturer", &id.manufacturer)?;
        check_text("unsigned_tpm_identity.vendor_string", &id.vendor_string)?;
        check_text(
            "unsigned_tpm_identity.firmware_version",
            &id.firmware_version,
        )?;
        Ok(r)
    }

    /// The request as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

impl Challenge {
    /// Parses and bounds a challenge: version, id, and the hex fields' lengths.
    pub fn from_json(bytes: &[u8]) -> Result<Self, CaError> {
        let c: Self = parse(bytes, "challenge")?;
        check_version(c.version, "challenge")?;
        challenge_id(&c.challenge_id)?;
        hex_field(
            "credential",
            &c.credential,
            crate::interop::MAX_CREDENTIAL_FILE,
        )?;
        hex_field("ak_name", &c.ak_name, crate::types::hash::MAX_DIGEST + 2)?;
        Ok(c)
    }

    /// The credential file bytes (tpm2-tools format).
    pub fn credential_bytes(&self) -> Result<Vec<u8>, CaError> {
        hex_field(
            "credential",
            &self.credential,
            crate::interop::MAX_CREDENTIAL_FILE,
        )
    }

    /// The challenge as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}

impl ChallengeResponse {
    /// Parses and bounds a response: version, id, and the secret's length.
    pub fn from_json(bytes: &[u8]) -> Result<Self, CaError> {
        let r: Self = parse(bytes, "challenge response")?;
        check_version(r.version, "challenge response")?;
        challenge_id(&r.challenge_id)?;
        hex_field("secret", &r.secret, crate::credential::MAX_CREDENTIAL)?;
        Ok(r)
    }

    /// The response as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        to_json(self)
    }
}
