//! `fwtopo diagram`: every example's DOT is accepted by Graphviz (`dot -Tsvg`, installed by
//! `.ci/run`), its SVG (laid out by fwtopo) is well-formed XML naming every node, its Mermaid
//! passes a grammar of the subset we write, and the edges carry every inbound rule's ports.

use assert_cmd::Command;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const EXAMPLES: &[&str] = &[
    "plesk-automation",
    "mailstore-spe",
    "communigate-pro",
    "cpanel-whm",
    "virtuozzo",
    "mixed-site",
    "real-site",
];

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.ron"))
}

fn diagram(name: &str, args: &[&str]) -> String {
    let o = Command::cargo_bin("fwtopo")
        .unwrap()
        .env(
            "FWTOPO_CONFIG_DIR",
            env!("CARGO_MANIFEST_DIR").to_string() + "/tests/no-config",
        )
        .arg("diagram")
        .arg(example(name))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn graphviz() -> bool {
    if std::process::Command::new("dot").arg("-V").output().is_ok() {
        return true;
    }
    if std::env::var("FWTOPO_REQUIRE_SYSTEM_TESTS").as_deref() == Ok("1") {
        panic!("Graphviz (dot) not found, and FWTOPO_REQUIRE_SYSTEM_TESTS=1");
    }
    eprintln!("SKIPPED (Graphviz's dot not found)");
    false
}

#[test]
fn graphviz_accepts_every_examples_dot() {
    if !graphviz() {
        return;
    }
    for name in EXAMPLES {
        let dot = diagram(name, &[]);
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{name}: warnings: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        assert!(svg.contains("<svg"), "{name}");
    }
}

/// Tags balance, attributes are quoted, `&` starts a known entity: enough to tell a broken SVG.
fn well_formed(xml: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(['<', '&']) {
        if rest[i..].starts_with('&') {
            let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"]
                .iter()
                .any(|e| rest[i..].starts_with(e));
            if !ok {
                return Err(format!("bare & at {}", &rest[i..(i + 20).min(rest.len())]));
            }
            rest = &rest[i + 1..];
            continue;
        }
        let end = rest[i..].find('>').ok_or("unclosed tag")? + i;
        let tag = &rest[i + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("</{name}> closes nothing"))?;
            if open != name.trim() {
                return Err(format!("<{open}> closed by </{name}>"));
            }
            continue;
        }
        let name = tag
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches('/');
        if !tag.matches('"').count().is_multiple_of(2) {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        if !tag.ends_with('/') {
            stack.push(name.to_string());
        }
    }
    match stack.pop() {
        None => Ok(()),
        Some(open) => Err(format!("<{open}> never closed")),
    }
}

#[test]
fn the_svg_is_well_formed_and_names_every_node() {
    assert!(well_formed("<svg><g a=\"1\">x &amp; y</g></svg>").is_ok());
    assert!(well_formed("<svg><g>x</svg>").is_err());
    assert!(well_formed("<svg>a & b</svg>").is_err());
    for name in EXAMPLES {
        let svg = diagram(name, &["--format", "svg"]);
        assert!(svg.contains("<svg"), "{name}");
        well_formed(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let t =
            fwtopo::topology::from_ron(&std::fs::read_to_string(example(name)).unwrap()).unwrap();
        for n in &t.nodes {
            assert!(svg.contains(&format!(">{}<", n.name)), "{name}: {}", n.name);
        }
    }
}

/// The Mermaid we write: `flowchart LR`, boxes `bN` with a quoted label in one of four shapes,
/// edges `bN -->|"…"| bM` (`==>` for management access) between defined boxes, `linkStyle`.
fn mermaid_ok(text: &str) -> Result<(), String> {
    let mut lines = text.lines();
    if lines.next() != Some("flowchart LR") {
        return Err("first line".into());
    }
    let quoted = |s: &str| {
        s.len() >= 2 && s.starts_with('"') && s.ends_with('"') && !s[1..s.len() - 1].contains('"')
    };
    let mut defined = BTreeSet::new();
    let mut edges = 0;
    for l in lines {
        let l = l.trim();
        if let Some(rest) = l.strip_prefix("linkStyle ") {
            let (k, style) = rest.split_once(' ').ok_or(l.to_string())?;
            let k: usize = k.parse().map_err(|_| l.to_string())?;
            if k >= edges || !style.starts_with("stroke:") {
                return Err(l.to_string());
            }
            continue;
        }
        if let Some((a, rest)) = l.split_once(' ')
            && (rest.starts_with("-->|") || rest.starts_with("==>|"))
        {
            let (label, b) = rest[4..].rsplit_once("| ").ok_or(l.to_string())?;
            if !quoted(label) || !defined.contains(a) || !defined.contains(b) {
                return Err(l.to_string());
            }
            edges += 1;
            continue;
        }
        let id_end = l.find(['[', '(']).ok_or(l.to_string())?;
        let (id, shape) = l.split_at(id_end);
        if !id.starts_with('b') || id[1..].parse::<usize>().is_err() {
            return Err(l.to_string());
        }
        let inner = [("[/", "/]"), ("((", "))"), ("([", "])"), ("[", "]")]
            .iter()
            .find_map(|(o, c)| shape.strip_prefix(o).and_then(|s| s.strip_suffix(c)))
            .ok_or(l.to_string())?;
        if !quoted(inner) {
            return Err(l.to_string());
        }
        defined.insert(id.to_string());
    }
    Ok(())
}

#[test]
fn mermaid_passes_its_grammar() {
    assert!(
        mermaid_ok("flowchart LR\n  b0[\"a\"]\n  b1((\"b\"))\n  b1 -->|\"tcp 22\"| b0\n").is_ok()
    );
    assert!(mermaid_ok("flowchart LR\n  b0[\"a\"]\n  b0 -->|\"x\"| b9\n").is_err());
    assert!(mermaid_ok("flowchart LR\n  b0[\"a\"b\"]\n").is_err());
    for name in EXAMPLES {
        let m = diagram(name, &["--format", "mermaid"]);
        mermaid_ok(&m).unwrap_or_else(|e| panic!("{name}: {e}\n{m}"));
    }
}

/// `22,25,2077-2080` as ranges.
fn parse_ports(s: &str) -> Vec<(u16, u16)> {
    s.split(',')
        .filter_map(|p| match p.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => p.parse().ok().map(|x| (x, x)),
        })
        .collect()
}

/// Every port of every inbound rule is on an edge into its node, for the rule's protocol.
#[test]
fn edges_carry_every_inbound_port() {
    let catalog = fwtopo::catalog::Catalog::embedded().unwrap();
    for name in EXAMPLES {
        let t =
            fwtopo::topology::from_ron(&std::fs::read_to_string(example(name)).unwrap()).unwrap();
        let plan = fwtopo::engine::derive(&catalog, &t);
        let dot = diagram(name, &[]);
        // Box ids of nodes, from `bN [shape=box, label="name\n…"]`.
        let mut ids: BTreeMap<String, String> = BTreeMap::new();
        for l in dot.lines() {
            if let Some((id, rest)) = l.trim().split_once(" [shape=box, label=\"") {
                ids.insert(
                    rest.split("\\n").next().unwrap().to_string(),
                    id.to_string(),
                );
            }
        }
        for p in &plan.nodes {
            let id = &ids[&p.name];
            let into: Vec<&str> = dot
                .lines()
                .filter(|l| l.contains(&format!(" -> {id} [")))
                .collect();
            for r in p.inbound.iter() {
                let proto = r.protocol.as_str();
                for range in r.ports.ranges() {
                    let covered = into.iter().any(|l| {
                        l.split("label=\"").nth(1).is_some_and(|label| {
                            label.split("; ").any(|part| {
                                part.strip_prefix(&format!("{proto} "))
                                    .is_some_and(|ports| {
                                        let ports = ports.split('"').next().unwrap();
                                        let set = parse_ports(ports);
                                        (range.start..=range.end)
                                            .all(|x| set.iter().any(|(a, b)| *a <= x && x <= *b))
                                    })
                            })
                        })
                    });
                    // A rule whose only peer is the node itself is loopback, never drawn.
                    let own_only = t.nodes[p.node]
                        .addresses
                        .iter()
                        .all(|a| r.peers.contains(*a))
                        && r.peers.len() <= t.nodes[p.node].addresses.len();
                    assert!(
                        covered || own_only,
                        "{name}: {} {proto} {range} into {}",
                        r.peers,
                        p.name
                    );
                }
            }
        }
    }
}

#[test]
fn node_and_product_filters_draw_a_part() {
    let all = diagram("mixed-site", &[]);
    let vz = diagram("mixed-site", &["--node", "vz1"]);
    assert!(vz.len() < all.len());
    assert!(vz.contains("label=\"vz1\\n"), "{vz}");
    assert!(!vz.contains("label=\"web1\\n"), "{vz}");
    let ms = diagram("mixed-site", &["--product", "mailstore-spe"]);
    assert!(
        ms.contains("archive-mgmt") && ms.contains("label=\"archive\\n"),
        "{ms}"
    );
    assert!(!ms.contains("label=\"mail\\n"), "{ms}");
    let bad = Command::cargo_bin("fwtopo")
        .unwrap()
        .args(["diagram", "--node", "nope"])
        .arg(example("mixed-site"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn snapshots_of_each_format() {
    insta::assert_snapshot!("diagram_mixed_site_dot", diagram("mixed-site", &[]));
    insta::assert_snapshot!(
        "diagram_mixed_site_mermaid",
        diagram("mixed-site", &["--format", "mermaid"])
    );
}
