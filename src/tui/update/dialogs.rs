//! Dialogs: the help, message log and row detail, questions, the picker, the OS list and prompts.

use super::*;

pub(in crate::tui) fn modal(app: &mut App, m: Modal, action: Action, fx: &mut Vec<Effect>) {
    match m {
        Modal::Endpoints(e) => custom_role::endpoints(app, e, action),
        Modal::Help { scroll } => {
            if let Some(scroll) = scrolled(app, scroll, &action, false, Action::Help) {
                let max = crate::tui::view::help_max_scroll(app);
                app.modal = Some(Modal::Help {
                    scroll: scroll.min(max),
                });
            }
        }
        Modal::Detail { detail, scroll } => {
            if let Some(scroll) = scrolled(app, scroll, &action, false, Action::Detail) {
                let max = crate::tui::view::detail_max_scroll(app, &detail);
                app.modal = Some(Modal::Detail {
                    detail,
                    scroll: scroll.min(max),
                });
            }
        }
        // Scrolled from the newest message at the bottom, back into older ones.
        Modal::Messages { scroll } => {
            if let Some(scroll) = scrolled(app, scroll, &action, true, Action::Messages) {
                let max = crate::tui::view::messages_max_scroll(app);
                app.modal = Some(Modal::Messages {
                    scroll: scroll.min(max),
                });
            }
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

pub(in crate::tui) fn confirm(
    app: &mut App,
    kind: ConfirmKind,
    action: Action,
    fx: &mut Vec<Effect>,
) {
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

pub(in crate::tui) fn picker(app: &mut App, mut p: PickerState, action: Action) {
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

pub(in crate::tui) fn input(
    app: &mut App,
    mut s: InputState,
    action: Action,
    fx: &mut Vec<Effect>,
) {
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

/// A scrolling text dialog's new offset for a key, before the caller clamps it to the text;
/// `None` when the key (esc, or the key that opened it) closes it. `from_bottom` counts the offset
/// up from the end (the message log), so up moves it away from 0.
fn scrolled(
    app: &App,
    scroll: usize,
    action: &Action,
    from_bottom: bool,
    opener: Action,
) -> Option<usize> {
    let step = (app.height as usize).saturating_sub(6).max(1) as isize;
    // Down the text is towards the end: away from 0, or towards it when counted from the end.
    let sign = if from_bottom { -1 } else { 1 };
    let by = |d: isize| Some(scroll.saturating_add_signed(sign * d));
    match action {
        Action::Close => None,
        a if *a == opener => None,
        Action::Up => by(-1),
        Action::Down => by(1),
        Action::PageUp => by(-step),
        Action::PageDown => by(step),
        Action::Top if from_bottom => Some(usize::MAX),
        Action::Bottom if from_bottom => Some(0),
        Action::Top => Some(0),
        Action::Bottom => Some(usize::MAX),
        _ => Some(scroll),
    }
}
