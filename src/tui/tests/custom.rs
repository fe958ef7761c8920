//! Custom roles and flows in the designer: made, edited and deleted on the zones screen, offered
//! by the role picker, derived live, undone, saved, previewed and copied.

use super::{example_app, run, typed};
use crate::tui::action::Action as A;
use crate::tui::app::{App, Modal, Pane, Purpose, Screen};
use crate::tui::effect::Effect;
use fwtopo::ports::Protocol;
use fwtopo::topology::{CustomEndpoint, from_ron};

fn input_error(app: &App) -> Option<String> {
    match &app.modal {
        Some(Modal::Input(s)) => s.error.clone(),
        _ => None,
    }
}

fn purpose(app: &App) -> Option<Purpose> {
    match &app.modal {
        Some(Modal::Input(s)) => Some(s.purpose.clone()),
        _ => None,
    }
}

/// The example with the zones screen shown and the custom pane focused.
fn custom_pane() -> App {
    let mut app = example_app();
    run(&mut app, [A::Show(Screen::Zones)]);
    while app.focus != Pane::Custom {
        run(&mut app, [A::FocusNext]);
    }
    app
}

/// Adds a custom role and a flow by typing them, as an operator does.
fn with_monitoring(app: &mut App) {
    run(app, [A::Add]);
    assert_eq!(purpose(app), Some(Purpose::AddCustomRole));
    run(app, typed("monitoring Zabbix server"));
    run(app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(app));
    run(app, [A::AddFlow]);
    assert_eq!(purpose(app), Some(Purpose::CustomFlow(None)));
    run(app, [A::ClearLine]);
    run(
        app,
        typed("zabbix-agent tcp 10050 from monitoring to *: Zabbix agent"),
    );
    run(app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(app));
}

#[test]
fn a_custom_role_and_flow_are_made_assigned_derived_undone_and_saved() {
    let mut app = custom_pane();
    with_monitoring(&mut app);
    let c = &app.topology.custom;
    assert_eq!(c.roles.len(), 1);
    assert_eq!(
        (c.roles[0].id.as_str(), c.roles[0].name.as_str()),
        ("monitoring", "Zabbix server")
    );
    assert_eq!(c.flows.len(), 1);
    let f = &c.flows[0];
    assert_eq!(f.id, "zabbix-agent");
    assert_eq!(f.protocols, vec![Protocol::Tcp]);
    assert_eq!(f.from, vec![CustomEndpoint::Role("monitoring".into())]);
    assert_eq!(f.to, vec![CustomEndpoint::EveryNode]);
    assert_eq!(f.service, "Zabbix agent");

    // The role picker offers it beside the catalog's roles; node 0 becomes the monitoring server.
    run(&mut app, [A::Show(Screen::Design), A::Top]);
    app.focus = Pane::Roles;
    run(&mut app, [A::Add]);
    run(&mut app, typed("site zabbix"));
    let Some(Modal::Picker(p)) = &app.modal else {
        panic!("no picker: {:?}", app.modal)
    };
    assert_eq!(p.matches.len(), 1, "{:?}", p.matches);
    let (pi, ri) = p.matches[0];
    assert_eq!(app.catalog.products()[pi].id, "site");
    assert_eq!(app.catalog.products()[pi].roles[ri].id, "monitoring");
    run(&mut app, [A::Activate]);
    assert!(
        app.topology.nodes[0]
            .roles
            .iter()
            .any(|r| r.product == "site" && r.role == "monitoring")
    );
    // Every other node now accepts the agent port from node 0, live.
    let from = app.topology.nodes[0].addresses[0];
    for n in 1..app.topology.nodes.len() {
        assert!(
            fwtopo::engine::allows(&app.plan.nodes[n].inbound, Protocol::Tcp, 10050, from),
            "node {n}"
        );
    }
    // The preview and the clipboard carry the rule.
    run(&mut app, [A::Show(Screen::Export), A::Down]);
    assert_eq!(app.preview.node, 1);
    assert!(
        app.preview.text.contains("site/*/zabbix-agent"),
        "{}",
        app.preview.text
    );
    let fx = run(&mut app, [A::Copy]);
    let [Effect::Copy { text, .. }] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(text.contains("site/*/zabbix-agent"));

    // Save writes the section; the saved text loads to the same topology.
    let fx = run(&mut app, [A::Save]);
    let [Effect::Save { text, .. }] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert!(text.contains("custom: ("), "{text}");
    assert_eq!(from_ron(text).as_ref(), Ok(&app.topology));

    // Undo takes back the assignment, the flow and the role, one step each; redo brings them.
    run(&mut app, [A::Undo, A::Undo]);
    assert!(app.topology.custom.flows.is_empty());
    assert_eq!(app.topology.custom.roles.len(), 1);
    run(&mut app, [A::Undo]);
    assert!(app.topology.custom.is_empty());
    assert!(!app.catalog.products().iter().any(|p| p.id == "site"));
    run(&mut app, [A::Redo, A::Redo, A::Redo]);
    assert_eq!(app.topology.custom.flows.len(), 1);
    assert!(fwtopo::engine::allows(
        &app.plan.nodes[1].inbound,
        Protocol::Tcp,
        10050,
        from
    ));
}

#[test]
fn a_flow_the_loader_would_refuse_stays_in_its_prompt_with_the_reason() {
    let mut app = custom_pane();
    with_monitoring(&mut app);
    for (text, want) in [
        ("web tcp 80 from monitor to *: x", "unknown role 'monitor'"),
        ("web tcp 0 from monitoring to *: x", "port 0"),
        (
            "web tcp 80 from monitoring to zone=nope: x",
            "unknown zone 'nope'",
        ),
        (
            "web tcp 80 from monitoring to cpanel-whm/nope: x",
            "unknown role 'nope' of cpanel-whm",
        ),
        ("web icmp 80 from monitoring to *: x", "icmp"),
        ("web tcp 80 monitoring to *: x", "from"),
        (
            "zabbix-agent tcp 80 from monitoring to *: x",
            "duplicate flow 'zabbix-agent'",
        ),
    ] {
        run(&mut app, [A::AddFlow, A::ClearLine]);
        run(&mut app, typed(text));
        run(&mut app, [A::Activate]);
        let e = input_error(&app).unwrap_or_else(|| panic!("{text}: accepted"));
        assert!(e.contains(want), "{text}: {e}");
        run(&mut app, [A::Close]);
    }
    assert_eq!(app.topology.custom.flows.len(), 1);
}

#[test]
fn a_flow_is_edited_in_its_own_words_and_a_role_in_use_is_not_deleted() {
    let mut app = custom_pane();
    with_monitoring(&mut app);
    // Rows: the role, then the flow.
    run(&mut app, [A::Bottom, A::Edit]);
    assert_eq!(purpose(&app), Some(Purpose::CustomFlow(Some(0))));
    let Some(Modal::Input(s)) = &app.modal else {
        panic!()
    };
    assert_eq!(
        s.field.text,
        "zabbix-agent tcp 10050 from monitoring to *: Zabbix agent"
    );
    run(&mut app, [A::ClearLine]);
    run(
        &mut app,
        typed("zabbix-agent tcp+udp 10050,10051 from monitoring to zone=admin,*: Zabbix"),
    );
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(&app));
    let f = &app.topology.custom.flows[0];
    assert_eq!(f.protocols, vec![Protocol::Tcp, Protocol::Udp]);
    assert_eq!(
        f.to,
        vec![
            CustomEndpoint::Zone("admin".into()),
            CustomEndpoint::EveryNode
        ]
    );
    // The role cannot go while a flow names it; the flow can, then the role.
    run(&mut app, [A::Top, A::Delete]);
    assert_eq!(app.topology.custom.roles.len(), 1);
    let status = app.status.clone().map(|s| s.text).unwrap_or_default();
    assert!(status.contains("zabbix-agent"), "{status}");
    run(&mut app, [A::Bottom, A::Delete, A::Top, A::Delete]);
    assert!(app.topology.custom.is_empty(), "{:?}", app.topology.custom);
}

#[test]
fn the_custom_pane_lists_roles_and_flows_in_the_words_the_prompt_reads() {
    let mut app = custom_pane();
    with_monitoring(&mut app);
    let screen = super::render::text(&super::render::render(&mut app, 120, 40));
    assert!(
        screen.contains("Custom roles (1) and flows (1)"),
        "{screen}"
    );
    assert!(
        screen.contains("role monitoring   Zabbix server"),
        "{screen}"
    );
    assert!(
        screen.contains("flow zabbix-agent tcp 10050 from monitoring to *: Zabbix agent"),
        "{screen}"
    );
    // The help lists the pane's keys.
    let help = crate::tui::keymap::help_sections();
    let (_, keys) = help
        .iter()
        .find(|(title, _)| *title == "Custom roles and flows")
        .expect("a help section for the custom pane");
    assert!(
        keys.iter()
            .any(|(k, what)| k == "f" && what.contains("custom flow")),
        "{keys:?}"
    );
}

/// Chooses an endpoint in the open endpoint picker by its token, with the keys an operator uses.
fn choose(app: &mut App, token: &str) {
    let Some(Modal::Endpoints(e)) = &app.modal else {
        panic!("no endpoint picker: {:?}", app.modal)
    };
    let i = e
        .choices
        .iter()
        .position(|(t, _)| t == token)
        .unwrap_or_else(|| panic!("{token} not offered: {:?}", e.choices));
    run(app, [A::Top]);
    run(app, std::iter::repeat_n(A::Down, i));
    run(app, [A::Activate]);
}

#[test]
fn flow_endpoints_are_chosen_from_roles_zones_and_external_hosts() {
    let mut app = custom_pane();
    with_monitoring(&mut app);
    run(&mut app, [A::AddFlow, A::ClearLine]);
    run(&mut app, typed("to-web tcp 443 from "));
    run(&mut app, [A::FocusNext]);
    let Some(Modal::Endpoints(e)) = &app.modal else {
        panic!("tab did not open the endpoint picker: {:?}", app.modal)
    };
    // Custom roles, every node, any, the zones, the external hosts and the catalog's roles.
    for token in [
        "monitoring",
        "*",
        "any",
        "zone=admin",
        "host=my.mailstore.com",
        "cpanel-whm/server",
    ] {
        assert!(
            e.choices.iter().any(|(t, _)| t == token),
            "{token}: {:?}",
            e.choices
        );
    }
    assert!(
        !e.choices
            .iter()
            .any(|(t, _)| t.starts_with("host/") || t.starts_with("site/"))
    );
    choose(&mut app, "zone=admin");
    run(&mut app, typed(",monitoring to "));
    run(&mut app, [A::FocusNext]);
    choose(&mut app, "cpanel-whm/server");
    // Esc in the picker goes back to the prompt, unchanged.
    run(&mut app, [A::FocusNext, A::Close]);
    let Some(Modal::Input(s)) = &app.modal else {
        panic!("{:?}", app.modal)
    };
    assert_eq!(
        s.field.text,
        "to-web tcp 443 from zone=admin,monitoring to cpanel-whm/server"
    );
    run(&mut app, typed(": HTTPS"));
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(&app));
    let f = &app.topology.custom.flows[1];
    assert_eq!(
        f.from,
        vec![
            CustomEndpoint::Zone("admin".into()),
            CustomEndpoint::Role("monitoring".into())
        ]
    );
    assert_eq!(f.to, vec![CustomEndpoint::Role("cpanel-whm/server".into())]);
}

#[test]
fn a_role_is_renamed_with_its_flows_and_nodes_and_notes_are_edited() {
    let mut app = custom_pane();
    with_monitoring(&mut app);
    app.topology.nodes[0]
        .roles
        .push(fwtopo::topology::RoleAssignment::new("site", "monitoring"));
    app.rederive();
    // The flow's note, then the role's description.
    run(&mut app, [A::Bottom, A::EditNote]);
    assert_eq!(purpose(&app), Some(Purpose::CustomFlowNote(0)));
    run(&mut app, typed("passive checks"));
    run(&mut app, [A::Activate]);
    assert_eq!(app.topology.custom.flows[0].note, "passive checks");
    run(&mut app, [A::Top, A::EditNote]);
    assert_eq!(purpose(&app), Some(Purpose::CustomRoleDescription(0)));
    run(&mut app, typed("the Zabbix server"));
    run(&mut app, [A::Activate]);
    assert_eq!(
        app.topology.custom.roles[0].description,
        "the Zabbix server"
    );
    // A new id: the flows that name the role and the nodes that play it follow.
    run(&mut app, [A::Rename]);
    assert_eq!(purpose(&app), Some(Purpose::RenameCustomRole(0)));
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("Zabbix"));
    run(&mut app, [A::Activate]);
    assert!(input_error(&app).is_some_and(|e| e.contains("lowercase")));
    run(&mut app, [A::ClearLine]);
    run(&mut app, typed("zabbix"));
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(&app));
    assert_eq!(app.topology.custom.roles[0].id, "zabbix");
    assert_eq!(
        app.topology.custom.flows[0].from,
        vec![CustomEndpoint::Role("zabbix".into())]
    );
    assert!(
        app.topology.nodes[0]
            .roles
            .iter()
            .any(|r| r.product == "site" && r.role == "zabbix")
    );
    assert!(app.problems.is_empty(), "{:?}", app.problems);
    run(&mut app, [A::Undo]);
    assert_eq!(app.topology.custom.roles[0].id, "monitoring");
}
