//! Standard key templates: attestation keys as go-tpm-tools makes them, and the TCG EK
//! Credential Profile's default EK templates (so the EK public matches the EK certificate).

use crate::types::tpm2b::max;
use crate::types::{
    HashAlg, PublicDetails, Tpm2b, TpmAlgId, TpmEccCurve, TpmaObject, TpmsEccParms, TpmsEccPoint,
    TpmsRsaParms, TpmtEccScheme, TpmtKdfScheme, TpmtPublic, TpmtRsaScheme, TpmtSymDefObject,
};
use crate::wire::{Error, ErrorKind, Unmarshal};

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

/// NV indices of EK certificates (TCG EK Credential Profile 2.x), in the order they are looked
/// for: RSA-2048 and ECC P-256 of the low range, then the high range (RSA-2048, P-256, P-384,
/// P-521, RSA-3072, RSA-4096). swtpm puts its ECC certificate at 0x01c00016 (P-384).
pub const EK_CERT_NV_INDICES: [u32; 8] = [
    EK_CERT_RSA_NV_INDEX,
    EK_CERT_ECC_NV_INDEX,
    0x01C0_0012,
    0x01C0_0014,
    0x01C0_0016,
    0x01C0_0018,
    0x01C0_001C,
    0x01C0_001E,
];

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

/// PolicyB for SHA-256: PolicyOR(PolicyA, PolicyC), the authPolicy of high-range EKs whose
/// nameAlg is SHA-256 (TCG EK Credential Profile 2.5, templates H-1 and H-2).
pub const EK_POLICY_B_SHA256: [u8; 32] = [
    0xca, 0x3d, 0x0a, 0x99, 0xa2, 0xb9, 0x39, 0x06, 0xf7, 0xa3, 0x34, 0x24, 0x14, 0xef, 0xcf, 0xb3,
    0xa3, 0x85, 0xd4, 0x4c, 0xd1, 0xfd, 0x45, 0x90, 0x89, 0xd1, 0x9b, 0x50, 0x71, 0xc0, 0xb7, 0xa0,
];

/// High-range EK attributes: the low-range ones plus userWithAuth.
pub const EK_HIGH_ATTRIBUTES: u32 = EK_ATTRIBUTES | TpmaObject::USER_WITH_AUTH;

const AES256_CFB: TpmtSymDefObject = TpmtSymDefObject::Cipher {
    algorithm: TpmAlgId::AES,
    key_bits: 256,
    mode: TpmAlgId::CFB,
};

/// The EK key types of the TCG EK Credential Profile this crate can create (P-521 and SM2
/// are not included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EkType {
    /// RSA 2048 (templates L-1 and H-1).
    Rsa2048,
    /// ECC NIST P-256 (templates L-2 and H-2).
    EccP256,
    /// ECC NIST P-384 (template H-3; high range only).
    EccP384,
    /// RSA 3072 (template H-6; high range only).
    Rsa3072,
    /// RSA 4096 (template H-7; high range only).
    Rsa4096,
}

impl EkType {
    /// Whether only the high range has a template for this type.
    pub fn high_only(self) -> bool {
        !matches!(self, Self::Rsa2048 | Self::EccP256)
    }

    /// NV index of the EK certificate (low range for RSA-2048 and P-256 unless `high`).
    pub fn cert_index(self, high: bool) -> u32 {
        match (self, high && !self.high_only()) {
            (Self::Rsa2048, false) => EK_CERT_RSA_NV_INDEX,
            (Self::EccP256, false) => EK_CERT_ECC_NV_INDEX,
            (Self::Rsa2048, true) => 0x01C0_0012,
            (Self::EccP256, true) => 0x01C0_0014,
            (Self::EccP384, _) => 0x01C0_0016,
            (Self::Rsa3072, _) => 0x01C0_001C,
            (Self::Rsa4096, _) => 0x01C0_001E,
        }
    }

    /// NV index where a platform may store a template that replaces the default one: cert+2
    /// in the low range, cert+1 in the high range.
    pub fn template_index(self, high: bool) -> u32 {
        if high || self.high_only() {
            self.cert_index(true) + 1
        } else {
            self.cert_index(false) + 2
        }
    }

    /// NV index of the EK nonce (low range only; "EK Nonces SHALL NOT be populated" in the
    /// high range).
    pub fn nonce_index(self, high: bool) -> Option<u32> {
        (!high && !self.high_only()).then(|| self.cert_index(false) + 1)
    }

    /// The default template: L-1/L-2 (low) or H-1, H-2, H-3, H-6, H-7 (high). High-range
    /// templates have an empty `unique`.
    pub fn template(self, high: bool) -> TpmtPublic<'static> {
        if !high && !self.high_only() {
            return match self {
                Self::EccP256 => ek_ecc(),
                _ => ek_rsa(),
            };
        }
        let (name_alg, policy, sym): (HashAlg, &'static [u8], TpmtSymDefObject) = match self {
            Self::Rsa2048 | Self::EccP256 => (HashAlg::Sha256, &EK_POLICY_B_SHA256, AES128_CFB),
            _ => (HashAlg::Sha384, &EK_AUTH_POLICY_B_SHA384, AES256_CFB),
        };
        let details = match self {
            Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096 => PublicDetails::Rsa {
                parms: TpmsRsaParms {
                    symmetric: sym,
                    scheme: TpmtRsaScheme::Null,
                    key_bits: match self {
                        Self::Rsa3072 => 3072,
                        Self::Rsa4096 => 4096,
                        _ => 2048,
                    },
                    exponent: 0,
                },
                unique: Tpm2b(&[]),
            },
            Self::EccP256 | Self::EccP384 => PublicDetails::Ecc {
                parms: TpmsEccParms {
                    symmetric: sym,
                    scheme: TpmtEccScheme::Null,
                    curve_id: if self == Self::EccP384 {
                        TpmEccCurve::NIST_P384
                    } else {
                        TpmEccCurve::NIST_P256
                    },
                    kdf: TpmtKdfScheme::Null,
                },
                unique: TpmsEccPoint {
                    x: Tpm2b(&[]),
                    y: Tpm2b(&[]),
                },
            },
        };
        TpmtPublic {
            name_alg: Some(name_alg),
            object_attributes: TpmaObject(EK_HIGH_ATTRIBUTES),
            auth_policy: Tpm2b(policy),
            details,
        }
    }
}

/// NV indices where cloud vTPMs keep an AK certificate: GCE RSA (0x01C10000) and ECC
/// (0x01C10002), Azure (0x01C101D0).
pub const AK_CERT_NV_INDICES: [u32; 3] = [0x01C1_0000, 0x01C1_0002, 0x01C1_01D0];

/// Whether an NV index is one of [`AK_CERT_NV_INDICES`].
pub fn is_ak_cert_nv_index(nv_index: u32) -> bool {
    AK_CERT_NV_INDICES.contains(&nv_index)
}

/// EK template H-3 (TCG EK Credential Profile 2.x): ECC P-384, SHA-384, AES-256-CFB, PolicyB,
/// empty unique. swtpm_setup persists this EK at 0x81010016.
pub fn ek_ecc_p384_high() -> TpmtPublic<'static> {
    EkType::EccP384.template(true)
}

/// Size of `unique.rsa` in the RSA-2048 template L-1, the longest field an EK nonce may fill.
const EK_NONCE_MAX: usize = 256;

/// An EK's template as the platform defines it (TCG EK Credential Profile 2.x, "EK
/// templates"): a template stored in NV replaces the default one, and in the low range an EK
/// nonce stored in NV goes into `unique` (RSA: the nonce zero-padded to 256 bytes; ECC: `x` is
/// the nonce zero-padded to 32 bytes, `y` 32 zero bytes). An EK created from anything else is
/// not the key its certificate certifies. Read one from a TPM with
/// [`crate::tpm::Tpm::ek_template`]; [`EkTemplate::public`] gives the template to send.
#[derive(Clone, Debug)]
pub struct EkTemplate {
    ty: EkType,
    high: bool,
    nv_template: [u8; max::PUBLIC],
    /// 0 when there is no template in NV.
    nv_template_len: usize,
    /// The nonce, zero-padded.
    unique: [u8; EK_NONCE_MAX],
    nonce: bool,
}

impl EkTemplate {
    /// The TCG default template of `ty` in that range (as [`EkType::template`]), nothing from NV.
    pub fn default_for(ty: EkType, high: bool) -> Self {
        EkTemplate {
            ty,
            high: high || ty.high_only(),
            nv_template: [0; max::PUBLIC],
            nv_template_len: 0,
            unique: [0; EK_NONCE_MAX],
            nonce: false,
        }
    }

    /// The key type and range this template is for.
    pub fn ek_type(&self) -> (EkType, bool) {
        (self.ty, self.high)
    }

    /// Replaces the default with a template read from NV (the TPMT_PUBLIC bytes). Refused when
    /// they are not one TPMT_PUBLIC, or longer than the spec maximum.
    pub fn with_nv_template(mut self, tpmt: &[u8]) -> Result<Self, Error> {
        let Some(dst) = self.nv_template.get_mut(..tpmt.len()) else {
            return Err(Error::new(
                ErrorKind::SizeAboveMax {
                    size: tpmt.len(),
                    max: max::PUBLIC,
                },
                "EK template (NV)",
                0,
            ));
        };
        TpmtPublic::from_bytes(tpmt)?;
        dst.copy_from_slice(tpmt);
        self.nv_template_len = tpmt.len();
        Ok(self)
    }

    /// Puts an EK nonce read from NV into `unique`. Refused in the high range (whose
    /// templates take no nonce) and when the nonce is longer than the field it fills.
    pub fn with_nonce(mut self, nonce: &[u8]) -> Result<Self, Error> {
        if self.high {
            return Err(Error::new(
                ErrorKind::InvalidValue {
                    value: self.ty.cert_index(true),
                },
                "EK nonce (NV): the high range takes none",
                0,
            ));
        }
        let room = match self.ty {
            EkType::EccP256 => 32,
            _ => EK_NONCE_MAX,
        };
        let dst = self
            .unique
            .get_mut(..nonce.len())
            .filter(|_| nonce.len() <= room);
        let Some(dst) = dst else {
            return Err(Error::new(
                ErrorKind::SizeAboveMax {
                    size: nonce.len(),
                    max: room,
                },
                "EK nonce (NV)",
                0,
            ));
        };
        dst.copy_from_slice(nonce);
        self.nonce = true;
        Ok(self)
    }

    /// Whether the template came from NV (instead of the TCG default).
    pub fn from_nv(&self) -> bool {
        self.nv_template_len > 0
    }

    /// Whether an EK nonce from NV is in `unique`.
    pub fn has_nonce(&self) -> bool {
        self.nonce
    }

    /// Where the template came from, for messages: `TCG default, low range`, `TCG default,
    /// high range` or `from NV`, followed by `, nonce from NV` when a nonce is in it.
    pub fn origin(&self) -> &'static str {
        match (self.from_nv(), self.high, self.nonce) {
            (true, _, true) => "from NV, nonce from NV",
            (true, _, false) => "from NV",
            (false, true, _) => "TCG default, high range",
            (false, false, true) => "TCG default, low range, nonce from NV",
            (false, false, false) => "TCG default, low range",
        }
    }

    /// The template to send in CreatePrimary.
    pub fn public(&self) -> Result<TpmtPublic<'_>, Error> {
        let mut t = match self.nv_template.get(..self.nv_template_len) {
            Some(bytes) if !bytes.is_empty() => TpmtPublic::from_bytes(bytes)?,
            _ => self.ty.template(self.high),
        };
        if self.nonce {
            match &mut t.details {
                PublicDetails::Rsa { unique, .. } => *unique = Tpm2b(&self.unique[..]),
                PublicDetails::Ecc { unique, .. } => {
                    let (x, rest) = self.unique.split_at(32);
                    unique.x = Tpm2b(x);
                    unique.y = Tpm2b(rest.get(..32).unwrap_or_default());
                }
                _ => {}
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod ek_template_tests {
    use super::*;

    #[test]
    fn default_is_the_tcg_template() {
        for (ty, high) in [(EkType::Rsa2048, false), (EkType::EccP384, false)] {
            let t = EkTemplate::default_for(ty, high);
            assert_eq!(t.public().unwrap(), ty.template(high));
            assert!(!t.from_nv() && !t.has_nonce());
        }
    }

    #[test]
    fn nonce_fills_unique_zero_padded() {
        let t = EkTemplate::default_for(EkType::EccP256, false)
            .with_nonce(&[7; 5])
            .unwrap();
        let PublicDetails::Ecc { unique, .. } = t.public().unwrap().details else {
            panic!("not ECC");
        };
        assert_eq!(
            unique.x.as_bytes(),
            [[7u8; 5].as_slice(), &[0; 27]].concat()
        );
        assert_eq!(unique.y.as_bytes(), [0u8; 32]);
        let t = EkTemplate::default_for(EkType::Rsa2048, false)
            .with_nonce(&[9; 3])
            .unwrap();
        let PublicDetails::Rsa { unique, .. } = t.public().unwrap().details else {
            panic!("not RSA");
        };
        assert_eq!(unique.as_bytes().len(), 256);
        assert_eq!(&unique.as_bytes()[..4], [9, 9, 9, 0]);
        // Everything but unique is the default template.
        assert_eq!(
            t.public()
                .unwrap()
                .check_made_from(&EkType::Rsa2048.template(false)),
            Ok(())
        );
    }

    #[test]
    fn bad_nonces_and_templates_are_refused() {
        let ecc = EkTemplate::default_for(EkType::EccP256, false);
        assert!(ecc.clone().with_nonce(&[1; 33]).is_err());
        assert!(EkTemplate::default_for(EkType::Rsa2048, false)
            .with_nonce(&[1; 257])
            .is_err());
        assert!(EkTemplate::default_for(EkType::EccP256, true)
            .with_nonce(&[1])
            .is_err());
        assert!(ecc.clone().with_nv_template(&[0, 1, 2]).is_err());
        assert!(ecc.with_nv_template(&[0; max::PUBLIC + 1]).is_err());
    }

    #[test]
    fn nv_template_replaces_the_default() {
        let mut buf = [0u8; max::PUBLIC];
        let mut w = crate::wire::Writer::new(&mut buf);
        crate::wire::Marshal::marshal(&ek_rsa_high_3072(), &mut w).unwrap();
        let n = w.len();
        let t = EkTemplate::default_for(EkType::Rsa2048, false)
            .with_nv_template(&buf[..n])
            .unwrap();
        assert!(t.from_nv());
        assert_eq!(t.public().unwrap(), EkType::Rsa3072.template(true));
    }

    fn ek_rsa_high_3072() -> TpmtPublic<'static> {
        EkType::Rsa3072.template(true)
    }
}
