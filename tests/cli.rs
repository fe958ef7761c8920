//! The command line, run as the real binary: every subcommand, good and bad input.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").unwrap();
    // Never pick up a developer's own catalog overrides.
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
}

fn stdout(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(c: &mut Command) -> Value {
    serde_json::from_str(&stdout(c)).unwrap()
}

#[test]
fn plain_fwtopo_prints_help_or_opens_the_designer_only_on_a_terminal() {
    // Without a terminal the designer cannot open; the binary must not hang or panic.
    let out = fwtopo()
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(all.contains("Usage") || all.contains("terminal"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
}

#[test]
fn catalog_lists_every_product() {
    let text = stdout(fwtopo().arg("catalog"));
    for p in [
        "plesk-automation",
        "mailstore-spe",
        "communigate-pro",
        "cpanel-whm",
        "virtuozzo-hybrid-server",
        "host",
        "common-services",
    ] {
        assert!(text.contains(p), "{p} missing from:\n{text}");
    }
}

#[test]
fn catalog_json_has_the_interface_fields_and_one_entry_per_protocol() {
    let v = json(fwtopo().args(["catalog", "--json"]));
    let products = v["products"].as_array().unwrap();
    assert!(products.len() >= 6);
    let pa = products
        .iter()
        .find(|p| p["id"] == "plesk-automation")
        .unwrap();
    let flows: Vec<&Value> = pa["roles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["flows"].as_array().unwrap().iter())
        .collect();
    assert!(
        flows.iter().any(|f| f["protocol"] == "tcp"
            && f["ports"]
                .as_str()
                .unwrap()
                .split(',')
                .any(|p| p == "8352-8364")),
        "PA agent range missing"
    );
    for f in &flows {
        assert!(f["protocol"] == "tcp" || f["protocol"] == "udp");
        for key in ["ports", "from", "to", "service", "tags"] {
            assert!(!f[key].is_null(), "{key} missing in {f}");
        }
    }
    // A flow on tcp and udp shows once per protocol: host DNS out.
    let host = products.iter().find(|p| p["id"] == "host").unwrap();
    let dns: Vec<&Value> = host["roles"][0]["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ports"] == "53")
        .collect();
    assert_eq!(dns.len(), 2, "{dns:?}");
}

#[test]
fn catalog_of_one_product_and_an_unknown_one() {
    let text = stdout(fwtopo().args(["catalog", "mailstore-spe"]));
    assert!(text.contains("8472"), "{text}");
    let v = json(fwtopo().args(["catalog", "mailstore-spe", "--json"]));
    assert_eq!(v["products"].as_array().unwrap().len(), 1);
    let out = fwtopo()
        .args(["catalog", "no-such-product"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown product 'no-such-product'"));
}

/// The common-services product as `fwtopo catalog` lists it: every role, flow, port and source
/// (issue 13, item 2). A snapshot, so a change to the product is reviewed line by line.
#[test]
fn catalog_lists_the_common_services_product() {
    let text = stdout(fwtopo().args(["catalog", "common-services"]));
    insta::assert_snapshot!("catalog_common_services", text);
}

#[test]
fn rules_json_restricts_service_node_agent_ports_to_the_management_node() {
    let v = json(fwtopo().args(["rules", "examples/plesk-automation.ron", "--json"]));
    let nodes = v["nodes"].as_array().unwrap();
    let mn = nodes
        .iter()
        .find(|n| {
            n["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "plesk-automation/mn")
        })
        .unwrap();
    let mn_addrs: Vec<String> = mn["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let mut checked = 0;
    for n in nodes.iter().filter(|n| n["name"] != mn["name"]) {
        for r in n["inbound"].as_array().unwrap() {
            let ports: Vec<&str> = r["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            if r["protocol"] == "tcp" && ports.contains(&"8352-8364") {
                for peer in r["peers"].as_array().unwrap() {
                    let peer = peer.as_str().unwrap();
                    let host = peer.split('/').next().unwrap();
                    assert!(
                        mn_addrs.iter().any(|a| a == host),
                        "{} accepts 8352-8364 from {peer}",
                        n["name"]
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "only {checked} service-node rules found");
    assert!(v["findings"].is_array());
}

#[test]
fn rules_text_and_one_node() {
    let text = stdout(fwtopo().args(["rules", "examples/plesk-automation.ron", "--node", "pa-mn"]));
    assert!(text.starts_with("pa-mn ("), "{text}");
    assert!(text.contains("inbound") && text.contains("outbound"));
    let v = json(fwtopo().args([
        "rules",
        "examples/plesk-automation.ron",
        "--node",
        "pa-mn",
        "--json",
    ]));
    assert_eq!(v["nodes"].as_array().unwrap().len(), 1);
    let out = fwtopo()
        .args(["rules", "examples/plesk-automation.ron", "--node", "nobody"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no node named 'nobody'"));
}

#[test]
fn check_passes_every_example() {
    for entry in fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        let out = fwtopo().arg("check").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 errors"));
    }
}

#[test]
fn check_exits_1_on_findings_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-admin.ron");
    // No admin zone: no node can be managed, an error finding.
    fs::write(
        &path,
        r#"(version: 1, nodes: [(name: "web", os: "almalinux", addresses: ["203.0.113.5"],
            roles: [(product: "plesk-automation", role: "sn-database")])])"#,
    )
    .unwrap();
    let out = fwtopo().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FW007"), "{text}");
}

#[test]
fn bad_files_get_positions_and_exit_2_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "syntax.ron",
            "(version: 1,\n nodes: [ (name: \"a\" os: \"debian\") ])",
            &["syntax.ron:2:"],
        ),
        (
            "address.ron",
            r#"(version: 1, nodes: [(name: "a", os: "debian", addresses: ["203.0.113.300"])])"#,
            &["address.ron: ", "addresses[0]"],
        ),
        (
            "role.ron",
            r#"(version: 1, nodes: [(name: "a", os: "debian", roles: [(product: "cpanel-whm", role: "nope")])])"#,
            &["roles[0].role", "unknown role 'nope'"],
        ),
        (
            "dup.ron",
            r#"(version: 1, nodes: [(name: "a", os: "debian"), (name: "a", os: "debian")])"#,
            &["dup.ron", "a"],
        ),
        (
            "port.ron",
            r#"(version: 1, nodes: [(name: "a", os: "almalinux", roles: [(product: "virtuozzo-hybrid-server", role: "cs", params: {"cs_port": "70000"})])])"#,
            &["params.cs_port"],
        ),
        ("version.ron", r#"(version: 99)"#, &["version 99"]),
        ("binary.ron", "\u{0}\u{1}\u{2}", &["binary.ron"]),
        ("empty.ron", "", &["empty.ron"]),
    ];
    for (name, text, needles) in cases {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        for cmd in ["check", "rules"] {
            let out = fwtopo().arg(cmd).arg(&path).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {name}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            for n in *needles {
                assert!(err.contains(n), "{cmd} {name}: '{n}' not in {err}");
            }
        }
    }
    let out = fwtopo()
        .args(["rules", "/nonexistent/x.ron"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.ron"));
}

#[test]
fn new_writes_a_starter_that_checks_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    for product in [
        "plesk-automation",
        "mailstore-spe",
        "communigate-pro",
        "cpanel-whm",
        "virtuozzo-hybrid-server",
    ] {
        let path = dir.path().join(format!("{product}.ron"));
        fwtopo()
            .args(["new", "--product", product])
            .arg(&path)
            .assert()
            .success();
        let out = fwtopo().arg("rules").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{product}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let again = fwtopo()
            .args(["new", "--product", product])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    }
    let text = stdout(fwtopo().arg("new"));
    assert!(text.contains("version: 1"), "{text}");
    let out = fwtopo()
        .args(["new", "--product", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn export_needs_a_single_script_for_stdout_and_writes_files_with_out() {
    let out = fwtopo()
        .args([
            "export",
            "examples/plesk-automation.ron",
            "--target",
            "nftables",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out DIR"));
    let dir = tempfile::tempdir().unwrap();
    let listed = stdout(
        fwtopo()
            .args([
                "export",
                "examples/plesk-automation.ron",
                "--target",
                "auto",
                "--out",
            ])
            .arg(dir.path()),
    );
    let index = fs::read_to_string(dir.path().join("index.txt")).unwrap();
    for line in listed.lines() {
        assert!(std::path::Path::new(line).exists(), "{line}");
    }
    assert!(index.contains("pa-mn.nftables.nft"), "{index}");
    assert!(
        index.contains(".netsh.cmd") && index.contains(".powershell.ps1"),
        "{index}"
    );
    let out = fwtopo()
        .args(["export", "examples/plesk-automation.ron", "--target", "pf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown firewall 'pf'"));
}

#[test]
fn completions_are_generated() {
    let text = stdout(fwtopo().args(["completions", "bash"]));
    assert!(text.contains("fwtopo"));
}

/// A Linux node `web` with a role but no admin zone (FW007, an error), and a Windows node `ok`
/// whose management is allowed from the admin zone when there is one.
fn site_without_admin(dir: &std::path::Path, admin: bool) -> std::path::PathBuf {
    let path = dir.join(if admin { "site.ron" } else { "no-admin.ron" });
    let zones = if admin {
        r#"zones: [(name: "admin", cidrs: ["198.51.100.0/24"])],"#
    } else {
        ""
    };
    fs::write(
        &path,
        format!(
            r#"(version: 1, {zones} nodes: [
                (name: "web", os: "almalinux", addresses: ["203.0.113.5"],
                 roles: [(product: "plesk-automation", role: "sn-database")]),
                (name: "win", os: "windows-server-2022", addresses: ["203.0.113.6"], firewall: Some("nftables")),
            ])"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn export_refuses_a_node_with_errors_and_writes_nothing_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = site_without_admin(dir.path(), false);
    // One node to standard output: no script, the findings, and how to override.
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "nftables", "--node", "web"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "a script was printed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FW007") && err.contains("[web]") && err.contains("--force"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    // Every node under --out: decided before anything is written, so not even the directory.
    for existing in [false, true] {
        let target = dir.path().join(format!("exports-{existing}"));
        if existing {
            fs::create_dir(&target).unwrap();
        }
        let out = fwtopo()
            .arg("export")
            .arg(&path)
            .args(["--target", "auto", "--out"])
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("FW007") && err.contains("FW016"), "{err}");
        assert_eq!(target.exists(), existing);
        if existing {
            assert_eq!(fs::read_dir(&target).unwrap().count(), 0, "files written");
        }
    }
    // --force exports anyway, and still warns.
    let target = dir.path().join("forced");
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "auto", "--force", "--out"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FW007") && err.contains("warning") && err.contains("--force"),
        "{err}"
    );
    assert!(target.join("web.nftables.nft").exists());
    assert!(target.join("index.txt").exists());
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "nftables", "--node", "web", "--force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("table inet fwtopo"));
}

#[test]
fn export_of_a_sound_node_goes_ahead_when_another_node_has_errors() {
    let dir = tempfile::tempdir().unwrap();
    // With the admin zone, web is sound; win chose a Linux firewall (FW016).
    let path = site_without_admin(dir.path(), true);
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "nftables", "--node", "web"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nodes not exported have errors"), "{err}");
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "auto", "--node", "win"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FW016 firewall-os-mismatch [win]") && !err.contains("[web]"),
        "{err}"
    );
    let out = fwtopo().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FW016"));
}

#[test]
fn every_example_exports_every_node_without_force() {
    for entry in fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        let dir = tempfile::tempdir().unwrap();
        let out = fwtopo()
            .arg("export")
            .arg(&path)
            .args(["--target", "auto", "--out"])
            .arg(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {err}", path.display());
        assert!(err.is_empty(), "{}: {err}", path.display());
        assert!(dir.path().join("index.txt").exists());
    }
}

#[test]
fn a_zone_network_no_peer_comes_from_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loopback-admin.ron");
    fs::write(
        &path,
        r#"(version: 1, zones: [(name: "admin", cidrs: ["198.51.100.0/24", "2001:db8::/32", "127.0.0.1"])],
            nodes: [(name: "win", os: "windows-server-2022", addresses: ["203.0.113.6"])])"#,
    )
    .unwrap();
    for cmd in ["check", "export"] {
        let mut c = fwtopo();
        c.arg(cmd).arg(&path);
        if cmd == "export" {
            c.args(["--target", "netsh", "--node", "win"]);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(r#"zones[0] "admin": cidrs[2]: '127.0.0.1' is loopback"#),
            "{cmd}: {err}"
        );
    }
}

/// Issue 15.2: a new topology's admin zone is a placeholder; `check` says so as an error and
/// `export` refuses it without --force, so nobody exports SSH "from a documentation range".
#[test]
fn a_starters_placeholder_admin_zone_blocks_export_until_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    fwtopo().arg("new").arg(&path).assert().success();
    let check = fwtopo().arg("check").arg(&path).output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    let text = String::from_utf8_lossy(&check.stdout).to_string()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(text.contains("FW026 placeholder-zone"), "{text}");
    let export = || {
        let mut c = fwtopo();
        c.args(["export", "--target", "nftables", "--node", "server-1"])
            .arg(&path);
        c
    };
    let refused = export().output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("placeholder"));
    export().arg("--force").assert().success();

    // Replaced by hand in the file: the network changes, the note stays; export goes ahead.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("198.51.100.0/28"), "{text}");
    std::fs::write(&path, text.replace("198.51.100.0/28", "192.0.2.64/27")).unwrap();
    export().assert().success();
}

/// Issue 15.4: FW010 says "see their notes"; `catalog PRODUCT --notes` prints every flow's note,
/// switch and source, and every parameter's help, in full (checked against the JSON catalog).
#[test]
fn catalog_notes_print_every_note_and_parameter_help_in_full() {
    let json: serde_json::Value =
        serde_json::from_str(&stdout(fwtopo().args(["catalog", "--json"]))).unwrap();
    for p in json["products"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let plain = stdout(fwtopo().args(["catalog", id]));
        assert!(
            plain.contains("--notes"),
            "{id}: the plain listing says how to see notes"
        );
        let text = stdout(fwtopo().args(["catalog", id, "--notes"]));
        // Wrapping only changes where lines break: compare word sequences.
        let words: Vec<&str> = text.split_whitespace().collect();
        let flat = words.join(" ");
        let mut notes = 0;
        for role in p["roles"].as_array().unwrap() {
            for prm in role["parameters"].as_array().unwrap() {
                let d = prm["description"].as_str().unwrap_or("");
                let d: Vec<&str> = d.split_whitespace().collect();
                assert!(flat.contains(&d.join(" ")), "{id}: help of {prm}");
            }
            for f in role["flows"].as_array().unwrap() {
                let note: Vec<&str> = f["note"].as_str().unwrap().split_whitespace().collect();
                if !note.is_empty() {
                    notes += 1;
                    assert!(flat.contains(&note.join(" ")), "{id}: note of {}", f["id"]);
                }
                let section = f["source"]["section"].as_str().unwrap();
                assert!(flat.contains(section), "{id}: section of {}", f["id"]);
            }
        }
        assert!(notes > 0, "{id} has notes");
    }
    let bad = fwtopo().args(["catalog", "--notes"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Every file under a directory, by name, with its bytes.
fn files_in(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn custom_roles_check_rules_and_export_naming_the_topology_as_their_source() {
    let out = fwtopo()
        .args(["check", "examples/real-site.ron"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("4 nodes, 0 errors"), "{text}");

    let report = json(fwtopo().args(["rules", "examples/real-site.ron", "--json"]));
    assert_eq!(
        report["custom_source"],
        "site/...: the custom section of examples/real-site.ron"
    );
    let backup = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "backup")
        .unwrap();
    let ssh = backup["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["provenance"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == "site/backup/backup-ssh")
        })
        .unwrap_or_else(|| panic!("no custom rule on backup: {backup}"));
    // Every other node of the site sends its backups there.
    for peer in ["203.0.113.10", "203.0.113.20", "203.0.113.30"] {
        assert!(ssh["peers"].to_string().contains(peer), "{ssh}");
    }

    let text = stdout(fwtopo().args(["rules", "examples/real-site.ron", "--node", "lb"]));
    assert!(text.contains("Zabbix agent (passive checks)"), "{text}");
    assert!(
        text.contains("custom flows (site/...), from the custom section of examples/real-site.ron"),
        "{text}"
    );

    let script = stdout(fwtopo().args([
        "export",
        "examples/real-site.ron",
        "--node",
        "cpanel",
        "--target",
        "nftables",
    ]));
    assert!(
        script.contains("site/cpanel-whm/server/web-backend"),
        "{script}"
    );
    assert!(
        script.contains("custom flows (site/...): from the custom section of the topology file"),
        "{script}"
    );
}

#[test]
fn a_saved_site_with_custom_roles_re_exports_identically_without_a_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("home");
    fs::create_dir(&empty).unwrap();
    let export = |file: &std::path::Path, out: &std::path::Path| {
        let mut c = Command::cargo_bin("fwtopo").unwrap();
        c.env_remove("FWTOPO_CONFIG_DIR")
            .env("HOME", &empty)
            .env("XDG_CONFIG_HOME", &empty)
            .arg("export")
            .arg(file)
            .args(["--target", "auto", "--out"])
            .arg(out);
        stdout(&mut c);
        files_in(out)
    };
    let first = export(
        std::path::Path::new("examples/real-site.ron"),
        &dir.path().join("a"),
    );
    // Saved as the designer saves it: the custom section is written back.
    let t = fwtopo::files::load_topology(std::path::Path::new("examples/real-site.ron")).unwrap();
    let saved = dir.path().join("saved.ron");
    fwtopo::files::save_topology(&saved, &t).unwrap();
    assert!(fs::read_to_string(&saved).unwrap().contains("EveryNode"));
    let again = export(&saved, &dir.path().join("b"));
    assert_eq!(first.len(), 5, "{:?}", first.keys());
    assert_eq!(first, again);
}

#[test]
fn errors_in_custom_flows_name_the_flow_and_the_field_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let site = fs::read_to_string("examples/real-site.ron").unwrap();
    // Where the misspelt variant is: line and column (1-based) of `Port(10050)` in the file.
    let prot_at = {
        let at = site.find("Port(10050)").unwrap();
        let line = site[..at].matches('\n').count() + 1;
        let col = at - site[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        format!("bad.ron:{line}:{col}: ")
    };
    for (from, to, needles) in [
        (
            "to: [Role(\"backup\")]",
            "to: [Role(\"backups\")]",
            &["custom.flows[2] \"backup-ssh\": to[0]: unknown role 'backups'"][..],
        ),
        (
            "ports: [Port(10050)]",
            "ports: [Port(0)]",
            &["custom.flows[0] \"zabbix-agent\": ports[0]: port 0"][..],
        ),
        (
            "Role(\"cpanel-whm/server\")",
            "Role(\"cpanel-whm/web\")",
            &["custom.flows[4] \"web-backend\": to[0]: 'cpanel-whm/web': unknown role 'web'"][..],
        ),
        (
            "(id: \"backup\", name",
            "(id: \"monitoring\", name",
            &["custom.roles[1] \"monitoring\": id: duplicate role 'monitoring'"][..],
        ),
        (
            "service: \"Zabbix web interface\"",
            "service: \"Zabbix\\u{1b}]0;x\\u{7}\"",
            &["custom.flows[1] \"zabbix-web\": service:"][..],
        ),
        ("Port(10050)", "Prot(10050)", &[prot_at.as_str()][..]),
    ] {
        assert!(site.contains(from), "{from}");
        let path = dir.path().join("bad.ron");
        fs::write(&path, site.replacen(from, to, 1)).unwrap();
        for cmd in [&["check"][..], &["rules"], &["export", "--target", "auto"]] {
            let out = fwtopo().args(cmd).arg(&path).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd:?} {to}: {err}");
            assert!(
                !err.contains("panicked") && !err.contains('\u{1b}'),
                "{err}"
            );
            for n in needles {
                assert!(err.contains(n), "{cmd:?}: '{n}' not in {err}");
            }
        }
    }
}
