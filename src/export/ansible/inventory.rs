//! `inventory.yml`: every node with its address, script and firewall, in groups per OS, per
//! product and per role, and `fwtopo_management` for the nodes rolled out first.

use super::Host;
use super::yaml::{group_name, quote, unsafe_text};
use crate::export::text::comment_text;
use crate::topology::Topology;
use std::collections::BTreeMap;

/// Group names and the products or roles they stand for, unique even where two ids sanitise
/// alike (`a-b` and `a_b` get `_2`).
struct Groups {
    /// (group name, what it stands for, member host names), in first-seen order.
    list: Vec<(String, String, Vec<String>)>,
    by_key: BTreeMap<String, usize>,
}

impl Groups {
    fn new() -> Self {
        Groups {
            list: Vec::new(),
            by_key: BTreeMap::new(),
        }
    }

    fn add(&mut self, prefix: &str, key: String, host: &str) {
        let i = match self.by_key.get(&key) {
            Some(&i) => i,
            None => {
                let base = group_name(prefix, &key);
                let mut name = base.clone();
                let mut n = 1;
                while self.list.iter().any(|(g, _, _)| *g == name) {
                    n += 1;
                    name = format!("{base}_{n}");
                }
                self.list.push((name, key.clone(), Vec::new()));
                self.by_key.insert(key, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let members = &mut self.list[i].2;
        if !members.iter().any(|m| m == host) {
            members.push(host.to_string());
        }
    }
}

fn members(out: &mut Vec<String>, indent: &str, hosts: &[&str]) {
    if hosts.is_empty() {
        out.push(format!("{indent}hosts: {{}}"));
        return;
    }
    out.push(format!("{indent}hosts:"));
    for h in hosts {
        out.push(format!("{indent}  {}: {{}}", quote(h)));
    }
}

pub fn render(topology: &Topology, hosts: &[Host]) -> String {
    let mut products = Groups::new();
    let mut roles = Groups::new();
    for h in hosts {
        for r in &h.node.roles {
            products.add("fwtopo_product", r.product.clone(), &h.node.name);
            roles.add(
                "fwtopo_role",
                format!("{}/{}", r.product, r.role),
                &h.node.name,
            );
        }
    }
    let mut out = vec![
        "---".to_string(),
        format!(
            "# fwtopo Ansible inventory for topology: {}",
            comment_text(&topology.name)
        ),
        "# Run: ansible-playbook -i inventory.yml site.yml (site.yml says what each step does).".into(),
        "# Every node is in fwtopo and in fwtopo_linux or fwtopo_windows; fwtopo_management holds the".into(),
        "# nodes that serve the admin path, rolled out first and alone. Ansible group names allow only".into(),
        "# letters, digits and _, so fwtopo's product and role ids map to groups as follows:".into(),
    ];
    for (group, key, _) in products.list.iter().chain(&roles.list) {
        out.push(format!("#   {group} = {}", comment_text(key)));
    }
    out.push("all:".into());
    out.push("  children:".into());
    out.push("    fwtopo:".into());
    out.push("      vars:".into());
    for (k, v) in [
        ("fwtopo_confirm_seconds", "60"),
        ("fwtopo_reconnect_seconds", "30"),
        ("fwtopo_apply_seconds", "120"),
        ("fwtopo_probe_seconds", "3"),
        ("fwtopo_remote_dir", "\"/var/lib/fwtopo/ansible\""),
        ("fwtopo_windows_dir", "'C:\\ProgramData\\fwtopo\\ansible'"),
    ] {
        out.push(format!("        {k}: {v}"));
    }
    out.push("      children:".into());
    for windows in [false, true] {
        let group = if windows {
            "fwtopo_windows"
        } else {
            "fwtopo_linux"
        };
        out.push(format!("        {group}:"));
        out.push("          vars:".into());
        if windows {
            out.push("            # WinRM over HTTPS from the admin zone, as the host role allows; give the".into());
            out.push("            # credentials (ansible_user, ansible_password) in your own vars or vault.".into());
            out.push("            ansible_connection: \"winrm\"".into());
            out.push("            ansible_port: 5986".into());
            out.push("            ansible_winrm_scheme: \"https\"".into());
            out.push("            fwtopo_os: \"windows\"".into());
        } else {
            out.push("            ansible_become: true".into());
            out.push("            fwtopo_os: \"linux\"".into());
        }
        let of_os: Vec<&Host> = hosts.iter().filter(|h| h.windows() == windows).collect();
        if of_os.is_empty() {
            out.push("          hosts: {}".into());
            continue;
        }
        out.push("          hosts:".into());
        for h in of_os {
            out.push(format!("            {}:", quote(&h.node.name)));
            match h.address {
                Some(a) => out.push(format!("              ansible_host: {}", quote(&a.to_string()))),
                None => out.push(
                    "              # no address in the topology: Ansible connects to the node's name"
                        .into(),
                ),
            }
            out.push(format!(
                "              fwtopo_firewall: {}",
                quote(h.target.as_str())
            ));
            out.push(format!("              fwtopo_script: {}", quote(&h.script)));
            out.push(format!("              fwtopo_probe: {}", quote(&h.probe)));
            if !h.node.note.is_empty() {
                out.push(format!(
                    "              fwtopo_note: {}",
                    unsafe_text(&h.node.note)
                ));
            }
        }
    }
    out.push("    fwtopo_management:".into());
    let management: Vec<&str> = hosts
        .iter()
        .filter(|h| h.management)
        .map(|h| h.node.name.as_str())
        .collect();
    members(&mut out, "      ", &management);
    for (group, _, hosts) in products.list.iter().chain(&roles.list) {
        out.push(format!("    {group}:"));
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        members(&mut out, "      ", &hosts);
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}
