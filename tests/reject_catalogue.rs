//! The "must reject" catalogue: one named case for each input a TPM quote verifier must refuse
//! (shared/FACTS.md, "Things a verifier must reject", Parser and Quote), each asserting the
//! exact error, plus positive controls that show the forged quotes are otherwise good.
//!
//! Quote cases are signed with real keys (`tests/common/forge.rs`), so the check that fails is
//! the one the case names, not the signature. Parser cases are byte strings; their bytes are
//! also committed under `vectors/bad/` and `writes_bad_vectors_match` keeps the two equal.
//!
//! The response-framing lines of the Parser list are in `tests/reject_responses.rs`; the
//! Provenance list is with the proof tests.
//!
//! Run with `cargo test --test reject_catalogue -- --nocapture` to see every case, its time
//! and the error it met.

mod common;

use baretpm::types::tpm2b::max;
use baretpm::types::{
    HashAlg, Tpm2b, Tpm2bPublic, TpmAlgId, TpmEccCurve, TpmaObject, TpmlDigest, TpmlPcrSelection,
    TpmsAttest, TpmsClockInfo, TpmsPcrSelection, TpmtPublic, TpmtSignature, TPM_GENERATED_VALUE,
};
use baretpm::verify::VerifyError;
use baretpm::wire::{self, ErrorKind, Reader, Unmarshal};
use common::forge::{
    ak_public_area, default_clock, hash, pcr_value, qualified_name, rsa_spki_der_with_exponent,
    tpm2b_public, AkForm, AkScheme, AttestKind, PcrSet, QuoteForge, RawSig, SigScheme, TestKey,
    AK_ATTRIBUTES, ENDORSEMENT_QN, OWNER_QN,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// What a parser case feeds its bytes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Attest,
    Tpm2bAttest,
    Signature,
    Tpm2bPublic,
    TpmtPublic,
    PcrSelection,
    Digests,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Self::Attest => "TPMS_ATTEST",
            Self::Tpm2bAttest => "TPM2B_ATTEST",
            Self::Signature => "TPMT_SIGNATURE",
            Self::Tpm2bPublic => "TPM2B_PUBLIC",
            Self::TpmtPublic => "TPMT_PUBLIC",
            Self::PcrSelection => "TPML_PCR_SELECTION",
            Self::Digests => "TPML_DIGEST",
        }
    }

    /// Parses `bytes` as exactly one value of the target type.
    fn parse(self, bytes: &[u8]) -> Result<(), wire::Error> {
        match self {
            Self::Attest => TpmsAttest::from_bytes(bytes).map(drop),
            Self::Tpm2bAttest => {
                let mut r = Reader::new(bytes);
                TpmsAttest::read_tpm2b(&mut r)?;
                r.finish()
            }
            Self::Signature => TpmtSignature::from_bytes(bytes).map(drop),
            Self::Tpm2bPublic => Tpm2bPublic::from_bytes(bytes).map(drop),
            Self::TpmtPublic => TpmtPublic::from_bytes(bytes).map(drop),
            Self::PcrSelection => TpmlPcrSelection::from_bytes(bytes).map(drop),
            Self::Digests => TpmlDigest::from_bytes(bytes).map(drop),
        }
    }
}

enum Check {
    /// Bytes that the target's parser must refuse with exactly `err`.
    Parse {
        target: Target,
        about: &'static str,
        bytes: fn() -> Vec<u8>,
        err: ErrorKind,
    },
    /// A forged quote that must verify (`Ok`) or be refused with exactly this error.
    Quote {
        forge: fn() -> QuoteForge,
        want: Result<(), VerifyError>,
    },
    /// A loop over many inputs; returns a one-line summary or what went wrong.
    Sweep { run: fn() -> Result<String, String> },
}

struct Case {
    name: &'static str,
    check: Check,
}

fn parse(
    name: &'static str,
    target: Target,
    about: &'static str,
    bytes: fn() -> Vec<u8>,
    err: ErrorKind,
) -> Case {
    Case {
        name,
        check: Check::Parse {
            target,
            about,
            bytes,
            err,
        },
    }
}

fn accept(name: &'static str, forge: fn() -> QuoteForge) -> Case {
    Case {
        name,
        check: Check::Quote {
            forge,
            want: Ok(()),
        },
    }
}

fn reject(name: &'static str, forge: fn() -> QuoteForge, err: VerifyError) -> Case {
    Case {
        name,
        check: Check::Quote {
            forge,
            want: Err(err),
        },
    }
}

fn sweep(name: &'static str, run: fn() -> Result<String, String>) -> Case {
    Case {
        name,
        check: Check::Sweep { run },
    }
}

/// Runs one case; `Ok` carries a note for verbose output.
fn run_case(case: &Case) -> Result<String, String> {
    match &case.check {
        Check::Parse {
            target, bytes, err, ..
        } => {
            let input = bytes();
            match target.parse(&input) {
                Ok(()) => Err(format!(
                    "{} accepted {} bytes, expected {err:?}",
                    target.name(),
                    input.len()
                )),
                Err(e) if e.kind == *err => Ok(format!("{}: {e}", target.name())),
                Err(e) => Err(format!(
                    "{} refused with {e:?}, expected {err:?}",
                    target.name()
                )),
            }
        }
        Check::Quote { forge, want } => {
            let forged = forge().build();
            let got = forged.verify().map(drop);
            if got == *want {
                Ok(match got {
                    Ok(()) => "verified".to_string(),
                    Err(e) => e.to_string(),
                })
            } else {
                Err(format!("got {got:?}, expected {want:?}"))
            }
        }
        Check::Sweep { run } => run(),
    }
}

// ---------------------------------------------------------------------------------------------
// Byte surgery
// ---------------------------------------------------------------------------------------------

fn be16(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn read16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

/// Replaces `remove` bytes at `at` with `insert`.
fn splice(mut v: Vec<u8>, at: usize, remove: usize, insert: &[u8]) -> Vec<u8> {
    v.splice(at..at + remove, insert.iter().copied());
    v
}

/// Overwrites a big-endian `u16` at `at`.
fn put16(v: &mut [u8], at: usize, value: u16) {
    v[at..at + 2].copy_from_slice(&be16(value));
}

/// Overwrites a big-endian `u32` at `at`.
fn put32(v: &mut [u8], at: usize, value: u32) {
    v[at..at + 4].copy_from_slice(&be32(value));
}

/// A TPM2B of `size` bytes of `fill`, size field included.
fn tpm2b_of(size: u16, fill: u8) -> Vec<u8> {
    let mut v = be16(size).to_vec();
    v.resize(2 + usize::from(size), fill);
    v
}

/// The default RSA quote's TPMS_ATTEST and where its fields start.
struct Sample {
    bytes: Vec<u8>,
    qualified_signer: usize,
    extra_data: usize,
    clock: usize,
    pcr_select: usize,
    /// First TPMS_PCR_SELECTION (6 bytes: hash, sizeofSelect 3, bitmap).
    bank: usize,
    pcr_digest: usize,
}

fn sample() -> Sample {
    let bytes = QuoteForge::new(TestKey::Rsa2048).unsigned_attest();
    let qualified_signer = 6;
    let extra_data = qualified_signer + 2 + read16(&bytes, qualified_signer);
    let clock = extra_data + 2 + read16(&bytes, extra_data);
    let pcr_select = clock + 17 + 8;
    let bank = pcr_select + 4;
    let pcr_digest = bank + 6;
    assert_eq!(bytes[bank + 2], 3, "sample selection has sizeofSelect 3");
    assert_eq!(bytes.len(), pcr_digest + 2 + read16(&bytes, pcr_digest));
    Sample {
        bytes,
        qualified_signer,
        extra_data,
        clock,
        pcr_select,
        bank,
        pcr_digest,
    }
}

/// The sample with its first PCR selection replaced by `bank`.
fn sample_with_bank(bank: &[u8]) -> Vec<u8> {
    let s = sample();
    splice(s.bytes, s.bank, 6, bank)
}

/// The sample's selection bitmap (3 bytes).
fn sample_bitmap() -> [u8; 3] {
    let s = sample();
    [
        s.bytes[s.bank + 3],
        s.bytes[s.bank + 4],
        s.bytes[s.bank + 5],
    ]
}

fn rsa_area() -> Vec<u8> {
    ak_public_area(
        TestKey::Rsa2048,
        AK_ATTRIBUTES,
        AkScheme::RsaSsa(HashAlg::Sha256),
    )
}

fn ecc_area() -> Vec<u8> {
    ak_public_area(
        TestKey::P256,
        AK_ATTRIBUTES,
        AkScheme::Ecdsa(HashAlg::Sha256),
    )
}

/// Offsets inside an RSA TPMT_PUBLIC with an empty authPolicy.
mod rsa_at {
    pub const ATTRIBUTES: usize = 4;
    pub const SYMMETRIC: usize = 10;
    pub const SCHEME: usize = 12;
    pub const SCHEME_HASH: usize = 14;
    pub const KEY_BITS: usize = 16;
    pub const EXPONENT: usize = 18;
    pub const UNIQUE: usize = 22;
}

/// Offsets inside an ECC TPMT_PUBLIC with an empty authPolicy.
mod ecc_at {
    pub const SCHEME: usize = 12;
    pub const CURVE: usize = 16;
    pub const KDF: usize = 18;
    pub const X: usize = 20;
}

/// The RSA AK as TPM2B_PUBLIC with `f` applied to the TPMT_PUBLIC bytes.
fn rsa_public_with(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut area = rsa_area();
    assert_eq!(read16(&area, rsa_at::UNIQUE), 256);
    f(&mut area);
    let mut out = be16(u16::try_from(area.len()).unwrap()).to_vec();
    out.extend(area);
    out
}

fn ecc_public_with(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut area = ecc_area();
    assert_eq!(read16(&area, ecc_at::X), 32);
    f(&mut area);
    let mut out = be16(u16::try_from(area.len()).unwrap()).to_vec();
    out.extend(area);
    out
}

fn dummy_rsa_sig() -> Vec<u8> {
    RawSig::Rsa {
        pss: false,
        hash: HashAlg::Sha256,
        sig: vec![0x5a; 256],
    }
    .to_bytes()
}

fn dummy_ecdsa_sig() -> Vec<u8> {
    RawSig::Ecdsa {
        hash: HashAlg::Sha256,
        r: vec![0x11; 32],
        s: vec![0x22; 32],
    }
    .to_bytes()
}

fn two_bank_selection() -> Vec<u8> {
    wire::to_vec(
        &PcrSet::of(&[(HashAlg::Sha256, &[0, 1, 7]), (HashAlg::Sha384, &[10])]).selection,
        1024,
    )
    .unwrap()
}

fn three_digests() -> Vec<u8> {
    let values = [
        pcr_value(HashAlg::Sha256, 0),
        pcr_value(HashAlg::Sha256, 1),
        pcr_value(HashAlg::Sha1, 2),
    ];
    let mut list = TpmlDigest::default();
    for v in &values {
        list.digests.push(Tpm2b(v)).unwrap();
    }
    wire::to_vec(&list, 1024).unwrap()
}

/// The order n of the P-256 group.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

fn rsa() -> QuoteForge {
    QuoteForge::new(TestKey::Rsa2048)
}

fn ecc() -> QuoteForge {
    QuoteForge::new(TestKey::P256)
}

fn other_kind(kind: AttestKind) -> QuoteForge {
    let mut f = rsa();
    f.kind = kind;
    f
}

fn without_attribute(bit: u32) -> QuoteForge {
    let mut f = rsa();
    f.ak_attributes &= !bit;
    f
}

fn with_given(f: &mut QuoteForge, edit: impl FnOnce(&mut PcrSet)) {
    let mut given = f.quoted.clone();
    edit(&mut given);
    f.given = Some(given);
}

fn selection_of(banks: &[(HashAlg, &[u32])]) -> TpmlPcrSelection {
    let mut sel = TpmlPcrSelection::default();
    for (bank, indices) in banks {
        sel.push(TpmsPcrSelection::new(*bank, indices).unwrap())
            .unwrap();
    }
    sel
}

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

// One case per entry, laid out by hand as a table; rustfmt would spread each over many lines.
#[rustfmt::skip]
fn catalogue() -> Vec<Case> {
    use ErrorKind as K;
    use Target as T;
    use VerifyError as V;
    vec![
        // ===== Parser: TPMS_ATTEST =====
        parse("attest_empty", T::Attest, "no bytes at all",
            Vec::new,
            K::Truncated { needed: 4, available: 0 }),
        parse("attest_magic_zero", T::Attest, "magic is 0 (libtss2-mu 3.2.1 accepts this)",
            || splice(sample().bytes, 0, 4, &[0; 4]),
            K::BadMagic { value: 0 }),
        parse("attest_magic_byte_swapped", T::Attest, "magic written little-endian",
            || splice(sample().bytes, 0, 4, &TPM_GENERATED_VALUE.to_le_bytes()),
            K::BadMagic { value: 0x4743_54ff }),
        parse("attest_type_unassigned", T::Attest,
            "type 0x801B, between CREATION and NV_DIGEST, is not an attestation type",
            || splice(sample().bytes, 4, 2, &be16(0x801b)),
            K::UnknownValue { value: 0x801b }),
        parse("attest_type_command_tag", T::Attest, "type is TPM_ST_NO_SESSIONS, a command tag",
            || splice(sample().bytes, 4, 2, &be16(0x8001)),
            K::UnknownValue { value: 0x8001 }),
        parse("attest_qualified_signer_69", T::Attest,
            "qualifiedSigner of 69 bytes, TPM2B_NAME holds 68",
            || {
                let s = sample();
                splice(s.bytes, s.qualified_signer, 2 + 34, &tpm2b_of(69, 0x0b))
            },
            K::SizeAboveMax { size: 69, max: 68 }),
        parse("attest_extra_data_67", T::Attest, "extraData of 67 bytes, TPM2B_DATA holds 66",
            || { let s = sample(); splice(s.bytes, s.extra_data, 2 + 32, &tpm2b_of(67, 0xee)) },
            K::SizeAboveMax { size: 67, max: 66 }),
        parse("attest_extra_data_beyond_data", T::Attest,
            "extraData declares 66 bytes, the buffer ends after 40",
            || {
                let s = sample();
                let mut b = splice(s.bytes, s.extra_data, 2, &be16(66));
                b.truncate(s.extra_data + 2 + 40);
                b
            },
            K::Truncated { needed: 66, available: 40 }),
        parse("attest_clock_safe_2", T::Attest, "clockInfo.safe (TPMI_YES_NO) is 2",
            || { let s = sample(); splice(s.bytes, s.clock + 16, 1, &[2]) },
            K::InvalidValue { value: 2 }),
        parse("attest_clock_safe_ff", T::Attest, "clockInfo.safe (TPMI_YES_NO) is 0xFF",
            || { let s = sample(); splice(s.bytes, s.clock + 16, 1, &[0xff]) },
            K::InvalidValue { value: 0xff }),
        parse("attest_pcr_select_count_17", T::Attest,
            "TPML_PCR_SELECTION count 17, at most 16 banks",
            || { let s = sample(); splice(s.bytes, s.pcr_select, 4, &be32(17)) },
            K::CountAboveMax { count: 17, max: 8 }),
        parse("attest_pcr_select_count_u32_max", T::Attest, "TPML_PCR_SELECTION count 0xFFFFFFFF",
            || { let s = sample(); splice(s.bytes, s.pcr_select, 4, &be32(u32::MAX)) },
            K::CountAboveMax { count: 0xffff_ffff, max: 8 }),
        parse("attest_sizeof_select_0", T::Attest, "sizeofSelect 0",
            || sample_with_bank(&[0x00, 0x0b, 0]),
            K::BadSizeofSelect { size: 0 }),
        parse("attest_sizeof_select_2", T::Attest, "sizeofSelect 2, a PC Client TPM needs 3",
            || { let m = sample_bitmap(); sample_with_bank(&[0x00, 0x0b, 2, m[0], m[1]]) },
            K::BadSizeofSelect { size: 2 }),
        parse("attest_sizeof_select_5", T::Attest, "sizeofSelect 5, above PCR_SELECT_MAX 4",
            || {
                let m = sample_bitmap();
                sample_with_bank(&[0x00, 0x0b, 5, m[0], m[1], m[2], 0, 0])
            },
            K::BadSizeofSelect { size: 5 }),
        parse("attest_pcr_index_24", T::Attest, "selection names PCR 24 (sizeofSelect 4)",
            || {
                let m = sample_bitmap();
                sample_with_bank(&[0x00, 0x0b, 4, m[0], m[1], m[2], 0x01])
            },
            K::PcrIndexOutOfRange { index: 24 }),
        parse("attest_pcr_index_31", T::Attest, "selection names PCR 31 (sizeofSelect 4)",
            || {
                let m = sample_bitmap();
                sample_with_bank(&[0x00, 0x0b, 4, m[0], m[1], m[2], 0x80])
            },
            K::PcrIndexOutOfRange { index: 31 }),
        parse("attest_selection_hash_unassigned", T::Attest,
            "selection bank is algorithm 0x0099, not assigned",
            || { let m = sample_bitmap(); sample_with_bank(&[0x00, 0x99, 3, m[0], m[1], m[2]]) },
            K::UnknownValue { value: 0x99 }),
        parse("attest_selection_hash_null", T::Attest, "selection bank is TPM_ALG_NULL",
            || { let m = sample_bitmap(); sample_with_bank(&[0x00, 0x10, 3, m[0], m[1], m[2]]) },
            K::UnknownValue { value: 0x10 }),
        parse("attest_selection_hash_rsa", T::Attest,
            "selection bank is TPM_ALG_RSA, an algorithm but not a hash",
            || { let m = sample_bitmap(); sample_with_bank(&[0x00, 0x01, 3, m[0], m[1], m[2]]) },
            K::UnknownValue { value: 0x01 }),
        parse("attest_pcr_digest_65", T::Attest, "pcrDigest of 65 bytes, TPM2B_DIGEST holds 64",
            || { let s = sample(); splice(s.bytes, s.pcr_digest, 2 + 32, &tpm2b_of(65, 0xdd)) },
            K::SizeAboveMax { size: 65, max: 64 }),
        parse("attest_pcr_digest_beyond_data", T::Attest,
            "pcrDigest declares 32 bytes, 31 are present",
            || { let mut b = sample().bytes; b.pop(); b },
            K::Truncated { needed: 32, available: 31 }),
        parse("attest_trailing_byte", T::Attest,
            "one byte after a complete quote (libtss2-mu ignores it)",
            || { let mut b = sample().bytes; b.push(0); b },
            K::TrailingBytes { count: 1 }),
        parse("attest_followed_by_signature", T::Attest, "a TPMT_SIGNATURE glued after the quote",
            || { let mut b = sample().bytes; b.extend(dummy_rsa_sig()); b },
            K::TrailingBytes { count: 262 }),
        // ===== Parser: TPM2B_ATTEST (a sized structure) =====
        parse("tpm2b_attest_size_one_more", T::Tpm2bAttest,
            "TPM2B_ATTEST size one more than its TPMS_ATTEST (one spare byte inside)",
            || {
                let b = sample().bytes;
                let mut out = be16(u16::try_from(b.len() + 1).unwrap()).to_vec();
                out.extend(b);
                out.push(0);
                out
            },
            K::SizedNotConsumed { declared: 146, unused: 1 }),
        parse("tpm2b_attest_size_one_less", T::Tpm2bAttest,
            "TPM2B_ATTEST size one less than its TPMS_ATTEST",
            || {
                let b = sample().bytes;
                let mut out = be16(u16::try_from(b.len() - 1).unwrap()).to_vec();
                out.extend(b);
                out
            },
            K::Truncated { needed: 32, available: 31 }),
        parse("tpm2b_attest_size_above_max", T::Tpm2bAttest,
            "TPM2B_ATTEST size above sizeof(TPMS_ATTEST)",
            || {
                let mut out = be16(u16::try_from(max::ATTEST + 1).unwrap()).to_vec();
                out.extend(sample().bytes);
                out
            },
            K::SizeAboveMax { size: max::ATTEST + 1, max: max::ATTEST }),
        // ===== Parser: TPMT_SIGNATURE =====
        parse("signature_empty", T::Signature, "no bytes at all",
            Vec::new,
            K::Truncated { needed: 2, available: 0 }),
        parse("signature_alg_unassigned", T::Signature, "sigAlg 0x0099, not assigned",
            || splice(dummy_rsa_sig(), 0, 2, &be16(0x0099)),
            K::UnknownValue { value: 0x99 }),
        parse("signature_alg_rsa", T::Signature, "sigAlg TPM_ALG_RSA, a key type and not a scheme",
            || splice(dummy_rsa_sig(), 0, 2, &be16(0x0001)),
            K::UnknownValue { value: 0x01 }),
        parse("signature_alg_sha256", T::Signature,
            "sigAlg TPM_ALG_SHA256, a hash and not a scheme",
            || splice(dummy_rsa_sig(), 0, 2, &be16(0x000b)),
            K::UnknownValue { value: 0x0b }),
        parse("signature_alg_ecdaa", T::Signature, "sigAlg ECDAA, defined but not implemented",
            || splice(dummy_ecdsa_sig(), 0, 2, &be16(0x001a)),
            K::Unsupported { value: 0x1a }),
        parse("signature_alg_sm2", T::Signature, "sigAlg SM2, defined but not implemented",
            || splice(dummy_ecdsa_sig(), 0, 2, &be16(0x001b)),
            K::Unsupported { value: 0x1b }),
        parse("signature_alg_ecschnorr", T::Signature,
            "sigAlg ECSCHNORR, defined but not implemented",
            || splice(dummy_ecdsa_sig(), 0, 2, &be16(0x001c)),
            K::Unsupported { value: 0x1c }),
        parse("signature_rsa_hash_null", T::Signature,
            "RSASSA signature whose hash is TPM_ALG_NULL",
            || splice(dummy_rsa_sig(), 2, 2, &be16(0x0010)),
            K::UnknownValue { value: 0x10 }),
        parse("signature_rsa_size_513", T::Signature,
            "RSA signature of 513 bytes, TPM2B_PUBLIC_KEY_RSA holds 512",
            || splice(dummy_rsa_sig(), 4, 2 + 256, &tpm2b_of(513, 0x5a)),
            K::SizeAboveMax { size: 513, max: 512 }),
        parse("signature_rsa_beyond_data", T::Signature,
            "RSA signature declares 256 bytes, 255 are present",
            || { let mut b = dummy_rsa_sig(); b.pop(); b },
            K::Truncated { needed: 256, available: 255 }),
        parse("signature_ecdsa_r_129", T::Signature,
            "ECDSA r of 129 bytes, TPM2B_ECC_PARAMETER holds 128",
            || splice(dummy_ecdsa_sig(), 4, 2 + 32, &tpm2b_of(129, 0x11)),
            K::SizeAboveMax { size: 129, max: 128 }),
        parse("signature_hmac_digest_short", T::Signature,
            "HMAC SHA-256 signature with 31 digest bytes",
            || RawSig::Hmac { hash: HashAlg::Sha256, digest: vec![0x33; 32] }.to_bytes()[..35].to_vec(),
            K::Truncated { needed: 32, available: 31 }),
        parse("signature_trailing_byte", T::Signature, "one byte after a complete RSASSA signature",
            || { let mut b = dummy_rsa_sig(); b.push(0); b },
            K::TrailingBytes { count: 1 }),
        // ===== Parser: TPM2B_PUBLIC / TPMT_PUBLIC =====
        parse("public_size_one_more", T::Tpm2bPublic,
            "TPM2B_PUBLIC size one more than its TPMT_PUBLIC (one spare byte inside)",
            || {
                let mut b = rsa_public_with(|_| {});
                let n = read16(&b, 0) + 1;
                b.splice(0..2, be16(n as u16));
                b.push(0);
                b
            },
            K::SizedNotConsumed { declared: 281, unused: 1 }),
        parse("public_size_one_less", T::Tpm2bPublic,
            "TPM2B_PUBLIC size one less than its TPMT_PUBLIC",
            || {
                let mut b = rsa_public_with(|_| {});
                let n = read16(&b, 0) - 1;
                b.splice(0..2, be16(n as u16));
                b
            },
            K::Truncated { needed: 256, available: 255 }),
        parse("public_size_above_max", T::Tpm2bPublic,
            "TPM2B_PUBLIC size above sizeof(TPMT_PUBLIC)",
            || {
                let mut b = rsa_public_with(|_| {});
                b.splice(0..2, be16(u16::try_from(max::PUBLIC + 1).unwrap()));
                b
            },
            K::SizeAboveMax { size: max::PUBLIC + 1, max: max::PUBLIC }),
        parse("public_size_beyond_data", T::Tpm2bPublic,
            "TPM2B_PUBLIC declares 280 bytes, 279 are present",
            || { let mut b = rsa_public_with(|_| {}); b.pop(); b },
            K::Truncated { needed: 280, available: 279 }),
        parse("public_type_unassigned", T::Tpm2bPublic, "TPMT_PUBLIC.type 0x0099",
            || rsa_public_with(|a| { a.splice(0..2, be16(0x0099)); }),
            K::UnknownValue { value: 0x99 }),
        parse("public_type_hmac", T::Tpm2bPublic,
            "TPMT_PUBLIC.type TPM_ALG_HMAC, not an object type",
            || rsa_public_with(|a| { a.splice(0..2, be16(0x0005)); }),
            K::UnknownValue { value: 0x05 }),
        parse("public_name_alg_unassigned", T::Tpm2bPublic, "nameAlg 0x0099",
            || rsa_public_with(|a| { a.splice(2..4, be16(0x0099)); }),
            K::UnknownValue { value: 0x99 }),
        parse("public_reserved_attribute_bit_0", T::Tpm2bPublic, "TPMA_OBJECT reserved bit 0 set",
            || rsa_public_with(|a| { put32(a, rsa_at::ATTRIBUTES, AK_ATTRIBUTES | 1); }),
            K::InvalidValue { value: 1 }),
        parse("public_reserved_attribute_bit_3", T::Tpm2bPublic, "TPMA_OBJECT reserved bit 3 set",
            || rsa_public_with(|a| { put32(a, rsa_at::ATTRIBUTES, AK_ATTRIBUTES | 1 << 3); }),
            K::InvalidValue { value: 1 << 3 }),
        parse("public_reserved_attribute_bit_31", T::Tpm2bPublic, "TPMA_OBJECT reserved bit 31 set",
            || rsa_public_with(|a| { put32(a, rsa_at::ATTRIBUTES, AK_ATTRIBUTES | 1 << 31); }),
            K::InvalidValue { value: 1 << 31 }),
        parse("public_symmetric_unassigned", T::Tpm2bPublic, "symmetric algorithm 0x0099",
            || rsa_public_with(|a| { put16(a, rsa_at::SYMMETRIC, 0x0099); }),
            K::UnknownValue { value: 0x99 }),
        parse("public_rsa_scheme_ecdsa", T::Tpm2bPublic, "RSA key whose scheme is ECDSA",
            || rsa_public_with(|a| { put16(a, rsa_at::SCHEME, 0x0018); }),
            K::UnknownValue { value: 0x18 }),
        parse("public_rsa_scheme_hash_null", T::Tpm2bPublic,
            "RSASSA scheme whose hash is TPM_ALG_NULL",
            || rsa_public_with(|a| { put16(a, rsa_at::SCHEME_HASH, 0x0010); }),
            K::UnknownValue { value: 0x10 }),
        parse("public_rsa_modulus_513", T::Tpm2bPublic,
            "RSA modulus of 513 bytes, TPM2B_PUBLIC_KEY_RSA holds 512",
            || rsa_public_with(|a| { a.truncate(rsa_at::UNIQUE); a.extend(tpm2b_of(513, 0xc3)); }),
            K::SizeAboveMax { size: 513, max: 512 }),
        parse("public_ecc_scheme_rsassa", T::Tpm2bPublic, "ECC key whose scheme is RSASSA",
            || ecc_public_with(|a| { put16(a, ecc_at::SCHEME, 0x0014); }),
            K::UnknownValue { value: 0x14 }),
        parse("public_ecc_kdf_unassigned", T::Tpm2bPublic, "ECC KDF scheme 0x0099",
            || ecc_public_with(|a| { put16(a, ecc_at::KDF, 0x0099); }),
            K::UnknownValue { value: 0x99 }),
        parse("public_ecc_x_129", T::Tpm2bPublic,
            "ECC x of 129 bytes, TPM2B_ECC_PARAMETER holds 128",
            || ecc_public_with(|a| { a.truncate(ecc_at::X); a.extend(tpm2b_of(129, 0x44)); a.extend(tpm2b_of(32, 0x55)); }),
            K::SizeAboveMax { size: 129, max: 128 }),
        parse("public_trailing_byte", T::Tpm2bPublic, "one byte after a complete TPM2B_PUBLIC",
            || { let mut b = rsa_public_with(|_| {}); b.push(0); b },
            K::TrailingBytes { count: 1 }),
        parse("tpmt_public_trailing_byte", T::TpmtPublic, "one byte after a complete TPMT_PUBLIC",
            || { let mut b = rsa_area(); b.push(0); b },
            K::TrailingBytes { count: 1 }),
        // ===== Parser: TPML_PCR_SELECTION / TPML_DIGEST =====
        parse("pcr_selection_count_17", T::PcrSelection, "count 17, at most 16 banks",
            || splice(two_bank_selection(), 0, 4, &be32(17)),
            K::CountAboveMax { count: 17, max: 8 }),
        parse("pcr_selection_count_u32_max", T::PcrSelection, "count 0xFFFFFFFF",
            || splice(two_bank_selection(), 0, 4, &be32(u32::MAX)),
            K::CountAboveMax { count: 0xffff_ffff, max: 8 }),
        parse("pcr_selection_count_beyond_data", T::PcrSelection, "count 3, two banks present",
            || splice(two_bank_selection(), 0, 4, &be32(3)),
            K::Truncated { needed: 2, available: 0 }),
        parse("pcr_selection_second_bank_index_24", T::PcrSelection, "second bank selects PCR 24",
            || { let mut b = two_bank_selection(); b[4 + 6 + 2] = 4; b.push(0x01); b },
            K::PcrIndexOutOfRange { index: 24 }),
        parse("digests_count_9", T::Digests, "TPML_DIGEST count 9, at most 8",
            || splice(three_digests(), 0, 4, &be32(9)),
            K::CountAboveMax { count: 9, max: 8 }),
        parse("digests_count_u32_max", T::Digests, "TPML_DIGEST count 0xFFFFFFFF",
            || splice(three_digests(), 0, 4, &be32(u32::MAX)),
            K::CountAboveMax { count: 0xffff_ffff, max: 8 }),
        parse("digests_digest_65", T::Digests, "a digest of 65 bytes, TPM2B_DIGEST holds 64",
            || splice(three_digests(), 4, 2 + 32, &tpm2b_of(65, 0x77)),
            K::SizeAboveMax { size: 65, max: 64 }),
        // ===== Parser sweeps =====
        sweep("sweep_attest_every_prefix", sweep_attest_prefixes),
        sweep("sweep_signature_every_prefix", sweep_signature_prefixes),
        sweep("sweep_public_every_prefix", sweep_public_prefixes),
        sweep("sweep_lists_every_prefix", sweep_list_prefixes),

        // ===== Quote: positive controls =====
        accept("ok_rsassa_sha256", rsa),
        accept("ok_rsassa_sha384", || {
            let mut f = rsa();
            f.ak_scheme = AkScheme::RsaSsa(HashAlg::Sha384);
            f.sig = SigScheme::RsaSsa(HashAlg::Sha384);
            f
        }),
        // tpm2_checkquote 5.4 refuses genuine RSA-PSS quotes from swtpm; the TPM's salt length
        // (the digest size) must be accepted.
        accept("ok_rsapss_sha256_salt_32", || rsa().rsa_pss(HashAlg::Sha256)),
        // TPM 2.0 Part 1 B.7: a non-FIPS TPM salts with the largest length key and hash allow.
        accept("ok_rsapss_sha256_salt_max", || {
            let mut f = rsa().rsa_pss(HashAlg::Sha256);
            f.sig = SigScheme::RsaPss { hash: HashAlg::Sha256, salt: 256 - 32 - 2 };
            f
        }),
        accept("ok_rsapss_sha256_salt_zero", || {
            let mut f = rsa().rsa_pss(HashAlg::Sha256);
            f.sig = SigScheme::RsaPss { hash: HashAlg::Sha256, salt: 0 };
            f
        }),
        accept("ok_ecdsa_p256_sha256", ecc),
        accept("ok_ecdsa_p256_sha384", || {
            let mut f = ecc();
            f.ak_scheme = AkScheme::Ecdsa(HashAlg::Sha384);
            f.sig = SigScheme::Ecdsa(HashAlg::Sha384);
            f
        }),
        accept("ok_ecdsa_p384_sha384", || QuoteForge::new(TestKey::P384)),
        accept("ok_ecdsa_p384_sha256", || {
            let mut f = QuoteForge::new(TestKey::P384);
            f.ak_scheme = AkScheme::Ecdsa(HashAlg::Sha256);
            f.sig = SigScheme::Ecdsa(HashAlg::Sha256);
            f
        }),
        accept("ok_ak_as_spki_pem_p384", || {
            let mut f = QuoteForge::new(TestKey::P384);
            f.ak_form = AkForm::SpkiPem;
            f
        }),
        accept("ok_ak_as_tpmt_public", || { let mut f = rsa(); f.ak_form = AkForm::TpmtPublic; f }),
        accept("ok_ak_as_spki_pem_rsa", || { let mut f = rsa(); f.ak_form = AkForm::SpkiPem; f }),
        accept("ok_ak_as_spki_der_p256", || { let mut f = ecc(); f.ak_form = AkForm::SpkiDer; f }),
        accept("ok_two_banks", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[0, 1, 2, 3, 4, 5, 6, 7]), (HashAlg::Sha384, &[0, 23])]);
            f
        }),
        accept("ok_empty_nonce_when_allowed", || {
            let mut f = rsa();
            f.extra_data.clear();
            f.nonce.clear();
            f.policy.allow_empty_nonce = true;
            f
        }),
        // SHA-1 next to SHA-256 is what `tpm2_quote -l sha1:...+sha256:...` makes: every bank
        // is checked, the SHA-256 one carries the proof, no permission is needed.
        accept("ok_sha1_bank_next_to_sha256", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha1, &[0, 1]), (HashAlg::Sha256, &[0])]);
            f
        }),
        accept("ok_sha1_only_bank_when_allowed", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha1, &[0, 1])]);
            f.policy.allow_sha1_banks = true;
            f
        }),
        accept("ok_sha1_signature_when_allowed", || {
            let mut f = rsa();
            f.ak_scheme = AkScheme::RsaSsa(HashAlg::Sha1);
            f.sig = SigScheme::RsaSsa(HashAlg::Sha1);
            f.policy.allow_sha1_signature = true;
            f
        }),
        accept("ok_qualified_signer_endorsement", || {
            let mut f = rsa();
            f.parent_qn = Some(ENDORSEMENT_QN.to_vec());
            f
        }),
        accept("ok_qualified_signer_endorsement_p256", || {
            let mut f = ecc();
            f.parent_qn = Some(ENDORSEMENT_QN.to_vec());
            f
        }),
        accept("ok_after_previous_quote_same_boot", || {
            let mut f = rsa();
            f.previous = Some(TpmsClockInfo { clock: 4_000_000, ..default_clock() });
            f
        }),
        accept("ok_safe_clock_when_required", || {
            let mut f = rsa();
            f.policy.require_safe_clock = true;
            f
        }),

        // ===== Quote: magic and attestation type =====
        // CVE-2024-29038: tpm2_checkquote 5.4 accepts a signed structure without the magic.
        reject("magic_zero_signed", || { let mut f = rsa(); f.magic = 0; f },
            V::NotTpmGenerated { magic: 0 }),
        reject("magic_other_signed", || { let mut f = ecc(); f.magic = 0xff54_4348; f },
            V::NotTpmGenerated { magic: 0xff54_4348 }),
        reject("magic_zeroed_after_signing", || {
            let mut f = rsa();
            f.after_signing = Some(|a| a[..4].fill(0));
            f
        }, V::BadSignature),
        // tpm2_checkquote before 5.8 took an NV-certify attestation for a quote.
        reject("type_certify", || other_kind(AttestKind::Certify),
            V::NotAQuote { type_name: "TPM_ST_ATTEST_CERTIFY" }),
        reject("type_nv_certify", || other_kind(AttestKind::Nv),
            V::NotAQuote { type_name: "TPM_ST_ATTEST_NV" }),
        reject("type_nv_digest", || other_kind(AttestKind::NvDigest),
            V::NotAQuote { type_name: "TPM_ST_ATTEST_NV_DIGEST" }),
        reject("type_creation", || other_kind(AttestKind::Creation),
            V::NotAQuote { type_name: "TPM_ST_ATTEST_CREATION" }),
        reject("type_time", || other_kind(AttestKind::Time),
            V::NotAQuote { type_name: "TPM_ST_ATTEST_TIME" }),
        reject("type_session_audit", || other_kind(AttestKind::SessionAudit),
            V::NotAQuote { type_name: "TPM_ST_ATTEST_SESSION_AUDIT" }),
        reject("type_command_audit", || other_kind(AttestKind::CommandAudit),
            V::NotAQuote { type_name: "TPM_ST_ATTEST_COMMAND_AUDIT" }),
        // libtss2-mu ignores trailing bytes; here they are refused even under a good signature.
        reject("attest_trailing_byte_signed", || {
            let mut f = rsa();
            f.before_signing = Some(|a| a.push(0));
            f
        }, V::AttestUnreadable(wire::Error::new(K::TrailingBytes { count: 1 }, "trailing data", 145))),

        // ===== Quote: nonce =====
        // AICert quotes without a nonce, so its quotes can be replayed.
        reject("nonce_expected_empty", || {
            let mut f = rsa();
            f.nonce.clear();
            f.extra_data.clear();
            f
        }, V::EmptyExpectedNonce),
        reject("nonce_extra_data_empty", || { let mut f = rsa(); f.extra_data.clear(); f },
            V::NonceMismatch),
        reject("nonce_extra_data_empty_when_empty_allowed", || {
            let mut f = rsa();
            f.extra_data.clear();
            f.policy.allow_empty_nonce = true;
            f
        }, V::NonceMismatch),
        reject("nonce_expected_empty_allowed_extra_data_present", || {
            let mut f = rsa();
            f.nonce.clear();
            f.policy.allow_empty_nonce = true;
            f
        }, V::NonceMismatch),
        reject("nonce_expected_is_prefix_of_extra_data", || {
            let mut f = rsa();
            f.extra_data.extend([0u8; 8]);
            f
        }, V::NonceMismatch),
        reject("nonce_extra_data_is_prefix_of_expected", || {
            let mut f = rsa();
            f.extra_data.truncate(16);
            f
        }, V::NonceMismatch),
        reject("nonce_extra_data_longer", || {
            let mut f = rsa();
            f.extra_data = vec![0x42; 66];
            f
        }, V::NonceMismatch),
        reject("nonce_one_bit_flipped", || { let mut f = rsa(); f.extra_data[31] ^= 0x01; f },
            V::NonceMismatch),
        sweep("sweep_nonce_each_byte_flipped", sweep_nonce_bytes),

        // ===== Quote: qualified signer =====
        reject("qualified_signer_other_hierarchy", || {
            let mut f = rsa();
            f.qualified_signer = Some(qualified_name(&OWNER_QN, &f.ak_area()));
            f.parent_qn = Some(ENDORSEMENT_QN.to_vec());
            f
        }, V::QualifiedSignerMismatch),
        reject("qualified_signer_expected_other_parent", || {
            let mut f = rsa();
            f.parent_qn = Some(OWNER_QN.to_vec());
            f
        }, V::QualifiedSignerMismatch),
        reject("qualified_signer_is_plain_name", || {
            let mut f = rsa();
            f.qualified_signer = Some(common::forge::name_of(&f.ak_area()));
            f.parent_qn = Some(ENDORSEMENT_QN.to_vec());
            f
        }, V::QualifiedSignerMismatch),
        reject("qualified_signer_empty", || {
            let mut f = rsa();
            f.qualified_signer = Some(Vec::new());
            f.parent_qn = Some(ENDORSEMENT_QN.to_vec());
            f
        }, V::QualifiedSignerMismatch),
        reject("qualified_signer_needs_tpm_public", || {
            let mut f = rsa();
            f.ak_form = AkForm::SpkiPem;
            f.parent_qn = Some(ENDORSEMENT_QN.to_vec());
            f
        }, V::AkNameUnknown),

        // ===== Quote: PCR selection =====
        reject("selection_given_subset", || {
            let mut f = rsa();
            f.given = Some(PcrSet::of(&[(HashAlg::Sha256, &[0, 1])]));
            f
        }, V::SelectionMismatch),
        reject("selection_given_superset", || {
            let mut f = rsa();
            f.given = Some(PcrSet::of(&[(HashAlg::Sha256, &[0, 1, 7, 8])]));
            f
        }, V::SelectionMismatch),
        reject("selection_other_index_same_value", || {
            // CVE-2024-29039: the quote covers sha256:14, the values claim sha256:15.
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[14])]);
            with_given(&mut f, |g| g.selection = selection_of(&[(HashAlg::Sha256, &[15])]));
            f
        }, V::SelectionMismatch),
        reject("selection_other_bank_same_value", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[0])]);
            with_given(&mut f, |g| g.selection = selection_of(&[(HashAlg::Sha3_256, &[0])]));
            f
        }, V::SelectionMismatch),
        reject("selection_banks_reordered", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[0]), (HashAlg::Sha384, &[0])]);
            f.given = Some(PcrSet::of(&[(HashAlg::Sha384, &[0]), (HashAlg::Sha256, &[0])]));
            f
        }, V::SelectionMismatch),
        reject("selection_given_extra_empty_bank", || {
            let mut f = rsa();
            with_given(&mut f, |g| g.selection.push(TpmsPcrSelection::new(HashAlg::Sha384, &[]).unwrap()).unwrap());
            f
        }, V::SelectionMismatch),
        // go-attestation CVE-2022-0317: a quote over zero PCRs passed.
        reject("selection_empty_list", || { let mut f = rsa(); f.quoted = PcrSet::default(); f },
            V::NoPcrsSelected),
        reject("selection_empty_bitmap", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[])]);
            f
        }, V::NoPcrsSelected),
        reject("duplicate_bank_in_quote", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[0, 1]), (HashAlg::Sha256, &[7])]);
            f
        }, V::DuplicateBank(HashAlg::Sha256)),
        reject("duplicate_bank_in_given_values", || {
            // Same PCRs and same concatenation as the quote; only the listing differs.
            let mut f = rsa();
            f.given = Some(PcrSet::of(&[(HashAlg::Sha256, &[0, 1]), (HashAlg::Sha256, &[7])]));
            f
        }, V::DuplicateBank(HashAlg::Sha256)),
        reject("sha1_bank_refused", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha1, &[0, 1, 7])]);
            f
        }, V::Sha1BankNotAllowed),
        reject("sha1_bank_with_empty_sha256_bank_refused", || {
            // A SHA-256 bank that selects nothing does not make the selection strong.
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[]), (HashAlg::Sha1, &[0])]);
            f
        }, V::Sha1BankNotAllowed),
        reject("sha1_only_bank_refused_with_sha1_signatures_allowed", || {
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha1, &[0, 1, 7])]);
            f.policy.allow_sha1_signature = true;
            f
        }, V::Sha1BankNotAllowed),

        // ===== Quote: PCR values and digest =====
        reject("pcr_values_reordered", || {
            let mut f = rsa();
            with_given(&mut f, |g| g.values.swap(0, 1));
            f
        }, V::PcrDigestMismatch),
        reject("pcr_value_changed", || {
            let mut f = rsa();
            with_given(&mut f, |g| g.values[2][0] ^= 0x80);
            f
        }, V::PcrDigestMismatch),
        reject("pcr_value_too_short", || {
            let mut f = rsa();
            with_given(&mut f, |g| g.values[1].truncate(20));
            f
        }, V::PcrValueLength { bank: HashAlg::Sha256, index: 1, len: 20 }),
        reject("pcr_value_too_long", || {
            let mut f = rsa();
            with_given(&mut f, |g| g.values[2].resize(48, 0));
            f
        }, V::PcrValueLength { bank: HashAlg::Sha256, index: 7, len: 48 }),
        reject("pcr_values_too_few", || {
            let mut f = rsa();
            with_given(&mut f, |g| { g.values.pop(); });
            f
        }, V::PcrValueCount { got: 2, expected: 3 }),
        reject("pcr_values_too_many", || {
            let mut f = rsa();
            with_given(&mut f, |g| g.values.push(pcr_value(HashAlg::Sha256, 8)));
            f
        }, V::PcrValueCount { got: 4, expected: 3 }),
        reject("pcr_digest_with_bank_hash", || {
            // The quoted bank is SHA-384 but pcrDigest must use the signing hash (SHA-256).
            let mut f = rsa();
            f.quoted = PcrSet::of(&[(HashAlg::Sha384, &[0, 1])]);
            let parts: Vec<&[u8]> = f.quoted.values.iter().map(Vec::as_slice).collect();
            f.pcr_digest = Some(hash(HashAlg::Sha384, &parts));
            f
        }, V::PcrDigestMismatch),
        reject("pcr_digest_truncated", || {
            let mut f = rsa();
            let parts: Vec<&[u8]> = f.quoted.values.iter().map(Vec::as_slice).collect();
            f.pcr_digest = Some(hash(HashAlg::Sha256, &parts)[..20].to_vec());
            f
        }, V::PcrDigestMismatch),

        // ===== Quote: signature scheme and hash =====
        reject("sig_rsapss_for_rsassa_ak", || {
            let mut f = rsa();
            f.sig = SigScheme::pss(HashAlg::Sha256);
            f
        }, V::SignatureSchemeMismatch { key_scheme: TpmAlgId::RSASSA, signature: TpmAlgId::RSAPSS }),
        reject("sig_rsassa_for_rsapss_ak", || {
            let mut f = rsa().rsa_pss(HashAlg::Sha256);
            f.sig = SigScheme::RsaSsa(HashAlg::Sha256);
            f
        }, V::SignatureSchemeMismatch { key_scheme: TpmAlgId::RSAPSS, signature: TpmAlgId::RSASSA }),
        reject("sig_sha384_for_sha256_ak", || {
            let mut f = rsa();
            f.sig = SigScheme::RsaSsa(HashAlg::Sha384);
            f
        }, V::SignatureHashMismatch { key_hash: HashAlg::Sha256, signature: HashAlg::Sha384 }),
        reject("sig_ecdsa_sha384_for_sha256_ak", || {
            let mut f = ecc();
            f.sig = SigScheme::Ecdsa(HashAlg::Sha384);
            f
        }, V::SignatureHashMismatch { key_hash: HashAlg::Sha256, signature: HashAlg::Sha384 }),
        reject("sig_ecdsa_for_rsa_key", || {
            let mut f = rsa();
            f.sig = SigScheme::Ecdsa(HashAlg::Sha256);
            f.signer = TestKey::P256;
            f
        }, V::SignatureAlgorithmMismatch { key: TpmAlgId::RSA, signature: TpmAlgId::ECDSA }),
        reject("sig_rsassa_for_ecc_key", || {
            let mut f = ecc();
            f.sig = SigScheme::RsaSsa(HashAlg::Sha256);
            f.signer = TestKey::Rsa2048;
            f
        }, V::SignatureAlgorithmMismatch { key: TpmAlgId::ECC, signature: TpmAlgId::RSASSA }),
        reject("sig_hmac", || { let mut f = rsa(); f.sig = SigScheme::Hmac(HashAlg::Sha256); f },
            V::SignatureAlgorithmMismatch { key: TpmAlgId::RSA, signature: TpmAlgId::HMAC }),
        reject("sig_hmac_for_ecc_key", || {
            let mut f = ecc();
            f.sig = SigScheme::Hmac(HashAlg::Sha256);
            f
        }, V::SignatureAlgorithmMismatch { key: TpmAlgId::ECC, signature: TpmAlgId::HMAC }),
        reject("sig_null", || { let mut f = rsa(); f.sig = SigScheme::Null; f },
            V::SignatureAlgorithmMismatch { key: TpmAlgId::RSA, signature: TpmAlgId::NULL }),
        reject("sig_sha1_not_allowed", || {
            let mut f = rsa();
            f.ak_scheme = AkScheme::RsaSsa(HashAlg::Sha1);
            f.sig = SigScheme::RsaSsa(HashAlg::Sha1);
            f
        }, V::Sha1SignatureNotAllowed),
        reject("sig_sha1_refused_with_sha1_banks_allowed", || {
            let mut f = rsa();
            f.ak_scheme = AkScheme::RsaSsa(HashAlg::Sha1);
            f.sig = SigScheme::RsaSsa(HashAlg::Sha1);
            f.quoted = PcrSet::of(&[(HashAlg::Sha1, &[0]), (HashAlg::Sha256, &[0])]);
            f.policy.allow_sha1_banks = true;
            f
        }, V::Sha1SignatureNotAllowed),
        reject("sig_ecdaa_unreadable", || {
            let mut f = ecc();
            f.sig_bytes_patch = Some(|s| s[..2].copy_from_slice(&[0x00, 0x1a]));
            f
        }, V::SignatureUnreadable(wire::Error::new(K::Unsupported { value: 0x1a }, "TPMT_SIGNATURE.sigAlg", 0))),
        reject("sig_trailing_byte", || {
            let mut f = rsa();
            f.sig_bytes_patch = Some(|s| s.push(0));
            f
        }, V::SignatureUnreadable(wire::Error::new(K::TrailingBytes { count: 1 }, "trailing data", 262))),

        // ===== Quote: RSA signature =====
        reject("rsa_sig_one_byte_short", || {
            let mut f = rsa();
            f.sig_patch = Some(|s| if let RawSig::Rsa { sig, .. } = s { sig.remove(0); });
            f
        }, V::RsaSignatureLength { got: 255, expected: 256 }),
        reject("rsa_sig_one_byte_long_leading_zero", || {
            let mut f = rsa();
            f.sig_patch = Some(|s| if let RawSig::Rsa { sig, .. } = s { sig.insert(0, 0); });
            f
        }, V::RsaSignatureLength { got: 257, expected: 256 }),
        reject("rsa_sig_byte_flipped", || {
            let mut f = rsa();
            f.sig_patch = Some(|s| if let RawSig::Rsa { sig, .. } = s { sig[100] ^= 0x04; });
            f
        }, V::BadSignature),
        reject("rsapss_salt_max_flipped", || {
            let mut f = rsa().rsa_pss(HashAlg::Sha256);
            f.sig = SigScheme::RsaPss { hash: HashAlg::Sha256, salt: 256 - 32 - 2 };
            f.sig_patch = Some(|s| if let RawSig::Rsa { sig, .. } = s { sig[7] ^= 0x01; });
            f
        }, V::BadSignature),
        reject("rsapss_signed_over_other_bytes", || {
            let mut f = rsa().rsa_pss(HashAlg::Sha256);
            f.sig = SigScheme::RsaPss { hash: HashAlg::Sha256, salt: 256 - 32 - 2 };
            f.after_signing = Some(|a| { let n = a.len(); a[n - 1] ^= 0x01; });
            f
        }, V::BadSignature),
        // Keylime CVE-2023-3674: a bad signature must be an error, not a log line.
        reject("attest_byte_flipped_after_signing", || {
            let mut f = rsa();
            f.after_signing = Some(|a| { let n = a.len(); a[n - 1] ^= 0x01; });
            f
        }, V::BadSignature),
        reject("attest_byte_flipped_after_signing_ecdsa", || {
            let mut f = ecc();
            f.after_signing = Some(|a| a[60] ^= 0x10);
            f
        }, V::BadSignature),
        sweep("sweep_signed_attest_each_byte_flipped", sweep_attest_flips),

        // ===== Quote: ECDSA scalars =====
        reject("ecdsa_r_zero", || {
            let mut f = ecc();
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { r, .. } = s { *r = vec![0; 32]; });
            f
        }, V::EcdsaScalarOutOfRange),
        reject("ecdsa_s_zero", || {
            let mut f = ecc();
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { s, .. } = s { *s = vec![0; 32]; });
            f
        }, V::EcdsaScalarOutOfRange),
        reject("ecdsa_r_empty", || {
            let mut f = ecc();
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { r, .. } = s { r.clear(); });
            f
        }, V::EcdsaScalarOutOfRange),
        reject("ecdsa_r_equals_n", || {
            let mut f = ecc();
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { r, .. } = s { *r = P256_N.to_vec(); });
            f
        }, V::EcdsaScalarOutOfRange),
        reject("ecdsa_s_equals_n", || {
            let mut f = ecc();
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { s, .. } = s { *s = P256_N.to_vec(); });
            f
        }, V::EcdsaScalarOutOfRange),
        reject("ecdsa_s_above_n", || {
            let mut f = ecc();
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { s, .. } = s { *s = vec![0xff; 32]; });
            f
        }, V::EcdsaScalarOutOfRange),
        reject("ecdsa_r_33_bytes", || {
            let mut f = ecc();
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { r, .. } = s { r.insert(0, 0x01); });
            f
        }, V::EcdsaScalarOutOfRange),

        // ===== Quote: the attestation key =====
        reject("rsa_key_1024", || QuoteForge::new(TestKey::Rsa1024),
            V::RsaKeyTooSmall { bits: 1024, min: 2048 }),
        reject("rsa_key_1024_spki", || {
            let mut f = QuoteForge::new(TestKey::Rsa1024);
            f.ak_form = AkForm::SpkiPem;
            f
        }, V::RsaKeyTooSmall { bits: 1024, min: 2048 }),
        reject("rsa_exponent_3", || QuoteForge::new(TestKey::Rsa2048E3),
            V::RsaExponentRejected { exponent: 3 }),
        reject("rsa_exponent_3_spki", || {
            let mut f = QuoteForge::new(TestKey::Rsa2048E3);
            f.ak_form = AkForm::SpkiPem;
            f
        }, V::RsaExponentRejected { exponent: 3 }),
        reject("rsa_exponent_1", || {
            let mut f = rsa();
            f.ak_patch = Some(|a| put32(a, rsa_at::EXPONENT, 1));
            f
        }, V::RsaExponentRejected { exponent: 1 }),
        reject("rsa_exponent_even", || {
            let mut f = rsa();
            f.ak_patch = Some(|a| put32(a, rsa_at::EXPONENT, 65538));
            f
        }, V::RsaExponentRejected { exponent: 65538 }),
        reject("rsa_exponent_1_spki", || {
            let mut f = rsa();
            f.ak_form = AkForm::SpkiDer;
            f.ak_bytes_patch = Some(|d| *d = rsa_spki_der_with_exponent(TestKey::Rsa2048, 1));
            f
        }, V::RsaExponentRejected { exponent: 1 }),
        reject("rsa_key_bits_declared_4096", || {
            let mut f = rsa();
            f.ak_patch = Some(|a| put16(a, rsa_at::KEY_BITS, 4096));
            f
        }, V::RsaKeyBitsMismatch { declared: 4096, actual: 2048 }),
        // AICert's simulated AK is unrestricted: it could sign a forged TPMS_ATTEST.
        reject("ak_not_restricted", || without_attribute(TpmaObject::RESTRICTED),
            V::AkNotRestricted),
        reject("ak_not_restricted_p256", || {
            let mut f = ecc();
            f.ak_attributes &= !TpmaObject::RESTRICTED;
            f
        }, V::AkNotRestricted),
        reject("ak_not_sign", || without_attribute(TpmaObject::SIGN_ENCRYPT),
            V::AkNotSigning),
        reject("ak_not_fixed_tpm", || without_attribute(TpmaObject::FIXED_TPM),
            V::AkNotFixedTpm),
        reject("ak_not_fixed_parent", || without_attribute(TpmaObject::FIXED_PARENT),
            V::AkNotFixedParent),
        reject("ak_decrypt_set", || {
            let mut f = rsa();
            f.ak_attributes |= TpmaObject::DECRYPT;
            f
        }, V::AkDecryptSet),
        reject("ecc_point_not_on_curve", || {
            let mut f = ecc();
            f.ak_patch = Some(|a| { let n = a.len(); a[n - 10] ^= 0x40; });
            f
        }, V::EccPointInvalid),
        reject("ecc_point_x_33_bytes", || {
            let mut f = ecc();
            f.ak_patch = Some(|a| { a.splice(ecc_at::X..ecc_at::X + 2, [0x00, 33, 0x01]); });
            f
        }, V::EccPointInvalid),
        reject("ecc_point_not_on_curve_spki", || {
            let mut f = ecc();
            f.ak_form = AkForm::SpkiDer;
            f.ak_bytes_patch = Some(|d| { let n = d.len(); d[n - 10] ^= 0x40; });
            f
        }, V::EccPointInvalid),
        reject("ecc_curve_p521", || {
            let mut f = ecc();
            f.ak_patch = Some(|a| put16(a, ecc_at::CURVE, 0x0005));
            f
        }, V::EccCurveNotAllowed(TpmEccCurve::NIST_P521)),
        reject("ecdsa_p384_sig_byte_flipped", || {
            let mut f = QuoteForge::new(TestKey::P384);
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { s, .. } = s { s[20] ^= 0x01; });
            f
        }, V::BadSignature),
        reject("ecdsa_p384_scalar_49_bytes", || {
            let mut f = QuoteForge::new(TestKey::P384);
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { r, .. } = s { r.insert(0, 0); });
            f
        }, V::EcdsaScalarOutOfRange),
        reject("ecdsa_p384_sha1_refused", || {
            let mut f = QuoteForge::new(TestKey::P384);
            // The ECDSA crate will not sign a 20-byte digest with P-384: relabel a SHA-384
            // signature, which is refused before any arithmetic.
            f.ak_scheme = AkScheme::Ecdsa(HashAlg::Sha1);
            f.sig_patch = Some(|s| if let RawSig::Ecdsa { hash, .. } = s { *hash = HashAlg::Sha1; });
            f.policy.allow_sha1_signature = true;
            f
        }, V::SignatureHashNotSupported(HashAlg::Sha1)),
        reject("ecc_curve_bn_p256", || {
            let mut f = ecc();
            f.ak_patch = Some(|a| put16(a, ecc_at::CURVE, 0x0010));
            f
        }, V::EccCurveNotAllowed(TpmEccCurve::BN_P256)),

        // ===== Quote: clock against a previous quote =====
        reject("reset_count_changed", || {
            let mut f = rsa();
            f.previous = Some(TpmsClockInfo { reset_count: 3, ..default_clock() });
            f
        }, V::ResetCountChanged { previous: 3, now: 4 }),
        reject("restart_count_changed", || {
            let mut f = rsa();
            f.previous = Some(TpmsClockInfo { restart_count: 1, ..default_clock() });
            f
        }, V::RestartCountChanged { previous: 1, now: 2 }),
        reject("clock_went_back", || {
            let mut f = rsa();
            f.previous = Some(TpmsClockInfo { clock: 5_000_001, ..default_clock() });
            f
        }, V::ClockWentBack { previous: 5_000_001, now: 5_000_000 }),
        reject("clock_not_safe_when_required", || {
            let mut f = rsa();
            f.clock.safe = false;
            f.policy.require_safe_clock = true;
            f
        }, V::ClockNotSafe),
    ]
}

// ---------------------------------------------------------------------------------------------
// Sweeps
// ---------------------------------------------------------------------------------------------

/// Every strict prefix of `bytes` must fail with `Truncated` at an offset inside the prefix.
fn every_prefix_truncated(target: Target, label: &str, bytes: &[u8]) -> Result<usize, String> {
    target.parse(bytes).map_err(|e| {
        format!(
            "{label}: the complete {} does not parse: {e}",
            target.name()
        )
    })?;
    for n in 0..bytes.len() {
        match target.parse(&bytes[..n]) {
            Ok(()) => {
                return Err(format!(
                    "{label}: a {n}-byte prefix of {} bytes parsed as {}",
                    bytes.len(),
                    target.name()
                ))
            }
            Err(e) if matches!(e.kind, ErrorKind::Truncated { .. }) && e.offset <= n => {}
            Err(e) => {
                return Err(format!(
                    "{label}: {n}-byte prefix refused with {e:?}, expected Truncated"
                ))
            }
        }
    }
    Ok(bytes.len())
}

const ALL_KINDS: [AttestKind; 8] = [
    AttestKind::Quote,
    AttestKind::Certify,
    AttestKind::Nv,
    AttestKind::NvDigest,
    AttestKind::Creation,
    AttestKind::Time,
    AttestKind::SessionAudit,
    AttestKind::CommandAudit,
];

fn sweep_attest_prefixes() -> Result<String, String> {
    let mut total = 0;
    for key in [TestKey::Rsa2048, TestKey::P256] {
        for kind in ALL_KINDS {
            let mut f = QuoteForge::new(key);
            f.kind = kind;
            if kind == AttestKind::Quote {
                f.quoted = PcrSet::of(&[(HashAlg::Sha256, &[0, 7]), (HashAlg::Sha1, &[3])]);
            }
            let attest = f.unsigned_attest();
            let label = format!("{key:?} {kind:?}");
            total += every_prefix_truncated(Target::Attest, &label, &attest)?;
            let mut sized = be16(u16::try_from(attest.len()).unwrap()).to_vec();
            sized.extend(&attest);
            total += every_prefix_truncated(Target::Tpm2bAttest, &label, &sized)?;
        }
    }
    Ok(format!(
        "{total} prefixes of 32 attestations refused as Truncated"
    ))
}

fn sweep_signature_prefixes() -> Result<String, String> {
    let sigs = [
        ("RSASSA", dummy_rsa_sig()),
        (
            "RSAPSS",
            RawSig::Rsa {
                pss: true,
                hash: HashAlg::Sha384,
                sig: vec![0x6b; 256],
            }
            .to_bytes(),
        ),
        ("ECDSA", dummy_ecdsa_sig()),
        (
            "HMAC",
            RawSig::Hmac {
                hash: HashAlg::Sha256,
                digest: vec![0x33; 32],
            }
            .to_bytes(),
        ),
        ("NULL", RawSig::Null.to_bytes()),
    ];
    let mut total = 0;
    for (label, bytes) in &sigs {
        total += every_prefix_truncated(Target::Signature, label, bytes)?;
    }
    Ok(format!(
        "{total} prefixes of 5 signatures refused as Truncated"
    ))
}

fn sweep_public_prefixes() -> Result<String, String> {
    let mut total = 0;
    for (label, area) in [("RSA", rsa_area()), ("ECC", ecc_area())] {
        total += every_prefix_truncated(Target::TpmtPublic, label, &area)?;
        total += every_prefix_truncated(Target::Tpm2bPublic, label, &tpm2b_public(&area))?;
    }
    Ok(format!(
        "{total} prefixes of 4 public areas refused as Truncated"
    ))
}

fn sweep_list_prefixes() -> Result<String, String> {
    let mut total = every_prefix_truncated(Target::PcrSelection, "2 banks", &two_bank_selection())?;
    total += every_prefix_truncated(Target::Digests, "3 digests", &three_digests())?;
    Ok(format!("{total} prefixes of 2 lists refused as Truncated"))
}

/// One forged RSA quote, then each byte of its TPMS_ATTEST flipped in turn: every variant
/// must fail the signature check, whatever field the byte belongs to.
fn sweep_attest_flips() -> Result<String, String> {
    let forged = rsa().build();
    let ak = forged.load_ak().map_err(|e| e.to_string())?;
    forged
        .verify_with(&ak, &forged.attest, &forged.sig)
        .map_err(|e| format!("the unmodified quote fails: {e}"))?;
    for i in 0..forged.attest.len() {
        let mut attest = forged.attest.clone();
        attest[i] ^= 0x20;
        match forged.verify_with(&ak, &attest, &forged.sig) {
            Err(VerifyError::BadSignature) => {}
            other => {
                return Err(format!(
                    "byte {i} flipped: got {other:?}, expected BadSignature"
                ))
            }
        }
    }
    Ok(format!("{} one-byte changes refused", forged.attest.len()))
}

/// The expected nonce differing from extraData in any single byte is a mismatch.
fn sweep_nonce_bytes() -> Result<String, String> {
    let mut forged = rsa().build();
    let nonce = forged.nonce.clone();
    for i in 0..nonce.len() {
        forged.nonce = nonce.clone();
        forged.nonce[i] ^= 1 << (i % 8);
        match forged.verify() {
            Err(VerifyError::NonceMismatch) => {}
            other => return Err(format!("nonce byte {i} changed: got {other:?}")),
        }
    }
    Ok(format!("{} nonce variants refused", nonce.len()))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn reject_catalogue() {
    let cases = catalogue();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        panic!("case name {} used twice", w[0]);
    }
    let started = Instant::now();
    let mut failures = Vec::new();
    let (mut parsers, mut quotes, mut controls, mut sweeps) = (0, 0, 0, 0);
    for case in &cases {
        match &case.check {
            Check::Parse { .. } => parsers += 1,
            Check::Quote { want: Ok(()), .. } => controls += 1,
            Check::Quote { .. } => quotes += 1,
            Check::Sweep { .. } => sweeps += 1,
        }
        let t = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| run_case(case))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("PANICKED: {msg}"))
        });
        let ms = t.elapsed().as_millis();
        match outcome {
            Ok(note) => println!("ok   {:<48} {ms:>5} ms  {note}", case.name),
            Err(why) => {
                println!("FAIL {:<48} {ms:>5} ms  {why}", case.name);
                failures.push(format!("{}: {why}", case.name));
            }
        }
    }
    println!(
        "{} cases ({parsers} parser, {quotes} quote rejections, {controls} controls, {sweeps} sweeps) in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(cases.len() >= 40, "the catalogue shrank to {}", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

const WRITE_ENV: &str = "BARETPM_WRITE_BAD_VECTORS";

fn bad_vectors_readme(cases: &[Case]) -> String {
    let mut out = String::from(
        "# Malformed inputs the parsers must refuse\n\
         \n\
         Each `.bin` file here is the input of one parser case of `tests/reject_catalogue.rs`.\n\
         The test `writes_bad_vectors_match` checks that every file equals the bytes its case\n\
         builds and that this list is current; after changing a case, regenerate both with\n\
         `BARETPM_WRITE_BAD_VECTORS=1 cargo test --test reject_catalogue writes_bad_vectors_match`.\n\
         Errors are `baretpm::wire::ErrorKind` values.\n\
         \n\
         | file | parsed as | what is wrong | error expected |\n\
         | --- | --- | --- | --- |\n",
    );
    for case in cases {
        if let Check::Parse {
            target, about, err, ..
        } = &case.check
        {
            let debug = format!("{err:?}");
            let variant = debug.split([' ', '{']).next().unwrap_or_default();
            out.push_str(&format!(
                "| `{}.bin` | {} | {about} | `{variant}`: {err} |\n",
                case.name,
                target.name()
            ));
        }
    }
    out
}

#[test]
fn writes_bad_vectors_match() {
    let cases = catalogue();
    let dir = common::forge::repo_path("vectors/bad");
    let write = std::env::var_os(WRITE_ENV).is_some_and(|v| v == "1");
    let mut problems = Vec::new();
    let mut expected_files = Vec::new();
    for case in &cases {
        let Check::Parse { bytes, .. } = &case.check else {
            continue;
        };
        let file = format!("{}.bin", case.name);
        let path = dir.join(&file);
        let built = bytes();
        expected_files.push(file.clone());
        if write {
            std::fs::write(&path, &built).unwrap();
            continue;
        }
        match std::fs::read(&path) {
            Ok(on_disk) if on_disk == built => {}
            Ok(_) => problems.push(format!("{file}: differs from the bytes the case builds")),
            Err(e) => problems.push(format!("{file}: {e}")),
        }
    }
    let readme = bad_vectors_readme(&cases);
    let readme_path = dir.join("README.md");
    if write {
        std::fs::write(&readme_path, &readme).unwrap();
    } else if std::fs::read_to_string(&readme_path).ok().as_deref() != Some(readme.as_str()) {
        problems.push("README.md: missing or out of date".to_string());
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".bin") && !expected_files.contains(&name) {
            problems.push(format!("{name}: no parser case builds this file"));
        }
    }
    assert!(
        problems.is_empty(),
        "vectors/bad is out of step with the catalogue (rerun with {WRITE_ENV}=1):\n  {}",
        problems.join("\n  ")
    );
}
