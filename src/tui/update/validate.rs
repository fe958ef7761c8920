//! Typed values checked before they become an edit: names, addresses, networks.

use super::*;

pub(in crate::tui) fn node_name(
    app: &App,
    text: &str,
    except: Option<usize>,
) -> Result<String, String> {
    let name = text.trim();
    check_name(name).map_err(|e| format!("name {e}"))?;
    let names = app.topology.nodes.iter().map(|n| n.name.as_str());
    unused(names, name, except).map_err(|()| {
        format!("there is already a node named '{name}' (names may not differ only in case)")
    })
}

/// `name` unless one of `names` (other than the one at `except`, being renamed) has it, in any
/// case.
fn unused<'a>(
    names: impl Iterator<Item = &'a str>,
    name: &str,
    except: Option<usize>,
) -> Result<String, ()> {
    let mut names = names.enumerate();
    match names.any(|(i, n)| n.eq_ignore_ascii_case(name) && Some(i) != except) {
        true => Err(()),
        false => Ok(name.to_string()),
    }
}

/// Addresses typed in a prompt: each must parse and appear once.
fn address_list(text: &str) -> Result<Vec<IpAddr>, String> {
    let mut out: Vec<IpAddr> = Vec::new();
    for s in split_list(text) {
        let ip: IpAddr = s
            .parse()
            .map_err(|_| format!("'{}' is not an IPv4 or IPv6 address", s.escape_debug()))?;
        if out.contains(&ip) {
            return Err(format!("'{s}' is listed twice"));
        }
        out.push(ip);
    }
    Ok(out)
}

pub(in crate::tui) fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

/// The file loader's verdict on a candidate: it is written the way Save writes and read back the way
/// Open reads, so the designer refuses exactly what a saved file could not hold, and follows the
/// loader's rules when they change.
pub(in crate::tui) fn loader_verdict(candidate: Topology) -> Result<(), String> {
    match from_ron(&to_ron(&candidate)) {
        Ok(_) => Ok(()),
        Err(LoadError::Invalid(problems)) => Err(problems
            .into_iter()
            .next()
            .map_or_else(|| "the file loader refuses it".to_string(), |p| p.message)),
        Err(e) => Err(e.to_string()),
    }
}

/// A node's addresses: each must parse, appear once, not belong to another node, and be what the
/// file loader accepts as a node's address (no loopback, unspecified or multicast address).
pub(in crate::tui) fn node_addresses(
    app: &App,
    text: &str,
    node: usize,
) -> Result<Vec<IpAddr>, String> {
    let out = address_list(text)?;
    for ip in &out {
        if let Some(other) = app
            .topology
            .nodes
            .iter()
            .enumerate()
            .find(|(i, n)| *i != node && n.addresses.contains(ip))
        {
            return Err(format!(
                "{ip} is already an address of node '{}'",
                other.1.name
            ));
        }
    }
    let mut candidate = app
        .topology
        .nodes
        .get(node)
        .cloned()
        .ok_or("the node is gone")?;
    candidate.addresses = out.clone();
    loader_verdict(Topology {
        nodes: vec![candidate],
        ..Topology::default()
    })?;
    Ok(out)
}

/// A zone's networks: each must parse, appear once, and be what the file loader accepts.
pub(in crate::tui) fn networks(app: &App, text: &str, zone: usize) -> Result<Vec<IpNet>, String> {
    let mut out: Vec<IpNet> = Vec::new();
    for s in split_list(text) {
        let n = parse_net(s)?;
        if out.contains(&n) {
            return Err(format!("'{s}' is listed twice"));
        }
        out.push(n);
    }
    let mut candidate = app
        .topology
        .zones
        .get(zone)
        .cloned()
        .ok_or("the zone is gone")?;
    candidate.cidrs = out.clone();
    loader_verdict(Topology {
        zones: vec![candidate],
        ..Topology::default()
    })?;
    Ok(out)
}

pub(in crate::tui) fn zone_name(
    app: &App,
    text: &str,
    except: Option<usize>,
) -> Result<String, String> {
    let name = text.trim();
    check_name(name).map_err(|e| format!("name {e}"))?;
    let names = app.topology.zones.iter().map(|z| z.name.as_str());
    unused(names, name, except).map_err(|()| {
        format!("there is already a zone named '{name}' (names may not differ only in case)")
    })
}

pub(in crate::tui) fn host_name(
    app: &App,
    text: &str,
    except: Option<usize>,
) -> Result<String, String> {
    let name = text.trim();
    if !is_dns_name(name) {
        return Err(format!("'{}' is not a DNS name", name.escape_debug()));
    }
    let names = app.topology.external_hosts.iter().map(|h| h.name.as_str());
    unused(names, name, except).map_err(|()| format!("'{name}' is already listed"))
}

/// An external host's pinned addresses: each must parse, appear once, and be what the file loader
/// accepts as a host's address.
pub(in crate::tui) fn host_addresses(
    app: &App,
    text: &str,
    host: usize,
) -> Result<Vec<IpAddr>, String> {
    let out = address_list(text)?;
    let mut candidate = app
        .topology
        .external_hosts
        .get(host)
        .cloned()
        .ok_or("the host is gone")?;
    candidate.addresses = out.clone();
    loader_verdict(Topology {
        external_hosts: vec![candidate],
        ..Topology::default()
    })?;
    Ok(out)
}

/// A name not yet used by any node: `base`, else `base-2`, `base-3` …
pub(in crate::tui) fn unique_node_name(app: &App, base: &str) -> String {
    let taken = |n: &str| {
        app.topology
            .nodes
            .iter()
            .any(|x| x.name.eq_ignore_ascii_case(n))
    };
    if !taken(base) {
        return base.to_string();
    }
    let stem: String = base.chars().take(58).collect();
    (2..)
        .map(|i| format!("{stem}-{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}
