//! Comments in a topology file. A save writes the file from the [`super::Topology`], which holds
//! no comments, so every `// …` and `/* … */` of a hand-written file is lost by the first save;
//! the designer counts them at open to warn before that save, and points to the `note:` and
//! `description:` fields, which are kept.

/// Counts the comments of RON text fed in pieces of any size (a file read in blocks), outside
/// strings, raw strings and characters. A block comment counts once however it nests.
#[derive(Debug, Default, Clone)]
pub struct CommentCounter {
    state: State,
    count: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside comments and literals.
    #[default]
    Code,
    /// In code, right after a byte of a word (so an `r` there does not start a raw string).
    Word,
    /// A `/` in code: a comment may start.
    Slash,
    Line,
    /// Inside a block comment of this depth; `star`/`slash` after a `*` or a `/`.
    Block {
        depth: u32,
        star: bool,
        slash: bool,
    },
    Str {
        escape: bool,
    },
    Char {
        escape: bool,
    },
    /// `r` then this many `#`: a raw string starts at the next `"`.
    RawOpen {
        hashes: u32,
    },
    /// Inside a raw string; `closing` counts the `#` after a `"` that may end it.
    Raw {
        hashes: u32,
        closing: Option<u32>,
    },
}

impl CommentCounter {
    pub fn new() -> CommentCounter {
        CommentCounter::default()
    }

    /// The comments in a whole text.
    pub fn count(text: &str) -> usize {
        let mut c = CommentCounter::new();
        c.feed(text.as_bytes());
        c.comments()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.byte(b);
        }
    }

    /// Comments seen so far (one still open counts).
    pub fn comments(&self) -> usize {
        self.count
    }

    fn byte(&mut self, b: u8) {
        use State::*;
        self.state = match self.state {
            Code => code(b, false),
            Word => code(b, true),
            Slash => match b {
                b'/' => {
                    self.count += 1;
                    Line
                }
                b'*' => {
                    self.count += 1;
                    Block {
                        depth: 1,
                        star: false,
                        slash: false,
                    }
                }
                _ => code(b, false),
            },
            Line => match b {
                b'\n' => Code,
                _ => Line,
            },
            Block { depth, star, slash } => match b {
                b'/' if star => match depth {
                    1 => Code,
                    _ => Block {
                        depth: depth - 1,
                        star: false,
                        slash: false,
                    },
                },
                b'*' if slash => Block {
                    depth: depth + 1,
                    star: false,
                    slash: false,
                },
                _ => Block {
                    depth,
                    star: b == b'*',
                    slash: b == b'/',
                },
            },
            Str { escape } => match b {
                _ if escape => Str { escape: false },
                b'\\' => Str { escape: true },
                b'"' => Code,
                _ => Str { escape: false },
            },
            Char { escape } => match b {
                _ if escape => Char { escape: false },
                b'\\' => Char { escape: true },
                b'\'' => Code,
                _ => Char { escape: false },
            },
            RawOpen { hashes } => match b {
                b'#' => RawOpen { hashes: hashes + 1 },
                b'"' => Raw {
                    hashes,
                    closing: None,
                },
                // A word that starts with `r` (`roles`), or a raw identifier (`r#type`).
                _ => code(b, true),
            },
            Raw { hashes, closing } => match (b, closing) {
                (b'"', _) if hashes == 0 => Code,
                (b'"', _) => Raw {
                    hashes,
                    closing: Some(0),
                },
                (b'#', Some(n)) if n + 1 == hashes => Code,
                (b'#', Some(n)) => Raw {
                    hashes,
                    closing: Some(n + 1),
                },
                _ => Raw {
                    hashes,
                    closing: None,
                },
            },
        };
    }
}

/// The state after byte `b` in code; `word` when the byte before was part of a word.
fn code(b: u8, word: bool) -> State {
    match b {
        b'/' => State::Slash,
        b'"' => State::Str { escape: false },
        b'\'' => State::Char { escape: false },
        b'r' if !word => State::RawOpen { hashes: 0 },
        _ if b.is_ascii_alphanumeric() || b == b'_' => State::Word,
        _ => State::Code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_outside_literals_are_counted() {
        let text = r##"// a file comment
// on two lines
(
    version: 1, // trailing
    /* a block /* nested */ still the same block */
    name: "http://example.test/* not a comment */",
    description: r#"raw "// no" /* no */"#,
    roles: r"// no either",
    c: '"', d: '\'', // one more
    e: "escaped \" // still a string",
)
"##;
        assert_eq!(CommentCounter::count(text), 5);
    }

    #[test]
    fn text_fed_in_pieces_counts_the_same() {
        let text = include_str!("../../examples/mixed-site.ron");
        let whole = CommentCounter::count(text);
        assert!(whole >= 5, "the example's comments: {whole}");
        for size in [1, 2, 3, 7, 64] {
            let mut c = CommentCounter::new();
            for piece in text.as_bytes().chunks(size) {
                c.feed(piece);
            }
            assert_eq!(c.comments(), whole, "pieces of {size}");
        }
        assert_eq!(CommentCounter::count("(name: \"a/b\", x: 1 / 2)"), 0);
        assert_eq!(CommentCounter::count("/* never closed"), 1);
    }
}
