//! The dialogs in front of the designer's screens, and what each holds while it is open: text
//! prompts and what they are for, the catalog and endpoint pickers, questions.

use super::app::Cursor;
use super::input::TextField;
use std::path::PathBuf;

/// A dialog in front of the screens.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Input(InputState),
    Picker(PickerState),
    /// Endpoints to put into a custom flow's prompt, which waits behind it.
    Endpoints(EndpointsState),
    Os(Cursor),
    Confirm(ConfirmKind),
    Help {
        scroll: usize,
    },
    /// The message log; `scroll` counts lines from the newest at the bottom.
    Messages {
        scroll: usize,
    },
    /// A row in full; `scroll` counts lines from the top.
    Detail {
        detail: super::detail::Detail,
        scroll: usize,
    },
}

/// A one-line text prompt; `error` stays under the field until the text is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct InputState {
    pub purpose: Purpose,
    pub field: TextField,
    pub error: Option<String>,
}

/// What a text prompt is for, and what it edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    AddNode,
    RenameNode(usize),
    Addresses(usize),
    Note(usize),
    ZoneNote(usize),
    HostNote(usize),
    /// A port to ask the overview's cell about (`fwtopo query` in the designer).
    Query {
        from: super::app::Source,
        to: usize,
    },
    /// The topology's own name (the export headers and index say it).
    TopologyName,
    Param {
        node: usize,
        role: usize,
        param: String,
    },
    AddZone,
    RenameZone(usize),
    ZoneCidrs(usize),
    AddHost,
    RenameHost(usize),
    HostAddresses(usize),
    /// A custom role: `id` and, after a space, its name.
    AddCustomRole,
    CustomRoleName(usize),
    /// A new id for a custom role; its flows and the nodes that play it follow.
    RenameCustomRole(usize),
    CustomRoleDescription(usize),
    CustomFlowNote(usize),
    /// Who asked for a node, custom role or custom flow and until when, in the form of
    /// [`super::ownership::text`].
    NodeOwnership(usize),
    RoleOwnership(usize),
    FlowOwnership(usize),
    /// A new custom flow, or the one at this index, in the one-line form of
    /// [`super::custom_role::flow_text`].
    CustomFlow(Option<usize>),
    SaveAs,
    Open,
    /// Where to write text the clipboard would not take.
    WriteFile(String),
}

impl Purpose {
    pub fn title(&self) -> &'static str {
        match self {
            Purpose::AddNode => "New node: name",
            Purpose::RenameNode(_) => "Rename node",
            Purpose::Addresses(_) => "Addresses (IPv4/IPv6, separated by commas or spaces)",
            Purpose::Note(_) => "Note",
            Purpose::ZoneNote(_) => "Zone note (who connects from it)",
            Purpose::HostNote(_) => "External host note",
            Purpose::Query { .. } => "Can the row reach the column? Port (443, udp/53)",
            Purpose::TopologyName => "Topology name",
            Purpose::Param { .. } => "Parameter value (empty: the catalog default)",
            Purpose::AddZone => "New zone: name",
            Purpose::RenameZone(_) => "Rename zone",
            Purpose::ZoneCidrs(_) => "Networks (CIDRs or addresses, separated by commas or spaces)",
            Purpose::AddHost => "New external host: DNS name",
            Purpose::RenameHost(_) => "Rename external host",
            Purpose::HostAddresses(_) => "Pinned addresses (empty: resolve by name)",
            Purpose::AddCustomRole => {
                "New custom role: id, then its name (monitoring Zabbix server)"
            }
            Purpose::CustomRoleName(_) => "Custom role's name",
            Purpose::RenameCustomRole(_) => "Custom role's id (its flows and nodes follow)",
            Purpose::CustomRoleDescription(_) => "Custom role's description",
            Purpose::CustomFlowNote(_) => "Flow's note",
            Purpose::NodeOwnership(_) | Purpose::RoleOwnership(_) | Purpose::FlowOwnership(_) => {
                "Who asked for it: owner: …; ticket: …; expires: YYYY-MM-DD; reason: … (empty clears)"
            }
            Purpose::CustomFlow(_) => {
                "Flow: id tcp|udp|tcp+udp ports from A,B to C,D: service (endpoints: role, product/role, *, any, zone=, host=, dns=)"
            }
            Purpose::SaveAs => "Save as (path)",
            Purpose::Open => "Open topology (path)",
            Purpose::WriteFile(_) => "Write the text to (path)",
        }
    }
}

/// The searchable catalog picker: every product role, filtered by the query.
#[derive(Debug, Clone, PartialEq)]
pub struct PickerState {
    pub node: usize,
    pub query: TextField,
    /// (product index, role index) pairs matching the query, in catalog order.
    pub matches: Vec<(usize, usize)>,
    pub cursor: Cursor,
    /// Why the last Enter did not assign (already assigned), shown in the picker.
    pub error: Option<String>,
}

/// The endpoint picker of a custom flow's prompt: (token as typed, what it is).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointsState {
    pub input: InputState,
    pub choices: Vec<(String, String)>,
    pub cursor: Cursor,
}

/// A yes/no question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmKind {
    Quit,
    DeleteNode(usize),
    DeleteZone(usize),
    DeleteHost(usize),
    OpenDiscard,
    Overwrite(PathBuf),
    /// The designer's file changed on disk since it was read or written here: overwrite, reload,
    /// or save elsewhere.
    ChangedOnDisk(PathBuf),
    /// The file has comments the save would drop (the topology holds none).
    DropComments {
        path: PathBuf,
        count: usize,
    },
    /// A crash left a recovery copy; `original` is the file it was a copy of.
    Recovery {
        original: Option<PathBuf>,
    },
    /// The clipboard failed; offer to write the text to a file.
    WriteInstead {
        text: String,
        suggested: String,
        error: String,
    },
}
