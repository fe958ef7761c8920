//! User text cannot change what an export does, in any of the eight targets (and the probe
//! scripts, in hostile_names/probe.rs).
//!
//! Every example topology is exported twice for every node, target and egress policy: once with
//! benign free text and once with hostile text (quotes, `;`, `&`, `|`, `%PATH%`, `^`, backticks,
//! `$(touch /tmp/pwned)`, newlines, carriage returns, typographic quotes, non-ASCII, very long
//! strings) in the topology name and description and in node, zone and external-host notes. With the
//! comments removed (per target: whole comment lines, trailing `#` comments, and the quoted argument
//! of comment/description options), both exports must be identical: the text stayed inside comments.
//! Windows exports must be pure ASCII. Hostile node, zone and parameter names never get that far: the
//! loader refuses them and names the field.

#[path = "support/windows_consoles.rs"]
mod windows_consoles;

/// The probe scripts, whose flows' services are printed data rather than comments.
#[path = "hostile_names/probe.rs"]
mod probe;

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::files::load_topology;
use fwtopo::target::Target;
use fwtopo::topology::{ExternalHost, LoadError, Topology, from_ron, to_ron};
use std::path::{Path, PathBuf};

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

fn examples() -> Vec<(String, Topology)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                load_topology(&p).unwrap(),
            )
        })
        .collect()
}

/// Shell, cmd.exe, PowerShell, nft and XML breakers, one per field, plus a marker that must never
/// reach a non-comment line.
fn hostile() -> [String; 5] {
    let name = "fw\"top'o; rm -rf / & calc | nc -l 4444 %PATH% ^& `id` $(touch /tmp/pwned) ${HOME} <x> !bang! \
                \u{201C}curly\u{201D} \u{2018}s\u{2019} na\u{EF}ve \u{3A9} \u{4E2D}\u{6587} \u{1F525} PWNED"
        .to_string();
    let description = "line1\nline2\r\nline3\rline4\ttab \u{2028} */ /* <# #> -- ; DROP TABLE x; \\\" \\' '' \"\" PWNED".to_string();
    let node_note = "REM & del /q C:\\ \n@echo on\n\" & calc & \"\n'; Remove-Item -Recurse C:\\; '\n`n `$x '@{x=\"y\"}' %%~f0 ^\nPWNED".to_string();
    let zone_note =
        "#!/bin/sh\n*/ } ; flush ruleset ; table inet x { }\n-A INPUT -j ACCEPT\nCOMMIT\n</description><x> ]]> <!-- PWNED".to_string();
    let long = format!("{name}{description}{node_note}{zone_note}").repeat(40);
    [name, description, node_note, zone_note, long]
}

fn benign() -> [String; 5] {
    [
        "benign name",
        "benign description",
        "benign node note",
        "benign zone note",
        "benign external host note",
    ]
    .map(String::from)
}

/// The example with its free text replaced; an unused external host carries a note too.
fn with_text(t: &Topology, text: &[String; 5]) -> Topology {
    let mut t = t.clone();
    t.name = text[0].clone();
    t.description = text[1].clone();
    for n in &mut t.nodes {
        n.note = text[2].clone();
    }
    for z in &mut t.zones {
        z.note = text[3].clone();
    }
    for h in &mut t.external_hosts {
        h.note = text[4].clone();
    }
    t.external_hosts.push(ExternalHost {
        name: "unused.example.net".into(),
        addresses: vec![],
        note: text[4].clone(),
    });
    // The site's own roles and flows: their names and services are lines, their notes free text.
    for r in &mut t.custom.roles {
        r.name = text[0].clone();
        r.description = text[1].clone();
    }
    for f in &mut t.custom.flows {
        f.service = text[0].clone();
        f.note = text[2].clone();
    }
    t
}

// ------------------------------------------------------------------------------------------------
// Removing comments, per target

/// A line's words, shell-like: whitespace separates; `'...'` and `"..."` (with backslash escapes)
/// quote; a backslash outside quotes escapes the next character. Adjacent quoted parts form one word,
/// which also covers PowerShell's `'it''s'`.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut started = false;
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            '\'' => {
                started = true;
                cur.push(c);
                for d in chars.by_ref() {
                    cur.push(d);
                    if d == '\'' {
                        break;
                    }
                }
            }
            '"' => {
                started = true;
                cur.push(c);
                while let Some(d) = chars.next() {
                    cur.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            cur.push(e);
                        }
                    } else if d == '"' {
                        break;
                    }
                }
            }
            '\\' => {
                started = true;
                cur.push(c);
                if let Some(e) = chars.next() {
                    cur.push(e);
                }
            }
            _ => {
                started = true;
                cur.push(c);
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
}

/// Options whose (next or `=`) argument is a comment or description string.
const COMMENT_KEYS: [&str; 9] = [
    "comment",
    "--comment",
    "-Description",
    "description",
    "--description",
    "--set-description",
    "--set-short",
    "--short",
    "rem",
];

/// Replaces XML descriptions and comments (firewalld zone/service files) by a placeholder.
fn strip_xml(line: &str) -> String {
    let mut s = line.to_string();
    for (open, close) in [
        ("<description>", "</description>"),
        ("<short>", "</short>"),
        ("<!--", "-->"),
    ] {
        while let Some(a) = s.find(open) {
            let Some(b) = s[a..].find(close) else {
                s.truncate(a);
                break;
            };
            s.replace_range(a..a + b + close.len(), "<C>");
        }
    }
    s
}

fn is_comment_line(target: Target, t: &str) -> bool {
    match target {
        Target::Netsh => {
            let l = t.to_ascii_lowercase();
            l == "rem" || l.starts_with("rem ") || l.starts_with("@rem") || l.starts_with("::")
        }
        _ => t.starts_with('#'),
    }
}

/// The non-comment content of an export, line by line.
fn strip_comments(target: Target, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_xml_comment = false;
    let mut in_ps_block = false;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let t = line.trim_start();
        if in_ps_block {
            in_ps_block = !t.contains("#>");
            continue;
        }
        if target == Target::Powershell && t.starts_with("<#") {
            in_ps_block = !t.contains("#>");
            continue;
        }
        if in_xml_comment {
            in_xml_comment = !t.contains("-->");
            continue;
        }
        if is_comment_line(target, t) {
            continue;
        }
        let mut l = strip_xml(line);
        if l.contains("<!--") {
            in_xml_comment = true;
            l = l[..l.find("<!--").unwrap_or(l.len())].to_string();
        }
        let ws = words(&l);
        let mut kept: Vec<String> = Vec::new();
        let mut hide_next = false;
        for w in ws {
            if hide_next && !COMMENT_KEYS.iter().any(|k| w.eq_ignore_ascii_case(k)) {
                kept.push("<C>".into());
                hide_next = false;
                continue;
            }
            // A word starting with an unquoted `#` starts a trailing comment (not in cmd.exe).
            if target != Target::Netsh && w.starts_with('#') {
                break;
            }
            if COMMENT_KEYS.iter().any(|k| w.eq_ignore_ascii_case(k)) {
                kept.push(w);
                hide_next = true;
                continue;
            }
            if let Some((k, _)) = w.split_once('=')
                && COMMENT_KEYS.iter().any(|c| k.eq_ignore_ascii_case(c))
            {
                kept.push(format!("{k}=<C>"));
                continue;
            }
            kept.push(w);
        }
        out.push(kept.join(" "));
    }
    out
}

// ------------------------------------------------------------------------------------------------

fn render_all(
    catalog: &Catalog,
    t: &Topology,
    node: &str,
    target: Target,
    options: Options,
) -> String {
    let catalog = &fwtopo::topology::site_catalog(catalog, t);
    let plan = engine::derive(catalog, t);
    let np = plan.node(node).unwrap();
    export::render(target, &Export::new(catalog, t, &plan, np, options))
}

#[test]
fn hostile_text_stays_in_comments_in_every_target() {
    let catalog = catalog();
    let (bad, good) = (hostile(), benign());
    let mut compared = 0;
    let mut non_empty = 0;
    for (stem, example) in examples() {
        let hostile_t = with_text(&example, &bad);
        let benign_t = with_text(&example, &good);
        let catalog = fwtopo::topology::site_catalog(&catalog, &example);
        let hostile_plan = engine::derive(&catalog, &hostile_t);
        let benign_plan = engine::derive(&catalog, &benign_t);
        assert_eq!(
            hostile_plan, benign_plan,
            "{stem}: free text changed the derived rules"
        );
        for node in &example.nodes {
            for target in Target::ALL {
                for egress in [Egress::Open, Egress::Strict] {
                    let crlf = target.is_windows() && egress == Egress::Strict;
                    let options = Options { egress, crlf };
                    let ctx = format!("{stem} {} {target} {egress:?}", node.name);
                    let b = render_all(&catalog, &benign_t, &node.name, target, options);
                    let h = render_all(&catalog, &hostile_t, &node.name, target, options);
                    assert_eq!(
                        h,
                        render_all(&catalog, &hostile_t, &node.name, target, options),
                        "{ctx}: not deterministic"
                    );
                    let (sb, sh) = (strip_comments(target, &b), strip_comments(target, &h));
                    if sb != sh {
                        let i = sb
                            .iter()
                            .zip(&sh)
                            .position(|(x, y)| x != y)
                            .unwrap_or(sb.len().min(sh.len()));
                        panic!(
                            "{ctx}: hostile text changed a non-comment line ({} vs {} lines)\n benign:  {:?}\n hostile: {:?}",
                            sb.len(),
                            sh.len(),
                            sb.get(i),
                            sh.get(i)
                        );
                    }
                    assert!(
                        !sh.iter().any(|l| l.contains("PWNED")),
                        "{ctx}: hostile text outside a comment"
                    );
                    if target.is_windows() {
                        for (n, line) in h.split('\n').enumerate() {
                            let line = line.strip_suffix('\r').unwrap_or(line);
                            assert!(
                                line.chars().all(|c| (' '..='~').contains(&c)),
                                "{ctx} line {}: non-ASCII or control character: {line}",
                                n + 1
                            );
                        }
                        if crlf {
                            assert_eq!(
                                h.matches('\n').count(),
                                h.matches("\r\n").count(),
                                "{ctx}: bare LF with --crlf"
                            );
                        }
                    }
                    if target == Target::Netsh {
                        for line in h
                            .lines()
                            .filter(|l| is_comment_line(target, l.trim_start()))
                        {
                            assert!(
                                !line.contains(['%', '^', '&', '|', '<', '>', '"']),
                                "{ctx}: cmd.exe metacharacter in a comment: {line}"
                            );
                        }
                    }
                    if !h.is_empty() {
                        non_empty += 1;
                    }
                    compared += 1;
                }
            }
        }
    }
    eprintln!("hostile_names: compared {compared} exports ({non_empty} non-empty)");
    assert!(compared > 500);
}

#[test]
fn hostile_text_survives_the_file_format() {
    // Through the loader: everything but carriage returns and bidirectional overrides is accepted
    // and round-trips; those two are refused with the field named.
    let catalog = catalog();
    let (_, example) = examples()
        .into_iter()
        .find(|(s, _)| s == "plesk-automation")
        .unwrap();
    let mut text = hostile();
    for s in &mut text {
        *s = s.replace('\r', " ");
        let mut end = s.len().min(4000);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    let t = with_text(&example, &text);
    let loaded = from_ron(&to_ron(&t)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, t);
    assert!(fwtopo::topology::check(&loaded, &catalog).is_empty());
    let benign_t = with_text(&example, &benign());
    for node in &t.nodes {
        for target in Target::ALL {
            let o = Options::default();
            let h = strip_comments(
                target,
                &render_all(&catalog, &loaded, &node.name, target, o),
            );
            let b = strip_comments(
                target,
                &render_all(&catalog, &benign_t, &node.name, target, o),
            );
            assert_eq!(h, b, "{} {target}", node.name);
        }
    }
    for (field, bad) in [("note", "a\rb"), ("note", "a\u{202E}b")] {
        let mut t = example.clone();
        t.nodes[0].note = bad.into();
        let Err(LoadError::Invalid(p)) = from_ron(&to_ron(&t)) else {
            panic!("{bad:?} accepted")
        };
        assert!(
            p.iter()
                .any(|p| p.path.starts_with("nodes[0]") && p.path.ends_with(field)),
            "{p:?}"
        );
    }
}

#[test]
fn hostile_node_zone_and_param_names_are_refused() {
    let names = [
        "a;rm -rf /",
        "x\"y",
        "$(touch /tmp/pwned)",
        "a b",
        "%PATH%",
        "a&b",
        "a|b",
        "^x",
        "`id`",
        "\u{201C}q\u{201D}",
        "na\u{EF}ve",
        "-leading",
        "",
        "a\nb",
        &"x".repeat(64),
    ];
    let ron_str = |s: &str| format!("{s:?}");
    for name in names {
        let node = format!(
            "(version: 1, zones: [(name: \"admin\", cidrs: [\"198.51.100.0/24\"])], nodes: [(name: {}, os: \"almalinux\")])",
            ron_str(name)
        );
        let zone = format!(
            "(version: 1, zones: [(name: {}, cidrs: [\"198.51.100.0/24\"])], nodes: [])",
            ron_str(name)
        );
        let param = format!(
            "(version: 1, nodes: [(name: \"n\", os: \"almalinux\", roles: [(product: \"plesk-automation\", role: \"mn\", params: {{{}: \"off\"}})])])",
            ron_str(name)
        );
        for (kind, text, path_start, path_end) in [
            ("node", node, "nodes[0]", ": name"),
            ("zone", zone, "zones[0]", ": name"),
            ("param", param, "nodes[0]", ": params"),
        ] {
            match from_ron(&text) {
                Err(LoadError::Invalid(problems)) => assert!(
                    problems
                        .iter()
                        .any(|p| p.path.starts_with(path_start) && p.path.ends_with(path_end)),
                    "{kind} name {name:?}: problems do not name the field: {problems:?}"
                ),
                other => panic!("{kind} name {name:?} was not refused: {other:?}"),
            }
        }
    }
}

#[test]
fn comment_stripping_hides_only_comments() {
    // Same after stripping: only comment text differs.
    let same = [
        (
            Target::Nftables,
            "# a\ntcp dport 22 accept comment \"a b\"",
            "# b c\ntcp dport 22 accept comment \"x\"",
        ),
        (
            Target::Iptables,
            "-A X -m comment --comment 'a' -j ACCEPT",
            "-A X -m comment --comment 'it'\\''s' -j ACCEPT",
        ),
        (
            Target::Ufw,
            "ufw allow 22/tcp comment 'a'",
            "ufw allow 22/tcp comment 'b;c'",
        ),
        (
            Target::Csf,
            "tcp|in|d=22|s=192.0.2.1 # a",
            "tcp|in|d=22|s=192.0.2.1 # b & c",
        ),
        (
            Target::Firewalld,
            "<zone><short>a</short><description>b</description></zone>",
            "<zone><short>x</short><description>y z</description></zone>",
        ),
        (
            Target::Netsh,
            "REM a\nnetsh add name=\"n\" description=\"a\"",
            "REM b\nnetsh add name=\"n\" description=\"b c\"",
        ),
        (
            Target::Powershell,
            "# a\nNew-NetFirewallRule -Description 'a' -Group 'g'",
            "# b\nNew-NetFirewallRule -Description 'b''s' -Group 'g'",
        ),
    ];
    for (t, a, b) in same {
        assert_eq!(
            strip_comments(t, a),
            strip_comments(t, b),
            "{t}: {a:?} vs {b:?}"
        );
    }
    // Different: the text left its comment, or sits in a non-comment string.
    let differ = [
        (
            Target::Nftables,
            "tcp dport 22 accept comment \"a\"",
            "tcp dport 22 accept comment \"a\" ; flush ruleset",
        ),
        (Target::Iptables, "echo 'a'", "echo 'b'"),
        (
            Target::Ufw,
            "ufw allow 22/tcp comment 'a'",
            "ufw allow 22/tcp comment 'a' ; touch x",
        ),
        (
            Target::Netsh,
            "netsh add description=\"a\"",
            "netsh add description=\"a\" & calc",
        ),
        (Target::Netsh, "echo a", "echo b"),
        (
            Target::Powershell,
            "New-NetFirewallRule -Description 'a' -Group 'g'",
            "New-NetFirewallRule -Description 'a' ; calc -Group 'g'",
        ),
        (Target::Powershell, "Write-Host 'a'", "Write-Host 'b'"),
    ];
    for (t, a, b) in differ {
        assert_ne!(
            strip_comments(t, a),
            strip_comments(t, b),
            "{t}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn free_text_reaches_the_windows_comments() {
    // The comparison above is not vacuous: the hostile topology name is in the header, folded.
    let catalog = catalog();
    let (_, example) = examples()
        .into_iter()
        .find(|(s, _)| s == "plesk-automation")
        .unwrap();
    let t = with_text(&example, &hostile());
    for target in [Target::Netsh, Target::Powershell] {
        let out = render_all(&catalog, &t, "pa-web-iis", target, Options::default());
        let line = out
            .lines()
            .find(|l| l.contains("topology: "))
            .unwrap_or_else(|| panic!("{target}: no topology line"));
        assert!(
            line.contains("PWNED") && line.contains("calc"),
            "{target}: {line}"
        );
    }
}

/// The netsh copy (what `y` copies and `export --node N` prints) of every node of every example with
/// hostile free text runs alike in cmd.exe and PowerShell, line by line (issue 14), and is the
/// benign topology's copy: no free text reaches it.
#[test]
fn hostile_text_gives_netsh_the_same_arguments_in_cmd_and_powershell() {
    let catalog = catalog();
    let mut lines = 0;
    for (stem, example) in examples() {
        let (h, b) = (
            with_text(&example, &hostile()),
            with_text(&example, &benign()),
        );
        let (hp, bp) = (engine::derive(&catalog, &h), engine::derive(&catalog, &b));
        for node in &example.nodes {
            for egress in [Egress::Open, Egress::Strict] {
                let options = Options {
                    egress,
                    crlf: false,
                };
                let copy = |t: &Topology, plan: &engine::Plan| {
                    let np = plan.node(&node.name).unwrap();
                    export::copy_text(Target::Netsh, &Export::new(&catalog, t, plan, np, options))
                };
                let text = copy(&h, &hp);
                assert_eq!(
                    text,
                    copy(&b, &bp),
                    "{stem} {}: free text in the copy",
                    node.name
                );
                for (n, line) in text.lines().enumerate() {
                    let runs = windows_consoles::alike(line).unwrap_or_else(|e| {
                        panic!(
                            "{stem} {} {egress:?} line {}: {e}\n{line}",
                            node.name,
                            n + 1
                        )
                    });
                    assert!(
                        runs.iter().all(|r| match r {
                            windows_consoles::Run::Program(argv) => argv[0] == "netsh",
                            r => matches!(r, windows_consoles::Run::Echo(_)),
                        }),
                        "{stem} {}: {runs:?}",
                        node.name
                    );
                    lines += 1;
                }
            }
        }
    }
    assert!(lines > 1000, "only {lines} lines");
}

/// ESC, BEL, CR, LF, NUL, DEL, the C1 controls CSI and NEL, and a bidirectional override.
const CONTROLS: [char; 9] = [
    '\u{1b}', '\u{7}', '\r', '\n', '\u{0}', '\u{7f}', '\u{9b}', '\u{85}', '\u{202E}',
];

/// Whether a message could reach a terminal as it is: no control character but the line ends
/// that separate its problems.
fn printable(message: &str) -> bool {
    !message
        .chars()
        .any(|c| c != '\n' && (c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)))
}

#[test]
fn control_characters_in_a_topology_are_refused_naming_the_field_and_never_echoed() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cpanel-whm.ron"),
    )
    .unwrap();
    for c in CONTROLS {
        let bad = format!("{:?}", format!("x{c}y"));
        // (the value replaced, the field a problem path ends with)
        for (from, field) in [
            ("\"cPanel & WHM example\"", "name"),
            ("\"ubuntu\"", "os"),
            ("\"iptables\"", "firewall"),
            ("\"203.0.113.71\"", "addresses[0]"),
            ("\"192.0.2.0/26\"", "cidrs[0]"),
            ("\"30000-30999\"", "params.ftp_passive"),
            ("\"ftp_passive\"", "params"),
            ("\"cpanel-ubuntu\"", "name"),
        ] {
            let text = base.replacen(from, &bad, 1);
            assert_ne!(text, base, "{from}");
            let ctx = format!("{from} with U+{:04X}", c as u32);
            let Err(LoadError::Invalid(problems)) = from_ron(&text) else {
                panic!("{ctx}: accepted")
            };
            assert!(
                problems.iter().any(|p| p.path.ends_with(field)),
                "{ctx}: {problems:?}"
            );
            let shown = LoadError::Invalid(problems).to_string();
            assert!(printable(&shown), "{ctx}: {}", shown.escape_debug());
        }
    }
}

#[test]
fn control_characters_in_a_catalog_are_refused_naming_product_and_field() {
    let host = fwtopo::catalog::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "host.ron")
        .unwrap()
        .1;
    for c in CONTROLS {
        let bad = format!("{:?}", format!("x{c}y"));
        for (from, field) in [
            ("\"Host management access\"", "name"),
            ("\"fwtopo\"", "vendor"),
            ("\"Linux host\"", "role 'linux': name"),
            ("\"SSH\"", "flow 'ssh': service"),
            (
                "\"Windows Remote Desktop default port\"",
                "flow 'rdp': source.section",
            ),
            ("\"ssh\"", "flow"),
            ("\"linux\"", "role"),
        ] {
            let text = host.replacen(from, &bad, 1);
            assert_ne!(text, host, "{from}");
            let ctx = format!("{from} with U+{:04X}", c as u32);
            let e = Catalog::from_sources([("user/host.ron".to_string(), text)])
                .err()
                .unwrap_or_else(|| panic!("{ctx}: accepted"));
            let shown = e.to_string();
            assert!(printable(&shown), "{ctx}: {}", shown.escape_debug());
            assert!(
                shown.starts_with("user/host.ron: product 'host': ") && shown.contains(field),
                "{ctx}: {shown}"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The Ansible rollout's YAML

/// The Ansible files of a site: (file name, text).
fn ansible_files(catalog: &Catalog, t: &Topology) -> Vec<(&'static str, String)> {
    let catalog = &fwtopo::topology::site_catalog(catalog, t);
    let plan = engine::derive(catalog, t);
    let nodes: Vec<&engine::NodePlan> = plan.nodes.iter().collect();
    let hosts = export::ansible::hosts(catalog, t, &nodes);
    export::ansible::files(t, &hosts)
}

/// Where a YAML double-quoted scalar starting at `s[0] == '"'` ends (the byte after its closing
/// quote), honouring backslash escapes; `None` when it does not close on this line.
fn quoted_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Free text reaches the Ansible files only in comments and as the `fwtopo_note` value: a
/// double-quoted, `!unsafe` (never templated) ASCII scalar that closes at the end of its line.
/// Everything else is identical to the benign export's.
#[test]
fn hostile_text_reaches_ansible_yaml_only_as_quoted_data() {
    let catalog = catalog();
    let (bad, good) = (hostile(), benign());
    for (stem, example) in examples() {
        let b = ansible_files(&catalog, &with_text(&example, &good));
        let h = ansible_files(&catalog, &with_text(&example, &bad));
        assert_eq!(b.len(), h.len());
        for ((name, bt), (_, ht)) in b.iter().zip(&h) {
            let ctx = format!("{stem} {name}");
            assert!(ht.is_ascii(), "{ctx}: not ASCII");
            assert!(!ht.contains('\r'), "{ctx}: a carriage return");
            let keep = |text: &str| -> Vec<String> {
                text.lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .filter(|l| !l.trim_start().starts_with("fwtopo_note:"))
                    .map(String::from)
                    .collect()
            };
            assert_eq!(keep(bt), keep(ht), "{ctx}: hostile text changed a line");
            for line in ht.lines() {
                let t = line.trim_start();
                if let Some(v) = t.strip_prefix("fwtopo_note: !unsafe ") {
                    assert!(v.starts_with('"'), "{ctx}: {line}");
                    assert_eq!(quoted_end(v), Some(v.len()), "{ctx}: {line}");
                } else if !t.starts_with('#') {
                    assert!(!line.contains("PWNED"), "{ctx}: {line}");
                }
            }
        }
    }
}
