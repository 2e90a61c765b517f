//! Interoperability with tpm2-tools: its PCR selection strings, its PCR output files and its
//! credential file.
//!
//! `no_std`, no allocation: parsers borrow from their input and writers fill a caller buffer.

pub mod credential_file;
pub mod pcr_file;
pub mod pcr_spec;

pub use credential_file::{CredentialFile, CREDENTIAL_FILE_MAGIC, MAX_CREDENTIAL_FILE};
pub use pcr_file::{
    digest_list_count, encoded_len, parse_marshaled, parse_pcr_file, parse_serialized,
    parse_values, write_marshaled, write_pcr_file, write_serialized, write_values, PcrFileError,
    PcrFileFormat, PcrWriteError,
};
pub use pcr_spec::{display_pcr_spec, parse_pcr_spec, PcrSpecDisplay, PcrSpecError, Token};
