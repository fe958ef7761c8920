//! Inside tmux, a copy also goes into tmux's own paste buffer, so it lands somewhere in every case.
//!
//! tmux's default (`set-clipboard external`, `allow-passthrough off`) drops both a program's OSC 52
//! and the passthrough-wrapped one: the designer said "sent" and nothing arrived.
//! `tmux load-buffer -w -` (tmux 3.2 and later) puts the text in the paste buffer (prefix `]`
//! pastes it) and, unless `set-clipboard` is `off`, has tmux itself send it on to the outer
//! terminal's clipboard. What the status line says follows tmux's own `set-clipboard` value.

use std::io::Write;
use std::process::{Command, Stdio};

/// What tmux did with a copy loaded into its paste buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forwarded {
    /// tmux sent it on to the outer terminal; the value of `set-clipboard` (`external`, `on`).
    ToTerminal(String),
    /// `set-clipboard off`: only in the paste buffer.
    Off,
    /// A tmux older than 3.2 (no `load-buffer -w`): only in the paste buffer.
    OldTmux,
}

/// Something that can load text into tmux's paste buffer (the real tmux, or a fake in tests).
pub trait TmuxBuffer {
    fn load(&mut self, text: &str) -> Result<Forwarded, String>;
}

/// A tmux server driven through the `tmux` command: the one `$TMUX` names, or (tests) the one
/// at `socket`.
#[derive(Debug, Default)]
pub struct Tmux {
    pub socket: Option<String>,
}

/// Runs `tmux ARGS`, with `input` on its standard input; its error output on failure.
fn tmux(socket: Option<&str>, args: &[&str], input: Option<&str>) -> Result<String, String> {
    let mut child = Command::new("tmux")
        .args(socket.map_or(Vec::new(), |s| vec!["-S", s]))
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tmux: {e}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| format!("tmux load-buffer: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("tmux: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(fwtopo::user_text::escaped(err.trim()).to_string())
    }
}

impl TmuxBuffer for Tmux {
    fn load(&mut self, text: &str) -> Result<Forwarded, String> {
        let s = self.socket.as_deref();
        if tmux(s, &["load-buffer", "-w", "-"], Some(text)).is_err() {
            // tmux before 3.2 has no -w: the paste buffer alone.
            tmux(s, &["load-buffer", "-"], Some(text))?;
            return Ok(Forwarded::OldTmux);
        }
        Ok(forwarded(
            &tmux(s, &["show-options", "-sv", "set-clipboard"], None).unwrap_or_default(),
        ))
    }
}

/// What tmux does with `load-buffer -w` under a `set-clipboard` value.
pub fn forwarded(set_clipboard: &str) -> Forwarded {
    match set_clipboard.trim() {
        "off" => Forwarded::Off,
        "" => Forwarded::ToTerminal("external".into()),
        v => Forwarded::ToTerminal(v.to_string()),
    }
}

/// The status line's words for a copy loaded into tmux's buffer.
pub fn status_words(r: &Result<Forwarded, String>) -> String {
    match r {
        Ok(Forwarded::ToTerminal(v)) => format!(
            "in tmux's paste buffer (prefix ] pastes it), and tmux sent it on to your terminal's clipboard (set-clipboard {v}; the terminal must allow OSC 52)"
        ),
        Ok(Forwarded::Off) => "in tmux's paste buffer (prefix ] pastes it); tmux's set-clipboard is off, so your terminal's clipboard did not get it (`tmux set -s set-clipboard external` lets it through)".into(),
        Ok(Forwarded::OldTmux) => "in tmux's paste buffer (prefix ] pastes it); this tmux is older than 3.2 and cannot pass it on to your terminal's clipboard".into(),
        Err(e) => format!("not in tmux's paste buffer: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_clipboard_decides_what_the_status_says() {
        assert_eq!(forwarded("off\n"), Forwarded::Off);
        assert_eq!(
            forwarded("external"),
            Forwarded::ToTerminal("external".into())
        );
        assert_eq!(forwarded("on"), Forwarded::ToTerminal("on".into()));
        let off = status_words(&Ok(Forwarded::Off));
        assert!(off.contains("did not get it") && off.contains("set-clipboard external"));
        let sent = status_words(&Ok(Forwarded::ToTerminal("external".into())));
        assert!(sent.contains("paste buffer") && sent.contains("sent it on"));
        assert!(status_words(&Err("no server".into())).contains("no server"));
    }

    /// The real tmux: a private server (its own socket, `-L`), a copy loaded through the same
    /// command the designer runs, and read back with `show-buffer`.
    #[test]
    fn the_text_reaches_tmuxs_paste_buffer() {
        if Command::new("tmux").arg("-V").output().is_err() {
            if std::env::var_os("FWTOPO_REQUIRE_SYSTEM_TESTS").is_some() {
                panic!("tmux is required (FWTOPO_REQUIRE_SYSTEM_TESTS) but not installed");
            }
            eprintln!("SKIPPED the_text_reaches_tmuxs_paste_buffer: tmux is not installed");
            return;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let socket = dir.path().join("sock");
        let socket = socket.to_string_lossy().to_string();
        let run = |args: &[&str]| {
            Command::new("tmux")
                .args(["-S", &socket])
                .args(args)
                .env_remove("TMUX")
                .output()
                .expect("tmux runs")
        };
        assert!(
            run(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "sleep 60"
            ])
            .status
            .success()
        );
        let text = "netsh advfirewall firewall add rule name=\"fwtopo-in-1\" dir=in\r\nREM é\n";
        let mut designer = Tmux {
            socket: Some(socket.clone()),
        };
        let loaded = designer.load(text);
        run(&["set-option", "-s", "set-clipboard", "off"]);
        let off = designer.load("second");
        let got = run(&["show-buffer", "-b", "buffer0"]);
        let last = run(&["show-buffer"]);
        run(&["kill-server"]);
        // tmux's default is external: it passes the copy on to the terminal.
        assert_eq!(loaded, Ok(Forwarded::ToTerminal("external".into())));
        assert_eq!(off, Ok(Forwarded::Off));
        assert_eq!(String::from_utf8_lossy(&got.stdout), text);
        assert_eq!(String::from_utf8_lossy(&last.stdout), "second");
    }
}
