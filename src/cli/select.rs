//! Which nodes an export covers: `--node` (repeated, or a comma-separated list) and `--role`
//! (every node playing it), together; none of either means every node.

use fwtopo::engine::{NodePlan, Plan};
use fwtopo::topology::Topology;
use fwtopo::user_text::quoted;
use std::collections::{BTreeSet, HashMap};

/// The nodes named or playing one of the roles, in the topology's order, each once. A role is
/// `product/role` or a role id alone (`sn-apache`), which matches it in any product.
pub(super) fn nodes<'p>(
    topology: &Topology,
    plan: &'p Plan,
    names: &[String],
    roles: &[String],
) -> Result<Vec<&'p NodePlan>, String> {
    if names.is_empty() && roles.is_empty() {
        return Ok(plan.nodes.iter().collect());
    }
    let mut chosen = BTreeSet::new();
    let index: HashMap<&str, usize> = topology
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    for n in names {
        let Some(&i) = index.get(n.as_str()) else {
            return Err(format!("no node named {}", quoted(n)));
        };
        chosen.insert(i);
    }
    for r in roles {
        let (product, role) = match r.split_once('/') {
            Some((p, r)) => (Some(p), r),
            None => (None, r.as_str()),
        };
        let mut found = false;
        for (i, node) in topology.nodes.iter().enumerate() {
            let plays = node
                .roles
                .iter()
                .any(|a| a.role == role && product.is_none_or(|p| a.product == p));
            if plays {
                found = true;
                chosen.insert(i);
            }
        }
        if !found {
            return Err(format!(
                "no node plays the role {} (give it as product/role or a role id, as `fwtopo catalog` lists them)",
                quoted(r)
            ));
        }
    }
    Ok(plan
        .nodes
        .iter()
        .filter(|p| chosen.contains(&p.node))
        .collect())
}
