//! What `update` asks the outside world to do. The loop in [`super`] performs effects and feeds the
//! results back as actions, so `update` never touches files, clipboards or the terminal.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write the topology text atomically; `overwrite: false` refuses to replace another file.
    Save {
        path: PathBuf,
        text: String,
        overwrite: bool,
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
