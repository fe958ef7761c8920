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

/// The index's lines that name files (not comments).
fn index_files(out: &Path) -> Vec<String> {
    fs::read_to_string(out.join("index.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect()
}

/// The files the index lists as stale.
fn index_stale(out: &Path) -> Vec<String> {
    fs::read_to_string(out.join("index.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# stale\t"))
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect()
}

#[test]
fn scripts_no_longer_exported_are_listed_as_stale_and_removed_only_with_prune() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let three = site(dir.path(), &["vz1", "vz2", "vz3"]);
    assert_eq!(export(&three, &out, "iptables", &[]).0, 0);
    // vz2 leaves the site: its script is stale, said so on stderr and in the index, and kept.
    let two = site(dir.path(), &["vz1", "vz3"]);
    for round in 0..2 {
        let (code, stdout, err) = export(&two, &out, "iptables", &[]);
        assert_eq!(code, 0, "{err}");
        assert!(!stdout.contains("vz2"), "{stdout}");
        assert!(
            err.contains("vz2.iptables.sh") && err.contains("stale") && err.contains("--prune"),
            "round {round}: {err}"
        );
        assert!(out.join("vz2.iptables.sh").exists());
        assert_eq!(index_files(&out), ["vz1.iptables.sh", "vz3.iptables.sh"]);
        assert_eq!(index_stale(&out), ["vz2.iptables.sh"], "round {round}");
    }
    // Another target: every iptables script is stale now.
    let (code, _, err) = export(&two, &out, "nftables", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        index_stale(&out),
        ["vz1.iptables.sh", "vz3.iptables.sh", "vz2.iptables.sh"]
    );
    // --prune removes them, says so, and the index lists no stale file any more.
    let (code, _, err) = export(&two, &out, "nftables", &["--prune"]);
    assert_eq!(code, 0, "{err}");
    for f in ["vz1.iptables.sh", "vz2.iptables.sh", "vz3.iptables.sh"] {
        assert!(
            err.contains(&format!("removed stale {}", out.join(f).display())),
            "{err}"
        );
    }
    assert_eq!(
        names(&out),
        ["index.txt", "vz1.nftables.nft", "vz3.nftables.nft"]
    );
    assert!(index_stale(&out).is_empty());
    // Nothing stale: nothing said.
    let (code, _, err) = export(&two, &out, "nftables", &["--prune"]);
    assert_eq!((code, err.as_str()), (0, ""));
    // --prune is for --out only.
    let o = fwtopo()
        .arg("export")
        .arg(&two)
        .args(["--target", "nftables", "--node", "vz1", "--prune"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn prune_never_touches_a_file_fwtopo_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let two = site(dir.path(), &["vz1", "vz2"]);
    assert_eq!(export(&two, &out, "iptables", &[]).0, 0);
    // Files an index may name but fwtopo did not write (or no longer holds as written): outside
    // DIR, named otherwise than fwtopo names a node's script, a link leading out of DIR, a
    // script rewritten by hand.
    let outside = dir.path().join("outside.sh");
    fs::write(&outside, "keep").unwrap();
    std::os::unix::fs::symlink(&outside, out.join("vz7.iptables.sh")).unwrap();
    fs::write(out.join("vz8.iptables.sh"), "#!/bin/sh\n# mine now\n").unwrap();
    fs::write(out.join("victim.txt"), "keep").unwrap();
    fs::write(out.join("notes.txt"), "keep").unwrap();
    let mut index = fs::read_to_string(out.join("index.txt")).unwrap();
    for line in [
        "../outside.sh\tvz9\tiptables",
        "victim.txt\tvz1\tiptables",
        "vz7.iptables.sh\tvz7\tiptables",
        "vz8.iptables.sh\tvz8\tiptables",
        "# stale\tvz9.iptables.sh\t../vz9\tiptables",
    ] {
        index.push_str(line);
        index.push('\n');
    }
    fs::write(out.join("index.txt"), index).unwrap();
    let one = site(dir.path(), &["vz1"]);
    let (code, _, err) = export(&one, &out, "iptables", &["--prune"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("removed stale"), "{err}");
    assert_eq!(
        names(&out),
        [
            "index.txt",
            "notes.txt",
            "victim.txt",
            "vz1.iptables.sh",
            "vz7.iptables.sh",
            "vz8.iptables.sh"
        ]
    );
    assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
    assert!(
        fs::symlink_metadata(out.join("vz7.iptables.sh"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(out.join("vz8.iptables.sh")).unwrap(),
        "#!/bin/sh\n# mine now\n"
    );
    assert!(
        err.contains("vz7.iptables.sh")
            && err.contains("vz8.iptables.sh")
            && err.contains("left alone"),
        "{err}"
    );
    // What is left alone is no longer claimed by the index.
    assert_eq!(index_files(&out), ["vz1.iptables.sh"]);
    assert!(index_stale(&out).is_empty());
}

#[test]
fn an_export_of_one_node_judges_only_its_files_and_those_of_nodes_gone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let three = site(dir.path(), &["vz1", "vz2", "vz3"]);
    assert_eq!(export(&three, &out, "iptables", &[]).0, 0);
    let (code, _, err) = export(&three, &out, "nftables", &["--node", "vz1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        index_files(&out),
        ["vz1.nftables.nft", "vz2.iptables.sh", "vz3.iptables.sh"],
        "the other nodes' scripts are still the site's"
    );
    assert_eq!(index_stale(&out), ["vz1.iptables.sh"]);
    // A node gone from the topology: its script is stale whichever node is exported.
    let two = site(dir.path(), &["vz1", "vz2"]);
    let (code, _, err) = export(&two, &out, "nftables", &["--node", "vz1", "--prune"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(index_files(&out), ["vz1.nftables.nft", "vz2.iptables.sh"]);
    assert_eq!(
        names(&out),
        ["index.txt", "vz1.nftables.nft", "vz2.iptables.sh"]
    );
}

/// Issue 15.9: `--node` takes several nodes (repeated or comma-separated) and `--role` every node
/// playing a role; only those are exported and judged.
#[test]
fn several_nodes_and_a_role_choose_what_is_exported() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron");
    let (code, stdout, err) = export(
        &site,
        &out,
        "auto",
        &["--node", "pa-mn,pa-db", "--node", "pa-mn"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        index_files(&out),
        ["pa-mn.nftables.nft", "pa-db.nftables.nft"],
        "{stdout}"
    );
    let out2 = dir.path().join("out2");
    let (code, _, err) = export(
        &site,
        &out2,
        "nftables",
        &["--role", "plesk-automation/sn-apache"],
    );
    assert_eq!(code, 0, "{err}");
    let apache = index_files(&out2);
    assert!(!apache.is_empty());
    let rules = fwtopo()
        .args(["rules", "--json"])
        .arg(&site)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&rules.stdout).unwrap();
    let want: Vec<String> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().ends_with("/sn-apache"))
        })
        .map(|n| format!("{}.nftables.nft", n["name"].as_str().unwrap()))
        .collect();
    assert_eq!(apache, want);
    // A role id alone matches it in any product, and the same node twice is one script.
    let out3 = dir.path().join("out3");
    let (code, _, err) = export(
        &site,
        &out3,
        "nftables",
        &[
            "--role",
            "sn-apache",
            "--node",
            want[0].trim_end_matches(".nftables.nft"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(index_files(&out3), want);

    for (flag, value, says) in [
        ("--node", "nope", "no node named"),
        ("--role", "nope/nothing", "no node plays the role"),
    ] {
        let (code, _, err) = export(&site, &dir.path().join("x"), "nftables", &[flag, value]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!dir.path().join("x").join("index.txt").exists());
    }
}

/// Issue 15.9: scripts for cmd.exe written to disk get CRLF by default (`--lf` to opt out);
/// standard output stays LF unless `--crlf`.
#[test]
fn windows_scripts_on_disk_get_crlf_unless_lf() {
    let dir = tempfile::tempdir().unwrap();
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mailstore-spe.ron");
    let out = dir.path().join("crlf");
    let (code, _, err) = export(&site, &out, "auto", &[]);
    assert_eq!(code, 0, "{err}");
    let mut windows = 0;
    for f in index_files(&out) {
        let text = fs::read_to_string(out.join(&f)).unwrap();
        let lines = text.matches('\n').count();
        if f.ends_with(".cmd") || f.ends_with(".ps1") {
            windows += 1;
            assert_eq!(text.matches("\r\n").count(), lines, "{f}: every line CRLF");
        } else {
            assert!(!text.contains('\r'), "{f}: Linux scripts stay LF");
        }
    }
    assert!(windows > 0);
    let out = dir.path().join("lf");
    let (code, _, err) = export(&site, &out, "auto", &["--lf"]);
    assert_eq!(code, 0, "{err}");
    for f in index_files(&out) {
        assert!(
            !fs::read_to_string(out.join(&f)).unwrap().contains('\r'),
            "{f}"
        );
    }
    let node = fwtopo()
        .arg("export")
        .arg(&site)
        .args(["--target", "netsh", "--node", "ms-mgmt"])
        .output()
        .unwrap();
    assert!(
        node.status.success(),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );
    assert!(!node.stdout.contains(&b'\r'));
    let both = fwtopo()
        .arg("export")
        .arg(&site)
        .args(["--target", "netsh", "--crlf", "--lf", "--out"])
        .arg(dir.path().join("both"))
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}

/// The probe scripts go beside the firewall scripts they check: an export of one kind judges only
/// its own kind's scripts (stale or not) and carries the other's in the index.
#[test]
fn probe_and_firewall_scripts_share_a_directory_without_going_stale() {
    let dir = tempfile::tempdir().unwrap();
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron");
    let out = dir.path().join("out");
    let (code, _, err) = export(&site, &out, "auto", &[]);
    assert_eq!(code, 0, "{err}");
    let firewalls = index_files(&out);
    let (code, stdout, err) = export(&site, &out, "probe", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("stale"), "{err}");
    let probes: Vec<String> = stdout
        .lines()
        .filter_map(|l| Path::new(l).file_name())
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    assert!(
        probes.iter().any(|f| f.ends_with(".probe.ps1")),
        "{probes:?}"
    );
    assert!(
        probes.iter().any(|f| f.ends_with(".probe.sh")),
        "{probes:?}"
    );
    for f in &probes {
        let text = fs::read_to_string(out.join(f)).unwrap();
        let crlf = text.matches("\r\n").count() == text.matches('\n').count();
        assert_eq!(
            crlf,
            f.ends_with(".ps1"),
            "{f}: CRLF exactly for PowerShell"
        );
    }
    let mut listed = index_files(&out);
    listed.sort();
    let mut both: Vec<String> = firewalls.iter().chain(&probes).cloned().collect();
    both.sort();
    assert_eq!(listed, both);
    assert!(index_stale(&out).is_empty());
    // And back: a firewall export keeps the probe scripts listed, none stale.
    let (code, _, err) = export(&site, &out, "auto", &["--prune"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("stale"), "{err}");
    let mut listed = index_files(&out);
    listed.sort();
    assert_eq!(listed, both);
    assert!(probes.iter().all(|f| out.join(f).exists()));
}
