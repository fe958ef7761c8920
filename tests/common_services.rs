//! The common-services product and strict egress that keeps hosts alive (issue 13, items 2 and 4):
//! both ends of its flows, the package updates every node gets by its OS, the topology switch that
//! turns them off, and the findings that say what `--egress strict` will block.

use fwtopo::catalog::Catalog;
use fwtopo::engine::{Code, Plan, Severity, allows, derive};
use fwtopo::ports::Protocol::{Tcp, Udp};
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone, from_ron, to_ron};
use std::net::IpAddr;

const CS: &str = "common-services";
const ADMIN_HOST: &str = "198.51.100.5";
const STRANGER: &str = "192.0.2.200";
const MON: &str = "203.0.113.2";
const WEB: &str = "203.0.113.10";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("valid address")
}

/// A role of a node: product, role id and the parameters set on it.
type Assigned<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

fn node(name: &str, os: Os, addr: &str, roles: &[Assigned<'_>]) -> Node {
    let mut n = Node::new(name, os);
    n.addresses = vec![ip(addr)];
    n.roles = roles
        .iter()
        .map(|(p, r, params)| {
            let mut ra = RoleAssignment::new(*p, *r);
            for (k, v) in *params {
                ra.params.insert(k.to_string(), v.to_string());
            }
            ra
        })
        .collect();
    n
}

fn site(nodes: Vec<Node>) -> Topology {
    Topology {
        name: "t".into(),
        zones: vec![Zone {
            name: "admin".into(),
            cidrs: vec!["198.51.100.0/28".parse().expect("cidr")],
            note: String::new(),
        }],
        nodes,
        ..Topology::default()
    }
}

fn plan(t: &Topology) -> Plan {
    derive(&Catalog::embedded().expect("catalog"), t)
}

fn allows_in(p: &Plan, n: &str, proto: fwtopo::ports::Protocol, port: u16, from: &str) -> bool {
    let np = p.node(n).expect("node in plan");
    allows(&np.inbound, proto, port, ip(from))
}

fn allows_out(p: &Plan, n: &str, proto: fwtopo::ports::Protocol, port: u16, to: &str) -> bool {
    let np = p.node(n).expect("node in plan");
    allows(&np.outbound, proto, port, ip(to))
}

fn findings<'p>(p: &'p Plan, code: Code, n: Option<&str>) -> Vec<&'p fwtopo::engine::Finding> {
    p.findings
        .iter()
        .filter(|f| f.code == code && f.node.as_deref() == n)
        .collect()
}

/// A monitoring, backup, relay, NTP and load-balancer server in front of a web node.
fn services_site(all_switches: bool) -> Topology {
    let on: &[(&str, &str)] = if all_switches {
        &[
            ("prometheus", "on"),
            ("snmp", "on"),
            ("syslog", "on"),
            ("syslog_tls", "on"),
        ]
    } else {
        &[]
    };
    let rsync: &[(&str, &str)] = if all_switches {
        &[("rsync_ssh", "on")]
    } else {
        &[]
    };
    site(vec![
        node(
            "mon",
            Os::Almalinux,
            MON,
            &[
                (CS, "monitoring-server", on),
                (CS, "backup-server", rsync),
                (CS, "mail-relay", &[]),
                (CS, "ntp-server", &[]),
                (CS, "load-balancer", &[]),
            ],
        ),
        node(
            "web",
            Os::Debian,
            WEB,
            &[
                (CS, "monitored-node", &[]),
                (CS, "backup-client", &[]),
                (CS, "relay-client", &[]),
                (CS, "ntp-client", &[]),
                (CS, "lb-target", &[("service_port", "8080")]),
            ],
        ),
    ])
}

#[test]
fn common_services_open_both_ends_to_their_peers_only() {
    let p = plan(&services_site(true));
    // Monitoring: the server polls the agent, the agent reports to the server.
    for (port, proto) in [(10050, Tcp), (9100, Tcp), (161, Udp)] {
        assert!(allows_in(&p, "web", proto, port, MON), "{port} from mon");
        assert!(!allows_in(&p, "web", proto, port, STRANGER), "{port}");
        assert!(allows_out(&p, "mon", proto, port, WEB), "{port} out");
    }
    for (port, proto) in [
        (10051, Tcp),
        (162, Udp),
        (514, Udp),
        (514, Tcp),
        (6514, Tcp),
    ] {
        assert!(allows_in(&p, "mon", proto, port, WEB), "{port} from web");
        assert!(!allows_in(&p, "mon", proto, port, STRANGER), "{port}");
        assert!(allows_out(&p, "web", proto, port, MON), "{port} out");
    }
    // Backup: Director to File Daemon, File Daemon to Storage Daemon, console from admin.
    assert!(allows_in(&p, "web", Tcp, 9102, MON));
    assert!(allows_in(&p, "mon", Tcp, 9103, WEB));
    assert!(allows_in(&p, "mon", Tcp, 9101, ADMIN_HOST));
    assert!(!allows_in(&p, "mon", Tcp, 9101, WEB));
    assert!(allows_in(&p, "web", Tcp, 22, MON), "rsync over SSH");
    // Mail relay, NTP, load balancer.
    for port in [25, 587] {
        assert!(allows_in(&p, "mon", Tcp, port, WEB), "{port}");
        assert!(!allows_in(&p, "mon", Tcp, port, STRANGER), "{port}");
    }
    assert!(allows_out(&p, "mon", Tcp, 25, STRANGER), "relay delivers");
    assert!(allows_in(&p, "mon", Udp, 123, WEB));
    assert!(allows_in(&p, "web", Tcp, 8080, MON), "service_port");
    assert!(allows_in(&p, "web", Tcp, 80, MON), "health_port default");
    assert!(!allows_in(&p, "web", Tcp, 8080, STRANGER));
}

#[test]
fn common_services_switches_default_to_zabbix_and_bacula_only() {
    let p = plan(&services_site(false));
    assert!(allows_in(&p, "web", Tcp, 10050, MON));
    assert!(allows_in(&p, "web", Tcp, 9102, MON));
    for (port, proto) in [(9100, Tcp), (161, Udp), (22, Tcp)] {
        assert!(!allows_in(&p, "web", proto, port, MON), "{port} is off");
    }
    assert!(!allows_in(&p, "mon", Udp, 514, WEB), "syslog is off");
}

#[test]
fn every_node_keeps_its_os_updates_by_default() {
    let t = site(vec![
        node("deb", Os::Ubuntu, "203.0.113.20", &[]),
        node("rpm", Os::Rocky, "203.0.113.21", &[]),
        node("win", Os::WindowsServer2022, "203.0.113.22", &[]),
    ]);
    let p = plan(&t);
    let cat = Catalog::embedded().expect("catalog");
    for (n, role) in [
        ("deb", "updates-deb"),
        ("rpm", "updates-rpm"),
        ("win", "updates-windows"),
    ] {
        for port in [80, 443] {
            assert!(allows_out(&p, n, Tcp, port, STRANGER), "{n} {port}");
        }
        let np = p.node(n).expect("node");
        let roles: Vec<String> = np
            .outbound
            .iter()
            .flat_map(|r| r.provenance.iter())
            .map(|f| format!("{}/{}", f.product(&cat).id, f.role_id(&cat)))
            .collect();
        assert!(roles.contains(&format!("{CS}/{role}")), "{n}: {roles:?}");
        // Updates are outbound only: nothing comes in on 80/443.
        assert!(!allows_in(&p, n, Tcp, 443, STRANGER), "{n}");
    }
    // Said once for the topology, not once per node.
    assert_eq!(findings(&p, Code::UpdatesToAnyAddress, None).len(), 1);
    assert!(findings(&p, Code::StrictEgressBlocks, Some("deb")).is_empty());
}

#[test]
fn os_updates_false_turns_them_off_and_check_says_strict_egress_blocks_them() {
    let mut t = site(vec![
        node("rpm", Os::Almalinux, "203.0.113.21", &[]),
        node(
            "own",
            Os::Debian,
            "203.0.113.23",
            &[(CS, "updates-deb", &[])],
        ),
    ]);
    t.os_updates = false;
    let p = plan(&t);
    assert!(!allows_out(&p, "rpm", Tcp, 443, STRANGER));
    let blocked = findings(&p, Code::StrictEgressBlocks, Some("rpm"));
    assert_eq!(blocked.len(), 1, "{:?}", p.findings);
    assert_eq!(blocked[0].severity, Severity::Warning);
    assert!(blocked[0].message.contains("updates-rpm"), "{blocked:?}");
    assert!(findings(&p, Code::UpdatesToAnyAddress, None).is_empty());
    // A node that lists its updates role keeps it.
    assert!(allows_out(&p, "own", Tcp, 443, STRANGER));
    assert!(findings(&p, Code::StrictEgressBlocks, Some("own")).is_empty());
}

#[test]
fn os_updates_is_a_topology_field_written_only_when_off() {
    let text = "(version: 1, os_updates: false, nodes: [(name: \"a\", os: \"debian\", addresses: [\"203.0.113.5\"])])";
    let t = from_ron(text).expect("loads");
    assert!(!t.os_updates);
    assert!(to_ron(&t).contains("os_updates: false"));
    assert_eq!(from_ron(&to_ron(&t)).expect("round trip"), t);
    let on = from_ron("(version: 1, nodes: [])").expect("loads");
    assert!(on.os_updates);
    assert!(!to_ron(&on).contains("os_updates"));
}

/// PA with strict egress in real kernels: the webmail node could not reach the mail node's IMAP
/// and SMTP, and the MN had no way to the licence server.
#[test]
fn pa_webmail_reaches_the_mail_nodes_and_the_mn_its_licence_server() {
    let pa = "plesk-automation";
    let mut t = site(vec![
        node("mn", Os::Almalinux, MON, &[(pa, "mn", &[])]),
        node("webmail", Os::Almalinux, WEB, &[(pa, "sn-webmail", &[])]),
        node(
            "mail",
            Os::Almalinux,
            "203.0.113.13",
            &[(pa, "sn-postfix", &[])],
        ),
    ]);
    let p = plan(&t);
    for port in [25, 143, 587, 993] {
        assert!(
            allows_out(&p, "webmail", Tcp, port, "203.0.113.13"),
            "{port}"
        );
        assert!(!allows_out(&p, "webmail", Tcp, port, STRANGER), "{port}");
    }
    assert!(allows_out(&p, "mn", Tcp, 5224, STRANGER));
    assert!(findings(&p, Code::StrictEgressBlocks, Some("webmail")).is_empty());

    t.nodes[1].roles[0]
        .params
        .insert("webmail_mail".into(), "off".into());
    t.nodes[0].roles[0]
        .params
        .insert("licence_out".into(), "off".into());
    let p = plan(&t);
    assert!(!allows_out(&p, "webmail", Tcp, 143, "203.0.113.13"));
    let said = |n: &str, flow: &str| {
        findings(&p, Code::StrictEgressBlocks, Some(n))
            .iter()
            .any(|f| f.message.contains(flow) && f.severity == Severity::Info)
    };
    assert!(
        said("webmail", "plesk-automation/webmail-to-mail"),
        "{:?}",
        p.findings
    );
    assert!(
        said("mn", "plesk-automation/key-administrator-out"),
        "{:?}",
        p.findings
    );
}

#[test]
fn cpanel_and_virtuozzo_needs_behind_switches_are_named_by_check() {
    let vz = "virtuozzo-hybrid-server";
    let mut t = site(vec![
        node("cp", Os::Ubuntu, WEB, &[("cpanel-whm", "server", &[])]),
        node(
            "mds1",
            Os::Virtuozzo,
            "203.0.113.30",
            &[(vz, "vhs", &[]), (vz, "mds", &[])],
        ),
        node(
            "mds2",
            Os::Virtuozzo,
            "203.0.113.31",
            &[(vz, "vhs", &[]), (vz, "mds", &[])],
        ),
    ]);
    let p = plan(&t);
    let said = |p: &Plan, n: &str, what: &str| {
        findings(p, Code::StrictEgressBlocks, Some(n))
            .iter()
            .any(|f| f.message.contains(what))
    };
    assert!(said(&p, "cp", "apt-keyserver-out"), "{:?}", p.findings);
    assert!(said(&p, "mds1", "mdns-multicast"), "{:?}", p.findings);
    assert!(!allows_out(&p, "mds1", Udp, 5353, "224.0.0.251"));

    t.nodes[0].roles[0]
        .params
        .insert("apt_11371".into(), "on".into());
    for n in &mut t.nodes[1..] {
        n.roles[1].params.insert("mdns".into(), "on".into());
    }
    let p = plan(&t);
    assert!(!said(&p, "cp", "apt-keyserver-out"));
    assert!(allows_out(&p, "cp", Tcp, 11371, STRANGER));
    assert!(!said(&p, "mds1", "mdns"));
    assert!(allows_out(&p, "mds1", Udp, 5353, "224.0.0.251"));
    assert!(allows_in(&p, "mds1", Udp, 5353, "203.0.113.31"));
    assert!(!allows_in(&p, "mds1", Udp, 5353, STRANGER));
}
