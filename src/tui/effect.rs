//! What `update` asks the outside world to do. The loop in [`super`] performs effects and feeds the
//! results back as actions, so `update` never touches files, clipboards or the terminal.

use fwtopo::files::OnDisk;
use std::path::PathBuf;

/// What a save may replace at its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replace {
    /// No file: one there is another file (Save As elsewhere), so the loop asks first.
    Nothing,
    /// The designer's own file as it last read or wrote it (`None`: there was none); the loop asks
    /// first when another hand changed it since.
    AsKnown(Option<OnDisk>),
    /// Whatever is there: the operator said so.
    Anything,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write the topology text atomically (through a link), unless `replace` says to ask first.
    Save {
        path: PathBuf,
        text: String,
        replace: Replace,
    },
    /// Read, parse and check a topology file.
    Load {
        path: PathBuf,
    },
    /// Put text on the clipboard (or send it over OSC 52); `what` names it in the status line.
    Copy {
        text: String,
        what: String,
    },
    /// Write text to a file (the fallback when the clipboard failed).
    WriteFile {
        path: PathBuf,
        text: String,
    },
    /// Open the recovery copy a crash left behind.
    LoadRecovery,
    /// Delete the recovery copy (declined, or taken over).
    DiscardRecovery,
    Quit,
}
