//! Issue 11, item 11 (its findings part): what a topology accepted silently although it is
//! ambiguous or unusable. Within one value it is a load error naming the zone or node and the
//! field (exit 2): zone names differing only in case (as node names already are), a network
//! listed twice in a zone, a broadcast or "this network" address as a node's or host's address.

use assert_cmd::Command;
use fwtopo::topology::{LoadError, from_ron};
use std::fs;

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").expect("the binary is built");
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
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
