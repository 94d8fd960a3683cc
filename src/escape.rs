//! The one way a request-derived value enters a log line or a plain-text message.
//!
//! A newline inside `X-Amz-Credential` written raw into the log lets a request add a line of
//! its own (`... DELETE FORGED-LINE-MARK → 204`), and an escape sequence can repaint a
//! terminal. Every control character (C0, DEL, C1) and the Unicode line and paragraph
//! separators is written as a visible escape instead, and a backslash as `\\`, so the
//! escaped text maps back to exactly one original.

use std::borrow::Cow;
use std::fmt::Write;

/// `s` with control characters escaped (`\n`, `\r`, `\t`, `\\`, `\x1b`, `\u{2028}`...).
pub fn for_log(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x100 && needs_escape(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\\' || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_make_lines() {
        let forged = "AKID\n2026 R1 DELETE /bkt/k → 204 FORGED-LINE-MARK";
        let escaped = for_log(forged);
        assert!(!escaped.contains('\n'), "{escaped}");
        assert_eq!(
            escaped,
            "AKID\\n2026 R1 DELETE /bkt/k → 204 FORGED-LINE-MARK"
        );
        assert_eq!(for_log("\x1b[31mred\r\t"), "\\x1b[31mred\\r\\t");
        assert_eq!(for_log("a\u{85}b\u{2028}c"), "a\\x85b\\u{2028}c");
        // Unambiguous: a literal backslash-n is not a newline.
        assert_eq!(for_log("a\\nb"), "a\\\\nb");
        assert!(matches!(for_log("plain café /bkt/k"), Cow::Borrowed(_)));
    }
}
