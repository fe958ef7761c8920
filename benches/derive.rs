//! Derivation speed: one Plesk Automation management node and N service nodes of every type.
//! Targets on a 2-core machine: 1,000 nodes in at most 5 ms, 10,000 in at most 50 ms.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fwtopo::catalog::{Catalog, Platform};
use fwtopo::engine::derive;
use fwtopo::topology::{Node, Os, RoleAssignment, Topology, Zone};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A PA site: the management node at 203.0.113.2, service nodes cycling through every SN role,
/// addresses counted up through 198.51.100.0/24 … then 2001:db8:: for the rest.
pub fn pa_site(catalog: &Catalog, service_nodes: usize) -> Topology {
    let product = catalog.product("plesk-automation").expect("the embedded catalog has PA");
    let sn_roles: Vec<_> = product.roles.iter().filter(|r| r.id != "mn").collect();
    let mut t = Topology {
        name: format!("pa-{service_nodes}"),
        zones: vec![Zone { name: "admin".into(), cidrs: vec!["192.0.2.0/28".parse().expect("valid")], note: String::new() }],
        ..Topology::default()
    };
    let mut mn = Node::new("mn", Os::Almalinux);
    mn.addresses.push(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 2)));
    mn.roles.push(RoleAssignment::new("plesk-automation", "mn"));
    t.nodes.push(mn);
    for i in 0..service_nodes {
        let role = sn_roles[i % sn_roles.len()];
        let os = if role.platform == Platform::Windows { Os::WindowsServer2022 } else { Os::Almalinux };
        let mut n = Node::new(format!("sn-{i}"), os);
        let addr = if i < 250 {
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, (i + 1) as u8))
        } else {
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (i >> 16) as u16, i as u16))
        };
        n.addresses.push(addr);
        n.roles.push(RoleAssignment::new("plesk-automation", &role.id));
        t.nodes.push(n);
    }
    t
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::embedded().expect("the embedded catalog loads");
    let mut group = c.benchmark_group("derive");
    for n in [10usize, 100, 1_000, 10_000] {
        let t = pa_site(&catalog, n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &t, |b, t| b.iter(|| derive(black_box(&catalog), black_box(t))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
