//! The real designer binary in a real terminal (tmux): keys in, screen out.
//!
//! Opens a copy of an example, adds a node, assigns a role, sees its rule appear, saves and quits;
//! then the saved file loads and `fwtopo rules` shows the same rule. Others crash the designer on
//! purpose (a panic, SIGKILL, SIGTERM) and check the terminal is restored where it can be and the
//! unsaved work is offered again; that saving or quitting on purpose removes the recovery copy; and
//! that a file only the catalog check rejects opens with its problems as findings and can be fixed.
//! Without tmux the tests skip, unless FWTOPO_REQUIRE_SYSTEM_TESTS=1 (CI), where they fail.

#[path = "support/tmux.rs"]
mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tmux::{Tmux, tmux_available};

/// Inbound rules in the captured rules pane, as (protocol, ports, peers), for rows shown in full.
fn inbound_rows(screen: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in screen.lines() {
        for seg in line.split(['│', '┃']) {
            // Severity, then the change mark (+ added, ~ changed since the file was opened).
            let s = seg.trim_start_matches([' ', '▲', '✖', '•', '+', '~']);
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

/// The recovery copies in the test's data directory.
fn recovery_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("data")) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("recovery"))
        })
        .collect();
    v.sort();
    v
}

/// Polls `f` every 50 ms until it gives a value; fails with `what` after `limit`.
fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > limit {
            panic!("waited {limit:?} for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The recovery copy whose text contains `needle`, once the designer has written it.
fn recovery_with(dir: &Path, needle: &str, limit: Duration) -> PathBuf {
    wait_until(
        &format!("a recovery copy holding {needle:?}"),
        limit,
        || {
            recovery_files(dir)
                .into_iter()
                .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(needle)))
        },
    )
}

fn kill(signal: &str, pid: &str) {
    let status = Command::new("kill")
        .args([signal, pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

/// Adds node web2 at 203.0.113.150 through the designer's prompts.
fn add_web2(t: &Tmux) {
    t.keys(&["a"]);
    t.wait_for("New node: name");
    t.text("web2");
    t.keys(&["Enter"]);
    t.wait_for("Addresses (IPv4/IPv6");
    t.text("203.0.113.150");
    t.keys(&["Enter"]);
    t.wait_for("addr 203.0.113.150");
}

/// Saves a copy of an example: a save drops its comments, so the designer asks first.
fn save_example(t: &Tmux) {
    t.keys(&["s"]);
    t.wait_for(" Comments ═");
    t.keys(&["y"]);
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

    save_example(&t);
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
    let copy = recovery_with(dir.path(), "management: false", Duration::from_secs(10));
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
    assert!(!copy.exists(), "taken over by the running designer");
    t.keys(&["q"]);
    t.wait_for("Unsaved changes");
    t.keys(&["y"]);
    t.wait_dead();
}

/// SIGKILL (or a lost SSH session) gives the designer no chance to react: the recovery copy it keeps
/// on disk after every edit is what survives. Accepting it at the next start restores the edit, the
/// file itself untouched until the save, and the save removes the copy.
#[test]
fn sigkill_keeps_the_last_edit_and_a_save_removes_the_copy() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = site(dir.path());
    let original = std::fs::read_to_string(&path).unwrap();
    let t = Tmux::start("kill", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (6)");
    assert!(recovery_files(dir.path()).is_empty(), "nothing unsaved yet");
    add_web2(&t);
    // Written on the loop tick after the edit (at most one interval later). The wait is long so a
    // loaded machine does not fail it: what is tested is that the copy appears, not how fast.
    let copy = recovery_with(dir.path(), "203.0.113.150", Duration::from_secs(10));
    let text = std::fs::read_to_string(&copy).unwrap();
    let head = text.lines().next().unwrap_or_default();
    assert!(
        head.starts_with("// fwtopo recovery copy of: /") && head.ends_with("/site.ron"),
        "names the file it belongs to, absolute: {head}"
    );
    kill("-KILL", &t.pid());
    let screen = t.wait_dead();
    t.assert_ended("signal 9", &screen);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    assert!(copy.exists(), "the copy outlives the SIGKILL");
    drop(t);

    let t = Tmux::start("kill-again", dir.path(), &["design", "site.ron"], &[]);
    // The offer's title is drawn before its text: wait for both (a capture can be torn).
    let offer = t.wait_for_screen("the recovery offer naming the file", |s| {
        s.contains("Recovered work") && s.contains("site.ron")
    });
    assert!(offer.contains("site.ron"), "{offer}");
    t.keys(&["y"]);
    t.wait_for("recovered the unsaved work");
    let screen = t.wait_for_screen("seven nodes, web2 among them", |s| {
        s.contains("Nodes (7)") && s.contains("web2")
    });
    assert!(screen.contains("web2"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        original,
        "accepting the copy does not write the file"
    );
    // Taken over by this designer (renamed, never absent), until the save.
    assert!(!copy.exists());
    let own = recovery_with(dir.path(), "203.0.113.150", Duration::from_secs(10));
    save_example(&t);
    t.wait_for("saved ");
    wait_until(
        "the save to remove the copy",
        Duration::from_secs(10),
        || recovery_files(dir.path()).is_empty().then_some(()),
    );
    assert!(!own.exists());
    t.keys(&["q"]);
    t.wait_dead();
    let saved = fwtopo::files::load_topology(&path).expect("the saved file loads");
    assert!(saved.node("web2").is_some());
}

/// Quitting and discarding on purpose leaves no copy to offer; SIGTERM restores the terminal and
/// keeps the latest edit at once.
#[test]
fn quitting_discards_the_copy_and_sigterm_keeps_it() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = site(dir.path());
    let original = std::fs::read_to_string(&path).unwrap();
    let t = Tmux::start("discard", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (6)");
    t.keys(&["m"]);
    t.wait_for("management access off on web1");
    recovery_with(dir.path(), "management: false", Duration::from_secs(10));
    t.keys(&["q"]);
    t.wait_for("Unsaved changes");
    t.keys(&["y"]);
    let screen = t.wait_dead();
    t.assert_ended("exit 0", &screen);
    assert!(recovery_files(dir.path()).is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    drop(t);

    // Undone back to the saved state: nothing unsaved, so SIGTERM keeps nothing.
    let t = Tmux::start("term", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (6)");
    t.keys(&["m"]);
    t.wait_for("management access off on web1");
    recovery_with(dir.path(), "management: false", Duration::from_secs(10));
    t.keys(&["u"]);
    let screen = t.wait_for("undid");
    assert!(!screen.contains("● unsaved"), "{screen}");
    wait_until("undo to remove the copy", Duration::from_secs(10), || {
        recovery_files(dir.path()).is_empty().then_some(())
    });
    kill("-TERM", &t.pid());
    let screen = t.wait_dead();
    t.assert_ended("exit 143", &screen);
    assert!(
        !screen.contains("Nodes (6)"),
        "the alternate screen was left:\n{screen}"
    );
    assert!(!screen.contains("unsaved work kept"), "{screen}");
    assert!(recovery_files(dir.path()).is_empty(), "{screen}");
    drop(t);

    // Two edits inside one interval: the first is written at once, the second is held back by the
    // rate limit; whichever writes it (the loop a second later, or the SIGTERM handler if the kill
    // comes first), the copy holds the latest edit.
    let t = Tmux::start("term-edit", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (6)");
    t.keys(&["m"]);
    t.wait_for("management access off on web1");
    t.keys(&["Down", "m"]);
    t.wait_for("management access off on vz1");
    kill("-TERM", &t.pid());
    let screen = t.wait_dead();
    t.assert_ended("exit 143", &screen);
    assert!(screen.contains("unsaved work kept in"), "{screen}");
    assert!(!screen.contains("Nodes (6)"), "{screen}");
    let copy = recovery_with(dir.path(), "management: false", Duration::ZERO);
    let kept = fwtopo::topology::from_ron(&std::fs::read_to_string(&copy).unwrap()).unwrap();
    let off: Vec<&str> = kept
        .nodes
        .iter()
        .filter(|n| !n.management)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(off, ["web1", "vz1"], "both edits kept");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    std::fs::remove_file(&copy).unwrap();

    // The session goes away (tmux closes the terminal and sends SIGHUP, as a dropped SSH
    // connection does): the designer keeps its work and exits at once rather than spin on a dead
    // terminal.
    let t = Tmux::start("hangup", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (6)");
    let pid = t.pid();
    t.keys(&["m"]);
    t.wait_for("management access off on web1");
    t.keys(&["Down", "m"]);
    t.wait_for("management access off on vz1");
    drop(t);
    wait_until(
        "the designer to exit on SIGHUP",
        Duration::from_secs(10),
        || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit_once(')').map(|(_, s)| s.trim_start());
            state.is_none_or(|s| s.starts_with('Z')).then_some(())
        },
    );
    let copy = recovery_with(dir.path(), "management: false", Duration::ZERO);
    let kept = fwtopo::topology::from_ron(&std::fs::read_to_string(&copy).unwrap()).unwrap();
    assert_eq!(kept.nodes.iter().filter(|n| !n.management).count(), 2);
}

/// A copy is offered only once its designer is gone: a second designer on the same data directory
/// leaves a running one's copy alone; after a SIGKILL it is offered, and "n" deletes it.
#[test]
fn a_running_designers_copy_is_not_offered_to_another() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let first = Tmux::start("first", dir.path(), &["design", "site.ron"], &[]);
    first.wait_for("Nodes (6)");
    first.keys(&["m"]);
    first.wait_for("management access off on web1");
    let copy = recovery_with(dir.path(), "management: false", Duration::from_secs(10));

    let second = Tmux::start("second", dir.path(), &["design", "site.ron"], &[]);
    let screen = second.wait_for("Nodes (6)");
    // The offer would be drawn in the same frame as the node list.
    assert!(!screen.contains("Recovered work"), "{screen}");
    second.keys(&["q"]);
    second.wait_dead();
    assert!(copy.exists(), "the running designer's copy stays");

    kill("-KILL", &first.pid());
    first.wait_dead();
    let third = Tmux::start("third", dir.path(), &["design", "site.ron"], &[]);
    third.wait_for("Recovered work");
    third.keys(&["n"]);
    third.wait_for("deleted the recovery copy");
    assert!(!copy.exists());
    assert!(recovery_files(dir.path()).is_empty());
    third.keys(&["q"]);
    third.wait_dead();
}

/// A value only the catalog check rejects (`ftp: "maybe"`) no longer keeps the designer out: the
/// file opens, the problem is a finding, and the designer fixes and saves it.
#[test]
fn a_file_the_catalog_check_rejects_opens_and_can_be_fixed() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = site(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen(r#""ftp": "off""#, r#""ftp": "maybe""#, 1),
    )
    .unwrap();
    let check = |want: i32| {
        let out = Command::new(env!("CARGO_BIN_EXE_fwtopo"))
            .args(["check", path.to_str().unwrap()])
            .env("FWTOPO_CONFIG_DIR", dir.path().join("config"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(want), "{err}");
        err
    };
    assert!(check(2).contains("'maybe' is not on or off"));

    let t = Tmux::start("check", dir.path(), &["design", "site.ron"], &[]);
    // The first frame is drawn while the plan is derived; the status comes with the plan.
    let screen = t.wait_for("the catalog check found 1 problem");
    assert!(screen.contains("Nodes (6)"), "{screen}");
    t.keys(&["2"]);
    let screen = t.wait_for_screen("one error, the bad switch value", |s| {
        s.contains(" 1 errors") && s.contains("'maybe' is not on or off")
    });
    assert!(screen.contains("'maybe' is not on or off"), "{screen}");
    // web1 is the first node; its first role row, then the ftp parameter under it.
    t.keys(&["1"]);
    t.wait_for("ftp = maybe");
    t.keys(&["Tab", "Down", "Enter"]);
    t.wait_for("Parameter value");
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    t.text("off");
    t.keys(&["Enter"]);
    t.wait_for("ftp = off");
    t.keys(&["2"]);
    let screen = t.wait_for(" 0 errors");
    assert!(!screen.contains("'maybe'"), "{screen}");
    save_example(&t);
    t.wait_for("saved site.ron");
    t.keys(&["q"]);
    t.wait_dead();
    check(0);
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

    // A syntax error still refuses, with file:line:col.
    std::fs::write(&path, "(version: 1,\n nodes: [(name: \"a\", os: )])").unwrap();
    let out = run(&["design", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("site.ron:2:"), "{err}");

    // What only the catalog check rejects gets as far as the terminal (it opens; see the tmux test).
    std::fs::write(
        &path,
        "(version: 1, nodes: [(name: \"a\", os: \"debian\", roles: [(product: \"nosuch\", role: \"x\")])])",
    )
    .unwrap();
    let out = run(&["design", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the designer needs a terminal"), "{err}");
}

/// `--config-dir` (on `design`, or before any command) wins over $FWTOPO_CONFIG_DIR.
#[test]
fn config_dir_option_overrides_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = site(dir.path());
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join("catalog")).unwrap();
    std::fs::write(other.join("catalog/broken.ron"), "(id: ").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fwtopo"))
            .args(args)
            .env("FWTOPO_CONFIG_DIR", dir.path().join("config"))
            .env_remove("FWTOPO_THEME")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let site = path.to_str().unwrap();
    let other = other.to_str().unwrap();
    // The environment's directory is empty: the designer gets as far as the terminal check.
    let (code, err) = run(&["design", site]);
    assert_eq!(code, Some(2));
    assert!(err.contains("the designer needs a terminal"), "{err}");
    for args in [
        &["design", "--config-dir", other, site][..],
        &["--config-dir", other, "design", site],
        &["--config-dir", other, "catalog"],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains("broken.ron"),
            "{args:?} reads the option's directory: {err}"
        );
    }
}

/// Issue 15.1: inside tmux with its defaults (`set-clipboard external`, no passthrough, no X
/// display), `y` must land somewhere: in tmux's paste buffer, and in a private file in the data
/// directory whose path the status line gives (the message log shows it in full).
#[test]
fn a_copy_inside_tmux_reaches_its_paste_buffer_and_a_kept_file() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("win.ron");
    std::fs::write(
        &path,
        r#"(version: 1, name: "w", zones: [(name: "admin", cidrs: ["192.0.2.0/28"])],
           nodes: [(name: "iis1", os: "windows-server-2022", addresses: ["203.0.113.7"])])"#,
    )
    .unwrap();
    let t = Tmux::start(
        "copy",
        dir.path(),
        &["design", "win.ron"],
        &[("DISPLAY", ""), ("WAYLAND_DISPLAY", "")],
    );
    t.wait_for("Nodes (1)");
    t.keys(&["y"]);
    let kept = dir.path().join("data/copies/iis1.netsh.cmd");
    let text = wait_until("the kept copy", Duration::from_secs(10), || {
        std::fs::read_to_string(&kept).ok()
    });
    assert!(text.contains("netsh advfirewall"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let buffer = t.run(&["show-buffer"]);
    assert_eq!(String::from_utf8_lossy(&buffer.stdout), text);
    // The whole status message, in the message log.
    t.keys(&["M"]);
    // The log's column only: between the modal's double borders.
    let log_text = |screen: &str| -> String {
        let inside: Vec<&str> = screen.lines().filter_map(|l| l.split('║').nth(1)).collect();
        inside
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Waits for the whole message (the modal is drawn at once, but a capture may catch it half
    // drawn), then checks it: a message that never says both fails here with the screen.
    let log = t.wait_for_screen("the message log with the whole copy message", |s| {
        s.contains("Messages") && log_text(s).contains("iis1.netsh.cmd")
    });
    let flat = log_text(&log);
    assert!(flat.contains("in tmux's paste buffer"), "{log}");
    assert!(flat.contains("iis1.netsh.cmd"), "{log}");
}

/// Issue 15: the newcomer's whole session, from a file that does not exist yet to an exported
/// site: the starter's placeholder admin zone is a finding until replaced, a role is assigned, the
/// zone gets the operators' network, the work is saved, and the command line checks and exports it.
#[test]
fn from_an_empty_file_to_an_exported_site() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    let t = Tmux::start("newcomer", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (1)");

    // The placeholder admin zone is reported as an error before anything else.
    t.keys(&["2"]);
    t.wait_for("placeholder-zone");

    // A role from the catalog on the starter's node.
    t.keys(&["1", "Tab", "a"]);
    t.wait_for("Assign a role to server-1");
    t.text("plesk-automation sn-apache");
    t.wait_for("1 roles");
    t.keys(&["Enter"]);
    t.wait_for("assigned plesk-automation/sn-apache to server-1");

    // The admin zone gets the operators' network; the edit is confirmed in the status line.
    t.keys(&["3"]);
    t.wait_for("Zones");
    t.keys(&["e"]);
    t.wait_for("Networks (CIDRs");
    t.keys(&["C-u"]);
    t.text("192.0.2.0/26");
    t.keys(&["Enter"]);
    t.wait_for("networks of zone admin (u undoes it)");
    t.keys(&["2"]);
    let findings = t.wait_for("Findings");
    assert!(!findings.contains("placeholder-zone"), "{findings}");

    t.keys(&["s"]);
    t.wait_for("saved site.ron");
    t.keys(&["q"]);
    t.wait_dead();

    let fwtopo = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fwtopo"))
            .args(args)
            .current_dir(dir.path())
            .env("FWTOPO_CONFIG_DIR", dir.path().join("config"))
            .output()
            .unwrap()
    };
    let check = fwtopo(&["check", "site.ron"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let export = fwtopo(&["export", "site.ron", "--target", "auto", "--out", "exports"]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let script = std::fs::read_to_string(dir.path().join("exports/server-1.nftables.nft")).unwrap();
    assert!(
        script.contains("192.0.2.0/26"),
        "the operators' network: {script}"
    );
    assert!(
        !script.contains("198.51.100.0/28"),
        "no placeholder left: {script}"
    );
    assert!(path.exists());
}
