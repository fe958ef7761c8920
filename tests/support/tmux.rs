//! The designer in a private tmux server: start it with arguments and environment, send keys and
//! text, read the screen, wait for what should appear. Shared by the tmux test crates.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn tmux_available() -> bool {
    if Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    if std::env::var("FWTOPO_REQUIRE_SYSTEM_TESTS").as_deref() == Ok("1") {
        panic!("tmux not found, and FWTOPO_REQUIRE_SYSTEM_TESTS=1");
    }
    eprintln!("SKIPPED (tmux not found)");
    false
}

/// A private tmux server (its own socket), killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(name: &str, dir: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Tmux {
        let t = Tmux {
            socket: format!("fwtopo-test-{name}-{}", std::process::id()),
        };
        let mut cmd: Vec<String> = vec![
            "-f".into(),
            "/dev/null".into(),
            "new-session".into(),
            "-d".into(),
            "-x".into(),
            "120".into(),
            "-y".into(),
            "40".into(),
            "-s".into(),
            "main".into(),
            "-c".into(),
            dir.display().to_string(),
            "env".into(),
            "-u".into(),
            "SSH_CONNECTION".into(),
            "-u".into(),
            "SSH_TTY".into(),
            "-u".into(),
            "SSH_CLIENT".into(),
            "-u".into(),
            "FWTOPO_THEME".into(),
            "-u".into(),
            "RUST_BACKTRACE".into(),
            "TERM=xterm-256color".into(),
            format!("FWTOPO_CONFIG_DIR={}", dir.join("config").display()),
            format!("FWTOPO_DATA_DIR={}", dir.join("data").display()),
        ];
        cmd.extend(extra_env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.push(env!("CARGO_BIN_EXE_fwtopo").into());
        cmd.extend(args.iter().map(|s| s.to_string()));
        let out = t.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Keep the pane after the program exits, to read what it printed.
        t.run(&["set-option", "-t", "main", "remain-on-exit", "on"]);
        t
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "main"];
        a.extend_from_slice(keys);
        self.run(&a);
    }

    pub fn text(&self, s: &str) {
        self.run(&["send-keys", "-t", "main", "-l", s]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    /// The screen and the scrollback above it.
    pub fn history(&self) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-S", "-", "-t", "main"])
                .stdout,
        )
        .into_owned()
    }

    /// The process id of the program in the pane (`env` execs the designer, so it is the designer).
    pub fn pid(&self) -> String {
        let out = self.run(&["display-message", "-p", "-t", "main", "#{pane_pid}"]);
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()),
            "no pane pid: {pid:?}"
        );
        pid
    }

    /// How the program in the dead pane ended: `exit N` or `signal N`; `None` when tmux does not
    /// know. tmux 3.3 marks a pane dead when its terminal closes and sometimes never records the
    /// status (seen with a plain `python3 -c 'os._exit(143)'` in about one run of ten), so callers
    /// accept `None` and prove what matters from the screen and the files.
    pub fn exit_status(&self) -> Option<String> {
        let start = Instant::now();
        loop {
            let out = self.run(&[
                "display-message",
                "-p",
                "-t",
                "main",
                "#{pane_dead_status}/#{pane_dead_signal}",
            ]);
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            match text.split_once('/') {
                Some((status, _)) if !status.is_empty() => return Some(format!("exit {status}")),
                Some((_, signal)) if !signal.is_empty() => return Some(format!("signal {signal}")),
                _ if start.elapsed() > Duration::from_secs(1) => return None,
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Fails unless the program ended as `want` says (or tmux does not know, see above).
    pub fn assert_ended(&self, want: &str, screen: &str) {
        let got = self.exit_status();
        assert!(
            got.as_deref().is_none_or(|g| g == want),
            "ended with {got:?}, want {want}:\n{screen}"
        );
    }

    pub fn dead(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "main", "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1" || !out.status.success()
    }

    /// Waits until the screen contains `what`; fails with the screen if it never does.
    pub fn wait_for(&self, what: &str) -> String {
        self.wait_for_screen(&format!("{what:?}"), |s| s.contains(what))
    }

    /// Waits until `done` holds for one whole capture of the screen; fails with the last screen if
    /// it never does. A capture can be taken while the designer is still drawing (seen in CI: the
    /// first word of a popup present, its last lines not yet), so a test that reads more than the
    /// word it waited for must wait for all of it.
    pub fn wait_for_screen(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("waited 20 s for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the screen holds every one of `all` at once: a capture can be torn mid-frame,
    /// so waiting for the first word of what should appear does not mean the rest is there.
    pub fn wait_for_all(&self, all: &[&str]) -> String {
        self.wait_for_screen(&format!("all of {all:?}"), |s| {
            all.iter().all(|w| s.contains(w))
        })
    }

    /// Waits until the screen no longer holds `what`.
    pub fn wait_gone(&self, what: &str) -> String {
        self.wait_for_screen(&format!("{what:?} to go"), |s| !s.contains(what))
    }

    /// Waits for the designer to exit; returns everything the pane shows, scrollback included.
    pub fn wait_dead(&self) -> String {
        let start = Instant::now();
        while !self.dead() {
            if start.elapsed() > Duration::from_secs(20) {
                panic!("the designer did not exit; the screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.history()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
