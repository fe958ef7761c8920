//! The normalised live model: per direction, family and protocol, the peers accepted on each port
//! range; and what in the capture is not fwtopo's. Parsers build it, the comparison reads it.

use super::addrs::{AddrSet, Fam};
use super::ruleset::{Hook, Ruleset, Sweep, segments};
use crate::engine::Direction;
use crate::ports::{PortRange, Protocol};
use serde::Serialize;
use std::collections::BTreeMap;

/// Port ranges in order, each with the peers accepted on all of its ports.
pub type Accepted = Vec<(PortRange, AddrSet)>;

/// Something in the live firewall that no fwtopo export wrote.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Foreign {
    /// `table`, `chain` or `rule`.
    pub kind: &'static str,
    /// The table, `table/chain`, or `table/chain` of a rule, as the tool names it.
    pub name: String,
    /// What it is or does (a rule's matches and verdict), or empty.
    pub detail: String,
}

/// What the live firewall lets through, as fwtopo compares it with a design.
#[derive(Debug, Clone, Default)]
pub struct LiveModel {
    /// Which tool's output this came from (`nftables`, `iptables`).
    pub source: &'static str,
    /// The families the capture covers (an iptables-save without ip6tables-save covers IPv4).
    pub captured: Vec<Fam>,
    pub accepted: BTreeMap<(Direction, Fam, Protocol), Accepted>,
    pub foreign: Vec<Foreign>,
    /// Things worth knowing that are not drift by themselves.
    pub notes: Vec<String>,
}

impl LiveModel {
    /// Evaluates a ruleset per port range (cut where any rule's ports begin or end, so each range
    /// is evaluated once) and merges neighbouring ranges that accept the same peers.
    pub fn from_ruleset(source: &'static str, ruleset: &Ruleset, captured: Vec<Fam>) -> Self {
        let mut bounds = Vec::new();
        ruleset.port_bounds(&mut bounds);
        let segs = segments(bounds);
        let mut sweep = Sweep::new(ruleset, &segs);
        let mut accepted: BTreeMap<(Direction, Fam, Protocol), Accepted> = BTreeMap::new();
        for (i, seg) in segs.iter().enumerate() {
            sweep.advance(i);
            for hook in [Hook::Input, Hook::Output] {
                for &fam in &captured {
                    for proto in [Protocol::Tcp, Protocol::Udp] {
                        let peers = ruleset.accepted(&sweep, hook, fam, proto);
                        let list = accepted.entry((hook.direction(), fam, proto)).or_default();
                        push_merged(list, *seg, peers);
                    }
                }
            }
        }
        let mut notes = Vec::new();
        if sweep.cut_short.get() {
            notes.push("the capture's chains jump to each other more often than verify follows: the result may be incomplete".to_string());
        }
        LiveModel {
            source,
            captured,
            accepted,
            foreign: Vec::new(),
            notes,
        }
    }
}

/// Appends a range, merged into the last one when they touch and hold the same peers; ranges
/// without peers are left out.
pub fn push_merged(list: &mut Accepted, seg: PortRange, peers: AddrSet) {
    if peers.is_empty() {
        return;
    }
    if let Some((last, p)) = list.last_mut()
        && u32::from(last.end) + 1 == u32::from(seg.start)
        && *p == peers
    {
        last.end = seg.end;
        return;
    }
    list.push((seg, peers));
}

/// The peers a list accepts on one port (empty when none): a binary search, the list is sorted.
pub fn lookup(list: &Accepted, port: u16) -> AddrSet {
    let i = list.partition_point(|(r, _)| r.end < port);
    match list.get(i) {
        Some((r, p)) if r.contains(port) => p.clone(),
        _ => AddrSet::empty(),
    }
}
