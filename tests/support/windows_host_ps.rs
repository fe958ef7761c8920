//! The PowerShell half of the host model in tests/support/windows_host.rs.

use super::*;

impl Host {
    /// Runs a .ps1 export for `node` as a file or pasted into a console.
    pub fn run_ps(&mut self, script: &str, node: &str, mode: Mode, mut observe: Option<Observer>) {
        self.ps_vars.clear();
        self.stop_on_error = false;
        let lines: Vec<&str> = script.lines().collect();
        if mode == Mode::File
            && lines.get(1) == Some(&"#Requires -RunAsAdministrator")
            && !self.elevated
        {
            self.output
                .push("The script cannot be run because it requires elevation".into());
            return;
        }
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i].trim();
            i += 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let stopped = if line == "& {" {
                let mut body = Vec::new();
                loop {
                    let l = *lines.get(i).expect("& { without its closing }");
                    i += 1;
                    if l == "}" {
                        break;
                    }
                    assert!(
                        !(mode == Mode::Pasted && l.trim().is_empty()),
                        "a blank line inside & {{ }}: a console without PSReadLine runs the block unfinished"
                    );
                    body.push(l);
                }
                let was = self.stop_on_error;
                let mut stopped = None;
                for l in body {
                    let l = l.trim();
                    if l.is_empty() || l.starts_with('#') {
                        continue;
                    }
                    let r = self.ps_statement(l, node);
                    if let Some(o) = observe.as_mut() {
                        o(self, l);
                    }
                    if let Err(e) = r {
                        stopped = Some(e);
                        break;
                    }
                }
                self.stop_on_error = was;
                stopped
            } else {
                let r = self.ps_statement(line, node);
                if let Some(o) = observe.as_mut() {
                    o(self, line);
                }
                r.err()
            };
            if let Some(e) = stopped {
                self.output.push(format!("stopped: {e:?}"));
                if mode == Mode::File {
                    return;
                }
            }
        }
    }

    pub(super) fn ps_statement(&mut self, s: &str, node: &str) -> Result<Val, Stop> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("if ") {
            let (cond, rest) = enclosed(rest, '(', ')');
            let (then, rest) = enclosed(rest.trim(), '{', '}');
            let otherwise = rest
                .trim()
                .strip_prefix("else")
                .map(|r| enclosed(r.trim(), '{', '}').0);
            if self.ps_expr(cond, node)?.truthy() {
                return self.ps_statement(then, node);
            }
            return match otherwise {
                Some(e) => self.ps_statement(e, node),
                None => Ok(Val::Null),
            };
        }
        if let Some(msg) = s.strip_prefix("throw ") {
            return Err(Stop::Throw(unquote(msg)));
        }
        if let Some(rest) = s.strip_prefix('$') {
            if let Some((var, expr)) = rest.split_once(" += ") {
                let v = self.ps_expr(expr, node)?;
                let mut old = match self.ps_vars.remove(var) {
                    Some(Val::Rules(r)) => r,
                    other => panic!("+= on {other:?}"),
                };
                if let Val::Rules(more) = v {
                    old.extend(more);
                }
                self.ps_vars.insert(var.to_string(), Val::Rules(old));
                return Ok(Val::Null);
            }
            if let Some((var, expr)) = rest.split_once(" = ") {
                let v = self.ps_expr(expr, node)?;
                if var == "ErrorActionPreference" {
                    self.stop_on_error = v == Val::Str("Stop".into());
                }
                self.ps_vars.insert(var.to_string(), v);
                return Ok(Val::Null);
            }
        }
        self.ps_pipeline(s, node)
    }

    fn ps_expr(&mut self, e: &str, node: &str) -> Result<Val, Stop> {
        let e = e.trim();
        if let Some(rest) = e.strip_prefix("-not ") {
            return Ok(Val::Bool(!self.ps_expr(rest, node)?.truthy()));
        }
        if let Some((a, b)) = split_top(e, " -ne ") {
            let a = self.ps_expr(a, node)?;
            return Ok(Val::Bool(a != self.ps_expr(b, node)?));
        }
        if let Some(array) = e.strip_prefix('@') {
            let (inner, rest) = enclosed(array, '(', ')');
            assert!(rest.trim().is_empty(), "@(...) then {rest}");
            let v = self.ps_pipeline(inner, node)?;
            return Ok(match v {
                Val::Null => Val::Rules(Vec::new()),
                v => v,
            });
        }
        if e.starts_with('(') {
            let (inner, rest) = enclosed(e, '(', ')');
            if rest.trim().is_empty() {
                return self.ps_expr(inner, node);
            }
            // `(Get-Date).AddSeconds(300)`
            return Ok(Val::Null);
        }
        if split_top(e, " + ").is_some() {
            let mut s = String::new();
            let mut rest = e;
            loop {
                let (term, more) = split_top(rest, " + ").unwrap_or((rest, ""));
                s.push_str(&self.ps_expr(term, node)?.text());
                if more.is_empty() {
                    return Ok(Val::Str(s));
                }
                rest = more;
            }
        }
        if e.starts_with('\'') || e.starts_with('$') || e.parse::<i32>().is_ok() {
            return Ok(self.ps_value(e));
        }
        self.ps_pipeline(e, node)
    }

    /// A literal, variable or list of them.
    fn ps_value(&self, v: &str) -> Val {
        let v = v.trim();
        if let Ok(n) = v.parse::<i32>() {
            return Val::Str(n.to_string());
        }
        if v == "$LASTEXITCODE" {
            return Val::Str(self.last_exit.to_string());
        }
        if v == "$true" || v == "$false" {
            return Val::Bool(v == "$true");
        }
        if let Some(name) = v.strip_prefix("$env:") {
            return Val::Str(self.env[&name.to_lowercase()].clone());
        }
        let items = split_all(v, ',');
        if items.len() > 1 {
            let mut all = Vec::new();
            for i in items {
                match self.ps_value(i) {
                    Val::Rules(r) => all.extend(r),
                    other => all.push(other.text()),
                }
            }
            return Val::List(all);
        }
        if let Some(name) = v.strip_prefix('$') {
            return self
                .ps_vars
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("${name} is not set"));
        }
        if v.starts_with('\'') {
            return Val::Str(unquote(v));
        }
        Val::Str(v.to_string())
    }

    fn ps_pipeline(&mut self, p: &str, node: &str) -> Result<Val, Stop> {
        let mut input = Val::Null;
        for stage in split_all(p, '|') {
            input = self.ps_command(stage.trim(), input, node)?;
        }
        Ok(input)
    }

    fn fail(&self, what: String) -> Result<Val, Stop> {
        if self.stop_on_error {
            Err(Stop::Failed(what))
        } else {
            Ok(Val::Null)
        }
    }

    fn ps_command(&mut self, stage: &str, input: Val, node: &str) -> Result<Val, Stop> {
        if let Some(var) = stage.strip_prefix('$') {
            return Ok(self.ps_value(&format!("${var}")));
        }
        let (name, args) = first_word(stage);
        let (params, positional) = ps_args(args);
        let quiet = params.get("ErrorAction").map(String::as_str) == Some("SilentlyContinue");
        // Without elevation every change is refused (access denied).
        const CHANGES: [&str; 13] = [
            "New-Item",
            "Copy-Item",
            "Register-ScheduledTask",
            "Disable-NetFirewallRule",
            "Remove-NetFirewallRule",
            "New-NetFirewallRule",
            "Set-NetFirewallProfile",
            "Set-Service",
            "Start-Service",
            "Set-Item",
            "icacls",
            "netsh",
            "Unregister-ScheduledTask",
        ];
        if !self.elevated && CHANGES.contains(&name) {
            self.last_exit = 1;
            return if quiet {
                Ok(Val::Null)
            } else {
                self.fail(format!("access denied: {stage}"))
            };
        }
        match name {
            "Out-Null" | "Select-Object" => Ok(input),
            "Write-Host" | "Write-Warning" => {
                let v = self.ps_arg(positional.first().expect("a message"), node)?;
                self.output.push(v.text());
                Ok(Val::Null)
            }
            "Format-Table" => Ok(Val::List(match input {
                Val::Rules(ids) => ids
                    .iter()
                    .filter_map(|id| self.rule(id))
                    .map(|r| format!("{} {}", r.id, r.name))
                    .collect(),
                other => other.list(),
            })),
            "Out-Host" => {
                self.output.extend(input.list());
                Ok(Val::Null)
            }
            "net" => {
                assert_eq!(args, "session");
                self.last_exit = if self.elevated { 0 } else { 2 };
                Ok(Val::Null)
            }
            "Join-Path" => {
                let (a, b) = (
                    self.param(&params, "Path", node)?.text(),
                    self.param(&params, "ChildPath", node)?.text(),
                );
                Ok(Val::Str(format!("{a}\\{b}")))
            }
            "Test-Path" => Ok(Val::Bool({
                let path = self.param(&params, "LiteralPath", node)?.text();
                self.exists(&path)
            })),
            "New-Item" if params.get("ItemType").map(String::as_str) == Some("Directory") => {
                let p = self.param(&params, "Path", node)?.text().to_lowercase();
                self.folders.insert(p, Folder::default());
                Ok(Val::Null)
            }
            "New-Item" => {
                self.winrm.http_listener = true;
                Ok(Val::Null)
            }
            "icacls" => {
                let path = self.ps_arg(&positional[0], node)?.text();
                let rest: Vec<String> = positional[1..].iter().map(|p| unquote(p)).collect();
                self.last_exit = if self.icacls(&path, &rest.join(" ")) {
                    0
                } else {
                    1
                };
                Ok(Val::Null)
            }
            "Copy-Item" => {
                let (a, b) = (
                    self.param(&params, "LiteralPath", node)?.text(),
                    self.param(&params, "Destination", node)?.text(),
                );
                if self.copy(&a, &b) {
                    Ok(Val::Null)
                } else {
                    self.fail(format!("Copy-Item {a}"))
                }
            }
            "netsh" => {
                let (verb, path) = (
                    positional[1].as_str(),
                    self.ps_arg(&positional[2], node)?.text(),
                );
                let ok = match verb {
                    "export" => self.export_to(&path),
                    _ => self.import_from(&path),
                };
                self.last_exit = if ok { 0 } else { 1 };
                Ok(Val::Null)
            }
            "New-ScheduledTaskAction" => Ok(Val::Str(format!(
                "{} {}",
                self.param(&params, "Execute", node)?.text(),
                self.param(&params, "Argument", node)?.text()
            ))),
            "New-ScheduledTaskTrigger" | "Get-Date" | "Resolve-DnsName" => Ok(Val::Null),
            "Register-ScheduledTask" => {
                self.task = Some(self.param(&params, "Action", node)?.list());
                Ok(Val::Null)
            }
            "Get-NetFirewallRule" => {
                let group = self.opt_param(&params, "Group", node)?.map(|v| v.text());
                let names = self
                    .opt_param(&params, "DisplayName", node)?
                    .map(|v| v.list());
                let ids = self.opt_param(&params, "Name", node)?.map(|v| v.list());
                let filtered = params.contains_key("Direction");
                let hit: Vec<String> = self
                    .rules
                    .iter()
                    .filter(|r| group.as_ref().is_none_or(|g| r.group.as_ref() == Some(g)))
                    .filter(|r| {
                        names
                            .as_ref()
                            .is_none_or(|n| n.iter().any(|n| n.eq_ignore_ascii_case(&r.name)))
                    })
                    .filter(|r| ids.as_ref().is_none_or(|n| n.contains(&r.id)))
                    .filter(|r| {
                        !filtered
                            || (r.enabled && r.allows.iter().any(|a| a.0 == Direction::Inbound))
                    })
                    .map(|r| r.id.clone())
                    .collect();
                if hit.is_empty() && (group.is_some() || names.is_some() || ids.is_some()) && !quiet
                {
                    return self.fail("Get-NetFirewallRule: no rule found".into());
                }
                Ok(Val::Rules(hit))
            }
            "Get-ChildItem" => Ok(Val::List(if self.winrm.http_listener {
                vec!["Transport=HTTP".into()]
            } else {
                Vec::new()
            })),
            "Where-Object" => {
                let property = params["Property"].clone();
                let (op, value) = ["In", "NE", "NotLike", "EQ", "Contains"]
                    .iter()
                    .find_map(|op| params.contains_key(*op).then_some(*op))
                    .map(|op| (op, self.ps_value(&params["Value"]).list()))
                    .expect("Where-Object -Property P -Op -Value V");
                let Val::Rules(ids) = input else {
                    // Listener keys.
                    return Ok(Val::List(
                        input
                            .list()
                            .into_iter()
                            .filter(|k| value.contains(k))
                            .collect(),
                    ));
                };
                let keep = |r: &HostRule| {
                    let v = match property.as_str() {
                        "Name" => r.id.clone(),
                        "DisplayName" => r.name.clone(),
                        "Group" => r.group.clone().unwrap_or_default(),
                        p => panic!("Where-Object -Property {p}"),
                    };
                    match op {
                        "In" => value.contains(&v),
                        "NE" => value[0] != v,
                        "EQ" => value[0] == v,
                        "NotLike" => !wildcard(&value[0], &v),
                        _ => panic!("Where-Object -{op} on rules"),
                    }
                };
                Ok(Val::Rules(
                    ids.into_iter()
                        .filter(|id| self.rule(id).is_some_and(&keep))
                        .collect(),
                ))
            }
            "Disable-NetFirewallRule" => {
                let ids = match self.opt_param(&params, "Name", node)? {
                    Some(v) => v.list(),
                    None => match input {
                        Val::Rules(r) => r,
                        other => panic!("Disable-NetFirewallRule input {other:?}"),
                    },
                };
                if self.failing(stage) {
                    return self.fail(stage.into());
                }
                let mut missing = false;
                for id in ids {
                    match self.rules.iter_mut().find(|r| r.id == id) {
                        Some(r) => r.enabled = false,
                        None => missing = true,
                    }
                }
                if missing && !quiet {
                    return self.fail("Disable-NetFirewallRule: no rule".into());
                }
                Ok(Val::Null)
            }
            "Remove-NetFirewallRule" => {
                let group = self.opt_param(&params, "Group", node)?.map(|v| v.text());
                let names = self
                    .opt_param(&params, "DisplayName", node)?
                    .map(|v| v.list());
                let ids: Vec<String> = match (&input, &group, &names) {
                    (Val::Rules(r), None, None) => r.clone(),
                    (Val::Null, _, _) => self
                        .rules
                        .iter()
                        .filter(|r| group.as_ref().is_none_or(|g| r.group.as_ref() == Some(g)))
                        .filter(|r| {
                            names
                                .as_ref()
                                .is_none_or(|n| n.iter().any(|n| wildcard(n, &r.name)))
                        })
                        .map(|r| r.id.clone())
                        .collect(),
                    other => panic!("Remove-NetFirewallRule {other:?}"),
                };
                if self.failing(stage) {
                    return self.fail(stage.into());
                }
                for id in &ids {
                    if !self.rules.iter().any(|r| &r.id == id) && !quiet {
                        return self.fail(format!("Remove-NetFirewallRule: {id} is gone"));
                    }
                    self.rules.retain(|r| &r.id != id);
                }
                Ok(Val::Null)
            }
            "New-NetFirewallRule" => {
                let group = self.opt_param(&params, "Group", node)?.map(|v| v.text());
                if self.add(stage, node, group) {
                    Ok(Val::Null)
                } else {
                    self.fail(format!("New-NetFirewallRule failed: {stage}"))
                }
            }
            "Set-NetFirewallProfile" => {
                if self.failing(stage) {
                    return self.fail(stage.into());
                }
                self.inbound_block = params["DefaultInboundAction"] == "Block";
                self.outbound_block = params["DefaultOutboundAction"] == "Block";
                self.on = true;
                Ok(Val::Null)
            }
            "Set-Service" => {
                self.winrm.automatic = true;
                Ok(Val::Null)
            }
            "Start-Service" => {
                self.winrm.running = true;
                Ok(Val::Null)
            }
            "Set-Item" => {
                let path = self.param(&params, "Path", node)?.text();
                let on = self.param(&params, "Value", node)?.truthy();
                match path.as_str() {
                    r"WSMan:\localhost\Service\AllowUnencrypted" => {
                        self.winrm.allow_unencrypted = on
                    }
                    r"WSMan:\localhost\Service\Auth\Basic" => self.winrm.basic = on,
                    p => panic!("Set-Item {p}"),
                }
                Ok(Val::Null)
            }
            other => panic!("PowerShell: not modelled: {other} in {stage}"),
        }
    }

    fn opt_param(
        &mut self,
        params: &BTreeMap<String, String>,
        key: &str,
        node: &str,
    ) -> Result<Option<Val>, Stop> {
        match params.get(key) {
            Some(v) => self.ps_arg(v, node).map(Some),
            None => Ok(None),
        }
    }

    fn param(
        &mut self,
        params: &BTreeMap<String, String>,
        key: &str,
        node: &str,
    ) -> Result<Val, Stop> {
        Ok(self
            .opt_param(params, key, node)?
            .unwrap_or_else(|| panic!("-{key} missing")))
    }

    fn ps_arg(&mut self, v: &str, node: &str) -> Result<Val, Stop> {
        if v.starts_with('(') {
            self.ps_expr(v, node)
        } else {
            Ok(self.ps_value(v))
        }
    }
}

/// `-Key value` pairs (switches get an empty value) and positional arguments of a command.
fn ps_args(args: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let words = split_all(args, ' ');
    let mut params = BTreeMap::new();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if w.is_empty() {
            continue;
        }
        match w.strip_prefix('-') {
            Some(key) if key.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                let switch = ["Force", "Once", "All", "DnsOnly", "AutoSize"].contains(&key);
                let next = words.get(i).filter(|n| !n.starts_with('-') || n.len() == 1);
                match next {
                    Some(v) if !switch => {
                        params.insert(key.to_string(), v.to_string());
                        i += 1;
                    }
                    _ => {
                        params.insert(key.to_string(), String::new());
                    }
                }
            }
            _ => positional.push(w.to_string()),
        }
    }
    (params, positional)
}
