//! Every topology in `examples/` loads, checks against the embedded catalog, derives without errors,
//! covers every role of its product and survives a round trip through the file format.

use fwtopo::catalog::Catalog;
use fwtopo::engine::{Severity, derive, derive_on};
use fwtopo::files::{load_topology, save_topology};
use fwtopo::topology::{Topology, check, from_ron, site_catalog, to_ron};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Every `examples/*.ron`, sorted by name, loaded.
fn examples() -> Vec<(String, Topology)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .expect("examples/ exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no examples/*.ron found");
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let t = load_topology(&p).unwrap_or_else(|e| panic!("{e}"));
            (name, t)
        })
        .collect()
}

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

/// The products whose every role an example must use.
fn products_of(file: &str) -> &'static [&'static str] {
    match file {
        "plesk-automation.ron" => &["plesk-automation"],
        "mailstore-spe.ron" => &["mailstore-spe"],
        "communigate-pro.ron" => &["communigate-pro"],
        "cpanel-whm.ron" => &["cpanel-whm"],
        "virtuozzo.ron" => &["virtuozzo-hybrid-server"],
        "mixed-site.ron" => &["cpanel-whm", "virtuozzo-hybrid-server"],
        "real-site.ron" => &["cpanel-whm", "site"],
        "common-services.ron" => &["common-services"],
        other => panic!("examples/{other} has no product mapping in tests/examples.rs; add one"),
    }
}

#[test]
fn every_product_has_an_example() {
    let catalog = catalog();
    let covered: BTreeSet<&str> = examples()
        .iter()
        .flat_map(|(file, _)| products_of(file).iter().copied())
        .collect();
    for p in catalog.products() {
        if p.id == "host" {
            continue;
        }
        assert!(
            covered.contains(p.id.as_str()),
            "no example covers product {}",
            p.id
        );
    }
}

#[test]
fn examples_check_and_derive_without_errors() {
    let base = catalog();
    for (file, t) in examples() {
        let catalog = site_catalog(&base, &t);
        let problems = check(&t, &catalog);
        assert!(problems.is_empty(), "{file}: {problems:?}");
        assert!(
            t.zone("admin").is_some_and(|z| !z.cidrs.is_empty()),
            "{file}: needs an admin zone with CIDRs"
        );

        // As `fwtopo check` runs them, expiry included: an example's `expires` dates lie past
        // this day, so its check stays clean for decades.
        let plan = derive_on(&catalog, &t, "2090-01-01".parse().unwrap());
        println!("{file}: {} findings", plan.findings.len());
        for f in &plan.findings {
            println!("  {f}");
        }
        let errors: Vec<String> = plan
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(ToString::to_string)
            .collect();
        assert!(
            errors.is_empty(),
            "{file}: error findings:\n{}",
            errors.join("\n")
        );
        assert!(!plan.has_errors(), "{file}");

        for np in &plan.nodes {
            assert!(
                np.inbound.iter().any(|r| !r.is_management()),
                "{file}: node {} has no inbound rule besides management access",
                np.name
            );
        }
        for (node, np) in t.nodes.iter().zip(&plan.nodes) {
            assert_eq!(node.name, np.name, "{file}: plan order");
            if node.management {
                assert!(
                    np.inbound.iter().any(fwtopo::engine::Rule::is_management),
                    "{file}: node {} has no management access",
                    node.name
                );
            }
        }
    }
}

#[test]
fn examples_use_every_role_of_their_product() {
    let base = catalog();
    for (file, t) in examples() {
        let catalog = site_catalog(&base, &t);
        let used: BTreeSet<(&str, &str)> = t
            .nodes
            .iter()
            .flat_map(|n| n.roles.iter())
            .map(|r| (r.product.as_str(), r.role.as_str()))
            .collect();
        for &id in products_of(&file) {
            let product = catalog
                .product(id)
                .unwrap_or_else(|| panic!("{file}: unknown product {id}"));
            for role in product.roles.iter().filter(|r| r.stands_for.is_none()) {
                assert!(
                    used.contains(&(id, role.id.as_str())),
                    "{file}: no node plays {id}/{}",
                    role.id
                );
            }
        }
    }
}

#[test]
fn mixed_site_exercises_several_products() {
    let t = load_topology(&examples_dir().join("mixed-site.ron")).unwrap();
    let products: BTreeSet<&str> = t
        .nodes
        .iter()
        .flat_map(|n| n.roles.iter())
        .map(|r| r.product.as_str())
        .collect();
    assert!(products.len() >= 3, "{products:?}");
    assert!(!t.external_hosts.is_empty());
    assert!(t.external_hosts.iter().all(|h| !h.addresses.is_empty()));
}

#[test]
fn examples_name_their_purpose_in_a_leading_comment() {
    for (file, _) in examples() {
        let text = std::fs::read_to_string(examples_dir().join(&file)).unwrap();
        assert!(
            text.starts_with("// "),
            "{file}: starts without a // comment"
        );
    }
}

#[test]
fn examples_round_trip_through_ron() {
    for (file, t) in examples() {
        let text = to_ron(&t);
        let again = from_ron(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(t, again, "{file}");
        assert_eq!(text, to_ron(&again), "{file}: output is not stable");
    }
}

#[test]
fn examples_round_trip_through_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    for (file, t) in examples() {
        let path = dir.path().join(&file);
        // Start from the canonical text so the reload is compared against what was written.
        let canonical = from_ron(&to_ron(&t)).unwrap_or_else(|e| panic!("{file}: {e}"));
        save_topology(&path, &canonical).unwrap_or_else(|e| panic!("{e}"));
        let again = load_topology(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(canonical, again, "{file}");
        assert_eq!(t, again, "{file}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            to_ron(&t),
            "{file}"
        );
    }
}

/// `Plan::findings_for` searches the sorted findings; it must give exactly what a scan does, in
/// the same order, for every node of every example (and for a name no node has).
#[test]
fn findings_for_a_node_are_what_a_scan_finds() {
    let base = Catalog::embedded().expect("embedded catalog");
    let mut checked = 0;
    for (name, t) in examples() {
        let catalog = site_catalog(&base, &t);
        let plan = derive(&catalog, &t);
        let names = t
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .chain(["no-such-node", ""]);
        for node in names {
            let scan: Vec<_> = plan
                .findings
                .iter()
                .filter(|f| f.node.as_deref().is_none_or(|n| n == node))
                .collect();
            let found: Vec<_> = plan.findings_for(node).collect();
            assert_eq!(found, scan, "{name}: node {node}");
            checked += scan.len();
        }
    }
    assert!(checked > 0, "the examples have findings to compare");
}

/// `export --out` renders a whole site with the addresses indexed once and repeated texts made
/// once (`AddressIndex`, `SiteTexts`); every script must be the one a single node's export
/// writes without them. The 1,000-node fixture of the benches shares far more than the examples,
/// so the site is also grown: every example's nodes copied ten times under new names and
/// addresses of their own, so most rule lists are shared.
#[test]
fn site_exports_write_what_a_single_node_export_writes() {
    use fwtopo::export::{self, AddressIndex, Egress, Export, Options, SiteTexts};
    use fwtopo::target::Target;
    let base = catalog();
    let mut shared_in_grown = 0;
    for (file, t) in examples() {
        let cat = site_catalog(&base, &t);
        let mut grown = t.clone();
        for copy in 1..=10u16 {
            for (i, n) in t.nodes.iter().enumerate() {
                let mut n = n.clone();
                n.name = format!("{}-c{copy}", n.name);
                // IPv6 only, one address of its own: 2001:db8:ffff:<copy>::<node number>.
                let i = u16::try_from(i + 1).expect("an example has few nodes");
                n.addresses = vec![std::net::IpAddr::from([
                    0x2001, 0xdb8, 0xffff, copy, 0, 0, 0, i,
                ])];
                grown.nodes.push(n);
            }
        }
        for site in [&t, &grown] {
            let plan = derive(&cat, site);
            let addresses = AddressIndex::new(site);
            let texts = SiteTexts::new(&cat, site, &plan);
            let mut shared = 0;
            for egress in [Egress::Open, Egress::Strict] {
                let options = Options {
                    egress,
                    crlf: false,
                };
                for p in &plan.nodes {
                    shared += usize::from(std::sync::Arc::strong_count(&p.inbound) > 1);
                    for target in Target::ALL {
                        let alone =
                            export::render(target, &Export::new(&cat, site, &plan, p, options));
                        let x = Export::new(&cat, site, &plan, p, options)
                            .with_addresses(&addresses)
                            .with_texts(&texts);
                        assert_eq!(
                            export::render(target, &x),
                            alone,
                            "{file}: {} {target} {egress:?}",
                            p.name
                        );
                    }
                }
            }
            if std::ptr::eq(site, &grown) {
                shared_in_grown += shared;
            }
        }
    }
    // Virtuozzo's nodes each see their group without themselves, so share little; the others do.
    assert!(
        shared_in_grown > 100,
        "grown sites share {shared_in_grown} rule lists"
    );
}
