//! Issue 11, item 11 (its findings part): what a topology accepted silently although it is
//! ambiguous or unusable. Within one value it is a load error naming the zone or node and the
//! field (exit 2): zone names differing only in case (as node names already are), a network
//! listed twice in a zone, a broadcast or "this network" address as a node's or host's address.
//! Between values it is a finding, so the designer still opens the file to fix it: one address
//! on two nodes (FW020, an error: `export` refuses those nodes without `--force`), an external
//! host pinned to a node's address (FW021, a warning).

use assert_cmd::Command;
use fwtopo::catalog::Catalog;
use fwtopo::engine::{Finding, Plan, Severity, derive};
use fwtopo::topology::{LoadError, check, from_ron};
use std::fs;

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").expect("the binary is built");
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
}

fn plan(text: &str) -> Plan {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = from_ron(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let problems = check(&t, &catalog);
    assert!(problems.is_empty(), "{problems:?}");
    derive(&catalog, &t)
}

fn of<'p>(plan: &'p Plan, code: &str) -> Vec<&'p Finding> {
    plan.findings
        .iter()
        .filter(|f| f.code.id() == code)
        .collect()
}

/// The load problems of a text, one line each.
fn problems(text: &str) -> Vec<String> {
    match from_ron(text) {
        Err(LoadError::Invalid(p)) => p.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected a load error, got {other:?}\n{text}"),
    }
}

/// Zones, nodes and external hosts spliced into a file.
fn site(zones: &str, nodes: &str, hosts: &str) -> String {
    format!("(version: 1, zones: [{zones}], nodes: [{nodes}], external_hosts: [{hosts}])")
}

const ADMIN: &str = r#"(name: "admin", cidrs: ["198.51.100.0/28"])"#;

fn linux(name: &str, addresses: &str) -> String {
    format!(r#"(name: "{name}", os: "debian", addresses: [{addresses}])"#)
}

#[test]
fn zone_names_differing_only_in_case_are_a_load_error() {
    let text = site(
        &format!(r#"{ADMIN}, (name: "Admin", cidrs: ["203.0.113.0/24"])"#),
        &linux("web", r#""192.0.2.10""#),
        "",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(r#"zones[1] "Admin": name: "#) && p[0].contains("only in case"),
        "{p:?}"
    );
    // The command line says so and exits 2.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("zones.ron");
    fs::write(&path, &text).expect("written");
    let out = fwtopo().arg("check").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(r#"zones[1] "Admin": name"#), "{err}");
}

#[test]
fn a_network_listed_twice_in_a_zone_is_a_load_error() {
    for (cidrs, again) in [
        (r#""198.51.100.0/28", "198.51.100.0/28""#, "198.51.100.0/28"),
        // One network, written two ways.
        (r#""198.51.100.5", "198.51.100.5/32""#, "198.51.100.5/32"),
        (r#""2001:db8::/48", "2001:DB8::/48""#, "2001:DB8::/48"),
    ] {
        let text = site(
            &format!(r#"(name: "admin", cidrs: [{cidrs}])"#),
            &linux("web", r#""192.0.2.10""#),
            "",
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(
            p[0],
            format!(r#"zones[0] "admin": cidrs[1]: '{again}' is listed twice"#)
        );
    }
    // The same network in two zones is fine: trusted may hold admin.
    let text = site(
        &format!(r#"{ADMIN}, (name: "trusted", cidrs: ["198.51.100.0/28"])"#),
        &linux("web", r#""192.0.2.10""#),
        "",
    );
    assert!(from_ron(&text).is_ok());
}

#[test]
fn broadcast_and_this_network_addresses_are_a_load_error() {
    for (addr, why) in [
        ("255.255.255.255", "broadcast"),
        ("::ffff:255.255.255.255", "broadcast"),
        ("0.0.0.7", "this network"),
    ] {
        let text = site(
            ADMIN,
            &linux("web", &format!(r#""192.0.2.10", "{addr}""#)),
            &format!(r#"(name: "updates.example.com", addresses: ["{addr}"])"#),
        );
        let p = problems(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].starts_with(&format!(
                r#"nodes[0] "web": addresses[1]: '{addr}' cannot be"#
            )) && p[0].contains(why),
            "{p:?}"
        );
        assert!(
            p[1].starts_with(&format!(
                r#"external_hosts[0] "updates.example.com": addresses[0]: '{addr}' cannot be"#
            )) && p[1].contains(why),
            "{p:?}"
        );
    }
    // The last address of a documentation network is a host as far as fwtopo can know.
    let text = site(ADMIN, &linux("web", r#""192.0.2.255""#), "");
    assert!(from_ron(&text).is_ok());
}

/// Two web nodes listing one address by mistake, and a third node of its own.
fn shared_address() -> String {
    site(
        ADMIN,
        &[
            linux("web1", r#""192.0.2.10", "2001:db8::10""#),
            linux("web2", r#""192.0.2.11", "2001:db8::10""#),
            linux("db", r#""192.0.2.12""#),
        ]
        .join(", "),
        "",
    )
}

#[test]
fn one_address_on_two_nodes_is_an_error_on_both() {
    let p = plan(&shared_address());
    let f = of(&p, "FW020");
    let nodes: Vec<&str> = f.iter().filter_map(|f| f.node.as_deref()).collect();
    assert_eq!(nodes, ["web1", "web2"], "{f:#?}");
    for f in &f {
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("2001:db8::10"), "{}", f.message);
    }
    assert!(f[0].message.contains("'web2'"), "{}", f[0].message);
    assert!(f[1].message.contains("'web1'"), "{}", f[1].message);
}

#[test]
fn export_refuses_nodes_sharing_an_address_unless_forced() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("shared.ron");
    fs::write(&path, shared_address()).expect("written");
    let export = |node: &str, force: bool| {
        let mut c = fwtopo();
        c.arg("export")
            .arg(&path)
            .args(["--target", "nftables", "--node", node]);
        if force {
            c.arg("--force");
        }
        c.output().expect("runs")
    };
    let out = export("web2", false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains("FW020 address-on-two-nodes [web2]"), "{err}");
    assert_eq!(export("db", false).status.code(), Some(0));
    let out = export("web2", true);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("table inet fwtopo"));
}

#[test]
fn an_external_host_pinned_to_a_node_s_address_is_a_warning() {
    let text = site(
        ADMIN,
        &[
            r#"(name: "mgmt", os: "windows-server-2022", addresses: ["192.0.2.20"],
                roles: [(product: "mailstore-spe", role: "mgmt")])"#
                .to_string(),
            linux("db", r#""192.0.2.21""#),
        ]
        .join(", "),
        r#"(name: "my.mailstore.com", addresses: ["192.0.2.21"])"#,
    );
    let p = plan(&text);
    let f = of(&p, "FW021");
    assert_eq!(f.len(), 1, "{:#?}", p.findings);
    assert_eq!(
        (f[0].severity, f[0].node.as_deref()),
        (Severity::Warning, None)
    );
    assert!(
        f[0].message.contains("'my.mailstore.com'")
            && f[0].message.contains("192.0.2.21")
            && f[0].message.contains("'db'"),
        "{}",
        f[0].message
    );
    let fixed = text.replace(
        r#"(name: "my.mailstore.com", addresses: ["192.0.2.21"])"#,
        r#"(name: "my.mailstore.com", addresses: ["203.0.113.99"])"#,
    );
    assert!(of(&plan(&fixed), "FW021").is_empty());
}
