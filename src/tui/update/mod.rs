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

mod dialogs;
mod edits;
mod files;
mod mouse;
mod panes;
mod submit;
mod validate;
pub(in crate::tui) use dialogs::*;
pub(in crate::tui) use edits::*;
pub(in crate::tui) use files::*;
pub(in crate::tui) use mouse::*;
pub(in crate::tui) use panes::*;
pub(in crate::tui) use submit::*;
pub(in crate::tui) use validate::*;

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
            baseline,
        } => match result {
            Ok(t) => {
                replace_topology(app, t, original.clone());
                app.disk = disk;
                app.mark_unsaved();
                // Changes are counted from the file on disk, which the recovered work replaces.
                let since = match (&original, &baseline) {
                    (Some(p), Some(_)) => format!("since {} was saved", p.display()),
                    (Some(p), None) => format!("against nothing: {} is not there", p.display()),
                    (None, _) => "against nothing: the work was never saved".to_string(),
                };
                app.set_baseline_other(baseline.map(|b| *b), since);
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
    app.refresh_changes();
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
