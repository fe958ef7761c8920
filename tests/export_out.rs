//! `fwtopo export --out DIR`, run as the real binary: all or nothing, and what becomes of the
//! scripts an earlier export wrote and this one no longer writes (stale; `--prune` removes them).

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").unwrap();
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
}

/// A site of the named Linux nodes, each with management access only, addresses from
/// 203.0.113.0/24.
fn site(dir: &Path, nodes: &[&str]) -> PathBuf {
    let path = dir.join("site.ron");
    let nodes: String = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                r#"(name: "{n}", os: "almalinux", addresses: ["203.0.113.{}"]),"#,
                i + 5
            )
        })
        .collect();
    fs::write(
        &path,
        format!(
            r#"(version: 1, name: "site", zones: [(name: "admin", cidrs: ["198.51.100.0/24"])],
                nodes: [{nodes}])"#
        ),
    )
    .unwrap();
    path
}

/// Exports `site` into `out` for `target`, with extra arguments; (exit status, stdout, stderr).
fn export(site: &Path, out: &Path, target: &str, extra: &[&str]) -> (i32, String, String) {
    let o = fwtopo()
        .arg("export")
        .arg(site)
        .args(["--target", target, "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_directory_in_the_way_replaces_no_script() {
    let dir = tempfile::tempdir().unwrap();
    let site = site(dir.path(), &["vz1", "vz2", "vz3"]);
    let out = dir.path().join("out");
    assert_eq!(export(&site, &out, "iptables", &[]).0, 0);
    let before = fs::read(out.join("vz1.iptables.sh")).unwrap();
    let index = fs::read(out.join("index.txt")).unwrap();
    fs::remove_file(out.join("vz2.iptables.sh")).unwrap();
    fs::create_dir(out.join("vz2.iptables.sh")).unwrap();
    // Strict egress changes every script.
    let (code, stdout, err) = export(&site, &out, "iptables", &["--egress", "strict"]);
    assert_eq!(code, 2, "{err}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        err.contains("vz2.iptables.sh") && err.contains("nothing was replaced"),
        "{err}"
    );
    assert_eq!(fs::read(out.join("vz1.iptables.sh")).unwrap(), before);
    assert_eq!(fs::read(out.join("index.txt")).unwrap(), index);
    assert_eq!(
        names(&out),
        [
            "index.txt",
            "vz1.iptables.sh",
            "vz2.iptables.sh",
            "vz3.iptables.sh"
        ]
    );
}
