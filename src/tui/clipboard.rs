//! Getting a script onto the operator's clipboard, and saying honestly what happened.
//!
//! Over SSH the local clipboard is the wrong machine's, so text goes straight to the terminal as an
//! OSC 52 sequence. Locally arboard is tried first and OSC 52 is the fallback. Only arboard can
//! confirm a copy; OSC 52 is "sent to the terminal", since the terminal may ignore it. Backends sit
//! behind [`Clipboard`] so the decision is tested with fakes.

use std::io::Write;

/// Something that can take text.
pub trait Clipboard {
    fn set_text(&mut self, text: &str) -> Result<(), String>;
}

/// What became of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOutcome {
    /// The system clipboard took it.
    Copied,
    /// Written to the terminal as OSC 52; `reason` says why the system clipboard was not used.
    SentOsc52 {
        reason: String,
    },
    Failed(String),
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
            },
            Err(e) => CopyOutcome::Failed(format!("OSC 52: {e}")),
        };
    }
    match local.set_text(text) {
        Ok(()) => CopyOutcome::Copied,
        Err(e) => match osc52.set_text(text) {
            Ok(()) => CopyOutcome::SentOsc52 {
                reason: format!("no system clipboard: {e}"),
            },
            Err(e2) => CopyOutcome::Failed(format!("system clipboard: {e}; OSC 52: {e2}")),
        },
    }
}

/// The status line for a copy of `what`.
pub fn status_text(what: &str, outcome: &CopyOutcome) -> String {
    match outcome {
        CopyOutcome::Copied => format!("copied {what} to the clipboard"),
        CopyOutcome::SentOsc52 { reason } => {
            format!("sent {what} to the terminal (OSC 52; {reason})")
        }
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

/// Writes OSC 52 "set clipboard" sequences to a terminal (or, in tests, a `Vec<u8>`).
pub struct Osc52<W: Write> {
    pub out: W,
}

impl<W: Write> Clipboard for Osc52<W> {
    fn set_text(&mut self, text: &str) -> Result<(), String> {
        let encoded = base64(text.as_bytes());
        if encoded.len() > OSC52_MAX {
            return Err(format!(
                "{} bytes is more than terminals accept over OSC 52",
                text.len()
            ));
        }
        write!(self.out, "\x1b]52;c;{encoded}\x07")
            .and_then(|()| self.out.flush())
            .map_err(|e| e.to_string())
    }
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
    }

    impl Fake {
        fn ok() -> Self {
            Fake {
                fail: None,
                got: Vec::new(),
            }
        }
        fn failing(e: &'static str) -> Self {
            Fake {
                fail: Some(e),
                got: Vec::new(),
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
        let mut w = Osc52 { out: Vec::new() };
        w.set_text("netsh advfirewall").unwrap();
        assert_eq!(w.out, b"\x1b]52;c;bmV0c2ggYWR2ZmlyZXdhbGw=\x07");
        let mut big = Osc52 { out: Vec::new() };
        assert!(big.set_text(&"x".repeat(OSC52_MAX)).is_err());
        assert!(big.out.is_empty(), "nothing half-written");
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
