//! Showing untrusted text to a person.
//!
//! Strings that come from a proof, an event log, a certificate, a TPM answer or any input file
//! can hold terminal control sequences (ESC `[2J` clears the screen, and a fake report can be
//! drawn after it) or Unicode bidi overrides (which reorder what is shown). [`Escaped`] shows
//! such a string on one line with every character of that kind written as a `\u{..}` escape,
//! so what a person reads is what the bytes say. JSON output needs none of this: its encoder
//! escapes control characters, and a program reads it.

use core::fmt;

/// True for a character that must not reach a terminal as it is: C0 and C1 controls (with
/// newline, tab and ESC among them), DEL, Unicode bidi embedding, override and isolate
/// controls, the direction marks, the line and paragraph separators, and the invisible
/// zero-width and format characters (which hide text or join what looks separate).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// A string shown with its unsafe characters (see [`is_unsafe_char`]) escaped as `\u{hex}`.
///
/// ```
/// use baretpm::text::Escaped;
/// let shown = format!("{}", Escaped("ok\x1b[2J\nVERDICT: PASS"));
/// assert_eq!(shown, "ok\\u{1b}[2J\\u{a}VERDICT: PASS");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(is_unsafe_char) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\0');
            write!(f, "\\u{{{:x}}}", c as u32)?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// A message of several lines shown with each line escaped as by [`Escaped`] and every line
/// after the first indented by two spaces. A line break inside untrusted text then starts an
/// indented continuation, never a line of its own that could pass for a new message.
///
/// ```
/// use baretpm::text::EscapedLines;
/// let shown = format!("{}", EscapedLines("run failed:\nstep 2\x1b[2J\rVERDICT: PASS"));
/// assert_eq!(shown, "run failed:\n  step 2\\u{1b}[2J\\u{d}VERDICT: PASS");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EscapedLines<'a>(pub &'a str);

impl fmt::Display for EscapedLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.0.split('\n').enumerate() {
            if i > 0 {
                f.write_str("\n  ")?;
            }
            Escaped(line).fmt(f)?;
        }
        Ok(())
    }
}

/// Whether `s` would be shown changed by [`Escaped`].
pub fn needs_escaping(s: &str) -> bool {
    s.chars().any(is_unsafe_char)
}

/// `s` with its unsafe characters escaped, as an owned string.
#[cfg(feature = "alloc")]
pub fn escape(s: &str) -> alloc::string::String {
    use alloc::string::ToString as _;
    Escaped(s).to_string()
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged() {
        assert!(!needs_escaping("model.bin: sha256 9f86d0… (ü, 模型)"));
    }

    #[test]
    fn controls_and_bidi_are_escaped() {
        for (c, shown) in [
            ('\x1b', "\\u{1b}"),
            ('\n', "\\u{a}"),
            ('\r', "\\u{d}"),
            ('\x7f', "\\u{7f}"),
            ('\u{9b}', "\\u{9b}"),
            ('\u{202E}', "\\u{202e}"),
            ('\u{2067}', "\\u{2067}"),
            ('\u{200F}', "\\u{200f}"),
        ] {
            let s: alloc::string::String = ['a', c, 'b'].iter().collect();
            assert!(needs_escaping(&s), "{c:?}");
            assert_eq!(escape(&s), alloc::format!("a{shown}b"));
        }
    }
}
