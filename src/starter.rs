//! Starter topologies: a blank design, or one node per role of a product, ready to edit.
//! Addresses come from the documentation ranges, so nothing generated can point at a real host.

use crate::catalog::{Catalog, HOST_PRODUCT, Platform};
use crate::topology::{Node, Os, RoleAssignment, Topology, Zone};
use std::net::{IpAddr, Ipv4Addr};

/// The admin zone every starter gets, so the built-in management access has a source.
fn admin_zone() -> Zone {
    Zone {
        name: "admin".into(),
        cidrs: vec![
            Zone::PLACEHOLDER_NETWORK
                .parse()
                .expect("a valid constant network"),
        ],
        note: Zone::PLACEHOLDER_NOTE.into(),
    }
}

/// A starter topology; `product` lays out one node per role of that product.
pub fn topology(catalog: &Catalog, product: Option<&str>) -> Result<Topology, String> {
    let mut t = Topology {
        name: "new-site".into(),
        zones: vec![admin_zone()],
        ..Topology::default()
    };
    let Some(id) = product else {
        let mut node = Node::new("server-1", Os::Almalinux);
        node.addresses
            .push(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10)));
        t.nodes.push(node);
        return Ok(t);
    };
    let p = catalog
        .product(id)
        .filter(|p| p.id != HOST_PRODUCT)
        .ok_or_else(|| {
            let known: Vec<&str> = catalog
                .products()
                .iter()
                .map(|p| p.id.as_str())
                .filter(|p| *p != HOST_PRODUCT)
                .collect();
            format!("unknown product '{id}' (known: {})", known.join(", "))
        })?;
    t.name = format!("{}-site", p.id);
    t.description = format!("Starter layout: one node per role of {}.", p.name);
    for (i, role) in p.roles.iter().enumerate() {
        let os = if role.platform == Platform::Windows {
            Os::WindowsServer2022
        } else {
            Os::Almalinux
        };
        let mut node = Node::new(format!("{}-1", role.id), os);
        let host = u8::try_from(10 + i).unwrap_or(250);
        node.addresses
            .push(IpAddr::V4(Ipv4Addr::new(203, 0, 113, host)));
        node.roles.push(RoleAssignment::new(&p.id, &role.id));
        t.nodes.push(node);
    }
    Ok(t)
}
