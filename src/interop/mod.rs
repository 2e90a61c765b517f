//! Interoperability with tpm2-tools: its PCR selection strings and its PCR output files.
//!
//! `no_std`, no allocation: parsers borrow from their input and writers fill a caller buffer.

pub mod pcr_spec;

pub use pcr_spec::{display_pcr_spec, parse_pcr_spec, PcrSpecDisplay, PcrSpecError, Token};
