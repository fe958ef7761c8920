//! A model of one Windows host, to run the Windows exports on without Windows: its firewall rules
//! (stable name, display name, group, enabled, what each allows), default policy, files and
//! folders, WinRM settings, the scheduled rollback task, elevation and the console's output; and
//! a small interpreter of the lines the two scripts are made of, as cmd.exe and PowerShell run
//! them, whether run as a file or pasted into a console.
//!
//! What it models, from the tools' documentation:
//! - netsh `name=` is the display name: `delete rule` removes, and `set rule ... new` changes,
//!   every rule of that display name (case-insensitive), and says so with errorlevel 1 when none
//!   matches; `advfirewall export` saves the rules and default policy, `import` puts them back (not
//!   WinRM's settings, which live elsewhere).
//! - A built-in rule has a stable name (`-Name`, the same in every language) and a translated
//!   display name; fwtopo's rules get a generated stable name.
//! - cmd.exe runs every line on its own, pasted or not: `if [not] defined`, `if [not] exist`, `||`
//!   and `set` are all the control flow a .cmd export has.
//! - PowerShell: `$ErrorActionPreference = 'Stop'` makes a failed cmdlet end the script like
//!   `throw`. Run as a file, `#Requires -RunAsAdministrator` refuses a console that is not
//!   elevated, and a terminating error ends the script. Pasted, `#Requires` is a comment and each
//!   top-level line runs on its own, so an error ends only its own line; an `& { ... }` block is one
//!   statement, which an error ends as a whole, and a blank line inside it ends the input early on a
//!   console without PSReadLine (Windows Server 2012 R2), which the model refuses.
//!
//! Anything else a script holds makes the model panic: a new kind of line must be modelled here.
#![allow(dead_code)]

#[path = "windows_host_ps.rs"]
mod ps;

use crate::windows_grammar::{Allow, added_rule};
use fwtopo::engine::Direction;
use fwtopo::ports::Protocol;
use std::collections::{BTreeMap, BTreeSet};

/// One rule in the host's firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    /// The stable rule name (`Get-NetFirewallRule -Name`).
    pub id: String,
    /// The display name (netsh `name=`, `-DisplayName`); translated for built-in rules.
    pub name: String,
    pub group: Option<String>,
    pub enabled: bool,
    pub allows: Vec<Allow>,
    /// The command that made it, or who.
    pub made_by: String,
}

/// A built-in rule that allows one port from any address, as Windows ships it.
pub fn built_in(id: &str, display: &str, protocol: Protocol, port: u16, enabled: bool) -> HostRule {
    HostRule {
        id: id.into(),
        name: display.into(),
        group: Some("@FirewallAPI.dll,-28752".into()),
        enabled,
        allows: vec![(Direction::Inbound, protocol, (port, port), None)],
        made_by: format!("Windows: {id}"),
    }
}

/// The command a script line runs to add a rule, as the host records it (`made_by`), without
/// the line's guard and error handling; `None` for other lines.
pub fn rule_command(line: &str) -> Option<String> {
    let line = line
        .strip_prefix("if not defined fwtopoFailed ")
        .unwrap_or(line);
    if line.starts_with("netsh advfirewall firewall add rule ") {
        let (command, _) = split_top(line, " || ").unwrap_or((line, ""));
        return Some(command.to_string());
    }
    line.starts_with("New-NetFirewallRule ")
        .then(|| line.trim_end_matches(" | Out-Null").to_string())
}

/// Someone else's rule (another tool, the operator).
pub fn foreign(name: &str, group: Option<&str>) -> HostRule {
    HostRule {
        id: format!("other-{name}"),
        name: name.into(),
        group: group.map(String::from),
        enabled: true,
        allows: Vec::new(),
        made_by: format!("someone else's {name}"),
    }
}

/// What `netsh advfirewall export` saves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub rules: Vec<HostRule>,
    pub inbound_block: bool,
    pub outbound_block: bool,
    pub on: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WinRm {
    pub automatic: bool,
    pub running: bool,
    pub allow_unencrypted: bool,
    pub basic: bool,
    pub http_listener: bool,
}

/// A folder and whether the scripts took it over (owner Administrators, access Administrators
/// and SYSTEM only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder {
    pub owner_admins: bool,
    pub private: bool,
}

/// How a script reaches the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Saved as a file and run.
    File,
    /// Pasted into a console.
    Pasted,
}

/// Why a PowerShell statement stopped.
#[derive(Debug)]
enum Stop {
    Throw(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Bool(bool),
    Str(String),
    List(Vec<String>),
    /// Firewall rules, by stable name.
    Rules(Vec<String>),
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
            Val::List(v) | Val::Rules(v) => !v.is_empty(),
        }
    }
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::List(v) => v.join(" "),
            other => panic!("not a string: {other:?}"),
        }
    }
    fn list(&self) -> Vec<String> {
        match self {
            Val::Str(s) => vec![s.clone()],
            Val::List(v) => v.clone(),
            Val::Null => Vec::new(),
            other => panic!("not a list: {other:?}"),
        }
    }
}

/// Decides whether a state-changing command fails, given the command.
pub type Failure = Box<dyn FnMut(&str) -> bool>;

/// A step observer: called after every line or statement the host ran, with its text.
pub type Observer<'a> = Box<dyn FnMut(&Host, &str) + 'a>;

pub struct Host {
    /// cmd.exe's `copy con nul` runs: it reads every line pasted after it, so none of them runs.
    pub swallowing: bool,
    pub rules: Vec<HostRule>,
    pub inbound_block: bool,
    pub outbound_block: bool,
    pub on: bool,
    pub winrm: WinRm,
    /// Exported policies by lower-case path.
    pub files: BTreeMap<String, Policy>,
    pub folders: BTreeMap<String, Folder>,
    pub env: BTreeMap<String, String>,
    pub elevated: bool,
    /// The scheduled rollback's actions, as command lines.
    pub task: Option<Vec<String>>,
    /// What the console showed (echo, Write-Host, tables), one entry per line.
    pub output: Vec<String>,
    /// Exports written into a folder that was not taken over first.
    pub unsafe_writes: Vec<String>,
    /// Makes a state-changing command fail when it returns true (given the command).
    pub fail: Option<Failure>,
    next_id: usize,
    errorlevel: i32,
    cmd_vars: BTreeMap<String, String>,
    ps_vars: BTreeMap<String, Val>,
    stop_on_error: bool,
    last_exit: i32,
}

impl Default for Host {
    fn default() -> Self {
        Host::new(Vec::new())
    }
}

impl Host {
    /// A host with these rules, the firewall on and Windows' default policy (block in, allow out),
    /// an elevated console in a Remote Desktop session.
    pub fn new(rules: Vec<HostRule>) -> Self {
        let env = [
            ("programdata", r"C:\ProgramData"),
            ("temp", r"C:\Users\admin\AppData\Local\Temp\2"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        let folders = [r"c:\programdata", r"c:\users\admin\appdata\local\temp\2"]
            .map(|f| (f.to_string(), Folder::default()))
            .into();
        Host {
            rules,
            inbound_block: true,
            outbound_block: false,
            on: true,
            winrm: WinRm::default(),
            files: BTreeMap::new(),
            folders,
            env,
            elevated: true,
            task: None,
            output: Vec::new(),
            unsafe_writes: Vec::new(),
            fail: None,
            next_id: 0,
            errorlevel: 0,
            cmd_vars: BTreeMap::new(),
            ps_vars: BTreeMap::new(),
            stop_on_error: false,
            last_exit: 0,
            swallowing: false,
        }
    }

    /// A new logon: a new Remote Desktop session has a new TEMP folder, and the old one is gone.
    pub fn log_off_and_on(&mut self, session: u32) {
        let old = self.env["temp"].to_lowercase();
        self.files.retain(|p, _| !p.starts_with(&old));
        self.folders.remove(&old);
        let temp = format!(r"C:\Users\admin\AppData\Local\Temp\{session}");
        self.folders.insert(temp.to_lowercase(), Folder::default());
        self.env.insert("temp".into(), temp);
        self.cmd_vars.clear();
    }

    /// Everything the enabled rules allow.
    pub fn allowed(&self) -> BTreeSet<Allow> {
        self.rules
            .iter()
            .filter(|r| r.enabled)
            .flat_map(|r| r.allows.iter().copied())
            .collect()
    }

    pub fn rule(&self, id: &str) -> Option<&HostRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    fn policy(&self) -> Policy {
        Policy {
            rules: self.rules.clone(),
            inbound_block: self.inbound_block,
            outbound_block: self.outbound_block,
            on: self.on,
        }
    }

    fn failing(&mut self, command: &str) -> bool {
        self.fail.as_mut().is_some_and(|f| f(command))
    }

    fn add(&mut self, command: &str, node: &str, group: Option<String>) -> bool {
        if self.failing(command) {
            return false;
        }
        let (name, _, allows) = added_rule(command, node).unwrap_or_else(|e| panic!("{e}"));
        self.next_id += 1;
        self.rules.push(HostRule {
            id: format!("{{fwtopo-{}}}", self.next_id),
            name,
            group,
            enabled: true,
            allows,
            made_by: command.to_string(),
        });
        true
    }

    fn export_to(&mut self, path: &str) -> bool {
        let path = path.to_lowercase();
        let Some((folder, _)) = path.rsplit_once('\\') else {
            return false;
        };
        let Some(f) = self.folders.get(folder) else {
            return false;
        };
        if folder.starts_with(r"c:\programdata\") && !(f.owner_admins && f.private) {
            self.unsafe_writes.push(path.clone());
        }
        if self.failing(&format!("netsh advfirewall export {path}")) {
            return false;
        }
        let p = self.policy();
        self.files.insert(path, p);
        true
    }

    fn import_from(&mut self, path: &str) -> bool {
        match self.files.get(&path.to_lowercase()).cloned() {
            Some(p) => {
                self.rules = p.rules;
                self.inbound_block = p.inbound_block;
                self.outbound_block = p.outbound_block;
                self.on = p.on;
                true
            }
            None => false,
        }
    }

    fn exists(&self, path: &str) -> bool {
        let p = path.to_lowercase();
        let p = p.trim_end_matches('\\');
        self.files.contains_key(p) || self.folders.contains_key(p)
    }

    /// Runs the scheduled rollback task, as Task Scheduler does when it comes due.
    pub fn fire_task(&mut self) {
        let actions = self.task.take().expect("no rollback task is scheduled");
        for a in actions {
            let line = a
                .strip_prefix("netsh.exe ")
                .map(|r| format!("netsh {r}"))
                .or_else(|| a.strip_prefix("cmd.exe ").map(|r| format!("cmd {r}")))
                .unwrap_or_else(|| panic!("task action {a}"));
            self.cmd_line(&line, "");
        }
    }

    // --------------------------------------------------------------------------------------------
    // cmd.exe

    /// Runs a .cmd export (file or pasted: alike for the lines it has) for `node`.
    pub fn run_cmd(&mut self, script: &str, node: &str, mut observe: Option<Observer>) {
        self.swallowing = false;
        for line in script.lines() {
            if self.swallowing {
                // Read by `copy con nul` as its input: printed, not run.
                self.output.push(line.to_string());
                continue;
            }
            self.cmd_line(line, node);
            if let Some(o) = observe.as_mut() {
                o(self, line);
            }
        }
    }

    /// Lines the console printed after `marker`, indented by two spaces: the commands the
    /// operator is told to run (to roll back).
    pub fn printed_commands(&self, marker: &str) -> Vec<String> {
        let Some(at) = self.output.iter().position(|l| l.contains(marker)) else {
            return Vec::new();
        };
        self.output[at + 1..]
            .iter()
            .map_while(|l| l.strip_prefix("  "))
            .map(String::from)
            .collect()
    }

    /// Runs commands an operator types into an elevated cmd.exe.
    pub fn type_cmd(&mut self, lines: &[String]) {
        for l in lines {
            self.cmd_line(l, "");
        }
    }

    fn expand(&self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            match after.find('%') {
                Some(j) => {
                    let name = after[..j].to_lowercase();
                    match self.env.get(&name).or(self.cmd_vars.get(&name)) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&rest[i..i + j + 2]),
                    }
                    rest = &after[j + 1..];
                }
                None => {
                    out.push_str(&rest[i..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn cmd_line(&mut self, line: &str, node: &str) {
        let line = line.trim();
        if line.is_empty() || line == "@echo off" || line == "REM" || line.starts_with("REM ") {
            return;
        }
        let line = self.expand(line);
        self.cmd_statement(&line, node);
    }

    fn cmd_statement(&mut self, line: &str, node: &str) {
        if let Some(rest) = line.strip_prefix("if ") {
            let (not, rest) = match rest.strip_prefix("not ") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let (holds, then) = if let Some(r) = rest.strip_prefix("defined ") {
                let (var, then) = r.split_once(' ').expect("if defined VAR command");
                (self.cmd_vars.contains_key(&var.to_lowercase()), then)
            } else if let Some(r) = rest.strip_prefix("exist ") {
                let (path, then) = first_word(r);
                (self.exists(path.trim_matches('"')), then)
            } else {
                panic!("cmd: unknown condition in: {line}");
            };
            if holds != not {
                self.cmd_statement(then, node);
            }
            return;
        }
        if let Some((first, second)) = split_top(line, " & ") {
            self.cmd_statement(first, node);
            self.cmd_statement(second, node);
            return;
        }
        if let Some((first, second)) = split_top(line, " || ") {
            self.cmd_statement(first, node);
            if self.errorlevel != 0 {
                self.cmd_statement(second, node);
            }
            return;
        }
        let command = line.replace(" >nul 2>&1", "").replace(" >nul", "");
        let ok = self.cmd_command(&command, node);
        self.errorlevel = if ok { 0 } else { 1 };
    }

    /// One command; whether it succeeded (errorlevel 0).
    fn cmd_command(&mut self, c: &str, node: &str) -> bool {
        if let Some(rest) = c.strip_prefix("set \"") {
            let (var, value) = rest
                .trim_end_matches('"')
                .split_once('=')
                .expect("set \"VAR=value\"");
            let var = var.to_lowercase();
            if value.is_empty() {
                self.cmd_vars.remove(&var);
            } else {
                self.cmd_vars.insert(var, value.to_string());
            }
            return true;
        }
        if let Some(text) = c.strip_prefix("echo ") {
            self.output.push(text.to_string());
            return true;
        }
        if c == "copy con nul" {
            self.swallowing = true;
            return true;
        }
        if c.starts_with('#') {
            let word = c.split(' ').next().unwrap_or(c);
            self.output.push(format!(
                "'{word}' is not recognized as an internal or external command, operable program or batch file."
            ));
            return false;
        }
        if c == "net session" {
            return self.elevated;
        }
        if !self.elevated && !c.starts_with("cmd /c exit") {
            return false;
        }
        if let Some(rest) = c.strip_prefix("mkdir ") {
            let p = rest.trim_matches('"').to_lowercase();
            return self.folders.insert(p, Folder::default()).is_none();
        }
        if let Some(rest) = c.strip_prefix("icacls ") {
            let (path, args) = first_word(rest);
            return self.icacls(path.trim_matches('"'), args);
        }
        if let Some(rest) = c.strip_prefix("copy /y ") {
            let (from, to) = first_word(rest);
            return self.copy(from.trim_matches('"'), to.trim().trim_matches('"'));
        }
        if let Some(rest) = c.strip_prefix("powershell -NoProfile -Command ") {
            let ps = rest
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .expect("powershell -Command \"...\"");
            let was = self.stop_on_error;
            self.stop_on_error = true;
            let r = self.ps_statement(ps, node);
            self.stop_on_error = was;
            // powershell.exe prints what the pipeline left.
            if let Ok(Val::List(lines)) = &r {
                self.output.extend(lines.iter().cloned());
            }
            return r.is_ok();
        }
        if let Some(rest) = c.strip_prefix("cmd /c exit ") {
            return rest.trim() == "0";
        }
        if let Some(rest) = c.strip_prefix("netsh advfirewall ") {
            return self.netsh(rest, c, node);
        }
        if c.starts_with("cmd /c winrm ") {
            return self.winrm_cmd(c);
        }
        match c {
            "sc config winrm start= auto" => {
                self.winrm.automatic = true;
                true
            }
            "net start winrm" => !std::mem::replace(&mut self.winrm.running, true),
            _ => panic!("cmd: not modelled: {c}"),
        }
    }

    fn netsh(&mut self, rest: &str, command: &str, node: &str) -> bool {
        if let Some(path) = rest.strip_prefix("export ") {
            return self.export_to(path.trim_matches('"'));
        }
        if let Some(path) = rest.strip_prefix("import ") {
            return self.import_from(path.trim_matches('"'));
        }
        if let Some(p) = rest.strip_prefix("set allprofiles firewallpolicy ") {
            if self.failing(command) {
                return false;
            }
            let (i, o) = p.split_once(',').expect("firewallpolicy in,out");
            self.inbound_block = i == "blockinbound";
            self.outbound_block = o == "blockoutbound";
            return true;
        }
        if rest == "set allprofiles state on" {
            self.on = true;
            return true;
        }
        if rest.starts_with("firewall add rule ") {
            return self.add(command, node, None);
        }
        if let Some(name) = rest.strip_prefix("firewall delete rule name=") {
            let name = name.trim_matches('"');
            let before = self.rules.len();
            self.rules.retain(|r| !r.name.eq_ignore_ascii_case(name));
            return self.rules.len() < before;
        }
        if let Some(r) = rest.strip_prefix("firewall set rule name=\"") {
            let (name, change) = r
                .split_once("\" new ")
                .expect("set rule name=\"X\" new ...");
            let hit: Vec<usize> = (0..self.rules.len())
                .filter(|&i| self.rules[i].name.eq_ignore_ascii_case(name))
                .collect();
            for &i in &hit {
                if let Some(new) = change.strip_prefix("name=") {
                    self.rules[i].name = new.trim_matches('"').to_string();
                } else if change == "enable=no" {
                    self.rules[i].enabled = false;
                } else {
                    panic!("netsh: set rule ... new {change}");
                }
            }
            return !hit.is_empty();
        }
        panic!("netsh: not modelled: {command}");
    }

    fn winrm_cmd(&mut self, c: &str) -> bool {
        let v = |s: &str| s.contains("\"true\"");
        if c.contains("winrm/config/service/Auth @{Basic") {
            self.winrm.basic = v(c);
        } else if c.contains("winrm/config/service @{AllowUnencrypted") {
            self.winrm.allow_unencrypted = v(c);
        } else if c.contains("winrm create winrm/config/Listener") {
            return !std::mem::replace(&mut self.winrm.http_listener, true);
        } else {
            panic!("winrm: not modelled: {c}");
        }
        true
    }

    fn icacls(&mut self, path: &str, args: &str) -> bool {
        let Some(f) = self.folders.get_mut(&path.to_lowercase()) else {
            return false;
        };
        if args.contains("/setowner *S-1-5-32-544") {
            f.owner_admins = true;
        }
        if args.contains("/inheritance:r")
            && args.contains("/grant:r")
            && args.contains("*S-1-5-32-544:(OI)(CI)F")
            && args.contains("*S-1-5-18:(OI)(CI)F")
        {
            f.private = true;
        }
        true
    }

    fn copy(&mut self, from: &str, to: &str) -> bool {
        match self.files.get(&from.to_lowercase()).cloned() {
            Some(p) => {
                self.files.insert(to.to_lowercase(), p);
                true
            }
            None => false,
        }
    }
}

/// A single-quoted PowerShell string's value (or the text as it is).
fn unquote(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => s.to_string(),
    }
}

/// The first space-separated word (quotes respected) and the rest.
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => return (&s[..i], &s[i + 1..]),
            _ => {}
        }
    }
    (s, "")
}

/// Depth and quoting state, to find separators at the top level of a line.
fn top_level_positions(s: &str) -> Vec<bool> {
    let mut out = Vec::with_capacity(s.len());
    let (mut depth, mut single, mut double) = (0i32, false, false);
    for c in s.chars() {
        let top = depth == 0 && !single && !double;
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '(' | '{' if !single && !double => depth += 1,
            ')' | '}' if !single && !double => depth -= 1,
            _ => {}
        }
        for _ in 0..c.len_utf8() {
            out.push(top);
        }
    }
    out
}

/// Splits at the first top-level `sep`.
fn split_top<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let top = top_level_positions(s);
    (0..s.len())
        .find(|&i| top[i] && s[i..].starts_with(sep))
        .map(|i| (&s[..i], &s[i + sep.len()..]))
}

/// Splits at every top-level `sep`.
fn split_all(s: &str, sep: char) -> Vec<&str> {
    let top = top_level_positions(s);
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == sep && top[i] {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// The text inside the bracket `s` starts with, and what follows it.
fn enclosed(s: &str, open: char, close: char) -> (&str, &str) {
    assert!(s.starts_with(open), "expected {open} at: {s}");
    let (mut depth, mut single) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '\'' => single = !single,
            c if c == open && !single => depth += 1,
            c if c == close && !single => {
                depth -= 1;
                if depth == 0 {
                    return (&s[1..i], &s[i + 1..]);
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced {open} in: {s}");
}

/// A Windows wildcard match (`*`, `?`), case-insensitive like Windows' name comparisons.
pub fn wildcard(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (
        pattern.to_ascii_lowercase().chars().collect(),
        s.to_ascii_lowercase().chars().collect(),
    );
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('[') => false,
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(&p, &s)
}
