//! What the command line does with input that is wrong or odd, run as the real binary: duplicated
//! keys, files that are not regular or too large, a byte-order mark, port spellings, long values,
//! operating-system errors. Control characters: tests/cli_control_characters.rs.

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;
use support::cli::{config_with, evil_product, example, fwtopo, fwtopo_with, run, stderr};

/// 1-based line and column of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

// ------------------------------------------------------------------------------------------------
// Item 2: a duplicated key anywhere is a load error naming file:line:col and the key

/// The `nth` (0-based) occurrence of `needle` in `text`, as a byte offset.
fn nth(text: &str, needle: &str, n: usize) -> usize {
    text.match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle} {n}"))
        .0
}

#[test]
fn a_duplicated_key_is_refused_naming_file_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cpanel = example("cpanel-whm");
    // (file, text, the duplicated key, where the second one starts)
    let mut cases: Vec<(&str, String, &str, usize)> = Vec::new();
    // The issue's case: "off" then "on"; the later value must not silently win.
    let text = cpanel.replacen(
        r#""ssh_public": "off","#,
        r#""ssh_public": "off", "mysql_remote": "off", "ssh_public": "on","#,
        1,
    );
    let at = nth(&text, "\"ssh_public\"", 1);
    cases.push(("params.ron", text, "ssh_public", at));
    // A struct field of a node, a zone, an external host, a role, and the file itself.
    let text = cpanel.replacen("os: \"ubuntu\",", "os: \"ubuntu\", os: \"debian\",", 1);
    let at = nth(&text, "os: ", 2);
    cases.push(("node.ron", text, "os", at));
    let text = cpanel.replacen(
        "cidrs: [\"192.0.2.0/26\"],",
        "cidrs: [\"192.0.2.0/26\"], cidrs: [\"0.0.0.0/0\"],",
        1,
    );
    let at = nth(&text, "cidrs: [\"0.0.0.0/0\"]", 0);
    cases.push(("zone.ron", text, "cidrs", at));
    let text = cpanel.replacen(
        "    ],\n)",
        "    ],\n    external_hosts: [(name: \"a.example.net\", note: \"x\", note: \"y\")],\n)",
        1,
    );
    let at = nth(&text, "note: \"y\"", 0);
    cases.push(("host.ron", text, "note", at));
    let text = cpanel.replacen(
        "role: \"server\", params: {\"mysql_remote\"",
        "role: \"server\", role: \"server\", params: {\"mysql_remote\"",
        1,
    );
    let at = nth(&text, "role: \"server\"", 1);
    cases.push(("role.ron", text, "role", at));
    let text = cpanel.replacen("    version: 1,", "    version: 1,\n    version: 1,", 1);
    let at = nth(&text, "version: 1", 1);
    cases.push(("version.ron", text, "version", at));
    for (name, text, key, at) in &cases {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        let (line, col) = line_col(text, *at);
        for cmd in ["check", "rules", "export"] {
            let mut c = fwtopo();
            c.arg(cmd).arg(&path);
            if cmd == "export" {
                c.args(["--target", "auto", "--out"])
                    .arg(dir.path().join("out"));
            }
            let (code, err) = run(c);
            assert_eq!(code, Some(2), "{cmd} {name}: {err}");
            let key_at = [col, col + 1]
                .map(|c| format!("{}:{line}:{c}: ", path.display()))
                .into_iter()
                .any(|p| err.contains(&p));
            assert!(key_at, "{cmd} {name}: not at {line}:{col}: {err}");
            assert!(
                err.contains(&format!("duplicate key '{key}'")),
                "{cmd} {name}: {err}"
            );
            assert!(!dir.path().join("out").exists(), "{cmd} {name}: wrote");
        }
    }
}

#[test]
fn a_duplicated_key_in_a_large_file_gives_the_error_of_one_parse() {
    // Large enough to be parsed in parts on every core; the duplicate sits deep in the node list.
    let dir = tempfile::tempdir().unwrap();
    let mut t = fwtopo::files::load_topology(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cpanel-whm.ron"),
    )
    .unwrap();
    let first = t.nodes[1].clone();
    t.nodes = (0..1500u16)
        .map(|i| {
            let mut n = first.clone();
            n.name = format!("n{i}");
            n.addresses = vec![format!("2001:db8::{:x}", i + 1).parse().unwrap()];
            n
        })
        .collect();
    let clean = fwtopo::topology::to_ron(&t);
    assert!(clean.len() > 400 * 1024, "{}", clean.len());
    let anchor = "\"n1234\"";
    let node = nth(&clean, anchor, 0);
    let params = node + clean[node..].find("\"ssh_public\": \"off\"").unwrap();
    let text = format!(
        "{}\"ssh_public\": \"off\", \"ssh_public\": \"on\"{}",
        &clean[..params],
        &clean[params + "\"ssh_public\": \"off\"".len()..]
    );
    let (line, _) = line_col(&text, params);
    let whole = fwtopo::topology::from_ron_in_parts(&text, 1);
    for parts in 2..=8 {
        assert_eq!(
            fwtopo::topology::from_ron_in_parts(&text, parts),
            whole,
            "{parts} parts"
        );
    }
    let path = dir.path().join("large.ron");
    fs::write(&path, &text).unwrap();
    let mut c = fwtopo();
    c.arg("check").arg(&path);
    let (code, err) = run(c);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("large.ron:{line}:")) && err.contains("duplicate key 'ssh_public'"),
        "{err}"
    );
}

#[test]
fn a_duplicated_key_in_a_user_catalog_file_is_refused() {
    for (field, key) in [
        ("service: \"a\", service: \"b\",", "service"),
        (
            "service: \"a\", source: (section: \"x\", section: \"y\"),",
            "section",
        ),
    ] {
        let text = evil_product(Some(field));
        let config = config_with(&text);
        let at = text.find(field).unwrap() + field.rfind(&format!("{key}: ")).unwrap();
        let (line, col) = line_col(&text, at);
        let (code, err) = run({
            let mut c = fwtopo_with(config.path());
            c.arg("catalog");
            c
        });
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains(&format!("evil.ron:{line}:{col}: duplicate key '{key}'")),
            "{key}: {err}"
        );
    }
    // The product itself loads: the test is about the duplicate.
    let config = config_with(&evil_product(None));
    let (code, err) = run({
        let mut c = fwtopo_with(config.path());
        c.args(["catalog", "evil"]);
        c
    });
    assert_eq!(code, Some(0), "{err}");
}

// ------------------------------------------------------------------------------------------------
// Item 4: unbounded input

/// Runs `check` on `path` (with standard input from `stdin`, if given): it must end at once with
/// exit status 2 and a message naming the file and saying why. (Not through assert_cmd, which
/// always gives the command a pipe for standard input.)
fn refused_at_once(path: &Path, stdin: Option<fs::File>, why: &str) {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("fwtopo"));
    c.env(
        "FWTOPO_CONFIG_DIR",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no-config"),
    )
    .arg("check")
    .arg(path)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    c.stdin(stdin.map_or_else(std::process::Stdio::null, std::process::Stdio::from));
    let mut child = c.spawn().unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: still running after 20 s", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{}: {err}", path.display());
    assert!(
        err.contains(&path.display().to_string()) && err.contains(why),
        "{}: {err}",
        path.display()
    );
}

#[cfg(unix)]
#[test]
fn what_is_not_a_regular_file_is_refused_at_once() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        refused_at_once(Path::new(dev), None, "not a regular file");
    }
    let zero = fs::File::open("/dev/zero").unwrap();
    refused_at_once(Path::new("/dev/stdin"), Some(zero), "not a regular file");
    let dir = tempfile::tempdir().unwrap();
    refused_at_once(dir.path(), None, "not a regular file");
    // A FIFO nobody writes to: opening it would wait for a writer forever.
    let fifo = dir.path().join("fifo.ron");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    refused_at_once(&fifo, None, "not a regular file");
    // A user catalog file that is a FIFO.
    let config = tempfile::tempdir().unwrap();
    fs::create_dir(config.path().join("catalog")).unwrap();
    let fifo = config.path().join("catalog/x.ron");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, err) = run({
        let mut c = fwtopo_with(config.path());
        c.arg("catalog");
        c
    });
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&fifo.display().to_string()) && err.contains("not a regular file"),
        "{err}"
    );
}

#[test]
fn a_file_over_the_cap_is_refused_naming_file_and_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.ron");
    // Sparse: no disk space, but its size says 256 MiB and one byte.
    let f = fs::File::create(&path).unwrap();
    f.set_len(256 * 1024 * 1024 + 1).unwrap();
    drop(f);
    refused_at_once(&path, None, "256 MiB");
    // A user catalog file too.
    let config = tempfile::tempdir().unwrap();
    fs::create_dir(config.path().join("catalog")).unwrap();
    let big = config.path().join("catalog/big.ron");
    fs::File::create(&big)
        .unwrap()
        .set_len(256 * 1024 * 1024 + 1)
        .unwrap();
    let (code, err) = run({
        let mut c = fwtopo_with(config.path());
        c.arg("catalog");
        c
    });
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&big.display().to_string()) && err.contains("256 MiB"),
        "{err}"
    );
}

// ------------------------------------------------------------------------------------------------
// Item 11: the loading parts of the smaller things

#[test]
fn a_long_rejected_value_is_cut_and_its_length_said() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(10 * 1024 * 1024);
    let cpanel = example("cpanel-whm");
    let cases = [
        (
            "os",
            cpanel.replacen("\"ubuntu\"", &format!("\"{long}\""), 1),
        ),
        (
            "address",
            cpanel.replacen("\"203.0.113.71\"", &format!("\"{long}\""), 1),
        ),
        (
            "name",
            cpanel.replacen("\"cpanel-ubuntu\"", &format!("\"{long}\""), 1),
        ),
        (
            "param",
            cpanel.replacen("\"30000-30999\"", &format!("\"{long}\""), 1),
        ),
        (
            "cidr",
            cpanel.replacen("\"192.0.2.0/26\"", &format!("\"{long}\""), 1),
        ),
        (
            "firewall",
            cpanel.replacen("Some(\"iptables\")", &format!("Some(\"{long}\")"), 1),
        ),
        // An unknown field, which the parser's message names.
        (
            "syntax",
            cpanel.replacen(
                "    version: 1,",
                &format!("    version: 1,\n    {long}: 1,"),
                1,
            ),
        ),
    ];
    for (what, text) in cases {
        let path = dir.path().join(format!("{what}.ron"));
        fs::write(&path, text).unwrap();
        let mut c = fwtopo();
        c.arg("check").arg(&path);
        let (code, err) = run(c);
        assert_eq!(code, Some(2), "{what}: {}", &err[..err.len().min(300)]);
        assert!(
            err.len() < 2000,
            "{what}: {} bytes of error: {}…",
            err.len(),
            &err[..300]
        );
        // The value's start, where it is shown (a parameter's value is refused for its length).
        assert!(what == "param" || err.contains("xxxxxxxx"), "{what}: {err}");
        // The value's length; a parser message quoting it says how long it was.
        let length = if what == "syntax" {
            "bytes"
        } else {
            "10485760 bytes"
        };
        assert!(err.contains(length), "{what}: {err}");
    }
}

#[test]
fn ports_are_plain_decimal_digits_and_errors_quote_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    // (value of a port range parameter, what the error must say)
    let cases = [
        ("-1", "'-1'"),
        ("+22", "'+22'"),
        ("022", "'022'"),
        ("00022", "'00022'"),
        ("+30000-30999", "'+30000-30999'"),
        ("30000-030999", "'30000-030999'"),
        ("30000--30999", "'30000--30999'"),
        ("0x16", "'0x16'"),
        ("2 2", "'2 2'"),
        ("", "''"),
        ("-", "'-'"),
        ("99999999999999999999999", "'99999999999999999999999'"),
    ];
    for (value, said) in cases {
        let path = dir.path().join("port.ron");
        let text = example("cpanel-whm").replacen("\"30000-30999\"", &format!("{value:?}"), 1);
        fs::write(&path, text).unwrap();
        let mut c = fwtopo();
        c.arg("check").arg(&path);
        let (code, err) = run(c);
        assert_eq!(code, Some(2), "{value:?}: {err}");
        assert!(
            err.contains("params.ftp_passive") && err.contains(said),
            "{value:?}: {err}"
        );
    }
    // What stays accepted: plain digits, either range separator, spaces around.
    for value in [
        "30000-30999",
        "30000:30999",
        " 30000 - 30999 ",
        // A single port (22 would now be FW018: the passive range on SSH, an error).
        "40000",
        "65535",
    ] {
        let path = dir.path().join("port.ron");
        let text = example("cpanel-whm").replacen("\"30000-30999\"", &format!("{value:?}"), 1);
        fs::write(&path, text).unwrap();
        let mut c = fwtopo();
        c.arg("check").arg(&path);
        let (code, err) = run(c);
        assert_eq!(code, Some(0), "{value:?}: {err}");
    }
}

#[test]
fn a_leading_byte_order_mark_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.ron");
    fs::write(&path, format!("\u{FEFF}{}", example("cpanel-whm"))).unwrap();
    let mut c = fwtopo();
    c.arg("check").arg(&path);
    let (code, err) = run(c);
    assert_eq!(code, Some(0), "{err}");
    // A syntax error after it is placed as an editor shows it (the mark is invisible): as in the
    // same text without the mark.
    let bad = "(version: 1 nodes: [(name: \"a\", os: \"debian\")])";
    let errors = [format!("\u{FEFF}{bad}"), bad.to_string()].map(|text| {
        fs::write(&path, text).unwrap();
        let mut c = fwtopo();
        c.arg("check").arg(&path);
        let (code, err) = run(c);
        assert_eq!(code, Some(2), "{err}");
        err
    });
    assert_eq!(errors[0], errors[1]);
    assert!(errors[0].contains("bom.ron:1:"), "{}", errors[0]);
    // And in a user catalog file.
    let config = config_with(&format!("\u{FEFF}{}", evil_product(None)));
    let (code, err) = run({
        let mut c = fwtopo_with(config.path());
        c.args(["catalog", "evil"]);
        c
    });
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn an_operating_system_error_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.ron");
    for cmd in ["check", "rules"] {
        let mut c = fwtopo();
        c.arg(cmd).arg(&missing);
        let (code, err) = run(c);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
        assert!(err.contains("missing.ron"), "{err}");
    }
    // A directory is not a file to read, said once.
    let mut c = fwtopo();
    c.arg("check").arg(dir.path());
    let (code, err) = run(c);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("os error 21"), "{err}");
}
