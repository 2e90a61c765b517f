//! TPM 2.0 response codes (`TPM_RC`): decoding, names and descriptions.
//!
//! The TPM packs a response code into the low 12 bits of a `u32`, in one of two layouts
//! (TPM 2.0 Library Part 2, "Response Code Details"):
//!
//! ```text
//!  format zero (bit 7 clear)                 format one (bit 7 set)
//!  bits 0..=6   E  error number              bits 0..=5   E  error number
//!  bit  7       F  = 0                       bit  6       P  N names a parameter
//!  bit  8       V  0: a TPM 1.2 code         bit  7       F  = 1
//!  bit  9          reserved                  bits 8..=11  N  parameter 1..=15 when P is set;
//!  bit  10      T  vendor defined                            otherwise handle 1..=7 (bit 11
//!  bit  11      S  warning                                   clear) or session 1..=7 (bit 11 set)
//! ```
//!
//! The spec reserves bits 12..=31. Software stacks borrow bits 16..=23 to say which layer produced
//! a code; the Linux in-kernel resource manager behind `/dev/tpmrm0` answers some commands itself
//! with layer 11 (e.g. `0x000B0143`, command code not supported), so [`DecodedRc::layer`] is
//! decoded and stripped before a code is named.
//!
//! Everything here is a pure function of the `u32`: no allocation, no panics, no indexing that can
//! fail, whatever value a TPM (or an attacker posing as one) returns.

use core::fmt;

use crate::wire::{Error, Marshal, Reader, Unmarshal, Writer};

/// A TPM 2.0 response code, exactly as received in a response header.
///
/// Compare against the named constants through [`TpmRc::base`], which drops the
/// parameter/handle/session number and any software layer:
/// `rc.base() == TpmRc::VALUE` holds for `TPM_RC_VALUE` on any parameter.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct TpmRc(pub u32);

/// Set in every TPM 2.0 format-zero code (`RC_VER1`).
pub const RC_VER1: u32 = 0x100;
/// Set in every format-one code (`RC_FMT1`).
pub const RC_FMT1: u32 = 0x080;
/// Set in every TCG-defined format-zero warning (`RC_WARN`: `RC_VER1` plus the S bit).
pub const RC_WARN: u32 = 0x900;
/// Format one: N is a parameter number (`TPM_RC_P`).
pub const RC_P: u32 = 0x040;
/// Format one with P clear: N is a session number, not a handle number (`TPM_RC_S`).
pub const RC_S: u32 = 0x800;
/// Format one: the N field (`TPM_RC_N_MASK`); shift right by 8 for the number.
pub const RC_N_MASK: u32 = 0xF00;
/// Format zero: the vendor-defined bit (T).
const RC_T: u32 = 0x400;
/// Format zero: the severity bit (S); a warning when set.
const RC_SEVERITY: u32 = 0x800;
/// Format zero with V set: bit 9 is reserved.
const RC_FMT0_RESERVED: u32 = 0x200;
/// Bits the TPM never sets and no software layer uses.
const RC_HIGH_RESERVED: u32 = 0xFF00_F000;

/// Layer bits 16..=23 as the TCG TSS defines them (`TSS2_RC_LAYER_SHIFT`).
const LAYER_SHIFT: u32 = 16;

/// Layer 0: the code came from the TPM itself.
pub const LAYER_TPM: u8 = 0;
/// TSS Feature API (FAPI).
pub const LAYER_TSS_FAPI: u8 = 6;
/// TSS Enhanced System API (ESAPI).
pub const LAYER_TSS_ESAPI: u8 = 7;
/// TSS System API (SAPI).
pub const LAYER_TSS_SAPI: u8 = 8;
/// TSS marshalling library (MU).
pub const LAYER_TSS_MU: u8 = 9;
/// TSS transmission interface (TCTI).
pub const LAYER_TSS_TCTI: u8 = 10;
/// A resource manager. The Linux kernel (`/dev/tpmrm0`) uses this layer for the TPM-format codes
/// it synthesises (it calls it `TSS2_RESMGR_TPM_RC_LAYER`), while tpm2-tss calls layer 11
/// `TSS2_RESMGR_RC_LAYER`. The low 16 bits are decoded as a TPM code either way.
pub const LAYER_RESMGR: u8 = 11;
/// tpm2-tss `TSS2_RESMGR_TPM_RC_LAYER`: a resource manager (e.g. tpm2-abrmd) answering with a
/// TPM-format code on the TPM's behalf.
pub const LAYER_RESMGR_TPM: u8 = 12;

/// Whether the low 16 bits of a code from `layer` follow the TPM layout. Other layers carry
/// TSS-private numbers that merely look like TPM 1.2 codes.
const fn layer_carries_tpm_code(layer: u8) -> bool {
    matches!(layer, LAYER_TPM | LAYER_RESMGR | LAYER_RESMGR_TPM)
}

/// A human name for a layer number, or `None` for layers no TCG document assigns.
pub fn layer_name(layer: u8) -> Option<&'static str> {
    Some(match layer {
        LAYER_TPM => "TPM",
        LAYER_TSS_FAPI => "TSS feature API",
        LAYER_TSS_ESAPI => "TSS enhanced system API",
        LAYER_TSS_SAPI => "TSS system API",
        LAYER_TSS_MU => "TSS marshalling library",
        LAYER_TSS_TCTI => "TSS transmission interface",
        LAYER_RESMGR => "resource manager",
        LAYER_RESMGR_TPM => "resource manager on behalf of the TPM",
        _ => return None,
    })
}

/// Longest text [`fmt::Display`] produces for any [`TpmRc`] or [`DecodedRc`]; a
/// `heapless::String` of this capacity always holds it (checked by a sweep in the tests).
pub const DISPLAY_MAX_LEN: usize = 256;

/// Which layout a code follows, per the decision procedure of Part 2.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum RcClass {
    /// `TPM_RC_SUCCESS`: the TPM-format part is zero. [`TpmRc::is_success`] is stricter and
    /// also wants no layer, so a (never seen) `0x000B0000` is not taken for success.
    Success,
    /// Format zero with V clear: a TPM 1.2 response code. TPM 2.0 itself uses this space only for
    /// `TPM_RC_BAD_TAG`, which a TPM returns when it cannot tell which family a command is from.
    Tpm12,
    /// Format zero with T set: defined by the TPM vendor, not by the TCG.
    Vendor {
        /// The S bit was set.
        warning: bool,
    },
    /// Format zero, TCG-defined, S set: the command did not run, and may succeed later.
    Warning,
    /// Format zero, TCG-defined, S clear (`RC_VER1` codes).
    Error,
    /// Format one: an error that may name the parameter, handle or session at fault.
    Format1,
    /// From a software layer (see [`layer_name`]) whose low bits are not a TPM response code.
    Software,
}

/// What a format-one code blames.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum RcSubject {
    /// Format zero, or format one with N = 0 and P clear: nothing in particular.
    None,
    /// The Nth command parameter (N as sent, normally 1..=15).
    Parameter(u8),
    /// The Nth handle in the handle area, 1..=7.
    Handle(u8),
    /// The Nth authorization session, 1..=7 (0 when N is exactly `RC_S`, which the spec does not
    /// define; kept rather than hidden).
    Session(u8),
}

/// A response code taken apart. `Copy`, no allocation; see [`TpmRc::decode`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct DecodedRc {
    /// The code as received.
    pub raw: TpmRc,
    /// Bits 16..=23: 0 for the TPM, otherwise the software layer that produced the code.
    pub layer: u8,
    /// The layout the code follows.
    pub class: RcClass,
    /// The error number E: bits 0..=6 in format zero, 0..=5 in format one; for
    /// [`RcClass::Software`], the layer's own 16-bit number.
    pub number: u16,
    /// The parameter, handle or session a format-one code names.
    pub subject: RcSubject,
    /// The code with layer and subject removed; see [`TpmRc::base`].
    pub base: TpmRc,
    /// Reserved bits that were set (bits 24..=31 and 12..=15 always, bit 9 in a TPM 2.0
    /// format-zero code). A TPM never sets them, so a code with any is never given a name.
    pub reserved: u32,
}

/// One entry of [`RC_TABLE`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct RcInfo {
    /// The base code.
    pub code: TpmRc,
    /// The spec's name, e.g. `TPM_RC_VALUE`.
    pub name: &'static str,
    /// A short description.
    pub description: &'static str,
}

/// The spec name for a table entry: `TPM_RC_` and the constant's name unless given explicitly.
macro_rules! spec_name {
    ($konst:ident) => {
        concat!("TPM_RC_", stringify!($konst))
    };
    ($konst:ident, $spec:literal) => {
        $spec
    };
}

/// Declares each response code once: a constant on [`TpmRc`] and a row of [`RC_TABLE`].
macro_rules! response_codes {
    ($( $konst:ident $(as $spec:literal)? = $value:expr => $desc:literal; )*) => {
        impl TpmRc {
            $(
                #[doc = concat!("`", spec_name!($konst $(, $spec)?), "`: ", $desc, ".")]
                pub const $konst: TpmRc = TpmRc($value);
            )*
        }

        /// Every response code TPM 2.0 Library Part 2 names, sorted by value (so it can be
        /// binary-searched), with a short description of each.
        pub const RC_TABLE: &[RcInfo] = &[
            $(
                RcInfo {
                    code: TpmRc::$konst,
                    name: spec_name!($konst $(, $spec)?),
                    description: $desc,
                },
            )*
        ];
    };
}

// Keep the rows in ascending order of value: the look-up binary-searches them (a test checks).
response_codes! {
    SUCCESS = 0x000 => "the command completed";

    // TPM 1.2 layout, kept by TPM 2.0 for commands it cannot classify.
    BAD_TAG = 0x01E => "the command tag is not valid";
    BAD_TAG_LEGACY as "TPM_RC_BAD_TAG" = 0x030
        => "the command tag is not valid (value given by early spec revisions)";

    // Format one: errors that may name a parameter, handle or session.
    ASYMMETRIC = RC_FMT1 + 0x001 => "asymmetric algorithm not supported or not correct";
    ATTRIBUTES = RC_FMT1 + 0x002 => "inconsistent attributes";
    HASH = RC_FMT1 + 0x003 => "hash algorithm not supported or not appropriate";
    VALUE = RC_FMT1 + 0x004 => "value is out of range or not correct for the context";
    HIERARCHY = RC_FMT1 + 0x005 => "the hierarchy is disabled or not right for this use";
    KEY_SIZE = RC_FMT1 + 0x007 => "key size not supported";
    MGF = RC_FMT1 + 0x008 => "mask generation function not supported";
    MODE = RC_FMT1 + 0x009 => "mode of operation not supported";
    TYPE = RC_FMT1 + 0x00A => "the type of the value is not appropriate here";
    HANDLE = RC_FMT1 + 0x00B => "the handle is not right for this use";
    KDF = RC_FMT1 + 0x00C => "key derivation function not supported or not appropriate";
    RANGE = RC_FMT1 + 0x00D => "value outside the allowed range";
    AUTH_FAIL = RC_FMT1 + 0x00E
        => "the authorization HMAC check failed and the dictionary-attack counter went up";
    NONCE = RC_FMT1 + 0x00F => "the nonce has a bad size or does not match";
    PP = RC_FMT1 + 0x010 => "physical presence must be asserted";
    SCHEME = RC_FMT1 + 0x012 => "scheme not supported or not compatible";
    SIZE = RC_FMT1 + 0x015 => "the structure has the wrong size";
    SYMMETRIC = RC_FMT1 + 0x016
        => "symmetric algorithm or key size not supported or not appropriate";
    TAG = RC_FMT1 + 0x017 => "the structure tag is not correct";
    SELECTOR = RC_FMT1 + 0x018 => "the union selector is not correct";
    INSUFFICIENT = RC_FMT1 + 0x01A => "the input ended before the value was complete";
    SIGNATURE = RC_FMT1 + 0x01B => "the signature is not valid";
    KEY = RC_FMT1 + 0x01C => "the key's fields do not fit the requested use";
    POLICY_FAIL = RC_FMT1 + 0x01D => "a policy check failed";
    INTEGRITY = RC_FMT1 + 0x01F => "the integrity check failed";
    TICKET = RC_FMT1 + 0x020 => "the ticket is not valid";
    RESERVED_BITS = RC_FMT1 + 0x021 => "reserved bits are not zero";
    BAD_AUTH = RC_FMT1 + 0x022 => "authorization failed (no dictionary-attack penalty)";
    EXPIRED = RC_FMT1 + 0x023 => "the policy has expired";
    POLICY_CC = RC_FMT1 + 0x024
        => "the policy's command code is not this command's, or is not implemented";
    BINDING = RC_FMT1 + 0x025
        => "the object's public and sensitive parts are not cryptographically bound";
    CURVE = RC_FMT1 + 0x026 => "elliptic curve not supported";
    ECC_POINT = RC_FMT1 + 0x027 => "the point is not on the required curve";
    FW_LIMITED = RC_FMT1 + 0x028
        => "the hierarchy is firmware-limited and the firmware secret is unavailable";
    SVN_LIMITED = RC_FMT1 + 0x029
        => "the hierarchy is SVN-limited and the firmware SVN secret for it is unavailable";
    PARMS = RC_FMT1 + 0x02A => "parameter set not supported";
    EXT_MU = RC_FMT1 + 0x02B => "external mu not supported";
    ONE_SHOT_SIGNATURE = RC_FMT1 + 0x02C
        => "this key cannot sign a message given in pieces; send the whole message at once";
    SIGN_CONTEXT_KEY = RC_FMT1 + 0x02D
        => "the key finishing a signing sequence is not the one that started it";
    CHANNEL = RC_FMT1 + 0x030 => "the command needs secure-channel protection";
    CHANNEL_KEY = RC_FMT1 + 0x031
        => "the secure channel was not set up with the required requester or TPM key";

    // Format zero, RC_VER1: errors.
    INITIALIZE = RC_VER1
        => "the TPM is not initialized by TPM2_Startup, or is already initialized";
    FAILURE = RC_VER1 + 0x001 => "the TPM is in failure mode and refuses most commands";
    SEQUENCE = RC_VER1 + 0x003 => "a sequence handle was used improperly";
    PRIVATE = RC_VER1 + 0x00B => "reserved; current TPMs do not return it";
    HMAC = RC_VER1 + 0x019 => "reserved; current TPMs do not return it";
    DISABLED = RC_VER1 + 0x020 => "the command is disabled";
    EXCLUSIVE = RC_VER1 + 0x021
        => "the command needs an exclusive audit session, and the session is not exclusive";
    AUTH_TYPE = RC_VER1 + 0x024 => "the authorization handle is not right for this command";
    AUTH_MISSING = RC_VER1 + 0x025
        => "a handle needs an authorization session, and none was given";
    POLICY = RC_VER1 + 0x026 => "policy failure in a math operation, or an invalid authPolicy";
    PCR = RC_VER1 + 0x027 => "the PCR check failed";
    PCR_CHANGED = RC_VER1 + 0x028 => "PCR values changed since they were checked";
    UPGRADE = RC_VER1 + 0x02D
        => "the TPM is in field-upgrade mode (for FieldUpgradeData: it is not)";
    TOO_MANY_CONTEXTS = RC_VER1 + 0x02E => "the context ID counter is at its maximum";
    AUTH_UNAVAILABLE = RC_VER1 + 0x02F
        => "the entity's authValue or authPolicy cannot be used";
    REBOOT = RC_VER1 + 0x030
        => "the TPM needs a reset and Startup(CLEAR) before it can go on";
    UNBALANCED = RC_VER1 + 0x031
        => "the hash and symmetric protection algorithms are not balanced";
    COMMAND_SIZE = RC_VER1 + 0x042
        => "commandSize does not match the bytes received, or is too small for a header";
    COMMAND_CODE = RC_VER1 + 0x043 => "command code not supported";
    AUTHSIZE = RC_VER1 + 0x044
        => "authorizationSize is out of range, or the authorization area is too long";
    AUTH_CONTEXT = RC_VER1 + 0x045
        => "an authorization session was given to a command that cannot take one";
    NV_RANGE = RC_VER1 + 0x046 => "NV offset plus size is out of range";
    NV_SIZE = RC_VER1 + 0x047 => "the requested NV allocation is larger than allowed";
    NV_LOCKED = RC_VER1 + 0x048 => "NV access is locked";
    NV_AUTHORIZATION = RC_VER1 + 0x049
        => "NV access authorization failed (no dictionary-attack penalty)";
    NV_UNINITIALIZED = RC_VER1 + 0x04A
        => "the NV index was used before being written, or saved state could not be restored";
    NV_SPACE = RC_VER1 + 0x04B => "not enough NV space for the allocation";
    NV_DEFINED = RC_VER1 + 0x04C => "the NV index or persistent object is already defined";
    BAD_CONTEXT = RC_VER1 + 0x050 => "the context given to TPM2_ContextLoad is not valid";
    CPHASH = RC_VER1 + 0x051 => "cpHash is already set, or does not match this command";
    PARENT = RC_VER1 + 0x052 => "the handle given as parent is not a valid parent";
    NEEDS_TEST = RC_VER1 + 0x053 => "a function needs a self-test before it can be used";
    NO_RESULT = RC_VER1 + 0x054
        => "an internal function could not process the request (often an unchecked parameter)";
    SENSITIVE = RC_VER1 + 0x055 => "the decrypted sensitive area did not unmarshal correctly";
    READ_ONLY = RC_VER1 + 0x056 => "the TPM is in read-only mode";

    // Format zero, RC_WARN: warnings.
    CONTEXT_GAP = RC_WARN + 0x001 => "the gap between saved context IDs is too large";
    OBJECT_MEMORY = RC_WARN + 0x002 => "no memory left for object contexts";
    SESSION_MEMORY = RC_WARN + 0x003 => "no memory left for session contexts";
    MEMORY = RC_WARN + 0x004
        => "out of shared object and session memory, or of room for internal work";
    SESSION_HANDLES = RC_WARN + 0x005 => "no session handles left; flush a session first";
    OBJECT_HANDLES = RC_WARN + 0x006 => "object handle space exhausted; a reboot is needed";
    LOCALITY = RC_WARN + 0x007 => "wrong locality";
    YIELDED = RC_WARN + 0x008
        => "the TPM suspended the command after making progress; retry";
    CANCELED = RC_WARN + 0x009 => "the command was canceled";
    TESTING = RC_WARN + 0x00A => "the TPM is running self-tests; retry later";
    REFERENCE_H0 = RC_WARN + 0x010
        => "the 1st handle refers to a transient object or session that is not loaded";
    REFERENCE_H1 = RC_WARN + 0x011
        => "the 2nd handle refers to a transient object or session that is not loaded";
    REFERENCE_H2 = RC_WARN + 0x012
        => "the 3rd handle refers to a transient object or session that is not loaded";
    REFERENCE_H3 = RC_WARN + 0x013
        => "the 4th handle refers to a transient object or session that is not loaded";
    REFERENCE_H4 = RC_WARN + 0x014
        => "the 5th handle refers to a transient object or session that is not loaded";
    REFERENCE_H5 = RC_WARN + 0x015
        => "the 6th handle refers to a transient object or session that is not loaded";
    REFERENCE_H6 = RC_WARN + 0x016
        => "the 7th handle refers to a transient object or session that is not loaded";
    REFERENCE_S0 = RC_WARN + 0x018
        => "the 1st authorization session refers to a session that is not loaded";
    REFERENCE_S1 = RC_WARN + 0x019
        => "the 2nd authorization session refers to a session that is not loaded";
    REFERENCE_S2 = RC_WARN + 0x01A
        => "the 3rd authorization session refers to a session that is not loaded";
    REFERENCE_S3 = RC_WARN + 0x01B
        => "the 4th authorization session refers to a session that is not loaded";
    REFERENCE_S4 = RC_WARN + 0x01C
        => "the 5th authorization session refers to a session that is not loaded";
    REFERENCE_S5 = RC_WARN + 0x01D
        => "the 6th authorization session refers to a session that is not loaded";
    REFERENCE_S6 = RC_WARN + 0x01E
        => "the 7th authorization session refers to a session that is not loaded";
    NV_RATE = RC_WARN + 0x020 => "the TPM is rate-limiting NV access to avoid wear-out";
    LOCKOUT = RC_WARN + 0x021
        => "the TPM is in dictionary-attack lockout; DA-protected authorizations are refused";
    RETRY = RC_WARN + 0x022 => "the TPM was not able to start the command; retry";
    NV_UNAVAILABLE = RC_WARN + 0x023
        => "the command may need to write NV, and NV is not accessible now";
    NOT_USED = RC_WARN + 0x07F => "reserved value that a TPM never returns";
}

/// The table entry for a base code, if the spec names it.
fn lookup(code: TpmRc) -> Option<&'static RcInfo> {
    let i = RC_TABLE.binary_search_by_key(&code.0, |e| e.code.0).ok()?;
    RC_TABLE.get(i)
}

impl TpmRc {
    /// Takes the code apart. Total: any `u32` decodes, without a table look-up.
    pub const fn decode(self) -> DecodedRc {
        let raw = self.0;
        let layer = ((raw >> LAYER_SHIFT) & 0xFF) as u8;
        if !layer_carries_tpm_code(layer) {
            return DecodedRc {
                raw: self,
                layer,
                class: RcClass::Software,
                number: (raw & 0xFFFF) as u16,
                subject: RcSubject::None,
                base: self,
                reserved: 0,
            };
        }
        // The TPM-format code without the layer; reserved bits stay in, so that a code carrying
        // them never matches a named constant.
        let code = raw & !(0xFF << LAYER_SHIFT);
        let reserved_high = code & RC_HIGH_RESERVED;

        if code & RC_FMT1 != 0 {
            let n = ((code & RC_N_MASK) >> 8) as u8;
            let subject = if code & RC_P != 0 {
                RcSubject::Parameter(n)
            } else if n == 0 {
                RcSubject::None
            } else if code & RC_S == 0 {
                RcSubject::Handle(n)
            } else {
                RcSubject::Session(n & 0x7)
            };
            return DecodedRc {
                raw: self,
                layer,
                class: RcClass::Format1,
                number: (code & 0x3F) as u16,
                subject,
                base: TpmRc(code & !(RC_P | RC_N_MASK)),
                reserved: reserved_high,
            };
        }

        let (class, reserved) = if code == 0 {
            (RcClass::Success, 0)
        } else if code & RC_VER1 == 0 {
            (RcClass::Tpm12, reserved_high)
        } else if code & RC_T != 0 {
            let warning = code & RC_SEVERITY != 0;
            (
                RcClass::Vendor { warning },
                reserved_high | (code & RC_FMT0_RESERVED),
            )
        } else if code & RC_SEVERITY != 0 {
            (RcClass::Warning, reserved_high | (code & RC_FMT0_RESERVED))
        } else {
            (RcClass::Error, reserved_high | (code & RC_FMT0_RESERVED))
        };
        DecodedRc {
            raw: self,
            layer,
            class,
            number: (code & 0x7F) as u16,
            subject: RcSubject::None,
            base: TpmRc(code),
            reserved,
        }
    }

    /// The code with the parameter/handle/session number and the layer removed, for comparing
    /// with the constants: `TpmRc(0x2C4).base() == TpmRc::VALUE`.
    ///
    /// Reserved bits are kept, so a malformed code does not pass for a real one. A code from a
    /// software layer whose low bits are not TPM-format (see [`RcClass::Software`]) is returned
    /// unchanged, layer included, so it never equals a TPM constant.
    pub const fn base(self) -> TpmRc {
        self.decode().base
    }

    /// Exactly zero: the command succeeded.
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }

    /// The TPM did not run the command for a passing reason and the transport should send it
    /// again (a bounded number of times): `TPM_RC_RETRY`, `TPM_RC_YIELDED` or `TPM_RC_TESTING`.
    pub const fn is_retryable(self) -> bool {
        let b = self.base().0;
        b == TpmRc::RETRY.0 || b == TpmRc::YIELDED.0 || b == TpmRc::TESTING.0
    }

    /// A format-zero warning (TCG or vendor defined).
    pub const fn is_warning(self) -> bool {
        self.decode().is_warning()
    }

    /// The table entry naming this code's base, if the spec defines one.
    pub fn info(self) -> Option<&'static RcInfo> {
        self.decode().info()
    }

    /// The spec name of this code's base (e.g. `TPM_RC_VALUE`), if there is one.
    pub fn name(self) -> Option<&'static str> {
        self.info().map(|i| i.name)
    }
}

impl DecodedRc {
    /// The table entry naming [`DecodedRc::base`], if the spec defines one.
    pub fn info(&self) -> Option<&'static RcInfo> {
        match self.class {
            RcClass::Software | RcClass::Vendor { .. } => None,
            _ => lookup(self.base),
        }
    }

    /// A format-zero warning (TCG or vendor defined). Note that a format-one code blaming a
    /// session (e.g. `0x9A2`, `TPM_RC_BAD_AUTH` on session 1) shares the `RC_WARN` bits but is
    /// an error, not a warning.
    pub const fn is_warning(&self) -> bool {
        matches!(
            self.class,
            RcClass::Warning | RcClass::Vendor { warning: true }
        )
    }
}

impl fmt::Display for DecodedRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = self.raw.0;
        if let Some(info) = self.info() {
            write!(f, "{} ({raw:#010x}): {}", info.name, info.description)?;
        } else {
            match self.class {
                RcClass::Software => {
                    return match layer_name(self.layer) {
                        Some(name) => write!(
                            f,
                            "{name} code {} ({raw:#010x}, layer {})",
                            self.number, self.layer
                        ),
                        None => {
                            write!(f, "layer {} code {} ({raw:#010x})", self.layer, self.number)
                        }
                    };
                }
                RcClass::Success => write!(f, "success ({raw:#010x})")?,
                RcClass::Tpm12 => write!(f, "TPM 1.2 response code {raw:#010x}")?,
                RcClass::Vendor { warning } => {
                    let sev = if warning { "warning" } else { "error" };
                    write!(f, "vendor-defined format-zero {sev} {raw:#010x}")?;
                }
                RcClass::Warning => write!(f, "unknown format-zero warning {raw:#010x}")?,
                RcClass::Error => write!(f, "unknown format-zero error {raw:#010x}")?,
                RcClass::Format1 => write!(f, "unknown format-one error {raw:#010x}")?,
            }
        }
        match self.subject {
            RcSubject::None => {}
            RcSubject::Parameter(n) => write!(f, "; parameter {n}")?,
            RcSubject::Handle(n) => write!(f, "; handle {n}")?,
            RcSubject::Session(n) => write!(f, "; session {n}")?,
        }
        if self.layer != LAYER_TPM {
            let name = layer_name(self.layer).unwrap_or("software layer");
            write!(f, "; from the {name} (layer {})", self.layer)?;
        }
        if self.reserved != 0 {
            write!(f, "; reserved bits {:#010x} set", self.reserved)?;
        }
        Ok(())
    }
}

impl fmt::Display for TpmRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.decode(), f)
    }
}

impl From<u32> for TpmRc {
    fn from(v: u32) -> Self {
        TpmRc(v)
    }
}

impl From<TpmRc> for u32 {
    fn from(rc: TpmRc) -> Self {
        rc.0
    }
}

impl<'a> Unmarshal<'a> for TpmRc {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        r.u32("TPM_RC").map(TpmRc)
    }
}

impl Marshal for TpmRc {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.0)
    }
}

#[cfg(test)]
mod tests {
    // The library is no_std; the tests may use std whatever the features.
    extern crate std;

    use super::*;
    use core::fmt::Write as _;
    use proptest::prelude::*;

    /// Renders into a fixed-capacity string, as a `no_std` caller would; fails if the text does
    /// not fit `DISPLAY_MAX_LEN`.
    fn render(rc: TpmRc) -> heapless::String<DISPLAY_MAX_LEN> {
        let mut s = heapless::String::new();
        if write!(s, "{rc}").is_err() {
            panic!(
                "Display of {:#010x} does not fit {DISPLAY_MAX_LEN} bytes",
                rc.0
            );
        }
        s
    }

    fn param(base: TpmRc, n: u32) -> TpmRc {
        TpmRc(base.0 | RC_P | (n << 8))
    }

    fn handle(base: TpmRc, n: u32) -> TpmRc {
        TpmRc(base.0 | (n << 8))
    }

    fn session(base: TpmRc, n: u32) -> TpmRc {
        TpmRc(base.0 | RC_S | (n << 8))
    }

    fn layered(layer: u8, rc: TpmRc) -> TpmRc {
        TpmRc((u32::from(layer) << 16) | rc.0)
    }

    #[test]
    fn table_is_sorted_and_well_formed() {
        for pair in RC_TABLE.windows(2) {
            assert!(
                pair[0].code.0 < pair[1].code.0,
                "{:?} then {:?}",
                pair[0],
                pair[1]
            );
        }
        for e in RC_TABLE {
            assert!(e.name.starts_with("TPM_RC_"), "{}", e.name);
            assert!(
                !e.description.is_empty() && !e.description.ends_with('.'),
                "{}",
                e.name
            );
            assert_eq!(lookup(e.code), Some(e));
        }
        // Part 2 as of the PQC revision: 35 RC_VER1 errors, 41 format-one errors, 29 warnings,
        // plus SUCCESS and BAD_TAG (and BAD_TAG's early value).
        let count = |lo: u32, hi: u32| {
            RC_TABLE
                .iter()
                .filter(|e| (lo..hi).contains(&e.code.0))
                .count()
        };
        assert_eq!(count(RC_VER1, RC_VER1 + 0x80), 35);
        assert_eq!(count(RC_FMT1, RC_FMT1 + 0x40), 41);
        assert_eq!(count(RC_WARN, RC_WARN + 0x80), 29);
        assert_eq!(RC_TABLE.len(), 35 + 41 + 29 + 3);
    }

    #[test]
    fn every_named_code_decodes_to_itself() {
        for e in RC_TABLE {
            let d = e.code.decode();
            assert_eq!(d.base, e.code, "{}", e.name);
            assert_eq!(d.info(), Some(e));
            assert_eq!(
                (d.layer, d.subject, d.reserved),
                (0, RcSubject::None, 0),
                "{}",
                e.name
            );
            let class = match e.code.0 {
                0 => RcClass::Success,
                0x01..=0x7F => RcClass::Tpm12,
                0x80..=0xFF => RcClass::Format1,
                0x100..=0x17F => RcClass::Error,
                _ => RcClass::Warning,
            };
            assert_eq!(d.class, class, "{}", e.name);
            assert!(render(e.code).starts_with(e.name));
        }
    }

    #[test]
    fn format_one_names_parameter_handle_or_session() {
        // 0x1C4 = RC_FMT1 + 0x004 (VALUE) + P + N=1.
        let d = TpmRc(0x1C4).decode();
        assert_eq!(
            (d.class, d.base, d.subject),
            (RcClass::Format1, TpmRc::VALUE, RcSubject::Parameter(1))
        );
        assert_eq!(d.number, 4);
        assert_eq!(param(TpmRc::VALUE, 1), TpmRc(0x1C4));

        // 0x98E = RC_FMT1 + 0x00E (AUTH_FAIL) + S + N=1: the classic wrong-password answer.
        let d = TpmRc(0x98E).decode();
        assert_eq!(
            (d.base, d.subject),
            (TpmRc::AUTH_FAIL, RcSubject::Session(1))
        );
        assert_eq!(session(TpmRc::AUTH_FAIL, 1), TpmRc(0x98E));

        // 0x18B = RC_FMT1 + 0x00B (HANDLE) + N=1, P and S clear.
        let d = TpmRc(0x18B).decode();
        assert_eq!((d.base, d.subject), (TpmRc::HANDLE, RcSubject::Handle(1)));
        assert_eq!(handle(TpmRc::HANDLE, 1), TpmRc(0x18B));

        // 0x9A2 = BAD_AUTH on session 1. It carries the RC_WARN bits but is format one.
        let d = TpmRc(0x9A2).decode();
        assert_eq!(
            (d.base, d.subject),
            (TpmRc::BAD_AUTH, RcSubject::Session(1))
        );
        assert!(!d.is_warning() && !TpmRc(0x9A2).is_retryable());

        assert_eq!(TpmRc(0x78B).decode().subject, RcSubject::Handle(7));
        assert_eq!(TpmRc(0xF8E).decode().subject, RcSubject::Session(7));
        assert_eq!(TpmRc(0xFC4).decode().subject, RcSubject::Parameter(15));
        assert_eq!(TpmRc(0x084).decode().subject, RcSubject::None);
        // Undefined corners are reported as they are, not guessed at.
        assert_eq!(TpmRc(0x88E).decode().subject, RcSubject::Session(0));
        assert_eq!(TpmRc(0x0C4).decode().subject, RcSubject::Parameter(0));

        assert_eq!(TpmRc(0x2C4).base(), TpmRc::VALUE);
        assert_eq!(TpmRc(0x2C4).name(), Some("TPM_RC_VALUE"));
    }

    #[test]
    fn display_names_code_hex_description_and_subject() {
        assert_eq!(
            render(TpmRc(0x2C4)).as_str(),
            "TPM_RC_VALUE (0x000002c4): value is out of range or not correct for the context; \
             parameter 2"
        );
        assert_eq!(
            render(TpmRc(0x98E)).as_str(),
            "TPM_RC_AUTH_FAIL (0x0000098e): the authorization HMAC check failed and the \
             dictionary-attack counter went up; session 1"
        );
        assert_eq!(
            render(TpmRc(0x18B)).as_str(),
            "TPM_RC_HANDLE (0x0000018b): the handle is not right for this use; handle 1"
        );
        assert_eq!(
            render(TpmRc::RETRY).as_str(),
            "TPM_RC_RETRY (0x00000922): the TPM was not able to start the command; retry"
        );
        assert_eq!(
            render(TpmRc::SUCCESS).as_str(),
            "TPM_RC_SUCCESS (0x00000000): the command completed"
        );
        assert!(render(TpmRc::REFERENCE_H0).starts_with("TPM_RC_REFERENCE_H0 (0x00000910): "));
    }

    #[test]
    fn warnings_and_retries() {
        for rc in [TpmRc::RETRY, TpmRc::YIELDED, TpmRc::TESTING] {
            assert!(rc.is_warning() && rc.is_retryable(), "{rc}");
            assert!(layered(LAYER_RESMGR, rc).is_retryable(), "{rc}");
        }
        for rc in [
            TpmRc::LOCKOUT,
            TpmRc::NV_RATE,
            TpmRc::CANCELED,
            TpmRc::OBJECT_MEMORY,
        ] {
            assert!(rc.is_warning() && !rc.is_retryable(), "{rc}");
        }
        for rc in [
            TpmRc::FAILURE,
            TpmRc::INITIALIZE,
            TpmRc::VALUE,
            TpmRc::SUCCESS,
        ] {
            assert!(!rc.is_warning() && !rc.is_retryable(), "{rc}");
        }
        assert_eq!(TpmRc(0x922).decode().class, RcClass::Warning);
        assert_eq!(TpmRc(0x101).decode().class, RcClass::Error);
        // A vendor warning whose low bits happen to match RETRY is not RETRY.
        let vendor = TpmRc(RC_WARN | RC_T | 0x22);
        assert_eq!(vendor.decode().class, RcClass::Vendor { warning: true });
        assert!(vendor.is_warning() && !vendor.is_retryable() && vendor.name().is_none());
    }

    #[test]
    fn layered_codes_are_named_by_their_tpm_part() {
        // What /dev/tpmrm0 answers for a command code the TPM does not implement.
        let rc = layered(LAYER_RESMGR, TpmRc::COMMAND_CODE);
        assert_eq!(rc, TpmRc(0x000B_0143));
        let d = rc.decode();
        assert_eq!(
            (d.layer, d.class, d.base),
            (11, RcClass::Error, TpmRc::COMMAND_CODE)
        );
        assert_eq!(
            render(rc).as_str(),
            "TPM_RC_COMMAND_CODE (0x000b0143): command code not supported; \
             from the resource manager (layer 11)"
        );
        assert!(!rc.is_success());

        let rc = layered(LAYER_RESMGR_TPM, param(TpmRc::SIZE, 3));
        let d = rc.decode();
        assert_eq!(
            (d.layer, d.base, d.subject),
            (12, TpmRc::SIZE, RcSubject::Parameter(3))
        );
        assert!(render(rc)
            .ends_with("; parameter 3; from the resource manager on behalf of the TPM (layer 12)"));
    }

    #[test]
    fn software_layer_codes_are_not_taken_for_tpm_codes() {
        // tpm2-tss SAPI layer, base code 5 (a bad reference).
        let rc = TpmRc(0x0008_0005);
        let d = rc.decode();
        assert_eq!(
            (d.class, d.layer, d.number, d.base),
            (RcClass::Software, 8, 5, rc)
        );
        assert_eq!(rc.name(), None);
        assert_eq!(
            render(rc).as_str(),
            "TSS system API code 5 (0x00080005, layer 8)"
        );
        // Even when the low bits look like a TPM code.
        let rc = layered(LAYER_TSS_TCTI, TpmRc::VALUE);
        assert_ne!(rc.base(), TpmRc::VALUE);
        assert!(rc.name().is_none());
        assert_eq!(
            render(TpmRc(0x0005_0922)).as_str(),
            "layer 5 code 2338 (0x00050922)"
        );
        assert!(!TpmRc(0x0005_0922).is_retryable());
    }

    #[test]
    fn unknown_and_odd_codes() {
        assert_eq!(
            render(TpmRc(0x17E)).as_str(),
            "unknown format-zero error 0x0000017e"
        );
        assert_eq!(
            render(TpmRc(0x930)).as_str(),
            "unknown format-zero warning 0x00000930"
        );
        assert_eq!(
            render(TpmRc(0x0BF)).as_str(),
            "unknown format-one error 0x000000bf"
        );
        assert_eq!(
            render(TpmRc(0x1FF)).as_str(),
            "unknown format-one error 0x000001ff; parameter 1"
        );
        assert_eq!(
            render(TpmRc(0x01F)).as_str(),
            "TPM 1.2 response code 0x0000001f"
        );
        assert_eq!(TpmRc(0x01E).decode().class, RcClass::Tpm12);
        assert_eq!(TpmRc(0x01E).name(), Some("TPM_RC_BAD_TAG"));
        assert_eq!(TpmRc(0x030).name(), Some("TPM_RC_BAD_TAG"));
        assert_eq!(
            render(TpmRc(RC_VER1 | RC_T)).as_str(),
            "vendor-defined format-zero error 0x00000500"
        );
        assert_eq!(TpmRc::NOT_USED, TpmRc(0x97F));
    }

    #[test]
    fn reserved_bits_block_a_name() {
        // RETRY with bit 9 set.
        let d = TpmRc(0xB22).decode();
        assert_eq!((d.class, d.reserved), (RcClass::Warning, 0x200));
        assert!(d.info().is_none() && !TpmRc(0xB22).is_retryable());
        assert_eq!(
            render(TpmRc(0xB22)).as_str(),
            "unknown format-zero warning 0x00000b22; reserved bits 0x00000200 set"
        );
        assert_eq!(TpmRc(0x1922).decode().reserved, 0x1000);
        assert_eq!(TpmRc(0x0100_0922).decode().reserved, 0x0100_0000);
        assert!(!TpmRc(0x0100_0922).is_retryable());
        // A format-one code keeps its subject, but loses its name.
        let d = TpmRc(0x81C4).decode();
        assert_eq!((d.subject, d.reserved), (RcSubject::Parameter(1), 0x8000));
        assert!(d.info().is_none());
    }

    #[test]
    fn success_means_exactly_zero() {
        assert!(TpmRc(0).is_success());
        assert_eq!(TpmRc(0).decode().class, RcClass::Success);
        assert!(!TpmRc(0x000B_0000).is_success());
        assert!(!TpmRc(0x0100_0000).is_success());
    }

    #[test]
    fn wire_round_trip() {
        let rc = TpmRc::from_bytes(&[0x00, 0x00, 0x09, 0x22]).unwrap();
        assert_eq!(rc, TpmRc::RETRY);
        let mut buf = [0u8; 4];
        assert_eq!(
            TpmRc(0x000B_0143).to_bytes(&mut buf).unwrap(),
            &[0x00, 0x0B, 0x01, 0x43]
        );
        assert!(TpmRc::from_bytes(&[0x00, 0x09, 0x22]).is_err());
        assert_eq!(u32::from(TpmRc::from(0x2C4u32)), 0x2C4);
    }

    /// Properties that hold for every `u32`.
    fn check(rc: TpmRc) {
        let d = rc.decode();
        let text = render(rc);
        assert!(!text.is_empty());
        assert_eq!(d.raw, rc);
        assert_eq!(u32::from(d.layer), (rc.0 >> 16) & 0xFF);
        assert_eq!(d.base.base(), d.base, "{:#010x}", rc.0);
        if let Some(info) = d.info() {
            assert_eq!((info.code, d.reserved), (d.base, 0), "{:#010x}", rc.0);
            assert!(text.starts_with(info.name));
        }
        if d.class != RcClass::Software {
            let subject = match d.subject {
                RcSubject::None => 0,
                RcSubject::Parameter(n) => RC_P | (u32::from(n) << 8),
                RcSubject::Handle(n) => u32::from(n) << 8,
                RcSubject::Session(n) => RC_S | (u32::from(n) << 8),
            };
            assert_eq!(
                d.base.0 | subject | (u32::from(d.layer) << 16),
                rc.0,
                "{:#010x}",
                rc.0
            );
        }
        if rc.is_retryable() {
            assert_eq!(d.class, RcClass::Warning);
            let name = d.info().map(|i| i.name);
            assert!(matches!(
                name,
                Some("TPM_RC_RETRY" | "TPM_RC_YIELDED" | "TPM_RC_TESTING")
            ));
        }
        if d.is_warning() {
            assert_eq!(rc.0 & (RC_FMT1 | RC_WARN), RC_WARN, "{:#010x}", rc.0);
        }
    }

    #[test]
    fn sweep_never_panics_and_fits() {
        for low in 0..=0xFFFFu32 {
            for layer in [0u32, 5, 8, 11, 12, 0xFF] {
                for high in [0u32, 0xFF00_0000] {
                    check(TpmRc(high | (layer << 16) | low));
                }
            }
        }
        // A coarse walk over the whole range as well.
        let mut v = 0u32;
        while let Some(next) = v.checked_add(0x0001_0001) {
            check(TpmRc(v));
            v = next;
        }
        check(TpmRc(u32::MAX));
    }

    fn format_one_entries() -> std::vec::Vec<RcInfo> {
        RC_TABLE
            .iter()
            .copied()
            .filter(|e| e.code.decode().class == RcClass::Format1)
            .collect()
    }

    proptest! {
        #[test]
        fn any_u32_decodes_and_displays(v in any::<u32>()) {
            check(TpmRc(v));
        }

        #[test]
        fn format_one_subjects_round_trip(
            info in prop::sample::select(format_one_entries()),
            kind in 0u8..3,
            n in 1u32..=15,
            layer in prop::sample::select(&[LAYER_TPM, LAYER_RESMGR, LAYER_RESMGR_TPM][..]),
        ) {
            let base = info.code;
            let (rc, subject) = match kind {
                0 => (param(base, n), RcSubject::Parameter(n as u8)),
                1 => (handle(base, n % 7 + 1), RcSubject::Handle((n % 7 + 1) as u8)),
                _ => (session(base, n % 7 + 1), RcSubject::Session((n % 7 + 1) as u8)),
            };
            let d = layered(layer, rc).decode();
            prop_assert_eq!((d.base, d.subject, d.layer), (base, subject, layer));
            prop_assert_eq!(d.info(), Some(&info));
        }
    }
}
