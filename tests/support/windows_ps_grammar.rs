//! The PowerShell (.ps1) grammar of tests/support/windows_grammar.rs.

use super::*;

// ------------------------------------------------------------------------------------------------
// PowerShell grammar

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A single-quoted string's value.
    Str(String),
    Var(String),
    /// `-Name` (a parameter or an operator such as `-not`).
    Dash(String),
    Word(String),
    Num(u64),
    P(char),
    /// `@(`
    ArrayOpen,
}

fn ps_tokens(line: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let word_char = |ch: char| ch.is_ascii_alphanumeric() || "-_.\\:*/".contains(ch);
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' => i += 1,
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err("unterminated single-quoted string".into()),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        // PowerShell also ends strings at typographic single quotes.
                        Some(q @ ('\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')) => {
                            return Err(format!(
                                "typographic quote U+{:04X} inside a string",
                                *q as u32
                            ));
                        }
                        Some(&x) => {
                            s.push(x);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '$' => {
                let start = i + 1;
                i += 1;
                while i < c.len()
                    && (c[i].is_ascii_alphanumeric()
                        || c[i] == '_'
                        || (c[i] == ':' && c[start..i].iter().collect::<String>() == "env"))
                {
                    i += 1;
                }
                let name: String = c[start..i].iter().collect();
                if name.is_empty() {
                    return Err("'$' without a variable name".into());
                }
                out.push(Tok::Var(name));
            }
            '@' if c.get(i + 1) == Some(&'(') => {
                out.push(Tok::ArrayOpen);
                i += 2;
            }
            '(' | ')' | '{' | '}' | ',' | '|' | '=' | '+' | ';' => {
                out.push(Tok::P(ch));
                i += 1;
            }
            '.' if matches!(out.last(), Some(Tok::P(')'))) => {
                out.push(Tok::P('.'));
                i += 1;
            }
            '-' if c.get(i + 1).is_some_and(|x| x.is_ascii_alphabetic()) => {
                let start = i + 1;
                i += 1;
                while i < c.len() && c[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                out.push(Tok::Dash(c[start..i].iter().collect()));
            }
            d if d.is_ascii_digit() => {
                let start = i;
                while i < c.len() && word_char(c[i]) {
                    i += 1;
                }
                let w: String = c[start..i].iter().collect();
                match w.parse::<u64>() {
                    Ok(n) => out.push(Tok::Num(n)),
                    Err(_) => out.push(Tok::Word(w)),
                }
            }
            a if a.is_ascii_alphabetic() => {
                let start = i;
                while i < c.len() && word_char(c[i]) {
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect()));
            }
            other => {
                return Err(format!(
                    "unexpected '{other}' outside a string (backtick, double quote, '#' mid-line, ...)"
                ));
            }
        }
    }
    Ok(out)
}

/// A parsed argument value.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Var(String),
    Word(String),
    Num(u64),
    List(Vec<Val>),
    /// A parenthesised expression (its commands were checked when parsed).
    Expr,
}

#[derive(Debug, Clone)]
struct Cmd {
    name: String,
    params: Vec<(String, Option<Val>)>,
    positional: Vec<Val>,
}

struct PsParser<'a> {
    t: &'a [Tok],
    i: usize,
    cmds: Vec<Cmd>,
}

/// Parameters that are switches (take no value).
const SWITCHES: [&str; 5] = ["All", "Once", "Force", "DnsOnly", "Contains"];

impl<'a> PsParser<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.t.get(self.i)
    }
    fn next(&mut self) -> Option<&'a Tok> {
        let t = self.t.get(self.i);
        self.i += 1;
        t
    }
    fn expect(&mut self, p: char) -> Result<(), String> {
        match self.next() {
            Some(Tok::P(c)) if *c == p => Ok(()),
            other => Err(format!("expected '{p}', found {other:?}")),
        }
    }
    fn statement(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(Tok::Word(w)) if w == "if" => {
                self.next();
                self.expect('(')?;
                match self.peek() {
                    Some(Tok::Dash(d)) if d == "not" => {
                        self.next();
                        self.expect('(')?;
                        self.pipeline()?;
                        self.expect(')')?;
                    }
                    Some(Tok::Var(_)) => {
                        self.next();
                    }
                    other => return Err(format!("unexpected condition {other:?}")),
                }
                self.expect(')')?;
                self.block()?;
                if matches!(self.peek(), Some(Tok::Word(w)) if w == "else") {
                    self.next();
                    self.block()?;
                }
                Ok(())
            }
            Some(Tok::Word(w)) if w == "throw" => {
                self.next();
                match self.next() {
                    Some(Tok::Str(_)) => Ok(()),
                    other => Err(format!("throw needs a string, found {other:?}")),
                }
            }
            Some(Tok::Var(v)) => {
                if !v.starts_with("fwtopo") && v != "ErrorActionPreference" {
                    return Err(format!("assignment to ${v} (only $fwtopo* variables)"));
                }
                self.next();
                self.expect('=')?;
                match self.peek() {
                    Some(Tok::ArrayOpen) => {
                        self.next();
                        self.pipeline()?;
                        self.expect(')')
                    }
                    Some(Tok::Str(s)) => {
                        if v == "ErrorActionPreference" && s != "Stop" {
                            return Err("ErrorActionPreference must be Stop".into());
                        }
                        self.next();
                        Ok(())
                    }
                    _ => self.pipeline(),
                }
            }
            _ => self.pipeline(),
        }
    }
    fn block(&mut self) -> Result<(), String> {
        self.expect('{')?;
        self.statement()?;
        self.expect('}')
    }
    fn pipeline(&mut self) -> Result<(), String> {
        self.command()?;
        while matches!(self.peek(), Some(Tok::P('|'))) {
            self.next();
            self.command()?;
        }
        Ok(())
    }
    fn command(&mut self) -> Result<(), String> {
        let name = match self.next() {
            Some(Tok::Word(w)) => w.clone(),
            other => return Err(format!("expected a command, found {other:?}")),
        };
        let mut cmd = Cmd {
            name,
            params: Vec::new(),
            positional: Vec::new(),
        };
        loop {
            match self.peek() {
                None | Some(Tok::P('|' | ')' | '}' | ';')) => break,
                Some(Tok::Dash(d)) if cmd.name != "netsh" => {
                    let d = d.clone();
                    self.next();
                    if SWITCHES.contains(&d.as_str()) {
                        cmd.params.push((d, None));
                    } else {
                        let v = self.value()?;
                        cmd.params.push((d, Some(v)));
                    }
                }
                _ => {
                    let v = self.value()?;
                    cmd.positional.push(v);
                }
            }
        }
        self.cmds.push(cmd);
        Ok(())
    }
    fn atom(&mut self) -> Result<Val, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Val::Str(s.clone())),
            Some(Tok::Var(v)) => Ok(Val::Var(v.clone())),
            Some(Tok::Word(w)) => Ok(Val::Word(w.clone())),
            Some(Tok::Num(n)) => Ok(Val::Num(*n)),
            Some(Tok::P('(')) => {
                self.expr()?;
                self.expect(')')?;
                // `(Get-Date).AddSeconds(300)`: one known method only.
                if matches!(self.peek(), Some(Tok::P('.'))) {
                    self.next();
                    match self.next() {
                        Some(Tok::Word(m)) if m == "AddSeconds" => {}
                        other => return Err(format!("method call {other:?}")),
                    }
                    self.expect('(')?;
                    match self.next() {
                        Some(Tok::Num(_)) => {}
                        other => return Err(format!("AddSeconds({other:?})")),
                    }
                    self.expect(')')?;
                }
                Ok(Val::Expr)
            }
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
    fn value(&mut self) -> Result<Val, String> {
        let first = self.atom()?;
        if !matches!(self.peek(), Some(Tok::P(','))) {
            return Ok(first);
        }
        let mut items = vec![first];
        while matches!(self.peek(), Some(Tok::P(','))) {
            self.next();
            items.push(self.atom()?);
        }
        Ok(Val::List(items))
    }
    /// Inside parentheses: a pipeline, or strings and variables joined with `+`.
    fn expr(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(Tok::Word(_)) => self.pipeline(),
            _ => loop {
                match self.next() {
                    Some(Tok::Str(_) | Tok::Var(_)) => {}
                    Some(Tok::P('(')) => {
                        self.i -= 1;
                        self.atom()?;
                    }
                    other => return Err(format!("unexpected {other:?} in an expression")),
                }
                if matches!(self.peek(), Some(Tok::P('+'))) {
                    self.next();
                } else {
                    return Ok(());
                }
            },
        }
    }
}

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
        "Remove-NetFirewallRule" => &["Group", "DisplayName", "ErrorAction"],
        "Set-NetFirewallProfile" => &[
            "All",
            "DefaultInboundAction",
            "DefaultOutboundAction",
            "Enabled",
        ],
        "Disable-NetFirewallRule" => &["Name", "ErrorAction"],
        "Join-Path" => &["Path", "ChildPath"],
        "Test-Path" => &["LiteralPath"],
        "Out-Null" | "Get-Date" => &[],
        "Write-Host" | "Write-Warning" => &[],
        "New-ScheduledTaskAction" => &["Execute", "Argument"],
        "New-ScheduledTaskTrigger" => &["Once", "At"],
        "Register-ScheduledTask" => &["TaskName", "Action", "Trigger", "User", "RunLevel", "Force"],
        "Resolve-DnsName" => &["Name", "DnsOnly", "ErrorAction"],
        "Where-Object" => &["Property", "Contains", "Value"],
        "Select-Object" => &["ExpandProperty"],
        "Set-Service" => &["Name", "StartupType"],
        "Start-Service" => &["Name"],
        "Set-Item" => &["Path", "Value", "Force"],
        "Get-ChildItem" => &["Path"],
        "New-Item" => &["Path", "Transport", "Address", "Force"],
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
        "Remove-NetFirewallRule" => {
            // Never bare: a Remove-NetFirewallRule without a filter deletes every rule.
            if !cmd.positional.is_empty() {
                return Err("positional argument to Remove-NetFirewallRule".into());
            }
            // Exactly this node's group, or exactly its three display names (which netsh-made
            // rules have, without a group): no wildcard, so node web never removes web-2's rules.
            let group = get("Group").map(str_of).transpose()?;
            let display: Option<Vec<String>> = get("DisplayName")
                .map(|v| {
                    list_of(v)
                        .iter()
                        .map(|x| match x {
                            Val::Str(s) => Ok(s.clone()),
                            other => Err(format!("-DisplayName {other:?} must be quoted")),
                        })
                        .collect::<Result<_, _>>()
                })
                .transpose()?;
            match (group, display) {
                (Some(g), None) if g == format!("fwtopo-{node}") => {}
                (None, Some(d)) if d == rule_names(node) => {}
                other => {
                    return Err(format!(
                        "Remove-NetFirewallRule filter {other:?} is not exactly this node's group or its rule names"
                    ));
                }
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
pub(super) const PS_WINRM: [&str; 6] = [
    "Set-Service",
    "Start-Service",
    "Set-Item",
    "Get-ChildItem",
    "New-Item",
    "Disable-NetFirewallRule",
];

pub fn parse_powershell(script: &str, node: &str) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    // Removed so far: the node's group, and its display names (netsh-made rules have no group).
    let mut removed_group = false;
    let mut removed_names = false;
    let mut scheduled = false;
    let mut stop = false;
    for (i, line) in script.lines().enumerate() {
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
        if i == 0 {
            if line != "#Requires -RunAsAdministrator" {
                return Err(at(
                    "the script must start with #Requires -RunAsAdministrator".into(),
                ));
            }
            continue;
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
        for cmd in &p.cmds {
            if !stop {
                return Err(at("command before $ErrorActionPreference = 'Stop'".into()));
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
            if PS_WINRM.contains(&cmd.name.as_str()) {
                parsed.winrm_lines += 1;
            }
            if cmd.name == "Register-ScheduledTask" {
                scheduled = true;
            }
            if cmd.name == "Remove-NetFirewallRule" {
                if !scheduled {
                    return Err(at("rules removed before the rollback is scheduled".into()));
                }
                if !parsed.rules.is_empty() {
                    return Err(at("rules removed after this run created some".into()));
                }
                let has = |k: &str| cmd.params.iter().any(|(p, _)| p == k);
                removed_group |= has("Group");
                removed_names |= has("DisplayName");
            }
            if cmd.name == "Set-NetFirewallProfile" {
                if parsed.policy.is_some() {
                    return Err(at("default policy set twice".into()));
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
                if !(removed_group && removed_names) {
                    return Err(at(
                        "rule created before the node's group and display names were removed (not idempotent)".into(),
                    ));
                }
                if parsed.policy.is_some() {
                    return Err(at("rule created after the default policy".into()));
                }
                parsed.rules.push(r);
            }
        }
    }
    Ok(parsed)
}
