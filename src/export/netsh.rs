//! netsh export: a `.cmd` file of `netsh advfirewall` commands for cmd.exe (run it, or paste it into an
//! elevated cmd.exe). What the designer copies and `export --node N` prints, for cmd.exe and
//! PowerShell alike, is [`super::netsh_copy`], made from the same plan and [`push_add_rule`].
//!
//! Windows Firewall has no rule groups netsh can write, and netsh selects rules by exact display
//! name only. So every rule of a node shares one of three fixed names, one per kind:
//! `fwtopo-<node>-mgmt`, `-in` and `-out` (rule names need not be unique). A run renames each of
//! the three to `...-old` (`set rule name=X new name=X-old` changes every rule named X), adds its
//! rules, management first, and only then deletes the `-old` names: whatever an earlier export of
//! the node added (more address chunks, a role since removed, `--egress strict`) goes, a connection
//! resting on one of its rules never loses it in between, and rules of other nodes
//! (`fwtopo-<node>-2-in` is another name) and of anyone else stay.
//!
//! Control flow is only `if [not] defined`, `if [not] exist`, `||` and `set`: a failed command
//! sets `fwtopoFailed`, which skips every later change, the same in a `.cmd` file and pasted into a
//! console (where `goto` and labels do not work, and a `for` loop would need `%%v` in one and `%v`
//! in the other). No state file is kept that a non-administrator could plant names in. The rules
//! come from the Windows plan shared with the PowerShell export, so both scripts create the same
//! rules under the same names.

use super::windows::{self, Kind, Remote, WinProto, WinRule};
use super::windows_builtin;
use super::{Egress, Export, header, text};
use crate::engine::Direction;
use crate::ports::PortSet;
use crate::target::Target;
use std::fmt::Write as _;

pub use super::windows::MAX_LINE;

/// The variable that marks a failed command; set, it skips every later change.
const FAILED: &str = "fwtopoFailed";
/// The backup folder and file as cmd.exe writes them (`%ProgramData%` is expanded by cmd.exe).
const BACKUP_DIR_CMD: &str = r"%ProgramData%\fwtopo";
const BACKUP_CMD: &str = r#""%ProgramData%\fwtopo\fwtopo-backup.wfw""#;
/// Where exports before this one kept the backup (a session's TEMP folder).
const OLD_BACKUP_CMD: &str = r#""%TEMP%\fwtopo-backup.wfw""#;
/// The words before the rollback lines the script prints.
const ROLL_BACK: &str = "to roll back";

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
pub(super) fn proto(p: WinProto) -> String {
    match p {
        WinProto::Tcp => "TCP".into(),
        WinProto::Udp => "UDP".into(),
        WinProto::Icmpv4(t) => format!("icmpv4:{t},any"),
        WinProto::Icmpv6(t) => format!("icmpv6:{t},any"),
    }
}

/// One `add rule` line ([`checked`]), written into one buffer: a large site has hundreds of
/// thousands.
fn add_rule(r: &WinRule) -> Option<String> {
    let mut line = String::with_capacity(260 + r.name.len() + r.description.len());
    let _ = write!(line, "if not defined {FAILED} ");
    if !push_add_rule(&mut line, r, Quoting::Cmd) {
        return None;
    }
    let _ = write!(line, " || set \"{FAILED}=1\"");
    Some(line)
}

/// How [`push_add_rule`] writes the values of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quoting {
    /// For cmd.exe alone: only the name and description in double quotes (the `.cmd` file).
    Cmd,
    /// For cmd.exe and PowerShell alike: every value that may hold a comma (ports, addresses,
    /// `icmpv4:3,any`) in double quotes too. PowerShell builds an array from an unquoted comma, so
    /// netsh would get `localport=3389` and `5986` as two arguments; quoted, both consoles hand it
    /// `localport=3389,5986`.
    Both,
}

/// Appends `netsh advfirewall firewall add rule ...` for `r`; false (nothing written) for a host
/// name, which netsh cannot hold.
pub(super) fn push_add_rule(line: &mut String, r: &WinRule, quoting: Quoting) -> bool {
    let remote: &[String] = match &r.remote {
        Remote::Any => &[],
        Remote::List(v) => v,
        Remote::Dns(_) => return false,
    };
    let dir = match r.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    };
    let q = if quoting == Quoting::Both { "\"" } else { "" };
    let length: usize = remote.iter().map(|a| a.len() + 1).sum();
    line.reserve(220 + r.name.len() + length + r.description.len());
    // Writing into a String cannot fail.
    let _ = write!(
        line,
        "netsh advfirewall firewall add rule name=\"{}\" dir={dir} action=allow protocol={q}{}{q}",
        r.name,
        proto(r.protocol)
    );
    if !r.ports.is_empty() {
        let key = if r.direction == Direction::Inbound {
            "localport"
        } else {
            "remoteport"
        };
        let _ = write!(line, " {key}={q}");
        text::push_ports(line, &PortSet::from_ranges(r.ports.clone()), "-", ",");
        line.push_str(q);
    }
    line.push_str(" remoteip=");
    line.push_str(q);
    if remote.is_empty() {
        line.push_str("any");
    }
    for (i, a) in remote.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(a);
    }
    line.push_str(q);
    line.push_str(" profile=any enable=yes");
    if r.direction == Direction::Inbound {
        line.push_str(" edge=no");
    }
    let _ = write!(line, " description=\"{}\"", r.description);
    true
}

/// Why a rule with a host name is not added, as the lines of a comment, and the warning echoed.
pub(super) fn not_added(r: &WinRule, host: &str) -> ([String; 2], String) {
    let (dir, way) = if r.direction == Direction::Inbound {
        ("inbound", "from")
    } else {
        ("outbound", "to")
    };
    let ports = text::ports(&PortSet::from_ranges(r.ports.clone()), "-", ",");
    let proto = proto(r.protocol).to_ascii_lowercase();
    let comment = [
        text::comment_text(&format!(
            "NOT ADDED: {dir} {proto} {} {way} {host}: a DNS name, and Windows Firewall holds only addresses.",
            windows::short_ports(&ports)
        )),
        "Pin its addresses as an external host in the topology and export again, or use the powershell export (it resolves the name when applied).".into(),
    ];
    let what = text::comment_text(&format!(
        "{dir} {proto} {} {way} {host}",
        windows::short_ports(&ports)
    ));
    let warning = format!(
        "fwtopo: WARNING: no rule for {}",
        what.replace(['(', ')'], "")
    );
    (comment, warning)
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
    let (comment, warning) = not_added(r, host);
    out.extend(comment.iter().map(|l| rem(l)));
    out.push(guarded(&format!("echo {warning}")));
}

/// Runs `command` only while no earlier command failed: the whole .cmd's control flow, which
/// works alike in a file and pasted into a console (no labels, no `goto`, no `%` of its own).
fn guarded(command: &str) -> String {
    format!("if not defined {FAILED} {command}")
}

/// [`guarded`], and a failure (errorlevel) stops everything after it.
fn checked(command: &str) -> String {
    format!("if not defined {FAILED} {command} || set \"{FAILED}=1\"")
}

/// The cmd.exe script for one node.
pub fn render(x: &Export) -> String {
    let node = &x.node().name;
    let p = windows::plan(x);
    let strict = x.options.egress == Egress::Strict;
    let mut out: Vec<String> = vec![
        "@echo off".into(),
        // Which console, first: this file is cmd.exe's; the copy runs in PowerShell too.
        rem(&format!(
            "for an elevated cmd.exe only. For PowerShell or cmd.exe: the netsh copy, fwtopo export --target netsh --node {node} without --out, or y in the designer."
        )),
    ];

    let apply = [
        "save as a .cmd file and run it in an elevated cmd.exe (Run as administrator), or paste it into one.",
        "It checks that the console is elevated (net session), then saves the current firewall policy to",
        "ProgramData\\fwtopo\\fwtopo-backup.wfw (only if that file does not exist yet, so the backup stays",
        "the policy from before fwtopo, whatever session runs it again). Every rule of this node is named",
        "fwtopo-NODE-mgmt, fwtopo-NODE-in or fwtopo-NODE-out. The rules an earlier export of this node",
        "added are renamed ...-old, this export's are added, management first, and only then the -old ones",
        "deleted, so a connection resting on a rule never loses it. The first command that fails stops",
        "the rest: the default policy stays and the rules of the earlier run stay (under ...-old).",
        "A rename or delete prints: No rules match the specified criteria. on the first run; that is expected.",
    ];
    let mut rollback = vec![
        "import the backup (the script prints these lines with the full path at the end):"
            .to_string(),
        "  netsh advfirewall import ProgramData-folder\\fwtopo\\fwtopo-backup.wfw".into(),
    ];
    if p.winrm_basic_http {
        rollback.push(
            "and turn the WinRM preparation below off again: winrm set, AllowUnencrypted and Basic false".into(),
        );
        rollback.push("(the two winrm lines it prints at the end).".into());
    }
    rollback.extend([
        "For a rollback that happens by itself unless confirmed, use the powershell export instead.".into(),
        "To remove only this node's rules, delete their three names (and their -old names, if a run failed):".into(),
        "  netsh advfirewall firewall delete rule name=fwtopo-NODE-mgmt  (then -in and -out)".into(),
    ]);
    let apply: Vec<String> = apply.iter().map(|l| l.replace("NODE", node)).collect();
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let rollback: Vec<String> = rollback.iter().map(|l| l.replace("NODE", node)).collect();
    let rollback: Vec<&str> = rollback.iter().map(String::as_str).collect();
    for l in header(x, Target::Netsh, &apply, &rollback) {
        out.push(rem(&l));
    }
    out.extend(windows::windows_notes(x, "").iter().map(|l| rem(l)));
    out.push(String::new());

    out.push(rem(
        "---- before any change: an elevated console, and a stop at the first failed command ----",
    ));
    out.push(rem(
        "Every command that changes something runs only while fwtopoFailed is not set, and sets it when",
    ));
    out.push(rem(
        "it fails: the rest is skipped. This works alike in a .cmd file and pasted into a console.",
    ));
    out.push(format!("set \"{FAILED}=\""));
    out.push(format!("net session >nul 2>&1 || set \"{FAILED}=1\""));
    out.push(format!(
        "if defined {FAILED} echo fwtopo: FAILED: net session failed, so this console is not elevated. Run this in a cmd.exe started with Run as administrator. Nothing was changed."
    ));
    out.push(String::new());

    out.push(rem(
        "---- backup of the current policy, taken once, for roll back ----",
    ));
    out.push(rem(
        "Under ProgramData, not TEMP: Remote Desktop deletes a session's TEMP folder at logoff. Anyone may",
    ));
    out.push(rem(
        "create folders in ProgramData, so the folder is taken over (owner and only access: Administrators",
    ));
    out.push(rem(
        "and SYSTEM) before anything is written or trusted there. A backup an earlier version kept in",
    ));
    out.push(rem("TEMP is kept, as the policy from before fwtopo."));
    out.push(checked(&format!(
        "if not exist \"{BACKUP_DIR_CMD}\\\" mkdir \"{BACKUP_DIR_CMD}\""
    )));
    out.push(checked(&format!(
        "icacls \"{BACKUP_DIR_CMD}\" /setowner *S-1-5-32-544 /T /C /Q"
    )));
    out.push(checked(&format!(
        "icacls \"{BACKUP_DIR_CMD}\" /inheritance:r /grant:r \"*S-1-5-32-544:(OI)(CI)F\" \"*S-1-5-18:(OI)(CI)F\" /T /C /Q"
    )));
    out.push(checked(&format!(
        "if not exist {BACKUP_CMD} if exist {OLD_BACKUP_CMD} copy /y {OLD_BACKUP_CMD} {BACKUP_CMD}"
    )));
    out.push(checked(&format!(
        "if not exist {BACKUP_CMD} netsh advfirewall export {BACKUP_CMD}"
    )));
    out.push(guarded(&format!(
        "if not exist {BACKUP_CMD} set \"{FAILED}=1\""
    )));
    out.push(guarded(&format!(
        "echo fwtopo: backup of the firewall policy from before fwtopo: {BACKUP_CMD}"
    )));
    out.push(String::new());

    out.push(rem(
        "---- this node's rules: every rule of one kind has the same name. The rules an earlier export of",
    ));
    out.push(rem(
        "this node added are renamed ...-old first, and deleted only once this export's are in ----",
    ));
    for kind in Kind::ALL {
        let name = kind.rule_name(node);
        out.push(guarded(&format!(
            "netsh advfirewall firewall set rule name=\"{name}\" new name=\"{name}-old\""
        )));
    }
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
                "the rules of an earlier --egress strict run are deleted below; the derived outbound rules, for reference:",
            ));
            for l in &p.outbound_listed {
                out.push(rem(&format!("  {}: {}", l.summary, l.comment)));
            }
        }
    }

    if p.winrm_basic_http {
        out.push(String::new());
        out.extend(winrm_block(&p.winrm_peers));
    }

    out.push(String::new());
    out.push(rem(
        "---- built-in rules that open a port this design restricts ----",
    ));
    out.push(rem(
        "netsh finds rules only by their translated display name, so PowerShell does this by stable name.",
    ));
    out.extend(
        windows_builtin::explain(p.disable.as_deref())
            .iter()
            .map(|l| rem(l)),
    );
    if let Some(rules) = p.disable.as_deref().filter(|r| !r.is_empty()) {
        out.push(checked(&format!(
            "powershell -NoProfile -Command \"{}\"",
            windows_builtin::disable_command(rules)
        )));
    }
    out.push(String::new());

    out.push(rem(
        "---- the rules of the earlier export, now that this export's are in ----",
    ));
    for kind in Kind::ALL {
        let name = kind.rule_name(node);
        out.push(guarded(&format!(
            "netsh advfirewall firewall delete rule name=\"{name}-old\""
        )));
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
    out.push(checked(&format!(
        "netsh advfirewall set allprofiles firewallpolicy {policy}"
    )));
    out.push(checked("netsh advfirewall set allprofiles state on"));
    out.push(String::new());

    out.push(rem(
        "---- what else lets traffic in: enabled inbound allow rules fwtopo did not make ----",
    ));
    out.push(guarded(
        "echo fwtopo: enabled inbound allow rules not made by fwtopo. They stay in force next to these rules, review them:",
    ));
    out.push(guarded(&format!(
        "powershell -NoProfile -Command \"{}\"",
        windows_builtin::LIST_OTHERS
    )));
    out.push(String::new());

    out.push(format!(
        "if defined {FAILED} echo fwtopo: FAILED: a command above failed, see its message. Nothing after it ran: the default policy is unchanged and the rules of an earlier run are kept."
    ));
    out.push(guarded(
        "echo fwtopo: done. Check that a new Remote Desktop session from the admin zone still connects.",
    ));
    out.push(format!(
        "echo fwtopo: {ROLL_BACK}, run these lines in an elevated cmd.exe:"
    ));
    out.push(format!("echo   netsh advfirewall import {BACKUP_CMD}"));
    if p.winrm_basic_http {
        out.extend(
            windows::WINRM_UNDO
                .iter()
                .map(|u| format!("echo   cmd /c {u}")),
        );
    }
    // The script's exit status: 1 when something failed (errorlevel 1 from a first run's
    // "No rules match" must not count).
    out.push(format!("if defined {FAILED} cmd /c exit 1"));
    out.push(guarded("cmd /c exit 0"));
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
        "and the built-in WinRM HTTP rules, which allow 5985 from any address, are disabled below.".into(),
        "Safer: an HTTPS listener on 5986 with a certificate (winrm quickconfig -transport:https), Basic".into(),
        "only over HTTPS, AllowUnencrypted left false; then delete these lines. winrm quickconfig is not".into(),
        "used here because it turns the built-in HTTP rules back on.".into(),
        "sc config needs the space after start= (sc.exe syntax). net start waits until the service runs,".into(),
        "which replaces the document's timeout pauses. The listener and service may already exist: an".into(),
        "error saying so is expected. cmd /c is needed because winrm is itself a .cmd script.".into(),
        "The rollback printed at the end turns Basic and AllowUnencrypted off again (Windows' defaults).".into(),
    ]
    .iter()
    .map(|l| rem(l))
    .collect();
    v.push(guarded("echo fwtopo: WARNING: enabling WinRM Basic authentication over plain HTTP, port 5985, Management Node only. Prefer HTTPS on 5986."));
    for (command, check) in WINRM_CMD {
        v.push(if check {
            checked(command)
        } else {
            guarded(command)
        });
    }
    v
}

/// The PA document's commands, verbatim where they are correct (`start= auto` keeps its space),
/// and whether a failure (errorlevel) stops the script: `net start` fails when the service already
/// runs and `winrm create` when the listener exists, and a real failure of either shows in the
/// `winrm put` lines after them.
const WINRM_CMD: [(&str, bool); 5] = [
    ("sc config winrm start= auto", true),
    ("net start winrm", false),
    (
        r#"cmd /c winrm put winrm/config/service @{AllowUnencrypted = "true"}"#,
        true,
    ),
    (
        r#"cmd /c winrm put winrm/config/service/Auth @{Basic = "true"}"#,
        true,
    ),
    (
        r#"cmd /c winrm create winrm/config/Listener?Address=*+Transport=http @{Port="5985"}"#,
        false,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_rule_stays_within_the_line_limit() {
        let r = windows::longest_rule(false);
        let line = add_rule(&r).unwrap_or_default();
        assert!(line.contains("remoteip=2001:db8:"), "{line}");
        assert!(line.contains(",60297-60298 "), "{line}");
        assert!(line.len() <= MAX_LINE, "{} characters", line.len());
        let mut out = Vec::new();
        push_rule(&mut out, &windows::longest_rule(true), false);
        assert!(out.len() > 1);
        for l in out {
            assert!(l.len() <= MAX_LINE, "{} characters: {l}", l.len());
        }
    }
}
