//! Events: one measured thing (a file, a directory, a git commit, a line of text), its
//! canonical byte encoding, and the replay of an ordered list of events into a PCR value.
//!
//! The encoding is specified in `docs/proof-format.md`; in short (all integers big-endian):
//!
//! ```text
//! "BTPMEV01"          8 bytes, format tag
//! kind                u8: 1 file, 2 dir, 3 git, 4 text
//! name length         u16, at most MAX_NAME_LEN
//! name                UTF-8 bytes
//! digest algorithm    u16 TPM_ALG_ID (0x000B SHA-256; 0x0004 SHA-1 for a SHA-1 git commit)
//! digest              the algorithm's digest size in bytes
//! ```
//!
//! What a bank extends is that bank's hash of these bytes; the content itself was hashed once,
//! with SHA-256, when the event was made.

use std::string::String;
use std::vec::Vec;

use crate::types::hash::{self, Digest, HashUnavailable};
use crate::types::HashAlg;

/// PCR that receives the input events.
pub const INPUT_PCR: u32 = 14;
/// PCR that receives the output events.
pub const OUTPUT_PCR: u32 = 15;
/// The first eight bytes of every encoded event.
pub const EVENT_TAG: [u8; 8] = *b"BTPMEV01";
/// Longest event name, in bytes.
pub const MAX_NAME_LEN: usize = 4096;
/// Longest encoding: tag, kind, name length, name, algorithm, the largest digest.
pub const MAX_ENCODED_LEN: usize = 8 + 1 + 2 + MAX_NAME_LEN + 2 + hash::MAX_DIGEST;

/// What an event measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A regular file; the digest is SHA-256 of its bytes (what `sha256sum` prints).
    File,
    /// A directory tree; the digest is SHA-256 of its manifest (see `proof::hash`).
    Dir,
    /// A git repository's HEAD; the digest is the commit id itself (SHA-1 or SHA-256).
    Git,
    /// A line of text (the command line, the exit status); the digest is SHA-256 of the text,
    /// which is also the event's name.
    Text,
}

impl EventKind {
    /// Every kind, in code order.
    pub const ALL: [EventKind; 4] = [Self::File, Self::Dir, Self::Git, Self::Text];

    /// The byte that stands for the kind in the encoding.
    pub const fn code(self) -> u8 {
        match self {
            Self::File => 1,
            Self::Dir => 2,
            Self::Git => 3,
            Self::Text => 4,
        }
    }

    /// The name used in JSON (`file`, `dir`, `git`, `text`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Dir => "dir",
            Self::Git => "git",
            Self::Text => "text",
        }
    }

    /// The kind with this JSON name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Digest algorithms an event of this kind may carry.
    fn allows(self, alg: HashAlg) -> bool {
        match self {
            Self::Git => matches!(alg, HashAlg::Sha1 | HashAlg::Sha256),
            _ => alg == HashAlg::Sha256,
        }
    }
}

impl core::fmt::Display for EventKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an event could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event name is {len} bytes, more than the {MAX_NAME_LEN} allowed")]
    /// The name is longer than `MAX_NAME_LEN` bytes.
    NameTooLong {
        /// Its length in bytes.
        len: usize,
    },
    #[error("a {kind} event cannot carry a {alg} digest")]
    /// This kind of event does not take this digest algorithm.
    AlgorithmNotAllowed {
        /// The kind of event.
        kind: EventKind,
        /// The algorithm refused.
        alg: HashAlg,
    },
    #[error("{alg} digest must be {expected} bytes, got {got}")]
    /// The digest is not of its algorithm's size.
    DigestLength {
        /// The algorithm.
        alg: HashAlg,
        /// Its digest size in bytes.
        expected: usize,
        /// The digest's length in bytes.
        got: usize,
    },
    #[error("text event digest is not SHA-256 of its text")]
    /// A text event's digest is not the SHA-256 of its text.
    TextDigestMismatch,
}

/// One measured thing. Build it with the constructors, which check the invariants the
/// encoding relies on (name length, digest algorithm and size).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    kind: EventKind,
    name: String,
    digest_alg: HashAlg,
    digest: Vec<u8>,
}

impl Event {
    /// An event from its parts, as read from a proof or log file.
    pub fn new(
        kind: EventKind,
        name: String,
        digest_alg: HashAlg,
        digest: Vec<u8>,
    ) -> Result<Self, EventError> {
        if name.len() > MAX_NAME_LEN {
            return Err(EventError::NameTooLong { len: name.len() });
        }
        if !kind.allows(digest_alg) {
            return Err(EventError::AlgorithmNotAllowed {
                kind,
                alg: digest_alg,
            });
        }
        if digest.len() != digest_alg.digest_size() {
            return Err(EventError::DigestLength {
                alg: digest_alg,
                expected: digest_alg.digest_size(),
                got: digest.len(),
            });
        }
        if kind == EventKind::Text && digest != sha256(name.as_bytes()) {
            return Err(EventError::TextDigestMismatch);
        }
        Ok(Self {
            kind,
            name,
            digest_alg,
            digest,
        })
    }

    /// A file whose content has SHA-256 `digest`.
    pub fn file(name: String, digest: [u8; 32]) -> Result<Self, EventError> {
        Self::new(EventKind::File, name, HashAlg::Sha256, digest.to_vec())
    }

    /// A directory whose manifest has SHA-256 `digest`.
    pub fn dir(name: String, digest: [u8; 32]) -> Result<Self, EventError> {
        Self::new(EventKind::Dir, name, HashAlg::Sha256, digest.to_vec())
    }

    /// A git HEAD: `commit` is the raw commit id, 20 bytes (SHA-1 repository) or 32 (SHA-256).
    pub fn git(name: String, commit: &[u8]) -> Result<Self, EventError> {
        let alg = if commit.len() == 20 {
            HashAlg::Sha1
        } else {
            HashAlg::Sha256
        };
        Self::new(EventKind::Git, name, alg, commit.to_vec())
    }

    /// A line of text; its digest is SHA-256 of the text.
    pub fn text(text: String) -> Result<Self, EventError> {
        let d = sha256(text.as_bytes());
        Self::new(EventKind::Text, text, HashAlg::Sha256, d)
    }

    /// The text event that records a command line: `command: ` and the arguments as a JSON
    /// array of strings.
    pub fn command_line(argv: &[String]) -> Result<Self, EventError> {
        Self::text(command_text(argv))
    }

    /// The text event that records a command's exit status: `exit-status: N`.
    pub fn exit_status(code: i32) -> Result<Self, EventError> {
        Self::text(exit_status_text(code))
    }

    /// What was measured (file, directory, git commit, text...).
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The event's name: the path as given, or the text of a text event.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The hash algorithm of `digest()`.
    pub fn digest_alg(&self) -> HashAlg {
        self.digest_alg
    }

    /// The measurement, `digest_alg().digest_size()` bytes; a bank extends its hash of the
    /// whole encoded event (see the module's documentation), not this digest alone.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// Whether `other` measures the same content (kind, algorithm, digest), whatever its name.
    pub fn same_content(&self, other: &Event) -> bool {
        self.kind == other.kind
            && self.digest_alg == other.digest_alg
            && self.digest == other.digest
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&EVENT_TAG);
        out.push(self.kind.code());
        // The constructors keep the name within MAX_NAME_LEN, far below u16::MAX.
        out.extend_from_slice(&(self.name.len() as u16).to_be_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&self.digest_alg.alg_id().0.to_be_bytes());
        out.extend_from_slice(&self.digest);
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(8 + 1 + 2 + self.name.len() + 2 + self.digest.len());
        self.encode_into(&mut v);
        v
    }

    /// What is extended into a PCR of `bank`: the bank's hash of the encoding.
    pub fn extend_digest(&self, bank: HashAlg) -> Result<Digest, HashUnavailable> {
        hash::digest(bank, &[&self.encode()])
    }
}

/// The text of a command-line event.
pub fn command_text(argv: &[String]) -> String {
    let mut s = String::from("command: ");
    // A Vec<String> always serializes; the fallback is never taken.
    s.push_str(&serde_json::to_string(argv).unwrap_or_default());
    s
}

/// The text of an exit-status event.
pub fn exit_status_text(code: i32) -> String {
    std::format!("exit-status: {code}")
}

/// `PCR_new = H(PCR_old || d)`, as TPM2_PCR_Extend computes it.
pub fn extend(bank: HashAlg, pcr: &[u8], d: &[u8]) -> Result<Digest, HashUnavailable> {
    hash::digest(bank, &[pcr, d])
}

/// The value a PCR of `bank` holds after starting from zero and extending each event in
/// order.
pub fn replay(bank: HashAlg, events: &[Event]) -> Result<Vec<u8>, HashUnavailable> {
    let mut pcr = std::vec![0u8; bank.digest_size()];
    for e in events {
        let next = extend(bank, &pcr, e.extend_digest(bank)?.as_bytes())?;
        pcr.clear();
        pcr.extend_from_slice(next.as_bytes());
    }
    Ok(pcr)
}

/// SHA-256 of `data` as a vector.
pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).to_vec()
}
