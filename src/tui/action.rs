//! Everything that can happen to the designer: key presses (through the keymap), mouse events, and
//! the results of effects the loop performed. [`super::update::update`] is the only consumer, so a
//! test can drive the whole designer with a list of actions and no terminal.

use super::app::Screen;
use super::clipboard::{CopyExtras, CopyOutcome};
use fwtopo::files::OnDisk;
use fwtopo::topology::Topology;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    // Movement in the focused list (or the open picker, help, preview).
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    FocusNext,
    FocusPrev,
    Show(Screen),
    Help,
    /// Every status message of this session, in full (the status line cuts long ones).
    Messages,
    /// The selected row in full (a rule with every flow behind it, a finding, a parameter's help).
    Detail,
    /// The node's firewall: chosen from its OS, then each firewall that runs on it, in turn.
    CycleFirewall,
    /// Ask the overview's cell about one port: allowed or not, which rule, what is missing.
    Query,
    /// Rename the topology itself.
    RenameTopology,
    /// Flip the selected on/off parameter.
    ToggleSwitch,
    /// Esc: close the open dialog.
    Close,
    /// Enter: the focused thing's main action (jump to a finding's node, assign a role, submit input).
    Activate,

    // Edits of whatever the focused pane lists (nodes, roles, zones, external hosts).
    Add,
    /// A new custom flow (the custom pane).
    AddFlow,
    Rename,
    Edit,
    Delete,
    Duplicate,
    ChooseOs,
    ToggleManagement,
    EditNote,
    /// Who asked for the node, custom role or flow, and until when.
    EditOwnership,

    // Export preview.
    NextTarget,
    PrevTarget,
    ToggleEgress,
    /// Scroll the preview sideways, for lines wider than the pane.
    ScrollLeft,
    ScrollRight,

    Undo,
    Redo,
    Save,
    SaveAs,
    Open,
    Quit,
    CycleTheme,
    /// The selected node's commands for its own firewall (netsh on Windows); on the export screen,
    /// the preview exactly as shown.
    Copy,
    /// The selected Windows node's PowerShell commands.
    CopyPowershell,

    // Answers to a confirmation.
    Yes,
    No,
    SaveFirst,
    /// Read the file again, dropping the unsaved changes (it changed on disk).
    Reload,

    // Text entry.
    Char(char),
    Backspace,
    DeleteForward,
    ClearLine,

    // Mouse and terminal.
    Click {
        col: u16,
        row: u16,
    },
    ScrollUp {
        col: u16,
        row: u16,
    },
    ScrollDown {
        col: u16,
        row: u16,
    },
    Resize(u16, u16),

    // Results of effects, fed back by the loop.
    /// A save went through (the file as written) or failed.
    Saved {
        path: PathBuf,
        result: Result<OnDisk, String>,
    },
    /// A Save As would replace another file; ask first.
    WouldOverwrite(PathBuf),
    /// A save would replace changes another hand made to the file since it was read or written.
    ChangedOnDisk(PathBuf),
    Loaded {
        path: PathBuf,
        result: Result<(Topology, OnDisk), String>,
    },
    Copied {
        what: String,
        outcome: CopyOutcome,
        extras: CopyExtras,
    },
    Written {
        path: PathBuf,
        result: Result<(), String>,
    },
    Recovered {
        original: Option<PathBuf>,
        result: Result<Topology, String>,
        /// The original file as it is now, if there is one.
        disk: Option<OnDisk>,
        /// The original's topology as it is now (`None`: no file, or one that does not open):
        /// the baseline changes are counted from.
        baseline: Option<Box<Topology>>,
    },
}

impl Action {
    /// Whether the action comes from the operator (and so clears the last status message).
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            Action::Resize(..)
                | Action::Saved { .. }
                | Action::WouldOverwrite(_)
                | Action::ChangedOnDisk(_)
                | Action::Loaded { .. }
                | Action::Copied { .. }
                | Action::Written { .. }
                | Action::Recovered { .. }
        )
    }
}
