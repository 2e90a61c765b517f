//! Forged, validly signed TPM quotes for tests.
//!
//! A [`QuoteForge`] describes one quote from end to end: the attestation key and the form it
//! is handed to the verifier in, every TPMS_ATTEST field, the signature scheme, and what the
//! verifier is told to expect. [`QuoteForge::build`] marshals the attestation with the crate's
//! own `Marshal`, signs it with a test key from `vectors/keys/`, and returns plain bytes.
//!
//! Hooks change bytes at three points: the AK public area before it is used, the attestation
//! before it is signed (so the signature covers the change and only the intended check can
//! object), and the attestation or the signature after signing.
#![allow(dead_code)]

use baretpm::types::{
    HashAlg, PcrValues, PublicDetails, Tpm2b, TpmAlgId, TpmEccCurve, TpmaObject, TpmlPcrSelection,
    TpmsAttest, TpmsCertifyInfo, TpmsClockInfo, TpmsCommandAuditInfo, TpmsCreationInfo,
    TpmsEccParms, TpmsEccPoint, TpmsNvCertifyInfo, TpmsNvDigestCertifyInfo, TpmsPcrSelection,
    TpmsQuoteInfo, TpmsSessionAuditInfo, TpmsSignatureEcc, TpmsSignatureRsa, TpmsTimeAttestInfo,
    TpmtEccScheme, TpmtHa, TpmtKdfScheme, TpmtPublic, TpmtRsaScheme, TpmtSignature,
    TpmtSymDefObject, TpmuAttest, TPM_GENERATED_VALUE,
};
use baretpm::types::{Tpm2bPublic, TpmsRsaParms};
use baretpm::verify::{verify_quote, Ak, Expectations, Policy, VerifiedQuote, VerifyError};
use baretpm::wire;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// restricted | sign | fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth: what
/// `tpm2_createak` gives an attestation key.
pub const AK_ATTRIBUTES: u32 = 0x0005_0072;
/// Qualified name of the endorsement hierarchy (the parent of a primary AK): its handle.
pub const ENDORSEMENT_QN: [u8; 4] = 0x4000_000Bu32.to_be_bytes();
/// Qualified name of the owner hierarchy.
pub const OWNER_QN: [u8; 4] = 0x4000_0001u32.to_be_bytes();

/// A path inside the repository.
pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The keys under `vectors/keys/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TestKey {
    Rsa2048,
    Rsa1024,
    /// RSA-2048 with public exponent 3.
    Rsa2048E3,
    P256,
    /// ECC NIST P-384 (the curve of swtpm's and many hardware TPMs' `ecc384` AKs).
    P384,
}

impl TestKey {
    pub fn file(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa2048.pem",
            Self::Rsa1024 => "rsa1024.pem",
            Self::Rsa2048E3 => "rsa2048_e3.pem",
            Self::P256 => "p256.pem",
            Self::P384 => "p384.pem",
        }
    }

    pub fn pem(self) -> String {
        let path = repo_path("vectors/keys").join(self.file());
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa2048 | Self::Rsa1024 | Self::Rsa2048E3)
    }

    /// The public half, as the TPM would put it in TPMT_PUBLIC.unique.
    pub fn public(self) -> PublicKey {
        use rsa::traits::PublicKeyParts as _;
        match self {
            Self::Rsa2048 | Self::Rsa1024 | Self::Rsa2048E3 => {
                let k = rsa_key(self);
                let e = k
                    .e()
                    .to_bytes_be()
                    .iter()
                    .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
                PublicKey::Rsa {
                    n: k.n().to_bytes_be(),
                    e,
                    bits: u16::try_from(k.n().bits()).expect("modulus size"),
                }
            }
            Self::P256 => {
                let point = p256_key().verifying_key().to_encoded_point(false);
                PublicKey::Ecc {
                    curve: TpmEccCurve::NIST_P256,
                    x: point.x().expect("affine x").to_vec(),
                    y: point.y().expect("affine y").to_vec(),
                }
            }
            Self::P384 => {
                let point = p384_key().verifying_key().to_encoded_point(false);
                PublicKey::Ecc {
                    curve: TpmEccCurve::NIST_P384,
                    x: point.x().expect("affine x").to_vec(),
                    y: point.y().expect("affine y").to_vec(),
                }
            }
        }
    }

    /// SubjectPublicKeyInfo PEM of the public key (what `tpm2_readpublic -f pem` writes).
    pub fn spki_pem(self) -> String {
        match self {
            Self::Rsa2048 | Self::Rsa1024 | Self::Rsa2048E3 => {
                use rsa::pkcs8::EncodePublicKey as _;
                rsa_key(self)
                    .to_public_key()
                    .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
                    .expect("RSA SPKI PEM")
            }
            Self::P256 => {
                use p256::pkcs8::EncodePublicKey as _;
                p256::PublicKey::from(p256_key().verifying_key())
                    .to_public_key_pem(p256::pkcs8::LineEnding::LF)
                    .expect("P-256 SPKI PEM")
            }
            Self::P384 => {
                use p384::pkcs8::EncodePublicKey as _;
                p384::PublicKey::from(p384_key().verifying_key())
                    .to_public_key_pem(p384::pkcs8::LineEnding::LF)
                    .expect("P-384 SPKI PEM")
            }
        }
    }

    /// SubjectPublicKeyInfo DER of the public key.
    pub fn spki_der(self) -> Vec<u8> {
        let (_, doc) = p256::pkcs8::spki::Document::from_pem(&self.spki_pem()).expect("SPKI PEM");
        doc.as_bytes().to_vec()
    }
}

/// SubjectPublicKeyInfo DER of `key`'s modulus with another public exponent (which the `rsa`
/// crate would refuse to build a checked key from).
pub fn rsa_spki_der_with_exponent(key: TestKey, exponent: u32) -> Vec<u8> {
    use rsa::pkcs8::EncodePublicKey as _;
    use rsa::traits::PublicKeyParts as _;
    let n = rsa_key(key).n().clone();
    rsa::RsaPublicKey::new_unchecked(n, rsa::BigUint::from(exponent))
        .to_public_key_der()
        .expect("RSA SPKI DER")
        .as_bytes()
        .to_vec()
}

/// Public key material in TPM form.
#[derive(Clone, Debug)]
pub enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: u32,
        bits: u16,
    },
    Ecc {
        curve: TpmEccCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
}

fn load_rsa(
    cell: &'static OnceLock<rsa::RsaPrivateKey>,
    key: TestKey,
) -> &'static rsa::RsaPrivateKey {
    cell.get_or_init(|| {
        use rsa::pkcs8::DecodePrivateKey as _;
        rsa::RsaPrivateKey::from_pkcs8_pem(&key.pem()).expect("RSA PKCS#8 PEM")
    })
}

pub fn rsa_key(key: TestKey) -> &'static rsa::RsaPrivateKey {
    static RSA2048: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    static RSA1024: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    static RSA2048_E3: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    match key {
        TestKey::Rsa2048 => load_rsa(&RSA2048, key),
        TestKey::Rsa1024 => load_rsa(&RSA1024, key),
        TestKey::Rsa2048E3 => load_rsa(&RSA2048_E3, key),
        other => panic!("{other:?} is not an RSA private key"),
    }
}

pub fn p256_key() -> &'static p256::ecdsa::SigningKey {
    static KEY: OnceLock<p256::ecdsa::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use p256::pkcs8::DecodePrivateKey as _;
        p256::ecdsa::SigningKey::from_pkcs8_pem(&TestKey::P256.pem()).expect("P-256 PKCS#8 PEM")
    })
}

pub fn p384_key() -> &'static p384::ecdsa::SigningKey {
    static KEY: OnceLock<p384::ecdsa::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use p384::pkcs8::DecodePrivateKey as _;
        p384::ecdsa::SigningKey::from_pkcs8_pem(&TestKey::P384.pem()).expect("P-384 PKCS#8 PEM")
    })
}

/// The hash of the concatenation of `parts`, computed with RustCrypto directly.
pub fn hash(alg: HashAlg, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().to_vec()
    }
    match alg {
        HashAlg::Sha1 => run::<sha1::Sha1>(parts),
        HashAlg::Sha256 => run::<sha2::Sha256>(parts),
        HashAlg::Sha384 => run::<sha2::Sha384>(parts),
        HashAlg::Sha512 => run::<sha2::Sha512>(parts),
        other => panic!("the forge cannot hash with {other}"),
    }
}

/// The signing scheme an AK's TPMT_PUBLIC pins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AkScheme {
    Null,
    RsaSsa(HashAlg),
    RsaPss(HashAlg),
    Ecdsa(HashAlg),
}

/// A TPMT_PUBLIC for `key` with nameAlg SHA-256, marshalled by the crate.
pub fn ak_public_area(key: TestKey, attributes: u32, scheme: AkScheme) -> Vec<u8> {
    let public = key.public();
    let details = match &public {
        PublicKey::Rsa { n, e, bits } => PublicDetails::Rsa {
            parms: TpmsRsaParms {
                symmetric: TpmtSymDefObject::Null,
                scheme: match scheme {
                    AkScheme::Null => TpmtRsaScheme::Null,
                    AkScheme::RsaSsa(h) => TpmtRsaScheme::RsaSsa(h),
                    AkScheme::RsaPss(h) => TpmtRsaScheme::RsaPss(h),
                    AkScheme::Ecdsa(_) => panic!("ECDSA scheme on an RSA key"),
                },
                key_bits: *bits,
                // TPMs write 0 for the default exponent.
                exponent: if *e == 65537 { 0 } else { *e },
            },
            unique: Tpm2b(n),
        },
        PublicKey::Ecc { curve, x, y } => PublicDetails::Ecc {
            parms: TpmsEccParms {
                symmetric: TpmtSymDefObject::Null,
                scheme: match scheme {
                    AkScheme::Null => TpmtEccScheme::Null,
                    AkScheme::Ecdsa(h) => TpmtEccScheme::Ecdsa(h),
                    other => panic!("{other:?} scheme on an ECC key"),
                },
                curve_id: *curve,
                kdf: TpmtKdfScheme::Null,
            },
            unique: TpmsEccPoint {
                x: Tpm2b(x),
                y: Tpm2b(y),
            },
        },
    };
    let area = TpmtPublic {
        name_alg: Some(HashAlg::Sha256),
        object_attributes: TpmaObject(attributes),
        auth_policy: Tpm2b(&[]),
        details,
    };
    wire::to_vec(&area, 4096).expect("marshal TPMT_PUBLIC")
}

/// Wraps TPMT_PUBLIC bytes as TPM2B_PUBLIC (the crate writes the size).
pub fn tpm2b_public(area: &[u8]) -> Vec<u8> {
    let parsed = Tpm2bPublic::from_tpmt_bytes(area).expect("a TPMT_PUBLIC the crate can read");
    let out = wire::to_vec(&parsed, 4096).expect("marshal TPM2B_PUBLIC");
    assert_eq!(
        &out[2..],
        area,
        "TPM2B_PUBLIC re-marshals the area unchanged"
    );
    out
}

/// Name of an object whose nameAlg is SHA-256: 0x000B || SHA-256(TPMT_PUBLIC).
pub fn name_of(area: &[u8]) -> Vec<u8> {
    let mut name = TpmAlgId::SHA256.0.to_be_bytes().to_vec();
    name.extend(hash(HashAlg::Sha256, &[area]));
    name
}

/// Qualified name: nameAlg || H_nameAlg(parent's qualified name || Name).
pub fn qualified_name(parent_qn: &[u8], area: &[u8]) -> Vec<u8> {
    let mut qn = TpmAlgId::SHA256.0.to_be_bytes().to_vec();
    qn.extend(hash(HashAlg::Sha256, &[parent_qn, &name_of(area)]));
    qn
}

/// How the signature is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigScheme {
    RsaSsa(HashAlg),
    RsaPss {
        hash: HashAlg,
        salt: usize,
    },
    Ecdsa(HashAlg),
    /// A TPMT_SIGNATURE of HMAC form holding a plain digest (no key can check it).
    Hmac(HashAlg),
    Null,
}

impl SigScheme {
    /// RSA-PSS with the salt length a TPM uses: the digest size.
    pub fn pss(hash: HashAlg) -> Self {
        Self::RsaPss {
            hash,
            salt: hash.digest_size(),
        }
    }

    pub fn hash(self) -> Option<HashAlg> {
        match self {
            Self::RsaSsa(h) | Self::Ecdsa(h) | Self::Hmac(h) => Some(h),
            Self::RsaPss { hash, .. } => Some(hash),
            Self::Null => None,
        }
    }
}

/// A signature before it is wrapped in TPMT_SIGNATURE, open to tampering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawSig {
    Rsa {
        pss: bool,
        hash: HashAlg,
        sig: Vec<u8>,
    },
    Ecdsa {
        hash: HashAlg,
        r: Vec<u8>,
        s: Vec<u8>,
    },
    Hmac {
        hash: HashAlg,
        digest: Vec<u8>,
    },
    Null,
}

impl RawSig {
    /// The TPMT_SIGNATURE bytes, marshalled by the crate.
    pub fn to_bytes(&self) -> Vec<u8> {
        let sig = match self {
            Self::Rsa { pss, hash, sig } => {
                let body = TpmsSignatureRsa {
                    hash: *hash,
                    sig: Tpm2b(sig),
                };
                if *pss {
                    TpmtSignature::RsaPss(body)
                } else {
                    TpmtSignature::RsaSsa(body)
                }
            }
            Self::Ecdsa { hash, r, s } => TpmtSignature::Ecdsa(TpmsSignatureEcc {
                hash: *hash,
                signature_r: Tpm2b(r),
                signature_s: Tpm2b(s),
            }),
            Self::Hmac { hash, digest } => TpmtSignature::Hmac(TpmtHa {
                hash: *hash,
                digest,
            }),
            Self::Null => TpmtSignature::Null,
        };
        wire::to_vec(&sig, 4096).expect("marshal TPMT_SIGNATURE")
    }
}

fn rsa_sign(
    key: &rsa::RsaPrivateKey,
    hash: HashAlg,
    pss_salt: Option<usize>,
    digest: &[u8],
) -> Vec<u8> {
    use rand::SeedableRng as _;
    use rsa::{Pkcs1v15Sign, Pss};
    // A fixed seed keeps PSS signatures, like everything else here, reproducible.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7e57_5a17);
    let signed = match (hash, pss_salt) {
        (HashAlg::Sha1, None) => key.sign(Pkcs1v15Sign::new::<sha1::Sha1>(), digest),
        (HashAlg::Sha256, None) => key.sign(Pkcs1v15Sign::new::<sha2::Sha256>(), digest),
        (HashAlg::Sha384, None) => key.sign(Pkcs1v15Sign::new::<sha2::Sha384>(), digest),
        (HashAlg::Sha512, None) => key.sign(Pkcs1v15Sign::new::<sha2::Sha512>(), digest),
        (HashAlg::Sha1, Some(s)) => {
            key.sign_with_rng(&mut rng, Pss::new_with_salt::<sha1::Sha1>(s), digest)
        }
        (HashAlg::Sha256, Some(s)) => {
            key.sign_with_rng(&mut rng, Pss::new_with_salt::<sha2::Sha256>(s), digest)
        }
        (HashAlg::Sha384, Some(s)) => {
            key.sign_with_rng(&mut rng, Pss::new_with_salt::<sha2::Sha384>(s), digest)
        }
        (HashAlg::Sha512, Some(s)) => {
            key.sign_with_rng(&mut rng, Pss::new_with_salt::<sha2::Sha512>(s), digest)
        }
        (other, _) => panic!("the forge cannot sign with {other}"),
    };
    signed.expect("RSA signing")
}

/// Signs `message` with `signer` under `scheme`.
///
/// Every scheme here is deterministic (PKCS#1 v1.5, PSS with a seeded generator, RFC 6979),
/// so signatures are remembered: RSA signing is slow in debug builds and many cases sign the
/// same attestation.
pub fn sign(signer: TestKey, scheme: SigScheme, message: &[u8]) -> RawSig {
    type Cache = Mutex<HashMap<(TestKey, SigScheme, Vec<u8>), RawSig>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let key = (signer, scheme, message.to_vec());
    if let Some(sig) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return sig.clone();
    }
    let sig = sign_uncached(signer, scheme, message);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, sig.clone());
    sig
}

fn sign_uncached(signer: TestKey, scheme: SigScheme, message: &[u8]) -> RawSig {
    match scheme {
        SigScheme::RsaSsa(h) => RawSig::Rsa {
            pss: false,
            hash: h,
            sig: rsa_sign(rsa_key(signer), h, None, &hash(h, &[message])),
        },
        SigScheme::RsaPss { hash: h, salt } => RawSig::Rsa {
            pss: true,
            hash: h,
            sig: rsa_sign(rsa_key(signer), h, Some(salt), &hash(h, &[message])),
        },
        // RFC 6979: deterministic nonces.
        SigScheme::Ecdsa(h) if signer == TestKey::P384 => {
            use p384::ecdsa::signature::hazmat::PrehashSigner as _;
            let sig: p384::ecdsa::Signature = p384_key()
                .sign_prehash(&hash(h, &[message]))
                .expect("ECDSA signing");
            let (r, s) = sig.split_bytes();
            RawSig::Ecdsa {
                hash: h,
                r: r.to_vec(),
                s: s.to_vec(),
            }
        }
        SigScheme::Ecdsa(h) => {
            use p256::ecdsa::signature::hazmat::PrehashSigner as _;
            assert_eq!(
                signer,
                TestKey::P256,
                "ECDSA signatures come from the P-256 or P-384 key"
            );
            let sig: p256::ecdsa::Signature = p256_key()
                .sign_prehash(&hash(h, &[message]))
                .expect("ECDSA signing");
            let (r, s) = sig.split_bytes();
            RawSig::Ecdsa {
                hash: h,
                r: r.to_vec(),
                s: s.to_vec(),
            }
        }
        SigScheme::Hmac(h) => RawSig::Hmac {
            hash: h,
            digest: hash(h, &[message]),
        },
        SigScheme::Null => RawSig::Null,
    }
}

/// A deterministic, distinct value for PCR `index` of `bank`.
pub fn pcr_value(bank: HashAlg, index: u32) -> Vec<u8> {
    hash(bank, &[b"baretpm test PCR", &index.to_be_bytes()])
}

/// A PCR selection and one value per selected PCR, in the order a TPM concatenates them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PcrSet {
    pub selection: TpmlPcrSelection,
    pub values: Vec<Vec<u8>>,
}

impl PcrSet {
    /// Banks in the order given, indices ascending, values from [`pcr_value`].
    pub fn of(banks: &[(HashAlg, &[u32])]) -> Self {
        let mut set = Self::default();
        for (bank, indices) in banks {
            let sel = TpmsPcrSelection::new(*bank, indices).expect("indices below 24");
            set.selection.push(sel).expect("at most 16 banks");
            for i in 0..24 {
                if indices.contains(&i) {
                    set.values.push(pcr_value(*bank, i));
                }
            }
        }
        set
    }
}

/// Which TPMS_ATTEST body to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestKind {
    Quote,
    Certify,
    Nv,
    NvDigest,
    Creation,
    Time,
    SessionAudit,
    CommandAudit,
}

/// How the AK is handed to the verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AkForm {
    Tpm2bPublic,
    TpmtPublic,
    SpkiPem,
    SpkiDer,
}

/// Everything about one forged quote. Start from [`QuoteForge::new`], change fields, `build`.
#[derive(Clone, Debug)]
pub struct QuoteForge {
    // --- the key ---
    pub key: TestKey,
    /// The private key that signs (normally `key`).
    pub signer: TestKey,
    pub ak_form: AkForm,
    pub ak_attributes: u32,
    pub ak_scheme: AkScheme,
    /// Applied to the marshalled TPMT_PUBLIC before anything uses it.
    pub ak_patch: Option<fn(&mut Vec<u8>)>,
    /// Applied to the AK bytes in their final form (TPM2B_PUBLIC, SPKI DER...).
    pub ak_bytes_patch: Option<fn(&mut Vec<u8>)>,
    // --- the attestation ---
    pub sig: SigScheme,
    pub magic: u32,
    pub kind: AttestKind,
    /// `None`: the AK's qualified name under the endorsement hierarchy, as a TPM writes it.
    pub qualified_signer: Option<Vec<u8>>,
    pub extra_data: Vec<u8>,
    pub clock: TpmsClockInfo,
    pub firmware_version: u64,
    /// The PCRs the TPM quoted.
    pub quoted: PcrSet,
    /// `None`: H_sig of the quoted values, as a TPM computes it.
    pub pcr_digest: Option<Vec<u8>>,
    /// Applied to the attestation bytes before signing.
    pub before_signing: Option<fn(&mut Vec<u8>)>,
    /// Applied to the attestation bytes after signing.
    pub after_signing: Option<fn(&mut Vec<u8>)>,
    /// Applied to the signature before it is wrapped in TPMT_SIGNATURE.
    pub sig_patch: Option<fn(&mut RawSig)>,
    /// Applied to the TPMT_SIGNATURE bytes.
    pub sig_bytes_patch: Option<fn(&mut Vec<u8>)>,
    // --- what the verifier is told ---
    pub nonce: Vec<u8>,
    /// `None`: the quoted PCRs with their true values.
    pub given: Option<PcrSet>,
    pub previous: Option<TpmsClockInfo>,
    pub parent_qn: Option<Vec<u8>>,
    pub policy: Policy,
}

/// The nonce every forged quote carries unless a test says otherwise.
pub fn default_nonce() -> Vec<u8> {
    (0u8..32).map(|i| 0xa0 ^ i.wrapping_mul(7)).collect()
}

pub fn default_clock() -> TpmsClockInfo {
    TpmsClockInfo {
        clock: 5_000_000,
        reset_count: 4,
        restart_count: 2,
        safe: true,
    }
}

impl QuoteForge {
    /// A well-formed quote over sha256:0,1,7, signed as a TPM would sign it with `key`
    /// (ECDSA with SHA-384 for the P-384 key, SHA-256 otherwise).
    pub fn new(key: TestKey) -> Self {
        let (ak_scheme, sig) = if key.is_rsa() {
            (
                AkScheme::RsaSsa(HashAlg::Sha256),
                SigScheme::RsaSsa(HashAlg::Sha256),
            )
        } else if key == TestKey::P384 {
            (
                AkScheme::Ecdsa(HashAlg::Sha384),
                SigScheme::Ecdsa(HashAlg::Sha384),
            )
        } else {
            (
                AkScheme::Ecdsa(HashAlg::Sha256),
                SigScheme::Ecdsa(HashAlg::Sha256),
            )
        };
        let nonce = default_nonce();
        Self {
            key,
            signer: key,
            ak_form: AkForm::Tpm2bPublic,
            ak_attributes: AK_ATTRIBUTES,
            ak_scheme,
            ak_patch: None,
            ak_bytes_patch: None,
            sig,
            magic: TPM_GENERATED_VALUE,
            kind: AttestKind::Quote,
            qualified_signer: None,
            extra_data: nonce.clone(),
            clock: default_clock(),
            firmware_version: 0x2023_0415_0001_0002,
            quoted: PcrSet::of(&[(HashAlg::Sha256, &[0, 1, 7])]),
            pcr_digest: None,
            before_signing: None,
            after_signing: None,
            sig_patch: None,
            sig_bytes_patch: None,
            nonce,
            given: None,
            previous: None,
            parent_qn: None,
            policy: Policy::default(),
        }
    }

    /// Uses an RSA key with RSA-PSS (TPM salt length) for both the AK scheme and the signature.
    pub fn rsa_pss(mut self, hash: HashAlg) -> Self {
        self.ak_scheme = AkScheme::RsaPss(hash);
        self.sig = SigScheme::pss(hash);
        self
    }

    /// RSA-PSS with the largest salt the key and hash allow (`emLen - hLen - 2`), as a non-FIPS
    /// TPM signs (TPM 2.0 Part 1 B.7).
    pub fn rsa_pss_max_salt(mut self, hash: HashAlg) -> Self {
        use rsa::traits::PublicKeyParts as _;
        let em_len = (rsa_key(self.signer).n().bits() - 1).div_ceil(8);
        self.ak_scheme = AkScheme::RsaPss(hash);
        self.sig = SigScheme::RsaPss {
            hash,
            salt: em_len - hash.digest_size() - 2,
        };
        self
    }

    /// The AK's TPMT_PUBLIC bytes, after `ak_patch`.
    pub fn ak_area(&self) -> Vec<u8> {
        let mut area = ak_public_area(self.key, self.ak_attributes, self.ak_scheme);
        if let Some(patch) = self.ak_patch {
            patch(&mut area);
        }
        area
    }

    /// The TPMS_ATTEST bytes as they will be signed.
    pub fn unsigned_attest(&self) -> Vec<u8> {
        self.attest_for(&self.ak_area())
    }

    fn attest_for(&self, area: &[u8]) -> Vec<u8> {
        let qs = self
            .qualified_signer
            .clone()
            .unwrap_or_else(|| qualified_name(&ENDORSEMENT_QN, area));
        let name = name_of(area);
        let digest_alg = self.sig.hash().unwrap_or(HashAlg::Sha256);
        let digest = self.pcr_digest.clone().unwrap_or_else(|| {
            let parts: Vec<&[u8]> = self.quoted.values.iter().map(Vec::as_slice).collect();
            hash(digest_alg, &parts)
        });
        let filler = hash(HashAlg::Sha256, &[b"some other attestation"]);
        let attested = match self.kind {
            AttestKind::Quote => TpmuAttest::Quote(TpmsQuoteInfo {
                pcr_select: self.quoted.selection.clone(),
                pcr_digest: Tpm2b(&digest),
            }),
            AttestKind::Certify => TpmuAttest::Certify(TpmsCertifyInfo {
                name: Tpm2b(&name),
                qualified_name: Tpm2b(&qs),
            }),
            AttestKind::Nv => TpmuAttest::Nv(TpmsNvCertifyInfo {
                index_name: Tpm2b(&name),
                offset: 0,
                nv_contents: Tpm2b(b"NV index contents"),
            }),
            AttestKind::NvDigest => TpmuAttest::NvDigest(TpmsNvDigestCertifyInfo {
                index_name: Tpm2b(&name),
                nv_digest: Tpm2b(&filler),
            }),
            AttestKind::Creation => TpmuAttest::Creation(TpmsCreationInfo {
                object_name: Tpm2b(&name),
                creation_hash: Tpm2b(&filler),
            }),
            AttestKind::Time => TpmuAttest::Time(TpmsTimeAttestInfo {
                time: 123_456,
                clock_info: self.clock,
                firmware_version: self.firmware_version,
            }),
            AttestKind::SessionAudit => TpmuAttest::SessionAudit(TpmsSessionAuditInfo {
                exclusive_session: true,
                session_digest: Tpm2b(&filler),
            }),
            AttestKind::CommandAudit => TpmuAttest::CommandAudit(TpmsCommandAuditInfo {
                audit_counter: 7,
                digest_alg: TpmAlgId::SHA256,
                audit_digest: Tpm2b(&filler),
                command_digest: Tpm2b(&filler),
            }),
        };
        let attest = TpmsAttest {
            qualified_signer: Tpm2b(&qs),
            extra_data: Tpm2b(&self.extra_data),
            clock_info: self.clock,
            firmware_version: self.firmware_version,
            attested,
        };
        let mut bytes = wire::to_vec(&attest, 8192).expect("marshal TPMS_ATTEST");
        // The crate always writes TPM_GENERATED_VALUE; another magic needs byte surgery.
        bytes[..4].copy_from_slice(&self.magic.to_be_bytes());
        if let Some(patch) = self.before_signing {
            patch(&mut bytes);
        }
        bytes
    }

    /// Marshals, signs and packages the quote with what the verifier is to be told.
    pub fn build(&self) -> Forged {
        let area = self.ak_area();
        let mut ak = match self.ak_form {
            AkForm::Tpm2bPublic => {
                let mut out = u16::try_from(area.len())
                    .expect("area size")
                    .to_be_bytes()
                    .to_vec();
                out.extend_from_slice(&area);
                out
            }
            AkForm::TpmtPublic => area.clone(),
            AkForm::SpkiPem => self.key.spki_pem().into_bytes(),
            AkForm::SpkiDer => self.key.spki_der(),
        };
        if let Some(patch) = self.ak_bytes_patch {
            patch(&mut ak);
        }
        let mut attest = self.attest_for(&area);
        let mut raw = sign(self.signer, self.sig, &attest);
        if let Some(patch) = self.sig_patch {
            patch(&mut raw);
        }
        if let Some(patch) = self.after_signing {
            patch(&mut attest);
        }
        let mut sig = raw.to_bytes();
        if let Some(patch) = self.sig_bytes_patch {
            patch(&mut sig);
        }
        Forged {
            ak,
            ak_form: self.ak_form,
            attest,
            sig,
            nonce: self.nonce.clone(),
            given: self.given.clone().unwrap_or_else(|| self.quoted.clone()),
            previous: self.previous,
            parent_qn: self.parent_qn.clone(),
            policy: self.policy,
        }
    }
}

/// A built quote: the three byte strings a verifier receives, and the expectations.
#[derive(Clone, Debug)]
pub struct Forged {
    pub ak: Vec<u8>,
    pub ak_form: AkForm,
    pub attest: Vec<u8>,
    pub sig: Vec<u8>,
    pub nonce: Vec<u8>,
    pub given: PcrSet,
    pub previous: Option<TpmsClockInfo>,
    pub parent_qn: Option<Vec<u8>>,
    pub policy: Policy,
}

impl Forged {
    pub fn load_ak(&self) -> Result<Ak<'_>, VerifyError> {
        match self.ak_form {
            AkForm::Tpm2bPublic => Ak::from_tpm2b_public(&self.ak),
            AkForm::TpmtPublic => Ak::from_tpmt_public(&self.ak),
            AkForm::SpkiPem => {
                Ak::from_spki_pem(std::str::from_utf8(&self.ak).expect("PEM is text"))
            }
            AkForm::SpkiDer => Ak::from_spki_der(&self.ak),
        }
    }

    /// Loads the AK and verifies the quote; an AK refused at loading is returned as is.
    pub fn verify(&self) -> Result<VerifiedQuote<'_>, VerifyError> {
        let ak = self.load_ak()?;
        self.verify_with(&ak, &self.attest, &self.sig)
    }

    /// Verifies other attestation or signature bytes under this quote's expectations.
    pub fn verify_with<'a>(
        &self,
        ak: &Ak<'_>,
        attest: &'a [u8],
        sig: &[u8],
    ) -> Result<VerifiedQuote<'a>, VerifyError> {
        let mut pcrs = PcrValues {
            selection: self.given.selection.clone(),
            ..PcrValues::default()
        };
        for v in &self.given.values {
            pcrs.values
                .push(v.as_slice())
                .expect("room for the PCR values");
        }
        let expect = {
            let mut e = Expectations::new(&self.nonce, &pcrs);
            e.previous = self.previous;
            e.ak_parent_qualified_name = self.parent_qn.as_deref();
            e
        };
        verify_quote(ak, attest, sig, &expect, &self.policy)
    }
}
