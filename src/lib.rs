//! fwtopo: design the host firewalls of a multi-server deployment from vendor flows.
//!
//! The pure core is [`catalog`] (what products need), [`topology`] (what the operator built),
//! [`engine`] (both ends of every flow, per node) and the exporters. Files, terminals and clipboards live
//! at the edges ([`files`], the CLI), so every face uses the same functions.

pub mod catalog;
pub mod date;
pub mod diagram;
pub mod diff;
pub mod engine;
pub mod export;
pub mod files;
pub mod net;
pub mod ports;
pub mod query;
pub mod report;
pub mod starter;
pub mod target;
pub mod topology;
pub mod unique_keys;
pub mod user_text;
pub mod verify;
