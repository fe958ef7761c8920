//! The export preview: exactly what `fwtopo export` writes for the selected node and target. Lines
//! wider than the pane scroll sideways (←/→); `…` marks text cut off at either edge.

use super::{App, cut, lines, pane_block};
use crate::tui::app::{Pane, preview_line};
use crate::tui::layout;
use fwtopo::export::{self, Egress};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let Some(n) = app.selected_node() else {
        f.render_widget(pane_block(app, Pane::Preview, " Export "), rect);
        return;
    };
    let name = &app.topology.nodes[n].name;
    let target = app.preview.target.unwrap_or_else(|| app.preview_target(n));
    let total = app.preview.text.lines().count();
    let rows = layout::rows_area(app, Pane::Preview, rect);
    let h = app.preview_hscroll;
    let view_w = rows.width as usize;
    // Lines wider than the pane: which columns show, and the keys that move them.
    let cols = if app.preview.width > view_w {
        format!(
            "· ←→ cols {}-{}/{} ",
            h + 1,
            (h + view_w).min(app.preview.width),
            app.preview.width
        )
    } else {
        String::new()
    };
    f.render_widget(
        pane_block(
            app,
            Pane::Preview,
            format!(" Export {name} · {target} · {total} lines {cols}"),
        ),
        rect,
    );
    let inner = layout::inner(rect);
    let w = inner.width as usize;
    let choice = match app.target {
        None => format!("auto: {target}"),
        Some(t) => t.to_string(),
    };
    let egress = match app.egress {
        Egress::Open => "open",
        Egress::Strict => "strict",
    };
    let file = app
        .path
        .as_ref()
        .map_or("FILE".to_string(), |p| p.display().to_string());
    let mut first = vec![
        Span::styled("target ", t.muted),
        Span::styled(format!("◀ {choice} ▶"), t.tab_active),
    ];
    // Which console the text is for, next to the target so a narrow pane still shows it: the
    // netsh copy runs in both, the PowerShell one only there.
    if let Some(console) = export::console(target) {
        first.push(Span::styled(" for ", t.muted));
        first.push(Span::styled(console, t.text));
    }
    first.push(Span::styled("   outbound ", t.muted));
    first.push(Span::styled(egress, t.text));
    let bar = vec![
        Line::from(first),
        Line::styled(
            cut(
                &format!(
                    "= fwtopo export {file} --node {name} --target {target}{}",
                    if app.egress == Egress::Strict {
                        " --egress strict"
                    } else {
                        ""
                    }
                ),
                w,
            ),
            t.muted,
        ),
    ];
    lines(
        f,
        Rect {
            height: 2.min(inner.height),
            ..inner
        },
        bar,
    );
    if app.preview.text.is_empty() {
        lines(
            f,
            rows,
            vec![
                Span::styled(
                    format!("(the {target} exporter wrote nothing for {name})"),
                    t.muted,
                )
                .into(),
            ],
        );
        return;
    }
    let out = app
        .preview
        .text
        .lines()
        .skip(app.preview_scroll)
        .take(rows.height as usize)
        .map(|l| Line::styled(columns(&preview_line(l), h, view_w), t.text))
        .collect();
    lines(f, rows, out);
}

/// Columns `from..from + w` of a line, with `…` where text goes on past either edge.
fn columns(line: &str, from: usize, w: usize) -> String {
    let shown: String = line.chars().skip(from).collect();
    let mut out = cut(&shown, w);
    if from > 0 && !out.is_empty() {
        out = std::iter::once('…').chain(out.chars().skip(1)).collect();
    }
    out
}
