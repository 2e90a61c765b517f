//! The quote verifier, driven by real quotes and keys from vectors/ and structured mutations.
//!
//! Byte 0 picks a genuine case (AK, TPMS_ATTEST, TPMT_SIGNATURE, PCR file, nonce), byte 1 the
//! number of mutations (0 to 8), and each mutation is an operation code plus its arguments,
//! read from the rest of the input: bit flips, splices, truncations, insertions in the
//! attestation or the signature; structured edits of the attestation (re-marshalled, so they
//! parse); another nonce, another expected selection, other PCR values; another AK; another
//! case's message or signature; other policies, previous clocks and parent names.
//!
//! Invariants: no panic; errors that carry a wire offset point inside their input; and an
//! accepted quote is a genuine one: its message is byte for byte a genuine case's message,
//! checked with that case's key (RSA: with that case's signature bytes; ECDSA signatures are
//! malleable, so their bytes may differ), that case's nonce, selection and PCR values, under a
//! policy that admits it.
#![no_main]

use baretpm::interop::{parse_pcr_file, PcrFileFormat};
use baretpm::types::alg::handle::{RH_ENDORSEMENT, RH_OWNER};
use baretpm::types::{
    HashAlg, PcrValues, TpmlPcrSelection, TpmsAttest, TpmsClockInfo, TpmsPcrSelection,
    TpmtSignature, TpmuAttest,
};
use baretpm::verify::{verify_quote, Ak, Expectations, Policy, VerifyError};
use baretpm::wire::{Marshal, Unmarshal};
use baretpm_fuzz::{check_wire_error, Cursor};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A genuine case from vectors/index.json (`expect: ok`). `key` names the key pair: cases with
/// the same key (in any encoding) share it.
struct Vector {
    id: &'static str,
    key: &'static str,
    ak: &'static [u8],
    msg: &'static [u8],
    sig: &'static [u8],
    /// tpm2-tools `serialized` PCR file.
    pcrs: &'static [u8],
    nonce: &'static str,
}

macro_rules! v {
    ($id:literal, $key:literal, $ak:literal, $msg:literal, $sig:literal, $pcrs:literal, $nonce:literal) => {
        Vector {
            id: $id,
            key: $key,
            ak: include_bytes!(concat!("../../vectors/", $ak)),
            msg: include_bytes!(concat!("../../vectors/", $msg)),
            sig: include_bytes!(concat!("../../vectors/", $sig)),
            pcrs: include_bytes!(concat!("../../vectors/", $pcrs)),
            nonce: $nonce,
        }
    };
}

const VECTORS: &[Vector] = &[
    v!(
        "swtpm-rsassa-sha256",
        "rsa",
        "swtpm/rsa.ak.pub",
        "swtpm/swtpm-rsassa-sha256.msg",
        "swtpm/swtpm-rsassa-sha256.sig",
        "swtpm/swtpm-rsassa-sha256.pcrs",
        "258f80c4980b67e649542ce43cde7ca24213c177d6986fea1eb8a560b6381134"
    ),
    v!(
        "swtpm-rsassa-sha256.ak-tpmt",
        "rsa",
        "swtpm/rsa.ak.tpmt",
        "swtpm/swtpm-rsassa-sha256.msg",
        "swtpm/swtpm-rsassa-sha256.sig",
        "swtpm/swtpm-rsassa-sha256.pcrs",
        "258f80c4980b67e649542ce43cde7ca24213c177d6986fea1eb8a560b6381134"
    ),
    v!(
        "swtpm-rsassa-sha256.ak-pem",
        "rsa",
        "swtpm/rsa.ak.pem",
        "swtpm/swtpm-rsassa-sha256.msg",
        "swtpm/swtpm-rsassa-sha256.sig",
        "swtpm/swtpm-rsassa-sha256.pcrs",
        "258f80c4980b67e649542ce43cde7ca24213c177d6986fea1eb8a560b6381134"
    ),
    v!(
        "swtpm-rsapss-sha256",
        "rsapss",
        "swtpm/rsapss.ak.pub",
        "swtpm/swtpm-rsapss-sha256.msg",
        "swtpm/swtpm-rsapss-sha256.sig",
        "swtpm/swtpm-rsapss-sha256.pcrs",
        "1e4a82c1d5490edad675b4f1bf8b8cc2d7bfd1ac67e97e5318601f691e75bec7"
    ),
    v!(
        "swtpm-ecdsa-sha256",
        "ecc",
        "swtpm/ecc.ak.pub",
        "swtpm/swtpm-ecdsa-sha256.msg",
        "swtpm/swtpm-ecdsa-sha256.sig",
        "swtpm/swtpm-ecdsa-sha256.pcrs",
        "8239a32454a15b16d6ee0fb41e90f3b4622b0f5a8e925ceeb6dbc61af8d0ad97"
    ),
    v!(
        "swtpm-ecdsa-p256-sha384",
        "ecc-sha384",
        "swtpm/ecc-sha384.ak.pub",
        "swtpm/swtpm-ecdsa-p256-sha384.msg",
        "swtpm/swtpm-ecdsa-p256-sha384.sig",
        "swtpm/swtpm-ecdsa-p256-sha384.pcrs",
        "05cd62a86bc323e7f3b482a330f68d48c87d1df271a12430cf45ee1876b73761"
    ),
    v!(
        "swtpm-rsassa-sha384",
        "rsa-sha384",
        "swtpm/rsa-sha384.ak.pub",
        "swtpm/swtpm-rsassa-sha384.msg",
        "swtpm/swtpm-rsassa-sha384.sig",
        "swtpm/swtpm-rsassa-sha384.pcrs",
        "bcf04a7bee0cea1d4562c275fa733f53b674be8d1ac8be75b4bbf03e29536377"
    ),
    v!(
        "swtpm-rsassa-multibank",
        "rsa",
        "swtpm/rsa.ak.pub",
        "swtpm/swtpm-rsassa-multibank.msg",
        "swtpm/swtpm-rsassa-multibank.sig",
        "swtpm/swtpm-rsassa-multibank.pcrs",
        "135496155e3d3174e35a119ec25f01f1"
    ),
    v!(
        "swtpm-rsassa-pcr0-7-14-15",
        "rsa",
        "swtpm/rsa.ak.pub",
        "swtpm/swtpm-rsassa-pcr0-7-14-15.msg",
        "swtpm/swtpm-rsassa-pcr0-7-14-15.sig",
        "swtpm/swtpm-rsassa-pcr0-7-14-15.pcrs",
        "2fe462d3a9c75105"
    ),
    v!(
        "swtpm-rsassa-sha384bank",
        "rsa",
        "swtpm/rsa.ak.pub",
        "swtpm/swtpm-rsassa-sha384bank.msg",
        "swtpm/swtpm-rsassa-sha384bank.sig",
        "swtpm/swtpm-rsassa-sha384bank.pcrs",
        "1b2d02269d38300e77423bcd2d900a916938e6ca0dfded9f3ce87ebcd9e2254d"
    ),
    v!(
        "swtpm-rsassa-sha1bank",
        "rsa",
        "swtpm/rsa.ak.pub",
        "swtpm/swtpm-rsassa-sha1bank.msg",
        "swtpm/swtpm-rsassa-sha1bank.sig",
        "swtpm/swtpm-rsassa-sha1bank.pcrs",
        "3ed6ee86d2e862ac04328a71a29ac9625e29258f"
    ),
    v!(
        "swtpm-rsassa-sha256-ak2",
        "rsa2",
        "swtpm/rsa2.ak.pub",
        "swtpm/swtpm-wrong-ak.msg",
        "swtpm/swtpm-wrong-ak.sig",
        "swtpm/swtpm-wrong-ak.pcrs",
        "365bc514a97c40a0203b805082a310cfd35b405be4c892b784fe7809e6fd2c36"
    ),
    v!(
        "keylime.quote.out",
        "keylime",
        "external/keylime/ak.pub",
        "external/keylime/quote.out",
        "external/keylime/quotesig.out",
        "external/keylime/quotepcr.out",
        "db1db298db6d60e6385b7231743e9c3056a18003"
    ),
    v!(
        "keylime.tpm_util_test.checkquote",
        "keylime-test",
        "external/keylime/tpm_util_test.checkquote.akpub.pem",
        "external/keylime/tpm_util_test.checkquote.quote.bin",
        "external/keylime/tpm_util_test.checkquote.sig.bin",
        "external/keylime/tpm_util_test.checkquote.pcrs.tpm2tools.bin",
        "4169354d35536a596a6e6b797634503769744831"
    ),
    v!(
        "aicert.sample_build_response",
        "aicert",
        "external/aicert/sample_build_response.akpub.pem",
        "external/aicert/sample_build_response.quote.bin",
        "external/aicert/sample_build_response.sig.bin",
        "external/aicert/sample_build_response.pcrs.tpm2tools.bin",
        ""
    ),
];

/// A vector made ready: key parsed, PCR values split, nonce decoded, policy that admits it.
struct Base {
    v: &'static Vector,
    ak: Ak<'static>,
    nonce: Vec<u8>,
    pcrs: PcrValues<'static>,
    policy: Policy,
    attest: TpmsAttest<'static>,
    ecdsa: bool,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn expectations<'e>(nonce: &'e [u8], pcrs: &'e PcrValues<'e>) -> Expectations<'e> {
    Expectations::new(nonce, pcrs)
}

fn bases() -> &'static [Base] {
    static BASES: OnceLock<Vec<Base>> = OnceLock::new();
    BASES.get_or_init(|| {
        let bases: Vec<Base> = VECTORS
            .iter()
            .map(|v| {
                let (ak, _) = Ak::from_any(v.ak).unwrap_or_else(|e| panic!("{}: AK: {e}", v.id));
                let pcrs = parse_pcr_file(PcrFileFormat::Serialized, v.pcrs, None)
                    .unwrap_or_else(|e| panic!("{}: PCR file: {e}", v.id));
                let nonce = hex(v.nonce);
                let attest = TpmsAttest::from_bytes(v.msg).unwrap();
                let sha1 = pcrs.selection.banks().iter().any(|b| b.hash == HashAlg::Sha1);
                let policy = {
                    let mut p = Policy::default();
                    p.allow_sha1_banks = sha1;
                    p.allow_sha1_signature = sha1;
                    p.allow_empty_nonce = nonce.is_empty();
                    p
                };
                let ecdsa = matches!(
                    TpmtSignature::from_bytes(v.sig),
                    Ok(TpmtSignature::Ecdsa(_))
                );
                Base {
                    v,
                    ak,
                    nonce,
                    pcrs,
                    policy,
                    attest,
                    ecdsa,
                }
            })
            .collect();
        // The target is only worth running if every genuine case verifies, and only under its
        // own key.
        for b in &bases {
            verify_quote(
                &b.ak,
                b.v.msg,
                b.v.sig,
                &expectations(&b.nonce, &b.pcrs),
                &b.policy,
            )
            .unwrap_or_else(|e| panic!("{}: genuine case refused: {e}", b.v.id));
            for other in bases.iter().filter(|o| o.v.key != b.v.key) {
                let r = verify_quote(
                    &other.ak,
                    b.v.msg,
                    b.v.sig,
                    &expectations(&b.nonce, &b.pcrs),
                    &b.policy,
                );
                assert!(r.is_err(), "{} verifies under {}'s key", b.v.id, other.v.id);
            }
        }
        bases
    })
}

/// Everything a mutation may change.
struct Case {
    ak: usize,
    msg: Vec<u8>,
    sig: Vec<u8>,
    nonce: Vec<u8>,
    selection: TpmlPcrSelection,
    values: Vec<Vec<u8>>,
    policy: Policy,
    previous: Option<TpmsClockInfo>,
    parent_qn: Option<Vec<u8>>,
}

fn pick(c: &mut Cursor<'_>, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        usize::from(c.u16()) % len
    }
}

fn flip(c: &mut Cursor<'_>, buf: &mut [u8]) {
    if !buf.is_empty() {
        let i = pick(c, buf.len());
        buf[i] ^= 1 << (c.u8() % 8);
    }
}

fn splice(c: &mut Cursor<'_>, buf: &mut Vec<u8>) {
    match c.u8() % 4 {
        0 => {
            let n = pick(c, buf.len() + 1);
            buf.truncate(n);
        }
        1 => {
            let at = pick(c, buf.len() + 1);
            let bytes = c.short_bytes();
            buf.splice(at..at, bytes.iter().copied());
        }
        2 => {
            let at = pick(c, buf.len() + 1);
            let n = usize::from(c.u8()).min(buf.len() - at);
            buf.drain(at..at + n);
        }
        _ => {
            let at = pick(c, buf.len() + 1);
            for (i, b) in c.short_bytes().iter().enumerate() {
                match buf.get_mut(at + i) {
                    Some(slot) => *slot = *b,
                    None => buf.push(*b),
                }
            }
        }
    }
}

/// Position in `values` of `(bank number, index)` in selection order.
fn value_position(sel: &TpmlPcrSelection, bank: usize, index: u32) -> usize {
    let before: usize = sel.banks()[..bank].iter().map(|b| b.count()).sum();
    before + (sel.banks()[bank].bitmap() & ((1u32 << index) - 1)).count_ones() as usize
}

fn mutate_selection(c: &mut Cursor<'_>, case: &mut Case) {
    let banks = case.selection.banks().len();
    match c.u8() % 4 {
        // Toggle one PCR of one bank, adding or removing its value so the counts still agree.
        0 if banks > 0 => {
            let bank = pick(c, banks);
            let index = u32::from(c.u8() % 24);
            let pos = value_position(&case.selection, bank, index);
            let b = &mut case.selection.banks_mut()[bank];
            if b.contains(index) {
                *b = b.without(index);
                if pos < case.values.len() {
                    case.values.remove(pos);
                }
            } else {
                *b = b.with(index).expect("index below 24");
                let fill = c.u8();
                let size = b.hash.digest_size();
                case.values
                    .insert(pos.min(case.values.len()), vec![fill; size]);
            }
        }
        // Another hash for one bank; its values resized to match, or not.
        1 if banks > 0 => {
            let bank = pick(c, banks);
            let hash = HashAlg::ALL[usize::from(c.u8()) % HashAlg::ALL.len()];
            let resize = c.bool();
            let start = value_position(&case.selection, bank, 0);
            let n = case.selection.banks()[bank].count();
            case.selection.banks_mut()[bank].hash = hash;
            if resize {
                let end = (start + n).min(case.values.len());
                for v in case.values[start.min(end)..end].iter_mut() {
                    v.resize(hash.digest_size(), 0);
                }
            }
        }
        // Drop a bank with its values.
        2 if banks > 0 => {
            let bank = pick(c, banks);
            let start = value_position(&case.selection, bank, 0);
            let n = case.selection.banks()[bank].count();
            case.selection.remove(bank);
            let end = (start + n).min(case.values.len());
            case.values.drain(start.min(end)..end);
        }
        // Repeat a bank (with its values) at the end, or add an empty one.
        _ => {
            if banks > 0 && c.bool() {
                let bank = pick(c, banks);
                let copy = case.selection.banks()[bank];
                let start = value_position(&case.selection, bank, 0);
                let end = (start + copy.count()).min(case.values.len());
                let vals: Vec<Vec<u8>> = case.values[start.min(end)..end].to_vec();
                if case.selection.push(copy).is_ok() {
                    case.values.extend(vals);
                }
            } else {
                let hash = HashAlg::ALL[usize::from(c.u8()) % HashAlg::ALL.len()];
                let _ = case
                    .selection
                    .push(TpmsPcrSelection::new(hash, &[]).unwrap());
            }
        }
    }
}

fn mutate_values(c: &mut Cursor<'_>, case: &mut Case) {
    let n = case.values.len();
    if n == 0 {
        return;
    }
    let k = pick(c, n);
    match c.u8() % 4 {
        0 => flip(c, &mut case.values[k]),
        1 => {
            let j = pick(c, n);
            case.values.swap(k, j);
        }
        2 => {
            case.values[k].pop();
        }
        _ => case.values[k].push(c.u8()),
    }
}

/// Parses the current message, changes one field, and writes it back: the result parses, so
/// only the signature can stop it.
fn edit_attest(c: &mut Cursor<'_>, case: &mut Case) {
    let copy = case.msg.clone();
    let Ok(mut a) = TpmsAttest::from_bytes(&copy) else {
        return;
    };
    let nonce = case.nonce.clone();
    let data = c.short_bytes();
    match c.u8() % 9 {
        0 => a.extra_data.0 = &data[..data.len().min(64)],
        // The expected nonce, so the nonce check cannot be what refuses it.
        1 => a.extra_data.0 = &nonce[..nonce.len().min(64)],
        2 => a.clock_info.clock = a.clock_info.clock.wrapping_add(u64::from(c.u16())),
        3 => a.clock_info.reset_count ^= u32::from(c.u8()),
        4 => a.clock_info.restart_count ^= u32::from(c.u8()),
        5 => a.clock_info.safe = !a.clock_info.safe,
        6 => a.firmware_version ^= c.u64(),
        7 => a.qualified_signer.0 = &data[..data.len().min(68)],
        _ => {
            if let TpmuAttest::Quote(q) = &mut a.attested {
                if let Some(b) = q.pcr_select.banks_mut().first_mut() {
                    let i = u32::from(c.u8() % 24);
                    *b = if b.contains(i) { b.without(i) } else { b.with(i).expect("below 24") };
                }
            }
        }
    }
    let mut buf = vec![0u8; copy.len() + 256];
    if let Ok(out) = a.to_bytes(&mut buf) {
        case.msg = out.to_vec();
    }
}

/// Changes the signature's structure: its hash, its scheme, or (ECDSA) swaps r and s.
fn edit_signature(c: &mut Cursor<'_>, case: &mut Case) {
    let copy = case.sig.clone();
    let Ok(mut s) = TpmtSignature::from_bytes(&copy) else {
        return;
    };
    let hash = HashAlg::ALL[usize::from(c.u8()) % HashAlg::ALL.len()];
    match (&mut s, c.u8() % 2) {
        (TpmtSignature::RsaSsa(r) | TpmtSignature::RsaPss(r), 0) => r.hash = hash,
        (TpmtSignature::RsaSsa(r), _) => s = TpmtSignature::RsaPss(*r),
        (TpmtSignature::RsaPss(r), _) => s = TpmtSignature::RsaSsa(*r),
        (TpmtSignature::Ecdsa(e), 0) => e.hash = hash,
        (TpmtSignature::Ecdsa(e), _) => core::mem::swap(&mut e.signature_r, &mut e.signature_s),
        _ => {}
    }
    let mut buf = vec![0u8; copy.len() + 16];
    if let Ok(out) = s.to_bytes(&mut buf) {
        case.sig = out.to_vec();
    }
}

fn mutate(c: &mut Cursor<'_>, case: &mut Case, bases: &[Base]) {
    match c.u8() % 16 {
        0 => flip(c, &mut case.msg),
        1 => flip(c, &mut case.sig),
        2 => splice(c, &mut case.msg),
        3 => splice(c, &mut case.sig),
        4 => match c.u8() % 4 {
            0 => flip(c, &mut case.nonce),
            1 => {
                case.nonce.pop();
            }
            2 => case.nonce.push(c.u8()),
            _ => case.nonce = c.short_bytes().to_vec(),
        },
        5 => mutate_selection(c, case),
        6 => mutate_values(c, case),
        7 => edit_attest(c, case),
        8 => edit_signature(c, case),
        9 => case.ak = pick(c, bases.len()),
        10 => case.msg = bases[pick(c, bases.len())].v.msg.to_vec(),
        11 => case.sig = bases[pick(c, bases.len())].v.sig.to_vec(),
        12 => match c.u8() % 6 {
            0 => case.policy.allow_sha1_banks = !case.policy.allow_sha1_banks,
            5 => case.policy.allow_sha1_signature = !case.policy.allow_sha1_signature,
            1 => case.policy.allow_empty_nonce = !case.policy.allow_empty_nonce,
            2 => case.policy.require_safe_clock = !case.policy.require_safe_clock,
            3 => case.policy.require_ak_attributes = !case.policy.require_ak_attributes,
            _ => case.policy.min_rsa_bits = [1024, 2048, 3072, 4096][usize::from(c.u8() % 4)],
        },
        13 => {
            // A previous quote's clock, near this one's.
            let now = TpmsAttest::from_bytes(&case.msg)
                .map(|a| a.clock_info)
                .unwrap_or_default();
            let d = c.u8();
            case.previous = Some(TpmsClockInfo {
                clock: now.clock.wrapping_add(u64::from(d & 0x0f)).wrapping_sub(8),
                reset_count: now
                    .reset_count
                    .wrapping_add(u32::from(d >> 4 & 3))
                    .wrapping_sub(1),
                restart_count: now
                    .restart_count
                    .wrapping_add(u32::from(d >> 6))
                    .wrapping_sub(1),
                safe: c.bool(),
            });
        }
        14 => {
            case.parent_qn = Some(match c.u8() % 3 {
                0 => RH_ENDORSEMENT.to_be_bytes().to_vec(),
                1 => RH_OWNER.to_be_bytes().to_vec(),
                _ => c.short_bytes().to_vec(),
            })
        }
        _ => case.previous = None,
    }
}

fn same_banks(a: &TpmlPcrSelection, b: &TpmlPcrSelection) -> bool {
    a.same_pcrs(b)
}

fn check_error(e: &VerifyError, case: &Case, bases: &[Base]) {
    match e {
        VerifyError::AkUnreadable(w) => check_wire_error(w, bases[case.ak].v.ak.len()),
        VerifyError::SignatureUnreadable(w) => check_wire_error(w, case.sig.len()),
        VerifyError::AttestUnreadable(w) => check_wire_error(w, case.msg.len()),
        _ => {}
    }
    let _ = e.to_string();
    let _ = e.check_name();
}

fuzz_target!(|data: &[u8]| {
    let bases = bases();
    let mut c = Cursor::new(data);
    let start = pick(&mut c, bases.len());
    let b = &bases[start];
    let mut case = Case {
        ak: start,
        msg: b.v.msg.to_vec(),
        sig: b.v.sig.to_vec(),
        nonce: b.nonce.clone(),
        selection: b.pcrs.selection.clone(),
        values: b.pcrs.values.iter().map(|v| v.to_vec()).collect(),
        policy: b.policy,
        previous: None,
        parent_qn: None,
    };
    let rounds = c.u8() % 9;
    for _ in 0..rounds {
        mutate(&mut c, &mut case, bases);
    }

    let mut pcrs = PcrValues {
        selection: case.selection.clone(),
        values: Default::default(),
    };
    for v in &case.values {
        if pcrs.values.push(v).is_err() {
            return; // more values than any selection can have
        }
    }
    let expect = {
        let mut e = Expectations::new(&case.nonce, &pcrs);
        e.previous = case.previous;
        e.ak_parent_qualified_name = case.parent_qn.as_deref();
        e
    };
    let ak = &bases[case.ak];
    match verify_quote(&ak.ak, &case.msg, &case.sig, &expect, &case.policy) {
        Err(e) => {
            check_error(&e, &case, bases);
            if rounds == 0 {
                panic!("{}: genuine case refused: {e}", b.v.id);
            }
        }
        Ok(verified) => {
            // Accepted: it must be a genuine case, checked as that case is checked.
            let genuine = bases
                .iter()
                .find(|g| {
                    g.v.msg == case.msg.as_slice()
                        && g.v.key == ak.v.key
                        && (g.ecdsa || g.v.sig == case.sig.as_slice())
                })
                .unwrap_or_else(|| {
                    panic!(
                        "accepted a quote that no genuine case signed (start {}, AK {}): msg {} sig {}",
                        b.v.id,
                        ak.v.id,
                        to_hex(&case.msg),
                        to_hex(&case.sig)
                    )
                });
            assert_eq!(case.nonce, genuine.nonce, "accepted with another nonce");
            assert!(
                same_banks(&case.selection, &genuine.pcrs.selection),
                "accepted with another selection: {:?}",
                case.selection
            );
            assert!(
                case.values
                    .iter()
                    .map(Vec::as_slice)
                    .eq(genuine.pcrs.values.iter().copied()),
                "accepted with other PCR values"
            );
            assert_eq!(verified.attest, genuine.attest);
            if case.nonce.is_empty() {
                assert!(case.policy.allow_empty_nonce);
            }
            if !case
                .selection
                .banks()
                .iter()
                .any(|b| !b.is_empty() && Policy::bank_is_strong(b.hash))
            {
                assert!(
                    case.policy.allow_sha1_banks,
                    "SHA-1-only selection accepted under a strict policy"
                );
            }
            if verified.signing_hash == HashAlg::Sha1 {
                assert!(
                    case.policy.allow_sha1_signature,
                    "SHA-1 signature accepted under a strict policy"
                );
            }
            if let Some(p) = case.previous {
                let now = verified.clock_info();
                assert_eq!(now.reset_count, p.reset_count);
                assert_eq!(now.restart_count, p.restart_count);
                assert!(now.clock >= p.clock);
            }
            if case.policy.require_safe_clock {
                assert!(verified.clock_info().safe);
            }
        }
    }
});

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
