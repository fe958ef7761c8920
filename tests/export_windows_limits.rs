//! The Windows exports keep every line within cmd.exe's 8,191 characters, whatever the input:
//! free text of a user catalog (service names, notes, ids), a node with thousands of addresses or
//! roles, and rules with thousands of peers and hundreds of ports, which must become several rules.
//! Every script is also held to the grammars of tests/support/windows_grammar.rs, which compare
//! what the parsed rules allow with what the engine derived.

#[allow(dead_code)]
#[path = "support/windows_grammar.rs"]
mod windows_grammar;

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::Egress;
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone};
use ipnet::IpNet;
use windows_grammar::{MAX_LINE, check_node};

/// The embedded catalog and one user product.
fn catalog_with(product: &str) -> Catalog {
    catalog_with_texts(product, |_| {})
}

/// The embedded catalog and one user product, whose texts `grow` may make longer than a catalog
/// file may hold (4,096 bytes a text): the exports must keep the limit whatever the catalog holds.
fn catalog_with_texts(product: &str, grow: impl Fn(&mut fwtopo::catalog::Product)) -> Catalog {
    let user = Catalog::from_sources([("long.ron".to_string(), product.to_string())])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut catalog = Catalog::embedded().expect("embedded catalog loads");
    for p in user.products() {
        let mut p = p.clone();
        grow(&mut p);
        catalog.insert("long.ron".into(), p);
    }
    catalog
}

/// Lines longer than the limit, with their length and start.
fn long_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.len() > MAX_LINE)
        .map(|l| format!("{} characters: {}...", l.len(), &l[..60]))
        .collect()
}

/// Both exports of a node, both egress modes: every line within the limit and the grammars.
/// Returns the netsh export under open egress.
fn assert_within_the_limit(catalog: &Catalog, t: &Topology, node: &str) -> String {
    let plan = engine::derive(catalog, t);
    let mut open = String::new();
    for egress in [Egress::Open, Egress::Strict] {
        // The grammar refuses a long line too, but would panic naming only the first.
        let netsh = windows_grammar::render(
            fwtopo::target::Target::Netsh,
            catalog,
            t,
            &plan,
            node,
            windows_grammar::options(egress),
        );
        let ps = windows_grammar::render(
            fwtopo::target::Target::Powershell,
            catalog,
            t,
            &plan,
            node,
            windows_grammar::options(egress),
        );
        assert_eq!(long_lines(&netsh), Vec::<String>::new(), "netsh {egress:?}");
        assert_eq!(
            long_lines(&ps),
            Vec::<String>::new(),
            "powershell {egress:?}"
        );
        check_node(catalog, t, &plan, node, egress);
        if egress == Egress::Open {
            open = netsh;
        }
    }
    open
}

fn windows_node(name: &str, roles: Vec<RoleAssignment>) -> Node {
    let mut node = Node::new(name, Os::WindowsServer2022);
    node.addresses = vec![
        "203.0.113.201".parse().unwrap(),
        "2001:db8:1::201".parse().unwrap(),
    ];
    node.roles = roles;
    node
}

fn admin_zone(cidrs: Vec<IpNet>) -> Zone {
    Zone {
        name: "admin".into(),
        cidrs,
        note: String::new(),
    }
}

#[test]
fn a_service_name_of_9000_characters_stays_within_the_line_limit() {
    // One word of 9,000 characters (no space to wrap at), a note of many words, both on a flow
    // that is open to any address and tagged insecure, so `check` quotes the name in a finding
    // that the scripts' headers carry.
    let word = "S".repeat(9000);
    let note = "a note of many words ".repeat(500);
    // A catalog file holds texts of at most 4,096 bytes: the product is loaded with placeholders
    // and its texts grown afterwards.
    let grow = |p: &mut fwtopo::catalog::Product| {
        let long = |s: &mut String| *s = s.replace("WORD", &word).replace("NOTE", &note);
        long(&mut p.name);
        long(&mut p.vendor);
        long(&mut p.document.title);
        for r in &mut p.roles {
            long(&mut r.name);
            long(&mut r.description);
        }
        for f in &mut p.flows {
            long(&mut f.service);
            long(&mut f.note);
            long(&mut f.source.section);
        }
    };
    let product = String::from(
        r#"(id: "long", name: "WORD", vendor: "WORD", document: (id: "d", title: "WORD"),
            roles: [(id: "app", name: "WORD", description: "NOTE", platform: windows)],
            flows: [
              (id: "f1", service: "WORD", protocols: [tcp], ports: [Port(8080)], from: [Any],
               to: [Role("app")], tags: [insecure], note: "NOTE", source: (section: "WORD")),
              (id: "f2", service: "NOTE", protocols: [udp], ports: [Port(8081)], from: [Zone("admin")],
               to: [Role("app")], tags: [insecure], note: "WORD", source: (section: "NOTE")),
              (id: "f3", service: "WORD", protocols: [tcp], ports: [Port(8082)], from: [Role("app")],
               to: [Any], note: "WORD", source: (section: "WORD")),
            ])"#,
    );
    let catalog = catalog_with_texts(&product, grow);
    let t = Topology {
        name: word.clone(),
        zones: vec![admin_zone(vec!["198.51.100.0/24".parse().unwrap()])],
        nodes: vec![windows_node(
            "win-long",
            vec![RoleAssignment::new("long", "app")],
        )],
        ..Default::default()
    };
    let plan = engine::derive(&catalog, &t);
    assert!(
        plan.findings_for("win-long")
            .any(|f| f.message.contains(&word)),
        "the test needs a finding that quotes the long name"
    );
    assert_within_the_limit(&catalog, &t, "win-long");
}

#[test]
fn a_node_with_thousands_of_addresses_and_many_roles_stays_within_the_line_limit() {
    // Role ids and the product id at their longest (48 characters), 150 roles on one node, and
    // 3,000 addresses of its own: the header lists both.
    let id = |i: usize| format!("r{i:0>47}");
    let product_id = format!("p{}", "x".repeat(47));
    let roles: Vec<String> = (0..150)
        .map(|i| format!(r#"(id: "{}", name: "n", platform: windows)"#, id(i)))
        .collect();
    let product = format!(
        r#"(id: "{product_id}", name: "p", vendor: "v", document: (id: "d", title: "t"),
            roles: [{}],
            flows: [(id: "f", service: "s", protocols: [tcp], ports: [Port(8080)],
                     from: [Zone("admin")], to: [Role("{}")], source: (section: "s"))])"#,
        roles.join(", "),
        id(0)
    );
    let catalog = catalog_with(&product);
    let mut node = windows_node(
        "win-many",
        (0..150)
            .map(|i| RoleAssignment::new(&product_id, id(i)))
            .collect(),
    );
    node.addresses = (0..3000u32)
        .map(|i| {
            format!(
                "2001:db8:ffff:ffff:ffff:ffff:{:x}:{:x}",
                0x1000 + i / 16,
                0xf000 + i
            )
            .parse()
            .unwrap()
        })
        .collect();
    let t = Topology {
        name: "many".into(),
        zones: vec![admin_zone(vec!["198.51.100.0/24".parse().unwrap()])],
        nodes: vec![node],
        ..Default::default()
    };
    assert_within_the_limit(&catalog, &t, "win-many");
}

#[test]
fn a_rule_with_over_a_thousand_peers_and_a_hundred_port_ranges_is_split_into_rules_within_the_limit()
 {
    // 1,200 admin networks in IPv6's longest written form (a /127 each, never adjacent, so none
    // merge) and a flow of 101 port ranges (one more than a rule takes) from the admin zone.
    let cidrs: Vec<IpNet> = (0..1200u32)
        .map(|i| {
            format!("2001:db8:ffff:ffff:ffff:ffff:ffff:{:x}/127", 0x1000 + i * 4)
                .parse()
                .unwrap()
        })
        .collect();
    let ports: Vec<String> = (0..101u32)
        .map(|i| format!("Range({}, {})", 10000 + i * 4, 10001 + i * 4))
        .collect();
    let product = format!(
        r#"(id: "wide", name: "w", vendor: "v", document: (id: "d", title: "t"),
            roles: [(id: "app", name: "a", platform: windows)],
            flows: [(id: "f", service: "s", protocols: [tcp], ports: [{}],
                     from: [Zone("admin")], to: [Role("app")], source: (section: "s"))])"#,
        ports.join(", ")
    );
    let catalog = catalog_with(&product);
    let t = Topology {
        name: "wide".into(),
        zones: vec![admin_zone(cidrs)],
        nodes: vec![windows_node(
            "win-wide",
            vec![RoleAssignment::new("wide", "app")],
        )],
        ..Default::default()
    };
    let plan = engine::derive(&catalog, &t);
    let np = plan.node("win-wide").unwrap();
    let widest = np.inbound.iter().map(|r| r.peers.len()).max().unwrap();
    assert!(widest >= 1200, "the test needs 1,200 peers, got {widest}");
    let netsh = assert_within_the_limit(&catalog, &t, "win-wide");
    // The rule really was split: two port chunks times several address chunks.
    let parts = |ports: &str| {
        netsh
            .lines()
            .filter(|l| l.contains("netsh advfirewall firewall add rule") && l.contains(ports))
            .count()
    };
    let (first, second) = (
        parts("localport=10000-10001,"),
        parts("localport=10400-10401 "),
    );
    assert!(
        first >= 8,
        "the addresses split in at least 8 rules, got {first}"
    );
    assert_eq!(first, second, "each port chunk with every address chunk");
}
