//! Structure checks of the nftables and iptables exports that need no tools (moved here unchanged
//! from tests/export_netfilter.rs), shared by that file and the cargo-fuzz targets in fuzz/. A failed
//! check panics; `at` names the export in the message.

/// Ports a multiport list takes: a range counts as two.
fn multiport_weight(list: &str) -> usize {
    list.split(',')
        .map(|p| if p.contains(':') { 2 } else { 1 })
        .sum()
}

/// iptables: at most 15 ports per multiport list, every `-s`/`-d` address in the family of its
/// payload, no line of 4,000 characters or more.
pub fn check_iptables_lines(at: &str, script: &str) {
    let mut family = "";
    for line in script.lines() {
        if line.starts_with("payload_v4") {
            family = "v4";
        } else if line.starts_with("payload_v6") {
            family = "v6";
        }
        if !line.starts_with("-A ") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for w in words.windows(2) {
            if w[0] == "--dports" {
                assert!(multiport_weight(w[1]) <= 15, "{at}: {line}");
            }
            if w[0] == "-s" || w[0] == "-d" {
                let v6 = w[1].contains(':');
                assert_eq!(v6, family == "v6", "{at}: wrong family in {line}");
            }
        }
        assert!(line.len() < 4000, "{at}: line too long");
    }
}

/// nftables: every `ip`/`ip6 saddr|daddr @set` names a set of that family.
pub fn check_nftables_sets(at: &str, file: &str) {
    let mut types = std::collections::HashMap::new();
    let mut current = None;
    for line in file.lines().map(str::trim) {
        if line.starts_with("chain ") {
            current = None;
        }
        if let Some(rest) = line.strip_prefix("set ") {
            current = rest.split_whitespace().next().map(str::to_string);
        }
        if let (Some(name), Some(ty)) = (&current, line.strip_prefix("type ")) {
            types.insert(name.clone(), ty.to_string());
        }
    }
    for line in file.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        for (kw, ty) in [
            ("ip saddr @", "ipv4_addr"),
            ("ip daddr @", "ipv4_addr"),
            ("ip6 saddr @", "ipv6_addr"),
            ("ip6 daddr @", "ipv6_addr"),
        ] {
            if let Some(i) = line.find(kw) {
                let name: String = line[i + kw.len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                assert_eq!(
                    types.get(&name).map(String::as_str),
                    Some(ty),
                    "{at}: {line}"
                );
            }
        }
    }
}
