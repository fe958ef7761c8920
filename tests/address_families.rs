//! Issue 11, item 10: management access lost to the address family. Rules keep both families on
//! every node, so an IPv4-only admin zone gives an IPv6-only node an SSH rule it can never use:
//! an error (FW007), and `fwtopo export` refuses that node without `--force`. A flow whose peers
//! have no address of the node's family allows nothing there: a warning (FW019) naming it.

use assert_cmd::Command;
use fwtopo::catalog::Catalog;
use fwtopo::engine::{Finding, Plan, Severity, derive};
use fwtopo::topology::{check, from_ron};
use std::fs;

fn plan(text: &str) -> Plan {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = from_ron(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let problems = check(&t, &catalog);
    assert!(problems.is_empty(), "{problems:?}");
    derive(&catalog, &t)
}

/// The findings of one stable code (`FW007`) about one node.
fn of<'p>(plan: &'p Plan, code: &str, node: &str) -> Vec<&'p Finding> {
    plan.findings
        .iter()
        .filter(|f| f.code.id() == code && f.node.as_deref() == Some(node))
        .collect()
}

/// A Plesk Automation management node and a service node, each with its own addresses, and the
/// admin zone's networks.
fn pa(admin: &str, mn: &str, sn: &str) -> String {
    format!(
        r#"(version: 1,
            zones: [(name: "admin", cidrs: [{admin}])],
            nodes: [
                (name: "mn", os: "almalinux", addresses: [{mn}],
                 roles: [(product: "plesk-automation", role: "mn")]),
                (name: "sn", os: "almalinux", addresses: [{sn}],
                 roles: [(product: "plesk-automation", role: "sn-postfix")]),
            ])"#
    )
}

const V4: &str = r#""203.0.113.2""#;
const SN_V4: &str = r#""203.0.113.3""#;
const SN_V6: &str = r#""2001:db8::3""#;

#[test]
fn an_ipv6_only_node_under_an_ipv4_only_admin_zone_cannot_be_managed() {
    let p = plan(&pa(r#""198.51.100.0/28""#, V4, SN_V6));
    let f = of(&p, "FW007", "sn");
    assert_eq!(f.len(), 1, "{:#?}", p.findings);
    assert_eq!(f[0].severity, Severity::Error);
    assert!(
        f[0].message.contains("IPv4 only") && f[0].message.contains("IPv6 only"),
        "{}",
        f[0].message
    );
    assert!(of(&p, "FW007", "mn").is_empty(), "{:#?}", p.findings);
    // An admin zone of both families manages both; one of IPv6 alone loses the IPv4 node.
    let p = plan(&pa(r#""198.51.100.0/28", "2001:db8:ad::/48""#, V4, SN_V6));
    assert!(p.findings.iter().all(|f| f.code.id() != "FW007"), "{p:#?}");
    let p = plan(&pa(r#""2001:db8:ad::/48""#, V4, SN_V6));
    assert_eq!(of(&p, "FW007", "mn").len(), 1, "{:#?}", p.findings);
    assert!(of(&p, "FW007", "sn").is_empty());
}

#[test]
fn nodes_of_one_shape_but_different_families_get_their_own_findings() {
    // sn and sn6 play the same role with the same settings: the engine derives their rules once.
    let text = pa(r#""198.51.100.0/28""#, V4, SN_V4).replace(
        "            ])",
        r#"    (name: "sn6", os: "almalinux", addresses: ["2001:db8::4"],
                 roles: [(product: "plesk-automation", role: "sn-postfix")]),
            ])"#,
    );
    let p = plan(&text);
    assert!(of(&p, "FW007", "sn").is_empty(), "{:#?}", p.findings);
    assert_eq!(of(&p, "FW007", "sn6").len(), 1, "{:#?}", p.findings);
}

#[test]
fn a_flow_whose_peers_share_no_family_with_the_node_is_a_warning_naming_it() {
    let admin = r#""198.51.100.0/28", "2001:db8:ad::/48""#;
    let p = plan(&pa(admin, V4, SN_V6));
    for node in ["mn", "sn"] {
        let f = of(&p, "FW019", node);
        assert_eq!(f.len(), 1, "{node}: {:#?}", p.findings);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].message.contains("plesk-automation/"),
            "{}",
            f[0].message
        );
    }
    assert!(
        of(&p, "FW019", "sn")[0].message.contains("IPv6 only")
            && of(&p, "FW019", "sn")[0].message.contains("peers IPv4 only"),
        "{}",
        of(&p, "FW019", "sn")[0].message
    );
    // A dual-stack service node shares IPv4 with the management node: nothing is lost.
    let p = plan(&pa(admin, V4, &format!("{SN_V4}, {SN_V6}")));
    assert!(p.findings.iter().all(|f| f.code.id() != "FW019"), "{p:#?}");
}

fn fwtopo() -> Command {
    let mut c = Command::cargo_bin("fwtopo").expect("the binary is built");
    c.env(
        "FWTOPO_CONFIG_DIR",
        env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
    );
    c
}

#[test]
fn export_refuses_a_node_the_admin_zone_cannot_reach_unless_forced() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("v6-node.ron");
    fs::write(&path, pa(r#""198.51.100.0/28""#, V4, SN_V6)).expect("written");
    let out = fwtopo().arg("check").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "nftables", "--node", "sn"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "a script was printed");
    assert!(err.contains("FW007") && err.contains("[sn]"), "{err}");
    // The management node is sound and exports.
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "nftables", "--node", "mn"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let out = fwtopo()
        .arg("export")
        .arg(&path)
        .args(["--target", "nftables", "--node", "sn", "--force"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("198.51.100.0/28"), "{script}");
}
