//! Export speed on a Plesk Automation site of 1,000 service nodes (1,001 nodes; 20 service nodes
//! when run as a test):
//!
//! - `export/render/<target>`: in-process, every node's script for one target (the plan is derived
//!   once, outside the timed loop), for each of the eight targets;
//! - `export/process/<target>`: the whole `fwtopo export FILE --target T --out DIR` process (start,
//!   catalog, load, check, derive, render, one atomic write per file), for nftables and netsh, each
//!   run into a fresh empty directory. Target on a 2-core machine: at most 50 ms.
//!   `export/process-tmpfs-out/<target>` is the same with the output directory in /dev/shm.
//!
//! With `FWTOPO_WRITE_FIXTURE=PATH` set, this bench writes a fixture topology to PATH and exits
//! instead (for `peak-memory.sh` and `compare-aerleon.sh`): `FWTOPO_FIXTURE_SHAPE` (pa, mailstore,
//! mixed, mesh, mixed-mesh; default pa) and `FWTOPO_FIXTURE_NODES` (default 10000) choose it, as in [`fixtures::site`].

#[allow(dead_code)]
mod fixtures;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group};
use fixtures::{Layout, Shape};
use fwtopo::catalog::Catalog;
use fwtopo::engine::derive;
use fwtopo::export::{self, Export, Options};
use fwtopo::files;
use fwtopo::target::Target;
use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};

/// Service nodes of the site every export bench uses.
const SERVICE_NODES: usize = 1_000;

/// [`SERVICE_NODES`], or a small site when run as a test (each bench once, maybe unoptimised).
fn service_nodes() -> usize {
    if fixtures::test_mode() {
        20
    } else {
        SERVICE_NODES
    }
}

fn render(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = fixtures::pa_site(&catalog, service_nodes(), Layout::Blocks);
    let plan = derive(&catalog, &t);
    let options = Options::default();
    let mut group = c.benchmark_group("export/render");
    group.sample_size(20);
    for target in Target::ALL {
        group.bench_function(BenchmarkId::from_parameter(target), |b| {
            b.iter(|| {
                // As `fwtopo export --out` does: the site's addresses indexed once and shared
                // rules' comments made once, on one thread.
                let addresses = export::AddressIndex::new(&t);
                let texts = export::SiteTexts::new(&catalog, &t, &plan);
                let mut bytes = 0;
                for p in &plan.nodes {
                    let x = Export::new(&catalog, &t, &plan, p, options)
                        .with_addresses(&addresses)
                        .with_texts(&texts);
                    bytes += black_box(export::render(target, &x)).len();
                }
                bytes
            })
        });
    }
    group.finish();
}

fn process(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = fixtures::pa_site(&catalog, service_nodes(), Layout::Blocks);
    let work = tempfile::tempdir().expect("a temporary directory");
    let file = work.path().join(format!("pa-{}.ron", t.nodes.len() - 1));
    files::save_topology(&file, &t).expect("the fixture saves");
    // The binary of this package, built by cargo for the bench in the bench's own profile.
    let bin = env!("CARGO_BIN_EXE_fwtopo");
    // An empty configuration directory, so no user catalog changes what is measured.
    let config = work.path().join("config");
    std::fs::create_dir(&config).expect("a configuration directory");
    // The same run with the output in memory (tmpfs), where fsync costs nothing: the difference is
    // the cost of the atomic, synced writes.
    let shm = Path::new("/dev/shm");
    let mut places = vec![("export/process", work.path())];
    if shm.is_dir() {
        places.push(("export/process-tmpfs-out", shm));
    }
    for (name, place) in places {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        for target in [Target::Nftables, Target::Netsh] {
            group.bench_function(BenchmarkId::from_parameter(target), |b| {
                b.iter_batched(
                    || tempfile::tempdir_in(place).expect("an output directory"),
                    |out| {
                        run_export(bin, &config, &file, target, out.path());
                        // Returned, so removing the directory is not timed.
                        out
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
}

fn run_export(bin: &str, config: &Path, file: &Path, target: Target, out: &Path) {
    let status = Command::new(bin)
        .env("FWTOPO_CONFIG_DIR", config)
        .arg("export")
        .arg(file)
        .args(["--target", target.as_str(), "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .expect("fwtopo starts");
    assert!(status.success(), "fwtopo export failed: {status}");
}

/// Writes the fixture `FWTOPO_WRITE_FIXTURE` asks for; true when it did.
fn write_fixture() -> bool {
    let Some(path) = std::env::var_os("FWTOPO_WRITE_FIXTURE") else {
        return false;
    };
    let shape = std::env::var("FWTOPO_FIXTURE_SHAPE").unwrap_or_else(|_| "pa".into());
    let shape = Shape::parse(&shape)
        .expect("FWTOPO_FIXTURE_SHAPE is pa, mailstore, mixed, mesh or mixed-mesh");
    let n = std::env::var("FWTOPO_FIXTURE_NODES").map_or(10_000, |s| {
        s.parse().expect("FWTOPO_FIXTURE_NODES is a number")
    });
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = fixtures::site(&catalog, shape, n);
    files::save_topology(Path::new(&path), &t).expect("the fixture saves");
    eprintln!(
        "wrote {} ({} nodes)",
        Path::new(&path).display(),
        t.nodes.len()
    );
    true
}

criterion_group!(benches, render, process);

fn main() {
    if write_fixture() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
