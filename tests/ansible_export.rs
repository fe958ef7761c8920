//! `fwtopo export --target ansible --out DIR` on every example: the inventory names every node
//! with its address, script and firewall, in valid Ansible groups; the playbook puts the
//! management nodes first; and, where Ansible is installed, `ansible-inventory` reads the inventory
//! back as written, `ansible-playbook --syntax-check` accepts the playbook with its task files and
//! `ansible-lint` (production profile) finds nothing. Without Ansible those steps print
//! `SKIPPED (...)`; with `FWTOPO_REQUIRE_SYSTEM_TESTS=1` that is a failure.

mod support;

use fwtopo::catalog::Catalog;
use fwtopo::export::ansible;
use fwtopo::topology::Topology;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::cli::{fwtopo, stderr};

/// Exports `file` for Ansible into `dir`; panics with fwtopo's message when it fails.
fn export(file: &Path, dir: &Path) {
    let out = fwtopo()
        .args(["export", "--target", "ansible", "--out"])
        .arg(dir)
        .arg(file)
        .output()
        .expect("run fwtopo");
    assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
}

fn example_path(stem: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{stem}.ron"))
}

/// `ansible-inventory --list` of the exported inventory, as JSON.
fn inventory_json(dir: &Path) -> Value {
    let out = Command::new("ansible-inventory")
        .current_dir(dir)
        .args(["-i", ansible::INVENTORY, "--list"])
        .output()
        .expect("run ansible-inventory");
    assert!(out.status.success(), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).expect("ansible-inventory prints JSON")
}

fn stderr_of(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn group_hosts(inv: &Value, group: &str) -> Vec<String> {
    inv[group]["hosts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The address `ansible_host` must carry: the first IPv4, else the first IPv6.
fn expected_address(t: &Topology, node: &str) -> Option<String> {
    let n = t.node(node).expect("node");
    n.addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(n.addresses.first())
        .map(|a| a.to_string())
}

/// The lines of the inventory's `fwtopo_management` group.
fn management_group(inv: &str) -> String {
    inv.split("    fwtopo_management:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n    fwtopo_").next())
        .expect("a fwtopo_management group")
        .to_string()
}

fn valid_group(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The inventory's own text, without Ansible: every group key valid, every node listed with its
/// address and script, and every file the playbook copies present.
#[test]
fn every_example_exports_an_inventory_naming_every_node() {
    let cat = Catalog::embedded().expect("catalog");
    for (stem, t) in support::examples() {
        let dir = tempfile::tempdir().expect("temp dir");
        export(&example_path(&stem), dir.path());
        let inv = std::fs::read_to_string(dir.path().join(ansible::INVENTORY)).expect("inventory");
        assert!(inv.is_ascii(), "{stem}");
        for line in inv.lines() {
            let t = line.trim_start();
            if let Some(key) = t.strip_suffix(':').filter(|k| k.starts_with("fwtopo")) {
                assert!(valid_group(key), "{stem}: group {key}");
            }
        }
        let site = fwtopo::topology::site_catalog(&cat, &t);
        let plan = fwtopo::engine::derive(&site, &t);
        for n in &t.nodes {
            let target = ansible::script_target(n);
            let script = fwtopo::export::file_name(&n.name, target);
            assert!(dir.path().join(&script).is_file(), "{stem}: {script}");
            let probe = fwtopo::export::node_file_name(n, fwtopo::target::Target::Probe);
            assert!(dir.path().join(&probe).is_file(), "{stem}: {probe}");
            assert!(
                inv.contains(&format!("fwtopo_probe: \"{probe}\"")),
                "{stem}: {probe}"
            );
            assert!(
                inv.contains(&format!("fwtopo_script: \"{script}\"")),
                "{stem}: {script}"
            );
            if let Some(a) = expected_address(&t, &n.name) {
                assert!(
                    inv.contains(&format!(
                        "\"{}\":\n              ansible_host: \"{a}\"",
                        n.name
                    )),
                    "{stem}: {} at {a}",
                    n.name
                );
            }
            let np = plan.node(&n.name).expect("planned");
            assert_eq!(
                ansible::is_management(&site, np),
                management_group(&inv).contains(&format!("\"{}\": {{}}", n.name)),
                "{stem}: {} in fwtopo_management",
                n.name
            );
        }
        for f in [
            ansible::PLAYBOOK,
            ansible::LINUX_TASKS,
            ansible::WINDOWS_TASKS,
            ansible::HELPER,
        ] {
            assert!(dir.path().join(f).is_file(), "{stem}: {f}");
        }
    }
}

/// PA's Management Node serves the admin path (panel, Public API): it alone is rolled out first.
#[test]
fn the_pa_management_node_is_rolled_out_first_and_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    export(&example_path("plesk-automation"), dir.path());
    let inv = std::fs::read_to_string(dir.path().join(ansible::INVENTORY)).expect("inventory");
    assert_eq!(
        management_group(&inv),
        "      hosts:\n        \"pa-mn\": {}",
        "{inv}"
    );
    let site = std::fs::read_to_string(dir.path().join(ansible::PLAYBOOK)).expect("playbook");
    let first = site
        .find("hosts: \"fwtopo_management\"")
        .expect("management play");
    let rest = site
        .find("hosts: \"fwtopo:!fwtopo_management\"")
        .expect("other play");
    assert!(first < rest, "{site}");
    let management_play = &site[first..rest];
    assert!(
        management_play.contains("serial: 1") && management_play.contains("max_fail_percentage: 0"),
        "{management_play}"
    );
}

#[test]
fn ansible_without_out_is_refused_with_exit_2() {
    let out = fwtopo()
        .args(["export", "--target", "ansible"])
        .arg(example_path("plesk-automation"))
        .output()
        .expect("run fwtopo");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--out DIR"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

/// Ansible itself reads what we wrote: the inventory as meant, the playbook and its task files
/// through `--syntax-check` (imports are static, so the task files' modules are resolved too,
/// `ansible.windows` included) and `ansible-lint`.
#[test]
fn ansible_accepts_every_example() {
    if !support::require("ansible-playbook")
        || !support::require("ansible-inventory")
        || !support::require("ansible-lint")
    {
        return;
    }
    for (stem, t) in support::examples() {
        let dir = tempfile::tempdir().expect("temp dir");
        export(&example_path(&stem), dir.path());
        let inv = inventory_json(dir.path());
        let linux = group_hosts(&inv, "fwtopo_linux");
        let windows = group_hosts(&inv, "fwtopo_windows");
        assert_eq!(linux.len() + windows.len(), t.nodes.len(), "{stem}: {inv}");
        for n in &t.nodes {
            let vars = &inv["_meta"]["hostvars"][&n.name];
            assert_eq!(
                vars["ansible_host"].as_str().map(String::from),
                expected_address(&t, &n.name),
                "{stem}: {}",
                n.name
            );
            let target = ansible::script_target(n);
            assert_eq!(vars["fwtopo_firewall"], target.as_str(), "{stem}");
            if !n.note.is_empty() {
                assert_eq!(
                    vars["fwtopo_note"]["__ansible_unsafe"],
                    n.note.as_str(),
                    "{stem}"
                );
            }
        }
        let out = Command::new("ansible-playbook")
            .current_dir(dir.path())
            .args([
                "-i",
                ansible::INVENTORY,
                "--syntax-check",
                ansible::PLAYBOOK,
            ])
            .output()
            .expect("run ansible-playbook");
        assert!(out.status.success(), "{stem}: {}", stderr_of(&out));
        let out = Command::new("ansible-lint")
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args([
                "-q",
                "--offline",
                "--profile",
                "production",
                ansible::PLAYBOOK,
                ansible::LINUX_TASKS,
                ansible::WINDOWS_TASKS,
            ])
            .output()
            .expect("run ansible-lint");
        assert!(
            out.status.success(),
            "{stem}: ansible-lint: {}",
            stderr_of(&out)
        );
    }
}
