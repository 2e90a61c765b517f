//! Escaping certificate text before it reaches a terminal.

use alloc::string::String;
use core::fmt::Write as _;

/// `s` with control characters, DEL, C1 controls and the Unicode bidirectional controls
/// (which can reorder what a terminal shows) written as `\u{..}`, and backslashes doubled.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        );
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() || bidi {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn controls_and_bidi_are_escaped() {
        assert_eq!(escape("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape("p\\q\n"), "p\\\\q\\u{a}");
        assert_eq!(escape("Infineon OPTIGA(TM)"), "Infineon OPTIGA(TM)");
    }
}
