//! The `TPM2B_*` family: sized byte buffers, each with its spec maximum.

use crate::wire::{Error, Marshal, Reader, Unmarshal, Writer};

/// A sized buffer borrowed from the input, whose size may not exceed `MAX`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tpm2b<'a, const MAX: usize>(pub &'a [u8]);

impl<'a, const MAX: usize> Tpm2b<'a, MAX> {
    /// The spec maximum of the buffer's size, in bytes.
    pub const MAX: usize = MAX;

    /// Reads a big-endian UINT16 size, then that many bytes. Refused if the size is above `MAX`
    /// or above the bytes present; `what` names the field in errors.
    pub fn read(r: &mut Reader<'a>, what: &'static str) -> Result<Self, Error> {
        r.tpm2b(MAX, what).map(Self)
    }

    /// Writes the UINT16 size then the bytes; refused if longer than `MAX`.
    pub fn write(&self, w: &mut Writer<'_>, what: &'static str) -> Result<(), Error> {
        w.tpm2b(self.0, MAX, what)
    }

    /// The buffer's bytes (without the size prefix), borrowed from the input.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The buffer's size in bytes (at most `MAX`).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the buffer is empty (size 0).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const MAX: usize> core::fmt::Debug for Tpm2b<'_, MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl<'a, const MAX: usize> Unmarshal<'a> for Tpm2b<'a, MAX> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        Self::read(r, "TPM2B")
    }
}

impl<const MAX: usize> Marshal for Tpm2b<'_, MAX> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.write(w, "TPM2B")
    }
}

/// Spec maxima (TPM 2.0 Part 2, as the reference implementation and tss2 headers size them).
pub mod max {
    /// `sizeof(TPMU_HA)`: the largest digest (SHA-512).
    pub const DIGEST: usize = 64;
    /// `sizeof(TPMT_HA)`.
    pub const DATA: usize = 66;
    /// `sizeof(TPMU_NAME)` (a TPMT_HA or a handle, aligned as the reference code does).
    pub const NAME: usize = 68;
    /// `MAX_RSA_KEY_BYTES` (4096-bit keys).
    pub const RSA_KEY_BYTES: usize = 512;
    /// `MAX_ECC_KEY_BYTES`.
    pub const ECC_KEY_BYTES: usize = 128;
    /// `MAX_NV_BUFFER_SIZE`.
    pub const NV_BUFFER: usize = 2048;
    /// `MAX_SYM_DATA` for TPM2B_SENSITIVE_DATA.
    pub const SENSITIVE_DATA: usize = 256;
    /// `MAX_DIGEST_BUFFER` for TPM2B_MAX_BUFFER.
    pub const MAX_BUFFER: usize = 1024;
    /// `sizeof(TPM2B_EVENT.buffer)`: 1024 bytes of event data (PCR_Event).
    pub const EVENT: usize = 1024;
    /// `sizeof(TPMT_PUBLIC)`: type, nameAlg, attributes, authPolicy, the largest parameters
    /// (RSA and ECC: 16 bytes) and the largest unique field (an RSA-4096 modulus).
    pub const PUBLIC: usize = 2 + 2 + 4 + (2 + DIGEST) + 16 + (2 + RSA_KEY_BYTES);
    /// `sizeof(TPMS_ATTEST)`: header fields plus the largest TPMU_ATTEST (NV certify info).
    pub const ATTEST: usize =
        4 + 2 + (2 + NAME) + (2 + DATA) + 17 + 8 + ((2 + NAME) + 2 + (2 + NV_BUFFER));
}

/// `TPM2B_DIGEST`: up to 64 bytes (a SHA-512 digest).
pub type Tpm2bDigest<'a> = Tpm2b<'a, { max::DIGEST }>;
/// `TPM2B_DATA`: up to 66 bytes (`sizeof(TPMT_HA)`); qualifying data, outsideInfo.
pub type Tpm2bData<'a> = Tpm2b<'a, { max::DATA }>;
/// `TPM2B_NONCE`: a TPM2B_DIGEST used as a session or caller nonce.
pub type Tpm2bNonce<'a> = Tpm2bDigest<'a>;
/// `TPM2B_AUTH`: a TPM2B_DIGEST holding an authorization value.
pub type Tpm2bAuth<'a> = Tpm2bDigest<'a>;
/// `TPM2B_NAME`: up to 68 bytes; a Name (nameAlg then digest) or a handle.
pub type Tpm2bName<'a> = Tpm2b<'a, { max::NAME }>;
/// `TPM2B_PUBLIC_KEY_RSA`: an RSA modulus or signature, up to 512 bytes (RSA-4096).
pub type Tpm2bPublicKeyRsa<'a> = Tpm2b<'a, { max::RSA_KEY_BYTES }>;
/// `TPM2B_ECC_PARAMETER`: one ECC coordinate or scalar, big-endian, up to 128 bytes.
pub type Tpm2bEccParameter<'a> = Tpm2b<'a, { max::ECC_KEY_BYTES }>;
/// `TPM2B_MAX_NV_BUFFER`: NV data, up to 2048 bytes.
pub type Tpm2bMaxNvBuffer<'a> = Tpm2b<'a, { max::NV_BUFFER }>;
/// `TPM2B_SENSITIVE_DATA`: sealed data or key material, up to 256 bytes.
pub type Tpm2bSensitiveData<'a> = Tpm2b<'a, { max::SENSITIVE_DATA }>;
/// `TPM2B_MAX_BUFFER`: up to 1024 bytes (e.g. TPM2_Hash input).
pub type Tpm2bMaxBuffer<'a> = Tpm2b<'a, { max::MAX_BUFFER }>;
/// `TPM2B_EVENT`: TPM2_PCR_Event data, up to 1024 bytes.
pub type Tpm2bEvent<'a> = Tpm2b<'a, { max::EVENT }>;
