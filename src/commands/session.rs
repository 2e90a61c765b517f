//! The password authorization session (TPM_RS_PW).

use crate::types::alg::handle::RS_PW;
use crate::types::tpm2b::max;
use crate::wire::{Error, Reader, Writer};

/// `TPMA_SESSION.continueSession`.
const CONTINUE_SESSION: u8 = 0x01;

/// Writes the authorization area: its size, then one TPMS_AUTH_COMMAND per password.
pub(super) fn write_password_sessions(
    w: &mut Writer<'_>,
    passwords: &[&[u8]],
) -> Result<(), Error> {
    let size: usize = passwords.iter().map(|p| 4 + 2 + 1 + 2 + p.len()).sum();
    w.u32(size as u32)?;
    for p in passwords {
        w.u32(RS_PW)?;
        w.tpm2b(&[], max::DIGEST, "TPMS_AUTH_COMMAND.nonce")?;
        w.u8(CONTINUE_SESSION)?;
        w.tpm2b(p, max::DIGEST, "TPMS_AUTH_COMMAND.hmac")?;
    }
    Ok(())
}

/// Reads one TPMS_AUTH_RESPONSE per session. For a password session the TPM returns an empty
/// nonce and HMAC; anything else in them is accepted but ignored, bounded by their maxima.
pub(super) fn read_password_acks(r: &mut Reader<'_>, sessions: usize) -> Result<(), Error> {
    for _ in 0..sessions {
        r.tpm2b(max::DIGEST, "TPMS_AUTH_RESPONSE.nonce")?;
        r.u8("TPMS_AUTH_RESPONSE.sessionAttributes")?;
        r.tpm2b(max::DIGEST, "TPMS_AUTH_RESPONSE.hmac")?;
    }
    Ok(())
}
