//! The netsh (.cmd) grammar of tests/support/windows_grammar.rs.

use super::*;

// ------------------------------------------------------------------------------------------------
// netsh grammar

/// Splits a cmd.exe line into words at spaces outside double quotes; quotes must balance.
pub(super) fn cmd_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err("unbalanced double quote".into());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    Ok(words)
}

/// Checks that hold for every netsh line: ASCII printable, length, and `%` only in the known
/// paths (`%ProgramData%` and `%TEMP%`, which cmd.exe expands); everything else would expand a
/// variable.
fn netsh_line_common(line: &str) -> Result<(), String> {
    if line.len() > MAX_LINE {
        return Err(format!("line of {} characters", line.len()));
    }
    if let Some(c) = line.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "character U+{:04X} (only printable ASCII; no curly quotes)",
            c as u32
        ));
    }
    let rest = [BACKUP, OLD_BACKUP, BACKUP_DIR]
        .iter()
        .fold(line.to_string(), |l, p| l.replace(p, ""));
    if rest.contains('%') {
        return Err("'%' outside the backup paths".into());
    }
    Ok(())
}

/// A command's quoting and metacharacters: no `&`, `|`, `<`, `>` or `^` outside double quotes
/// (the guard and error check around it are taken off first), no `!`, quotes balanced.
fn netsh_metachars(command: &str) -> Result<(), String> {
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => quoted = !quoted,
            '&' | '|' | '<' | '>' | '^' if !quoted => return Err(format!("'{c}' outside quotes")),
            '!' => return Err("'!' (delayed expansion)".into()),
            _ => {}
        }
    }
    if quoted {
        return Err("unbalanced double quote".into());
    }
    Ok(())
}

/// The text of an echo line: letters, digits and plain punctuation (the backup path aside).
fn echo_text(text: &str) -> Result<(), String> {
    let rest = text.replace(BACKUP, "");
    match rest
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || " .,:/_=+-".contains(*c)))
    {
        Some(c) => Err(format!("'{c}' in an echo line")),
        None => Ok(()),
    }
}

/// The variable a failed command sets; set, it skips every later change.
pub(super) const FAILED: &str = "fwtopoFailed";

/// How a command is run: the guard `if not defined fwtopoFailed` in front (a change must have it,
/// so nothing changes after a failure), and `|| set "fwtopoFailed=1"` after (a failure stops the
/// rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Bare,
    Guarded,
    Checked,
}

fn run_of(line: &str) -> (Run, &str) {
    let guard = format!("if not defined {FAILED} ");
    let check = format!(" || set \"{FAILED}=1\"");
    match line.strip_prefix(guard.as_str()) {
        Some(rest) => match rest.strip_suffix(check.as_str()) {
            Some(core) => (Run::Checked, core),
            None => (Run::Guarded, rest),
        },
        None => (Run::Bare, line),
    }
}

/// What a line must be run as, or an error.
fn must(run: Run, want: Run, what: &str) -> Result<(), String> {
    if run == want {
        Ok(())
    } else {
        Err(format!("{what} must be {want:?}, is {run:?}"))
    }
}

/// Built-in rules a script may disable, by their stable names.
pub(super) const BUILT_IN_NAMES: [&str; 10] = [
    "RemoteDesktop-UserMode-In-TCP",
    "RemoteDesktop-UserMode-In-UDP",
    "RemoteDesktop-In-TCP-WS",
    "RemoteDesktop-In-TCP-WSS",
    "WINRM-HTTP-In-TCP",
    "WINRM-HTTP-In-TCP-NoScope",
    "WINRM-HTTP-In-TCP-PUBLIC",
    "WINRM-HTTP-Compat-In-TCP",
    "WINRM-HTTP-Compat-In-TCP-NoScope",
    "OpenSSH-Server-In-TCP",
];

/// The PowerShell pipeline that disables built-in rules by stable name: only known names.
pub(super) fn disable_built_ins(ps: &str) -> Result<(), String> {
    let list = ps
        .strip_prefix("Get-NetFirewallRule | Where-Object -Property Name -In -Value ")
        .and_then(|r| r.strip_suffix(" | Disable-NetFirewallRule"))
        .ok_or_else(|| format!("not the built-in rules' pipeline: {ps}"))?;
    for item in list.split(',') {
        let name = item
            .strip_prefix('\'')
            .and_then(|n| n.strip_suffix('\''))
            .ok_or_else(|| format!("{item} is not a quoted name"))?;
        if !BUILT_IN_NAMES.contains(&name) {
            return Err(format!("{name} is not a built-in remote access rule"));
        }
    }
    Ok(())
}

/// The PowerShell pipeline that lists the enabled inbound allow rules fwtopo did not make.
pub(super) const LIST_OTHERS: &str = "Get-NetFirewallRule -Direction Inbound -Enabled True -Action Allow | Where-Object -Property DisplayName -NotLike -Value 'fwtopo-*' | Format-Table -Property Name,DisplayName,Profile -AutoSize";

/// What a rollback undoes of the WinRM preparation.
pub(super) const WINRM_UNDO: [&str; 2] = [
    r#"winrm set winrm/config/service @{AllowUnencrypted="false"}"#,
    r#"winrm set winrm/config/service/Auth @{Basic="false"}"#,
];

/// The WinRM preparation lines the PA document gives, as netsh exports may carry them.
pub(super) const NETSH_WINRM: [&str; 5] = [
    "sc config winrm start= auto",
    "net start winrm",
    r#"cmd /c winrm put winrm/config/service @{AllowUnencrypted = "true"}"#,
    r#"cmd /c winrm put winrm/config/service/Auth @{Basic = "true"}"#,
    r#"cmd /c winrm create winrm/config/Listener?Address=*+Transport=http @{Port="5985"}"#,
];

/// Parses one `add rule` line's `key=value` words.
pub(super) fn netsh_add(words: &[String], node: &str) -> Result<ParsedRule, String> {
    const KEYS: [&str; 13] = [
        "name",
        "dir",
        "action",
        "protocol",
        "localport",
        "remoteport",
        "remoteip",
        "localip",
        "profile",
        "enable",
        "edge",
        "description",
        "interfacetype",
    ];
    let mut kv: BTreeMap<String, String> = BTreeMap::new();
    for w in words {
        let (k, v) = w
            .split_once('=')
            .ok_or_else(|| format!("'{w}' is not key=value"))?;
        let k = k.to_ascii_lowercase();
        if !KEYS.contains(&k.as_str()) {
            return Err(format!("unknown parameter '{k}'"));
        }
        if v.is_empty() {
            return Err(format!("{k}= has no value"));
        }
        if v.contains('"')
            && !(v.len() >= 2
                && v.starts_with('"')
                && v.ends_with('"')
                && v[1..v.len() - 1].find('"').is_none())
        {
            return Err(format!("{k}= is badly quoted: {v}"));
        }
        // netsh gets a value without the quotes around it (the C runtime strips them); the copy
        // for both consoles quotes ports, addresses and protocol (issue 14). Only name= and
        // description= must stay quoted, which the checks below look at.
        let v = if k == "name" || k == "description" {
            v
        } else {
            v.trim_matches('"')
        };
        if kv.insert(k.clone(), v.to_string()).is_some() {
            return Err(format!("{k}= given twice"));
        }
    }
    let unq = |v: &str| v.trim_matches('"').to_string();
    let name = kv.get("name").ok_or("add rule without name=")?;
    if !name.starts_with('"') {
        return Err("name= must be quoted".into());
    }
    let name = unq(name);
    let direction = match kv.get("dir").map(String::as_str) {
        Some("in") => Direction::Inbound,
        Some("out") => Direction::Outbound,
        other => return Err(format!("dir={other:?}")),
    };
    let kind = rule_kind(&name, node, direction)?;
    if kv.get("action").map(String::as_str) != Some("allow") {
        return Err(format!(
            "action={:?} (fwtopo only allows)",
            kv.get("action")
        ));
    }
    for (k, ok) in [
        ("profile", &["any", "public", "private", "domain"][..]),
        ("enable", &["yes", "no"][..]),
    ] {
        if let Some(v) = kv.get(k)
            && !v.split(',').all(|x| ok.contains(&x))
        {
            return Err(format!("{k}={v}"));
        }
    }
    if let Some(v) = kv.get("edge")
        && (direction != Direction::Inbound
            || !["yes", "no", "deferapp", "deferuser"].contains(&v.as_str()))
    {
        return Err(format!("edge={v} (inbound only)"));
    }
    if let Some(v) = kv.get("localip")
        && v != "any"
    {
        return Err(format!("localip={v}"));
    }
    let proto = kv
        .get("protocol")
        .ok_or("add rule without protocol=")?
        .to_ascii_lowercase();
    let (protocol, icmp) = match proto.as_str() {
        "tcp" => (Some(Protocol::Tcp), None),
        "udp" => (Some(Protocol::Udp), None),
        p if p.starts_with("icmpv4:") || p.starts_with("icmpv6:") => {
            let (t, c) = p[7..].split_once(',').ok_or("icmp without type,code")?;
            let family = if p.starts_with("icmpv4:") { 4 } else { 6 };
            match (t.parse::<u8>(), c == "any" || c.parse::<u8>().is_ok()) {
                (Ok(t), true) => (None, Some((family, t))),
                _ => return Err(format!("protocol={p}")),
            }
        }
        p => return Err(format!("protocol={p}")),
    };
    let (port_key, other_key) = match direction {
        Direction::Inbound => ("localport", "remoteport"),
        Direction::Outbound => ("remoteport", "localport"),
    };
    if kv.contains_key(other_key) {
        return Err(format!(
            "{other_key}= on a dir={} rule",
            if direction == Direction::Inbound {
                "in"
            } else {
                "out"
            }
        ));
    }
    let ports = match (kv.get(port_key), protocol) {
        (Some(v), Some(_)) => parse_ports(v)?,
        (Some(_), None) => return Err("ports need protocol=tcp|udp".into()),
        (None, Some(_)) => return Err(format!("tcp/udp rule without {port_key}=")),
        (None, None) => Vec::new(),
    };
    let remote_words: Vec<String> = kv
        .get("remoteip")
        .ok_or("add rule without remoteip=")?
        .split(',')
        .map(str::to_string)
        .collect();
    let remote = parse_remote(&remote_words)?;
    let desc = kv
        .get("description")
        .ok_or("add rule without description=")?;
    if !desc.starts_with('"') {
        return Err("description= must be quoted".into());
    }
    let allows = expand(direction, protocol, &ports, &remote);
    Ok(ParsedRule {
        name,
        kind,
        description: unq(desc),
        direction,
        icmp,
        allows,
        ports,
        remote,
    })
}

/// Parses a whole netsh script; errors name the line.
pub fn parse_netsh(script: &str, node: &str) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    // The order of a run: the failure mark reset, the elevation check, the backup folder taken
    // over, the backup; each of the node's names renamed to -old once, before any add (a rule
    // added before would be renamed and deleted with the old ones); the adds; each -old name
    // deleted once, after the last add (so the old rules stay until the new ones are in) and
    // before the default policy.
    let mut reset = false;
    let mut elevated = false;
    let mut folder = 0;
    let mut backed_up = false;
    let mut renamed: Vec<String> = Vec::new();
    let mut deleted: Vec<String> = Vec::new();
    let names = rule_names(node);
    let dir_line = format!("if not exist \"{BACKUP_DIR}\\\" mkdir \"{BACKUP_DIR}\"");
    let folder_lines = [
        format!("icacls \"{BACKUP_DIR}\" /setowner *S-1-5-32-544 /T /C /Q"),
        format!(
            "icacls \"{BACKUP_DIR}\" /inheritance:r /grant:r \"*S-1-5-32-544:(OI)(CI)F\" \"*S-1-5-18:(OI)(CI)F\" /T /C /Q"
        ),
    ];
    let copy_line =
        format!("if not exist {BACKUP} if exist {OLD_BACKUP} copy /y {OLD_BACKUP} {BACKUP}");
    for (i, line) in script.lines().enumerate() {
        let at = |e: String| format!("netsh line {}: {e}\n  {line}", i + 1);
        netsh_line_common(line).map_err(at)?;
        if i == 0 {
            if line != "@echo off" {
                return Err(at("the script must start with @echo off".into()));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line == "REM" || line.starts_with("REM ") {
            if line.contains(['"', '%', '^', '&', '|', '<', '>']) {
                return Err(at("cmd.exe metacharacter in a REM line".into()));
            }
            continue;
        }
        if line == format!("set \"{FAILED}=\"") {
            if reset || parsed.rules.len() + renamed.len() > 0 {
                return Err(at("the failure mark is reset only once, first".into()));
            }
            reset = true;
            continue;
        }
        if !reset {
            return Err(at(format!("a command before set \"{FAILED}=\"")));
        }
        if line == format!("net session >nul 2>&1 || set \"{FAILED}=1\"") {
            elevated = true;
            continue;
        }
        if !elevated {
            return Err(at(
                "a command before the elevation check (net session)".into()
            ));
        }
        // Reports of a failure, and the exit status.
        if let Some(rest) = line.strip_prefix(&format!("if defined {FAILED} ")) {
            match rest.strip_prefix("echo ") {
                Some(text) => echo_text(text).map_err(at)?,
                None if rest == "cmd /c exit 1" => {}
                None => return Err(at("only echo and exit 1 when a command failed".into())),
            }
            continue;
        }
        // The rollback printout: the commands, as the operator is to type them.
        if let Some(command) = line.strip_prefix("echo   ") {
            let known = command == format!("netsh advfirewall import {BACKUP}")
                || WINRM_UNDO.iter().any(|u| command == format!("cmd /c {u}"));
            if !known {
                return Err(at("not a rollback command".into()));
            }
            parsed.rollback.push(command.to_string());
            continue;
        }
        let (run, command) = run_of(line);
        if let Some(text) = command.strip_prefix("echo ") {
            echo_text(text).map_err(at)?;
            continue;
        }
        netsh_metachars(command).map_err(at)?;
        if command == dir_line {
            must(run, Run::Checked, "mkdir").map_err(at)?;
            folder |= 1;
            continue;
        }
        if let Some(k) = folder_lines.iter().position(|l| command == l) {
            must(run, Run::Checked, "icacls").map_err(at)?;
            if folder & 1 == 0 {
                return Err(at("icacls before the folder is made".into()));
            }
            folder |= 2 << k;
            continue;
        }
        if command == copy_line
            || command == format!("if not exist {BACKUP} netsh advfirewall export {BACKUP}")
        {
            must(run, Run::Checked, "the backup").map_err(at)?;
            if folder != 7 {
                return Err(at("backup written before the folder is taken over".into()));
            }
            backed_up |= command.contains("export");
            continue;
        }
        if command == format!("if not exist {BACKUP} set \"{FAILED}=1\"") {
            must(run, Run::Guarded, "the backup check").map_err(at)?;
            continue;
        }
        if command == "cmd /c exit 0" {
            must(run, Run::Guarded, "exit 0").map_err(at)?;
            continue;
        }
        if run == Run::Bare {
            return Err(at("a change without the failure guard".into()));
        }
        if !backed_up {
            return Err(at("a change before the backup".into()));
        }
        if NETSH_WINRM.contains(&command) {
            parsed.winrm_lines += 1;
            continue;
        }
        if let Some(ps) = command
            .strip_prefix("powershell -NoProfile -Command \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            if ps == LIST_OTHERS {
                parsed.lists_others = true;
            } else {
                must(run, Run::Checked, "disabling built-in rules").map_err(at)?;
                disable_built_ins(ps).map_err(at)?;
                if parsed.policy.is_some() {
                    return Err(at("built-in rules disabled after the default policy".into()));
                }
                parsed.disables = Some(ps.to_string());
            }
            continue;
        }
        let words = cmd_words(command).map_err(at)?;
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["netsh", "advfirewall", "set", "allprofiles", "state", "on"] => {
                must(run, Run::Checked, "state on").map_err(at)?;
            }
            [
                "netsh",
                "advfirewall",
                "set",
                "allprofiles",
                "firewallpolicy",
                policy,
            ] => {
                must(run, Run::Checked, "the default policy").map_err(at)?;
                let out = match *policy {
                    "blockinbound,allowoutbound" => "allow",
                    "blockinbound,blockoutbound" => "block",
                    p => return Err(at(format!("firewallpolicy {p}"))),
                };
                if parsed.policy.is_some() {
                    return Err(at("default policy set twice".into()));
                }
                if deleted.len() != KINDS.len() {
                    return Err(at(format!(
                        "default policy set with only {deleted:?} deleted: an earlier export's other rules would stay"
                    )));
                }
                parsed.policy = Some((parsed.rules.len(), out));
            }
            // Exactly `set rule name="fwtopo-<node>-<kind>" new name="...-old"`.
            [
                "netsh",
                "advfirewall",
                "firewall",
                "set",
                "rule",
                name,
                "new",
                new,
            ] => {
                must(run, Run::Guarded, "a rename").map_err(at)?;
                let n = name
                    .strip_prefix("name=\"")
                    .and_then(|s| s.strip_suffix('"'))
                    .ok_or_else(|| at("set rule without a quoted name=".into()))?;
                if !names.iter().any(|x| x == n) || *new != format!("name=\"{n}-old\"") {
                    return Err(at(format!(
                        "set rule {name} new {new}: only the node's names {names:?}, to their -old names"
                    )));
                }
                if renamed.iter().any(|d| d == n) || !parsed.rules.is_empty() {
                    return Err(at(format!(
                        "'{n}' renamed twice, or after this run added rules (they would be deleted with the old)"
                    )));
                }
                renamed.push(n.to_string());
            }
            // Exactly `delete rule name="fwtopo-<node>-<kind>-old"`: no other filter, no other name.
            ["netsh", "advfirewall", "firewall", "delete", "rule", name] => {
                must(run, Run::Guarded, "a delete").map_err(at)?;
                let n = name
                    .strip_prefix("name=\"")
                    .and_then(|s| s.strip_suffix('"'))
                    .ok_or_else(|| at("delete without a quoted name=".into()))?;
                if !names.iter().any(|x| format!("{x}-old") == n) {
                    return Err(at(format!(
                        "delete of '{n}', not one of the -old names of {names:?}"
                    )));
                }
                if deleted.iter().any(|d| d == n) {
                    return Err(at(format!("'{n}' deleted twice")));
                }
                if renamed.len() != KINDS.len() {
                    return Err(at(
                        "an -old name deleted before every name was renamed".into()
                    ));
                }
                if parsed.policy.is_some() {
                    return Err(at("rule deleted after the default policy".into()));
                }
                deleted.push(n.to_string());
            }
            ["netsh", "advfirewall", "firewall", "add", "rule", rest @ ..] => {
                must(run, Run::Checked, "an add").map_err(at)?;
                let words: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
                let r = netsh_add(&words, node).map_err(at)?;
                if renamed.len() != KINDS.len() {
                    return Err(at(format!(
                        "add rule before the earlier rules were renamed ({renamed:?}): not idempotent"
                    )));
                }
                if !deleted.is_empty() {
                    return Err(at(
                        "add rule after the old rules were deleted: a connection could drop in between"
                            .into(),
                    ));
                }
                if parsed.policy.is_some() {
                    return Err(at("rule added after the default policy".into()));
                }
                parsed.rules.push(r);
            }
            _ => return Err(at("not a known netsh/cmd line".into())),
        }
    }
    Ok(parsed)
}
