//! Framing shared by the std transports: the 10-byte TPM header, and reading exactly one
//! response from a byte stream into a caller-sized buffer.
//!
//! Nothing here allocates, and no length read from the peer is used before it has been
//! checked against the buffer it is going into.

use std::io::{self, Read};
use std::string::String;
use std::time::Duration;

use super::TransportError;
use crate::types::header::TpmHeader;
pub(crate) use crate::types::header::HEADER_SIZE as HEADER_LEN;

/// What went wrong reading a response, before the transport adds its name.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// End of stream after `got` bytes; `expected` is 10 while the header is incomplete, else
    /// the header size.
    Closed {
        got: usize,
        expected: usize,
    },
    /// The read failed (including a timeout, which shows as `WouldBlock` or `TimedOut`).
    Io(io::Error),
    BadTag(u16),
    TooSmall(u32),
    TooLarge {
        size: u32,
        max: usize,
    },
    /// More bytes than the header size (only a reader that reads ahead can see this).
    Overrun {
        declared: u32,
        received: usize,
    },
}

/// Checks the header of a response against `max`, the bytes the caller can hold.
/// Returns the response size.
pub(crate) fn check_header(header: &[u8; HEADER_LEN], max: usize) -> Result<usize, FrameError> {
    let header = TpmHeader::from_array(header);
    if !header.has_response_tag() {
        return Err(FrameError::BadTag(header.tag.0));
    }
    let size = header.size;
    if (size as usize) < HEADER_LEN {
        return Err(FrameError::TooSmall(size));
    }
    match header.frame_len() {
        Some(n) if n <= max => Ok(n),
        _ => Err(FrameError::TooLarge { size, max }),
    }
}

/// Checks that `cmd` is one whole command frame: at least a header, and a header size equal to
/// its length. Returns the header size (0 when the slice is too short to hold one) on failure.
pub(crate) fn check_command(cmd: &[u8]) -> Result<(), (usize, u32)> {
    let declared = TpmHeader::from_prefix(cmd).map_or(0, |h| h.size);
    if cmd.len() < HEADER_LEN || usize::try_from(declared).ok() != Some(cmd.len()) {
        return Err((cmd.len(), declared));
    }
    Ok(())
}

/// Reads exactly one response from a stream: the header first, then exactly the rest its size
/// announces, into `buf`. Never reads past the response, so the stream stays in step.
pub(crate) fn read_response<R: Read + ?Sized>(
    r: &mut R,
    buf: &mut [u8],
) -> Result<usize, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    fill(r, &mut header, 0, HEADER_LEN)?;
    let size = check_header(&header, buf.len())?;
    // check_header guarantees HEADER_LEN <= size <= buf.len().
    let (head, body) = buf[..size].split_at_mut(HEADER_LEN);
    head.copy_from_slice(&header);
    fill(r, body, HEADER_LEN, size)?;
    Ok(size)
}

/// Fills `dst` completely. `before` and `total` only shape the error: bytes of the message
/// already read before `dst`, and the message's whole length.
pub(crate) fn fill<R: Read + ?Sized>(
    r: &mut R,
    dst: &mut [u8],
    before: usize,
    total: usize,
) -> Result<(), FrameError> {
    let mut got = 0;
    while got < dst.len() {
        match r.read(&mut dst[got..]) {
            Ok(0) => {
                return Err(FrameError::Closed {
                    got: before + got,
                    expected: total,
                })
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(())
}

/// The deadline of the command in flight, shared by its attempts (see
/// [`Transport::begin_command`](super::Transport::begin_command)).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CommandDeadline(Option<std::time::Instant>);

impl CommandDeadline {
    pub(crate) fn start(&mut self, budget: Duration) {
        self.0 = std::time::Instant::now().checked_add(budget);
    }

    pub(crate) fn end(&mut self) {
        self.0 = None;
    }

    /// How long this attempt may wait: `per_attempt`, cut to what is left of the command's
    /// budget. `None` once the budget is spent.
    pub(crate) fn wait(&self, per_attempt: Duration) -> Option<Duration> {
        match self.0 {
            None => Some(per_attempt),
            Some(end) => {
                let left = end.saturating_duration_since(std::time::Instant::now());
                (!left.is_zero()).then(|| left.min(per_attempt))
            }
        }
    }
}

/// True for the error kinds a socket timeout shows up as.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Turns a framing failure into the transport's error. `part_total` distinguishes an early
/// close inside the header from one inside the body; `waited` is the configured read timeout.
pub(crate) fn to_transport_error(
    peer: &str,
    e: FrameError,
    waited: Duration,
    during: &'static str,
    part: Option<&'static str>,
) -> TransportError {
    let peer = String::from(peer);
    match e {
        FrameError::Closed { got, expected } => TransportError::ClosedEarly {
            peer,
            got,
            expected,
            part: part.unwrap_or(if got < HEADER_LEN && expected == HEADER_LEN {
                "header"
            } else {
                "response"
            }),
        },
        FrameError::Io(e) if is_timeout(&e) => TransportError::Timeout {
            peer,
            after: waited,
            during,
        },
        FrameError::Io(source) => TransportError::Io {
            peer,
            during,
            source,
        },
        FrameError::BadTag(tag) => TransportError::BadTag { peer, tag },
        FrameError::TooSmall(size) => TransportError::ResponseTooSmall { peer, size },
        FrameError::TooLarge { size, max } => TransportError::ResponseTooLarge { peer, size, max },
        FrameError::Overrun { declared, received } => TransportError::SizeMismatch {
            peer,
            declared,
            received,
        },
    }
}

/// Clamps a zero duration to 1 ms: socket timeouts of zero are rejected by the OS interface.
pub(crate) fn nonzero(d: Duration) -> Duration {
    if d.is_zero() {
        Duration::from_millis(1)
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsp(tag: u16, size: u32, extra: &[u8]) -> std::vec::Vec<u8> {
        let mut v = std::vec::Vec::new();
        v.extend_from_slice(&tag.to_be_bytes());
        v.extend_from_slice(&size.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn reads_exactly_one_response() {
        let mut data = rsp(0x8001, 12, &[1, 2]);
        data.extend_from_slice(&[9, 9, 9]); // next message, must stay unread
        let mut cur = io::Cursor::new(data);
        let mut buf = [0u8; 64];
        assert_eq!(read_response(&mut cur, &mut buf).unwrap(), 12);
        assert_eq!(cur.position(), 12);
    }

    #[test]
    fn header_checks() {
        let h = |tag: u16, size: u32| {
            let v = rsp(tag, size, &[]);
            let mut a = [0u8; HEADER_LEN];
            a.copy_from_slice(&v);
            a
        };
        assert!(matches!(check_header(&h(0x8001, 10), 10), Ok(10)));
        assert!(matches!(check_header(&h(0x00c4, 10), 10), Ok(10)));
        assert!(matches!(
            check_header(&h(0x4854, 10), 10),
            Err(FrameError::BadTag(0x4854))
        ));
        assert!(matches!(
            check_header(&h(0x8001, 9), 100),
            Err(FrameError::TooSmall(9))
        ));
        assert!(matches!(
            check_header(&h(0x8002, u32::MAX), 4096),
            Err(FrameError::TooLarge {
                size: u32::MAX,
                max: 4096
            })
        ));
    }

    #[test]
    fn closed_early_counts_bytes() {
        let mut cur = io::Cursor::new(rsp(0x8001, 20, &[1, 2, 3]));
        let mut buf = [0u8; 64];
        match read_response(&mut cur, &mut buf) {
            Err(FrameError::Closed {
                got: 13,
                expected: 20,
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
        let mut cur = io::Cursor::new(std::vec![0x80, 0x01, 0, 0, 0, 20]);
        match read_response(&mut cur, &mut buf) {
            Err(FrameError::Closed {
                got: 6,
                expected: 10,
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn tiny_buffer_is_refused_not_overrun() {
        let mut cur = io::Cursor::new(rsp(0x8001, 10, &[]));
        let mut buf = [0u8; 4];
        assert!(matches!(
            read_response(&mut cur, &mut buf),
            Err(FrameError::TooLarge { size: 10, max: 4 })
        ));
    }

    #[test]
    fn command_checks() {
        assert!(check_command(&rsp(0x8001, 10, &[])).is_ok());
        assert_eq!(check_command(&[0x80, 0x01, 0]), Err((3, 0)));
        assert_eq!(check_command(&rsp(0x8001, 12, &[])), Err((10, 12)));
        assert_eq!(check_command(&rsp(0x8001, 10, &[0])), Err((11, 10)));
    }
}
