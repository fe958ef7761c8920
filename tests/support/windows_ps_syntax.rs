//! PowerShell lines as tokens and statements, for the grammar in tests/support/windows_ps_grammar.rs:
//! just the syntax the PowerShell export writes (single-quoted strings, `$fwtopo*` variables,
//! `if`, `throw`, pipelines of commands with parameters); anything else is an error.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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

pub(super) fn ps_tokens(line: &str) -> Result<Vec<Tok>, String> {
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
pub(super) enum Val {
    Str(String),
    Var(String),
    Word(String),
    Num(u64),
    List(Vec<Val>),
    /// A parenthesised expression (its commands were checked when parsed).
    Expr,
}

#[derive(Debug, Clone)]
pub(super) struct Cmd {
    pub name: String,
    pub params: Vec<(String, Option<Val>)>,
    pub positional: Vec<Val>,
}

pub(super) struct PsParser<'a> {
    pub t: &'a [Tok],
    pub i: usize,
    pub cmds: Vec<Cmd>,
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
    pub fn statement(&mut self) -> Result<(), String> {
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
