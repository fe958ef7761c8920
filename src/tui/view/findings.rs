//! Findings of the whole topology (and catalog-check problems), worst first; Enter jumps to the node.
//! Below the list, the selected finding's message in full, wrapped.

use super::{App, cut, fit, lines, pane_block, row_line};
use crate::tui::app::Pane;
use crate::tui::layout;
use crate::tui::theme::severity_symbol;
use fwtopo::engine::Severity;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let count = |s| app.findings.iter().filter(|x| x.severity == s).count();
    let title = format!(
        " Findings: {} {} errors, {} {} warnings, {} {} notes ",
        severity_symbol(Severity::Error),
        count(Severity::Error),
        severity_symbol(Severity::Warning),
        count(Severity::Warning),
        severity_symbol(Severity::Info),
        count(Severity::Info)
    );
    f.render_widget(pane_block(app, Pane::Findings, title), rect);
    let inner = layout::inner(rect);
    let rows = layout::rows_area(app, Pane::Findings, rect);
    let w = inner.width as usize;
    let node_w = app
        .topology
        .nodes
        .iter()
        .map(|x| x.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 18);
    let msg_w = w.saturating_sub(10 + 6 + node_w + 3);
    let head = format!(
        "{} {} {} {}",
        fit("severity", 9),
        fit("code", 5),
        fit("node", node_w),
        "message"
    );
    lines(
        f,
        Rect { height: 1, ..inner },
        vec![Line::styled(cut(&head, w), t.header)],
    );
    if app.findings.is_empty() {
        lines(f, rows, vec![Span::styled("no findings", t.ok).into()]);
        return;
    }
    let off = app.finding_cursor.offset_for(rows.height as usize);
    let out = app
        .findings
        .iter()
        .enumerate()
        .skip(off)
        .take(rows.height as usize)
        .map(|(i, x)| {
            let spans = vec![
                Span::styled(
                    format!(
                        "{} {} ",
                        severity_symbol(x.severity),
                        fit(x.severity.as_str(), 7)
                    ),
                    t.severity(x.severity),
                ),
                Span::styled(format!("{} ", fit(app.finding_code(x), 5)), t.text),
                Span::styled(
                    format!(
                        "{} ",
                        fit(
                            Some(app.finding_node_name(x))
                                .filter(|n| !n.is_empty())
                                .unwrap_or("-"),
                            node_w
                        )
                    ),
                    t.text,
                ),
                Span::styled(cut(&app.finding_message(x), msg_w), t.muted),
            ];
            row_line(spans, i == app.finding_cursor.sel, t.selected, rows.width)
        })
        .collect();
    lines(f, rows, out);
    detail(f, app, layout::findings_parts(app, rect).detail);
}

/// The selected finding: a title line, then the whole message wrapped to the pane.
fn detail(f: &mut Frame, app: &App, area: Rect) {
    let t = app.theme();
    let Some(x) = app.findings.get(app.finding_cursor.sel) else {
        return;
    };
    if area.height == 0 {
        return;
    }
    let w = area.width as usize;
    let node = Some(app.finding_node_name(x))
        .filter(|n| !n.is_empty())
        .map_or("the whole topology".to_string(), |n| format!("node {n}"));
    let title = format!(
        "─ {} {} {} · {node} ",
        severity_symbol(x.severity),
        x.severity.as_str(),
        app.finding_code(x),
    );
    let rule = "─".repeat(w.saturating_sub(title.chars().count()));
    let mut out = vec![Line::styled(cut(&format!("{title}{rule}"), w), t.border)];
    let text = layout::wrap(&app.finding_message(x), w);
    let room = (area.height as usize).saturating_sub(1);
    let more = text.len() > room;
    out.extend(text.into_iter().take(room).map(|l| Line::styled(l, t.text)));
    if more && let Some(last) = out.last_mut() {
        // Taller than the room left: say so rather than end mid-sentence silently.
        let s: String = last.spans.iter().map(|s| s.content.as_ref()).collect();
        *last = Line::styled(cut(&format!("{s} …"), w), t.text);
    }
    lines(f, area, out);
}
