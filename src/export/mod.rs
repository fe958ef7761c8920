//! Exporters: one module per firewall, each a pure function from one node's plan to script text.
//!
//! Laid out like Aerleon's generators: a shared model ([`Export`]) and shared escaping and formatting
//! ([`text`]), then one small module per platform. Nothing here touches files or terminals.

pub mod addresses;
pub mod ansible;
pub mod apf;
mod conf_firewall;
pub mod csf;
pub mod firewalld;
pub mod iptables;
pub mod netsh;
mod netsh_copy;
pub mod nftables;
pub mod powershell;
pub mod probe;
mod probe_ps;
pub mod site_texts;
pub mod text;
pub mod ufw;
mod windows;
mod windows_builtin;

use crate::catalog::Catalog;
use crate::engine::{NodePlan, Plan, Rule};
use crate::net::Peers;
use crate::target::Target;
use crate::topology::{Node, OsFamily, Topology};
pub use addresses::AddressIndex;
pub use site_texts::{SiteTexts, Text};

/// What to do with traffic the node starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Egress {
    /// Outbound is not filtered; the derived outbound rules are listed as comments.
    #[default]
    Open,
    /// Outbound is dropped by default; only the derived outbound rules are allowed.
    Strict,
}

impl std::str::FromStr for Egress {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Egress::Open),
            "strict" => Ok(Egress::Strict),
            _ => Err(format!(
                "unknown egress policy '{s}' (expected open or strict)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub egress: Egress,
    /// CRLF line ends (Windows targets; ignored elsewhere).
    pub crlf: bool,
}

/// Everything an exporter may read: one node's plan in its topology.
#[derive(Debug, Clone, Copy)]
pub struct Export<'a> {
    pub catalog: &'a Catalog,
    pub topology: &'a Topology,
    pub plan: &'a Plan,
    pub node_plan: &'a NodePlan,
    pub options: Options,
    /// The topology's addresses, indexed once for a whole site's export; without it an exporter
    /// that needs one builds its own.
    pub addresses: Option<&'a AddressIndex>,
    /// Texts the site's scripts repeat (shared rules' comments and summaries, small sets'
    /// descriptions), made once per site export; without it each is made when asked for.
    pub texts: Option<&'a SiteTexts<'a>>,
}

impl<'a> Export<'a> {
    pub fn new(
        catalog: &'a Catalog,
        topology: &'a Topology,
        plan: &'a Plan,
        node_plan: &'a NodePlan,
        options: Options,
    ) -> Self {
        Export {
            catalog,
            topology,
            plan,
            node_plan,
            options,
            addresses: None,
            texts: None,
        }
    }

    /// The same export, taking the texts its site repeats from the site's cache.
    pub fn with_texts(self, texts: &'a SiteTexts<'a>) -> Self {
        Export {
            texts: Some(texts),
            ..self
        }
    }

    /// The same export, answering address questions from a shared index: exporting every node
    /// of a site then costs time linear in the site's size.
    pub fn with_addresses(self, index: &'a AddressIndex) -> Self {
        Export {
            addresses: Some(index),
            ..self
        }
    }

    pub fn node(&self) -> &'a Node {
        &self.topology.nodes[self.node_plan.node]
    }

    pub fn inbound(&self) -> &'a [Rule] {
        &self.node_plan.inbound
    }

    pub fn outbound(&self) -> &'a [Rule] {
        &self.node_plan.outbound
    }

    /// Whether the node has any IPv6 address (so IPv6 rules matter); with no address at all both do.
    pub fn has_v6(&self) -> bool {
        let a = &self.node().addresses;
        a.is_empty() || a.iter().any(|x| x.is_ipv6())
    }

    /// Services and provenance of a rule, ASCII and on one line, for a comment.
    pub fn rule_comment(&self, r: &Rule) -> String {
        self.rule_text(r, Text::Comment, || self.make_rule_comment(r))
    }

    /// A text of a rule from the site's cache when there is one; `make` must depend only on the
    /// rule and the catalog ([`SiteTexts::get`]).
    pub fn rule_text(&self, r: &Rule, text: Text, make: impl FnOnce() -> String) -> String {
        match self.texts {
            Some(texts) => texts.get(self.catalog, r, text, make),
            None => make(),
        }
    }

    fn make_rule_comment(&self, r: &Rule) -> String {
        // `services [product/role/flow ...]`, built in one string: every rule of every exported
        // node is described, and the comment keeps 200 characters of it, so a long provenance
        // list stops being written well past that.
        const ENOUGH: usize = 600;
        let mut s = r.services(self.catalog).join(", ");
        // Who asked for a custom flow and until when, before the provenance: a firewall keeps
        // only the start of a long comment (nftables 128 bytes), and the expiry matters most.
        let mut asked: Vec<String> = Vec::new();
        for f in &r.provenance {
            let Some(o) = &f.flow(self.catalog).ownership else {
                continue;
            };
            let parts: Vec<String> = [
                o.expires.map(|d| format!("expires {d}")),
                (!o.ticket.is_empty()).then(|| format!("ticket {}", o.ticket)),
                (!o.owner.is_empty()).then(|| format!("owner {}", o.owner)),
            ]
            .into_iter()
            .flatten()
            .collect();
            let text = parts.join(", ");
            if !text.is_empty() && !asked.contains(&text) && s.len() < ENOUGH {
                asked.push(text);
            }
        }
        if !asked.is_empty() {
            s.push_str(" (");
            s.push_str(&asked.join("; "));
            s.push(')');
        }
        s.push_str(" [");
        for (i, f) in r.provenance.iter().enumerate() {
            if s.len() > ENOUGH {
                break;
            }
            if i > 0 {
                s.push(' ');
            }
            s.push_str(&f.product(self.catalog).id);
            s.push('/');
            s.push_str(f.role_id(self.catalog));
            s.push('/');
            s.push_str(&f.flow(self.catalog).id);
        }
        s.push(']');
        text::comment_text(&s)
    }

    /// Host names among the node's peers: a firewall holds addresses, so these need care per target.
    pub fn dns_peers(&self) -> Vec<&'a str> {
        let mut v: Vec<&str> = self
            .node_plan
            .rules()
            .filter_map(|r| match &r.peers {
                Peers::Dns(n) => Some(n.iter().map(String::as_str)),
                _ => None,
            })
            .flatten()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Renders one node for one target.
pub fn render(target: Target, x: &Export) -> String {
    let out = match target {
        Target::Nftables => nftables::render(x),
        Target::Iptables => iptables::render(x),
        Target::Firewalld => firewalld::render(x),
        Target::Ufw => ufw::render(x),
        Target::Csf => csf::render(x),
        Target::Apf => apf::render(x),
        Target::Netsh => netsh::render(x),
        Target::Powershell => powershell::render(x),
        Target::Probe if x.node().os.is_windows() => probe_ps::render(x),
        Target::Probe => probe::render(x),
    };
    if is_windows_text(target, x.node()) && x.options.crlf {
        text::to_crlf(&out)
    } else {
        out
    }
}

/// Whether a node's export for `target` is Windows text (CRLF in files): the Windows firewalls,
/// and the probe script of a Windows node.
pub fn is_windows_text(target: Target, node: &Node) -> bool {
    target.is_windows() || (target == Target::Probe && node.os.is_windows())
}

/// What the designer copies for one node and `fwtopo export --node N` prints on standard output
/// (without `--out`): the text an operator pastes into a console.
/// For netsh that is [`netsh_copy`], which runs alike in cmd.exe and PowerShell; for every other
/// target the script itself (the PowerShell one stops at its first line in cmd.exe).
pub fn copy_text(target: Target, x: &Export) -> String {
    match target {
        Target::Netsh => {
            let out = netsh_copy::render(x);
            if x.options.crlf {
                text::to_crlf(&out)
            } else {
                out
            }
        }
        _ => render(target, x),
    }
}

/// The Windows console a copy of `target` is for, in words, for the designer's status line and
/// preview; `None` for the Linux targets.
pub fn console(target: Target) -> Option<&'static str> {
    match target {
        Target::Netsh => Some("cmd.exe or PowerShell"),
        Target::Powershell => Some("PowerShell, not cmd.exe"),
        _ => None,
    }
}

/// The targets `--target auto` picks for a node: an explicit choice in the topology wins; Windows
/// gets netsh and PowerShell; AlmaLinux, Rocky, CloudLinux and RHEL nftables, as cPanel recommends;
/// Ubuntu and Debian iptables, as cPanel recommends; CentOS and Virtuozzo Hybrid Server 7 iptables
/// too: both are EL7-based, where nftables is a technology preview and iptables the firewall.
pub fn auto_targets(node: &Node) -> Vec<Target> {
    use crate::topology::Os;
    if let Some(t) = node.firewall {
        return vec![t];
    }
    match node.os.family() {
        OsFamily::Windows => vec![Target::Netsh, Target::Powershell],
        OsFamily::Linux => match node.os {
            Os::Ubuntu | Os::Debian | Os::Centos | Os::Virtuozzo => vec![Target::Iptables],
            _ => vec![Target::Nftables],
        },
    }
}

/// The file a node's export is written to under `--out DIR`; for the probe target, the Linux
/// script's ([`node_file_name`] knows the node's OS).
pub fn file_name(node: &str, target: Target) -> String {
    let ext = match target {
        Target::Nftables => "nft",
        Target::Iptables => "sh",
        Target::Firewalld | Target::Ufw | Target::Csf | Target::Apf | Target::Probe => "sh",
        Target::Netsh => "cmd",
        Target::Powershell => "ps1",
    };
    format!("{node}.{}.{ext}", target.as_str())
}

/// The file a node's export is written to: [`file_name`], but `<node>.probe.ps1` for the probe
/// script of a Windows node.
pub fn node_file_name(node: &Node, target: Target) -> String {
    if target == Target::Probe && node.os.is_windows() {
        format!("{}.probe.ps1", node.name)
    } else {
        file_name(&node.name, target)
    }
}

/// Where the header's long lines wrap.
const HEADER_WIDTH: usize = 96;

/// The header every export starts with, as plain lines for the target to prefix with its comment
/// marker: topology, node, target, policy, how to apply and how to roll back.
pub fn header(x: &Export, target: Target, apply: &[&str], rollback: &[&str]) -> Vec<String> {
    let node = x.node();
    let addrs: Vec<String> = node.addresses.iter().map(|a| a.to_string()).collect();
    let roles: Vec<String> = node
        .roles
        .iter()
        .map(|r| format!("{}/{}", r.product, r.role))
        .collect();
    let mut h = vec![
        format!("fwtopo {} export for node {}", target.as_str(), node.name),
        format!("topology: {}", text::comment_text(&x.topology.name)),
    ];
    // A node may have thousands of addresses or many roles: these lines wrap, so no line of a
    // script grows with them (cmd.exe's 8,191 characters).
    let node_line = format!(
        "node: {} ({}) addresses: {}",
        node.name,
        node.os.as_str(),
        if addrs.is_empty() {
            "none".into()
        } else {
            addrs.join(" ")
        }
    );
    let roles_line = format!(
        "roles: {}",
        if roles.is_empty() {
            "none".into()
        } else {
            roles.join(" ")
        }
    );
    for line in [node_line, roles_line] {
        h.extend(
            text::wrap(&line, HEADER_WIDTH)
                .into_iter()
                .enumerate()
                .map(|(i, l)| if i == 0 { l } else { format!("    {l}") }),
        );
    }
    // Provenance of the site's own flows: the topology file, not a vendor document.
    let custom = !x.topology.custom.is_empty()
        && x.node_plan
            .rules()
            .flat_map(|r| r.provenance.iter())
            .any(|f| f.flow(x.catalog).source.origin == crate::catalog::Origin::Topology);
    if custom {
        h.push(format!(
            "custom flows ({}/...): from the custom section of the topology file, not a vendor document",
            crate::topology::custom::PRODUCT
        ));
    }
    h.extend([format!(
        "policy: inbound default drop; outbound {}",
        match x.options.egress {
            Egress::Open => "open (derived outbound rules listed as comments)",
            Egress::Strict => "default drop (only derived outbound rules allowed)",
        }
    )]);
    let findings: Vec<String> = x
        .plan
        .findings_for(&node.name)
        .filter(|f| f.severity != crate::engine::Severity::Info)
        .flat_map(|f| {
            let line = format!(
                "{} {} {}: {}",
                f.severity.as_str(),
                f.code.id(),
                f.code.slug(),
                f.message
            );
            let indent = |i: usize| if i == 0 { "  " } else { "    " };
            text::wrap(&line, HEADER_WIDTH)
                .into_iter()
                .enumerate()
                .map(move |(i, l)| format!("{}{l}", indent(i)))
        })
        .collect();
    if !findings.is_empty() {
        h.push("findings (fwtopo check):".into());
        h.extend(findings);
    }
    h.push("apply:".into());
    h.extend(apply.iter().map(|l| format!("  {l}")));
    h.push("roll back:".into());
    h.extend(rollback.iter().map(|l| format!("  {l}")));
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Os;

    #[test]
    fn auto_picks_the_firewall_each_os_ships() {
        let pick = |os: Os| auto_targets(&Node::new("n", os));
        for os in [Os::Almalinux, Os::Rocky, Os::Cloudlinux, Os::Rhel] {
            assert_eq!(pick(os), vec![Target::Nftables], "{os:?}");
        }
        for os in [Os::Ubuntu, Os::Debian, Os::Centos, Os::Virtuozzo] {
            assert_eq!(pick(os), vec![Target::Iptables], "{os:?}");
        }
        assert_eq!(
            pick(Os::WindowsServer2022),
            vec![Target::Netsh, Target::Powershell]
        );
        let mut chosen = Node::new("n", Os::Virtuozzo);
        chosen.firewall = Some(Target::Firewalld);
        assert_eq!(auto_targets(&chosen), vec![Target::Firewalld]);
    }
}
