//! Derivation speed: one Plesk Automation management node and N service nodes of every type.
//! Targets on a 2-core machine: 1,000 nodes in at most 5 ms, 10,000 in at most 50 ms.
//! The plan is dropped outside the timed loop (`iter_with_large_drop`): freeing it happens when
//! the caller replaces it, not as part of deriving it.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fwtopo::catalog::{Catalog, Platform};
use fwtopo::engine::derive;
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How service-node addresses are laid out.
#[derive(Clone, Copy)]
pub enum Layout {
    /// Each service-node type in its own address block (2001:db8:0:<type>::/64), as operators
    /// usually number a site: peer sets aggregate to a few prefixes.
    Blocks,
    /// Types interleaved address by address: peer sets barely aggregate (the worst case).
    Interleaved,
}

/// A PA site: the management node at 203.0.113.2 and N service nodes cycling through every SN
/// type; the first 250 are dual-stack (198.51.100.0/24), the rest IPv6-only (2001:db8::/32).
pub fn pa_site(catalog: &Catalog, service_nodes: usize, layout: Layout) -> Topology {
    let product = catalog
        .product("plesk-automation")
        .expect("the embedded catalog has PA");
    let sn_roles: Vec<_> = product.roles.iter().filter(|r| r.id != "mn").collect();
    let mut t = Topology {
        name: format!("pa-{service_nodes}"),
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
    let per_role = service_nodes.div_ceil(sn_roles.len());
    for i in 0..service_nodes {
        let (r, k) = match layout {
            Layout::Interleaved => (i % sn_roles.len(), i / sn_roles.len()),
            Layout::Blocks => (i / per_role, i % per_role),
        };
        let role = sn_roles[r];
        let os = if role.platform == Platform::Windows {
            Os::WindowsServer2022
        } else {
            Os::Almalinux
        };
        let mut n = Node::new(format!("sn-{i}"), os);
        if i < 250 {
            let host = match layout {
                Layout::Interleaved => i + 1,
                Layout::Blocks => r * 25 + k.min(24) + 1,
            };
            n.addresses
                .push(IpAddr::V4(Ipv4Addr::new(198, 51, 100, host as u8)));
        }
        n.addresses.push(IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            r as u16 + 1,
            0,
            0,
            (k >> 16) as u16,
            k as u16 + 1,
        )));
        n.roles
            .push(RoleAssignment::new("plesk-automation", &role.id));
        t.nodes.push(n);
    }
    t
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let mut group = c.benchmark_group("derive");
    for n in [10usize, 100, 1_000, 10_000] {
        let t = pa_site(&catalog, n, Layout::Blocks);
        group.bench_with_input(BenchmarkId::from_parameter(n), &t, |b, t| {
            b.iter_with_large_drop(|| derive(black_box(&catalog), black_box(t)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("derive-interleaved");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let t = pa_site(&catalog, n, Layout::Interleaved);
        group.bench_with_input(BenchmarkId::from_parameter(n), &t, |b, t| {
            b.iter_with_large_drop(|| derive(black_box(&catalog), black_box(t)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
