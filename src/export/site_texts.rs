//! Texts that the scripts of one site repeat, written once per site export: comments and
//! summaries of shared rules, and descriptions of small address sets.
//!
//! Nodes of one shape share their rule lists (`NodePlan::inbound` is an `Arc`), so the scripts of
//! a thousand service nodes ask for the same few hundred rule comments a thousand times over, and
//! name the same few peer sets. This cache answers the repeats. It keeps only rules of lists more
//! than one node shares (a list of its own is rendered once anyway, and a site of 10,000 distinct
//! nodes would otherwise hold every comment of every rule at once), and set descriptions up to a
//! bounded number of networks in all. A set is described once however large it is: describing
//! "every service node" looks at every node it covers, and a thousand backup nodes each naming
//! that set made a 100,000-node export grow with the square of the site.

use crate::catalog::Catalog;
use crate::engine::{Plan, Rule};
use crate::topology::Topology;
use ipnet::IpNet;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

/// Which text of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Text {
    /// [`super::Export::rule_comment`].
    Comment,
    /// The one-line summary the nftables and iptables exports list outbound rules by.
    Summary,
    /// The netsh and PowerShell exports' summary.
    WindowsSummary,
}

/// A set's description: a name when it is exactly one zone or node, and what it covers.
pub type SetDescription = (Option<String>, String);

/// Set descriptions by (IPv6, networks).
type SetDescriptions = HashMap<(bool, Vec<IpNet>), SetDescription>;

/// The cached set descriptions hold at most this many networks in all (about 40 MB at most);
/// past that, a set is described every time it is asked for.
const CACHED_NETS: usize = 1 << 20;

/// The texts of one plan's site, filled as exporters ask, from any thread.
#[derive(Debug)]
pub struct SiteTexts<'p> {
    catalog: &'p Catalog,
    topology: &'p Topology,
    /// The shared rule lists as (first rule's address, rule count), sorted: a rule is cached
    /// only when its address is inside one, so it is one of the plan's, alive as long as the
    /// plan, and no other rule can take its address.
    lists: Vec<(usize, usize)>,
    texts: Mutex<HashMap<(usize, Text), Arc<str>>>,
    /// (IPv6, networks) to their description, and how many networks the keys hold in all.
    sets: Mutex<(SetDescriptions, usize)>,
    /// The plan stays borrowed while this lives, so no rule list can move or be replaced.
    plan: PhantomData<&'p Plan>,
}

impl<'p> SiteTexts<'p> {
    /// For `plan`, derived from `topology` with `catalog`.
    pub fn new(catalog: &'p Catalog, topology: &'p Topology, plan: &'p Plan) -> Self {
        let mut lists: Vec<(usize, usize)> = plan
            .nodes
            .iter()
            .flat_map(|n| [&n.inbound, &n.outbound])
            .filter(|l| Arc::strong_count(l) > 1 && !l.is_empty())
            .map(|l| (l.as_ptr() as usize, l.len()))
            .collect();
        lists.sort_unstable();
        lists.dedup();
        SiteTexts {
            catalog,
            topology,
            lists,
            texts: Mutex::new(HashMap::new()),
            sets: Mutex::new((HashMap::new(), 0)),
            plan: PhantomData,
        }
    }

    /// The rule's address when it is one of the plan's shared rules.
    fn key(&self, r: &Rule) -> Option<usize> {
        let at = r as *const Rule as usize;
        let i = self.lists.partition_point(|&(start, _)| start <= at);
        let &(start, len) = self.lists.get(i.checked_sub(1)?)?;
        let size = std::mem::size_of::<Rule>();
        (at < start + len * size && (at - start).is_multiple_of(size)).then_some(at)
    }

    /// The text `make` writes for `r`, made once per shared rule of this plan and catalog. `make`
    /// must depend on nothing but the rule and the catalog.
    pub fn get(
        &self,
        catalog: &Catalog,
        r: &Rule,
        text: Text,
        make: impl FnOnce() -> String,
    ) -> String {
        let Some(at) = self.key(r).filter(|_| std::ptr::eq(catalog, self.catalog)) else {
            return make();
        };
        if let Some(c) = self
            .texts
            .lock()
            .ok()
            .and_then(|m| m.get(&(at, text)).cloned())
        {
            return c.to_string();
        }
        let made = make();
        if let Ok(mut m) = self.texts.lock() {
            m.insert((at, text), Arc::from(made.as_str()));
        }
        made
    }

    /// The description `make` writes for a set of networks of one family, made once per export
    /// of this topology (while the cache has room). `make` must depend on nothing but the
    /// networks and the topology.
    pub fn set_description(
        &self,
        topology: &Topology,
        v6: bool,
        nets: &[IpNet],
        make: impl FnOnce() -> SetDescription,
    ) -> SetDescription {
        if !std::ptr::eq(topology, self.topology) {
            return make();
        }
        let key = (v6, nets.to_vec());
        if let Some(d) = self.sets.lock().ok().and_then(|m| m.0.get(&key).cloned()) {
            return d;
        }
        let made = make();
        if let Ok(mut m) = self.sets.lock()
            && m.1 + nets.len() <= CACHED_NETS
        {
            m.1 += nets.len();
            m.0.insert(key, made.clone());
        }
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::from_ron;

    #[test]
    fn a_set_of_any_size_is_described_once() {
        // Issue 11.1: sets of more than 64 networks were described again for every node that
        // named them, and describing one looks at every node it covers.
        let catalog = Catalog::embedded().unwrap();
        let t = Topology::default();
        let plan = crate::engine::derive(&catalog, &t);
        let texts = SiteTexts::new(&catalog, &t, &plan);
        let nets: Vec<IpNet> = (0..200u32)
            .map(|i| {
                IpNet::from(std::net::IpAddr::from(std::net::Ipv4Addr::from(
                    0xc000_0200 + i * 2,
                )))
            })
            .collect();
        let made = std::cell::Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            (None, format!("described {}", made.get()))
        };
        let first = texts.set_description(&t, false, &nets, make);
        let again = texts.set_description(&t, false, &nets, make);
        assert_eq!(first, again);
        assert_eq!(made.get(), 1, "a set of 200 networks was described twice");
        // Another family of the same networks is another set.
        texts.set_description(&t, true, &nets, make);
        assert_eq!(made.get(), 2);
    }

    #[test]
    fn shared_rules_are_made_once_and_others_every_time() {
        let catalog = Catalog::embedded().unwrap();
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/mailstore-spe.ron"
        ))
        .unwrap();
        let t = from_ron(&text).unwrap();
        let plan = crate::engine::derive(&catalog, &t);
        let texts = SiteTexts::new(&catalog, &t, &plan);
        let shared = plan
            .nodes
            .iter()
            .find(|n| Arc::strong_count(&n.inbound) > 1)
            .expect("two nodes of one shape in the example");
        let made = std::cell::Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            format!("comment {}", made.get())
        };
        let r = &shared.inbound[0];
        assert_eq!(texts.get(&catalog, r, Text::Comment, make), "comment 1");
        assert_eq!(
            texts.get(&catalog, r, Text::Comment, make),
            "comment 1",
            "from the cache"
        );
        // Another text of the same rule is made on its own.
        assert_eq!(texts.get(&catalog, r, Text::Summary, make), "comment 2");
        assert_eq!(texts.get(&catalog, r, Text::Summary, make), "comment 2");
        // Another rule of the list has its own comment.
        if let Some(r2) = shared.inbound.get(1) {
            assert_eq!(texts.get(&catalog, r2, Text::Comment, make), "comment 3");
        }
        // A copy of a shared rule is not one of the plan's: made every time.
        let copy = r.clone();
        let before = made.get();
        texts.get(&catalog, &copy, Text::Comment, make);
        texts.get(&catalog, &copy, Text::Comment, make);
        assert_eq!(made.get(), before + 2);
        // Nor is a rule of a list only one node has.
        if let Some(own) = plan
            .nodes
            .iter()
            .find(|n| Arc::strong_count(&n.inbound) == 1 && !n.inbound.is_empty())
        {
            let before = made.get();
            texts.get(&catalog, &own.inbound[0], Text::Comment, make);
            assert_eq!(made.get(), before + 1);
            assert!(texts.key(&own.inbound[0]).is_none());
        }
        // Another catalog: made every time.
        let other = Catalog::embedded().unwrap();
        let before = made.get();
        texts.get(&other, r, Text::Comment, make);
        assert_eq!(made.get(), before + 1);
    }
}
