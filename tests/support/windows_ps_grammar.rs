//! The PowerShell (.ps1) grammar of tests/support/windows_grammar.rs.

use super::netsh::{LIST_OTHERS, WINRM_UNDO, disable_built_ins};
use super::*;

// ------------------------------------------------------------------------------------------------
// PowerShell grammar

#[path = "windows_ps_syntax.rs"]
mod syntax;

use syntax::{Cmd, PsParser, Tok, Val, ps_tokens};

/// Cmdlets the PowerShell export may use, with their parameters.
fn ps_allowed(cmd: &str) -> Option<&'static [&'static str]> {
    Some(match cmd {
        "New-NetFirewallRule" => &[
            "DisplayName",
            "Group",
            "Description",
            "Direction",
            "Action",
            "Protocol",
            "IcmpType",
            "LocalPort",
            "RemotePort",
            "RemoteAddress",
            "Profile",
            "Enabled",
        ],
        // Only as `$fwtopoOld | Remove-NetFirewallRule` and after the built-in filter (checked
        // by line in parse_powershell): never with a filter of its own, never bare.
        "Remove-NetFirewallRule" | "Disable-NetFirewallRule" => &[],
        "Get-NetFirewallRule" => &[
            "Group",
            "DisplayName",
            "Direction",
            "Enabled",
            "Action",
            "ErrorAction",
        ],
        "Format-Table" => &["Property", "AutoSize"],
        "Out-Host" => &[],
        "Copy-Item" => &["LiteralPath", "Destination"],
        "icacls" | "net" => &[],
        "Set-NetFirewallProfile" => &[
            "All",
            "DefaultInboundAction",
            "DefaultOutboundAction",
            "Enabled",
        ],
        "Join-Path" => &["Path", "ChildPath"],
        "Test-Path" => &["LiteralPath"],
        "Out-Null" | "Get-Date" => &[],
        "Write-Host" | "Write-Warning" => &[],
        "New-ScheduledTaskAction" => &["Execute", "Argument"],
        "New-ScheduledTaskTrigger" => &["Once", "At"],
        "Register-ScheduledTask" => &["TaskName", "Action", "Trigger", "User", "RunLevel", "Force"],
        "Resolve-DnsName" => &["Name", "DnsOnly", "ErrorAction"],
        "Where-Object" => &["Property", "Contains", "In", "NE", "NotLike", "Value"],
        "Select-Object" => &["ExpandProperty"],
        "Set-Service" => &["Name", "StartupType"],
        "Start-Service" => &["Name"],
        "Set-Item" => &["Path", "Value", "Force"],
        "Get-ChildItem" => &["Path"],
        "New-Item" => &["ItemType", "Path", "Transport", "Address", "Force"],
        "netsh" => &[],
        _ => return None,
    })
}

fn str_of(v: &Val) -> Result<&str, String> {
    match v {
        Val::Str(s) | Val::Word(s) => Ok(s),
        other => Err(format!("expected a plain string, found {other:?}")),
    }
}

fn list_of(v: &Val) -> Vec<Val> {
    match v {
        Val::List(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// Checks one command's parameters and values; returns a rule for `New-NetFirewallRule`.
fn ps_check_cmd(cmd: &Cmd, node: &str) -> Result<Option<ParsedRule>, String> {
    let allowed = ps_allowed(&cmd.name).ok_or_else(|| format!("unknown command {}", cmd.name))?;
    let mut seen = BTreeSet::new();
    for (p, v) in &cmd.params {
        if !allowed.contains(&p.as_str()) && p != "ErrorAction" {
            return Err(format!(
                "{} has no parameter -{p} in fwtopo's grammar",
                cmd.name
            ));
        }
        if !seen.insert(p.clone()) {
            return Err(format!("-{p} given twice"));
        }
        if p == "ErrorAction" && v.as_ref().map(str_of) != Some(Ok("SilentlyContinue")) {
            return Err("-ErrorAction must be SilentlyContinue".into());
        }
        if let Some(Val::Str(s)) = v
            && !s.chars().all(|c| (' '..='~').contains(&c))
        {
            return Err(format!("non-ASCII or control character in '{s}'"));
        }
    }
    let get = |k: &str| {
        cmd.params
            .iter()
            .find(|(p, _)| p == k)
            .and_then(|(_, v)| v.as_ref())
    };
    match cmd.name.as_str() {
        "Write-Host" | "Write-Warning" if cmd.positional.len() != 1 => {
            return Err(format!("{} takes one message", cmd.name));
        }
        "net" if cmd.positional != [Val::Word("session".into())] => {
            return Err(format!("net {:?}", cmd.positional));
        }
        "icacls" => {
            let w = |x: &str| Val::Word(x.into());
            let q = |x: &str| Val::Str(x.into());
            let dir = Val::Var("fwtopoDir".into());
            let owner = [
                dir.clone(),
                w("/setowner"),
                q("*S-1-5-32-544"),
                w("/T"),
                w("/C"),
                w("/Q"),
            ];
            let private = [
                dir,
                w("/inheritance:r"),
                w("/grant:r"),
                q("*S-1-5-32-544:(OI)(CI)F"),
                q("*S-1-5-18:(OI)(CI)F"),
                w("/T"),
                w("/C"),
                w("/Q"),
            ];
            if cmd.positional != owner && cmd.positional != private {
                return Err(format!("icacls {:?}", cmd.positional));
            }
        }
        "New-ScheduledTaskAction" => match get("Execute").map(str_of) {
            Some(Ok("netsh.exe")) => {}
            Some(Ok("cmd.exe")) => {
                let argument = get("Argument").map(str_of);
                if !WINRM_UNDO
                    .iter()
                    .any(|u| argument == Some(Ok(&format!("/c {u}"))))
                {
                    return Err(format!("cmd.exe {argument:?} in the rollback task"));
                }
            }
            other => return Err(format!("task action {other:?}")),
        },
        "netsh" => {
            let words: Vec<String> = cmd.positional.iter().map(|v| format!("{v:?}")).collect();
            match cmd.positional.as_slice() {
                [Val::Word(a), Val::Word(b), Val::Var(v)]
                    if a == "advfirewall"
                        && (b == "export" || b == "import")
                        && v == "fwtopoBackup" => {}
                _ => return Err(format!("netsh {words:?}")),
            }
        }
        "Set-NetFirewallProfile" => {
            if !cmd.params.iter().any(|(p, _)| p == "All")
                || get("DefaultInboundAction").map(str_of) != Some(Ok("Block"))
            {
                return Err(
                    "Set-NetFirewallProfile must be -All -DefaultInboundAction Block".into(),
                );
            }
            if !matches!(
                get("DefaultOutboundAction").map(str_of),
                Some(Ok("Allow" | "Block"))
            ) || get("Enabled").map(str_of) != Some(Ok("True"))
            {
                return Err("Set-NetFirewallProfile outbound/enabled".into());
            }
        }
        "New-NetFirewallRule" => {
            if !cmd.positional.is_empty() {
                return Err("positional argument to New-NetFirewallRule".into());
            }
            let name = get("DisplayName")
                .ok_or("no -DisplayName")
                .and_then(|v| str_of(v).map_err(|_| "bad -DisplayName"))?;
            if get("Group").map(str_of) != Some(Ok(&format!("fwtopo-{node}"))) {
                return Err("-Group must be this node's group".into());
            }
            let description = str_of(get("Description").ok_or("no -Description")?)?;
            let direction = match get("Direction").map(str_of) {
                Some(Ok("Inbound")) => Direction::Inbound,
                Some(Ok("Outbound")) => Direction::Outbound,
                other => return Err(format!("-Direction {other:?}")),
            };
            let kind = rule_kind(name, node, direction)?;
            if get("Action").map(str_of) != Some(Ok("Allow"))
                || get("Profile").map(str_of) != Some(Ok("Any"))
                || get("Enabled").map(str_of) != Some(Ok("True"))
            {
                return Err("-Action Allow -Profile Any -Enabled True expected".into());
            }
            let (protocol, family) = match get("Protocol").map(str_of) {
                Some(Ok("TCP")) => (Some(Protocol::Tcp), None),
                Some(Ok("UDP")) => (Some(Protocol::Udp), None),
                Some(Ok("ICMPv4")) => (None, Some(4)),
                Some(Ok("ICMPv6")) => (None, Some(6)),
                other => return Err(format!("-Protocol {other:?}")),
            };
            let icmp = match (family, get("IcmpType")) {
                (None, None) => None,
                (Some(f), Some(Val::Num(t))) if *t <= 255 => Some((f, *t as u8)),
                (Some(_), Some(t)) => return Err(format!("-IcmpType {t:?} (one type)")),
                _ => return Err("-IcmpType belongs to ICMP rules, and they need it".into()),
            };
            let (port_key, other) = match direction {
                Direction::Inbound => ("LocalPort", "RemotePort"),
                Direction::Outbound => ("RemotePort", "LocalPort"),
            };
            if get(other).is_some() {
                return Err(format!("-{other} on a {direction:?} rule"));
            }
            let ports = match (get(port_key), protocol) {
                (Some(v), Some(_)) => {
                    let mut items = Vec::new();
                    for x in list_of(v) {
                        match x {
                            Val::Num(n) => items.push(n.to_string()),
                            Val::Str(s) if s.contains('-') => items.push(s),
                            other => {
                                return Err(format!(
                                    "port {other:?} (numbers, or ranges as strings)"
                                ));
                            }
                        }
                    }
                    parse_ports(&items.join(","))?
                }
                (None, None) => Vec::new(),
                _ => return Err(format!("-{port_key} and -Protocol disagree")),
            };
            let remote = match get("RemoteAddress").ok_or("no -RemoteAddress")? {
                Val::Word(w) if w == "Any" => None,
                Val::Var(v) if v == "fwtopoAddr" => Some(Vec::new()),
                v => {
                    let mut words = Vec::new();
                    for x in list_of(v) {
                        match x {
                            Val::Str(s) => words.push(s),
                            other => {
                                return Err(format!("address {other:?} must be a quoted string"));
                            }
                        }
                    }
                    parse_remote(&words)?
                }
            };
            let allows = expand(direction, protocol, &ports, &remote);
            return Ok(Some(ParsedRule {
                name: name.to_string(),
                kind,
                description: description.to_string(),
                direction,
                icmp,
                allows,
                ports,
                remote,
            }));
        }
        _ => {}
    }
    Ok(None)
}

/// The rule one `New-NetFirewallRule` line creates.
pub(super) fn new_rule(line: &str, node: &str) -> Result<ParsedRule, String> {
    let toks = ps_tokens(line)?;
    let mut p = PsParser {
        t: &toks,
        i: 0,
        cmds: Vec::new(),
    };
    p.statement()?;
    for cmd in &p.cmds {
        if let Some(r) = ps_check_cmd(cmd, node)? {
            return Ok(r);
        }
    }
    Err(format!("no New-NetFirewallRule in {line}"))
}

/// The WinRM preparation commands the PowerShell export may carry.
/// (and `New-Item` of a WSMan listener)
pub(super) const PS_WINRM: [&str; 4] =
    ["Set-Service", "Start-Service", "Set-Item", "Get-ChildItem"];

pub fn parse_powershell(script: &str, node: &str) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let group = format!("fwtopo-{node}");
    let q = |s: &str| format!("'{s}'");
    let mut names: Vec<String> = rule_names(node).iter().map(|n| q(n)).collect();
    names.extend(rule_names(node).iter().map(|n| q(&format!("{n}-old"))));
    // The lines that touch rules besides New-NetFirewallRule, exactly.
    let note_group = format!(
        "$fwtopoOld = @(Get-NetFirewallRule -Group {} -ErrorAction SilentlyContinue)",
        q(&group)
    );
    let note_names = format!(
        "$fwtopoOld += @(Get-NetFirewallRule -DisplayName {} -ErrorAction SilentlyContinue | Where-Object -Property Group -NE -Value {})",
        names.join(","),
        q(&group)
    );
    const REMOVE_OLD: &str = "if ($fwtopoOld) { $fwtopoOld | Remove-NetFirewallRule }";
    let list_others = format!("{LIST_OTHERS} | Out-Host");
    // Where the run is: inside `& {`, elevation checked, rollback scheduled, the earlier
    // export's rules noted (both lines) and removed.
    let mut block = 0;
    let mut elevated = false;
    let mut scheduled = false;
    let mut noted = 0;
    let mut removed = false;
    let mut stop = false;
    let lines: Vec<&str> = script.lines().collect();
    for (i, line) in lines.iter().copied().enumerate() {
        let at = |e: String| format!("powershell line {}: {e}\n  {line}", i + 1);
        if line.len() > MAX_LINE {
            return Err(at(format!("line of {} characters", line.len())));
        }
        if let Some(c) = line.chars().find(|c| !(' '..='~').contains(c)) {
            return Err(at(format!(
                "character U+{:04X} (only printable ASCII)",
                c as u32
            )));
        }
        // Line 1 is a comment to PowerShell that stops cmd.exe (tests/export_windows_consoles.rs
        // proves both with the consoles' tokenizers); only its shape is checked here.
        if i == 0 {
            let message = line
                .strip_prefix("# & echo fwtopo: STOP. ")
                .and_then(|l| l.strip_suffix(" & copy con nul"));
            if message.is_none_or(|m| m.contains(['&', '|', '<', '>', '^', '%', '"', '(', ')'])) {
                return Err(at(
                    "the script must start with the line that stops cmd.exe: # & echo fwtopo: STOP. ... & copy con nul".into(),
                ));
            }
            continue;
        }
        if i == 1 {
            if line != "#Requires -RunAsAdministrator" {
                return Err(at(
                    "the second line must be #Requires -RunAsAdministrator".into()
                ));
            }
            continue;
        }
        // The body is one `& { ... }` block, so a throw ends all of it when pasted too; an empty
        // line would end a pasted block early on a console without PSReadLine.
        match (block, line) {
            (0, "& {") => {
                block = 1;
                continue;
            }
            (1, "}") => {
                block = 2;
                continue;
            }
            (1, "") => return Err(at("an empty line inside & { }".into())),
            (2, l) if !l.is_empty() => return Err(at("a line after the closing }".into())),
            _ => {}
        }
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            if line.contains("<#") || line.contains("#>") {
                return Err(at("block-comment marker in a comment".into()));
            }
            continue;
        }
        if block != 1 {
            return Err(at("a command outside the & { } block".into()));
        }
        let toks = ps_tokens(line).map_err(at)?;
        let mut p = PsParser {
            t: &toks,
            i: 0,
            cmds: Vec::new(),
        };
        p.statement().map_err(at)?;
        if p.i != toks.len() {
            return Err(at(format!("trailing tokens {:?}", &toks[p.i..])));
        }
        if toks.first() == Some(&Tok::Var("ErrorActionPreference".into())) {
            stop = true;
        }
        if line.starts_with("if ($LASTEXITCODE -ne 0) { throw ")
            && lines[i - 1] == "net session | Out-Null"
        {
            elevated = true;
        }
        let has = |name: &str| p.cmds.iter().any(|c| c.name == name);
        if has("Get-NetFirewallRule") {
            if line == note_group || line == note_names {
                if !scheduled || !parsed.rules.is_empty() {
                    return Err(at(
                        "the earlier export's rules noted before the rollback was scheduled, or after rules were created".into(),
                    ));
                }
                noted += 1;
            } else if line == list_others {
                parsed.lists_others = true;
            } else {
                disable_built_ins(line).map_err(at)?;
                parsed.disables = Some(line.to_string());
            }
        }
        if has("Remove-NetFirewallRule") {
            if line != REMOVE_OLD {
                return Err(at(
                    "Remove-NetFirewallRule other than of the noted rules".into()
                ));
            }
            if noted != 2 || parsed.rules.is_empty() && !removed {
                return Err(at("the noted rules removed before they were noted, or before this run created its own".into()));
            }
            removed = true;
        }
        if has("Disable-NetFirewallRule") && parsed.disables.as_deref() != Some(line) {
            return Err(at(
                "Disable-NetFirewallRule outside the built-in rules' pipeline".into(),
            ));
        }
        for cmd in &p.cmds {
            if !stop {
                return Err(at("command before $ErrorActionPreference = 'Stop'".into()));
            }
            if !elevated && line != "net session | Out-Null" {
                return Err(at(
                    "a command before the elevation check (net session)".into()
                ));
            }
            if cmd.name == "Resolve-DnsName" {
                let host = cmd
                    .params
                    .iter()
                    .find(|(k, _)| k == "Name")
                    .and_then(|(_, v)| v.clone());
                parsed.resolved.push(
                    str_of(&host.ok_or_else(|| at("Resolve-DnsName without -Name".into()))?)
                        .map_err(at)?
                        .to_string(),
                );
            }
            let wsman = cmd.params.iter().any(|(k, v)| {
                k == "Path" && matches!(v, Some(Val::Str(p)) if p.starts_with("WSMan:"))
            });
            if PS_WINRM.contains(&cmd.name.as_str()) || (cmd.name == "New-Item" && wsman) {
                parsed.winrm_lines += 1;
            }
            if cmd.name == "Register-ScheduledTask" {
                scheduled = true;
            }
            if cmd.name == "Set-NetFirewallProfile" {
                if parsed.policy.is_some() {
                    return Err(at("default policy set twice".into()));
                }
                if !removed {
                    return Err(at(
                        "default policy set before the earlier export's rules were removed".into(),
                    ));
                }
                let out = if cmd.params.iter().any(|(k, v)| {
                    k == "DefaultOutboundAction" && v == &Some(Val::Word("Block".into()))
                }) {
                    "block"
                } else {
                    "allow"
                };
                parsed.policy = Some((parsed.rules.len(), out));
            }
            if let Some(r) = ps_check_cmd(cmd, node).map_err(at)? {
                if noted != 2 {
                    return Err(at(
                        "rule created before the earlier export's rules were noted (not idempotent)".into(),
                    ));
                }
                if removed {
                    return Err(at(
                        "rule created after the earlier export's rules were removed: a connection could drop in between".into(),
                    ));
                }
                if parsed.policy.is_some() {
                    return Err(at("rule created after the default policy".into()));
                }
                parsed.rules.push(r);
            }
        }
    }
    if block != 2 {
        return Err("the body is not one & { } block".into());
    }
    Ok(parsed)
}
