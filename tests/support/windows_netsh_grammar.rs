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

/// Checks that hold for every netsh line: ASCII printable, length, quoting and metacharacters.
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
    // The one intended % is the backup path; everything else would expand a variable.
    if line.replace(BACKUP, "").contains('%') {
        return Err("'%' outside the backup path".into());
    }
    if line.starts_with("REM") {
        return Ok(());
    }
    let mut quoted = false;
    for c in line.chars() {
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
    let mut backed_up = false;
    // The node's names deleted so far: each once, before any add of it (a later delete would
    // remove this run's rules), and all three before the default policy (else an earlier export's
    // rules of the missing kind stay).
    let mut deleted: Vec<String> = Vec::new();
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
        if let Some(text) = line.strip_prefix("echo ") {
            let rest = text.replace(BACKUP, "");
            if let Some(c) = rest
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || " .,:/_=+-".contains(*c)))
            {
                return Err(at(format!("'{c}' in an echo line")));
            }
            continue;
        }
        if line == format!("if not exist {BACKUP} netsh advfirewall export {BACKUP}") {
            backed_up = true;
            continue;
        }
        if NETSH_WINRM.contains(&line) {
            parsed.winrm_lines += 1;
            continue;
        }
        let words = cmd_words(line).map_err(at)?;
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["netsh", "advfirewall", "export" | "import", path] if *path == BACKUP => {}
            ["netsh", "advfirewall", "set", "allprofiles", "state", "on"] => {}
            [
                "netsh",
                "advfirewall",
                "set",
                "allprofiles",
                "firewallpolicy",
                policy,
            ] => {
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
            [
                "netsh",
                "advfirewall",
                "firewall",
                "set",
                "rule",
                name,
                "new",
                "enable=no",
            ] => {
                if *name != r#"name="Windows Remote Management (HTTP-In)""# {
                    return Err(at(format!("set rule {name}")));
                }
                parsed.winrm_lines += 1;
            }
            // Exactly `delete rule name="fwtopo-<node>-<kind>"`: no other filter, no other name.
            ["netsh", "advfirewall", "firewall", "delete", "rule", name] => {
                let n = name
                    .strip_prefix("name=\"")
                    .and_then(|s| s.strip_suffix('"'))
                    .ok_or_else(|| at("delete without a quoted name=".into()))?;
                if !rule_names(node).iter().any(|x| x == n) {
                    return Err(at(format!(
                        "delete of '{n}', not one of {:?}",
                        rule_names(node)
                    )));
                }
                if !backed_up {
                    return Err(at("rule changed before the backup".into()));
                }
                if deleted.iter().any(|d| d == n) {
                    return Err(at(format!("'{n}' deleted twice")));
                }
                if parsed.policy.is_some() {
                    return Err(at("rule deleted after the default policy".into()));
                }
                deleted.push(n.to_string());
            }
            ["netsh", "advfirewall", "firewall", "add", "rule", rest @ ..] => {
                let words: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
                let r = netsh_add(&words, node).map_err(at)?;
                if !deleted.contains(&r.name) {
                    return Err(at(format!(
                        "add rule before the delete of {} (not idempotent)",
                        r.name
                    )));
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
