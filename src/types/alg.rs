//! TPM_ALG_ID, TPM_ST, TPM_CC, TPM_HT, TPM_ECC_CURVE: the spec's constants.

use crate::wire::{Error, ErrorKind, Reader};

/// `TPM_ALG_ID`: an algorithm identifier as it appears on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct TpmAlgId(pub u16);

impl TpmAlgId {
    pub const ERROR: Self = Self(0x0000);
    pub const RSA: Self = Self(0x0001);
    pub const TDES: Self = Self(0x0003);
    pub const SHA1: Self = Self(0x0004);
    pub const HMAC: Self = Self(0x0005);
    pub const AES: Self = Self(0x0006);
    pub const MGF1: Self = Self(0x0007);
    pub const KEYEDHASH: Self = Self(0x0008);
    pub const XOR: Self = Self(0x000A);
    pub const SHA256: Self = Self(0x000B);
    pub const SHA384: Self = Self(0x000C);
    pub const SHA512: Self = Self(0x000D);
    pub const NULL: Self = Self(0x0010);
    pub const SM3_256: Self = Self(0x0012);
    pub const SM4: Self = Self(0x0013);
    pub const RSASSA: Self = Self(0x0014);
    pub const RSAES: Self = Self(0x0015);
    pub const RSAPSS: Self = Self(0x0016);
    pub const OAEP: Self = Self(0x0017);
    pub const ECDSA: Self = Self(0x0018);
    pub const ECDH: Self = Self(0x0019);
    pub const ECDAA: Self = Self(0x001A);
    pub const SM2: Self = Self(0x001B);
    pub const ECSCHNORR: Self = Self(0x001C);
    pub const ECMQV: Self = Self(0x001D);
    pub const KDF1_SP800_56A: Self = Self(0x0020);
    pub const KDF2: Self = Self(0x0021);
    pub const KDF1_SP800_108: Self = Self(0x0022);
    pub const ECC: Self = Self(0x0023);
    pub const SYMCIPHER: Self = Self(0x0025);
    pub const CAMELLIA: Self = Self(0x0026);
    pub const SHA3_256: Self = Self(0x0027);
    pub const SHA3_384: Self = Self(0x0028);
    pub const SHA3_512: Self = Self(0x0029);
    pub const CTR: Self = Self(0x0040);
    pub const OFB: Self = Self(0x0041);
    pub const CBC: Self = Self(0x0042);
    pub const CFB: Self = Self(0x0043);
    pub const ECB: Self = Self(0x0044);

    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, Error> {
        r.u16(what).map(Self)
    }

    /// The spec's name without the `TPM_ALG_` prefix, or `None` for an unassigned value.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::ERROR => "ERROR",
            Self::RSA => "RSA",
            Self::TDES => "TDES",
            Self::SHA1 => "SHA1",
            Self::HMAC => "HMAC",
            Self::AES => "AES",
            Self::MGF1 => "MGF1",
            Self::KEYEDHASH => "KEYEDHASH",
            Self::XOR => "XOR",
            Self::SHA256 => "SHA256",
            Self::SHA384 => "SHA384",
            Self::SHA512 => "SHA512",
            Self::NULL => "NULL",
            Self::SM3_256 => "SM3_256",
            Self::SM4 => "SM4",
            Self::RSASSA => "RSASSA",
            Self::RSAES => "RSAES",
            Self::RSAPSS => "RSAPSS",
            Self::OAEP => "OAEP",
            Self::ECDSA => "ECDSA",
            Self::ECDH => "ECDH",
            Self::ECDAA => "ECDAA",
            Self::SM2 => "SM2",
            Self::ECSCHNORR => "ECSCHNORR",
            Self::ECMQV => "ECMQV",
            Self::KDF1_SP800_56A => "KDF1_SP800_56A",
            Self::KDF2 => "KDF2",
            Self::KDF1_SP800_108 => "KDF1_SP800_108",
            Self::ECC => "ECC",
            Self::SYMCIPHER => "SYMCIPHER",
            Self::CAMELLIA => "CAMELLIA",
            Self::SHA3_256 => "SHA3_256",
            Self::SHA3_384 => "SHA3_384",
            Self::SHA3_512 => "SHA3_512",
            Self::CTR => "CTR",
            Self::OFB => "OFB",
            Self::CBC => "CBC",
            Self::CFB => "CFB",
            Self::ECB => "ECB",
            _ => return None,
        })
    }
}

impl core::fmt::Display for TpmAlgId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => write!(f, "TPM_ALG_{n}"),
            None => write!(f, "TPM_ALG_ID({:#06x})", self.0),
        }
    }
}

/// `TPMI_ALG_HASH`: the hash algorithms the spec defines, with their digest sizes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    Sm3_256,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl HashAlg {
    /// Every hash algorithm, in TPM_ALG_ID order.
    pub const ALL: [HashAlg; 8] = [
        Self::Sha1,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sm3_256,
        Self::Sha3_256,
        Self::Sha3_384,
        Self::Sha3_512,
    ];

    pub const fn alg_id(self) -> TpmAlgId {
        match self {
            Self::Sha1 => TpmAlgId::SHA1,
            Self::Sha256 => TpmAlgId::SHA256,
            Self::Sha384 => TpmAlgId::SHA384,
            Self::Sha512 => TpmAlgId::SHA512,
            Self::Sm3_256 => TpmAlgId::SM3_256,
            Self::Sha3_256 => TpmAlgId::SHA3_256,
            Self::Sha3_384 => TpmAlgId::SHA3_384,
            Self::Sha3_512 => TpmAlgId::SHA3_512,
        }
    }

    pub fn from_alg_id(id: TpmAlgId) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.alg_id() == id)
    }

    /// Reads a `TPMI_ALG_HASH` (TPM_ALG_NULL not allowed).
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, Error> {
        let at = r.offset();
        let id = TpmAlgId::read(r, what)?;
        Self::from_alg_id(id).ok_or(Error::new(
            ErrorKind::UnknownValue {
                value: u32::from(id.0),
            },
            what,
            at,
        ))
    }

    pub const fn digest_size(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 | Self::Sm3_256 | Self::Sha3_256 => 32,
            Self::Sha384 | Self::Sha3_384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
        }
    }

    /// The lower-case name tpm2-tools uses (`sha1`, `sha256`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sm3_256 => "sm3_256",
            Self::Sha3_256 => "sha3_256",
            Self::Sha3_384 => "sha3_384",
            Self::Sha3_512 => "sha3_512",
        }
    }

    /// Parses a tpm2-tools style name (`sha256`, `SHA256`, `sha1`, `sha`) or a numeric id.
    pub fn from_name(s: &str) -> Option<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("sha") {
            return Some(Self::Sha1);
        }
        if let Some(h) = Self::ALL
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(t))
        {
            return Some(h);
        }
        let n = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            u16::from_str_radix(hex, 16).ok()?
        } else {
            t.parse::<u16>().ok()?
        };
        Self::from_alg_id(TpmAlgId(n))
    }
}

impl core::fmt::Display for HashAlg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// `TPM_ECC_CURVE`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmEccCurve(pub u16);

impl TpmEccCurve {
    pub const NONE: Self = Self(0x0000);
    pub const NIST_P192: Self = Self(0x0001);
    pub const NIST_P224: Self = Self(0x0002);
    pub const NIST_P256: Self = Self(0x0003);
    pub const NIST_P384: Self = Self(0x0004);
    pub const NIST_P521: Self = Self(0x0005);
    pub const BN_P256: Self = Self(0x0010);
    pub const BN_P638: Self = Self(0x0011);
    pub const SM2_P256: Self = Self(0x0020);

    /// Bytes of a coordinate for the curves the spec defines, or `None`.
    pub const fn coordinate_size(self) -> Option<usize> {
        Some(match self.0 {
            0x0001 => 24,
            0x0002 => 28,
            0x0003 | 0x0010 | 0x0020 => 32,
            0x0004 => 48,
            0x0005 => 66,
            0x0011 => 80,
            _ => return None,
        })
    }
}

/// `TPM_ST`: structure tags.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmSt(pub u16);

impl TpmSt {
    pub const RSP_COMMAND: Self = Self(0x00C4);
    pub const NULL: Self = Self(0x8000);
    pub const NO_SESSIONS: Self = Self(0x8001);
    pub const SESSIONS: Self = Self(0x8002);
    pub const ATTEST_NV: Self = Self(0x8014);
    pub const ATTEST_COMMAND_AUDIT: Self = Self(0x8015);
    pub const ATTEST_SESSION_AUDIT: Self = Self(0x8016);
    pub const ATTEST_CERTIFY: Self = Self(0x8017);
    pub const ATTEST_QUOTE: Self = Self(0x8018);
    pub const ATTEST_TIME: Self = Self(0x8019);
    pub const ATTEST_CREATION: Self = Self(0x801A);
    pub const ATTEST_NV_DIGEST: Self = Self(0x801C);
    pub const CREATION: Self = Self(0x8021);
    pub const VERIFIED: Self = Self(0x8022);
    pub const AUTH_SECRET: Self = Self(0x8023);
    pub const HASHCHECK: Self = Self(0x8024);
    pub const AUTH_SIGNED: Self = Self(0x8025);
    pub const FU_MANIFEST: Self = Self(0x8029);
}

/// `TPM_GENERATED_VALUE`: the magic that starts every structure the TPM signs itself.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;

/// `TPM_CC`: command codes of the commands this crate sends, plus the ones audit digests name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmCc(pub u32);

impl TpmCc {
    pub const NV_UNDEFINE_SPACE_SPECIAL: Self = Self(0x011F);
    pub const EVICT_CONTROL: Self = Self(0x0120);
    pub const HIERARCHY_CONTROL: Self = Self(0x0121);
    pub const NV_UNDEFINE_SPACE: Self = Self(0x0122);
    pub const CLEAR: Self = Self(0x0126);
    pub const NV_DEFINE_SPACE: Self = Self(0x012A);
    pub const CREATE_PRIMARY: Self = Self(0x0131);
    pub const NV_WRITE: Self = Self(0x0137);
    pub const PCR_EVENT: Self = Self(0x013C);
    pub const PCR_RESET: Self = Self(0x013D);
    pub const SELF_TEST: Self = Self(0x0143);
    pub const STARTUP: Self = Self(0x0144);
    pub const SHUTDOWN: Self = Self(0x0145);
    pub const ACTIVATE_CREDENTIAL: Self = Self(0x0147);
    pub const CERTIFY: Self = Self(0x0148);
    pub const POLICY_SECRET: Self = Self(0x0151);
    pub const NV_READ: Self = Self(0x014E);
    pub const CREATE: Self = Self(0x0153);
    pub const LOAD: Self = Self(0x0157);
    pub const QUOTE: Self = Self(0x0158);
    pub const SIGN: Self = Self(0x015D);
    pub const FLUSH_CONTEXT: Self = Self(0x0165);
    pub const NV_READ_PUBLIC: Self = Self(0x0169);
    pub const READ_PUBLIC: Self = Self(0x0173);
    pub const START_AUTH_SESSION: Self = Self(0x0176);
    pub const GET_CAPABILITY: Self = Self(0x017A);
    pub const GET_RANDOM: Self = Self(0x017B);
    pub const PCR_READ: Self = Self(0x017E);
    pub const PCR_EXTEND: Self = Self(0x0182);
    pub const READ_CLOCK: Self = Self(0x0181);

    /// The spec name (`TPM2_Quote`), or `None` for a code this crate does not name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::NV_UNDEFINE_SPACE_SPECIAL => "TPM2_NV_UndefineSpaceSpecial",
            Self::EVICT_CONTROL => "TPM2_EvictControl",
            Self::HIERARCHY_CONTROL => "TPM2_HierarchyControl",
            Self::NV_UNDEFINE_SPACE => "TPM2_NV_UndefineSpace",
            Self::CLEAR => "TPM2_Clear",
            Self::NV_DEFINE_SPACE => "TPM2_NV_DefineSpace",
            Self::CREATE_PRIMARY => "TPM2_CreatePrimary",
            Self::NV_WRITE => "TPM2_NV_Write",
            Self::PCR_EVENT => "TPM2_PCR_Event",
            Self::PCR_RESET => "TPM2_PCR_Reset",
            Self::SELF_TEST => "TPM2_SelfTest",
            Self::STARTUP => "TPM2_Startup",
            Self::SHUTDOWN => "TPM2_Shutdown",
            Self::ACTIVATE_CREDENTIAL => "TPM2_ActivateCredential",
            Self::CERTIFY => "TPM2_Certify",
            Self::POLICY_SECRET => "TPM2_PolicySecret",
            Self::NV_READ => "TPM2_NV_Read",
            Self::CREATE => "TPM2_Create",
            Self::LOAD => "TPM2_Load",
            Self::QUOTE => "TPM2_Quote",
            Self::SIGN => "TPM2_Sign",
            Self::FLUSH_CONTEXT => "TPM2_FlushContext",
            Self::NV_READ_PUBLIC => "TPM2_NV_ReadPublic",
            Self::READ_PUBLIC => "TPM2_ReadPublic",
            Self::START_AUTH_SESSION => "TPM2_StartAuthSession",
            Self::GET_CAPABILITY => "TPM2_GetCapability",
            Self::GET_RANDOM => "TPM2_GetRandom",
            Self::PCR_READ => "TPM2_PCR_Read",
            Self::PCR_EXTEND => "TPM2_PCR_Extend",
            Self::READ_CLOCK => "TPM2_ReadClock",
            _ => return None,
        })
    }
}

impl core::fmt::Display for TpmCc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "TPM_CC({:#x})", self.0),
        }
    }
}

/// `TPM_HT`: the handle type in a handle's most significant byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmHt(pub u8);

impl TpmHt {
    pub const PCR: Self = Self(0x00);
    pub const NV_INDEX: Self = Self(0x01);
    pub const HMAC_SESSION: Self = Self(0x02);
    pub const POLICY_SESSION: Self = Self(0x03);
    pub const PERMANENT: Self = Self(0x40);
    pub const TRANSIENT: Self = Self(0x80);
    pub const PERSISTENT: Self = Self(0x81);
    pub const AC: Self = Self(0x90);

    /// The type of a handle.
    pub const fn of(handle: u32) -> Self {
        Self((handle >> 24) as u8)
    }
}

/// Well-known permanent handles (`TPM_RH_*`, `TPM_RS_PW`).
pub mod handle {
    pub const RH_OWNER: u32 = 0x4000_0001;
    pub const RH_NULL: u32 = 0x4000_0007;
    pub const RS_PW: u32 = 0x4000_0009;
    pub const RH_LOCKOUT: u32 = 0x4000_000A;
    pub const RH_ENDORSEMENT: u32 = 0x4000_000B;
    pub const RH_PLATFORM: u32 = 0x4000_000C;
}
