//! Zones (admin, trusted, the operator's own networks) and external hosts known by DNS name.

use super::{App, cut, fit, lines, pane_block, row_line};
use crate::tui::app::{Cursor, Pane};
use crate::tui::layout;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// A name/values/note table, shared by both panes.
fn table(
    f: &mut Frame,
    app: &App,
    pane: Pane,
    rect: Rect,
    heads: [&str; 2],
    rows: Vec<(String, String, String)>,
    c: Cursor,
) {
    let t = app.theme();
    let inner = layout::inner(rect);
    let area = layout::rows_area(app, pane, rect);
    let w = inner.width as usize;
    let name_w = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    let val_w = w.saturating_sub(name_w + 1).clamp(8, 40);
    let note_w = w.saturating_sub(name_w + val_w + 2);
    lines(
        f,
        Rect { height: 1, ..inner },
        vec![Line::styled(
            cut(
                &format!("{} {} note", fit(heads[0], name_w), fit(heads[1], val_w)),
                w,
            ),
            t.header,
        )],
    );
    if rows.is_empty() {
        lines(
            f,
            area,
            vec![Span::styled("none: press a to add", t.muted).into()],
        );
        return;
    }
    let off = c.offset_for(area.height as usize);
    let out = rows
        .iter()
        .enumerate()
        .skip(off)
        .take(area.height as usize)
        .map(|(i, (name, vals, note))| {
            let spans = vec![
                Span::styled(format!("{} ", fit(name, name_w)), t.text),
                Span::styled(
                    format!("{} ", fit(if vals.is_empty() { "-" } else { vals }, val_w)),
                    t.text,
                ),
                Span::styled(cut(note, note_w), t.muted),
            ];
            row_line(
                spans,
                i == c.sel && app.focus == pane,
                t.selected,
                area.width,
            )
        })
        .collect();
    lines(f, area, out);
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn draw_zones(f: &mut Frame, app: &App, rect: Rect) {
    f.render_widget(
        pane_block(
            app,
            Pane::Zones,
            format!(" Zones ({}) ", app.topology.zones.len()),
        ),
        rect,
    );
    let rows = app
        .topology
        .zones
        .iter()
        .map(|z| (z.name.clone(), join(&z.cidrs), z.note.clone()))
        .collect();
    table(
        f,
        app,
        Pane::Zones,
        rect,
        ["zone", "networks"],
        rows,
        app.zones,
    );
}

pub fn draw_hosts(f: &mut Frame, app: &App, rect: Rect) {
    let title = format!(" External hosts ({}) ", app.topology.external_hosts.len());
    f.render_widget(pane_block(app, Pane::Hosts, title), rect);
    let rows = app
        .topology
        .external_hosts
        .iter()
        .map(|h| (h.name.clone(), join(&h.addresses), h.note.clone()))
        .collect();
    table(
        f,
        app,
        Pane::Hosts,
        rect,
        ["host", "pinned addresses"],
        rows,
        app.hosts,
    );
}
