//! The netsh and PowerShell grammars of the Windows exports, and the checks of what the parsed rules
//! allow against the engine's plan (moved here from tests/export_windows.rs).
//!
//! Shared by tests/export_windows.rs (`#[path = "support/windows_grammar.rs"] mod windows_grammar;`)
//! and the cargo-fuzz targets in fuzz/, so that fuzzed topologies are held to exactly the grammar
//! the snapshot tests use. A failed check panics, naming the line.

use fwtopo::catalog::{Catalog, Tag};
use fwtopo::engine::{Direction, Plan, Rule};
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::net::Peers;
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

pub const MAX_LINE: usize = 8191;
pub const BACKUP: &str = r#""%TEMP%\fwtopo-backup.wfw""#;

pub fn render(
    target: Target,
    catalog: &Catalog,
    t: &Topology,
    plan: &Plan,
    node: &str,
    options: Options,
) -> String {
    let np = plan.node(node).unwrap();
    export::render(target, &Export::new(catalog, t, plan, np, options))
}

pub fn options(egress: Egress) -> Options {
    Options {
        egress,
        crlf: false,
    }
}
// ------------------------------------------------------------------------------------------------
// Values shared by both grammars

/// One allowed (direction, protocol, port range, peer) tuple; the peer is `None` for "any".
type Allow = (Direction, Protocol, (u16, u16), Option<IpNet>);

/// A port list: `80`, `8352-8364`, comma-separated, no spaces, 1-65535, ranges forwards.
fn parse_ports(s: &str) -> Result<Vec<(u16, u16)>, String> {
    if s.is_empty() {
        return Err("empty port list".into());
    }
    s.split(',')
        .map(|item| {
            let (a, b) = item.split_once('-').unwrap_or((item, item));
            let p = |x: &str| -> Result<u16, String> {
                if x.is_empty() || !x.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(format!("bad port '{x}'"));
                }
                match x.parse::<u32>() {
                    Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
                    _ => Err(format!("port '{x}' out of range")),
                }
            };
            let (a, b) = (p(a)?, p(b)?);
            if a > b {
                return Err(format!("range '{item}' runs backwards"));
            }
            Ok((a, b))
        })
        .collect()
}

/// One remote address token as Windows Firewall reads it: address, `addr/prefix` or a range
/// `a-b`. Loopback, unspecified and multicast addresses are refused by Windows. Returns the network
/// (ranges are refused: we never emit them).
fn parse_addr(s: &str) -> Result<IpNet, String> {
    if s.contains('-') {
        return Err(format!("address range '{s}' (fwtopo emits CIDRs only)"));
    }
    let net: IpNet = if s.contains('/') {
        let n: IpNet = s.parse().map_err(|_| format!("bad CIDR '{s}'"))?;
        if n.trunc() != n {
            return Err(format!("CIDR '{s}' has host bits"));
        }
        n
    } else {
        IpNet::from(
            s.parse::<IpAddr>()
                .map_err(|_| format!("bad address '{s}'"))?,
        )
    };
    let a = net.addr();
    if a.is_loopback() || a.is_unspecified() || a.is_multicast() {
        return Err(format!("address '{s}' is refused by Windows Firewall"));
    }
    Ok(net)
}

/// A remote address list: `any`, or addresses of ONE family, at most 1000 entries.
fn parse_remote(tokens: &[String]) -> Result<Option<Vec<IpNet>>, String> {
    if tokens.len() == 1 && tokens[0].eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    if tokens.is_empty() || tokens.len() > 1000 {
        return Err(format!("{} remote addresses in one rule", tokens.len()));
    }
    let nets: Vec<IpNet> = tokens
        .iter()
        .map(|t| parse_addr(t))
        .collect::<Result<_, _>>()?;
    let v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
    if v4 != 0 && v4 != nets.len() {
        return Err("IPv4 and IPv6 mixed in one rule".into());
    }
    Ok(Some(nets))
}

/// The kinds of a node's rules, in script order; each kind's rules share `fwtopo-<node>-<kind>`.
pub const KINDS: [&str; 3] = ["mgmt", "in", "out"];

/// The names a node's rules may have: exactly `fwtopo-<node>-mgmt`, `-in` and `-out`.
pub fn rule_names(node: &str) -> Vec<String> {
    KINDS.iter().map(|k| format!("fwtopo-{node}-{k}")).collect()
}

/// A rule name's kind: the name must be one of the node's three exactly (no other node's, no
/// wildcard, never `all`), and its kind must fit the rule's direction.
fn rule_kind(name: &str, node: &str, direction: Direction) -> Result<&'static str, String> {
    let kind = KINDS
        .iter()
        .find(|k| name == format!("fwtopo-{node}-{k}"))
        .ok_or_else(|| format!("rule name '{name}' is not one of {:?}", rule_names(node)))?;
    let want = if *kind == "out" {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    if direction != want {
        return Err(format!("rule name '{name}' on a {direction:?} rule"));
    }
    Ok(kind)
}

/// What both grammars extract from a script, for the semantic checks.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Added rules, in order: (name, direction, management?, allowed tuples, is ICMP).
    rules: Vec<ParsedRule>,
    /// Index in `rules` at which the default policy was set, and the outbound action.
    policy: Option<(usize, &'static str)>,
    /// Host names resolved at apply time (PowerShell).
    resolved: Vec<String>,
    /// Lines of the WinRM preparation seen.
    winrm_lines: usize,
}

#[derive(Debug, Clone)]
struct ParsedRule {
    name: String,
    /// `mgmt`, `in` or `out`: the name's kind.
    kind: &'static str,
    description: String,
    direction: Direction,
    /// ICMP rules: the family (4 or 6) and type.
    icmp: Option<(u8, u8)>,
    allows: Vec<Allow>,
    /// Ports of TCP/UDP rules, for the WinRM check; and the remote (None = any; Some(empty) = resolved).
    ports: Vec<(u16, u16)>,
    remote: Option<Vec<IpNet>>,
}

// ------------------------------------------------------------------------------------------------
// netsh grammar

/// Splits a cmd.exe line into words at spaces outside double quotes; quotes must balance.
fn cmd_words(line: &str) -> Result<Vec<String>, String> {
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
const NETSH_WINRM: [&str; 5] = [
    "sc config winrm start= auto",
    "net start winrm",
    r#"cmd /c winrm put winrm/config/service @{AllowUnencrypted = "true"}"#,
    r#"cmd /c winrm put winrm/config/service/Auth @{Basic = "true"}"#,
    r#"cmd /c winrm create winrm/config/Listener?Address=*+Transport=http @{Port="5985"}"#,
];

/// Parses one `add rule` line's `key=value` words.
fn netsh_add(words: &[String], node: &str) -> Result<ParsedRule, String> {
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

fn expand(
    direction: Direction,
    protocol: Option<Protocol>,
    ports: &[(u16, u16)],
    remote: &Option<Vec<IpNet>>,
) -> Vec<Allow> {
    let Some(protocol) = protocol else {
        return Vec::new();
    };
    let peers: Vec<Option<IpNet>> = match remote {
        None => vec![None],
        Some(v) => v.iter().copied().map(Some).collect(),
    };
    let mut out = Vec::new();
    for &p in ports {
        for &a in &peers {
            out.push((direction, protocol, p, a));
        }
    }
    out
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

/// The WinRM preparation commands the PowerShell export may carry.
const PS_WINRM: [&str; 6] = [
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

// ------------------------------------------------------------------------------------------------
// Semantic checks shared by both targets

/// What the engine allows for a node under the options (host-name peers apart).
fn engine_allows(plan: &Plan, node: &str, egress: Egress) -> BTreeSet<Allow> {
    let np = plan.node(node).unwrap();
    allows_of(
        np.inbound
            .iter()
            .chain(np.outbound.iter().filter(|_| egress == Egress::Strict)),
    )
}

/// The (direction, protocol, port range, peer) tuples some derived rules allow on Windows: every
/// derived peer but the addresses Windows refuses as remote ones (0.0.0.0, :: and ::1, in a zone
/// of every address), which no packet comes from.
fn allows_of<'a>(rules: impl Iterator<Item = &'a Rule>) -> BTreeSet<Allow> {
    let mut out = BTreeSet::new();
    for r in rules {
        let peers: Vec<Option<IpNet>> = match &r.peers {
            Peers::Any => vec![None],
            Peers::V4(v) => {
                let mut v = v.clone();
                fwtopo::net::exclude_v4(&mut v, std::net::Ipv4Addr::UNSPECIFIED);
                v.iter().map(|n| Some(IpNet::V4(*n))).collect()
            }
            Peers::V6(v) => {
                let mut v = v.clone();
                fwtopo::net::exclude_v6(&mut v, std::net::Ipv6Addr::UNSPECIFIED);
                fwtopo::net::exclude_v6(&mut v, std::net::Ipv6Addr::LOCALHOST);
                v.iter().map(|n| Some(IpNet::V6(*n))).collect()
            }
            Peers::Dns(_) => continue,
        };
        for pr in r.ports.ranges() {
            for p in &peers {
                out.insert((r.direction, r.protocol, (pr.start, pr.end), *p));
            }
        }
    }
    out
}

fn check_semantics(
    target: &str,
    parsed: &Parsed,
    topology: &Topology,
    plan: &Plan,
    node: &str,
    egress: Egress,
) {
    let ctx = format!("{target} {node} {egress:?}");
    // Everything the engine derived is allowed, nothing more.
    let got: BTreeSet<Allow> = parsed
        .rules
        .iter()
        .flat_map(|r| r.allows.iter().copied())
        .collect();
    let want = engine_allows(plan, node, egress);
    assert_eq!(
        got, want,
        "{ctx}: emitted rules differ from the derived rules"
    );
    // Management first: every management rule comes before every other rule, and the rules
    // named for management allow exactly what the engine's management rules do.
    let np = plan.node(node).unwrap();
    let has_mgmt = np.inbound.iter().any(|r| r.is_management());
    let is_mgmt = |r: &ParsedRule| r.kind == "mgmt";
    let first_other = parsed.rules.iter().position(|r| !is_mgmt(r));
    let last_mgmt = parsed.rules.iter().rposition(is_mgmt);
    if let (Some(o), Some(m)) = (first_other, last_mgmt) {
        assert!(m < o, "{ctx}: a management rule after another rule");
    }
    assert_eq!(has_mgmt, last_mgmt.is_some(), "{ctx}: management rules");
    let got_mgmt: BTreeSet<Allow> = parsed
        .rules
        .iter()
        .filter(|r| is_mgmt(r))
        .flat_map(|r| r.allows.iter().copied())
        .collect();
    assert_eq!(
        got_mgmt,
        allows_of(np.inbound.iter().filter(|r| r.is_management())),
        "{ctx}: the rules named {node}-mgmt are not the management rules"
    );
    // ICMPv6 neighbour discovery is let in.
    for t in [135, 136] {
        assert!(
            parsed
                .rules
                .iter()
                .any(|r| r.icmp == Some((6, t)) && r.kind == "in"),
            "{ctx}: no ICMPv6 {t}"
        );
    }
    // The default policy comes after every rule, and outbound matches the egress option.
    let (at, out) = parsed
        .policy
        .unwrap_or_else(|| panic!("{ctx}: no default policy"));
    assert_eq!(
        at,
        parsed.rules.len(),
        "{ctx}: default policy before the last rule"
    );
    assert_eq!(
        out,
        if egress == Egress::Strict {
            "block"
        } else {
            "allow"
        },
        "{ctx}: outbound policy"
    );
    if egress == Egress::Open {
        assert!(
            parsed
                .rules
                .iter()
                .all(|r| r.direction == Direction::Inbound),
            "{ctx}: outbound rule under open egress"
        );
    }
    // WinRM over HTTP: the preparation block exactly where a rule carries the tag, and port 5985
    // only ever from the PA management node.
    let winrm = np.inbound.iter().any(|r| r.has_tag(Tag::WinrmBasicHttp));
    let expected_lines = match (winrm, target) {
        (false, _) => 0,
        (true, "netsh") => NETSH_WINRM.len() + 1,
        (true, _) => PS_WINRM.len() + 1,
    };
    assert_eq!(
        parsed.winrm_lines, expected_lines,
        "{ctx}: WinRM preparation lines"
    );
    let mn: BTreeSet<IpNet> = topology
        .nodes
        .iter()
        .filter(|n| {
            n.roles
                .iter()
                .any(|r| r.product == "plesk-automation" && r.role == "mn")
        })
        .flat_map(|n| n.addresses.iter().map(|a| IpNet::from(*a)))
        .collect();
    for r in &parsed.rules {
        if winrm
            && r.direction == Direction::Inbound
            && r.ports.iter().any(|&(a, b)| a <= 5985 && 5985 <= b)
        {
            let remote = r
                .remote
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: 5985 open to any in {}", r.name));
            assert!(
                remote.iter().all(|n| mn.contains(n)),
                "{ctx}: 5985 open beyond the management node in {}",
                r.name
            );
        }
    }
    // Host-name peers: PowerShell resolves each when applied; netsh adds nothing for them.
    let dns: BTreeSet<String> = np
        .inbound
        .iter()
        .chain(np.outbound.iter().filter(|_| egress == Egress::Strict))
        .filter_map(|r| match &r.peers {
            Peers::Dns(v) => Some(v.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let resolved: BTreeSet<String> = parsed.resolved.iter().cloned().collect();
    if target == "netsh" {
        assert!(resolved.is_empty());
    } else {
        assert_eq!(resolved, dns, "{ctx}: host names resolved at apply time");
    }
}

/// Parses and checks both targets for one node; returns (netsh, powershell) text.
pub fn check_node(
    catalog: &Catalog,
    topology: &Topology,
    plan: &Plan,
    node: &str,
    egress: Egress,
) -> (String, String) {
    let netsh = render(
        Target::Netsh,
        catalog,
        topology,
        plan,
        node,
        options(egress),
    );
    let ps = render(
        Target::Powershell,
        catalog,
        topology,
        plan,
        node,
        options(egress),
    );
    let pn = parse_netsh(&netsh, node).unwrap_or_else(|e| panic!("{e}"));
    let pp = parse_powershell(&ps, node).unwrap_or_else(|e| panic!("{e}"));
    check_semantics("netsh", &pn, topology, plan, node, egress);
    check_semantics("powershell", &pp, topology, plan, node, egress);
    // The two exports create the same rules under the same names and descriptions, in the same
    // order (netsh lacks host-name rules).
    let netsh_names: Vec<(&str, &str, &[Allow])> = pn
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.description.as_str(), r.allows.as_slice()))
        .collect();
    let ps_names: Vec<(&str, &str, &[Allow])> = pp
        .rules
        .iter()
        .filter(|r| r.remote.as_ref().is_none_or(|v| !v.is_empty()))
        .map(|r| (r.name.as_str(), r.description.as_str(), r.allows.as_slice()))
        .collect();
    assert_eq!(
        netsh_names, ps_names,
        "{node}: netsh and PowerShell name their rules differently"
    );
    (netsh, ps)
}
