//! PowerShell export: NetSecurity `New-NetFirewallRule` in our own `-Group`, with a timed rollback.
//!
//! Idempotent by group: every rule of the node is in group `fwtopo-<node>`, which is removed (never a
//! bare `Remove-NetFirewallRule`, which deletes every rule) and created again. The rules, their names
//! and chunks are the netsh export's plan, so the two never disagree. Rules a netsh export added have
//! no group, so they are removed by their three exact display names as well; neither filter is a
//! wildcard, so node `web` never removes the rules of node `web-2`. Before any change the policy is
//! exported and a scheduled task imports it again unless the operator confirms within
//! [`ROLLBACK_SECONDS`], in the spirit of `iptables-apply`.

use super::windows::{self, BACKUP_FILE, Kind, Remote, WinProto, WinRule};
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

/// The PowerShell script for one node.
pub fn render(x: &Export) -> String {
    let node = &x.node().name;
    let group = format!("fwtopo-{node}");
    let p = windows::plan(x);
    let strict = x.options.egress == Egress::Strict;
    let mut out: Vec<String> = vec!["#Requires -RunAsAdministrator".into()];

    let apply: Vec<String> = vec![
        "save as a .ps1 file and run it in an elevated PowerShell (Run as administrator):".into(),
        format!("  powershell -NoProfile -ExecutionPolicy Bypass -File .\\{node}.powershell.ps1"),
        format!(
            "It saves the current policy to {BACKUP_FILE} in TEMP (only once, so the backup stays the"
        ),
        format!(
            "policy from before fwtopo), schedules task {ROLLBACK_TASK} to import it in {ROLLBACK_SECONDS} seconds,"
        ),
        "removes this node's rules and adds them again, then sets the default policy. The rules are".into(),
        format!("group {group}, display names {}", display_names(node).join(", ")),
        "(the display names also catch the rules a netsh export of this node added).".into(),
    ];
    let rollback: Vec<String> = vec![
        format!(
            "automatic: unless confirmed, task {ROLLBACK_TASK} imports the backup after {ROLLBACK_SECONDS} seconds."
        ),
        format!(
            "confirm (keep the new rules): Unregister-ScheduledTask -TaskName {ROLLBACK_TASK} -Confirm:$false"
        ),
        format!("by hand: netsh advfirewall import (Join-Path $env:TEMP {BACKUP_FILE})"),
    ];
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let rollback: Vec<&str> = rollback.iter().map(String::as_str).collect();
    for l in header(x, Target::Powershell, &apply, &rollback) {
        out.push(comment(&l));
    }
    out.extend(windows::windows_notes(x, "# "));
    out.push(String::new());
    out.push("$ErrorActionPreference = 'Stop'".into());
    out.push(String::new());

    out.push(comment(
        "---- backup of the current policy, and a rollback unless confirmed ----",
    ));
    out.push(format!(
        "$fwtopoBackup = Join-Path -Path $env:TEMP -ChildPath {}",
        text::ps_quote(BACKUP_FILE)
    ));
    out.push("if (-not (Test-Path -LiteralPath $fwtopoBackup)) { netsh advfirewall export $fwtopoBackup | Out-Null }".into());
    out.push(
        "if (-not (Test-Path -LiteralPath $fwtopoBackup)) { throw 'fwtopo: netsh advfirewall export failed; nothing was changed' }"
            .into(),
    );
    out.push(
        "Write-Host ('fwtopo: backup of the firewall policy from before fwtopo: ' + $fwtopoBackup)"
            .into(),
    );
    out.push(
        "$fwtopoRollback = New-ScheduledTaskAction -Execute 'netsh.exe' -Argument ('advfirewall import \"' + $fwtopoBackup + '\"')".into(),
    );
    out.push(format!("$fwtopoTrigger = New-ScheduledTaskTrigger -Once -At ((Get-Date).AddSeconds({ROLLBACK_SECONDS}))"));
    out.push(format!(
        "Register-ScheduledTask -TaskName '{ROLLBACK_TASK}' -Action $fwtopoRollback -Trigger $fwtopoTrigger -User 'NT AUTHORITY\\SYSTEM' -RunLevel Highest -Force | Out-Null"
    ));
    out.push(format!(
        "Write-Host 'fwtopo: the policy from before fwtopo comes back in {ROLLBACK_SECONDS} seconds unless you confirm (see the end).'"
    ));
    out.push(String::new());

    out.push(comment(&format!(
        "---- this node's rules: group {group} is removed, then created again ----"
    )));
    out.push(format!(
        "Remove-NetFirewallRule -Group {} -ErrorAction SilentlyContinue",
        text::ps_quote(&group)
    ));
    out.push(comment(
        "rules a netsh export of this node added have no group, only these exact display names:",
    ));
    let names: Vec<String> = display_names(node)
        .iter()
        .map(|n| text::ps_quote(n))
        .collect();
    out.push(format!(
        "Remove-NetFirewallRule -DisplayName {} -ErrorAction SilentlyContinue",
        names.join(",")
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
            out.push(String::new());
            out.push(comment(&format!("-- {title}")));
            section = Some(title);
        }
        if !icmp {
            out.push(comment(&r.description));
        }
        match &r.remote {
            Remote::Any => out.push(new_rule(r, &group, "Any")),
            Remote::List(v) => {
                let list: Vec<String> = v.iter().map(|a| text::ps_quote(a)).collect();
                out.push(new_rule(r, &group, &list.join(",")));
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
                out.push(comment(&format!(
                    "{what}: a DNS name, resolved now, once. Its addresses change: run this"
                )));
                out.push(comment(
                    "script again when they do, or pin them as an external host in the topology.",
                ));
                out.push(format!(
                    "$fwtopoAddr = @(Resolve-DnsName -Name {} -DnsOnly -ErrorAction SilentlyContinue | Where-Object -Property IPAddress | Select-Object -ExpandProperty IPAddress)",
                    text::ps_quote(host)
                ));
                out.push(format!(
                    "if ($fwtopoAddr) {{ {} }} else {{ Write-Warning {} }}",
                    new_rule(r, &group, "$fwtopoAddr"),
                    text::ps_quote(&format!(
                        "fwtopo: {host} did not resolve; no rule for {what}"
                    ))
                ));
            }
        }
    }
    if !p.outbound_listed.is_empty() {
        out.push(String::new());
        out.push(comment("-- outbound is allowed by default (--egress open); the derived outbound rules, for reference:"));
        for l in &p.outbound_listed {
            out.push(comment(&format!("  {}: {}", l.summary, l.comment)));
        }
    }
    out.push(String::new());

    out.push(comment(
        "---- default policy for every profile, and the firewall on ----",
    ));
    let outbound = if strict { "Block" } else { "Allow" };
    out.push(format!("Set-NetFirewallProfile -All -DefaultInboundAction Block -DefaultOutboundAction {outbound} -Enabled True"));

    if p.winrm_basic_http {
        out.push(String::new());
        out.extend(winrm_block(&p.winrm_peers));
    }

    out.push(String::new());
    out.push(format!(
        "Write-Host 'fwtopo: done. Check that a NEW Remote Desktop or WinRM session from the admin zone connects, then confirm within {ROLLBACK_SECONDS} seconds with:'"
    ));
    out.push(format!(
        "Write-Host '  Unregister-ScheduledTask -TaskName {ROLLBACK_TASK} -Confirm:$false'"
    ));
    out.push(
        "Write-Host 'fwtopo: without that, the policy from before fwtopo comes back by itself.'"
            .into(),
    );
    let mut s = out.join("\n");
    s.push('\n');
    s
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
        "and the built-in rules WINRM-HTTP-In-TCP and WINRM-HTTP-In-TCP-PUBLIC, which allow 5985 from".into(),
        "any address, are disabled at the end. Safer: an HTTPS listener on 5986 with a certificate".into(),
        "(winrm quickconfig -transport:https), Basic only over HTTPS, AllowUnencrypted left false; then".into(),
        "delete these lines. winrm quickconfig is not used because it turns the built-in rules back on.".into(),
        "These lines do what the document's cmd lines do: sc config winrm start= auto, sc start winrm,".into(),
        "winrm put winrm/config/service @{AllowUnencrypted=true}, .../Auth @{Basic=true}, and an HTTP".into(),
        "listener on 5985 (created only when none exists). The timed rollback restores the firewall".into(),
        "policy only, not these WinRM settings.".into(),
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
const WINRM_PS: [&str; 7] = [
    "Set-Service -Name 'WinRM' -StartupType Automatic",
    "Start-Service -Name 'WinRM'",
    "Set-Item -Path 'WSMan:\\localhost\\Service\\AllowUnencrypted' -Value $true -Force",
    "Set-Item -Path 'WSMan:\\localhost\\Service\\Auth\\Basic' -Value $true -Force",
    "if (-not (Get-ChildItem -Path 'WSMan:\\localhost\\Listener' | Where-Object -Property Keys -Contains -Value 'Transport=HTTP')) { New-Item -Path 'WSMan:\\localhost\\Listener' -Transport HTTP -Address '*' -Force | Out-Null }",
    "Disable-NetFirewallRule -Name 'WINRM-HTTP-In-TCP','WINRM-HTTP-In-TCP-PUBLIC' -ErrorAction SilentlyContinue",
    "Write-Host 'fwtopo: WinRM prepared as the PA document asks.'",
];
