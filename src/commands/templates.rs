//! Standard key templates: attestation keys as go-tpm-tools makes them, and the TCG EK
//! Credential Profile's default EK templates (so the EK public matches the EK certificate).

use crate::types::{
    HashAlg, PublicDetails, Tpm2b, TpmAlgId, TpmEccCurve, TpmaObject, TpmsEccParms, TpmsEccPoint,
    TpmsRsaParms, TpmtEccScheme, TpmtKdfScheme, TpmtPublic, TpmtRsaScheme, TpmtSymDefObject,
};

/// restricted | sign | fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth.
pub const AK_ATTRIBUTES: u32 = TpmaObject::RESTRICTED
    | TpmaObject::SIGN_ENCRYPT
    | TpmaObject::FIXED_TPM
    | TpmaObject::FIXED_PARENT
    | TpmaObject::SENSITIVE_DATA_ORIGIN
    | TpmaObject::USER_WITH_AUTH;

/// fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted | decrypt.
pub const EK_ATTRIBUTES: u32 = TpmaObject::FIXED_TPM
    | TpmaObject::FIXED_PARENT
    | TpmaObject::SENSITIVE_DATA_ORIGIN
    | TpmaObject::ADMIN_WITH_POLICY
    | TpmaObject::RESTRICTED
    | TpmaObject::DECRYPT;

/// The EK's policy: PolicySecret(TPM_RH_ENDORSEMENT), TCG EK Credential Profile.
pub const EK_AUTH_POLICY: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

/// PolicyB for SHA-384 EKs (high-range templates H-3, H-6, H-7; TCG EK Credential Profile
/// 2.x): PolicyOR of PolicySecret(TPM_RH_ENDORSEMENT) and the NV-index branch. Read from the
/// P-384 EK swtpm_setup persists at 0x81010016.
pub const EK_AUTH_POLICY_B_SHA384: [u8; 48] = [
    0xb2, 0x6e, 0x7d, 0x28, 0xd1, 0x1a, 0x50, 0xbc, 0x53, 0xd8, 0x82, 0xbc, 0xf5, 0xfd, 0x3a, 0x1a,
    0x07, 0x41, 0x48, 0xbb, 0x35, 0xd3, 0xb4, 0xe4, 0xcb, 0x1c, 0x0a, 0xd9, 0xbd, 0xe4, 0x19, 0xca,
    0xcb, 0x47, 0xba, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0f, 0x9f, 0xc0, 0x00, 0xf3, 0xf8, 0x0e, 0x12,
];

/// NV index of the RSA-2048 EK certificate (TCG EK Credential Profile).
pub const EK_CERT_RSA_NV_INDEX: u32 = 0x01C0_0002;
/// NV index of the ECC P-256 EK certificate.
pub const EK_CERT_ECC_NV_INDEX: u32 = 0x01C0_000A;

const ZEROS: [u8; 256] = [0; 256];

const AES128_CFB: TpmtSymDefObject = TpmtSymDefObject::Cipher {
    algorithm: TpmAlgId::AES,
    key_bits: 128,
    mode: TpmAlgId::CFB,
};

/// RSA-2048 restricted signing key, RSASSA with SHA-256.
pub fn ak_rsa() -> TpmtPublic<'static> {
    TpmtPublic {
        name_alg: Some(HashAlg::Sha256),
        object_attributes: TpmaObject(AK_ATTRIBUTES),
        auth_policy: Tpm2b(&[]),
        details: PublicDetails::Rsa {
            parms: TpmsRsaParms {
                symmetric: TpmtSymDefObject::Null,
                scheme: TpmtRsaScheme::RsaSsa(HashAlg::Sha256),
                key_bits: 2048,
                exponent: 0,
            },
            unique: Tpm2b(&[]),
        },
    }
}

/// ECC P-256 restricted signing key, ECDSA with SHA-256.
pub fn ak_ecc() -> TpmtPublic<'static> {
    TpmtPublic {
        name_alg: Some(HashAlg::Sha256),
        object_attributes: TpmaObject(AK_ATTRIBUTES),
        auth_policy: Tpm2b(&[]),
        details: PublicDetails::Ecc {
            parms: TpmsEccParms {
                symmetric: TpmtSymDefObject::Null,
                scheme: TpmtEccScheme::Ecdsa(HashAlg::Sha256),
                curve_id: TpmEccCurve::NIST_P256,
                kdf: TpmtKdfScheme::Null,
            },
            unique: TpmsEccPoint {
                x: Tpm2b(&[]),
                y: Tpm2b(&[]),
            },
        },
    }
}

/// EK template L-1: RSA-2048, AES-128-CFB, 256 zero bytes of unique.
pub fn ek_rsa() -> TpmtPublic<'static> {
    TpmtPublic {
        name_alg: Some(HashAlg::Sha256),
        object_attributes: TpmaObject(EK_ATTRIBUTES),
        auth_policy: Tpm2b(&EK_AUTH_POLICY),
        details: PublicDetails::Rsa {
            parms: TpmsRsaParms {
                symmetric: AES128_CFB,
                scheme: TpmtRsaScheme::Null,
                key_bits: 2048,
                exponent: 0,
            },
            unique: Tpm2b(&ZEROS),
        },
    }
}

/// EK template L-2: ECC P-256, AES-128-CFB, 32 zero bytes for each coordinate.
pub fn ek_ecc() -> TpmtPublic<'static> {
    TpmtPublic {
        name_alg: Some(HashAlg::Sha256),
        object_attributes: TpmaObject(EK_ATTRIBUTES),
        auth_policy: Tpm2b(&EK_AUTH_POLICY),
        details: PublicDetails::Ecc {
            parms: TpmsEccParms {
                symmetric: AES128_CFB,
                scheme: TpmtEccScheme::Null,
                curve_id: TpmEccCurve::NIST_P256,
                kdf: TpmtKdfScheme::Null,
            },
            unique: TpmsEccPoint {
                x: Tpm2b(&ZEROS[..32]),
                y: Tpm2b(&ZEROS[..32]),
            },
        },
    }
}

/// Attributes of the high-range EK templates (H-1 to H-7): EK_ATTRIBUTES and userWithAuth, so
/// the EK's USER role takes a password session as well as PolicyB.
pub const EK_HIGH_ATTRIBUTES: u32 = EK_ATTRIBUTES | TpmaObject::USER_WITH_AUTH;

/// EK template H-3 (TCG EK Credential Profile 2.x): ECC P-384, SHA-384, AES-256-CFB, PolicyB,
/// empty unique. swtpm_setup persists this EK at 0x81010016.
pub fn ek_ecc_p384_high() -> TpmtPublic<'static> {
    TpmtPublic {
        name_alg: Some(HashAlg::Sha384),
        object_attributes: TpmaObject(EK_HIGH_ATTRIBUTES),
        auth_policy: Tpm2b(&EK_AUTH_POLICY_B_SHA384),
        details: PublicDetails::Ecc {
            parms: TpmsEccParms {
                symmetric: TpmtSymDefObject::Cipher {
                    algorithm: TpmAlgId::AES,
                    key_bits: 256,
                    mode: TpmAlgId::CFB,
                },
                scheme: TpmtEccScheme::Null,
                curve_id: TpmEccCurve::NIST_P384,
                kdf: TpmtKdfScheme::Null,
            },
            unique: TpmsEccPoint {
                x: Tpm2b(&[]),
                y: Tpm2b(&[]),
            },
        },
    }
}
