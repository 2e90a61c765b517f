//! Provenance proofs (std): what a run read goes into PCR14, what it wrote into PCR15, a
//! quote covers both, and a proof file carries the quote with the event logs that explain the
//! two PCRs, so anyone can check it without a TPM.
//!
//! - [`boot`]: the firmware event log a proof carries, matched against the quoted PCRs.
//! - [`event`]: an event (file, directory, git commit, text), its canonical encoding, replay.
//! - [`hash`]: streaming SHA-256 of files, directory trees and git HEADs on a worker pool.
//! - [`file`](mod@file): the proof, event log and reference files (strict JSON).
//! - [`verify()`]: every check a verifier makes, as a [`Report`].
//! - [`flow`]: measure, attest and run against a [`Tpm`](crate::tpm::Tpm).
//! - [`preflight`]: what `run` checks before it extends anything.
//! - [`start`]: PCR14/15 start values and where they came from.
//! - [`runtime`]: the machine-wide log of baretpm's own extends in this boot, and its lock.
//! - [`session`]: the salted HMAC session the flow sends its extends, AK and quote under.
//! - [`swtpm`]: a private swtpm for demos and for machines without a TPM.
//!
//! The byte formats are specified in `docs/proof-format.md`.

pub mod boot;
#[cfg(feature = "cert")]
pub mod certs;
pub mod event;
pub mod file;
pub mod flow;
pub mod hash;
pub mod preflight;
pub mod runtime;
pub mod session;
pub mod start;
pub mod swtpm;
pub mod verify;

pub use event::{Event, EventKind, INPUT_PCR, OUTPUT_PCR};
pub use file::{EventLog, JsonFile, NonceSource, Proof, ProofFileError, Reference};
pub use verify::{verify, Check, Policy, Rejected, Report, Status};
