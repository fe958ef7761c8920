//! The selected row in full (`v`, or enter on a rule): panes cut ports, peers, services, notes and
//! findings to their columns, so whatever a row holds can always be read whole here. A rule shows
//! every flow behind it: service, ports, peers, tags, switch, note, document and section.

use super::app::{App, Pane, RoleRow, Source};
use super::ownership;
use fwtopo::catalog::{PortItem, Product};
use fwtopo::engine::{FlowRef, Rule};
use fwtopo::report;

/// A titled text, one entry a paragraph (the view wraps them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub title: String,
    pub lines: Vec<String>,
}

/// The focused pane's selected row in full; `None` where there is nothing selected.
pub fn of(app: &App) -> Option<Detail> {
    match app.focus {
        Pane::Rules => rule(app),
        Pane::Findings => finding(app),
        Pane::Roles => role(app),
        Pane::Nodes => node(app),
        Pane::Zones => zone(app),
        Pane::Hosts => host(app),
        Pane::Overview => cell(app),
        Pane::Custom => custom(app),
        Pane::Preview => preview(app),
        Pane::Changes => change(app),
    }
}

/// A line of the changes screen, whole.
fn change(app: &App) -> Option<Detail> {
    let row = app.change_rows().get(app.changes_cursor.sel)?;
    Some(Detail {
        title: format!("Change {}", app.baseline.since),
        lines: vec![row.text.trim().to_string()],
    })
}

/// A rule row below the live ones: what the baseline allowed that is gone.
fn removed(app: &App, n: usize, i: usize) -> Option<Detail> {
    let r = app.node_marks()?.removed.get(i)?;
    let dir = match r.direction {
        fwtopo::engine::Direction::Inbound => "inbound from",
        fwtopo::engine::Direction::Outbound => "outbound to",
    };
    Some(Detail {
        title: format!(
            "Removed from {}: {} {}",
            app.topology.nodes[n].name, r.protocol, r.ports
        ),
        lines: vec![
            format!("{} {} {dir} {}", r.protocol, r.ports, r.peers.join(", ")),
            format!(
                "allowed {}; {} allows it now",
                app.baseline.since,
                if r.whole {
                    "no rule"
                } else {
                    "no rule (the rest of that rule stays)"
                }
            ),
        ],
    })
}

fn rule(app: &App) -> Option<Detail> {
    let n = app.selected_node()?;
    let plan = app.plan.nodes.get(n)?;
    let live = plan.inbound.len() + plan.outbound.len();
    if app.rules.sel >= live {
        return removed(app, n, app.rules.sel - live);
    }
    let r: &Rule = plan
        .inbound
        .iter()
        .chain(plan.outbound.iter())
        .nth(app.rules.sel)?;
    let dir = match r.direction {
        fwtopo::engine::Direction::Inbound => "inbound from",
        fwtopo::engine::Direction::Outbound => "outbound to",
    };
    let tags: Vec<&str> = r.tags.iter().map(|t| t.as_str()).collect();
    let mut lines = vec![
        format!("{} {} {} {}", r.protocol.as_str(), r.ports, dir, r.peers),
        format!(
            "tags: {}",
            if tags.is_empty() {
                "none".into()
            } else {
                tags.join(", ")
            }
        ),
        String::new(),
        format!(
            "{} flow{} behind it:",
            r.provenance.len(),
            if r.provenance.len() == 1 { "" } else { "s" }
        ),
    ];
    for f in &r.provenance {
        lines.push(String::new());
        lines.extend(flow(app, f));
    }
    Some(Detail {
        title: format!(
            "Rule of {}: {} {}",
            app.topology.nodes[n].name,
            r.protocol.as_str(),
            r.ports
        ),
        lines,
    })
}

/// One flow of the catalog as an operator needs it to judge a rule.
fn flow(app: &App, f: &FlowRef) -> Vec<String> {
    let p: &Product = f.product(&app.catalog);
    let x = f.flow(&app.catalog);
    let protos: Vec<&str> = x.protocols.iter().map(|p| p.as_str()).collect();
    let params: Vec<&str> = x
        .ports
        .iter()
        .filter_map(|i| match i {
            PortItem::Param(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut v = vec![
        format!("{} — {}", f.label(&app.catalog), x.service),
        format!(
            "  {} {}{} from {} to {}",
            protos.join("+"),
            report::default_ports(p, x),
            if params.is_empty() {
                String::new()
            } else {
                format!(" (by default; set by {})", params.join(", "))
            },
            x.from
                .iter()
                .map(report::endpoint)
                .collect::<Vec<_>>()
                .join(", "),
            x.to.iter()
                .map(report::endpoint)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    if !x.tags.is_empty() {
        let tags: Vec<&str> = x.tags.iter().map(|t| t.as_str()).collect();
        v.push(format!("  tags: {}", tags.join(", ")));
    }
    if let Some(w) = &x.when {
        v.push(format!("  only while switch {w} is on"));
    }
    let section = if x.source.section.is_empty() {
        String::new()
    } else {
        format!(", section: {}", x.source.section)
    };
    v.push(format!(
        "  source: {} ({}){section} [{}]",
        p.document.title,
        p.document.id,
        x.source.origin.as_str()
    ));
    if !x.note.is_empty() {
        v.push(format!("  note: {}", x.note));
    }
    // Who asked for a custom flow, and for the custom role it applies through.
    if let Some(o) = &x.ownership {
        v.push(format!(
            "  asked for: {}",
            ownership::describe(o, app.today)
        ));
    }
    let role = &p.roles[f.role];
    if let Some(o) = &role.ownership {
        v.push(format!(
            "  role {}/{} asked for: {}",
            p.id,
            role.id,
            ownership::describe(o, app.today)
        ));
    }
    v
}

fn finding(app: &App) -> Option<Detail> {
    let row = app.findings.get(app.finding_cursor.sel)?;
    let node = app.finding_node_name(row);
    Some(Detail {
        title: format!(
            "Finding{}",
            if node.is_empty() {
                String::new()
            } else {
                format!(" about {node}")
            }
        ),
        lines: vec![
            format!("{:?}", row.severity).to_lowercase(),
            app.finding_message(row),
        ],
    })
}

fn role(app: &App) -> Option<Detail> {
    let n = app.selected_node()?;
    let rows = app.role_rows();
    let row = rows.get(app.roles.sel)?;
    let node = &app.topology.nodes[n];
    let (i, param) = match row {
        RoleRow::Role(i) => (*i, None),
        RoleRow::Param(i, id) => (*i, Some(id.as_str())),
    };
    let ra = node.roles.get(i)?;
    let role = app.catalog.role(&ra.product, &ra.role)?;
    let mut lines = Vec::new();
    match param.and_then(|id| role.parameters.iter().find(|x| x.id == id)) {
        Some(x) => {
            lines.push(format!("{} ({})", x.name, x.id));
            lines.push(x.kind.describe());
            lines.push(format!(
                "set here: {}",
                ra.params.get(&x.id).map_or("(default)", String::as_str)
            ));
            if !x.description.is_empty() {
                lines.push(x.description.clone());
            }
        }
        None => {
            lines.push(format!("{}/{}: {}", ra.product, ra.role, role.name));
            if !role.description.is_empty() {
                lines.push(role.description.clone());
            }
            for x in &role.parameters {
                lines.push(format!(
                    "{} = {} ({})",
                    x.id,
                    ra.params.get(&x.id).map_or("default", String::as_str),
                    x.kind.describe()
                ));
            }
        }
    }
    Some(Detail {
        title: format!("Role of {}", node.name),
        lines,
    })
}

fn node(app: &App) -> Option<Detail> {
    let node = &app.topology.nodes[app.selected_node()?];
    let addrs: Vec<String> = node.addresses.iter().map(ToString::to_string).collect();
    let roles: Vec<String> = node
        .roles
        .iter()
        .map(|r| format!("{}/{}", r.product, r.role))
        .collect();
    let mut lines = vec![
        format!("os: {}", node.os.as_str()),
        format!(
            "firewall: {}",
            node.firewall
                .map_or("chosen from the OS".into(), |t| t.to_string())
        ),
        format!("addresses: {}", addrs.join(", ")),
        format!("roles: {}", roles.join(", ")),
    ];
    if !node.note.is_empty() {
        lines.push(format!("note: {}", node.note));
    }
    if !node.ownership.is_empty() {
        lines.push(format!(
            "asked for: {}",
            ownership::describe(&node.ownership, app.today)
        ));
    }
    Some(Detail {
        title: format!("Node {}", node.name),
        lines,
    })
}

fn zone(app: &App) -> Option<Detail> {
    let z = app.topology.zones.get(app.zones.sel)?;
    let nets: Vec<String> = z.cidrs.iter().map(ToString::to_string).collect();
    Some(Detail {
        title: format!("Zone {}", z.name),
        lines: vec![format!("networks: {}", nets.join(", ")), z.note.clone()],
    })
}

fn host(app: &App) -> Option<Detail> {
    let h = app.topology.external_hosts.get(app.hosts.sel)?;
    let addrs: Vec<String> = h.addresses.iter().map(ToString::to_string).collect();
    Some(Detail {
        title: format!("External host {}", h.name),
        lines: vec![
            format!("pinned addresses: {}", addrs.join(", ")),
            h.note.clone(),
        ],
    })
}

fn cell(app: &App) -> Option<Detail> {
    let from = app.overview_source(app.grid.row.sel)?;
    let to = app.topology.nodes.get(app.grid.col.sel)?;
    let cell = app
        .overview
        .as_ref()
        .and_then(|o| o.cells.get(&(from, app.grid.col.sel)));
    let src = match from {
        Source::Any => "any address".to_string(),
        s => app.source_name(s),
    };
    Some(Detail {
        title: format!("{src} → {}", to.name),
        lines: match cell {
            Some(c) => vec![c.ports.join("; "), c.services.join(", ")],
            None => vec!["nothing allowed".into()],
        }
        .into_iter()
        .chain([
            String::new(),
            "w asks about one port: allowed or not, the rules on both ends, what would allow it"
                .into(),
        ])
        .collect(),
    })
}

/// A custom role (with the nodes that play it) or a custom flow, in the prompt's own words.
fn custom(app: &App) -> Option<Detail> {
    let c = &app.topology.custom;
    let i = app.custom.sel;
    if let Some(r) = c.roles.get(i) {
        let nodes = super::custom_role::players(app, &r.id);
        let mut lines = vec![format!("{}: {}", r.id, r.name)];
        if !r.description.is_empty() {
            lines.push(r.description.clone());
        }
        lines.push(format!("played by: {}", nodes.join(", ")));
        let o = r.ownership();
        if !o.is_empty() {
            lines.push(format!("asked for: {}", ownership::describe(&o, app.today)));
        }
        return Some(Detail {
            title: format!("Custom role {}", r.id),
            lines,
        });
    }
    let f = c.flows.get(i - c.roles.len())?;
    let mut lines = vec![super::custom_role::flow_text(f)];
    if !f.note.is_empty() {
        lines.push(format!("note: {}", f.note));
    }
    let o = f.ownership();
    if !o.is_empty() {
        lines.push(format!("asked for: {}", ownership::describe(&o, app.today)));
    }
    Some(Detail {
        title: format!("Custom flow {}", f.id),
        lines,
    })
}

/// The export preview's title, console and command, and its first visible line whole (the pane
/// cuts all of them to its width).
fn preview(app: &App) -> Option<Detail> {
    let n = app.selected_node()?;
    let name = &app.topology.nodes[n].name;
    let target = app.preview.target.unwrap_or_else(|| app.preview_target(n));
    let mut lines = vec![format!(
        "{} export of {name}, {} lines{}",
        target,
        app.preview.text.lines().count(),
        fwtopo::export::console(target).map_or(String::new(), |c| format!(", for {c}"))
    )];
    let file = app
        .path
        .as_ref()
        .map_or("FILE".to_string(), |p| p.display().to_string());
    lines.push(format!(
        "fwtopo export {file} --node {name} --target {target}{}",
        if app.egress == fwtopo::export::Egress::Strict {
            " --egress strict"
        } else {
            ""
        }
    ));
    if let Some(top) = app.preview.text.lines().nth(app.preview_scroll) {
        lines.push(String::new());
        lines.push(format!("line {}: {top}", app.preview_scroll + 1));
    }
    Some(Detail {
        title: format!("Export of {name}"),
        lines,
    })
}
