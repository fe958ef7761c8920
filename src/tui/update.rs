//! `update(&mut App, Action) -> Vec<Effect>`: the only place state changes. Every edit goes through
//! [`commit`], which snapshots for undo and re-derives the plan, so the rule tables are always those of
//! the topology on screen. Typed input is validated here and refused with a message in the prompt.

use super::action::Action;
use super::app::{
    App, ConfirmKind, Cursor, InputState, Modal, Pane, PickerState, Purpose, RoleRow, Screen,
    Snapshot, StatusKind, UNDO_DEPTH,
};
use super::clipboard::{self, CopyOutcome};
use super::custom_role;
use super::effect::{Effect, Replace};
use super::input::TextField;
use super::layout;
use fwtopo::catalog::{ParamKind, is_dns_name};
use fwtopo::export::{self, Egress};
use fwtopo::files::OnDisk;
use fwtopo::target::Target;
use fwtopo::topology::file::{check_name, check_text, parse_net};
use fwtopo::topology::{
    ExternalHost, LoadError, Node, Os, ParamValue, RoleAssignment, Topology, Zone, from_ron, to_ron,
};
use ipnet::IpNet;
use std::net::IpAddr;
use std::path::PathBuf;

/// Columns one sideways step of the export preview moves.
pub const HSCROLL: usize = 8;

pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    // Nothing is drawn but a notice when the terminal is too small: keys must not act unseen.
    if layout::too_small(layout::frame(app)) && !works_when_too_small(app, &action) {
        return fx;
    }
    if action.is_input() && !matches!(action, Action::ScrollUp { .. } | Action::ScrollDown { .. }) {
        app.status = None;
    }
    match action {
        Action::Resize(w, h) => {
            app.width = w;
            app.height = h;
        }
        Action::Saved { path, result } => saved(app, path, result, &mut fx),
        Action::WouldOverwrite(path) => {
            app.modal = Some(Modal::Confirm(ConfirmKind::Overwrite(path)))
        }
        Action::ChangedOnDisk(path) => {
            app.modal = Some(Modal::Confirm(ConfirmKind::ChangedOnDisk(path)))
        }
        Action::Loaded { path, result } => loaded(app, path, result),
        Action::Copied {
            what,
            outcome,
            extras,
        } => copied(app, &what, outcome, &extras),
        Action::Written { path, result } => match result {
            Ok(()) => app.set_status(StatusKind::Ok, format!("wrote {}", path.display())),
            Err(e) => {
                let text = app
                    .pending_copy
                    .as_ref()
                    .map(|(t, _)| t.clone())
                    .unwrap_or_default();
                open_input(app, Purpose::WriteFile(text), path.display().to_string());
                set_input_error(app, e);
            }
        },
        Action::Recovered {
            original,
            result,
            disk,
        } => match result {
            Ok(t) => {
                replace_topology(app, t, original.clone());
                app.disk = disk;
                app.mark_unsaved();
                let to = original.map_or("a new file".to_string(), |p| p.display().to_string());
                app.set_status(
                    StatusKind::Warning,
                    format!("recovered the unsaved work (for {to}); save to keep it"),
                );
            }
            Err(e) => app.set_status(
                StatusKind::Error,
                format!("could not read the recovery copy: {e}"),
            ),
        },
        Action::Click { col, row } => click(app, col, row),
        Action::ScrollUp { col, row } => scroll(app, col, row, -3),
        Action::ScrollDown { col, row } => scroll(app, col, row, 3),
        other => match app.modal.take() {
            Some(m) => modal(app, m, other, &mut fx),
            None => pane(app, other, &mut fx),
        },
    }
    fix_scroll(app);
    fx
}

/// What still works while the terminal is too small to draw the designer: quitting (which asks
/// first when work is unsaved), closing the help, resizing, and the results of effects.
fn works_when_too_small(app: &App, action: &Action) -> bool {
    !action.is_input()
        || matches!(action, Action::Quit)
        || (matches!(action, Action::Close | Action::Help)
            && matches!(app.modal, Some(Modal::Help { .. })))
}

// ---------------------------------------------------------------------------------------------
// Edits, undo and redo

/// Applies an edit as one undo step and re-derives everything.
/// Flips the selected on/off parameter (no typing `on` or `off`).
fn toggle_switch(app: &mut App) {
    let Some(n) = app.selected_node() else {
        return;
    };
    let Some(RoleRow::Param(i, id)) = app.role_rows().get(app.roles.sel).cloned() else {
        app.set_status(
            StatusKind::Info,
            "space turns an on/off parameter on or off: select one",
        );
        return;
    };
    let Some(ra) = app.topology.nodes[n].roles.get(i) else {
        return;
    };
    let Some(spec) = app
        .catalog
        .role(&ra.product, &ra.role)
        .and_then(|r| r.parameters.iter().find(|p| p.id == id))
    else {
        return;
    };
    let ParamKind::Switch { default } = spec.kind else {
        app.set_status(
            StatusKind::Info,
            format!("{id} is not on/off: enter edits it"),
        );
        return;
    };
    let now = match ra.params.get(&id) {
        Some(v) => matches!(
            ParamValue::parse(&spec.kind, v),
            Ok(fwtopo::topology::ParamValue::Switch(true))
        ),
        None => default,
    };
    let word = if now { "off" } else { "on" };
    let label = format!("{id} {word} on {}", app.topology.nodes[n].name);
    commit(app, label, |t| {
        t.nodes[n].roles[i].params.insert(id, word.to_string());
    });
}

/// Why a role of `platform` does not fit `node`'s OS, in the picker's words; `None` when it fits.
pub fn platform_misfit(
    platform: fwtopo::catalog::Platform,
    node: &fwtopo::topology::Node,
) -> Option<String> {
    use fwtopo::catalog::Platform;
    let fits = match platform {
        Platform::Any => true,
        Platform::Windows => node.os.is_windows(),
        Platform::Linux => !node.os.is_windows(),
    };
    (!fits).then(|| {
        format!(
            "runs on {} only, and {} runs {}: enter again to assign it anyway (FW013)",
            if platform == Platform::Windows {
                "Windows"
            } else {
                "Linux"
            },
            node.name,
            node.os
        )
    })
}

/// Steps the selected node's firewall: from the OS (`auto`), then each target that runs on its
/// OS family, then back; the status line says which and what the OS would pick.
fn cycle_firewall(app: &mut App) {
    let Some(n) = app.selected_node() else {
        return;
    };
    let node = &app.topology.nodes[n];
    let windows = node.os.is_windows();
    let choices: Vec<Option<Target>> = std::iter::once(None)
        .chain(
            Target::ALL
                .into_iter()
                .filter(|t| t.is_windows() == windows)
                .map(Some),
        )
        .collect();
    let i = choices
        .iter()
        .position(|c| *c == node.firewall)
        .unwrap_or(0);
    let next = choices[(i + 1) % choices.len()];
    let name = node.name.clone();
    let label = match next {
        Some(t) => format!("{name}'s firewall: {t}"),
        None => {
            let auto: Vec<String> = {
                let mut probe = node.clone();
                probe.firewall = None;
                export::auto_targets(&probe)
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            };
            format!("{name}'s firewall: from its OS ({})", auto.join(" and "))
        }
    };
    commit(app, label, |t| t.nodes[n].firewall = next);
}

/// Applies an edit as one undo step; the status line confirms it in the undo step's words (a
/// caller with more to say sets its own status after).
pub(super) fn commit(app: &mut App, label: impl Into<String>, edit: impl FnOnce(&mut Topology)) {
    let label = label.into();
    app.set_status(StatusKind::Ok, format!("{label} (u undoes it)"));
    app.undo.push(Snapshot {
        topology: app.topology.clone(),
        version: app.version,
        node: app.nodes.sel,
        label,
    });
    if app.undo.len() > UNDO_DEPTH {
        app.undo.remove(0);
    }
    app.redo.clear();
    edit(&mut app.topology);
    app.version = app.next_version;
    app.next_version += 1;
    app.rederive();
}

fn undo(app: &mut App, redo: bool) {
    let (from, word) = if redo {
        (&mut app.redo, "redid")
    } else {
        (&mut app.undo, "undid")
    };
    let Some(snap) = from.pop() else {
        app.set_status(
            StatusKind::Info,
            if redo {
                "nothing to redo"
            } else {
                "nothing to undo"
            },
        );
        return;
    };
    let current = Snapshot {
        topology: std::mem::replace(&mut app.topology, snap.topology),
        version: app.version,
        node: app.nodes.sel,
        label: snap.label.clone(),
    };
    if redo {
        app.undo.push(current)
    } else {
        app.redo.push(current)
    }
    app.version = snap.version;
    app.nodes.sel = snap.node;
    app.rederive();
    app.set_status(StatusKind::Info, format!("{word}: {}", snap.label));
}

/// A loaded or recovered topology replaces the document; history starts afresh.
fn replace_topology(app: &mut App, t: Topology, path: Option<PathBuf>) {
    app.topology = t;
    app.path = path;
    app.undo.clear();
    app.redo.clear();
    app.version = app.next_version;
    app.next_version += 1;
    app.saved_version = Some(app.version);
    app.nodes = Cursor::default();
    app.roles = Cursor::default();
    app.rules = Cursor::default();
    app.zones = Cursor::default();
    app.hosts = Cursor::default();
    app.custom = Cursor::default();
    app.finding_cursor = Cursor::default();
    app.rederive();
}

// ---------------------------------------------------------------------------------------------
// Validation of typed values

fn node_name(app: &App, text: &str, except: Option<usize>) -> Result<String, String> {
    let name = text.trim();
    check_name(name).map_err(|e| format!("name {e}"))?;
    if app
        .topology
        .nodes
        .iter()
        .enumerate()
        .any(|(i, n)| n.name.eq_ignore_ascii_case(name) && Some(i) != except)
    {
        return Err(format!(
            "there is already a node named '{name}' (names may not differ only in case)"
        ));
    }
    Ok(name.to_string())
}

fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

/// The file loader's verdict on a candidate: it is written the way Save writes and read back the way
/// Open reads, so the designer refuses exactly what a saved file could not hold, and follows the
/// loader's rules when they change.
pub(super) fn loader_verdict(candidate: Topology) -> Result<(), String> {
    match from_ron(&to_ron(&candidate)) {
        Ok(_) => Ok(()),
        Err(LoadError::Invalid(problems)) => Err(problems
            .into_iter()
            .next()
            .map_or_else(|| "the file loader refuses it".to_string(), |p| p.message)),
        Err(e) => Err(e.to_string()),
    }
}

/// A node's addresses: each must parse, appear once, not belong to another node, and be what the
/// file loader accepts as a node's address (no loopback, unspecified or multicast address).
fn node_addresses(app: &App, text: &str, node: usize) -> Result<Vec<IpAddr>, String> {
    let mut out: Vec<IpAddr> = Vec::new();
    for s in split_list(text) {
        let ip: IpAddr = s
            .parse()
            .map_err(|_| format!("'{}' is not an IPv4 or IPv6 address", s.escape_debug()))?;
        if out.contains(&ip) {
            return Err(format!("'{s}' is listed twice"));
        }
        if let Some(other) = app
            .topology
            .nodes
            .iter()
            .enumerate()
            .find(|(i, n)| *i != node && n.addresses.contains(&ip))
        {
            return Err(format!(
                "{ip} is already an address of node '{}'",
                other.1.name
            ));
        }
        out.push(ip);
    }
    let mut candidate = app
        .topology
        .nodes
        .get(node)
        .cloned()
        .ok_or("the node is gone")?;
    candidate.addresses = out.clone();
    loader_verdict(Topology {
        nodes: vec![candidate],
        ..Topology::default()
    })?;
    Ok(out)
}

/// A zone's networks: each must parse, appear once, and be what the file loader accepts.
fn networks(app: &App, text: &str, zone: usize) -> Result<Vec<IpNet>, String> {
    let mut out: Vec<IpNet> = Vec::new();
    for s in split_list(text) {
        let n = parse_net(s)?;
        if out.contains(&n) {
            return Err(format!("'{s}' is listed twice"));
        }
        out.push(n);
    }
    let mut candidate = app
        .topology
        .zones
        .get(zone)
        .cloned()
        .ok_or("the zone is gone")?;
    candidate.cidrs = out.clone();
    loader_verdict(Topology {
        zones: vec![candidate],
        ..Topology::default()
    })?;
    Ok(out)
}

fn zone_name(app: &App, text: &str, except: Option<usize>) -> Result<String, String> {
    let name = text.trim();
    check_name(name).map_err(|e| format!("name {e}"))?;
    if app
        .topology
        .zones
        .iter()
        .enumerate()
        .any(|(i, z)| z.name.eq_ignore_ascii_case(name) && Some(i) != except)
    {
        return Err(format!(
            "there is already a zone named '{name}' (names may not differ only in case)"
        ));
    }
    Ok(name.to_string())
}

fn host_name(app: &App, text: &str, except: Option<usize>) -> Result<String, String> {
    let name = text.trim();
    if !is_dns_name(name) {
        return Err(format!("'{}' is not a DNS name", name.escape_debug()));
    }
    if app
        .topology
        .external_hosts
        .iter()
        .enumerate()
        .any(|(i, h)| h.name.eq_ignore_ascii_case(name) && Some(i) != except)
    {
        return Err(format!("'{name}' is already listed"));
    }
    Ok(name.to_string())
}

/// An external host's pinned addresses: each must parse, appear once, and be what the file loader
/// accepts as a host's address.
fn host_addresses(app: &App, text: &str, host: usize) -> Result<Vec<IpAddr>, String> {
    let mut out: Vec<IpAddr> = Vec::new();
    for s in split_list(text) {
        let ip: IpAddr = s
            .parse()
            .map_err(|_| format!("'{}' is not an IPv4 or IPv6 address", s.escape_debug()))?;
        if out.contains(&ip) {
            return Err(format!("'{s}' is listed twice"));
        }
        out.push(ip);
    }
    let mut candidate = app
        .topology
        .external_hosts
        .get(host)
        .cloned()
        .ok_or("the host is gone")?;
    candidate.addresses = out.clone();
    loader_verdict(Topology {
        external_hosts: vec![candidate],
        ..Topology::default()
    })?;
    Ok(out)
}

/// A name not yet used by any node: `base`, else `base-2`, `base-3` …
fn unique_node_name(app: &App, base: &str) -> String {
    let taken = |n: &str| {
        app.topology
            .nodes
            .iter()
            .any(|x| x.name.eq_ignore_ascii_case(n))
    };
    if !taken(base) {
        return base.to_string();
    }
    let stem: String = base.chars().take(58).collect();
    (2..)
        .map(|i| format!("{stem}-{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}

// ---------------------------------------------------------------------------------------------
// Panes

fn pane(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Up => move_by(app, app.focus, -1),
        Action::Down => move_by(app, app.focus, 1),
        Action::PageUp => move_by(app, app.focus, -(layout::page(app, app.focus) as isize)),
        Action::PageDown => move_by(app, app.focus, layout::page(app, app.focus) as isize),
        Action::Top => move_by(app, app.focus, isize::MIN / 2),
        Action::Bottom => move_by(app, app.focus, isize::MAX / 2),
        Action::Left | Action::Right => sideways(app, action == Action::Right),
        Action::FocusNext | Action::FocusPrev => {
            let panes = app.screen.panes();
            let i = panes.iter().position(|p| *p == app.focus).unwrap_or(0);
            let n = panes.len();
            app.focus = panes[if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            }];
        }
        Action::Show(s) => show(app, s),
        Action::Help => app.modal = Some(Modal::Help { scroll: 0 }),
        Action::Messages => app.modal = Some(Modal::Messages { scroll: 0 }),
        Action::Detail => match super::detail::of(app) {
            Some(detail) => app.modal = Some(Modal::Detail { detail, scroll: 0 }),
            None => app.set_status(StatusKind::Info, "nothing selected to show in full"),
        },
        Action::Activate => activate(app),
        Action::Add => add(app),
        Action::AddFlow if app.focus == Pane::Custom => custom_role::add_flow(app),
        Action::Rename => rename(app),
        Action::Edit => edit(app),
        Action::Delete => delete(app),
        Action::Duplicate => duplicate(app),
        Action::ChooseOs => {
            if let Some(n) = app.selected_node() {
                let sel = Os::ALL
                    .iter()
                    .position(|o| *o == app.topology.nodes[n].os)
                    .unwrap_or(0);
                app.modal = Some(Modal::Os(Cursor { sel, offset: 0 }));
            }
        }
        Action::ToggleManagement => {
            if let Some(n) = app.selected_node() {
                let name = app.topology.nodes[n].name.clone();
                let on = !app.topology.nodes[n].management;
                commit(
                    app,
                    format!(
                        "management access {} on {name}",
                        if on { "on" } else { "off" }
                    ),
                    |t| t.nodes[n].management = on,
                );
                app.set_status(
                    StatusKind::Info,
                    format!(
                        "management access {} on {name}",
                        if on { "on" } else { "off" }
                    ),
                );
            }
        }
        Action::EditNote if app.focus == Pane::Custom => custom_role::edit_note(app),
        Action::EditNote => match app.focus {
            Pane::Zones => {
                if let Some(z) = app.topology.zones.get(app.zones.sel) {
                    let note = z.note.clone();
                    open_input(app, Purpose::ZoneNote(app.zones.sel), note);
                }
            }
            Pane::Hosts => {
                if let Some(h) = app.topology.external_hosts.get(app.hosts.sel) {
                    let note = h.note.clone();
                    open_input(app, Purpose::HostNote(app.hosts.sel), note);
                }
            }
            _ => {
                if let Some(n) = app.selected_node() {
                    let note = app.topology.nodes[n].note.clone();
                    open_input(app, Purpose::Note(n), note);
                }
            }
        },
        Action::RenameTopology => {
            let name = app.topology.name.clone();
            open_input(app, Purpose::TopologyName, name);
        }
        Action::CycleFirewall => cycle_firewall(app),
        Action::ToggleSwitch => toggle_switch(app),
        Action::NextTarget | Action::PrevTarget => {
            let all: Vec<Option<Target>> = std::iter::once(None)
                .chain(Target::ALL.into_iter().map(Some))
                .collect();
            let i = all.iter().position(|t| *t == app.target).unwrap_or(0);
            let n = all.len();
            app.target = all[if action == Action::NextTarget {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            }];
            app.preview_scroll = 0;
            app.preview_hscroll = 0;
            app.refresh_preview();
        }
        Action::ScrollLeft => app.preview_hscroll = app.preview_hscroll.saturating_sub(HSCROLL),
        Action::ScrollRight => app.preview_hscroll = app.preview_hscroll.saturating_add(HSCROLL),
        Action::ToggleEgress => {
            app.egress = match app.egress {
                Egress::Open => Egress::Strict,
                Egress::Strict => Egress::Open,
            };
            app.refresh_preview();
        }
        Action::Undo => undo(app, false),
        Action::Redo => undo(app, true),
        Action::Save => save(app, fx),
        Action::SaveAs => {
            let p = app
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "topology.ron".into());
            open_input(app, Purpose::SaveAs, p);
        }
        Action::Open => {
            if app.dirty() {
                app.modal = Some(Modal::Confirm(ConfirmKind::OpenDiscard));
            } else {
                open_prompt(app);
            }
        }
        Action::Quit => {
            if app.dirty() {
                app.modal = Some(Modal::Confirm(ConfirmKind::Quit));
            } else {
                fx.push(Effect::Quit);
            }
        }
        Action::CycleTheme => {
            app.theme = (app.theme + 1) % app.themes.len();
            app.set_status(StatusKind::Info, format!("theme: {}", app.theme().name));
        }
        Action::Copy => copy(app, false, fx),
        Action::CopyPowershell => copy(app, true, fx),
        _ => {}
    }
}

/// Moves the selection of a pane; a new node resets the panes that show it.
fn move_by(app: &mut App, pane: Pane, delta: isize) {
    let len = app.pane_len(pane);
    match pane {
        Pane::Nodes => {
            let before = app.nodes.sel;
            app.nodes.step(delta, len);
            if app.nodes.sel != before {
                app.roles = Cursor::default();
                app.rules = Cursor::default();
                app.preview_scroll = 0;
                app.preview_hscroll = 0;
                app.refresh_preview();
            }
        }
        Pane::Roles => app.roles.step(delta, len),
        Pane::Rules => app.rules.step(delta, len),
        Pane::Findings => app.finding_cursor.step(delta, len),
        Pane::Zones => app.zones.step(delta, len),
        Pane::Hosts => app.hosts.step(delta, len),
        Pane::Custom => app.custom.step(delta, len),
        Pane::Overview => app.grid.row.step(delta, len),
        Pane::Preview => {
            app.preview_scroll = app
                .preview_scroll
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        }
    }
}

fn sideways(app: &mut App, right: bool) {
    match app.screen {
        Screen::Design => {
            app.focus = match (app.focus, right) {
                (Pane::Nodes, true) => Pane::Roles,
                (_, false) => Pane::Nodes,
                (p, true) => p,
            }
        }
        Screen::Zones => {
            app.focus = match (app.focus, right) {
                (Pane::Custom, _) => Pane::Custom,
                (_, true) => Pane::Hosts,
                (_, false) => Pane::Zones,
            }
        }
        Screen::Overview => {
            let n = app.topology.nodes.len();
            app.grid.col.step(if right { 1 } else { -1 }, n);
        }
        Screen::Findings | Screen::Export => {}
    }
}

fn show(app: &mut App, s: Screen) {
    app.screen = s;
    if !s.panes().contains(&app.focus) {
        app.focus = s.panes()[0];
    }
    if s == Screen::Export {
        app.refresh_preview();
    }
}

/// Selects a node and shows its rules (from a finding or the overview).
fn jump_to_node(app: &mut App, n: usize) {
    app.nodes.sel = n;
    app.roles = Cursor::default();
    app.rules = Cursor::default();
    show(app, Screen::Design);
    app.focus = Pane::Rules;
}

/// The rule of node `n` a finding is about: one the finding's code can come from whose
/// `proto/ports` the message names, else the first such rule.
fn finding_rule(app: &App, n: usize, row: &crate::tui::app::FindingRow) -> Option<usize> {
    let crate::tui::app::FindingSource::Engine(i) = row.source else {
        return None;
    };
    let f = app.plan.findings.get(i)?;
    let plan = app.plan.nodes.get(n)?;
    let rules: Vec<_> = plan.inbound.iter().chain(plan.outbound.iter()).collect();
    let caused = |r: &fwtopo::engine::Rule| super::view::rule_codes(r).contains(&f.code);
    let named = |r: &fwtopo::engine::Rule| {
        f.message
            .contains(&format!("{}/{}", r.protocol.as_str(), r.ports))
    };
    rules
        .iter()
        .position(|r| caused(r) && named(r))
        .or_else(|| rules.iter().position(|r| named(r)))
        .or_else(|| rules.iter().position(|r| caused(r)))
}

fn activate(app: &mut App) {
    match app.focus {
        Pane::Findings => {
            let Some(row) = app.findings.get(app.finding_cursor.sel) else {
                return;
            };
            let row = *row;
            match row.node {
                Some(n) => {
                    jump_to_node(app, n);
                    app.rules.sel = finding_rule(app, n, &row).unwrap_or(0);
                }
                None => {
                    app.set_status(StatusKind::Info, "this finding is about the whole topology")
                }
            }
        }
        Pane::Overview => {
            if app.grid.col.sel < app.topology.nodes.len() {
                jump_to_node(app, app.grid.col.sel);
            }
        }
        _ => edit(app),
    }
}

pub(super) fn open_input(app: &mut App, purpose: Purpose, text: impl Into<String>) {
    app.modal = Some(Modal::Input(InputState {
        purpose,
        field: TextField::new(text),
        error: None,
    }));
}

fn set_input_error(app: &mut App, e: String) {
    if let Some(Modal::Input(s)) = &mut app.modal {
        s.error = Some(e);
    }
}

fn open_prompt(app: &mut App) {
    let dir = app
        .path
        .as_ref()
        .and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| format!("{}/", p.display()))
        .unwrap_or_default();
    open_input(app, Purpose::Open, dir);
}

fn add(app: &mut App) {
    match app.focus {
        Pane::Nodes => open_input(app, Purpose::AddNode, ""),
        Pane::Roles | Pane::Rules => {
            if let Some(node) = app.selected_node() {
                let matches = app.assignable_roles("");
                app.modal = Some(Modal::Picker(PickerState {
                    node,
                    query: TextField::default(),
                    matches,
                    cursor: Cursor::default(),
                    error: None,
                }));
            } else {
                app.set_status(StatusKind::Warning, "add a node first (a in the node list)");
            }
        }
        Pane::Zones => open_input(app, Purpose::AddZone, ""),
        Pane::Hosts => open_input(app, Purpose::AddHost, ""),
        Pane::Custom => custom_role::add(app),
        _ => {}
    }
}

fn rename(app: &mut App) {
    match app.focus {
        Pane::Nodes => {
            if let Some(n) = app.selected_node() {
                let name = app.topology.nodes[n].name.clone();
                open_input(app, Purpose::RenameNode(n), name);
            }
        }
        Pane::Zones => {
            if let Some(z) = app.topology.zones.get(app.zones.sel) {
                let name = z.name.clone();
                open_input(app, Purpose::RenameZone(app.zones.sel), name);
            }
        }
        Pane::Hosts => {
            if let Some(h) = app.topology.external_hosts.get(app.hosts.sel) {
                let name = h.name.clone();
                open_input(app, Purpose::RenameHost(app.hosts.sel), name);
            }
        }
        Pane::Custom => custom_role::rename(app),
        _ => {}
    }
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn edit(app: &mut App) {
    match app.focus {
        Pane::Nodes => {
            if let Some(n) = app.selected_node() {
                let text = join(&app.topology.nodes[n].addresses);
                open_input(app, Purpose::Addresses(n), text);
            }
        }
        Pane::Roles => {
            let Some(n) = app.selected_node() else { return };
            let rows = app.role_rows();
            let row = match rows.get(app.roles.sel) {
                Some(RoleRow::Role(i)) => match rows.get(app.roles.sel + 1) {
                    // On a role: its first parameter, if it has one.
                    Some(RoleRow::Param(j, p)) if j == i => {
                        app.roles.sel += 1;
                        Some((*j, p.clone()))
                    }
                    _ => {
                        app.set_status(StatusKind::Info, "this role has no parameters");
                        None
                    }
                },
                Some(RoleRow::Param(i, p)) => Some((*i, p.clone())),
                None => None,
            };
            if let Some((role, param)) = row {
                let value = app.topology.nodes[n].roles[role]
                    .params
                    .get(&param)
                    .cloned()
                    .unwrap_or_default();
                open_input(
                    app,
                    Purpose::Param {
                        node: n,
                        role,
                        param,
                    },
                    value,
                );
            }
        }
        Pane::Zones => {
            if let Some(z) = app.topology.zones.get(app.zones.sel) {
                let text = join(&z.cidrs);
                open_input(app, Purpose::ZoneCidrs(app.zones.sel), text);
            }
        }
        Pane::Hosts => {
            if let Some(h) = app.topology.external_hosts.get(app.hosts.sel) {
                let text = join(&h.addresses);
                open_input(app, Purpose::HostAddresses(app.hosts.sel), text);
            }
        }
        Pane::Custom => custom_role::edit(app),
        _ => {}
    }
}

fn delete(app: &mut App) {
    match app.focus {
        Pane::Nodes => {
            if let Some(n) = app.selected_node() {
                app.modal = Some(Modal::Confirm(ConfirmKind::DeleteNode(n)));
            }
        }
        Pane::Roles => {
            let Some(n) = app.selected_node() else { return };
            let i = match app.role_rows().get(app.roles.sel) {
                Some(RoleRow::Role(i) | RoleRow::Param(i, _)) => *i,
                None => return,
            };
            let ra = &app.topology.nodes[n].roles[i];
            let label = format!(
                "remove {}/{} from {}",
                ra.product, ra.role, app.topology.nodes[n].name
            );
            commit(app, label.clone(), |t| {
                t.nodes[n].roles.remove(i);
            });
            app.set_status(StatusKind::Info, format!("{label} (u undoes)"));
        }
        Pane::Zones if app.zones.sel < app.topology.zones.len() => {
            app.modal = Some(Modal::Confirm(ConfirmKind::DeleteZone(app.zones.sel)));
        }
        Pane::Hosts if app.hosts.sel < app.topology.external_hosts.len() => {
            app.modal = Some(Modal::Confirm(ConfirmKind::DeleteHost(app.hosts.sel)));
        }
        Pane::Custom => custom_role::delete(app),
        _ => {}
    }
}

fn duplicate(app: &mut App) {
    let Some(n) = app.selected_node() else { return };
    let mut copy = app.topology.nodes[n].clone();
    copy.name = unique_node_name(app, &copy.name);
    // Two nodes never share an address; the copy gets its own.
    copy.addresses.clear();
    let name = copy.name.clone();
    let from = app.topology.nodes[n].name.clone();
    commit(app, format!("duplicate {from} as {name}"), |t| {
        t.nodes.insert(n + 1, copy)
    });
    app.nodes.sel = n + 1;
    app.set_status(
        StatusKind::Info,
        format!("duplicated {from} as {name}; set its addresses with i"),
    );
}

fn save(app: &mut App, fx: &mut Vec<Effect>) {
    match app.path.clone() {
        Some(p) => save_over(app, p, fx),
        None => open_input(app, Purpose::SaveAs, "topology.ron"),
    }
}

/// A save to the designer's own file: first asks whether to drop the comments it has (once), and
/// lets the loop ask when another hand changed the file since it was read or written here.
fn save_over(app: &mut App, path: PathBuf, fx: &mut Vec<Effect>) {
    match app.disk.map_or(0, |d| d.comments) {
        0 => push_save(app, path, Replace::AsKnown(app.disk), fx),
        count => app.modal = Some(Modal::Confirm(ConfirmKind::DropComments { path, count })),
    }
}

fn push_save(app: &mut App, path: PathBuf, replace: Replace, fx: &mut Vec<Effect>) {
    match save_effect(app, path, replace) {
        Ok(e) => fx.push(e),
        Err(e) => refuse_save(app, e),
    }
}

/// The save of the topology as it will be written, once the file loader has read that very text
/// back: a file the designer and the command line would refuse to open is never written.
fn save_effect(app: &App, path: PathBuf, replace: Replace) -> Result<Effect, String> {
    let text = to_ron(&app.topology);
    from_ron(&text).map_err(|e| format!("the file would not open again: {e}"))?;
    Ok(Effect::Save {
        path,
        text,
        replace,
    })
}

fn refuse_save(app: &mut App, e: String) {
    app.quit_after_save = false;
    app.set_status(StatusKind::Error, format!("not saved: {e}"));
}

fn copy(app: &mut App, powershell: bool, fx: &mut Vec<Effect>) {
    let Some(n) = app.selected_node() else {
        app.set_status(StatusKind::Warning, "no node selected");
        return;
    };
    let node = &app.topology.nodes[n];
    let (target, text) = if app.screen == Screen::Export && !powershell {
        // Exactly the text on screen.
        if app.preview.node != n || app.preview.target.is_none() {
            app.refresh_preview();
        }
        (
            app.preview.target.unwrap_or_else(|| app.preview_target(n)),
            app.preview.text.clone(),
        )
    } else if powershell {
        if !node.os.is_windows() {
            app.set_status(
                StatusKind::Warning,
                format!(
                    "{} runs {}: PowerShell commands are for Windows nodes",
                    node.name, node.os
                ),
            );
            return;
        }
        (Target::Powershell, app.export_text(n, Target::Powershell))
    } else {
        // The node's own target, as the roles pane shows it: never the export screen's choice.
        let t = app.node_target(n);
        (t, app.export_text(n, t))
    };
    let name = app.topology.nodes[n].name.clone();
    let mut what = match app.egress {
        Egress::Open => format!("the {target} commands of {name}"),
        Egress::Strict => format!("the {target} commands of {name} (strict outbound)"),
    };
    // Which console a Windows copy is for, in words: pasted into the other one it would not run.
    if let Some(console) = export::console(target) {
        what.push_str(&format!(" (for {console})"));
    }
    if text.trim().is_empty() {
        app.set_status(
            StatusKind::Warning,
            format!("nothing to copy: the {target} export of {name} is empty"),
        );
        return;
    }
    app.pending_copy = Some((text.clone(), export::file_name(&name, target)));
    fx.push(Effect::Copy { text, what });
}

fn copied(app: &mut App, what: &str, outcome: CopyOutcome, extras: &clipboard::CopyExtras) {
    let text = clipboard::report(what, &outcome, extras);
    match outcome {
        CopyOutcome::Copied => app.set_status(StatusKind::Ok, text),
        CopyOutcome::SentOsc52 { .. } => app.set_status(StatusKind::Info, text),
        CopyOutcome::Failed(error) => {
            app.set_status(StatusKind::Error, text);
            if let Some((text, suggested)) = app.pending_copy.clone() {
                app.modal = Some(Modal::Confirm(ConfirmKind::WriteInstead {
                    text,
                    suggested,
                    error,
                }));
            }
        }
    }
}

fn saved(app: &mut App, path: PathBuf, result: Result<OnDisk, String>, fx: &mut Vec<Effect>) {
    match result {
        Ok(disk) => {
            app.saved_version = Some(app.version);
            app.disk = Some(disk);
            if app.problems.is_empty() {
                app.set_status(StatusKind::Ok, format!("saved {}", path.display()));
            } else {
                app.set_status(
                    StatusKind::Warning,
                    format!(
                        "saved {} with {} catalog problem(s) (2 lists them): fwtopo check, rules and export refuse it until they are fixed",
                        path.display(),
                        app.problems.len()
                    ),
                );
            }
            app.path = Some(path);
            if app.quit_after_save {
                fx.push(Effect::Quit);
            }
        }
        Err(e) => {
            app.quit_after_save = false;
            app.set_status(StatusKind::Error, format!("not saved: {e}"));
        }
    }
}

fn loaded(app: &mut App, path: PathBuf, result: Result<(Topology, OnDisk), String>) {
    match result {
        Ok((t, disk)) => {
            let n = t.nodes.len();
            replace_topology(app, t, Some(path.clone()));
            app.disk = Some(disk);
            app.set_status(
                StatusKind::Ok,
                format!("opened {} ({n} nodes)", path.display()),
            );
        }
        Err(e) => {
            open_input(app, Purpose::Open, path.display().to_string());
            set_input_error(app, e);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dialogs

fn modal(app: &mut App, m: Modal, action: Action, fx: &mut Vec<Effect>) {
    match m {
        Modal::Endpoints(e) => custom_role::endpoints(app, e, action),
        Modal::Help { scroll } => {
            let step = (app.height as usize).saturating_sub(6).max(1);
            // The view clamps a scroll past the end to the last page.
            let scroll = match action {
                Action::Close | Action::Help => return,
                Action::Up => scroll.saturating_sub(1),
                Action::Down => scroll.saturating_add(1),
                Action::PageUp => scroll.saturating_sub(step),
                Action::PageDown => scroll.saturating_add(step),
                Action::Top => 0,
                Action::Bottom => usize::MAX,
                _ => scroll,
            };
            app.modal = Some(Modal::Help {
                scroll: scroll.min(super::view::help_max_scroll(app)),
            });
        }
        Modal::Detail { detail, scroll } => {
            let step = (app.height as usize).saturating_sub(6).max(1);
            let scroll = match action {
                Action::Close | Action::Detail => return,
                Action::Up => scroll.saturating_sub(1),
                Action::Down => scroll.saturating_add(1),
                Action::PageUp => scroll.saturating_sub(step),
                Action::PageDown => scroll.saturating_add(step),
                Action::Top => 0,
                Action::Bottom => usize::MAX,
                _ => scroll,
            };
            let max = super::view::detail_max_scroll(app, &detail);
            app.modal = Some(Modal::Detail {
                detail,
                scroll: scroll.min(max),
            });
        }
        // Scrolled from the newest message at the bottom, back into older ones.
        Modal::Messages { scroll } => {
            let step = (app.height as usize).saturating_sub(6).max(1);
            let scroll = match action {
                Action::Close | Action::Messages => return,
                Action::Up => scroll.saturating_add(1),
                Action::Down => scroll.saturating_sub(1),
                Action::PageUp => scroll.saturating_add(step),
                Action::PageDown => scroll.saturating_sub(step),
                Action::Top => usize::MAX,
                Action::Bottom => 0,
                _ => scroll,
            };
            app.modal = Some(Modal::Messages {
                scroll: scroll.min(super::view::messages_max_scroll(app)),
            });
        }
        Modal::Os(mut c) => match action {
            Action::Close => {}
            Action::Activate => {
                let os = Os::ALL[c.sel.min(Os::ALL.len() - 1)];
                if let Some(n) = app.selected_node()
                    && app.topology.nodes[n].os != os
                {
                    let name = app.topology.nodes[n].name.clone();
                    commit(app, format!("{name} runs {os}"), |t| t.nodes[n].os = os);
                }
            }
            Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown => {
                let d = match action {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::Top | Action::PageUp => -100,
                    _ => 100,
                };
                c.step(d, Os::ALL.len());
                app.modal = Some(Modal::Os(c));
            }
            Action::Char(ch) => {
                // The next OS after the selected one whose name starts with the letter.
                let ch = ch.to_ascii_lowercase();
                let n = Os::ALL.len();
                if let Some(i) = (1..=n)
                    .map(|k| (c.sel + k) % n)
                    .find(|&i| Os::ALL[i].as_str().starts_with(ch))
                {
                    c.sel = i;
                }
                app.modal = Some(Modal::Os(c));
            }
            _ => app.modal = Some(Modal::Os(c)),
        },
        Modal::Confirm(kind) => confirm(app, kind, action, fx),
        Modal::Picker(p) => picker(app, p, action),
        Modal::Input(s) => input(app, s, action, fx),
    }
}

fn confirm(app: &mut App, kind: ConfirmKind, action: Action, fx: &mut Vec<Effect>) {
    let answer = match (&kind, action) {
        (_, a @ (Action::Yes | Action::No | Action::SaveFirst | Action::Close)) => a,
        (ConfirmKind::ChangedOnDisk(_), a @ (Action::Reload | Action::SaveAs)) => a,
        _ => {
            app.modal = Some(Modal::Confirm(kind));
            return;
        }
    };
    match (kind, answer) {
        (ConfirmKind::Quit, Action::Yes) => fx.push(Effect::Quit),
        (ConfirmKind::Quit, Action::SaveFirst) => {
            app.quit_after_save = true;
            save(app, fx);
        }
        (ConfirmKind::DeleteNode(n), Action::Yes) if n < app.topology.nodes.len() => {
            let name = app.topology.nodes[n].name.clone();
            commit(app, format!("delete node {name}"), |t| {
                t.nodes.remove(n);
            });
            app.set_status(StatusKind::Info, format!("deleted {name} (u undoes)"));
        }
        (ConfirmKind::DeleteZone(i), Action::Yes) if i < app.topology.zones.len() => {
            let name = app.topology.zones[i].name.clone();
            commit(app, format!("delete zone {name}"), |t| {
                t.zones.remove(i);
            });
        }
        (ConfirmKind::DeleteHost(i), Action::Yes) if i < app.topology.external_hosts.len() => {
            let name = app.topology.external_hosts[i].name.clone();
            commit(app, format!("delete external host {name}"), |t| {
                t.external_hosts.remove(i);
            });
        }
        (ConfirmKind::OpenDiscard, Action::Yes) => open_prompt(app),
        (ConfirmKind::Overwrite(path), Action::Yes) => push_save(app, path, Replace::Anything, fx),
        (ConfirmKind::Overwrite(_), _) => app.quit_after_save = false,
        (ConfirmKind::ChangedOnDisk(path), Action::Yes) => {
            push_save(app, path, Replace::Anything, fx)
        }
        (ConfirmKind::ChangedOnDisk(path), Action::Reload) => {
            app.quit_after_save = false;
            fx.push(Effect::Load { path });
        }
        (ConfirmKind::ChangedOnDisk(path), Action::SaveAs) => {
            open_input(app, Purpose::SaveAs, path.display().to_string());
        }
        (ConfirmKind::ChangedOnDisk(path), _) => refuse_save(
            app,
            format!(
                "{} changed on disk since it was opened or saved here",
                path.display()
            ),
        ),
        (ConfirmKind::DropComments { path, .. }, Action::Yes) => {
            if let Some(d) = &mut app.disk {
                d.comments = 0;
            }
            push_save(app, path, Replace::AsKnown(app.disk), fx);
        }
        (ConfirmKind::DropComments { count, .. }, _) => refuse_save(
            app,
            format!(
                "the file keeps its {count} comment{}; put what they say in note: fields, then save",
                if count == 1 { "" } else { "s" }
            ),
        ),
        (ConfirmKind::Recovery { .. }, Action::Yes) => fx.push(Effect::LoadRecovery),
        (ConfirmKind::Recovery { .. }, Action::No) => {
            fx.push(Effect::DiscardRecovery);
            app.set_status(StatusKind::Info, "deleted the recovery copy");
        }
        (ConfirmKind::Recovery { .. }, _) => app.set_status(
            StatusKind::Info,
            "kept the recovery copy; it is offered again at the next start",
        ),
        (
            ConfirmKind::WriteInstead {
                suggested, text, ..
            },
            Action::Yes,
        ) => {
            open_input(app, Purpose::WriteFile(text), suggested);
        }
        _ => {}
    }
}

fn picker(app: &mut App, mut p: PickerState, action: Action) {
    let len = p.matches.len();
    let refilter = |app: &App, p: &mut PickerState| {
        p.matches = app.assignable_roles(&p.query.text);
        p.cursor = Cursor::default();
        p.error = None;
    };
    match action {
        Action::Close => return,
        Action::Char(c) => {
            p.query.insert(c);
            refilter(app, &mut p);
        }
        Action::Backspace => {
            p.query.backspace();
            refilter(app, &mut p);
        }
        Action::ClearLine => {
            p.query.clear();
            refilter(app, &mut p);
        }
        Action::Up => p.cursor.step(-1, len),
        Action::Down => p.cursor.step(1, len),
        Action::PageUp => p.cursor.step(-10, len),
        Action::PageDown => p.cursor.step(10, len),
        Action::Activate => {
            let Some(&(pi, ri)) = p.matches.get(p.cursor.sel) else {
                p.error = Some("no role matches the search".into());
                app.modal = Some(Modal::Picker(p));
                return;
            };
            let product = &app.catalog.products()[pi];
            let role = &product.roles[ri];
            let (pid, rid) = (product.id.clone(), role.id.clone());
            let required: Vec<String> = role
                .parameters
                .iter()
                .filter(|x| matches!(x.kind, ParamKind::Required))
                .map(|x| x.id.clone())
                .collect();
            let n = p.node;
            let Some(node) = app.topology.nodes.get(n) else {
                return;
            };
            if node.roles.iter().any(|r| r.product == pid && r.role == rid) {
                p.error = Some(format!("{} already has {pid}/{rid}", node.name));
                app.modal = Some(Modal::Picker(p));
                return;
            }
            // A role for the other OS family is said first; a second enter assigns it anyway
            // (the operator may be about to change the OS).
            if let Some(misfit) = platform_misfit(role.platform, node)
                && p.error.as_deref() != Some(misfit.as_str())
            {
                p.error = Some(misfit);
                app.modal = Some(Modal::Picker(p));
                return;
            }
            let name = node.name.clone();
            let before = app
                .plan
                .nodes
                .get(n)
                .map_or((0, 0), |x| (x.inbound.len(), x.outbound.len()));
            commit(app, format!("assign {pid}/{rid} to {name}"), |t| {
                t.nodes[n].roles.push(RoleAssignment::new(&pid, &rid))
            });
            let after = app
                .plan
                .nodes
                .get(n)
                .map_or((0, 0), |x| (x.inbound.len(), x.outbound.len()));
            app.focus = Pane::Roles;
            let role_index = app.topology.nodes[n].roles.len() - 1;
            app.roles.sel = app
                .role_rows()
                .iter()
                .position(|r| *r == RoleRow::Role(role_index))
                .unwrap_or(0);
            app.set_status(
                StatusKind::Ok,
                format!(
                    "assigned {pid}/{rid} to {name}: {} inbound, {} outbound rules (was {}, {})",
                    after.0, after.1, before.0, before.1
                ),
            );
            if let Some(param) = required.into_iter().next() {
                open_input(
                    app,
                    Purpose::Param {
                        node: n,
                        role: role_index,
                        param,
                    },
                    "",
                );
            }
            return;
        }
        _ => {}
    }
    app.modal = Some(Modal::Picker(p));
}

fn input(app: &mut App, mut s: InputState, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Close => {
            // Cancelling the file name of a "save and quit" cancels the quit too.
            if s.purpose == Purpose::SaveAs {
                app.quit_after_save = false;
            }
            return;
        }
        Action::Activate => {
            let purpose = s.purpose.clone();
            match submit(app, purpose, &s.field.text, fx) {
                Ok(()) => return,
                Err(e) => s.error = Some(e),
            }
        }
        Action::Char(c) => {
            s.field.insert(c);
            s.error = None;
        }
        Action::Backspace => {
            s.field.backspace();
            s.error = None;
        }
        Action::DeleteForward => {
            s.field.delete();
            s.error = None;
        }
        Action::ClearLine => {
            s.field.clear();
            s.error = None;
        }
        // Tab in a custom flow's prompt: pick an endpoint instead of typing it.
        Action::FocusNext if matches!(s.purpose, Purpose::CustomFlow(_)) => {
            custom_role::open_endpoints(app, s);
            return;
        }
        Action::Left => s.field.left(),
        Action::Right => s.field.right(),
        Action::Top => s.field.home(),
        Action::Bottom => s.field.end(),
        _ => {}
    }
    app.modal = Some(Modal::Input(s));
}

/// Accepts a prompt's text, or says what is wrong with it (the prompt stays open).
fn submit(app: &mut App, purpose: Purpose, text: &str, fx: &mut Vec<Effect>) -> Result<(), String> {
    match purpose {
        Purpose::AddCustomRole
        | Purpose::CustomRoleName(_)
        | Purpose::RenameCustomRole(_)
        | Purpose::CustomRoleDescription(_)
        | Purpose::CustomFlowNote(_)
        | Purpose::CustomFlow(_) => {
            custom_role::submit(app, &purpose, text)?;
        }
        Purpose::AddNode => {
            let name = node_name(app, text, None)?;
            let at = app
                .selected_node()
                .map_or(app.topology.nodes.len(), |n| n + 1);
            let node = Node::new(name.clone(), Os::Almalinux);
            commit(app, format!("add node {name}"), |t| {
                t.nodes.insert(at, node)
            });
            app.nodes.sel = at;
            app.roles = Cursor::default();
            app.rules = Cursor::default();
            // Straight on to its addresses; Esc leaves it without.
            open_input(app, Purpose::Addresses(at), "");
            app.set_status(
                StatusKind::Ok,
                format!("added {name} (almalinux; o changes the OS)"),
            );
        }
        Purpose::RenameNode(n) => {
            let name = node_name(app, text, Some(n))?;
            let old = app
                .topology
                .nodes
                .get(n)
                .map(|x| x.name.clone())
                .ok_or("the node is gone")?;
            if old != name {
                commit(app, format!("rename {old} to {name}"), |t| {
                    t.nodes[n].name = name
                });
            }
        }
        Purpose::Addresses(n) => {
            let addrs = node_addresses(app, text, n)?;
            let node = app.topology.nodes.get(n).ok_or("the node is gone")?;
            if node.addresses != addrs {
                let name = node.name.clone();
                commit(app, format!("addresses of {name}"), |t| {
                    t.nodes[n].addresses = addrs
                });
            }
        }
        Purpose::Note(n) => {
            let note = text.trim().to_string();
            check_text(&note).map_err(|e| format!("note {e}"))?;
            let node = app.topology.nodes.get(n).ok_or("the node is gone")?;
            if node.note != note {
                let name = node.name.clone();
                commit(app, format!("note of {name}"), |t| t.nodes[n].note = note);
            }
        }
        Purpose::ZoneNote(i) => {
            let note = text.trim().to_string();
            check_text(&note).map_err(|e| format!("note {e}"))?;
            let z = app.topology.zones.get(i).ok_or("the zone is gone")?;
            if z.note != note {
                let name = z.name.clone();
                commit(app, format!("note of zone {name}"), |t| {
                    t.zones[i].note = note
                });
            }
        }
        Purpose::HostNote(i) => {
            let note = text.trim().to_string();
            check_text(&note).map_err(|e| format!("note {e}"))?;
            let h = app
                .topology
                .external_hosts
                .get(i)
                .ok_or("the host is gone")?;
            if h.note != note {
                let name = h.name.clone();
                commit(app, format!("note of {name}"), |t| {
                    t.external_hosts[i].note = note
                });
            }
        }
        Purpose::TopologyName => {
            let name = text.trim().to_string();
            if name.is_empty() {
                return Err("the topology needs a name".into());
            }
            check_text(&name).map_err(|e| format!("name {e}"))?;
            if name.contains('\n') {
                return Err("the name is one line".into());
            }
            if app.topology.name != name {
                commit(app, format!("topology renamed to {name}"), |t| {
                    t.name = name
                });
            }
        }
        Purpose::Param { node, role, param } => {
            let ra = app
                .topology
                .nodes
                .get(node)
                .and_then(|x| x.roles.get(role))
                .ok_or("the role is gone")?;
            let spec = app
                .catalog
                .role(&ra.product, &ra.role)
                .and_then(|r| r.parameters.iter().find(|p| p.id == param))
                .ok_or_else(|| format!("{}/{} has no parameter '{param}'", ra.product, ra.role))?;
            let value = text.trim();
            let new = if value.is_empty() {
                if matches!(spec.kind, ParamKind::Required) {
                    return Err(format!("'{param}' is required: give a port or range"));
                }
                None
            } else {
                ParamValue::parse(&spec.kind, value)?;
                Some(value.to_string())
            };
            if ra.params.get(&param).map(String::as_str) != new.as_deref() {
                let label = format!(
                    "{param} of {}/{} on {}",
                    ra.product, ra.role, app.topology.nodes[node].name
                );
                commit(app, label, |t| {
                    let params = &mut t.nodes[node].roles[role].params;
                    match new {
                        Some(v) => params.insert(param, v),
                        None => params.remove(&param),
                    };
                });
            }
        }
        Purpose::AddZone => {
            let name = zone_name(app, text, None)?;
            commit(app, format!("add zone {name}"), |t| {
                t.zones.push(Zone {
                    name: name.clone(),
                    cidrs: Vec::new(),
                    note: String::new(),
                })
            });
            app.zones.sel = app.topology.zones.len() - 1;
            app.focus = Pane::Zones;
            open_input(app, Purpose::ZoneCidrs(app.zones.sel), "");
        }
        Purpose::RenameZone(i) => {
            let name = zone_name(app, text, Some(i))?;
            let old = app
                .topology
                .zones
                .get(i)
                .map(|z| z.name.clone())
                .ok_or("the zone is gone")?;
            if old != name {
                commit(app, format!("rename zone {old} to {name}"), |t| {
                    t.zones[i].name = name
                });
            }
        }
        Purpose::ZoneCidrs(i) => {
            let nets = networks(app, text, i)?;
            let z = app.topology.zones.get(i).ok_or("the zone is gone")?;
            if z.cidrs != nets {
                let name = z.name.clone();
                commit(app, format!("networks of zone {name}"), |t| {
                    t.zones[i].cidrs = nets
                });
            }
        }
        Purpose::AddHost => {
            let name = host_name(app, text, None)?;
            commit(app, format!("add external host {name}"), |t| {
                t.external_hosts.push(ExternalHost {
                    name: name.clone(),
                    addresses: Vec::new(),
                    note: String::new(),
                })
            });
            app.hosts.sel = app.topology.external_hosts.len() - 1;
            app.focus = Pane::Hosts;
            open_input(app, Purpose::HostAddresses(app.hosts.sel), "");
        }
        Purpose::RenameHost(i) => {
            let name = host_name(app, text, Some(i))?;
            let old = app
                .topology
                .external_hosts
                .get(i)
                .map(|h| h.name.clone())
                .ok_or("the host is gone")?;
            if old != name {
                commit(app, format!("rename {old} to {name}"), |t| {
                    t.external_hosts[i].name = name
                });
            }
        }
        Purpose::HostAddresses(i) => {
            let addrs = host_addresses(app, text, i)?;
            let h = app
                .topology
                .external_hosts
                .get(i)
                .ok_or("the host is gone")?;
            if h.addresses != addrs {
                let name = h.name.clone();
                commit(app, format!("addresses of {name}"), |t| {
                    t.external_hosts[i].addresses = addrs
                });
            }
        }
        Purpose::SaveAs => {
            let path = text.trim();
            if path.is_empty() {
                return Err("give a file name".into());
            }
            let path = PathBuf::from(path);
            if app.path.as_ref() == Some(&path) {
                save_over(app, path, fx);
            } else {
                fx.push(save_effect(app, path, Replace::Nothing)?);
            }
        }
        Purpose::Open => {
            let path = text.trim();
            if path.is_empty() {
                return Err("give a file name".into());
            }
            fx.push(Effect::Load {
                path: PathBuf::from(path),
            });
        }
        Purpose::WriteFile(content) => {
            let path = text.trim();
            if path.is_empty() {
                return Err("give a file name".into());
            }
            fx.push(Effect::WriteFile {
                path: PathBuf::from(path),
                text: content,
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Mouse and scrolling

fn contains(r: ratatui::layout::Rect, col: u16, row: u16) -> bool {
    col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height
}

fn click(app: &mut App, col: u16, row: u16) {
    let area = layout::frame(app);
    match &mut app.modal {
        Some(Modal::Picker(p)) => {
            let list = layout::picker_parts(area).list;
            if contains(list, col, row) {
                let i = p.cursor.offset_for(list.height as usize) + (row - list.y) as usize;
                if i < p.matches.len() {
                    p.cursor.sel = i;
                }
            }
            return;
        }
        Some(Modal::Os(c)) => {
            let list = layout::os_area(area);
            if contains(list, col, row) {
                c.sel = ((row - list.y) as usize).min(Os::ALL.len() - 1);
            }
            return;
        }
        Some(_) => return,
        None => {}
    }
    let a = layout::areas(app.screen, area);
    if contains(a.tabs, col, row) {
        if let Some((s, _, _)) = layout::tab_spans(a.tabs)
            .into_iter()
            .find(|(_, _, r)| contains(*r, col, row))
        {
            show(app, s);
        }
        return;
    }
    let Some((pane, rect)) = a
        .panes
        .iter()
        .find(|(_, r)| contains(*r, col, row))
        .copied()
    else {
        return;
    };
    app.focus = pane;
    let rows = layout::rows_area(app, pane, rect);
    if !contains(rows, col, row) {
        return;
    }
    let line = (row - rows.y) as usize;
    match pane {
        Pane::Overview => {
            let g = layout::grid_parts(app, rect);
            let r = app.grid.row.offset_for(rows.height as usize) + line;
            if r < app.pane_len(Pane::Overview) {
                app.grid.row.sel = r;
            }
            if col >= rows.x + g.label_width {
                let c = app.grid.col.offset_for(g.visible_cols())
                    + ((col - rows.x - g.label_width) / g.cell_width) as usize;
                if c < app.topology.nodes.len() {
                    app.grid.col.sel = c;
                }
            }
        }
        Pane::Preview => {}
        _ => {
            let c = cursor_of(app, pane);
            let target = c.offset_for(rows.height as usize) + line;
            if target < app.pane_len(pane) {
                let delta = target as isize - c.sel as isize;
                move_by(app, pane, delta);
            }
        }
    }
}

fn cursor_of(app: &App, pane: Pane) -> Cursor {
    match pane {
        Pane::Nodes => app.nodes,
        Pane::Roles => app.roles,
        Pane::Rules => app.rules,
        Pane::Findings => app.finding_cursor,
        Pane::Zones => app.zones,
        Pane::Hosts => app.hosts,
        Pane::Custom => app.custom,
        Pane::Overview => app.grid.row,
        Pane::Preview => Cursor {
            sel: app.preview_scroll,
            offset: app.preview_scroll,
        },
    }
}

fn scroll(app: &mut App, col: u16, row: u16, delta: isize) {
    let area = layout::frame(app);
    match &mut app.modal {
        Some(Modal::Picker(p)) => {
            let len = p.matches.len();
            p.cursor.step(delta, len);
            return;
        }
        Some(Modal::Help { scroll }) => {
            *scroll = scroll.saturating_add_signed(delta);
            return;
        }
        Some(Modal::Messages { scroll }) => {
            *scroll = scroll.saturating_add_signed(-delta);
            return;
        }
        Some(Modal::Detail { scroll, .. }) => {
            *scroll = scroll.saturating_add_signed(delta);
            return;
        }
        Some(_) => return,
        None => {}
    }
    let a = layout::areas(app.screen, area);
    if let Some((pane, _)) = a
        .panes
        .iter()
        .find(|(_, r)| contains(*r, col, row))
        .copied()
    {
        move_by(app, pane, delta);
    }
}

/// Keeps every list's stored offset such that its selection is visible in the current layout.
fn fix_scroll(app: &mut App) {
    let a = layout::areas(app.screen, layout::frame(app));
    for (pane, rect) in a.panes.clone() {
        let h = layout::rows_area(app, pane, rect).height as usize;
        match pane {
            Pane::Nodes => app.nodes.offset = app.nodes.offset_for(h),
            Pane::Roles => app.roles.offset = app.roles.offset_for(h),
            Pane::Rules => app.rules.offset = app.rules.offset_for(h),
            Pane::Findings => app.finding_cursor.offset = app.finding_cursor.offset_for(h),
            Pane::Zones => app.zones.offset = app.zones.offset_for(h),
            Pane::Hosts => app.hosts.offset = app.hosts.offset_for(h),
            Pane::Custom => app.custom.offset = app.custom.offset_for(h),
            Pane::Overview => {
                app.grid.row.offset = app.grid.row.offset_for(h);
                let cols = layout::grid_parts(app, rect).visible_cols();
                app.grid.col.offset = app.grid.col.offset_for(cols);
                let (r0, c0) = (app.grid.row.offset, app.grid.col.offset);
                let (nr, nc) = (app.overview_rows(), app.topology.nodes.len());
                app.refresh_overview(r0..(r0 + h).min(nr), c0..(c0 + cols).min(nc));
            }
            Pane::Preview => {
                let len = app.pane_len(Pane::Preview);
                app.preview_scroll = app.preview_scroll.min(len.saturating_sub(h));
                let w = layout::rows_area(app, pane, rect).width as usize;
                app.preview_hscroll = app.preview_hscroll.min(app.preview.width.saturating_sub(w));
            }
        }
    }
    let h = layout::picker_parts(layout::frame(app)).list.height as usize;
    if let Some(Modal::Picker(p)) = &mut app.modal {
        p.cursor.offset = p.cursor.offset_for(h);
    }
}
