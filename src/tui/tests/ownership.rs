//! Who asked for a node, custom role or flow and until when, in the designer (issue 17.3): typed
//! in one line (`w`), checked as the loader checks it, derived live into FW029/FW030, shown in
//! the details and the custom pane, undone.

use super::render::{render, text};
use super::{example_app, run, typed};
use crate::tui::action::Action as A;
use crate::tui::app::{App, Modal, Pane, Purpose, Screen};
use crate::tui::detail;
use fwtopo::engine::Code;

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

/// The expiry findings about a node: (code, message).
fn expiry(app: &App, node: &str) -> Vec<(Code, String)> {
    app.plan
        .findings
        .iter()
        .filter(|f| matches!(f.code, Code::Expired | Code::ExpiredPastGrace))
        .filter(|f| f.node.as_deref() == Some(node))
        .map(|f| (f.code, f.message.to_string()))
        .collect()
}

#[test]
fn a_nodes_owner_and_expiry_are_edited_checked_derived_shown_and_undone() {
    let mut app = example_app();
    app.today = "2027-03-20".parse().ok();
    app.rederive();
    app.focus = Pane::Nodes;
    app.nodes.sel = 0;
    let name = app.topology.nodes[0].name.clone();
    assert!(expiry(&app, &name).is_empty());

    run(&mut app, [A::EditOwnership]);
    assert_eq!(purpose(&app), Some(Purpose::NodeOwnership(0)));
    // A date that is no day stays in the prompt with the reason; nothing changes.
    run(&mut app, typed("owner: web team; expires: 2027-02-30"));
    run(&mut app, [A::Activate]);
    let e = input_error(&app).unwrap_or_default();
    assert!(
        e.contains("'2027-02-30' is not a day: February 2027 has 28 days"),
        "{e}"
    );
    assert!(app.topology.nodes[0].ownership.is_empty());

    run(&mut app, [A::ClearLine]);
    run(
        &mut app,
        typed("owner: web team; ticket: CHG-2; expires: 2027-03-01; reason: load test"),
    );
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(&app));
    let o = &app.topology.nodes[0].ownership;
    assert_eq!((o.owner.as_str(), o.ticket.as_str()), ("web team", "CHG-2"));
    assert_eq!(o.expires, "2027-03-01".parse().ok());
    // 19 days past a 14-day grace period: an error on the node, at once.
    let found = expiry(&app, &name);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Code::ExpiredPastGrace);
    assert!(
        found[0].1.starts_with(
            "the node (owner web team, ticket CHG-2) expired on 2027-03-01, 19 days ago"
        )
    );
    assert_eq!(app.node_marks[0], Some(fwtopo::engine::Severity::Error));
    let d = detail::of(&app).expect("a node detail");
    assert!(
        d.lines.contains(
            &"asked for: owner web team, ticket CHG-2, expired 2027-03-01 (19 days ago), reason: load test".to_string()
        ),
        "{d:?}"
    );
    // The prompt opens on what is set.
    run(&mut app, [A::EditOwnership]);
    assert_eq!(
        app.modal.as_ref().and_then(|m| match m {
            Modal::Input(s) => Some(s.field.text.clone()),
            _ => None,
        }),
        Some("owner: web team; ticket: CHG-2; expires: 2027-03-01; reason: load test".into())
    );
    run(&mut app, [A::Close, A::Undo]);
    assert!(app.topology.nodes[0].ownership.is_empty());
    assert!(expiry(&app, &name).is_empty());
}

#[test]
fn a_custom_flows_expiry_shows_in_the_pane_and_the_rule_in_full() {
    let mut app = example_app();
    app.today = "2027-03-05".parse().ok();
    run(&mut app, [A::Show(Screen::Zones)]);
    while app.focus != Pane::Custom {
        run(&mut app, [A::FocusNext]);
    }
    run(&mut app, [A::Add]);
    run(&mut app, typed("monitoring Zabbix server"));
    run(&mut app, [A::Activate, A::AddFlow, A::ClearLine]);
    run(
        &mut app,
        typed("zabbix-agent tcp 10050 from monitoring to *: Zabbix agent"),
    );
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(&app));
    // The flow's row, then who asked for it.
    app.custom.sel = 1;
    run(&mut app, [A::EditOwnership]);
    assert_eq!(purpose(&app), Some(Purpose::FlowOwnership(0)));
    run(
        &mut app,
        typed("owner: ops; ticket: CHG-8; expires: 2027-03-01"),
    );
    run(&mut app, [A::Activate]);
    assert!(app.modal.is_none(), "{:?}", input_error(&app));
    assert_eq!(app.topology.custom.flows[0].ticket, "CHG-8");
    let shown = text(&render(&mut app, 120, 40));
    assert!(
        shown.contains("flow zabbix-agent [expired 2027-03-01 (4 days ago)] tcp 10050"),
        "{shown}"
    );
    // No node plays the role yet: a warning about the whole topology.
    assert!(
        app.plan
            .findings
            .iter()
            .any(|f| f.code == Code::Expired && f.node.is_none()),
        "{:?}",
        app.plan.findings
    );

    // On a node's rule from the flow, the rule in full says who asked for it.
    app.topology.nodes[0]
        .roles
        .push(fwtopo::topology::RoleAssignment::new("site", "monitoring"));
    app.rederive();
    run(&mut app, [A::Show(Screen::Design)]);
    app.focus = Pane::Rules;
    app.nodes.sel = 1;
    let plan = &app.plan.nodes[1];
    app.rules.sel = plan
        .inbound
        .iter()
        .chain(plan.outbound.iter())
        .position(|r| r.ports.to_string() == "10050")
        .expect("the agent's rule");
    let d = detail::of(&app).expect("a rule detail");
    assert!(
        d.lines.contains(
            &"  asked for: owner ops, ticket CHG-8, expired 2027-03-01 (4 days ago)".to_string()
        ),
        "{d:?}"
    );
}
