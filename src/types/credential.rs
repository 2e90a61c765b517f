//! TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET: the two halves of a credential made for
//! TPM2_ActivateCredential (Part 2 §12.4.3 and §11.4.33), parse and emit side by side.

use super::tpm2b::{max, Tpm2b, Tpm2bDigest};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// `sizeof(TPMS_ID_OBJECT)`: an integrity HMAC and an encrypted TPM2B_DIGEST, each at most a
/// TPM2B_DIGEST.
pub const MAX_ID_OBJECT: usize = 2 * (2 + max::DIGEST);

/// `sizeof(TPMU_ENCRYPTED_SECRET)`: the largest of an RSA ciphertext (`MAX_RSA_KEY_BYTES`),
/// a TPMS_ECC_POINT and a digest.
pub const MAX_ENCRYPTED_SECRET: usize = max::RSA_KEY_BYTES;

/// Smallest and largest encIdentity: an encrypted TPM2B_DIGEST keeps its 2-byte size.
const MIN_ENC_IDENTITY: usize = 2;
const MAX_ENC_IDENTITY: usize = 2 + max::DIGEST;

/// `TPM2B_ENCRYPTED_SECRET`: an RSA-OAEP ciphertext or a marshaled TPMS_ECC_POINT.
pub type Tpm2bEncryptedSecret<'a> = Tpm2b<'a, MAX_ENCRYPTED_SECRET>;

/// `TPM2B_ID_OBJECT` holding a `TPMS_ID_OBJECT`: `integrityHMAC` (a TPM2B_DIGEST) followed by
/// `encIdentity`, which fills the rest of the buffer (it is an encrypted TPM2B_DIGEST whose
/// own size prefix is encrypted too, so the outer size is what delimits it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tpm2bIdObject<'a> {
    /// `integrityHMAC`: HMAC over encIdentity and the object's Name, keyed from the seed
    /// (KDFa "INTEGRITY"); a digest-sized buffer.
    pub integrity_hmac: Tpm2bDigest<'a>,
    /// `encIdentity`: the credential as a TPM2B_DIGEST, encrypted with AES-CFB under a key from
    /// the seed (KDFa "STORAGE"); its size prefix is encrypted too.
    pub enc_identity: &'a [u8],
}

impl<'a> Unmarshal<'a> for Tpm2bIdObject<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let (v, _) = r.sized(MAX_ID_OBJECT, "TPM2B_ID_OBJECT", |r| {
            let at = r.offset();
            let integrity_hmac = Tpm2bDigest::read(r, "TPMS_ID_OBJECT.integrityHMAC")?;
            if !matches!(integrity_hmac.len(), 20 | 32 | 48 | 64) {
                return Err(Error::new(
                    ErrorKind::InvalidValue {
                        value: integrity_hmac.len() as u32,
                    },
                    "TPMS_ID_OBJECT.integrityHMAC size (must be a digest size)",
                    at,
                ));
            }
            let at = r.offset();
            let n = r.remaining();
            if !(MIN_ENC_IDENTITY..=MAX_ENC_IDENTITY).contains(&n) {
                return Err(Error::new(
                    ErrorKind::InvalidValue { value: n as u32 },
                    "TPMS_ID_OBJECT.encIdentity size (must hold an encrypted TPM2B_DIGEST)",
                    at,
                ));
            }
            let enc_identity = r.bytes(n, "TPMS_ID_OBJECT.encIdentity")?;
            Ok(Self {
                integrity_hmac,
                enc_identity,
            })
        })?;
        Ok(v)
    }
}

impl Marshal for Tpm2bIdObject<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        if self.enc_identity.len() > MAX_ENC_IDENTITY {
            return Err(Error::new(
                ErrorKind::SizeAboveMax {
                    size: self.enc_identity.len(),
                    max: MAX_ENC_IDENTITY,
                },
                "TPMS_ID_OBJECT.encIdentity",
                w.len(),
            ));
        }
        w.sized(MAX_ID_OBJECT, "TPM2B_ID_OBJECT", |w| {
            self.integrity_hmac
                .write(w, "TPMS_ID_OBJECT.integrityHMAC")?;
            w.bytes(self.enc_identity)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_object_round_trips_and_bounds() {
        let hmac = [7u8; 32];
        let enc = [9u8; 34];
        let v = Tpm2bIdObject {
            integrity_hmac: Tpm2b(&hmac),
            enc_identity: &enc,
        };
        let mut buf = [0u8; 200];
        let mut w = Writer::new(&mut buf);
        v.marshal(&mut w).unwrap();
        let n = w.len();
        assert_eq!(n, 70);
        assert_eq!(&buf[..4], &[0, 68, 0, 32]);
        assert_eq!(Tpm2bIdObject::from_bytes(&buf[..n]).unwrap(), v);
        // An HMAC that is not a digest size, and an empty encIdentity, are refused.
        let bad = [0u8, 4, 0, 1, 0xaa, 0xbb];
        assert!(Tpm2bIdObject::from_bytes(&bad).is_err());
        let mut short = buf;
        short[1] = 34; // total = 2 + 32: no encIdentity left
        assert!(Tpm2bIdObject::from_bytes(&short[..36]).is_err());
        // Above sizeof(TPMS_ID_OBJECT).
        let big = [0u8, 133];
        assert!(matches!(
            Tpm2bIdObject::from_bytes(&big).unwrap_err().kind,
            ErrorKind::SizeAboveMax {
                size: 133,
                max: 132
            }
        ));
    }
}
