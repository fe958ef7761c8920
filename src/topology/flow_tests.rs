//! Flow tests kept in the topology: what the design promises, checked on every derive.
//!
//! `tests: [(from: "web1", to: "db", proto: tcp, port: 3306, expect: allow)]` says web1 must
//! reach db on 3306; `expect: deny` says something must stay closed. `check` reports a broken
//! promise as an error (so `export` refuses it without `--force`) and a kept one as a note, and
//! the designer shows both live, as Tailscale's policy tests do for its ACLs.

use super::Topology;
use crate::catalog::is_dns_name;
use crate::ports::Protocol;
use crate::user_text::{check_line, check_text, quoted};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What a test expects of the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Allow,
    Deny,
}

/// One promise: `from` may (or may not) reach `to` on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowTest {
    /// A node, zone, external host or address, as `fwtopo query` takes them.
    pub from: String,
    pub to: String,
    pub proto: Protocol,
    pub port: u16,
    pub expect: Expect,
    /// Checked with the source's outbound rules too (egress strict).
    pub strict: bool,
    pub note: String,
}

/// A test as the file spells it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FlowTestFile {
    from: String,
    to: String,
    #[serde(default = "tcp")]
    proto: ProtoFile,
    port: u32,
    expect: Expect,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    strict: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ProtoFile {
    Tcp,
    Udp,
}

fn tcp() -> ProtoFile {
    ProtoFile::Tcp
}

impl FlowTest {
    /// `web1 -> db tcp/3306 expect allow`: how findings name a test.
    pub fn describe(&self) -> String {
        format!(
            "{} -> {} {}/{} expect {}{}",
            self.from,
            self.to,
            self.proto.as_str(),
            self.port,
            match self.expect {
                Expect::Allow => "allow",
                Expect::Deny => "deny",
            },
            if self.strict { " (egress strict)" } else { "" }
        )
    }

    pub(super) fn to_file(&self) -> FlowTestFile {
        FlowTestFile {
            from: self.from.clone(),
            to: self.to.clone(),
            proto: match self.proto {
                Protocol::Tcp => ProtoFile::Tcp,
                Protocol::Udp => ProtoFile::Udp,
            },
            port: u32::from(self.port),
            expect: self.expect,
            strict: self.strict,
            note: self.note.clone(),
        }
    }
}

/// Whether `text` names an end of the topology: a node, zone or external host, an address, or
/// `any` (every address).
fn names_an_end(t: &Topology, text: &str) -> bool {
    text == "any"
        || text.parse::<IpAddr>().is_ok()
        || t.nodes.iter().any(|n| n.name == text)
        || t.zones.iter().any(|z| z.name == text)
        || t.external_hosts.iter().any(|h| h.name == text)
}

/// Checks the tests against the rest of the topology (its names are known by now); the problems
/// name `tests[i]` and the field.
pub(super) fn convert(
    t: &Topology,
    files: Vec<FlowTestFile>,
    push: &mut dyn FnMut(String, String),
) -> Vec<FlowTest> {
    let mut out = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        let at = format!("tests[{i}]");
        let mut ok = true;
        for (field, value) in [("from", &f.from), ("to", &f.to)] {
            if let Err(m) = check_line(value) {
                push(format!("{at}: {field}"), m);
                ok = false;
            } else if !names_an_end(t, value) {
                let hint = if is_dns_name(value) {
                    " (an external host must be listed under external_hosts first)"
                } else {
                    ""
                };
                push(
                    format!("{at}: {field}"),
                    format!(
                        "{} is no node, zone, external host or address of the topology, nor any{hint}",
                        quoted(value)
                    ),
                );
                ok = false;
            }
        }
        let port = match u16::try_from(f.port) {
            Ok(p) if p > 0 => p,
            _ => {
                push(
                    format!("{at}: port"),
                    format!("{} is not a port (1-65535)", f.port),
                );
                ok = false;
                0
            }
        };
        if let Err(m) = check_text(&f.note) {
            push(format!("{at}: note"), m);
            ok = false;
        }
        if ok {
            out.push(FlowTest {
                from: f.from,
                to: f.to,
                proto: match f.proto {
                    ProtoFile::Tcp => Protocol::Tcp,
                    ProtoFile::Udp => Protocol::Udp,
                },
                port,
                expect: f.expect,
                strict: f.strict,
                note: f.note,
            });
        }
    }
    out
}
