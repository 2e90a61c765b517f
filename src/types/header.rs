//! The 10-byte header that starts every TPM 2.0 command and response (Part 1 §18.7-18.9,
//! Part 3 §5): `tag` (`TPMI_ST_COMMAND_TAG`), `commandSize`/`responseSize` (`UINT32`), then
//! `commandCode` (`TPM_CC`) or `responseCode` (`TPM_RC`).
//!
//! One type reads it for everything that looks at a frame: the response parser in
//! `commands`, the stream framing of the std transports, and the replay transport.

use super::{rc::TpmRc, TpmCc, TpmSt};

/// Size of the header: tag, size, code.
pub const HEADER_SIZE: usize = 10;

/// Tags a TPM answers with: `TPM_ST_NO_SESSIONS`, `TPM_ST_SESSIONS`, and `TPM_ST_RSP_COMMAND`
/// (a TPM 2.0 answers a command with a TPM 1.2 tag using that tag and `TPM_RC_BAD_TAG`).
pub const RESPONSE_TAGS: [TpmSt; 3] = [TpmSt::NO_SESSIONS, TpmSt::SESSIONS, TpmSt::RSP_COMMAND];

/// A command or response header, as found on the wire (nothing checked yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TpmHeader {
    /// `tag`.
    pub tag: TpmSt,
    /// `commandSize` / `responseSize`: the whole frame, header included.
    pub size: u32,
    /// `commandCode` of a command or `responseCode` of a response; see [`TpmHeader::cc`] and
    /// [`TpmHeader::rc`].
    pub code: u32,
}

impl TpmHeader {
    /// Reads the header from exactly [`HEADER_SIZE`] bytes.
    pub fn from_array(b: &[u8; HEADER_SIZE]) -> Self {
        Self {
            tag: TpmSt(u16::from_be_bytes([b[0], b[1]])),
            size: u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
            code: u32::from_be_bytes([b[6], b[7], b[8], b[9]]),
        }
    }

    /// Reads the header at the start of `frame`; `None` when it holds fewer than
    /// [`HEADER_SIZE`] bytes.
    pub fn from_prefix(frame: &[u8]) -> Option<Self> {
        let head: &[u8; HEADER_SIZE] = frame.get(..HEADER_SIZE)?.try_into().ok()?;
        Some(Self::from_array(head))
    }

    /// The wire form.
    pub fn to_array(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[..2].copy_from_slice(&self.tag.0.to_be_bytes());
        b[2..6].copy_from_slice(&self.size.to_be_bytes());
        b[6..].copy_from_slice(&self.code.to_be_bytes());
        b
    }

    /// The code read as a command's `TPM_CC`.
    pub fn cc(&self) -> TpmCc {
        TpmCc(self.code)
    }

    /// The code read as a response's `TPM_RC`.
    pub fn rc(&self) -> TpmRc {
        TpmRc(self.code)
    }

    /// True when the tag is one a TPM answers with ([`RESPONSE_TAGS`]).
    pub fn has_response_tag(&self) -> bool {
        RESPONSE_TAGS.contains(&self.tag)
    }

    /// True when the size field is at least a header and fits `usize`; returns it.
    pub fn frame_len(&self) -> Option<usize> {
        usize::try_from(self.size)
            .ok()
            .filter(|&n| n >= HEADER_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TPM2_Startup(TPM_SU_CLEAR) as tpm2-tools sends it, and swtpm's success answer.
    const STARTUP: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0];
    const SUCCESS: [u8; 10] = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0, 0];

    #[test]
    fn reads_command_and_response() {
        let c = TpmHeader::from_prefix(&STARTUP).unwrap();
        assert_eq!(c.tag, TpmSt::NO_SESSIONS);
        assert_eq!(c.size, 12);
        assert_eq!(c.cc(), TpmCc::STARTUP);
        assert_eq!(c.frame_len(), Some(12));
        let r = TpmHeader::from_array(&SUCCESS);
        assert!(r.rc().is_success());
        assert!(r.has_response_tag());
        assert_eq!(r.to_array(), SUCCESS);
    }

    #[test]
    fn short_and_odd_headers() {
        assert_eq!(TpmHeader::from_prefix(&STARTUP[..9]), None);
        let mut odd = SUCCESS;
        odd[0] = 0x48; // "HT": an HTTP answer, not a TPM
        odd[5] = 9;
        let h = TpmHeader::from_array(&odd);
        assert!(!h.has_response_tag());
        assert_eq!(h.frame_len(), None);
        let tpm12 = TpmHeader::from_array(&[0, 0xc4, 0, 0, 0, 10, 0, 0, 0, 0x1e]);
        assert!(tpm12.has_response_tag());
        assert_eq!(tpm12.rc(), TpmRc(0x1e));
    }
}
