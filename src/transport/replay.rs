//! Canned responses instead of a TPM: replay for tests and fuzzing, and recording.
//!
//! - [`ReplayTransport`] (`no_std`, no allocation) answers each `transact` with the next
//!   response of a list given up front. The list can be a slice of responses, a slice of
//!   `(command, response)` pairs (each command is then checked against the one sent), or one
//!   byte string cut into frames (`u16` big-endian length, then that many bytes), which is the
//!   form a fuzzer hands over.
//! - [`RecordingTransport`] (`std`) wraps another transport and keeps a copy of every command
//!   and response, so a session against a real TPM or swtpm can be saved and replayed later.
//!
//! Replayed responses are not checked in any way: they reach the command layer exactly as
//! given, malformed or not. That is the point.

use super::Transport;
use crate::types::TpmHeader;
use core::fmt;

/// Why a replayed exchange failed. Every message starts with `replay:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// Every response has been used; `answered` commands were answered before this one.
    Exhausted {
        /// Number of commands answered before this one.
        answered: usize,
    },
    /// The next response is longer than the caller's response buffer.
    ResponseTooLarge {
        /// Position of the response in the list (0-based).
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The caller's response buffer size in bytes.
        capacity: usize,
    },
    /// In pair mode: the command sent is not the one recorded at this position.
    CommandMismatch {
        /// Position of the exchange in the list (0-based).
        index: usize,
    },
    /// In frame mode: the input ends inside a frame (its length or its bytes).
    FrameTruncated {
        /// Position of the frame in the input (0-based).
        index: usize,
        /// Bytes the frame needs (2 for its length, then its declared length).
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Exhausted { answered } => {
                write!(f, "replay: no response left ({answered} answered)")
            }
            Self::ResponseTooLarge {
                index,
                len,
                capacity,
            } => write!(
                f,
                "replay: response #{index} is {len} bytes, the buffer holds {capacity}"
            ),
            Self::CommandMismatch { index } => {
                write!(f, "replay: command #{index} differs from the recorded one")
            }
            Self::FrameTruncated {
                index,
                needed,
                available,
            } => write!(
                f,
                "replay: frame #{index} is truncated: needs {needed} bytes, {available} present"
            ),
        }
    }
}

impl core::error::Error for ReplayError {}

/// Where the responses come from.
#[derive(Clone, Copy, Debug)]
enum Script<'a> {
    Responses(&'a [&'a [u8]]),
    Pairs(&'a [(&'a [u8], &'a [u8])]),
    /// Unread rest of a framed byte string.
    Frames(&'a [u8]),
}

/// A transport that answers from a script instead of a TPM.
#[derive(Clone, Debug)]
pub struct ReplayTransport<'a> {
    script: Script<'a>,
    answered: usize,
    last_command_code: Option<u32>,
}

impl<'a> ReplayTransport<'a> {
    /// Answers the n-th command with `responses[n]`, whatever the command is.
    pub const fn new(responses: &'a [&'a [u8]]) -> Self {
        Self::with_script(Script::Responses(responses))
    }

    /// Answers the n-th command with `pairs[n].1`, after checking that the command sent is
    /// byte for byte `pairs[n].0` ([`ReplayError::CommandMismatch`] otherwise).
    pub const fn with_commands(pairs: &'a [(&'a [u8], &'a [u8])]) -> Self {
        Self::with_script(Script::Pairs(pairs))
    }

    /// Cuts `input` into frames, each a `u16` big-endian length then that many bytes, and
    /// answers the n-th command with the n-th frame. A frame cut short by the end of the
    /// input gives [`ReplayError::FrameTruncated`]; an empty rest gives
    /// [`ReplayError::Exhausted`].
    pub const fn from_frames(input: &'a [u8]) -> Self {
        Self::with_script(Script::Frames(input))
    }

    const fn with_script(script: Script<'a>) -> Self {
        Self {
            script,
            answered: 0,
            last_command_code: None,
        }
    }

    /// Commands answered so far.
    pub fn answered(&self) -> usize {
        self.answered
    }

    /// Whether every response has been used (in frame mode: no input byte is left).
    pub fn is_exhausted(&self) -> bool {
        match self.script {
            Script::Responses(r) => self.answered >= r.len(),
            Script::Pairs(p) => self.answered >= p.len(),
            Script::Frames(rest) => rest.is_empty(),
        }
    }

    /// The command code (`TPM_CC`, bytes 6..10) of the last command sent, if it had one.
    pub fn last_command_code(&self) -> Option<u32> {
        self.last_command_code
    }

    /// The next response, advancing the script.
    fn next_response(&mut self, cmd: &[u8]) -> Result<&'a [u8], ReplayError> {
        let index = self.answered;
        let exhausted = ReplayError::Exhausted { answered: index };
        match &mut self.script {
            Script::Responses(r) => r.get(index).copied().ok_or(exhausted),
            Script::Pairs(p) => {
                let (expected, rsp) = p.get(index).copied().ok_or(exhausted)?;
                if expected != cmd {
                    return Err(ReplayError::CommandMismatch { index });
                }
                Ok(rsp)
            }
            Script::Frames(rest) => {
                let input: &'a [u8] = rest;
                if input.is_empty() {
                    return Err(exhausted);
                }
                let truncated = |needed, available| ReplayError::FrameTruncated {
                    index,
                    needed,
                    available,
                };
                let (len, body) = match input {
                    [hi, lo, body @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), body),
                    _ => return Err(truncated(2, input.len())),
                };
                if len > body.len() {
                    // Consume the rest, so a later call reports exhaustion, not this again.
                    *rest = &[];
                    return Err(truncated(len, body.len()));
                }
                let (frame, tail) = body.split_at(len);
                *rest = tail;
                Ok(frame)
            }
        }
    }
}

impl Transport for ReplayTransport<'_> {
    type Error = ReplayError;

    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], ReplayError> {
        self.last_command_code = TpmHeader::from_prefix(cmd).map(|h| h.cc().0);
        let index = self.answered;
        let next = self.next_response(cmd);
        // A failed exchange still uses up its slot, as a real TPM round trip would.
        self.answered += 1;
        let next = next?;
        let capacity = rsp.len();
        let out = rsp
            .get_mut(..next.len())
            .ok_or(ReplayError::ResponseTooLarge {
                index,
                len: next.len(),
                capacity,
            })?;
        out.copy_from_slice(next);
        Ok(out)
    }
}

/// Appends `frame` to `out` in the form [`ReplayTransport::from_frames`] reads.
///
/// Frames longer than `u16::MAX` bytes cannot be written and are refused (`false`).
#[cfg(feature = "alloc")]
pub fn push_frame(out: &mut alloc::vec::Vec<u8>, frame: &[u8]) -> bool {
    match u16::try_from(frame.len()) {
        Ok(len) => {
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(frame);
            true
        }
        Err(_) => false,
    }
}

/// One recorded exchange.
#[cfg(feature = "std")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The command bytes as sent (header included).
    pub command: std::vec::Vec<u8>,
    /// The response bytes as received (header included).
    pub response: std::vec::Vec<u8>,
}

/// A transport that passes everything to `inner` and keeps a copy of each successful
/// exchange. Failed exchanges are passed through and not recorded.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct RecordingTransport<T> {
    inner: T,
    exchanges: std::vec::Vec<Exchange>,
}

#[cfg(feature = "std")]
impl<T: Transport> RecordingTransport<T> {
    /// Wraps `inner`, with nothing recorded yet.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            exchanges: std::vec::Vec::new(),
        }
    }

    /// The exchanges recorded so far, oldest first.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// Forgets the exchanges recorded so far.
    pub fn clear(&mut self) {
        self.exchanges.clear();
    }

    /// The wrapped transport (commands sent through it directly are not recorded).
    pub fn inner(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped transport and what was recorded.
    pub fn into_parts(self) -> (T, std::vec::Vec<Exchange>) {
        (self.inner, self.exchanges)
    }

    /// The responses as one framed byte string, for [`ReplayTransport::from_frames`] (and as
    /// a fuzzing seed). Responses are at most a TPM buffer long, far below the frame limit.
    pub fn responses_as_frames(&self) -> std::vec::Vec<u8> {
        let mut out = std::vec::Vec::new();
        for e in &self.exchanges {
            push_frame(&mut out, &e.response);
        }
        out
    }
}

#[cfg(feature = "std")]
impl<T: Transport> Transport for RecordingTransport<T> {
    type Error = T::Error;

    fn begin_command(&mut self) {
        self.inner.begin_command();
    }

    fn end_command(&mut self) {
        self.inner.end_command();
    }

    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], T::Error> {
        let out = self.inner.transact(cmd, rsp)?;
        self.exchanges.push(Exchange {
            command: cmd.to_vec(),
            response: out.to_vec(),
        });
        Ok(out)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    const OK: &[u8] = &[0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0];
    const CMD: &[u8] = &[0x80, 0x01, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0];

    #[test]
    fn responses_in_order_then_exhausted() {
        let list: [&[u8]; 2] = [OK, &[1, 2, 3]];
        let mut t = ReplayTransport::new(&list);
        let mut buf = [0u8; 16];
        assert_eq!(t.transact(CMD, &mut buf).unwrap(), OK);
        assert_eq!(t.last_command_code(), Some(0x144));
        assert_eq!(t.transact(&[], &mut buf).unwrap(), &[1, 2, 3]);
        assert_eq!(t.last_command_code(), None);
        assert!(t.is_exhausted());
        let e = t.transact(CMD, &mut buf).unwrap_err();
        assert_eq!(e, ReplayError::Exhausted { answered: 2 });
        assert_eq!(std::format!("{e}"), "replay: no response left (2 answered)");
    }

    #[test]
    fn response_larger_than_buffer_is_refused() {
        let list: [&[u8]; 1] = [OK];
        let mut t = ReplayTransport::new(&list);
        let mut buf = [0u8; 4];
        assert_eq!(
            t.transact(CMD, &mut buf).unwrap_err(),
            ReplayError::ResponseTooLarge {
                index: 0,
                len: 10,
                capacity: 4
            }
        );
    }

    #[test]
    fn pairs_check_the_command() {
        let pairs: [(&[u8], &[u8]); 2] = [(CMD, OK), (CMD, OK)];
        let mut t = ReplayTransport::with_commands(&pairs);
        let mut buf = [0u8; 16];
        assert_eq!(t.transact(CMD, &mut buf).unwrap(), OK);
        assert_eq!(
            t.transact(&CMD[..11], &mut buf).unwrap_err(),
            ReplayError::CommandMismatch { index: 1 }
        );
    }

    #[test]
    fn frames_are_length_prefixed() {
        let input = [0, 2, 0xaa, 0xbb, 0, 0, 0, 3, 0xcc];
        let mut t = ReplayTransport::from_frames(&input);
        let mut buf = [0u8; 16];
        assert_eq!(t.transact(CMD, &mut buf).unwrap(), &[0xaa, 0xbb]);
        assert_eq!(t.transact(CMD, &mut buf).unwrap(), &[] as &[u8]);
        assert_eq!(
            t.transact(CMD, &mut buf).unwrap_err(),
            ReplayError::FrameTruncated {
                index: 2,
                needed: 3,
                available: 1
            }
        );
        assert_eq!(
            t.transact(CMD, &mut buf).unwrap_err(),
            ReplayError::Exhausted { answered: 3 }
        );
        let mut t = ReplayTransport::from_frames(&[7]);
        assert_eq!(
            t.transact(CMD, &mut buf).unwrap_err(),
            ReplayError::FrameTruncated {
                index: 0,
                needed: 2,
                available: 1
            }
        );
    }

    #[test]
    fn recording_keeps_exchanges_and_frames_replay_them() {
        let list: [&[u8]; 2] = [OK, &[9; 300]];
        let mut rec = RecordingTransport::new(ReplayTransport::new(&list));
        let mut buf = [0u8; 512];
        rec.transact(CMD, &mut buf).unwrap();
        rec.transact(&CMD[..10], &mut buf).unwrap();
        assert!(rec.transact(CMD, &mut buf).is_err());
        assert_eq!(rec.exchanges().len(), 2);
        assert_eq!(rec.exchanges()[1].command, &CMD[..10]);
        let frames = rec.responses_as_frames();
        let mut again = ReplayTransport::from_frames(&frames);
        assert_eq!(again.transact(CMD, &mut buf).unwrap(), OK);
        assert_eq!(again.transact(CMD, &mut buf).unwrap(), &[9; 300][..]);
        assert!(again.is_exhausted());
    }
}
