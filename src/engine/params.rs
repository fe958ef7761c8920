//! A flow's port parameters resolved for a pair of groups: which node sets what, the default,
//! a dynamic port's fallback, a switch that turns the flow off.

use super::*;

/// What the engine needs to know about a flow's parameters, for one pair of sides.
pub(super) struct FlowParams<'c> {
    /// Parameter id, index of the declaring role, kind.
    pub(super) refs: Vec<(&'c str, usize, &'c ParamKind)>,
    /// Per reference, per role of the product: whether the role accepts the parameter.
    pub(super) accepting: Vec<Vec<bool>>,
}

/// What a node gives one parameter of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Setting<'t> {
    /// The node does not play the role that declares the parameter.
    Absent,
    /// The node plays the declaring role and leaves the parameter at its default.
    Default,
    /// The value the operator typed.
    Set(&'t str),
}

/// A pair of groups' ports (shared) and whether they are a dynamic fallback; `None` when off.
pub(super) type Resolution = Option<(Rc<PortSet>, bool)>;

/// Resolved ports of a flow instance, or why it yields nothing.
pub(super) enum Resolved {
    Ports { ports: PortSet, fallback: bool },
    Off,
}

impl<'c, 't> Deriver<'c, 't> {
    /// The setting a node gives a parameter: the value typed on any of its roles of the product that
    /// accepts the parameter ([`Product::accepts`]); `Default` when such a role leaves it unset.
    pub(super) fn raw(&self, node: usize, p: usize, accepting: &[bool], id: &str) -> Setting<'t> {
        let mut plays = false;
        for m in self.roles_of[node]
            .iter()
            .filter(|m| m.product == p && accepting.get(m.role).copied().unwrap_or(false))
        {
            plays = true;
            if let Some(v) = m.params.and_then(|ps| ps.get(id)) {
                return Setting::Set(v.as_str());
            }
        }
        if plays {
            Setting::Default
        } else {
            Setting::Absent
        }
    }

    /// Groups members by the parameter values they give a flow, so every group resolves once.
    pub(super) fn group(
        &self,
        ms: &[Member<'t>],
        params: &FlowParams<'c>,
    ) -> Vec<(Vec<Setting<'t>>, Vec<Member<'t>>)> {
        // Most flows name no parameter: every member resolves alike.
        if params.refs.is_empty() {
            return if ms.is_empty() {
                Vec::new()
            } else {
                vec![(Vec::new(), ms.to_vec())]
            };
        }
        let mut groups: Vec<(Vec<Setting<'t>>, Vec<Member<'t>>)> = Vec::new();
        let mut index: FastMap<Vec<Setting<'t>>, usize> = FastMap::default();
        // One signature buffer for every member: a new one is kept only for a new group.
        let mut sig: Vec<Setting<'t>> = Vec::with_capacity(params.refs.len());
        for m in ms {
            sig.clear();
            sig.extend(
                params
                    .refs
                    .iter()
                    .zip(&params.accepting)
                    .map(|((id, _, _), acc)| self.raw(m.node, m.product, acc, id)),
            );
            match index.get(sig.as_slice()) {
                Some(&i) => groups[i].1.push(*m),
                None => {
                    index.insert(sig.clone(), groups.len());
                    groups.push((sig.clone(), vec![*m]));
                }
            }
        }
        groups
    }

    /// The flow's ports for a pair of sides: the listener's (target's) setting wins, then the
    /// source's, then the catalog default. A port belongs to the node that listens on it: when the
    /// target plays the role declaring a port parameter but leaves it unset, it listens on the
    /// default (or the dynamic fallback), whatever the source set for its own listener.
    pub(super) fn resolve(
        flow: &Flow,
        params: &FlowParams<'c>,
        target: &[Setting<'_>],
        source: &[Setting<'_>],
    ) -> Resolved {
        let value = |id: &str| -> Option<(Option<ParamValue>, &ParamKind)> {
            let i = params.refs.iter().position(|(r, _, _)| *r == id)?;
            let kind = params.refs[i].2;
            let is_port = !matches!(kind, ParamKind::Switch { .. });
            let raw = match (target.get(i).copied(), source.get(i).copied()) {
                (Some(Setting::Set(v)), _) => Some(v),
                // Without this, chunk server A pinned to 7000 made the unpinned chunk server B
                // accept (and A send) only 7000, while B listens on a run-time port.
                (Some(Setting::Default), _) if is_port => None,
                (_, Some(Setting::Set(v))) => Some(v),
                _ => None,
            };
            Some((raw.and_then(|t| ParamValue::parse(kind, t).ok()), kind))
        };
        if let Some(w) = &flow.when {
            let on = match value(w) {
                Some((Some(ParamValue::Switch(b)), _)) => b,
                Some((None, ParamKind::Switch { default })) => *default,
                _ => true,
            };
            if !on {
                return Resolved::Off;
            }
        }
        let mut ranges = Vec::new();
        let mut fallback = false;
        for item in &flow.ports {
            let r = match item {
                PortItem::Port(n) => PortRange::single(*n),
                PortItem::Range(a, b) => PortRange::new(*a, *b),
                PortItem::Param(id) => match value(id) {
                    Some((Some(ParamValue::Ports(r)), _)) => Some(r),
                    Some((_, ParamKind::Port { default })) => PortRange::single(*default),
                    Some((_, ParamKind::PortRange { default })) => {
                        PortRange::new(default.0, default.1)
                    }
                    Some((_, ParamKind::Dynamic { fallback: fb })) => {
                        fallback = true;
                        PortRange::new(fb.0, fb.1)
                    }
                    // A required value that is not set: the topology check reports it.
                    _ => return Resolved::Off,
                },
            };
            ranges.extend(r);
        }
        if ranges.is_empty() {
            return Resolved::Off;
        }
        Resolved::Ports {
            ports: PortSet::from_ranges(ranges),
            fallback,
        }
    }
}
