//! Moving command bytes to a TPM and response bytes back.
//!
//! The trait is `no_std`; the implementations (device node, swtpm sockets) need `std`:
//!
//! - [`device::DeviceTransport`]: a kernel TPM character device (`/dev/tpmrm0`, `/dev/tpm0`).
//! - [`swtpm::SwtpmTransport`]: swtpm's raw data channel over TCP or a Unix socket, plus its
//!   control channel.
//! - [`tcti`]: TCTI strings as tpm2-tools spells them, and [`tcti::AnyTransport`] over both.
//! - [`replay`]: canned responses for tests and fuzzing (`no_std`), and a recorder (`std`).
//!
//! Every implementation reads exactly one response, framed by the size in its header, into
//! the caller's buffer, and gives up with [`TransportError`] instead of blocking forever.

#[cfg(feature = "std")]
pub mod device;
#[cfg(feature = "std")]
mod error;
#[cfg(feature = "std")]
mod frame;
pub mod replay;
#[cfg(feature = "std")]
pub mod swtpm;
#[cfg(feature = "std")]
pub mod tcti;

#[cfg(feature = "std")]
pub use error::TransportError;

/// One request/response exchange with a TPM.
pub trait Transport {
    /// The transport's failure (I/O, timeout, a response too large), shown in `TpmError::Transport`.
    type Error: core::fmt::Debug + core::fmt::Display;

    /// Sends one complete command and reads one complete response into `rsp`.
    ///
    /// Implementations read until the response's header size has arrived, refuse a size larger
    /// than `rsp`, and never block forever.
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], Self::Error>;

    /// Called once before a command's first attempt. A transport with a clock starts the
    /// command's deadline here; the attempts a TPM asks for with TPM_RC_RETRY (and the waits
    /// between them) share it, so a peer that keeps asking to retry cannot stretch one command
    /// to many times its timeout.
    fn begin_command(&mut self) {}

    /// Called once after a command's last attempt: the deadline no longer applies, so a
    /// caller's own [`transact`](Self::transact) later is not cut short by it.
    fn end_command(&mut self) {}
}

/// How long the std transports wait before giving up.
///
/// A duration of zero is treated as one millisecond (the operating system has no way to say
/// "expire at once" for a socket timeout).
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the device or connecting a socket (including host name resolution).
    pub connect: core::time::Duration,
    /// Waiting for a command's answer: a deadline for the response as a whole, measured from
    /// the command's first attempt and shared by its retries, so neither a peer that trickles
    /// bytes slowly nor one that keeps answering TPM_RC_RETRY can stretch it. It must cover
    /// the slowest command you send: RSA key generation on a slow TPM can take well over a
    /// minute.
    pub read: core::time::Duration,
    /// Sending one command (or one control message).
    pub write: core::time::Duration,
}

#[cfg(feature = "std")]
impl Timeouts {
    /// 5 s to connect, 120 s for a response, 30 s to send.
    pub const DEFAULT: Timeouts = Timeouts {
        connect: core::time::Duration::from_secs(5),
        read: core::time::Duration::from_secs(120),
        write: core::time::Duration::from_secs(30),
    };

    /// The same duration for connecting, sending and receiving (handy in tests).
    pub const fn uniform(d: core::time::Duration) -> Self {
        Timeouts {
            connect: d,
            read: d,
            write: d,
        }
    }
}

#[cfg(feature = "std")]
impl Default for Timeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}
