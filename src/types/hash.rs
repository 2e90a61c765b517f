//! Digests over byte slices for the hash algorithms compiled in. `no_std`, no allocation.

use super::alg::HashAlg;

/// The largest digest the spec defines (SHA-512): `sizeof(TPMU_HA)`.
pub const MAX_DIGEST: usize = 64;

/// A digest held inline, sized by its algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Digest {
    alg: HashAlg,
    bytes: [u8; MAX_DIGEST],
}

impl Digest {
    /// The algorithm the digest was computed with.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }
    /// The digest, exactly `alg().digest_size()` bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.alg.digest_size()]
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// The hash algorithm is defined by the spec but not compiled into this build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HashUnavailable(pub HashAlg);

impl core::fmt::Display for HashUnavailable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "hash algorithm {} is not available in this build",
            self.0
        )
    }
}

/// Whether this build can compute `alg`.
pub fn available(alg: HashAlg) -> bool {
    (alg == HashAlg::Sha1 && cfg!(feature = "sha1"))
        || matches!(alg, HashAlg::Sha256 | HashAlg::Sha384 | HashAlg::Sha512)
}

/// An incremental hasher over any available algorithm.
#[derive(Clone)]
pub enum Hasher {
    #[cfg(feature = "sha1")]
    /// SHA-1 (only with the `sha1` feature).
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(sha2::Sha384),
    /// SHA-512.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher for `alg`; `HashUnavailable` if this build cannot compute it (SM3 and
    /// SHA-3 always, SHA-1 without the `sha1` feature).
    pub fn new(alg: HashAlg) -> Result<Self, HashUnavailable> {
        use sha2::Digest as _;
        Ok(match alg {
            #[cfg(feature = "sha1")]
            HashAlg::Sha1 => Self::Sha1(sha1::Sha1::new()),
            HashAlg::Sha256 => Self::Sha256(sha2::Sha256::new()),
            HashAlg::Sha384 => Self::Sha384(sha2::Sha384::new()),
            HashAlg::Sha512 => Self::Sha512(sha2::Sha512::new()),
            other => return Err(HashUnavailable(other)),
        })
    }

    /// Feeds bytes to the hash.
    pub fn update(&mut self, data: &[u8]) {
        use sha2::Digest as _;
        match self {
            #[cfg(feature = "sha1")]
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    /// Ends the hash and returns the digest.
    pub fn finish(self) -> Digest {
        use sha2::Digest as _;
        let mut bytes = [0u8; MAX_DIGEST];
        let alg = match self {
            #[cfg(feature = "sha1")]
            Self::Sha1(h) => {
                bytes[..20].copy_from_slice(&h.finalize());
                HashAlg::Sha1
            }
            Self::Sha256(h) => {
                bytes[..32].copy_from_slice(&h.finalize());
                HashAlg::Sha256
            }
            Self::Sha384(h) => {
                bytes[..48].copy_from_slice(&h.finalize());
                HashAlg::Sha384
            }
            Self::Sha512(h) => {
                bytes.copy_from_slice(&h.finalize());
                HashAlg::Sha512
            }
        };
        Digest { alg, bytes }
    }
}

/// Hashes the concatenation of `parts`.
pub fn digest(alg: HashAlg, parts: &[&[u8]]) -> Result<Digest, HashUnavailable> {
    let mut h = Hasher::new(alg)?;
    for p in parts {
        h.update(p);
    }
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let d = digest(HashAlg::Sha256, &[b"a", b"bc"]).unwrap();
        assert_eq!(
            d.as_bytes(),
            &hex_literal(b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")[..]
        );
        assert_eq!(digest(HashAlg::Sha384, &[]).unwrap().as_bytes().len(), 48);
        assert_eq!(
            digest(HashAlg::Sm3_256, &[]),
            Err(HashUnavailable(HashAlg::Sm3_256))
        );
    }

    fn hex_literal(s: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }
}
