//! The one error type of the std transports.

use std::io;
use std::string::String;
use std::time::Duration;

/// Why an exchange with a TPM (or parsing a TCTI string) failed.
///
/// Every message starts with the transport it concerns, e.g. `device /dev/tpmrm0`,
/// `swtpm 127.0.0.1:2321`, `swtpm control unix:/run/swtpm.sock.ctrl`, so a log line is useful on
/// its own. The `peer` fields hold that name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Nothing listens at the address (TCP RST, or a Unix socket file with no server).
    #[error("{peer}: connection refused")]
    ConnectRefused { peer: String },

    /// Connecting or opening failed for another reason (unreachable host, bad address, busy
    /// device, name resolution failure, ...).
    #[error("{peer}: cannot connect: {source}")]
    ConnectFailed {
        peer: String,
        #[source]
        source: io::Error,
    },

    /// The device node or socket file does not exist.
    #[error("{peer}: not found")]
    NotFound { peer: String },

    /// The device node or socket file exists but may not be opened by this process.
    #[error("{peer}: permission denied")]
    PermissionDenied { peer: String },

    /// The peer closed the connection before a whole message arrived.
    ///
    /// `part` is `"header"` (the first 10 bytes of a response), `"response"` (counted from the
    /// start of the response, against its header size) or `"control answer"`.
    #[error("{peer}: peer closed after {got} of {expected} {part} bytes")]
    ClosedEarly {
        peer: String,
        got: usize,
        expected: usize,
        part: &'static str,
    },

    /// The response header announces more bytes than the caller's buffer holds. Nothing is
    /// allocated for it; the response is refused.
    #[error("{peer}: response size {size} exceeds buffer {max}")]
    ResponseTooLarge { peer: String, size: u32, max: usize },

    /// The response header announces fewer bytes than a response header itself has (10).
    #[error("{peer}: response size {size} is smaller than the 10-byte header")]
    ResponseTooSmall { peer: String, size: u32 },

    /// The first two bytes are not a tag a TPM answers with (0x8001, 0x8002, or 0x00c4 for a
    /// TPM 1.2-style error). Usually the peer is not a TPM, or the stream is out of step.
    #[error("{peer}: response tag {tag:#06x} is not a TPM response tag")]
    BadTag { peer: String, tag: u16 },

    /// More bytes arrived in one response than its header announced.
    #[error("{peer}: response header says {declared} bytes but {received} arrived")]
    SizeMismatch {
        peer: String,
        declared: u32,
        received: usize,
    },

    /// The caller's command is not a well-formed TPM command frame (shorter than 10 bytes, or
    /// its header size differs from its length); it was not sent, since the peer would
    /// otherwise wait for bytes that never come, or read the rest as a second command.
    #[error(
        "{peer}: refusing to send a malformed command of {len} bytes \
         (header size {declared}; a command has at least 10 bytes and its header size equals its length)"
    )]
    BadCommand {
        peer: String,
        len: usize,
        declared: u32,
    },

    /// A timeout configured in [`Timeouts`](super::Timeouts) expired.
    #[error("{peer}: timed out after {after:?} {during}")]
    Timeout {
        peer: String,
        after: Duration,
        during: &'static str,
    },

    /// Any other I/O failure, with what the transport was doing at the time.
    #[error("{peer}: {during}: {source}")]
    Io {
        peer: String,
        during: &'static str,
        #[source]
        source: io::Error,
    },

    /// swtpm's control channel answered a command with a non-zero result (a TPM 1.2-style
    /// return code, e.g. 0x3d `TPM_BAD_LOCALITY`, 0x0a `TPM_BAD_ORDINAL` when the TPM is
    /// stopped).
    #[error("{peer}: control command {command} failed with result {result:#010x}")]
    ControlFailed {
        peer: String,
        command: &'static str,
        result: u32,
    },

    /// The transport cannot be used any more; open a new one.
    #[error("{peer}: unusable: {reason}")]
    Poisoned { peer: String, reason: &'static str },

    /// A TCTI string could not be used; the message quotes it and says what was expected.
    #[error("{message}")]
    BadTcti { message: String },
}

impl TransportError {
    /// The transport the error concerns (`None` for [`TransportError::BadTcti`]).
    pub fn peer(&self) -> Option<&str> {
        match self {
            TransportError::ConnectRefused { peer }
            | TransportError::ConnectFailed { peer, .. }
            | TransportError::NotFound { peer }
            | TransportError::PermissionDenied { peer }
            | TransportError::ClosedEarly { peer, .. }
            | TransportError::ResponseTooLarge { peer, .. }
            | TransportError::ResponseTooSmall { peer, .. }
            | TransportError::BadTag { peer, .. }
            | TransportError::SizeMismatch { peer, .. }
            | TransportError::BadCommand { peer, .. }
            | TransportError::Timeout { peer, .. }
            | TransportError::Io { peer, .. }
            | TransportError::ControlFailed { peer, .. }
            | TransportError::Poisoned { peer, .. } => Some(peer),
            TransportError::BadTcti { .. } => None,
        }
    }

    /// True for [`TransportError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Timeout { .. })
    }
}
