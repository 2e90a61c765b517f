//! TPM 2.0 command framing and the commands this crate sends, each declared once.
//!
//! A command is a struct implementing [`Command`]: its code, its handle area, the sessions
//! (passwords or policy sessions) of the handles that need authorization, its parameters, and
//! how to read its response.
//! [`build`] and [`parse_response`] do the framing for all of them.

mod attest;
mod capability;
mod credential;
mod nv;
mod object;
mod pcr;
mod session;
pub mod templates;

pub use attest::{Certify, Quote, SignedAttest};
pub use capability::{
    GetCapability, GetCapabilityResponse, GetRandom, ReadClock, ReadClockResponse, SelfTest,
    Shutdown, Startup, SU_CLEAR, SU_STATE,
};
pub use credential::{ActivateCredential, PolicySecret, PolicySecretResponse};
pub use nv::{NvPublic, NvRead, NvReadPublic, NvReadPublicResponse};
pub use object::{
    CreatePrimary, CreatePrimaryResponse, EvictControl, FlushContext, ReadPublic,
    ReadPublicResponse,
};
pub use pcr::{PcrEvent, PcrExtend, PcrRead, PcrReadResponse, PcrReset};
#[cfg(feature = "credential")]
pub use session::{check_first_response_hmac, check_response_hmac, HmacAuth, SessionNonce};
pub use session::{
    AuthSession, StartAuthSession, StartAuthSessionResponse, TpmSe, CONTINUE_SESSION,
};

use crate::types::{rc::TpmRc, TpmCc, TpmHeader, TpmSt};
use crate::wire::{Error, ErrorKind, Reader, Writer};

/// Largest command this crate builds (`TPM_PT_MAX_COMMAND_SIZE` of common TPMs).
pub const MAX_COMMAND_SIZE: usize = 4096;
/// Largest response this crate accepts (`TPM_PT_MAX_RESPONSE_SIZE` of common TPMs).
pub const MAX_RESPONSE_SIZE: usize = 4096;
/// Size of the command and response header: tag, size, code ([`TpmHeader`]).
pub use crate::types::header::HEADER_SIZE;
/// Most handles in a command's handle area (TPM2_PolicySecret has two; Certify has two).
pub const MAX_HANDLES: usize = 3;

/// A command's handle area.
pub type Handles = heapless::Vec<u32, MAX_HANDLES>;
/// Passwords for a command's authorized handles.
pub type Passwords<'a> = heapless::Vec<&'a [u8], MAX_HANDLES>;
/// Sessions for a command's authorized handles, in handle order.
pub type Sessions<'a> = heapless::Vec<AuthSession<'a>, MAX_HANDLES>;

/// The handle area from `N` handles; more than [`MAX_HANDLES`] does not compile (nothing is
/// ever cut off).
pub(crate) fn handles<const N: usize>(h: [u32; N]) -> Handles {
    const { assert!(N <= MAX_HANDLES, "more handles than MAX_HANDLES") };
    h.into_iter().collect()
}

/// Passwords from `N` values; more than [`MAX_HANDLES`] does not compile.
pub(crate) fn passwords<const N: usize>(p: [&[u8]; N]) -> Passwords<'_> {
    const { assert!(N <= MAX_HANDLES, "more passwords than MAX_HANDLES") };
    p.into_iter().collect()
}

/// A TPM command, declared once.
pub trait Command {
    /// `TPM_CC` of the command.
    const CC: TpmCc;
    /// Number of handles the response carries before its parameters.
    const RESPONSE_HANDLES: usize = 0;
    /// What the response parameters parse into; may borrow the response buffer.
    type Response<'r>;

    /// The handle area, in order.
    fn handles(&self) -> Handles {
        Handles::new()
    }

    /// One password per handle that needs authorization (the first handles of the area), each
    /// sent in a TPM_RS_PW session. Empty: the command has no authorization area.
    fn passwords(&self) -> Passwords<'_> {
        Passwords::new()
    }

    /// One session per handle that needs authorization, in handle order. By default a
    /// password session for each of [`Command::passwords`]; commands that take policy
    /// sessions declare them here instead.
    fn sessions(&self) -> Sessions<'_> {
        self.passwords()
            .iter()
            .map(|p| AuthSession::Password(p))
            .collect()
    }

    /// Writes the parameter area.
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error>;

    /// Reads the parameter area of a successful response. `handles` holds the
    /// `RESPONSE_HANDLES` handles that preceded it.
    fn response<'r>(handles: &[u32], r: &mut Reader<'r>) -> Result<Self::Response<'r>, Error>;

    /// Checks a well-formed answer against what this command asked for (e.g. an object made
    /// from the template sent). A refusal makes the response malformed, and an object it
    /// names is flushed by [`Tpm::execute`](crate::tpm::Tpm::execute).
    fn check_response(&self, _response: &Self::Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// Builds the command bytes into `buf`; returns their length.
pub fn build<C: Command>(cmd: &C, buf: &mut [u8]) -> Result<usize, Error> {
    let sessions = cmd.sessions();
    let area = session::area_len(&sessions);
    let mut w = Writer::new(buf);
    let tag = if sessions.is_empty() {
        TpmSt::NO_SESSIONS
    } else {
        TpmSt::SESSIONS
    };
    w.u16(tag.0)?;
    w.u32(0)?; // size, patched below
    w.u32(C::CC.0)?;
    for h in cmd.handles() {
        w.u32(h)?;
    }
    // The authorization area is reserved here and written once the parameters it may cover
    // are in place.
    let area_at = w.len();
    for _ in 0..area {
        w.u8(0)?;
    }
    cmd.parameters(&mut w)?;
    let n = w.len();
    w.patch_u32(2, n as u32)?;
    if !sessions.is_empty() {
        let (head, parameters) = buf[..n].split_at_mut(area_at + area);
        session::write_area(&mut head[area_at..], &sessions, C::CC, parameters)?;
    }
    Ok(n)
}

/// Why a response was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseError {
    /// The TPM answered with an error code.
    Tpm(TpmRc),
    /// The response bytes are malformed (short, size field wrong, bad tag, bad parameters).
    Malformed(Error),
}

impl core::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tpm(rc) => write!(f, "TPM returned {rc}"),
            Self::Malformed(e) => write!(f, "malformed response: {e}"),
        }
    }
}

impl From<Error> for ResponseError {
    fn from(e: Error) -> Self {
        Self::Malformed(e)
    }
}

/// Reads the response header: checks the tag and that the size field equals the bytes received,
/// and returns the response code.
pub fn response_code(rsp: &[u8]) -> Result<TpmRc, Error> {
    let header = TpmHeader::from_prefix(rsp).ok_or_else(|| {
        Error::new(
            ErrorKind::Truncated {
                needed: HEADER_SIZE,
                available: rsp.len(),
            },
            "response header",
            0,
        )
    })?;
    if !header.has_response_tag() {
        return Err(Error::new(
            ErrorKind::UnknownValue {
                value: u32::from(header.tag.0),
            },
            "response tag",
            0,
        ));
    }
    if header.size as usize != rsp.len() {
        return Err(Error::new(
            ErrorKind::SizeAboveMax {
                size: header.size as usize,
                max: rsp.len(),
            },
            "response size (must equal the bytes received)",
            2,
        ));
    }
    Ok(header.rc())
}

/// Parses a complete response to `C`, sent with or without sessions as `build` made it.
pub fn parse_response<'r, C: Command>(
    cmd: &C,
    rsp: &'r [u8],
) -> Result<C::Response<'r>, ResponseError> {
    let rc = response_code(rsp)?;
    let mut r = Reader::new(rsp);
    let tag = TpmHeader::from_array(&r.array("response header")?).tag;
    if !rc.is_success() {
        // An error response is the header alone.
        r.finish()?;
        return Err(ResponseError::Tpm(rc));
    }
    let sessions = cmd.sessions().len();
    let expected_tag = if sessions == 0 {
        TpmSt::NO_SESSIONS
    } else {
        TpmSt::SESSIONS
    };
    if tag != expected_tag {
        return Err(Error::new(
            ErrorKind::InvalidValue {
                value: u32::from(tag.0),
            },
            "response tag",
            0,
        )
        .into());
    }
    let mut handles = [0u32; MAX_HANDLES];
    let n = C::RESPONSE_HANDLES.min(MAX_HANDLES);
    for h in handles.iter_mut().take(n) {
        *h = r.u32("response handle")?;
    }
    let value = if sessions == 0 {
        let v = C::response(&handles[..n], &mut r)?;
        r.finish()?;
        v
    } else {
        let at = r.offset();
        let size = r.u32("parameterSize")? as usize;
        let available = r.remaining();
        if size > available {
            return Err(Error::new(
                ErrorKind::Truncated {
                    needed: size,
                    available,
                },
                "parameterSize",
                at,
            )
            .into());
        }
        let mut p = r.sub(size, "response parameters")?;
        let v = C::response(&handles[..n], &mut p)?;
        if !p.is_empty() {
            return Err(Error::new(
                ErrorKind::SizedNotConsumed {
                    declared: size,
                    unused: p.remaining(),
                },
                "response parameters",
                at,
            )
            .into());
        }
        session::read_acks(&mut r, sessions)?;
        r.finish()?;
        v
    };
    cmd.check_response(&value)?;
    Ok(value)
}
