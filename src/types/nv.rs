//! `TPMS_NV_PUBLIC` / `TPM2B_NV_PUBLIC` (Part 2 §13.5-13.6): parse and emit side by side.

use super::tpm2b::max;
use super::{HashAlg, Tpm2bDigest};
use crate::wire::{Error, Marshal, Reader, Unmarshal, Writer};

/// `sizeof(TPMS_NV_PUBLIC)`: index, nameAlg, attributes, authPolicy, dataSize.
pub const MAX_NV_PUBLIC: usize = 4 + 2 + 4 + (2 + max::DIGEST) + 2;

/// `TPMS_NV_PUBLIC`: the public area of an NV index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmsNvPublic<'r> {
    /// `nvIndex` (`TPMI_RH_NV_INDEX`).
    pub nv_index: u32,
    /// `nameAlg`: the hash of the index's Name.
    pub name_alg: HashAlg,
    /// `attributes` (`TPMA_NV`), as the TPM sent them.
    pub attributes: u32,
    /// `authPolicy`.
    pub auth_policy: Tpm2bDigest<'r>,
    /// `dataSize`: bytes the index holds.
    pub data_size: u16,
}

impl<'r> TpmsNvPublic<'r> {
    /// Reads a `TPM2B_NV_PUBLIC`: the size, then exactly one `TPMS_NV_PUBLIC`.
    pub fn unmarshal_tpm2b(r: &mut Reader<'r>) -> Result<Self, Error> {
        r.sized(MAX_NV_PUBLIC, "TPM2B_NV_PUBLIC", Self::unmarshal)
            .map(|(v, _)| v)
    }

    /// Writes `self` as a `TPM2B_NV_PUBLIC`.
    pub fn marshal_tpm2b(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.sized(MAX_NV_PUBLIC, "TPM2B_NV_PUBLIC", |w| self.marshal(w))
    }
}

impl<'r> Unmarshal<'r> for TpmsNvPublic<'r> {
    fn unmarshal(r: &mut Reader<'r>) -> Result<Self, Error> {
        Ok(Self {
            nv_index: r.u32("TPMS_NV_PUBLIC.nvIndex")?,
            name_alg: HashAlg::read(r, "TPMS_NV_PUBLIC.nameAlg")?,
            attributes: r.u32("TPMS_NV_PUBLIC.attributes")?,
            auth_policy: Tpm2bDigest::read(r, "TPMS_NV_PUBLIC.authPolicy")?,
            data_size: r.u16("TPMS_NV_PUBLIC.dataSize")?,
        })
    }
}

impl Marshal for TpmsNvPublic<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u32(self.nv_index)?;
        w.u16(self.name_alg.alg_id().0)?;
        w.u32(self.attributes)?;
        self.auth_policy.write(w, "TPMS_NV_PUBLIC.authPolicy")?;
        w.u16(self.data_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Tpm2b;

    /// `TPM2B_NV_PUBLIC` from swtpm 0.7 (libtpms 0.9) answering TPM2_NV_ReadPublic for an index
    /// made by `tpm2_nvdefine 0x01500020 -C o -s 96 -a "ownerread|ownerwrite|authread|authwrite"`.
    const SWTPM: [u8; 16] = [
        0x00, 0x0e, 0x01, 0x50, 0x00, 0x20, 0x00, 0x0b, 0x00, 0x06, 0x00, 0x06, 0x00, 0x00, 0x00,
        0x60,
    ];

    #[test]
    fn swtpm_answer_round_trips() {
        let mut r = Reader::new(&SWTPM);
        let p = TpmsNvPublic::unmarshal_tpm2b(&mut r).unwrap();
        r.finish().unwrap();
        assert_eq!(
            p,
            TpmsNvPublic {
                nv_index: 0x0150_0020,
                name_alg: HashAlg::Sha256,
                attributes: 0x0006_0006,
                auth_policy: Tpm2b(&[]),
                data_size: 96,
            }
        );
        let mut buf = [0u8; 2 + MAX_NV_PUBLIC];
        let mut w = Writer::new(&mut buf);
        p.marshal_tpm2b(&mut w).unwrap();
        assert_eq!(w.written(), &SWTPM);
    }

    #[test]
    fn refuses_unknown_name_alg_and_slack() {
        let mut bad = SWTPM;
        bad[7] = 0x10; // TPM_ALG_NULL
        assert!(TpmsNvPublic::unmarshal_tpm2b(&mut Reader::new(&bad)).is_err());
        let mut long = [0u8; 17];
        long[..16].copy_from_slice(&SWTPM);
        long[1] = 0x0f; // declares one byte the structure does not use
        assert!(TpmsNvPublic::unmarshal_tpm2b(&mut Reader::new(&long)).is_err());
    }
}
