//! baretpm: TPM 2.0 attestation with no external TSS.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod activation;
#[cfg(feature = "ca")]
pub mod ca;
#[cfg(feature = "cert")]
pub mod cert;
pub mod cert_key;
pub mod commands;
#[cfg(feature = "credential")]
pub mod credential;
pub mod eventlog;
#[cfg(feature = "std")]
pub mod files;
#[cfg(all(feature = "std", feature = "credential"))]
pub mod hmac_session;
pub mod interop;
#[cfg(all(
    feature = "std",
    any(feature = "rsa", feature = "p256", feature = "p384")
))]
pub mod proof;
pub mod text;
pub mod tpm;
pub mod transport;
pub mod types;
#[cfg(any(feature = "rsa", feature = "p256", feature = "p384"))]
pub mod verify;
pub mod wire;
