//! Quote and Certify: signed attestations.

use super::{handles, passwords, Command, Handles, Passwords};
use crate::types::pcr::TpmlPcrSelection;
use crate::types::tpm2b::max;
use crate::types::{TpmAlgId, TpmCc, TpmsAttest, TpmtSignature};
use crate::wire::{Error, Marshal, Reader, Unmarshal, Writer};

/// An attestation and its signature, with the exact bytes the TPM returned for both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedAttest<'r> {
    /// The parsed TPMS_ATTEST (`quoted` or `certifyInfo`).
    pub attest: TpmsAttest<'r>,
    /// TPMS_ATTEST as signed (what `tpm2_quote -m` writes).
    pub attest_bytes: &'r [u8],
    /// The parsed TPMT_SIGNATURE.
    pub signature: TpmtSignature<'r>,
    /// TPMT_SIGNATURE as received (what `tpm2_quote -s` writes).
    pub signature_bytes: &'r [u8],
}

fn read_signed<'r>(r: &mut Reader<'r>) -> Result<SignedAttest<'r>, Error> {
    let (attest, attest_bytes) = TpmsAttest::read_tpm2b(r)?;
    let before = r.rest();
    let signature = TpmtSignature::unmarshal(r)?;
    let used = before.len() - r.remaining();
    Ok(SignedAttest {
        attest,
        attest_bytes,
        signature,
        signature_bytes: &before[..used],
    })
}

/// `TPMT_SIG_SCHEME` with TPM_ALG_NULL: sign with the key's own scheme.
fn write_null_scheme(w: &mut Writer<'_>) -> Result<(), Error> {
    w.u16(TpmAlgId::NULL.0)
}

/// TPM2_Quote with the key's own signing scheme.
pub struct Quote<'a> {
    /// `signHandle`: the signing key (the AK).
    pub sign_handle: u32,
    /// Password of the signing key.
    pub sign_auth: &'a [u8],
    /// `qualifyingData`: the verifier's nonce, copied into extraData (at most 66 bytes).
    pub qualifying_data: &'a [u8],
    /// `PCRselect`: the PCRs to quote.
    pub pcr_select: TpmlPcrSelection,
}

impl Command for Quote<'_> {
    const CC: TpmCc = TpmCc::QUOTE;
    type Response<'r> = SignedAttest<'r>;
    fn handles(&self) -> Handles {
        handles([self.sign_handle])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.sign_auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.tpm2b(self.qualifying_data, max::DATA, "qualifyingData")?;
        write_null_scheme(w)?;
        self.pcr_select.marshal(w)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<SignedAttest<'r>, Error> {
        read_signed(r)
    }
}

/// TPM2_Certify: the signing key attests that `object_handle` is loaded in this TPM.
pub struct Certify<'a> {
    /// `objectHandle`: the object to certify.
    pub object_handle: u32,
    /// Password of the object (ADMIN role).
    pub object_auth: &'a [u8],
    /// `signHandle`: the key that signs the certification (the AK), or TPM_RH_NULL.
    pub sign_handle: u32,
    /// Password of the signing key.
    pub sign_auth: &'a [u8],
    /// `qualifyingData`: the verifier's nonce, copied into extraData (at most 66 bytes).
    pub qualifying_data: &'a [u8],
}

impl Command for Certify<'_> {
    const CC: TpmCc = TpmCc::CERTIFY;
    type Response<'r> = SignedAttest<'r>;
    fn handles(&self) -> Handles {
        handles([self.object_handle, self.sign_handle])
    }
    fn passwords(&self) -> Passwords<'_> {
        passwords([self.object_auth, self.sign_auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.tpm2b(self.qualifying_data, max::DATA, "qualifyingData")?;
        write_null_scheme(w)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<SignedAttest<'r>, Error> {
        read_signed(r)
    }
}
