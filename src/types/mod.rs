//! TPM 2.0 Part 2 structures: parse and emit side by side, borrowing from the input.

pub mod alg;
pub mod attest;
pub mod capability;
pub mod creation;
pub mod credential;
pub mod hash;
pub mod header;
pub mod nv;
pub mod pcr;
pub mod public;
pub mod rc;
pub mod signature;
pub mod tpm2b;

pub use alg::{HashAlg, TpmAlgId, TpmCc, TpmEccCurve, TpmHt, TpmSt, TPM_GENERATED_VALUE};
pub use attest::{
    TpmsAttest, TpmsCertifyInfo, TpmsClockInfo, TpmsCommandAuditInfo, TpmsCreationInfo,
    TpmsNvCertifyInfo, TpmsNvDigestCertifyInfo, TpmsQuoteInfo, TpmsSessionAuditInfo,
    TpmsTimeAttestInfo, TpmuAttest,
};
pub use capability::TpmsCapabilityData;
pub use creation::{TpmsCreationData, TpmsSensitiveCreate, TpmtTkCreation};
pub use credential::{Tpm2bEncryptedSecret, Tpm2bIdObject};
pub use header::TpmHeader;
pub use nv::TpmsNvPublic;
pub use pcr::{PcrValues, TpmlDigest, TpmlDigestValues, TpmlPcrSelection, TpmsPcrSelection};
pub use public::{
    Name, PublicDetails, Tpm2bPublic, TpmaObject, TpmsEccParms, TpmsEccPoint, TpmsRsaParms,
    TpmtEccScheme, TpmtKdfScheme, TpmtKeyedHashScheme, TpmtPublic, TpmtRsaScheme, TpmtSymDefObject,
};
pub use rc::TpmRc;
pub use signature::{TpmsSignatureEcc, TpmsSignatureRsa, TpmtHa, TpmtSignature};
pub use tpm2b::{
    Tpm2b, Tpm2bData, Tpm2bDigest, Tpm2bEccParameter, Tpm2bMaxNvBuffer, Tpm2bName,
    Tpm2bPublicKeyRsa,
};

/// Reads a `TPMI_YES_NO`: 0 or 1, anything else is refused.
pub(crate) fn read_yes_no(
    r: &mut crate::wire::Reader<'_>,
    what: &'static str,
) -> Result<bool, crate::wire::Error> {
    let at = r.offset();
    match r.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(crate::wire::Error::new(
            crate::wire::ErrorKind::InvalidValue {
                value: u32::from(v),
            },
            what,
            at,
        )),
    }
}
