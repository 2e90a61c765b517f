//! Round-trip properties for every wire structure in `baretpm::types`.
//!
//! The parsed types are views that borrow from the input, so a strategy cannot produce them
//! directly. Each strategy here produces an *owned* description (plain `Vec<u8>`s and the
//! `Copy` parameter types), and the test body builds the borrowed view from it. For each
//! structure we check:
//!
//! * `parse(emit(x)) == x`,
//! * `emit(parse(emit(x))) == emit(x)`,
//! * every strict prefix of `emit(x)` is refused as truncated (so no prefix is mistaken for a
//!   complete structure), and for the top-level structures one extra byte is refused as
//!   trailing data.
//!
//! Real vectors from `vectors/external/props/` anchor the layout: parse then emit must give
//! back the captured bytes exactly, so a symmetric mistake in both directions cannot hide.
//!
//! Reproduce a failure with `PROPTEST_RNG_SEED=<seed>`; case counts are fixed per block.

#![cfg(all(feature = "std", feature = "sha1"))]

use baretpm::types::alg::TpmAlgId;
use baretpm::types::attest::TpmsTimeAttestInfo;
use baretpm::types::public::NameError;
use baretpm::types::tpm2b::max;
use baretpm::types::{
    HashAlg, PublicDetails, Tpm2b, Tpm2bPublic, TpmEccCurve, TpmaObject, TpmlDigest,
    TpmlPcrSelection, TpmsAttest, TpmsCertifyInfo, TpmsClockInfo, TpmsCommandAuditInfo,
    TpmsCreationInfo, TpmsEccParms, TpmsEccPoint, TpmsNvCertifyInfo, TpmsNvDigestCertifyInfo,
    TpmsPcrSelection, TpmsQuoteInfo, TpmsRsaParms, TpmsSessionAuditInfo, TpmsSignatureEcc,
    TpmsSignatureRsa, TpmtEccScheme, TpmtHa, TpmtKdfScheme, TpmtKeyedHashScheme, TpmtPublic,
    TpmtRsaScheme, TpmtSignature, TpmtSymDefObject, TpmuAttest,
};
use baretpm::wire::{self, ErrorKind, Marshal, Reader, Unmarshal, Writer};
use proptest::prelude::*;
use proptest::sample::Index;
use sha2::Digest as _;
use std::fmt::Debug;

/// Large enough for every structure here (TPM2B_PUBLIC and TPM2B_ATTEST are the largest).
const EMIT_LIMIT: usize = 1 << 16;

fn emit<M: Marshal + ?Sized>(m: &M) -> Vec<u8> {
    wire::to_vec(m, EMIT_LIMIT).expect("a valid value must marshal")
}

// ------------------------------------------------------------------------------------------
// Generic checks shared by every structure.
// ------------------------------------------------------------------------------------------

/// `parse(emit(x)) == x` and `emit(parse(emit(x))) == emit(x)`. Returns the emitted bytes.
fn check_roundtrip<'a, T>(value: &T, bytes: &'a [u8]) -> Result<T, TestCaseError>
where
    T: Unmarshal<'a> + Marshal + PartialEq + Debug,
{
    let parsed = T::from_bytes(bytes)
        .map_err(|e| TestCaseError::fail(format!("emitted bytes do not parse: {e}")))?;
    prop_assert_eq!(&parsed, value);
    prop_assert_eq!(emit(&parsed), bytes);
    Ok(parsed)
}

/// Cutting the encoding anywhere short of its end must give a `Truncated` error that points
/// inside the shortened input. `cuts` picks a few positions; the last byte and the empty input
/// are always tried.
fn check_prefixes_truncated<'a, T>(bytes: &'a [u8], cuts: &[Index]) -> Result<(), TestCaseError>
where
    T: Unmarshal<'a> + Debug,
{
    let mut positions: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len())).collect();
    positions.push(0);
    positions.push(bytes.len().saturating_sub(1));
    for cut in positions {
        if cut >= bytes.len() {
            continue;
        }
        let prefix = &bytes[..cut];
        match T::from_bytes(prefix) {
            Ok(v) => {
                return Err(TestCaseError::fail(format!(
                    "prefix of {cut}/{} bytes parsed as {v:?}",
                    bytes.len()
                )))
            }
            Err(e) => {
                prop_assert!(
                    matches!(e.kind, ErrorKind::Truncated { .. }),
                    "prefix of {} bytes: expected Truncated, got {:?}",
                    cut,
                    e
                );
                prop_assert!(e.offset <= cut, "offset {} beyond {}", e.offset, cut);
            }
        }
    }
    Ok(())
}

/// One more byte after a complete structure is refused as trailing data, at the right offset.
fn check_trailing_refused<'a, T>(with_extra: &'a [u8]) -> Result<(), TestCaseError>
where
    T: Unmarshal<'a> + Debug,
{
    let e = T::from_bytes(with_extra).expect_err("trailing byte accepted");
    prop_assert_eq!(e.kind, ErrorKind::TrailingBytes { count: 1 });
    prop_assert_eq!(e.offset, with_extra.len() - 1);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Leaf strategies.
// ------------------------------------------------------------------------------------------

fn hash_alg() -> impl Strategy<Value = HashAlg> {
    prop::sample::select(HashAlg::ALL.to_vec())
}

/// Contents of a TPM2B whose maximum is `max`: often empty or tiny, often exactly at the
/// maximum, otherwise anywhere in between.
fn tpm2b_bytes(max: usize) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..=max.min(4)),
        1 => prop::collection::vec(any::<u8>(), max..=max),
        3 => prop::collection::vec(any::<u8>(), 0..=max),
    ]
    .boxed()
}

fn clock_info() -> impl Strategy<Value = TpmsClockInfo> {
    (any::<u64>(), any::<u32>(), any::<u32>(), any::<bool>()).prop_map(
        |(clock, reset_count, restart_count, safe)| TpmsClockInfo {
            clock,
            reset_count,
            restart_count,
            safe,
        },
    )
}

/// A selection in either wire width. Index bits stay below 24 (the crate's range); with
/// `sizeofSelect = 4` the fourth byte is therefore always zero.
fn pcr_selection() -> impl Strategy<Value = TpmsPcrSelection> {
    let bitmap = prop_oneof![
        Just(0u32),
        Just(0x00ff_ffff),
        (0u32..24).prop_map(|i| 1 << i),
        0u32..(1 << 24),
    ];
    (hash_alg(), prop::sample::select(vec![3u8, 4]), bitmap).prop_map(
        |(hash, size_of_select, pcrs)| {
            TpmsPcrSelection::from_select(hash, size_of_select, pcrs)
                .expect("valid by construction")
        },
    )
}

fn pcr_selection_list() -> impl Strategy<Value = TpmlPcrSelection> {
    prop::collection::vec(pcr_selection(), 0..=baretpm::types::pcr::MAX_PCR_BANKS).prop_map(
        |banks| {
            let mut list = TpmlPcrSelection::default();
            for b in banks {
                list.push(b).expect("at most MAX_PCR_BANKS banks");
            }
            list
        },
    )
}

// ------------------------------------------------------------------------------------------
// TPMS_ATTEST and its bodies.
// ------------------------------------------------------------------------------------------

/// Owned form of `TpmuAttest`.
#[derive(Clone, Debug)]
enum BodyOwned {
    Certify {
        name: Vec<u8>,
        qualified_name: Vec<u8>,
    },
    Quote {
        select: TpmlPcrSelection,
        digest: Vec<u8>,
    },
    SessionAudit {
        exclusive: bool,
        digest: Vec<u8>,
    },
    CommandAudit {
        counter: u64,
        alg: u16,
        audit: Vec<u8>,
        command: Vec<u8>,
    },
    Time(TpmsTimeAttestInfo),
    Creation {
        name: Vec<u8>,
        hash: Vec<u8>,
    },
    Nv {
        name: Vec<u8>,
        offset: u16,
        contents: Vec<u8>,
    },
    NvDigest {
        name: Vec<u8>,
        digest: Vec<u8>,
    },
}

impl BodyOwned {
    fn view(&self) -> TpmuAttest<'_> {
        match self {
            Self::Certify {
                name,
                qualified_name,
            } => TpmuAttest::Certify(TpmsCertifyInfo {
                name: Tpm2b(name),
                qualified_name: Tpm2b(qualified_name),
            }),
            Self::Quote { select, digest } => TpmuAttest::Quote(TpmsQuoteInfo {
                pcr_select: select.clone(),
                pcr_digest: Tpm2b(digest),
            }),
            Self::SessionAudit { exclusive, digest } => {
                TpmuAttest::SessionAudit(TpmsSessionAuditInfo {
                    exclusive_session: *exclusive,
                    session_digest: Tpm2b(digest),
                })
            }
            Self::CommandAudit {
                counter,
                alg,
                audit,
                command,
            } => TpmuAttest::CommandAudit(TpmsCommandAuditInfo {
                audit_counter: *counter,
                digest_alg: TpmAlgId(*alg),
                audit_digest: Tpm2b(audit),
                command_digest: Tpm2b(command),
            }),
            Self::Time(t) => TpmuAttest::Time(*t),
            Self::Creation { name, hash } => TpmuAttest::Creation(TpmsCreationInfo {
                object_name: Tpm2b(name),
                creation_hash: Tpm2b(hash),
            }),
            Self::Nv {
                name,
                offset,
                contents,
            } => TpmuAttest::Nv(TpmsNvCertifyInfo {
                index_name: Tpm2b(name),
                offset: *offset,
                nv_contents: Tpm2b(contents),
            }),
            Self::NvDigest { name, digest } => TpmuAttest::NvDigest(TpmsNvDigestCertifyInfo {
                index_name: Tpm2b(name),
                nv_digest: Tpm2b(digest),
            }),
        }
    }
}

fn attest_body() -> impl Strategy<Value = BodyOwned> {
    let name = || tpm2b_bytes(max::NAME);
    let digest = || tpm2b_bytes(max::DIGEST);
    prop_oneof![
        (name(), name()).prop_map(|(name, qualified_name)| BodyOwned::Certify {
            name,
            qualified_name
        }),
        (pcr_selection_list(), digest())
            .prop_map(|(select, digest)| BodyOwned::Quote { select, digest }),
        (any::<bool>(), digest())
            .prop_map(|(exclusive, digest)| BodyOwned::SessionAudit { exclusive, digest }),
        (any::<u64>(), any::<u16>(), digest(), digest()).prop_map(
            |(counter, alg, audit, command)| BodyOwned::CommandAudit {
                counter,
                alg,
                audit,
                command
            }
        ),
        (any::<u64>(), clock_info(), any::<u64>()).prop_map(|(time, clock_info, fw)| {
            BodyOwned::Time(TpmsTimeAttestInfo {
                time,
                clock_info,
                firmware_version: fw,
            })
        }),
        (name(), digest()).prop_map(|(name, hash)| BodyOwned::Creation { name, hash }),
        (name(), any::<u16>(), tpm2b_bytes(max::NV_BUFFER)).prop_map(|(name, offset, contents)| {
            BodyOwned::Nv {
                name,
                offset,
                contents,
            }
        }),
        (name(), digest()).prop_map(|(name, digest)| BodyOwned::NvDigest { name, digest }),
    ]
}

#[derive(Clone, Debug)]
struct AttestOwned {
    qualified_signer: Vec<u8>,
    extra_data: Vec<u8>,
    clock_info: TpmsClockInfo,
    firmware_version: u64,
    body: BodyOwned,
}

impl AttestOwned {
    fn view(&self) -> TpmsAttest<'_> {
        TpmsAttest {
            qualified_signer: Tpm2b(&self.qualified_signer),
            extra_data: Tpm2b(&self.extra_data),
            clock_info: self.clock_info,
            firmware_version: self.firmware_version,
            attested: self.body.view(),
        }
    }
}

fn attest() -> impl Strategy<Value = AttestOwned> {
    (
        tpm2b_bytes(max::NAME),
        tpm2b_bytes(max::DATA),
        clock_info(),
        any::<u64>(),
        attest_body(),
    )
        .prop_map(
            |(qualified_signer, extra_data, clock_info, firmware_version, body)| AttestOwned {
                qualified_signer,
                extra_data,
                clock_info,
                firmware_version,
                body,
            },
        )
}

// ------------------------------------------------------------------------------------------
// TPMT_SIGNATURE and TPMT_HA.
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum SigOwned {
    RsaSsa(HashAlg, Vec<u8>),
    RsaPss(HashAlg, Vec<u8>),
    Ecdsa(HashAlg, Vec<u8>, Vec<u8>),
    Hmac(HashAlg, Vec<u8>),
    Null,
}

impl SigOwned {
    fn view(&self) -> TpmtSignature<'_> {
        match self {
            Self::RsaSsa(hash, sig) => TpmtSignature::RsaSsa(TpmsSignatureRsa {
                hash: *hash,
                sig: Tpm2b(sig),
            }),
            Self::RsaPss(hash, sig) => TpmtSignature::RsaPss(TpmsSignatureRsa {
                hash: *hash,
                sig: Tpm2b(sig),
            }),
            Self::Ecdsa(hash, r, s) => TpmtSignature::Ecdsa(TpmsSignatureEcc {
                hash: *hash,
                signature_r: Tpm2b(r),
                signature_s: Tpm2b(s),
            }),
            Self::Hmac(hash, digest) => TpmtSignature::Hmac(TpmtHa {
                hash: *hash,
                digest,
            }),
            Self::Null => TpmtSignature::Null,
        }
    }
}

/// A hash and a digest of exactly its size.
fn hash_and_digest() -> impl Strategy<Value = (HashAlg, Vec<u8>)> {
    hash_alg().prop_flat_map(|h| {
        let n = h.digest_size();
        (Just(h), prop::collection::vec(any::<u8>(), n..=n))
    })
}

fn signature() -> impl Strategy<Value = SigOwned> {
    let rsa = || tpm2b_bytes(max::RSA_KEY_BYTES);
    let ecc = || tpm2b_bytes(max::ECC_KEY_BYTES);
    prop_oneof![
        (hash_alg(), rsa()).prop_map(|(h, s)| SigOwned::RsaSsa(h, s)),
        (hash_alg(), rsa()).prop_map(|(h, s)| SigOwned::RsaPss(h, s)),
        (hash_alg(), ecc(), ecc()).prop_map(|(h, r, s)| SigOwned::Ecdsa(h, r, s)),
        hash_and_digest().prop_map(|(h, d)| SigOwned::Hmac(h, d)),
        Just(SigOwned::Null),
    ]
}

// ------------------------------------------------------------------------------------------
// TPMT_PUBLIC and its parameter enums.
// ------------------------------------------------------------------------------------------

fn sym_def() -> impl Strategy<Value = TpmtSymDefObject> {
    let algorithm = prop::sample::select(vec![TpmAlgId::AES, TpmAlgId::SM4, TpmAlgId::CAMELLIA]);
    let mode = prop::sample::select(vec![
        TpmAlgId::CTR,
        TpmAlgId::OFB,
        TpmAlgId::CBC,
        TpmAlgId::CFB,
        TpmAlgId::ECB,
        TpmAlgId::NULL,
    ]);
    let key_bits = prop_oneof![prop::sample::select(vec![128u16, 192, 256]), any::<u16>()];
    prop_oneof![
        Just(TpmtSymDefObject::Null),
        (algorithm, key_bits, mode).prop_map(|(algorithm, key_bits, mode)| {
            TpmtSymDefObject::Cipher {
                algorithm,
                key_bits,
                mode,
            }
        }),
    ]
}

fn rsa_scheme() -> impl Strategy<Value = TpmtRsaScheme> {
    prop_oneof![
        Just(TpmtRsaScheme::Null),
        hash_alg().prop_map(TpmtRsaScheme::RsaSsa),
        hash_alg().prop_map(TpmtRsaScheme::RsaPss),
        Just(TpmtRsaScheme::RsaEs),
        hash_alg().prop_map(TpmtRsaScheme::Oaep),
    ]
}

fn ecc_scheme() -> impl Strategy<Value = TpmtEccScheme> {
    prop_oneof![
        Just(TpmtEccScheme::Null),
        hash_alg().prop_map(TpmtEccScheme::Ecdsa),
        (hash_alg(), any::<u16>()).prop_map(|(hash, count)| TpmtEccScheme::Ecdaa { hash, count }),
        hash_alg().prop_map(TpmtEccScheme::Sm2),
        hash_alg().prop_map(TpmtEccScheme::EcSchnorr),
        hash_alg().prop_map(TpmtEccScheme::Ecdh),
        hash_alg().prop_map(TpmtEccScheme::Ecmqv),
    ]
}

fn kdf_scheme() -> impl Strategy<Value = TpmtKdfScheme> {
    let scheme = prop::sample::select(vec![
        TpmAlgId::MGF1,
        TpmAlgId::KDF1_SP800_56A,
        TpmAlgId::KDF2,
        TpmAlgId::KDF1_SP800_108,
    ]);
    prop_oneof![
        Just(TpmtKdfScheme::Null),
        (scheme, hash_alg()).prop_map(|(scheme, hash)| TpmtKdfScheme::Kdf { scheme, hash }),
    ]
}

fn keyed_hash_scheme() -> impl Strategy<Value = TpmtKeyedHashScheme> {
    let kdf = prop::sample::select(vec![
        TpmAlgId::MGF1,
        TpmAlgId::KDF1_SP800_56A,
        TpmAlgId::KDF2,
        TpmAlgId::KDF1_SP800_108,
        TpmAlgId::NULL,
    ]);
    prop_oneof![
        Just(TpmtKeyedHashScheme::Null),
        hash_alg().prop_map(TpmtKeyedHashScheme::Hmac),
        (hash_alg(), kdf).prop_map(|(hash, kdf)| TpmtKeyedHashScheme::Xor { hash, kdf }),
    ]
}

fn curve() -> impl Strategy<Value = TpmEccCurve> {
    prop_oneof![
        prop::sample::select(vec![
            TpmEccCurve::NONE,
            TpmEccCurve::NIST_P192,
            TpmEccCurve::NIST_P224,
            TpmEccCurve::NIST_P256,
            TpmEccCurve::NIST_P384,
            TpmEccCurve::NIST_P521,
            TpmEccCurve::BN_P256,
            TpmEccCurve::BN_P638,
            TpmEccCurve::SM2_P256,
        ]),
        any::<u16>().prop_map(TpmEccCurve),
    ]
}

#[derive(Clone, Debug)]
enum DetailsOwned {
    Rsa {
        parms: TpmsRsaParms,
        n: Vec<u8>,
    },
    Ecc {
        parms: TpmsEccParms,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    KeyedHash {
        scheme: TpmtKeyedHashScheme,
        unique: Vec<u8>,
    },
    SymCipher {
        sym: TpmtSymDefObject,
        unique: Vec<u8>,
    },
}

#[derive(Clone, Debug)]
struct PublicOwned {
    name_alg: Option<HashAlg>,
    attributes: u32,
    auth_policy: Vec<u8>,
    details: DetailsOwned,
}

impl PublicOwned {
    fn view(&self) -> TpmtPublic<'_> {
        let details = match &self.details {
            DetailsOwned::Rsa { parms, n } => PublicDetails::Rsa {
                parms: *parms,
                unique: Tpm2b(n),
            },
            DetailsOwned::Ecc { parms, x, y } => PublicDetails::Ecc {
                parms: *parms,
                unique: TpmsEccPoint {
                    x: Tpm2b(x),
                    y: Tpm2b(y),
                },
            },
            DetailsOwned::KeyedHash { scheme, unique } => PublicDetails::KeyedHash {
                scheme: *scheme,
                unique: Tpm2b(unique),
            },
            DetailsOwned::SymCipher { sym, unique } => PublicDetails::SymCipher {
                sym: *sym,
                unique: Tpm2b(unique),
            },
        };
        TpmtPublic {
            name_alg: self.name_alg,
            object_attributes: TpmaObject(self.attributes),
            auth_policy: Tpm2b(&self.auth_policy),
            details,
        }
    }
}

fn public_details() -> impl Strategy<Value = DetailsOwned> {
    let rsa_parms = (sym_def(), rsa_scheme(), any::<u16>(), any::<u32>()).prop_map(
        |(symmetric, scheme, key_bits, exponent)| TpmsRsaParms {
            symmetric,
            scheme,
            key_bits,
            exponent,
        },
    );
    let ecc_parms = (sym_def(), ecc_scheme(), curve(), kdf_scheme()).prop_map(
        |(symmetric, scheme, curve_id, kdf)| TpmsEccParms {
            symmetric,
            scheme,
            curve_id,
            kdf,
        },
    );
    prop_oneof![
        (rsa_parms, tpm2b_bytes(max::RSA_KEY_BYTES))
            .prop_map(|(parms, n)| DetailsOwned::Rsa { parms, n }),
        (
            ecc_parms,
            tpm2b_bytes(max::ECC_KEY_BYTES),
            tpm2b_bytes(max::ECC_KEY_BYTES)
        )
            .prop_map(|(parms, x, y)| DetailsOwned::Ecc { parms, x, y }),
        (keyed_hash_scheme(), tpm2b_bytes(max::DIGEST))
            .prop_map(|(scheme, unique)| DetailsOwned::KeyedHash { scheme, unique }),
        // A symmetric key always names its cipher: NULL is refused there (tested below).
        (
            sym_def().prop_filter("not NULL", |s| *s != TpmtSymDefObject::Null),
            tpm2b_bytes(max::DIGEST)
        )
            .prop_map(|(sym, unique)| DetailsOwned::SymCipher { sym, unique }),
    ]
}

fn public() -> impl Strategy<Value = PublicOwned> {
    (
        prop::option::weighted(0.9, hash_alg()),
        // Any combination of the defined attribute bits; reserved bits stay clear.
        any::<u32>().prop_map(|a| a & !TpmaObject::RESERVED),
        tpm2b_bytes(max::DIGEST),
        public_details(),
    )
        .prop_map(|(name_alg, attributes, auth_policy, details)| PublicOwned {
            name_alg,
            attributes,
            auth_policy,
            details,
        })
}

/// The Name, computed here without the crate: `nameAlg || H(TPMT_PUBLIC bytes)`.
fn independent_name(alg: HashAlg, tpmt: &[u8]) -> Option<Vec<u8>> {
    let digest: Vec<u8> = match alg {
        HashAlg::Sha1 => sha1::Sha1::digest(tpmt).to_vec(),
        HashAlg::Sha256 => sha2::Sha256::digest(tpmt).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(tpmt).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(tpmt).to_vec(),
        _ => return None,
    };
    let mut name = alg.alg_id().0.to_be_bytes().to_vec();
    name.extend_from_slice(&digest);
    Some(name)
}

// ------------------------------------------------------------------------------------------
// Properties.
// ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// All eight TPMU_ATTEST bodies, with every TPM2B from empty to its maximum.
    #[test]
    fn attest_roundtrip(a in attest(), cuts in prop::collection::vec(any::<Index>(), 4)) {
        let view = a.view();
        let bytes = emit(&view);
        check_roundtrip(&view, &bytes)?;
        check_prefixes_truncated::<TpmsAttest>(&bytes, &cuts)?;

        let mut longer = bytes.clone();
        longer.push(0);
        check_trailing_refused::<TpmsAttest>(&longer)?;

        // The same structure inside TPM2B_ATTEST: the raw bytes handed back are exactly the
        // emitted ones (they are what the TPM signs).
        let mut sized = (bytes.len() as u16).to_be_bytes().to_vec();
        sized.extend_from_slice(&bytes);
        let mut r = Reader::new(&sized);
        let (parsed, raw) = TpmsAttest::read_tpm2b(&mut r).expect("TPM2B_ATTEST parses");
        prop_assert!(r.is_empty());
        prop_assert_eq!(&parsed, &view);
        prop_assert_eq!(raw, &bytes[..]);
    }

    /// TPMT_SIGNATURE: RSASSA, RSAPSS, ECDSA, HMAC and NULL with every hash.
    #[test]
    fn signature_roundtrip(s in signature(), cuts in prop::collection::vec(any::<Index>(), 4)) {
        let view = s.view();
        let bytes = emit(&view);
        check_roundtrip(&view, &bytes)?;
        check_prefixes_truncated::<TpmtSignature>(&bytes, &cuts)?;
        let mut longer = bytes.clone();
        longer.push(0xff);
        check_trailing_refused::<TpmtSignature>(&longer)?;
    }

    /// TPMT_PUBLIC (all four types, every scheme, symmetric and KDF variant), TPM2B_PUBLIC
    /// around it, and the object's Name.
    #[test]
    fn public_roundtrip(p in public(), cuts in prop::collection::vec(any::<Index>(), 4)) {
        let view = p.view();
        let tpmt = emit(&view);
        let parsed = check_roundtrip(&view, &tpmt)?;
        prop_assert_eq!(parsed.type_alg(), view.type_alg());
        check_prefixes_truncated::<TpmtPublic>(&tpmt, &cuts)?;
        let mut longer = tpmt.clone();
        longer.push(0);
        check_trailing_refused::<TpmtPublic>(&longer)?;

        // TPM2B_PUBLIC: a u16 size equal to the TPMT_PUBLIC length, then those bytes.
        let b = Tpm2bPublic::from_tpmt_bytes(&tpmt).expect("emitted TPMT_PUBLIC parses");
        prop_assert_eq!(b.public_area(), view);
        let sized = emit(&b);
        prop_assert_eq!(&sized[..2], &(tpmt.len() as u16).to_be_bytes()[..]);
        prop_assert_eq!(&sized[2..], &tpmt[..]);
        let parsed_b = check_roundtrip(&b, &sized)?;
        prop_assert_eq!(parsed_b.raw(), &tpmt[..]);
        check_prefixes_truncated::<Tpm2bPublic>(&sized, &cuts)?;
        let from_tpmt = Tpm2bPublic::from_tpmt_bytes(&tpmt).expect("bare TPMT_PUBLIC parses");
        prop_assert_eq!(from_tpmt, b);

        // Name = nameAlg || H_nameAlg(TPMT_PUBLIC), computed independently.
        match (view.name_alg, b.name()) {
            (None, Err(e)) => prop_assert_eq!(e, NameError::NullNameAlg),
            (Some(alg), got) => match independent_name(alg, &tpmt) {
                Some(want) => {
                    let got = got.expect("name");
                    prop_assert_eq!(got.as_bytes(), &want[..]);
                }
                None => prop_assert!(matches!(got, Err(NameError::Hash(_)))),
            },
            (None, Ok(n)) => prop_assert!(false, "a NULL nameAlg gave a Name {:?}", n),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// TPMS_PCR_SELECTION with sizeofSelect 3 and 4.
    #[test]
    fn pcr_selection_roundtrip(s in pcr_selection()) {
        let bytes = emit(&s);
        prop_assert_eq!(bytes.len(), 3 + usize::from(s.size_of_select()));
        check_roundtrip(&s, &bytes)?;
        check_prefixes_truncated::<TpmsPcrSelection>(&bytes, &[])?;
        // The bitmap is little-endian by byte: PCR i is bit (i % 8) of byte i / 8.
        for i in 0..24u32 {
            let on = bytes[3 + (i / 8) as usize] & (1 << (i % 8)) != 0;
            prop_assert_eq!(on, s.contains(i));
        }
        let mut longer = bytes.clone();
        longer.push(0);
        check_trailing_refused::<TpmsPcrSelection>(&longer)?;
    }

    /// TPML_PCR_SELECTION with 0 to 16 banks, mixed widths, duplicates allowed on the wire.
    #[test]
    fn pcr_selection_list_roundtrip(l in pcr_selection_list(), cuts in prop::collection::vec(any::<Index>(), 4)) {
        let bytes = emit(&l);
        let parsed = check_roundtrip(&l, &bytes)?;
        prop_assert_eq!(parsed.pcr_count(), l.pcr_count());
        check_prefixes_truncated::<TpmlPcrSelection>(&bytes, &cuts)?;
        let mut longer = bytes.clone();
        longer.push(0);
        check_trailing_refused::<TpmlPcrSelection>(&longer)?;
    }

    /// TPML_DIGEST with 0 to 8 digests of 0 to 64 bytes.
    #[test]
    fn digest_list_roundtrip(ds in prop::collection::vec(tpm2b_bytes(max::DIGEST), 0..=8), cuts in prop::collection::vec(any::<Index>(), 4)) {
        let mut l = TpmlDigest::default();
        for d in &ds {
            l.digests.push(Tpm2b(d)).expect("at most 8");
        }
        let bytes = emit(&l);
        check_roundtrip(&l, &bytes)?;
        check_prefixes_truncated::<TpmlDigest>(&bytes, &cuts)?;
        let mut longer = bytes.clone();
        longer.push(0);
        check_trailing_refused::<TpmlDigest>(&longer)?;
    }

    /// TPMS_CLOCK_INFO: 17 fixed bytes, big-endian.
    #[test]
    fn clock_info_roundtrip(c in clock_info()) {
        let bytes = emit(&c);
        prop_assert_eq!(bytes.len(), TpmsClockInfo::SIZE);
        prop_assert_eq!(&bytes[..8], &c.clock.to_be_bytes()[..]);
        prop_assert_eq!(&bytes[8..12], &c.reset_count.to_be_bytes()[..]);
        prop_assert_eq!(&bytes[12..16], &c.restart_count.to_be_bytes()[..]);
        prop_assert_eq!(bytes[16], u8::from(c.safe));
        check_roundtrip(&c, &bytes)?;
        check_prefixes_truncated::<TpmsClockInfo>(&bytes, &[])?;
    }

    /// TPMT_HA (not a top-level Marshal type): hash id then exactly digest_size bytes; a digest
    /// of the wrong length is refused on emit.
    #[test]
    fn tpmt_ha_roundtrip((h, d) in hash_and_digest(), wrong in 0usize..=66) {
        let ha = TpmtHa { hash: h, digest: &d };
        let mut buf = [0u8; 80];
        let mut w = Writer::new(&mut buf);
        ha.write(&mut w, "ha").expect("valid TPMT_HA");
        let n = w.len();
        prop_assert_eq!(n, 2 + h.digest_size());
        let mut r = Reader::new(&buf[..n]);
        prop_assert_eq!(TpmtHa::read(&mut r, "ha").expect("parses"), ha);
        prop_assert!(r.is_empty());

        prop_assume!(wrong != h.digest_size());
        let bad = vec![0u8; wrong];
        let mut w = Writer::new(&mut buf);
        let bad_ha = TpmtHa { hash: h, digest: &bad };
        prop_assert!(bad_ha.write(&mut w, "ha").is_err());
    }

    /// Tpm2b<MAX> for each maximum the crate uses: contents up to MAX round-trip; one byte more
    /// is refused on emit, and a size field one above MAX is refused on parse.
    #[test]
    fn tpm2b_roundtrip(
        digest in tpm2b_bytes(max::DIGEST),
        data in tpm2b_bytes(max::DATA),
        name in tpm2b_bytes(max::NAME),
        ecc in tpm2b_bytes(max::ECC_KEY_BYTES),
        rsa in tpm2b_bytes(max::RSA_KEY_BYTES),
        nv in tpm2b_bytes(max::NV_BUFFER),
    ) {
        check_tpm2b::<{ max::DIGEST }>(&digest)?;
        check_tpm2b::<{ max::DATA }>(&data)?;
        check_tpm2b::<{ max::NAME }>(&name)?;
        check_tpm2b::<{ max::ECC_KEY_BYTES }>(&ecc)?;
        check_tpm2b::<{ max::RSA_KEY_BYTES }>(&rsa)?;
        check_tpm2b::<{ max::NV_BUFFER }>(&nv)?;
    }
}

fn check_tpm2b<const MAX: usize>(contents: &[u8]) -> Result<(), TestCaseError> {
    let v = Tpm2b::<MAX>(contents);
    let bytes = emit(&v);
    prop_assert_eq!(&bytes[..2], &(contents.len() as u16).to_be_bytes()[..]);
    check_roundtrip(&v, &bytes)?;
    check_prefixes_truncated::<Tpm2b<MAX>>(&bytes, &[])?;

    let over = vec![0u8; MAX + 1];
    let e = wire::to_vec(&Tpm2b::<MAX>(&over), EMIT_LIMIT).expect_err("over-max emitted");
    prop_assert_eq!(
        e.kind,
        ErrorKind::SizeAboveMax {
            size: MAX + 1,
            max: MAX
        }
    );
    let mut wire_over = ((MAX + 1) as u16).to_be_bytes().to_vec();
    wire_over.extend_from_slice(&over);
    let e = Tpm2b::<MAX>::from_bytes(&wire_over).expect_err("over-max parsed");
    prop_assert_eq!(
        e.kind,
        ErrorKind::SizeAboveMax {
            size: MAX + 1,
            max: MAX
        }
    );
    prop_assert_eq!(e.offset, 0);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Real captures: parse, then emit, must give the captured bytes back unchanged.
// ------------------------------------------------------------------------------------------

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/external/props");

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!("{VECTORS}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn real_vectors_reemit_byte_identical() {
    for name in [
        "gce-cos-85-nonce9009.sha256.quote.bin",
        "gvtpm_ecc_p256_ak.certifycreation.attest.bin",
    ] {
        let bytes = vector(name);
        let a = TpmsAttest::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(emit(&a), bytes, "{name}");
    }
    for name in [
        "gce-cos-85-nonce9009.sha256.sig.bin",
        "gvtpm_ecc_p256_ak.certifycreation.sig.bin",
    ] {
        let bytes = vector(name);
        let s = TpmtSignature::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(emit(&s), bytes, "{name}");
    }
    for name in [
        "gce-cos-85-nonce9009.akpub.bin",
        "gvtpm_ecc_p256_ak.akpub.bin",
    ] {
        let bytes = vector(name);
        let p = TpmtPublic::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(emit(&p), bytes, "{name}");
    }
    let bytes = vector("keylime-ak.pub");
    let p = Tpm2bPublic::from_bytes(&bytes).expect("keylime ak.pub");
    assert_eq!(emit(&p), bytes);
    // keylime's ak.name is the Name tpm2-tools reported for this key (no size prefix).
    let name = vector("keylime-ak.name");
    assert_eq!(&name[..], p.name().expect("sha256 name").as_bytes());
    assert_eq!(
        independent_name(HashAlg::Sha256, p.raw()).as_deref(),
        Some(&name[..])
    );
}

// ------------------------------------------------------------------------------------------
// The largest values: exactly at the sized-structure maxima, and one byte above.
// ------------------------------------------------------------------------------------------

/// A size prefix of `size` followed by `body`.
fn with_size(size: usize, body: &[u8]) -> Vec<u8> {
    let mut v = (size as u16).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

#[test]
fn largest_attest_fills_tpm2b_attest_exactly() {
    let a = AttestOwned {
        qualified_signer: vec![1; max::NAME],
        extra_data: vec![2; max::DATA],
        clock_info: TpmsClockInfo::default(),
        firmware_version: u64::MAX,
        body: BodyOwned::Nv {
            name: vec![3; max::NAME],
            offset: u16::MAX,
            contents: vec![4; max::NV_BUFFER],
        },
    };
    let bytes = emit(&a.view());
    assert_eq!(bytes.len(), max::ATTEST);
    let sized = with_size(bytes.len(), &bytes);
    let (parsed, raw) = TpmsAttest::read_tpm2b(&mut Reader::new(&sized)).expect("at the maximum");
    assert_eq!(parsed, a.view());
    assert_eq!(raw, &bytes[..]);

    let mut over = bytes.clone();
    over.push(0);
    let e = TpmsAttest::read_tpm2b(&mut Reader::new(&with_size(over.len(), &over)))
        .expect_err("one byte above the maximum");
    assert_eq!(
        e.kind,
        ErrorKind::SizeAboveMax {
            size: max::ATTEST + 1,
            max: max::ATTEST
        }
    );
    assert_eq!(e.offset, 0);
}

#[test]
fn largest_public_fills_tpm2b_public_exactly() {
    let p = PublicOwned {
        name_alg: Some(HashAlg::Sha512),
        attributes: !TpmaObject::RESERVED,
        auth_policy: vec![5; max::DIGEST],
        details: DetailsOwned::Rsa {
            parms: TpmsRsaParms {
                symmetric: TpmtSymDefObject::Cipher {
                    algorithm: TpmAlgId::AES,
                    key_bits: 256,
                    mode: TpmAlgId::CFB,
                },
                scheme: TpmtRsaScheme::RsaPss(HashAlg::Sha512),
                key_bits: 4096,
                exponent: 65537,
            },
            n: vec![0xff; max::RSA_KEY_BYTES],
        },
    };
    let view = p.view();
    let tpmt = emit(&view);
    assert_eq!(tpmt.len(), max::PUBLIC);
    let b = Tpm2bPublic::from_tpmt_bytes(&tpmt).expect("at the maximum");
    assert_eq!(b.public_area(), view);
    let sized = emit(&b);
    assert_eq!(Tpm2bPublic::from_bytes(&sized).expect("at the maximum"), b);

    // A TPMT_PUBLIC cannot grow past the maximum while staying valid, so make the sized
    // wrapper claim one byte more than allowed, with that byte present.
    let mut over = tpmt.clone();
    over.push(0);
    let e = Tpm2bPublic::from_bytes(&with_size(over.len(), &over)).expect_err("above maximum");
    assert_eq!(
        e.kind,
        ErrorKind::SizeAboveMax {
            size: max::PUBLIC + 1,
            max: max::PUBLIC
        }
    );
    // With the size left at the real length, the extra byte is trailing data after the
    // TPM2B_PUBLIC, not part of it.
    let e = Tpm2bPublic::from_bytes(&with_size(tpmt.len(), &over)).expect_err("trailing");
    assert_eq!(e.kind, ErrorKind::TrailingBytes { count: 1 });
}

#[test]
fn symcipher_with_null_symmetric_is_refused() {
    // TPMT_PUBLIC: type SYMCIPHER, nameAlg SHA-256, attributes 0, empty policy, sym NULL, empty unique.
    let bytes = [
        0x00, 0x25, 0x00, 0x0b, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
    ];
    let e = <TpmtPublic as Unmarshal>::from_bytes(&bytes).unwrap_err();
    assert_eq!(
        e.kind,
        baretpm::wire::ErrorKind::InvalidValue { value: 0x10 }
    );
    assert_eq!(e.what, "TPMS_SYMCIPHER_PARMS.sym");
    assert_eq!(e.offset, 10);
}
