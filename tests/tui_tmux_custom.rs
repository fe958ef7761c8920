//! Custom roles and flows in the real designer (tmux): a role and a flow typed on the zones
//! screen, one endpoint picked with tab, the role assigned from the picker, the file saved; the
//! saved file then derives the flow's rules on the command line. Without tmux the test skips,
//! unless FWTOPO_REQUIRE_SYSTEM_TESTS=1 (CI), where it fails.

#[path = "support/tmux.rs"]
mod tmux;

use std::process::Command;
use tmux::{Tmux, tmux_available};

#[test]
fn a_custom_role_and_flow_made_in_the_designer_are_saved_and_derived() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.ron");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mixed-site.ron"),
        &path,
    )
    .expect("copy the example");
    let t = Tmux::start("custom", dir.path(), &["design", "site.ron"], &[]);
    t.wait_for("Nodes (6)");

    // The zones screen, its third pane: custom roles and flows.
    t.keys(&["3"]);
    t.wait_for("Custom roles (0) and flows (0)");
    t.keys(&["Tab", "Tab", "a"]);
    t.wait_for("New custom role");
    t.text("monitoring Zabbix server");
    t.keys(&["Enter"]);
    t.wait_for("Custom roles (1) and flows (0)");
    t.keys(&["f"]);
    t.wait_for("Flow: id");
    t.keys(&["C-u"]);
    t.text("zabbix-agent tcp 10050 from monitoring to ");
    // The last endpoint from the picker: every node is offered right after the custom roles.
    t.keys(&["Tab"]);
    t.wait_for("Choose an endpoint");
    t.keys(&["Down", "Enter"]);
    t.wait_for("to *");
    t.text(": Zabbix agent");
    t.keys(&["Enter"]);
    let flow_row = "zabbix-agent tcp 10050 from monitoring to *: Zabbix agent";
    let screen = t.wait_for_screen("the pane with the new flow", |s| {
        s.contains("Custom roles (1) and flows (1)") && s.contains(flow_row)
    });
    assert!(screen.contains(flow_row), "{screen}");

    // Assigned to the first node from the role picker, beside the catalog's roles.
    t.keys(&["1", "Tab", "a"]);
    t.wait_for("Assign a role to web1");
    t.text("site zabbix");
    t.wait_for("1 roles");
    t.keys(&["Enter"]);
    t.wait_for("assigned site/monitoring to web1");

    t.keys(&["s"]);
    t.wait_for(" Comments ═");
    t.keys(&["y"]);
    t.wait_for("saved site.ron");
    t.keys(&["q"]);
    t.wait_dead();

    let topo = fwtopo::files::load_topology(&path).expect("the saved file loads");
    assert_eq!(topo.custom.roles[0].id, "monitoring");
    assert_eq!(topo.custom.flows[0].id, "zabbix-agent");
    let web1 = topo.node("web1").expect("web1");
    assert!(
        web1.roles
            .iter()
            .any(|r| r.product == "site" && r.role == "monitoring")
    );
    let from = web1.addresses[0].to_string();
    let other = &topo.nodes[1].name;
    let out = Command::new(env!("CARGO_BIN_EXE_fwtopo"))
        .args(["rules", path.to_str().unwrap(), "--node", other])
        .env("FWTOPO_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli = String::from_utf8(out.stdout).unwrap();
    assert!(
        cli.lines()
            .any(|l| l.contains("tcp  10050") && l.contains(&from) && l.contains("Zabbix agent")),
        "{cli}"
    );
}
