//! TPM_ALG_ID, TPM_ST, TPM_CC, TPM_HT, TPM_ECC_CURVE: the spec's constants.

use crate::wire::{Error, ErrorKind, Reader};

/// Declares a spec constant type's named values and its `name()` from one table, so a value
/// and its name cannot drift apart. `NAME = value` names a value after its constant;
/// `NAME = value => "Text"` gives it the spec's own spelling. `Type ("PREFIX_", "what ")`
/// gives the prefix of the spec's constant names and the start of each constant's doc, so
/// every constant is documented with its spec name and value.
macro_rules! spec_constants {
    (@name $c:ident) => { stringify!($c) };
    (@name $c:ident $text:literal) => { $text };
    (@spec $prefix:literal $c:ident) => { concat!($prefix, stringify!($c)) };
    (@spec $prefix:literal $c:ident $text:literal) => { $text };
    (
        $(#[$doc:meta])*
        $ty:ident ($prefix:literal, $what:literal) {
            $($c:ident = $v:expr $(=> $text:literal)?,)*
        }
    ) => {
        impl $ty {
            $(
                #[doc = concat!(
                    $what, "`", spec_constants!(@spec $prefix $c $($text)?), "` (",
                    stringify!($v), ")."
                )]
                pub const $c: Self = Self($v);
            )*

            $(#[$doc])*
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$c => Some(spec_constants!(@name $c $($text)?)),)*
                    _ => None,
                }
            }
        }
    };
}

/// `TPM_ALG_ID`: an algorithm identifier as it appears on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct TpmAlgId(pub u16);

spec_constants! {
    /// The spec's name without the `TPM_ALG_` prefix, or `None` for an unassigned value.
    TpmAlgId ("TPM_ALG_", "") {
        ERROR = 0x0000,
        RSA = 0x0001,
        TDES = 0x0003,
        SHA1 = 0x0004,
        HMAC = 0x0005,
        AES = 0x0006,
        MGF1 = 0x0007,
        KEYEDHASH = 0x0008,
        XOR = 0x000A,
        SHA256 = 0x000B,
        SHA384 = 0x000C,
        SHA512 = 0x000D,
        NULL = 0x0010,
        SM3_256 = 0x0012,
        SM4 = 0x0013,
        RSASSA = 0x0014,
        RSAES = 0x0015,
        RSAPSS = 0x0016,
        OAEP = 0x0017,
        ECDSA = 0x0018,
        ECDH = 0x0019,
        ECDAA = 0x001A,
        SM2 = 0x001B,
        ECSCHNORR = 0x001C,
        ECMQV = 0x001D,
        KDF1_SP800_56A = 0x0020,
        KDF2 = 0x0021,
        KDF1_SP800_108 = 0x0022,
        ECC = 0x0023,
        SYMCIPHER = 0x0025,
        CAMELLIA = 0x0026,
        SHA3_256 = 0x0027,
        SHA3_384 = 0x0028,
        SHA3_512 = 0x0029,
        CTR = 0x0040,
        OFB = 0x0041,
        CBC = 0x0042,
        CFB = 0x0043,
        ECB = 0x0044,
    }
}

impl TpmAlgId {
    /// Reads a big-endian UINT16 TPM_ALG_ID; `what` names the field in errors. Any value is accepted.
    pub fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, Error> {
        r.u16(what).map(Self)
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
    /// `TPM_ALG_SHA1` (0x0004): 20-byte digests.
    Sha1,
    /// `TPM_ALG_SHA256` (0x000B): 32-byte digests.
    Sha256,
    /// `TPM_ALG_SHA384` (0x000C): 48-byte digests.
    Sha384,
    /// `TPM_ALG_SHA512` (0x000D): 64-byte digests.
    Sha512,
    /// `TPM_ALG_SM3_256` (0x0012): 32-byte digests.
    Sm3_256,
    /// `TPM_ALG_SHA3_256` (0x0027): 32-byte digests.
    Sha3_256,
    /// `TPM_ALG_SHA3_384` (0x0028): 48-byte digests.
    Sha3_384,
    /// `TPM_ALG_SHA3_512` (0x0029): 64-byte digests.
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

    /// The TPM_ALG_ID of this hash.
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

    /// The hash with this TPM_ALG_ID, or `None` if `id` is not a hash (TPM_ALG_NULL included).
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

    /// The digest size in bytes (the spec's `TPM_SHA256_DIGEST_SIZE` etc.): 20, 32, 48 or 64.
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
    /// `TPM_ECC_NONE` (0x0000).
    pub const NONE: Self = Self(0x0000);
    /// `TPM_ECC_NIST_P192` (0x0001).
    pub const NIST_P192: Self = Self(0x0001);
    /// `TPM_ECC_NIST_P224` (0x0002).
    pub const NIST_P224: Self = Self(0x0002);
    /// `TPM_ECC_NIST_P256` (0x0003).
    pub const NIST_P256: Self = Self(0x0003);
    /// `TPM_ECC_NIST_P384` (0x0004).
    pub const NIST_P384: Self = Self(0x0004);
    /// `TPM_ECC_NIST_P521` (0x0005).
    pub const NIST_P521: Self = Self(0x0005);
    /// `TPM_ECC_BN_P256` (0x0010).
    pub const BN_P256: Self = Self(0x0010);
    /// `TPM_ECC_BN_P638` (0x0011).
    pub const BN_P638: Self = Self(0x0011);
    /// `TPM_ECC_SM2_P256` (0x0020).
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

spec_constants! {
    /// The spec name (`TPM_ST_ATTEST_QUOTE`), or `None` for a tag this crate does not name.
    TpmSt ("TPM_ST_", "") {
        RSP_COMMAND = 0x00C4 => "TPM_ST_RSP_COMMAND",
        NULL = 0x8000 => "TPM_ST_NULL",
        NO_SESSIONS = 0x8001 => "TPM_ST_NO_SESSIONS",
        SESSIONS = 0x8002 => "TPM_ST_SESSIONS",
        ATTEST_NV = 0x8014 => "TPM_ST_ATTEST_NV",
        ATTEST_COMMAND_AUDIT = 0x8015 => "TPM_ST_ATTEST_COMMAND_AUDIT",
        ATTEST_SESSION_AUDIT = 0x8016 => "TPM_ST_ATTEST_SESSION_AUDIT",
        ATTEST_CERTIFY = 0x8017 => "TPM_ST_ATTEST_CERTIFY",
        ATTEST_QUOTE = 0x8018 => "TPM_ST_ATTEST_QUOTE",
        ATTEST_TIME = 0x8019 => "TPM_ST_ATTEST_TIME",
        ATTEST_CREATION = 0x801A => "TPM_ST_ATTEST_CREATION",
        ATTEST_NV_DIGEST = 0x801C => "TPM_ST_ATTEST_NV_DIGEST",
        CREATION = 0x8021 => "TPM_ST_CREATION",
        VERIFIED = 0x8022 => "TPM_ST_VERIFIED",
        AUTH_SECRET = 0x8023 => "TPM_ST_AUTH_SECRET",
        HASHCHECK = 0x8024 => "TPM_ST_HASHCHECK",
        AUTH_SIGNED = 0x8025 => "TPM_ST_AUTH_SIGNED",
        FU_MANIFEST = 0x8029 => "TPM_ST_FU_MANIFEST",
    }
}

impl TpmSt {
    /// Whether this is a `TPMI_ST_ATTEST` value: the type of a TPMS_ATTEST (0x8014 to 0x801A,
    /// and 0x801C; 0x801B is unassigned).
    pub fn is_attest(self) -> bool {
        matches!(self.0, 0x8014..=0x801A | 0x801C)
    }
}

/// `TPM_GENERATED_VALUE`: the magic that starts every structure the TPM signs itself.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;

/// `TPM_CC`: command codes of the commands this crate sends, plus the ones audit digests name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmCc(pub u32);

spec_constants! {
    /// The spec name (`TPM2_Quote`), or `None` for a code this crate does not name.
    TpmCc ("TPM_CC_", "Command code of ") {
        NV_UNDEFINE_SPACE_SPECIAL = 0x011F => "TPM2_NV_UndefineSpaceSpecial",
        EVICT_CONTROL = 0x0120 => "TPM2_EvictControl",
        HIERARCHY_CONTROL = 0x0121 => "TPM2_HierarchyControl",
        NV_UNDEFINE_SPACE = 0x0122 => "TPM2_NV_UndefineSpace",
        CLEAR = 0x0126 => "TPM2_Clear",
        NV_DEFINE_SPACE = 0x012A => "TPM2_NV_DefineSpace",
        CREATE_PRIMARY = 0x0131 => "TPM2_CreatePrimary",
        NV_WRITE = 0x0137 => "TPM2_NV_Write",
        PCR_EVENT = 0x013C => "TPM2_PCR_Event",
        PCR_RESET = 0x013D => "TPM2_PCR_Reset",
        SELF_TEST = 0x0143 => "TPM2_SelfTest",
        STARTUP = 0x0144 => "TPM2_Startup",
        SHUTDOWN = 0x0145 => "TPM2_Shutdown",
        ACTIVATE_CREDENTIAL = 0x0147 => "TPM2_ActivateCredential",
        CERTIFY = 0x0148 => "TPM2_Certify",
        POLICY_SECRET = 0x0151 => "TPM2_PolicySecret",
        NV_READ = 0x014E => "TPM2_NV_Read",
        CREATE = 0x0153 => "TPM2_Create",
        LOAD = 0x0157 => "TPM2_Load",
        QUOTE = 0x0158 => "TPM2_Quote",
        SIGN = 0x015D => "TPM2_Sign",
        FLUSH_CONTEXT = 0x0165 => "TPM2_FlushContext",
        NV_READ_PUBLIC = 0x0169 => "TPM2_NV_ReadPublic",
        READ_PUBLIC = 0x0173 => "TPM2_ReadPublic",
        START_AUTH_SESSION = 0x0176 => "TPM2_StartAuthSession",
        GET_CAPABILITY = 0x017A => "TPM2_GetCapability",
        GET_RANDOM = 0x017B => "TPM2_GetRandom",
        PCR_READ = 0x017E => "TPM2_PCR_Read",
        PCR_EXTEND = 0x0182 => "TPM2_PCR_Extend",
        READ_CLOCK = 0x0181 => "TPM2_ReadClock",
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
    /// `TPM_HT_PCR` (0x00): a PCR index.
    pub const PCR: Self = Self(0x00);
    /// `TPM_HT_NV_INDEX` (0x01): an NV index.
    pub const NV_INDEX: Self = Self(0x01);
    /// `TPM_HT_HMAC_SESSION` (0x02): a loaded HMAC session.
    pub const HMAC_SESSION: Self = Self(0x02);
    /// `TPM_HT_POLICY_SESSION` (0x03): a loaded policy session.
    pub const POLICY_SESSION: Self = Self(0x03);
    /// `TPM_HT_PERMANENT` (0x40): a permanent handle (`TPM_RH_*`, `TPM_RS_PW`).
    pub const PERMANENT: Self = Self(0x40);
    /// `TPM_HT_TRANSIENT` (0x80): a transient (loaded) object.
    pub const TRANSIENT: Self = Self(0x80);
    /// `TPM_HT_PERSISTENT` (0x81): a persistent object (EvictControl).
    pub const PERSISTENT: Self = Self(0x81);
    /// `TPM_HT_AC` (0x90): an attached component.
    pub const AC: Self = Self(0x90);

    /// The type of a handle.
    pub const fn of(handle: u32) -> Self {
        Self((handle >> 24) as u8)
    }
}

/// Well-known permanent handles (`TPM_RH_*`, `TPM_RS_PW`).
///
/// Use these instead of raw numbers wherever a command takes a hierarchy or an authorization
/// handle (`CreatePrimary::primary_handle`, `EvictControl::auth_handle`, ...).
pub mod handle {
    /// `TPM_RH_OWNER`: the storage (owner) hierarchy.
    pub const RH_OWNER: u32 = 0x4000_0001;
    /// `TPM_RH_NULL`: the null hierarchy (objects and tickets that do not survive a reset).
    pub const RH_NULL: u32 = 0x4000_0007;
    /// `TPM_RS_PW`: the password authorization session.
    pub const RS_PW: u32 = 0x4000_0009;
    /// `TPM_RH_LOCKOUT`: the dictionary-attack lockout authorization.
    pub const RH_LOCKOUT: u32 = 0x4000_000A;
    /// `TPM_RH_ENDORSEMENT`: the endorsement hierarchy (EKs, and this crate's AKs).
    pub const RH_ENDORSEMENT: u32 = 0x4000_000B;
    /// `TPM_RH_PLATFORM`: the platform hierarchy (firmware's).
    pub const RH_PLATFORM: u32 = 0x4000_000C;
}
