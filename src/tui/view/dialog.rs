//! Small dialogs: a text prompt (with its error under the field), a question, the OS chooser.

use super::roles::param_default;
use super::{App, cut, modal_block, row_line};
use crate::tui::app::{ConfirmKind, Cursor, InputState, Purpose};
use crate::tui::layout;
use fwtopo::topology::Os;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

/// Wrapped lines of `text` in one style.
fn wrapped(text: &str, w: usize, style: ratatui::style::Style) -> Vec<Line<'static>> {
    layout::wrap(text, w)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect()
}

/// What the prompt edits, in one line (the parameter's meaning and default for parameters).
fn context(app: &App, p: &Purpose) -> Option<String> {
    let node = |n: usize| app.topology.nodes.get(n).map_or("", |x| x.name.as_str());
    Some(match p {
        Purpose::RenameNode(n) | Purpose::Addresses(n) | Purpose::Note(n) => {
            format!("node {}", node(*n))
        }
        Purpose::Param {
            node: n,
            role,
            param,
        } => {
            let ra = app.topology.nodes.get(*n)?.roles.get(*role)?;
            let spec = app
                .catalog
                .role(&ra.product, &ra.role)?
                .parameters
                .iter()
                .find(|x| &x.id == param)?;
            format!(
                "{}/{} on {}: {} ({}) {}",
                ra.product,
                ra.role,
                node(*n),
                spec.name,
                param_default(spec),
                spec.description
            )
        }
        Purpose::RenameZone(i) | Purpose::ZoneCidrs(i) => {
            format!("zone {}", app.topology.zones.get(*i)?.name)
        }
        Purpose::RenameHost(i) | Purpose::HostAddresses(i) => format!(
            "external host {}",
            app.topology.external_hosts.get(*i)?.name
        ),
        Purpose::WriteFile(text) => format!("{} lines", text.lines().count()),
        _ => return None,
    })
}

pub fn input(f: &mut Frame, app: &App, area: Rect, s: &InputState) {
    let t = app.theme();
    let ctx = context(app, &s.purpose);
    let w = area.width.saturating_sub(4).min(76);
    let inner_w = w.saturating_sub(2) as usize;
    // Heights are those of the lines as wrapped and drawn: the context gets up to three, the
    // reason the text was refused all it needs (as much as the screen has).
    let mut ctx_text = ctx
        .as_ref()
        .map_or(Vec::new(), |c| wrapped(c, inner_w, t.muted));
    ctx_text.truncate(3);
    let ctx_lines = ctx_text.len() as u16;
    let mut err_text = s
        .error
        .as_ref()
        .map_or(Vec::new(), |e| wrapped(&format!("✖ {e}"), inner_w, t.error));
    err_text.truncate(area.height.saturating_sub(5 + ctx_lines).max(1) as usize);
    let err_lines = err_text.len() as u16;
    let h = 5 + ctx_lines + err_lines;
    let r = layout::centered(area, w, h);
    f.render_widget(Clear, r);
    let inner = layout::inner(r);
    f.render_widget(modal_block(app, format!(" {} ", s.purpose.title())), r);
    let row = |y: u16| Rect {
        y,
        height: 1,
        ..inner
    };
    let mut y = inner.y;
    if ctx_lines > 0 {
        f.render_widget(
            Paragraph::new(ctx_text),
            Rect {
                height: ctx_lines,
                ..inner
            },
        );
        y += ctx_lines;
    }
    // Scroll the field so the cursor stays visible.
    let skip = s.field.cursor.saturating_sub(inner_w.saturating_sub(2));
    let shown: String = s.field.text.chars().skip(skip).collect();
    f.render_widget(
        Paragraph::new(format!("{} ", cut(&shown, inner_w.saturating_sub(1)))).style(t.input),
        row(y),
    );
    f.set_cursor_position((inner.x + (s.field.cursor - skip) as u16, y));
    y += 1;
    if err_lines > 0 {
        let r = Rect {
            y,
            height: err_lines,
            ..inner
        };
        f.render_widget(Paragraph::new(err_text), r);
        y += err_lines;
    }
    let keys = Line::from(vec![
        Span::styled("⏎", t.key),
        Span::styled(" accept  ", t.muted),
        Span::styled("esc", t.key),
        Span::styled(" cancel", t.muted),
    ]);
    if y + 1 < inner.y + inner.height {
        f.render_widget(Paragraph::new(keys), row(y + 1));
    }
}

pub fn confirm(f: &mut Frame, app: &App, area: Rect, k: &ConfirmKind) {
    let t = app.theme();
    let node = |n: usize| {
        app.topology
            .nodes
            .get(n)
            .map_or("?".to_string(), |x| x.name.clone())
    };
    let (title, text, keys): (&str, String, &[(&str, &str)]) = match k {
        ConfirmKind::Quit => (
            " Unsaved changes ",
            "The topology has changes that are not saved.".into(),
            &[
                ("s", "save and quit"),
                ("y", "quit without saving"),
                ("n", "stay"),
            ],
        ),
        ConfirmKind::DeleteNode(n) => (
            " Delete node ",
            format!("Delete node {} and its roles? (u undoes)", node(*n)),
            &[("y", "delete"), ("n", "keep")],
        ),
        ConfirmKind::DeleteZone(i) => (
            " Delete zone ",
            format!(
                "Delete zone {}? Flows that name it will allow nothing.",
                app.topology.zones.get(*i).map_or("?", |z| z.name.as_str())
            ),
            &[("y", "delete"), ("n", "keep")],
        ),
        ConfirmKind::DeleteHost(i) => (
            " Delete external host ",
            format!(
                "Delete {}? Rules to it go back to its DNS name.",
                app.topology
                    .external_hosts
                    .get(*i)
                    .map_or("?", |h| h.name.as_str())
            ),
            &[("y", "delete"), ("n", "keep")],
        ),
        ConfirmKind::OpenDiscard => (
            " Unsaved changes ",
            "Open another file and lose the unsaved changes?".into(),
            &[("y", "open another"), ("n", "stay")],
        ),
        ConfirmKind::Overwrite(p) => (
            " File exists ",
            format!("{} exists. Replace it?", p.display()),
            &[("y", "replace"), ("n", "cancel")],
        ),
        ConfirmKind::ChangedOnDisk(p) => (
            " Changed on disk ",
            format!(
                "{} changed on disk since it was opened or saved here (another program or person). Saving now replaces those changes.",
                p.display()
            ),
            &[
                ("y", "overwrite them"),
                ("r", "reload it (drops your changes)"),
                ("e", "save elsewhere"),
                ("n", "cancel"),
            ],
        ),
        ConfirmKind::DropComments { path, count } => (
            " Comments ",
            format!(
                "{} has {count} comment{} (// or /* */) that saving will drop: fwtopo writes the file from the topology. To keep what they say, put it in note: fields (or description:) first.",
                path.display(),
                if *count == 1 { "" } else { "s" }
            ),
            &[("y", "save without them"), ("n", "cancel")],
        ),
        ConfirmKind::Recovery { original } => (
            " Recovered work ",
            format!(
                "fwtopo stopped unexpectedly last time and kept a copy of unsaved work{}. Open it?",
                original
                    .as_ref()
                    .map_or(String::new(), |p| format!(" on {}", p.display()))
            ),
            &[
                ("y", "open it"),
                ("n", "delete it"),
                ("esc", "decide later"),
            ],
        ),
        ConfirmKind::WriteInstead {
            suggested, error, ..
        } => (
            " Clipboard failed ",
            format!(
                "Could not copy: {error}. Write the text to a file instead (suggested: {suggested})?"
            ),
            &[("y", "write to a file"), ("n", "no")],
        ),
    };
    let w = area.width.saturating_sub(4).min(70);
    let inner = w.saturating_sub(2) as usize;
    let mut body = wrapped(&text, inner, t.text);
    body.push(Line::raw(""));
    // Whole answers per line, as many lines as they need (the box is sized for them).
    let mut keyline: Vec<Span> = Vec::new();
    let mut used = 0;
    for (k, d) in keys {
        let label = format!(" {d}   ");
        let width = k.chars().count() + label.chars().count();
        if used > 0 && used + width > inner + 3 {
            body.push(Line::from(std::mem::take(&mut keyline)));
            used = 0;
        }
        keyline.push(Span::styled(*k, t.key));
        keyline.push(Span::styled(label, t.muted));
        used += width;
    }
    body.push(Line::from(keyline));
    let r = layout::centered(area, w, body.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: true })
            .block(modal_block(app, title)),
        r,
    );
}

pub fn os(f: &mut Frame, app: &App, area: Rect, c: &Cursor) {
    let t = app.theme();
    let list = layout::os_area(area);
    let outer = Rect::new(list.x - 1, list.y - 1, list.width + 2, list.height + 2);
    f.render_widget(Clear, outer);
    f.render_widget(modal_block(app, " Operating system "), outer);
    let rows: Vec<Line> = Os::ALL
        .iter()
        .enumerate()
        .take(list.height as usize)
        .map(|(i, o)| {
            row_line(
                vec![Span::styled(o.as_str(), t.text)],
                i == c.sel,
                t.selected,
                list.width,
            )
        })
        .collect();
    f.render_widget(Paragraph::new(rows), list);
}
