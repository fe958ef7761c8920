//! The selected node: its OS, addresses and management access, then its roles, each followed by its
//! parameters with their values (or the catalog default).

use super::{App, cut, lines, pane_block, row_line};
use crate::tui::app::{Pane, RoleRow};
use crate::tui::layout;
use fwtopo::catalog::Parameter;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// How a parameter's default reads.
pub fn param_default(p: &Parameter) -> String {
    p.kind.describe()
}

pub fn draw(f: &mut Frame, app: &App, rect: Rect) {
    let t = app.theme();
    let Some(n) = app.selected_node() else {
        f.render_widget(pane_block(app, Pane::Roles, " Roles "), rect);
        return;
    };
    let node = &app.topology.nodes[n];
    f.render_widget(
        pane_block(
            app,
            Pane::Roles,
            format!(" {} · roles ({}) ", node.name, node.roles.len()),
        ),
        rect,
    );
    let inner = layout::inner(rect);
    let w = inner.width as usize;
    let info_h = layout::roles_info_lines(app, rect);
    let firewall = match node.firewall {
        Some(fw) => fw.to_string(),
        None => format!("{} (auto)", app.node_target(n)),
    };
    let mut info = vec![Line::from(vec![
        Span::styled("os ", t.muted),
        Span::styled(node.os.as_str(), t.text),
        Span::styled("  management ", t.muted),
        Span::styled(
            if node.management { "on" } else { "off" },
            if node.management { t.text } else { t.warning },
        ),
        Span::styled("  firewall ", t.muted),
        Span::styled(firewall, t.text),
    ])];
    info.push(if node.addresses.is_empty() {
        Line::from(vec![
            Span::styled("addr ", t.muted),
            Span::styled("none: press i in the node list", t.warning),
        ])
    } else {
        let a: Vec<String> = node.addresses.iter().map(|a| a.to_string()).collect();
        Line::from(vec![
            Span::styled("addr ", t.muted),
            Span::styled(cut(&a.join(", "), w.saturating_sub(5)), t.text),
        ])
    });
    if info_h > 2 {
        info.push(Line::from(vec![
            Span::styled("note ", t.muted),
            Span::styled(cut(&node.note, w.saturating_sub(5)), t.muted),
        ]));
    }
    lines(
        f,
        Rect {
            height: info_h.min(inner.height),
            ..inner
        },
        info,
    );

    let rows = layout::rows_area(app, Pane::Roles, rect);
    let all = app.role_rows();
    if all.is_empty() {
        lines(
            f,
            rows,
            vec![
                Span::styled(
                    if app.focus == Pane::Roles {
                        "no roles: press a to assign one from the catalog"
                    } else {
                        // On the nodes pane `a` adds a node.
                        "no roles: tab here, then a assigns one from the catalog"
                    },
                    t.muted,
                )
                .into(),
            ],
        );
        return;
    }
    let off = app.roles.offset_for(rows.height as usize);
    let out = all
        .iter()
        .enumerate()
        .skip(off)
        .take(rows.height as usize)
        .map(|(i, row)| {
            let spans = match row {
                RoleRow::Role(r) => {
                    let ra = &node.roles[*r];
                    let name = app
                        .catalog
                        .role(&ra.product, &ra.role)
                        .map(|x| x.name.as_str())
                        .unwrap_or("(not in the catalog)");
                    let id = format!("{}/{}", ra.product, ra.role);
                    let rest = w.saturating_sub(id.chars().count() + 2);
                    vec![
                        Span::styled(id, t.header),
                        Span::styled(format!("  {}", cut(name, rest)), t.text),
                    ]
                }
                RoleRow::Param(r, pid) => {
                    let ra = &node.roles[*r];
                    let spec = app
                        .catalog
                        .role(&ra.product, &ra.role)
                        .and_then(|x| x.parameters.iter().find(|p| &p.id == pid));
                    let value = ra.params.get(pid);
                    let shown = value.cloned().unwrap_or_else(|| "default".into());
                    let hint = spec.map(param_default).unwrap_or_default();
                    let head = format!("    {pid} = ");
                    let rest = w.saturating_sub(head.chars().count() + shown.chars().count() + 2);
                    vec![
                        Span::styled(head, t.muted),
                        Span::styled(shown, if value.is_some() { t.text } else { t.muted }),
                        Span::styled(format!("  {}", cut(&hint, rest)), t.muted),
                    ]
                }
            };
            row_line(
                spans,
                i == app.roles.sel && app.focus == Pane::Roles,
                t.selected,
                rows.width,
            )
        })
        .collect();
    lines(f, rows, out);
}
