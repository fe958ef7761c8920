//! Roles and flows of the site's own, carried in the topology (`custom: (roles, flows)`): the
//! engine derives both ends of a custom flow like a catalog flow, and provenance names the
//! topology as their source.

use fwtopo::catalog::{Catalog, Origin};
use fwtopo::engine::{Code, NodePlan, Plan, allows, derive};
use fwtopo::ports::Protocol::Tcp;
use fwtopo::topology::{check, from_ron, site_catalog};
use std::net::IpAddr;

// Without the OS update roles, which would let every node reach any address on 80 and 443 and
// hide whether the load balancer's flow reaches only the web role.
const SITE: &str = r#"(
    version: 1,
    os_updates: false,
    zones: [(name: "admin", cidrs: ["198.51.100.0/28"])],
    nodes: [
        (name: "mon", os: "debian", addresses: ["203.0.113.30"], roles: [(product: "site", role: "monitoring")]),
        (name: "bak", os: "debian", addresses: ["203.0.113.40", "2001:db8::40"], roles: [(product: "site", role: "backup")]),
        (name: "web", os: "almalinux", addresses: ["203.0.113.20"], roles: [(product: "cpanel-whm", role: "server")]),
        (name: "lb", os: "ubuntu", addresses: ["203.0.113.10"], roles: [(product: "site", role: "lb")]),
    ],
    custom: (
        roles: [(id: "monitoring"), (id: "backup"), (id: "lb", name: "Load balancer")],
        flows: [
            (id: "agent", service: "Zabbix agent", protocols: [tcp], ports: [Port(10050)],
             from: [Role("monitoring")], to: [EveryNode]),
            (id: "backup-ssh", service: "backup over SSH", protocols: [tcp], ports: [Port(22)],
             from: [EveryNode], to: [Role("backup")]),
            (id: "web-backend", service: "HTTP and HTTPS to the web role", protocols: [tcp],
             ports: [Port(80), Port(443)], from: [Role("lb")], to: [Role("cpanel-whm/server")]),
        ],
    ),
)"#;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

fn plan_of(text: &str) -> (Catalog, Plan) {
    let t = from_ron(text).unwrap_or_else(|e| panic!("{e}"));
    let base = Catalog::embedded().expect("the embedded catalog loads");
    assert_eq!(check(&t, &base), Vec::new());
    let catalog = site_catalog(&base, &t);
    let plan = derive(&catalog, &t);
    (catalog, plan)
}

fn node<'p>(plan: &'p Plan, name: &str) -> &'p NodePlan {
    plan.node(name).unwrap_or_else(|| panic!("no node {name}"))
}

/// The provenance labels of the rules of a node that allow a port to or from an address.
fn labels(catalog: &Catalog, rules: &[fwtopo::engine::Rule], port: u16, addr: &str) -> Vec<String> {
    rules
        .iter()
        .filter(|r| r.protocol == Tcp && r.ports.contains(port) && r.peers.contains(ip(addr)))
        .flat_map(|r| r.provenance.iter().map(|f| f.label(catalog)))
        .collect()
}

#[test]
fn a_custom_flow_to_every_node_gives_both_ends_their_rules() {
    let (catalog, plan) = plan_of(SITE);
    // Every node (the monitoring server itself aside) accepts 10050 from the monitoring server.
    for name in ["bak", "web", "lb"] {
        let n = node(&plan, name);
        assert!(allows(&n.inbound, Tcp, 10050, ip("203.0.113.30")), "{name}");
        assert!(!allows(&n.inbound, Tcp, 10050, ip("192.0.2.200")), "{name}");
        assert_eq!(
            labels(&catalog, &n.inbound, 10050, "203.0.113.30"),
            vec!["site/*/agent".to_string()],
            "{name}"
        );
    }
    let mon = node(&plan, "mon");
    for to in [
        "203.0.113.40",
        "2001:db8::40",
        "203.0.113.20",
        "203.0.113.10",
    ] {
        assert!(allows(&mon.outbound, Tcp, 10050, ip(to)), "{to}");
    }
    assert_eq!(
        labels(&catalog, &mon.outbound, 10050, "203.0.113.20"),
        vec!["site/monitoring/agent".to_string()]
    );
}

#[test]
fn every_node_reaches_the_backup_server_and_a_catalog_role_takes_custom_clients() {
    let (catalog, plan) = plan_of(SITE);
    let bak = node(&plan, "bak");
    for from in ["203.0.113.30", "203.0.113.20", "203.0.113.10"] {
        assert!(allows(&bak.inbound, Tcp, 22, ip(from)), "{from}");
    }
    for name in ["mon", "web", "lb"] {
        let n = node(&plan, name);
        assert!(allows(&n.outbound, Tcp, 22, ip("203.0.113.40")), "{name}");
        assert!(allows(&n.outbound, Tcp, 22, ip("2001:db8::40")), "{name}");
    }
    // The load balancer reaches the web role (a catalog role) on 80 and 443, and only it does.
    let web = node(&plan, "web");
    assert!(
        labels(&catalog, &web.inbound, 443, "203.0.113.10")
            .contains(&"site/cpanel-whm/server/web-backend".to_string())
    );
    let lb = node(&plan, "lb");
    for port in [80, 443] {
        assert!(
            allows(&lb.outbound, Tcp, port, ip("203.0.113.20")),
            "{port}"
        );
        assert!(
            !allows(&lb.outbound, Tcp, port, ip("203.0.113.40")),
            "{port}"
        );
    }
    // The flow's source is the topology, not a document.
    let f = web
        .inbound
        .iter()
        .flat_map(|r| r.provenance.iter())
        .find(|f| f.flow(&catalog).id == "web-backend")
        .expect("a rule from the custom flow");
    assert_eq!(f.flow(&catalog).source.origin, Origin::Topology);
    assert_eq!(f.product(&catalog).id, "site");
}

#[test]
fn clients_of_a_catalog_role_are_no_second_daemon_on_its_port() {
    let (_, plan) = plan_of(SITE);
    let conflicts: Vec<String> = plan
        .findings
        .iter()
        .filter(|f| f.code == Code::PortConflict)
        .map(ToString::to_string)
        .collect();
    assert!(conflicts.is_empty(), "{conflicts:?}");
    // A custom role of its own on a catalog role's port on the same node is still a conflict.
    let text = SITE
        .replace(
            r#"roles: [(product: "cpanel-whm", role: "server")]"#,
            r#"roles: [(product: "cpanel-whm", role: "server"), (product: "site", role: "lb")]"#,
        )
        .replace(
            "from: [Role(\"lb\")], to: [Role(\"cpanel-whm/server\")]",
            "from: [Any], to: [Role(\"lb\")]",
        );
    let (_, plan) = plan_of(&text);
    assert!(
        plan.findings
            .iter()
            .any(|f| f.code == Code::PortConflict && f.node.as_deref() == Some("web")),
        "{:?}",
        plan.findings
    );
}

#[test]
fn a_catalog_role_a_custom_flow_names_must_exist() {
    let t = from_ron(&SITE.replace("cpanel-whm/server\")]", "cpanel-whm/serverz\")]"))
        .expect("loads: the catalog is checked later");
    let base = Catalog::embedded().expect("catalog");
    let problems: Vec<String> = check(&t, &base).iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("custom.flows[2] \"web-backend\": to[0]: 'cpanel-whm/serverz': unknown role 'serverz' of cpanel-whm"),
        "{problems:?}"
    );
    let t = from_ron(&SITE.replace("cpanel-whm/server\")]", "nope/server\")]")).expect("loads");
    let problems: Vec<String> = check(&t, &base).iter().map(ToString::to_string).collect();
    assert!(
        problems[0].contains("to[0]") && problems[0].contains("unknown product 'nope'"),
        "{problems:?}"
    );
    // A stand-in role is no role a node can be given.
    let t = from_ron(&SITE.replace(
        "role: \"backup\")]",
        "role: \"monitoring\"), (product: \"site\", role: \"nope\")]",
    ))
    .expect("loads");
    let problems: Vec<String> = check(&t, &base).iter().map(ToString::to_string).collect();
    assert!(
        problems.iter().any(|p| p.contains("roles[1].role")
            && p.contains("unknown role 'nope' of site (known: monitoring, backup, lb)")),
        "{problems:?}"
    );
}

#[test]
fn a_catalog_product_named_site_is_not_silently_replaced_by_the_custom_roles() {
    let t = from_ron(SITE).expect("loads");
    let user = r#"(id: "site", name: "A user product", vendor: "v", document: (id: "d", title: "t"),
        roles: [(id: "monitoring", name: "M")], flows: [])"#;
    let base = Catalog::from_sources(
        fwtopo::catalog::EMBEDDED
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .chain([("site.ron".to_string(), user.to_string())]),
    )
    .expect("the catalog loads");
    let problems: Vec<String> = check(&t, &base).iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("custom: the catalog has a product 'site' of its own (site.ron)"),
        "{problems:?}"
    );
    // Not with the site catalog the command line derives with, nor without that product.
    assert!(
        check(
            &t,
            &site_catalog(&Catalog::embedded().expect("catalog"), &t)
        )
        .is_empty()
    );
}
