//! `ak-pub`: write the standard AK's public area, for `verify --ak-pub`.

use std::fs;

use baretpm::proof::flow::{self};

use crate::util::{flow_err, CliError};

use super::args::AkPubArgs;
use super::setup::{open_session, Which};

pub(super) fn ak_pub(a: AkPubArgs, tcti_arg: Option<&str>) -> Result<(), CliError> {
    let mut s = open_session(tcti_arg, Which::Configured)?;
    let (public, name) = flow::ak_public(&mut s.tpm, a.ak.into()).map_err(flow_err)?;
    fs::write(&a.out, &public).map_err(|e| flow_err(format!("{}: {e}", a.out.display())))?;
    eprintln!(
        "baretpm: wrote {} (AK name {})",
        a.out.display(),
        hex::encode(name)
    );
    Ok(())
}
