//! The topology's own roles and flows in the designer: the custom pane's rows, and making,
//! editing and deleting them. A flow is typed in one line, the form the pane shows it in:
//! `zabbix-agent tcp 10050 from monitoring to *: Zabbix agent`. Whatever the file loader or the
//! catalog check would refuse stays in the prompt with their reason, so a saved file always loads.

use super::app::{App, Pane, Purpose, StatusKind};
use super::update::{commit, loader_verdict, open_input};
use fwtopo::catalog::PortItem;
use fwtopo::ports::Protocol;
use fwtopo::topology::{self, CustomEndpoint, CustomFlow, CustomRole, Topology};

/// A row of the custom pane: the roles first, then the flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomRow {
    Role(usize),
    Flow(usize),
}

/// The row at a position of the pane.
pub fn row(t: &Topology, i: usize) -> Option<CustomRow> {
    let roles = t.custom.roles.len();
    if i < roles {
        Some(CustomRow::Role(i))
    } else if i - roles < t.custom.flows.len() {
        Some(CustomRow::Flow(i - roles))
    } else {
        None
    }
}

/// An endpoint as typed: `monitoring`, `cpanel-whm/server`, `*`, `any`, `zone=admin`,
/// `host=relay.example.net`, `dns=example.org`.
pub fn endpoint_text(e: &CustomEndpoint) -> String {
    match e {
        CustomEndpoint::Role(r) => r.clone(),
        CustomEndpoint::EveryNode => "*".into(),
        CustomEndpoint::Any => "any".into(),
        CustomEndpoint::Zone(z) => format!("zone={z}"),
        CustomEndpoint::Host(h) => format!("host={h}"),
        CustomEndpoint::Dns(d) => format!("dns={d}"),
    }
}

fn parse_endpoint(s: &str) -> CustomEndpoint {
    match s.split_once('=') {
        Some(("zone", z)) => CustomEndpoint::Zone(z.into()),
        Some(("host", h)) => CustomEndpoint::Host(h.into()),
        Some(("dns", d)) => CustomEndpoint::Dns(d.into()),
        _ if s == "*" => CustomEndpoint::EveryNode,
        _ if s == "any" => CustomEndpoint::Any,
        _ => CustomEndpoint::Role(s.into()),
    }
}

/// A flow in the one line the pane shows and the prompt reads.
pub fn flow_text(f: &CustomFlow) -> String {
    let protocols: Vec<&str> = f.protocols.iter().map(|p| p.as_str()).collect();
    let ports: Vec<String> = f
        .ports
        .iter()
        .map(|p| match p {
            PortItem::Port(n) => n.to_string(),
            PortItem::Range(a, b) => format!("{a}-{b}"),
            PortItem::Param(id) => format!("${id}"),
        })
        .collect();
    let side = |eps: &[CustomEndpoint]| eps.iter().map(endpoint_text).collect::<Vec<_>>().join(",");
    format!(
        "{} {} {} from {} to {}: {}",
        f.id,
        protocols.join("+"),
        ports.join(","),
        side(&f.from),
        side(&f.to),
        f.service
    )
}

/// Reads the one-line form. Tags, the switch and the note of `keep` (the flow being edited) stay.
pub fn parse_flow(text: &str, keep: Option<&CustomFlow>) -> Result<CustomFlow, String> {
    const FORM: &str = "write: id tcp|udp|tcp+udp ports from A,B to C,D: service";
    let (head, service) = text
        .split_once(':')
        .ok_or(format!("no ':' before the service; {FORM}"))?;
    let words: Vec<&str> = head.split_whitespace().collect();
    let [id, protocols, ports, rest @ ..] = words.as_slice() else {
        return Err(FORM.into());
    };
    let protocols = protocols
        .split('+')
        .map(|p| match p {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            other => Err(format!(
                "'{}' is not tcp, udp or tcp+udp",
                other.escape_debug()
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ports = ports
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let num = |s: &str| {
                s.parse::<u16>()
                    .map_err(|_| format!("'{}' is not a port (1-65535)", s.escape_debug()))
            };
            match (p.strip_prefix('$'), p.split_once('-')) {
                (Some(id), _) => Ok(PortItem::Param(id.into())),
                (None, Some((a, b))) => Ok(PortItem::Range(num(a)?, num(b)?)),
                (None, None) => Ok(PortItem::Port(num(p)?)),
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (Some(&"from"), Some(to_at)) = (rest.first(), rest.iter().position(|w| *w == "to")) else {
        return Err(format!("the endpoints go 'from A to B'; {FORM}"));
    };
    let side = |words: &[&str]| -> Vec<CustomEndpoint> {
        words
            .concat()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(parse_endpoint)
            .collect()
    };
    let base = keep.cloned();
    // Who asked for the flow stays with it through an edit of its ports and ends.
    let (owner, ticket, reason, expires) = base
        .as_ref()
        .map(|f| {
            (
                f.owner.clone(),
                f.ticket.clone(),
                f.reason.clone(),
                f.expires,
            )
        })
        .unwrap_or_default();
    Ok(CustomFlow {
        id: id.to_string(),
        service: service.trim().to_string(),
        protocols,
        ports,
        from: side(&rest[1..to_at]),
        to: side(&rest[to_at + 1..]),
        tags: base.as_ref().map(|f| f.tags.clone()).unwrap_or_default(),
        when: base.as_ref().and_then(|f| f.when.clone()),
        note: base.map(|f| f.note).unwrap_or_default(),
        owner,
        ticket,
        reason,
        expires,
    })
}

/// The loader's and the catalog check's verdict on a topology with an edited custom section:
/// the first problem of the section, if any.
fn verdict(app: &App, candidate: Topology) -> Result<Topology, String> {
    loader_verdict(candidate.clone())?;
    let problems = topology::check(&candidate, &app.base_catalog);
    match problems.into_iter().find(|p| p.path.starts_with("custom.")) {
        Some(p) => Err(p.message),
        None => Ok(candidate),
    }
}

/// `a` on the custom pane: a new role.
pub fn add(app: &mut App) {
    open_input(app, Purpose::AddCustomRole, "");
}

/// `f` on the custom pane: a new flow, starting from the selected role.
pub fn add_flow(app: &mut App) {
    let role = match row(&app.topology, app.custom.sel) {
        Some(CustomRow::Role(i)) => app.topology.custom.roles[i].id.clone(),
        _ => app
            .topology
            .custom
            .roles
            .first()
            .map_or_else(|| "ROLE".into(), |r| r.id.clone()),
    };
    open_input(
        app,
        Purpose::CustomFlow(None),
        format!("FLOW-ID tcp PORT from {role} to *: SERVICE"),
    );
}

/// `e` or Enter: a role's name, or a flow in its one line.
pub fn edit(app: &mut App) {
    match row(&app.topology, app.custom.sel) {
        Some(CustomRow::Role(i)) => {
            let name = app.topology.custom.roles[i].name.clone();
            open_input(app, Purpose::CustomRoleName(i), name);
        }
        Some(CustomRow::Flow(i)) => {
            let text = flow_text(&app.topology.custom.flows[i]);
            open_input(app, Purpose::CustomFlow(Some(i)), text);
        }
        None => app.set_status(StatusKind::Info, "none yet: a adds a role, f a flow"),
    }
}

/// `r` on a role: a new id.
pub fn rename(app: &mut App) {
    if let Some(CustomRow::Role(i)) = row(&app.topology, app.custom.sel) {
        let id = app.topology.custom.roles[i].id.clone();
        open_input(app, Purpose::RenameCustomRole(i), id);
    }
}

/// `n`: a role's description or a flow's note.
pub fn edit_note(app: &mut App) {
    match row(&app.topology, app.custom.sel) {
        Some(CustomRow::Role(i)) => {
            let text = app.topology.custom.roles[i].description.clone();
            open_input(app, Purpose::CustomRoleDescription(i), text);
        }
        Some(CustomRow::Flow(i)) => {
            let text = app.topology.custom.flows[i].note.clone();
            open_input(app, Purpose::CustomFlowNote(i), text);
        }
        None => {}
    }
}

/// A custom role's new id everywhere it is named: its flows' endpoints and nodes' assignments.
fn rename_role(t: &mut Topology, old: &str, new: &str) {
    for r in t.custom.roles.iter_mut().filter(|r| r.id == old) {
        r.id = new.to_string();
    }
    for f in &mut t.custom.flows {
        for e in f.from.iter_mut().chain(f.to.iter_mut()) {
            if *e == CustomEndpoint::Role(old.to_string()) {
                *e = CustomEndpoint::Role(new.to_string());
            }
        }
    }
    for n in &mut t.nodes {
        for r in &mut n.roles {
            if r.product == topology::custom::PRODUCT && r.role == old {
                r.role = new.to_string();
            }
        }
    }
}

/// `d`: a flow at once; a role only when no flow and no node names it (undo brings either back).
pub fn delete(app: &mut App) {
    match row(&app.topology, app.custom.sel) {
        Some(CustomRow::Flow(i)) => {
            let id = app.topology.custom.flows[i].id.clone();
            commit(app, format!("delete custom flow {id}"), |t| {
                t.custom.flows.remove(i);
            });
            app.set_status(StatusKind::Info, format!("deleted flow {id} (u undoes)"));
        }
        Some(CustomRow::Role(i)) => {
            let id = app.topology.custom.roles[i].id.clone();
            let named = CustomEndpoint::Role(id.clone());
            let flows: Vec<&str> = app
                .topology
                .custom
                .flows
                .iter()
                .filter(|f| f.from.contains(&named) || f.to.contains(&named))
                .map(|f| f.id.as_str())
                .collect();
            let nodes = players(app, &id);
            if !flows.is_empty() || !nodes.is_empty() {
                let mut users: Vec<String> = flows.iter().map(|f| format!("flow {f}")).collect();
                users.extend(nodes.iter().map(|n| format!("node {n}")));
                let s = format!(
                    "role {id} is in use by {}: remove those first",
                    users.join(", ")
                );
                app.set_status(StatusKind::Warning, s);
                return;
            }
            commit(app, format!("delete custom role {id}"), |t| {
                t.custom.roles.remove(i);
            });
            app.set_status(StatusKind::Info, format!("deleted role {id} (u undoes)"));
        }
        None => {}
    }
}

/// A submitted prompt of the custom pane; `Err` keeps the prompt open with the reason.
pub fn submit(app: &mut App, purpose: &Purpose, text: &str) -> Result<(), String> {
    let mut candidate = app.topology.clone();
    match *purpose {
        Purpose::AddCustomRole => {
            let text = text.trim();
            let (id, name) = text.split_once(' ').unwrap_or((text, ""));
            candidate.custom.roles.push(CustomRole {
                id: id.to_string(),
                name: name.trim().to_string(),
                ..CustomRole::default()
            });
            let t = verdict(app, candidate)?;
            commit(app, format!("add custom role {id}"), |old| *old = t);
            app.custom.sel = app.topology.custom.roles.len() - 1;
            app.set_status(
                StatusKind::Info,
                format!("added role site/{id}: f adds its flows; a in a node's roles assigns it"),
            );
        }
        Purpose::CustomRoleName(i) => {
            let role = candidate
                .custom
                .roles
                .get_mut(i)
                .ok_or("the role is gone")?;
            role.name = text.trim().to_string();
            let id = role.id.clone();
            let t = verdict(app, candidate)?;
            commit(app, format!("rename custom role {id}"), |old| *old = t);
        }
        Purpose::RenameCustomRole(i) => {
            let old = app
                .topology
                .custom
                .roles
                .get(i)
                .map(|r| r.id.clone())
                .ok_or("the role is gone")?;
            let new = text.trim();
            if new != old {
                rename_role(&mut candidate, &old, new);
                let t = verdict(app, candidate)?;
                commit(app, format!("rename custom role {old} to {new}"), |o| {
                    *o = t
                });
            }
        }
        Purpose::CustomRoleDescription(i) => {
            let role = candidate
                .custom
                .roles
                .get_mut(i)
                .ok_or("the role is gone")?;
            role.description = text.to_string();
            let id = role.id.clone();
            let t = verdict(app, candidate)?;
            commit(app, format!("describe custom role {id}"), |o| *o = t);
        }
        Purpose::CustomFlowNote(i) => {
            let flow = candidate
                .custom
                .flows
                .get_mut(i)
                .ok_or("the flow is gone")?;
            flow.note = text.to_string();
            let id = flow.id.clone();
            let t = verdict(app, candidate)?;
            commit(app, format!("note on custom flow {id}"), |o| *o = t);
        }
        Purpose::CustomFlow(at) => {
            let keep = at.and_then(|i| app.topology.custom.flows.get(i));
            let flow = parse_flow(text, keep)?;
            let id = flow.id.clone();
            match at {
                Some(i) if i < candidate.custom.flows.len() => candidate.custom.flows[i] = flow,
                Some(_) => return Err("the flow is gone".into()),
                None => candidate.custom.flows.push(flow),
            }
            let t = verdict(app, candidate)?;
            let word = if at.is_some() { "edit" } else { "add" };
            commit(app, format!("{word} custom flow {id}"), |old| *old = t);
            let i = at.unwrap_or(app.topology.custom.flows.len() - 1);
            app.custom.sel = app.topology.custom.roles.len() + i;
        }
        _ => return Ok(()),
    }
    app.focus = Pane::Custom;
    Ok(())
}

/// What a flow's endpoint may be, as typed: the custom roles, every node, any address, the zones,
/// the external hosts, then the catalog's roles (not the built-in host product's).
pub fn endpoint_choices(app: &App) -> Vec<(String, String)> {
    let t = &app.topology;
    let mut out: Vec<(String, String)> = t
        .custom
        .roles
        .iter()
        .map(|r| (r.id.clone(), format!("custom role: {}", r.name)))
        .collect();
    out.push(("*".into(), "every node".into()));
    out.push(("any".into(), "any address".into()));
    out.extend(
        t.zones
            .iter()
            .map(|z| (format!("zone={}", z.name), "zone".to_string())),
    );
    out.extend(
        t.external_hosts
            .iter()
            .map(|h| (format!("host={}", h.name), "external host".to_string())),
    );
    for p in app.base_catalog.products() {
        if p.id == fwtopo::catalog::HOST_PRODUCT || p.id == topology::custom::PRODUCT {
            continue;
        }
        out.extend(p.roles.iter().map(|r| {
            (
                format!("{}/{}", p.id, r.id),
                format!("{}: {}", p.name, r.name),
            )
        }));
    }
    out
}

/// Tab in a flow's prompt: the endpoint picker, with the prompt waiting behind it.
pub fn open_endpoints(app: &mut App, input: super::app::InputState) {
    let choices = endpoint_choices(app);
    app.modal = Some(super::app::Modal::Endpoints(super::app::EndpointsState {
        input,
        choices,
        cursor: super::app::Cursor::default(),
    }));
}

/// A key in the endpoint picker: move, put the chosen token at the prompt's cursor, or go back.
pub fn endpoints(app: &mut App, mut e: super::app::EndpointsState, action: super::action::Action) {
    use super::action::Action;
    let len = e.choices.len();
    match action {
        Action::Close => {}
        Action::Activate => {
            if let Some((token, _)) = e.choices.get(e.cursor.sel) {
                for c in token.chars() {
                    e.input.field.insert(c);
                }
                e.input.error = None;
            }
        }
        Action::Up
        | Action::Down
        | Action::Top
        | Action::Bottom
        | Action::PageUp
        | Action::PageDown => {
            let d = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -10,
                Action::PageDown => 10,
                Action::Top => isize::MIN / 2,
                _ => isize::MAX / 2,
            };
            e.cursor.step(d, len);
            app.modal = Some(super::app::Modal::Endpoints(e));
            return;
        }
        _ => {
            app.modal = Some(super::app::Modal::Endpoints(e));
            return;
        }
    }
    app.modal = Some(super::app::Modal::Input(e.input));
}

/// The nodes that play a custom role, by name.
pub fn players<'a>(app: &'a App, id: &str) -> Vec<&'a str> {
    app.topology
        .nodes
        .iter()
        .filter(|n| {
            n.roles
                .iter()
                .any(|r| r.product == topology::custom::PRODUCT && r.role == id)
        })
        .map(|n| n.name.as_str())
        .collect()
}
