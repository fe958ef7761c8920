//! The real designer binary in a real terminal (tmux): keys in, screen out.
//!
//! Opens a copy of an example, adds a node, assigns a role, sees its rule appear, saves and quits;
//! then the saved file loads and `fwtopo rules` shows the same rule. A second test crashes the
//! designer on purpose and checks the terminal is restored and the unsaved work is offered again.
//! Without tmux the tests skip, unless FWTOPO_REQUIRE_SYSTEM_TESTS=1 (CI), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn tmux_available() -> bool {
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
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, dir: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Tmux {
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

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "main"];
        a.extend_from_slice(keys);
        self.run(&a);
    }

    fn text(&self, s: &str) {
        self.run(&["send-keys", "-t", "main", "-l", s]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    /// The screen and the scrollback above it.
    fn history(&self) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-S", "-", "-t", "main"])
                .stdout,
        )
        .into_owned()
    }

    fn dead(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "main", "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1" || !out.status.success()
    }

    /// Waits until the screen contains `what`; fails with the screen if it never does.
    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("waited 20 s for {what:?}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the designer to exit; returns everything the pane shows, scrollback included.
    fn wait_dead(&self) -> String {
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

/// Inbound rules in the captured rules pane, as (protocol, ports, peers), for rows shown in full.
fn inbound_rows(screen: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in screen.lines() {
        for seg in line.split(['│', '┃']) {
            let s = seg.trim_start_matches([' ', '▲', '✖', '•']);
            let Some(rest) = s.strip_prefix("in ") else {
                continue;
            };
            let t: Vec<&str> = rest.split_whitespace().collect();
            if t.len() < 3 || !matches!(t[0], "tcp" | "udp") {
                continue;
            }
            if t[1].contains('…') || t[2].contains('…') || t[2].ends_with(',') {
                continue;
            }
            out.push((t[0].to_string(), t[1].to_string(), t[2].to_string()));
        }
    }
    out
}

fn site(dir: &Path) -> PathBuf {
    let path = dir.join("site.ron");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mixed-site.ron"),
        &path,
    )
    .expect("copy the example");
    path
}

#[test]
fn add_node_assign_role_save_quit() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = site(dir.path());
    let t = Tmux::start("edit", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (6)");

    // A node: name, then its address.
    t.keys(&["a"]);
    t.wait_for("New node: name");
    t.text("web2");
    t.keys(&["Enter"]);
    t.wait_for("Addresses (IPv4/IPv6");
    t.text("203.0.113.150");
    t.keys(&["Enter"]);
    t.wait_for("addr 203.0.113.150");
    let before = t.wait_for("Rules of web2");
    assert!(
        !inbound_rows(&before).iter().any(|r| r.2 == "any"),
        "nothing open to any yet:\n{before}"
    );

    // A role from the catalog picker.
    t.keys(&["Tab", "a"]);
    t.wait_for("Assign a role to web2");
    t.text("cpanel");
    t.wait_for("1 roles");
    t.keys(&["Enter"]);
    let screen = t.wait_for("assigned cpanel-whm/server to web2");
    assert!(screen.contains("● unsaved"), "{screen}");
    let rows: Vec<_> = inbound_rows(&screen)
        .into_iter()
        .filter(|r| r.2 == "any")
        .collect();
    assert!(
        !rows.is_empty(),
        "the role's rules appear at once:\n{screen}"
    );

    t.keys(&["s"]);
    let saved = t.wait_for("saved site.ron");
    assert!(!saved.contains("● unsaved"), "{saved}");
    t.keys(&["q"]);
    t.wait_dead();

    // The file loads, and the command line derives the same rules.
    let topo = fwtopo::files::load_topology(&path).expect("the saved file loads");
    let node = topo.node("web2").expect("web2 was saved");
    assert_eq!(
        node.addresses,
        vec!["203.0.113.150".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(
        (node.roles[0].product.as_str(), node.roles[0].role.as_str()),
        ("cpanel-whm", "server")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_fwtopo"))
        .args(["rules", path.to_str().unwrap(), "--node", "web2"])
        .env("FWTOPO_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli = String::from_utf8(out.stdout).unwrap();
    for (proto, ports, peers) in &rows {
        let found = cli.lines().any(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            t.len() >= 4 && t[0] == proto && t[1] == ports && t[2] == "from" && t[3] == peers
        });
        assert!(
            found,
            "`fwtopo rules` lacks {proto} {ports} from {peers}:\n{cli}"
        );
    }
}

#[test]
fn a_crash_restores_the_terminal_and_keeps_unsaved_work() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = site(dir.path());
    let original = std::fs::read_to_string(&path).unwrap();
    let t = Tmux::start(
        "crash",
        dir.path(),
        &["design", "site.ron"],
        &[("FWTOPO_TEST_PANIC", "1")],
    );
    t.wait_for("Nodes (6)");
    t.keys(&["m"]);
    t.wait_for("management access off on web1");
    t.keys(&["F12"]);
    let screen = t.wait_dead();
    // Back on the normal screen: the message is readable, the designer's frame is gone.
    assert!(screen.contains("unsaved work kept in"), "{screen}");
    assert!(
        !screen.contains("Nodes (6)"),
        "the alternate screen was left:\n{screen}"
    );
    assert!(dir.path().join("data/recovery.ron").exists());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        original,
        "the file itself is untouched"
    );
    drop(t);

    let t = Tmux::start("recover", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Recovered work");
    t.keys(&["y"]);
    let screen = t.wait_for("recovered the unsaved work");
    assert!(screen.contains("management off"), "{screen}");
    assert!(
        !dir.path().join("data/recovery.ron").exists(),
        "taken over by the running designer"
    );
    t.keys(&["q"]);
    t.wait_for("Unsaved changes");
    t.keys(&["y"]);
    t.wait_dead();
}

/// Bad input is reported before the terminal is touched, and without a terminal the designer says so.
#[test]
fn design_reports_bad_input_and_a_missing_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = site(dir.path());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fwtopo"))
            .args(args)
            .env("FWTOPO_CONFIG_DIR", dir.path().join("config"))
            .env_remove("FWTOPO_THEME")
            .output()
            .unwrap()
    };
    let out = run(&["design", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the designer needs a terminal"));
    let out = run(&["design", path.to_str().unwrap(), "--theme", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown theme 'nosuch'") && err.contains("dark, light, high-contrast"),
        "{err}"
    );
    std::fs::write(
        &path,
        "(version: 1, nodes: [(name: \"a b\", os: \"debian\")])",
    )
    .unwrap();
    let out = run(&["design", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("site.ron") && err.contains("a b"), "{err}");
}
