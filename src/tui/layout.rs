//! Where everything goes on screen, as pure functions of the terminal size and the state. Views draw
//! into these rectangles and `update` uses the same ones for mouse hits and scrolling, so a click
//! lands on the row that was drawn there.

use super::app::{App, Pane, Screen};
use ratatui::layout::{Constraint, Layout, Rect};

/// The smallest terminal the designer draws into; below it a notice asks for more room.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// The frame: tab bar, body panes, status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Areas {
    pub tabs: Rect,
    pub status: Rect,
    pub panes: Vec<(Pane, Rect)>,
}

impl Areas {
    pub fn pane(&self, pane: Pane) -> Option<Rect> {
        self.panes.iter().find(|(p, _)| *p == pane).map(|(_, r)| *r)
    }
}

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

pub fn frame(app: &App) -> Rect {
    Rect::new(0, 0, app.width, app.height)
}

/// Width of the node list beside the main pane.
fn side_width(body: Rect) -> u16 {
    (body.width / 4).clamp(24, 32)
}

pub fn areas(screen: Screen, area: Rect) -> Areas {
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let panes = match screen {
        Screen::Design => {
            let [left, right] =
                Layout::horizontal([Constraint::Length(side_width(body)), Constraint::Min(10)])
                    .areas(body);
            let roles_h = if body.height >= 30 { 12 } else { 8 };
            let [roles, rules] =
                Layout::vertical([Constraint::Length(roles_h), Constraint::Min(4)]).areas(right);
            vec![
                (Pane::Nodes, left),
                (Pane::Roles, roles),
                (Pane::Rules, rules),
            ]
        }
        Screen::Findings => vec![(Pane::Findings, body)],
        Screen::Zones => {
            let [top, bottom] =
                Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(body);
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(top);
            vec![(Pane::Zones, l), (Pane::Hosts, r), (Pane::Custom, bottom)]
        }
        Screen::Overview => vec![(Pane::Overview, body)],
        Screen::Changes => vec![(Pane::Changes, body)],
        Screen::Export => {
            let [left, right] =
                Layout::horizontal([Constraint::Length(side_width(body)), Constraint::Min(10)])
                    .areas(body);
            vec![(Pane::Nodes, left), (Pane::Preview, right)]
        }
    };
    Areas {
        tabs,
        status,
        panes,
    }
}

/// Inside a bordered block.
pub fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// Drops `top` rows from the top and `bottom` from the bottom.
fn trim(r: Rect, top: u16, bottom: u16) -> Rect {
    let top = top.min(r.height);
    let bottom = bottom.min(r.height - top);
    Rect::new(r.x, r.y + top, r.width, r.height - top - bottom)
}

/// The rules pane: table (with its header row), the selected rule's details, the node's findings.
pub struct RulesParts {
    pub table: Rect,
    pub detail: Rect,
    pub findings: Rect,
}

/// `findings` and `rules` are the node's counts: the table takes what its rules need, the details of
/// the selected rule (wrapped in full, with the findings it causes) take what is left.
pub fn rules_parts(rect: Rect, findings: usize, rules: usize) -> RulesParts {
    let i = inner(rect);
    let max_f = if i.height > 14 { 4 } else { 2 };
    let f = (findings.min(max_f) as u16).min(i.height.saturating_sub(4));
    let remaining = i.height - f;
    let want = (rules as u16).saturating_add(1).max(2);
    let detail = remaining
        .saturating_sub(want)
        .max(2.min(remaining.saturating_sub(2)));
    let table = remaining - detail;
    RulesParts {
        table: Rect { height: table, ..i },
        detail: Rect {
            y: i.y + table,
            height: detail,
            ..i
        },
        findings: Rect {
            y: i.y + table + detail,
            height: f,
            ..i
        },
    }
}

/// Word-wraps text into lines of at most `w` characters: words move whole to the next line, words
/// longer than a line are split, newlines break. Every wrapped text is drawn from these lines, so a
/// height computed from them is the height drawn.
pub fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut len = 0usize;
        for word in para.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            if len > 0 && len + 1 + word.len() > w {
                out.push(std::mem::take(&mut line));
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            while len + word.len() > w {
                let rest = word.split_off(w - len);
                line.extend(word);
                out.push(std::mem::take(&mut line));
                len = 0;
                word = rest;
            }
            len += word.len();
            line.extend(word);
        }
        out.push(line);
    }
    out
}

/// The findings screen: the list (with its header row) and the selected finding in full below.
pub struct FindingsParts {
    pub list: Rect,
    pub detail: Rect,
}

/// The detail takes what the selected finding's wrapped message needs (plus its title line), at
/// most half the pane, so the list keeps most of the room.
pub fn findings_parts(app: &App, rect: Rect) -> FindingsParts {
    let i = inner(rect);
    let want = app.findings.get(app.finding_cursor.sel).map_or(0, |r| {
        wrap(&app.finding_message(r), i.width as usize).len() + 1
    });
    let max = i.height.saturating_sub(3) / 2;
    let detail = (want.max(2) as u16).min(max);
    let detail = if app.findings.is_empty() { 0 } else { detail };
    FindingsParts {
        list: Rect {
            height: i.height - detail,
            ..i
        },
        detail: Rect {
            y: i.y + i.height - detail,
            height: detail,
            ..i
        },
    }
}

/// Lines of node facts above the role rows.
pub fn roles_info_lines(app: &App, rect: Rect) -> u16 {
    let note = app
        .selected_node()
        .is_some_and(|n| !app.topology.nodes[n].note.is_empty());
    if note && inner(rect).height >= 7 {
        3
    } else {
        2
    }
}

/// The overview: column widths and the matrix area (below the header row, above the detail lines).
pub struct GridParts {
    pub label_width: u16,
    pub cell_width: u16,
    pub header: Rect,
    pub rows: Rect,
    pub detail: Rect,
}

pub fn grid_parts(app: &App, rect: Rect) -> GridParts {
    let i = inner(rect);
    let t = &app.topology;
    // Row labels: node names, `zone NAME`, `host NAME`.
    let longest = t
        .nodes
        .iter()
        .map(|n| n.name.chars().count())
        .chain(t.zones.iter().map(|z| z.name.chars().count() + 5))
        .chain(t.external_hosts.iter().map(|h| h.name.chars().count() + 5))
        .max()
        .unwrap_or(3)
        .max(5);
    let label_width = (longest as u16 + 1).min(18).min(i.width / 3);
    let [header, rows, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(3),
    ])
    .areas(i);
    GridParts {
        label_width,
        cell_width: 10,
        header,
        rows,
        detail,
    }
}

impl GridParts {
    pub fn visible_cols(&self) -> usize {
        (self.rows.width.saturating_sub(self.label_width) / self.cell_width).max(1) as usize
    }
}

/// Where a pane's selectable rows are drawn: row `i` of the list is at `y + i - offset`.
pub fn rows_area(app: &App, pane: Pane, rect: Rect) -> Rect {
    match pane {
        Pane::Nodes => inner(rect),
        Pane::Roles => trim(inner(rect), roles_info_lines(app, rect), 0),
        Pane::Rules => {
            let n = app.selected_node().map_or(0, |n| {
                app.findings.iter().filter(|f| f.node == Some(n)).count()
            });
            trim(rules_parts(rect, n, app.pane_len(Pane::Rules)).table, 1, 0)
        }
        Pane::Findings => trim(findings_parts(app, rect).list, 1, 0),
        Pane::Zones | Pane::Hosts | Pane::Custom => trim(inner(rect), 1, 0),
        Pane::Overview => grid_parts(app, rect).rows,
        Pane::Preview => trim(inner(rect), 2, 0),
        Pane::Changes => inner(rect),
    }
}

/// The tab labels and where each sits on the tab bar.
pub fn tab_spans(tabs: Rect) -> Vec<(Screen, String, Rect)> {
    let mut x = tabs.x;
    let mut out = Vec::new();
    for (i, s) in Screen::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, s.title());
        let w = label.chars().count() as u16;
        if x + w > tabs.x + tabs.width {
            break;
        }
        out.push((*s, label, Rect::new(x, tabs.y, w, 1)));
        x += w;
    }
    out
}

/// A centred rectangle of at most `w` × `h`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The catalog picker: search line, role list, and the highlighted role's details.
pub struct PickerParts {
    pub outer: Rect,
    pub search: Rect,
    pub list: Rect,
    pub detail: Rect,
}

pub fn picker_parts(area: Rect) -> PickerParts {
    let outer = centered(
        area,
        area.width.saturating_sub(4).max(40),
        area.height.saturating_sub(2).max(10),
    );
    let i = inner(outer);
    let [search, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(i);
    let [list, detail] = if i.width >= 90 {
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(rest)
    } else {
        let [l, d] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(rest);
        [l, d]
    };
    PickerParts {
        outer,
        search: Rect {
            height: 1,
            ..search
        },
        list,
        detail,
    }
}

/// The OS chooser's list.
pub fn os_area(area: Rect) -> Rect {
    let h = (fwtopo::topology::Os::ALL.len() as u16 + 2).min(area.height);
    inner(centered(area, 34, h))
}

/// How many rows a page is in the focused list (for PageUp/PageDown).
pub fn page(app: &App, pane: Pane) -> usize {
    let a = areas(app.screen, frame(app));
    a.pane(pane)
        .map_or(10, |r| rows_area(app, pane, r).height.max(1) as usize)
}

/// The help overlay's box.
pub fn help_area(area: Rect) -> Rect {
    centered(area, 76, area.height.saturating_sub(2))
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_words_whole_and_splits_only_long_ones() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10), ["a", "b"]);
        assert_eq!(wrap("", 10), [""]);
        for l in wrap(
            "'203.0.113.300' is not an IPv4 or IPv6 address; nor is this",
            12,
        ) {
            assert!(l.chars().count() <= 12, "{l}");
        }
    }
}
