use crate::types::{HashAlg, TpmAlgId, TpmEccCurve};
use crate::wire;
use core::fmt;

/// Why a quote was refused. One variant per check, so a caller (and a test) can tell exactly
/// which check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    // --- the caller's request ---
    /// The expected nonce is empty and the policy does not allow that: a quote without a fresh
    /// nonce can be replayed.
    EmptyExpectedNonce,

    // --- the attestation key ---
    /// The AK bytes are neither TPM2B_PUBLIC, TPMT_PUBLIC nor a SubjectPublicKeyInfo we can read.
    AkUnreadable(wire::Error),
    /// The SubjectPublicKeyInfo could not be decoded (PEM/DER).
    AkSpkiInvalid,
    /// The AK is of a type that cannot sign quotes we verify (KEYEDHASH, SYMCIPHER, other SPKI).
    AkTypeUnsupported(TpmAlgId),
    /// RSA modulus shorter than the policy minimum.
    RsaKeyTooSmall {
        /// Modulus length of the AK, in bits.
        bits: usize,
        /// The policy's minimum (`Policy::min_rsa_bits`), in bits.
        min: usize,
    },
    /// RSA public exponent below 65537 or even.
    RsaExponentRejected {
        /// The public exponent the key carries.
        exponent: u64,
    },
    /// The RSA key is refused by the `rsa` crate (e.g. a modulus above 4096 bits).
    RsaKeyUnusable {
        /// Modulus length of the refused key, in bits.
        bits: usize,
    },
    /// TPMT_PUBLIC's keyBits disagrees with the modulus it carries.
    RsaKeyBitsMismatch {
        /// `keyBits` of TPMS_RSA_PARMS, in bits.
        declared: u16,
        /// Length of the modulus actually carried (`unique.rsa`), in bits.
        actual: usize,
    },
    /// The ECC curve is not one the policy allows (NIST P-256 and P-384).
    EccCurveNotAllowed(TpmEccCurve),
    /// The ECC public point is malformed or not on the curve.
    EccPointInvalid,
    /// AK attributes: restricted is clear, so the key could sign forged attestation data.
    AkNotRestricted,
    /// AK attributes: sign is clear.
    AkNotSigning,
    /// AK attributes: fixedTPM is clear.
    AkNotFixedTpm,
    /// AK attributes: fixedParent is clear.
    AkNotFixedParent,
    /// AK attributes: decrypt is set on a restricted signing key.
    AkDecryptSet,
    /// The check needs the AK's TPMT_PUBLIC (for its Name), but only a SubjectPublicKeyInfo
    /// was given.
    AkNameUnknown,

    // --- the signature ---
    /// The TPMT_SIGNATURE bytes do not parse.
    SignatureUnreadable(wire::Error),
    /// The signature algorithm does not fit the key (e.g. ECDSA for an RSA key, HMAC, NULL).
    SignatureAlgorithmMismatch {
        /// The AK's type (TPM_ALG_RSA or TPM_ALG_ECC).
        key: TpmAlgId,
        /// `sigAlg` of the TPMT_SIGNATURE.
        signature: TpmAlgId,
    },
    /// The key pins a signing scheme and the signature uses another.
    SignatureSchemeMismatch {
        /// The scheme pinned in the AK's TPMT_PUBLIC parameters.
        key_scheme: TpmAlgId,
        /// `sigAlg` of the TPMT_SIGNATURE.
        signature: TpmAlgId,
    },
    /// The key pins a hash and the signature uses another.
    SignatureHashMismatch {
        /// The hash pinned in the AK's scheme.
        key_hash: HashAlg,
        /// The hash the signature says it was made with.
        signature: HashAlg,
    },
    /// The signature is over a SHA-1 digest, refused unless the policy allows SHA-1
    /// signatures.
    Sha1SignatureNotAllowed,
    /// The signing hash is not usable with this key type, or not compiled in.
    SignatureHashNotSupported(HashAlg),
    /// RSA signature length is not the modulus length.
    RsaSignatureLength {
        /// Length of the signature, in bytes.
        got: usize,
        /// Length of the AK's modulus, in bytes.
        expected: usize,
    },
    /// ECDSA r or s is zero, not below the group order, or longer than the field.
    EcdsaScalarOutOfRange,
    /// The signature does not verify over the attestation bytes.
    BadSignature,

    // --- the attestation ---
    /// The attestation bytes do not parse as TPMS_ATTEST.
    AttestUnreadable(wire::Error),
    /// `magic` is not TPM_GENERATED_VALUE: the TPM did not produce this structure.
    NotTpmGenerated {
        /// The `magic` value found (TPM_GENERATED_VALUE is 0xff544347).
        magic: u32,
    },
    /// The attestation is signed but is not a quote (certify, NV, creation, ...).
    NotAQuote {
        /// Spec name of the TPMI_ST_ATTEST type found (e.g. `TPM_ST_ATTEST_CERTIFY`).
        type_name: &'static str,
    },
    /// extraData differs from the expected nonce.
    NonceMismatch,
    /// The AK's qualified name differs from qualifiedSigner.
    QualifiedSignerMismatch,
    /// The quote lists the same bank twice.
    DuplicateBank(HashAlg),
    /// The quote selects no PCR at all.
    NoPcrsSelected,
    /// The quote's PCR selection differs from the selection of the values supplied.
    SelectionMismatch,
    /// The quote's PCRs are all in SHA-1 banks (no bank of SHA-256 or stronger is selected)
    /// and the policy does not allow SHA-1-only selections.
    Sha1BankNotAllowed,
    /// The number of PCR values differs from the number of PCRs selected.
    PcrValueCount {
        /// Number of PCR values supplied.
        got: usize,
        /// Number of PCRs the selection covers.
        expected: usize,
    },
    /// A PCR value's length differs from its bank's digest size.
    PcrValueLength {
        /// The bank (hash algorithm) of the value.
        bank: HashAlg,
        /// The PCR index.
        index: u32,
        /// Length of the value supplied, in bytes (the bank's digest size was expected).
        len: usize,
    },
    /// The digest of the supplied PCR values differs from the quote's pcrDigest.
    PcrDigestMismatch,
    /// resetCount differs from the previous quote's: the TPM was reset in between.
    ResetCountChanged {
        /// The previous quote's resetCount.
        previous: u32,
        /// This quote's resetCount.
        now: u32,
    },
    /// restartCount differs from the previous quote's.
    RestartCountChanged {
        /// The previous quote's restartCount.
        previous: u32,
        /// This quote's restartCount.
        now: u32,
    },
    /// The clock is behind the previous quote's.
    ClockWentBack {
        /// The previous quote's clock, in milliseconds.
        previous: u64,
        /// This quote's clock, in milliseconds.
        now: u64,
    },
    /// The policy requires `safe` and the quote's clock is not marked safe.
    ClockNotSafe,
}

impl VerifyError {
    /// A short stable name of the failed check (for reports and the CLI).
    pub fn check_name(&self) -> &'static str {
        use VerifyError::*;
        match self {
            EmptyExpectedNonce => "nonce-required",
            AkUnreadable(_) | AkSpkiInvalid | AkTypeUnsupported(_) => "ak-format",
            RsaKeyTooSmall { .. }
            | RsaExponentRejected { .. }
            | RsaKeyBitsMismatch { .. }
            | RsaKeyUnusable { .. } => "ak-rsa-policy",
            EccCurveNotAllowed(_) | EccPointInvalid => "ak-ecc-policy",
            AkNotRestricted | AkNotSigning | AkNotFixedTpm | AkNotFixedParent | AkDecryptSet => {
                "ak-attributes"
            }
            AkNameUnknown | QualifiedSignerMismatch => "qualified-signer",
            SignatureUnreadable(_) => "signature-format",
            SignatureAlgorithmMismatch { .. }
            | SignatureSchemeMismatch { .. }
            | SignatureHashMismatch { .. }
            | Sha1SignatureNotAllowed
            | SignatureHashNotSupported(_) => "signature-scheme",
            RsaSignatureLength { .. } | EcdsaScalarOutOfRange | BadSignature => "signature",
            AttestUnreadable(_) => "attest-format",
            NotTpmGenerated { .. } => "magic",
            NotAQuote { .. } => "attest-type",
            NonceMismatch => "nonce",
            DuplicateBank(_) | NoPcrsSelected | SelectionMismatch => "pcr-selection",
            Sha1BankNotAllowed => "pcr-bank-policy",
            PcrValueCount { .. } | PcrValueLength { .. } => "pcr-values",
            PcrDigestMismatch => "pcr-digest",
            ResetCountChanged { .. }
            | RestartCountChanged { .. }
            | ClockWentBack { .. }
            | ClockNotSafe => "clock",
        }
    }
}

/// The step of [`verify_quote`](super::verify_quote) a refusal belongs to, in the order the
/// steps run. Reports (such as a proof's) show one row per step; the compiler checks that
/// every error has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The AK: its encoding, type, size and attributes.
    Ak,
    /// The signature over the attestation bytes.
    Signature,
    /// TPMS_ATTEST: encoding, magic, type.
    Attest,
    /// extraData against the expected nonce.
    Nonce,
    /// qualifiedSigner against the AK's qualified name.
    QualifiedSigner,
    /// The PCR selection and the bank policy.
    PcrSelection,
    /// The PCR values against pcrDigest.
    PcrDigest,
    /// Reset and restart counts, clock.
    Clock,
}

impl Stage {
    /// Every step, in order.
    pub const ALL: [Stage; 8] = [
        Stage::Ak,
        Stage::Signature,
        Stage::Attest,
        Stage::Nonce,
        Stage::QualifiedSigner,
        Stage::PcrSelection,
        Stage::PcrDigest,
        Stage::Clock,
    ];

    /// The step's short name, as report rows spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Stage::Ak => "ak",
            Stage::Signature => "signature",
            Stage::Attest => "attest",
            Stage::Nonce => "nonce",
            Stage::QualifiedSigner => "qualified-signer",
            Stage::PcrSelection => "pcr-selection",
            Stage::PcrDigest => "pcr-digest",
            Stage::Clock => "clock",
        }
    }
}

impl VerifyError {
    /// The step this refusal belongs to.
    pub fn stage(&self) -> Stage {
        use VerifyError::*;
        match self {
            AkUnreadable(_)
            | AkSpkiInvalid
            | AkTypeUnsupported(_)
            | RsaKeyTooSmall { .. }
            | RsaExponentRejected { .. }
            | RsaKeyBitsMismatch { .. }
            | RsaKeyUnusable { .. }
            | EccCurveNotAllowed(_)
            | EccPointInvalid
            | AkNotRestricted
            | AkNotSigning
            | AkNotFixedTpm
            | AkNotFixedParent
            | AkDecryptSet => Stage::Ak,
            SignatureUnreadable(_)
            | SignatureAlgorithmMismatch { .. }
            | SignatureSchemeMismatch { .. }
            | SignatureHashMismatch { .. }
            | Sha1SignatureNotAllowed
            | SignatureHashNotSupported(_)
            | RsaSignatureLength { .. }
            | EcdsaScalarOutOfRange
            | BadSignature => Stage::Signature,
            AttestUnreadable(_) | NotTpmGenerated { .. } | NotAQuote { .. } => Stage::Attest,
            EmptyExpectedNonce | NonceMismatch => Stage::Nonce,
            AkNameUnknown | QualifiedSignerMismatch => Stage::QualifiedSigner,
            DuplicateBank(_) | NoPcrsSelected | SelectionMismatch | Sha1BankNotAllowed => {
                Stage::PcrSelection
            }
            PcrValueCount { .. } | PcrValueLength { .. } | PcrDigestMismatch => Stage::PcrDigest,
            ResetCountChanged { .. }
            | RestartCountChanged { .. }
            | ClockWentBack { .. }
            | ClockNotSafe => Stage::Clock,
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VerifyError::*;
        write!(f, "{}: ", self.check_name())?;
        match self {
            EmptyExpectedNonce => f.write_str(
                "no expected nonce given; a quote without a fresh nonce can be replayed",
            ),
            AkUnreadable(e) => write!(f, "AK public key unreadable: {e}"),
            AkSpkiInvalid => f.write_str("AK SubjectPublicKeyInfo could not be decoded"),
            AkTypeUnsupported(t) => write!(f, "AK type {t} cannot sign quotes"),
            RsaKeyTooSmall { bits, min } => {
                write!(f, "RSA AK has {bits} bits, policy requires {min}")
            }
            RsaExponentRejected { exponent } => write!(
                f,
                "RSA AK exponent {exponent} refused (must be odd and >= 65537)"
            ),
            RsaKeyUnusable { bits } => write!(f, "RSA AK of {bits} bits is not a usable key"),
            RsaKeyBitsMismatch { declared, actual } => write!(
                f,
                "RSA AK declares {declared} bits but its modulus has {actual}"
            ),
            EccCurveNotAllowed(c) => write!(
                f,
                "ECC curve {:#06x} not allowed (NIST P-256 and P-384 only)",
                c.0
            ),
            EccPointInvalid => f.write_str("AK ECC point is malformed or not on the curve"),
            AkNotRestricted => {
                f.write_str("AK is not restricted: it could sign data that imitates a quote")
            }
            AkNotSigning => f.write_str("AK does not have the sign attribute"),
            AkNotFixedTpm => f.write_str("AK is not fixedTPM: it may exist outside this TPM"),
            AkNotFixedParent => f.write_str("AK is not fixedParent"),
            AkDecryptSet => {
                f.write_str("AK has decrypt set, which a restricted signing key must not")
            }
            AkNameUnknown => {
                f.write_str("qualifiedSigner check needs the AK's TPMT_PUBLIC, not just its key")
            }
            SignatureUnreadable(e) => write!(f, "TPMT_SIGNATURE unreadable: {e}"),
            SignatureAlgorithmMismatch { key, signature } => write!(
                f,
                "signature algorithm {signature} does not fit a {key} key"
            ),
            SignatureSchemeMismatch {
                key_scheme,
                signature,
            } => write!(
                f,
                "AK is pinned to {key_scheme} but the signature is {signature}"
            ),
            SignatureHashMismatch {
                key_hash,
                signature,
            } => write!(
                f,
                "AK is pinned to hash {key_hash} but the signature uses {signature}"
            ),
            Sha1SignatureNotAllowed => f.write_str("signature uses SHA-1, refused by policy"),
            SignatureHashNotSupported(h) => {
                write!(f, "signing hash {h} not supported for this key")
            }
            RsaSignatureLength { got, expected } => {
                write!(f, "RSA signature is {got} bytes, modulus is {expected}")
            }
            EcdsaScalarOutOfRange => {
                f.write_str("ECDSA r or s is zero or not below the group order")
            }
            BadSignature => f.write_str("signature does not verify over the attestation bytes"),
            AttestUnreadable(e) => write!(f, "TPMS_ATTEST unreadable: {e}"),
            NotTpmGenerated { magic } => {
                write!(f, "magic {magic:#010x} is not TPM_GENERATED_VALUE")
            }
            NotAQuote { type_name } => {
                write!(f, "attestation is {type_name}, not TPM_ST_ATTEST_QUOTE")
            }
            NonceMismatch => f.write_str("extraData does not equal the expected nonce"),
            QualifiedSignerMismatch => {
                f.write_str("qualifiedSigner is not the AK's qualified name")
            }
            DuplicateBank(h) => write!(f, "bank {h} listed twice"),
            NoPcrsSelected => f.write_str("quote selects no PCR"),
            SelectionMismatch => f.write_str(
                "quoted PCR selection differs from the selection of the PCR values given",
            ),
            Sha1BankNotAllowed => f.write_str(
                "only SHA-1 PCR banks are quoted, refused by policy (quote a SHA-256 or \
                 stronger bank too, or allow SHA-1)",
            ),
            PcrValueCount { got, expected } => {
                write!(f, "{got} PCR values for {expected} selected PCRs")
            }
            PcrValueLength { bank, index, len } => write!(
                f,
                "PCR {bank}:{index} value has {len} bytes, bank digest size is {}",
                bank.digest_size()
            ),
            PcrDigestMismatch => {
                f.write_str("digest of the PCR values differs from the quote's pcrDigest")
            }
            ResetCountChanged { previous, now } => {
                write!(f, "resetCount changed from {previous} to {now}")
            }
            RestartCountChanged { previous, now } => {
                write!(f, "restartCount changed from {previous} to {now}")
            }
            ClockWentBack { previous, now } => {
                write!(f, "clock went back from {previous} to {now}")
            }
            ClockNotSafe => f.write_str("clock is not marked safe"),
        }
    }
}

impl core::error::Error for VerifyError {}
