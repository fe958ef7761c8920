//! Human-readable text for the terminal: aligned tables, one section per node.

use fwtopo::catalog::Catalog;
use fwtopo::engine::{Finding, NodePlan, Plan, Rule};
use fwtopo::report;
use fwtopo::topology::Topology;
use std::fmt::Write;

/// Lays out rows in columns separated by two spaces; the last column is not padded.
fn table(rows: &[Vec<String>], indent: &str) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Wraps `text` at `width` characters, every line but the first indented by `indent`.
fn wrapped(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        let n = word.chars().count();
        if line > 0 && line + 1 + n > width {
            out.push('\n');
            out.push_str(indent);
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += n;
    }
    out
}

/// Every flow's note, switch and source in full, and every parameter's help: what FW010 ("see
/// their notes") and the designer's cut cells point to.
fn catalog_notes(p: &fwtopo::catalog::Product, out: &mut String) {
    let _ = writeln!(out, "\nparameters");
    for r in &p.roles {
        for x in &r.parameters {
            let _ = writeln!(out, "  {}/{} {}: {}", r.id, x.id, x.name, x.kind.describe());
            if !x.description.is_empty() {
                let _ = writeln!(out, "    {}", wrapped(&x.description, 96, "    "));
            }
        }
    }
    let _ = writeln!(out, "\nnotes and sources");
    for f in &p.flows {
        let _ = writeln!(out, "  {}: {}", f.id, f.service);
        let section = if f.source.section.is_empty() {
            String::new()
        } else {
            format!(", {}", f.source.section)
        };
        let _ = writeln!(
            out,
            "    source: {} ({}{section})",
            p.document.id,
            f.source.origin.as_str()
        );
        if let Some(w) = &f.when {
            let _ = writeln!(out, "    only while switch {w} is on");
        }
        if !f.note.is_empty() {
            let _ = writeln!(out, "    note: {}", wrapped(&f.note, 96, "      "));
        }
    }
}

pub fn catalog(catalog: &Catalog, only: Option<&str>, notes: bool) -> String {
    let mut out = String::new();
    match only.and_then(|id| catalog.product(id)) {
        None => {
            let rows: Vec<Vec<String>> = catalog
                .products()
                .iter()
                .map(|p| {
                    let roles: Vec<&str> = p.roles.iter().map(|r| r.id.as_str()).collect();
                    vec![p.id.clone(), p.name.clone(), roles.join(", ")]
                })
                .collect();
            out.push_str(&table(&rows, ""));
            out.push_str("\n`fwtopo catalog PRODUCT` lists a product's flows.\n");
        }
        Some(p) => {
            let _ = writeln!(
                out,
                "{} ({})\n  document: {}",
                p.name, p.id, p.document.title
            );
            if !p.document.url.is_empty() {
                let _ = writeln!(out, "  {}", p.document.url);
            }
            for r in &p.roles {
                let _ = writeln!(out, "\nrole {}: {}", r.id, r.name);
                for x in &r.parameters {
                    let _ = writeln!(out, "  parameter {}: {}", x.id, x.name);
                }
            }
            let _ = writeln!(out, "\nflows");
            let rows: Vec<Vec<String>> = p
                .flows
                .iter()
                .map(|f| {
                    let protos: Vec<&str> = f.protocols.iter().map(|x| x.as_str()).collect();
                    let tags: Vec<&str> = f.tags.iter().map(|t| t.as_str()).collect();
                    vec![
                        protos.join("+"),
                        report::default_ports(p, f).to_string(),
                        f.from
                            .iter()
                            .map(report::endpoint)
                            .collect::<Vec<_>>()
                            .join(","),
                        "->".into(),
                        f.to.iter()
                            .map(report::endpoint)
                            .collect::<Vec<_>>()
                            .join(","),
                        format!(
                            "{}{}",
                            f.service,
                            if tags.is_empty() {
                                String::new()
                            } else {
                                format!(" [{}]", tags.join(", "))
                            }
                        ),
                    ]
                })
                .collect();
            out.push_str(&table(&rows, "  "));
            if notes {
                catalog_notes(p, &mut out);
            } else {
                let _ = writeln!(
                    out,
                    "\n`fwtopo catalog {} --notes` adds each flow's note and source, and each parameter's help.",
                    p.id
                );
            }
        }
    }
    out
}

fn rule_rows(catalog: &Catalog, rules: &[Rule], word: &str) -> Vec<Vec<String>> {
    rules
        .iter()
        .map(|r| {
            vec![
                r.protocol.as_str().to_string(),
                r.ports.to_string(),
                word.to_string(),
                r.peers.to_string(),
                r.services(catalog).join(", "),
            ]
        })
        .collect()
}

fn node(catalog: &Catalog, topology: &Topology, n: &NodePlan, out: &mut String) {
    let node = &topology.nodes[n.node];
    let addrs: Vec<String> = node.addresses.iter().map(|a| a.to_string()).collect();
    let _ = writeln!(
        out,
        "{} ({}; {})",
        n.name,
        node.os.as_str(),
        if addrs.is_empty() {
            "no address".into()
        } else {
            addrs.join(", ")
        }
    );
    let roles: Vec<String> = node
        .roles
        .iter()
        .map(|r| format!("{}/{}", r.product, r.role))
        .collect();
    if !roles.is_empty() {
        let _ = writeln!(out, "  roles: {}", roles.join(", "));
    }
    if !node.ownership.is_empty() {
        let _ = writeln!(out, "  asked for: {}", node.ownership.describe());
    }
    let _ = writeln!(out, "  inbound");
    out.push_str(&table(&rule_rows(catalog, &n.inbound, "from"), "    "));
    let _ = writeln!(out, "  outbound");
    out.push_str(&table(&rule_rows(catalog, &n.outbound, "to"), "    "));
    if !n.local_only.is_empty() {
        let _ = writeln!(out, "  localhost only (no rule)");
        let rows: Vec<Vec<String>> = n
            .local_only
            .iter()
            .map(|l| {
                vec![
                    l.protocol.as_str().into(),
                    l.ports.to_string(),
                    l.provenance.flow(catalog).service.clone(),
                ]
            })
            .collect();
        out.push_str(&table(&rows, "    "));
    }
    // Who asked for the custom flows and roles behind these rules, and until when.
    let asked = fwtopo::report::requested(
        catalog,
        n.rules()
            .flat_map(|r| r.provenance.iter())
            .chain(n.local_only.iter().map(|l| &l.provenance)),
    );
    if !asked.is_empty() {
        let _ = writeln!(
            out,
            "  asked for (custom flows and roles behind these rules)"
        );
        for r in asked {
            let _ = writeln!(out, "    {}: {}", r.of, r.ownership.describe());
        }
    }
}

pub fn rules(catalog: &Catalog, topology: &Topology, plan: &Plan, only: Option<&str>) -> String {
    let mut out = String::new();
    for n in plan
        .nodes
        .iter()
        .filter(|n| only.is_none_or(|name| n.name == name))
    {
        node(catalog, topology, n, &mut out);
        out.push('\n');
    }
    let findings: Vec<Finding> = match only {
        Some(name) => plan.findings_for(name).cloned().collect(),
        None => plan.findings.clone(),
    };
    out.push_str(&self::findings(&findings));
    out
}

pub fn findings(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("{f}\n")).collect()
}
