//! Throw-away network namespaces for system tests: a unique name, deleted on drop (also when the test
//! panics), so rules are only ever loaded where nothing else lives.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One network namespace made by this test process.
pub struct Netns {
    name: String,
}

impl Netns {
    /// `fwtopo-<tag>-<pid>-<n>`; panics when it cannot be created (check [`available`] first).
    pub fn new(tag: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("fwtopo-{tag}-{}-{n}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .expect("run ip netns add");
        assert!(
            out.status.success(),
            "ip netns add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ns = Netns { name };
        // Loopback up, as on a real host (our rulesets accept it first).
        ns.run(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec NAME program`, ready for arguments.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs a command inside the namespace, optionally feeding stdin; never panics on failure.
    pub fn output(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut c = self.command(args[0]);
        c.args(&args[1..]).stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {args:?} in {}: {e}", self.name));
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            pipe.write_all(input).expect("write stdin");
        }
        child.wait_with_output().expect("wait for command")
    }

    /// Runs a command inside the namespace; panics with its stderr when it fails; returns stdout.
    pub fn run(&self, args: &[&str]) -> String {
        self.run_stdin(args, None)
    }

    /// Like [`Netns::run`], feeding `stdin`.
    pub fn run_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        let out = self.output(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} in {} failed ({}):\n{}{}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Netns {
    /// `iptables-save` and `ip6tables-save` of this namespace without the tools' dated comments and
    /// the chains' packet counters: two loads of the same rules give the same text.
    pub fn iptables_saved(&self) -> String {
        let mut s = String::new();
        for tool in ["iptables-save", "ip6tables-save"] {
            for line in self.run(&[tool]).lines().filter(|l| !l.starts_with('#')) {
                let line = match (line.starts_with(':'), line.rfind(" [")) {
                    (true, Some(i)) => &line[..i],
                    _ => line,
                };
                s.push_str(line);
                s.push('\n');
            }
        }
        s
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// Whether namespaces can be used here: root, `ip` and every tool named, and a probe namespace that
/// can be created and removed. Otherwise a visible skip (a failure in CI mode).
pub fn available(tools: &[&str]) -> bool {
    if !super::require_root() || !super::require("ip") {
        return false;
    }
    if !tools.iter().all(|t| super::require(t)) {
        return false;
    }
    let probe = format!(
        "fwtopo-probe-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let ok = Command::new("ip")
        .args(["netns", "add", &probe])
        .output()
        .is_ok_and(|o| o.status.success());
    let _ = Command::new("ip")
        .args(["netns", "del", &probe])
        .stderr(Stdio::null())
        .status();
    ok || super::skip("cannot create network namespaces")
}
