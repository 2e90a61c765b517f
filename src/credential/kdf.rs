//! KDFa (SP 800-108 counter mode with HMAC) and KDFe (SP 800-56A concatenation KDF), as TPM
//! 2.0 Part 1 §11.4.10 defines them. `no_std`, no allocation: output goes to a caller buffer.
//!
//! Labels are given without their terminating zero; both functions hash `label ‖ 0x00`, as
//! the TPM does ("STORAGE", "INTEGRITY", "IDENTITY" all carry the zero on the wire).

use crate::types::hash::{HashUnavailable, Hasher};
use crate::types::HashAlg;
use hmac::{Hmac, Mac};

/// Why a KDF could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KdfError {
    /// The hash is not compiled into this build.
    Hash(HashUnavailable),
    /// `bits` is more than `out` holds.
    OutputSize {
        /// Bits asked for.
        bits: u32,
        /// Bytes the output buffer holds.
        available: usize,
    },
}

impl core::fmt::Display for KdfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Hash(h) => h.fmt(f),
            Self::OutputSize { bits, available } => write!(
                f,
                "KDF output of {bits} bits does not fit {available} bytes"
            ),
        }
    }
}

fn out_len(bits: u32, out: &[u8]) -> Result<usize, KdfError> {
    let n = bits.div_ceil(8) as usize;
    if n > out.len() {
        return Err(KdfError::OutputSize {
            bits,
            available: out.len(),
        });
    }
    Ok(n)
}

/// Clears the bits of the first byte beyond `bits` (the spec keeps the low-order bits).
fn mask_high(bits: u32, out: &mut [u8]) {
    if bits % 8 != 0 {
        if let Some(b) = out.first_mut() {
            *b &= (1u8 << (bits % 8)) - 1;
        }
    }
}

/// HMAC over the concatenation of `parts`, written to `out` (which holds a digest).
pub(crate) fn hmac_parts(
    alg: HashAlg,
    key: &[u8],
    parts: &[&[u8]],
    out: &mut [u8],
) -> Result<usize, HashUnavailable> {
    macro_rules! run {
        ($h:ty) => {{
            // HMAC accepts keys of any length; new_from_slice cannot fail for it.
            let mut m = match <Hmac<$h> as Mac>::new_from_slice(key) {
                Ok(m) => m,
                Err(_) => return Err(HashUnavailable(alg)),
            };
            for p in parts {
                m.update(p);
            }
            let tag = m.finalize().into_bytes();
            let n = tag.len().min(out.len());
            out[..n].copy_from_slice(&tag[..n]);
            Ok(n)
        }};
    }
    match alg {
        #[cfg(feature = "sha1")]
        HashAlg::Sha1 => run!(sha1::Sha1),
        HashAlg::Sha256 => run!(sha2::Sha256),
        HashAlg::Sha384 => run!(sha2::Sha384),
        HashAlg::Sha512 => run!(sha2::Sha512),
        other => Err(HashUnavailable(other)),
    }
}

/// `KDFa(hash, key, label, contextU, contextV, bits)` into `out[..ceil(bits/8)]`; returns
/// that length (zero bits give an empty output). The HMAC key is `key` itself, whatever its length.
pub fn kdfa(
    alg: HashAlg,
    key: &[u8],
    label: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    bits: u32,
    out: &mut [u8],
) -> Result<usize, KdfError> {
    let n = out_len(bits, out)?;
    if !crate::types::hash::available(alg) {
        return Err(KdfError::Hash(HashUnavailable(alg)));
    }
    let mut block = [0u8; crate::types::hash::MAX_DIGEST];
    let mut done = 0usize;
    let mut counter = 1u32;
    while done < n {
        let got = hmac_parts(
            alg,
            key,
            &[
                &counter.to_be_bytes(),
                label,
                &[0],
                context_u,
                context_v,
                &bits.to_be_bytes(),
            ],
            &mut block,
        )
        .map_err(KdfError::Hash)?;
        let take = got.min(n - done);
        out[done..done + take].copy_from_slice(&block[..take]);
        done += take;
        counter = counter.wrapping_add(1);
    }
    mask_high(bits, &mut out[..n]);
    Ok(n)
}

/// `KDFe(hash, Z, label, partyUInfo, partyVInfo, bits)` into `out[..ceil(bits/8)]`; returns
/// that length.
pub fn kdfe(
    alg: HashAlg,
    z: &[u8],
    label: &[u8],
    party_u: &[u8],
    party_v: &[u8],
    bits: u32,
    out: &mut [u8],
) -> Result<usize, KdfError> {
    let n = out_len(bits, out)?;
    let mut done = 0usize;
    let mut counter = 1u32;
    while done < n {
        let mut h = Hasher::new(alg).map_err(KdfError::Hash)?;
        for part in [&counter.to_be_bytes()[..], z, label, &[0], party_u, party_v] {
            h.update(part);
        }
        let d = h.finish();
        let d = d.as_bytes();
        let take = d.len().min(n - done);
        out[done..done + take].copy_from_slice(&d[..take]);
        done += take;
        counter = counter.wrapping_add(1);
    }
    mask_high(bits, &mut out[..n]);
    Ok(n)
}
