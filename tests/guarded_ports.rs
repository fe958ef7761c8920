//! Issue 11, item 3: no silent widening. A flow open to any address, or moved by a port
//! parameter, that lands on a management port (SSH, RDP, WinRM) or a trusted-only port lets in more
//! than the port's peers; an admin zone that holds every address does the same to management
//! access. Each is an error finding naming the node, the port and the flow or parameter, so
//! `fwtopo export` refuses without `--force` and exports with it.

use assert_cmd::Command;
use fwtopo::catalog::Catalog;
use fwtopo::engine::{Finding, Plan, Severity, derive};
use fwtopo::topology::{check, from_ron};
use std::fs;
use std::path::{Path, PathBuf};

fn plan(text: &str) -> Plan {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = from_ron(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let problems = check(&t, &catalog);
    assert!(problems.is_empty(), "{problems:?}");
    derive(&catalog, &t)
}

/// The findings of one stable code (`FW018`).
fn of<'p>(plan: &'p Plan, code: &str) -> Vec<&'p Finding> {
    plan.findings
        .iter()
        .filter(|f| f.code.id() == code)
        .collect()
}

/// A MailStore SPE CAS on Windows with its MGMT, and the CAS's port parameters.
fn mailstore(params: &str) -> String {
    format!(
        r#"(version: 1,
            zones: [(name: "admin", cidrs: ["198.51.100.0/28"])],
            nodes: [
                (name: "mgmt", os: "windows-server-2022", addresses: ["203.0.113.10"],
                 roles: [(product: "mailstore-spe", role: "mgmt")]),
                (name: "cas", os: "windows-server-2022", addresses: ["203.0.113.11"],
                 roles: [(product: "mailstore-spe", role: "cas", params: {{ {params} }})]),
            ])"#
    )
}

/// A cPanel server with its switches and FTP passive range.
fn cpanel(params: &str, admin: &str) -> String {
    format!(
        r#"(version: 1,
            zones: [(name: "admin", cidrs: [{admin}])],
            nodes: [
                (name: "web", os: "almalinux", addresses: ["203.0.113.20", "2001:db8::20"],
                 roles: [(product: "cpanel-whm", role: "server", params: {{ {params} }})]),
            ])"#
    )
}

#[test]
fn port_parameters_moved_onto_rdp_and_winrm_are_errors_naming_node_port_and_parameter() {
    assert!(of(&plan(&mailstore("")), "FW018").is_empty());
    let p = plan(&mailstore(
        r#""cas_https_port": "3389", "cas_imaps_port": "5985""#,
    ));
    let f = of(&p, "FW018");
    assert_eq!(f.len(), 2, "{f:#?}");
    for f in &f {
        assert_eq!(
            (f.severity, f.node.as_deref()),
            (Severity::Error, Some("cas"))
        );
        assert!(f.message.contains("any address"), "{}", f.message);
    }
    let all: Vec<&str> = f.iter().map(|f| &*f.message).collect();
    assert!(
        all.iter().any(|m| m.starts_with("tcp/3389 ")
            && m.contains("Remote Desktop")
            && m.contains("mailstore-spe/cas/cas-https-in")
            && m.contains("cas_https_port = 3389")),
        "{all:#?}"
    );
    // No management flow opens 5985 here, but Windows listens there: still the node's to guard.
    assert!(
        all.iter().any(|m| m.starts_with("tcp/5985 ")
            && m.contains("WinRM over HTTP")
            && m.contains("cas_imaps_port = 5985")),
        "{all:#?}"
    );
}

#[test]
fn a_parameter_moving_a_restricted_flow_onto_rdp_widens_it_to_that_flow_s_peers() {
    let p = plan(&mailstore(r#""cas_internal_port": "3389""#));
    let f = of(&p, "FW018");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity, Severity::Error);
    assert!(
        f[0].message.starts_with("tcp/3389 ")
            && f[0].message.contains("peers beyond")
            && f[0].message.contains("cas_internal_port = 3389"),
        "{}",
        f[0].message
    );
}

#[test]
fn an_ftp_passive_range_over_ssh_is_an_error_unless_ssh_is_public_anyway() {
    let admin = r#""198.51.100.0/28""#;
    let p = plan(&cpanel(
        r#""ssh_public": "off", "ftp_passive": "20-30""#,
        admin,
    ));
    let f = of(&p, "FW018");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        (f[0].severity, f[0].node.as_deref()),
        (Severity::Error, Some("web"))
    );
    assert!(
        f[0].message.starts_with("tcp/22 ")
            && f[0].message.contains("cpanel-whm/server/ftp-passive")
            && f[0].message.contains("ftp_passive = 20-30"),
        "{}",
        f[0].message
    );
    // Reported once, as the error: not a second time as a voided restriction.
    assert!(
        of(&p, "FW017")
            .iter()
            .all(|f| !f.message.starts_with("tcp/22 ")),
        "{:#?}",
        p.findings
    );
    // With ssh_public on, SSH is meant for everyone: the range adds no one.
    let p = plan(&cpanel(
        r#""ssh_public": "on", "ftp_passive": "20-30""#,
        admin,
    ));
    assert!(of(&p, "FW018").is_empty(), "{p:#?}");
    let p = plan(&cpanel(r#""ftp_passive": "50000-50100""#, admin));
    assert!(of(&p, "FW018").is_empty());
}

#[test]
fn a_trusted_only_port_under_a_parameter_range_names_the_flow_and_the_parameter() {
    let text = r#"(version: 1,
        zones: [(name: "admin", cidrs: ["198.51.100.0/28"]), (name: "trusted", cidrs: ["198.51.100.64/26"])],
        nodes: [(name: "cgp", os: "almalinux", addresses: ["203.0.113.30"],
                 roles: [(product: "communigate-pro", role: "server", params: {"ftp": "on", "ftp_passive": "380-400"})])])"#;
    let p = plan(text);
    let f = of(&p, "FW008");
    assert!(
        f.iter().any(|f| f.severity == Severity::Error
            && f.message.starts_with("tcp/389 ")
            && f.message
                .contains("communigate-pro/server/ftp-data-passive")
            && f.message.contains("ftp_passive = 380-400")),
        "{f:#?}"
    );
}

#[test]
fn an_admin_zone_holding_every_address_is_an_error() {
    for admin in [
        r#""0.0.0.0/0""#,
        r#""::/0""#,
        r#""0.0.0.0/1", "128.0.0.0/1""#,
    ] {
        let p = plan(&cpanel(r#""ssh_public": "off""#, admin));
        let f = of(&p, "FW015");
        assert_eq!(f.len(), 1, "{admin}: {f:#?}");
        assert_eq!(f[0].severity, Severity::Error, "{admin}: {}", f[0].message);
        assert!(
            f[0].message
                .starts_with("zone 'admin' covers every address")
                && f[0].message.contains("host/ssh"),
            "{}",
            f[0].message
        );
    }
    let p = plan(&cpanel(r#""ssh_public": "off""#, r#""198.51.100.0/28""#));
    assert!(of(&p, "FW015").is_empty());
}

// ------------------------------------------------------------------------------------------------
// The command line

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").expect("the binary is built");
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("a temporary file");
    path
}

/// `export --node` refuses with exit 1, names `code` and the node on standard error and prints
/// no script; with `--force` it prints the script, which holds every line of `want` (in one line).
fn refused_then_forced(path: &Path, target: &str, node: &str, code: &str, want: &[&str]) {
    let out = fwtopo()
        .arg("export")
        .arg(path)
        .args(["--target", target, "--node", node])
        .output()
        .expect("fwtopo runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "a script was printed");
    assert!(err.contains(code) && err.contains("--force"), "{err}");
    let out = fwtopo()
        .arg("export")
        .arg(path)
        .args(["--target", target, "--node", node, "--force"])
        .output()
        .expect("fwtopo runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(
        script.lines().any(|l| want.iter().all(|w| l.contains(w))),
        "{want:?} not in one line of\n{script}"
    );
}

#[test]
fn export_refuses_rdp_and_winrm_moved_to_any_unless_forced() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = write(
        dir.path(),
        "mailstore.ron",
        &mailstore(r#""cas_https_port": "3389", "cas_imaps_port": "5985""#),
    );
    refused_then_forced(
        &path,
        "netsh",
        "cas",
        "FW018 management-port-exposed [cas]",
        // The printed netsh copy quotes values with commas, for PowerShell (issue 14).
        &[r#"localport="143,3389,5985" remoteip="any""#],
    );
    // Every node under --out: nothing is written without --force.
    let out_dir = dir.path().join("out");
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "auto", "--out"])
        .arg(&out_dir)
        .output()
        .expect("fwtopo runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(!out_dir.exists());
}

#[test]
fn export_refuses_ssh_under_an_ftp_range_unless_forced() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = write(
        dir.path(),
        "cpanel.ron",
        &cpanel(
            r#""ssh_public": "off", "ftp_passive": "20-30""#,
            r#""198.51.100.0/28""#,
        ),
    );
    refused_then_forced(
        &path,
        "iptables",
        "web",
        "FW018 management-port-exposed [web]",
        &["-p tcp -m multiport --dports 20:30,"],
    );
}

#[test]
fn export_refuses_an_admin_zone_of_every_address_unless_forced() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = write(
        dir.path(),
        "open-admin.ron",
        &cpanel(r#""ssh_public": "off""#, r#""0.0.0.0/0""#),
    );
    refused_then_forced(
        &path,
        "iptables",
        "web",
        "FW015 zone-covers-all-addresses",
        &["-s 0.0.0.0/0 ", "--dport 22"],
    );
    let out = fwtopo().arg("check").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
}
