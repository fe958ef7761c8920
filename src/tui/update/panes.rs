//! What keys do on the panes: moving, adding, renaming, editing, deleting, jumping.

use super::*;

pub(in crate::tui) fn pane(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
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
        Action::Detail => match crate::tui::detail::of(app) {
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
        Action::EditOwnership => crate::tui::ownership::edit(app),
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
        Action::Query => {
            if let Err(e) = crate::tui::why::open(app) {
                app.set_status(StatusKind::Info, e);
            }
        }
        Action::RenameTopology => {
            let name = app.topology.name.clone();
            open_input(app, Purpose::TopologyName, name);
        }
        Action::CycleFirewall => cycle_firewall(app),
        Action::ToggleSwitch => toggle_switch(app),
        Action::NextTarget | Action::PrevTarget => {
            let all: Vec<Option<Target>> = std::iter::once(None)
                .chain(Target::EXPORTS.into_iter().map(Some))
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
pub(in crate::tui) fn move_by(app: &mut App, pane: Pane, delta: isize) {
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
        Pane::Changes => app.changes_cursor.step(delta, len),
        Pane::Overview => app.grid.row.step(delta, len),
        Pane::Preview => {
            app.preview_scroll = app
                .preview_scroll
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        }
    }
}

pub(in crate::tui) fn sideways(app: &mut App, right: bool) {
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
        Screen::Findings | Screen::Export | Screen::Changes => {}
    }
}

pub(in crate::tui) fn show(app: &mut App, s: Screen) {
    app.screen = s;
    if !s.panes().contains(&app.focus) {
        app.focus = s.panes()[0];
    }
    if s == Screen::Export {
        app.refresh_preview();
    }
}

/// Selects a node and shows its rules (from a finding or the overview).
pub(in crate::tui) fn jump_to_node(app: &mut App, n: usize) {
    app.nodes.sel = n;
    app.roles = Cursor::default();
    app.rules = Cursor::default();
    show(app, Screen::Design);
    app.focus = Pane::Rules;
}

/// The rule of node `n` a finding is about: one the finding's code can come from whose
/// `proto/ports` the message names, else the first such rule.
pub(in crate::tui) fn finding_rule(
    app: &App,
    n: usize,
    row: &crate::tui::app::FindingRow,
) -> Option<usize> {
    let crate::tui::app::FindingSource::Engine(i) = row.source else {
        return None;
    };
    let f = app.plan.findings.get(i)?;
    let plan = app.plan.nodes.get(n)?;
    let rules: Vec<_> = plan.inbound.iter().chain(plan.outbound.iter()).collect();
    let caused = |r: &fwtopo::engine::Rule| crate::tui::view::rule_codes(r).contains(&f.code);
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

pub(in crate::tui) fn activate(app: &mut App) {
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
        Pane::Changes => go_to_change(app),
        _ => edit(app),
    }
}

pub(in crate::tui) fn open_input(app: &mut App, purpose: Purpose, text: impl Into<String>) {
    app.modal = Some(Modal::Input(InputState {
        purpose,
        field: TextField::new(text),
        error: None,
    }));
}

pub(in crate::tui) fn set_input_error(app: &mut App, e: String) {
    if let Some(Modal::Input(s)) = &mut app.modal {
        s.error = Some(e);
    }
}

pub(in crate::tui) fn open_prompt(app: &mut App) {
    let dir = app
        .path
        .as_ref()
        .and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| format!("{}/", p.display()))
        .unwrap_or_default();
    open_input(app, Purpose::Open, dir);
}

pub(in crate::tui) fn add(app: &mut App) {
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

pub(in crate::tui) fn rename(app: &mut App) {
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

pub(in crate::tui) fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(in crate::tui) fn edit(app: &mut App) {
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

pub(in crate::tui) fn delete(app: &mut App) {
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

pub(in crate::tui) fn duplicate(app: &mut App) {
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

/// Enter on a line of the changes screen: its node, and the rule the change is in when it can be
/// found (ports opened: the live rule that holds them; closed: the removed row).
pub(in crate::tui) fn go_to_change(app: &mut App) {
    let Some(row) = app.change_rows().get(app.changes_cursor.sel).cloned() else {
        return;
    };
    let Some(name) = row.node else {
        app.set_status(StatusKind::Info, "this line is about the whole topology");
        return;
    };
    let Some(n) = app.topology.nodes.iter().position(|x| x.name == name) else {
        app.set_status(
            StatusKind::Info,
            format!(
                "{name} is not in the topology any more: it was removed {}",
                app.baseline.since
            ),
        );
        return;
    };
    jump_to_node(app, n);
    app.refresh_changes();
    if let Some(i) = row.change.as_ref().and_then(|c| change_rule(app, n, c)) {
        app.rules.sel = i;
    }
}

/// The row of node `n`'s rules pane that shows a change `fwtopo diff` lists.
fn change_rule(app: &App, n: usize, c: &fwtopo::diff::Change) -> Option<usize> {
    let plan = app.plan.nodes.get(n)?;
    let marks = app.node_marks()?;
    let peer = c.peers.first()?;
    let same = |d: fwtopo::engine::Direction, proto: &str| {
        d.as_str() == c.direction && proto == c.protocol
    };
    if c.what == "opened" {
        plan.rules().zip(&marks.marks).position(|(r, m)| {
            *m != fwtopo::diff::RuleMark::Same
                && same(r.direction, r.protocol.as_str())
                && r.peers.to_strings().contains(peer)
        })
    } else {
        let live = plan.inbound.len() + plan.outbound.len();
        marks
            .removed
            .iter()
            .position(|r| same(r.direction, r.protocol) && r.peers.contains(peer))
            .map(|i| live + i)
    }
}
