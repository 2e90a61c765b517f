//! The credential file of `tpm2_makecredential -o` / `tpm2_activatecredential -i`:
//! `BE32 0xBADCC0DE ‖ BE32 1 ‖ TPM2B_ID_OBJECT ‖ TPM2B_ENCRYPTED_SECRET` (tpm2-tools
//! `lib/files.c` header, then the two TPM2Bs as the TPM marshals them).

use crate::types::credential::{MAX_ENCRYPTED_SECRET, MAX_ID_OBJECT};
use crate::types::{Tpm2bEncryptedSecret, Tpm2bIdObject};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// tpm2-tools' file magic.
pub const CREDENTIAL_FILE_MAGIC: u32 = 0xBADC_C0DE;
/// The only version tpm2-tools writes and reads.
pub const CREDENTIAL_FILE_VERSION: u32 = 1;
/// Largest credential file: header and both TPM2Bs at their maxima.
pub const MAX_CREDENTIAL_FILE: usize = 8 + 2 + MAX_ID_OBJECT + 2 + MAX_ENCRYPTED_SECRET;

/// A parsed credential file, borrowing from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialFile<'a> {
    /// The TPM2B_ID_OBJECT (credentialBlob).
    pub id_object: Tpm2bIdObject<'a>,
    /// The TPM2B_ENCRYPTED_SECRET (secret).
    pub encrypted_secret: Tpm2bEncryptedSecret<'a>,
}

impl<'a> CredentialFile<'a> {
    /// Parses a whole file: magic, version, both TPM2Bs, nothing after them.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let magic = r.u32("credential file magic")?;
        if magic != CREDENTIAL_FILE_MAGIC {
            return Err(Error::new(
                ErrorKind::BadMagic { value: magic },
                "credential file magic (expected 0xBADCC0DE)",
                0,
            ));
        }
        let version = r.u32("credential file version")?;
        if version != CREDENTIAL_FILE_VERSION {
            return Err(Error::new(
                ErrorKind::Unsupported { value: version },
                "credential file version (expected 1)",
                4,
            ));
        }
        let id_object = Tpm2bIdObject::unmarshal(&mut r)?;
        let encrypted_secret = Tpm2bEncryptedSecret::read(&mut r, "TPM2B_ENCRYPTED_SECRET")?;
        if encrypted_secret.is_empty() {
            return Err(r.error(
                ErrorKind::InvalidValue { value: 0 },
                "TPM2B_ENCRYPTED_SECRET (empty)",
            ));
        }
        r.finish()?;
        Ok(Self {
            id_object,
            encrypted_secret,
        })
    }

    /// Writes the file into `out`; returns its length.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::new(out);
        w.u32(CREDENTIAL_FILE_MAGIC)?;
        w.u32(CREDENTIAL_FILE_VERSION)?;
        self.id_object.marshal(&mut w)?;
        self.encrypted_secret
            .write(&mut w, "TPM2B_ENCRYPTED_SECRET")?;
        Ok(w.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Tpm2b;

    #[test]
    fn round_trip_and_refusals() {
        let hmac = [1u8; 32];
        let enc = [2u8; 34];
        let secret = [3u8; 256];
        let f = CredentialFile {
            id_object: Tpm2bIdObject {
                integrity_hmac: Tpm2b(&hmac),
                enc_identity: &enc,
            },
            encrypted_secret: Tpm2b(&secret),
        };
        let mut buf = [0u8; MAX_CREDENTIAL_FILE];
        let n = f.write(&mut buf).unwrap();
        assert_eq!(n, 336);
        assert_eq!(CredentialFile::parse(&buf[..n]).unwrap(), f);
        let mut bad = buf;
        bad[0] = 0;
        assert!(matches!(
            CredentialFile::parse(&bad[..n]).unwrap_err().kind,
            ErrorKind::BadMagic { .. }
        ));
        let mut bad = buf;
        bad[7] = 2;
        assert!(matches!(
            CredentialFile::parse(&bad[..n]).unwrap_err().kind,
            ErrorKind::Unsupported { value: 2 }
        ));
        assert!(matches!(
            CredentialFile::parse(&buf[..n + 1]).unwrap_err().kind,
            ErrorKind::TrailingBytes { count: 1 }
        ));
        assert!(CredentialFile::parse(&buf[..n - 1]).is_err());
    }
}
