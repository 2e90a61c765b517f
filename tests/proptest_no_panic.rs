//! Untrusted input never panics, errors point inside the input, and the verifier never
//! accepts a quote or signature that differs from what the TPM signed.
//!
//! Two sources of input:
//! * arbitrary bytes, optionally behind a plausible header (magic and type, sigAlg and hash,
//!   object type and nameAlg) so that the parsers get past their first field;
//! * real captures from `vectors/external/props/` with a few structured mutations each: bit
//!   flips, byte overwrites, insertions, deletions, truncation, duplicated runs and size-like
//!   `u16` values written anywhere.
//!
//! Every parser is run on every input. Besides "no panic" each run checks that an error's
//! offset is at most the input length, and that an accepted input is canonical: emitting the
//! parsed value gives back exactly the input (so two different byte strings never parse to
//! the same value, which a verifier hashing the received bytes relies on).
//!
//! Reproduce a failure with `PROPTEST_RNG_SEED=<seed>`; case counts are fixed per block.

#![cfg(all(feature = "std", feature = "rsa", feature = "p256", feature = "sha1"))]

use baretpm::types::{
    HashAlg, PcrValues, Tpm2bPublic, TpmlDigest, TpmlPcrSelection, TpmsAttest, TpmsClockInfo,
    TpmsPcrSelection, TpmtPublic, TpmtSignature,
};
use baretpm::verify::{verify_quote, verify_signature, Ak, Expectations, Policy, VerifyError};
use baretpm::wire::{self, Error, Marshal, Reader, Unmarshal};
use proptest::prelude::*;
use proptest::sample::Index;
use std::fmt::Debug;
use std::sync::OnceLock;

// ------------------------------------------------------------------------------------------
// Inputs.
// ------------------------------------------------------------------------------------------

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/external/props");

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!("{VECTORS}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The GCE Shielded VM quote (SHA-256 bank, PCRs 0-23, nonce 9009) and what verifies it.
struct Gce {
    quote: Vec<u8>,
    sig: Vec<u8>,
    akpub: Vec<u8>,
    akpem: Vec<u8>,
    akder: Vec<u8>,
    /// PCR values, in the quote's selection order.
    pcr_values: Vec<Vec<u8>>,
}

const GCE_NONCE: [u8; 2] = [0x90, 0x09];

fn gce() -> &'static Gce {
    static GCE: OnceLock<Gce> = OnceLock::new();
    GCE.get_or_init(|| {
        let quote = vector("gce-cos-85-nonce9009.sha256.quote.bin");
        let json: serde_json::Value =
            serde_json::from_slice(&vector("gce-cos-85-nonce9009.sha256.pcrs.json"))
                .expect("pcrs.json");
        assert_eq!(json["hash"], "SHA256");
        let attest = TpmsAttest::from_bytes(&quote).expect("GCE quote parses");
        let q = attest.quote().expect("a quote");
        let pcr_values = q
            .pcr_select
            .iter_pcrs()
            .map(|(bank, index)| {
                assert_eq!(bank, HashAlg::Sha256);
                let hex = json["pcrs"][index.to_string()]
                    .as_str()
                    .unwrap_or_else(|| panic!("PCR {index} missing from pcrs.json"));
                hex::decode(hex).expect("hex PCR value")
            })
            .collect();
        let akpem = vector("gce-cos-85-nonce9009.akpub.pem");
        let (_, der) =
            spki::Document::from_pem(std::str::from_utf8(&akpem).expect("utf-8")).expect("pem");
        Gce {
            sig: vector("gce-cos-85-nonce9009.sha256.sig.bin"),
            akpub: vector("gce-cos-85-nonce9009.akpub.bin"),
            akder: der.as_bytes().to_vec(),
            akpem,
            pcr_values,
            quote,
        }
    })
}

impl Gce {
    /// PCR values built from the quote's own selection and the JSON file.
    fn pcrs(&self) -> PcrValues<'_> {
        let attest = TpmsAttest::from_bytes(&self.quote).expect("GCE quote parses");
        let mut pcrs = PcrValues {
            selection: attest.quote().expect("a quote").pcr_select.clone(),
            ..PcrValues::default()
        };
        for v in &self.pcr_values {
            pcrs.values.push(v).expect("at most 384 values");
        }
        assert!(pcrs.is_complete());
        pcrs
    }
}

/// Every capture a parser should see, plus pieces cut from them (a TPML_PCR_SELECTION, one
/// TPMS_PCR_SELECTION, a TPM2B_ATTEST, a TPM2B_PUBLIC), so each parser has seeds of its own.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut s: Vec<Vec<u8>> = [
            "gce-cos-85-nonce9009.sha256.quote.bin",
            "gce-cos-85-nonce9009.sha256.sig.bin",
            "gce-cos-85-nonce9009.akpub.bin",
            "gvtpm_ecc_p256_ak.akpub.bin",
            "gvtpm_ecc_p256_ak.certifycreation.attest.bin",
            "gvtpm_ecc_p256_ak.certifycreation.sig.bin",
            "keylime-ak.pub",
        ]
        .iter()
        .map(|n| vector(n))
        .collect();
        let quote = s[0].clone();
        let attest = TpmsAttest::from_bytes(&quote).expect("quote");
        let sel = &attest.quote().expect("quote").pcr_select;
        s.push(wire::to_vec(sel, 1024).expect("selection"));
        s.push(wire::to_vec(&sel.banks()[0], 16).expect("one bank"));
        s.push(wire::to_vec(&attest.clock_info, 32).expect("clock"));
        let mut sized = (quote.len() as u16).to_be_bytes().to_vec();
        sized.extend_from_slice(&quote);
        s.push(sized);
        let ecc_ak = vector("gvtpm_ecc_p256_ak.akpub.bin");
        let mut sized = (ecc_ak.len() as u16).to_be_bytes().to_vec();
        sized.extend_from_slice(&ecc_ak);
        s.push(sized);
        // A TPML_DIGEST of the first eight GCE PCR values.
        let mut l = TpmlDigest::default();
        for v in gce().pcr_values.iter().take(8) {
            l.digests.push(baretpm::types::Tpm2b(v)).expect("8");
        }
        s.push(wire::to_vec(&l, 1024).expect("digest list"));
        s
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: Index, mask: u8 },
    Set { at: Index, byte: u8 },
    Insert { at: Index, byte: u8 },
    Delete { at: Index, len: usize },
    Truncate { at: Index },
    SetU16 { at: Index, value: u16 },
    Duplicate { at: Index, len: usize },
}

impl Mutation {
    fn apply(&self, b: &mut Vec<u8>) {
        match *self {
            Self::Flip { at, mask } if !b.is_empty() => {
                let i = at.index(b.len());
                b[i] ^= mask;
            }
            Self::Set { at, byte } if !b.is_empty() => {
                let i = at.index(b.len());
                b[i] = byte;
            }
            Self::Insert { at, byte } => {
                let i = at.index(b.len() + 1);
                b.insert(i, byte);
            }
            Self::Delete { at, len } if !b.is_empty() => {
                let i = at.index(b.len());
                let end = (i + len).min(b.len());
                b.drain(i..end);
            }
            Self::Truncate { at } => {
                let n = at.index(b.len() + 1);
                b.truncate(n);
            }
            Self::SetU16 { at, value } if b.len() >= 2 => {
                let i = at.index(b.len() - 1);
                b[i..i + 2].copy_from_slice(&value.to_be_bytes());
            }
            Self::Duplicate { at, len } if !b.is_empty() => {
                let i = at.index(b.len());
                let end = (i + len).min(b.len());
                let run = b[i..end].to_vec();
                b.splice(end..end, run);
            }
            _ => {}
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Values that look like sizes, counts and algorithm ids.
    let u16s = prop_oneof![
        prop::sample::select(vec![
            0u16, 1, 2, 3, 4, 5, 0x0b, 0x10, 0x14, 0x16, 0x18, 0x20, 0x21, 0x22, 0x23, 0x40, 0x41,
            0x42, 0x44, 0x45, 0x7f, 0x80, 0xff, 0x100, 0x101, 0x200, 0x201, 0x244, 0x800, 0x801,
            0x8018, 0xfffe, 0xffff,
        ]),
        any::<u16>(),
    ];
    prop_oneof![
        3 => (any::<Index>(), 1u8..=255).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        1 => (any::<Index>(), 1usize..=8).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<Index>(), u16s).prop_map(|(at, value)| Mutation::SetU16 { at, value }),
        1 => (any::<Index>(), 1usize..=16).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..=4)
}

fn mutated(original: &[u8], ms: &[Mutation]) -> Vec<u8> {
    let mut b = original.to_vec();
    for m in ms {
        m.apply(&mut b);
    }
    b
}

/// Arbitrary bytes, half of the time behind a header that lets the parser under test get past
/// its first fields.
fn bytes_after(headers: Vec<Vec<u8>>, max: usize) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::option::of(prop::sample::select(headers)),
        prop::collection::vec(any::<u8>(), 0..=max),
    )
        .prop_map(|(h, tail)| {
            let mut b = h.unwrap_or_default();
            b.extend_from_slice(&tail);
            b
        })
}

fn be16s(ids: &[u16]) -> Vec<Vec<u8>> {
    ids.iter().map(|v| v.to_be_bytes().to_vec()).collect()
}

/// Pairs `a || b` of two `u16` lists.
fn pairs(a: &[u16], b: &[u16]) -> Vec<Vec<u8>> {
    a.iter()
        .flat_map(|x| {
            b.iter().map(move |y| {
                let mut v = x.to_be_bytes().to_vec();
                v.extend_from_slice(&y.to_be_bytes());
                v
            })
        })
        .collect()
}

const HASH_IDS: [u16; 9] = [0x04, 0x0b, 0x0c, 0x0d, 0x12, 0x27, 0x28, 0x29, 0x10];

fn attest_headers() -> Vec<Vec<u8>> {
    let tags = [
        0x8014, 0x8015, 0x8016, 0x8017, 0x8018, 0x8019, 0x801a, 0x801c, 0x8000,
    ];
    tags.iter()
        .map(|t| {
            let mut v = 0xff54_4347u32.to_be_bytes().to_vec();
            v.extend_from_slice(&u16::to_be_bytes(*t));
            v
        })
        .collect()
}

fn signature_headers() -> Vec<Vec<u8>> {
    pairs(&[0x14, 0x16, 0x18, 0x05, 0x1a, 0x1b, 0x1c, 0x10], &HASH_IDS)
}

fn public_headers() -> Vec<Vec<u8>> {
    pairs(&[0x01, 0x23, 0x08, 0x25], &HASH_IDS)
}

// ------------------------------------------------------------------------------------------
// Checks applied to every input.
// ------------------------------------------------------------------------------------------

fn check_error(e: &Error, input_len: usize, parser: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        e.offset <= input_len,
        "{}: error offset {} beyond input length {}: {:?}",
        parser,
        e.offset,
        input_len,
        e
    );
    Ok(())
}

/// Runs one parser through `from_bytes`: on failure the offset is inside the input, on success
/// the input is canonical.
fn run<'a, T>(input: &'a [u8], parser: &str) -> Result<(), TestCaseError>
where
    T: Unmarshal<'a> + Marshal + Debug,
{
    match T::from_bytes(input) {
        Err(e) => check_error(&e, input.len(), parser),
        Ok(v) => {
            let again = wire::to_vec(&v, 1 << 16).map_err(|e| {
                TestCaseError::fail(format!("{parser}: accepted {v:?} but cannot emit it: {e}"))
            })?;
            prop_assert_eq!(
                &again[..],
                input,
                "{}: accepted input is not canonical",
                parser
            );
            Ok(())
        }
    }
}

fn run_read_tpm2b(input: &[u8]) -> Result<(), TestCaseError> {
    let mut r = Reader::new(input);
    match TpmsAttest::read_tpm2b(&mut r) {
        Err(e) => check_error(&e, input.len(), "TPM2B_ATTEST"),
        Ok((v, raw)) => {
            prop_assert_eq!(raw.len() + 2, input.len() - r.remaining());
            prop_assert_eq!(&input[2..2 + raw.len()], raw);
            let again = wire::to_vec(&v, 1 << 16).expect("emit parsed attest");
            prop_assert_eq!(
                &again[..],
                raw,
                "TPM2B_ATTEST: accepted contents not canonical"
            );
            Ok(())
        }
    }
}

fn parse_all(input: &[u8]) -> Result<(), TestCaseError> {
    run::<TpmsAttest>(input, "TPMS_ATTEST")?;
    run::<TpmtSignature>(input, "TPMT_SIGNATURE")?;
    run::<TpmtPublic>(input, "TPMT_PUBLIC")?;
    run::<Tpm2bPublic>(input, "TPM2B_PUBLIC")?;
    run::<TpmlPcrSelection>(input, "TPML_PCR_SELECTION")?;
    run::<TpmsPcrSelection>(input, "TPMS_PCR_SELECTION")?;
    run::<TpmlDigest>(input, "TPML_DIGEST")?;
    run::<TpmsClockInfo>(input, "TPMS_CLOCK_INFO")?;
    run_read_tpm2b(input)?;
    if let Err(e) = Tpm2bPublic::from_tpmt_bytes(input) {
        check_error(&e, input.len(), "TPMT_PUBLIC (from_tpmt_bytes)")?;
    }
    Ok(())
}

/// The wire error inside a verifier error must point inside the input it came from.
fn check_verify_error(
    e: &VerifyError,
    ak_len: usize,
    attest_len: usize,
    sig_len: usize,
) -> Result<(), TestCaseError> {
    match e {
        VerifyError::AkUnreadable(w) => check_error(w, ak_len, "verify: AK"),
        VerifyError::AttestUnreadable(w) => check_error(w, attest_len, "verify: attest"),
        VerifyError::SignatureUnreadable(w) => check_error(w, sig_len, "verify: signature"),
        _ => Ok(()),
    }
}

// ------------------------------------------------------------------------------------------
// Arbitrary bytes, one block per parser.
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tpms_attest_arbitrary(b in bytes_after(attest_headers(), 300)) {
        run::<TpmsAttest>(&b, "TPMS_ATTEST")?;
    }

    #[test]
    fn tpm2b_attest_arbitrary(b in bytes_after(attest_headers(), 300), size in any::<u16>()) {
        let mut input = size.to_be_bytes().to_vec();
        input.extend_from_slice(&b);
        run_read_tpm2b(&input)?;
        // Also with the size that matches what follows.
        input[..2].copy_from_slice(&(b.len() as u16).to_be_bytes());
        run_read_tpm2b(&input)?;
    }

    #[test]
    fn tpmt_signature_arbitrary(b in bytes_after(signature_headers(), 300)) {
        run::<TpmtSignature>(&b, "TPMT_SIGNATURE")?;
    }

    #[test]
    fn tpmt_public_arbitrary(b in bytes_after(public_headers(), 300)) {
        run::<TpmtPublic>(&b, "TPMT_PUBLIC")?;
    }

    #[test]
    fn tpm2b_public_arbitrary(b in bytes_after(public_headers(), 300), size in any::<u16>()) {
        let mut input = size.to_be_bytes().to_vec();
        input.extend_from_slice(&b);
        run::<Tpm2bPublic>(&input, "TPM2B_PUBLIC")?;
        input[..2].copy_from_slice(&(b.len() as u16).to_be_bytes());
        run::<Tpm2bPublic>(&input, "TPM2B_PUBLIC")?;
    }

    #[test]
    fn tpml_pcr_selection_arbitrary(count in 0u32..=18, b in bytes_after(pairs(&HASH_IDS, &[0x0300, 0x0400, 0x0200, 0x0500]), 120)) {
        let mut input = count.to_be_bytes().to_vec();
        input.extend_from_slice(&b);
        run::<TpmlPcrSelection>(&input, "TPML_PCR_SELECTION")?;
        run::<TpmlPcrSelection>(&b, "TPML_PCR_SELECTION")?;
    }

    #[test]
    fn tpms_pcr_selection_arbitrary(b in bytes_after(be16s(&HASH_IDS), 8)) {
        run::<TpmsPcrSelection>(&b, "TPMS_PCR_SELECTION")?;
    }

    #[test]
    fn tpml_digest_arbitrary(count in 0u32..=10, b in prop::collection::vec(any::<u8>(), 0..=600)) {
        let mut input = count.to_be_bytes().to_vec();
        input.extend_from_slice(&b);
        run::<TpmlDigest>(&input, "TPML_DIGEST")?;
        run::<TpmlDigest>(&b, "TPML_DIGEST")?;
    }

    #[test]
    fn tpms_clock_info_arbitrary(b in prop::collection::vec(any::<u8>(), 0..=24)) {
        run::<TpmsClockInfo>(&b, "TPMS_CLOCK_INFO")?;
    }

    /// Structured mutations of the real captures, through every parser.
    #[test]
    fn mutated_vectors_all_parsers(seed in any::<Index>(), ms in mutations()) {
        let s = seeds();
        let original = &s[seed.index(s.len())];
        parse_all(&mutated(original, &ms))?;
    }
}

// ------------------------------------------------------------------------------------------
// The verifier on mutated real inputs.
// ------------------------------------------------------------------------------------------

fn gce_verify(ak_bytes: &[u8], quote: &[u8], sig: &[u8]) -> Result<(), VerifyError> {
    let g = gce();
    let pcrs = g.pcrs();
    let expect = Expectations::new(&GCE_NONCE, &pcrs);
    let (ak, _) = Ak::from_any(ak_bytes)?;
    verify_quote(&ak, quote, sig, &expect, &Policy::default()).map(|_| ())
}

#[test]
fn gce_quote_verifies_unmutated() {
    let g = gce();
    for key in [&g.akpub, &g.akpem, &g.akder] {
        gce_verify(key, &g.quote, &g.sig).expect("the genuine GCE quote verifies");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A quote that differs from the signed bytes in any way is refused, as a bad signature.
    #[test]
    fn mutated_quote_never_verifies(ms in mutations()) {
        let g = gce();
        let q = mutated(&g.quote, &ms);
        prop_assume!(q != g.quote);
        // The signature is checked over the received bytes before anything is parsed, so the
        // only possible answer is a bad signature.
        prop_assert_eq!(gce_verify(&g.akpub, &q, &g.sig), Err(VerifyError::BadSignature));
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// A signature that differs from the TPM's in any way is refused.
    #[test]
    fn mutated_signature_never_verifies(ms in mutations()) {
        let g = gce();
        let s = mutated(&g.sig, &ms);
        prop_assume!(s != g.sig);
        match gce_verify(&g.akpub, &g.quote, &s) {
            Ok(()) => prop_assert!(false, "mutated signature accepted: {:02x?}", s),
            Err(e) => check_verify_error(&e, g.akpub.len(), g.quote.len(), s.len())?,
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Both mutated at once.
    #[test]
    fn mutated_quote_and_signature_never_verify(mq in mutations(), ms in mutations()) {
        let g = gce();
        let q = mutated(&g.quote, &mq);
        let s = mutated(&g.sig, &ms);
        prop_assume!(q != g.quote || s != g.sig);
        match gce_verify(&g.akpub, &q, &s) {
            Ok(()) => prop_assert!(false, "mutated quote/signature accepted"),
            Err(e) => check_verify_error(&e, g.akpub.len(), q.len(), s.len())?,
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// A mutated key (TPMT_PUBLIC, PEM or DER) never panics; if the verifier still accepts the
    /// genuine quote, the key it used is the genuine key (only attributes or other fields the
    /// signature does not depend on changed).
    #[test]
    fn mutated_key_never_panics(which in 0usize..3, ms in mutations()) {
        let g = gce();
        let original = [&g.akpub, &g.akpem, &g.akder][which];
        let k = mutated(original, &ms);
        match gce_verify(&k, &g.quote, &g.sig) {
            Err(e) => check_verify_error(&e, k.len(), g.quote.len(), g.sig.len())?,
            Ok(()) => {
                let (ak, _) = Ak::from_any(&k).expect("it verified, so it parses");
                let (genuine, _) = Ak::from_any(original).expect("genuine AK");
                prop_assert_eq!(key_material(&ak), key_material(&genuine));
            }
        }
    }
}

/// What a signature check depends on: the RSA modulus and exponent or the EC point, without
/// the TPM wrapping (attributes, policy) and without leading zero bytes. A key given as a
/// SubjectPublicKeyInfo has no TPM wrapping, so its Debug form is used as it is.
fn key_material(ak: &Ak<'_>) -> String {
    use baretpm::types::PublicDetails;
    fn strip(b: &[u8]) -> &[u8] {
        let n = b.iter().take_while(|&&x| x == 0).count();
        &b[n..]
    }
    match ak.public.as_ref().map(|p| p.public_area().details) {
        Some(PublicDetails::Rsa { parms, unique }) => format!(
            "rsa n={:02x?} e={}",
            strip(unique.as_bytes()),
            parms.effective_exponent()
        ),
        Some(PublicDetails::Ecc { parms, unique }) => format!(
            "ecc curve={:?} x={:02x?} y={:02x?}",
            parms.curve_id,
            strip(unique.x.as_bytes()),
            strip(unique.y.as_bytes())
        ),
        _ => format!("{ak:?}"),
    }
}

// ------------------------------------------------------------------------------------------
// ECDSA: the go-attestation P-256 AK and its certify-creation signature (ECDSA-SHA1), checked
// with verify_signature directly since the attestation is not a quote.
// ------------------------------------------------------------------------------------------

struct Ecc {
    ak: Vec<u8>,
    attest: Vec<u8>,
    sig: Vec<u8>,
}

fn ecc() -> &'static Ecc {
    static ECC: OnceLock<Ecc> = OnceLock::new();
    ECC.get_or_init(|| Ecc {
        ak: vector("gvtpm_ecc_p256_ak.akpub.bin"),
        attest: vector("gvtpm_ecc_p256_ak.certifycreation.attest.bin"),
        sig: vector("gvtpm_ecc_p256_ak.certifycreation.sig.bin"),
    })
}

fn sha1_policy() -> Policy {
    Policy::default().with_sha1()
}

fn ecc_verify(ak: &[u8], message: &[u8], sig: &[u8]) -> Result<HashAlg, VerifyError> {
    let (ak, _) = Ak::from_any(ak)?;
    let sig = TpmtSignature::from_bytes(sig).map_err(VerifyError::SignatureUnreadable)?;
    verify_signature(&ak, &sha1_policy(), message, &sig)
}

#[test]
fn ecc_signature_verifies_unmutated() {
    let e = ecc();
    assert_eq!(ecc_verify(&e.ak, &e.attest, &e.sig), Ok(HashAlg::Sha1));
    // verify_quote gets past the signature and refuses the creation attestation as a non-quote.
    let (ak, _) = Ak::from_any(&e.ak).expect("ECC AK");
    let pcrs = PcrValues::default();
    let expect = Expectations::new(&[1], &pcrs);
    assert!(matches!(
        verify_quote(&ak, &e.attest, &e.sig, &expect, &sha1_policy()),
        Err(VerifyError::NotAQuote { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ecc_mutated_message_or_signature_never_verifies(mm in mutations(), ms in mutations(), which in 0usize..3) {
        let e = ecc();
        let (m, s) = match which {
            0 => (mutated(&e.attest, &mm), e.sig.clone()),
            1 => (e.attest.clone(), mutated(&e.sig, &ms)),
            _ => (mutated(&e.attest, &mm), mutated(&e.sig, &ms)),
        };
        prop_assume!(m != e.attest || s != e.sig);
        match ecc_verify(&e.ak, &m, &s) {
            Ok(h) => prop_assert!(false, "mutated ECDSA input accepted ({:?})", h),
            // With the genuine signature, a changed message can only be a bad signature.
            Err(err) if s == e.sig => prop_assert_eq!(err, VerifyError::BadSignature),
            Err(err) => check_verify_error(&err, e.ak.len(), m.len(), s.len())?,
        }
    }

    #[test]
    fn ecc_mutated_key_never_panics(ms in mutations()) {
        let e = ecc();
        let k = mutated(&e.ak, &ms);
        match ecc_verify(&k, &e.attest, &e.sig) {
            Err(err) => check_verify_error(&err, k.len(), e.attest.len(), e.sig.len())?,
            Ok(_) => {
                let (ak, _) = Ak::from_any(&k).expect("it verified, so it parses");
                let (genuine, _) = Ak::from_any(&e.ak).expect("genuine AK");
                prop_assert_eq!(key_material(&ak), key_material(&genuine));
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Key policy: the RSA exponent of the real AK, rewritten.
// ------------------------------------------------------------------------------------------

/// The GCE AK's TPMT_PUBLIC with its exponent field replaced.
fn gce_ak_with_exponent(exponent: u32) -> Vec<u8> {
    use baretpm::types::PublicDetails;
    let g = gce();
    let mut p = TpmtPublic::from_bytes(&g.akpub).expect("GCE AK");
    match &mut p.details {
        PublicDetails::Rsa { parms, .. } => parms.exponent = exponent,
        other => panic!("GCE AK is RSA, got {other:?}"),
    }
    wire::to_vec(&p, 1024).expect("emit AK")
}

/// The GCE AK's TPMT_PUBLIC with its modulus replaced (keyBits left at 2048).
fn gce_ak_with_modulus(n: &[u8]) -> Vec<u8> {
    use baretpm::types::{PublicDetails, Tpm2b};
    let g = gce();
    let mut p = TpmtPublic::from_bytes(&g.akpub).expect("GCE AK");
    match &mut p.details {
        PublicDetails::Rsa { unique, .. } => *unique = Tpm2b(n),
        other => panic!("GCE AK is RSA, got {other:?}"),
    }
    wire::to_vec(&p, 1024).expect("emit AK")
}

/// Outcome of reading the key and checking it against the default policy.
fn ak_policy(bytes: &[u8]) -> Result<(), VerifyError> {
    Ak::from_tpmt_public(bytes)?.check_policy(&Policy::default())
}

fn bad_exponent() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(vec![1u32, 2, 3, 4, 17, 65535, 65536, 65538, 0xffff_fffe]),
        1u32..65537,
        any::<u32>().prop_map(|e| (e & !1).max(2)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// FACTS.md: an RSA key "with a tiny exponent" is refused with its own error. The check
    /// (`Policy`: odd and at least 65537) names `RsaExponentRejected`, and that is what a
    /// TPMT_PUBLIC carrying such an exponent must get, whatever the exponent is.
    #[test]
    fn rsa_exponent_out_of_policy_is_rejected_as_such(e in bad_exponent()) {
        prop_assert_eq!(
            ak_policy(&gce_ak_with_exponent(e)),
            Err(VerifyError::RsaExponentRejected { exponent: u64::from(e) })
        );
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// An acceptable exponent other than the AK's own gives a well-formed key that the policy
    /// accepts, and the genuine quote then fails as a bad signature.
    #[test]
    fn rsa_other_good_exponent_is_a_bad_signature(e in (32768u32..=u32::MAX / 2).prop_map(|e| 2 * e + 1)) {
        prop_assume!(e != 65537);
        let key = gce_ak_with_exponent(e);
        prop_assert_eq!(ak_policy(&key), Ok(()));
        let g = gce();
        prop_assert_eq!(gce_verify(&key, &g.quote, &g.sig), Err(VerifyError::BadSignature));
    }
}

/// A big-endian modulus of 1 to 2047 bits (top byte non-zero), odd or even, sometimes with
/// leading zero bytes that do not count towards its size.
fn short_modulus() -> impl Strategy<Value = (Vec<u8>, usize)> {
    (
        0usize..3,
        prop::collection::vec(any::<u8>(), 1..=256),
        prop::sample::select(vec![0u8, 1]),
    )
        .prop_filter_map("at least 2048 bits", |(zeros, mut n, low_bit)| {
            let last = n.len() - 1;
            n[last] = (n[last] & !1) | low_bit;
            if n[0] == 0 {
                n[0] = 0x80;
            }
            let bits = 8 * n.len() - n[0].leading_zeros() as usize;
            if bits >= 2048 {
                return None;
            }
            let mut padded = vec![0u8; zeros];
            padded.extend_from_slice(&n);
            Some((padded, bits))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// FACTS.md: an RSA key "under 2048 bits" is refused with its own error, whatever else is
    /// wrong with the modulus (even, or not above the exponent).
    #[test]
    fn rsa_modulus_under_2048_bits_is_too_small((n, bits) in short_modulus()) {
        prop_assert_eq!(
            ak_policy(&gce_ak_with_modulus(&n)),
            Err(VerifyError::RsaKeyTooSmall { bits, min: 2048 })
        );
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A 2048-bit modulus other than the AK's own never verifies the genuine quote, and never
    /// panics, odd or even.
    #[test]
    fn rsa_other_2048_bit_modulus_never_verifies(mut n in prop::collection::vec(any::<u8>(), 256..=256), odd in any::<bool>()) {
        n[0] |= 0x80;
        n[255] = (n[255] & !1) | u8::from(odd);
        let key = gce_ak_with_modulus(&n);
        let g = gce();
        let r = gce_verify(&key, &g.quote, &g.sig);
        prop_assert!(r.is_err(), "a foreign modulus verified the GCE quote");
        if odd {
            prop_assert_eq!(r, Err(VerifyError::BadSignature));
        }
    }
}

#[test]
fn rsa_exponent_zero_means_65537() {
    let g = gce();
    for e in [0, 65537] {
        let key = gce_ak_with_exponent(e);
        assert_eq!(ak_policy(&key), Ok(()));
        gce_verify(&key, &g.quote, &g.sig).expect("same key, same quote");
    }
}
