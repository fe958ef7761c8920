//! Text a person wrote (topology and catalog files, command-line arguments): what the loaders
//! accept, and how a value is shown back in a message.
//!
//! Control characters are refused where text is loaded, so nothing loaded can drive the terminal
//! that prints it (an ESC retitles or clears it, a line end fakes a line of output). Values a
//! loader refuses are shown escaped, and cut: one bad value of 10 MB must not flood the terminal.

use std::fmt;

/// How many characters of a value a message shows before cutting it.
pub const SHOWN_CHARS: usize = 100;

/// Whether a character must not be loaded into a line of text: control characters (C0, DEL, C1)
/// and the invisible marks that make text read differently than it runs (bidirectional
/// overrides and isolates, left-to-right and right-to-left marks).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Checks free text (a description, a note): any printable text and line ends and tabs, but no
/// other control character, at most 4096 bytes.
pub fn check_text(s: &str) -> Result<(), String> {
    if let Some(c) = s
        .chars()
        .find(|&c| is_forbidden(c) && c != '\n' && c != '\t')
    {
        return Err(forbidden(c));
    }
    if s.len() > 4096 {
        return Err(format!(
            "is {} bytes long, more than the 4096 allowed",
            s.len()
        ));
    }
    Ok(())
}

/// Checks a line of text (a name, a title, a parameter's value): like [`check_text`], but a line
/// end or tab is refused too, since a name is printed within a line.
pub fn check_line(s: &str) -> Result<(), String> {
    match s.chars().find(|&c| is_forbidden(c)) {
        Some(c) => Err(forbidden(c)),
        None => check_text(s),
    }
}

fn forbidden(c: char) -> String {
    format!("contains the control character U+{:04X}", c as u32)
}

/// A value as a message shows it: in single quotes, with the characters [`is_forbidden`] rejects
/// escaped as Rust writes them (`\u{1b}`, `\n`), cut after [`SHOWN_CHARS`] characters with its
/// length in bytes said.
pub fn quoted(s: &str) -> Quoted<'_> {
    Quoted(s, '\'')
}

/// [`quoted`] in double quotes, as problem paths name a node (`nodes[2] "pa-sn1"`).
pub fn double_quoted(s: &str) -> Quoted<'_> {
    Quoted(s, '"')
}

/// See [`quoted`].
pub struct Quoted<'a>(&'a str, char);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.1)?;
        write_escaped(f, self.0)?;
        write!(f, "{}", self.1)?;
        if self.0.chars().nth(SHOWN_CHARS).is_some() {
            write!(f, " ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// `s` with the characters [`is_forbidden`] rejects escaped and nothing cut: for file names, which
/// a message must show whole.
pub fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_forbidden(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// A message made of other text (a parser's, a file name) as it may reach the terminal: the
/// characters [`is_forbidden`] rejects escaped, quotes left as they are, cut like [`quoted`].
pub fn cleaned(s: &str) -> Cleaned<'_> {
    Cleaned(s)
}

/// See [`cleaned`].
pub struct Cleaned<'a>(&'a str);

impl fmt::Display for Cleaned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A message is longer than a value: it quotes one and says what is wrong with it.
        let limit = 4 * SHOWN_CHARS;
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(limit) {
            write_char(f, c)?;
        }
        if chars.next().is_some() {
            write!(f, "… ({} bytes in all)", self.0.len())?;
        }
        Ok(())
    }
}

/// One character, escaped as Rust writes it (`\n`, `\u{1b}`) when [`is_forbidden`].
fn write_char(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    if is_forbidden(c) {
        write!(f, "{}", c.escape_debug())
    } else {
        write!(f, "{c}")
    }
}

/// The first [`SHOWN_CHARS`] characters of `s`, escaped; `…` where it was cut.
fn write_escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let mut chars = s.chars();
    for c in chars.by_ref().take(SHOWN_CHARS) {
        write_char(f, c)?;
    }
    if chars.next().is_some() {
        f.write_str("…")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_escape_controls_and_are_cut() {
        assert_eq!(quoted("debian").to_string(), "'debian'");
        assert_eq!(
            quoted("\u{1b}]0;PWNED\u{7}\u{1b}[2Jdebian").to_string(),
            "'\\u{1b}]0;PWNED\\u{7}\\u{1b}[2Jdebian'"
        );
        assert_eq!(
            quoted("a\r\nb\u{9b}c\u{202E}").to_string(),
            "'a\\r\\nb\\u{9b}c\\u{202e}'"
        );
        assert_eq!(quoted("it's \"x\"").to_string(), "'it's \"x\"'");
        let long = "x".repeat(10 * 1024 * 1024);
        let shown = quoted(&long).to_string();
        assert_eq!(
            shown,
            format!("'{}…' (10485760 bytes)", "x".repeat(SHOWN_CHARS))
        );
        // Exactly the limit: not cut.
        let full = "y".repeat(SHOWN_CHARS);
        assert_eq!(quoted(&full).to_string(), format!("'{full}'"));
    }

    #[test]
    fn cleaned_messages_keep_quotes_and_escape_controls() {
        assert_eq!(
            cleaned("Unexpected char '\u{1b}' in \"x\"").to_string(),
            "Unexpected char '\\u{1b}' in \"x\""
        );
        let long = format!("invalid type: string \"{}\"", "x".repeat(5000));
        let shown = cleaned(&long).to_string();
        assert!(shown.chars().count() < 4 * SHOWN_CHARS + 40, "{shown}");
        assert!(shown.ends_with(&format!("… ({} bytes in all)", long.len())));
    }

    #[test]
    fn lines_refuse_what_text_allows() {
        for ok in ["a b", "Ünïcødé ✓", "quotes ' \" \\"] {
            assert_eq!(check_line(ok), Ok(()));
            assert_eq!(check_text(ok), Ok(()));
        }
        for c in ['\n', '\t'] {
            assert_eq!(check_text(&format!("a{c}b")), Ok(()));
            assert!(check_line(&format!("a{c}b")).is_err());
        }
        for c in [
            '\u{1b}', '\u{7}', '\r', '\u{0}', '\u{7f}', '\u{9b}', '\u{85}', '\u{202E}',
        ] {
            let m = check_text(&format!("a{c}b")).unwrap_err();
            assert_eq!(
                m,
                format!("contains the control character U+{:04X}", c as u32)
            );
            assert!(check_line(&format!("a{c}b")).is_err());
        }
        assert!(check_line(&"x".repeat(4097)).is_err());
    }
}
