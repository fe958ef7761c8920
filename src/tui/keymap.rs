//! The one keymap: key strings to actions, per context. The `?` help overlay and the status bar's
//! hints are generated from this table, so they cannot drift from what the keys do.

use super::action::Action;
use super::app::{App, Modal, Pane, Screen};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a key is pressed: a pane, a dialog, or anywhere (`Global`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Global,
    Nodes,
    Roles,
    Rules,
    Findings,
    Zones,
    Hosts,
    Custom,
    Overview,
    Export,
    Changes,
    Picker,
    Endpoints,
    Os,
    Input,
    Confirm,
    Help,
}

impl Ctx {
    pub fn title(self) -> &'static str {
        match self {
            Ctx::Global => "Everywhere",
            Ctx::Nodes => "Nodes",
            Ctx::Roles => "Roles and parameters",
            Ctx::Rules => "Rules",
            Ctx::Findings => "Findings",
            Ctx::Zones => "Zones",
            Ctx::Hosts => "External hosts",
            Ctx::Custom => "Custom roles and flows",
            Ctx::Overview => "Overview",
            Ctx::Export => "Export preview",
            Ctx::Changes => "Changes since opened or saved",
            Ctx::Picker => "Catalog picker",
            Ctx::Endpoints => "Flow endpoints",
            Ctx::Os => "Operating system",
            Ctx::Input => "Text entry",
            Ctx::Confirm => "Questions",
            Ctx::Help => "Help",
        }
    }

    /// Dialogs take every key themselves; panes fall back to the global keys.
    pub fn falls_back(self) -> bool {
        !matches!(
            self,
            Ctx::Picker | Ctx::Endpoints | Ctx::Os | Ctx::Input | Ctx::Confirm | Ctx::Help
        )
    }

    /// Whether unbound printable keys are typed as text.
    pub fn takes_text(self) -> bool {
        matches!(self, Ctx::Picker | Ctx::Input)
    }
}

/// One line of the keymap.
pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static [&'static str],
    pub action: Action,
    pub help: &'static str,
    /// Shown in the status bar of this context.
    pub hint: bool,
    /// The status bar's label when `help` is too long for it (empty: `help`).
    pub short: &'static str,
    /// Which hints get the status bar's room first: 0 before 1 before 2.
    pub rank: u8,
}

/// A binding the status bar shows with its own label (empty: `help`) and rank (0 gets room first).
const fn h(
    ctx: Ctx,
    keys: &'static [&'static str],
    action: Action,
    help: &'static str,
    short: &'static str,
    rank: u8,
) -> Binding {
    Binding {
        ctx,
        keys,
        action,
        help,
        hint: true,
        short,
        rank,
    }
}

const fn b(
    ctx: Ctx,
    keys: &'static [&'static str],
    action: Action,
    help: &'static str,
    hint: bool,
) -> Binding {
    Binding {
        ctx,
        keys,
        action,
        help,
        hint,
        short: "",
        rank: 1,
    }
}

impl Binding {
    /// The label the status bar shows.
    pub fn hint_text(&self) -> &'static str {
        if self.short.is_empty() {
            self.help
        } else {
            self.short
        }
    }
}

use Action as A;
use Ctx as C;

pub const KEYMAP: &[Binding] = &[
    // Panes
    b(C::Nodes, &["a"], A::Add, "add a node", true),
    h(
        C::Nodes,
        &["i", "enter"],
        A::Edit,
        "edit its addresses",
        "addresses",
        1,
    ),
    h(C::Nodes, &["o"], A::ChooseOs, "choose its OS", "OS", 2),
    b(C::Nodes, &["r"], A::Rename, "rename", false),
    b(C::Nodes, &["c"], A::Duplicate, "duplicate", false),
    b(C::Nodes, &["d", "delete"], A::Delete, "delete", true),
    b(
        C::Nodes,
        &["m"],
        A::ToggleManagement,
        "management access (SSH/RDP) on or off",
        false,
    ),
    b(C::Nodes, &["n"], A::EditNote, "edit its note", false),
    b(
        C::Nodes,
        &["w"],
        A::EditOwnership,
        "who asked for it and until when (owner, ticket, expires, reason)",
        false,
    ),
    b(
        C::Nodes,
        &["f"],
        A::CycleFirewall,
        "its firewall: from the OS, or each one that runs on it in turn",
        false,
    ),
    b(C::Zones, &["n"], A::EditNote, "edit its note", false),
    b(C::Hosts, &["n"], A::EditNote, "edit its note", false),
    h(
        C::Roles,
        &["a"],
        A::Add,
        "assign a role from the catalog",
        "assign a role",
        1,
    ),
    h(
        C::Roles,
        &["enter", "e"],
        A::Edit,
        "edit the parameter",
        "edit",
        1,
    ),
    h(
        C::Roles,
        &["d", "delete"],
        A::Delete,
        "remove the role",
        "remove",
        1,
    ),
    b(
        C::Roles,
        &["m"],
        A::ToggleManagement,
        "management access on or off",
        false,
    ),
    b(C::Roles, &["o"], A::ChooseOs, "choose the node's OS", false),
    b(
        C::Roles,
        &["space"],
        A::ToggleSwitch,
        "turn the on/off parameter on or off",
        false,
    ),
    h(
        C::Rules,
        &["a"],
        A::Add,
        "assign a role from the catalog",
        "assign a role",
        1,
    ),
    h(
        C::Rules,
        &["enter"],
        A::Detail,
        "the rule in full: every flow, note and source",
        "in full",
        1,
    ),
    b(C::Findings, &["enter"], A::Activate, "go to the node", true),
    b(C::Zones, &["a"], A::Add, "add a zone", true),
    h(
        C::Zones,
        &["e", "enter"],
        A::Edit,
        "edit its networks",
        "networks",
        1,
    ),
    b(C::Zones, &["r"], A::Rename, "rename", false),
    b(C::Zones, &["d", "delete"], A::Delete, "delete", true),
    b(C::Hosts, &["a"], A::Add, "add an external host", true),
    h(
        C::Hosts,
        &["e", "enter"],
        A::Edit,
        "edit its pinned addresses",
        "addresses",
        1,
    ),
    b(C::Hosts, &["r"], A::Rename, "rename", false),
    b(C::Hosts, &["d", "delete"], A::Delete, "delete", true),
    b(C::Custom, &["a"], A::Add, "add a custom role", true),
    b(C::Custom, &["f"], A::AddFlow, "add a custom flow", true),
    b(
        C::Custom,
        &["r"],
        A::Rename,
        "new id for the role (its flows and nodes follow)",
        false,
    ),
    b(
        C::Custom,
        &["n"],
        A::EditNote,
        "the role's description or the flow's note",
        false,
    ),
    b(
        C::Custom,
        &["w"],
        A::EditOwnership,
        "who asked for the role or flow and until when",
        false,
    ),
    h(
        C::Custom,
        &["e", "enter"],
        A::Edit,
        "edit the role's name or the flow",
        "edit",
        1,
    ),
    b(
        C::Custom,
        &["d", "delete"],
        A::Delete,
        "delete (a role no flow or node uses)",
        true,
    ),
    b(
        C::Overview,
        &["enter"],
        A::Activate,
        "go to the destination node",
        true,
    ),
    h(
        C::Overview,
        &["w"],
        A::Query,
        "why or why not: can the row reach the column on a port (the rules on both ends)",
        "why",
        0,
    ),
    b(
        C::Changes,
        &["enter"],
        A::Activate,
        "go to the node (and the rule)",
        true,
    ),
    b(C::Export, &["]"], A::NextTarget, "next target", true),
    b(C::Export, &["["], A::PrevTarget, "previous target", false),
    h(
        C::Export,
        &["e"],
        A::ToggleEgress,
        "outbound policy open/strict",
        "outbound",
        1,
    ),
    h(
        C::Export,
        &["y"],
        A::Copy,
        "copy the preview as shown",
        "copy",
        0,
    ),
    h(
        C::Export,
        &["right", "l"],
        A::ScrollRight,
        "scroll the preview right",
        "scroll",
        1,
    ),
    b(
        C::Export,
        &["left", "h"],
        A::ScrollLeft,
        "scroll the preview left",
        false,
    ),
    // Everywhere (panes)
    b(C::Global, &["j", "down"], A::Down, "down", false),
    b(C::Global, &["k", "up"], A::Up, "up", false),
    b(
        C::Global,
        &["h", "left"],
        A::Left,
        "left pane / column",
        false,
    ),
    b(
        C::Global,
        &["l", "right"],
        A::Right,
        "right pane / column",
        false,
    ),
    b(
        C::Global,
        &["pagedown", "ctrl-d"],
        A::PageDown,
        "page down",
        false,
    ),
    b(
        C::Global,
        &["pageup", "ctrl-u"],
        A::PageUp,
        "page up",
        false,
    ),
    b(C::Global, &["g", "home"], A::Top, "first", false),
    b(C::Global, &["G", "end"], A::Bottom, "last", false),
    h(C::Global, &["tab"], A::FocusNext, "next pane", "", 2),
    b(
        C::Global,
        &["backtab"],
        A::FocusPrev,
        "previous pane",
        false,
    ),
    b(
        C::Global,
        &["1"],
        A::Show(Screen::Design),
        "design screen",
        false,
    ),
    b(
        C::Global,
        &["2"],
        A::Show(Screen::Findings),
        "findings screen",
        false,
    ),
    b(
        C::Global,
        &["3"],
        A::Show(Screen::Zones),
        "zones and external hosts",
        false,
    ),
    b(
        C::Global,
        &["4"],
        A::Show(Screen::Overview),
        "overview (flow matrix)",
        false,
    ),
    b(
        C::Global,
        &["5"],
        A::Show(Screen::Export),
        "export preview",
        false,
    ),
    b(
        C::Global,
        &["6", "D"],
        A::Show(Screen::Changes),
        "changes since the file was opened or saved",
        false,
    ),
    h(
        C::Global,
        &["y"],
        A::Copy,
        "copy the node's commands (netsh: any console)",
        "copy",
        0,
    ),
    b(
        C::Global,
        &["Y"],
        A::CopyPowershell,
        "copy PowerShell commands (PowerShell only)",
        false,
    ),
    h(C::Global, &["u", "ctrl-z"], A::Undo, "undo", "", 0),
    b(
        C::Global,
        &["U", "ctrl-r", "ctrl-y"],
        A::Redo,
        "redo",
        false,
    ),
    h(C::Global, &["s", "ctrl-s"], A::Save, "save", "", 0),
    b(C::Global, &["S"], A::SaveAs, "save as", false),
    b(C::Global, &["O", "ctrl-o"], A::Open, "open a file", false),
    b(C::Global, &["t"], A::CycleTheme, "next theme", false),
    b(C::Global, &["?", "f1"], A::Help, "help", true),
    b(
        C::Global,
        &["R"],
        A::RenameTopology,
        "rename the topology",
        false,
    ),
    b(
        C::Global,
        &["v"],
        A::Detail,
        "view the selected row in full (a rule: every flow, note and source behind it)",
        false,
    ),
    b(
        C::Global,
        &["M"],
        A::Messages,
        "messages: every status line in full",
        false,
    ),
    b(C::Global, &["q", "ctrl-c"], A::Quit, "quit", true),
    // Dialogs
    b(C::Picker, &["up", "ctrl-p", "ctrl-k"], A::Up, "up", false),
    b(
        C::Picker,
        &["down", "ctrl-n", "ctrl-j"],
        A::Down,
        "down",
        false,
    ),
    b(C::Picker, &["pageup"], A::PageUp, "page up", false),
    b(C::Picker, &["pagedown"], A::PageDown, "page down", false),
    b(C::Picker, &["enter"], A::Activate, "assign the role", true),
    b(
        C::Picker,
        &["backspace"],
        A::Backspace,
        "delete a search character",
        false,
    ),
    b(
        C::Picker,
        &["ctrl-u"],
        A::ClearLine,
        "clear the search",
        false,
    ),
    b(C::Picker, &["esc"], A::Close, "close", true),
    b(C::Endpoints, &["j", "down"], A::Down, "down", false),
    b(C::Endpoints, &["k", "up"], A::Up, "up", false),
    b(C::Endpoints, &["g", "home"], A::Top, "first", false),
    b(C::Endpoints, &["G", "end"], A::Bottom, "last", false),
    b(C::Endpoints, &["pageup"], A::PageUp, "page up", false),
    b(C::Endpoints, &["pagedown"], A::PageDown, "page down", false),
    b(
        C::Endpoints,
        &["enter"],
        A::Activate,
        "put it in the flow",
        true,
    ),
    b(
        C::Endpoints,
        &["esc", "q"],
        A::Close,
        "back to the flow",
        true,
    ),
    b(C::Os, &["j", "down"], A::Down, "down", false),
    b(C::Os, &["k", "up"], A::Up, "up", false),
    b(C::Os, &["g", "home"], A::Top, "first", false),
    b(C::Os, &["G", "end"], A::Bottom, "last", false),
    b(C::Os, &["pageup"], A::PageUp, "page up", false),
    b(C::Os, &["pagedown"], A::PageDown, "page down", false),
    b(C::Os, &["enter"], A::Activate, "choose", true),
    b(
        C::Os,
        &["a letter"],
        A::Top,
        "jumps to the next OS starting with it",
        false,
    ),
    b(C::Os, &["esc", "q"], A::Close, "cancel", true),
    b(C::Input, &["enter"], A::Activate, "accept", true),
    b(C::Input, &["esc"], A::Close, "cancel", true),
    b(C::Input, &["left"], A::Left, "cursor left", false),
    b(C::Input, &["right"], A::Right, "cursor right", false),
    b(
        C::Input,
        &["home", "ctrl-a"],
        A::Top,
        "start of line",
        false,
    ),
    b(
        C::Input,
        &["end", "ctrl-e"],
        A::Bottom,
        "end of line",
        false,
    ),
    b(C::Input, &["backspace"], A::Backspace, "delete left", false),
    b(
        C::Input,
        &["delete"],
        A::DeleteForward,
        "delete right",
        false,
    ),
    b(C::Input, &["ctrl-u"], A::ClearLine, "clear", false),
    b(
        C::Input,
        &["tab"],
        A::FocusNext,
        "a custom flow: choose an endpoint",
        false,
    ),
    b(C::Confirm, &["y", "enter"], A::Yes, "yes", true),
    b(C::Confirm, &["n"], A::No, "no", true),
    b(
        C::Confirm,
        &["esc"],
        A::Close,
        "cancel (decide later)",
        false,
    ),
    b(
        C::Confirm,
        &["s"],
        A::SaveFirst,
        "save first (when quitting)",
        false,
    ),
    b(
        C::Confirm,
        &["r"],
        A::Reload,
        "reload the file, dropping your changes (when it changed on disk)",
        false,
    ),
    b(
        C::Confirm,
        &["e"],
        A::SaveAs,
        "save elsewhere (when the file changed on disk)",
        false,
    ),
    b(
        C::Help,
        &["esc", "q", "?", "M", "v"],
        A::Close,
        "close",
        true,
    ),
    b(C::Help, &["j", "down"], A::Down, "scroll down", false),
    b(C::Help, &["k", "up"], A::Up, "scroll up", false),
    b(
        C::Help,
        &["pagedown", "space", "ctrl-d"],
        A::PageDown,
        "page down",
        false,
    ),
    b(C::Help, &["pageup", "ctrl-u"], A::PageUp, "page up", false),
    b(C::Help, &["g", "home"], A::Top, "top", false),
    b(C::Help, &["G", "end"], A::Bottom, "bottom", false),
];

/// The key string of an event: `a`, `G`, `?`, `enter`, `ctrl-s`, `backtab`, `f1`.
pub fn key_string(key: &KeyEvent) -> Option<String> {
    let base = match key.code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::Delete => "delete".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::PageUp => "pageup".into(),
        KeyCode::PageDown => "pagedown".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::F(n) => format!("f{n}"),
        _ => return None,
    };
    let mut s = String::new();
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        s.push_str("ctrl-");
    }
    if key.modifiers.contains(KeyModifiers::ALT) {
        s.push_str("alt-");
    }
    // Shift is already in the character (`G`, `?`); it only matters for named keys.
    if key.modifiers.contains(KeyModifiers::SHIFT)
        && !matches!(key.code, KeyCode::Char(_) | KeyCode::BackTab)
    {
        s.push_str("shift-");
    }
    s.push_str(&base);
    Some(s)
}

/// The context keys go to in the app's current state.
pub fn context(app: &App) -> Ctx {
    match &app.modal {
        Some(Modal::Input(_)) => return Ctx::Input,
        Some(Modal::Picker(_)) => return Ctx::Picker,
        Some(Modal::Endpoints(_)) => return Ctx::Endpoints,
        Some(Modal::Os(_)) => return Ctx::Os,
        Some(Modal::Confirm(_)) => return Ctx::Confirm,
        Some(Modal::Help { .. } | Modal::Messages { .. } | Modal::Detail { .. }) => {
            return Ctx::Help;
        }
        None => {}
    }
    if app.screen == Screen::Export {
        return Ctx::Export;
    }
    match app.focus {
        Pane::Nodes => Ctx::Nodes,
        Pane::Roles => Ctx::Roles,
        Pane::Rules => Ctx::Rules,
        Pane::Findings => Ctx::Findings,
        Pane::Zones => Ctx::Zones,
        Pane::Hosts => Ctx::Hosts,
        Pane::Custom => Ctx::Custom,
        Pane::Overview => Ctx::Overview,
        Pane::Preview => Ctx::Export,
        Pane::Changes => Ctx::Changes,
    }
}

/// The action of a key in a context: its own bindings first, then the global ones, then typing.
pub fn lookup(ctx: Ctx, key: &KeyEvent) -> Option<Action> {
    let s = key_string(key)?;
    let find = |c: Ctx| {
        KEYMAP
            .iter()
            .find(|b| b.ctx == c && b.keys.contains(&s.as_str()))
            .map(|b| b.action.clone())
    };
    if let Some(a) = find(ctx) {
        return Some(a);
    }
    if ctx.falls_back()
        && let Some(a) = find(Ctx::Global)
    {
        return Some(a);
    }
    // The OS list jumps to the next OS starting with a typed letter.
    if (ctx.takes_text() || ctx == Ctx::Os)
        && let KeyCode::Char(c) = key.code
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return Some(Action::Char(c));
    }
    // Ctrl-C always gets out of a dialog.
    (s == "ctrl-c").then_some(Action::Close)
}

/// How a key string is shown to people.
pub fn display_key(k: &str) -> String {
    match k {
        "backtab" => "shift-tab".into(),
        "pagedown" => "pgdn".into(),
        "pageup" => "pgup".into(),
        "delete" => "del".into(),
        "enter" => "⏎".into(),
        "left" => "←".into(),
        "right" => "→".into(),
        "up" => "↑".into(),
        "down" => "↓".into(),
        other => other.to_string(),
    }
}

/// A key the status bar may show: its key, a label, and how early it gets room (0 first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub key: String,
    pub label: &'static str,
    pub rank: u8,
}

/// The status bar's hints for a context: its own hinted keys, then the global ones, in table order.
pub fn hints(ctx: Ctx) -> Vec<Hint> {
    let own = KEYMAP.iter().filter(|b| b.ctx == ctx && b.hint);
    let global = KEYMAP
        .iter()
        .filter(|b| ctx.falls_back() && b.ctx == Ctx::Global && b.hint);
    let mut out: Vec<Hint> = Vec::new();
    for bd in own.chain(global) {
        // A context's own binding hides the global one on the same key.
        if bd.ctx == Ctx::Global
            && KEYMAP
                .iter()
                .any(|o| o.ctx == ctx && o.keys.contains(&bd.keys[0]))
        {
            continue;
        }
        out.push(Hint {
            key: display_key(bd.keys[0]),
            label: bd.hint_text(),
            rank: bd.rank,
        });
    }
    out
}

/// The help overlay: one section per context, one line per binding.
pub fn help_sections() -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    let order = [
        Ctx::Global,
        Ctx::Nodes,
        Ctx::Roles,
        Ctx::Rules,
        Ctx::Findings,
        Ctx::Zones,
        Ctx::Hosts,
        Ctx::Custom,
        Ctx::Overview,
        Ctx::Export,
        Ctx::Changes,
        Ctx::Picker,
        Ctx::Endpoints,
        Ctx::Os,
        Ctx::Input,
        Ctx::Confirm,
        Ctx::Help,
    ];
    order
        .iter()
        .map(|c| {
            let lines = KEYMAP
                .iter()
                .filter(|b| b.ctx == *c)
                .map(|b| {
                    (
                        b.keys
                            .iter()
                            .map(|k| display_key(k))
                            .collect::<Vec<_>>()
                            .join(" / "),
                        b.help,
                    )
                })
                .collect();
            (c.title(), lines)
        })
        .filter(|(_, l): &(&str, Vec<_>)| !l.is_empty())
        .collect()
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
