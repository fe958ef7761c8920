//! The peer sets of rules: one aggregated set per group of nodes, shared by every member, and
//! what a node's own addresses make of it.

use super::*;

impl<'c, 't> Deriver<'c, 't> {
    /// The aggregated addresses of a group of members, computed once per distinct group: many
    /// flows name the same roles.
    pub(super) fn shared(&mut self, ms: &[Member<'t>]) -> Rc<Shared> {
        let mut nodes: Vec<usize> = ms.iter().map(|m| m.node).collect();
        nodes.sort_unstable();
        nodes.dedup();
        if let Some(s) = self.shared_cache.get(&nodes) {
            return Rc::clone(s);
        }
        let mut b = AddrSetBuilder::default();
        for &n in &nodes {
            for a in &self.topology.nodes[n].addresses {
                b.push_addr(*a);
            }
        }
        let (v4, v6) = b.finish();
        let shared = Rc::new(Shared {
            nodes: nodes.clone(),
            v4,
            v6,
        });
        self.shared_cache.insert(nodes, Rc::clone(&shared));
        shared
    }

    /// Which families of a shared set hold nothing but the node's own addresses: (IPv4, IPv6).
    /// Such a family would give the node a rule to itself alone, which is left out. Cheap: a
    /// family with more networks than the node has addresses cannot be all its own.
    pub(super) fn own_only(&self, shared: &Shared, node: usize) -> (bool, bool) {
        let (mut own_v4, mut own_v6) = (Vec::new(), Vec::new());
        for a in &self.topology.nodes[node].addresses {
            match a {
                IpAddr::V4(a) => own_v4.push(u128::from(u32::from(*a))),
                IpAddr::V6(a) => own_v6.push(u128::from(*a)),
            }
        }
        let v4 = match &shared.v4 {
            Some(Peers::V4(nets)) => only_these(nets.iter().map(|n| (n.prefix_len(), 32)), own_v4),
            _ => false,
        };
        let v6 = match &shared.v6 {
            Some(Peers::V6(nets)) => only_these(nets.iter().map(|n| (n.prefix_len(), 128)), own_v6),
            _ => false,
        };
        (v4, v6)
    }

    /// A shared set without the families that are the node's own addresses alone; `None` when
    /// nothing is left.
    pub(super) fn without_own(&self, shared: &Shared, node: usize) -> Option<Rc<Shared>> {
        let (v4, v6) = self.own_only(shared, node);
        let rest = Shared {
            nodes: Vec::new(),
            v4: if v4 { None } else { shared.v4.clone() },
            v6: if v6 { None } else { shared.v6.clone() },
        };
        if rest.v4.is_none() && rest.v6.is_none() {
            return None;
        }
        Some(Rc::new(rest))
    }
}

/// Whether aggregated networks (as (prefix length, family bits)) hold exactly the given addresses,
/// all of which they are known to contain: they do when they hold no more addresses than that.
pub(super) fn only_these(
    nets: impl ExactSizeIterator<Item = (u8, u8)>,
    mut own: Vec<u128>,
) -> bool {
    own.sort_unstable();
    own.dedup();
    if own.is_empty() || nets.len() > own.len() {
        return false;
    }
    let mut size: u128 = 0;
    for (prefix, bits) in nets {
        let host_bits = u32::from(bits.saturating_sub(prefix));
        if host_bits >= 64 {
            return false;
        }
        size = size.saturating_add(1u128 << host_bits);
    }
    size == own.len() as u128
}

/// The members of the other side's groups, gathered per (port set, fallback): the peers of one
/// entry each.
pub(super) fn peers_by_ports<'a, 't: 'a>(
    groups: impl Iterator<Item = (&'a (Rc<PortSet>, bool), &'a [Member<'t>])>,
) -> Vec<(Rc<PortSet>, bool, Vec<Member<'t>>)> {
    let mut out: Vec<(Rc<PortSet>, bool, Vec<Member<'t>>)> = Vec::new();
    for ((ports, fallback), members) in groups {
        match out
            .iter_mut()
            .find(|(p, f, _)| Rc::ptr_eq(p, ports) && f == fallback)
        {
            Some((_, _, ms)) => ms.extend_from_slice(members),
            None => out.push((Rc::clone(ports), *fallback, members.to_vec())),
        }
    }
    out
}
