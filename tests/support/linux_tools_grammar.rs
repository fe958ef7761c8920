//! Checks of the firewalld, ufw, CSF and APF scripts that need no tools (moved here unchanged from
//! tests/export_linux_tools.rs), shared by that file and the cargo-fuzz targets in fuzz/. A failed
//! check panics; `at` names the export in the message.

use ipnet::IpNet;
use std::net::IpAddr;

/// A peer as the maps hold it: "any", a CIDR with its prefix, or "dns:NAME" for anything else.
pub fn peer_key(s: &str) -> String {
    let t = s.trim_start_matches('[').trim_end_matches(']');
    if t == "any" {
        "any".into()
    } else if let Ok(n) = t.parse::<IpNet>() {
        n.trunc().to_string()
    } else if let Ok(a) = t.parse::<IpAddr>() {
        IpNet::from(a).to_string()
    } else {
        format!("dns:{t}")
    }
}

pub fn is_address(s: &str) -> bool {
    !peer_key(s).starts_with("dns:") && s != "any"
}

/// Every script is a bash script in ASCII (`bash -n` is run by the test, not here).
pub fn check_script_shape(at: &str, s: &str) {
    assert!(s.starts_with("#!/bin/bash\n"), "{at}");
    assert!(s.is_ascii(), "{at}: not ASCII");
}

/// ufw: one source or destination per rule (never a list, range or name), at most 15 ports with a
/// range counting two, and lists and ranges carry a protocol.
pub fn check_ufw_limits(at: &str, s: &str) {
    for l in s.lines().map(str::trim) {
        let Some(args) = l
            .strip_prefix("add allow ")
            .or_else(|| l.strip_prefix("add_first allow "))
        else {
            continue;
        };
        let words: Vec<&str> = args.split_whitespace().collect();
        // One source or destination per rule, never a list, range or name.
        for w in words.windows(2) {
            if w[0] == "from" || w[0] == "to" {
                assert!(
                    w[1] == "any" || w[1] == "\"$a\"" || is_address(w[1]),
                    "{at}: {l}"
                );
            }
        }
        // At most 15 ports, a range counting two; lists and ranges carry a protocol.
        let ports = words
            .iter()
            .position(|w| *w == "port")
            .map(|i| words[i + 1])
            .or_else(|| {
                words
                    .iter()
                    .find(|w| w.contains('/'))
                    .map(|w| w.split('/').next().unwrap_or(""))
            })
            .unwrap_or_else(|| panic!("{at}: no port in {l}"));
        let weight: usize = ports
            .split(',')
            .map(|p| if p.contains(':') { 2 } else { 1 })
            .sum();
        assert!(weight <= 15, "{at}: {l}");
        assert!(
            l.contains(" proto ") || l.contains("/tcp") || l.contains("/udp"),
            "{l}"
        );
    }
}
