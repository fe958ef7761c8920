//! A prompt's text, checked and turned into an edit.

use super::*;

/// Accepts a prompt's text, or says what is wrong with it (the prompt stays open).
pub(in crate::tui) fn submit(
    app: &mut App,
    purpose: Purpose,
    text: &str,
    fx: &mut Vec<Effect>,
) -> Result<(), String> {
    match purpose {
        Purpose::AddCustomRole
        | Purpose::CustomRoleName(_)
        | Purpose::RenameCustomRole(_)
        | Purpose::CustomRoleDescription(_)
        | Purpose::CustomFlowNote(_)
        | Purpose::CustomFlow(_) => {
            custom_role::submit(app, &purpose, text)?;
        }
        Purpose::NodeOwnership(_) | Purpose::RoleOwnership(_) | Purpose::FlowOwnership(_) => {
            crate::tui::ownership::submit(app, &purpose, text)?;
        }
        Purpose::AddNode => {
            let name = node_name(app, text, None)?;
            let at = app
                .selected_node()
                .map_or(app.topology.nodes.len(), |n| n + 1);
            let node = Node::new(name.clone(), Os::Almalinux);
            commit(app, format!("add node {name}"), |t| {
                t.nodes.insert(at, node)
            });
            app.nodes.sel = at;
            app.roles = Cursor::default();
            app.rules = Cursor::default();
            // Straight on to its addresses; Esc leaves it without.
            open_input(app, Purpose::Addresses(at), "");
            app.set_status(
                StatusKind::Ok,
                format!("added {name} (almalinux; o changes the OS)"),
            );
        }
        Purpose::RenameNode(n) => {
            let name = node_name(app, text, Some(n))?;
            let old = app
                .topology
                .nodes
                .get(n)
                .map(|x| x.name.clone())
                .ok_or("the node is gone")?;
            if old != name {
                commit(app, format!("rename {old} to {name}"), |t| {
                    t.nodes[n].name = name
                });
            }
        }
        Purpose::Addresses(n) => {
            let addrs = node_addresses(app, text, n)?;
            let node = app.topology.nodes.get(n).ok_or("the node is gone")?;
            if node.addresses != addrs {
                let name = node.name.clone();
                commit(app, format!("addresses of {name}"), |t| {
                    t.nodes[n].addresses = addrs
                });
            }
        }
        Purpose::Note(n) => {
            let note = text.trim().to_string();
            check_text(&note).map_err(|e| format!("note {e}"))?;
            let node = app.topology.nodes.get(n).ok_or("the node is gone")?;
            if node.note != note {
                let name = node.name.clone();
                commit(app, format!("note of {name}"), |t| t.nodes[n].note = note);
            }
        }
        Purpose::ZoneNote(i) => {
            let note = text.trim().to_string();
            check_text(&note).map_err(|e| format!("note {e}"))?;
            let z = app.topology.zones.get(i).ok_or("the zone is gone")?;
            if z.note != note {
                let name = z.name.clone();
                commit(app, format!("note of zone {name}"), |t| {
                    t.zones[i].note = note
                });
            }
        }
        Purpose::HostNote(i) => {
            let note = text.trim().to_string();
            check_text(&note).map_err(|e| format!("note {e}"))?;
            let h = app
                .topology
                .external_hosts
                .get(i)
                .ok_or("the host is gone")?;
            if h.note != note {
                let name = h.name.clone();
                commit(app, format!("note of {name}"), |t| {
                    t.external_hosts[i].note = note
                });
            }
        }
        Purpose::Query { from, to } => {
            super::super::why::submit(app, from, to, text)?;
        }
        Purpose::TopologyName => {
            let name = text.trim().to_string();
            if name.is_empty() {
                return Err("the topology needs a name".into());
            }
            check_text(&name).map_err(|e| format!("name {e}"))?;
            if name.contains('\n') {
                return Err("the name is one line".into());
            }
            if app.topology.name != name {
                commit(app, format!("topology renamed to {name}"), |t| {
                    t.name = name
                });
            }
        }
        Purpose::Param { node, role, param } => {
            let ra = app
                .topology
                .nodes
                .get(node)
                .and_then(|x| x.roles.get(role))
                .ok_or("the role is gone")?;
            let spec = app
                .catalog
                .role(&ra.product, &ra.role)
                .and_then(|r| r.parameters.iter().find(|p| p.id == param))
                .ok_or_else(|| format!("{}/{} has no parameter '{param}'", ra.product, ra.role))?;
            let value = text.trim();
            let new = if value.is_empty() {
                if matches!(spec.kind, ParamKind::Required) {
                    return Err(format!("'{param}' is required: give a port or range"));
                }
                None
            } else {
                ParamValue::parse(&spec.kind, value)?;
                Some(value.to_string())
            };
            if ra.params.get(&param).map(String::as_str) != new.as_deref() {
                let label = format!(
                    "{param} of {}/{} on {}",
                    ra.product, ra.role, app.topology.nodes[node].name
                );
                commit(app, label, |t| {
                    let params = &mut t.nodes[node].roles[role].params;
                    match new {
                        Some(v) => params.insert(param, v),
                        None => params.remove(&param),
                    };
                });
            }
        }
        Purpose::AddZone => {
            let name = zone_name(app, text, None)?;
            commit(app, format!("add zone {name}"), |t| {
                t.zones.push(Zone {
                    name: name.clone(),
                    cidrs: Vec::new(),
                    note: String::new(),
                })
            });
            app.zones.sel = app.topology.zones.len() - 1;
            app.focus = Pane::Zones;
            open_input(app, Purpose::ZoneCidrs(app.zones.sel), "");
        }
        Purpose::RenameZone(i) => {
            let name = zone_name(app, text, Some(i))?;
            let old = app
                .topology
                .zones
                .get(i)
                .map(|z| z.name.clone())
                .ok_or("the zone is gone")?;
            if old != name {
                commit(app, format!("rename zone {old} to {name}"), |t| {
                    t.zones[i].name = name
                });
            }
        }
        Purpose::ZoneCidrs(i) => {
            let nets = networks(app, text, i)?;
            let z = app.topology.zones.get(i).ok_or("the zone is gone")?;
            if z.cidrs != nets {
                let name = z.name.clone();
                commit(app, format!("networks of zone {name}"), |t| {
                    t.zones[i].cidrs = nets
                });
            }
        }
        Purpose::AddHost => {
            let name = host_name(app, text, None)?;
            commit(app, format!("add external host {name}"), |t| {
                t.external_hosts.push(ExternalHost {
                    name: name.clone(),
                    addresses: Vec::new(),
                    note: String::new(),
                })
            });
            app.hosts.sel = app.topology.external_hosts.len() - 1;
            app.focus = Pane::Hosts;
            open_input(app, Purpose::HostAddresses(app.hosts.sel), "");
        }
        Purpose::RenameHost(i) => {
            let name = host_name(app, text, Some(i))?;
            let old = app
                .topology
                .external_hosts
                .get(i)
                .map(|h| h.name.clone())
                .ok_or("the host is gone")?;
            if old != name {
                commit(app, format!("rename {old} to {name}"), |t| {
                    t.external_hosts[i].name = name
                });
            }
        }
        Purpose::HostAddresses(i) => {
            let addrs = host_addresses(app, text, i)?;
            let h = app
                .topology
                .external_hosts
                .get(i)
                .ok_or("the host is gone")?;
            if h.addresses != addrs {
                let name = h.name.clone();
                commit(app, format!("addresses of {name}"), |t| {
                    t.external_hosts[i].addresses = addrs
                });
            }
        }
        Purpose::SaveAs => {
            let path = text.trim();
            if path.is_empty() {
                return Err("give a file name".into());
            }
            let path = PathBuf::from(path);
            if app.path.as_ref() == Some(&path) {
                save_over(app, path, fx);
            } else {
                fx.push(save_effect(app, path, Replace::Nothing)?);
            }
        }
        Purpose::Open => {
            let path = text.trim();
            if path.is_empty() {
                return Err("give a file name".into());
            }
            fx.push(Effect::Load {
                path: PathBuf::from(path),
            });
        }
        Purpose::WriteFile(content) => {
            let path = text.trim();
            if path.is_empty() {
                return Err("give a file name".into());
            }
            fx.push(Effect::WriteFile {
                path: PathBuf::from(path),
                text: content,
            });
        }
    }
    Ok(())
}
