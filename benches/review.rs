//! The review commands on large sites at 1,000, 10,000 and 100,000 nodes, where the cost must
//! stay linear: `diff` of two derived plans of the mixed site with 20 % of its nodes in a mesh
//! (management access off on every other node, so half the rule lists differ), `query` of one
//! question on that site, and `diagram --node` (one node and what reaches it, boxes, edges and the
//! DOT text) on a PA site. A whole-site diagram draws one edge per source and destination, so with
//! many-to-many products (every PA service node reaches every other) it grows with the square of
//! the site by nature; `--node` and `--product` draw a part, and that part must cost linearly.
//! `verify` of a live capture of 1,000 to 100,000 rules against one node's plan.
//! Deriving the plans is outside the timed loops.
//! Run as a test (`cargo test --benches`), only the 1,000-node site.

#[allow(dead_code)]
mod fixtures;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fixtures::Shape;
use fwtopo::catalog::Catalog;
use fwtopo::engine::derive;
use fwtopo::export::Egress;
use fwtopo::query::{End, Question, ask};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let mut diff = c.benchmark_group("review/diff");
    diff.sample_size(10);
    for n in fixtures::large_sizes() {
        let old = fixtures::site(&catalog, Shape::MixedMesh, n);
        // The same site with every node's management access off: every rule list changes.
        let mut new = old.clone();
        for node in new.nodes.iter_mut().step_by(2) {
            node.management = false;
        }
        let (a, b) = (derive(&catalog, &old), derive(&catalog, &new));
        diff.bench_with_input(BenchmarkId::from_parameter(n), &(a, b), |bench, (a, b)| {
            bench.iter(|| fwtopo::diff::diff(black_box(a), black_box(b)))
        });
    }
    diff.finish();

    let mut query = c.benchmark_group("review/query");
    query.sample_size(10);
    for n in fixtures::large_sizes() {
        let t = fixtures::site(&catalog, Shape::MixedMesh, n);
        let plan = derive(&catalog, &t);
        let q = Question {
            from: End::Node(0),
            to: End::Node(t.nodes.len() - 1),
            protocol: fwtopo::ports::Protocol::Tcp,
            port: 22,
            egress: Egress::Strict,
        };
        query.bench_with_input(
            BenchmarkId::from_parameter(n),
            &(t, plan),
            |bench, (t, plan)| {
                bench.iter(|| ask(black_box(&catalog), black_box(t), black_box(plan), &q))
            },
        );
    }
    query.finish();

    let mut diagram = c.benchmark_group("review/diagram");
    diagram.sample_size(10);
    for n in fixtures::large_sizes() {
        let t = fixtures::site(&catalog, Shape::Pa, n);
        let plan = derive(&catalog, &t);
        let one = fwtopo::diagram::Filter {
            nodes: vec![t.nodes[t.nodes.len() / 2].name.clone()],
            products: Vec::new(),
        };
        diagram.bench_with_input(
            BenchmarkId::from_parameter(n),
            &(t, plan),
            |bench, (t, plan)| {
                bench.iter(|| {
                    let d = fwtopo::diagram::build(&catalog, t, plan, &one);
                    fwtopo::diagram::dot(&d, &t.name)
                })
            },
        );
    }
    diagram.finish();

    // `verify` of a live iptables capture of N single-port rules (each from its own peer) against
    // one node's plan: reading the capture and comparing it, which must stay linear in the rules
    // (walking every rule per port range took 40 s at 10,000 in a debug build).
    let mut verify = c.benchmark_group("review/verify");
    verify.sample_size(10);
    let t = fixtures::site(&catalog, Shape::Pa, 10);
    let plan = derive(&catalog, &t);
    let node = &plan.nodes[0];
    for n in fixtures::large_sizes() {
        let capture = iptables_capture(n);
        verify.bench_with_input(BenchmarkId::from_parameter(n), &capture, |bench, v4| {
            bench.iter(|| {
                let files = [("big.v4", v4.as_str())];
                let live =
                    fwtopo::verify::read(fwtopo::verify::Source::Iptables, &node.name, &files)
                        .expect("the capture reads");
                fwtopo::verify::verify(node, Egress::Open, &live)
            })
        });
    }
    verify.finish();
}

/// An `iptables-save` of fwtopo's chain with `n` single-port accepts, each from its own peer.
fn iptables_capture(n: usize) -> String {
    let mut v4 =
        String::from("*filter\n:INPUT ACCEPT [0:0]\n:FWTOPO-IN - [0:0]\n-A INPUT -j FWTOPO-IN\n");
    for i in 0..n {
        v4.push_str(&format!(
            "-A FWTOPO-IN -s 198.51.{}.{}/32 -p tcp -m tcp --dport {} -m comment --comment \"x\" -j ACCEPT\n",
            100 + (i / 256) % 3,
            i % 256,
            1 + i % 65_000
        ));
    }
    v4.push_str("-A FWTOPO-IN -j DROP\nCOMMIT\n");
    v4
}

criterion_group!(benches, bench);
criterion_main!(benches);
