//! The product catalog: embedded vendor products plus the operator's own files.
//!
//! The catalog is data (`assets/catalog/*.ron`); this module parses and checks it so that every
//! reference a flow makes (role, group, parameter, switch, CIDR) is known to resolve before the engine
//! ever runs.

pub mod model;

pub use model::*;

use crate::ports::PortRange;
use crate::user_text::{check_line, check_text, escaped, quoted};
use ipnet::IpNet;
use std::collections::{BTreeMap, HashSet};

/// The catalog files shipped in the binary, as (file name, text).
pub const EMBEDDED: &[(&str, &str)] = &[
    ("host.ron", include_str!("../../assets/catalog/host.ron")),
    (
        "plesk-automation.ron",
        include_str!("../../assets/catalog/plesk-automation.ron"),
    ),
    (
        "mailstore-spe.ron",
        include_str!("../../assets/catalog/mailstore-spe.ron"),
    ),
    (
        "communigate-pro.ron",
        include_str!("../../assets/catalog/communigate-pro.ron"),
    ),
    (
        "cpanel-whm.ron",
        include_str!("../../assets/catalog/cpanel-whm.ron"),
    ),
    (
        "virtuozzo-hybrid-server.ron",
        include_str!("../../assets/catalog/virtuozzo-hybrid-server.ron"),
    ),
    (
        "common-services.ron",
        include_str!("../../assets/catalog/common-services.ron"),
    ),
];

/// The id of the built-in management-access product.
pub const HOST_PRODUCT: &str = "host";

/// The id of the built-in common-services product, whose `updates-*` roles every node gets by
/// its OS unless the topology turns OS updates off.
pub const COMMON_PRODUCT: &str = "common-services";

/// A catalog file that does not parse or does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("{}:{line}:{col}: {message}", escaped(file))]
    Syntax {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{}: product {}: {message}", escaped(file), quoted(product))]
    Invalid {
        file: String,
        product: String,
        message: String,
    },
}

/// All products, in a stable order, with the lookups the engine needs.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: Vec<Product>,
    /// Where each product came from (an embedded name or a user file path).
    origins: Vec<String>,
    by_id: BTreeMap<String, usize>,
}

impl Catalog {
    /// The embedded catalog. The files are part of the binary and tested, so failure is a build bug;
    /// it is still reported as an error rather than a panic.
    pub fn embedded() -> Result<Catalog, CatalogError> {
        Catalog::from_sources(EMBEDDED.iter().map(|(n, t)| (n.to_string(), t.to_string())))
    }

    /// Parses and checks catalog files given as (name, text). A later product with the same id
    /// replaces an earlier one, which is how user files override the embedded ones.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalog, CatalogError> {
        let mut cat = Catalog::default();
        for (name, text) in sources {
            let product = parse_product(&name, &text)?;
            check_product(&name, &product)?;
            cat.insert(name, product);
        }
        Ok(cat)
    }

    /// Adds or replaces a product (by id).
    pub fn insert(&mut self, origin: String, product: Product) {
        match self.by_id.get(&product.id) {
            Some(&i) => {
                self.products[i] = product;
                self.origins[i] = origin;
            }
            None => {
                self.by_id.insert(product.id.clone(), self.products.len());
                self.products.push(product);
                self.origins.push(origin);
            }
        }
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn product_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.product_index(id).map(|i| &self.products[i])
    }

    pub fn origin(&self, product_index: usize) -> &str {
        &self.origins[product_index]
    }

    pub fn role(&self, product: &str, role: &str) -> Option<&Role> {
        self.product(product)?.roles.iter().find(|r| r.id == role)
    }
}

impl Product {
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The role that declares a parameter, and the parameter.
    pub fn parameter(&self, id: &str) -> Option<(&Role, &Parameter)> {
        self.roles
            .iter()
            .find_map(|r| r.parameters.iter().find(|p| p.id == id).map(|p| (r, p)))
    }

    /// Whether an operator may set a parameter on a role: the role declares it, or the parameter is
    /// product-wide and the role uses it: it listens on the port (a `to` side of a flow whose ports
    /// name it), or a flow it takes part in is switched by it. CommuniGate's FTP and egress switches
    /// are declared once on `server` but govern frontends and backends too.
    pub fn accepts(&self, role: &Role, param: &str) -> bool {
        if role.parameters.iter().any(|p| p.id == param) {
            return true;
        }
        let plays = |eps: &[Endpoint]| {
            eps.iter()
                .any(|e| matches!(e, Endpoint::Role(id) if self.role_matches(role, id)))
        };
        self.flows.iter().any(|f| {
            let in_ports = f
                .ports
                .iter()
                .any(|i| matches!(i, PortItem::Param(id) if id == param));
            let switched = f.when.as_deref() == Some(param);
            (in_ports && plays(&f.to)) || (switched && (plays(&f.to) || plays(&f.from)))
        })
    }

    /// Whether a role is named by an endpoint id (its own id or one of its groups).
    pub fn role_matches(&self, role: &Role, endpoint_id: &str) -> bool {
        role.id == endpoint_id || role.groups.iter().any(|g| g == endpoint_id)
    }

    /// Flows in which a role takes part, on either side (for listings).
    pub fn flows_of<'a>(&'a self, role: &'a Role) -> impl Iterator<Item = &'a Flow> + 'a {
        self.flows.iter().filter(move |f| {
            f.from.iter().chain(f.to.iter()).any(|e| match e {
                Endpoint::Role(id) => self.role_matches(role, id),
                _ => false,
            })
        })
    }
}

fn parse_product(name: &str, text: &str) -> Result<Product, CatalogError> {
    // A byte-order mark, as a topology may have.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    ron::from_str::<Product>(text).map_err(|e| CatalogError::Syntax {
        file: name.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: crate::unique_keys::syntax_message(&e.code),
    })
}

/// Checks everything a flow refers to, so the engine can trust the catalog.
fn check_product(file: &str, p: &Product) -> Result<(), CatalogError> {
    let err = |message: String| CatalogError::Invalid {
        file: file.to_string(),
        product: p.id.clone(),
        message,
    };
    check_texts(p).map_err(err)?;
    if !is_id(&p.id) {
        return Err(err(format!(
            "product id {} must be lowercase letters, digits and '-'",
            quoted(&p.id)
        )));
    }
    let groups: HashSet<&str> = p.groups.iter().map(|g| g.id.as_str()).collect();
    let mut role_ids = HashSet::new();
    let mut param_ids = HashSet::new();
    for r in &p.roles {
        if !is_id(&r.id) || !role_ids.insert(r.id.as_str()) {
            return Err(err(format!(
                "role id {} is not a unique kebab-case id",
                quoted(&r.id)
            )));
        }
        if groups.contains(r.id.as_str()) {
            return Err(err(format!("role id {} is also a group id", quoted(&r.id))));
        }
        for g in &r.groups {
            if !groups.contains(g.as_str()) {
                return Err(err(format!(
                    "role {} names undeclared group {}",
                    quoted(&r.id),
                    quoted(g)
                )));
            }
        }
        for prm in &r.parameters {
            if !param_ids.insert(prm.id.as_str()) {
                return Err(err(format!(
                    "parameter {} is declared twice",
                    quoted(&prm.id)
                )));
            }
            let bad = match prm.kind {
                ParamKind::Port { default } => PortRange::single(default).is_none(),
                ParamKind::PortRange { default: (a, b) }
                | ParamKind::Dynamic { fallback: (a, b) } => PortRange::new(a, b).is_none(),
                ParamKind::Required | ParamKind::Switch { .. } => false,
            };
            if bad {
                return Err(err(format!(
                    "parameter {} has an invalid default port",
                    quoted(&prm.id)
                )));
            }
        }
    }
    let mut flow_ids = HashSet::new();
    for f in &p.flows {
        let ferr = |m: String| err(format!("flow {}: {}", quoted(&f.id), m));
        if !flow_ids.insert(f.id.as_str()) {
            return Err(ferr("duplicate flow id".into()));
        }
        if f.protocols.is_empty() || f.ports.is_empty() || f.from.is_empty() || f.to.is_empty() {
            return Err(ferr(
                "protocols, ports, from and to must not be empty".into(),
            ));
        }
        if f.source.origin == Origin::Topology {
            return Err(ferr(
                "origin 'topology' is for a topology's own flows, not a catalog file".into(),
            ));
        }
        if f.source.section.trim().is_empty() {
            return Err(ferr(
                "source section is empty: every flow must be traceable".into(),
            ));
        }
        let endpoint_roles: Vec<&Role> = p
            .roles
            .iter()
            .filter(|r| {
                f.from
                    .iter()
                    .chain(&f.to)
                    .any(|e| matches!(e, Endpoint::Role(id) if p.role_matches(r, id)))
            })
            .collect();
        for e in f.from.iter().chain(&f.to) {
            match e {
                Endpoint::Role(id)
                    if !role_ids.contains(id.as_str()) && !groups.contains(id.as_str()) =>
                {
                    return Err(ferr(format!(
                        "endpoint names unknown role or group {}",
                        quoted(id)
                    )));
                }
                Endpoint::Zone(z) if !is_id(z) => {
                    return Err(ferr(format!("bad zone name {}", quoted(z))));
                }
                Endpoint::Dns(name) if !is_dns_name(name) => {
                    return Err(ferr(format!("{} is not a DNS name", quoted(name))));
                }
                Endpoint::Cidrs(list) => {
                    for c in list {
                        c.parse::<IpNet>()
                            .map_err(|_| ferr(format!("{} is not a CIDR", quoted(c))))?;
                    }
                }
                _ => {}
            }
        }
        if !f
            .from
            .iter()
            .chain(&f.to)
            .any(|e| matches!(e, Endpoint::Role(_)))
        {
            return Err(ferr("neither side is a role of this product".into()));
        }
        let declared_on_endpoint = |id: &str| {
            endpoint_roles
                .iter()
                .any(|r| r.parameters.iter().any(|prm| prm.id == id))
        };
        for item in &f.ports {
            match item {
                PortItem::Port(n) if *n == 0 => return Err(ferr("port 0".into())),
                PortItem::Range(a, b) if PortRange::new(*a, *b).is_none() => {
                    return Err(ferr(format!("bad range {a}-{b}")));
                }
                PortItem::Param(id) => match p.parameter(id) {
                    Some((_, prm)) if matches!(prm.kind, ParamKind::Switch { .. }) => {
                        return Err(ferr(format!(
                            "parameter {} is a switch, not a port",
                            quoted(id)
                        )));
                    }
                    Some(_) if declared_on_endpoint(id) => {}
                    Some(_) => {
                        return Err(ferr(format!(
                            "parameter {} is not declared by an endpoint role",
                            quoted(id)
                        )));
                    }
                    None => return Err(ferr(format!("unknown parameter {}", quoted(id)))),
                },
                _ => {}
            }
        }
        // A switch may be product-wide: CommuniGate's `ftp`, declared once on `server`, also
        // closes FTP between cluster members, whose roles ([`Product::accepts`]) take it too.
        if let Some(w) = &f.when {
            match p.parameter(w) {
                Some((_, prm)) if matches!(prm.kind, ParamKind::Switch { .. }) => {}
                Some(_) => {
                    return Err(ferr(format!("'when: {}' must be a switch", escaped(w))));
                }
                None => return Err(ferr(format!("unknown switch {}", quoted(w)))),
            }
        }
    }
    Ok(())
}

/// Checks every text of a product before anything else reads it: names, titles, ids, services and
/// sections are lines (no control character at all: they are printed within a line of `fwtopo
/// catalog`, `rules` and `check`); descriptions and notes are free text (line ends and tabs too).
/// The error names the field.
fn check_texts(p: &Product) -> Result<(), String> {
    let line = |field: &str, s: &str| check_line(s).map_err(|m| format!("{field} {m}"));
    let text = |field: &str, s: &str| check_text(s).map_err(|m| format!("{field} {m}"));
    line("id", &p.id)?;
    line("name", &p.name)?;
    line("vendor", &p.vendor)?;
    line("document.id", &p.document.id)?;
    line("document.title", &p.document.title)?;
    line("document.url", &p.document.url)?;
    text("description", &p.description)?;
    for g in &p.groups {
        let at = format!("group {}:", quoted(&g.id));
        line(&format!("{at} id"), &g.id)?;
        line(&format!("{at} name"), &g.name)?;
    }
    for r in &p.roles {
        let at = format!("role {}:", quoted(&r.id));
        line(&format!("{at} id"), &r.id)?;
        line(&format!("{at} name"), &r.name)?;
        text(&format!("{at} description"), &r.description)?;
        for g in &r.groups {
            line(&format!("{at} groups"), g)?;
        }
        for prm in &r.parameters {
            let at = format!("parameter {}:", quoted(&prm.id));
            line(&format!("{at} id"), &prm.id)?;
            line(&format!("{at} name"), &prm.name)?;
            text(&format!("{at} description"), &prm.description)?;
        }
    }
    for f in &p.flows {
        let at = format!("flow {}:", quoted(&f.id));
        line(&format!("{at} id"), &f.id)?;
        line(&format!("{at} service"), &f.service)?;
        text(&format!("{at} note"), &f.note)?;
        line(&format!("{at} source.section"), &f.source.section)?;
        line(&format!("{at} when"), f.when.as_deref().unwrap_or_default())?;
        for e in f.from.iter().chain(&f.to) {
            match e {
                Endpoint::Role(s) | Endpoint::Zone(s) | Endpoint::Dns(s) => {
                    line(&format!("{at} endpoint"), s)?
                }
                Endpoint::Cidrs(list) => {
                    for c in list {
                        line(&format!("{at} endpoint"), c)?;
                    }
                }
                Endpoint::Any | Endpoint::Localhost => {}
            }
        }
        for item in &f.ports {
            if let PortItem::Param(id) = item {
                line(&format!("{at} ports"), id)?;
            }
        }
    }
    Ok(())
}

/// Lowercase letters, digits, `-` and `_`, starting with a letter: safe in every target's names.
pub fn is_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && s.len() <= 48
}

/// A plain DNS name: labels of letters, digits and `-`, separated by dots.
pub fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_is_valid() {
        let cat = Catalog::embedded().unwrap_or_else(|e| panic!("{e}"));
        for id in [
            "host",
            "plesk-automation",
            "mailstore-spe",
            "communigate-pro",
            "cpanel-whm",
            "virtuozzo-hybrid-server",
            "common-services",
        ] {
            assert!(cat.product(id).is_some(), "missing product {id}");
        }
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let e = Catalog::from_sources([(
            "x.ron".to_string(),
            "(\n  id: \"x\",\n  name: 5,\n)".to_string(),
        )])
        .unwrap_err();
        match e {
            CatalogError::Syntax { file, line, .. } => {
                assert_eq!(file, "x.ron");
                assert_eq!(line, 3);
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn unknown_role_reference_is_rejected() {
        let text = r#"(id: "x", name: "X", vendor: "v", document: (id: "d", title: "t"),
            roles: [(id: "a", name: "A")],
            flows: [(id: "f", service: "s", protocols: [tcp], ports: [Port(1)], from: [Any], to: [Role("b")],
                     source: (section: "s"))])"#;
        let e = Catalog::from_sources([("x.ron".to_string(), text.to_string())]).unwrap_err();
        assert!(e.to_string().contains("unknown role or group 'b'"), "{e}");
    }

    #[test]
    fn later_sources_override_earlier_products() {
        let a = r#"(id: "x", name: "First", vendor: "v", document: (id: "d", title: "t"), roles: [(id: "a", name: "A")], flows: [])"#;
        let b = r#"(id: "x", name: "Second", vendor: "v", document: (id: "d", title: "t"), roles: [(id: "a", name: "A")], flows: [])"#;
        let cat = Catalog::from_sources([("a".into(), a.into()), ("b".into(), b.into())]).unwrap();
        assert_eq!(cat.products().len(), 1);
        assert_eq!(cat.product("x").map(|p| p.name.as_str()), Some("Second"));
    }
}
