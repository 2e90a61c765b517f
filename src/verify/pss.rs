//! RSASSA-PSS verification that accepts every valid salt length (RFC 8017 8.1.2 and 9.1.2).
//!
//! TPM 2.0 Part 1 B.7 lets a TPM salt with the largest length the key and hash allow
//! (`emLen - hLen - 2`, 222 bytes for RSA-2048 with SHA-256); FIPS-mode TPMs, swtpm among
//! them, salt with the digest size. The `rsa` crate checks one salt length fixed in advance,
//! so this module runs EMSA-PSS-VERIFY itself and reads the salt length off the decoded
//! message: after unmasking, DB is `00 .. 00 01 || salt`, which fixes the salt. Everything
//! else is checked as RFC 8017 says, and the recovered salt still enters H' = Hash(00^8 ||
//! mHash || salt), so a signature verifies for exactly one salt length.
//!
//! The mask generation function is MGF1 with the signing hash, as the TPM uses. Buffers are
//! fixed-size (the `rsa` crate refuses moduli above 4096 bits); every index is bounded by the
//! lengths checked before it, and nothing panics on any signature bytes.

use super::VerifyError;
use crate::types::{hash, HashAlg};
use rsa::traits::PublicKeyParts as _;
use rsa::BigUint;
use subtle::ConstantTimeEq as _;

/// The largest modulus the `rsa` crate builds a public key for, in bytes (4096 bits).
const MAX_MODULUS_BYTES: usize = 512;

/// Verifies an RSASSA-PSS signature `sig` over the digest `m_hash` (computed with `hash_alg`)
/// with any salt length from 0 to the maximum. `sig` must be as long as the modulus.
pub(super) fn verify_pss_any_salt(
    key: &rsa::RsaPublicKey,
    hash_alg: HashAlg,
    m_hash: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    let k = key.size();
    if sig.len() != k {
        return Err(VerifyError::RsaSignatureLength {
            got: sig.len(),
            expected: k,
        });
    }
    let h_len = hash_alg.digest_size();
    if m_hash.len() != h_len || k > MAX_MODULUS_BYTES {
        return Err(VerifyError::BadSignature);
    }

    // RSAVP1 (RFC 8017 5.2.2): s must be below n, m = s^e mod n.
    let s = BigUint::from_bytes_be(sig);
    if &s >= key.n() {
        return Err(VerifyError::BadSignature);
    }
    let m = s.modpow(key.e(), key.n());

    // EM = I2OSP(m, emLen), emBits = modBits - 1.
    let mod_bits = key.n().bits();
    let em_bits = mod_bits.checked_sub(1).ok_or(VerifyError::BadSignature)?;
    let em_len = em_bits.div_ceil(8);
    let m_bytes = m.to_bytes_be();
    // A zero m comes back as one zero byte; strip leading zeros before sizing.
    let m_trimmed = &m_bytes[m_bytes.iter().take_while(|&&b| b == 0).count()..];
    if m_trimmed.len() > em_len || em_len > MAX_MODULUS_BYTES {
        return Err(VerifyError::BadSignature);
    }
    let mut em_buf = [0u8; MAX_MODULUS_BYTES];
    let em = &mut em_buf[..em_len];
    em[em_len - m_trimmed.len()..].copy_from_slice(m_trimmed);

    emsa_pss_verify(hash_alg, m_hash, em, em_bits)
}

/// EMSA-PSS-VERIFY (RFC 8017 9.1.2) with the salt length recovered from DB (step 10).
fn emsa_pss_verify(
    hash_alg: HashAlg,
    m_hash: &[u8],
    em: &mut [u8],
    em_bits: usize,
) -> Result<(), VerifyError> {
    let h_len = hash_alg.digest_size();
    let em_len = em.len();
    // Step 3, for the smallest salt (0): emLen >= hLen + 2.
    if em_len < h_len + 2 {
        return Err(VerifyError::BadSignature);
    }
    // Step 4: the trailer field.
    if em[em_len - 1] != 0xbc {
        return Err(VerifyError::BadSignature);
    }
    // Step 5: maskedDB || H || 0xbc.
    let (db, rest) = em.split_at_mut(em_len - h_len - 1);
    let h = &rest[..h_len];
    // Step 6: the bits above emBits must be zero. 8 * emLen - emBits is 0..=7.
    let unused_bits = 8 * em_len - em_bits;
    let top_mask: u8 = 0xff >> unused_bits;
    if db[0] & !top_mask != 0 {
        return Err(VerifyError::BadSignature);
    }
    // Steps 7-8: DB = maskedDB xor MGF1(H, emLen - hLen - 1).
    mgf1_xor(hash_alg, h, db)?;
    // Step 9.
    db[0] &= top_mask;
    // Step 10: DB = PS (zeros) || 0x01 || salt; the first non-zero octet must be 0x01.
    let ps_len = db.iter().take_while(|&&b| b == 0).count();
    if db.get(ps_len) != Some(&0x01) {
        return Err(VerifyError::BadSignature);
    }
    // Step 11: the salt is what follows (0 ..= emLen - hLen - 2 octets).
    let salt = &db[ps_len + 1..];
    // Steps 12-13: H' = Hash(00^8 || mHash || salt).
    let h_prime = hash::digest(hash_alg, &[&[0u8; 8], m_hash, salt])
        .map_err(|_| VerifyError::SignatureHashNotSupported(hash_alg))?;
    // Step 14.
    if bool::from(h_prime.as_bytes().ct_eq(h)) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// XORs MGF1(seed) (RFC 8017 B.2.1) into `out`: T = Hash(seed || C) for C = 0, 1, ...
fn mgf1_xor(hash_alg: HashAlg, seed: &[u8], out: &mut [u8]) -> Result<(), VerifyError> {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(hash_alg.digest_size())) {
        let t = hash::digest(hash_alg, &[seed, &counter.to_be_bytes()])
            .map_err(|_| VerifyError::SignatureHashNotSupported(hash_alg))?;
        for (o, m) in chunk.iter_mut().zip(t.as_bytes()) {
            *o ^= m;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use rand::SeedableRng as _;

    fn key(bits: usize, seed: u64) -> rsa::RsaPrivateKey {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        rsa::RsaPrivateKey::new(&mut rng, bits).unwrap()
    }

    fn sign(k: &rsa::RsaPrivateKey, alg: HashAlg, salt: usize, digest: &[u8]) -> Vec<u8> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(salt as u64);
        let scheme = match alg {
            HashAlg::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt),
            HashAlg::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt),
            HashAlg::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt),
            _ => rsa::Pss::new_with_salt::<sha2::Sha512>(salt),
        };
        k.sign_with_rng(&mut rng, scheme, digest)
            .unwrap_or_else(|e| panic!("{} bits {alg} salt {salt}: {e:?}", k.size()))
    }

    /// Keys whose modulus has 1 (emLen = k - 1) and 0 (emLen = k) bits past a byte, every
    /// hash, and salts from 0 to the maximum; each signature is made by the `rsa` crate.
    #[test]
    fn every_salt_length_verifies_and_only_with_its_own_digest() {
        for (bits, seed) in [(1025, 1u64), (1024, 2)] {
            let k = key(bits, seed);
            let public = k.to_public_key();
            let em_len = (bits - 1).div_ceil(8);
            for alg in [
                HashAlg::Sha1,
                HashAlg::Sha256,
                HashAlg::Sha384,
                HashAlg::Sha512,
            ] {
                let h = alg.digest_size();
                let digest = hash::digest(alg, &[b"quote"]).unwrap();
                let other = hash::digest(alg, &[b"quotf"]).unwrap();
                let max = em_len - h - 2;
                for salt in [0, 1, h.min(max), max - 1, max] {
                    let sig = sign(&k, alg, salt, digest.as_bytes());
                    assert_eq!(
                        verify_pss_any_salt(&public, alg, digest.as_bytes(), &sig),
                        Ok(()),
                        "{bits} bits, {alg}, salt {salt}"
                    );
                    assert_eq!(
                        verify_pss_any_salt(&public, alg, other.as_bytes(), &sig),
                        Err(VerifyError::BadSignature)
                    );
                    let mut flipped = sig.clone();
                    flipped[sig.len() / 2] ^= 0x10;
                    assert_eq!(
                        verify_pss_any_salt(&public, alg, digest.as_bytes(), &flipped),
                        Err(VerifyError::BadSignature)
                    );
                }
            }
        }
    }

    /// Encoded messages built by hand, each breaking one step of 9.1.2, signed raw with the
    /// private key so that only the encoding is wrong. (The bits above emBits cannot be set
    /// in an encoding below n, so step 6 is a defensive check no signature reaches.)
    #[test]
    fn each_encoding_defect_is_refused() {
        use rsa::traits::PrivateKeyParts as _;
        let k = key(1024, 3);
        let public = k.to_public_key();
        let alg = HashAlg::Sha256;
        let m_hash = hash::digest(alg, &[b"quote"]).unwrap();
        let raw_sign = |em: &[u8]| -> Vec<u8> {
            let s = BigUint::from_bytes_be(em).modpow(k.d(), k.n());
            let b = s.to_bytes_be();
            let mut out = vec![0u8; 128 - b.len()];
            out.extend(b);
            out
        };
        // A correct encoding with a 5-byte salt, built step by step.
        let encode = |salt: &[u8], trailer: u8, one: u8| -> Vec<u8> {
            let em_len = 128; // emBits = 1023
            let h = hash::digest(alg, &[&[0u8; 8], m_hash.as_bytes(), salt]).unwrap();
            let mut db = vec![0u8; em_len - 32 - 1];
            let n = db.len();
            db[n - salt.len() - 1] = one;
            db[n - salt.len()..].copy_from_slice(salt);
            mgf1_xor(alg, h.as_bytes(), &mut db).unwrap();
            db[0] &= 0x7f;
            let mut em = db;
            em.extend_from_slice(h.as_bytes());
            em.push(trailer);
            em
        };
        let salt = [1u8, 2, 3, 4, 5];
        let good = raw_sign(&encode(&salt, 0xbc, 0x01));
        assert_eq!(
            verify_pss_any_salt(&public, alg, m_hash.as_bytes(), &good),
            Ok(())
        );
        for (what, em) in [
            ("trailer 0xbd", encode(&salt, 0xbd, 0x01)),
            ("separator 0x02", encode(&salt, 0xbc, 0x02)),
            ("no separator", encode(&salt, 0xbc, 0x00)),
        ] {
            let sig = raw_sign(&em);
            assert_eq!(
                verify_pss_any_salt(&public, alg, m_hash.as_bytes(), &sig),
                Err(VerifyError::BadSignature),
                "{what}"
            );
        }
        // s >= n, s = 0, and a signature of the wrong length.
        let n = k.n().to_bytes_be();
        assert_eq!(
            verify_pss_any_salt(&public, alg, m_hash.as_bytes(), &n),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify_pss_any_salt(&public, alg, m_hash.as_bytes(), &[0u8; 128]),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify_pss_any_salt(&public, alg, m_hash.as_bytes(), &good[1..]),
            Err(VerifyError::RsaSignatureLength {
                got: 127,
                expected: 128
            })
        );
    }
}
