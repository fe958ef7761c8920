//! The topology's own roles and flows, in the one-line form the prompt reads.

use super::{App, cut, fit, lines, pane_block, row_line};
use crate::tui::app::{EndpointsState, Pane};
use crate::tui::custom_role::{CustomRow, flow_text, row};
use crate::tui::layout;
use crate::tui::ownership::expiry_note;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let c = &app.topology.custom;
    let title = format!(
        " Custom roles ({}) and flows ({}) ",
        c.roles.len(),
        c.flows.len()
    );
    f.render_widget(pane_block(app, Pane::Custom, title), rect);
    let inner = layout::inner(rect);
    let area = layout::rows_area(app, Pane::Custom, rect);
    let w = inner.width as usize;
    let id_w = c
        .roles
        .iter()
        .map(|r| r.id.chars().count())
        .chain(c.flows.iter().map(|f| f.id.chars().count()))
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    lines(
        f,
        Rect { height: 1, ..inner },
        vec![Line::styled(
            cut(
                &format!("kind {} what (roles are site/<id>)", fit("id", id_w)),
                w,
            ),
            t.header,
        )],
    );
    let len = app.pane_len(Pane::Custom);
    if len == 0 {
        lines(
            f,
            area,
            vec![Span::styled("none: a adds a role, f a flow", t.muted).into()],
        );
        return;
    }
    let sel = app.custom;
    let off = sel.offset_for(area.height as usize);
    let out = (off..len)
        .take(area.height as usize)
        .filter_map(|i| {
            let (kind, id, what, expires) = match row(&app.topology, i)? {
                CustomRow::Role(r) => (
                    "role",
                    &c.roles[r].id,
                    c.roles[r].name.clone(),
                    c.roles[r].expires,
                ),
                CustomRow::Flow(x) => {
                    let text = flow_text(&c.flows[x]);
                    // The id is its own column.
                    let rest = text
                        .strip_prefix(c.flows[x].id.as_str())
                        .unwrap_or(&text)
                        .trim_start()
                        .to_string();
                    ("flow", &c.flows[x].id, rest, c.flows[x].expires)
                }
            };
            // Its expiry first, where the row is not cut: past it, in the colour of its finding.
            let until = expires.map(|d| {
                let days_past = app.today.map(|t| d.days_until(t));
                let style = match days_past {
                    Some(p) if p >= i64::from(app.topology.expiry_grace_days) => t.error,
                    Some(p) if p >= 0 => t.warning,
                    _ => t.muted,
                };
                (format!("[{}] ", expiry_note(d, app.today)), style)
            });
            let used = id_w + 6 + until.as_ref().map_or(0, |(s, _)| s.chars().count());
            let mut spans = vec![
                Span::styled(format!("{kind} "), t.muted),
                Span::styled(format!("{} ", fit(id, id_w)), t.text),
            ];
            if let Some((s, style)) = until {
                spans.push(Span::styled(s, style));
            }
            spans.push(Span::styled(cut(&what, w.saturating_sub(used)), t.text));
            Some(row_line(
                spans,
                i == sel.sel && app.focus == Pane::Custom,
                t.selected,
                area.width,
            ))
        })
        .collect();
    lines(f, area, out);
}

/// The endpoint picker of a custom flow's prompt.
pub fn draw_endpoints(f: &mut Frame, app: &App, area: Rect, e: &EndpointsState) {
    let t = app.theme();
    let outer = layout::centered(
        area,
        area.width.saturating_sub(8).clamp(20, 90),
        area.height.saturating_sub(4).max(6),
    );
    f.render_widget(Clear, outer);
    f.render_widget(
        super::modal_block(app, " Choose an endpoint (enter puts it in the flow) "),
        outer,
    );
    let list = layout::inner(outer);
    let w = list.width as usize;
    let tok_w = e
        .choices
        .iter()
        .map(|(tok, _)| tok.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let off = e.cursor.offset_for(list.height as usize);
    let out = e
        .choices
        .iter()
        .enumerate()
        .skip(off)
        .take(list.height as usize)
        .map(|(i, (tok, what))| {
            row_line(
                vec![
                    Span::styled(format!("{} ", fit(tok, tok_w)), t.text),
                    Span::styled(cut(what, w.saturating_sub(tok_w + 1)), t.muted),
                ],
                i == e.cursor.sel,
                t.selected,
                list.width,
            )
        })
        .collect();
    lines(f, list, out);
}
