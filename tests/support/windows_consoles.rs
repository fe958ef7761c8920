//! What cmd.exe and PowerShell (Windows PowerShell 5.1 and PowerShell 7, argument mode) make of one
//! pasted line: the commands they run and the argument list each program gets, so a test can prove
//! that a line does the same in both consoles.
//!
//! Written from cmd.exe's parsing (`cmd /?`, `set /?`: `%VAR%` expands even inside quotes, `^`
//! escapes outside them, `&`, `&&`, `||`, `|`, `<`, `>` and `(` are operators outside quotes), from
//! about_Parsing and about_Special_Characters (argument mode: an unquoted comma builds an array,
//! `;` ends a statement, `$` expands, a backtick escapes, `@` splats or starts a hashtable or array,
//! `(` and `{` evaluate, `#` at a token's start comments out the rest, `--%` passes the rest of the
//! line verbatim), and from how both hand a native program its command line, which the program
//! splits with the C runtime's rules (Microsoft's "Parsing C command-line arguments"). A line using
//! anything else, or anything whose result differs between Windows PowerShell 5.1 and PowerShell 7
//! (an empty or embedded-quote argument, `&&`, `||`), is an error: unknown is not "alike".
#![allow(dead_code)]

/// One thing a console does for one command of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
    /// A program started with this argument list (its name first), as the C runtime splits it.
    Program(Vec<String>),
    /// `echo`: the text it prints, one line per entry.
    Echo(Vec<String>),
    /// cmd.exe's `copy con nul`: reads the console's input (every line pasted after this one) until
    /// Ctrl+Z or Ctrl+C, and throws it away. Nothing pasted after it runs.
    SwallowsTheRest,
    /// A command word that names nothing (cmd.exe: "is not recognized as an internal or external
    /// command"): an error message, nothing runs.
    NotACommand(String),
}

// ------------------------------------------------------------------------------------------------
// The C runtime's split of a command line

/// Splits a program's command-line tail as the Microsoft C runtime does: whitespace separates
/// outside double quotes; `2n` backslashes before `"` are `n` backslashes and a quote toggle, `2n+1`
/// are `n` and a literal `"`; other backslashes are literal; `""` inside quotes is a literal `"`.
pub fn crt_argv(tail: &str) -> Vec<String> {
    let c: Vec<char> = tail.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < c.len() && (c[i] == ' ' || c[i] == '\t') {
            i += 1;
        }
        if i >= c.len() {
            return out;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < c.len() {
            match c[i] {
                ' ' | '\t' if !quoted => break,
                '\\' => {
                    let start = i;
                    while i < c.len() && c[i] == '\\' {
                        i += 1;
                    }
                    let n = i - start;
                    if c.get(i) == Some(&'"') {
                        arg.extend(std::iter::repeat_n('\\', n / 2));
                        if n % 2 == 1 {
                            arg.push('"');
                            i += 1;
                        }
                    } else {
                        arg.extend(std::iter::repeat_n('\\', n));
                    }
                }
                '"' => {
                    if quoted && c.get(i + 1) == Some(&'"') {
                        arg.push('"');
                        i += 2;
                    } else {
                        quoted = !quoted;
                        i += 1;
                    }
                }
                ch => {
                    arg.push(ch);
                    i += 1;
                }
            }
        }
        out.push(arg);
    }
}

// ------------------------------------------------------------------------------------------------
// cmd.exe

/// The commands of one line typed or pasted at cmd.exe's prompt, in order (operators `&`, `&&`,
/// `||` between them; a line of several is still run left to right as far as they go).
pub fn cmd_line(line: &str) -> Result<Vec<Run>, String> {
    if line.matches('%').count() > 1 {
        // At the prompt `%NAME%` expands when NAME is set, even inside quotes (a lone `%` stays).
        return Err("'%' expands an environment variable in cmd.exe".into());
    }
    if line.contains('!') {
        return Err("'!' expands a variable under delayed expansion".into());
    }
    let mut commands = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let c: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        match ch {
            '"' => {
                quoted = !quoted;
                cur.push(ch);
            }
            _ if quoted => cur.push(ch),
            '^' => {
                i += 1;
                match c.get(i) {
                    Some(&n) => cur.push(n),
                    None => return Err("'^' at the end continues the line".into()),
                }
            }
            '&' | '|' => {
                if ch == '|' && c.get(i + 1) != Some(&'|') {
                    return Err("'|' pipes into another command".into());
                }
                if c.get(i + 1) == Some(&ch) {
                    i += 1;
                }
                commands.push(std::mem::take(&mut cur));
            }
            '<' | '>' => return Err(format!("'{ch}' redirects in cmd.exe")),
            '(' | ')' if cur.trim().is_empty() => {
                return Err(format!("'{ch}' opens or closes a block in cmd.exe"));
            }
            _ => cur.push(ch),
        }
        i += 1;
    }
    if quoted {
        return Err("unbalanced double quote".into());
    }
    commands.push(cur);
    let mut out = Vec::new();
    for command in commands {
        let command = command.trim_start_matches([' ', '\t', '@']);
        if command.trim().is_empty() {
            continue;
        }
        if command.starts_with(':') {
            // A label: nothing runs, and nothing after it on the line either.
            break;
        }
        let (word, tail) = match command.find([' ', '\t']) {
            Some(k) => (&command[..k], &command[k + 1..]),
            None => (command, ""),
        };
        out.push(match word.to_ascii_lowercase().as_str() {
            "rem" => break,
            "echo" => Run::Echo(vec![tail.trim_end().to_string()]),
            "copy" if crt_argv(tail) == ["con", "nul"] => Run::SwallowsTheRest,
            "netsh" | "powershell" | "cmd" | "net" | "icacls" | "sc" => {
                let mut argv = vec![word.to_string()];
                argv.extend(crt_argv(tail));
                Run::Program(argv)
            }
            "if" | "set" | "for" | "goto" | "call" | "copy" | "mkdir" | "cd" | "exit" => {
                return Err(format!(
                    "'{word}' is cmd.exe syntax (PowerShell has none like it)"
                ));
            }
            _ if word.starts_with('#') || word.starts_with("--") => {
                Run::NotACommand(word.to_string())
            }
            _ => return Err(format!("unknown command '{word}'")),
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// PowerShell, argument mode

/// The commands of one line typed or pasted at a PowerShell prompt (5.1 and 7 alike, or an error).
pub fn ps_line(line: &str) -> Result<Vec<Run>, String> {
    if !line.is_ascii() {
        // PowerShell takes typographic quotes and dashes as quotes and dashes.
        return Err("non-ASCII character (PowerShell reads curly quotes as quotes)".into());
    }
    let c: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < c.len() && (c[i] == ' ' || c[i] == '\t') {
            i += 1;
        }
        if i >= c.len() || c[i] == '#' {
            return Ok(out);
        }
        if c[i] == ';' {
            i += 1;
            continue;
        }
        // A command name: a bareword; anything else puts PowerShell in expression mode.
        let first = c[i];
        if !first.is_ascii_alphabetic() {
            return Err(format!(
                "'{first}' at the start of a statement is PowerShell expression syntax"
            ));
        }
        let (args, next) = ps_arguments(&c, i)?;
        i = next;
        let Some((name, rest)) = args.split_first() else {
            return Err("no command".into());
        };
        let run = match name.to_ascii_lowercase().as_str() {
            // echo is Write-Output: every argument on a line of its own.
            "echo" | "write-output" => Run::Echo(rest.to_vec()),
            "rem" | "if" | "set" | "copy" | "for" | "goto" | "call" => {
                return Err(format!("'{name}' is not the cmd.exe command in PowerShell"));
            }
            "netsh" | "powershell" | "cmd" | "net" | "icacls" | "sc" => {
                Run::Program(native_argv(name, rest)?)
            }
            _ => return Err(format!("unknown command '{name}'")),
        };
        out.push(run);
    }
}

/// The arguments of one command from `i` to the end of its statement, each as the string value
/// PowerShell hands on (an unquoted comma ends one array element and starts the next, which a native
/// program gets as a separate argument); and where the statement ends.
fn ps_arguments(c: &[char], mut i: usize) -> Result<(Vec<String>, usize), String> {
    let mut args = Vec::new();
    loop {
        while i < c.len() && (c[i] == ' ' || c[i] == '\t') {
            i += 1;
        }
        if i >= c.len() {
            return Ok((args, i));
        }
        match c[i] {
            '#' => return Ok((args, c.len())),
            ';' => return Ok((args, i + 1)),
            '@' => return Err("'@' splats, or starts a hashtable @{ } or an array @( )".into()),
            '-' if c[i..].starts_with(&['-', '-', '%'])
                && c.get(i + 3).is_none_or(|x| *x == ' ') =>
            {
                // Stop parsing: the rest goes to the program as written, after %VAR% expansion.
                let rest: String = c[i + 3..].iter().collect();
                if rest.contains('%') {
                    return Err("'%' after --% expands an environment variable".into());
                }
                args.push(format!("\u{0}--%{rest}"));
                return Ok((args, c.len()));
            }
            d if d.is_ascii_digit() => {
                let end = c[i..]
                    .iter()
                    .position(|x| *x == ' ' || *x == ';' || *x == ',')
                    .map_or(c.len(), |k| i + k);
                if !c[i..end].iter().all(char::is_ascii_digit) {
                    return Err(format!(
                        "'{}' starts with a digit: PowerShell may read it as a number",
                        c[i..end].iter().collect::<String>()
                    ));
                }
            }
            _ => {}
        }
        // One argument: barewords and quoted parts joined until whitespace, a comma or `;`.
        let mut arg = String::new();
        while i < c.len() {
            match c[i] {
                ' ' | '\t' | ';' => break,
                ',' => {
                    // An array: each element is a separate argument of a native program.
                    args.push(std::mem::take(&mut arg));
                    i += 1;
                    while i < c.len() && c[i] == ' ' {
                        i += 1;
                    }
                    continue;
                }
                '\'' => {
                    i += 1;
                    loop {
                        match c.get(i) {
                            None => return Err("unterminated single-quoted string".into()),
                            Some('\'') if c.get(i + 1) == Some(&'\'') => {
                                arg.push('\'');
                                i += 2;
                            }
                            Some('\'') => {
                                i += 1;
                                break;
                            }
                            Some(&x) => {
                                arg.push(x);
                                i += 1;
                            }
                        }
                    }
                }
                '"' => {
                    i += 1;
                    loop {
                        match c.get(i) {
                            None => return Err("unterminated double-quoted string".into()),
                            Some('"') if c.get(i + 1) == Some(&'"') => {
                                arg.push('"');
                                i += 2;
                            }
                            Some('"') => {
                                i += 1;
                                break;
                            }
                            Some('`') => {
                                return Err("a backtick escapes inside a PowerShell string".into());
                            }
                            Some('$')
                                if c.get(i + 1).is_some_and(|n| {
                                    n.is_ascii_alphanumeric() || "_{(?$^:".contains(*n)
                                }) =>
                            {
                                return Err("'$' expands inside a PowerShell string".into());
                            }
                            Some(&x) => {
                                arg.push(x);
                                i += 1;
                            }
                        }
                    }
                }
                '`' => return Err("a backtick escapes in PowerShell".into()),
                '$' => return Err("'$' is a PowerShell variable".into()),
                x @ ('(' | ')' | '{' | '}') => {
                    return Err(format!(
                        "'{x}' is PowerShell syntax (evaluates or a script block)"
                    ));
                }
                x @ ('|' | '&' | '<' | '>') => {
                    return Err(format!("'{x}' is a PowerShell operator"));
                }
                x => {
                    arg.push(x);
                    i += 1;
                }
            }
        }
        args.push(arg);
    }
}

/// The argument list a native program gets from PowerShell: the command line PowerShell builds
/// (an argument with whitespace in double quotes), split by the C runtime. What Windows
/// PowerShell 5.1 and PowerShell 7.3+ build differently (an empty argument, which 5.1 drops; an
/// embedded quote, which only 7.3 escapes; a quoted argument ending in a backslash) is an error.
fn native_argv(name: &str, args: &[String]) -> Result<Vec<String>, String> {
    let mut line = String::new();
    for a in args {
        if let Some(verbatim) = a.strip_prefix("\u{0}--%") {
            line.push_str(verbatim);
            continue;
        }
        if a.is_empty() {
            return Err("an empty argument (Windows PowerShell 5.1 drops it)".into());
        }
        if a.contains('"') {
            return Err(format!(
                "an argument with a double quote ({a}): 5.1 and 7 pass it differently"
            ));
        }
        line.push(' ');
        if a.contains([' ', '\t']) {
            if a.ends_with('\\') {
                return Err(format!("a quoted argument ending in a backslash ({a})"));
            }
            line.push('"');
            line.push_str(a);
            line.push('"');
        } else {
            line.push_str(a);
        }
    }
    let mut argv = vec![name.to_string()];
    argv.extend(crt_argv(&line));
    Ok(argv)
}

// ------------------------------------------------------------------------------------------------
// Both

/// What one line does in both consoles, when that is the same: the commands it runs. An `echo`
/// counts as alike when both print the same words (cmd.exe shows the quotes around one quoted
/// argument; PowerShell prints its value).
pub fn alike(line: &str) -> Result<Vec<Run>, String> {
    let cmd = cmd_line(line).map_err(|e| format!("cmd.exe: {e}"))?;
    let ps = ps_line(line).map_err(|e| format!("PowerShell: {e}"))?;
    let shown = |r: &Run| match r {
        Run::Echo(v) => Run::Echo(
            v.iter()
                .map(|s| {
                    s.strip_prefix('"')
                        .and_then(|s| s.strip_suffix('"'))
                        .unwrap_or(s)
                        .to_string()
                })
                .collect(),
        ),
        other => other.clone(),
    };
    let cmd_shown: Vec<Run> = cmd.iter().map(shown).collect();
    if cmd_shown != ps {
        return Err(format!("cmd.exe runs {cmd:?}, PowerShell runs {ps:?}"));
    }
    Ok(ps)
}
