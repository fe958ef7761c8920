//! netsh export: a `.cmd` file of `netsh advfirewall` commands for cmd.exe (run it, or paste it into an
//! elevated console).
//!
//! Windows Firewall has no rule groups netsh can write, and netsh deletes by exact name only. So every
//! rule of a node shares one of three fixed names, one per kind: `fwtopo-<node>-mgmt`, `-in` and
//! `-out` (rule names need not be unique, and `delete rule name=X` deletes every rule named X). A
//! run deletes each of the three names and adds its rules of that kind, management first: whatever
//! an earlier export of the node added (more address chunks, a role since removed, `--egress
//! strict`) goes, and rules of other nodes (`fwtopo-<node>-2-in` is another name) and of anyone else
//! stay. One plain command per name works alike in a `.cmd` file and pasted into a console, where a
//! `for` loop would need `%%v` in one and `%v` in the other; no state file is kept that a
//! non-administrator could plant names in. Addresses are split into several rules so no line passes
//! cmd.exe's 8,191-character limit (Aerleon's netsh output does at about 590 peers). The planning
//! here (names, chunks, ICMP) is shared with the PowerShell export, so both scripts create the same
//! rules under the same names.

use super::windows::{self, Kind, Remote, WinProto, WinRule};
use super::{Egress, Export, header, text};
use crate::engine::Direction;
use crate::ports::PortSet;
use crate::target::Target;
use std::fmt::Write as _;

pub use super::windows::MAX_LINE;

/// The backup path as cmd.exe writes it: the only `%` in a netsh export.
const BACKUP_CMD: &str = r#""%TEMP%\fwtopo-backup.wfw""#;

/// `REM` plus text that is already comment-safe.
fn rem(s: &str) -> String {
    if s.is_empty() {
        return "REM".to_string();
    }
    let mut line = String::with_capacity(4 + s.len());
    line.push_str("REM ");
    line.push_str(s);
    line
}

/// The netsh `protocol=` value.
fn proto(p: WinProto) -> String {
    match p {
        WinProto::Tcp => "TCP".into(),
        WinProto::Udp => "UDP".into(),
        WinProto::Icmpv4(t) => format!("icmpv4:{t},any"),
        WinProto::Icmpv6(t) => format!("icmpv6:{t},any"),
    }
}

/// One `add rule` line, written into one buffer: a large site has hundreds of thousands.
fn add_rule(r: &WinRule) -> Option<String> {
    let remote: &[String] = match &r.remote {
        Remote::Any => &[],
        Remote::List(v) => v,
        Remote::Dns(_) => return None,
    };
    let dir = match r.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    };
    let length: usize = remote.iter().map(|a| a.len() + 1).sum();
    let mut line = String::with_capacity(160 + r.name.len() + length + r.description.len());
    // Writing into a String cannot fail.
    let _ = write!(
        line,
        "netsh advfirewall firewall add rule name=\"{}\" dir={dir} action=allow protocol={}",
        r.name,
        proto(r.protocol)
    );
    if !r.ports.is_empty() {
        let key = if r.direction == Direction::Inbound {
            "localport"
        } else {
            "remoteport"
        };
        let _ = write!(line, " {key}=");
        text::push_ports(&mut line, &PortSet::from_ranges(r.ports.clone()), "-", ",");
    }
    line.push_str(" remoteip=");
    if remote.is_empty() {
        line.push_str("any");
    }
    for (i, a) in remote.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(a);
    }
    line.push_str(" profile=any enable=yes");
    if r.direction == Direction::Inbound {
        line.push_str(" edge=no");
    }
    let _ = write!(line, " description=\"{}\"", r.description);
    Some(line)
}

/// One planned rule: its description and `add rule` line, or, for a host name netsh cannot hold,
/// why nothing is added and a warning echoed when the script runs.
fn push_rule(out: &mut Vec<String>, r: &WinRule, icmp: bool) {
    if let Some(line) = add_rule(r) {
        if !icmp {
            out.push(rem(&r.description));
        }
        out.push(line);
        return;
    }
    let Remote::Dns(host) = &r.remote else {
        return;
    };
    let (dir, way) = if r.direction == Direction::Inbound {
        ("inbound", "from")
    } else {
        ("outbound", "to")
    };
    let ports = text::ports(&PortSet::from_ranges(r.ports.clone()), "-", ",");
    let proto = proto(r.protocol).to_ascii_lowercase();
    out.push(rem(&text::comment_text(&format!(
        "NOT ADDED: {dir} {proto} {} {way} {host}: a DNS name, and Windows Firewall holds only addresses.",
        windows::short_ports(&ports)
    ))));
    out.push(rem(
        "Pin its addresses as an external host in the topology and export again, or use the powershell export (it resolves the name when applied).",
    ));
    let what = text::comment_text(&format!(
        "{dir} {proto} {} {way} {host}",
        windows::short_ports(&ports)
    ));
    out.push(format!(
        "echo fwtopo: WARNING: no rule for {}",
        what.replace(['(', ')'], "")
    ));
}

/// The cmd.exe script for one node.
pub fn render(x: &Export) -> String {
    let node = &x.node().name;
    let p = windows::plan(x);
    let strict = x.options.egress == Egress::Strict;
    let mut out: Vec<String> = vec!["@echo off".into()];

    let apply = [
        "save as a .cmd file and run it in an elevated cmd.exe (Run as administrator), or paste it into one.",
        "It first saves the current firewall policy to fwtopo-backup.wfw in the TEMP folder (only if that",
        "file does not exist yet, so the backup stays the policy from before fwtopo). Every rule of this node",
        "is named fwtopo-NODE-mgmt, fwtopo-NODE-in or fwtopo-NODE-out.",
        "Kind by kind, management first, it deletes every rule of that name (all an earlier export of this",
        "node added, whatever it was, and nothing else) and adds this export's, then sets the default policy.",
        "A delete prints: No rules match the specified criteria. on the first run; that is expected.",
    ];
    let rollback = [
        "netsh advfirewall import of that backup (the script prints the full path at the start and end):",
        "  netsh advfirewall import TEMP-folder\\fwtopo-backup.wfw",
        "For a rollback that happens by itself unless confirmed, use the powershell export instead.",
        "To remove only this node's rules, delete their three names:",
        "  netsh advfirewall firewall delete rule name=fwtopo-NODE-mgmt  (then -in and -out)",
    ];
    let apply: Vec<String> = apply.iter().map(|l| l.replace("NODE", node)).collect();
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let rollback: Vec<String> = rollback.iter().map(|l| l.replace("NODE", node)).collect();
    let rollback: Vec<&str> = rollback.iter().map(String::as_str).collect();
    for l in header(x, Target::Netsh, &apply, &rollback) {
        out.push(rem(&l));
    }
    out.extend(windows::windows_notes(x, "").iter().map(|l| rem(l)));
    out.push(String::new());

    out.push(rem("---- backup of the current policy, for roll back ----"));
    out.push(format!(
        "if not exist {BACKUP_CMD} netsh advfirewall export {BACKUP_CMD}"
    ));
    out.push(format!(
        "echo fwtopo: backup of the firewall policy from before fwtopo: {BACKUP_CMD}"
    ));
    out.push(String::new());

    out.push(rem(
        "---- this node's rules: every rule of one kind has the same name; per kind, the name is deleted,",
    ));
    out.push(rem(
        "which removes all an earlier export of this node added under it, then this export's are added ----",
    ));
    for kind in Kind::ALL {
        let name = kind.rule_name(node);
        let title = match kind {
            Kind::Management => {
                "management access from the admin zone, first, so the way in stays open"
            }
            Kind::Inbound => "inbound",
            Kind::Outbound if strict => "outbound (--egress strict)",
            Kind::Outbound => "outbound (--egress open: allowed by default, none added)",
        };
        out.push(String::new());
        out.push(rem(&format!("-- {title}: rules named {name}")));
        out.push(format!(
            "netsh advfirewall firewall delete rule name=\"{name}\""
        ));
        let mut section = None;
        for r in p.rules.iter().filter(|r| r.kind == kind) {
            let icmp = matches!(r.protocol, WinProto::Icmpv4(_) | WinProto::Icmpv6(_));
            let sub = match (kind, icmp) {
                (Kind::Management, _) => None,
                (_, true) if r.direction == Direction::Inbound => {
                    Some("ICMP: IPv4 path MTU discovery and IPv6 neighbour discovery need it")
                }
                (_, true) => Some("ICMP out"),
                (_, false) => Some("services"),
            };
            if sub != section {
                if let Some(t) = sub {
                    out.push(rem(&format!("-- {t}")));
                }
                section = sub;
            }
            push_rule(&mut out, r, icmp);
        }
        if kind == Kind::Management && !p.rules.iter().any(|r| r.kind == kind) {
            out.push(rem("none: see the WARNING above"));
        }
        if kind == Kind::Outbound && !p.outbound_listed.is_empty() {
            out.push(rem(
                "the delete above removes the rules of an earlier --egress strict run; the derived outbound rules, for reference:",
            ));
            for l in &p.outbound_listed {
                out.push(rem(&format!("  {}: {}", l.summary, l.comment)));
            }
        }
    }
    out.push(String::new());

    out.push(rem(
        "---- default policy for every profile, then make sure the firewall is on ----",
    ));
    let policy = if strict {
        "blockinbound,blockoutbound"
    } else {
        "blockinbound,allowoutbound"
    };
    out.push(format!(
        "netsh advfirewall set allprofiles firewallpolicy {policy}"
    ));
    out.push("netsh advfirewall set allprofiles state on".into());

    if p.winrm_basic_http {
        out.push(String::new());
        out.extend(winrm_block(&p.winrm_peers));
    }

    out.push(String::new());
    out.push("echo fwtopo: done. Check that a new Remote Desktop session from the admin zone still connects.".into());
    out.push(format!(
        "echo fwtopo: to roll back: netsh advfirewall import {BACKUP_CMD}"
    ));
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// The WinRM preparation of the PA document for IIS and SmarterMail service nodes, with its warning.
fn winrm_block(peers: &[String]) -> Vec<String> {
    let peers = text::comment_text(&peers.join(" "));
    let mut v: Vec<String> = [
        "---- WinRM preparation from the PA document (IIS and SmarterMail service nodes) ----".to_string(),
        "WARNING: this turns on WinRM Basic authentication over plain HTTP (AllowUnencrypted): the".into(),
        "password of the account the Management Node uses crosses the network in clear text, readable".into(),
        "by anyone on the path. Port 5985 is opened above to the Management Node only:".into(),
        format!("  {peers}"),
        "and the built-in rule Windows Remote Management (HTTP-In), which allows 5985 from any address,".into(),
        "is disabled at the end. Safer: an HTTPS listener on 5986 with a certificate".into(),
        "(winrm quickconfig -transport:https), Basic only over HTTPS, AllowUnencrypted left false;".into(),
        "then delete these lines. winrm quickconfig is not used here because it turns the built-in".into(),
        "HTTP-In rule back on.".into(),
        "sc config needs the space after start= (sc.exe syntax). net start waits until the service runs,".into(),
        "which replaces the document's timeout pauses. The listener and service may already exist: an".into(),
        "error saying so is expected. cmd /c is needed because winrm is itself a .cmd script.".into(),
        "Rolling the firewall back (netsh advfirewall import) does not undo these WinRM settings.".into(),
    ]
    .iter()
    .map(|l| rem(l))
    .collect();
    v.push("echo fwtopo: WARNING: enabling WinRM Basic authentication over plain HTTP, port 5985, Management Node only. Prefer HTTPS on 5986.".into());
    v.extend(WINRM_CMD.iter().map(|l| l.to_string()));
    v
}

/// The PA document's commands, verbatim where they are correct (`start= auto` keeps its space).
pub(super) const WINRM_CMD: [&str; 6] = [
    "sc config winrm start= auto",
    "net start winrm",
    r#"cmd /c winrm put winrm/config/service @{AllowUnencrypted = "true"}"#,
    r#"cmd /c winrm put winrm/config/service/Auth @{Basic = "true"}"#,
    r#"cmd /c winrm create winrm/config/Listener?Address=*+Transport=http @{Port="5985"}"#,
    r#"netsh advfirewall firewall set rule name="Windows Remote Management (HTTP-In)" new enable=no"#,
];
