//! Designer speed at 1,000 nodes: drawing a frame into ratatui's TestBackend, and a key press from
//! `update` to the redrawn frame (moving the selection; an edit, which snapshots for undo and
//! re-derives the whole plan). Target on a 2-core machine: at most 16 ms per key press.
//!
//! Also designer start to first frame and to the frame with the rules, in process (see
//! [`first_frame`]). Target for the first frame: at most 50 ms.
//!
//! The designer lives in the binary crate, so its module is compiled in here by path.

use criterion::{Criterion, criterion_group, criterion_main};
use fixtures::Layout;
use fwtopo::catalog::Catalog;
use fwtopo::files;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

#[allow(dead_code)]
mod fixtures;

#[allow(dead_code, unused_imports)]
#[path = "../src/tui/mod.rs"]
mod tui;

use tui::action::Action;
use tui::app::{App, Screen};
use tui::theme::Theme;
use tui::update::update;

/// The designer on a PA site of `n` nodes (one management node and `n - 1` service nodes).
fn app(n: usize) -> App {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = fixtures::pa_site(&catalog, n - 1, Layout::Blocks);
    let mut app = App::new(
        catalog,
        t,
        None,
        vec![Theme::built_in("dark").expect("built-in theme")],
        0,
    );
    update(&mut app, Action::Resize(120, 40));
    // Somewhere in the middle of the list.
    app.nodes.sel = n / 2;
    update(&mut app, Action::Down);
    app
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("render_1000_nodes");
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");

    for screen in [
        Screen::Design,
        Screen::Findings,
        Screen::Overview,
        Screen::Export,
    ] {
        let mut a = app(1000);
        update(&mut a, Action::Show(screen));
        g.bench_function(format!("frame_{}", screen.title().to_lowercase()), |b| {
            b.iter(|| {
                term.draw(|f| tui::view::draw(f, black_box(&a)))
                    .map(|_| ())
                    .expect("draw")
            })
        });
    }

    let mut a = app(1000);
    let mut down = true;
    g.bench_function("key_move_selection", |b| {
        b.iter(|| {
            update(&mut a, if down { Action::Down } else { Action::Up });
            down = !down;
            term.draw(|f| tui::view::draw(f, &a))
                .map(|_| ())
                .expect("draw")
        })
    });

    // An edit: undo snapshot, derive of all 1,000 nodes, findings, and the redrawn frame.
    let mut a = app(1000);
    g.bench_function("key_edit_rederive", |b| {
        b.iter(|| {
            update(&mut a, Action::ToggleManagement);
            term.draw(|f| tui::view::draw(f, &a))
                .map(|_| ())
                .expect("draw")
        })
    });

    let mut a = app(1000);
    update(&mut a, Action::Show(Screen::Overview));
    g.bench_function("key_edit_rederive_overview", |b| {
        b.iter(|| {
            update(&mut a, Action::ToggleManagement);
            term.draw(|f| tui::view::draw(f, &a))
                .map(|_| ())
                .expect("draw")
        })
    });
    // For reference: the engine alone on the same topology, and everything `update` recomputes.
    let mut a = app(1000);
    g.bench_function("derive_only", |b| {
        b.iter(|| fwtopo::engine::derive(&a.catalog, black_box(&a.topology)))
    });
    g.bench_function("rederive_all_caches", |b| b.iter(|| a.rederive()));
    g.finish();
}

/// What `fwtopo design FILE` does up to its first frames, in process: the catalog (embedded plus
/// the user's directory), themes, loading the file, `App::deriving`, the terminal size, and the
/// first frame drawn into a TestBackend while the plan and the check are derived on another
/// thread (`tui::first_frame`); then, with `rules`, installing them and drawing the frame with the
/// rules. Returns the time from the start to the frame measured. Not included: process start,
/// the recovery-copy look-up, raw mode and the alternate screen, and writing the frames to a real
/// terminal.
fn first_frame(path: &Path, rules: bool) -> Duration {
    let start = Instant::now();
    let catalog = files::load_catalog().expect("the catalog loads");
    let themes_dir = files::config_dir().map(|d| d.join("themes"));
    let (themes, _) = Theme::load_all(themes_dir.as_deref());
    let t = files::load_topology(path).expect("the fixture loads");
    let mut app = App::deriving(catalog, t, Some(path.to_path_buf()), themes, 0);
    // As the designer runs: expiry reckoned from today.
    app.today = files::today().ok();
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    update(&mut app, Action::Resize(120, 40));
    let (catalog, topology, today) = (&app.catalog, &app.topology, app.today);
    let (first, (plan, problems)) = std::thread::scope(|scope| {
        let worker = scope.spawn(move || tui::app::derived(catalog, topology, today));
        term.draw(|f| tui::view::draw(f, &app)).expect("draw");
        let first = start.elapsed();
        (first, worker.join().expect("the derivation"))
    });
    assert!(problems.is_empty(), "the fixture checks");
    if !rules {
        return first;
    }
    app.install(plan, problems);
    term.draw(|f| tui::view::draw(f, &app)).expect("draw");
    start.elapsed()
}

fn start(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut g = c.benchmark_group("designer_start_to_first_frame");
    // 1,000 and 10,000 nodes (10,000 left out when run as a test).
    for n in fixtures::sizes().into_iter().filter(|&n| n >= 1_000) {
        let file = dir.path().join(format!("pa-{n}.ron"));
        let t = fixtures::pa_site(&catalog, n - 1, Layout::Blocks);
        files::save_topology(&file, &t).expect("the fixture saves");
        if n >= 10_000 {
            g.sample_size(10);
        }
        for (name, rules) in [("", false), ("_with_rules", true)] {
            g.bench_function(format!("{n}_nodes{name}"), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| first_frame(&file, rules)).sum())
            });
        }
    }
    g.finish();
}

/// One edit (management access on or off, which re-derives the whole site) answered by the
/// redrawn design screen, at 1,000 and 10,000 nodes (10,000 left out when run as a test): what
/// the designer's caches of derived state cost per key press as the site grows.
fn edit(c: &mut Criterion) {
    let mut g = c.benchmark_group("designer_edit");
    g.sample_size(10);
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    for n in fixtures::sizes()
        .into_iter()
        .filter(|n| (1_000..=10_000).contains(n))
    {
        // On the design screen (the selected node's change marks), and with the changes screen
        // shown (the whole site's diff against the file as opened, after every edit).
        for (name, screen) in [("", Screen::Design), ("_changes_screen", Screen::Changes)] {
            let mut a = app(n);
            update(&mut a, Action::Show(screen));
            g.bench_function(format!("{n}_nodes{name}"), |b| {
                b.iter(|| {
                    update(&mut a, Action::ToggleManagement);
                    term.draw(|f| tui::view::draw(f, &a))
                        .map(|_| ())
                        .expect("draw")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench, start, edit);
criterion_main!(benches);
