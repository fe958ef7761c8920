//! What the fuzz targets in `fuzz_targets/` run: the loader's contract, the exporters' structure
//! and the snapshot tests' grammars, and a generator of valid topologies for the structured target.
//!
//! The grammars are the test suite's own files (tests/support/*_grammar.rs), included unchanged, so
//! a fuzzed topology is held to exactly what the snapshot tests hold the examples to. Every failed
//! check panics, which libFuzzer reports as a crash and saves under fuzz/artifacts/<target>/.

use fwtopo::catalog::{Catalog, Endpoint, ParamKind, Platform, Role};
use fwtopo::engine::{Plan, derive};
use fwtopo::export::{self, Egress, Export, Options};
use fwtopo::target::Target;
use fwtopo::topology::file::{check_line, check_text};
use fwtopo::topology::{
    ExternalHost, FORMAT_VERSION, LoadError, Node, Os, OsFamily, RoleAssignment, Topology, Zone,
    check, from_ron, to_ron,
};
use ipnet::IpNet;
use libfuzzer_sys::arbitrary::{Arbitrary, Result, Unstructured};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

#[allow(dead_code)]
#[path = "../../tests/support/windows_grammar.rs"]
mod windows_grammar;

#[allow(dead_code)]
#[path = "../../tests/support/netfilter_grammar.rs"]
mod netfilter_grammar;

#[allow(dead_code)]
#[path = "../../tests/support/linux_tools_grammar.rs"]
mod linux_tools_grammar;

/// cmd.exe's line limit, which the Windows exports must keep to.
const MAX_LINE: usize = windows_grammar::MAX_LINE;

pub fn catalog() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(|| Catalog::embedded().expect("the embedded catalog loads"))
}

// ------------------------------------------------------------------------------------------------
// load

/// 1-based line and column inside a text, as a parser could report them (end of input included).
fn position_is_inside(text: &str, line: usize, col: usize) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    line >= 1 && col >= 1 && line <= lines.len() && col <= lines[line - 1].chars().count() + 1
}

/// The `load` target: the same contract tests/fuzz_inputs.rs checks, coverage-guided.
pub fn load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match from_ron(text) {
        Err(LoadError::Syntax { line, col, message }) => {
            assert!(
                position_is_inside(text, line, col),
                "syntax error at {line}:{col} outside the text ({message})"
            );
            assert!(!message.trim().is_empty(), "empty syntax message");
        }
        Err(LoadError::Version { found }) => assert!(found > FORMAT_VERSION, "version {found}"),
        Err(LoadError::Invalid(problems)) => {
            assert!(!problems.is_empty(), "Invalid without problems");
            for p in &problems {
                assert!(!p.path.is_empty() && !p.message.is_empty(), "{p:?}");
            }
        }
        Ok(t) => {
            for p in &check(&t, catalog()) {
                assert!(!p.path.is_empty() && !p.message.is_empty(), "{p:?}");
            }
            round_trip(&t);
            plan_of(&fwtopo::topology::site_catalog(catalog(), &t), &t);
        }
    }
}

/// `to_ron` output loads back to an equal topology and is a fixed point.
fn round_trip(t: &Topology) {
    let text = to_ron(t);
    let again = from_ron(&text);
    assert_eq!(
        again.as_ref(),
        Ok(t),
        "to_ron output does not load back:\n{text}"
    );
    assert_eq!(
        to_ron(again.as_ref().unwrap()),
        text,
        "to_ron is not stable"
    );
}

/// Derives with the topology's own roles, and checks that every node has a plan (duplicate names
/// cannot load).
fn plan_of(cat: &fwtopo::catalog::Catalog, t: &Topology) -> Plan {
    let plan = derive(cat, t);
    for n in &t.nodes {
        assert!(plan.node(&n.name).is_some(), "no plan for node {}", n.name);
    }
    plan
}

// ------------------------------------------------------------------------------------------------
// export

/// The `export` target: any text that loads is derived and exported; the full grammars apply to
/// the nodes `fwtopo export` exports without `--force` (see [`exercise`]).
pub fn export(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(t) = from_ron(text) else {
        return;
    };
    let valid = check(&t, catalog()).is_empty();
    exercise(&t, valid);
}

/// Renders every node for every target and both egress modes and checks the outputs: non-empty;
/// Windows outputs ASCII with lines of at most 8,191 characters, and (strict egress, the longer
/// script) CRLF changing nothing but line ends. Every target's grammar from the snapshot tests is
/// checked on the nodes the command line exports without `--force`, as it does the examples': the
/// topology passes `check` (`valid`) and the engine has no error finding about the node or the
/// whole topology (`Plan::errors_for`). The others (previews in the designer, `--force`) get the
/// structural checks only.
pub fn exercise(t: &Topology, valid: bool) {
    let cat = &fwtopo::topology::site_catalog(catalog(), t);
    let plan = plan_of(cat, t);
    for node in &t.nodes {
        let np = plan.node(&node.name).expect("a plan per node");
        let exportable = valid && plan.errors_for(&[node.name.as_str()]).is_empty();
        for egress in [Egress::Open, Egress::Strict] {
            for target in Target::ALL {
                let options = Options {
                    egress,
                    crlf: false,
                };
                let out = export::render(target, &Export::new(cat, t, &plan, np, options));
                let at = format!("node {} target {target} egress {egress:?}", node.name);
                assert!(!out.trim().is_empty(), "{at}: empty output");
                if target.is_windows() {
                    windows_shape(&at, &out);
                }
                if target.is_windows() && egress == Egress::Strict {
                    let crlf = export::render(
                        target,
                        &Export::new(
                            cat,
                            t,
                            &plan,
                            np,
                            Options {
                                crlf: true,
                                ..options
                            },
                        ),
                    );
                    assert_eq!(
                        crlf.matches('\r').count(),
                        crlf.matches("\r\n").count(),
                        "{at}: a bare CR with crlf"
                    );
                    assert_eq!(
                        crlf.matches('\n').count(),
                        crlf.matches("\r\n").count(),
                        "{at}: a bare LF with crlf"
                    );
                    assert_eq!(crlf.replace("\r\n", "\n"), out, "{at}: crlf changed more");
                }
                if !exportable {
                    continue;
                }
                match target {
                    Target::Nftables => netfilter_grammar::check_nftables_sets(&at, &out),
                    Target::Iptables => netfilter_grammar::check_iptables_lines(&at, &out),
                    Target::Ufw => {
                        linux_tools_grammar::check_script_shape(&at, &out);
                        linux_tools_grammar::check_ufw_limits(&at, &out);
                    }
                    Target::Firewalld | Target::Csf | Target::Apf => {
                        linux_tools_grammar::check_script_shape(&at, &out)
                    }
                    // Both Windows grammars at once, below: they compare the two exports.
                    Target::Netsh | Target::Powershell => {}
                    // Not a firewall, so not in `Target::ALL`: exercised below.
                    Target::Probe => {}
                }
            }
            if exportable {
                windows_grammar::check_node(cat, t, &plan, &node.name, egress);
            }
            // The probe script of every node: never empty, and the count it promises is there.
            let options = Options {
                egress,
                crlf: false,
            };
            let probe = export::render(Target::Probe, &Export::new(cat, t, &plan, np, options));
            assert!(
                probe.contains("flows reached"),
                "node {} probe egress {egress:?}: no count",
                node.name
            );
        }
    }
}

/// ASCII only, and no line longer than cmd.exe takes.
fn windows_shape(at: &str, out: &str) {
    if let Some((i, c)) = out.char_indices().find(|(_, c)| !c.is_ascii()) {
        panic!("{at}: non-ASCII U+{:04X} at byte {i}", c as u32);
    }
    if let Some((n, l)) = out
        .split('\n')
        .enumerate()
        .find(|(_, l)| l.trim_end_matches('\r').len() > MAX_LINE)
    {
        panic!("{at}: line {} has {} characters", n + 1, l.len());
    }
}

// ------------------------------------------------------------------------------------------------
// topology: a generator of valid topologies (the one of tests/fuzz_inputs.rs (c), driven by bytes)

/// A generated topology: the `topology` target's input. Its `Debug` is the topology's RON, so
/// `cargo fuzz fmt topology <artifact>` prints a crash as a file for tests/fuzz-corpus/.
pub struct Generated(pub Topology);

impl<'a> Arbitrary<'a> for Generated {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        gen_topology(u).map(Generated)
    }
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&to_ron(&self.0))
    }
}

/// The `topology` target.
pub fn topology(g: Generated) {
    let t = g.0;
    let problems = check(&t, catalog());
    assert!(
        problems.is_empty(),
        "generated topology fails check: {problems:?}\n{}",
        to_ron(&t)
    );
    round_trip(&t);
    exercise(&t, true);
}

/// A documentation address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); IPv6
/// mostly with small values, so addresses collide with zones and with each other.
fn doc_addr(u: &mut Unstructured) -> Result<IpAddr> {
    Ok(if u.arbitrary::<bool>()? {
        let [a, b, c] = *u.choose(&[[192, 0, 2], [198, 51, 100], [203, 0, 113]])?;
        IpAddr::V4(Ipv4Addr::new(a, b, c, u.arbitrary()?))
    } else {
        let (x, y) = (u.int_in_range(0..=3)?, u.int_in_range(0..=3)?);
        let z = if u.ratio(3, 4)? {
            u.int_in_range(0..=31)?
        } else {
            u.arbitrary()?
        };
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, x, 0, 0, 0, y, z))
    })
}

/// A documentation network with a prefix inside its range, host bits cleared.
fn doc_net(u: &mut Unstructured) -> Result<IpNet> {
    let a = doc_addr(u)?;
    let net = match a {
        IpAddr::V4(_) => IpNet::new(a, u.int_in_range(24..=32)?),
        IpAddr::V6(_) => IpNet::new(a, u.int_in_range(32..=128)?),
    };
    Ok(net.expect("prefix within range").trunc())
}

/// Characters that mean something to a shell, cmd.exe, PowerShell or RON.
const META: &[char] = &[
    '"', '\\', '\'', '`', '$', '%', '!', '&', '|', ';', '^', '<', '>', '#', '\n', '\t', '{', '}',
    ' ',
];

/// Free text that `check_text` accepts: printable Unicode with quotes, backslashes, shell and
/// cmd.exe metacharacters, newlines and tabs.
fn free_text(u: &mut Unstructured) -> Result<String> {
    let n = u.int_in_range(0..=40)?;
    let mut s = String::new();
    for _ in 0..n {
        let c = match u.int_in_range(0..=6)? {
            0..=2 => u.arbitrary::<char>()?,
            3 | 4 => *u.choose(META)?,
            _ => char::from(u.int_in_range(b'a'..=b'z')?),
        };
        if check_text(&c.to_string()).is_ok() {
            s.push(c);
        }
    }
    Ok(s)
}

/// Who asked for a node and until when, as the loader accepts it: lines of text (cut to their
/// limits) and any day of the calendar.
fn ownership(u: &mut Unstructured) -> Result<fwtopo::topology::ownership::Ownership> {
    let line = |u: &mut Unstructured| -> Result<String> {
        Ok(free_text(u)?
            .chars()
            .filter(|c| check_line(&c.to_string()).is_ok())
            .collect())
    };
    let expires = if u.arbitrary::<bool>()? {
        fwtopo::date::Date::from_days(u.int_in_range(-719_162..=2_932_896)?)
    } else {
        None
    };
    Ok(fwtopo::topology::ownership::Ownership {
        owner: line(u)?,
        ticket: line(u)?,
        reason: line(u)?,
        expires,
    })
}

/// A name that `check_name` accepts, before a unique suffix is added:
/// `[A-Za-z0-9][A-Za-z0-9._-]{0,40}`.
fn name_stem(u: &mut Unstructured) -> Result<String> {
    const FIRST: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const REST: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    let mut s = String::from(char::from(*u.choose(FIRST)?));
    for _ in 0..u.int_in_range(0..=40)? {
        s.push(char::from(*u.choose(REST)?));
    }
    Ok(s)
}

/// Host names a topology may pin: the catalog's DNS peers and a few others.
fn host_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut set = BTreeSet::new();
        for p in catalog().products() {
            for f in &p.flows {
                for e in f.from.iter().chain(&f.to) {
                    if let Endpoint::Dns(n) = e {
                        set.insert(n.clone());
                    }
                }
            }
        }
        set.extend(["mirror.example.net", "ca.example.org", "x-1.example.com"].map(String::from));
        set.into_iter().collect()
    })
}

/// A valid value of a parameter kind, in one of the spellings the loader accepts.
fn param_value(kind: &ParamKind, u: &mut Unstructured) -> Result<String> {
    let port = |u: &mut Unstructured| u.int_in_range(1u16..=65535);
    let s = match kind {
        ParamKind::Switch { .. } => {
            let words = ["on", "off", "true", "false", "yes", "no", "ON", "Off"];
            u.choose(&words)?.to_string()
        }
        ParamKind::Port { default } => {
            if u.ratio(1, 3)? {
                default.to_string()
            } else {
                port(u)?.to_string()
            }
        }
        ParamKind::PortRange { .. } | ParamKind::Dynamic { .. } | ParamKind::Required => {
            let (a, b) = (port(u)?, port(u)?);
            let (a, b) = (a.min(b), a.max(b));
            match u.int_in_range(0..=3)? {
                0 => a.to_string(),
                1 => format!("{a}:{b}"),
                // Narrow ranges, like a real passive range.
                2 => format!("{a}-{}", a.saturating_add(u.int_in_range(0..=99)?)),
                _ => format!("{a}-{b}"),
            }
        }
    };
    Ok(if u.ratio(1, 8)? { format!(" {s} ") } else { s })
}

/// A topology that passes `check`: 1 to 3 products, up to 4 zones (now and then one crowded with
/// hundreds of networks), 1 to 8 nodes with up to 4 roles and random parameters, up to 3 external
/// hosts.
pub fn gen_topology(u: &mut Unstructured) -> Result<Topology> {
    let cat = catalog();
    let all = cat.products();
    let mut products = Vec::new();
    for _ in 0..u.int_in_range(1..=3)? {
        products.push(u.choose(all)?);
    }
    // The topology's name is a line: what free text allows but a line end or tab.
    let name: String = free_text(u)?
        .chars()
        .filter(|c| check_line(&c.to_string()).is_ok())
        .collect();
    let description = free_text(u)?;

    let mut zones = Vec::new();
    let mut zone_names = BTreeSet::new();
    for i in 0..u.int_in_range(0..=4)? {
        let name = match u.int_in_range(0..=3)? {
            0 | 1 => "admin".to_string(),
            2 => "trusted".to_string(),
            _ => name_stem(u)?,
        };
        // Zone names are unique ignoring case, and a zone lists each network once.
        let name = if zone_names.contains(&name.to_ascii_lowercase()) {
            format!("z{i}-{name}")
        } else {
            name
        };
        let name: String = name.chars().take(63).collect();
        zone_names.insert(name.to_ascii_lowercase());
        let count = if u.ratio(1, 13)? {
            u.int_in_range(100..=400)?
        } else {
            u.int_in_range(0..=3)?
        };
        let mut cidrs = Vec::new();
        for _ in 0..count {
            let net = doc_net(u)?;
            if !cidrs.contains(&net) {
                cidrs.push(net);
            }
        }
        zones.push(Zone {
            name,
            cidrs,
            note: free_text(u)?,
        });
    }

    // Mostly an admin zone with a network, without which every managed node is an error
    // (no management access) and would get the structural checks only.
    if u.ratio(7, 8)? {
        let net = doc_net(u)?;
        match zones.iter_mut().find(|z| z.name == "admin") {
            Some(z) if z.cidrs.is_empty() => z.cidrs.push(net),
            Some(_) => {}
            None => zones.push(Zone {
                name: "admin".into(),
                cidrs: vec![net],
                note: String::new(),
            }),
        }
    }

    let mut nodes = Vec::new();
    for i in 0..u.int_in_range(1..=8)? {
        let mut name = format!("{}-{i}", name_stem(u)?);
        name.truncate(63);
        let mut node = Node::new(name, *u.choose(&Os::ALL)?);
        for _ in 0..u.int_in_range(0..=3)? {
            let a = doc_addr(u)?;
            if !node.addresses.contains(&a) {
                node.addresses.push(a);
            }
        }
        // Mostly what the engine has no error for (a firewall and roles that run on the node's OS,
        // an address), so that most nodes get the full grammars; now and then anything.
        let fitting = u.ratio(7, 8)?;
        let firewalls: Vec<Target> = Target::ALL
            .into_iter()
            .filter(|t| !fitting || t.is_windows() == node.os.is_windows())
            .collect();
        node.firewall = if u.ratio(1, 4)? {
            Some(*u.choose(&firewalls)?)
        } else {
            None
        };
        if fitting && node.addresses.is_empty() {
            node.addresses.push(doc_addr(u)?);
        }
        node.management = u.ratio(17, 20)?;
        node.note = free_text(u)?;
        if u.ratio(1, 4)? {
            node.ownership = ownership(u)?;
        }
        for _ in 0..u.int_in_range(0..=4)? {
            let p = *u.choose(&products)?;
            let roles: Vec<&Role> = p
                .roles
                .iter()
                .filter(|r| {
                    !fitting
                        || matches!(
                            (r.platform, node.os.family()),
                            (Platform::Any, _)
                                | (Platform::Linux, OsFamily::Linux)
                                | (Platform::Windows, OsFamily::Windows)
                        )
                })
                .collect();
            let Ok(role) = u.choose(&roles).copied() else {
                continue;
            };
            if node
                .roles
                .iter()
                .any(|r| r.product == p.id && r.role == role.id)
            {
                continue;
            }
            let mut ra = RoleAssignment::new(&p.id, &role.id);
            let mut seen = BTreeSet::new();
            for param in p.roles.iter().flat_map(|r| r.parameters.iter()) {
                if !seen.insert(param.id.as_str()) || !p.accepts(role, &param.id) {
                    continue;
                }
                let required = matches!(param.kind, ParamKind::Required)
                    && role.parameters.iter().any(|q| q.id == param.id);
                if required || u.arbitrary::<bool>()? {
                    ra.params
                        .insert(param.id.clone(), param_value(&param.kind, u)?);
                }
            }
            node.roles.push(ra);
        }
        nodes.push(node);
    }

    let mut external_hosts: Vec<ExternalHost> = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let name = u.choose(host_names())?;
        let mut addresses = Vec::new();
        for _ in 0..u.int_in_range(0..=2)? {
            addresses.push(doc_addr(u)?);
        }
        let note = free_text(u)?;
        if external_hosts
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
        {
            continue;
        }
        external_hosts.push(ExternalHost {
            name: name.clone(),
            addresses,
            note,
        });
    }
    // Mostly on, as in real files; off exercises the nodes left without update flows.
    let os_updates = u.ratio(7, 8)?;
    Ok(Topology {
        name,
        description,
        zones,
        nodes,
        external_hosts,
        os_updates,
        ..Topology::default()
    })
}
