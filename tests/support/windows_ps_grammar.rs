//! The PowerShell (.ps1) grammar of tests/support/windows_grammar.rs.

use super::netsh::{LIST_OTHERS, WINRM_UNDO, disable_built_ins};
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
            '/' if c.get(i + 1).is_some_and(|x| x.is_ascii_alphabetic()) => {
                // A native command's switch (icacls /T).
                let start = i;
                i += 1;
                while i < c.len() && word_char(c[i]) {
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect()));
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
const SWITCHES: [&str; 9] = [
    "All", "Once", "Force", "DnsOnly", "Contains", "In", "NE", "NotLike", "AutoSize",
];

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
                    // `$LASTEXITCODE -ne 0`: a native command failed.
                    Some(Tok::Var(v)) if v == "LASTEXITCODE" => {
                        self.next();
                        match (self.next(), self.next()) {
                            (Some(Tok::Dash(d)), Some(Tok::Num(0))) if d == "ne" => {}
                            other => return Err(format!("$LASTEXITCODE {other:?}")),
                        }
                    }
                    Some(Tok::Var(_)) => {
                        self.next();
                    }
                    Some(Tok::Word(_)) => self.pipeline()?,
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
            // `$fwtopoOld | Remove-NetFirewallRule`: the rules noted earlier, into a command.
            Some(Tok::Var(v))
                if v == "fwtopoOld" && matches!(self.t.get(self.i + 1), Some(Tok::P('|'))) =>
            {
                self.i += 2;
                self.pipeline()
            }
            Some(Tok::Var(v)) => {
                if !v.starts_with("fwtopo") && v != "ErrorActionPreference" {
                    return Err(format!("assignment to ${v} (only $fwtopo* variables)"));
                }
                self.next();
                // `+=` adds to the rules noted so far.
                if matches!(self.peek(), Some(Tok::P('+'))) && v == "fwtopoOld" {
                    self.next();
                }
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
        if i == 0 {
            if line != "#Requires -RunAsAdministrator" {
                return Err(at(
                    "the script must start with #Requires -RunAsAdministrator".into(),
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
