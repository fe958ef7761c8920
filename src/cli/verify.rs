//! `fwtopo verify`: reads the live firewall (by running the node's tools, or from --live captures)
//! and prints how it differs from the design.

use super::{load_catalog, load_checked, shown, write_json};
use anyhow::{Result, bail};
use fwtopo::engine;
use fwtopo::export::{self, Egress};
use fwtopo::files;
use fwtopo::target::Target;
use fwtopo::topology;
use fwtopo::user_text::{escaped, quoted};
use fwtopo::verify::{self, Source};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// What verify reads of firewalld: the default zone, every zone and policy, and each ipset.
pub const FIREWALLD_CAPTURE: &str = "firewall-cmd --get-default-zone; firewall-cmd --list-all-zones; firewall-cmd --list-all-policies; for s in $(firewall-cmd --get-ipsets); do firewall-cmd --info-ipset=\"$s\"; done";

/// The capture commands, printed by `fwtopo verify --help`.
pub fn capture_help() -> String {
    format!(
        "Captures (run on the node, as root or elevated), for --live:
  nftables:  nft -j list ruleset > N.nft.json
  iptables:  iptables-save > N.v4; ip6tables-save > N.v6   (then --live N.v4 --live N.v6)
  ufw:       {{ ufw status verbose; ufw show added; }} > N.ufw
  firewalld: sh -c '{}' > N.firewalld
             (firewall-offline-cmd for firewall-cmd when the daemon is not running)
  Windows, in an elevated PowerShell (one line):
{}

Only new TCP and UDP connections over a network interface are compared; loopback, established
connections and ICMP, which every export accepts, are not.",
        FIREWALLD_CAPTURE,
        verify::windows::CAPTURE_COMMAND
    )
}

pub fn run(
    out: &mut impl Write,
    file: &Path,
    node: &str,
    live: &[PathBuf],
    egress: Egress,
    json: bool,
) -> Result<ExitCode> {
    let catalog = load_catalog()?;
    let topology = load_checked(file, &catalog)?;
    let catalog = topology::site_catalog(&catalog, &topology);
    let Some(n) = topology.node(node) else {
        bail!("{}: no node named {}", shown(file), quoted(node));
    };
    let captures: Vec<(String, String)> = if live.is_empty() {
        run_tools(&export::auto_targets(n), node)?
    } else {
        if live.iter().filter(|p| *p == Path::new("-")).count() > 1 {
            bail!("--live -: standard input can be read only once");
        }
        let mut v = Vec::new();
        for p in live {
            let text = if p == Path::new("-") {
                files::read_stdin_text()?
            } else {
                files::read_text(p)?
            };
            v.push((shown(p), text));
        }
        v
    };
    let mut source = None;
    for (name, text) in &captures {
        let Some(s) = Source::detect(text) else {
            bail!(
                "{name}: not a capture verify reads (the JSON of `nft -j list ruleset`, or the text of iptables-save / ip6tables-save)"
            );
        };
        if source.is_some_and(|x| x != s) {
            bail!(
                "{name}: a {} capture among others of another tool; give one tool's captures",
                s.as_str()
            );
        }
        source = Some(s);
    }
    let Some(source) = source else {
        bail!("no capture to read");
    };
    let files: Vec<(&str, &str)> = captures
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let model = verify::read(source, node, &files).map_err(anyhow::Error::msg)?;
    let plan = engine::derive(&catalog, &topology);
    let Some(np) = plan.node(node) else {
        bail!("{}: no node named {}", shown(file), quoted(node));
    };
    let report = verify::verify(np, egress, &model);
    if json {
        write_json(out, &report)?;
    } else {
        out.write_all(verify::render(&report).as_bytes())?;
    }
    Ok(if report.in_sync {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs the node's own capture tools: `nft -j list ruleset`, or `iptables-save` and
/// `ip6tables-save`, by the firewall the node's export targets.
fn run_tools(targets: &[Target], node: &str) -> Result<Vec<(String, String)>> {
    let commands: &[&[&str]] = match targets.first() {
        Some(Target::Nftables) => &[&["nft", "-j", "list", "ruleset"]],
        Some(Target::Iptables) => &[&["iptables-save"], &["ip6tables-save"]],
        Some(Target::Ufw) => &[&["ufw", "status", "verbose"], &["ufw", "show", "added"]],
        Some(Target::Firewalld) => &[&["sh", "-c", FIREWALLD_CAPTURE]],
        Some(t) => bail!(
            "node {}: verify reads nftables, iptables, ufw and firewalld on the node; its firewall is {t}: pass a capture with --live (see --help)",
            quoted(node)
        ),
        None => bail!("node {}: no firewall to read", quoted(node)),
    };
    let mut v = Vec::new();
    for args in commands {
        let shown_cmd = args.join(" ");
        v.push((format!("`{shown_cmd}`"), capture(args)?));
    }
    Ok(v)
}

/// One tool's standard output, capped like any input; its failure is an input error.
fn capture(args: &[&str]) -> Result<String> {
    let name = args.join(" ");
    let mut child = match Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            bail!("cannot run `{name}`: {e} (run verify on the node, as root, or pass --live)")
        }
    };
    let Some(stdout) = child.stdout.take() else {
        bail!("`{name}`: no output");
    };
    let read = files::read_capped(stdout, Path::new(&name), 1 << 16);
    let result = child.wait_with_output()?;
    let text = read?;
    if !result.status.success() {
        let err = String::from_utf8_lossy(&result.stderr);
        bail!(
            "`{name}` failed ({}): {}",
            result.status,
            escaped(err.trim())
        );
    }
    Ok(text)
}
