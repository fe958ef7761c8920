//! Where a topology text's node list can be cut, so a large file parses on every core.
//!
//! A 10,000-node file is some 3 MB, and the RON parser reads it at about 150 MB/s: most of the
//! designer's start on such a site. The node list is nearly all of it, and its elements parse
//! alone, so [`split`] finds the list with a small lexer of RON's strings, comments and brackets,
//! guesses cuts between its nodes, and the loader parses the parts side by side. It is only a
//! speed-up:
//! whenever anything is unusual (extensions, a second `nodes` field, a part that does not parse)
//! the loader parses the whole text at once instead, so errors, and what a file means, are always
//! those of the one parse. `tests/fuzz_inputs.rs` checks that both ways agree on every input.

/// A text cut in its node list: the first nodes in consecutive parts, each a RON list of its
/// own, and the rest: the whole text without them (`nodes: [` followed by the other nodes).
#[derive(Debug, PartialEq, Eq)]
pub struct Parts {
    pub rest: String,
    pub lists: Vec<String>,
}

/// Cuts `text` into at most `parts` pieces: lists of the first nodes, and the rest of the text
/// (the whole text without those nodes). `None` when the node list cannot be found or is too
/// short to be worth cutting.
///
/// Only the text before the node list is lexed. The cuts inside it are guesses: a comma before
/// the next node's `(` at the first node's indentation. A guess that is not a comma between
/// nodes of the list (it is inside a string, a comment or a node) leaves an unclosed string,
/// comment or bracket at the end of the list before it, which then does not parse; a list that
/// does parse ends at a comma between nodes, and after that comma the parser is where it is
/// after the `[` that opens the rest's list.
pub fn split(text: &str, parts: usize) -> Option<Parts> {
    // Extensions (`#![enable(implicit_some)]`) change how every part would have to be read.
    if parts < 2 || text.contains("#!") {
        return None;
    }
    let b = text.as_bytes();
    let open = node_list_open(b)?;
    // The separator the pretty printer writes between nodes: `),` then the first node's indent.
    let indent_end = open
        + 1
        + b[open + 1..]
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
    if b.get(indent_end) != Some(&b'(') {
        return None;
    }
    let separator = format!("),{}(", &text[open + 1..indent_end]);
    let mut cuts: Vec<usize> = Vec::with_capacity(parts - 1);
    for k in 1..parts {
        let mut from = (open + (b.len() - open) * k / parts).max(cuts.last().map_or(0, |&c| c + 1));
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let Some(at) = text.get(from..).and_then(|t| t.find(&separator)) else {
            break;
        };
        // The comma: `)` is one byte.
        cuts.push(from + at + 1);
    }
    if cuts.is_empty() {
        return None;
    }
    let mut lists = Vec::with_capacity(cuts.len());
    let mut start = open + 1;
    for &c in &cuts {
        let mut s = String::with_capacity(c - start + 2);
        s.push('[');
        s.push_str(&text[start..c]);
        s.push(']');
        lists.push(s);
        start = c + 1;
    }
    let mut rest = String::with_capacity(open + 1 + text.len() - start);
    rest.push_str(&text[..=open]);
    rest.push_str(&text[start..]);
    Some(Parts { rest, lists })
}

/// Lexes just enough RON to find the `[` of the top-level struct's `nodes` field. `None` when the
/// text does not open with a struct, or ends (or unbalances) before such a field.
fn node_list_open(b: &[u8]) -> Option<usize> {
    // The brackets open at each depth; depth 1 must be the top-level struct's `(`.
    let mut stack: Vec<u8> = Vec::new();
    // The last identifier seen at depth 1 and whether a `:` followed it: a field name.
    let mut field: Option<(usize, usize)> = None;
    let mut colon = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i += 2;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = block_comment(b, i)?,
            b'"' => i = quoted(b, i + 1, b'"')?,
            b'\'' => i = quoted(b, i + 1, b'\'')?,
            b'r' | b'b' if raw_string_start(b, i).is_some() => {
                let (hashes, quote) = raw_string_start(b, i)?;
                i = raw_string(b, quote + 1, hashes)?;
            }
            b'b' if b.get(i + 1) == Some(&b'"') => i = quoted(b, i + 2, b'"')?,
            b'(' | b'[' | b'{' => {
                let depth = stack.len();
                if depth == 0 && c != b'(' {
                    return None;
                }
                let is_nodes = field.is_some_and(|(s, e)| &b[s..e] == b"nodes");
                if depth == 1 && c == b'[' && colon && is_nodes {
                    return Some(i);
                }
                stack.push(c);
                field = None;
                colon = false;
                i += 1;
            }
            b')' | b']' | b'}' => {
                let open = stack.pop()?;
                if !matches!((open, c), (b'(', b')') | (b'[', b']') | (b'{', b'}')) {
                    return None;
                }
                field = None;
                colon = false;
                i += 1;
            }
            b':' => {
                colon = field.is_some();
                i += 1;
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if stack.len() == 1 {
                    field = Some((start, i));
                    colon = false;
                }
            }
            _ => {
                // Anything else (`,`, `-`, `.`, non-ASCII outside strings) ends a field name.
                field = None;
                colon = false;
                i += 1;
            }
        }
    }
    None
}

/// The index after a `/* */` comment starting at `i`; RON's block comments nest.
fn block_comment(b: &[u8], mut i: usize) -> Option<usize> {
    let mut level = 0usize;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                level += 1;
                i += 2;
            }
            (b'*', b'/') => {
                level -= 1;
                i += 2;
                if level == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The index after a quoted string (`close` is `"`) or character literal (`'`) whose content
/// starts at `i`; backslashes escape. A character literal ends at its line.
fn quoted(b: &[u8], mut i: usize, close: u8) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == close => return Some(i + 1),
            b'\n' if close == b'\'' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Whether a raw string (`r"…"`, `r#"…"#`, `br"…"`) starts at `i`: its `#` count and the index
/// of its opening quote. Not inside an identifier (`bar"` is no raw string).
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    (b.get(j) == Some(&b'"')).then_some((hashes, j))
}

/// The index after a raw string whose content starts at `i`, closed by `"` and `hashes` `#`s.
fn raw_string(b: &[u8], mut i: usize, hashes: usize) -> Option<usize> {
    while i < b.len() {
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const TEXT: &str = r##"(
    version: 1,
    name: "a, (b) [c]",
    zones: [(name: "admin", cidrs: ["192.0.2.0/28"])],
    nodes: [
        (name: "n1", os: "debian", note: "x, \"y\" ) ]"),
        // (name: "commented", ...),
        (name: "n2", os: "debian", note: r#"raw "), ["#),
        /* a block /* nested */ comment, ( */
        (name: "n3", os: "debian", roles: [(product: "p", role: "r", params: {"k": "v,w"})]),
        (name: "n4", os: "debian"),
    ],
)
"##;

    #[test]
    fn cuts_before_a_node_at_the_first_node_s_indent() {
        let p = split(TEXT, 2).expect("a node list to cut");
        assert_eq!(p.lists.len(), 1);
        let list = &p.lists[0];
        assert!(list.starts_with("[\n        (name: \"n1\""), "{list}");
        assert!(list.ends_with(")]"), "{list}");
        // The rest is the text without the first part's nodes and the comma after them.
        let removed = &list[1..list.len() - 1];
        assert_eq!(TEXT.replacen(&format!("{removed},"), "", 1), p.rest);
        // A guess inside a comment: the list before it ends in the comment, and does not parse.
        let p = split(TEXT, 4).expect("two guesses");
        assert_eq!(p.lists.len(), 2);
        assert!(
            p.lists[0].ends_with("// (name: \"commented\", ...)]"),
            "{}",
            p.lists[0]
        );
        assert!(ron::from_str::<ron::Value>(&p.lists[0]).is_err());
        assert!(ron::from_str::<ron::Value>(&p.lists[1]).is_ok());
    }

    #[test]
    fn refuses_what_it_cannot_find() {
        for text in [
            "#![enable(implicit_some)]\n(nodes: [(), (), ()])",
            "(name: \"nodes: [(), (), ()]\")",
            "(zones: [(nodes: [(), (), ()])])",
            "[nodes: [(), (), ()]]",
            "(nodes: ())",
            "(nodes: [])",
            "(nodes: [1, 2])",
            "(name: \"x\")",
            "(name: \"unclosed, nodes: [(), ()])",
            "(/* unclosed, nodes: [(), ()])",
        ] {
            assert_eq!(split(text, 2), None, "{text}");
        }
        assert!(split("(nodes: [ (), (), ()])", 2).is_some());
        assert!(split("(nodes: [(),(),()])", 2).is_some());
        assert!(
            split("(nodes: [(), (), ()])", 2).is_none(),
            "no separator at the first indent"
        );
    }
}
