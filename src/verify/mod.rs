//! The quote verifier. `no_std`; it parses with the same functions the client uses.
//!
//! Order of checks: the key and its policy; the signature over the bytes received; only then
//! the parsed fields (magic, type, nonce, qualified signer, PCR selection and digest, clock).

mod error;
mod key;
#[cfg(feature = "rsa")]
mod pss;
mod signature;

pub use error::{Stage, VerifyError};
pub use key::{Ak, AkFormat, AkKey};
pub use signature::verify_signature;

use crate::types::{
    hash, HashAlg, PcrValues, TpmlPcrSelection, TpmsAttest, TpmsClockInfo, TpmsQuoteInfo,
};
use crate::wire::{ErrorKind, Unmarshal};
use subtle::ConstantTimeEq as _;

/// What the verifier accepts. `Default` is the strict policy.
///
/// SHA-1 has two separate rules, one knob each:
/// - **PCR banks** ([`Policy::allow_sha1_banks`]): a selection that quotes a SHA-1 bank next to
///   a bank of SHA-256 or stronger is accepted by default (it is what `tpm2_quote -l
///   sha1:...+sha256:...` makes); every selected bank is still checked against the values
///   given, so the stronger bank carries the proof. A selection whose only non-empty banks are
///   SHA-1 is refused unless the knob is on ([`Policy::check_banks`]). The same rule applies
///   wherever a PCR value is trusted by its bank: proofs (`proof::verify` uses this policy)
///   and event-log replay (a PCR replayed only in the SHA-1 bank proves nothing by default).
/// - **Signature digest** ([`Policy::allow_sha1_signature`]): a quote signed over a SHA-1
///   digest is refused unless the knob is on, whatever banks it covers (a SHA-1 collision
///   could let one signature cover two attestations).
///
/// Start from `Policy::default()` and set the knobs you relax: the struct is
/// `#[non_exhaustive]`, so a knob added later keeps its strict default for existing callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Accept a PCR selection whose only non-empty banks are SHA-1 (GCE's SHA-1 bank, old
    /// Windows quotes). SHA-1 next to a stronger bank needs no permission.
    pub allow_sha1_banks: bool,
    /// Accept a signature made over a SHA-1 digest (old Windows PCP AKs).
    pub allow_sha1_signature: bool,
    /// Accept an empty expected nonce (the quote is then replayable; the caller says so).
    pub allow_empty_nonce: bool,
    /// Smallest RSA modulus accepted, in bits.
    pub min_rsa_bits: usize,
    /// When the AK's TPMT_PUBLIC is known, require restricted, sign, fixedTPM, fixedParent.
    pub require_ak_attributes: bool,
    /// Require the quote's clock to be marked safe.
    pub require_safe_clock: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow_sha1_banks: false,
            allow_sha1_signature: false,
            allow_empty_nonce: false,
            min_rsa_bits: 2048,
            require_ak_attributes: true,
            require_safe_clock: false,
        }
    }
}

impl Policy {
    /// This policy with both SHA-1 knobs on (what `--allow-sha1` asks for).
    pub const fn with_sha1(mut self) -> Self {
        self.allow_sha1_banks = true;
        self.allow_sha1_signature = true;
        self
    }

    /// Whether a PCR bank of `hash` counts as strong: SHA-256 or stronger (every bank the
    /// spec defines except SHA-1 has a digest of at least 32 bytes).
    pub const fn bank_is_strong(hash: HashAlg) -> bool {
        hash.digest_size() >= 32
    }

    /// The bank rule: at least one non-empty bank of SHA-256 or stronger, unless
    /// `allow_sha1_banks`. (An empty selection is left to the caller's own check.)
    pub fn check_banks(&self, selection: &TpmlPcrSelection) -> Result<(), VerifyError> {
        let strong = selection
            .banks()
            .iter()
            .any(|b| !b.is_empty() && Self::bank_is_strong(b.hash));
        let any = selection.banks().iter().any(|b| !b.is_empty());
        if any && !strong && !self.allow_sha1_banks {
            return Err(VerifyError::Sha1BankNotAllowed);
        }
        Ok(())
    }
}

/// What the caller expects the quote to say. Made with [`Expectations::new`]; fields may be
/// set afterwards, and new ones may be added without breaking callers.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Expectations<'e> {
    /// The nonce the verifier sent; must equal extraData exactly.
    pub nonce: &'e [u8],
    /// The PCR values the quote is claimed to cover, with their selection.
    pub pcrs: &'e PcrValues<'e>,
    /// Clock information of an earlier quote from the same TPM: resetCount and restartCount
    /// must be unchanged and the clock must not go back.
    pub previous: Option<TpmsClockInfo>,
    /// The qualified name of the AK's parent (for a primary AK, the 4-byte hierarchy handle):
    /// when given, qualifiedSigner must be the AK's qualified name under it.
    pub ak_parent_qualified_name: Option<&'e [u8]>,
}

impl<'e> Expectations<'e> {
    /// Expects `nonce` as extraData and a quote over `pcrs`; no earlier clock and no AK
    /// parent to check (set [`previous`](Self::previous) and
    /// [`ak_parent_qualified_name`](Self::ak_parent_qualified_name) for those).
    pub fn new(nonce: &'e [u8], pcrs: &'e PcrValues<'e>) -> Self {
        Self {
            nonce,
            pcrs,
            previous: None,
            ak_parent_qualified_name: None,
        }
    }
}

/// A quote that passed every check, with its parsed fields. Only [`verify_quote`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedQuote<'a> {
    /// The signed TPMS_ATTEST.
    pub attest: TpmsAttest<'a>,
    /// The hash the AK signed with (also the hash of pcrDigest).
    pub signing_hash: HashAlg,
    /// The quote body that was checked (the `attested` field of `attest`).
    quote: TpmsQuoteInfo<'a>,
}

impl<'a> VerifiedQuote<'a> {
    /// The quote body that was checked: selection and pcrDigest.
    pub fn quote(&self) -> &TpmsQuoteInfo<'a> {
        &self.quote
    }
    /// The TPMS_CLOCK_INFO of the quote (clock, resetCount, restartCount, safe), as signed.
    pub fn clock_info(&self) -> TpmsClockInfo {
        self.attest.clock_info
    }
}

/// Verifies a TPM2_Quote: `attest` is the TPMS_ATTEST exactly as the TPM returned it (what
/// `tpm2_quote -m` writes), `signature` a TPMT_SIGNATURE (`tpm2_quote -s`).
pub fn verify_quote<'a>(
    ak: &Ak<'_>,
    attest: &'a [u8],
    signature: &[u8],
    expect: &Expectations<'_>,
    policy: &Policy,
) -> Result<VerifiedQuote<'a>, VerifyError> {
    if expect.nonce.is_empty() && !policy.allow_empty_nonce {
        return Err(VerifyError::EmptyExpectedNonce);
    }
    ak.check_policy(policy)?;
    let sig = crate::types::TpmtSignature::from_bytes(signature)
        .map_err(VerifyError::SignatureUnreadable)?;
    let signing_hash = verify_signature(ak, policy, attest, &sig)?;

    // Signed by the AK: from here on the parsed fields are the TPM's own statement.
    let parsed = TpmsAttest::from_bytes(attest).map_err(|e| match e.kind {
        ErrorKind::BadMagic { value } => VerifyError::NotTpmGenerated { magic: value },
        _ => VerifyError::AttestUnreadable(e),
    })?;
    let quote = parsed.quote().cloned().ok_or(VerifyError::NotAQuote {
        type_name: parsed.attested.type_name(),
    })?;

    let extra = parsed.extra_data.as_bytes();
    if extra.len() != expect.nonce.len() || !bool::from(extra.ct_eq(expect.nonce)) {
        return Err(VerifyError::NonceMismatch);
    }
    if let Some(parent_qn) = expect.ak_parent_qualified_name {
        check_qualified_signer(ak, parent_qn, parsed.qualified_signer.as_bytes())?;
    }
    check_selection(&quote.pcr_select, &expect.pcrs.selection, policy)?;
    check_pcr_digest(expect.pcrs, signing_hash, quote.pcr_digest.as_bytes())?;
    check_clock(parsed.clock_info, expect.previous, policy)?;
    Ok(VerifiedQuote {
        attest: parsed,
        signing_hash,
        quote,
    })
}

/// The quote's selection must equal the selection of the values given, bank by bank and in
/// order; nothing empty, nothing doubled, not SHA-1 alone unless allowed.
fn check_selection(
    quoted: &TpmlPcrSelection,
    given: &TpmlPcrSelection,
    policy: &Policy,
) -> Result<(), VerifyError> {
    if let Some(h) = quoted.duplicate_bank().or_else(|| given.duplicate_bank()) {
        return Err(VerifyError::DuplicateBank(h));
    }
    if quoted.pcr_count() == 0 {
        return Err(VerifyError::NoPcrsSelected);
    }
    if !quoted.same_pcrs(given) {
        return Err(VerifyError::SelectionMismatch);
    }
    policy.check_banks(quoted)
}

/// pcrDigest = H_sig(value_0 || value_1 || ...), in selection order.
fn check_pcr_digest(
    pcrs: &PcrValues<'_>,
    hash_alg: HashAlg,
    quoted: &[u8],
) -> Result<(), VerifyError> {
    let expected = pcrs.selection.pcr_count();
    if pcrs.values.len() != expected {
        return Err(VerifyError::PcrValueCount {
            got: pcrs.values.len(),
            expected,
        });
    }
    let mut h =
        hash::Hasher::new(hash_alg).map_err(|e| VerifyError::SignatureHashNotSupported(e.0))?;
    for (bank, index, value) in pcrs.iter() {
        if value.len() != bank.digest_size() {
            return Err(VerifyError::PcrValueLength {
                bank,
                index,
                len: value.len(),
            });
        }
        h.update(value);
    }
    if h.finish().as_bytes() != quoted {
        return Err(VerifyError::PcrDigestMismatch);
    }
    Ok(())
}

fn check_clock(
    now: TpmsClockInfo,
    previous: Option<TpmsClockInfo>,
    policy: &Policy,
) -> Result<(), VerifyError> {
    if policy.require_safe_clock && !now.safe {
        return Err(VerifyError::ClockNotSafe);
    }
    let Some(prev) = previous else { return Ok(()) };
    if now.reset_count != prev.reset_count {
        return Err(VerifyError::ResetCountChanged {
            previous: prev.reset_count,
            now: now.reset_count,
        });
    }
    if now.restart_count != prev.restart_count {
        return Err(VerifyError::RestartCountChanged {
            previous: prev.restart_count,
            now: now.restart_count,
        });
    }
    if now.clock < prev.clock {
        return Err(VerifyError::ClockWentBack {
            previous: prev.clock,
            now: now.clock,
        });
    }
    Ok(())
}

/// qualifiedSigner = nameAlg || H_nameAlg(parent's qualified name || Name(AK)).
fn check_qualified_signer(ak: &Ak<'_>, parent_qn: &[u8], signer: &[u8]) -> Result<(), VerifyError> {
    let public = ak.public.as_ref().ok_or(VerifyError::AkNameUnknown)?;
    let alg = public
        .public_area()
        .name_alg
        .ok_or(VerifyError::AkNameUnknown)?;
    let name = public.name().map_err(|_| VerifyError::AkNameUnknown)?;
    let d =
        hash::digest(alg, &[parent_qn, name.as_bytes()]).map_err(|_| VerifyError::AkNameUnknown)?;
    let ok = signer.len() == 2 + d.as_bytes().len()
        && signer[..2] == alg.alg_id().0.to_be_bytes()
        && &signer[2..] == d.as_bytes();
    if ok {
        Ok(())
    } else {
        Err(VerifyError::QualifiedSignerMismatch)
    }
}
