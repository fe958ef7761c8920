//! The findings' own unit tests; products' findings are tested in `tests/`.

use crate::catalog::Catalog;
use crate::engine::{Code, Finding, Severity, derive};
use crate::target::Target;
use crate::topology::{Node, Os, Topology, Zone};

fn node(name: &str, os: Os, firewall: Option<Target>, addr: &str) -> Node {
    let mut n = Node::new(name, os);
    n.firewall = firewall;
    n.addresses = vec![addr.parse().unwrap()];
    n
}

fn zone(name: &str, cidrs: &[&str]) -> Zone {
    Zone {
        name: name.into(),
        cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
        note: String::new(),
    }
}

fn findings(t: &Topology, code: Code) -> Vec<Finding> {
    let catalog = Catalog::embedded().unwrap();
    let plan = derive(&catalog, t);
    plan.findings
        .into_iter()
        .filter(|f| f.code == code)
        .collect()
}

#[test]
fn a_firewall_for_the_other_os_family_is_an_error_on_that_node_only() {
    let t = Topology {
        zones: vec![zone("admin", &["198.51.100.0/24"])],
        nodes: vec![
            // Same shape but for the firewall: the engine's shape cache must tell them apart.
            node(
                "win",
                Os::WindowsServer2022,
                Some(Target::Nftables),
                "203.0.113.1",
            ),
            node(
                "win-ok",
                Os::WindowsServer2022,
                Some(Target::Netsh),
                "203.0.113.2",
            ),
            node("lin", Os::Almalinux, Some(Target::Netsh), "203.0.113.3"),
            node(
                "lin-ok",
                Os::Almalinux,
                Some(Target::Iptables),
                "203.0.113.4",
            ),
            node("plain", Os::Ubuntu, None, "203.0.113.5"),
        ],
        ..Default::default()
    };
    let got = findings(&t, Code::FirewallOsMismatch);
    let nodes: Vec<&str> = got.iter().filter_map(|f| f.node.as_deref()).collect();
    assert_eq!(nodes, ["lin", "win"], "{got:?}");
    assert!(got.iter().all(|f| f.severity == Severity::Error));
    assert!(got[1].message.contains("nftables"), "{}", got[1].message);
    assert!(
        got[1].message.contains("netsh, powershell"),
        "{}",
        got[1].message
    );
    assert!(
        got[0].message.contains("nftables, iptables"),
        "{}",
        got[0].message
    );
    assert_eq!(Code::FirewallOsMismatch.id(), "FW016");
}

#[test]
fn a_peer_zone_covering_every_address_is_an_error_where_it_guards_management() {
    let mut t = Topology {
        // Two halves aggregate to the whole IPv4 space; `lab` covers all of IPv6 but no flow
        // takes it as a peer.
        zones: vec![
            zone("admin", &["0.0.0.0/1", "128.0.0.0/1", "2001:db8::/32"]),
            zone("lab", &["::/0"]),
        ],
        nodes: vec![node("web", Os::Almalinux, None, "203.0.113.1")],
        ..Default::default()
    };
    let got = findings(&t, Code::ZoneCoversAll);
    assert_eq!(got.len(), 1, "{got:?}");
    let f = &got[0];
    assert_eq!((f.severity, f.node.as_deref()), (Severity::Error, None));
    assert!(
        f.message
            .starts_with("zone 'admin' covers every address (0.0.0.0/0)")
            && f.message.contains("management access")
            && f.message.contains("host/"),
        "{}",
        f.message
    );
    assert_eq!(Code::ZoneCoversAll.id(), "FW015");
    // Without management access, only a product's own admin-zone flows use it: a warning.
    t.nodes[0].management = false;
    t.nodes[0].roles = vec![crate::topology::RoleAssignment::new(
        "plesk-automation",
        "mn",
    )];
    let got = findings(&t, Code::ZoneCoversAll);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].severity, Severity::Warning, "{}", got[0].message);
    assert!(!got[0].message.contains("management access"));
    t.zones[0] = zone("admin", &["198.51.100.0/24", "2001:db8::/32"]);
    assert!(findings(&t, Code::ZoneCoversAll).is_empty());
}

#[test]
fn the_errors_that_block_an_export_are_the_nodes_own_and_the_topology_wide_ones() {
    let finding = |severity, node: Option<&str>, message: &str| Finding {
        severity,
        node: node.map(String::from),
        code: Code::NoManagementAccess,
        message: message.into(),
    };
    let plan = crate::engine::Plan {
        nodes: Vec::new(),
        findings: vec![
            finding(Severity::Error, Some("web"), "web's"),
            finding(Severity::Error, Some("web-2"), "web-2's"),
            finding(Severity::Warning, Some("db"), "a warning"),
            finding(Severity::Error, None, "everyone's"),
        ],
    };
    let messages = |nodes: &[&str]| -> Vec<String> {
        plan.errors_for(nodes)
            .iter()
            .map(|f| f.message.to_string())
            .collect()
    };
    assert_eq!(messages(&["web"]), ["web's", "everyone's"]);
    assert_eq!(messages(&["db"]), ["everyone's"]);
    assert_eq!(
        messages(&["web", "web-2"]),
        ["web's", "web-2's", "everyone's"]
    );
}

/// Codes are numbered one after another, from FW001, so none is ever used twice.
#[test]
fn codes_are_unique_and_in_order() {
    let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
    let want: Vec<String> = (1..=Code::ALL.len()).map(|i| format!("FW{i:03}")).collect();
    assert_eq!(ids, want);
}

/// The README's list of check codes names every code with its slug.
#[test]
fn the_readme_lists_every_code() {
    let readme = include_str!("../../../README.md");
    for c in Code::ALL {
        let entry = format!("`{} {}`", c.id(), c.slug());
        assert!(readme.contains(&entry), "README.md lacks {entry}");
    }
}

/// Issue 15.2: the starter's admin zone (a documentation range with "replace with your own
/// networks") exported as it is allows SSH and RDP only from addresses nobody has: a lockout.
#[test]
fn the_starters_placeholder_admin_zone_is_an_error_until_replaced() {
    let catalog = Catalog::embedded().unwrap();
    let mut t = crate::starter::topology(&catalog, None).unwrap();
    let found = findings(&t, Code::PlaceholderZone);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert!(found[0].node.is_none());
    assert!(found[0].message.contains("'admin'"), "{}", found[0].message);
    assert!(
        found[0].message.contains("198.51.100.0/28"),
        "{}",
        found[0].message
    );

    // Replacing the networks is enough, even if the note is left as it was.
    t.zones[0].cidrs = vec!["192.0.2.0/27".parse().unwrap()];
    assert!(findings(&t, Code::PlaceholderZone).is_empty());

    // The same network with the operator's own note is a deliberate choice (the examples).
    let mut t = crate::starter::topology(&catalog, None).unwrap();
    t.zones[0].note = "Operators.".into();
    assert!(findings(&t, Code::PlaceholderZone).is_empty());
}
