//! Mouse clicks and the wheel, and keeping scroll offsets within their panes.

use super::*;

pub(in crate::tui) fn contains(r: ratatui::layout::Rect, col: u16, row: u16) -> bool {
    col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height
}

pub(in crate::tui) fn click(app: &mut App, col: u16, row: u16) {
    let area = layout::frame(app);
    match &mut app.modal {
        Some(Modal::Picker(p)) => {
            let list = layout::picker_parts(area).list;
            if contains(list, col, row) {
                let i = p.cursor.offset_for(list.height as usize) + (row - list.y) as usize;
                if i < p.matches.len() {
                    p.cursor.sel = i;
                }
            }
            return;
        }
        Some(Modal::Os(c)) => {
            let list = layout::os_area(area);
            if contains(list, col, row) {
                c.sel = ((row - list.y) as usize).min(Os::ALL.len() - 1);
            }
            return;
        }
        Some(_) => return,
        None => {}
    }
    let a = layout::areas(app.screen, area);
    if contains(a.tabs, col, row) {
        if let Some((s, _, _)) = layout::tab_spans(a.tabs)
            .into_iter()
            .find(|(_, _, r)| contains(*r, col, row))
        {
            show(app, s);
        }
        return;
    }
    let Some((pane, rect)) = a
        .panes
        .iter()
        .find(|(_, r)| contains(*r, col, row))
        .copied()
    else {
        return;
    };
    app.focus = pane;
    let rows = layout::rows_area(app, pane, rect);
    if !contains(rows, col, row) {
        return;
    }
    let line = (row - rows.y) as usize;
    match pane {
        Pane::Overview => {
            let g = layout::grid_parts(app, rect);
            let r = app.grid.row.offset_for(rows.height as usize) + line;
            if r < app.pane_len(Pane::Overview) {
                app.grid.row.sel = r;
            }
            if col >= rows.x + g.label_width {
                let c = app.grid.col.offset_for(g.visible_cols())
                    + ((col - rows.x - g.label_width) / g.cell_width) as usize;
                if c < app.topology.nodes.len() {
                    app.grid.col.sel = c;
                }
            }
        }
        Pane::Preview => {}
        _ => {
            let c = cursor_of(app, pane);
            let target = c.offset_for(rows.height as usize) + line;
            if target < app.pane_len(pane) {
                let delta = target as isize - c.sel as isize;
                move_by(app, pane, delta);
            }
        }
    }
}

pub(in crate::tui) fn cursor_of(app: &App, pane: Pane) -> Cursor {
    match pane {
        Pane::Nodes => app.nodes,
        Pane::Roles => app.roles,
        Pane::Rules => app.rules,
        Pane::Findings => app.finding_cursor,
        Pane::Zones => app.zones,
        Pane::Hosts => app.hosts,
        Pane::Custom => app.custom,
        Pane::Overview => app.grid.row,
        Pane::Changes => app.changes_cursor,
        Pane::Preview => Cursor {
            sel: app.preview_scroll,
            offset: app.preview_scroll,
        },
    }
}

pub(in crate::tui) fn scroll(app: &mut App, col: u16, row: u16, delta: isize) {
    let area = layout::frame(app);
    match &mut app.modal {
        Some(Modal::Picker(p)) => {
            let len = p.matches.len();
            p.cursor.step(delta, len);
            return;
        }
        Some(Modal::Help { scroll }) => {
            *scroll = scroll.saturating_add_signed(delta);
            return;
        }
        Some(Modal::Messages { scroll }) => {
            *scroll = scroll.saturating_add_signed(-delta);
            return;
        }
        Some(Modal::Detail { scroll, .. }) => {
            *scroll = scroll.saturating_add_signed(delta);
            return;
        }
        Some(_) => return,
        None => {}
    }
    let a = layout::areas(app.screen, area);
    if let Some((pane, _)) = a
        .panes
        .iter()
        .find(|(_, r)| contains(*r, col, row))
        .copied()
    {
        move_by(app, pane, delta);
    }
}

/// Keeps every list's stored offset such that its selection is visible in the current layout.
pub(in crate::tui) fn fix_scroll(app: &mut App) {
    let a = layout::areas(app.screen, layout::frame(app));
    for (pane, rect) in a.panes.clone() {
        let h = layout::rows_area(app, pane, rect).height as usize;
        match pane {
            Pane::Nodes => app.nodes.offset = app.nodes.offset_for(h),
            Pane::Roles => app.roles.offset = app.roles.offset_for(h),
            Pane::Rules => app.rules.offset = app.rules.offset_for(h),
            Pane::Findings => app.finding_cursor.offset = app.finding_cursor.offset_for(h),
            Pane::Zones => app.zones.offset = app.zones.offset_for(h),
            Pane::Hosts => app.hosts.offset = app.hosts.offset_for(h),
            Pane::Custom => app.custom.offset = app.custom.offset_for(h),
            Pane::Changes => app.changes_cursor.offset = app.changes_cursor.offset_for(h),
            Pane::Overview => {
                app.grid.row.offset = app.grid.row.offset_for(h);
                let cols = layout::grid_parts(app, rect).visible_cols();
                app.grid.col.offset = app.grid.col.offset_for(cols);
                let (r0, c0) = (app.grid.row.offset, app.grid.col.offset);
                let (nr, nc) = (app.overview_rows(), app.topology.nodes.len());
                app.refresh_overview(r0..(r0 + h).min(nr), c0..(c0 + cols).min(nc));
            }
            Pane::Preview => {
                let len = app.pane_len(Pane::Preview);
                app.preview_scroll = app.preview_scroll.min(len.saturating_sub(h));
                let w = layout::rows_area(app, pane, rect).width as usize;
                app.preview_hscroll = app.preview_hscroll.min(app.preview.width.saturating_sub(w));
            }
        }
    }
    let h = layout::picker_parts(layout::frame(app)).list.height as usize;
    if let Some(Modal::Picker(p)) = &mut app.modal {
        p.cursor.offset = p.cursor.offset_for(h);
    }
}
