//! The subject public key of an X.509 certificate, found by a bounded DER walk without an
//! X.509 parser, and compared with a TPM public area.
//!
//! This is what the provenance flow's salted session needs to check the EK against its
//! certificate in NV in builds without the `cert` feature (the initrd's, where the X.509
//! stack would not fit): the EK the TPM answered with must be the key the certificate
//! names, or an interposer that replaced the EK would receive the salt. Nothing else of the
//! certificate is checked here (no signature, chain, dates or extensions); `cert` and
//! `verify --ek-ca` do that. Builds with `cert` use the full parser instead, and the tests
//! check that both find the same key in every certificate of `vectors/certs/`.
//!
//! The walk reads only what it needs: `Certificate` → `tbsCertificate` → skip version,
//! serialNumber, signature, issuer, validity, subject → `subjectPublicKeyInfo`. Every length
//! is definite, minimally encoded, within the bytes present and within [`MAX_CERT_DER`]; the
//! certificate may sit in the TCG NV wrapper (`10 01 00 LEN`) and be followed by padding
//! (0x00 or 0xFF) only.

use crate::types::{PublicDetails, TpmEccCurve, TpmtPublic};

/// The largest certificate accepted (the proof's own limit for EK certificates).
pub const MAX_CERT_DER: usize = 16 * 1024;

const TAG_SEQUENCE: u8 = 0x30;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_VERSION: u8 = 0xa0;

/// 1.2.840.113549.1.1.1, rsaEncryption.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// 1.2.840.113549.1.1.7, id-RSAES-OAEP (TPM 1.2 EK certificates).
const OID_RSA_OAEP: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07];
/// 1.2.840.10045.2.1, id-ecPublicKey.
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.2.840.10045.3.1.7, prime256v1.
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// 1.3.132.0.34, secp384r1.
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// 1.3.132.0.35, secp521r1.
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];

/// A certificate's subject key, borrowed from the certificate bytes. Integers and
/// coordinates have their leading zero bytes removed, so that equal keys compare equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKey<'a> {
    /// An RSA key.
    Rsa {
        /// The modulus, big-endian.
        modulus: &'a [u8],
        /// The public exponent, big-endian.
        exponent: &'a [u8],
    },
    /// An EC key on NIST P-256, P-384 or P-521.
    Ec {
        /// `TPM_ECC_NIST_P256`, `TPM_ECC_NIST_P384` or `TPM_ECC_NIST_P521`.
        curve: TpmEccCurve,
        /// The x coordinate, big-endian.
        x: &'a [u8],
        /// The y coordinate, big-endian.
        y: &'a [u8],
    },
}

/// Why no key was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKeyError {
    /// The DER is cut short, has a length beyond the bytes present or [`MAX_CERT_DER`], an
    /// indefinite or non-minimal length, or trailing bytes that are not padding.
    Malformed(&'static str),
    /// A structure has another tag than X.509 puts there.
    UnexpectedTag {
        /// The field being read.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// The key is not RSA, P-256, P-384 or P-521 (or its encoding is not the one X.509 uses).
    UnsupportedKey(&'static str),
}

impl core::fmt::Display for CertKeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed DER in {what}"),
            Self::UnexpectedTag { what, tag } => {
                write!(f, "unexpected tag {tag:#04x} for {what}")
            }
            Self::UnsupportedKey(what) => write!(f, "unsupported subject key: {what}"),
        }
    }
}

/// One DER element: its tag, its contents, and what follows it.
struct Tlv<'a> {
    tag: u8,
    contents: &'a [u8],
    rest: &'a [u8],
}

fn tlv<'a>(b: &'a [u8], what: &'static str) -> Result<Tlv<'a>, CertKeyError> {
    let bad = CertKeyError::Malformed(what);
    let (&tag, after_tag) = b.split_first().ok_or(bad)?;
    let (&first, after_len) = after_tag.split_first().ok_or(bad)?;
    let (len, body) = match first {
        0..=0x7f => (usize::from(first), after_len),
        0x81 => {
            let (&l, body) = after_len.split_first().ok_or(bad)?;
            if l < 0x80 {
                return Err(bad);
            }
            (usize::from(l), body)
        }
        0x82 => {
            let l = after_len.get(..2).ok_or(bad)?;
            let l = usize::from(u16::from_be_bytes([l[0], l[1]]));
            if l < 0x100 {
                return Err(bad);
            }
            (l, after_len.get(2..).ok_or(bad)?)
        }
        // Indefinite (0x80) or a length of three bytes or more: nothing this size is a
        // certificate here.
        _ => return Err(bad),
    };
    if len > MAX_CERT_DER {
        return Err(bad);
    }
    let contents = body.get(..len).ok_or(bad)?;
    let rest = body.get(len..).ok_or(bad)?;
    Ok(Tlv {
        tag,
        contents,
        rest,
    })
}

fn expect<'a>(b: &'a [u8], tag: u8, what: &'static str) -> Result<Tlv<'a>, CertKeyError> {
    let t = tlv(b, what)?;
    if t.tag != tag {
        return Err(CertKeyError::UnexpectedTag { what, tag: t.tag });
    }
    Ok(t)
}

/// `bytes` without leading zero bytes.
fn strip(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.get(n..).unwrap_or_default()
}

/// The DER certificate inside NV bytes: the TCG wrapper dropped, trailing padding checked.
fn unwrap_nv(bytes: &[u8]) -> Result<&[u8], CertKeyError> {
    let b = match bytes {
        [0x10, 0x01, 0x00, hi, lo, rest @ ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            rest.get(..len)
                .ok_or(CertKeyError::Malformed("NV certificate wrapper"))?
        }
        _ => bytes,
    };
    let cert = expect(b, TAG_SEQUENCE, "Certificate")?;
    if cert.rest.iter().any(|&x| x != 0x00 && x != 0xff) {
        return Err(CertKeyError::Malformed("bytes after the certificate"));
    }
    let used = b.len() - cert.rest.len();
    b.get(..used).ok_or(CertKeyError::Malformed("Certificate"))
}

/// The subject key of the certificate in `nv_bytes` (DER, possibly in the TCG NV wrapper and
/// followed by padding).
pub fn cert_key(nv_bytes: &[u8]) -> Result<CertKey<'_>, CertKeyError> {
    let der = unwrap_nv(nv_bytes)?;
    let cert = expect(der, TAG_SEQUENCE, "Certificate")?;
    let tbs = expect(cert.contents, TAG_SEQUENCE, "tbsCertificate")?;
    let mut b = tbs.contents;
    if b.first() == Some(&TAG_VERSION) {
        b = tlv(b, "version")?.rest;
    }
    b = expect(b, TAG_INTEGER, "serialNumber")?.rest;
    b = expect(b, TAG_SEQUENCE, "signature")?.rest;
    b = expect(b, TAG_SEQUENCE, "issuer")?.rest;
    b = expect(b, TAG_SEQUENCE, "validity")?.rest;
    b = expect(b, TAG_SEQUENCE, "subject")?.rest;
    let spki = expect(b, TAG_SEQUENCE, "subjectPublicKeyInfo")?;
    let alg = expect(spki.contents, TAG_SEQUENCE, "algorithm")?;
    let bits = expect(alg.rest, TAG_BIT_STRING, "subjectPublicKey")?;
    if !bits.rest.is_empty() {
        return Err(CertKeyError::Malformed("subjectPublicKeyInfo"));
    }
    let key = match bits.contents.split_first() {
        Some((0, key)) => key,
        _ => return Err(CertKeyError::Malformed("subjectPublicKey")),
    };
    let oid = expect(alg.contents, TAG_OID, "algorithm")?;
    if oid.contents == OID_RSA || oid.contents == OID_RSA_OAEP {
        // The parameters (NULL, or OAEP's) say nothing about the key itself.
        let seq = expect(key, TAG_SEQUENCE, "RSAPublicKey")?;
        let n = expect(seq.contents, TAG_INTEGER, "modulus")?;
        let e = expect(n.rest, TAG_INTEGER, "publicExponent")?;
        if !e.rest.is_empty() || !seq.rest.is_empty() {
            return Err(CertKeyError::Malformed("RSAPublicKey"));
        }
        return Ok(CertKey::Rsa {
            modulus: strip(n.contents),
            exponent: strip(e.contents),
        });
    }
    if oid.contents == OID_EC {
        let params = expect(oid.rest, TAG_OID, "namedCurve")?;
        if !params.rest.is_empty() {
            return Err(CertKeyError::Malformed("algorithm"));
        }
        let (curve, size) = match params.contents {
            OID_P256 => (TpmEccCurve::NIST_P256, 32),
            OID_P384 => (TpmEccCurve::NIST_P384, 48),
            OID_P521 => (TpmEccCurve::NIST_P521, 66),
            _ => {
                return Err(CertKeyError::UnsupportedKey(
                    "a curve other than P-256, P-384, P-521",
                ))
            }
        };
        return match key.split_first() {
            Some((4, xy)) if xy.len() == 2 * size => {
                let (x, y) = xy.split_at(size);
                Ok(CertKey::Ec {
                    curve,
                    x: strip(x),
                    y: strip(y),
                })
            }
            _ => Err(CertKeyError::UnsupportedKey(
                "an EC point that is not uncompressed",
            )),
        };
    }
    Err(CertKeyError::UnsupportedKey("neither RSA nor EC"))
}

/// Whether `public` (an EK the TPM answered with) has exactly the key `key`.
pub fn same_key(key: &CertKey<'_>, public: &TpmtPublic<'_>) -> bool {
    match (key, &public.details) {
        (CertKey::Rsa { modulus, exponent }, PublicDetails::Rsa { parms, unique }) => {
            *modulus == strip(unique.as_bytes())
                && *exponent == strip(&parms.effective_exponent().to_be_bytes())
        }
        (CertKey::Ec { curve, x, y }, PublicDetails::Ecc { parms, unique }) => {
            *curve == parms.curve_id
                && *x == strip(unique.x.as_bytes())
                && *y == strip(unique.y.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny certificate skeleton around `spki` (contents are never checked but the tags).
    fn cert_around(spki: &[u8]) -> std::vec::Vec<u8> {
        let mut tbs = std::vec![0xa0, 3, 2, 1, 2, 2, 1, 1, 0x30, 0, 0x30, 0, 0x30, 0, 0x30, 0];
        tbs.extend_from_slice(spki);
        let mut t = std::vec![0x30, tbs.len() as u8];
        t.extend_from_slice(&tbs);
        let mut body = t;
        body.extend_from_slice(&[0x30, 0, 0x03, 1, 0]);
        let mut c = std::vec![0x30, body.len() as u8];
        c.extend_from_slice(&body);
        c
    }

    fn p256_spki(x: u8, y: u8) -> std::vec::Vec<u8> {
        let mut alg = std::vec![0x06, 7];
        alg.extend_from_slice(OID_EC);
        alg.extend_from_slice(&[0x06, 8]);
        alg.extend_from_slice(OID_P256);
        let mut s = std::vec![0x30, alg.len() as u8];
        s.extend_from_slice(&alg);
        s.extend_from_slice(&[0x03, 66, 0, 4]);
        s.extend_from_slice(&[x; 32]);
        s.extend_from_slice(&[y; 32]);
        let mut out = std::vec![0x30, s.len() as u8];
        out.extend_from_slice(&s);
        out
    }

    #[test]
    fn finds_an_ec_key_and_refuses_every_truncation() {
        let c = cert_around(&p256_spki(1, 2));
        let k = cert_key(&c).unwrap();
        assert_eq!(
            k,
            CertKey::Ec {
                curve: TpmEccCurve::NIST_P256,
                x: &[1; 32],
                y: &[2; 32]
            }
        );
        for n in 0..c.len() {
            assert!(cert_key(&c[..n]).is_err(), "prefix of {n} bytes");
        }
        // Padding after the certificate is fine, anything else is not.
        let mut padded = c.clone();
        padded.extend_from_slice(&[0xff, 0, 0xff]);
        assert_eq!(cert_key(&padded), Ok(k));
        let mut trailing = c.clone();
        trailing.push(1);
        assert!(cert_key(&trailing).is_err());
        // The TCG NV wrapper.
        let mut wrapped = std::vec![0x10, 0x01, 0x00, 0, c.len() as u8];
        wrapped.extend_from_slice(&c);
        assert_eq!(cert_key(&wrapped), Ok(k));
    }

    #[test]
    fn refuses_non_minimal_and_indefinite_lengths() {
        assert!(tlv(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0], "t").is_err());
        assert!(tlv(&[0x30, 0x82, 0x00, 0x05, 0, 0, 0, 0, 0], "t").is_err());
        assert!(tlv(&[0x30, 0x80, 0, 0], "t").is_err());
        assert!(tlv(&[0x30, 0x83, 0, 0, 1, 0], "t").is_err());
        assert!(tlv(&[0x30, 0x82, 0x40, 0x01], "t").is_err());
    }

    #[test]
    fn refuses_other_curves_and_compressed_points() {
        let mut s = p256_spki(1, 2);
        // prime256v1's last arc 7 -> 6 (prime239v3): not a supported curve.
        let at = s
            .windows(OID_P256.len())
            .position(|w| w == OID_P256)
            .unwrap();
        s[at + OID_P256.len() - 1] = 6;
        assert!(matches!(
            cert_key(&cert_around(&s)),
            Err(CertKeyError::UnsupportedKey(_))
        ));
        let mut s = p256_spki(1, 2);
        let at = s.iter().position(|&b| b == 4).unwrap();
        s[at] = 2;
        assert!(cert_key(&cert_around(&s)).is_err());
    }

    #[cfg(feature = "cert")]
    #[test]
    fn agrees_with_the_x509_parser_on_every_vector_certificate() {
        use crate::cert::{certificates_from_bytes, SubjectKey};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/certs/material");
        let mut compared = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            for c in certificates_from_bytes(&bytes, 64).unwrap_or_default() {
                let full = c.subject_key();
                let mine = cert_key(c.der());
                match (&full, mine) {
                    (
                        Ok(SubjectKey::Rsa { modulus, exponent }),
                        Ok(CertKey::Rsa {
                            modulus: m,
                            exponent: x,
                        }),
                    ) => assert_eq!(
                        (modulus.as_slice(), exponent.as_slice()),
                        (m, x),
                        "{path:?}"
                    ),
                    (Ok(SubjectKey::Ec { x, y, .. }), Ok(CertKey::Ec { x: mx, y: my, .. })) => {
                        assert_eq!((strip(x), strip(y)), (mx, my), "{path:?}")
                    }
                    (Err(_), Err(_)) => {}
                    (full, mine) => panic!("{path:?}: x509 parser {full:?}, walk {mine:?}"),
                }
                compared += 1;
            }
        }
        assert!(compared >= 20, "only {compared} certificates compared");
    }

    #[cfg(feature = "cert")]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Mutated real EK certificates: the walk never panics, and where the X.509 parser
        /// still reads a key, the walk finds the same one (the fuzz target `cert_chain` does
        /// the same on nightly).
        #[test]
        fn mutated_certificates_agree_or_fail(
            which in 0usize..3,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            truncate in proptest::prelude::any::<bool>(),
        ) {
            let names = ["ek-rsa2048.crt", "ek-secp384r1.crt", "slb9670_ek_rsa2048.der"];
            let path = std::format!(
                "{}/vectors/certs/material/{}",
                env!("CARGO_MANIFEST_DIR"),
                names[which]
            );
            let mut der = std::fs::read(path).unwrap();
            let i = at.index(der.len());
            der[i] = byte;
            if truncate {
                der.truncate(cut.index(der.len()));
            }
            let walk = cert_key(&der);
            if let Ok(full) = crate::cert::Certificate::from_nv_bytes(&der).and_then(|c| c.subject_key()) {
                match (full, walk) {
                    (crate::cert::SubjectKey::Rsa { modulus, exponent }, Ok(CertKey::Rsa { modulus: m, exponent: e })) => {
                        proptest::prop_assert_eq!((modulus.as_slice(), exponent.as_slice()), (m, e));
                    }
                    (crate::cert::SubjectKey::Ec { x, y, .. }, Ok(CertKey::Ec { x: wx, y: wy, .. })) => {
                        proptest::prop_assert_eq!((strip(&x), strip(&y)), (wx, wy));
                    }
                    (full, walk) => proptest::prop_assert!(false, "parser {:?}, walk {:?}", full, walk),
                }
            }
        }
    }
}
