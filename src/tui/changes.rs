//! What changed since the baseline, the topology as last opened or saved: the rule marks of the
//! rules pane and the changes screen. The comparison is `fwtopo diff`'s ([`fwtopo::diff`]), of
//! the baseline's derived plan with the live one.
//!
//! Two caches, each keyed by the topology version and the baseline, so a key press that changes
//! neither recomputes nothing: the selected node's rule marks (one node's rules), and the whole
//! site's diff, computed only while the changes screen shows it (on a 10,000-node site a diff
//! costs about what a derive does, and an edit already pays one derive).

use super::app::{App, Screen};
use fwtopo::diff::{self, Change, Diff, RuleChanges};
use fwtopo::engine::{self, Plan};
use fwtopo::topology::{self, Topology};
use std::path::Path;

/// The topology changes are counted from, and its derived firewalls.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub topology: Topology,
    /// `None` until the designer's first derivation (at start the baseline is the topology
    /// being derived, and its plan is the one installed).
    pub plan: Option<Plan>,
    /// The designer version whose topology this is, while its plan is pending.
    pub version: Option<u64>,
    /// The words after "changes": `since site.ron was opened`.
    pub since: String,
    /// Increases with every new baseline; part of the caches' key.
    pub generation: u64,
}

/// The whole site's changes as the changes screen lists them.
#[derive(Debug, Clone, Default)]
pub struct SiteChanges {
    /// (topology version, baseline generation) they were computed for.
    pub key: (u64, u64),
    pub diff: Diff,
    pub rows: Vec<ChangeRow>,
}

/// One line of the changes screen: `fwtopo diff`'s text line, the node it is about and the
/// change of ports it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub text: String,
    pub node: Option<String>,
    pub change: Option<Change>,
}

/// The selected node's rules compared with the baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeMarks {
    /// (topology version, baseline generation, node index).
    pub key: (u64, u64, usize),
    pub rules: RuleChanges,
}

impl Baseline {
    /// The start's: the topology being opened, its plan to come from the first derivation.
    pub fn opened(path: Option<&Path>) -> Baseline {
        Baseline {
            version: Some(0),
            since: format!("since {} was opened", named(path)),
            ..Baseline::default()
        }
    }
}

fn named(path: Option<&Path>) -> String {
    path.map_or("the built-in example".to_string(), |p| {
        p.display().to_string()
    })
}

impl App {
    /// The topology now on screen becomes the baseline, `how` it came (`opened`, `saved`); its
    /// plan is the live one.
    pub fn set_baseline_here(&mut self, how: &str) {
        let since = format!("since {} was {how}", named(self.path.as_deref()));
        let plan = (!self.deriving).then(|| self.plan.clone());
        let topology = if plan.is_some() {
            self.topology.clone()
        } else {
            Topology::default()
        };
        self.put_baseline(Baseline {
            topology,
            plan,
            version: Some(self.version),
            since,
            generation: 0,
        });
    }

    /// Another topology is the baseline (the file on disk under recovered work; `None`: there is
    /// none, so everything is new).
    pub fn set_baseline_other(&mut self, t: Option<Topology>, since: String) {
        let t = t.unwrap_or_default();
        let catalog = topology::site_catalog(&self.base_catalog, &t);
        let plan = engine::derive(&catalog, &t);
        self.put_baseline(Baseline {
            topology: t,
            plan: Some(plan),
            version: None,
            since,
            generation: 0,
        });
    }

    fn put_baseline(&mut self, mut b: Baseline) {
        b.generation = self.baseline.generation + 1;
        self.baseline = b;
        self.node_marks_cache = None;
        self.site_changes = None;
        self.refresh_changes();
    }

    /// Brings the caches up to date: the selected node's marks always, the whole site's diff
    /// when the changes screen shows it. Each is recomputed only when its key changed.
    pub fn refresh_changes(&mut self) {
        if self.deriving {
            return;
        }
        if self.baseline.plan.is_none() && self.baseline.version == Some(self.version) {
            // The start's topology, now derived.
            self.baseline.plan = Some(self.plan.clone());
            self.baseline.topology = self.topology.clone();
        }
        let Some(base) = &self.baseline.plan else {
            return;
        };
        let generation = self.baseline.generation;
        if let Some(n) = self.selected_node() {
            let key = (self.version, generation, n);
            if self.node_marks_cache.as_ref().is_none_or(|m| m.key != key) {
                let rules = self
                    .plan
                    .nodes
                    .get(n)
                    .map_or_else(RuleChanges::default, |p| {
                        diff::rule_changes(base.node(&p.name), p)
                    });
                self.node_marks_cache = Some(NodeMarks { key, rules });
            }
        }
        let key = (self.version, generation);
        if self.screen == Screen::Changes && self.site_changes.as_ref().is_none_or(|c| c.key != key)
        {
            let d = diff::diff(base, &self.plan);
            let rows = if d.is_empty() {
                Vec::new()
            } else {
                diff::lines(&d, false, false)
                    .into_iter()
                    .map(|l| ChangeRow {
                        text: l.text,
                        node: l.node.map(str::to_string),
                        change: l.change.cloned(),
                    })
                    .collect()
            };
            self.site_changes = Some(SiteChanges { key, diff: d, rows });
        }
    }

    /// The selected node's rule changes, when current.
    pub fn node_marks(&self) -> Option<&RuleChanges> {
        let n = self.selected_node()?;
        self.node_marks_cache
            .as_ref()
            .filter(|m| m.key == (self.version, self.baseline.generation, n))
            .map(|m| &m.rules)
    }

    /// The changes screen's rows, when current.
    pub fn change_rows(&self) -> &[ChangeRow] {
        self.site_changes
            .as_ref()
            .filter(|c| c.key == (self.version, self.baseline.generation))
            .map_or(&[], |c| &c.rows)
    }
}
