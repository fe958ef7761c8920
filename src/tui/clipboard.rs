//! Getting a script onto the operator's clipboard, and saying honestly what happened.
//!
//! Over SSH the local clipboard is the wrong machine's, so text goes straight to the terminal as an
//! OSC 52 sequence. Locally arboard is tried first and OSC 52 is the fallback. Only arboard can
//! confirm a copy; OSC 52 is "sent to the terminal", since the terminal may ignore it. Inside tmux
//! or GNU screen the sequence is wrapped in the multiplexer's passthrough so it reaches the real
//! terminal, and the status says it went through the multiplexer. Backends sit behind [`Clipboard`]
//! so the decision is tested with fakes.

use std::io::Write;

/// Something that can take text.
pub trait Clipboard {
    fn set_text(&mut self, text: &str) -> Result<(), String>;

    /// The terminal multiplexer the text passes through, when there is one.
    fn via(&self) -> Option<Multiplexer> {
        None
    }
}

/// A terminal multiplexer between the designer and the real terminal: it swallows OSC 52 unless the
/// sequence is wrapped in its passthrough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplexer {
    Tmux,
    Screen,
}

impl Multiplexer {
    /// The multiplexer the environment says we run in: tmux sets `$TMUX`, GNU screen `$STY`.
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Option<Multiplexer> {
        let set = |v: &str| var(v).is_some_and(|x| !x.is_empty());
        if set("TMUX") {
            Some(Multiplexer::Tmux)
        } else if set("STY") {
            Some(Multiplexer::Screen)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Multiplexer::Tmux => "tmux",
            Multiplexer::Screen => "screen",
        }
    }
}

/// What became of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOutcome {
    /// The system clipboard took it.
    Copied,
    /// Written to the terminal as OSC 52; `reason` says why the system clipboard was not used, and
    /// `via` names the multiplexer whose passthrough carried it.
    SentOsc52 {
        reason: String,
        via: Option<Multiplexer>,
    },
    Failed(String),
}

/// What else became of a copy, beside the clipboard: tmux's paste buffer (inside tmux), and the
/// file kept in the data directory so the text can always be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyExtras {
    pub tmux: Option<Result<super::tmux_buffer::Forwarded, String>>,
    pub kept: Option<Result<std::path::PathBuf, String>>,
}

/// Keeps a copy of `text` as `<data>/copies/<name>`, readable only by its owner (the commands
/// name the site's addresses and management networks).
pub fn keep_copy(
    data: &std::path::Path,
    name: &str,
    text: &str,
) -> Result<std::path::PathBuf, String> {
    let dir = data.join("copies");
    fwtopo::files::create_private_dir(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(name);
    fwtopo::files::write_private(&path, text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(path)
}

/// The status line for a copy of `what` with what else became of it. Inside tmux the paste
/// buffer is what is sure to hold the text, so it is said instead of an OSC 52 "sent" that tmux
/// may have dropped; the kept file is always named.
pub fn report(what: &str, outcome: &CopyOutcome, extras: &CopyExtras) -> String {
    use super::tmux_buffer::status_words;
    let mut text = match (outcome, &extras.tmux) {
        (CopyOutcome::SentOsc52 { .. }, Some(Ok(f))) => {
            format!("put {what} {}", status_words(&Ok(f.clone())))
        }
        (_, Some(t)) => format!("{}; {}", status_text(what, outcome), status_words(t)),
        (_, None) => status_text(what, outcome),
    };
    match &extras.kept {
        Some(Ok(path)) => text.push_str(&format!("; a copy is in {}", path.display())),
        Some(Err(e)) => text.push_str(&format!("; no copy kept on disk: {e}")),
        None => {}
    }
    text
}

/// The copy decision: over SSH only OSC 52; locally the system clipboard, then OSC 52.
pub fn copy(
    text: &str,
    over_ssh: bool,
    local: &mut dyn Clipboard,
    osc52: &mut dyn Clipboard,
) -> CopyOutcome {
    if over_ssh {
        return match osc52.set_text(text) {
            Ok(()) => CopyOutcome::SentOsc52 {
                reason: "over SSH".into(),
                via: osc52.via(),
            },
            Err(e) => CopyOutcome::Failed(format!("OSC 52: {e}")),
        };
    }
    match local.set_text(text) {
        Ok(()) => CopyOutcome::Copied,
        Err(e) => match osc52.set_text(text) {
            Ok(()) => CopyOutcome::SentOsc52 {
                reason: format!("no system clipboard: {e}"),
                via: osc52.via(),
            },
            Err(e2) => CopyOutcome::Failed(format!("system clipboard: {e}; OSC 52: {e2}")),
        },
    }
}

/// The status line for a copy of `what`.
pub fn status_text(what: &str, outcome: &CopyOutcome) -> String {
    match outcome {
        CopyOutcome::Copied => format!("copied {what} to the clipboard"),
        CopyOutcome::SentOsc52 { reason, via: None } => {
            format!("sent {what} to the terminal (OSC 52; {reason})")
        }
        CopyOutcome::SentOsc52 {
            reason,
            via: Some(m),
        } => format!(
            "sent {what} to the terminal through {} (OSC 52; {reason})",
            m.name()
        ),
        CopyOutcome::Failed(e) => format!("could not copy {what}: {e}"),
    }
}

/// Whether we run in an SSH session (the variables sshd sets).
pub fn over_ssh(var: impl Fn(&str) -> Option<String>) -> bool {
    ["SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"]
        .iter()
        .any(|v| var(v).is_some_and(|x| !x.is_empty()))
}

/// Terminals commonly drop OSC 52 payloads beyond about this size; refuse rather than pretend.
pub const OSC52_MAX: usize = 1 << 20;

/// Writes OSC 52 "set clipboard" sequences to a terminal, wrapped for the multiplexer the process
/// environment names (`$TMUX`, `$STY`).
pub struct Osc52<W: Write> {
    pub out: W,
}

impl<W: Write> Clipboard for Osc52<W> {
    fn set_text(&mut self, text: &str) -> Result<(), String> {
        let via = self.via();
        write_osc52(&mut self.out, text, via)
    }

    fn via(&self) -> Option<Multiplexer> {
        Multiplexer::detect(|v| std::env::var(v).ok())
    }
}

/// The OSC 52 "set clipboard" sequence for base64 `encoded` text.
fn osc52(encoded: &str) -> String {
    format!("\x1b]52;c;{encoded}\x07")
}

/// A sequence in tmux's passthrough: `ESC P tmux;`, the sequence with every ESC doubled, `ESC \`.
/// tmux forwards it when `allow-passthrough` is on.
pub fn tmux_passthrough(seq: &str) -> String {
    format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
}

/// An OSC 52 sequence in GNU screen's passthrough: screen limits one DCS string, so the sequence is
/// cut into pieces, each in its own `ESC P … ESC \`; the terminal sees them joined.
pub fn screen_passthrough(seq: &str) -> String {
    const PIECE: usize = 76;
    let bytes = seq.as_bytes();
    let mut out = String::with_capacity(seq.len() + seq.len() / PIECE * 4 + 4);
    // The sequence is ASCII (ESC, digits, base64, BEL), so byte pieces are character pieces.
    for piece in bytes.chunks(PIECE) {
        out.push_str("\x1bP");
        out.push_str(&String::from_utf8_lossy(piece));
        out.push_str("\x1b\\");
    }
    out
}

/// Writes `text` as OSC 52 to `out`, through the multiplexer's passthrough when there is one. Inside
/// tmux the plain sequence follows the wrapped one, for tmux set up with `set-clipboard on` instead
/// of `allow-passthrough`; the terminal then sets the same text twice.
pub fn write_osc52(
    out: &mut dyn Write,
    text: &str,
    via: Option<Multiplexer>,
) -> Result<(), String> {
    let encoded = base64(text.as_bytes());
    if encoded.len() > OSC52_MAX {
        return Err(format!(
            "{} bytes is more than terminals accept over OSC 52",
            text.len()
        ));
    }
    let seq = osc52(&encoded);
    let bytes = match via {
        None => seq,
        Some(Multiplexer::Tmux) => format!("{}{seq}", tmux_passthrough(&seq)),
        Some(Multiplexer::Screen) => screen_passthrough(&seq),
    };
    out.write_all(bytes.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// The system clipboard via arboard, opened on first use (it fails without a display).
#[derive(Default)]
pub struct System {
    inner: Option<arboard::Clipboard>,
}

impl Clipboard for System {
    fn set_text(&mut self, text: &str) -> Result<(), String> {
        if self.inner.is_none() {
            self.inner = Some(arboard::Clipboard::new().map_err(|e| e.to_string())?);
        }
        match self.inner.as_mut() {
            Some(c) => c.set_text(text.to_owned()).map_err(|e| e.to_string()),
            None => Err("no clipboard".into()),
        }
    }
}

/// Standard base64 with padding (RFC 4648), all OSC 52 needs.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clipboard that records what it was given, or fails.
    struct Fake {
        fail: Option<&'static str>,
        got: Vec<String>,
        via: Option<Multiplexer>,
    }

    impl Fake {
        fn ok() -> Self {
            Fake {
                fail: None,
                got: Vec::new(),
                via: None,
            }
        }
        fn failing(e: &'static str) -> Self {
            Fake {
                fail: Some(e),
                got: Vec::new(),
                via: None,
            }
        }
    }

    impl Clipboard for Fake {
        fn set_text(&mut self, text: &str) -> Result<(), String> {
            match self.fail {
                Some(e) => Err(e.into()),
                None => {
                    self.got.push(text.into());
                    Ok(())
                }
            }
        }

        fn via(&self) -> Option<Multiplexer> {
            self.via
        }
    }

    #[test]
    fn over_ssh_goes_straight_to_osc52() {
        let (mut local, mut osc) = (Fake::ok(), Fake::ok());
        let out = copy("netsh x", true, &mut local, &mut osc);
        assert!(
            local.got.is_empty(),
            "the local clipboard is the wrong machine's over SSH"
        );
        assert_eq!(osc.got, ["netsh x"]);
        assert!(matches!(out, CopyOutcome::SentOsc52 { .. }));
        let s = status_text("archive netsh commands", &out);
        assert!(
            s.starts_with("sent archive netsh commands to the terminal (OSC 52; over SSH)"),
            "{s}"
        );
        assert!(!s.contains("copied"), "{s}");
    }

    #[test]
    fn local_clipboard_first() {
        let (mut local, mut osc) = (Fake::ok(), Fake::ok());
        let out = copy("t", false, &mut local, &mut osc);
        assert_eq!(out, CopyOutcome::Copied);
        assert!(osc.got.is_empty());
        assert_eq!(
            status_text("the preview", &out),
            "copied the preview to the clipboard"
        );
    }

    #[test]
    fn arboard_error_falls_back_to_osc52_and_says_so() {
        let (mut local, mut osc) = (Fake::failing("X11 server connection timed out"), Fake::ok());
        let out = copy("t", false, &mut local, &mut osc);
        assert_eq!(osc.got, ["t"]);
        let s = status_text("the preview", &out);
        assert!(
            s.contains("sent the preview to the terminal (OSC 52"),
            "{s}"
        );
        assert!(s.contains("X11 server connection timed out"), "{s}");
    }

    #[test]
    fn both_failing_is_an_error_naming_both() {
        let (mut local, mut osc) = (Fake::failing("no display"), Fake::failing("broken pipe"));
        let out = copy("t", false, &mut local, &mut osc);
        let s = status_text("the preview", &out);
        assert!(matches!(out, CopyOutcome::Failed(_)));
        assert!(
            s.starts_with("could not copy the preview")
                && s.contains("no display")
                && s.contains("broken pipe"),
            "{s}"
        );
    }

    #[test]
    fn osc52_writer_writes_the_sequence() {
        let mut out = Vec::new();
        write_osc52(&mut out, "netsh advfirewall", None).unwrap();
        assert_eq!(out, b"\x1b]52;c;bmV0c2ggYWR2ZmlyZXdhbGw=\x07");
        let mut big = Vec::new();
        assert!(write_osc52(&mut big, &"x".repeat(OSC52_MAX), None).is_err());
        assert!(big.is_empty(), "nothing half-written");
    }

    /// A fake environment: only the variables given.
    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |v| {
            vars.iter()
                .find(|(k, _)| *k == v)
                .map(|(_, x)| x.to_string())
        }
    }

    #[test]
    fn inside_tmux_the_sequence_goes_through_its_passthrough() {
        let via = Multiplexer::detect(env(&[("TMUX", "/tmp/tmux-1000/default,1234,0")]));
        assert_eq!(via, Some(Multiplexer::Tmux));
        let mut out = Vec::new();
        write_osc52(&mut out, "netsh advfirewall", via).unwrap();
        let plain = "\x1b]52;c;bmV0c2ggYWR2ZmlyZXdhbGw=\x07";
        // ESC P tmux; then the sequence with its ESC doubled, then ESC \ ; then the plain sequence
        // for a tmux that takes OSC 52 itself (set-clipboard on).
        let want = format!("\x1bPtmux;\x1b\x1b]52;c;bmV0c2ggYWR2ZmlyZXdhbGw=\x07\x1b\\{plain}");
        assert_eq!(String::from_utf8(out).unwrap(), want);

        // The status says the text went through tmux, and that it was sent, not copied.
        let (mut local, mut osc) = (Fake::failing("no display"), Fake::ok());
        osc.via = via;
        let outcome = copy("t", false, &mut local, &mut osc);
        let s = status_text("the preview", &outcome);
        assert!(
            s.starts_with("sent the preview to the terminal through tmux (OSC 52"),
            "{s}"
        );
    }

    #[test]
    fn inside_screen_the_sequence_is_cut_into_passthrough_pieces() {
        let via = Multiplexer::detect(env(&[("STY", "1234.pts-0.host")]));
        assert_eq!(via, Some(Multiplexer::Screen));
        let text = "x".repeat(200);
        let mut out = Vec::new();
        write_osc52(&mut out, &text, via).unwrap();
        let out = String::from_utf8(out).unwrap();
        let pieces: Vec<&str> = out
            .split("\x1b\\")
            .filter(|p| !p.is_empty())
            .map(|p| p.strip_prefix("\x1bP").expect("each piece is a DCS string"))
            .collect();
        assert!(pieces.len() > 1 && pieces.iter().all(|p| p.len() <= 76));
        assert_eq!(
            pieces.concat(),
            format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
        );
        assert_eq!(Multiplexer::detect(env(&[])), None);
        assert_eq!(Multiplexer::detect(env(&[("TMUX", "")])), None);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn ssh_detection() {
        assert!(over_ssh(
            |v| (v == "SSH_TTY").then(|| "/dev/pts/1".to_string())
        ));
        assert!(!over_ssh(|_| None));
        assert!(!over_ssh(|_| Some(String::new())));
    }
}
