//! Property tests: the engine's merging (peer union, port coalescing, address aggregation, family
//! split) keeps exactly the set of allowed (direction, protocol, port, address) tuples.
//!
//! The oracle below does not share code with the engine: it walks every catalog flow and every pair
//! of endpoints directly and keeps one unmerged allowance per (flow, endpoint pair, protocol, peer
//! node). The comparison is exact, not sampled at random: both sides are unions of port ranges and
//! of CIDRs, so membership is constant between consecutive range/network boundaries and probing every
//! boundary (and its neighbours) checks every tuple.
//!
//! Simplifications, on purpose:
//! - Parameters stay at their catalog defaults (Port/PortRange defaults, Dynamic fallbacks, `when`
//!   switches at their default; a `Required` parameter switches its flow off). Which side's value
//!   wins for a set parameter is covered by tests/engine_products.rs, not here.
//! - `Dns` endpoints are kept: pinned external hosts become their addresses, unpinned names allow no
//!   address at all (a host name never matches an address).

use fwtopo::catalog::{Catalog, Endpoint, HOST_PRODUCT, ParamKind, PortItem, Product, Tag};
use fwtopo::engine::{Direction, Plan, Rule, allows, derive};
use fwtopo::net::{AddrSetBuilder, Peers};
use fwtopo::ports::{PortRange, PortSet, Protocol};
use fwtopo::topology::{ExternalHost, Node, Os, RoleAssignment, Topology, Zone};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(|| Catalog::embedded().expect("the embedded catalog loads"))
}

// ------------------------------------------------------------------------------------------------
// random topologies

/// CIDRs a zone may hold: documentation ranges, some overlapping the node addresses on purpose.
const ZONE_POOL: &[&str] = &[
    "198.51.100.0/28",
    "198.51.100.16/29",
    "198.51.100.7/32",
    "203.0.113.0/29",
    "203.0.113.8/30",
    "203.0.113.5/32",
    "2001:db8::/125",
    "2001:db8:a::/64",
    "2001:db8::10/124",
];

#[derive(Debug, Clone)]
struct GenNode {
    windows: bool,
    management: bool,
    v4: Vec<u8>,
    v6: Vec<u16>,
    /// Bit i picks role i of the combined role list of the chosen products.
    roles: u64,
}

#[derive(Debug, Clone)]
struct GenSite {
    products: Vec<usize>,
    nodes: Vec<GenNode>,
    admin: Vec<usize>,
    trusted: Option<Vec<usize>>,
    pin_my_mailstore: bool,
    pin_store_cpanel: bool,
}

fn gen_node() -> impl Strategy<Value = GenNode> {
    (
        any::<bool>(),
        prop::bool::weighted(0.9),
        prop::collection::vec(0u8..24, 0..=2),
        prop::collection::vec(0u16..24, 0..=2),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(windows, management, v4, v6, a, b)| GenNode {
            windows,
            management,
            v4,
            v6,
            roles: a & b,
        })
}

fn gen_site() -> impl Strategy<Value = GenSite> {
    let n_products = catalog().products().len();
    (
        prop::collection::btree_set(0..n_products, 1..=2),
        prop::collection::vec(gen_node(), 1..=8),
        prop::collection::vec(0..ZONE_POOL.len(), 0..=2),
        prop::option::of(prop::collection::vec(0..ZONE_POOL.len(), 0..=2)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(products, nodes, admin, trusted, pin_my_mailstore, pin_store_cpanel)| GenSite {
                products: products.into_iter().collect(),
                nodes,
                admin,
                trusted,
                pin_my_mailstore,
                pin_store_cpanel,
            },
        )
}

fn build(site: &GenSite) -> Topology {
    let cat = catalog();
    let roles: Vec<(&Product, &str)> = site
        .products
        .iter()
        .flat_map(|&p| {
            let product = &cat.products()[p];
            product.roles.iter().map(move |r| (product, r.id.as_str()))
        })
        .collect();
    let mut used: BTreeSet<IpAddr> = BTreeSet::new();
    let mut nodes = Vec::new();
    for (i, g) in site.nodes.iter().enumerate() {
        let os = if g.windows {
            Os::WindowsServer2022
        } else {
            Os::Almalinux
        };
        let mut n = Node::new(format!("n{i}"), os);
        n.management = g.management;
        let addrs =
            g.v4.iter()
                .map(|&h| IpAddr::V4(Ipv4Addr::new(203, 0, 113, h)))
                .chain(
                    g.v6.iter()
                        .map(|&h| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, h))),
                );
        for a in addrs {
            // Addresses are unique across the topology.
            if used.insert(a) {
                n.addresses.push(a);
            }
        }
        for (bit, (product, role)) in roles.iter().enumerate() {
            if g.roles & (1u64 << (bit % 64)) != 0 {
                n.roles.push(RoleAssignment::new(&product.id, *role));
            }
        }
        nodes.push(n);
    }
    let zone = |name: &str, picks: &[usize]| Zone {
        name: name.into(),
        cidrs: picks
            .iter()
            .map(|&i| ZONE_POOL[i].parse().expect("pool cidr"))
            .collect::<BTreeSet<IpNet>>()
            .into_iter()
            .collect(),
        note: String::new(),
    };
    let mut zones = vec![zone("admin", &site.admin)];
    if let Some(t) = &site.trusted {
        zones.push(zone("trusted", t));
    }
    let mut external_hosts = Vec::new();
    if site.pin_my_mailstore {
        external_hosts.push(ExternalHost {
            name: "my.mailstore.com".into(),
            addresses: vec![
                "192.0.2.80".parse().expect("ip"),
                "2001:db8:80::1".parse().expect("ip"),
            ],
            note: String::new(),
        });
    }
    if site.pin_store_cpanel {
        external_hosts.push(ExternalHost {
            name: "STORE.cpanel.net".into(),
            addresses: vec!["192.0.2.90".parse().expect("ip")],
            note: String::new(),
        });
    }
    Topology {
        name: "prop".into(),
        description: String::new(),
        zones,
        nodes,
        external_hosts,
        ..Topology::default()
    }
}

// ------------------------------------------------------------------------------------------------
// the oracle

#[derive(Debug, Clone)]
enum OPeer {
    Any,
    Nets(Vec<IpNet>),
    /// An unpinned host name: matches no address.
    Name(String),
}

impl OPeer {
    fn contains(&self, a: IpAddr) -> bool {
        match self {
            OPeer::Any => true,
            OPeer::Nets(v) => v.iter().any(|n| n.contains(&a)),
            OPeer::Name(_) => false,
        }
    }
}

#[derive(Debug, Clone)]
struct Allow {
    direction: Direction,
    protocol: Protocol,
    /// Inclusive ranges, not merged.
    ports: Vec<(u16, u16)>,
    peer: OPeer,
}

/// The (product, role id) pairs a node plays, including the implicit host management role and
/// the package-update role of its OS (unless the topology turns updates off).
fn played(cat: &Catalog, t: &Topology, n: &Node) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = n
        .roles
        .iter()
        .filter(|r| cat.role(&r.product, &r.role).is_some())
        .map(|r| (r.product.clone(), r.role.clone()))
        .collect();
    if n.management && !n.roles.iter().any(|r| r.product == HOST_PRODUCT) {
        out.push((
            HOST_PRODUCT.into(),
            if n.os.is_windows() {
                "windows"
            } else {
                "linux"
            }
            .into(),
        ));
    }
    let lists_updates = n
        .roles
        .iter()
        .any(|r| r.product == "common-services" && r.role.starts_with("updates-"));
    if t.os_updates && !lists_updates {
        let role = match n.os {
            Os::Debian | Os::Ubuntu => "updates-deb",
            os if os.is_windows() => "updates-windows",
            _ => "updates-rpm",
        };
        out.push(("common-services".into(), role.into()));
    }
    out
}

/// Indices of the nodes playing an endpoint id (a role or a group) of a product.
fn members(cat: &Catalog, t: &Topology, product: &Product, id: &str) -> Vec<usize> {
    t.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            played(cat, t, n).iter().any(|(p, r)| {
                *p == product.id
                    && product
                        .role(r)
                        .is_some_and(|role| role.id == id || role.groups.iter().any(|g| g == id))
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// The default port ranges of a flow, or None when it is switched off by default.
fn default_ports(product: &Product, flow: &fwtopo::catalog::Flow) -> Option<Vec<(u16, u16)>> {
    if let Some(w) = &flow.when
        && let Some(ParamKind::Switch { default: false }) =
            product.parameter(w).map(|(_, p)| &p.kind)
    {
        return None;
    }
    let mut out = Vec::new();
    for item in &flow.ports {
        out.push(match item {
            PortItem::Port(n) => (*n, *n),
            PortItem::Range(a, b) => (*a, *b),
            PortItem::Param(id) => match product.parameter(id).map(|(_, p)| &p.kind) {
                Some(ParamKind::Port { default }) => (*default, *default),
                Some(ParamKind::PortRange { default }) => *default,
                Some(ParamKind::Dynamic { fallback }) => *fallback,
                _ => return None,
            },
        });
    }
    Some(out)
}

fn outside(t: &Topology, e: &Endpoint) -> Option<OPeer> {
    match e {
        Endpoint::Any => Some(OPeer::Any),
        Endpoint::Zone(z) => t.zone(z).map(|z| OPeer::Nets(z.cidrs.clone())),
        Endpoint::Cidrs(v) => Some(OPeer::Nets(
            v.iter().map(|c| c.parse().expect("catalog cidr")).collect(),
        )),
        Endpoint::Dns(name) => match t
            .external_hosts
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
        {
            Some(h) if !h.addresses.is_empty() => Some(OPeer::Nets(
                h.addresses.iter().map(|a| IpNet::from(*a)).collect(),
            )),
            _ => Some(OPeer::Name(name.clone())),
        },
        Endpoint::Localhost | Endpoint::Role(_) => None,
    }
}

/// Per node, every allowance the catalog's flows give it, one per flow, endpoint pair and peer.
fn oracle(cat: &Catalog, t: &Topology) -> Vec<Vec<Allow>> {
    let mut out: Vec<Vec<Allow>> = vec![Vec::new(); t.nodes.len()];
    let host_nets = |i: usize| {
        OPeer::Nets(
            t.nodes[i]
                .addresses
                .iter()
                .map(|a| IpNet::from(*a))
                .collect(),
        )
    };
    for product in cat.products() {
        for flow in &product.flows {
            let Some(ports) = default_ports(product, flow) else {
                continue;
            };
            let mut push = |node: usize, direction: Direction, peer: OPeer| {
                for &protocol in &flow.protocols {
                    out[node].push(Allow {
                        direction,
                        protocol,
                        ports: ports.clone(),
                        peer: peer.clone(),
                    });
                }
            };
            for from in &flow.from {
                for to in &flow.to {
                    match (from, to) {
                        (Endpoint::Role(a), Endpoint::Role(b)) => {
                            let s = members(cat, t, product, a);
                            let d = members(cat, t, product, b);
                            for &ti in &d {
                                for &si in &s {
                                    if si != ti {
                                        push(ti, Direction::Inbound, host_nets(si));
                                        push(si, Direction::Outbound, host_nets(ti));
                                    }
                                }
                            }
                        }
                        (Endpoint::Role(a), other) => {
                            if let Some(peer) = outside(t, other) {
                                for si in members(cat, t, product, a) {
                                    push(si, Direction::Outbound, peer.clone());
                                }
                            }
                        }
                        (other, Endpoint::Role(b)) => {
                            if let Some(peer) = outside(t, other) {
                                for ti in members(cat, t, product, b) {
                                    push(ti, Direction::Inbound, peer.clone());
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// exact comparison by boundary probes

fn v4_add(a: Ipv4Addr, d: i64) -> Option<IpAddr> {
    u32::try_from(i64::from(u32::from(a)) + d)
        .ok()
        .map(|x| IpAddr::V4(Ipv4Addr::from(x)))
}

fn v6_add(a: Ipv6Addr, d: i128) -> Option<IpAddr> {
    let x = i128::try_from(u128::from(a)).ok()? + d;
    u128::try_from(x)
        .ok()
        .map(|x| IpAddr::V6(Ipv6Addr::from(x)))
}

/// The first and last address of a network and their outer neighbours.
fn net_probes(n: &IpNet, out: &mut BTreeSet<IpAddr>) {
    match n {
        IpNet::V4(n) => {
            for (a, d) in [
                (n.network(), -1),
                (n.network(), 0),
                (n.broadcast(), 0),
                (n.broadcast(), 1),
            ] {
                out.extend(v4_add(a, d));
            }
        }
        IpNet::V6(n) => {
            for (a, d) in [
                (n.network(), -1),
                (n.network(), 0),
                (n.broadcast(), 0),
                (n.broadcast(), 1),
            ] {
                out.extend(v6_add(a, d));
            }
        }
    }
}

fn peer_nets(p: &Peers) -> Vec<IpNet> {
    match p {
        Peers::V4(v) => v.iter().map(|n| IpNet::V4(*n)).collect(),
        Peers::V6(v) => v.iter().map(|n| IpNet::V6(*n)).collect(),
        _ => Vec::new(),
    }
}

fn port_probes(ranges: impl Iterator<Item = (u16, u16)>) -> BTreeSet<u16> {
    let mut out: BTreeSet<u16> = [1, 65535].into();
    for (a, b) in ranges {
        out.extend(
            [a.checked_sub(1), Some(a), Some(b), b.checked_add(1)]
                .into_iter()
                .flatten()
                .filter(|&p| p >= 1),
        );
    }
    out
}

fn compare(t: &Topology, plan: &Plan, expected: &[Vec<Allow>]) -> Result<(), TestCaseError> {
    prop_assert_eq!(plan.nodes.len(), t.nodes.len());
    for (i, np) in plan.nodes.iter().enumerate() {
        prop_assert!(np.inbound.iter().all(|r| r.direction == Direction::Inbound));
        prop_assert!(
            np.outbound
                .iter()
                .all(|r| r.direction == Direction::Outbound)
        );
        // Merging leaves one rule per (direction, protocol, peers, management, temporary,
        // insecure): temporary and insecure ports stay in rules of their own.
        let mut keys = BTreeSet::new();
        for r in np.rules() {
            let apart = (r.has_tag(Tag::Temporary), r.has_tag(Tag::Insecure));
            prop_assert!(
                keys.insert((
                    r.direction,
                    r.protocol,
                    r.peers.clone(),
                    r.is_management(),
                    apart
                )),
                "{}: duplicate rule key {:?}",
                np.name,
                r
            );
            prop_assert!(!r.ports.is_empty() && !r.peers.is_empty() && !r.provenance.is_empty());
        }
        // Every address that appears anywhere, with its neighbours, plus strangers of both families.
        let mut addrs: BTreeSet<IpAddr> = [
            "0.0.0.0",
            "192.0.2.255",
            "255.255.255.255",
            "::",
            "2001:db8:ffff::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ]
        .iter()
        .map(|s| s.parse().expect("ip"))
        .collect();
        for r in np.rules() {
            for n in peer_nets(&r.peers) {
                net_probes(&n, &mut addrs);
            }
        }
        for a in &expected[i] {
            if let OPeer::Nets(v) = &a.peer {
                v.iter().for_each(|n| net_probes(n, &mut addrs));
            }
        }
        // The node's own addresses are moot: a mesh's shared peer set holds them (loopback is
        // accepted before any rule), and engine_products' invariants check that no rule holds
        // them alone.
        for a in &t.nodes[i].addresses {
            addrs.remove(a);
        }
        for direction in [Direction::Inbound, Direction::Outbound] {
            let rules: &[Rule] = if direction == Direction::Inbound {
                &np.inbound
            } else {
                &np.outbound
            };
            for protocol in [Protocol::Tcp, Protocol::Udp] {
                let exp: Vec<&Allow> = expected[i]
                    .iter()
                    .filter(|a| a.direction == direction && a.protocol == protocol)
                    .collect();
                for &addr in &addrs {
                    let got_ranges = rules
                        .iter()
                        .filter(|r| r.protocol == protocol && r.peers.contains(addr))
                        .flat_map(|r| r.ports.ranges().iter().map(|p| (p.start, p.end)));
                    let exp_ranges: Vec<(u16, u16)> = exp
                        .iter()
                        .filter(|a| a.peer.contains(addr))
                        .flat_map(|a| a.ports.iter().copied())
                        .collect();
                    for port in port_probes(got_ranges.chain(exp_ranges.iter().copied())) {
                        let got = allows(rules, protocol, port, addr);
                        let want = exp_ranges.iter().any(|&(a, b)| a <= port && port <= b);
                        prop_assert_eq!(
                            got,
                            want,
                            "{} {:?} {} port {} address {}",
                            np.name,
                            direction,
                            protocol.as_str(),
                            port,
                            addr
                        );
                    }
                }
                // Host-name rules only where the oracle has an unpinned name.
                let names: BTreeSet<&str> = exp
                    .iter()
                    .filter_map(|a| {
                        if let OPeer::Name(n) = &a.peer {
                            Some(n.as_str())
                        } else {
                            None
                        }
                    })
                    .collect();
                for r in rules.iter().filter(|r| r.protocol == protocol) {
                    if let Peers::Dns(v) = &r.peers {
                        for n in v {
                            prop_assert!(
                                names.contains(n.as_str()),
                                "{}: unexpected host name {}",
                                np.name,
                                n
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn merged_rules_allow_exactly_the_flows(site in gen_site()) {
        let t = build(&site);
        let cat = catalog();
        let plan = derive(cat, &t);
        let expected = oracle(cat, &t);
        compare(&t, &plan, &expected)?;
        // Deterministic.
        prop_assert_eq!(&plan, &derive(cat, &t));
    }
}

// ------------------------------------------------------------------------------------------------
// tags an operator acts on port by port

/// Every switch each node's roles take, on: the flows only a switch opens (PA's temporary
/// PA.sn_test ports, CGP's FTP, cPanel's remote MySQL, ...) take part too.
fn all_switches_on(t: &mut Topology) {
    let cat = catalog();
    for n in &mut t.nodes {
        for ra in &mut n.roles {
            let Some(p) = cat.product(&ra.product) else {
                continue;
            };
            let Some(role) = p.role(&ra.role) else {
                continue;
            };
            for prm in p.roles.iter().flat_map(|r| &r.parameters) {
                if matches!(prm.kind, ParamKind::Switch { .. }) && p.accepts(role, &prm.id) {
                    ra.params.insert(prm.id.clone(), "on".into());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// An operator told to close the temporary ports, or the plaintext ones, deletes a rule: no
    /// rule may hold a temporary or insecure port beside one without that tag (issue 13 item 6).
    #[test]
    fn no_rule_mixes_temporary_or_insecure_ports_with_others(site in gen_site()) {
        let cat = catalog();
        for switches_on in [false, true] {
            let mut t = build(&site);
            if switches_on {
                all_switches_on(&mut t);
            }
            let plan = derive(cat, &t);
            for np in &plan.nodes {
                for r in np.rules() {
                    for tag in [Tag::Temporary, Tag::Insecure] {
                        let tagged: BTreeSet<bool> = r
                            .provenance
                            .iter()
                            .map(|f| f.flow(cat).has_tag(tag))
                            .collect();
                        let flows: Vec<String> =
                            r.provenance.iter().map(|f| f.label(cat)).collect();
                        prop_assert!(
                            tagged.len() <= 1,
                            "{}: {} rule {}/{} mixes {} flows with others: {:?}",
                            np.name,
                            r.direction.as_str(),
                            r.protocol.as_str(),
                            r.ports,
                            tag.as_str(),
                            flows
                        );
                        prop_assert_eq!(r.has_tag(tag), tagged.contains(&true));
                    }
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// PortSet

fn gen_port() -> impl Strategy<Value = u16> {
    prop_oneof![1u16..=40, 65500u16..=65535, 1u16..=65535]
}

fn gen_range() -> impl Strategy<Value = PortRange> {
    (
        gen_port(),
        prop_oneof![Just(0u16), 0u16..=3, 0u16..=300, any::<u16>()],
    )
        .prop_map(|(a, len)| {
            PortRange::new(a, a.saturating_add(len)).expect("start >= 1 and end >= start")
        })
}

fn gen_ranges() -> impl Strategy<Value = Vec<PortRange>> {
    prop::collection::vec(gen_range(), 0..12)
}

fn in_ranges(rs: &[PortRange], p: u16) -> bool {
    rs.iter().any(|r| r.start <= p && p <= r.end)
}

fn canonical(s: &PortSet) -> Result<(), TestCaseError> {
    for r in s.ranges() {
        prop_assert!(r.start >= 1 && r.start <= r.end, "bad range {:?}", r);
    }
    for w in s.ranges().windows(2) {
        // Sorted, no overlap and no adjacency left.
        prop_assert!(
            u32::from(w[0].end) + 1 < u32::from(w[1].start),
            "not coalesced: {:?}",
            s
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn port_set_from_ranges_keeps_membership(rs in gen_ranges()) {
        let s = PortSet::from_ranges(rs.clone());
        canonical(&s)?;
        let probes = port_probes(rs.iter().chain(s.ranges()).map(|r| (r.start, r.end)));
        for p in probes {
            prop_assert_eq!(s.contains(p), in_ranges(&rs, p), "port {}", p);
        }
        let mut rev = rs.clone();
        rev.reverse();
        prop_assert_eq!(&PortSet::from_ranges(rev), &s);
        prop_assert_eq!(s.is_empty(), rs.is_empty());
        prop_assert_eq!(s.ports().count() as u64, (1..=65535u16).filter(|&p| in_ranges(&rs, p)).count() as u64);
    }

    #[test]
    fn port_set_union_and_intersection_keep_membership(a in gen_ranges(), b in gen_ranges()) {
        let (sa, sb) = (PortSet::from_ranges(a.clone()), PortSet::from_ranges(b.clone()));
        let u = sa.union(&sb);
        let i = sa.intersection(&sb);
        canonical(&u)?;
        canonical(&i)?;
        prop_assert_eq!(&u, &sb.union(&sa));
        let probes = port_probes(a.iter().chain(&b).chain(u.ranges()).chain(i.ranges()).map(|r| (r.start, r.end)));
        for p in probes {
            prop_assert_eq!(u.contains(p), in_ranges(&a, p) || in_ranges(&b, p), "union port {}", p);
            prop_assert_eq!(i.contains(p), in_ranges(&a, p) && in_ranges(&b, p), "intersection port {}", p);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// AddrSetBuilder

#[derive(Debug, Clone)]
enum Push {
    Addr(IpAddr),
    Net(IpNet),
}

fn gen_push() -> impl Strategy<Value = Push> {
    prop_oneof![
        (0u8..=40).prop_map(|h| Push::Addr(IpAddr::V4(Ipv4Addr::new(203, 0, 113, h)))),
        (0u16..=40)
            .prop_map(|h| Push::Addr(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, h)))),
        // Host bits may be set: the builder truncates.
        (0u8..=255, 22u8..=32).prop_map(|(h, len)| Push::Net(IpNet::V4(
            Ipv4Net::new(Ipv4Addr::new(198, 51, 100, h), len).expect("prefix")
        ))),
        (0u16..=300, 110u8..=128).prop_map(|(h, len)| {
            Push::Net(IpNet::V6(
                Ipv6Net::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, h), len).expect("prefix"),
            ))
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn addr_set_builder_keeps_membership_per_family(pushes in prop::collection::vec(gen_push(), 0..16)) {
        let mut b = AddrSetBuilder::default();
        let mut nets: Vec<IpNet> = Vec::new();
        for p in &pushes {
            match p {
                Push::Addr(a) => {
                    b.push_addr(*a);
                    nets.push(IpNet::from(*a));
                }
                Push::Net(n) => {
                    b.push_net(*n);
                    nets.push(n.trunc());
                }
            }
        }
        prop_assert_eq!(b.is_empty(), nets.is_empty());
        let (v4, v6) = b.finish();
        // An empty family yields nothing, never "any"; each family stays in its own variant.
        prop_assert_eq!(v4.is_some(), nets.iter().any(|n| matches!(n, IpNet::V4(_))));
        prop_assert_eq!(v6.is_some(), nets.iter().any(|n| matches!(n, IpNet::V6(_))));
        prop_assert!(v4.as_ref().is_none_or(|p| matches!(p, Peers::V4(_))));
        prop_assert!(v6.as_ref().is_none_or(|p| matches!(p, Peers::V6(_))));
        let out: Vec<IpNet> = v4.iter().chain(v6.iter()).flat_map(peer_nets).collect();
        // Aggregated: never more networks than went in, none overlapping another.
        prop_assert!(out.len() <= nets.len());
        for (i, x) in out.iter().enumerate() {
            for y in &out[i + 1..] {
                prop_assert!(!x.contains(y) && !y.contains(x), "{} and {} overlap", x, y);
            }
        }
        let mut probes: BTreeSet<IpAddr> = ["0.0.0.0", "::"].iter().map(|s| s.parse().expect("ip")).collect();
        for n in nets.iter().chain(&out) {
            net_probes(n, &mut probes);
        }
        for a in probes {
            let want = nets.iter().any(|n| n.contains(&a));
            let got = v4.as_ref().is_some_and(|p| p.contains(a)) || v6.as_ref().is_some_and(|p| p.contains(a));
            prop_assert_eq!(got, want, "address {}", a);
        }
    }
}
