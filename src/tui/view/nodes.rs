//! The node list: a severity mark, the name, the OS; the first address when there is room.

use super::{App, cut, fit, lines, pane_block, row_line};
use crate::tui::app::Pane;
use crate::tui::layout;
use crate::tui::theme::severity_symbol;
use fwtopo::topology::Os;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// A short OS name that fits the list.
pub fn os_short(os: Os) -> &'static str {
    match os {
        Os::Almalinux => "alma",
        Os::Rocky => "rocky",
        Os::Cloudlinux => "cloud",
        Os::Centos => "centos",
        Os::Rhel => "rhel",
        Os::Ubuntu => "ubuntu",
        Os::Debian => "debian",
        Os::Virtuozzo => "vz",
        Os::WindowsServer2012r2 => "win12r2",
        Os::WindowsServer2016 => "win16",
        Os::WindowsServer2019 => "win19",
        Os::WindowsServer2022 => "win22",
        Os::WindowsServer2025 => "win25",
    }
}

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let n = app.topology.nodes.len();
    f.render_widget(pane_block(app, Pane::Nodes, format!(" Nodes ({n}) ")), rect);
    let rows = layout::rows_area(app, Pane::Nodes, rect);
    if n == 0 {
        lines(
            f,
            rows,
            vec![Span::styled("no nodes: press a", t.muted).into()],
        );
        return;
    }
    let w = rows.width as usize;
    let off = app.nodes.offset_for(rows.height as usize);
    let os_w = 7;
    let addr_w = if w >= 40 { 16 } else { 0 };
    let name_w = w.saturating_sub(2 + os_w + 1 + addr_w);
    let out = app
        .topology
        .nodes
        .iter()
        .enumerate()
        .skip(off)
        .take(rows.height as usize)
        .map(|(i, node)| {
            let mark = app.node_marks.get(i).copied().flatten();
            let mut spans = vec![
                match mark {
                    Some(s) => Span::styled(format!("{} ", severity_symbol(s)), t.severity(s)),
                    None => Span::raw("  "),
                },
                Span::styled(fit(&node.name, name_w), t.text),
                Span::styled(format!(" {:>7}", os_short(node.os)), t.muted),
            ];
            if addr_w > 0 {
                let a = node
                    .addresses
                    .first()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "-".into());
                spans.push(Span::styled(
                    format!(" {}", fit(&cut(&a, addr_w - 1), addr_w - 1)),
                    t.muted,
                ));
            }
            row_line(spans, i == app.nodes.sel, t.selected, rows.width)
        })
        .collect();
    lines(f, rows, out);
}
