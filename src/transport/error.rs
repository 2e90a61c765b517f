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
    ConnectRefused {
        /// The transport, e.g. `swtpm 127.0.0.1:2321`.
        peer: String,
    },

    /// Connecting or opening failed for another reason (unreachable host, bad address, busy
    /// device, name resolution failure, ...).
    #[error("{peer}: cannot connect: {source}")]
    ConnectFailed {
        /// The transport.
        peer: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The device node or socket file does not exist.
    #[error("{peer}: not found")]
    NotFound {
        /// The transport, e.g. `device /dev/tpmrm0`.
        peer: String,
    },

    /// The device node or socket file exists but may not be opened by this process.
    #[error("{peer}: permission denied")]
    PermissionDenied {
        /// The transport, e.g. `device /dev/tpmrm0`.
        peer: String,
    },

    /// The peer closed the connection before a whole message arrived.
    #[error("{peer}: peer closed after {got} of {expected} {part} bytes")]
    ClosedEarly {
        /// The transport.
        peer: String,
        /// Bytes of the message received before the close.
        got: usize,
        /// Bytes the message should have had: 10 for a header, the header size for a
        /// response, the fixed answer length for a control command.
        expected: usize,
        /// `"header"`, `"response"` or `"control answer"`.
        part: &'static str,
    },

    /// The response header announces more bytes than the caller's buffer holds. Nothing is
    /// allocated for it; the response is refused.
    #[error("{peer}: response size {size} exceeds buffer {max}")]
    ResponseTooLarge {
        /// The transport.
        peer: String,
        /// The header size.
        size: u32,
        /// The caller's buffer length.
        max: usize,
    },

    /// The response header announces fewer bytes than a response header itself has (10).
    #[error("{peer}: response size {size} is smaller than the 10-byte header")]
    ResponseTooSmall {
        /// The transport.
        peer: String,
        /// The header size.
        size: u32,
    },

    /// The first two bytes are not a tag a TPM answers with (0x8001, 0x8002, or 0x00c4 for a
    /// TPM 1.2-style error). Usually the peer is not a TPM, or the stream is out of step.
    #[error("{peer}: response tag {tag:#06x} is not a TPM response tag")]
    BadTag {
        /// The transport.
        peer: String,
        /// The first two bytes, big-endian.
        tag: u16,
    },

    /// More bytes arrived in one response than its header announced (seen by the device
    /// transport, which reads whole responses at once).
    #[error("{peer}: response header says {declared} bytes but {received} arrived")]
    SizeMismatch {
        /// The transport.
        peer: String,
        /// The header size.
        declared: u32,
        /// The bytes that arrived.
        received: usize,
    },

    /// The caller's command is not a well-formed TPM command frame (shorter than 10 bytes, or
    /// its header size differs from its length). It was not sent: the peer would otherwise
    /// wait for bytes that never come, or read the excess as a second command.
    #[error(
        "{peer}: refusing to send a malformed command of {len} bytes \
         (header size {declared}; a command has at least 10 bytes and its header size equals its length)"
    )]
    BadCommand {
        /// The transport.
        peer: String,
        /// The command's length.
        len: usize,
        /// Its header size (0 when it is too short to hold one).
        declared: u32,
    },

    /// A timeout configured in [`Timeouts`](super::Timeouts) expired.
    #[error("{peer}: timed out after {after:?} {during}")]
    Timeout {
        /// The transport.
        peer: String,
        /// The timeout that expired.
        after: Duration,
        /// What the transport was waiting for, e.g. `waiting for response`.
        during: &'static str,
    },

    /// Any other I/O failure, with what the transport was doing at the time.
    #[error("{peer}: {during}: {source}")]
    Io {
        /// The transport.
        peer: String,
        /// What the transport was doing, e.g. `sending command`.
        during: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// swtpm's control channel answered a command with a non-zero result (a TPM 1.2-style
    /// return code, e.g. 0x3d `TPM_BAD_LOCALITY`, 0x0a `TPM_BAD_ORDINAL` when the TPM is
    /// stopped).
    #[error("{peer}: control command {command} failed with result {result:#010x}")]
    ControlFailed {
        /// The control channel, e.g. `swtpm control 127.0.0.1:2322`.
        peer: String,
        /// The command's name, e.g. `INIT`.
        command: &'static str,
        /// The non-zero result word.
        result: u32,
    },

    /// The device path is not a character device (or a FIFO): nothing was written to it, so a
    /// mistyped `-T device:FILE` cannot overwrite a file with a TPM command.
    #[error("{peer}: not a TPM device but a {kind}; refusing to write a command to it")]
    NotADevice {
        /// The transport.
        peer: String,
        /// What the path is (`regular file`, `directory`, ...).
        kind: &'static str,
    },

    /// The peer sent bytes that belong to no command: more than the response's header
    /// declared, or something between two commands. They would be read as the next command's
    /// answer, so the connection is dropped.
    #[error("{peer}: {bytes} unrequested bytes {during}; connection dropped")]
    Surplus {
        /// The transport.
        peer: String,
        /// How many bytes were found (at least).
        bytes: usize,
        /// When they were found.
        during: &'static str,
    },

    /// The transport cannot be used any more; open a new one.
    #[error("{peer}: unusable: {reason}")]
    Poisoned {
        /// The transport.
        peer: String,
        /// Why.
        reason: &'static str,
    },

    /// A TCTI string could not be used; the message quotes it and says what was expected.
    #[error("{message}")]
    BadTcti {
        /// The whole message.
        message: String,
    },
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
            | TransportError::Poisoned { peer, .. }
            | TransportError::NotADevice { peer, .. }
            | TransportError::Surplus { peer, .. } => Some(peer),
            TransportError::BadTcti { .. } => None,
        }
    }

    /// True for [`TransportError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Timeout { .. })
    }
}
