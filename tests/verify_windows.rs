//! `fwtopo verify` on Windows captures: the PA example's IIS node gets its own PowerShell export
//! run on the Windows host model (tests/support/windows_host.rs), and the host's rules are written
//! out as the capture command in `fwtopo verify --help` writes them (IPv4 networks with dotted
//! masks, enums as words). In sync as exported; each drift named: a rule deleted, an allow added,
//! an address widened, a built-in rule left on, the default inbound action changed.

// Only the grammar's rule parser is used here, through the host model.
#[allow(dead_code)]
#[path = "support/windows_grammar.rs"]
mod windows_grammar;
#[path = "support/windows_host.rs"]
mod windows_host;

use fwtopo::catalog::Catalog;
use fwtopo::engine::{self, Direction};
use fwtopo::export::{Egress, Export, Options};
use fwtopo::ports::Protocol;
use fwtopo::target::Target;
use fwtopo::verify::{self, Report, Source};
use ipnet::IpNet;
use serde_json::{Value, json};
use std::path::Path;
use windows_host::{Host, HostRule, Mode, built_in};

const SITE: &str = "examples/plesk-automation.ron";
const NODE: &str = "pa-web-iis";

fn site() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(SITE)
        .display()
        .to_string()
}

/// The host after the node's own PowerShell export ran on it.
fn host(egress: Egress, rules: Vec<HostRule>) -> Host {
    let topology = fwtopo::files::load_topology(Path::new(&site())).expect("example");
    let catalog = fwtopo::topology::site_catalog(&Catalog::embedded().expect("catalog"), &topology);
    let plan = engine::derive(&catalog, &topology);
    let np = plan.node(NODE).expect("node");
    let script = fwtopo::export::render(
        Target::Powershell,
        &Export::new(
            &catalog,
            &topology,
            &plan,
            np,
            Options {
                egress,
                crlf: false,
            },
        ),
    );
    let mut h = Host::new(rules);
    h.run_ps(&script, NODE, Mode::File, None);
    h
}

/// An address as Get-NetFirewallAddressFilter prints it: IPv4 networks with a dotted mask.
fn windows_address(n: &IpNet) -> String {
    match n {
        IpNet::V4(v) if v.prefix_len() == 32 => v.addr().to_string(),
        IpNet::V4(v) => format!("{}/{}", v.network(), v.netmask()),
        IpNet::V6(v) if v.prefix_len() == 128 => v.addr().to_string(),
        IpNet::V6(v) => v.to_string(),
    }
}

/// The host's enabled rules and policy as the capture command writes them.
fn capture(h: &Host) -> String {
    let mut rules = Vec::new();
    for r in h.rules.iter().filter(|r| r.enabled) {
        let direction = r.allows.first().map_or(Direction::Inbound, |a| a.0);
        let protocol = match r.allows.first().map(|a| a.1) {
            Some(Protocol::Tcp) => "TCP",
            Some(Protocol::Udp) => "UDP",
            None => "ICMPv4",
        };
        let mut ports: Vec<String> = r
            .allows
            .iter()
            .map(|a| {
                if a.2.0 == a.2.1 {
                    a.2.0.to_string()
                } else {
                    format!("{}-{}", a.2.0, a.2.1)
                }
            })
            .collect();
        ports.sort();
        ports.dedup();
        if ports.is_empty() {
            ports.push("Any".into());
        }
        let mut addrs: Vec<String> = r
            .allows
            .iter()
            .map(|a| a.3.as_ref().map_or("Any".to_string(), windows_address))
            .collect();
        addrs.sort();
        addrs.dedup();
        if addrs.is_empty() || addrs.iter().any(|a| a == "Any") {
            addrs = vec!["Any".into()];
        }
        let (local, remote) = if direction == Direction::Inbound {
            (ports, vec!["Any".to_string()])
        } else {
            (vec!["Any".to_string()], ports)
        };
        rules.push(json!({
            "Name": r.id, "DisplayName": r.name, "Group": r.group,
            "Direction": if direction == Direction::Inbound { "Inbound" } else { "Outbound" },
            "Action": "Allow", "Protocol": protocol,
            "LocalPort": local, "RemotePort": remote, "RemoteAddress": addrs,
        }));
    }
    let action = |block: bool| if block { "Block" } else { "Allow" };
    let profiles: Vec<Value> = ["Domain", "Private", "Public"]
        .iter()
        .map(|p| json!({"Name": p, "Enabled": if h.on { "True" } else { "False" },
            "DefaultInboundAction": action(h.inbound_block), "DefaultOutboundAction": action(h.outbound_block)}))
        .collect();
    // Windows PowerShell 5.1 writes UTF-8 with a byte-order mark.
    format!(
        "\u{feff}{}",
        serde_json::to_string_pretty(&json!({"Profiles": profiles, "Rules": rules})).expect("json")
    )
}

fn check(text: &str, egress: Egress) -> Report {
    let topology = fwtopo::files::load_topology(Path::new(&site())).expect("example");
    let catalog = fwtopo::topology::site_catalog(&Catalog::embedded().expect("catalog"), &topology);
    let plan = engine::derive(&catalog, &topology);
    assert_eq!(Source::detect(text), Some(Source::Windows));
    let live = verify::read(Source::Windows, NODE, &[("pa-web-iis.windows.json", text)])
        .expect("readable capture");
    verify::verify(plan.node(NODE).expect("node"), egress, &live)
}

fn has(r: &Report, needle: &str) -> bool {
    verify::render(r).lines().any(|l| l.contains(needle))
}

#[test]
fn windows_capture_of_its_own_export_is_in_sync() {
    for egress in [Egress::Open, Egress::Strict] {
        let r = check(&capture(&host(egress, Vec::new())), egress);
        assert!(r.in_sync, "{egress:?}: {}", verify::render(&r));
        assert_eq!(r.source, "windows");
    }
}

#[test]
fn windows_drifts() {
    let base = || host(Egress::Strict, Vec::new());
    // One of our rules deleted: the one for HTTP and HTTPS.
    let mut h = base();
    let web = h
        .rules
        .iter()
        .position(|r| {
            r.allows.iter().any(|a| a.2 == (80, 80)) && r.allows[0].0 == Direction::Inbound
        })
        .expect("the web rule");
    h.rules.remove(web);
    let r = check(&capture(&h), Egress::Strict);
    assert!(
        has(&r, "missing: in tcp 80,443 from any (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "missing: in tcp 80,443 from any (IPv6)"),
        "{}",
        verify::render(&r)
    );
    // A built-in rule still on: not ours, and its port is extra.
    let r = check(
        &capture(&host(
            Egress::Strict,
            vec![built_in(
                "FPS-SMB-In-TCP",
                "File and Printer Sharing (SMB-In)",
                Protocol::Tcp,
                445,
                true,
            )],
        )),
        Egress::Strict,
    );
    assert!(
        has(&r, "extra port: in tcp 445 from any (IPv4)"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(
            &r,
            "not ours: rule File and Printer Sharing (SMB-In): Inbound Allow tcp dport 445"
        ),
        "{}",
        verify::render(&r)
    );
    // The management rule's remote address widened to any.
    let mut h = base();
    for rule in h.rules.iter_mut().filter(|r| r.name.ends_with("-mgmt")) {
        for a in &mut rule.allows {
            a.3 = None;
        }
    }
    let r = check(&capture(&h), Egress::Strict);
    assert!(
        has(
            &r,
            "wider peer: in tcp 3389,5986 from any (IPv4): the design allows only 198.51.100.0/28"
        ),
        "{}",
        verify::render(&r)
    );
    // The default inbound action set to allow.
    let mut h = base();
    h.inbound_block = false;
    let r = check(&capture(&h), Egress::Strict);
    assert!(
        has(&r, "extra port: in tcp 1-20,22-79,"),
        "{}",
        verify::render(&r)
    );
    // Outbound open while the design is strict.
    let mut h = base();
    h.outbound_block = false;
    let r = check(&capture(&h), Egress::Strict);
    assert!(has(&r, "extra port: out tcp"), "{}", verify::render(&r));
    assert!(
        r.drift.iter().all(|d| d.direction == "outbound"),
        "{}",
        verify::render(&r)
    );
}

#[test]
fn windows_capture_forms_and_errors() {
    // Enums as numbers (ConvertTo-Json without [string]), a single value instead of a list, an
    // address range, a block rule overriding an allow, ports Windows picks (RPC).
    let text = json!({"Profiles": [{"Name": "Domain", "Enabled": 1, "DefaultInboundAction": 4, "DefaultOutboundAction": 0}],
        "Rules": [
            {"DisplayName": "x", "Direction": 1, "Action": 2, "Protocol": "TCP", "LocalPort": "8080", "RemoteAddress": "203.0.113.1-203.0.113.9"},
            {"DisplayName": "y", "Direction": 1, "Action": 4, "Protocol": "TCP", "LocalPort": ["8080"], "RemoteAddress": ["203.0.113.5"]},
            {"DisplayName": "z", "Direction": 1, "Action": 2, "Protocol": "TCP", "LocalPort": ["RPC"], "RemoteAddress": ["Any"]},
            {"DisplayName": "off", "Enabled": "False", "Direction": "Inbound", "Action": "Allow", "Protocol": "TCP", "LocalPort": ["9999"], "RemoteAddress": ["Any"]}
        ]})
    .to_string();
    let r = check(&text, Egress::Open);
    // A disabled rule (a capture without `-Enabled True`) lets nothing through and is not listed.
    assert!(
        !has(&r, "9999") && !has(&r, "rule off"),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(
            &r,
            "extra port: in tcp 8080 from 203.0.113.1 203.0.113.2/31 203.0.113.4 203.0.113.6/31 203.0.113.8/31 (IPv4)"
        ),
        "{}",
        verify::render(&r)
    );
    assert!(
        has(&r, "not ours: rule z: Inbound Allow tcp LocalPort RPC"),
        "{}",
        verify::render(&r)
    );
    for (text, want) in [
        (
            "{\"Rules\": [\n  {\"Direction\": }]}",
            "w.json:2:17: not a Windows capture",
        ),
        ("{\"Profiles\": []}", "w.json: no \"Rules\" list"),
        (
            "{\"Rules\": [{\"Direction\": \"Sideways\", \"Action\": \"Allow\"}]}",
            "w.json: Rules[0].Direction: Sideways is neither",
        ),
        (
            "{\"Rules\": [{\"Direction\": \"Inbound\", \"Action\": \"Maybe\"}]}",
            "w.json: Rules[0].Action: Maybe is neither",
        ),
    ] {
        let e = verify::read(Source::Windows, NODE, &[("w.json", text)]).expect_err(text);
        assert!(e.to_string().starts_with(want), "{e}");
    }
}

#[test]
fn the_capture_command_is_in_the_help_and_the_readme() {
    let out = assert_cmd::Command::cargo_bin("fwtopo")
        .expect("binary")
        .args(["verify", "--help"])
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    for text in [&*help, &readme] {
        assert!(
            text.contains(verify::windows::CAPTURE_COMMAND),
            "the Windows capture command is missing from:\n{text}"
        );
        for command in [
            "nft -j list ruleset",
            "iptables-save",
            "ufw status verbose; ufw show added",
            "firewall-cmd --list-all-zones",
        ] {
            assert!(text.contains(command), "{command} is missing");
        }
    }
}
