//! Ansible export: an inventory, a playbook and its task files that roll a site's firewall
//! scripts out to its nodes, management nodes first, each apply confirmed over a fresh connection
//! or rolled back by the script's own timer.
//!
//! Pure text, like every exporter: the caller renders each node's script with [`script_target`]
//! and its probe script (file names in [`Host`]) and writes those and [`files`] into one directory.

mod helpers;
mod inventory;
mod playbook;
pub mod yaml;

use crate::catalog::{Catalog, Endpoint};
use crate::engine::NodePlan;
use crate::target::Target;
use crate::topology::{Node, OsFamily, Topology};
use std::net::IpAddr;

/// The inventory file, next to the playbook.
pub const INVENTORY: &str = "inventory.yml";
/// The playbook: `ansible-playbook -i inventory.yml site.yml`.
pub const PLAYBOOK: &str = "site.yml";
/// One Linux node's steps, included by the playbook.
pub const LINUX_TASKS: &str = "fwtopo-linux.yml";
/// One Windows node's steps, included by the playbook.
pub const WINDOWS_TASKS: &str = "fwtopo-windows.yml";
/// The Linux helper: safe apply of an nftables export (an `nft -f` file, not a script), and the
/// fingerprint of the script and the live rules that lets a second run change nothing.
pub const HELPER: &str = "fwtopo-ansible.sh";

/// The zone whose flows make a node a management node.
const ADMIN_ZONE: &str = "admin";

/// The script the rollout applies on a node: its own target as `export --target auto` picks it,
/// except that Windows always gets PowerShell, whose export rolls back unless confirmed (netsh's
/// does not).
pub fn script_target(node: &Node) -> Target {
    match node.os.family() {
        OsFamily::Windows => Target::Powershell,
        OsFamily::Linux => super::auto_targets(node)
            .into_iter()
            .next()
            .unwrap_or(Target::Nftables),
    }
}

/// One node as the inventory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host<'a> {
    pub node: &'a Node,
    pub target: Target,
    /// The script's file name in the export directory.
    pub script: String,
    /// The probe script's file name (`<node>.probe.sh`, `.ps1` on Windows), run after the apply.
    pub probe: String,
    /// `ansible_host`: the first IPv4 address, else the first IPv6 one.
    pub address: Option<IpAddr>,
    /// Serves the admin path (see [`is_management`]): rolled out first, alone.
    pub management: bool,
}

impl Host<'_> {
    pub fn windows(&self) -> bool {
        self.node.os.family() == OsFamily::Windows
    }
}

/// Whether a node serves the admin path: the admin zone reaches it for something other than
/// logging in to the host itself (PA's Management Node panel and API, cPanel's WHM, a custom
/// flow from the admin zone). Rolling such a node out alone and first means a broken management
/// path stops the rollout before any other node changes.
pub fn is_management(catalog: &Catalog, plan: &NodePlan) -> bool {
    plan.inbound.iter().any(|r| {
        !r.is_management()
            && r.provenance.iter().any(|f| {
                f.flow(catalog)
                    .from
                    .iter()
                    .any(|e| matches!(e, Endpoint::Zone(z) if z == ADMIN_ZONE))
            })
    })
}

/// The hosts of the rollout, in topology order.
pub fn hosts<'a>(catalog: &Catalog, topology: &'a Topology, nodes: &[&NodePlan]) -> Vec<Host<'a>> {
    nodes
        .iter()
        .map(|p| {
            let node = &topology.nodes[p.node];
            let target = script_target(node);
            let address = node
                .addresses
                .iter()
                .find(|a| a.is_ipv4())
                .or_else(|| node.addresses.first())
                .copied();
            Host {
                node,
                target,
                script: super::file_name(&node.name, target),
                probe: super::node_file_name(node, Target::Probe),
                address,
                management: is_management(catalog, p),
            }
        })
        .collect()
}

/// The rollout's files besides the node scripts, as (file name, text).
pub fn files(topology: &Topology, hosts: &[Host]) -> Vec<(&'static str, String)> {
    vec![
        (INVENTORY, inventory::render(topology, hosts)),
        (PLAYBOOK, playbook::site(topology, hosts)),
        (LINUX_TASKS, playbook::linux_tasks()),
        (WINDOWS_TASKS, playbook::windows_tasks()),
        (HELPER, helpers::render()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Os;

    #[test]
    fn windows_gets_powershell_and_linux_its_own_target() {
        assert_eq!(
            script_target(&Node::new("w", Os::WindowsServer2022)),
            Target::Powershell
        );
        let mut netsh = Node::new("w", Os::WindowsServer2019);
        netsh.firewall = Some(Target::Netsh);
        assert_eq!(script_target(&netsh), Target::Powershell);
        assert_eq!(
            script_target(&Node::new("a", Os::Almalinux)),
            Target::Nftables
        );
        let mut ufw = Node::new("u", Os::Ubuntu);
        ufw.firewall = Some(Target::Ufw);
        assert_eq!(script_target(&ufw), Target::Ufw);
    }
}
