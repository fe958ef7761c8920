//! The `fwtopo` binary: the command line (and, with no arguments, the designer).

mod cli;
mod tui;

fn main() -> std::process::ExitCode {
    cli::run()
}
