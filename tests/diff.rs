//! `fwtopo diff OLD NEW`: the derived firewalls decide, per node and direction, what was opened
//! and closed to whom; nodes and findings that came and went; text, Markdown and JSON; `-` reads
//! standard input for git.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").unwrap();
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.ron"))
}

fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, String) {
    let o = fwtopo()
        .arg("diff")
        .arg(old)
        .arg(new)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn edited(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(example(name)).unwrap();
    assert!(text.contains(from), "{from}");
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

#[test]
fn the_same_design_in_another_layout_is_no_change() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["plesk-automation", "virtuozzo", "mixed-site"] {
        // Comments gone, every field re-indented by the writer: the same firewalls.
        let t =
            fwtopo::topology::from_ron(&std::fs::read_to_string(example(name)).unwrap()).unwrap();
        let path = dir.path().join("rewritten.ron");
        std::fs::write(&path, fwtopo::topology::to_ron(&t)).unwrap();
        let (code, out) = diff(&example(name), &path, &[]);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.starts_with("no change"), "{out}");
    }
}

#[test]
fn a_switch_turned_on_opens_exactly_its_port_to_exactly_its_peers() {
    let dir = tempfile::tempdir().unwrap();
    let new = edited(
        dir.path(),
        "plesk-automation",
        r#""postgresql": "off""#,
        r#""postgresql": "on""#,
    );
    let (code, json) = diff(&example("plesk-automation"), &new, &["--json"]);
    assert_eq!(code, 1);
    let d: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changed = d["nodes_changed"].as_array().unwrap();
    let db = changed.iter().find(|n| n["node"] == "pa-db").unwrap();
    let changes = db["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{db}");
    assert_eq!(changes[0]["what"], "opened");
    assert_eq!(changes[0]["direction"], "inbound");
    assert_eq!(changes[0]["ports"], "5432");
    // The peers are those of the new rule that holds 5432 on pa-db.
    let rules = fwtopo()
        .args(["rules", "--json", "--node", "pa-db"])
        .arg(&new)
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&rules.stdout).unwrap();
    let mut want: Vec<String> = r["nodes"][0]["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["ports"].as_array().unwrap().iter().any(|p| p == "5432"))
        .flat_map(|x| x["peers"].as_array().unwrap().clone())
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    want.sort();
    let mut got: Vec<String> = changes[0]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want);
    // Every client also gained its outbound rule; nothing was closed anywhere.
    assert!(
        changed
            .iter()
            .any(|n| n["changes"][0]["direction"] == "outbound")
    );
    assert!(!json.contains("\"closed\""));
    // Back the other way: the same ports closed.
    let (_, back) = diff(&new, &example("plesk-automation"), &["--json"]);
    assert!(
        back.contains("\"closed\"") && !back.contains("\"opened\""),
        "{back}"
    );
}

#[test]
fn nodes_and_findings_that_come_and_go_are_listed_in_text_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    // pa-dns renamed: one node removed, one added; management off on pa-backup: FW007.
    let text = std::fs::read_to_string(example("plesk-automation")).unwrap();
    let text = text.replacen(r#"name: "pa-dns""#, r#"name: "pa-dns2""#, 1);
    let path = dir.path().join("new.ron");
    std::fs::write(&path, &text).unwrap();
    let (code, out) = diff(&example("plesk-automation"), &path, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("Nodes added\n  + pa-dns2"), "{out}");
    assert!(out.contains("Nodes removed\n  - pa-dns"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when not a terminal");
    let (_, md) = diff(
        &example("plesk-automation"),
        &path,
        &["--format", "markdown"],
    );
    assert!(
        md.contains("### Nodes added") && md.contains("- + pa-dns2"),
        "{md}"
    );

    // A finding introduced: the starter's placeholder admin zone.
    let zone = edited(
        dir.path(),
        "cpanel-whm",
        r#"note: "Hosting administrators.""#,
        r#"note: "where operators connect from: replace with your own networks""#,
    );
    let (code, out) = diff(&example("cpanel-whm"), &zone, &[]);
    assert_eq!(code, 0, "the firewalls are the same: {out}");
    assert!(
        out.contains("Findings introduced\n  + error FW026 placeholder-zone"),
        "{out}"
    );
}

#[test]
fn old_from_standard_input_for_git() {
    let text = std::fs::read(example("virtuozzo")).unwrap();
    let o = fwtopo()
        .args(["diff", "-"])
        .arg(example("virtuozzo"))
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Bad input on standard input names it.
    let o = fwtopo()
        .args(["diff", "-"])
        .arg(example("virtuozzo"))
        .write_stdin("(version: 1, nodes: [")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("standard input"));
}

/// The README's git set-up, taken from the README itself: `git diff` of a topology shows what
/// the change does to the firewalls.
#[test]
fn the_readmes_git_diff_driver_works() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("git config diff.fwtopo.command "))
        .expect("the README shows the driver");
    let command = line
        .strip_prefix("git config diff.fwtopo.command '")
        .and_then(|l| l.strip_suffix('\''))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let bin = Path::new(env!("CARGO_BIN_EXE_fwtopo"))
            .parent()
            .unwrap()
            .to_path_buf();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("PATH", path)
            .env(
                "FWTOPO_CONFIG_DIR",
                env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
            )
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir.path())
            .output()
            .expect("git runs")
    };
    git(&["init", "-q"]);
    std::fs::copy(example("plesk-automation"), dir.path().join("site.ron")).unwrap();
    std::fs::write(dir.path().join(".gitattributes"), "*.ron diff=fwtopo\n").unwrap();
    git(&["add", "."]);
    git(&[
        "-c",
        "user.email=t@example.com",
        "-c",
        "user.name=t",
        "commit",
        "-qm",
        "a",
    ]);
    git(&["config", "diff.fwtopo.command", command]);
    let text = std::fs::read_to_string(dir.path().join("site.ron")).unwrap();
    std::fs::write(
        dir.path().join("site.ron"),
        text.replacen(r#""postgresql": "off""#, r#""postgresql": "on""#, 1),
    )
    .unwrap();
    let out = git(&["diff"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.contains("Node pa-db") && out.contains("+ inbound tcp 5432 from"),
        "{out}"
    );
}
