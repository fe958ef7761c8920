//! The designer's state. The topology is the document; the plan, findings and preview are caches
//! recomputed by [`App::rederive`] whenever the topology changes, so views only read.

use super::changes::{Baseline, NodeMarks, SiteChanges};
use super::theme::Theme;
use fwtopo::catalog::{Catalog, HOST_PRODUCT};
use fwtopo::date::Date;
use fwtopo::engine::{self, Plan, Severity};
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::files::OnDisk;
use fwtopo::target::Target;
use fwtopo::topology::{self, Problem, Topology};
use std::collections::HashMap;
use std::path::PathBuf;

/// How many snapshots undo keeps: enough for a session, bounded for 1,000-node topologies.
pub const UNDO_DEPTH: usize = 100;

/// The top-level screens, switched with 1–6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Design,
    Findings,
    Zones,
    Overview,
    Export,
    /// What changed since the file was opened or saved, as `fwtopo diff` says it.
    Changes,
}

impl Screen {
    pub const ALL: [Screen; 6] = [
        Screen::Design,
        Screen::Findings,
        Screen::Zones,
        Screen::Overview,
        Screen::Export,
        Screen::Changes,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Design => "Design",
            Screen::Findings => "Findings",
            Screen::Zones => "Zones",
            Screen::Overview => "Overview",
            Screen::Export => "Export",
            Screen::Changes => "Changes",
        }
    }

    /// The panes of the screen, in focus order.
    pub fn panes(self) -> &'static [Pane] {
        match self {
            Screen::Design => &[Pane::Nodes, Pane::Roles, Pane::Rules],
            Screen::Findings => &[Pane::Findings],
            Screen::Zones => &[Pane::Zones, Pane::Hosts, Pane::Custom],
            Screen::Overview => &[Pane::Overview],
            Screen::Export => &[Pane::Nodes, Pane::Preview],
            Screen::Changes => &[Pane::Changes],
        }
    }
}

/// A focusable area of a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Nodes,
    Roles,
    Rules,
    Findings,
    Zones,
    Hosts,
    /// The topology's own roles and flows ([`super::custom_role`]).
    Custom,
    Overview,
    Preview,
    Changes,
}

/// A selection in a list and the first visible row. The offset is kept by `update` (so scrolling is
/// sticky) and clamped by [`Cursor::offset_for`], which views and mouse hit-testing share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub sel: usize,
    pub offset: usize,
}

impl Cursor {
    pub fn clamp(&mut self, len: usize) {
        self.sel = self.sel.min(len.saturating_sub(1));
    }

    /// Moves by `delta` rows, stopping at the ends.
    pub fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.sel = 0;
            return;
        }
        self.sel = self.sel.saturating_add_signed(delta).min(len - 1);
    }

    /// The first row to draw in a viewport of `height` rows so that the selection is visible.
    pub fn offset_for(&self, height: usize) -> usize {
        let h = height.max(1);
        if self.sel < self.offset {
            self.sel
        } else if self.sel >= self.offset + h {
            self.sel + 1 - h
        } else {
            self.offset
        }
    }
}

/// Where the connections of an overview row come from. Rows run: any address, the zones, the
/// external hosts, then the nodes, so management access from the admin zone has a row of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Any,
    Zone(usize),
    Host(usize),
    Node(usize),
}

/// The overview matrix cursor: a row (a [`Source`]), a column (a destination node), and the
/// scroll offsets of both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grid {
    pub row: Cursor,
    pub col: Cursor,
}

/// One line of the findings screen: an engine finding, or a problem the catalog check found. Only
/// indices, so re-deriving a site with thousands of findings copies no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingRow {
    pub severity: Severity,
    /// Index of the node concerned, for jumping to it.
    pub node: Option<usize>,
    pub source: FindingSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingSource {
    /// Index into `App::problems`.
    Check(usize),
    /// Index into `App::plan.findings`.
    Engine(usize),
}

/// The traffic from one source to one node, as the overview shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// `tcp 80,443` style lines, one per protocol.
    pub ports: Vec<String>,
    pub services: Vec<String>,
}

impl Cell {
    /// A few characters for the matrix: each protocol's initial and its ports (`t22,80 u53`), so
    /// tcp 53 and udp 53 do not read as `53,53`.
    pub fn short(&self) -> String {
        self.ports
            .iter()
            .map(|p| match p.split_once(' ') {
                Some((proto, ports)) => {
                    format!("{}{ports}", proto.chars().next().unwrap_or('?'))
                }
                None => p.clone(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The visible window of the whole-site flow matrix: who may open connections to whom, from the
/// inbound rules. Only the window is computed (a 1,000-node site has a million cells).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overview {
    /// The topology version and the matrix rows (0 is "any") and columns it was computed for.
    pub version: u64,
    pub rows: std::ops::Range<usize>,
    pub cols: std::ops::Range<usize>,
    /// (source, destination node) → what is allowed.
    pub cells: HashMap<(Source, usize), Cell>,
}

pub use super::modal::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Ok,
    Warning,
    Error,
}

/// How many status messages the message log keeps.
pub const MESSAGES_KEPT: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub kind: StatusKind,
    pub text: String,
}

/// One undo step: the topology before an edit and what the edit was.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub topology: Topology,
    pub version: u64,
    pub node: usize,
    pub label: String,
}

/// The export preview as shown: exactly `export::copy_text` for one node and target, the text `y`
/// copies and `fwtopo export --node N` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub node: usize,
    pub target: Option<Target>,
    pub text: String,
    /// The widest line as drawn (tabs as four spaces), for sideways scrolling.
    pub width: usize,
}

/// How a preview line is drawn: tabs as four spaces.
pub fn preview_line(line: &str) -> String {
    line.replace('\t', "    ")
}

/// What [`App::install`] takes for a topology: its plan and its check problems. Pure, so it can
/// run on another thread while a frame is drawn.
/// With `today`, the plan has the expiry findings as of that day (FW029, FW030).
pub fn derived(
    catalog: &Catalog,
    topology: &Topology,
    today: Option<Date>,
) -> (Plan, Vec<Problem>) {
    (
        match today {
            Some(day) => engine::derive_on(catalog, topology, day),
            None => engine::derive(catalog, topology),
        },
        topology::check(topology, catalog),
    )
}

#[derive(Debug)]
pub struct App {
    /// The catalog with the topology's own product ([`topology::site_catalog`]); every view
    /// reads provenance from it. Rebuilt from `base_catalog` whenever the plan is.
    pub catalog: Catalog,
    /// The embedded and user catalog, without the topology's own roles.
    pub base_catalog: Catalog,
    pub topology: Topology,
    pub plan: Plan,
    /// The day expiry findings are reckoned from: the run's (`--today`, `$FWTOPO_TODAY`, the
    /// clock); `None` (tests) reports no expiry.
    pub today: Option<Date>,
    /// The plan and findings are being derived on another thread while the first frame is drawn
    /// (a 10,000-node site takes some 30 ms); they are empty until [`App::install`].
    pub deriving: bool,
    /// Problems `topology::check` finds (unknown roles, bad parameters), shown as errors.
    pub problems: Vec<Problem>,
    pub findings: Vec<FindingRow>,
    /// The worst finding of each node, for the marks in the node list.
    pub node_marks: Vec<Option<Severity>>,
    pub overview: Option<Overview>,
    pub preview: Preview,
    /// The topology as last opened or saved, which the rule marks and the changes screen compare
    /// with ([`super::changes`]).
    pub baseline: Baseline,
    pub node_marks_cache: Option<NodeMarks>,
    pub site_changes: Option<SiteChanges>,

    pub path: Option<PathBuf>,
    /// The file at `path` as this designer last read or wrote it (`None`: there was none), to
    /// notice another hand's changes before a save replaces them. Its `comments` are those a save
    /// would drop that the operator has not agreed to lose yet.
    pub disk: Option<OnDisk>,
    /// Increases with every edit; undo restores the version it took, so undoing back to the saved
    /// state clears the unsaved marker.
    pub version: u64,
    pub next_version: u64,
    pub saved_version: Option<u64>,
    pub undo: Vec<Snapshot>,
    pub redo: Vec<Snapshot>,

    pub screen: Screen,
    pub focus: Pane,
    pub nodes: Cursor,
    pub roles: Cursor,
    pub rules: Cursor,
    pub finding_cursor: Cursor,
    pub zones: Cursor,
    pub hosts: Cursor,
    /// The custom pane: roles, then flows.
    pub custom: Cursor,
    pub grid: Grid,
    pub preview_scroll: usize,
    pub changes_cursor: Cursor,
    /// The first column of the preview shown, for lines wider than the pane.
    pub preview_hscroll: usize,
    /// The export screen's target; `None` is the node's own (its firewall, else the OS default).
    /// Only the export screen uses it: everywhere else a node's own target is shown and copied.
    pub target: Option<Target>,
    pub egress: Egress,

    pub modal: Option<Modal>,
    pub status: Option<Status>,
    /// The last [`MESSAGES_KEPT`] status messages, oldest first: the status line is one row,
    /// and a message it cuts (a copy's path, an error) must still be readable.
    pub messages: std::collections::VecDeque<Status>,
    pub themes: Vec<Theme>,
    pub theme: usize,
    /// The terminal size the last frame had, for layout-dependent scrolling and mouse hits.
    pub width: u16,
    pub height: u16,
    /// After a save that was asked for on the way out.
    pub quit_after_save: bool,
    /// The last text sent to the clipboard and a file name for it, kept to offer writing it to a
    /// file when the copy fails.
    pub pending_copy: Option<(String, String)>,
    pub quit: bool,
}

impl App {
    /// A designer on `topology`; `path` is where Save writes (`None` asks). Derives at once (the
    /// tests and benches build an app so; the designer derives while drawing its first frame).
    #[allow(dead_code)]
    pub fn new(
        catalog: Catalog,
        topology: Topology,
        path: Option<PathBuf>,
        themes: Vec<Theme>,
        theme: usize,
    ) -> App {
        let mut app = App::deriving(catalog, topology, path, themes, theme);
        // Not a first start: no status about problems (the run sets that up itself).
        app.deriving = false;
        app.rederive();
        app
    }

    /// [`App::new`] without the plan yet: [`derived`] computes it (on any thread) and
    /// [`App::install`] puts it in.
    pub fn deriving(
        catalog: Catalog,
        topology: Topology,
        path: Option<PathBuf>,
        themes: Vec<Theme>,
        theme: usize,
    ) -> App {
        let themes = if themes.is_empty() {
            vec![Theme::fallback()]
        } else {
            themes
        };
        let baseline = Baseline::opened(path.as_deref());
        App {
            catalog: topology::site_catalog(&catalog, &topology),
            base_catalog: catalog,
            topology,
            plan: Plan::default(),
            today: None,
            deriving: true,
            problems: Vec::new(),
            findings: Vec::new(),
            node_marks: Vec::new(),
            overview: None,
            preview: Preview::default(),
            baseline,
            node_marks_cache: None,
            site_changes: None,
            path,
            disk: None,
            version: 0,
            next_version: 1,
            saved_version: Some(0),
            undo: Vec::new(),
            redo: Vec::new(),
            screen: Screen::Design,
            focus: Pane::Nodes,
            nodes: Cursor::default(),
            roles: Cursor::default(),
            rules: Cursor::default(),
            finding_cursor: Cursor::default(),
            zones: Cursor::default(),
            hosts: Cursor::default(),
            custom: Cursor::default(),
            grid: Grid::default(),
            preview_scroll: 0,
            changes_cursor: Cursor::default(),
            preview_hscroll: 0,
            target: None,
            egress: Egress::Open,
            modal: None,
            status: None,
            theme: theme.min(themes.len() - 1),
            themes,
            width: 80,
            height: 24,
            quit_after_save: false,
            pending_copy: None,
            messages: std::collections::VecDeque::new(),
            quit: false,
        }
    }

    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme]
    }

    pub fn dirty(&self) -> bool {
        self.saved_version != Some(self.version)
    }

    /// Marks the current state as not saved anywhere (a new file, a recovered copy).
    pub fn mark_unsaved(&mut self) {
        self.saved_version = None;
    }

    pub fn selected_node(&self) -> Option<usize> {
        (!self.topology.nodes.is_empty()).then(|| self.nodes.sel.min(self.topology.nodes.len() - 1))
    }

    pub fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        let status = Status {
            kind,
            text: text.into(),
        };
        if self.messages.len() == MESSAGES_KEPT {
            self.messages.pop_front();
        }
        self.messages.push_back(status.clone());
        self.status = Some(status);
    }

    /// Recomputes everything derived from the topology: the plan, the check problems, the findings
    /// list, node marks and the export preview; the overview is rebuilt when shown.
    pub fn rederive(&mut self) {
        self.catalog = topology::site_catalog(&self.base_catalog, &self.topology);
        let (plan, problems) = derived(&self.catalog, &self.topology, self.today);
        self.install(plan, problems);
    }

    /// Puts in a plan and check problems of the current topology and recomputes what depends on
    /// them. The first time, a file with problems says so in the status line.
    pub fn install(&mut self, plan: Plan, problems: Vec<Problem>) {
        let first = std::mem::take(&mut self.deriving);
        self.plan = plan;
        self.problems = problems;
        if first
            && self.status.is_none()
            && let (n @ 1.., Some(path)) = (self.problems.len(), &self.path)
        {
            let s = format!(
                "{}: the catalog check found {n} problem{}: see the findings screen (2)",
                path.display(),
                if n == 1 { "" } else { "s" }
            );
            self.set_status(StatusKind::Warning, s);
        }
        let index: HashMap<&str, usize> = self
            .topology
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let mut rows: Vec<FindingRow> = self
            .problems
            .iter()
            .enumerate()
            .map(|(i, p)| FindingRow {
                severity: Severity::Error,
                node: problem_node(&p.path).filter(|n| *n < self.topology.nodes.len()),
                source: FindingSource::Check(i),
            })
            .collect();
        rows.extend(
            self.plan
                .findings
                .iter()
                .enumerate()
                .map(|(i, f)| FindingRow {
                    severity: f.severity,
                    node: f.node.as_deref().and_then(|n| index.get(n).copied()),
                    source: FindingSource::Engine(i),
                }),
        );
        let mut marks: Vec<Option<Severity>> = vec![None; self.topology.nodes.len()];
        for r in &rows {
            if let Some(m) = r.node.and_then(|i| marks.get_mut(i)) {
                *m = Some(m.map_or(r.severity, |s| s.min(r.severity)));
            }
        }
        self.findings = rows;
        self.node_marks = marks;
        self.overview = None;
        self.refresh_preview();
        self.refresh_changes();
        self.clamp_cursors();
    }

    /// A node's own target: its firewall when chosen, else its OS default (netsh on Windows).
    pub fn node_target(&self, node: usize) -> Target {
        self.topology
            .nodes
            .get(node)
            .and_then(|n| export::auto_targets(n).first().copied())
            .unwrap_or(Target::Nftables)
    }

    /// The target the export screen previews for a node: the one chosen there, else the node's own.
    pub fn preview_target(&self, node: usize) -> Target {
        self.target.unwrap_or_else(|| self.node_target(node))
    }

    /// A finding's code: `FW001` …, or `check` for a catalog-check problem.
    pub fn finding_code(&self, r: &FindingRow) -> &'static str {
        match r.source {
            FindingSource::Check(_) => "check",
            FindingSource::Engine(i) => self.plan.findings.get(i).map_or("", |f| f.code.id()),
        }
    }

    pub fn finding_node_name(&self, r: &FindingRow) -> &str {
        r.node
            .and_then(|n| self.topology.nodes.get(n))
            .map_or("", |n| n.name.as_str())
    }

    /// A finding's text: the slug and message, or the check problem with where it is.
    pub fn finding_message(&self, r: &FindingRow) -> String {
        match r.source {
            FindingSource::Check(i) => self
                .problems
                .get(i)
                .map(ToString::to_string)
                .unwrap_or_default(),
            FindingSource::Engine(i) => self
                .plan
                .findings
                .get(i)
                .map(|f| format!("{}: {}", f.code.slug(), f.message))
                .unwrap_or_default(),
        }
    }

    /// Exactly what `fwtopo export --node N` prints for one node and target (without `--out`) and
    /// what `y` copies: [`export::copy_text`].
    pub fn export_text(&self, node: usize, target: Target) -> String {
        match self.plan.nodes.iter().find(|p| p.node == node) {
            Some(p) => export::copy_text(
                target,
                &Export::new(
                    &self.catalog,
                    &self.topology,
                    &self.plan,
                    p,
                    Options {
                        egress: self.egress,
                        crlf: false,
                    },
                ),
            ),
            None => String::new(),
        }
    }

    /// Renders the preview of the selected node when the export screen shows it.
    pub fn refresh_preview(&mut self) {
        if self.screen != Screen::Export {
            return;
        }
        match self.selected_node() {
            Some(n) => {
                let target = self.preview_target(n);
                let text = self.export_text(n, target);
                let width = text
                    .lines()
                    .map(|l| preview_line(l).chars().count())
                    .max()
                    .unwrap_or(0);
                self.preview = Preview {
                    node: n,
                    target: Some(target),
                    text,
                    width,
                };
            }
            None => self.preview = Preview::default(),
        }
    }

    /// Computes the overview cells of a window of the matrix, unless they are current.
    pub fn refresh_overview(&mut self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) {
        if self
            .overview
            .as_ref()
            .is_some_and(|o| o.version == self.version && o.rows == rows && o.cols == cols)
        {
            return;
        }
        let mut cells = HashMap::new();
        for r in rows.clone() {
            let Some(from) = self.overview_source(r) else {
                continue;
            };
            for c in cols.clone() {
                if let Some(cell) = self.cell(from, c) {
                    cells.insert((from, c), cell);
                }
            }
        }
        self.overview = Some(Overview {
            version: self.version,
            rows,
            cols,
            cells,
        });
    }

    /// How many rows the overview has: any, the zones, the external hosts, the nodes.
    pub fn overview_rows(&self) -> usize {
        1 + self.topology.zones.len()
            + self.topology.external_hosts.len()
            + self.topology.nodes.len()
    }

    /// The source of overview row `r`.
    pub fn overview_source(&self, r: usize) -> Option<Source> {
        let t = &self.topology;
        let (z, h) = (t.zones.len(), t.external_hosts.len());
        match r {
            0 => Some(Source::Any),
            r if r <= z => Some(Source::Zone(r - 1)),
            r if r <= z + h => Some(Source::Host(r - 1 - z)),
            r if r <= z + h + t.nodes.len() => Some(Source::Node(r - 1 - z - h)),
            _ => None,
        }
    }

    /// How a source reads in the overview.
    pub fn source_name(&self, s: Source) -> String {
        let t = &self.topology;
        match s {
            Source::Any => "any".into(),
            Source::Zone(i) => t
                .zones
                .get(i)
                .map_or(String::new(), |z| format!("zone {}", z.name)),
            Source::Host(i) => t
                .external_hosts
                .get(i)
                .map_or(String::new(), |h| format!("host {}", h.name)),
            Source::Node(i) => t.nodes.get(i).map_or(String::new(), |n| n.name.clone()),
        }
    }

    /// What node `to` accepts from a source. Zones, hosts and nodes count only rules restricted
    /// to peers that hold them (a rule open to any is the `any` row's).
    pub fn cell(&self, from: Source, to: usize) -> Option<Cell> {
        use std::collections::BTreeMap;
        let np = self.plan.nodes.get(to)?;
        let mut ports: BTreeMap<&'static str, fwtopo::ports::PortSet> = BTreeMap::new();
        let mut services: Vec<String> = Vec::new();
        for rule in np.inbound.iter() {
            let t = &self.topology;
            let hit = match from {
                Source::Any => rule.peers.is_any(),
                _ if rule.peers.is_any() => false,
                Source::Node(f) => {
                    f != to
                        && t.nodes
                            .get(f)
                            .is_some_and(|n| n.addresses.iter().any(|a| rule.peers.contains(*a)))
                }
                Source::Host(h) => t
                    .external_hosts
                    .get(h)
                    .is_some_and(|x| x.addresses.iter().any(|a| rule.peers.contains(*a))),
                Source::Zone(z) => t
                    .zones
                    .get(z)
                    .is_some_and(|x| x.cidrs.iter().any(|n| rule.peers.covers(n))),
            };
            if !hit {
                continue;
            }
            let set = ports.entry(rule.protocol.as_str()).or_default();
            *set = set.union(&rule.ports);
            for s in rule.services(&self.catalog) {
                if !services.iter().any(|x| x == s) {
                    services.push(s.to_string());
                }
            }
        }
        (!ports.is_empty()).then(|| Cell {
            ports: ports
                .into_iter()
                .map(|(p, set)| format!("{p} {set}"))
                .collect(),
            services,
        })
    }

    /// The rows of the roles pane: a role, then each of its parameters.
    pub fn role_rows(&self) -> Vec<RoleRow> {
        let Some(n) = self.selected_node() else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        for (i, ra) in self.topology.nodes[n].roles.iter().enumerate() {
            rows.push(RoleRow::Role(i));
            if let Some(role) = self.catalog.role(&ra.product, &ra.role) {
                rows.extend(
                    role.parameters
                        .iter()
                        .map(|p| RoleRow::Param(i, p.id.clone())),
                );
            }
        }
        rows
    }

    /// How many selectable rows a pane lists.
    pub fn pane_len(&self, pane: Pane) -> usize {
        match pane {
            Pane::Nodes => self.topology.nodes.len(),
            Pane::Roles => self.role_rows().len(),
            // The live rules, then what was removed since the baseline.
            Pane::Rules => {
                self.selected_node()
                    .and_then(|n| self.plan.nodes.get(n))
                    .map_or(0, |p| p.inbound.len() + p.outbound.len())
                    + self.node_marks().map_or(0, |m| m.removed.len())
            }
            Pane::Findings => self.findings.len(),
            Pane::Zones => self.topology.zones.len(),
            Pane::Hosts => self.topology.external_hosts.len(),
            Pane::Custom => self.topology.custom.roles.len() + self.topology.custom.flows.len(),
            Pane::Overview => self.overview_rows(),
            Pane::Preview => self.preview.text.lines().count(),
            Pane::Changes => self.change_rows().len(),
        }
    }

    pub fn clamp_cursors(&mut self) {
        self.nodes.clamp(self.pane_len(Pane::Nodes));
        self.roles.clamp(self.pane_len(Pane::Roles));
        self.rules.clamp(self.pane_len(Pane::Rules));
        self.finding_cursor.clamp(self.findings.len());
        self.zones.clamp(self.topology.zones.len());
        self.hosts.clamp(self.topology.external_hosts.len());
        self.custom.clamp(self.pane_len(Pane::Custom));
        self.changes_cursor.clamp(self.pane_len(Pane::Changes));
        self.grid.row.clamp(self.overview_rows());
        self.grid.col.clamp(self.topology.nodes.len());
        self.preview_scroll = self
            .preview_scroll
            .min(self.pane_len(Pane::Preview).saturating_sub(1));
    }

    /// Catalog roles an operator can assign, the topology's own among them (the built-in `host`
    /// product is implied by `management`).
    pub fn assignable_roles(&self, query: &str) -> Vec<(usize, usize)> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let mut out = Vec::new();
        for (pi, p) in self.catalog.products().iter().enumerate() {
            if p.id == HOST_PRODUCT {
                continue;
            }
            // Stand-in roles of the site's own product are endpoints, not roles to assign.
            for (ri, r) in p.roles.iter().enumerate() {
                if r.stands_for.is_some() {
                    continue;
                }
                let hay = format!("{} {} {} {} {}", p.id, p.name, r.id, r.name, r.description)
                    .to_lowercase();
                if words.iter().all(|w| hay.contains(w.as_str())) {
                    out.push((pi, ri));
                }
            }
        }
        out
    }
}

/// A row of the roles pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRow {
    Role(usize),
    Param(usize, String),
}

/// The node index a check problem's path starts with (`nodes[3] "x": …`).
fn problem_node(path: &str) -> Option<usize> {
    path.strip_prefix("nodes[")?.split(']').next()?.parse().ok()
}
