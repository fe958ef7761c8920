//! Control characters never reach the terminal through the command line (issue 11, item 6): in a
//! topology, in a user catalog file or in an argument, every text output (`catalog`, `rules`,
//! `check`, `export`, error messages) either refuses the input, naming file and field, or shows
//! it escaped.

mod support;

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::cli::{config_with, evil_product, example, fwtopo, fwtopo_with, stderr};

/// The characters the issue names: ESC, BEL, CR, LF, and the C1 control CSI.
const CONTROLS: [char; 5] = ['\u{1b}', '\u{7}', '\r', '\n', '\u{9b}'];

/// A hostile value with `c` and nothing else the loader refuses, followed by what would pass for a
/// line of output after an LF; ESC comes as the issue's sequence that retitles the terminal and
/// clears it.
fn hostile(c: char) -> String {
    let c = match c {
        '\u{1b}' => "\u{1b}]0;PWNED\u{7}\u{1b}[2J".to_string(),
        c => c.to_string(),
    };
    format!("x{c}FAKE tcp 22 from any")
}

/// No control character but line ends in either stream, and no line the hostile text made.
fn assert_clean(ctx: &str, out: &Output) {
    for (which, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
            panic!(
                "{ctx}: {which} holds the control character U+{:04X}: {}",
                c as u32,
                text.escape_debug()
            );
        }
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("FAKE")),
            "{ctx}: {which} has a line the input made: {text}"
        );
    }
}

fn output(mut c: Command) -> Output {
    c.output().unwrap()
}

/// Runs `check`, `rules` and `export` on a topology text; all must refuse it (exit 2) unless
/// `may_load`, and print nothing raw.
fn topology_outputs(dir: &Path, ctx: &str, text: &str, may_load: bool) {
    let path = dir.join("t.ron");
    fs::write(&path, text).unwrap();
    for cmd in ["check", "rules", "export"] {
        let mut c = fwtopo();
        c.arg(cmd).arg(&path);
        if cmd == "export" {
            c.args(["--target", "nftables", "--out"])
                .arg(dir.join("out"));
        }
        let out = output(c);
        let ctx = format!("{ctx} {cmd}");
        assert_clean(&ctx, &out);
        assert!(!stderr(&out).contains("panicked"), "{ctx}");
        if !may_load {
            assert_eq!(out.status.code(), Some(2), "{ctx}: {}", stderr(&out));
        }
    }
}

#[test]
fn control_characters_in_a_topology_are_refused_or_escaped_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let cpanel = example("cpanel-whm");
    for c in CONTROLS {
        let h = hostile(c);
        let q = format!("{h:?}");
        let cases: Vec<(&str, String, bool)> = vec![
            ("os", cpanel.replacen("\"ubuntu\"", &q, 1), false),
            (
                "firewall",
                cpanel.replacen("Some(\"iptables\")", &format!("Some({q})"), 1),
                false,
            ),
            ("address", cpanel.replacen("\"203.0.113.71\"", &q, 1), false),
            ("cidr", cpanel.replacen("\"192.0.2.0/26\"", &q, 1), false),
            (
                "node name",
                cpanel.replacen("\"cpanel-ubuntu\"", &q, 1),
                false,
            ),
            ("zone name", cpanel.replacen("\"trusted\"", &q, 1), false),
            (
                "topology name",
                cpanel.replacen("\"cPanel & WHM example\"", &q, 1),
                false,
            ),
            (
                "param value",
                cpanel.replacen("\"30000-30999\"", &q, 1),
                false,
            ),
            (
                "param key",
                cpanel.replacen("\"ftp_passive\"", &q, 1),
                false,
            ),
            (
                "product",
                cpanel.replacen(
                    "\"cpanel-whm\", role: \"server\", params: {\"apt",
                    &format!("{q}, role: \"server\", params: {{\"apt"),
                    1,
                ),
                false,
            ),
            (
                "host name",
                cpanel.replacen(
                    "    ],\n)",
                    &format!("    ],\n    external_hosts: [(name: {q})],\n)"),
                    1,
                ),
                false,
            ),
            // Free text: a line end is allowed (it stays in comments), nothing else.
            (
                "zone note",
                cpanel.replacen("\"Hosting administrators.\"", &q, 1),
                c == '\n',
            ),
            (
                "description",
                cpanel.replacen("\"Two cPanel & WHM servers: AlmaLinux and Ubuntu.\"", &q, 1),
                c == '\n',
            ),
            // Raw in the text, outside any string: the syntax error must not echo it.
            (
                "syntax",
                cpanel.replacen("version: 1,", &format!("version: 1, {c}{h}"), 1),
                false,
            ),
        ];
        for (what, text, may_load) in cases {
            assert_ne!(text, cpanel, "{what}: nothing replaced");
            topology_outputs(
                dir.path(),
                &format!("{what} U+{:04X}", c as u32),
                &text,
                may_load,
            );
        }
    }
}

#[test]
fn control_characters_in_a_user_catalog_are_refused_naming_file_product_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.ron");
    fs::write(
        &site,
        r#"(version: 1, zones: [(name: "admin", cidrs: ["198.51.100.0/24"])],
            nodes: [(name: "a", os: "debian", addresses: ["203.0.113.5"],
                     roles: [(product: "evil", role: "r")])])"#,
    )
    .unwrap();
    let clean = evil_product(None);
    for c in CONTROLS {
        let h = hostile(c);
        let q = format!("{h:?}");
        // (field as the error names it, the product with that field made hostile)
        let cases: Vec<(&str, String)> = vec![
            ("name", clean.replacen("\"Evil product\"", &q, 1)),
            ("vendor", clean.replacen("\"Evil vendor\"", &q, 1)),
            ("document.title", clean.replacen("\"Evil document\"", &q, 1)),
            (
                "document.url",
                clean.replacen("\"https://evil.example.net/\"", &q, 1),
            ),
            ("document.id", clean.replacen("\"evil-doc\"", &q, 1)),
            ("description", clean.replacen("\"A product.\"", &q, 1)),
            ("group 'g': name", clean.replacen("\"Group\"", &q, 1)),
            ("role 'r': name", clean.replacen("\"Evil role\"", &q, 1)),
            (
                "role 'r': description",
                clean.replacen("\"A role.\"", &q, 1),
            ),
            (
                "parameter 'p': name",
                clean.replacen("\"Evil port\"", &q, 1),
            ),
            (
                "parameter 'p': description",
                clean.replacen("\"A port.\"", &q, 1),
            ),
            (
                "flow 'f': service",
                clean.replacen("\"Evil service\"", &q, 1),
            ),
            ("flow 'f': note", clean.replacen("\"A note.\"", &q, 1)),
            (
                "flow 'f': source.section",
                clean.replacen("\"Evil section\"", &q, 1),
            ),
            ("flow", clean.replacen("id: \"f\"", &format!("id: {q}"), 1)),
            (
                "parameter",
                clean.replacen("id: \"p\"", &format!("id: {q}"), 1),
            ),
            ("group", clean.replacen("id: \"g\"", &format!("id: {q}"), 1)),
            ("role", clean.replacen("id: \"r\"", &format!("id: {q}"), 1)),
            (
                "product",
                clean.replacen("id: \"evil\"", &format!("id: {q}"), 1),
            ),
        ];
        for (field, text) in cases {
            assert_ne!(text, clean, "{field}: nothing replaced");
            let config = config_with(&text);
            let runs: [&[&str]; 4] = [
                &["catalog"],
                &["catalog", "evil"],
                &["check", site.to_str().unwrap()],
                &["rules", site.to_str().unwrap()],
            ];
            for args in runs {
                let ctx = format!("{field} U+{:04X} {args:?}", c as u32);
                let out = output({
                    let mut cmd = fwtopo_with(config.path());
                    cmd.args(args);
                    cmd
                });
                assert_clean(&ctx, &out);
                // Free text may hold line ends (never printed by these commands).
                let prose = field.ends_with("description") || field.ends_with("note");
                if prose && c == '\n' {
                    continue;
                }
                let err = stderr(&out);
                assert_eq!(out.status.code(), Some(2), "{ctx}: {err}");
                assert!(
                    err.contains("evil.ron") && err.contains(field),
                    "{ctx}: {err}"
                );
            }
        }
    }
}

#[test]
fn control_characters_in_arguments_are_escaped_in_messages() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron");
    let dir = tempfile::tempdir().unwrap();
    for c in CONTROLS {
        let h = hostile(c);
        let missing: PathBuf = dir.path().join(format!("{h}.ron"));
        let runs: Vec<Vec<std::ffi::OsString>> = vec![
            vec!["catalog".into(), h.clone().into()],
            vec![
                "rules".into(),
                example.clone().into(),
                "--node".into(),
                h.clone().into(),
            ],
            vec![
                "export".into(),
                example.clone().into(),
                "--target".into(),
                "nftables".into(),
                "--node".into(),
                h.clone().into(),
            ],
            vec!["check".into(), missing.clone().into()],
        ];
        for args in runs {
            let ctx = format!("U+{:04X} {args:?}", c as u32);
            let out = output({
                let mut cmd = fwtopo();
                cmd.args(&args);
                cmd
            });
            assert_eq!(out.status.code(), Some(2), "{ctx}");
            assert_clean(&ctx, &out);
            assert!(
                stderr(&out).contains("FAKE tcp 22"),
                "{ctx}: the value is shown, escaped"
            );
        }
    }
}
