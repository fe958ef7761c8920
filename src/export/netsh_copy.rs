//! The netsh copy: what the designer's `y` copies for a Windows node and `fwtopo export --target
//! netsh --node N` prints, to paste into an elevated console that may be cmd.exe, Windows PowerShell
//! 5.1 or PowerShell 7 (an RDP console opens either).
//!
//! The two shells share no comment, no variable and no control flow (`if`, `||`, `%TEMP%`, `REM`
//! and `@echo off` are cmd.exe's; PowerShell builds an array from an unquoted comma and a hashtable
//! from `@{`). So the copy holds only what runs alike: `echo` of one double-quoted message without
//! `%`, `$`, backticks or quotes, and netsh commands whose every value that may hold a comma is
//! double-quoted ([`Quoting::Both`]). And no command in it depends on another having worked: the
//! rules of an earlier run are renamed `...-old` and kept until the operator deletes them (the copy
//! prints how), so a failed `add rule` takes nothing away. What needs a stop at the first failure or
//! a backup to roll back to (the backup itself, the default policy, the built-in rules, the WinRM
//! preparation, the list of other rules) is in the full `.cmd` that `export --out` writes, for
//! cmd.exe, and the copy says so first.

use super::netsh::{Quoting, not_added, push_add_rule};
use super::windows::{self, Kind, Remote};
use super::{Egress, Export, file_name};
use crate::target::Target;

/// `echo` of one message both consoles print alike (cmd.exe shows the quotes). Any character but
/// letters, digits and `space . , : / ( ) [ ] - _ + =` becomes `_`, so the message holds no `%`,
/// `!`, `$`, backtick, quote or `&`, which one of the shells would read.
fn echo(message: &str) -> String {
    let safe: String = message
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .,:/()[]-_+=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("echo \"{safe}\"")
}

/// The netsh copy of one node.
pub fn render(x: &Export) -> String {
    let node = &x.node().name;
    let p = windows::plan(x);
    let strict = x.options.egress == Egress::Strict;
    let script = file_name(node, Target::Netsh);
    let mut out: Vec<String> = Vec::with_capacity(p.rules.len() + 16);

    out.push(echo(&format!(
        "fwtopo: netsh commands for node {node}, for an elevated cmd.exe or PowerShell console (both run them alike). They rename the rules an earlier run added to ...-old, keep them, and add the rules of this node{}.",
        if strict {
            " (--egress strict: outbound rules too)"
        } else {
            ""
        }
    )));
    let mut left_out = vec![
        "the backup of the firewall policy",
        if strict {
            "the default policy (block inbound and outbound)"
        } else {
            "the default policy (block inbound)"
        },
    ];
    if p.disable.as_deref().is_some_and(|d| !d.is_empty()) {
        left_out
            .push("disabling the built-in rules that keep a restricted port open to any address");
    }
    if p.winrm_basic_http {
        left_out.push("the WinRM preparation of the PA document");
    }
    out.push(echo(&format!(
        "fwtopo: not in this copy: {}. They need cmd.exe: write the full script with fwtopo export --out DIR, then run {script} in an elevated cmd.exe.",
        left_out.join(", ")
    )));
    out.push(echo(
        "fwtopo: a rename prints No rules match the specified criteria. on the first run, that is expected.",
    ));
    for kind in Kind::ALL {
        let name = kind.rule_name(node);
        out.push(format!(
            "netsh advfirewall firewall set rule name=\"{name}\" new name=\"{name}-old\""
        ));
    }
    for r in &p.rules {
        let mut line = String::new();
        if push_add_rule(&mut line, r, Quoting::Both) {
            out.push(line);
        } else if let Remote::Dns(host) = &r.remote {
            let (_, warning) = not_added(r, host);
            out.push(echo(&format!(
                "{warning}: a DNS name. Pin its addresses in the topology, or use the powershell export."
            )));
        }
    }
    let old: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{}-old", k.rule_name(node)))
        .collect();
    out.push(echo(&format!(
        "fwtopo: done. When every add rule above printed Ok. and a new Remote Desktop session from the admin zone connects, delete the rules of the earlier run, {}, each with: netsh advfirewall firewall delete rule name=NAME",
        old.join(" ")
    )));
    let mut s = out.join("\n");
    s.push('\n');
    s
}
