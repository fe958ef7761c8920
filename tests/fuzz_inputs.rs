//! Broad property fuzzing of the topology loader, the engine and every exporter.
//!
//! This is not coverage-guided (the coverage-guided fuzzing is cargo-fuzz's, in fuzz/: README
//! "Fuzzing"); it uses proptest (already a dev-dependency) and makes up for the missing coverage
//! feedback with structure-aware inputs:
//!
//! - (a) arbitrary strings, RON token soup, and byte mutations of every `examples/*.ron` (insert,
//!   delete, replace, duplicate, splice from another example, duplicate or delete whole lines, swap a
//!   string literal for another one from the examples (any, or one of the same shape: an address
//!   for an address, a port for a port), rewrite a number) go to `from_ron`: it never panics, syntax errors point
//!   at a line and column inside the text, other errors say something; arbitrary bytes through
//!   `load_topology` never panic either (non-UTF-8 is an encoding error naming the file);
//! - (b) whenever a mutated text loads, it round-trips through `to_ron`, and `derive` plus `render`
//!   for all 8 targets and both egress modes never panic and give non-empty text; Windows targets
//!   give ASCII lines of at most 8,191 characters (cmd.exe's limit). This is done whether or not
//!   `check` passes, because the designer derives and previews unchecked topologies too; the counts
//!   of both kinds are printed, and the test insists that enough mutants reach the exporters;
//! - (c) generated valid topologies (random nodes, OSes, roles of random products, parameter values
//!   within their kinds' ranges, documentation addresses v4 and v6, zones now and then crowded with
//!   hundreds of networks, external hosts, free text with quotes, backslashes, newlines and
//!   non-ASCII) pass `check`, round-trip through `to_ron`/`from_ron` exactly, derive, and render
//!   under every target like (b).
//!
//! Not checked here: the full netsh/PowerShell grammar and the nftables, iptables and ufw
//! structure checks (tests/support/*_grammar.rs; the fuzz/ targets apply them to every valid
//! topology), and the `nft -c` / `iptables-restore --test` runs of tests/export_netfilter.rs. One
//! stricter check that finds a real bug is kept, ignored, at the end
//! (`windows_remote_addresses_are_ones_windows_accepts`).
//!
//! Corpus: every `tests/fuzz-corpus/*.ron` is replayed through (a) and (b) by `corpus_replays`
//! (crash reproducers and hand-made nasty inputs live there). Proptest records the seeds of failing
//! runs in `tests/fuzz-corpus/proptest-seeds.txt` and replays them first.
//!
//! The default case counts keep the file under a minute on a loaded 2-core machine. Run longer with
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release --test fuzz_inputs
//! ```

use fwtopo::catalog::{Catalog, Endpoint, ParamKind};
use fwtopo::engine::derive;
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::files::{FileError, load_topology};
use fwtopo::target::Target;
use fwtopo::topology::file::{check_line, check_text};
use fwtopo::topology::{
    ExternalHost, LoadError, Node, Os, RoleAssignment, Topology, Zone, check, from_ron,
    from_ron_in_parts, to_ron,
};
use ipnet::IpNet;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestError, TestRunner};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const MAX_LINE: usize = 8191;
const SEEDS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fuzz-corpus/proptest-seeds.txt"
);

fn catalog() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(|| Catalog::embedded().expect("the embedded catalog loads"))
}

/// `(file stem, text)` of every `examples/*.ron`, sorted.
fn examples() -> &'static [(String, String)] {
    static EX: OnceLock<Vec<(String, String)>> = OnceLock::new();
    EX.get_or_init(|| {
        let texts = ron_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"));
        assert!(!texts.is_empty(), "no examples");
        texts
            .into_iter()
            .map(|(p, bytes)| {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                (stem, String::from_utf8(bytes).expect("examples are UTF-8"))
            })
            .collect()
    })
}

fn ron_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable file");
            (p, bytes)
        })
        .collect()
}

/// Byte spans of the string literals' contents (between the quotes) in a RON text.
fn string_spans(text: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    let mut in_comment = false;
    while i < text.len() {
        match text[i] {
            b'\n' => in_comment = false,
            b'/' if !in_comment && text.get(i + 1) == Some(&b'/') => in_comment = true,
            b'"' if !in_comment => {
                let start = i + 1;
                let mut j = start;
                while j < text.len() && text[j] != b'"' {
                    j += if text[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(text.len());
                spans.push((start, end));
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    spans
}

/// Every string literal content of the examples: names, products, roles, addresses, params.
fn string_pool() -> &'static [String] {
    static POOL: OnceLock<Vec<String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut set = BTreeSet::new();
        for (_, text) in examples() {
            for (a, b) in string_spans(text.as_bytes()) {
                set.insert(text[a..b].to_string());
            }
        }
        // Values the examples lack but the loader and the checks must handle.
        for extra in [
            "",
            "0",
            "65535",
            "65536",
            "1-65535",
            "65535-1",
            "1:2",
            "off",
            "on",
            "maybe",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
            "127.0.0.1",
            "::1",
            "::ffff:192.0.2.1",
            "fe80::1%eth0",
            "0.0.0.0/0",
            "::/0",
            "192.0.2.1/24",
            "2001:db8::1/64",
            "windows-server-2025",
            "ubuntu",
            "nftables",
            "netsh",
            "powershell",
            "host",
            "linux",
            "windows",
            "a\u{202E}b",
            "tab\there",
            "line\\nbreak",
            "quote\\\"d",
            "é",
            "\u{FEFF}",
            "x;rm -rf /",
            "my.mailstore.com",
            "store.cpanel.net",
        ] {
            set.insert(extra.to_string());
        }
        set.into_iter().collect()
    })
}

/// A rough class of a string value, so a mutation can swap like for like.
fn shape(s: &str) -> u8 {
    let t = s.trim();
    if t.contains(['.', ':'])
        && t.chars()
            .all(|c| c.is_ascii_hexdigit() || ".:/%".contains(c))
    {
        0 // address or network
    } else if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || "-:".contains(c)) {
        1 // port or range
    } else if fwtopo::topology::is_safe_name(t) {
        2 // name, product, role, OS, switch value
    } else {
        3 // free text
    }
}

/// Pieces of RON syntax and of the topology format, for token soup and insertions.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    " ",
    "\n",
    "\"",
    "\\",
    "//",
    "/*",
    "*/",
    "version",
    "name",
    "description",
    "zones",
    "nodes",
    "external_hosts",
    "cidrs",
    "note",
    "os",
    "addresses",
    "roles",
    "product",
    "role",
    "params",
    "firewall",
    "management",
    "true",
    "false",
    "None",
    "Some(",
    "0",
    "1",
    "2",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "1e309",
    "0x10",
    "'c'",
    "b\"x\"",
    "r#\"raw\"#",
    "#![enable(implicit_some)]",
    "#![enable(unwrap_newtypes)]",
    "version: 1,",
    "version: 2,",
    "version: 0,",
    "(version: 1)",
    "nodes: [(name: \"a\", os: \"ubuntu\")],",
    "roles: [(product: \"cpanel-whm\", role: \"server\")],",
    "params: {\"ftp\": \"off\"},",
    "\"\\u{202E}\"",
    "\"\\u{0}\"",
    "\u{FEFF}",
    "é",
    "\r\n",
    "\t",
];

// ------------------------------------------------------------------------------------------------
// running properties with counts

/// A proptest configuration: `default_cases` unless `PROPTEST_CASES` is set, failures persisted
/// in the corpus directory, shrinking bounded so a failure reports in reasonable time.
fn config(default_cases: u32) -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = default_cases;
    }
    c.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(SEEDS)));
    c.max_shrink_iters = 4096;
    c.max_shrink_time = 60_000;
    c
}

/// Runs a property; a failure panics with the reason and the minimal input (`show` renders it).
fn run<S: Strategy>(
    cases: u32,
    strategy: S,
    show: impl Fn(&S::Value) -> String,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(config(cases));
    match runner.run(&strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!("{reason}\nminimal failing input:\n{}", show(&value))
        }
        Err(TestError::Abort(reason)) => panic!("aborted: {reason}"),
    }
}

/// Writes a line to stderr even when libtest captures output (it captures `eprintln!`).
fn note(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[derive(Default)]
struct Counts {
    cases: Cell<usize>,
    syntax: Cell<usize>,
    invalid: Cell<usize>,
    version: Cell<usize>,
    loaded_unchecked: Cell<usize>,
    checked: Cell<usize>,
}

impl Counts {
    fn bump(c: &Cell<usize>) {
        c.set(c.get() + 1);
    }

    fn summary(&self, what: &str) -> String {
        format!(
            "fuzz_inputs {what}: {} cases: syntax error {}, version error {}, invalid {}, \
             loaded but failing check {}, loaded and checked {}",
            self.cases.get(),
            self.syntax.get(),
            self.version.get(),
            self.invalid.get(),
            self.loaded_unchecked.get(),
            self.checked.get()
        )
    }
}

// ------------------------------------------------------------------------------------------------
// the properties shared by (a), (b) and the corpus

/// 1-based line and column bounds of a text, as a parser could report them (end of input
/// included).
fn position_is_inside(text: &str, line: usize, col: usize) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    line >= 1 && col >= 1 && line <= lines.len() && col <= lines[line - 1].chars().count() + 1
}

/// A large file's node list is parsed in parts on every core: whatever the text, that must read
/// exactly as one parse of it does (the same topology, or the same error).
fn same_in_parts(text: &str, whole: &Result<Topology, LoadError>) -> Result<(), TestCaseError> {
    for parts in [2, 3, 7] {
        prop_assert_eq!(
            &from_ron_in_parts(text, parts),
            whole,
            "{} parts read differently from the whole text",
            parts
        );
    }
    Ok(())
}

/// Loads a text; checks the error or, when it loads, the round trip and then `exercise`.
fn load_text(text: &str, counts: &Counts) -> Result<(), TestCaseError> {
    Counts::bump(&counts.cases);
    let whole = from_ron(text);
    same_in_parts(text, &whole)?;
    match whole {
        Err(LoadError::Syntax { line, col, message }) => {
            Counts::bump(&counts.syntax);
            prop_assert!(
                position_is_inside(text, line, col),
                "syntax error at {line}:{col} outside the text ({message})"
            );
            prop_assert!(!message.trim().is_empty(), "empty syntax message");
        }
        Err(LoadError::Version { found }) => {
            Counts::bump(&counts.version);
            prop_assert!(found > fwtopo::topology::FORMAT_VERSION);
        }
        Err(LoadError::Invalid(problems)) => {
            Counts::bump(&counts.invalid);
            prop_assert!(!problems.is_empty(), "Invalid without problems");
            for p in &problems {
                prop_assert!(!p.path.is_empty() && !p.message.is_empty(), "{p:?}");
            }
        }
        Ok(t) => {
            let text2 = to_ron(&t);
            let again = from_ron(&text2);
            same_in_parts(&text2, &again)?;
            prop_assert_eq!(
                again.as_ref(),
                Ok(&t),
                "to_ron output does not load back:\n{}",
                text2
            );
            prop_assert_eq!(to_ron(again.as_ref().unwrap()), text2.clone());
            let problems = check(&t, catalog());
            if problems.is_empty() {
                Counts::bump(&counts.checked);
            } else {
                Counts::bump(&counts.loaded_unchecked);
                for p in &problems {
                    prop_assert!(!p.path.is_empty() && !p.message.is_empty(), "{p:?}");
                }
            }
            exercise(&t)?;
        }
    }
    Ok(())
}

/// Derives and renders every node for every target and egress; checks the output's shape.
fn exercise(t: &Topology) -> Result<(), TestCaseError> {
    let cat = catalog();
    let plan = derive(cat, t);
    for node in &t.nodes {
        let Some(np) = plan.node(&node.name) else {
            // Duplicate names cannot load, so every node has a plan.
            return Err(TestCaseError::fail(format!(
                "no plan for node {}",
                node.name
            )));
        };
        for target in Target::ALL {
            for egress in [Egress::Open, Egress::Strict] {
                let options = Options {
                    egress,
                    crlf: false,
                };
                let out = export::render(target, &Export::new(cat, t, &plan, np, options));
                let at = format!("node {} target {target} egress {egress:?}", node.name);
                prop_assert!(!out.trim().is_empty(), "{}: empty output", at);
                if target.is_windows() {
                    if let Some((i, c)) = out.char_indices().find(|(_, c)| !c.is_ascii()) {
                        return Err(TestCaseError::fail(format!(
                            "{at}: non-ASCII U+{:04X} at byte {i}",
                            c as u32
                        )));
                    }
                    if let Some((n, l)) = out
                        .split('\n')
                        .enumerate()
                        .find(|(_, l)| l.trim_end_matches('\r').len() > MAX_LINE)
                    {
                        return Err(TestCaseError::fail(format!(
                            "{at}: line {} has {} characters",
                            n + 1,
                            l.len()
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// (a) arbitrary text

fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(TOKENS).prop_map(String::from),
        // Quoted, as it would appear in a file.
        2 => prop::sample::select(string_pool()).prop_map(|s| format!("\"{s}\"")),
        1 => "[ -~]{0,6}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

/// A well-formed file whose string values are arbitrary (pool strings, or any characters but the
/// quote and the backslash): reaches the loader's field checks instead of the parser's.
fn skeleton() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        2 => prop::sample::select(string_pool()),
        1 => "[^\"\\\\]{0,12}",
    ];
    (prop::collection::vec(value, 13), any::<bool>()).prop_map(|(v, management)| {
        format!(
            "(version: 1, name: \"{}\", zones: [(name: \"{}\", cidrs: [\"{}\"], note: \"{}\")], \
             nodes: [(name: \"{}\", os: \"{}\", addresses: [\"{}\"], roles: [(product: \"{}\", \
             role: \"{}\", params: {{\"{}\": \"{}\"}})], firewall: Some(\"{}\"), \
             management: {management})], external_hosts: [(name: \"{}\")])",
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]
        )
    })
}

#[test]
fn arbitrary_text_never_panics_the_loader() {
    let counts = Counts::default();
    run(
        768,
        prop_oneof![
            any::<String>(),
            "\\PC{0,200}",
            token_soup(),
            // Soup behind a valid opening, so more of it reaches the field parsers.
            token_soup().prop_map(|s| format!("(version: 1, {s}")),
            skeleton(),
        ],
        |s| format!("{s:?}"),
        |s| load_text(&s, &counts),
    );
    note(&counts.summary("arbitrary text"));
}

#[test]
fn arbitrary_bytes_through_the_file_loader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.ron");
    run(
        128,
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            // A valid example with invalid UTF-8 spliced in.
            (
                any::<Index>(),
                any::<Index>(),
                prop::collection::vec(0x80u8.., 1..4)
            )
                .prop_map(|(e, at, bad)| {
                    let text = examples()[e.index(examples().len())].1.as_bytes();
                    let at = at.index(text.len() + 1);
                    [&text[..at], &bad[..], &text[at..]].concat()
                }),
        ],
        |b| format!("{:?}", String::from_utf8_lossy(b)),
        |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            match load_topology(&path) {
                Ok(_) => prop_assert!(std::str::from_utf8(&bytes).is_ok()),
                Err(e) => {
                    let shown = e.to_string();
                    prop_assert!(
                        shown.contains("fuzz.ron"),
                        "error does not name the file: {}",
                        shown
                    );
                    if std::str::from_utf8(&bytes).is_err() {
                        prop_assert!(matches!(e, FileError::Encoding { .. }), "{e:?}");
                    }
                }
            }
            Ok(())
        },
    );
}

// ------------------------------------------------------------------------------------------------
// (a) + (b) mutations of the examples

#[derive(Debug, Clone)]
enum Mutation {
    Insert(Index, Vec<u8>),
    InsertToken(Index, Index),
    Delete(Index, usize),
    Replace(Index, usize, Vec<u8>),
    Duplicate(Index, usize, Index),
    /// Replace a span with a span of another example.
    Splice(Index, usize, Index, Index, usize),
    /// Replace the contents of one string literal with a string of the pool; with `true`, one of
    /// the same shape (an address for an address, a port for a port, a name for a name).
    SwapString(Index, Index, bool),
    /// Replace one run of digits with a number.
    Number(Index, u64),
    /// Duplicate whole lines (list entries, fields), inserted before another line.
    DuplicateLines(Index, usize, Index),
    /// Delete whole lines.
    DeleteLines(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let bytes = prop::collection::vec(
        prop_oneof![3 => 0x20u8..0x7f, 1 => any::<u8>(), 1 => Just(b'\n')],
        1..8,
    );
    let number = prop_oneof![
        0u64..10,
        0u64..70_000,
        Just(u64::from(u32::MAX)),
        Just(u64::from(u32::MAX) + 1),
        any::<u64>(),
    ];
    // Weighted towards mutations that keep the syntax, so that enough mutants load and reach the
    // engine and the exporters; the byte-level ones exercise the parser and its error positions.
    prop_oneof![
        1 => (any::<Index>(), bytes.clone()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, t)| Mutation::InsertToken(a, t)),
        1 => (any::<Index>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        1 => (any::<Index>(), 1usize..8, bytes).prop_map(|(a, n, b)| Mutation::Replace(a, n, b)),
        1 => (any::<Index>(), 1usize..200, any::<Index>())
            .prop_map(|(a, n, to)| Mutation::Duplicate(a, n, to)),
        1 => (any::<Index>(), 0usize..100, any::<Index>(), any::<Index>(), 1usize..300)
            .prop_map(|(a, n, e, f, m)| Mutation::Splice(a, n, e, f, m)),
        12 => (any::<Index>(), any::<Index>(), any::<bool>())
            .prop_map(|(s, p, same)| Mutation::SwapString(s, p, same)),
        4 => (any::<Index>(), number).prop_map(|(s, n)| Mutation::Number(s, n)),
        3 => (any::<Index>(), 1usize..12, any::<Index>())
            .prop_map(|(a, n, to)| Mutation::DuplicateLines(a, n, to)),
        2 => (any::<Index>(), 1usize..6).prop_map(|(a, n)| Mutation::DeleteLines(a, n)),
    ]
}

/// Byte offsets where lines start, plus the end of the text.
fn line_starts(buf: &[u8]) -> Vec<usize> {
    let mut v: Vec<usize> = std::iter::once(0)
        .chain(
            buf.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < buf.len())
        .collect();
    v.push(buf.len());
    v
}

fn apply(buf: &mut Vec<u8>, m: &Mutation) {
    let len = buf.len();
    let span = |at: &Index, n: usize| {
        let a = at.index(len + 1);
        (a, (a + n).min(len))
    };
    match m {
        Mutation::Insert(at, bytes) => {
            let a = at.index(len + 1);
            buf.splice(a..a, bytes.iter().copied());
        }
        Mutation::InsertToken(at, t) => {
            let a = at.index(len + 1);
            let tok = TOKENS[t.index(TOKENS.len())].as_bytes();
            buf.splice(a..a, tok.iter().copied());
        }
        Mutation::Delete(at, n) => {
            let (a, b) = span(at, *n);
            buf.drain(a..b);
        }
        Mutation::Replace(at, n, bytes) => {
            let (a, b) = span(at, *n);
            buf.splice(a..b, bytes.iter().copied());
        }
        Mutation::Duplicate(at, n, to) => {
            let (a, b) = span(at, *n);
            let piece = buf[a..b].to_vec();
            let t = to.index(len + 1);
            buf.splice(t..t, piece);
        }
        Mutation::Splice(at, n, e, from, m) => {
            let (a, b) = span(at, *n);
            let other = examples()[e.index(examples().len())].1.as_bytes();
            let f = from.index(other.len() + 1);
            let g = (f + m).min(other.len());
            buf.splice(a..b, other[f..g].iter().copied());
        }
        Mutation::SwapString(which, with, same) => {
            let spans = string_spans(buf);
            if !spans.is_empty() {
                let (a, b) = spans[which.index(spans.len())];
                let shape = shape(&String::from_utf8_lossy(&buf[a..b]));
                let pool: Vec<&String> = string_pool()
                    .iter()
                    .filter(|s| !same || self::shape(s) == shape)
                    .collect();
                let s = pool[with.index(pool.len())].as_bytes();
                buf.splice(a..b, s.iter().copied());
            }
        }
        Mutation::Number(which, n) => {
            let mut runs = Vec::new();
            let mut i = 0;
            while i < len {
                if buf[i].is_ascii_digit() {
                    let start = i;
                    while i < len && buf[i].is_ascii_digit() {
                        i += 1;
                    }
                    runs.push((start, i));
                } else {
                    i += 1;
                }
            }
            if !runs.is_empty() {
                let (a, b) = runs[which.index(runs.len())];
                buf.splice(a..b, n.to_string().into_bytes());
            }
        }
        Mutation::DuplicateLines(at, n, to) => {
            let starts = line_starts(buf);
            let lines = starts.len() - 1;
            let first = at.index(lines + 1);
            let last = (first + n).min(lines);
            let piece = buf[starts[first]..starts[last]].to_vec();
            let t = starts[to.index(lines + 1)];
            buf.splice(t..t, piece);
        }
        Mutation::DeleteLines(at, n) => {
            let starts = line_starts(buf);
            let lines = starts.len() - 1;
            let first = at.index(lines + 1);
            let last = (first + n).min(lines);
            buf.drain(starts[first]..starts[last]);
        }
    }
}

fn mutant(example: &Index, mutations: &[Mutation]) -> String {
    let mut buf = examples()[example.index(examples().len())]
        .1
        .clone()
        .into_bytes();
    for m in mutations {
        apply(&mut buf, m);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn mutated_examples_load_or_fail_cleanly_and_export() {
    let counts = Counts::default();
    run(
        384,
        (
            any::<Index>(),
            prop_oneof![
                2 => prop::collection::vec(mutation(), 1..=1),
                1 => prop::collection::vec(mutation(), 2..=4),
            ],
        ),
        |(e, m)| format!("{m:?}\n---\n{}", mutant(e, m)),
        |(e, m)| load_text(&mutant(&e, &m), &counts),
    );
    note(&counts.summary("mutated examples"));
    // Without a fair share of loadable mutants, (b) would test nothing.
    let reached = counts.checked.get() + counts.loaded_unchecked.get();
    assert!(
        reached * 6 >= counts.cases.get(),
        "too few mutants load: {}",
        counts.summary("mutated examples")
    );
    assert!(
        counts.checked.get() * 16 >= counts.cases.get(),
        "too few mutants pass check: {}",
        counts.summary("mutated examples")
    );
}

#[test]
fn corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let counts = Counts::default();
    for (path, bytes) in ron_files(&dir) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = load_text(&text, &counts) {
            panic!("{}: {e}", path.display());
        }
    }
    // The examples are the seed corpus of the mutations; they must load, check and export.
    for (name, text) in examples() {
        let before = counts.checked.get();
        load_text(text, &counts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(counts.checked.get(), before + 1, "{name} fails check");
    }
    note(&counts.summary("corpus"));
}

// ------------------------------------------------------------------------------------------------
// (c) generated valid topologies

/// A documentation address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
fn doc_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0usize..3, any::<u8>()).prop_map(|(net, host)| {
            let [a, b, c] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]][net];
            IpAddr::V4(Ipv4Addr::new(a, b, c, host))
        }),
        // Mostly small values, so addresses collide with zones and with each other.
        (0u16..4, 0u16..4, prop_oneof![0u16..32, any::<u16>()])
            .prop_map(|(x, y, z)| { IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, x, 0, 0, 0, y, z)) }),
    ]
}

/// A documentation network with a prefix inside its range, host bits cleared.
fn doc_net() -> impl Strategy<Value = IpNet> {
    (doc_addr(), any::<Index>()).prop_map(|(a, p)| {
        let net = match a {
            IpAddr::V4(_) => IpNet::new(a, 24 + p.index(9) as u8),
            IpAddr::V6(_) => IpNet::new(a, 32 + p.index(97) as u8),
        };
        net.expect("prefix within range").trunc()
    })
}

/// Characters that mean something to a shell, cmd.exe, PowerShell or RON.
const META: &[char] = &[
    '"', '\\', '\'', '`', '$', '%', '!', '&', '|', ';', '^', '<', '>', '#', '\n', '\t', '{', '}',
    ' ',
];

/// Free text that `check_text` accepts: printable Unicode with quotes, backslashes, shell and
/// cmd.exe metacharacters, newlines and tabs.
fn free_text() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        3 => any::<char>(),
        2 => prop::sample::select(META),
        2 => prop::char::range('a', 'z'),
    ];
    prop::collection::vec(ch, 0..40).prop_map(|v| {
        v.into_iter()
            .filter(|c| check_text(&c.to_string()).is_ok())
            .collect()
    })
}

/// A line that `check_line` accepts (a topology's name): free text without line ends or tabs.
fn free_line() -> impl Strategy<Value = String> {
    free_text().prop_map(|s| {
        s.chars()
            .filter(|c| check_line(&c.to_string()).is_ok())
            .collect()
    })
}

/// A name that `check_name` accepts, before a unique suffix is added.
fn name_stem() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,40}"
}

#[derive(Debug, Clone)]
struct GenRole {
    product: Index,
    role: Index,
    /// Drives which parameters are set and to what.
    params: u64,
}

#[derive(Debug, Clone)]
struct GenNode {
    name: String,
    os: Index,
    addresses: Vec<IpAddr>,
    roles: Vec<GenRole>,
    firewall: Option<Index>,
    management: bool,
    note: String,
}

#[derive(Debug, Clone)]
struct GenSite {
    name: String,
    description: String,
    /// Products the roles are drawn from (1 to 3 of the catalog's).
    products: Vec<Index>,
    zones: Vec<(String, Vec<IpNet>, String)>,
    nodes: Vec<GenNode>,
    hosts: Vec<(Index, Vec<IpAddr>, String)>,
}

fn gen_role() -> impl Strategy<Value = GenRole> {
    (any::<Index>(), any::<Index>(), any::<u64>()).prop_map(|(product, role, params)| GenRole {
        product,
        role,
        params,
    })
}

fn gen_node() -> impl Strategy<Value = GenNode> {
    (
        name_stem(),
        any::<Index>(),
        prop::collection::vec(doc_addr(), 0..=3),
        prop::collection::vec(gen_role(), 0..=4),
        prop::option::weighted(0.25, any::<Index>()),
        prop::bool::weighted(0.85),
        free_text(),
    )
        .prop_map(
            |(name, os, addresses, roles, firewall, management, note)| GenNode {
                name,
                os,
                addresses,
                roles,
                firewall,
                management,
                note,
            },
        )
}

fn gen_site() -> impl Strategy<Value = GenSite> {
    let zone_name = prop_oneof![
        2 => Just("admin".to_string()),
        1 => Just("trusted".to_string()),
        1 => name_stem(),
    ];
    (
        free_line(),
        free_text(),
        prop::collection::vec(any::<Index>(), 1..=3),
        prop::collection::vec(
            (
                zone_name,
                // Now and then a crowded zone, for the Windows line limit and address splitting.
                prop_oneof![
                    12 => prop::collection::vec(doc_net(), 0..=3),
                    1 => prop::collection::vec(doc_net(), 100..=400),
                ],
                free_text(),
            ),
            0..=4,
        ),
        prop::collection::vec(gen_node(), 1..=8),
        prop::collection::vec(
            (
                any::<Index>(),
                prop::collection::vec(doc_addr(), 0..=2),
                free_text(),
            ),
            0..=3,
        ),
    )
        .prop_map(
            |(name, description, products, zones, nodes, hosts)| GenSite {
                name,
                description,
                products,
                zones,
                nodes,
                hosts,
            },
        )
}

/// Host names a topology may pin: the catalog's DNS peers and a few others.
fn host_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut set = BTreeSet::new();
        for p in catalog().products() {
            for f in &p.flows {
                for e in f.from.iter().chain(&f.to) {
                    if let Endpoint::Dns(n) = e {
                        set.insert(n.clone());
                    }
                }
            }
        }
        set.extend(["mirror.example.net", "ca.example.org", "x-1.example.com"].map(String::from));
        set.into_iter().collect()
    })
}

/// xorshift64*, to spread one random number over a role's parameters.
fn step(x: &mut u64) -> u64 {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// A valid value of a parameter kind, in one of the spellings the loader accepts.
fn param_value(kind: &ParamKind, r: &mut u64) -> String {
    let port = |r: &mut u64| 1 + (step(r) % 65535) as u16;
    let pad = |s: String, r: &mut u64| {
        if step(r).is_multiple_of(8) {
            format!(" {s} ")
        } else {
            s
        }
    };
    match kind {
        ParamKind::Switch { .. } => {
            let words = ["on", "off", "true", "false", "yes", "no", "ON", "Off"];
            pad(words[(step(r) % 8) as usize].to_string(), r)
        }
        ParamKind::Port { default } => {
            let p = if step(r).is_multiple_of(3) {
                *default
            } else {
                port(r)
            };
            pad(p.to_string(), r)
        }
        ParamKind::PortRange { .. } | ParamKind::Dynamic { .. } | ParamKind::Required => {
            let (a, b) = (port(r), port(r));
            let (a, b) = (a.min(b), a.max(b));
            let s = match step(r) % 4 {
                0 => a.to_string(),
                1 => format!("{a}:{b}"),
                // Narrow ranges, like a real passive range.
                2 => format!("{a}-{}", a.saturating_add((step(r) % 100) as u16)),
                _ => format!("{a}-{b}"),
            };
            pad(s, r)
        }
    }
}

fn build(site: &GenSite) -> Topology {
    let cat = catalog();
    let products: Vec<_> = site
        .products
        .iter()
        .map(|i| &cat.products()[i.index(cat.products().len())])
        .collect();
    let mut zones = Vec::new();
    let mut zone_names = BTreeSet::new();
    for (i, (name, cidrs, note)) in site.zones.iter().enumerate() {
        // Zone names are unique ignoring case, and a zone lists each network once.
        let name = if zone_names.contains(&name.to_ascii_lowercase()) {
            format!("z{i}-{name}")
        } else {
            name.clone()
        };
        let name: String = name.chars().take(63).collect();
        zone_names.insert(name.to_ascii_lowercase());
        let mut unique: Vec<IpNet> = Vec::with_capacity(cidrs.len());
        for c in cidrs {
            if !unique.contains(c) {
                unique.push(*c);
            }
        }
        zones.push(Zone {
            name,
            cidrs: unique,
            note: note.clone(),
        });
    }
    let mut nodes = Vec::new();
    for (i, g) in site.nodes.iter().enumerate() {
        let mut name = format!("{}-{i}", g.name);
        name.truncate(63);
        let mut node = Node::new(name, Os::ALL[g.os.index(Os::ALL.len())]);
        for a in &g.addresses {
            if !node.addresses.contains(a) {
                node.addresses.push(*a);
            }
        }
        node.firewall = g.firewall.map(|f| Target::ALL[f.index(Target::ALL.len())]);
        node.management = g.management;
        node.note = g.note.clone();
        for gr in &g.roles {
            let p = products[gr.product.index(products.len())];
            let role = &p.roles[gr.role.index(p.roles.len())];
            if node
                .roles
                .iter()
                .any(|r| r.product == p.id && r.role == role.id)
            {
                continue;
            }
            let mut ra = RoleAssignment::new(&p.id, &role.id);
            let mut r = gr.params | 1;
            let mut seen = BTreeSet::new();
            for param in p.roles.iter().flat_map(|r| r.parameters.iter()) {
                if !seen.insert(param.id.as_str()) || !p.accepts(role, &param.id) {
                    continue;
                }
                let required = matches!(param.kind, ParamKind::Required)
                    && role.parameters.iter().any(|q| q.id == param.id);
                if required || step(&mut r).is_multiple_of(2) {
                    ra.params
                        .insert(param.id.clone(), param_value(&param.kind, &mut r));
                }
            }
            node.roles.push(ra);
        }
        nodes.push(node);
    }
    let mut external_hosts: Vec<ExternalHost> = Vec::new();
    for (n, addresses, note) in &site.hosts {
        let name = &host_names()[n.index(host_names().len())];
        if external_hosts
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
        {
            continue;
        }
        external_hosts.push(ExternalHost {
            name: name.clone(),
            addresses: addresses.clone(),
            note: note.clone(),
        });
    }
    Topology {
        name: site.name.clone(),
        description: site.description.clone(),
        zones,
        nodes,
        external_hosts,
        ..Topology::default()
    }
}

#[test]
fn generated_topologies_round_trip_derive_and_export() {
    run(
        96,
        gen_site(),
        |s| to_ron(&build(s)),
        |site| {
            let t = build(&site);
            let problems = check(&t, catalog());
            prop_assert!(
                problems.is_empty(),
                "generated topology fails check: {:?}",
                problems
            );
            let text = to_ron(&t);
            let back = from_ron(&text);
            prop_assert_eq!(back.as_ref(), Ok(&t), "round trip differs:\n{}", text);
            prop_assert_eq!(to_ron(back.as_ref().unwrap()), text.clone());
            exercise(&t)
        },
    );
}

/// The parameter spellings the generator uses are the ones the catalog check accepts; without
/// this, (c) could silently skip parameters.
#[test]
fn generator_sets_every_kind_of_parameter() {
    let mut kinds = BTreeMap::new();
    for p in catalog().products() {
        for r in &p.roles {
            for param in &r.parameters {
                let k = match param.kind {
                    ParamKind::Port { .. } => "port",
                    ParamKind::PortRange { .. } => "range",
                    ParamKind::Dynamic { .. } => "dynamic",
                    ParamKind::Required => "required",
                    ParamKind::Switch { .. } => "switch",
                };
                let mut seed = 0x9E37_79B9_7F4A_7C15u64;
                for _ in 0..64 {
                    let v = param_value(&param.kind, &mut seed);
                    assert!(
                        fwtopo::topology::ParamValue::parse(&param.kind, &v).is_ok(),
                        "{}/{} {}: '{v}' refused",
                        p.id,
                        r.id,
                        param.id
                    );
                }
                *kinds.entry(k).or_insert(0) += 1;
            }
        }
    }
    note(&format!("fuzz_inputs: catalog parameter kinds {kinds:?}"));
    assert!(kinds.len() >= 3, "{kinds:?}");
}

// ------------------------------------------------------------------------------------------------
// known bug: addresses Windows Firewall refuses

/// Remote addresses of a Windows export (netsh `remoteip=`, PowerShell `-RemoteAddress`) that
/// Windows Firewall refuses: loopback, unspecified and multicast.
fn refused_windows_addresses(target: Target, out: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for line in out.lines() {
        let line = line.trim_end_matches('\r');
        match target {
            Target::Netsh if line.starts_with("netsh ") => {
                for w in line.split(' ') {
                    if let Some(v) = w.strip_prefix("remoteip=") {
                        values.extend(v.split(',').map(String::from));
                    }
                }
            }
            Target::Powershell if !line.trim_start().starts_with('#') => {
                if let Some((_, rest)) = line.split_once("-RemoteAddress ") {
                    let arg = rest.split(" -").next().unwrap_or("");
                    values.extend(arg.split('\'').skip(1).step_by(2).map(String::from));
                }
            }
            _ => {}
        }
    }
    values
        .into_iter()
        .filter(|v| {
            let addr = v
                .parse::<IpNet>()
                .map(|n| n.addr())
                .or_else(|_| v.parse::<IpAddr>());
            addr.is_ok_and(|a| a.is_loopback() || a.is_unspecified() || a.is_multicast())
        })
        .collect()
}

/// Found by this file: tests/fuzz-corpus/windows-refused-remote-addresses.ron used to load, and
/// the Windows exporters passed its loopback, unspecified and multicast addresses through. The
/// loader now refuses them; mutations keep probing for any other way in.
#[test]
fn windows_remote_addresses_are_ones_windows_accepts() {
    let check_text = |text: &str| -> Result<(), String> {
        let Ok(t) = from_ron(text) else {
            return Ok(());
        };
        if !check(&t, catalog()).is_empty() {
            return Ok(());
        }
        let plan = derive(catalog(), &t);
        for node in &t.nodes {
            let np = plan.node(&node.name).expect("a plan per node");
            for target in [Target::Netsh, Target::Powershell] {
                for egress in [Egress::Open, Egress::Strict] {
                    let options = Options {
                        egress,
                        crlf: false,
                    };
                    let out =
                        export::render(target, &Export::new(catalog(), &t, &plan, np, options));
                    let bad = refused_windows_addresses(target, &out);
                    if !bad.is_empty() {
                        return Err(format!(
                            "node {} {target} {egress:?}: remote addresses Windows refuses: {bad:?}",
                            node.name
                        ));
                    }
                }
            }
        }
        Ok(())
    };
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus/windows-refused-remote-addresses.ron");
    let text = std::fs::read_to_string(&corpus).expect("the reproducer is in the corpus");
    assert!(
        from_ron(&text).is_err(),
        "the loader must refuse the reproducer's addresses"
    );
    check_text(&text).unwrap_or_else(|e| panic!("{}: {e}", corpus.display()));
    // A zone of every address loads (with a warning) and must reach Windows without 0.0.0.0/0.
    let whole = corpus.with_file_name("windows-zone-of-every-address.ron");
    let text = std::fs::read_to_string(&whole).expect("the reproducer is in the corpus");
    assert!(from_ron(&text).is_ok(), "{} loads", whole.display());
    check_text(&text).unwrap_or_else(|e| panic!("{}: {e}", whole.display()));
    run(
        256,
        (any::<Index>(), prop::collection::vec(mutation(), 1..=2)),
        |(e, m)| format!("{m:?}\n---\n{}", mutant(e, m)),
        |(e, m)| check_text(&mutant(&e, &m)).map_err(TestCaseError::fail),
    );
}
