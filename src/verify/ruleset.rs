//! A live firewall as chains of rules, whatever tool printed it, and what it accepts.
//!
//! Each parser (nftables JSON, iptables-save) turns its capture into these chains; one evaluator
//! then asks, for a new TCP or UDP connection arriving on (or leaving by) a network interface, which
//! peers each base chain accepts on each port, in rule order (first match wins, jumps and returns
//! followed). Conditions that never hold for such a connection (loopback, established, ICMP) make a
//! rule match nothing; conditions the evaluator does not know are assumed to hold, and the rule is
//! named as not understood.

use super::addrs::{AddrSet, Fam};
use crate::engine::Direction;
use crate::ports::{PortRange, PortSet, Protocol};

/// Where a base chain hooks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Input,
    Output,
}

impl Hook {
    pub fn direction(self) -> Direction {
        match self {
            Hook::Input => Direction::Inbound,
            Hook::Output => Direction::Outbound,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Drop or reject: either way the connection does not pass.
    Drop,
    Jump(String),
    Goto(String),
    Return,
    /// No verdict (a counter, a log): the next rule decides.
    Continue,
}

/// An address match: the family it implies and the addresses (already negated if it was `!=`).
pub type AddrMatch = (Fam, AddrSet);

/// What a rule requires of a new TCP or UDP connection.
#[derive(Debug, Clone, Default)]
pub struct Cond {
    /// Never holds for such a connection (loopback, `ct state established`, ICMP only).
    pub never: bool,
    pub fam: Option<Fam>,
    /// The protocols allowed: `None` is every protocol.
    pub protos: Option<Vec<Protocol>>,
    /// Destination ports.
    pub ports: Option<PortSet>,
    pub saddr: Option<AddrMatch>,
    pub daddr: Option<AddrMatch>,
    /// Conditions not understood, as the capture wrote them (escaped when shown).
    pub unknown: Vec<String>,
}

impl Cond {
    /// Narrows to one family; two different families never hold together.
    pub fn family(&mut self, fam: Fam) {
        match self.fam {
            Some(f) if f != fam => self.never = true,
            _ => self.fam = Some(fam),
        }
    }

    /// Narrows to these protocols.
    pub fn protocols(&mut self, protos: &[Protocol]) {
        let next: Vec<Protocol> = match &self.protos {
            Some(p) => p.iter().copied().filter(|x| protos.contains(x)).collect(),
            None => protos.to_vec(),
        };
        if next.is_empty() {
            self.never = true;
        }
        self.protos = Some(next);
    }

    pub fn dports(&mut self, ports: PortSet) {
        let next = match &self.ports {
            Some(p) => p.intersection(&ports),
            None => ports,
        };
        if next.is_empty() {
            self.never = true;
        }
        self.ports = Some(next);
    }

    /// Narrows the source (`src`) or destination addresses.
    pub fn addresses(&mut self, src: bool, m: AddrMatch) {
        self.family(m.0);
        let slot = if src {
            &mut self.saddr
        } else {
            &mut self.daddr
        };
        *slot = Some(match slot.take() {
            Some((f, a)) if f == m.0 => (f, a.intersect(&m.1)),
            Some(_) => {
                self.never = true;
                m
            }
            None => m,
        });
    }

    /// Whether the rule may apply to connections of this family.
    fn for_family(&self, fam: Fam) -> bool {
        !self.never && self.fam.is_none_or(|f| f == fam)
    }

    /// The peers this condition matches for one family and protocol, on ports the [`Sweep`]
    /// already found it matches.
    fn peers(&self, hook: Hook, fam: Fam, proto: Protocol) -> AddrSet {
        if !self.for_family(fam) || self.protos.as_ref().is_some_and(|p| !p.contains(&proto)) {
            return AddrSet::empty();
        }
        let peer = match hook {
            Hook::Input => &self.saddr,
            Hook::Output => &self.daddr,
        };
        match peer {
            Some((_, a)) => a.clone(),
            None => AddrSet::full(fam),
        }
    }

    /// Whether the condition is only things the evaluator understands and never holds for a
    /// new connection: the fixed lines every export starts with (loopback, conntrack, ICMP).
    pub fn is_housekeeping(&self) -> bool {
        self.never && self.unknown.is_empty()
    }

    /// A short description for a report line: `tcp dport 8080 from 0.0.0.0/0`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = self.fam {
            parts.push(f.label().to_string());
        }
        if let Some(p) = &self.protos {
            parts.push(p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","));
        }
        if let Some(p) = &self.ports {
            parts.push(format!("dport {}", p.join("-")));
        }
        for (word, m) in [("saddr", &self.saddr), ("daddr", &self.daddr)] {
            if let Some((f, a)) = m {
                let shown = a.describe(*f);
                let more = if shown.len() > 4 { " ..." } else { "" };
                parts.push(format!(
                    "{word} {}{more}",
                    shown.iter().take(4).cloned().collect::<Vec<_>>().join(",")
                ));
            }
        }
        parts.extend(self.unknown.iter().cloned());
        if self.never {
            parts.push("(never a new connection)".into());
        }
        parts.join(" ")
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub cond: Cond,
    pub verdict: Verdict,
    /// Where the capture has it (a line, or a JSON path), for messages.
    pub at: String,
}

#[derive(Debug, Clone)]
pub struct Chain {
    /// The table as the tool names it: `inet fwtopo`, `filter (IPv4)`.
    pub table: String,
    pub name: String,
    /// The families the chain sees.
    pub fams: Vec<Fam>,
    /// Base chains: the hook and whether the policy accepts.
    pub base: Option<(Hook, bool)>,
    pub rules: Vec<Rule>,
}

/// Every chain of a capture.
#[derive(Debug, Clone, Default)]
pub struct Ruleset {
    pub chains: Vec<Chain>,
}

/// The deepest jump chain followed (the tools refuse deeper nesting; this guards a hand-made capture).
const MAX_DEPTH: usize = 64;

impl Ruleset {
    fn find(&self, table: &str, name: &str) -> Option<usize> {
        self.chains
            .iter()
            .position(|c| c.table == table && c.name == name)
    }

    /// The port boundaries of every rule's destination ports: between two boundaries every
    /// rule either matches all ports or none.
    pub fn port_bounds(&self, out: &mut Vec<u32>) {
        for c in &self.chains {
            for r in &c.rules {
                if let Some(p) = &r.cond.ports {
                    for range in p.ranges() {
                        out.push(u32::from(range.start));
                        out.push(u32::from(range.end) + 1);
                    }
                }
            }
        }
    }

    /// The peers a new connection of this family and protocol, to the ports of the range the
    /// sweep stands at, may have and pass every base chain on the hook (a packet must pass them
    /// all; with none, nothing is filtered).
    pub fn accepted(&self, sweep: &Sweep, hook: Hook, fam: Fam, proto: Protocol) -> AddrSet {
        let mut result = AddrSet::full(fam);
        let at = Probe {
            sweep,
            hook,
            fam,
            proto,
            budget: std::cell::Cell::new(WALK_BUDGET),
        };
        for (ci, c) in self.chains.iter().enumerate() {
            let Some((h, policy_accepts)) = c.base else {
                continue;
            };
            if h != hook || !c.fams.contains(&fam) {
                continue;
            }
            let mut stack = vec![ci];
            let (mut accepted, fallthrough) = self.walk(ci, AddrSet::full(fam), &at, &mut stack);
            if policy_accepts {
                accepted = accepted.union(&fallthrough);
            }
            result = result.intersect(&accepted);
        }
        if at.budget.get() == 0 {
            sweep.cut_short.set(true);
        }
        result
    }

    /// Runs `input` through a chain: what it accepts, and what reaches its end or a return.
    /// A jump to a chain already on `stack` (a loop, which the kernel refuses) or beyond the
    /// budget is not followed.
    fn walk(
        &self,
        ci: usize,
        input: AddrSet,
        at: &Probe,
        stack: &mut Vec<usize>,
    ) -> (AddrSet, AddrSet) {
        let chain = &self.chains[ci];
        let mut remaining = input;
        let mut accepted = AddrSet::empty();
        let mut returned = AddrSet::empty();
        for &ri in &at.sweep.per_chain[ci].active {
            let r = &chain.rules[ri];
            if remaining.is_empty() {
                break;
            }
            let m = r
                .cond
                .peers(at.hook, at.fam, at.proto)
                .intersect(&remaining);
            if m.is_empty() {
                continue;
            }
            match &r.verdict {
                Verdict::Continue => {}
                Verdict::Accept => {
                    accepted = accepted.union(&m);
                    remaining = remaining.minus(&m);
                }
                Verdict::Drop => remaining = remaining.minus(&m),
                Verdict::Return => {
                    returned = returned.union(&m);
                    remaining = remaining.minus(&m);
                }
                Verdict::Jump(target) | Verdict::Goto(target) => {
                    let Some(next) = self.find(&chain.table, target) else {
                        continue;
                    };
                    if stack.contains(&next) || stack.len() >= MAX_DEPTH {
                        continue;
                    }
                    if at.budget.get() == 0 {
                        continue;
                    }
                    at.budget.set(at.budget.get() - 1);
                    stack.push(next);
                    let (a, back) = self.walk(next, m.clone(), at, stack);
                    stack.pop();
                    accepted = accepted.union(&a);
                    remaining = remaining.minus(&m);
                    if matches!(r.verdict, Verdict::Jump(_)) {
                        remaining = remaining.union(&back);
                    } else {
                        returned = returned.union(&back);
                    }
                }
            }
        }
        (accepted, returned.union(&remaining))
    }
}

/// Jumps followed for one question at most: a hand-made capture of chains that each jump twice
/// to the next would otherwise take 2^depth walks.
const WALK_BUDGET: usize = 10_000;

/// Walks the port ranges in order and knows, per chain, the rules that may match in the current
/// one: a rule enters where its first range begins and leaves after its last, so the memory is
/// the rules' ranges, not chains times ranges, and a ruleset of ten thousand single-port rules
/// is not walked whole for each range. Rules that never match a new connection are left out.
pub struct Sweep {
    per_chain: Vec<ChainSweep>,
    /// Set when a question ran out of budget: the answer followed fewer jumps than it could.
    pub cut_short: std::cell::Cell<bool>,
}

struct ChainSweep {
    /// (range position, leaves rather than enters, rule), sorted.
    events: Vec<(usize, bool, usize)>,
    next: usize,
    /// The rules that may match in the current range, in chain order.
    active: std::collections::BTreeSet<usize>,
}

impl Sweep {
    pub fn new(ruleset: &Ruleset, segs: &[PortRange]) -> Sweep {
        let per_chain = ruleset
            .chains
            .iter()
            .map(|c| {
                let mut events = Vec::new();
                let mut active = std::collections::BTreeSet::new();
                for (i, r) in c.rules.iter().enumerate() {
                    if r.cond.never {
                        continue;
                    }
                    let Some(ports) = &r.cond.ports else {
                        active.insert(i);
                        continue;
                    };
                    for range in ports.ranges() {
                        let first = segs.partition_point(|s| s.end < range.start);
                        let after = segs.partition_point(|s| s.start <= range.end);
                        if first < after {
                            events.push((first, false, i));
                            events.push((after, true, i));
                        }
                    }
                }
                // Leaving before entering at one position: a rule's ranges never touch.
                events.sort_unstable_by_key(|&(seg, enters_not, rule)| (seg, !enters_not, rule));
                ChainSweep {
                    events,
                    next: 0,
                    active,
                }
            })
            .collect();
        Sweep {
            per_chain,
            cut_short: std::cell::Cell::new(false),
        }
    }

    /// Moves to range position `seg` (positions only grow).
    pub fn advance(&mut self, seg: usize) {
        for c in &mut self.per_chain {
            while let Some(&(at, leaves, rule)) = c.events.get(c.next) {
                if at > seg {
                    break;
                }
                if leaves {
                    c.active.remove(&rule);
                } else {
                    c.active.insert(rule);
                }
                c.next += 1;
            }
        }
    }
}

/// One question to the evaluator.
struct Probe<'a> {
    sweep: &'a Sweep,
    hook: Hook,
    fam: Fam,
    proto: Protocol,
    budget: std::cell::Cell<usize>,
}

/// The positions of the sorted, adjacent ranges `segs` that lie within `ports` (all for `None`).
/// `segs` are cut at every boundary of `ports`, so each lies wholly inside or outside.
pub fn covered<'a>(
    segs: &'a [PortRange],
    ports: Option<&'a PortSet>,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    match ports {
        None => Box::new(0..segs.len()),
        Some(p) => Box::new(p.ranges().iter().flat_map(move |r| {
            let first = segs.partition_point(|s| s.end < r.start);
            (first..segs.len()).take_while(move |&i| segs[i].start <= r.end)
        })),
    }
}

/// The ports 1-65535 cut at these boundaries: every range of ports between two of them.
pub fn segments(mut bounds: Vec<u32>) -> Vec<PortRange> {
    bounds.push(1);
    bounds.push(65536);
    bounds.retain(|b| (1..=65536).contains(b));
    bounds.sort_unstable();
    bounds.dedup();
    bounds
        .windows(2)
        .filter_map(|w| PortRange::new(w[0] as u16, (w[1] - 1) as u16))
        .collect()
}

/// The ports 1-65535 not in `p` (a `!=` port match).
pub fn port_complement(p: &PortSet) -> PortSet {
    let mut out = Vec::new();
    let mut next: u32 = 1;
    for r in p.ranges() {
        if u32::from(r.start) > next {
            out.extend(PortRange::new(next as u16, r.start - 1));
        }
        next = u32::from(r.end) + 1;
    }
    if next <= 65535 {
        out.extend(PortRange::new(next as u16, 65535));
    }
    PortSet::from_ranges(out)
}
