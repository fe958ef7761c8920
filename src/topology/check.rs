//! Checks that need the catalog: every role exists, every parameter is known and well-typed, and
//! every required parameter is set.

use super::Topology;
use super::file::Problem;
use crate::catalog::{Catalog, ParamKind};
use crate::ports::{PortError, PortRange};
use crate::user_text::{double_quoted, escaped, quoted};

/// A parameter value as the engine uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamValue {
    Ports(PortRange),
    Switch(bool),
}

impl ParamValue {
    /// Parses a typed value for a parameter of the given kind.
    pub fn parse(kind: &ParamKind, text: &str) -> Result<ParamValue, String> {
        let t = text.trim();
        match kind {
            ParamKind::Switch { .. } => match t.to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" => Ok(ParamValue::Switch(true)),
                "off" | "false" | "no" => Ok(ParamValue::Switch(false)),
                _ => Err(format!("{} is not on or off", quoted(t))),
            },
            ParamKind::Port { .. } => {
                let r: PortRange = t.parse().map_err(|e: PortError| e.to_string())?;
                if r.is_single() {
                    Ok(ParamValue::Ports(r))
                } else {
                    Err(format!("{} is a range; a single port is needed", quoted(t)))
                }
            }
            ParamKind::PortRange { .. } | ParamKind::Dynamic { .. } | ParamKind::Required => t
                .parse::<PortRange>()
                .map(ParamValue::Ports)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Every problem of the topology against the catalog; empty when it is ready for the engine.
///
/// `catalog` is the base catalog or the [`super::site_catalog`]: the topology's own product is
/// added either way.
pub fn check(topology: &Topology, catalog: &Catalog) -> Vec<Problem> {
    let mut problems = Vec::new();
    // The topology's own product takes the id `site`: a catalog product of that id would be
    // replaced without a word.
    if !topology.custom.is_empty()
        && let Some(i) = catalog.product_index(super::custom::PRODUCT)
        && catalog.origin(i) != super::custom::ORIGIN
    {
        problems.push(Problem {
            path: "custom".into(),
            message: format!(
                "the catalog has a product '{}' of its own ({}); the topology's custom roles take that id: give the catalog product another",
                super::custom::PRODUCT,
                escaped(catalog.origin(i))
            ),
        });
    }
    let site;
    let catalog = if topology.custom.is_empty() {
        catalog
    } else {
        site = super::site_catalog(catalog, topology);
        &site
    };
    super::custom::check_catalog_roles(topology, catalog, &mut problems);
    for (i, node) in topology.nodes.iter().enumerate() {
        let at = format!("nodes[{i}] {}", double_quoted(&node.name));
        let mut seen = Vec::new();
        for (j, ra) in node.roles.iter().enumerate() {
            let here = format!(
                "{at}: roles[{j}] {}/{}",
                escaped(&ra.product),
                escaped(&ra.role)
            );
            let Some(product) = catalog.product(&ra.product) else {
                let known: Vec<&str> = catalog.products().iter().map(|p| p.id.as_str()).collect();
                problems.push(Problem {
                    path: format!("{at}: roles[{j}].product"),
                    message: format!(
                        "unknown product {} (known: {})",
                        quoted(&ra.product),
                        known.join(", ")
                    ),
                });
                continue;
            };
            // A stand-in role of the site's own product is no role a node can be given.
            let Some(role) = product.role(&ra.role).filter(|r| r.stands_for.is_none()) else {
                let known: Vec<&str> = product
                    .roles
                    .iter()
                    .filter(|r| r.stands_for.is_none())
                    .map(|r| r.id.as_str())
                    .collect();
                problems.push(Problem {
                    path: format!("{at}: roles[{j}].role"),
                    message: format!(
                        "unknown role {} of {} (known: {})",
                        quoted(&ra.role),
                        product.id,
                        known.join(", ")
                    ),
                });
                continue;
            };
            if seen.contains(&(&ra.product, &ra.role)) {
                problems.push(Problem {
                    path: here.clone(),
                    message: "role is assigned twice".into(),
                });
            }
            seen.push((&ra.product, &ra.role));
            for (key, value) in &ra.params {
                let declared = product
                    .parameter(key)
                    .filter(|_| product.accepts(role, key))
                    .map(|(_, p)| p);
                match declared {
                    None => {
                        let known: Vec<&str> = product
                            .roles
                            .iter()
                            .flat_map(|r| r.parameters.iter())
                            .map(|p| p.id.as_str())
                            .filter(|id| product.accepts(role, id))
                            .collect();
                        problems.push(Problem {
                            path: format!("{here}: params.{key}"),
                            message: if known.is_empty() {
                                format!("unknown parameter {}: this role has none", quoted(key))
                            } else {
                                format!(
                                    "unknown parameter {} (known: {})",
                                    quoted(key),
                                    known.join(", ")
                                )
                            },
                        });
                    }
                    Some(p) => {
                        if let Err(m) = ParamValue::parse(&p.kind, value) {
                            problems.push(Problem {
                                path: format!("{here}: params.{key}"),
                                message: m,
                            });
                        }
                    }
                }
            }
            for p in &role.parameters {
                if matches!(p.kind, ParamKind::Required) && !ra.params.contains_key(&p.id) {
                    problems.push(Problem {
                        path: format!("{here}: params.{}", p.id),
                        message: format!("required parameter '{}' ({}) is not set", p.id, p.name),
                    });
                }
            }
        }
    }
    problems
}
