//! The rule engine: both ends of every catalog flow, per node, derived from a topology.
//!
//! A flow says "protocol/ports from endpoint A to endpoint B". For every node that plays B's role the
//! engine makes an inbound rule from A's resolved addresses, and for every node that plays A's role an
//! outbound rule to B's. Nothing is typed twice, so the two ends can never disagree. Rules are then
//! merged (same direction, protocol and peers), port ranges coalesced, addresses aggregated per family
//! and ordered deterministically, so exports are stable. [`findings`] lints the result.

pub mod findings;
mod merge;
mod params;
mod peers;
mod roles;

use params::{FlowParams, Resolution, Resolved};
use peers::peers_by_ports;
pub use roles::{UPDATES_PREFIX, updates_role};

pub use findings::{Code, Finding, Severity};

use merge::merge;

use crate::catalog::{
    COMMON_PRODUCT, Catalog, Endpoint, Flow, HOST_PRODUCT, ParamKind, PortItem, Product, StandIn,
    Tag,
};
use crate::net::{AddrSetBuilder, Peers};
use crate::ports::{PortRange, PortSet, Protocol};
use crate::topology::{Os, OsFamily, ParamValue, Topology};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

/// Which way a rule lets traffic through, seen from the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Provenance: the catalog flow that produced a rule, and the node's role it applied to.
/// Indices into the [`Catalog`] the plan was derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowRef {
    pub product: usize,
    pub role: usize,
    pub flow: usize,
}

impl FlowRef {
    pub fn product<'c>(&self, catalog: &'c Catalog) -> &'c Product {
        &catalog.products()[self.product]
    }

    pub fn flow<'c>(&self, catalog: &'c Catalog) -> &'c Flow {
        &self.product(catalog).flows[self.flow]
    }

    pub fn role_id<'c>(&self, catalog: &'c Catalog) -> &'c str {
        &self.product(catalog).roles[self.role].id
    }

    /// `product/role/flow`, the stable way to name a provenance in text.
    pub fn label(&self, catalog: &Catalog) -> String {
        format!(
            "{}/{}/{}",
            self.product(catalog).id,
            self.role_id(catalog),
            self.flow(catalog).id
        )
    }
}

/// One line of one node's firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub direction: Direction,
    pub protocol: Protocol,
    pub ports: PortSet,
    /// One address family, `any`, or host names; never mixed.
    pub peers: Peers,
    /// Sorted, without duplicates.
    pub provenance: Vec<FlowRef>,
    /// Union of the producing flows' tags, sorted.
    pub tags: Vec<Tag>,
}

impl Rule {
    pub fn has_tag(&self, tag: Tag) -> bool {
        self.tags.contains(&tag)
    }

    /// Management access to the node (SSH, RDP, WinRM): exporters put these first.
    pub fn is_management(&self) -> bool {
        self.has_tag(Tag::Management)
    }

    /// The service names of the producing flows, sorted, without duplicates.
    pub fn services<'c>(&self, catalog: &'c Catalog) -> Vec<&'c str> {
        let set: BTreeSet<&str> = self
            .provenance
            .iter()
            .map(|r| r.flow(catalog).service.as_str())
            .collect();
        set.into_iter().collect()
    }
}

/// A port a role listens on that must only be reached over loopback: no rule, but a finding if a
/// rule opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPort {
    pub protocol: Protocol,
    pub ports: PortSet,
    pub provenance: FlowRef,
}

/// Everything one node's firewall needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// Index into the topology's nodes.
    pub node: usize,
    pub name: String,
    /// Shared, not copied, by the nodes of one shape: a site of ten thousand service nodes has a
    /// handful of distinct rule lists.
    pub inbound: Arc<[Rule]>,
    pub outbound: Arc<[Rule]>,
    pub local_only: Vec<LocalPort>,
}

impl NodePlan {
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.inbound.iter().chain(self.outbound.iter())
    }
}

/// The derived firewall of a whole topology.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// In topology order.
    pub nodes: Vec<NodePlan>,
    /// Sorted: errors first, then by node and code.
    pub findings: Vec<Finding>,
}

impl Plan {
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The error findings about any of these nodes, and those about the whole topology: while there
    /// are any, the nodes' exports are not safe to apply (no way back in, a firewall for the wrong
    /// OS, ...), so the command line refuses to export them.
    pub fn errors_for<'a>(&'a self, nodes: &[&str]) -> Vec<&'a Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .filter(|f| f.node.as_deref().is_none_or(|n| nodes.contains(&n)))
            .collect()
    }

    /// Findings about one node, and those about the whole topology, in the plan's order.
    /// Found by binary search in each severity's block (sorted by node there), not by a scan:
    /// every node of a site export asks, and a large site has thousands of findings.
    pub fn findings_for<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        let all = &self.findings[..];
        [Severity::Error, Severity::Warning, Severity::Info]
            .into_iter()
            .flat_map(move |severity| {
                let start = all.partition_point(|f| f.severity < severity);
                let end = all.partition_point(|f| f.severity <= severity);
                let block = &all[start..end];
                let topology = block.partition_point(|f| f.node.is_none());
                let lo = block.partition_point(|f| f.node.as_deref().is_none_or(|n| n < node));
                let hi = block.partition_point(|f| f.node.as_deref().is_none_or(|n| n <= node));
                block[..topology].iter().chain(&block[lo..hi])
            })
    }
}

/// A role a node plays: an assignment from the topology, or the implicit host management role.
#[derive(Debug, Clone, Copy)]
struct Member<'t> {
    node: usize,
    product: usize,
    role: usize,
    params: Option<&'t BTreeMap<String, String>>,
}

/// An address set shared by every rule that reaches the same group of nodes, aggregated once.
#[derive(Debug)]
struct Shared {
    nodes: Vec<usize>,
    v4: Option<Peers>,
    v6: Option<Peers>,
}

/// Where an accumulated rule's peers come from, before merging.
#[derive(Debug, Clone)]
enum PeerSrc {
    Any,
    Shared(Rc<Shared>),
    /// Shared by every member the same outside endpoint applies to.
    Nets(Rc<[IpNet]>),
    Dns(String),
}

/// One flow's contribution to the nodes of a group, before merging. Stored once in
/// [`Deriver::contributions`]; each node lists the ones it gets by index.
#[derive(Debug, Clone)]
struct Entry {
    direction: Direction,
    protocol: Protocol,
    /// Shared by every entry of one resolved flow instance.
    ports: Rc<PortSet>,
    peers: PeerSrc,
    flow: FlowRef,
    /// The ports came from an unset dynamic parameter's fallback range.
    fallback: bool,
}

/// The resolved non-role side of a flow.
#[derive(Debug, Clone)]
enum Outside {
    Peers(PeerSrc),
    Localhost,
    /// A zone the topology does not define (or defines empty): nothing to allow.
    Missing(String),
}

/// Per-topology state of one derivation.
struct Deriver<'c, 't> {
    catalog: &'c Catalog,
    topology: &'t Topology,
    /// Per node, the roles it plays.
    roles_of: Vec<Vec<Member<'t>>>,
    /// (product, role) to members.
    members: HashMap<(usize, usize), Vec<Member<'t>>>,
    /// Every contribution of every flow, once per group and role, not once per node: a site of
    /// 10,000 nodes has about 300,000 node entries but a few thousand contributions.
    contributions: Vec<Entry>,
    /// Per node, its contributions in flow order: indices into `contributions`, with
    /// [`OWN_EXCLUDED`] set where a family of the peers is the node's own addresses alone.
    entries: Vec<Vec<usize>>,
    shared_cache: FastMap<Vec<usize>, Rc<Shared>>,
    local_only: Vec<Vec<LocalPort>>,
    findings: findings::Collector,
}

/// [`derive`] as on the day `today`: with the findings of what the topology wanted only until an
/// earlier day (FW029, FW030). What `check`, `export` and the designer use; the edges pass the
/// day in, so the core reads no clock and tests are fixed in time.
pub fn derive_on(catalog: &Catalog, topology: &Topology, today: crate::date::Date) -> Plan {
    let mut plan = derive(catalog, topology);
    findings::expiry::add(catalog, topology, today, &mut plan);
    plan
}

/// Derives every node's rules and the findings, apart from expiry (which needs a date:
/// [`derive_on`]). Pure; unknown products, roles or invalid parameter values (which
/// [`crate::topology::check`] reports) are skipped or take their defaults.
pub fn derive(catalog: &Catalog, topology: &Topology) -> Plan {
    let mut d = Deriver::new(catalog, topology);
    let products: BTreeSet<usize> = d.members.keys().map(|&(p, _)| p).collect();
    for p in products {
        let product = &catalog.products()[p];
        for (fi, flow) in product.flows.iter().enumerate() {
            d.flow(p, fi, flow);
        }
    }
    let mut plan = d.finish();
    findings::flow_tests::add(catalog, topology, &mut plan);
    plan
}

impl<'c, 't> Deriver<'c, 't> {
    fn flow(&mut self, p: usize, fi: usize, flow: &'c Flow) {
        let product = &self.catalog.products()[p];
        let mut refs = Vec::new();
        let names = flow
            .ports
            .iter()
            .filter_map(|i| match i {
                PortItem::Param(id) => Some(id.as_str()),
                _ => None,
            })
            .chain(flow.when.as_deref());
        for id in names {
            if let Some((role, param)) = product.parameter(id) {
                let ri = product
                    .roles
                    .iter()
                    .position(|r| r.id == role.id)
                    .unwrap_or(0);
                if !refs.iter().any(|(r, _, _)| *r == id) {
                    refs.push((id, ri, &param.kind));
                }
            }
        }
        let accepting = refs
            .iter()
            .map(|(id, _, _)| {
                product
                    .roles
                    .iter()
                    .map(|r| product.accepts(r, id))
                    .collect()
            })
            .collect();
        let params = FlowParams { refs, accepting };
        // Every role endpoint of a side is taken together: a flow from the service nodes and the
        // management node reaches a backup node as one peer set, aggregated once, instead of one
        // per endpoint that each node would have to union again.
        let role_ids = |eps: &'c [Endpoint]| -> Vec<&'c str> {
            eps.iter()
                .filter_map(|e| match e {
                    Endpoint::Role(id) => Some(id.as_str()),
                    _ => None,
                })
                .collect()
        };
        let (from_ids, to_ids) = (role_ids(&flow.from), role_ids(&flow.to));
        if !from_ids.is_empty() && !to_ids.is_empty() {
            let s = self.members_of_all(p, &from_ids);
            let t = self.members_of_all(p, &to_ids);
            self.role_to_role(p, fi, flow, &params, &s, &t, &from_ids);
        }
        for from in &flow.from {
            for to in &flow.to {
                match (from, to) {
                    (Endpoint::Role(_), Endpoint::Role(_)) => {}
                    (Endpoint::Role(a), other) => {
                        let s = self.members_of(p, a);
                        let outside = self.outside(other);
                        self.role_to_outside(
                            p,
                            fi,
                            flow,
                            &params,
                            &s,
                            outside,
                            Direction::Outbound,
                        );
                    }
                    (other, Endpoint::Role(b)) => {
                        let t = self.members_of(p, b);
                        let outside = self.outside(other);
                        self.role_to_outside(p, fi, flow, &params, &t, outside, Direction::Inbound);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Stores a flow's contribution to the members of one group that play one role (an entry per
    /// protocol) and returns their indices.
    fn contribute(
        &mut self,
        direction: Direction,
        flow: &Flow,
        flow_ref: FlowRef,
        ports: &Rc<PortSet>,
        peers: &PeerSrc,
        fallback: bool,
    ) -> std::ops::Range<usize> {
        let first = self.contributions.len();
        for &protocol in &flow.protocols {
            self.contributions.push(Entry {
                direction,
                protocol,
                ports: Rc::clone(ports),
                peers: peers.clone(),
                flow: flow_ref,
                fallback,
            });
        }
        first..self.contributions.len()
    }

    /// Gives every member of a group its role's contribution of a flow, made once per role.
    /// `own_excluded` marks the members that are themselves among the peers.
    #[allow(clippy::too_many_arguments)]
    fn give(
        &mut self,
        p: usize,
        fi: usize,
        direction: Direction,
        flow: &Flow,
        group: &[Member<'t>],
        ports: &Rc<PortSet>,
        peers: &PeerSrc,
        fallback: bool,
        own_excluded: impl Fn(usize) -> Option<bool>,
    ) {
        let mut made: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        for m in group {
            let Some(own) = own_excluded(m.node) else {
                continue;
            };
            let ids = match made.iter().find(|(role, _)| *role == m.role) {
                Some((_, ids)) => ids.clone(),
                None => {
                    let r = FlowRef {
                        product: p,
                        role: m.role,
                        flow: fi,
                    };
                    let ids = self.contribute(direction, flow, r, ports, peers, fallback);
                    made.push((m.role, ids.clone()));
                    ids
                }
            };
            let flag = if own { OWN_EXCLUDED } else { 0 };
            self.entries[m.node].extend(ids.map(|i| i | flag));
        }
    }

    /// A node's entries from its contribution indices: where a family of the peers is the node's
    /// own addresses alone, the peers without that family (none left: no entry).
    fn materialize(&self, node: usize, ids: &[usize]) -> Vec<Entry> {
        // Several flows (FTP control and passive data, say) reach the same group: look once.
        let mut rest: Vec<(*const Shared, Option<Rc<Shared>>)> = Vec::new();
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let e = &self.contributions[id & !OWN_EXCLUDED];
            let shared = match &e.peers {
                PeerSrc::Shared(s) if id & OWN_EXCLUDED != 0 => s,
                _ => {
                    out.push(e.clone());
                    continue;
                }
            };
            let left = match rest.iter().find(|(p, _)| *p == Rc::as_ptr(shared)) {
                Some((_, left)) => left.clone(),
                None => {
                    let left = self.without_own(shared, node);
                    rest.push((Rc::as_ptr(shared), left.clone()));
                    left
                }
            };
            if let Some(left) = left {
                out.push(Entry {
                    peers: PeerSrc::Shared(left),
                    ..e.clone()
                });
            }
        }
        out
    }

    /// Both ends of a flow between roles. Groups of members with the same parameter settings
    /// resolve their ports once per pair of groups; every node then gets one entry per distinct
    /// port set, whose peers are all the other side's groups that resolve to it.
    #[allow(clippy::too_many_arguments)]
    fn role_to_role(
        &mut self,
        p: usize,
        fi: usize,
        flow: &'c Flow,
        params: &FlowParams<'c>,
        s: &[Member<'t>],
        t: &[Member<'t>],
        from_ids: &[&str],
    ) {
        if s.is_empty() || t.is_empty() {
            // A listener whose every client role is missing waits for peers that do not exist. A
            // client without a listener is normal (no backup node means no backup traffic).
            let all_roles = flow.from.iter().all(|e| matches!(e, Endpoint::Role(_)));
            if s.is_empty() && !t.is_empty() && all_roles {
                for (sig, group) in self.group(t, params) {
                    if let Resolved::Ports { .. } = Self::resolve(flow, params, &sig, &sig) {
                        let nodes: BTreeSet<usize> = group.iter().map(|m| m.node).collect();
                        self.findings
                            .peer_missing(p, fi, &from_ids.join(" or "), nodes);
                    }
                }
            }
            return;
        }
        let sources = self.group(s, params);
        let targets = self.group(t, params);
        // Per (source group, target group): the resolved ports, or none. Pairs resolving to
        // equal ports share one port set, so the nodes' entries compare equal by identity (see
        // `NodeKey`).
        let mut distinct: Vec<Rc<PortSet>> = Vec::new();
        let mut resolved: Vec<Vec<Resolution>> = Vec::with_capacity(sources.len());
        for (ssig, _) in &sources {
            let mut row = Vec::with_capacity(targets.len());
            for (tsig, _) in &targets {
                row.push(match Self::resolve(flow, params, tsig, ssig) {
                    Resolved::Ports { ports, fallback } => {
                        let ports = match distinct.iter().find(|d| ***d == ports) {
                            Some(d) => Rc::clone(d),
                            None => {
                                let d = Rc::new(ports);
                                distinct.push(Rc::clone(&d));
                                d
                            }
                        };
                        Some((ports, fallback))
                    }
                    Resolved::Off => None,
                });
            }
            resolved.push(row);
        }
        // Outbound: each source group reaches, per port set, the union of the target groups.
        for (si, (_, sgroup)) in sources.iter().enumerate() {
            let by_ports =
                peers_by_ports(targets.iter().enumerate().filter_map(|(ti, (_, g))| {
                    resolved[si][ti].as_ref().map(|r| (r, g.as_slice()))
                }));
            self.reach(p, fi, flow, sgroup, by_ports, Direction::Outbound);
        }
        // Inbound: each target group is reached, per port set, by the union of the source groups.
        for (ti, (_, tgroup)) in targets.iter().enumerate() {
            let by_ports =
                peers_by_ports(sources.iter().enumerate().filter_map(|(si, (_, g))| {
                    resolved[si][ti].as_ref().map(|r| (r, g.as_slice()))
                }));
            self.reach(p, fi, flow, tgroup, by_ports, Direction::Inbound);
        }
    }

    /// One side of a flow between roles: every member of `group` gets, per port set, an entry
    /// whose peers are the other side's members for it, without the member itself.
    fn reach(
        &mut self,
        p: usize,
        fi: usize,
        flow: &Flow,
        group: &[Member<'t>],
        by_ports: Vec<(Rc<PortSet>, bool, Vec<Member<'t>>)>,
        direction: Direction,
    ) {
        for (ports, fallback, peers) in by_ports {
            let set = self.shared(&peers);
            let src = PeerSrc::Shared(Rc::clone(&set));
            // A member of the peers sees the whole set, its own addresses included: every
            // member of a mesh ("every chunk server") then shares one peer set and one rule
            // list, where a set without itself for each would grow with the square of the mesh.
            // Its own addresses are harmless there (a host reaches itself over loopback, which
            // the exports accept and Windows does not filter). A family of the set that holds
            // only its own addresses is left out (no rule to itself alone), and a member that is
            // all the peers gets nothing.
            let mut own_only: Vec<(usize, (bool, bool))> = group
                .iter()
                .filter(|m| set.nodes.binary_search(&m.node).is_ok())
                .map(|m| (m.node, self.own_only(&set, m.node)))
                .collect();
            own_only.sort_unstable_by_key(|&(n, _)| n);
            let present = (set.v4.is_some(), set.v6.is_some());
            let own = |node: usize| match own_only.binary_search_by_key(&node, |&(n, _)| n) {
                Err(_) => Some(false),
                Ok(_) if set.nodes.len() == 1 => None,
                Ok(i) => {
                    let (v4, v6) = own_only[i].1;
                    let left_v4 = present.0 && !v4;
                    let left_v6 = present.1 && !v6;
                    match (left_v4 || left_v6, v4 || v6) {
                        (false, _) => None,
                        (true, own) => Some(own),
                    }
                }
            };
            self.give(p, fi, direction, flow, group, &ports, &src, fallback, own);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn role_to_outside(
        &mut self,
        p: usize,
        fi: usize,
        flow: &'c Flow,
        params: &FlowParams<'c>,
        ms: &[Member<'t>],
        outside: Outside,
        direction: Direction,
    ) {
        for (sig, group) in self.group(ms, params) {
            let Resolved::Ports { ports, fallback } = Self::resolve(flow, params, &sig, &sig)
            else {
                continue;
            };
            let ports = Rc::new(ports);
            if let Outside::Peers(peers) = &outside {
                let anyone = |_| Some(false);
                self.give(
                    p, fi, direction, flow, &group, &ports, peers, fallback, anyone,
                );
                continue;
            }
            for m in &group {
                let r = FlowRef {
                    product: p,
                    role: m.role,
                    flow: fi,
                };
                match &outside {
                    Outside::Peers(_) => {}
                    Outside::Localhost if direction == Direction::Inbound => {
                        for &protocol in &flow.protocols {
                            self.local_only[m.node].push(LocalPort {
                                protocol,
                                ports: PortSet::clone(&ports),
                                provenance: r,
                            });
                        }
                    }
                    Outside::Localhost => {}
                    Outside::Missing(zone) => self.findings.zone_missing(zone, m.node, r),
                }
            }
        }
    }

    fn finish(mut self) -> Plan {
        let mut nodes: Vec<NodePlan> = Vec::with_capacity(self.topology.nodes.len());
        // Nodes that play the same roles with the same settings towards the same peers get the
        // same rules and findings: derive those once and copy them (a site of a thousand service
        // nodes has a handful of distinct shapes).
        let mut seen: FastMap<NodeKey<'t>, (usize, std::ops::Range<usize>)> = FastMap::default();
        for (ni, node) in self.topology.nodes.iter().enumerate() {
            let ids = std::mem::take(&mut self.entries[ni]);
            let mut local_only = std::mem::take(&mut self.local_only[ni]);
            local_only.sort_by(|a, b| {
                (a.protocol, &a.ports, a.provenance).cmp(&(b.protocol, &b.ports, b.provenance))
            });
            local_only.dedup();
            let key = NodeKey::new(node, ni, &self.roles_of[ni], ids, &local_only);
            if let Some((rep, range)) = seen.get(&key) {
                let rep = &nodes[*rep];
                let plan = NodePlan {
                    node: ni,
                    name: node.name.clone(),
                    inbound: Arc::clone(&rep.inbound),
                    outbound: Arc::clone(&rep.outbound),
                    local_only,
                };
                self.findings.copy_node(range.clone(), &node.name);
                nodes.push(plan);
                continue;
            }
            let entries = self.materialize(ni, &key.entries);
            let (inbound, outbound) = merge(self.catalog, &entries);
            let plan = NodePlan {
                node: ni,
                name: node.name.clone(),
                inbound: inbound.into(),
                outbound: outbound.into(),
                local_only,
            };
            let start = self.findings.len();
            self.findings.node(
                self.catalog,
                self.topology,
                &plan,
                &entries,
                &self.roles_of[ni],
            );
            seen.insert(key, (nodes.len(), start..self.findings.len()));
            nodes.push(plan);
        }
        let findings = self.findings.finish(self.catalog, self.topology);
        Plan { nodes, findings }
    }
}

/// A hasher for the engine's internal maps, whose keys are indices and pointers: SipHash's
/// protection against crafted keys buys nothing here and costs a sixth of a derivation.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        // FxHash's step: rotate, mix, multiply.
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// A role a node plays, as (product, role, parameter values).
type RoleKey<'t> = (usize, usize, Option<&'t BTreeMap<String, String>>);

/// Marks a contribution index in a node's entries: a family of the contribution's peers holds only
/// the node's own addresses and is left out for it (the top bit, which no index into a `Vec` of
/// non-zero-sized entries can have).
const OWN_EXCLUDED: usize = 1 << (usize::BITS - 1);

/// What a node's rules and findings depend on, besides its name: OS, firewall choice, management
/// switch, the address families it has (none, IPv4, IPv6), its roles with their settings, its
/// contributions (shared port and peer sets, so equal indices mean equal entries) and
/// loopback-only ports, and the node itself when it sees a group without its own addresses.
#[derive(PartialEq, Eq, Hash)]
struct NodeKey<'t> {
    os: crate::topology::Os,
    firewall: Option<crate::target::Target>,
    management: bool,
    families: findings::Families,
    roles: Vec<RoleKey<'t>>,
    own: Option<usize>,
    entries: Vec<usize>,
    local_only: Vec<(Protocol, PortSet, FlowRef)>,
}

impl<'t> NodeKey<'t> {
    fn new(
        node: &crate::topology::Node,
        index: usize,
        roles: &[Member<'t>],
        entries: Vec<usize>,
        local_only: &[LocalPort],
    ) -> Self {
        let own = entries
            .iter()
            .any(|&id| id & OWN_EXCLUDED != 0)
            .then_some(index);
        NodeKey {
            os: node.os,
            firewall: node.firewall,
            management: node.management,
            families: findings::Families::of_addresses(&node.addresses),
            roles: roles
                .iter()
                .map(|m| (m.product, m.role, m.params))
                .collect(),
            own,
            entries,
            local_only: local_only
                .iter()
                .map(|l| (l.protocol, l.ports.clone(), l.provenance))
                .collect(),
        }
    }
}

/// Whether an address is inside any of a rule list's peers for a protocol and port: the question a
/// packet asks a firewall, used by tests and the probe harness.
pub fn allows(rules: &[Rule], protocol: Protocol, port: u16, addr: IpAddr) -> bool {
    rules
        .iter()
        .any(|r| r.protocol == protocol && r.ports.contains(port) && r.peers.contains(addr))
}
