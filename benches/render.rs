//! Designer speed at 1,000 nodes: drawing a frame into ratatui's TestBackend, and a key press from
//! `update` to the redrawn frame (moving the selection; an edit, which snapshots for undo and
//! re-derives the whole plan). Target on a 2-core machine: at most 16 ms per key press.
//!
//! The designer lives in the binary crate, so its module is compiled in here by path.

use criterion::{Criterion, criterion_group, criterion_main};
use fwtopo::catalog::{Catalog, Platform};
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[allow(dead_code, unused_imports)]
#[path = "../src/tui/mod.rs"]
mod tui;

use tui::action::Action;
use tui::app::{App, Screen};
use tui::theme::Theme;
use tui::update::update;

/// A Plesk Automation site: one management node and `n - 1` service nodes of every type, each type
/// in its own IPv6 block (as operators number sites), the first 25 of each type also with an IPv4
/// address in a block of its own.
fn pa_site(catalog: &Catalog, n: usize) -> Topology {
    let product = catalog
        .product("plesk-automation")
        .expect("the embedded catalog has PA");
    let sn: Vec<_> = product.roles.iter().filter(|r| r.id != "mn").collect();
    let mut t = Topology {
        name: format!("pa-{n}"),
        zones: vec![Zone {
            name: "admin".into(),
            cidrs: vec!["192.0.2.0/28".parse().expect("valid")],
            note: String::new(),
        }],
        ..Topology::default()
    };
    let mut mn = Node::new("mn", Os::Almalinux);
    mn.addresses.push(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2)));
    mn.roles.push(RoleAssignment::new("plesk-automation", "mn"));
    t.nodes.push(mn);
    for i in 0..n - 1 {
        let (r, k) = (i % sn.len(), i / sn.len());
        let os = if sn[r].platform == Platform::Windows {
            Os::WindowsServer2022
        } else {
            Os::Almalinux
        };
        let mut node = Node::new(format!("sn-{i}"), os);
        if k < 25 {
            node.addresses.push(IpAddr::V4(Ipv4Addr::new(
                198,
                51,
                100,
                (r * 25 + k) as u8 + 1,
            )));
        }
        node.addresses.push(IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            r as u16 + 1,
            0,
            0,
            0,
            k as u16 + 1,
        )));
        node.roles
            .push(RoleAssignment::new("plesk-automation", &sn[r].id));
        t.nodes.push(node);
    }
    t
}

fn app(n: usize) -> App {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let t = pa_site(&catalog, n);
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

criterion_group!(benches, bench);
criterion_main!(benches);
