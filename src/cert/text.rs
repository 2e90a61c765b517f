//! Escaping certificate text before it reaches a terminal: the crate's one rule
//! ([`crate::text`]), which certificates' names, SANs and vendor strings go through.

pub use crate::text::escape;
