//! Saving, loading and copying, and the results the loop feeds back.

use super::*;

pub(in crate::tui) fn save(app: &mut App, fx: &mut Vec<Effect>) {
    match app.path.clone() {
        Some(p) => save_over(app, p, fx),
        None => open_input(app, Purpose::SaveAs, "topology.ron"),
    }
}

/// A save to the designer's own file: first asks whether to drop the comments it has (once), and
/// lets the loop ask when another hand changed the file since it was read or written here.
pub(in crate::tui) fn save_over(app: &mut App, path: PathBuf, fx: &mut Vec<Effect>) {
    match app.disk.map_or(0, |d| d.comments) {
        0 => push_save(app, path, Replace::AsKnown(app.disk), fx),
        count => app.modal = Some(Modal::Confirm(ConfirmKind::DropComments { path, count })),
    }
}

pub(in crate::tui) fn push_save(
    app: &mut App,
    path: PathBuf,
    replace: Replace,
    fx: &mut Vec<Effect>,
) {
    match save_effect(app, path, replace) {
        Ok(e) => fx.push(e),
        Err(e) => refuse_save(app, e),
    }
}

/// The save of the topology as it will be written, once the file loader has read that very text
/// back: a file the designer and the command line would refuse to open is never written.
pub(in crate::tui) fn save_effect(
    app: &App,
    path: PathBuf,
    replace: Replace,
) -> Result<Effect, String> {
    let text = to_ron(&app.topology);
    from_ron(&text).map_err(|e| format!("the file would not open again: {e}"))?;
    Ok(Effect::Save {
        path,
        text,
        replace,
    })
}

pub(in crate::tui) fn refuse_save(app: &mut App, e: String) {
    app.quit_after_save = false;
    app.set_status(StatusKind::Error, format!("not saved: {e}"));
}

pub(in crate::tui) fn copy(app: &mut App, powershell: bool, fx: &mut Vec<Effect>) {
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
    let file = export::node_file_name(&app.topology.nodes[n], target);
    app.pending_copy = Some((text.clone(), file));
    fx.push(Effect::Copy { text, what });
}

pub(in crate::tui) fn copied(
    app: &mut App,
    what: &str,
    outcome: CopyOutcome,
    extras: &clipboard::CopyExtras,
) {
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

pub(in crate::tui) fn saved(
    app: &mut App,
    path: PathBuf,
    result: Result<OnDisk, String>,
    fx: &mut Vec<Effect>,
) {
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
            app.set_baseline_here("saved");
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

pub(in crate::tui) fn loaded(
    app: &mut App,
    path: PathBuf,
    result: Result<(Topology, OnDisk), String>,
) {
    match result {
        Ok((t, disk)) => {
            let n = t.nodes.len();
            replace_topology(app, t, Some(path.clone()));
            app.disk = Some(disk);
            app.set_baseline_here("opened");
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
