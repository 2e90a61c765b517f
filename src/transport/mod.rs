//! Moving command bytes to a TPM and response bytes back.
//!
//! The trait is `no_std`; the implementations (device node, swtpm sockets) need `std`.

/// One request/response exchange with a TPM.
pub trait Transport {
    type Error: core::fmt::Debug + core::fmt::Display;

    /// Sends one complete command and reads one complete response into `rsp`.
    ///
    /// Implementations read until the response's header size has arrived, refuse a size larger
    /// than `rsp`, and never block forever.
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], Self::Error>;
}
