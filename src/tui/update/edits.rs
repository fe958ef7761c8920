//! Edits as undo steps, undo and redo, and the edits that are one key (a switch, a firewall).

use super::*;

/// Flips the selected on/off parameter (no typing `on` or `off`).
pub(in crate::tui) fn toggle_switch(app: &mut App) {
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
pub(in crate::tui) fn cycle_firewall(app: &mut App) {
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
pub(in crate::tui) fn commit(
    app: &mut App,
    label: impl Into<String>,
    edit: impl FnOnce(&mut Topology),
) {
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

pub(in crate::tui) fn undo(app: &mut App, redo: bool) {
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
pub(in crate::tui) fn replace_topology(app: &mut App, t: Topology, path: Option<PathBuf>) {
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
