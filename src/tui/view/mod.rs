//! Drawing: one file per pane, each a function of `&App` and a rectangle. Nothing here computes a
//! plan or changes state; rectangles come from [`super::layout`], shared with mouse handling.

mod bars;
mod changes;
mod custom;
mod detail;
pub use rules::rule_codes;
mod dialog;
mod export;
mod findings;
mod help;
mod messages;
mod nodes;
mod overview;
mod picker;
mod roles;
mod rules;
mod zones;

use super::app::{App, Modal, Pane};
use super::layout;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let t = app.theme();
    f.render_widget(Block::default().style(t.text), area);
    if layout::too_small(area) {
        let msg = format!(
            "fwtopo needs at least {}×{} (this is {}×{}). Until it is larger, keys do nothing but q (quit){}.",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            area.width,
            area.height,
            if matches!(app.modal, Some(Modal::Help { .. })) {
                " and esc (close the help)"
            } else if app.dirty() {
                "; the work is not saved, so q asks first once the terminal is larger"
            } else {
                ""
            }
        );
        f.render_widget(
            Paragraph::new(msg)
                .style(t.warning)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let a = layout::areas(app.screen, area);
    bars::tabs(f, app, a.tabs);
    for (pane, rect) in &a.panes {
        match pane {
            Pane::Nodes => nodes::draw(f, app, *rect),
            Pane::Roles => roles::draw(f, app, *rect),
            Pane::Rules => rules::draw(f, app, *rect),
            Pane::Findings => findings::draw(f, app, *rect),
            Pane::Zones => zones::draw_zones(f, app, *rect),
            Pane::Hosts => zones::draw_hosts(f, app, *rect),
            Pane::Custom => custom::draw(f, app, *rect),
            Pane::Overview => overview::draw(f, app, *rect),
            Pane::Preview => export::draw(f, app, *rect),
            Pane::Changes => changes::draw(f, app, *rect),
        }
    }
    bars::status(f, app, a.status);
    match &app.modal {
        None => {}
        Some(Modal::Help { scroll }) => help::draw(f, app, area, *scroll),
        Some(Modal::Messages { scroll }) => messages::draw(f, app, area, *scroll),
        Some(Modal::Detail { detail, scroll }) => detail::draw(f, app, area, detail, *scroll),
        Some(Modal::Picker(p)) => picker::draw(f, app, area, p),
        Some(Modal::Endpoints(e)) => custom::draw_endpoints(f, app, area, e),
        Some(Modal::Input(s)) => dialog::input(f, app, area, s),
        Some(Modal::Confirm(k)) => dialog::confirm(f, app, area, k),
        Some(Modal::Os(c)) => dialog::os(f, app, area, c),
    }
}

/// A pane's frame: highlighted when focused.
fn pane_block<'a>(app: &App, pane: Pane, title: impl Into<Line<'a>>) -> Block<'a> {
    let t = app.theme();
    let focused = app.focus == pane && app.modal.is_none();
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused { t.border_focus } else { t.border })
        .title(
            title
                .into()
                .style(if focused { t.border_focus } else { t.title }),
        )
        .style(t.text)
}

/// A dialog's frame.
fn modal_block<'a>(app: &App, title: impl Into<Line<'a>>) -> Block<'a> {
    let t = app.theme();
    Block::bordered()
        .border_type(BorderType::Double)
        .border_style(t.modal)
        .title(title.into().style(t.modal))
        .style(t.text)
}

/// At most `w` characters, with `…` when cut.
/// How far a row shown in full can scroll in the current frame.
pub fn detail_max_scroll(app: &App, d: &crate::tui::detail::Detail) -> usize {
    detail::max_scroll(app, layout::frame(app), d)
}

/// How far back the message log can scroll in the current frame.
pub fn messages_max_scroll(app: &App) -> usize {
    messages::max_scroll(app, layout::frame(app))
}

/// How far the help can scroll in the current frame.
pub fn help_max_scroll(app: &App) -> usize {
    help::max_scroll(app, layout::frame(app))
}

pub fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w - 1).collect();
    out.push('…');
    out
}

/// Exactly `w` characters: cut or padded.
pub fn fit(s: &str, w: usize) -> String {
    let c = cut(s, w);
    let n = c.chars().count();
    format!("{c}{}", " ".repeat(w.saturating_sub(n)))
}

/// A line that fills its row in the selection style when selected.
fn row_line<'a>(spans: Vec<Span<'a>>, selected: bool, sel: Style, width: u16) -> Line<'a> {
    if !selected {
        return Line::from(spans);
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let mut spans: Vec<Span> = spans.into_iter().map(|s| s.patch_style(sel)).collect();
    spans.push(Span::styled(
        " ".repeat((width as usize).saturating_sub(used)),
        sel,
    ));
    Line::from(spans)
}

/// Renders lines into a rectangle (used by every list, so long lists cost only their visible rows).
fn lines(f: &mut Frame, area: Rect, lines: Vec<Line>) {
    f.render_widget(Paragraph::new(lines), area);
}
