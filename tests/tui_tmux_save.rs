//! The designer's save in a real terminal (tmux): through a symbolic link, a file another hand
//! changed after it was opened (the designer asks before replacing it), and a file whose comments a
//! save would drop (it asks once). Without tmux the tests skip, unless
//! FWTOPO_REQUIRE_SYSTEM_TESTS=1 (CI), where they fail.

#[path = "support/tmux.rs"]
mod tmux;

use std::fs;
use std::path::Path;
use std::process::Command;
use tmux::{Tmux, tmux_available};

/// Writes the starter topology of `product` to `path` (replacing it), as another program would.
fn starter(dir: &Path, product: &str, path: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_fwtopo"))
        .args(["new", "--force", "--product", product])
        .arg(path)
        .env("FWTOPO_CONFIG_DIR", dir.join("config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Toggles the selected node's management access: an edit that leaves the node list as it is.
fn edit(t: &Tmux) {
    t.keys(&["m"]);
    t.wait_for("● unsaved");
}

#[cfg(unix)]
#[test]
fn a_file_changed_on_disk_is_not_replaced_without_asking() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("real")).unwrap();
    let real = dir.path().join("real/site.ron");
    starter(dir.path(), "cpanel-whm", &real);
    std::os::unix::fs::symlink("real/site.ron", dir.path().join("link.ron")).unwrap();
    let t = Tmux::start("changed", dir.path(), &["design", "link.ron"], &[]);
    t.wait_for("Nodes (1)");

    // Another hand replaces the file after the designer opened it.
    starter(dir.path(), "plesk-automation", &real);
    let theirs = fs::read_to_string(&real).unwrap();
    edit(&t);
    t.keys(&["s"]);
    // The answers are the dialog's last line: once it shows, the whole dialog does.
    t.wait_for("save elsewhere");
    let screen = t.screen();
    assert!(
        screen.contains("changed on disk")
            && screen.contains("overwrite")
            && screen.contains("reload"),
        "{screen}"
    );
    assert_eq!(fs::read_to_string(&real).unwrap(), theirs, "replaced");

    // Reloaded: their version, and the next save goes through the link without asking.
    t.keys(&["r"]);
    t.wait_for("opened link.ron (9 nodes)");
    edit(&t);
    t.keys(&["s"]);
    t.wait_for("saved link.ron");
    assert!(
        fs::symlink_metadata(dir.path().join("link.ron"))
            .unwrap()
            .is_symlink(),
        "the link was replaced by a file"
    );
    let saved = fwtopo::files::load_topology(&real).expect("the saved file loads");
    assert_eq!(saved.nodes.len(), 9);
    let before = fwtopo::topology::from_ron(&theirs).unwrap();
    assert_ne!(
        saved.nodes[0].management, before.nodes[0].management,
        "the edit went to the file the link leads to"
    );
    t.keys(&["q"]);
    t.wait_dead();
}

#[test]
fn saving_a_file_with_comments_asks_once_and_points_to_note_fields() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cpanel-whm.ron"),
        &path,
    )
    .unwrap();
    let original = fs::read_to_string(&path).unwrap();
    let t = Tmux::start("comments", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (2)");
    edit(&t);
    t.keys(&["s"]);
    t.wait_for("save without them");
    let screen = t.screen();
    assert!(
        screen.contains("2 comments") && screen.contains("note:"),
        "{screen}"
    );
    // No: nothing written.
    t.keys(&["n"]);
    t.wait_for("not saved");
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
    // Yes: saved without them; the next save does not ask again.
    t.keys(&["s"]);
    t.wait_for("save without them");
    t.keys(&["y"]);
    t.wait_for("saved site.ron");
    let first = fs::read_to_string(&path).unwrap();
    assert!(!first.contains("//"), "{first}");
    edit(&t);
    t.keys(&["s"]);
    t.wait_for("saved site.ron");
    let screen = t.screen();
    assert!(!screen.contains("comments"), "{screen}");
    assert_ne!(fs::read_to_string(&path).unwrap(), first);
    t.keys(&["q"]);
    t.wait_dead();
}

/// Issue 17: an edit shows on the changes screen (D) in `fwtopo diff`'s words, enter goes to the
/// rule it removed, and a save makes the saved file the new baseline: the marks go.
#[test]
fn the_changes_screen_follows_edits_and_a_save_clears_it() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    starter(dir.path(), "cpanel-whm", &path);
    let t = Tmux::start("changes", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (1)");
    t.keys(&["D"]);
    t.wait_for_all(&[" 6 Changes ", "no changes since site.ron was opened"]);
    t.keys(&["1"]);
    t.wait_for_all(&["Rules of ", " roles ("]);
    edit(&t);
    t.keys(&["D"]);
    let screen = t.wait_for_all(&[
        "Changes since site.ron was opened: nodes 1 changed",
        "(closed)",
        "⏎ go to the node",
    ]);
    let line = screen.lines().position(|l| l.contains("(closed)")).unwrap();
    let first = screen
        .lines()
        .position(|l| l.contains("┃Node "))
        .expect("the node's heading");
    for _ in first..line {
        t.keys(&["j"]);
    }
    t.keys(&["Enter"]);
    // The removed row is selected and shown in full below the table.
    let screen = t.wait_for_all(&["Rules of ", " - out ", "no rule allows it now"]);
    assert!(screen.contains("removed"), "{screen}");
    t.keys(&["s"]);
    t.wait_for("saved site.ron");
    let screen = t.wait_gone(" - out ");
    assert!(!screen.contains("● unsaved"), "{screen}");
    t.keys(&["D"]);
    t.wait_for("no changes since site.ron was saved");
    t.keys(&["q"]);
    t.wait_dead();
}
