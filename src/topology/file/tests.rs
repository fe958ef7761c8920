use super::*;

const GOOD: &str = r#"(
    version: 1,
    name: "t",
    zones: [(name: "admin", cidrs: ["198.51.100.0/24"])],
    nodes: [
        (name: "a", os: "almalinux", addresses: ["203.0.113.2", "2001:db8::2"],
         roles: [(product: "plesk-automation", role: "mn")]),
    ],
)"#;

#[test]
fn round_trips_exactly() {
    let t = from_ron(GOOD).unwrap();
    let text = to_ron(&t);
    let again = from_ron(&text).unwrap();
    assert_eq!(t, again);
    assert_eq!(text, to_ron(&again));
}

/// A saved file of `n` nodes, pretty-printed as the designer writes it.
fn site(n: usize) -> Topology {
    let mut t = from_ron(GOOD).unwrap();
    let first = t.nodes[0].clone();
    t.nodes = (0..n)
        .map(|i| {
            let mut node = first.clone();
            node.name = format!("n{i}");
            node.addresses = vec![IpAddr::from([198, 51, 100, (i % 250) as u8 + 1])];
            // Quotes, a separator and characters of several bytes, where cuts may fall.
            node.note = format!("note {i}: é€😀 \"quoted\"),\n        (not a node");
            node
        })
        .collect();
    t
}

#[test]
fn a_text_in_parts_reads_as_the_whole_text() {
    let t = site(40);
    let text = to_ron(&t);
    for parts in 1..=9 {
        assert_eq!(
            from_ron_in_parts(&text, parts),
            Ok(t.clone()),
            "{parts} parts"
        );
    }
    // Not by falling back: the parts are there, and they parse.
    let cut = crate::topology::parts::split(&text, 4).expect("a cut");
    assert_eq!(cut.lists.len(), 3);
    assert_eq!(parse_parts(&cut).map(|f| f.nodes.len()), Some(40));
    // Errors in any part, and texts the cuts land badly in, give the whole text's error.
    let late = text.replacen("\"n37\"", "\"n37\" oops", 1);
    let dup = text.replacen("\"n31\"", "\"n2\"", 1);
    let commented = text.replace(
        "        (\n            name",
        "        // ),\n        (\n            name",
    );
    let block = text.replacen(
        "        (\n            name: \"n9\"",
        "        /* ),\n        ( */ (\n            name: \"n9\"",
        1,
    );
    let newer = text.replacen("version: 1", "version: 7", 1);
    // A key given twice in a node of a later part, and a byte-order mark.
    let twice = text.replacen("name: \"n33\",", "name: \"n33\", name: \"n33\",", 1);
    let bom = format!("\u{FEFF}{late}");
    for bad in [late, dup, commented, block, newer, twice, bom] {
        let whole = from_ron_in_parts(&bad, 1);
        for parts in 2..=9 {
            assert_eq!(
                from_ron_in_parts(&bad, parts),
                whole,
                "{parts} parts of\n{bad}"
            );
        }
    }
    assert!(matches!(
        from_ron_in_parts(&text.replacen("\"n37\"", "\"n37\" oops", 1), 4),
        Err(LoadError::Syntax { .. })
    ));
    let twice = text.replacen("name: \"n33\",", "name: \"n33\", name: \"n33\",", 1);
    assert!(
        matches!(
            from_ron_in_parts(&twice, 4),
            Err(LoadError::Syntax { message, .. }) if message.starts_with("duplicate key 'name'")
        ),
        "{:?}",
        from_ron_in_parts(&twice, 4)
    );
    assert_eq!(from_ron_in_parts(&format!("\u{FEFF}{text}"), 4), Ok(t));
}

#[test]
fn syntax_error_has_line_and_column() {
    let bad = "(\n    version: 1,\n    nodes: [(name: \"a\" os: \"ubuntu\")],\n)";
    match from_ron(bad) {
        Err(LoadError::Syntax { line, col, .. }) => {
            assert_eq!(line, 3);
            assert!(col > 20, "col {col}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn semantic_errors_name_node_and_field() {
    let bad = GOOD
        .replace("203.0.113.2\"", "203.0.113.300\"")
        .replace("\"a\"", "\"a;rm\"");
    let Err(LoadError::Invalid(p)) = from_ron(&bad) else {
        panic!("expected invalid")
    };
    let text: Vec<String> = p.iter().map(|p| p.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("addresses[0]") && t.contains("203.0.113.300")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains(": name") && t.contains("a;rm")),
        "{text:?}"
    );
}

#[test]
fn node_names_differing_only_in_case_are_duplicates() {
    let text = r#"(version: 1, nodes: [
        (name: "web", os: "ubuntu", addresses: ["203.0.113.2"]),
        (name: "Web", os: "ubuntu", addresses: ["203.0.113.3"]),
    ])"#;
    let Err(LoadError::Invalid(p)) = from_ron(text) else {
        panic!("expected invalid")
    };
    let text: Vec<String> = p.iter().map(|p| p.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("nodes[1] \"Web\": name") && t.contains("duplicate")),
        "{text:?}"
    );
}

#[test]
fn newer_version_is_refused() {
    let newer = GOOD.replace("version: 1", "version: 9");
    assert_eq!(from_ron(&newer), Err(LoadError::Version { found: 9 }));
}

#[test]
fn zone_networks_no_peer_comes_from_are_refused_naming_zone_and_index() {
    for (cidr, kind) in [
        ("127.0.0.1", "is loopback"),
        ("127.0.0.0/8", "is loopback"),
        ("::1", "is loopback"),
        ("::ffff:127.0.0.1", "is loopback"),
        ("ff02::1", "is multicast"),
        ("224.0.0.0/4", "is multicast"),
        ("239.1.2.0/24", "is multicast"),
        ("0.0.0.0", "is the unspecified address"),
        ("::", "is the unspecified address"),
        ("169.254.0.0/16", "is link-local"),
        ("fe80::/64", "is link-local"),
        ("fe80::1", "is link-local"),
    ] {
        let text = GOOD.replace(
            r#"cidrs: ["198.51.100.0/24"]"#,
            &format!(r#"cidrs: ["198.51.100.0/24", "203.0.113.0/24", "{cidr}"]"#),
        );
        let Err(LoadError::Invalid(p)) = from_ron(&text) else {
            panic!("{cidr} was accepted")
        };
        let all: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(
            all[0].starts_with(&format!("zones[0] \"admin\": cidrs[2]: '{cidr}' {kind}")),
            "{all:?}"
        );
    }
    // Networks that merely contain such space, and whole families, are peers.
    for cidr in [
        "0.0.0.0/0",
        "::/0",
        "96.0.0.0/3",
        "fc00::/7",
        "2001:db8::/32",
        "::ffff:192.0.2.0/120",
    ] {
        let text = GOOD.replace("198.51.100.0/24", cidr);
        assert!(from_ron(&text).is_ok(), "{cidr} refused");
    }
}

#[test]
fn control_characters_in_notes_are_refused() {
    let bad = GOOD.replace("name: \"t\"", "name: \"t\\u{202E}x\"");
    assert!(matches!(from_ron(&bad), Err(LoadError::Invalid(_))));
}
