//! Per-product engine tests, written from the source documents (shared/seeds, shared/reference).
//!
//! Every topology is built in code with documentation addresses only (RFC 5737, RFC 3849) and an
//! `admin` zone, since the built-in `host` product gives SSH/RDP from that zone. Each test states
//! what the document says and checks it with `allows()` or by looking at the rules directly, so it
//! fails when the engine opens too much, too little, or on the wrong node.

use fwtopo::catalog::{Catalog, Tag};
use fwtopo::engine::{Code, Direction, NodePlan, Plan, Rule, Severity, allows, derive};
use fwtopo::net::Peers;
use fwtopo::ports::Protocol::{self, Tcp, Udp};
use fwtopo::topology::{ExternalHost, Node, Os, RoleAssignment, Topology, Zone};
use std::collections::BTreeSet;
use std::net::IpAddr;

// ------------------------------------------------------------------------------------------------
// helpers

const PA: &str = "plesk-automation";
const MS: &str = "mailstore-spe";
const CGP: &str = "communigate-pro";
const CP: &str = "cpanel-whm";
const VZ: &str = "virtuozzo-hybrid-server";

/// The admin zone of every site here; no node address lies inside it.
const ADMIN: &str = "198.51.100.0/28";
const ADMIN_HOST: &str = "198.51.100.5";
/// Not part of any site: stands for "an arbitrary address on the Internet".
const STRANGER: &str = "192.0.2.200";
const STRANGER6: &str = "2001:db8:ffff::1";

fn catalog() -> Catalog {
    Catalog::embedded().expect("the embedded catalog loads")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("bad address {s}"))
}

fn node(name: &str, os: Os, addrs: &[&str], roles: &[(&str, &str)]) -> Node {
    let mut n = Node::new(name, os);
    n.addresses = addrs.iter().map(|a| ip(a)).collect();
    n.roles = roles
        .iter()
        .map(|(p, r)| RoleAssignment::new(*p, *r))
        .collect();
    n
}

/// Sets a parameter on the node's assignment of `role`.
fn set(n: &mut Node, role: &str, key: &str, value: &str) {
    let ra = n
        .roles
        .iter_mut()
        .find(|r| r.role == role)
        .unwrap_or_else(|| panic!("{} has no role {role}", n.name));
    ra.params.insert(key.to_string(), value.to_string());
}

fn zone(name: &str, cidrs: &[&str]) -> Zone {
    Zone {
        name: name.into(),
        cidrs: cidrs
            .iter()
            .map(|c| c.parse().expect("valid cidr"))
            .collect(),
        note: String::new(),
    }
}

fn site(nodes: Vec<Node>) -> Topology {
    Topology {
        name: "t".into(),
        zones: vec![zone("admin", &[ADMIN])],
        nodes,
        ..Topology::default()
    }
}

fn plan_node<'p>(plan: &'p Plan, name: &str) -> &'p NodePlan {
    plan.node(name)
        .unwrap_or_else(|| panic!("no node {name} in the plan"))
}

fn tcp_in(plan: &Plan, n: &str, port: u16, from: &str) -> bool {
    allows(&plan_node(plan, n).inbound, Tcp, port, ip(from))
}

fn tcp_out(plan: &Plan, n: &str, port: u16, to: &str) -> bool {
    allows(&plan_node(plan, n).outbound, Tcp, port, ip(to))
}

/// Which of the candidate addresses a rule list allows for a protocol and port.
fn allowed(rules: &[Rule], proto: Protocol, port: u16, candidates: &[&str]) -> BTreeSet<IpAddr> {
    candidates
        .iter()
        .map(|a| ip(a))
        .filter(|a| allows(rules, proto, port, *a))
        .collect()
}

/// The candidates a node's inbound rules allow, other than the node itself: a mesh's shared peer
/// set also holds the node's own address, which loopback makes moot (see `check_invariants`).
fn inbound_from_others(
    plan: &Plan,
    node: &str,
    own: &str,
    proto: Protocol,
    port: u16,
    candidates: &[&str],
) -> BTreeSet<IpAddr> {
    let mut set = allowed(&plan_node(plan, node).inbound, proto, port, candidates);
    set.remove(&ip(own));
    set
}

fn set_of(addrs: &[&str]) -> BTreeSet<IpAddr> {
    addrs.iter().map(|a| ip(a)).collect()
}

fn findings_of(plan: &Plan, code: Code) -> Vec<&fwtopo::engine::Finding> {
    plan.findings.iter().filter(|f| f.code == code).collect()
}

fn has_finding(plan: &Plan, code: Code, n: Option<&str>) -> bool {
    plan.findings
        .iter()
        .any(|f| f.code == code && f.node.as_deref() == n)
}

/// Every port of a rule list for a protocol, whatever the peer.
fn any_rule_has_port(rules: &[Rule], proto: Protocol, port: u16) -> bool {
    rules
        .iter()
        .any(|r| r.protocol == proto && r.ports.contains(port))
}

/// The rules whose peers are not `any`.
fn not_any(rules: &[Rule]) -> Vec<Rule> {
    rules
        .iter()
        .filter(|r| !r.peers.is_any())
        .cloned()
        .collect()
}

/// Structural invariants every plan must keep.
fn check_invariants(t: &Topology, plan: &Plan) {
    assert_eq!(plan.nodes.len(), t.nodes.len());
    for (i, np) in plan.nodes.iter().enumerate() {
        assert_eq!(np.node, i);
        assert_eq!(np.name, t.nodes[i].name);
        assert!(
            np.inbound.iter().all(|r| r.direction == Direction::Inbound),
            "{}: outbound rule in inbound list",
            np.name
        );
        assert!(
            np.outbound
                .iter()
                .all(|r| r.direction == Direction::Outbound),
            "{}: inbound rule in outbound list",
            np.name
        );
        for r in np.rules() {
            assert!(!r.ports.is_empty(), "{}: rule without ports {r:?}", np.name);
            assert!(!r.peers.is_empty(), "{}: rule without peers {r:?}", np.name);
            assert!(
                !r.provenance.is_empty(),
                "{}: rule without provenance {r:?}",
                np.name
            );
            let mut sorted = r.provenance.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                sorted, r.provenance,
                "{}: provenance not sorted/unique",
                np.name
            );
        }
        // A node never gets a rule for itself alone: a peer set holding one of its own addresses
        // (a mesh: "every chunk server" seen from a chunk server) also holds another node's. Its
        // own addresses stay in the shared set, where they are harmless (loopback is accepted
        // before any rule), so the whole mesh shares one set instead of one copy per member.
        for r in np.rules() {
            let nets: Vec<ipnet::IpNet> = match &r.peers {
                Peers::V4(v) => v.iter().copied().map(Into::into).collect(),
                Peers::V6(v) => v.iter().copied().map(Into::into).collect(),
                _ => continue,
            };
            let own: Vec<&std::net::IpAddr> = t.nodes[i]
                .addresses
                .iter()
                .filter(|a| r.peers.contains(**a))
                .collect();
            if own.is_empty() {
                continue;
            }
            let others = t
                .nodes
                .iter()
                .enumerate()
                .any(|(j, n)| j != i && n.addresses.iter().any(|a| r.peers.contains(*a)));
            assert!(
                others,
                "{}: rule {:?} {} {} reaches the node itself alone ({own:?} in {nets:?})",
                np.name, r.direction, r.protocol, r.ports
            );
        }
    }
}

fn derive_checked(t: &Topology) -> Plan {
    let cat = catalog();
    let plan = derive(&cat, t);
    check_invariants(t, &plan);
    plan
}

// ------------------------------------------------------------------------------------------------
// Plesk Automation (seed 000)

const PA_MN: &str = "203.0.113.2";
const PA_MN6: &str = "2001:db8::2";
const PA_SN1: &str = "203.0.113.10";
const PA_SN2: &str = "203.0.113.11";
const PA_IIS: &str = "203.0.113.12";

/// Seed: "PA internal ports for accepting requests from Management Node" on every service node.
const SN_PORTS: [u16; 17] = [
    8352, 8353, 8354, 8355, 8356, 8357, 8358, 8359, 8360, 8361, 8362, 8363, 8364, 8412, 8490, 8532,
    8443,
];
/// Seed: "PA internal port(s) for accepting requests from Service Node(s)" on the MN.
const MN_PORTS: [u16; 17] = [
    8352, 8353, 8354, 8355, 8356, 8357, 8358, 8359, 8360, 8361, 8362, 8363, 8364, 8412, 8490, 8532,
    8400,
];

fn pa_site() -> Topology {
    site(vec![
        node("mn", Os::Almalinux, &[PA_MN, PA_MN6], &[(PA, "mn")]),
        node("sn1", Os::Almalinux, &[PA_SN1], &[(PA, "sn-apache")]),
        node("sn2", Os::Almalinux, &[PA_SN2], &[(PA, "sn-postfix")]),
        node("iis", Os::WindowsServer2022, &[PA_IIS], &[(PA, "sn-iis")]),
    ])
}

const PA_ALL: [&str; 7] = [PA_MN, PA_MN6, PA_SN1, PA_SN2, PA_IIS, ADMIN_HOST, STRANGER];

#[test]
fn pa_service_node_accepts_internal_ports_only_from_the_management_node() {
    let plan = derive_checked(&pa_site());
    for sn in ["sn1", "sn2", "iis"] {
        let rules = &plan_node(&plan, sn).inbound;
        for port in SN_PORTS {
            assert_eq!(
                allowed(rules, Tcp, port, &PA_ALL),
                set_of(&[PA_MN, PA_MN6]),
                "{sn} tcp/{port}"
            );
        }
        // 8400 is on the MN's list only; the range ends at 8364.
        for port in [8400, 8351, 8365] {
            assert!(
                allowed(rules, Tcp, port, &PA_ALL).is_empty(),
                "{sn} must not open tcp/{port}"
            );
        }
        // The internal ports are TCP; nothing UDP there.
        assert!(!allows(rules, Udp, 8352, ip(PA_MN)), "{sn}: udp/8352");
    }
}

#[test]
fn pa_management_node_accepts_internal_ports_from_every_service_node() {
    let plan = derive_checked(&pa_site());
    let rules = &plan_node(&plan, "mn").inbound;
    for port in MN_PORTS {
        assert_eq!(
            allowed(rules, Tcp, port, &PA_ALL),
            set_of(&[PA_SN1, PA_SN2, PA_IIS]),
            "mn tcp/{port}"
        );
    }
    // "80: Connection to PA package repository from service nodes": not from anywhere else.
    assert_eq!(
        allowed(rules, Tcp, 80, &PA_ALL),
        set_of(&[PA_SN1, PA_SN2, PA_IIS])
    );
    // The panel defaults to the admin zone; the Public API too.
    for port in [8880, 8443, 8440] {
        assert!(
            tcp_in(&plan, "mn", port, ADMIN_HOST),
            "mn tcp/{port} from admin"
        );
        assert!(
            !tcp_in(&plan, "mn", port, STRANGER),
            "mn tcp/{port} from a stranger"
        );
    }
    // 8443 on the MN is the panel, not an SN->MN internal port.
    assert!(!tcp_in(&plan, "mn", 8443, PA_SN1));
}

#[test]
fn pa_both_ends_match_outbound() {
    let plan = derive_checked(&pa_site());
    let mn_out = &plan_node(&plan, "mn").outbound;
    for port in SN_PORTS {
        assert_eq!(
            allowed(mn_out, Tcp, port, &PA_ALL),
            set_of(&[PA_SN1, PA_SN2, PA_IIS]),
            "mn out tcp/{port}"
        );
    }
    for sn in ["sn1", "sn2", "iis"] {
        let out = &plan_node(&plan, sn).outbound;
        for port in MN_PORTS {
            // The MN is dual-stack: both of its addresses are reachable.
            assert_eq!(
                allowed(out, Tcp, port, &PA_ALL),
                set_of(&[PA_MN, PA_MN6]),
                "{sn} out tcp/{port}"
            );
        }
    }
    // Every role-to-role inbound rule has the mirrored outbound rule on the peer (rules open to
    // any address have no peer to mirror).
    let t = pa_site();
    for a in &t.nodes {
        for b in &t.nodes {
            if a.name == b.name {
                continue;
            }
            for &addr_b in &b.addresses {
                for &addr_a in &a.addresses {
                    if addr_a.is_ipv4() != addr_b.is_ipv4() {
                        continue;
                    }
                    for port in [80u16, 443, 8352, 8400, 8443, 5985, 51618, 51619, 60000] {
                        let inbound = allows(
                            &not_any(&plan_node(&plan, &a.name).inbound),
                            Tcp,
                            port,
                            addr_b,
                        );
                        let outbound = allows(
                            &not_any(&plan_node(&plan, &b.name).outbound),
                            Tcp,
                            port,
                            addr_a,
                        );
                        assert_eq!(
                            inbound, outbound,
                            "{} in from {} vs out tcp/{port}",
                            a.name, b.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn pa_iis_winrm_is_open_to_the_management_node_only() {
    let plan = derive_checked(&pa_site());
    let rules = &plan_node(&plan, "iis").inbound;
    // Seed: "netsh ... localport=5985 remoteip=203.0.113.2", the MN.
    assert_eq!(allowed(rules, Tcp, 5985, &PA_ALL), set_of(&[PA_MN, PA_MN6]));
    assert!(has_finding(&plan, Code::WinrmBasicHttp, Some("iis")));
    // The Windows host role gives RDP and WinRM/HTTPS from the admin zone, no SSH.
    assert!(tcp_in(&plan, "iis", 3389, ADMIN_HOST));
    assert!(tcp_in(&plan, "iis", 5986, ADMIN_HOST));
    assert!(!tcp_in(&plan, "iis", 22, ADMIN_HOST));
    assert!(!tcp_in(&plan, "iis", 3389, STRANGER));
    // Linux nodes get SSH from admin, never RDP.
    assert!(tcp_in(&plan, "sn1", 22, ADMIN_HOST));
    assert!(!tcp_in(&plan, "sn1", 3389, ADMIN_HOST));
}

#[test]
fn pa_hosting_services_per_node_type() {
    let plan = derive_checked(&pa_site());
    // Apache: 80, 443, 21 and the passive range 60000-65000 from anywhere.
    for port in [80, 443, 21, 60000, 62000, 65000] {
        assert!(tcp_in(&plan, "sn1", port, STRANGER), "apache tcp/{port}");
        assert!(
            tcp_in(&plan, "sn1", port, STRANGER6),
            "apache tcp/{port} v6"
        );
    }
    assert!(!tcp_in(&plan, "sn1", 59999, STRANGER));
    assert!(!tcp_in(&plan, "sn1", 65001, STRANGER));
    // Postfix: 587, 143, 995, 465, 993, 25; 110 is not in the seed's list (off by default).
    for port in [587, 143, 995, 465, 993, 25] {
        assert!(tcp_in(&plan, "sn2", port, STRANGER), "postfix tcp/{port}");
    }
    assert!(!tcp_in(&plan, "sn2", 110, STRANGER));
    // Mail services are not on the web node and web services are not on the mail node.
    assert!(!tcp_in(&plan, "sn1", 25, STRANGER));
    assert!(!tcp_in(&plan, "sn2", 80, STRANGER));
}

#[test]
fn pa_dns_node_opens_53_on_udp_and_tcp() {
    // Seed: "53: DNS UDP port"; DNS also needs TCP (errata).
    let t = site(vec![
        node("mn", Os::Almalinux, &[PA_MN], &[(PA, "mn")]),
        node("dns", Os::Almalinux, &[PA_SN1], &[(PA, "sn-dns")]),
    ]);
    let plan = derive_checked(&t);
    let rules = &plan_node(&plan, "dns").inbound;
    assert!(allows(rules, Udp, 53, ip(STRANGER)));
    assert!(allows(rules, Tcp, 53, ip(STRANGER)));
    assert!(!allows(
        &plan_node(&plan, "mn").inbound,
        Udp,
        53,
        ip(STRANGER)
    ));
    assert!(has_finding(&plan, Code::ErrataInUse, Some("dns")));
}

#[test]
fn pa_database_node_is_never_open_to_any() {
    let t = site(vec![
        node("mn", Os::Almalinux, &[PA_MN], &[(PA, "mn")]),
        node("web", Os::Almalinux, &[PA_SN1], &[(PA, "sn-apache")]),
        node("db", Os::Almalinux, &[PA_SN2], &[(PA, "sn-database")]),
    ]);
    let plan = derive_checked(&t);
    let rules = &plan_node(&plan, "db").inbound;
    for port in [3306, 5432] {
        assert_eq!(
            allowed(
                rules,
                Tcp,
                port,
                &[PA_MN, PA_SN1, PA_SN2, STRANGER, ADMIN_HOST]
            ),
            set_of(&[PA_MN, PA_SN1]),
            "db tcp/{port}"
        );
    }
    // MS SQL is off by default.
    assert!(!any_rule_has_port(rules, Tcp, 1433));
    assert!(
        rules
            .iter()
            .all(|r| !r.peers.is_any() || !r.ports.contains(3306))
    );
}

#[test]
fn pa_sn_test_ports_follow_the_switch_on_the_management_node() {
    let mut t = pa_site();
    // Off by default (tests/catalog_corrections.rs); switched on for the test.
    set(&mut t.nodes[0], "mn", "sn_test", "on");
    let plan = derive_checked(&t);
    assert!(tcp_in(&plan, "mn", 51618, PA_SN1));
    assert!(tcp_in(&plan, "sn1", 51619, PA_MN));
    assert!(tcp_out(&plan, "mn", 51619, PA_SN1));
    assert!(has_finding(&plan, Code::TemporaryPort, Some("mn")));
    set(&mut t.nodes[0], "mn", "sn_test", "off");
    let plan = derive_checked(&t);
    for n in ["mn", "sn1", "sn2", "iis"] {
        let np = plan_node(&plan, n);
        for port in [51618, 51619] {
            assert!(
                !any_rule_has_port(&np.inbound, Tcp, port),
                "{n} in tcp/{port}"
            );
            assert!(
                !any_rule_has_port(&np.outbound, Tcp, port),
                "{n} out tcp/{port}"
            );
        }
    }
    assert!(!has_finding(&plan, Code::TemporaryPort, Some("mn")));
}

#[test]
fn pa_public_panel_switch_adds_any() {
    let mut t = pa_site();
    assert!(!tcp_in(&derive_checked(&t), "mn", 8443, STRANGER));
    set(&mut t.nodes[0], "mn", "public_panel", "on");
    let plan = derive_checked(&t);
    assert!(tcp_in(&plan, "mn", 8443, STRANGER));
    assert!(tcp_in(&plan, "mn", 8880, STRANGER6));
    // Plain HTTP panel open to any is reported.
    assert!(
        findings_of(&plan, Code::PlaintextOpenToAny)
            .iter()
            .any(|f| f.node.as_deref() == Some("mn"))
    );
}

#[test]
fn pa_passive_range_parameter_changes_the_range() {
    let mut t = pa_site();
    set(
        &mut t.nodes[1],
        "sn-apache",
        "apache_ftp_passive",
        "50000-50010",
    );
    let plan = derive_checked(&t);
    assert!(tcp_in(&plan, "sn1", 50000, STRANGER));
    assert!(tcp_in(&plan, "sn1", 50010, STRANGER));
    assert!(!tcp_in(&plan, "sn1", 50011, STRANGER));
    assert!(!tcp_in(&plan, "sn1", 60000, STRANGER));
}

/// A passive range wide enough to hold SSH and the PA internal ports opens them to anyone; the
/// rules say so, FW017 names what lost its restriction, and SSH (management access) is FW018, an
/// error.
#[test]
fn pa_passive_range_covering_restricted_ports_is_fw017() {
    let mut t = pa_site();
    let plan = derive_checked(&t);
    assert!(findings_of(&plan, Code::RestrictionVoided).is_empty());
    set(
        &mut t.nodes[1],
        "sn-apache",
        "apache_ftp_passive",
        "1-65535",
    );
    let plan = derive_checked(&t);
    assert!(
        tcp_in(&plan, "sn1", 22, STRANGER),
        "the range is what it is"
    );
    let voided: Vec<&str> = findings_of(&plan, Code::RestrictionVoided)
        .iter()
        .map(|f| {
            assert_eq!(
                (f.severity, f.node.as_deref()),
                (Severity::Warning, Some("sn1"))
            );
            &*f.message
        })
        .collect();
    assert!(voided.iter().any(|m| m.contains("8352-8364")), "{voided:?}");
    assert!(
        !voided.iter().any(|m| m.starts_with("tcp/22 ")),
        "{voided:?}"
    );
    let ssh = findings_of(&plan, Code::ManagementPortExposed);
    assert_eq!(ssh.len(), 1, "{ssh:?}");
    assert_eq!(
        (ssh[0].severity, ssh[0].node.as_deref()),
        (Severity::Error, Some("sn1"))
    );
    assert!(
        ssh[0].message.starts_with("tcp/22 ")
            && ssh[0].message.contains("apache_ftp_passive = 1-65535"),
        "{}",
        ssh[0].message
    );
    // A narrow range clear of every restricted port is fine.
    set(
        &mut t.nodes[1],
        "sn-apache",
        "apache_ftp_passive",
        "50000-50010",
    );
    let plan = derive_checked(&t);
    assert!(findings_of(&plan, Code::RestrictionVoided).is_empty());
    assert!(findings_of(&plan, Code::ManagementPortExposed).is_empty());
}

/// WinRM with Basic auth over HTTP is fenced to the management node; an IIS passive range that
/// covers 5985 opens it to anyone, and that is an error (the export refuses), not a warning.
#[test]
fn pa_iis_passive_range_over_winrm_makes_fw009_an_error() {
    let mut t = pa_site();
    let severity = |t: &Topology| {
        let plan = derive_checked(t);
        let f = findings_of(&plan, Code::WinrmBasicHttp);
        assert_eq!(f.len(), 1, "{f:?}");
        (f[0].severity, f[0].message.clone())
    };
    let (s, m) = severity(&t);
    assert_eq!(s, Severity::Warning, "{m}");
    assert!(m.contains("open only to"), "{m}");
    set(&mut t.nodes[3], "sn-iis", "iis_ftp_passive", "5900-6000");
    let (s, m) = severity(&t);
    assert_eq!(s, Severity::Error, "{m}");
    assert!(m.contains("tcp/5985 through FTP passive"), "{m}");
}

/// A trusted-only port inside a range open to any is as open as the range: FW008, an error.
#[test]
fn cgp_passive_range_over_a_trusted_only_port_is_fw008() {
    let mut t = site(vec![node(
        "cgp",
        Os::Almalinux,
        &[CGP_B1],
        &[(CGP, "server")],
    )]);
    t.zones.push(zone("trusted", &[TRUSTED]));
    set(&mut t.nodes[0], "server", "ftp", "on");
    set(&mut t.nodes[0], "server", "ftp_passive", "40000-40100");
    assert!(findings_of(&derive_checked(&t), Code::TrustedOnlyOpenToAny).is_empty());
    set(&mut t.nodes[0], "server", "ftp_passive", "380-400");
    let plan = derive_checked(&t);
    let f = findings_of(&plan, Code::TrustedOnlyOpenToAny);
    assert!(
        f.iter()
            .any(|f| f.severity == Severity::Error && f.message.starts_with("tcp/389 ")),
        "{f:?}"
    );
}

#[test]
fn pa_windows_role_on_linux_node_is_fw013() {
    let t = site(vec![
        node("mn", Os::Almalinux, &[PA_MN], &[(PA, "mn")]),
        node("iis-on-linux", Os::Rocky, &[PA_SN1], &[(PA, "sn-iis")]),
    ]);
    let plan = derive_checked(&t);
    let f: Vec<_> = findings_of(&plan, Code::RoleOsMismatch);
    assert_eq!(f.len(), 1, "{:?}", plan.findings);
    assert_eq!(f[0].node.as_deref(), Some("iis-on-linux"));
    assert_eq!(f[0].severity, Severity::Error);
    assert!(f[0].message.contains("sn-iis"), "{}", f[0].message);
    assert!(!has_finding(&plan, Code::RoleOsMismatch, Some("mn")));
    // The other way round too: a Linux-only role on Windows.
    let t = site(vec![node(
        "vz-on-windows",
        Os::WindowsServer2019,
        &[PA_SN1],
        &[(VZ, "vhs")],
    )]);
    assert!(has_finding(
        &derive_checked(&t),
        Code::RoleOsMismatch,
        Some("vz-on-windows")
    ));
}

#[test]
fn pa_missing_management_node_is_fw003() {
    let t = site(vec![node(
        "sn1",
        Os::Almalinux,
        &[PA_SN1],
        &[(PA, "sn-apache")],
    )]);
    let plan = derive_checked(&t);
    let f = findings_of(&plan, Code::PeerRoleMissing);
    assert!(
        f.iter()
            .any(|f| f.message.contains("plesk-automation/mn") && f.message.contains("sn1")),
        "{:?}",
        plan.findings
    );
    assert!(f.iter().any(|f| f.severity == Severity::Warning));
    // Nothing for the internal ports: there is no peer to allow.
    let np = plan_node(&plan, "sn1");
    assert!(!any_rule_has_port(&np.inbound, Tcp, 8352));
    assert!(!any_rule_has_port(&np.outbound, Tcp, 8352));
}

#[test]
fn pa_complete_site_has_no_peer_missing() {
    let t = site(vec![
        node("mn", Os::Almalinux, &[PA_MN], &[(PA, "mn")]),
        node("sn1", Os::Almalinux, &[PA_SN1], &[(PA, "sn-postfix")]),
    ]);
    let plan = derive_checked(&t);
    // MN and service node find each other. (Service-node types the site does not use are still
    // reported as missing peers of the MN: see the report on FW003 noise.)
    for f in findings_of(&plan, Code::PeerRoleMissing) {
        assert!(
            !f.message.contains("plesk-automation/mn,")
                && !f.message.contains("plesk-automation/sn,"),
            "{f:?}"
        );
        assert!(!f.message.contains("plesk-automation/sn-postfix,"), "{f:?}");
    }
    assert!(
        findings_of(&plan, Code::NoManagementAccess).is_empty(),
        "{:?}",
        plan.findings
    );
}

// ------------------------------------------------------------------------------------------------
// IPv4 / IPv6

#[test]
fn ipv6_only_peers_never_become_any_and_families_stay_apart() {
    let t = site(vec![
        node("mn", Os::Almalinux, &["2001:db8::2"], &[(PA, "mn")]),
        node(
            "sn1",
            Os::Almalinux,
            &[PA_SN1, "2001:db8::10"],
            &[(PA, "sn-postfix")],
        ),
        node("sn2", Os::Almalinux, &[PA_SN2], &[(PA, "sn-postfix")]),
    ]);
    let plan = derive_checked(&t);
    let sn1 = plan_node(&plan, "sn1");
    let internal: Vec<&Rule> = sn1
        .inbound
        .iter()
        .filter(|r| r.ports.contains(8352))
        .collect();
    assert_eq!(internal.len(), 1, "{internal:?}");
    assert_eq!(
        internal[0].peers,
        Peers::V6(vec!["2001:db8::2/128".parse().expect("net")])
    );
    for a in [PA_MN, PA_SN2, STRANGER, "0.0.0.0", "2001:db8::3"] {
        assert!(
            !allows(&sn1.inbound, Tcp, 8352, ip(a)),
            "sn1 tcp/8352 from {a}"
        );
    }
    // The MN sees a dual-stack SN and a v4-only SN: one v4 rule and one v6 rule, never mixed.
    let mn = plan_node(&plan, "mn");
    let internal: Vec<&Rule> = mn
        .inbound
        .iter()
        .filter(|r| r.ports.contains(8352))
        .collect();
    assert_eq!(internal.len(), 2, "{internal:?}");
    assert!(internal.iter().any(|r| matches!(&r.peers, Peers::V4(v) if v.len() == 1 && v[0].to_string() == "203.0.113.10/31")));
    assert!(internal.iter().any(|r| matches!(&r.peers, Peers::V6(v) if v.len() == 1 && v[0].to_string() == "2001:db8::10/128")));
    // No rule anywhere carries Any for a role-to-role flow.
    for np in &plan.nodes {
        for r in np.rules() {
            if r.ports.contains(8352) {
                assert!(!r.peers.is_any(), "{}: {r:?}", np.name);
            }
        }
    }
}

#[test]
fn admin_zone_with_only_ipv6_gives_only_ipv6_ssh() {
    let mut t = site(vec![node("sn1", Os::Almalinux, &[PA_SN1], &[(VZ, "vhs")])]);
    t.zones = vec![zone("admin", &["2001:db8:a::/64"])];
    let plan = derive_checked(&t);
    let ssh: Vec<&Rule> = plan_node(&plan, "sn1")
        .inbound
        .iter()
        .filter(|r| r.ports.contains(22))
        .collect();
    assert!(!ssh.is_empty());
    assert!(
        ssh.iter().all(|r| matches!(r.peers, Peers::V6(_))),
        "{ssh:?}"
    );
    assert!(!tcp_in(&plan, "sn1", 22, ADMIN_HOST));
    assert!(!tcp_in(&plan, "sn1", 22, "0.0.0.1"));
    assert!(tcp_in(&plan, "sn1", 22, "2001:db8:a::1"));
}

// ------------------------------------------------------------------------------------------------
// MailStore SPE (seed 001)

const MS_MGMT: &str = "203.0.113.20";
const MS_CAS: &str = "203.0.113.21";
const MS_IH1: &str = "203.0.113.22";
const MS_IH2: &str = "203.0.113.23";
const MS_ALL: [&str; 7] = [
    MS_MGMT, MS_CAS, MS_IH1, MS_IH2, ADMIN_HOST, STRANGER, STRANGER6,
];

fn ms_site() -> Topology {
    let w = Os::WindowsServer2022;
    site(vec![
        node("mgmt", w, &[MS_MGMT], &[(MS, "mgmt")]),
        node("cas", w, &[MS_CAS], &[(MS, "cas")]),
        node("ih1", w, &[MS_IH1], &[(MS, "ih")]),
        node("ih2", w, &[MS_IH2], &[(MS, "ih")]),
    ])
}

#[test]
fn ms_instance_host_accepts_8472_only_from_mgmt_and_cas() {
    let plan = derive_checked(&ms_site());
    for ih in ["ih1", "ih2"] {
        assert_eq!(
            allowed(&plan_node(&plan, ih).inbound, Tcp, 8472, &MS_ALL),
            set_of(&[MS_MGMT, MS_CAS]),
            "{ih}"
        );
    }
    // And the senders have the outbound half, to both IHs and nothing else.
    for src in ["mgmt", "cas"] {
        assert_eq!(
            allowed(&plan_node(&plan, src).outbound, Tcp, 8472, &MS_ALL),
            set_of(&[MS_IH1, MS_IH2]),
            "{src}"
        );
    }
    // An IH never talks to another IH on 8472.
    assert!(!any_rule_has_port(
        &plan_node(&plan, "ih1").outbound,
        Tcp,
        8472
    ));
}

#[test]
fn ms_internal_ports_of_mgmt_and_cas() {
    let plan = derive_checked(&ms_site());
    // 8471 | CAS, IH | MGMT
    assert_eq!(
        allowed(&plan_node(&plan, "mgmt").inbound, Tcp, 8471, &MS_ALL),
        set_of(&[MS_CAS, MS_IH1, MS_IH2])
    );
    // 8473 | MGMT | CAS
    assert_eq!(
        allowed(&plan_node(&plan, "cas").inbound, Tcp, 8473, &MS_ALL),
        set_of(&[MS_MGMT])
    );
    // 8470 | ADM | MGMT
    assert_eq!(
        allowed(&plan_node(&plan, "mgmt").inbound, Tcp, 8470, &MS_ALL),
        set_of(&[ADMIN_HOST])
    );
    // 8474 | ADM | MGMT and 8474 | IH, CAS | MGMT (optional pairing, on by default)
    assert_eq!(
        allowed(&plan_node(&plan, "mgmt").inbound, Tcp, 8474, &MS_ALL),
        set_of(&[MS_CAS, MS_IH1, MS_IH2, ADMIN_HOST])
    );
    // 443, 143, 993 | ANY | CAS
    for port in [443, 143, 993] {
        assert_eq!(
            allowed(&plan_node(&plan, "cas").inbound, Tcp, port, &MS_ALL),
            set_of(&MS_ALL),
            "cas tcp/{port} from any"
        );
        assert!(!tcp_in(&plan, "ih1", port, STRANGER), "ih1 tcp/{port}");
        assert!(!tcp_in(&plan, "mgmt", port, STRANGER), "mgmt tcp/{port}");
    }
    // IH connects out to mail/LDAP servers anywhere; the CAS does not.
    for port in [110, 143, 389, 443, 587, 636, 993, 995, 4040] {
        assert!(tcp_out(&plan, "ih1", port, STRANGER), "ih1 out tcp/{port}");
    }
    assert!(!tcp_out(&plan, "cas", 389, STRANGER));
    // Every table row is TCP.
    for np in &plan.nodes {
        for r in np.rules() {
            if r.provenance.iter().all(|f| f.product(&catalog()).id == MS) {
                assert_eq!(r.protocol, Tcp, "{}: {r:?}", np.name);
            }
        }
    }
}

#[test]
fn ms_pairing_switch_closes_8474_to_ih_and_cas() {
    let mut t = ms_site();
    set(&mut t.nodes[0], "mgmt", "mgmt_pairing", "off");
    let plan = derive_checked(&t);
    assert_eq!(
        allowed(&plan_node(&plan, "mgmt").inbound, Tcp, 8474, &MS_ALL),
        set_of(&[ADMIN_HOST])
    );
    assert!(!tcp_out(&plan, "ih1", 8474, MS_MGMT));
    assert!(!tcp_out(&plan, "cas", 8474, MS_MGMT));
}

#[test]
fn ms_altered_default_port_changes_both_ends() {
    // "These are the default ports which may have been altered."
    let mut t = ms_site();
    set(&mut t.nodes[2], "ih", "ih_internal_port", "9472");
    let plan = derive_checked(&t);
    // ih1 listens on 9472 now, ih2 still on 8472.
    assert_eq!(
        allowed(&plan_node(&plan, "ih1").inbound, Tcp, 9472, &MS_ALL),
        set_of(&[MS_MGMT, MS_CAS])
    );
    assert!(allowed(&plan_node(&plan, "ih1").inbound, Tcp, 8472, &MS_ALL).is_empty());
    assert_eq!(
        allowed(&plan_node(&plan, "ih2").inbound, Tcp, 8472, &MS_ALL),
        set_of(&[MS_MGMT, MS_CAS])
    );
    assert!(allowed(&plan_node(&plan, "ih2").inbound, Tcp, 9472, &MS_ALL).is_empty());
    for src in ["mgmt", "cas"] {
        let out = &plan_node(&plan, src).outbound;
        assert_eq!(
            allowed(out, Tcp, 9472, &MS_ALL),
            set_of(&[MS_IH1]),
            "{src} out 9472"
        );
        assert_eq!(
            allowed(out, Tcp, 8472, &MS_ALL),
            set_of(&[MS_IH2]),
            "{src} out 8472"
        );
    }

    // A port declared on the listener (mgmt) reaches the connecting side (cas, ih).
    let mut t = ms_site();
    set(&mut t.nodes[0], "mgmt", "mgmt_internal_port", "9471");
    let plan = derive_checked(&t);
    assert_eq!(
        allowed(&plan_node(&plan, "mgmt").inbound, Tcp, 9471, &MS_ALL),
        set_of(&[MS_CAS, MS_IH1, MS_IH2])
    );
    assert!(!any_rule_has_port(
        &plan_node(&plan, "mgmt").inbound,
        Tcp,
        8471
    ));
    for src in ["cas", "ih1", "ih2"] {
        assert!(tcp_out(&plan, src, 9471, MS_MGMT), "{src}");
        assert!(!tcp_out(&plan, src, 8471, MS_MGMT), "{src}");
    }
}

#[test]
fn ms_my_mailstore_is_a_dns_peer_until_pinned() {
    let mut t = ms_site();
    // Windows Update would allow 443 to any address: this test is about the MailStore flow alone.
    t.os_updates = false;
    let plan = derive_checked(&t);
    let mgmt = plan_node(&plan, "mgmt");
    let dns: Vec<&Rule> = mgmt
        .outbound
        .iter()
        .filter(|r| matches!(r.peers, Peers::Dns(_)))
        .collect();
    assert_eq!(dns.len(), 1, "{:?}", mgmt.outbound);
    assert_eq!(dns[0].peers, Peers::Dns(vec!["my.mailstore.com".into()]));
    assert_eq!(dns[0].protocol, Tcp);
    assert!(dns[0].ports.contains(443));
    // A host name never matches an address, so 443 is not open to a stranger from this rule.
    assert!(!tcp_out(&plan, "mgmt", 443, STRANGER));
    assert!(
        findings_of(&plan, Code::DnsPeer)
            .iter()
            .any(|f| f.node.as_deref() == Some("mgmt") && f.message.contains("my.mailstore.com"))
    );
    // Only mgmt reaches my.mailstore.com in multi server mode.
    assert!(!has_finding(&plan, Code::DnsPeer, Some("cas")));

    t.external_hosts.push(ExternalHost {
        name: "My.MailStore.com".into(),
        addresses: vec![ip("192.0.2.80"), ip("2001:db8:80::1")],
        note: String::new(),
    });
    let plan = derive_checked(&t);
    assert!(
        !has_finding(&plan, Code::DnsPeer, Some("mgmt")),
        "{:?}",
        plan.findings
    );
    let mgmt = plan_node(&plan, "mgmt");
    assert!(mgmt.rules().all(|r| !matches!(r.peers, Peers::Dns(_))));
    assert!(tcp_out(&plan, "mgmt", 443, "192.0.2.80"));
    assert!(tcp_out(&plan, "mgmt", 443, "2001:db8:80::1"));
    assert!(!tcp_out(&plan, "mgmt", 443, "192.0.2.81"));
    assert!(!tcp_out(&plan, "mgmt", 443, STRANGER));
}

#[test]
fn ms_instance_host_without_management_server_is_fw003() {
    let t = site(vec![node(
        "ih1",
        Os::WindowsServer2022,
        &[MS_IH1],
        &[(MS, "ih")],
    )]);
    let plan = derive_checked(&t);
    assert!(
        findings_of(&plan, Code::PeerRoleMissing)
            .iter()
            .any(|f| f.message.contains("mailstore-spe/mgmt")),
        "{:?}",
        plan.findings
    );
    assert!(!any_rule_has_port(
        &plan_node(&plan, "ih1").inbound,
        Tcp,
        8472
    ));
}

#[test]
fn ms_co_hosted_roles_drop_host_internal_flows() {
    // Roles may be co-hosted on one machine: a node never gets a rule for itself.
    let w = Os::WindowsServer2022;
    let t = site(vec![
        node("mgmt-cas", w, &[MS_MGMT], &[(MS, "mgmt"), (MS, "cas")]),
        node("ih1", w, &[MS_IH1], &[(MS, "ih")]),
    ]);
    let plan = derive_checked(&t);
    assert_eq!(
        inbound_from_others(&plan, "mgmt-cas", MS_MGMT, Tcp, 8473, &MS_ALL),
        BTreeSet::new()
    );
    assert_eq!(
        inbound_from_others(&plan, "mgmt-cas", MS_MGMT, Tcp, 8471, &MS_ALL),
        set_of(&[MS_IH1])
    );
    assert_eq!(
        allowed(&plan_node(&plan, "ih1").inbound, Tcp, 8472, &MS_ALL),
        set_of(&[MS_MGMT])
    );
}

// ------------------------------------------------------------------------------------------------
// CommuniGate Pro (seed 002)

const CGP_B1: &str = "203.0.113.30";
const CGP_B2: &str = "203.0.113.31";
const CGP_F1: &str = "203.0.113.32";
const TRUSTED: &str = "192.0.2.0/26";
const TRUSTED_HOST: &str = "192.0.2.9";
const CGP_ALL: [&str; 7] = [
    CGP_B1,
    CGP_B2,
    CGP_F1,
    ADMIN_HOST,
    TRUSTED_HOST,
    STRANGER,
    STRANGER6,
];
/// Seed section 3 (387 corrected to 389).
const INTER_CLUSTER_TCP: [u16; 16] = [
    21, 25, 80, 106, 110, 143, 389, 674, 5060, 5222, 8010, 8021, 8100, 9010, 9100, 11024,
];

fn cgp_cluster() -> Topology {
    let mut t = site(vec![
        node("b1", Os::Almalinux, &[CGP_B1], &[(CGP, "backend")]),
        node("b2", Os::Almalinux, &[CGP_B2], &[(CGP, "backend")]),
        node("f1", Os::Almalinux, &[CGP_F1], &[(CGP, "frontend")]),
    ]);
    t.zones.push(zone("trusted", &[TRUSTED]));
    t
}

#[test]
fn cgp_backends_take_the_inter_cluster_ports_from_other_members_only() {
    // FTP (21, 8021) is off by default and the frontends take the list too
    // (tests/catalog_corrections.rs): on, and the per-pair hardening, to see the pairing alone.
    let mut t = cgp_cluster();
    for (i, role) in [(0, "backend"), (1, "backend"), (2, "frontend")] {
        set(&mut t.nodes[i], role, "ftp", "on");
    }
    set(&mut t.nodes[2], "frontend", "cluster_both_ways", "off");
    let plan = derive_checked(&t);
    for (b, other) in [("b1", CGP_B2), ("b2", CGP_B1)] {
        let rules = &plan_node(&plan, b).inbound;
        for port in INTER_CLUSTER_TCP {
            let got = allowed(rules, Tcp, port, &CGP_ALL);
            assert!(
                got.contains(&ip(other)),
                "{b} tcp/{port} from the other backend"
            );
            assert!(
                got.contains(&ip(CGP_F1)),
                "{b} tcp/{port} from the frontend"
            );
            assert!(
                !got.contains(&ip(STRANGER)),
                "{b} tcp/{port} from a stranger"
            );
        }
        assert!(allows(rules, Udp, 69, ip(other)), "{b} udp/69 (TFTP)");
        assert!(allows(rules, Udp, 5060, ip(CGP_F1)), "{b} udp/5060 (SIP)");
        // The seed's 387 is an error for LDAP 389: never opened.
        assert!(!any_rule_has_port(rules, Tcp, 387), "{b}: 387");
        // Backends take no Internet traffic.
        assert!(!tcp_in(&plan, b, 25, STRANGER));
        assert!(!tcp_in(&plan, b, 143, STRANGER6));
    }
    // The other end: the frontend connects to both backends, backends to each other.
    for port in INTER_CLUSTER_TCP {
        // (All egress is open by default, "Keep State", so only "allowed" can be checked here.)
        assert!(
            tcp_out(&plan, "f1", port, CGP_B1) && tcp_out(&plan, "f1", port, CGP_B2),
            "f1 out {port}"
        );
        assert!(tcp_out(&plan, "b1", port, CGP_B2), "b1 out {port}");
    }
    // Backends reach frontends on 25, 106, 5060 (inferred), nothing else cluster-wise.
    for port in [25, 106, 5060] {
        assert_eq!(
            allowed(
                &plan_node(&plan, "f1").inbound,
                Tcp,
                port,
                &[CGP_B1, CGP_B2]
            ),
            set_of(&[CGP_B1, CGP_B2]),
            "f1 tcp/{port}"
        );
    }
    // 106 on a frontend is for backends and the admin zone, not the Internet.
    assert!(!tcp_in(&plan, "f1", 106, STRANGER));
    assert!(tcp_in(&plan, "f1", 106, ADMIN_HOST));
    // Other inter-cluster ports are backend listeners only (389 stays trusted-zone on a frontend).
    assert!(
        !tcp_in(&plan, "f1", 389, CGP_B1),
        "f1 tcp/389 from a backend"
    );
    assert!(
        !tcp_in(&plan, "f1", 674, CGP_B2),
        "f1 tcp/674 from a backend"
    );
}

#[test]
fn cgp_frontend_public_ports_follow_the_seed_errata() {
    let mut t = cgp_cluster();
    // FTP is off by default (tests/catalog_corrections.rs); on here for its passive range.
    set(&mut t.nodes[2], "frontend", "ftp", "on");
    let plan = derive_checked(&t);
    let f1 = &plan_node(&plan, "f1").inbound;
    // Public list.
    for port in [
        25, 110, 143, 465, 587, 636, 993, 995, 5060, 5061, 5222, 8100, 9100, 11024,
    ] {
        assert!(allows(f1, Tcp, port, ip(STRANGER)), "f1 tcp/{port}");
        assert!(allows(f1, Tcp, port, ip(STRANGER6)), "f1 tcp/{port} v6");
    }
    // "22 FTP DATA [UDP,TCP]" is not FTP: 22 stays SSH from admin only.
    assert!(!allows(f1, Tcp, 22, ip(STRANGER)));
    assert!(!allows(f1, Udp, 22, ip(STRANGER)));
    assert!(allows(f1, Tcp, 22, ip(ADMIN_HOST)));
    // UDP dropped for SIPS/XMPP/XIMSS; TCP dropped for RTP.
    for port in [5061, 5222, 5223, 11024, 11025] {
        assert!(!allows(f1, Udp, port, ip(STRANGER)), "f1 udp/{port}");
    }
    assert!(allows(f1, Udp, 60000, ip(STRANGER)));
    assert!(allows(f1, Udp, 60099, ip(STRANGER)));
    assert!(!allows(f1, Udp, 60100, ip(STRANGER)));
    // Trusted-only ports: TFTP 69, LDAP 389, ACAP 674.
    assert!(allows(f1, Udp, 69, ip(TRUSTED_HOST)));
    assert!(!allows(f1, Udp, 69, ip(STRANGER)));
    for port in [389, 674] {
        assert!(
            allows(f1, Tcp, port, ip(TRUSTED_HOST)),
            "f1 tcp/{port} trusted"
        );
        assert!(
            !allows(f1, Tcp, port, ip(STRANGER)),
            "f1 tcp/{port} stranger"
        );
    }
    assert!(!any_rule_has_port(f1, Tcp, 387));
    // The frontend's FTP passive ports are the unpinned fallback 1024-65535 (ftp_passive is declared
    // on `server`), open to any: that must be reported on the frontend.
    assert!(allows(f1, Tcp, 40000, ip(STRANGER)));
    assert!(
        findings_of(&plan, Code::DynamicPortUnset)
            .iter()
            .any(|f| f.node.as_deref() == Some("f1") && f.message.contains("ftp_passive")),
        "{:?}",
        plan.findings
    );
    // Backends take no FTP from outside, so no FW004 there.
    assert!(
        !has_finding(&plan, Code::DynamicPortUnset, Some("b1")),
        "{:?}",
        plan.findings
    );
    // No trusted-only port is ever open to any.
    assert!(
        findings_of(&plan, Code::TrustedOnlyOpenToAny).is_empty(),
        "{:?}",
        plan.findings
    );
}

#[test]
fn cgp_single_server_has_no_cluster_rules_and_no_missing_peers() {
    let mut t = site(vec![node(
        "cgp",
        Os::Almalinux,
        &[CGP_B1],
        &[(CGP, "server")],
    )]);
    t.zones.push(zone("trusted", &[TRUSTED]));
    let plan = derive_checked(&t);
    assert!(
        findings_of(&plan, Code::PeerRoleMissing).is_empty(),
        "{:?}",
        plan.findings
    );
    // Keep State: all outbound open by default.
    assert!(allows(
        &plan_node(&plan, "cgp").outbound,
        Udp,
        12345,
        ip(STRANGER)
    ));
    // 106 is from the admin zone only on a single server.
    assert!(tcp_in(&plan, "cgp", 106, ADMIN_HOST));
    assert!(!tcp_in(&plan, "cgp", 106, STRANGER));
    // 53 only with a co-located DNS server (off by default).
    assert!(!allows(
        &plan_node(&plan, "cgp").inbound,
        Udp,
        53,
        ip(STRANGER)
    ));
    // WebAdmin 8010/9010 from the admin zone only (FTP off, so no passive fallback covers them).
    set(&mut t.nodes[0], "server", "ftp", "off");
    let plan = derive_checked(&t);
    for port in [8010, 9010] {
        assert!(
            tcp_in(&plan, "cgp", port, ADMIN_HOST),
            "tcp/{port} from admin"
        );
        assert!(
            !tcp_in(&plan, "cgp", port, STRANGER),
            "tcp/{port} from a stranger"
        );
    }
    assert!(!tcp_in(&plan, "cgp", 40000, STRANGER));
    assert!(
        !has_finding(&plan, Code::DynamicPortUnset, Some("cgp")),
        "{:?}",
        plan.findings
    );
}

#[test]
fn cgp_open_egress_off_keeps_only_explicit_outbound() {
    let mut t = site(vec![node(
        "cgp",
        Os::Almalinux,
        &[CGP_B1],
        &[(CGP, "server")],
    )]);
    set(&mut t.nodes[0], "server", "open_egress", "off");
    // Only the product's own outbound: package updates (80/443 to any) are tested on their own.
    t.os_updates = false;
    let plan = derive_checked(&t);
    let out = &plan_node(&plan, "cgp").outbound;
    assert!(!allows(out, Tcp, 12345, ip(STRANGER)));
    assert!(!allows(out, Tcp, 443, ip(STRANGER)));
    assert!(allows(out, Tcp, 25, ip(STRANGER)));
    assert!(allows(out, Udp, 5060, ip(STRANGER)));
}

#[test]
fn cgp_pinning_the_ftp_passive_range_replaces_the_fallback() {
    let mut t = site(vec![node(
        "cgp",
        Os::Almalinux,
        &[CGP_B1],
        &[(CGP, "server")],
    )]);
    // FTP is off by default (tests/catalog_corrections.rs).
    set(&mut t.nodes[0], "server", "ftp", "on");
    let plan = derive_checked(&t);
    // Unset: the fallback 1024-65535 is open and reported.
    assert!(tcp_in(&plan, "cgp", 40000, STRANGER));
    assert!(
        findings_of(&plan, Code::DynamicPortUnset)
            .iter()
            .any(|f| f.message.contains("ftp_passive")),
        "{:?}",
        plan.findings
    );
    set(&mut t.nodes[0], "server", "ftp_passive", "40000-40100");
    let plan = derive_checked(&t);
    assert!(tcp_in(&plan, "cgp", 40000, STRANGER));
    assert!(tcp_in(&plan, "cgp", 40100, STRANGER));
    assert!(!tcp_in(&plan, "cgp", 40101, STRANGER));
    assert!(!tcp_in(&plan, "cgp", 30000, STRANGER));
    assert!(
        !findings_of(&plan, Code::DynamicPortUnset)
            .iter()
            .any(|f| f.message.contains("ftp_passive"))
    );
    // Switching FTP off removes 21, 8021 and the passive range.
    set(&mut t.nodes[0], "server", "ftp", "off");
    let plan = derive_checked(&t);
    for port in [21, 8021, 40000] {
        assert!(!tcp_in(&plan, "cgp", port, STRANGER), "tcp/{port}");
    }
}

#[test]
fn cgp_non_default_listeners_have_switches_that_remove_their_ports() {
    // Seed line 3: "Folgende Ports sind mit dem Default-Setup von CommuniGate Pro aktiv." The ones
    // that are not CGP default listeners (reference 1.3) stay on by default, as the seed lists them,
    // and each has a switch. Checked on a single server and on a cluster frontend (which uses the
    // switches declared on `server`).
    let switches: [(&str, Protocol, u16, &str); 5] = [
        ("http_80", Tcp, 80, STRANGER),
        ("https_443", Tcp, 443, STRANGER),
        ("xmpp_tls_5223", Tcp, 5223, STRANGER),
        ("ximss_tls_11025", Tcp, 11025, STRANGER),
        ("tftp", Udp, 69, TRUSTED_HOST),
    ];
    let single = || {
        let mut t = site(vec![node(
            "cgp",
            Os::Almalinux,
            &[CGP_B1],
            &[(CGP, "server")],
        )]);
        t.zones.push(zone("trusted", &[TRUSTED]));
        t
    };
    for (mut topology, n, role) in [
        (single(), "cgp", "server"),
        (cgp_cluster(), "f1", "frontend"),
    ] {
        let i = topology
            .nodes
            .iter()
            .position(|x| x.name == n)
            .expect("node");
        // Pinned, so the FTP passive fallback 1024-65535 does not cover 5223 and 11025.
        set(&mut topology.nodes[i], role, "ftp_passive", "40000-40999");
        // The frontend's inter-cluster listeners (80 among them) are not what is switched here.
        if role == "frontend" {
            set(&mut topology.nodes[i], role, "cluster_both_ways", "off");
        }
        let plan = derive_checked(&topology);
        for (_, proto, port, from) in switches {
            assert!(
                allows(&plan_node(&plan, n).inbound, proto, port, ip(from)),
                "{n}: {proto}/{port} on by default"
            );
        }
        for (switch, proto, port, _) in switches {
            let mut t = topology.clone();
            set(&mut t.nodes[i], role, switch, "off");
            let plan = derive_checked(&t);
            let inbound = &plan_node(&plan, n).inbound;
            assert!(
                !any_rule_has_port(inbound, proto, port),
                "{n}: {switch} off still opens {proto}/{port}"
            );
            // Only its own port goes.
            for (other, p2, port2, from2) in switches {
                if other != switch {
                    assert!(
                        allows(inbound, p2, port2, ip(from2)),
                        "{n}: {switch} off closed {p2}/{port2}"
                    );
                }
            }
            assert!(
                allows(inbound, Tcp, 8100, ip(STRANGER)),
                "{n}: WebUser 8100"
            );
        }
    }
    // 21, 80 and 443 rest on errata flows: the seed calls them default listeners, they are not.
    let cat = catalog();
    let product = cat.product(CGP).unwrap();
    for id in ["ftp-21", "http-80", "https-443", "cluster-ftp-21"] {
        let f = product.flows.iter().find(|f| f.id == id).expect(id);
        assert!(f.has_tag(Tag::Errata), "{id} errata");
        assert!(
            f.note
                .contains("Folgende Ports sind mit dem Default-Setup von CommuniGate Pro aktiv."),
            "{id} quotes seed line 3"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// cPanel & WHM (seed 003)

const CP_HOST: &str = "203.0.113.40";

fn cp_site() -> Topology {
    site(vec![node(
        "cp",
        Os::Almalinux,
        &[CP_HOST, "2001:db8::40"],
        &[(CP, "server")],
    )])
}

#[test]
fn cpanel_localhost_ports_are_never_rules() {
    let plan = derive_checked(&cp_site());
    let cp = plan_node(&plan, "cp");
    for (proto, port) in [(Tcp, 783), (Udp, 783), (Tcp, 579), (Tcp, 953), (Udp, 953)] {
        assert!(
            !any_rule_has_port(&cp.inbound, proto, port),
            "{proto}/{port} inbound"
        );
        assert!(
            cp.local_only
                .iter()
                .any(|l| l.protocol == proto && l.ports.contains(port)),
            "{proto}/{port} local_only"
        );
    }
    assert!(
        findings_of(&plan, Code::LocalhostPortExposed).is_empty(),
        "{:?}",
        plan.findings
    );
}

#[test]
fn cpanel_783_opened_by_another_product_is_fw002() {
    // A CGP Dynamic Cluster backend on the cPanel server, with "no filtering between cluster
    // members" on, opens every port to the other backend, 783 included.
    let mut t = site(vec![
        node(
            "cp",
            Os::Almalinux,
            &[CP_HOST],
            &[(CP, "server"), (CGP, "backend")],
        ),
        node("b2", Os::Almalinux, &[CGP_B2], &[(CGP, "backend")]),
    ]);
    set(&mut t.nodes[0], "backend", "cluster_any_port", "on");
    set(&mut t.nodes[1], "backend", "cluster_any_port", "on");
    let plan = derive_checked(&t);
    assert!(allows(
        &plan_node(&plan, "cp").inbound,
        Tcp,
        783,
        ip(CGP_B2)
    ));
    let f: Vec<_> = findings_of(&plan, Code::LocalhostPortExposed)
        .into_iter()
        .filter(|f| f.node.as_deref() == Some("cp"))
        .collect();
    assert!(
        f.iter().any(|f| f.message.contains("783")),
        "{:?}",
        plan.findings
    );
    assert!(f.iter().all(|f| f.severity == Severity::Error));
    // b2 has no localhost-only port, so no FW002 there.
    assert!(!has_finding(&plan, Code::LocalhostPortExposed, Some("b2")));
}

#[test]
fn cpanel_783_opened_by_a_user_product_is_fw002() {
    let user = r#"(id: "spamd-public", name: "spamd", vendor: "test", document: (id: "t", title: "t"),
        roles: [(id: "spamd", name: "spamd")],
        flows: [(id: "spamd-in", service: "spamd", protocols: [tcp], ports: [Port(783)], from: [Any],
                 to: [Role("spamd")], source: (section: "test"))])"#;
    let sources = fwtopo::catalog::EMBEDDED
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .chain([("user.ron".to_string(), user.to_string())]);
    let cat = Catalog::from_sources(sources).expect("catalog with a user product");
    let t = site(vec![node(
        "cp",
        Os::Almalinux,
        &[CP_HOST],
        &[(CP, "server"), ("spamd-public", "spamd")],
    )]);
    let plan = derive(&cat, &t);
    check_invariants(&t, &plan);
    assert!(allows(
        &plan_node(&plan, "cp").inbound,
        Tcp,
        783,
        ip(STRANGER)
    ));
    let f = findings_of(&plan, Code::LocalhostPortExposed);
    assert_eq!(f.len(), 1, "{:?}", plan.findings);
    assert!(f[0].message.contains("tcp/783"), "{}", f[0].message);
    // udp/783 stays closed: the user flow is TCP only.
    assert!(!any_rule_has_port(
        &plan_node(&plan, "cp").inbound,
        Udp,
        783
    ));
}

#[test]
fn cpanel_switches_remove_their_ports() {
    let mut t = cp_site();
    let plan = derive_checked(&t);
    let mail_in = [25, 110, 143, 465, 587, 993, 995];
    for port in mail_in {
        assert!(
            tcp_in(&plan, "cp", port, STRANGER),
            "mail tcp/{port} on by default"
        );
    }
    for port in [20, 21, 49152, 65534, 2077, 2078, 2079, 2080] {
        assert!(
            tcp_in(&plan, "cp", port, STRANGER),
            "tcp/{port} on by default"
        );
    }
    assert!(allows(
        &plan_node(&plan, "cp").inbound,
        Udp,
        53,
        ip(STRANGER)
    ));
    // Off by default.
    for port in [26, 2091, 3306] {
        assert!(
            !any_rule_has_port(&plan_node(&plan, "cp").inbound, Tcp, port),
            "tcp/{port} off by default"
        );
    }
    assert!(!tcp_out(&plan, "cp", 2195, STRANGER));

    for s in ["mail", "ftp", "webdisk", "caldav", "dns"] {
        set(&mut t.nodes[0], "server", s, "off");
    }
    let plan = derive_checked(&t);
    let cp = plan_node(&plan, "cp");
    for port in mail_in {
        assert!(
            !any_rule_has_port(&cp.inbound, Tcp, port),
            "mail off: tcp/{port}"
        );
    }
    for port in [20, 21, 49152, 60000, 65534, 2077, 2078, 2079, 2080, 53] {
        assert!(
            !any_rule_has_port(&cp.inbound, Tcp, port),
            "off: tcp/{port}"
        );
    }
    assert!(!any_rule_has_port(&cp.inbound, Udp, 53));
    assert!(
        !cp.local_only.iter().any(|l| l.ports.contains(953)),
        "953 belongs to the dns switch"
    );
    // The server still relays mail and resolves names.
    assert!(tcp_out(&plan, "cp", 25, STRANGER));
    assert!(allows(&cp.outbound, Udp, 53, ip(STRANGER)));
    // Web and cPanel/WHM stay.
    for port in [80, 443, 2083, 2087, 2096] {
        assert!(tcp_in(&plan, "cp", port, STRANGER), "tcp/{port}");
    }
}

#[test]
fn cpanel_ftp_off_removes_outbound_20_and_21_too() {
    let mut t = cp_site();
    let plan = derive_checked(&t);
    for port in [20, 21] {
        assert!(
            tcp_out(&plan, "cp", port, STRANGER),
            "out tcp/{port} on by default"
        );
    }
    set(&mut t.nodes[0], "server", "ftp", "off");
    let plan = derive_checked(&t);
    let cp = plan_node(&plan, "cp");
    for port in [20, 21] {
        assert!(
            !any_rule_has_port(&cp.outbound, Tcp, port),
            "ftp off: outbound tcp/{port}"
        );
        assert!(
            !any_rule_has_port(&cp.inbound, Tcp, port),
            "ftp off: inbound tcp/{port}"
        );
    }
    // The rest of the server's own outbound traffic stays.
    assert!(tcp_out(&plan, "cp", 25, STRANGER));
    assert!(tcp_out(&plan, "cp", 80, STRANGER));
}

#[test]
fn cpanel_ftp_passive_range_and_mysql_remote() {
    let mut t = cp_site();
    t.zones.push(zone("trusted", &[TRUSTED]));
    set(&mut t.nodes[0], "server", "ftp_passive", "30000-30009");
    set(&mut t.nodes[0], "server", "mysql_remote", "on");
    let plan = derive_checked(&t);
    assert!(tcp_in(&plan, "cp", 30000, STRANGER));
    assert!(tcp_in(&plan, "cp", 30009, STRANGER));
    assert!(!tcp_in(&plan, "cp", 30010, STRANGER));
    assert!(!tcp_in(&plan, "cp", 49152, STRANGER));
    // 3306 from trusted only, never any.
    assert!(tcp_in(&plan, "cp", 3306, TRUSTED_HOST));
    assert!(!tcp_in(&plan, "cp", 3306, STRANGER));
    assert!(!tcp_in(&plan, "cp", 3306, ADMIN_HOST));
}

#[test]
fn cpanel_outbound_licensing_and_autossl() {
    let plan = derive_checked(&cp_site());
    let cp = plan_node(&plan, "cp");
    // "permit outbound TCP connections ... to destination port 2089" and not inbound.
    assert!(allows(&cp.outbound, Tcp, 2089, ip(STRANGER)));
    assert!(!any_rule_has_port(&cp.inbound, Tcp, 2089));
    // AutoSSL reaches store.cpanel.net by name, but 443 out is open to any anyway (https-out):
    // the name is absorbed by `any`, so there is no host-name rule and no FW006 to resolve it.
    assert!(allows(&cp.outbound, Tcp, 443, ip(STRANGER)));
    assert!(
        cp.outbound
            .iter()
            .all(|r| !matches!(r.peers, Peers::Dns(_))),
        "{:?}",
        cp.outbound
    );
    assert!(
        findings_of(&plan, Code::DnsPeer).is_empty(),
        "{:?}",
        plan.findings
    );
    let cat = catalog();
    let out443 = cp
        .outbound
        .iter()
        .find(|r| r.protocol == Tcp && r.ports.contains(443) && r.peers.is_any())
        .expect("443 out");
    assert!(
        out443
            .provenance
            .iter()
            .any(|f| f.flow(&cat).id == "autossl-out"),
        "autossl-out kept in provenance"
    );
    // License callback ranges reach the cPanel/WHM ports.
    assert!(allows(&cp.inbound, Tcp, 2087, ip("208.74.121.10")));
}

// ------------------------------------------------------------------------------------------------
// Virtuozzo Hybrid Server + Storage (seed 004)

const VZ_MDS1: &str = "203.0.113.50";
const VZ_MDS2: &str = "203.0.113.51";
const VZ_CS1: &str = "203.0.113.60";
const VZ_CS2: &str = "203.0.113.61";
const VZ_CLIENT: &str = "203.0.113.70";
const VZ_ALL: [&str; 8] = [
    VZ_MDS1,
    VZ_MDS2,
    VZ_CS1,
    VZ_CS2,
    VZ_CLIENT,
    ADMIN_HOST,
    STRANGER,
    "203.0.113.52",
];

fn vz_site() -> Topology {
    let os = Os::Virtuozzo;
    site(vec![
        node("mds1", os, &[VZ_MDS1], &[(VZ, "vhs"), (VZ, "mds")]),
        node("mds2", os, &[VZ_MDS2], &[(VZ, "vhs"), (VZ, "mds")]),
        node("cs1", os, &[VZ_CS1], &[(VZ, "vhs"), (VZ, "cs")]),
        node("cs2", os, &[VZ_CS2], &[(VZ, "vhs"), (VZ, "cs")]),
        node("client", os, &[VZ_CLIENT], &[(VZ, "vhs"), (VZ, "client")]),
    ])
}

fn vz_site_pinned() -> Topology {
    let mut t = vz_site();
    set(&mut t.nodes[2], "cs", "cs_port", "7000");
    set(&mut t.nodes[3], "cs", "cs_port", "7000");
    t
}

#[test]
fn vz_client_needs_2511_out_to_exactly_the_mds_servers() {
    let plan = derive_checked(&vz_site_pinned());
    for n in ["client", "cs1", "cs2"] {
        assert_eq!(
            allowed(&plan_node(&plan, n).outbound, Tcp, 2511, &VZ_ALL),
            set_of(&[VZ_MDS1, VZ_MDS2]),
            "{n} out 2511"
        );
    }
    // The MDS accepts 2511 from chunk servers and clients, 2510 from the other MDS only.
    for (m, own, other) in [("mds1", VZ_MDS1, VZ_MDS2), ("mds2", VZ_MDS2, VZ_MDS1)] {
        assert_eq!(
            inbound_from_others(&plan, m, own, Tcp, 2511, &VZ_ALL),
            set_of(&[VZ_CS1, VZ_CS2, VZ_CLIENT]),
            "{m} in 2511"
        );
        assert_eq!(
            inbound_from_others(&plan, m, own, Tcp, 2510, &VZ_ALL),
            set_of(&[other]),
            "{m} in 2510"
        );
        let mut out = allowed(&plan_node(&plan, m).outbound, Tcp, 2510, &VZ_ALL);
        out.remove(&ip(own));
        assert_eq!(out, set_of(&[other]), "{m} out 2510");
    }
    // Nothing to open inbound on a pure client for storage.
    for port in [2510, 2511, 7000] {
        assert!(
            allowed(&plan_node(&plan, "client").inbound, Tcp, port, &VZ_ALL).is_empty(),
            "client in {port}"
        );
    }
}

#[test]
fn vz_pinned_chunk_server_port_is_used_on_both_ends() {
    let plan = derive_checked(&vz_site_pinned());
    for (cs, own, other) in [("cs1", VZ_CS1, VZ_CS2), ("cs2", VZ_CS2, VZ_CS1)] {
        assert_eq!(
            inbound_from_others(&plan, cs, own, Tcp, 7000, &VZ_ALL),
            set_of(&[VZ_CLIENT, other]),
            "{cs} in 7000"
        );
        assert!(
            inbound_from_others(&plan, cs, own, Tcp, 7001, &VZ_ALL).is_empty(),
            "{cs} in 7001"
        );
        assert!(
            inbound_from_others(&plan, cs, own, Tcp, 40000, &VZ_ALL).is_empty(),
            "{cs} in 40000"
        );
    }
    assert_eq!(
        allowed(&plan_node(&plan, "client").outbound, Tcp, 7000, &VZ_ALL),
        set_of(&[VZ_CS1, VZ_CS2])
    );
    assert!(allowed(&plan_node(&plan, "client").outbound, Tcp, 40000, &VZ_ALL).is_empty());
    assert!(
        !findings_of(&plan, Code::DynamicPortUnset)
            .iter()
            .any(|f| f.message.contains("cs_port")),
        "{:?}",
        plan.findings
    );
}

#[test]
fn vz_unpinned_chunk_server_port_is_the_reported_fallback() {
    let plan = derive_checked(&vz_site());
    for cs in ["cs1", "cs2"] {
        assert!(
            findings_of(&plan, Code::DynamicPortUnset)
                .iter()
                .any(|f| f.node.as_deref() == Some(cs) && f.message.contains("cs_port")),
            "{cs}: {:?}",
            plan.findings
        );
        for port in [1024, 40000, 65535] {
            assert!(
                tcp_in(&plan, cs, port, VZ_CLIENT),
                "{cs} tcp/{port} from the client"
            );
        }
        assert!(!tcp_in(&plan, cs, 1023, VZ_CLIENT));
        assert!(!tcp_in(&plan, cs, 40000, STRANGER));
    }
    assert!(tcp_out(&plan, "client", 40000, VZ_CS1));
    // The MDS does not play cs: no FW004 for cs_port there.
    assert!(
        !findings_of(&plan, Code::DynamicPortUnset)
            .iter()
            .any(|f| f.node.as_deref() == Some("mds1") && f.message.contains("cs_port"))
    );
}

#[test]
fn vz_mixed_chunk_server_ports_follow_each_listener() {
    // cs1 pinned to 7000, cs2 left on its run-time port (fallback 1024-65535). Each chunk server
    // listens on its own port, so the connection cs1 -> cs2 goes to cs2's port and cs2 -> cs1 to 7000.
    let mut t = vz_site();
    set(&mut t.nodes[2], "cs", "cs_port", "7000");
    let plan = derive_checked(&t);
    // cs1 listens on 7000 only.
    assert_eq!(
        inbound_from_others(&plan, "cs1", VZ_CS1, Tcp, 7000, &VZ_ALL),
        set_of(&[VZ_CLIENT, VZ_CS2])
    );
    assert!(inbound_from_others(&plan, "cs1", VZ_CS1, Tcp, 40000, &VZ_ALL).is_empty());
    // cs2 listens somewhere in 1024-65535: reachable from the client and from cs1 alike.
    for port in [1024, 7000, 40000, 65535] {
        assert_eq!(
            inbound_from_others(&plan, "cs2", VZ_CS2, Tcp, port, &VZ_ALL),
            set_of(&[VZ_CLIENT, VZ_CS1]),
            "cs2 in tcp/{port}"
        );
        assert!(
            tcp_out(&plan, "cs1", port, VZ_CS2),
            "cs1 out tcp/{port} to cs2"
        );
    }
    assert!(tcp_out(&plan, "cs2", 7000, VZ_CS1));
    assert!(!tcp_out(&plan, "cs2", 40000, VZ_CS1));
}

#[test]
fn vz_pinning_mds_ports_changes_both_ends() {
    let mut t = vz_site_pinned();
    for i in [0, 1] {
        set(&mut t.nodes[i], "mds", "mds_peer_port", "4110");
        set(&mut t.nodes[i], "mds", "mds_client_port", "4111");
    }
    let plan = derive_checked(&t);
    assert_eq!(
        allowed(&plan_node(&plan, "client").outbound, Tcp, 4111, &VZ_ALL),
        set_of(&[VZ_MDS1, VZ_MDS2])
    );
    assert!(allowed(&plan_node(&plan, "client").outbound, Tcp, 2511, &VZ_ALL).is_empty());
    assert_eq!(
        inbound_from_others(&plan, "mds1", VZ_MDS1, Tcp, 4111, &VZ_ALL),
        set_of(&[VZ_CS1, VZ_CS2, VZ_CLIENT])
    );
    assert_eq!(
        inbound_from_others(&plan, "mds1", VZ_MDS1, Tcp, 4110, &VZ_ALL),
        set_of(&[VZ_MDS2])
    );
    assert!(inbound_from_others(&plan, "mds1", VZ_MDS1, Tcp, 2510, &VZ_ALL).is_empty());
    assert!(tcp_out(&plan, "mds2", 4110, VZ_MDS1));
    assert!(!tcp_out(&plan, "mds2", 2510, VZ_MDS1));
}

#[test]
fn vz_standalone_ports() {
    let plan = derive_checked(&vz_site_pinned());
    let np = plan_node(&plan, "client");
    // 67 is never opened externally.
    assert!(!any_rule_has_port(&np.inbound, Udp, 67));
    assert!(
        np.local_only
            .iter()
            .any(|l| l.protocol == Udp && l.ports.contains(67))
    );
    // SSH, dispatcher and VNC from admin; dispatcher also between VHS hosts.
    for port in [22, 64000, 5700, 6900] {
        assert!(tcp_in(&plan, "client", port, ADMIN_HOST), "tcp/{port}");
        assert!(!tcp_in(&plan, "client", port, STRANGER), "tcp/{port}");
    }
    assert!(!tcp_in(&plan, "client", 6901, ADMIN_HOST));
    assert!(tcp_in(&plan, "client", 64000, VZ_CS1));
    assert!(tcp_out(&plan, "client", 64000, VZ_CS1));
    // Outbound only: 443 problem reports, 5224 Key Administrator, 80 updates.
    for port in [80, 443, 5224] {
        assert!(tcp_out(&plan, "client", port, STRANGER), "out tcp/{port}");
        assert!(!tcp_in(&plan, "client", port, STRANGER), "in tcp/{port}");
    }
    // RPC and DHCP portreserve are off by default.
    for port in [111, 647, 847] {
        assert!(!any_rule_has_port(&np.inbound, Tcp, port), "tcp/{port}");
    }
}

#[test]
fn vz_container_to_vm_migration_ports_run_between_vhs_hosts() {
    // Reference 1.5: "1621, 1622 | tcp | out | other hypervisor | VZ7 docs: container→VM migration".
    let plan = derive_checked(&vz_site_pinned());
    for port in [1621, 1622] {
        assert!(tcp_out(&plan, "client", port, VZ_CS1), "client out {port}");
        assert!(tcp_out(&plan, "mds1", port, VZ_CLIENT), "mds1 out {port}");
        assert!(
            !tcp_out(&plan, "client", port, STRANGER),
            "out {port} to a stranger"
        );
        // The target host accepts from the other VHS hosts only.
        assert_eq!(
            inbound_from_others(&plan, "cs1", VZ_CS1, Tcp, port, &VZ_ALL),
            set_of(&[VZ_MDS1, VZ_MDS2, VZ_CS2, VZ_CLIENT]),
            "cs1 tcp/{port}"
        );
        assert!(
            !tcp_in(&plan, "cs1", port, ADMIN_HOST),
            "cs1 tcp/{port} from admin"
        );
        assert!(!any_rule_has_port(
            &plan_node(&plan, "cs1").inbound,
            Udp,
            port
        ));
    }
    assert!(!tcp_in(&plan, "cs1", 1620, VZ_CLIENT));
    assert!(!tcp_in(&plan, "cs1", 1623, VZ_CLIENT));
    let cat = catalog();
    let rule = plan_node(&plan, "cs1")
        .inbound
        .iter()
        .find(|r| r.protocol == Tcp && r.ports.contains(1621))
        .expect("1621 in");
    assert!(
        rule.provenance
            .iter()
            .any(|f| f.flow(&cat).id == "ct-to-vm-migration"),
        "provenance"
    );
}

#[test]
fn vz_switched_off_rpc_ports_are_not_reported_as_open() {
    // vhs_rpc is off by default, so the unpinned rpc_ports range opens nothing: no FW004.
    let plan = derive_checked(&vz_site_pinned());
    assert!(
        findings_of(&plan, Code::DynamicPortUnset).is_empty(),
        "{:?}",
        plan.findings
    );
    let mut t = vz_site_pinned();
    t.zones.push(zone("trusted", &[TRUSTED]));
    set(&mut t.nodes[4], "vhs", "vhs_rpc", "on");
    let plan = derive_checked(&t);
    let f = findings_of(&plan, Code::DynamicPortUnset);
    assert_eq!(f.len(), 1, "{:?}", plan.findings);
    assert_eq!(f[0].node.as_deref(), Some("client"));
    assert!(
        f[0].message.contains("rpc_ports") && f[0].message.contains("1024-65535"),
        "{}",
        f[0].message
    );
    assert!(allows(
        &plan_node(&plan, "client").inbound,
        Udp,
        40000,
        ip(TRUSTED_HOST)
    ));
}

#[test]
fn vz_rpc_switch_opens_rpcbind_to_trusted_only() {
    let mut t = vz_site_pinned();
    t.zones.push(zone("trusted", &[TRUSTED]));
    set(&mut t.nodes[4], "vhs", "vhs_rpc", "on");
    set(&mut t.nodes[4], "vhs", "rpc_ports", "20048");
    let plan = derive_checked(&t);
    for proto in [Tcp, Udp] {
        for port in [111, 20048] {
            assert!(
                allows(
                    &plan_node(&plan, "client").inbound,
                    proto,
                    port,
                    ip(TRUSTED_HOST)
                ),
                "{proto}/{port}"
            );
            assert!(
                !allows(
                    &plan_node(&plan, "client").inbound,
                    proto,
                    port,
                    ip(STRANGER)
                ),
                "{proto}/{port}"
            );
        }
        assert!(!allows(
            &plan_node(&plan, "client").inbound,
            proto,
            20049,
            ip(TRUSTED_HOST)
        ));
        assert!(!allows(
            &plan_node(&plan, "cs1").inbound,
            proto,
            111,
            ip(TRUSTED_HOST)
        ));
    }
}

// ------------------------------------------------------------------------------------------------
// Findings across products

#[test]
fn no_admin_zone_is_fw007_on_every_node() {
    let mut t = pa_site();
    t.nodes.extend(vz_site_pinned().nodes);
    t.nodes.extend(ms_site().nodes);
    t.zones.clear();
    let plan = derive_checked(&t);
    for n in &t.nodes {
        let f: Vec<_> = plan
            .findings
            .iter()
            .filter(|f| {
                f.code == Code::NoManagementAccess && f.node.as_deref() == Some(n.name.as_str())
            })
            .collect();
        assert_eq!(f.len(), 1, "{}: {:?}", n.name, plan.findings);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            plan_node(&plan, &n.name)
                .inbound
                .iter()
                .all(|r| !r.is_management())
        );
    }
    assert!(plan.has_errors());
    // The missing zone is named once for the whole topology.
    assert!(plan.findings.iter().any(|f| f.code == Code::ZoneUndefined
        && f.node.is_none()
        && f.message.contains("'admin'")));
}

#[test]
fn management_off_is_a_warning_and_removes_ssh() {
    let mut t = pa_site();
    t.nodes[1].management = false;
    let plan = derive_checked(&t);
    let f: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.code == Code::NoManagementAccess)
        .collect();
    assert_eq!(f.len(), 1, "{:?}", plan.findings);
    assert_eq!(f[0].node.as_deref(), Some("sn1"));
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(!tcp_in(&plan, "sn1", 22, ADMIN_HOST));
    assert!(tcp_in(&plan, "sn2", 22, ADMIN_HOST));
}

#[test]
fn management_rules_stay_separate_and_first() {
    let plan = derive_checked(&pa_site());
    for np in &plan.nodes {
        let first_other = np
            .inbound
            .iter()
            .position(|r| !r.is_management())
            .unwrap_or(np.inbound.len());
        assert!(
            np.inbound[..first_other].iter().all(|r| r.is_management()),
            "{}",
            np.name
        );
        assert!(
            np.inbound[first_other..].iter().all(|r| !r.is_management()),
            "{}: management rules after others",
            np.name
        );
        assert!(first_other > 0, "{}: no management rule", np.name);
    }
}

#[test]
fn node_without_address_is_fw014() {
    let mut t = pa_site();
    t.nodes[1].addresses.clear();
    let plan = derive_checked(&t);
    assert!(has_finding(&plan, Code::NodeWithoutAddress, Some("sn1")));
    assert!(!has_finding(&plan, Code::NodeWithoutAddress, Some("sn2")));
    // The MN has no peer address for sn1, so nothing lets "sn1" in.
    assert_eq!(
        allowed(&plan_node(&plan, "mn").inbound, Tcp, 8352, &PA_ALL),
        set_of(&[PA_SN2, PA_IIS])
    );
}

#[test]
fn two_products_on_one_port_is_fw005() {
    // cPanel's httpd and PA's Apache both listen on 80.
    let t = site(vec![
        node("mn", Os::Almalinux, &[PA_MN], &[(PA, "mn")]),
        node(
            "both",
            Os::Almalinux,
            &[PA_SN1],
            &[(CP, "server"), (PA, "sn-apache")],
        ),
    ]);
    let plan = derive_checked(&t);
    let f: Vec<_> = findings_of(&plan, Code::PortConflict)
        .into_iter()
        .filter(|f| f.node.as_deref() == Some("both"))
        .collect();
    assert!(
        f.iter().any(|f| f.message.contains("tcp/80")),
        "{:?}",
        plan.findings
    );
    assert!(!has_finding(&plan, Code::PortConflict, Some("mn")));
}

// ------------------------------------------------------------------------------------------------
// Determinism

fn mixed_site() -> Topology {
    let mut t = pa_site();
    t.nodes.extend(ms_site().nodes);
    t.nodes.extend(cgp_cluster().nodes);
    t.nodes.extend(vz_site().nodes);
    t.nodes.push(node(
        "cp",
        Os::Ubuntu,
        &[CP_HOST, "2001:db8::40"],
        &[(CP, "server")],
    ));
    t.zones.push(zone("trusted", &[TRUSTED, "2001:db8:7::/48"]));
    t
}

#[test]
fn derive_is_deterministic() {
    let cat = catalog();
    let t = mixed_site();
    let a = derive(&cat, &t);
    let b = derive(&cat, &t);
    assert_eq!(a, b);
    check_invariants(&t, &a);
}

#[test]
fn rules_do_not_depend_on_role_or_node_order() {
    let cat = catalog();
    let t = mixed_site();
    let a = derive(&cat, &t);
    let mut u = t.clone();
    u.nodes.reverse();
    for n in &mut u.nodes {
        n.roles.reverse();
    }
    let b = derive(&cat, &u);
    for na in &a.nodes {
        let nb = plan_node(&b, &na.name);
        assert_eq!(na.inbound, nb.inbound, "{} inbound", na.name);
        assert_eq!(na.outbound, nb.outbound, "{} outbound", na.name);
        assert_eq!(na.local_only, nb.local_only, "{} local_only", na.name);
    }
    let codes = |p: &Plan| {
        p.findings
            .iter()
            .map(|f| (f.code, f.node.clone()))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(codes(&a), codes(&b));
}

#[test]
fn rules_are_merged_one_per_direction_protocol_and_peers() {
    let cat = catalog();
    let plan = derive(&cat, &mixed_site());
    for np in &plan.nodes {
        let mut seen = BTreeSet::new();
        for r in np.rules() {
            // Temporary and insecure ports keep rules of their own (issue 13 item 6).
            let apart = (r.has_tag(Tag::Temporary), r.has_tag(Tag::Insecure));
            assert!(
                seen.insert((
                    r.direction,
                    r.protocol,
                    r.peers.clone(),
                    r.is_management(),
                    apart
                )),
                "{}: two rules for {:?} {} {}",
                np.name,
                r.direction,
                r.protocol,
                r.peers
            );
            // Tags are the union of the producing flows' tags.
            let tags: BTreeSet<_> = r
                .provenance
                .iter()
                .flat_map(|f| f.flow(&cat).tags.iter().copied())
                .collect();
            assert_eq!(r.tags, tags.into_iter().collect::<Vec<_>>(), "{}", np.name);
        }
    }
}

/// Issue 11.1: every member of a mesh (each chunk server a peer of every other) shares one peer
/// set and one rule list. A copy per member without its own address made memory grow with the
/// square of the mesh (8,000 nodes took 4 GB). The addresses are spread over one /64 per node, as
/// in real sites, so the sets do not aggregate.
#[test]
fn vz_mesh_members_share_one_rule_list() {
    let os = Os::Virtuozzo;
    let mut nodes = vec![node(
        "mds1",
        os,
        &[VZ_MDS1, "2001:db8:50::1"],
        &[(VZ, "vhs"), (VZ, "mds")],
    )];
    for i in 0..60u16 {
        let v4 = format!("198.51.100.{}", i + 1);
        let v6 = format!("2001:db8:{:x}::{:x}", 0x100 + i * 3, i + 1);
        let mut n = node(
            &format!("cs{i}"),
            os,
            &[&v4, &v6],
            &[(VZ, "vhs"), (VZ, "cs")],
        );
        set(&mut n, "cs", "cs_port", "7000");
        nodes.push(n);
    }
    let t = site(nodes);
    let plan = derive_checked(&t);
    let first = plan_node(&plan, "cs0");
    for np in plan.nodes.iter().filter(|n| n.name.starts_with("cs")) {
        assert!(
            std::sync::Arc::ptr_eq(&np.inbound, &first.inbound)
                && std::sync::Arc::ptr_eq(&np.outbound, &first.outbound),
            "{} has rule lists of its own",
            np.name
        );
        // Every other chunk server reaches it on the pinned port, over both families.
        let own = &t.nodes[np.node].addresses;
        for other in t.nodes.iter().filter(|n| n.name.starts_with("cs")) {
            for a in other.addresses.iter().filter(|a| !own.contains(a)) {
                assert!(
                    allows(&np.inbound, Tcp, 7000, *a),
                    "{} does not accept {a} on 7000",
                    np.name
                );
            }
        }
    }
}

/// A member whose group mates have no address of one of its families gets no rule for that
/// family: the set would hold its own addresses alone.
#[test]
fn a_family_held_by_the_node_alone_gives_no_rule() {
    let mut t = vz_site_pinned();
    t.nodes[2].addresses.push(ip("2001:db8:60::1"));
    let plan = derive_checked(&t);
    let cs1 = plan_node(&plan, "cs1");
    assert!(
        cs1.rules().all(|r| !matches!(r.peers, Peers::V6(_))),
        "cs1 has an IPv6 rule although no other node has an IPv6 address: {:?}",
        cs1.rules()
            .filter(|r| matches!(r.peers, Peers::V6(_)))
            .collect::<Vec<_>>()
    );
    // cs2 still accepts cs1's IPv6 address on the pinned port.
    assert!(allows(
        &plan_node(&plan, "cs2").inbound,
        Tcp,
        7000,
        ip("2001:db8:60::1")
    ));
}

// ------------------------------------------------------------------------------------------------
// Common services (issue 13, item 2): the invariants hold for every role and switch of the product.

#[test]
fn common_services_keep_the_invariants() {
    const CS: &str = "common-services";
    let cat = catalog();
    let product = cat.product(CS).expect("common-services is built in");
    // Every role on a server and on a client node, every switch on.
    let roles: Vec<(&str, &str)> = product.roles.iter().map(|r| (CS, r.id.as_str())).collect();
    let mut a = node("a", Os::Almalinux, &["203.0.113.2", "2001:db8::2"], &[]);
    let mut b = node("b", Os::Almalinux, &["203.0.113.3", "2001:db8::3"], &[]);
    for n in [&mut a, &mut b] {
        n.roles = roles
            .iter()
            .filter(|(_, r)| *r != "updates-windows")
            .map(|(p, r)| RoleAssignment::new(*p, *r))
            .collect();
    }
    for role in &product.roles {
        for prm in &role.parameters {
            if matches!(prm.kind, fwtopo::catalog::ParamKind::Switch { .. })
                && let Some(ra) = a.roles.iter_mut().find(|ra| ra.role == role.id)
            {
                ra.params.insert(prm.id.clone(), "on".into());
            }
        }
    }
    let plan = derive_checked(&site(vec![a, b]));
    assert!(tcp_in(&plan, "b", 22, "203.0.113.2"), "rsync_ssh is on");
    assert!(tcp_in(&plan, "b", 10050, "203.0.113.2"));
    assert!(tcp_in(&plan, "a", 10051, "2001:db8::3"));
    assert!(!tcp_in(&plan, "b", 10050, STRANGER));
}
