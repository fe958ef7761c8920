//! Comments of a plan's shared rules, written once per site export.
//!
//! Nodes of one shape share their rule lists (`NodePlan::inbound` is an `Arc`), so the scripts of
//! a thousand service nodes ask for the same few hundred rule comments a thousand times over.
//! This cache answers the repeats. It keeps only rules of lists more than one node shares: a
//! list of its own is rendered once anyway, and a site of 10,000 distinct nodes would otherwise
//! hold every comment of every rule at once.

use crate::catalog::Catalog;
use crate::engine::{Plan, Rule};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The comments of the shared rules of one plan, filled as exporters ask, from any thread.
#[derive(Debug)]
pub struct RuleTexts<'p> {
    catalog: &'p Catalog,
    /// The shared rule lists as (first rule's address, rule count), sorted: a rule is cached
    /// only when its address is inside one, so it is one of the plan's, alive as long as the
    /// plan, and no other rule can take its address.
    lists: Vec<(usize, usize)>,
    comments: Mutex<HashMap<usize, Arc<str>>>,
}

impl<'p> RuleTexts<'p> {
    pub fn new(catalog: &'p Catalog, plan: &'p Plan) -> Self {
        let mut lists: Vec<(usize, usize)> = plan
            .nodes
            .iter()
            .flat_map(|n| [&n.inbound, &n.outbound])
            .filter(|l| Arc::strong_count(l) > 1 && !l.is_empty())
            .map(|l| (l.as_ptr() as usize, l.len()))
            .collect();
        lists.sort_unstable();
        lists.dedup();
        RuleTexts {
            catalog,
            lists,
            comments: Mutex::new(HashMap::new()),
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

    /// The comment `make` writes for `r`, made once per shared rule of this plan and catalog.
    pub fn comment(&self, catalog: &Catalog, r: &Rule, make: impl FnOnce() -> String) -> String {
        let Some(key) = self.key(r).filter(|_| std::ptr::eq(catalog, self.catalog)) else {
            return make();
        };
        if let Some(c) = self.comments.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return c.to_string();
        }
        let made = make();
        if let Ok(mut m) = self.comments.lock() {
            m.insert(key, Arc::from(made.as_str()));
        }
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::from_ron;

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
        let texts = RuleTexts::new(&catalog, &plan);
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
        assert_eq!(texts.comment(&catalog, r, make), "comment 1");
        assert_eq!(
            texts.comment(&catalog, r, make),
            "comment 1",
            "from the cache"
        );
        // Another rule of the list has its own comment.
        if let Some(r2) = shared.inbound.get(1) {
            assert_eq!(texts.comment(&catalog, r2, make), "comment 2");
        }
        // A copy of a shared rule is not one of the plan's: made every time.
        let copy = r.clone();
        let before = made.get();
        texts.comment(&catalog, &copy, make);
        texts.comment(&catalog, &copy, make);
        assert_eq!(made.get(), before + 2);
        // Nor is a rule of a list only one node has.
        if let Some(own) = plan
            .nodes
            .iter()
            .find(|n| Arc::strong_count(&n.inbound) == 1 && !n.inbound.is_empty())
        {
            let before = made.get();
            texts.comment(&catalog, &own.inbound[0], make);
            assert_eq!(made.get(), before + 1);
            assert!(texts.key(&own.inbound[0]).is_none());
        }
        // Another catalog: made every time.
        let other = Catalog::embedded().unwrap();
        let before = made.get();
        texts.comment(&other, r, make);
        assert_eq!(made.get(), before + 1);
    }
}
