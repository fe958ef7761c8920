//! Running the binary in tests: the command with no catalog overrides (or a given
//! configuration directory) and a timeout, and a user catalog of one product.

use assert_cmd::Command;
use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// The binary with no catalog overrides (or the given configuration directory), and a timeout:
/// a command that waits on its input forever fails the test instead of hanging it.
pub fn fwtopo_with(config: &Path) -> Command {
    let mut c = Command::cargo_bin("fwtopo").unwrap();
    c.env("FWTOPO_CONFIG_DIR", config)
        .timeout(Duration::from_secs(30));
    c
}

pub fn fwtopo() -> Command {
    fwtopo_with(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no-config"))
}

pub fn example(stem: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{stem}.ron")))
        .unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a command on a file; returns (exit code, standard error).
pub fn run(mut c: Command) -> (Option<i32>, String) {
    let out = c.output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code(), err)
}

/// A user catalog file of one product `evil` with one role `r` and one flow, `{field}` taking
/// the place of `service: "Evil service",` when given.
pub fn evil_product(field: Option<&str>) -> String {
    let service = field.unwrap_or("service: \"Evil service\",");
    format!(
        r#"(
    id: "evil",
    name: "Evil product",
    vendor: "Evil vendor",
    document: (id: "evil-doc", title: "Evil document", url: "https://evil.example.net/"),
    description: "A product.",
    groups: [(id: "g", name: "Group")],
    roles: [
        (
            id: "r",
            name: "Evil role",
            description: "A role.",
            groups: ["g"],
            parameters: [(id: "p", name: "Evil port", description: "A port.", kind: Port(default: 9000))],
        ),
    ],
    flows: [
        (
            id: "f",
            {service}
            protocols: [tcp],
            ports: [Param("p")],
            from: [Zone("admin")],
            to: [Role("r")],
            note: "A note.",
            source: (section: "Evil section"),
        ),
    ],
)
"#
    )
}

/// A configuration directory holding `catalog/evil.ron`.
pub fn config_with(product: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("catalog")).unwrap();
    fs::write(dir.path().join("catalog/evil.ron"), product).unwrap();
    dir
}
