//! Catalog corrections from an audit of the catalog against the documents (issue 13, item 5).
//!
//! Each test quotes the document's words it is written from (shared/seeds, shared/reference) and
//! checks the derived rules or findings, so it fails when the catalog goes back to the old reading.
//! Documentation addresses only (RFC 5737, RFC 3849).

use fwtopo::catalog::Catalog;
use fwtopo::engine::{Code, NodePlan, Plan, Rule, allows, derive};
use fwtopo::ports::Protocol::{self, Tcp, Udp};
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone};
use std::net::IpAddr;

const PA: &str = "plesk-automation";
const CGP: &str = "communigate-pro";
const CP: &str = "cpanel-whm";
const VZ: &str = "virtuozzo-hybrid-server";

const ADMIN: &str = "198.51.100.0/28";
const ADMIN_HOST: &str = "198.51.100.5";
const TRUSTED: &str = "192.0.2.0/26";
const STRANGER: &str = "192.0.2.200";
const STRANGER6: &str = "2001:db8:ffff::1";

const B1: &str = "203.0.113.30";
const B2: &str = "203.0.113.31";
const F1: &str = "203.0.113.32";
const F2: &str = "203.0.113.33";

fn catalog() -> Catalog {
    Catalog::embedded().expect("the embedded catalog loads")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("bad address {s}"))
}

fn node(name: &str, addr: &str, roles: &[(&str, &str)]) -> Node {
    let mut n = Node::new(name, Os::Almalinux);
    n.addresses = vec![ip(addr)];
    n.roles = roles
        .iter()
        .map(|(p, r)| RoleAssignment::new(*p, *r))
        .collect();
    n
}

fn set(t: &mut Topology, node: &str, role: &str, key: &str, value: &str) {
    let n = t
        .nodes
        .iter_mut()
        .find(|n| n.name == node)
        .unwrap_or_else(|| panic!("no node {node}"));
    let ra = n
        .roles
        .iter_mut()
        .find(|r| r.role == role)
        .unwrap_or_else(|| panic!("{node} has no role {role}"));
    ra.params.insert(key.to_string(), value.to_string());
}

fn zone(name: &str, cidr: &str) -> Zone {
    Zone {
        name: name.into(),
        cidrs: vec![cidr.parse().expect("valid cidr")],
        note: String::new(),
    }
}

fn site(nodes: Vec<Node>) -> Topology {
    Topology {
        name: "t".into(),
        zones: vec![zone("admin", ADMIN), zone("trusted", TRUSTED)],
        nodes,
        ..Topology::default()
    }
}

fn plan_of(t: &Topology) -> Plan {
    let problems = fwtopo::topology::check(t, &catalog());
    assert!(problems.is_empty(), "{problems:?}");
    derive(&catalog(), t)
}

fn node_plan<'p>(plan: &'p Plan, name: &str) -> &'p NodePlan {
    plan.node(name).unwrap_or_else(|| panic!("no node {name}"))
}

fn accepts(plan: &Plan, n: &str, proto: Protocol, port: u16, from: &str) -> bool {
    allows(&node_plan(plan, n).inbound, proto, port, ip(from))
}

fn findings(plan: &Plan, code: Code, n: &str) -> Vec<String> {
    plan.findings
        .iter()
        .filter(|f| f.code == code && f.node.as_deref() == Some(n))
        .map(|f| f.message.to_string())
        .collect()
}

/// Whether any rule comes from the flow `product/flow`.
fn from_flow(rules: &[Rule], product: &str, flow: &str) -> bool {
    let cat = catalog();
    rules.iter().any(|r| {
        r.provenance
            .iter()
            .any(|f| f.product(&cat).id == product && f.flow(&cat).id == flow)
    })
}

// ------------------------------------------------------------------------------------------------
// CommuniGate Pro (seed 002)

/// Seed 002 lists '22 FTP DATA [UDP,TCP]' among the inbound ports: passive FTP data on ports the
/// server picks at run time, which CGP's FTP module gives no setting to narrow (its Guide lists
/// only 'Passive Mode: Send WAN Address' and 'Use Fixed Active Port'), so the range is 1024-65535
/// from any and covers '8010 WebAdmin Interface [TCP]' and '9010 WebAdmin Interface Encrypted
/// [TCP]', which the catalog keeps to the admin zone. FTP is therefore off until switched on.
#[test]
fn cgp_ftp_is_off_by_default_so_no_passive_range_voids_webadmin() {
    let mut t = site(vec![node("cgp", B1, &[(CGP, "server")])]);
    let plan = plan_of(&t);
    for port in [21, 8021, 40000, 8010, 9010] {
        assert!(!accepts(&plan, "cgp", Tcp, port, STRANGER), "tcp/{port}");
        assert!(
            !accepts(&plan, "cgp", Tcp, port, STRANGER6),
            "tcp/{port} v6"
        );
    }
    for port in [8010, 9010] {
        assert!(
            accepts(&plan, "cgp", Tcp, port, ADMIN_HOST),
            "tcp/{port} admin"
        );
    }
    assert!(findings(&plan, Code::RestrictionVoided, "cgp").is_empty());
    assert!(findings(&plan, Code::DynamicPortUnset, "cgp").is_empty());
    // Switched on, FTP works as before, and the wide range is reported, not silent.
    set(&mut t, "cgp", "server", "ftp", "on");
    let plan = plan_of(&t);
    assert!(accepts(&plan, "cgp", Tcp, 8021, STRANGER));
    assert!(accepts(&plan, "cgp", Tcp, 40000, STRANGER));
    let unset = findings(&plan, Code::DynamicPortUnset, "cgp");
    assert!(unset.iter().any(|m| m.contains("ftp_passive")), "{unset:?}");
}

fn cgp_cluster() -> Topology {
    site(vec![
        node("b1", B1, &[(CGP, "backend")]),
        node("b2", B2, &[(CGP, "backend")]),
        node("f1", F1, &[(CGP, "frontend")]),
        node("f2", F2, &[(CGP, "frontend")]),
    ])
}

/// Seed 002, section 3: 'Der CommuniGate Pro Dynamic Cluster kommuniziert (standardmäßig) über
/// diese Ports.' and section 2: 'Cluster sollten ebenfalls von jedem Port zu jedem Port Daten
/// senden dürfen.' The list gives no direction; reference 1.3 recommends 'cluster peers allowed
/// on the full list in both directions ... with the per-pair mapping above as an opt-in
/// hardening'. So frontends take the list from every member too, unless `cluster_both_ways` is
/// switched off, which leaves the pairing (backends send 25, 106 and 5060 to frontends).
#[test]
fn cgp_inter_cluster_ports_run_both_ways_between_members() {
    // The seed's section 3 list without FTP 21/8021 (their own switch), 387 read as 389.
    const LIST: [u16; 14] = [
        25, 80, 106, 110, 143, 389, 674, 5060, 5222, 8010, 8100, 9010, 9100, 11024,
    ];
    let mut t = cgp_cluster();
    let plan = plan_of(&t);
    for port in LIST {
        for peer in [B1, B2, F2] {
            assert!(
                accepts(&plan, "f1", Tcp, port, peer),
                "f1 tcp/{port} from {peer}"
            );
        }
    }
    assert!(accepts(&plan, "f1", Udp, 5060, B1), "f1 udp/5060");
    // Only members: the cluster-only ports stay closed to the Internet.
    for port in [106, 389, 674, 8010, 9010] {
        assert!(!accepts(&plan, "f1", Tcp, port, STRANGER), "f1 tcp/{port}");
    }
    // The other end: backends send to frontends (egress open or not).
    set(&mut t, "b1", "backend", "open_egress", "off");
    let plan = plan_of(&t);
    assert!(allows(&node_plan(&plan, "b1").outbound, Tcp, 389, ip(F1)));
    // Per-pair hardening on the frontends.
    for f in ["f1", "f2"] {
        set(&mut t, f, "frontend", "cluster_both_ways", "off");
    }
    let plan = plan_of(&t);
    for port in [389, 674, 8010, 9010] {
        assert!(
            !accepts(&plan, "f1", Tcp, port, B1),
            "hardened f1 tcp/{port}"
        );
    }
    for port in [25, 106, 5060] {
        assert!(
            accepts(&plan, "f1", Tcp, port, B1),
            "hardened f1 tcp/{port}"
        );
    }
    // Backends keep the whole list from every member.
    for port in LIST {
        assert!(accepts(&plan, "b1", Tcp, port, F1), "b1 tcp/{port}");
    }
}

/// Seed 002, section 3: '69 TFTP [UDP]', '21 FTP [TCP]' and '8021 FTP [TCP]' between cluster
/// members. They are FTP and TFTP traffic, so they follow the `ftp` and `tftp` switches like the
/// public listeners of section 1 do.
#[test]
fn cgp_inter_cluster_tftp_and_ftp_follow_their_switches() {
    let mut t = cgp_cluster();
    let plan = plan_of(&t);
    // FTP is off by default, TFTP on.
    for port in [21, 8021] {
        assert!(
            !accepts(&plan, "b1", Tcp, port, B2),
            "b1 tcp/{port} ftp off"
        );
    }
    assert!(accepts(&plan, "b1", Udp, 69, B2));
    for n in ["b1", "b2", "f1", "f2"] {
        let role = if n.starts_with('b') {
            "backend"
        } else {
            "frontend"
        };
        set(&mut t, n, role, "tftp", "off");
        set(&mut t, n, role, "ftp", "on");
    }
    let plan = plan_of(&t);
    assert!(!accepts(&plan, "b1", Udp, 69, B2), "b1 udp/69 tftp off");
    assert!(!accepts(&plan, "b1", Udp, 69, F1), "b1 udp/69 tftp off");
    for port in [21, 8021] {
        assert!(accepts(&plan, "b1", Tcp, port, B2), "b1 tcp/{port} ftp on");
        assert!(accepts(&plan, "b1", Tcp, port, F1), "b1 tcp/{port} ftp on");
    }
}

// ------------------------------------------------------------------------------------------------
// cPanel & WHM (seed 003)

/// Seed 003: '2086 WHM and cPanel Licensing', '2087 WHM SSL and cPanel Licensing', and 'At least
/// one port in the above table must be open for the license callback mechanism to work.' WHM is
/// server administration; the callback has a flow of its own from the vendor's ranges, so WHM may
/// be limited to the admin zone (switch `whm_public` off), and while it is public `check` says so.
#[test]
fn cpanel_whm_can_be_limited_to_the_admin_zone() {
    let mut t = site(vec![node("cp", B1, &[(CP, "server")])]);
    let plan = plan_of(&t);
    for port in [2086, 2087] {
        assert!(
            accepts(&plan, "cp", Tcp, port, STRANGER),
            "tcp/{port} public"
        );
    }
    let public = findings(&plan, Code::AdministrationOpenToAny, "cp");
    assert!(
        public
            .iter()
            .any(|m| m.contains("2087") && m.contains("whm_public")),
        "{public:?}"
    );
    set(&mut t, "cp", "server", "whm_public", "off");
    let plan = plan_of(&t);
    for port in [2086, 2087] {
        assert!(!accepts(&plan, "cp", Tcp, port, STRANGER), "tcp/{port}");
        assert!(!accepts(&plan, "cp", Tcp, port, STRANGER6), "tcp/{port} v6");
        assert!(
            accepts(&plan, "cp", Tcp, port, ADMIN_HOST),
            "tcp/{port} admin"
        );
    }
    // cPanel itself stays public, and the licence callback keeps its own flow.
    assert!(accepts(&plan, "cp", Tcp, 2083, STRANGER));
    assert!(from_flow(
        &node_plan(&plan, "cp").inbound,
        CP,
        "licence-callback"
    ));
    assert!(findings(&plan, Code::AdministrationOpenToAny, "cp").is_empty());
}

/// Seed 003: '22 SSH You must open this port before you use WHM's Transfer Tool interface ...
/// when you authenticate root users with SSH keys.' and its warning 'always make certain to
/// include a way to log back in to your server'. `ssh_public` (on by default) opens the node's
/// management access to any address, beyond the admin zone of the built-in host product: a finding.
#[test]
fn cpanel_ssh_public_overriding_admin_only_ssh_is_a_finding() {
    let mut t = site(vec![node("cp", B1, &[(CP, "server")])]);
    let plan = plan_of(&t);
    assert!(accepts(&plan, "cp", Tcp, 22, STRANGER));
    let open = findings(&plan, Code::ManagementOpenToAny, "cp");
    assert!(
        open.iter()
            .any(|m| m.contains("tcp/22") && m.contains("ssh_public")),
        "{open:?}"
    );
    set(&mut t, "cp", "server", "ssh_public", "off");
    let plan = plan_of(&t);
    assert!(!accepts(&plan, "cp", Tcp, 22, STRANGER));
    assert!(accepts(&plan, "cp", Tcp, 22, ADMIN_HOST));
    assert!(findings(&plan, Code::ManagementOpenToAny, "cp").is_empty());
}

// ------------------------------------------------------------------------------------------------
// Optional flows and test ports

/// Seed 003: 'We strongly recommend that you only open ports for services that you use.' A flow
/// tagged optional is one a deployment may not need, so each has a switch that removes it.
#[test]
fn every_optional_flow_has_a_switch() {
    let cat = catalog();
    for p in cat.products() {
        for f in &p.flows {
            if f.has_tag(fwtopo::catalog::Tag::Optional) {
                assert!(
                    f.when.is_some(),
                    "{}/{} is optional without a switch",
                    p.id,
                    f.id
                );
            }
        }
    }
    // cPanel 'SSH to other servers (Transfer Tool)' and Virtuozzo 'Remote yum repositories via
    // HTTPS' ('some may require access via HTTPS or FTP', seed 004) switched off are gone.
    let mut t = site(vec![
        node("cp", B1, &[(CP, "server")]),
        node("vz", B2, &[(VZ, "vhs")]),
    ]);
    let plan = plan_of(&t);
    assert!(from_flow(&node_plan(&plan, "cp").outbound, CP, "ssh-out"));
    assert!(from_flow(
        &node_plan(&plan, "vz").outbound,
        VZ,
        "yum-repo-https"
    ));
    set(&mut t, "cp", "server", "ssh_out", "off");
    set(&mut t, "vz", "vhs", "yum_https", "off");
    let plan = plan_of(&t);
    assert!(!from_flow(&node_plan(&plan, "cp").outbound, CP, "ssh-out"));
    assert!(!from_flow(
        &node_plan(&plan, "vz").outbound,
        VZ,
        "yum-repo-https"
    ));
}

/// Seed 000: 'Test (used by utility PA.sn_test)- 51618: For testing bi-directional communication
/// with a service node' and '51619: For testing bi-directional communication with a management
/// node'. Test ports are for the time of the test: off by default, and switched on they are
/// reported (FW012) until switched off again.
#[test]
fn pa_sn_test_ports_are_off_by_default() {
    let mut t = site(vec![
        node("mn", B1, &[(PA, "mn")]),
        node("sn", B2, &[(PA, "sn-apache")]),
    ]);
    let plan = plan_of(&t);
    assert!(!accepts(&plan, "mn", Tcp, 51618, B2));
    assert!(!accepts(&plan, "sn", Tcp, 51619, B1));
    assert!(findings(&plan, Code::TemporaryPort, "mn").is_empty());
    set(&mut t, "mn", "mn", "sn_test", "on");
    let plan = plan_of(&t);
    assert!(accepts(&plan, "mn", Tcp, 51618, B2));
    assert!(accepts(&plan, "sn", Tcp, 51619, B1));
    let temporary = findings(&plan, Code::TemporaryPort, "mn");
    assert!(
        temporary.iter().any(|m| m.contains("sn_test")),
        "{temporary:?}"
    );
}
