//! PowerShell export: NetSecurity `New-NetFirewallRule` in our own `-Group`, with a timed rollback.
//!
//! Idempotent by group: every rule of the node is in group `fwtopo-<node>`. The rules of an earlier
//! export are noted first (the group, and the node's exact display names, which rules a netsh
//! export added carry without a group), this export's are created, and only then the noted ones
//! removed, so a connection never loses the rule it rests on; never a bare
//! `Remove-NetFirewallRule`, which deletes every rule, and no wildcard, so node `web` never
//! removes the rules of node `web-2`. The rules, their names and chunks are the shared Windows plan,
//! so the two exports never disagree. Before any change the policy is exported and a scheduled
//! task imports it again unless the operator confirms within [`ROLLBACK_SECONDS`], in the spirit of
//! `iptables-apply`.

use super::windows::{self, BACKUP_DIR, BACKUP_FILE, Kind, Remote, WinProto, WinRule};
use super::windows_builtin;
use super::{Egress, Export, header, text};
use crate::engine::Direction;
use crate::target::Target;

/// How long the operator has to confirm before the old policy comes back.
pub const ROLLBACK_SECONDS: u32 = 300;
/// The scheduled task that rolls back.
const ROLLBACK_TASK: &str = "fwtopo-rollback";

fn comment(s: &str) -> String {
    if s.is_empty() {
        "#".to_string()
    } else {
        format!("# {s}")
    }
}

/// A port list: single ports as numbers, ranges as strings (`80,443,'8352-8364'`).
fn ports(r: &WinRule) -> String {
    r.ports
        .iter()
        .map(|p| {
            if p.is_single() {
                p.start.to_string()
            } else {
                format!("'{}'", p.format_with("-"))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The `New-NetFirewallRule` command for a rule; `remote` is the `-RemoteAddress` value.
fn new_rule(r: &WinRule, group: &str, remote: &str) -> String {
    let (direction, port_key) = match r.direction {
        Direction::Inbound => ("Inbound", "-LocalPort"),
        Direction::Outbound => ("Outbound", "-RemotePort"),
    };
    let protocol = match r.protocol {
        WinProto::Tcp => "-Protocol TCP".to_string(),
        WinProto::Udp => "-Protocol UDP".to_string(),
        WinProto::Icmpv4(t) => format!("-Protocol ICMPv4 -IcmpType {t}"),
        WinProto::Icmpv6(t) => format!("-Protocol ICMPv6 -IcmpType {t}"),
    };
    let mut line = format!(
        "New-NetFirewallRule -DisplayName {} -Group {} -Description {} -Direction {direction} -Action Allow {protocol}",
        text::ps_quote(&r.name),
        text::ps_quote(group),
        text::ps_quote(&r.description),
    );
    if !r.ports.is_empty() {
        line.push_str(&format!(" {port_key} {}", ports(r)));
    }
    line.push_str(&format!(
        " -RemoteAddress {remote} -Profile Any -Enabled True | Out-Null"
    ));
    line
}

/// The display names every rule of the node has (one per kind, shared with netsh). A node name has
/// no wildcard characters, so `-DisplayName` matches exactly these.
fn display_names(node: &str) -> Vec<String> {
    Kind::ALL.iter().map(|k| k.rule_name(node)).collect()
}

/// The PowerShell script for one node. Its body is one `& { ... }` block: pasted into a console,
/// a `throw` (or a failed cmdlet under `$ErrorActionPreference = 'Stop'`) then ends the whole
/// block, not only its own line, and the preference does not stay set in the operator's console.
/// A console without PSReadLine (Windows Server 2012 R2) ends a pasted block at an empty line, so
/// the body has none: [`body_line`] writes `#` instead.
/// The first line: a comment in PowerShell. Pasted into cmd.exe, `#` is no command (an error), the
/// `echo` says why nothing runs, and `copy con nul` reads every line pasted after it from the
/// console and throws it away until Ctrl+C: the script stops there instead of failing line by line.
pub(super) const CMD_STOP: &str = "# & echo fwtopo: STOP. These are PowerShell commands and this console is cmd.exe: nothing was run. Press Ctrl+C, then paste them into an elevated PowerShell, or use the netsh commands, which run in cmd.exe. & copy con nul";

pub fn render(x: &Export) -> String {
    let node = &x.node().name;
    let group = format!("fwtopo-{node}");
    let p = windows::plan(x);
    let strict = x.options.egress == Egress::Strict;
    let mut out: Vec<String> = vec![CMD_STOP.into(), "#Requires -RunAsAdministrator".into()];

    let apply: Vec<String> = vec![
        "save as a .ps1 file and run it in an elevated PowerShell (Run as administrator):".into(),
        format!("  powershell -NoProfile -ExecutionPolicy Bypass -File .\\{node}.powershell.ps1"),
        "or paste it into one. It checks that the console is elevated (net session), saves the current".into(),
        format!(
            "policy to ProgramData\\{BACKUP_DIR}\\{BACKUP_FILE} (only once, so the backup stays the policy from"
        ),
        format!(
            "before fwtopo, whatever session runs it again), schedules task {ROLLBACK_TASK} to import it in"
        ),
        format!(
            "{ROLLBACK_SECONDS} seconds, adds this node's rules, and only then removes the ones an earlier export"
        ),
        "of this node added (so a connection resting on them never loses them), then sets the default".into(),
        format!("policy. The rules are group {group}, display names {}", display_names(node).join(", ")),
        "(the display names also catch the rules a netsh export of this node added). The first error".into(),
        "stops the rest.".into(),
    ];
    let mut rollback: Vec<String> = vec![format!(
        "automatic: unless confirmed, task {ROLLBACK_TASK} imports the backup after {ROLLBACK_SECONDS} seconds"
    )];
    if p.winrm_basic_http {
        rollback.push(
            "and turns the WinRM preparation below off again (Basic and AllowUnencrypted false)."
                .into(),
        );
    }
    rollback.extend([
        format!(
            "confirm (keep the new rules): Unregister-ScheduledTask -TaskName {ROLLBACK_TASK} -Confirm:$false"
        ),
        format!(
            "by hand: netsh advfirewall import (Join-Path $env:ProgramData {BACKUP_DIR}\\{BACKUP_FILE})"
        ),
    ]);
    if p.winrm_basic_http {
        rollback.extend(
            windows::WINRM_UNDO
                .iter()
                .map(|u| format!("  and: cmd /c {u}")),
        );
    }
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let rollback: Vec<&str> = rollback.iter().map(String::as_str).collect();
    for l in header(x, Target::Powershell, &apply, &rollback) {
        out.push(comment(&l));
    }
    out.extend(windows::windows_notes(x, "# "));
    out.push(String::new());
    out.push("& {".into());
    let mut body: Vec<String> = vec!["$ErrorActionPreference = 'Stop'".into(), String::new()];

    body.push(comment(
        "---- before any change: an elevated console (#Requires is only a comment when pasted) ----",
    ));
    body.push("net session | Out-Null".into());
    body.push("if ($LASTEXITCODE -ne 0) { throw 'fwtopo: net session failed, so this PowerShell is not elevated: run it as administrator. Nothing was changed.' }".into());
    body.push(String::new());

    body.push(comment(
        "---- backup of the current policy, taken once, and a rollback unless confirmed ----",
    ));
    body.push(comment(
        "Under ProgramData, not TEMP: Remote Desktop deletes a session's TEMP folder at logoff. Anyone may",
    ));
    body.push(comment(
        "create folders in ProgramData, so the folder is taken over (owner and only access: Administrators",
    ));
    body.push(comment(
        "and SYSTEM) before anything is written or trusted there. A backup an earlier version kept in",
    ));
    body.push(comment("TEMP is kept, as the policy from before fwtopo."));
    body.push(format!(
        "$fwtopoDir = Join-Path -Path $env:ProgramData -ChildPath {}",
        text::ps_quote(BACKUP_DIR)
    ));
    body.push(format!(
        "$fwtopoBackup = Join-Path -Path $fwtopoDir -ChildPath {}",
        text::ps_quote(BACKUP_FILE)
    ));
    body.push(format!(
        "$fwtopoOldBackup = Join-Path -Path $env:TEMP -ChildPath {}",
        text::ps_quote(BACKUP_FILE)
    ));
    body.push("if (-not (Test-Path -LiteralPath $fwtopoDir)) { New-Item -ItemType Directory -Path $fwtopoDir | Out-Null }".into());
    for icacls in [
        "icacls $fwtopoDir /setowner '*S-1-5-32-544' /T /C /Q | Out-Null",
        "icacls $fwtopoDir /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' /T /C /Q | Out-Null",
    ] {
        body.push(icacls.into());
        body.push("if ($LASTEXITCODE -ne 0) { throw 'fwtopo: icacls could not take over the backup folder; nothing was changed' }".into());
    }
    body.push("if (-not (Test-Path -LiteralPath $fwtopoBackup)) { if (Test-Path -LiteralPath $fwtopoOldBackup) { Copy-Item -LiteralPath $fwtopoOldBackup -Destination $fwtopoBackup } }".into());
    body.push("if (-not (Test-Path -LiteralPath $fwtopoBackup)) { netsh advfirewall export $fwtopoBackup | Out-Null }".into());
    body.push(
        "if (-not (Test-Path -LiteralPath $fwtopoBackup)) { throw 'fwtopo: netsh advfirewall export failed; nothing was changed' }"
            .into(),
    );
    body.push(
        "Write-Host ('fwtopo: backup of the firewall policy from before fwtopo: ' + $fwtopoBackup)"
            .into(),
    );
    body.push(
        "$fwtopoImport = New-ScheduledTaskAction -Execute 'netsh.exe' -Argument ('advfirewall import \"' + $fwtopoBackup + '\"')".into(),
    );
    let mut actions = vec!["$fwtopoImport"];
    if p.winrm_basic_http {
        for (var, undo) in ["$fwtopoUnencrypted", "$fwtopoBasic"]
            .iter()
            .zip(windows::WINRM_UNDO)
        {
            body.push(format!(
                "{var} = New-ScheduledTaskAction -Execute 'cmd.exe' -Argument {}",
                text::ps_quote(&format!("/c {undo}"))
            ));
            actions.push(var);
        }
    }
    body.push(format!("$fwtopoTrigger = New-ScheduledTaskTrigger -Once -At ((Get-Date).AddSeconds({ROLLBACK_SECONDS}))"));
    body.push(format!(
        "Register-ScheduledTask -TaskName '{ROLLBACK_TASK}' -Action {} -Trigger $fwtopoTrigger -User 'NT AUTHORITY\\SYSTEM' -RunLevel Highest -Force | Out-Null",
        actions.join(",")
    ));
    body.push(format!(
        "Write-Host 'fwtopo: the policy from before fwtopo comes back in {ROLLBACK_SECONDS} seconds unless you confirm (see the end).'"
    ));
    body.push(String::new());

    body.push(comment(&format!(
        "---- this node's rules (group {group}): the earlier export's are noted, this export's created, ----"
    )));
    body.push(comment("---- and only then the noted ones removed ----"));
    body.push(format!(
        "$fwtopoOld = @(Get-NetFirewallRule -Group {} -ErrorAction SilentlyContinue)",
        text::ps_quote(&group)
    ));
    body.push(comment(
        "rules a netsh export of this node added have no group, only these display names (-old: a netsh run that stopped):",
    ));
    let names: Vec<String> = display_names(node)
        .iter()
        .chain(
            display_names(node)
                .iter()
                .map(|n| format!("{n}-old"))
                .collect::<Vec<_>>()
                .iter(),
        )
        .map(|n| text::ps_quote(n))
        .collect();
    body.push(format!(
        "$fwtopoOld += @(Get-NetFirewallRule -DisplayName {} -ErrorAction SilentlyContinue | Where-Object -Property Group -NE -Value {})",
        names.join(","),
        text::ps_quote(&group)
    ));
    let mut section = None;
    for r in &p.rules {
        let icmp = matches!(r.protocol, WinProto::Icmpv4(_) | WinProto::Icmpv6(_));
        let title = match r.kind {
            Kind::Management => {
                "management access from the admin zone, first, so the way in stays open"
            }
            _ if icmp && r.direction == Direction::Inbound => {
                "ICMP: IPv4 path MTU discovery and IPv6 neighbour discovery need it"
            }
            _ if icmp => "ICMP out (--egress strict)",
            Kind::Inbound => "inbound",
            Kind::Outbound => "outbound (--egress strict)",
        };
        if section != Some(title) {
            body.push(String::new());
            body.push(comment(&format!("-- {title}")));
            section = Some(title);
        }
        if !icmp {
            body.push(comment(&r.description));
        }
        push_rule(&mut body, r, &group);
    }
    if !p.outbound_listed.is_empty() {
        body.push(String::new());
        body.push(comment("-- outbound is allowed by default (--egress open); the derived outbound rules, for reference:"));
        for l in &p.outbound_listed {
            body.push(comment(&format!("  {}: {}", l.summary, l.comment)));
        }
    }

    if p.winrm_basic_http {
        body.push(String::new());
        body.extend(winrm_block(&p.winrm_peers));
    }

    body.push(String::new());
    body.push(comment(
        "---- built-in rules that open a port this design restricts ----",
    ));
    body.extend(
        windows_builtin::explain(p.disable.as_deref())
            .iter()
            .map(|l| comment(l)),
    );
    if let Some(rules) = p.disable.as_deref().filter(|r| !r.is_empty()) {
        body.push(windows_builtin::disable_command(rules));
    }
    body.push(String::new());

    body.push(comment(
        "---- the earlier export's rules, now that this export's are in ----",
    ));
    body.push("if ($fwtopoOld) { $fwtopoOld | Remove-NetFirewallRule }".into());
    body.push(String::new());

    body.push(comment(
        "---- default policy for every profile, and the firewall on ----",
    ));
    let outbound = if strict { "Block" } else { "Allow" };
    body.push(format!("Set-NetFirewallProfile -All -DefaultInboundAction Block -DefaultOutboundAction {outbound} -Enabled True"));
    body.push(String::new());

    body.push(comment(
        "---- what else lets traffic in: enabled inbound allow rules fwtopo did not make ----",
    ));
    body.push("Write-Host 'fwtopo: enabled inbound allow rules not made by fwtopo. They stay in force next to these rules (a block policy never overrides an allow rule), review them:'".into());
    body.push(format!("{} | Out-Host", windows_builtin::LIST_OTHERS));
    body.push(String::new());

    body.push(format!(
        "Write-Host 'fwtopo: done. Check that a NEW Remote Desktop or WinRM session from the admin zone connects, then confirm within {ROLLBACK_SECONDS} seconds with:'"
    ));
    body.push(format!(
        "Write-Host '  Unregister-ScheduledTask -TaskName {ROLLBACK_TASK} -Confirm:$false'"
    ));
    body.push(
        "Write-Host 'fwtopo: without that, the policy from before fwtopo comes back by itself.'"
            .into(),
    );
    out.extend(body.into_iter().map(body_line));
    out.push("}".into());
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// A line inside the `& { ... }` block: never empty (see [`render`]).
fn body_line(l: String) -> String {
    if l.is_empty() { "#".into() } else { l }
}

/// One planned rule: its `New-NetFirewallRule`, or for a host name, a lookup when applied.
fn push_rule(body: &mut Vec<String>, r: &WinRule, group: &str) {
    match &r.remote {
        Remote::Any => body.push(new_rule(r, group, "Any")),
        Remote::List(v) => {
            let list: Vec<String> = v.iter().map(|a| text::ps_quote(a)).collect();
            body.push(new_rule(r, group, &list.join(",")));
        }
        Remote::Dns(host) => {
            let way = if r.direction == Direction::Inbound {
                "from"
            } else {
                "to"
            };
            let what = text::comment_text(&format!(
                "{} {} {} {way} {host}",
                r.direction.as_str(),
                proto_word(r.protocol),
                text::ports(
                    &crate::ports::PortSet::from_ranges(r.ports.clone()),
                    "-",
                    ","
                )
            ));
            body.push(comment(&format!(
                "{what}: a DNS name, resolved now, once. Its addresses change: run this"
            )));
            body.push(comment(
                "script again when they do, or pin them as an external host in the topology.",
            ));
            body.push(format!(
                "$fwtopoAddr = @(Resolve-DnsName -Name {} -DnsOnly -ErrorAction SilentlyContinue | Where-Object -Property IPAddress | Select-Object -ExpandProperty IPAddress)",
                text::ps_quote(host)
            ));
            body.push(format!(
                "if ($fwtopoAddr) {{ {} }} else {{ Write-Warning {} }}",
                new_rule(r, group, "$fwtopoAddr"),
                text::ps_quote(&format!(
                    "fwtopo: {host} did not resolve; no rule for {what}"
                ))
            ));
        }
    }
}

fn proto_word(p: WinProto) -> &'static str {
    match p {
        WinProto::Tcp => "tcp",
        WinProto::Udp => "udp",
        WinProto::Icmpv4(_) => "icmpv4",
        WinProto::Icmpv6(_) => "icmpv6",
    }
}

/// The WinRM preparation of the PA document in PowerShell's own terms (the document's cmd lines
/// would need `'@{...}'` quoting here), with its warning.
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
        "used because it turns the built-in rules back on.".into(),
        "These lines do what the document's cmd lines do: sc config winrm start= auto, sc start winrm,".into(),
        "winrm put winrm/config/service @{AllowUnencrypted=true}, .../Auth @{Basic=true}, and an HTTP".into(),
        "listener on 5985 (created only when none exists). The timed rollback turns Basic and".into(),
        "AllowUnencrypted off again (Windows' defaults) after importing the firewall policy.".into(),
    ]
    .iter()
    .map(|l| comment(l))
    .collect();
    v.push(
        "Write-Warning 'fwtopo: enabling WinRM Basic authentication over plain HTTP, port 5985, Management Node only. Prefer HTTPS on 5986.'"
            .into(),
    );
    v.extend(WINRM_PS.iter().map(|l| l.to_string()));
    v
}

/// The WinRM commands; `-Force` answers the WSMan provider's confirmation prompts.
const WINRM_PS: [&str; 6] = [
    "Set-Service -Name 'WinRM' -StartupType Automatic",
    "Start-Service -Name 'WinRM'",
    "Set-Item -Path 'WSMan:\\localhost\\Service\\AllowUnencrypted' -Value $true -Force",
    "Set-Item -Path 'WSMan:\\localhost\\Service\\Auth\\Basic' -Value $true -Force",
    "if (-not (Get-ChildItem -Path 'WSMan:\\localhost\\Listener' | Where-Object -Property Keys -Contains -Value 'Transport=HTTP')) { New-Item -Path 'WSMan:\\localhost\\Listener' -Transport HTTP -Address '*' -Force | Out-Null }",
    "Write-Host 'fwtopo: WinRM prepared as the PA document asks.'",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::netsh::MAX_LINE;

    #[test]
    fn the_longest_rule_stays_within_the_line_limit() {
        let group = format!("fwtopo-{}", "n".repeat(63));
        for dns in [false, true] {
            let mut body = Vec::new();
            push_rule(&mut body, &windows::longest_rule(dns), &group);
            assert!(body.iter().any(|l| l.contains("New-NetFirewallRule")));
            for l in body {
                assert!(l.len() <= MAX_LINE, "{} characters: {l}", l.len());
            }
        }
    }
}
