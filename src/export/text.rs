//! Escaping and formatting shared by every exporter.
//!
//! Anything a user or the catalog wrote (topology names, notes, service names) reaches shell,
//! cmd.exe and PowerShell text only through these functions, so no input can become a second command.
//! Node, zone and parameter names are already restricted to `[A-Za-z0-9._-]` when a topology loads.

use crate::engine::FlowRef;
use crate::ports::PortSet;

/// Folds text to printable ASCII: typographic quotes and dashes become their plain forms, other
/// non-ASCII characters `?`, control characters (newlines included) a space.
pub fn ascii_fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// One character of [`ascii_fold`].
fn fold_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{00A0}' | '\u{2000}'..='\u{200B}' => ' ',
        c if c.is_ascii_control() || c.is_control() => ' ',
        c if c.is_ascii() => c,
        _ => '?',
    }
}

/// The character comment text keeps: letters, digits, spaces and harmless punctuation; `;` reads
/// as a comma; quotes, `%`, `^`, `&`, `|`, `<`, `>`, `` ` `` and `$` become `_`.
fn comment_char(c: char) -> char {
    match c {
        ';' => ',',
        'a'..='z' | 'A'..='Z' | '0'..='9' => c,
        ' ' | '.' | ',' | ':' | '/' | '(' | ')' | '[' | ']' | '-' | '_' | '+' | '=' | '@' | '*'
        | '?' | '!' => c,
        _ => '_',
    }
}

/// The words of comment-safe text: folded, kept to [`comment_char`]s, split at spaces. One pass
/// and no copy of the whole text: every rule of every exported node goes through here.
fn comment_words(s: &str) -> impl Iterator<Item = String> + '_ {
    let mut chars = s.chars().map(|c| comment_char(fold_char(c))).peekable();
    std::iter::from_fn(move || {
        while chars.next_if_eq(&' ').is_some() {}
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| *c != ' ') {
            word.push(c);
        }
        (!word.is_empty()).then_some(word)
    })
}

/// Text safe inside a line comment of every target (`#`, `REM`, `::`): one ASCII line of
/// [`comment_char`]s, so even a comment pasted into cmd.exe or PowerShell stays a comment.
pub fn comment_text(s: &str) -> String {
    if s.is_ascii() {
        return ascii_comment_text(s.as_bytes());
    }
    comment_text_chars(s)
}

/// What [`comment_char`] after [`fold_char`] makes of each ASCII byte.
const ASCII_COMMENT: [u8; 128] = {
    let mut t = [b'_'; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            0..=31 | 127 => b' ',
            b';' => b',',
            c @ (b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9') => c,
            c @ (b' ' | b'.' | b',' | b':' | b'/' | b'(' | b')' | b'[' | b']' | b'-' | b'_'
            | b'+' | b'=' | b'@' | b'*' | b'?' | b'!') => c,
            _ => b'_',
        };
        b += 1;
    }
    t
};

/// [`comment_text`] of ASCII text, a byte at a time through a table: most text is ASCII, and
/// every rule of every exported node goes through here.
fn ascii_comment_text(s: &[u8]) -> String {
    join_comment_words(
        s.iter()
            .map(|&b| char::from(ASCII_COMMENT[usize::from(b & 0x7f)])),
    )
}

fn comment_text_chars(s: &str) -> String {
    join_comment_words(s.chars().map(|c| comment_char(fold_char(c))))
}

/// The words of comment characters joined by single spaces, in one pass without a string per
/// word, cut at 200 characters with `...`: past that the rest cannot show.
fn join_comment_words(chars: impl Iterator<Item = char>) -> String {
    const MAX: usize = LONG_WORD;
    let mut out = String::with_capacity(MAX + 8);
    let mut gap = false;
    for c in chars {
        if c == ' ' {
            gap = !out.is_empty();
            continue;
        }
        if gap {
            out.push(' ');
            gap = false;
        }
        out.push(c);
        if out.len() > MAX {
            break;
        }
    }
    if out.len() > MAX {
        out.truncate(MAX - 3);
        out.push_str("...");
    }
    out
}

/// Comment-safe text (see [`comment_text`]) wrapped at word boundaries into lines of at most
/// `width` characters, so long finding messages are not cut off. A word longer than that stays
/// whole up to [`LONG_WORD`] characters (a port list reads better whole) and is cut into pieces
/// of that size past it (a user's service name without spaces): no line grows with the input,
/// which cmd.exe's line limit needs.
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in comment_words(s) {
        // Comment words are ASCII, so byte chunks are character chunks.
        for piece in word.as_bytes().chunks(LONG_WORD) {
            let piece = String::from_utf8_lossy(piece);
            if !cur.is_empty() && cur.len() + 1 + piece.len() > width {
                lines.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(&piece);
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// The longest word [`wrap`] keeps whole, as long as [`comment_text`] keeps text.
pub const LONG_WORD: usize = 200;

/// Text safe inside a double-quoted nft `comment "..."` (at most 128 bytes, nft's limit).
pub fn nft_comment(s: &str) -> String {
    truncate(&comment_text(s).replace('"', "_"), 120)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    // ASCII only by now, so byte slicing is character slicing.
    format!("{}...", &s[..max.saturating_sub(3)])
}

/// A POSIX shell word: the text in single quotes, with each `'` written as `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A PowerShell literal string: ASCII, in single quotes, with `'` doubled. PowerShell also treats
/// typographic single quotes as quote characters, so text is ASCII-folded first.
pub fn ps_quote(s: &str) -> String {
    format!("'{}'", ascii_fold(s).replace('\'', "''"))
}

/// Text safe inside a double-quoted cmd.exe/netsh argument: no `"` (ends the quoting), `%` (expands
/// variables), `^`, `!`, `&`, `|`, `<`, `>` or non-ASCII.
pub fn cmd_text(s: &str) -> String {
    comment_text(s).replace(['!', '*', '?'], "_")
}

/// Port list in a target's syntax: `range_sep` between the ends of a range (`-`, `:` or `_`) and
/// `list_sep` between items.
pub fn ports(ps: &PortSet, range_sep: &str, list_sep: &str) -> String {
    let mut out = String::new();
    push_ports(&mut out, ps, range_sep, list_sep);
    out
}

/// [`ports`], appended to `out`.
pub fn push_ports(out: &mut String, ps: &PortSet, range_sep: &str, list_sep: &str) {
    for (i, r) in ps.ranges().iter().enumerate() {
        if i > 0 {
            out.push_str(list_sep);
        }
        r.push_with(out, range_sep);
    }
}

/// Splits a port set into chunks of at most `max` ports, counting a range as `range_weight` ports
/// (iptables multiport: 15 slots, a range takes 2).
pub fn chunk_ports(ps: &PortSet, max: usize, range_weight: usize) -> Vec<PortSet> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut used = 0;
    for r in ps.ranges() {
        let w = if r.is_single() { 1 } else { range_weight };
        if used + w > max && !cur.is_empty() {
            out.push(PortSet::from_ranges(std::mem::take(&mut cur)));
            used = 0;
        }
        cur.push(*r);
        used += w;
    }
    if !cur.is_empty() {
        out.push(PortSet::from_ranges(cur));
    }
    out
}

/// Short provenance for a comment: `product/role/flow` labels.
pub fn provenance(catalog: &crate::catalog::Catalog, refs: &[FlowRef]) -> String {
    comment_text(
        &refs
            .iter()
            .map(|f| f.label(catalog))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Converts LF line ends to CRLF (for pasting into Windows consoles and for .cmd files).
pub fn to_crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_cannot_escape() {
        let hostile = "a\"b'c;d&e|f%PATH%^g`h$(rm -rf /)\nnext\u{201C}x\u{201D}";
        let c = comment_text(hostile);
        assert!(!c.contains('\n'));
        for bad in ['"', '\'', ';', '&', '|', '%', '^', '`', '$', '<', '>'] {
            assert!(!c.contains(bad), "{bad} in {c}");
        }
        assert!(c.is_ascii());
    }

    #[test]
    fn the_ascii_table_is_the_char_mapping() {
        for b in 0u8..128 {
            let c = char::from(b);
            assert_eq!(
                char::from(ASCII_COMMENT[usize::from(b)]),
                comment_char(fold_char(c)),
                "{b}"
            );
            let text = format!("a {c}{c} b");
            assert_eq!(comment_text(&text), comment_text_chars(&text), "{b}");
        }
        let long = "x; y ".repeat(80);
        assert_eq!(comment_text(&long), comment_text_chars(&long));
    }

    #[test]
    fn comment_text_joins_words_and_cuts_long_text() {
        assert_eq!(comment_text("  a \t\n b;c  "), "a b,c");
        assert_eq!(comment_text(""), "");
        let long = "word ".repeat(60);
        let c = comment_text(&long);
        assert_eq!(c.len(), 200);
        assert!(c.ends_with("..."));
        assert!(c.starts_with("word word"));
        let exact = "x".repeat(200);
        assert_eq!(comment_text(&exact), exact);
        assert_eq!(comment_text(&format!("{exact}y")).len(), 200);
    }

    #[test]
    fn wrap_cuts_a_word_longer_than_the_width() {
        let word = "w".repeat(2 * LONG_WORD + 50);
        let lines = wrap(&format!("a {word} b"), 100);
        assert_eq!(lines.concat().replace(' ', ""), format!("a{word}b"));
        assert!(lines.iter().all(|l| l.len() <= LONG_WORD), "{lines:?}");
        assert_eq!(lines.len(), 4, "{lines:?}");
        // A port list a little over the width stays whole.
        let ports = "1,".repeat(60);
        assert_eq!(
            wrap(&format!("x {ports} y"), 100),
            ["x", ports.as_str(), "y"]
        );
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(ps_quote("it\u{2019}s"), "'it''s'");
        assert_eq!(to_crlf("a\nb\r\n"), "a\r\nb\r\n");
    }

    #[test]
    fn chunks_respect_the_limit() {
        let ranges: Vec<_> = (1..=20)
            .map(|p| crate::ports::PortRange::single(p * 10).unwrap())
            .collect();
        let ps = PortSet::from_ranges(ranges);
        let chunks = chunk_ports(&ps, 15, 2);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks.iter().map(|c| c.ranges().len()).sum::<usize>(), 20);
    }
}
