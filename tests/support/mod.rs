//! Shared helpers for integration tests that need root or system tools.
//!
//! With `FWTOPO_REQUIRE_SYSTEM_TESTS=1` (CI) a missing tool or permission fails the test; otherwise the
//! test prints a visible `SKIPPED (<reason>)` line to stderr and returns. Each test crate uses a
//! different subset, hence the blanket `dead_code` allowance.
#![allow(dead_code)]

pub mod cli;
pub mod netns;

use std::path::{Path, PathBuf};

/// Whether system tests must run (CI sets `FWTOPO_REQUIRE_SYSTEM_TESTS=1`).
pub fn strict() -> bool {
    std::env::var("FWTOPO_REQUIRE_SYSTEM_TESTS").is_ok_and(|v| v == "1")
}

/// Reports a test that cannot run: a failure in CI mode, a visible skip otherwise. Returns false.
pub fn skip(reason: &str) -> bool {
    if strict() {
        panic!("system test cannot run: {reason} (FWTOPO_REQUIRE_SYSTEM_TESTS=1)");
    }
    // Straight to the stderr handle: libtest captures `eprintln!` of passing tests.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED ({reason})");
    false
}

/// The full path of a tool on PATH or in the sbin directories (root's tools live there).
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/local/sbin", "/usr/sbin", "/sbin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when `tool` is installed; otherwise a visible skip (or a panic in CI mode).
pub fn require(tool: &str) -> bool {
    find_tool(tool).is_some() || skip(&format!("{tool} not installed"))
}

/// Whether the effective user id is 0, from /proc (no libc needed).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        .unwrap_or(false)
}

/// True when running as root; otherwise a visible skip (or a panic in CI mode).
pub fn require_root() -> bool {
    is_root() || skip("needs root")
}

/// Every `examples/*.ron` topology, sorted by file name, as (file stem, topology).
pub fn examples() -> Vec<(String, fwtopo::topology::Topology)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let t =
                fwtopo::files::load_topology(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (stem, t)
        })
        .collect()
}

/// The example topology `examples/<stem>.ron`.
pub fn example(stem: &str) -> fwtopo::topology::Topology {
    examples()
        .into_iter()
        .find(|(ex, _)| ex == stem)
        .unwrap_or_else(|| panic!("no example {stem}"))
        .1
}

/// One node's export for one target, as `fwtopo export` would print it.
pub fn render(
    catalog: &fwtopo::catalog::Catalog,
    topology: &fwtopo::topology::Topology,
    node: &str,
    target: fwtopo::target::Target,
    egress: fwtopo::export::Egress,
) -> String {
    use fwtopo::export::{Export, Options};
    // With the topology's own roles, as `fwtopo export` derives it.
    let catalog = &fwtopo::topology::site_catalog(catalog, topology);
    let plan = fwtopo::engine::derive(catalog, topology);
    let np = plan.node(node).unwrap_or_else(|| panic!("no node {node}"));
    let options = Options {
        egress,
        crlf: false,
    };
    fwtopo::export::render(target, &Export::new(catalog, topology, &plan, np, options))
}
