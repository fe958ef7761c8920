//! Who plays which role: the topology's assignments, the host product's management role and the
//! OS update role every node gets, and the stand-ins a site's own flows name.

use super::*;

/// Gives every node the stand-in roles of a topology's own product that name it: a custom flow
/// to `plesk-automation/sn-apache` or to every node reaches them as members of those roles.
pub(super) fn stand_ins(catalog: &Catalog, roles_of: &mut [Vec<Member<'_>>]) {
    for (p, product) in catalog.products().iter().enumerate() {
        for (r, role) in product.roles.iter().enumerate() {
            let Some(stand_in) = &role.stands_for else {
                continue;
            };
            for (node, node_roles) in roles_of.iter_mut().enumerate() {
                let plays = match stand_in {
                    StandIn::EveryNode => true,
                    StandIn::Role {
                        product: pid,
                        role: rid,
                    } => node_roles.iter().any(|m| {
                        let other = &catalog.products()[m.product];
                        other.id == *pid && other.role_matches(&other.roles[m.role], rid)
                    }),
                };
                if plays {
                    node_roles.push(Member {
                        node,
                        product: p,
                        role: r,
                        params: None,
                    });
                }
            }
        }
    }
}

/// The common-services roles that carry package updates start with this.
pub const UPDATES_PREFIX: &str = "updates-";

/// The common-services role that keeps a node of this OS updatable: apt for Debian and Ubuntu,
/// Windows Update for Windows, dnf / yum for the RHEL family (Virtuozzo included).
pub fn updates_role(os: Os) -> &'static str {
    match os {
        Os::Debian | Os::Ubuntu => "updates-deb",
        _ if os.is_windows() => "updates-windows",
        _ => "updates-rpm",
    }
}

impl<'c, 't> Deriver<'c, 't> {
    pub(super) fn new(catalog: &'c Catalog, topology: &'t Topology) -> Self {
        let n = topology.nodes.len();
        let mut roles_of: Vec<Vec<Member<'t>>> = vec![Vec::new(); n];
        let mut members: HashMap<(usize, usize), Vec<Member<'t>>> = HashMap::new();
        let host = catalog.product_index(HOST_PRODUCT);
        let common = catalog.product_index(COMMON_PRODUCT);
        for (ni, node) in topology.nodes.iter().enumerate() {
            for ra in &node.roles {
                let Some(p) = catalog.product_index(&ra.product) else {
                    continue;
                };
                let Some(r) = catalog.products()[p]
                    .roles
                    .iter()
                    .position(|r| r.id == ra.role && r.stands_for.is_none())
                else {
                    continue;
                };
                if roles_of[ni].iter().any(|m| m.product == p && m.role == r) {
                    continue;
                }
                roles_of[ni].push(Member {
                    node: ni,
                    product: p,
                    role: r,
                    params: Some(&ra.params),
                });
            }
            let lists_host = node.roles.iter().any(|ra| ra.product == HOST_PRODUCT);
            if let (Some(h), true, false) = (host, node.management, lists_host) {
                let id = match node.os.family() {
                    OsFamily::Windows => "windows",
                    OsFamily::Linux => "linux",
                };
                if let Some(r) = catalog.products()[h].roles.iter().position(|r| r.id == id) {
                    roles_of[ni].push(Member {
                        node: ni,
                        product: h,
                        role: r,
                        params: None,
                    });
                }
            }
            let lists_updates = node
                .roles
                .iter()
                .any(|ra| ra.product == COMMON_PRODUCT && ra.role.starts_with(UPDATES_PREFIX));
            if let (Some(c), true, false) = (common, topology.os_updates, lists_updates) {
                let id = updates_role(node.os);
                if let Some(r) = catalog.products()[c].roles.iter().position(|r| r.id == id) {
                    roles_of[ni].push(Member {
                        node: ni,
                        product: c,
                        role: r,
                        params: None,
                    });
                }
            }
        }
        stand_ins(catalog, &mut roles_of);
        for node_roles in &roles_of {
            for m in node_roles {
                members.entry((m.product, m.role)).or_default().push(*m);
            }
        }
        Deriver {
            catalog,
            topology,
            roles_of,
            members,
            contributions: Vec::new(),
            entries: (0..n).map(|_| Vec::with_capacity(32)).collect(),
            local_only: vec![Vec::new(); n],
            shared_cache: FastMap::default(),
            findings: findings::Collector::default(),
        }
    }

    /// Every member playing a role named by an endpoint id (the role itself or a group).
    pub(super) fn members_of(&self, p: usize, id: &str) -> Vec<Member<'t>> {
        let product = &self.catalog.products()[p];
        let mut out = Vec::new();
        for (ri, role) in product.roles.iter().enumerate() {
            if product.role_matches(role, id)
                && let Some(ms) = self.members.get(&(p, ri))
            {
                out.extend_from_slice(ms);
            }
        }
        out
    }

    /// [`Self::members_of`] for several endpoint ids, each (node, role) once.
    pub(super) fn members_of_all(&self, p: usize, ids: &[&str]) -> Vec<Member<'t>> {
        let mut out: Vec<Member<'t>> = Vec::new();
        for id in ids {
            out.extend(self.members_of(p, id));
        }
        if ids.len() > 1 {
            out.sort_by_key(|m| (m.node, m.role));
            out.dedup_by_key(|m| (m.node, m.role));
        }
        out
    }

    pub(super) fn outside(&self, e: &Endpoint) -> Outside {
        match e {
            Endpoint::Any => Outside::Peers(PeerSrc::Any),
            Endpoint::Localhost => Outside::Localhost,
            Endpoint::Zone(z) => match self.topology.zone(z) {
                Some(zone) if !zone.cidrs.is_empty() => {
                    Outside::Peers(PeerSrc::Nets(zone.cidrs.as_slice().into()))
                }
                _ => Outside::Missing(z.clone()),
            },
            Endpoint::Cidrs(v) => Outside::Peers(PeerSrc::Nets(
                v.iter()
                    .filter_map(|s| s.parse().ok())
                    .collect::<Vec<IpNet>>()
                    .into(),
            )),
            Endpoint::Dns(name) => {
                match self
                    .topology
                    .external_hosts
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                {
                    Some(h) if !h.addresses.is_empty() => Outside::Peers(PeerSrc::Nets(
                        h.addresses
                            .iter()
                            .map(|a| IpNet::from(*a))
                            .collect::<Vec<IpNet>>()
                            .into(),
                    )),
                    _ => Outside::Peers(PeerSrc::Dns(name.clone())),
                }
            }
            Endpoint::Role(_) => Outside::Missing(String::new()),
        }
    }
}
