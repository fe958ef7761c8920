//! Derivation speed for every fixture shape (PA, MailStore SPE, mixed) at 10 to 10,000 nodes, for
//! PA with interleaved addresses (peer sets that do not aggregate), and for the mesh shapes (a
//! Virtuozzo site where every chunk server is a peer of every other, and the mixed site with 20 %
//! of its nodes in such a mesh) at 1,000, 10,000 and 100,000 nodes, where the cost must stay
//! linear.
//! Targets on a 2-core machine: 1,000 nodes in at most 5 ms, 10,000 in at most 50 ms.
//! Run as a test (`cargo test --benches`), the 10,000-node sites are left out.
//! The plan is dropped outside the timed loop (`iter_with_large_drop`): freeing it happens when
//! the caller replaces it, not as part of deriving it.

#[allow(dead_code)]
mod fixtures;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fixtures::{Layout, Shape};
use fwtopo::catalog::Catalog;
use fwtopo::engine::derive;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    for shape in Shape::ALL {
        let mut group = c.benchmark_group(format!("derive/{}", shape.as_str()));
        for n in fixtures::sizes() {
            let t = fixtures::site(&catalog, shape, n);
            if n >= 10_000 {
                group.sample_size(20);
            }
            group.bench_with_input(BenchmarkId::from_parameter(n), &t, |b, t| {
                b.iter_with_large_drop(|| derive(black_box(&catalog), black_box(t)))
            });
        }
        group.finish();
    }
    for shape in Shape::MESHES {
        let mut group = c.benchmark_group(format!("derive/{}", shape.as_str()));
        group.sample_size(10);
        for n in fixtures::large_sizes() {
            let t = fixtures::site(&catalog, shape, n);
            group.bench_with_input(BenchmarkId::from_parameter(n), &t, |b, t| {
                b.iter_with_large_drop(|| derive(black_box(&catalog), black_box(t)))
            });
        }
        group.finish();
    }
    let mut group = c.benchmark_group("derive/pa-interleaved");
    group.sample_size(10);
    for n in fixtures::sizes().into_iter().filter(|&n| n >= 1_000) {
        let t = fixtures::pa_site(&catalog, n, Layout::Interleaved);
        group.bench_with_input(BenchmarkId::from_parameter(n), &t, |b, t| {
            b.iter_with_large_drop(|| derive(black_box(&catalog), black_box(t)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
