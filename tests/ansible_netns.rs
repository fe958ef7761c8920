//! The Ansible rollout for real, over SSH: the Plesk Automation example's Linux nodes, each in a
//! network namespace of its own with its documentation addresses and an sshd (host and client keys
//! made here, root login by key only, listening on the node's addresses), the Windows nodes as
//! namespaces that only listen (their probed ports), and a controller namespace at 198.51.100.2,
//! inside the topology's admin zone. All on one bridge; routes for the documentation ranges only.
//!
//! 1. `ansible-playbook site.yml` from the controller: every Linux node ends with fwtopo's table,
//!    every probe script prints `flows reached N/N`, nothing fails.
//! 2. The same run again: `changed=0` for every node, the rulesets as they were.
//! 3. The export of a topology whose admin zone leaves the controller out: the management node's
//!    new rules drop the fresh SSH connection, so it is never confirmed; the play fails for it,
//!    the rollout stops before any other node, and the node's ruleset is back to what it was.
//!
//! The confirm window is shortened to 15 s, the reconnect wait to 6 s (the playbook's variables),
//! and the six service nodes go in one batch after the management node.
//! Measured on the 2-core development machine at a load of 12-19 (other engineers' builds and
//! tests): 193-220 s wall, of which the third run's waits (reconnect, then the confirm window
//! running out) are some 25 s, using 134 s of CPU (99 user, 35 system; most of it Ansible's
//! Python). On two otherwise idle cores that is some 90 s; the budget in CI is 120 s.
//!
//! Runs as root (CI); elsewhere it prints `SKIPPED (<reason>)`. The listeners are this binary
//! itself, started inside a namespace (`harness = false`, so `main` decides).

mod support;

use fwtopo::catalog::Catalog;
use fwtopo::engine;
use fwtopo::export::{Egress, Export, Options, probe};
use fwtopo::net::is_documentation;
use fwtopo::topology::Topology;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::netns::{self, Netns};

const LISTEN_ENV: &str = "FWTOPO_ANSIBLE_NETNS_LISTEN";
const DOC_ROUTES: [&str; 4] = [
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "2001:db8::/32",
];
/// The controller: inside the example's admin zone (198.51.100.0/28).
const CONTROLLER: &str = "198.51.100.2/32";
/// The admin zone of the failing export: the controller is not in it.
const OTHER_ADMIN_ZONE: &str = "198.51.100.64/28";
const MANAGEMENT_NODE: &str = "pa-mn";
const CONFIRM_SECONDS: u64 = 15;
const RECONNECT_SECONDS: u64 = 6;

fn main() {
    if let Ok(ports) = std::env::var(LISTEN_ENV) {
        return helper_listen(&ports);
    }
    if !netns::available(&[
        "nft",
        "bash",
        "timeout",
        "ssh",
        "ssh-keygen",
        "sshd",
        "ansible-playbook",
    ]) {
        println!("0 passed, 0 failed, 1 skipped");
        return;
    }
    let started = Instant::now();
    match std::panic::catch_unwind(run) {
        Ok(summary) => println!(
            "ansible_netns: {summary} ({:.1} s)\n1 passed, 0 failed",
            started.elapsed().as_secs_f64()
        ),
        Err(_) => {
            println!("ansible_netns: FAILED (see the panic above)\n0 passed, 1 failed");
            std::process::exit(1);
        }
    }
}

/// Binds every TCP port of a comma-separated list on every address (dual-stack), accepts and
/// drops connections, says READY, and exits when stdin closes.
fn helper_listen(ports: &str) {
    let listeners: Vec<TcpListener> = ports
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let port: u16 = p.parse().expect("port");
            let l = TcpListener::bind(("::", port))
                .unwrap_or_else(|e| panic!("bind tcp [::]:{port}: {e}"));
            l.set_nonblocking(true).expect("nonblocking");
            l
        })
        .collect();
    let (done_tx, done) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = done_tx.send(());
    });
    println!("FWTOPO-READY");
    std::io::stdout().flush().expect("flush");
    while done.try_recv().is_err() {
        for l in &listeners {
            while let Ok((s, _)) = l.accept() {
                drop(s);
            }
        }
        // The kernel completes a probe's handshake from the backlog, before any accept: draining
        // it now and then is enough, and this test lives for minutes, so it polls slowly.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A process killed on drop (listeners, sshd).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One node's namespace. Field order is drop order: processes first.
struct Host {
    _listener: Option<Killed>,
    _sshd: Option<Killed>,
    name: String,
    windows: bool,
    addresses: Vec<IpAddr>,
    ns: Netns,
}

impl Host {
    fn ruleset(&self) -> String {
        self.ns.run(&["nft", "list", "ruleset"])
    }
}

/// Every namespace; the bridge goes last.
struct World {
    hosts: Vec<Host>,
    controller: Netns,
    _bridge: Netns,
}

impl World {
    fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no host {name}"))
    }

    fn linux(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| !h.windows)
    }
}

/// Per node, the TCP ports some probe script tries it at.
fn probed_ports(t: &Topology) -> Vec<BTreeSet<u16>> {
    let cat = fwtopo::topology::site_catalog(&Catalog::embedded().expect("catalog"), t);
    let plan = engine::derive(&cat, t);
    let owner: BTreeMap<IpAddr, usize> = t
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.addresses.iter().map(move |a| (*a, i)))
        .collect();
    let options = Options {
        egress: Egress::Open,
        crlf: false,
    };
    let mut ports = vec![BTreeSet::new(); t.nodes.len()];
    for np in &plan.nodes {
        let x = Export::new(&cat, t, &plan, np, options);
        for a in probe::probes(&x).attempts {
            if let Some(&n) = owner.get(&a.address) {
                ports[n].insert(a.port);
            }
        }
    }
    ports
}

/// A namespace on the bridge with these addresses and routes for the documentation ranges.
fn attach(bridge: &Netns, i: usize, tag: &str, addresses: &[String]) -> Netns {
    let ns = Netns::new(tag);
    let port = format!("p{i}");
    bridge.run(&[
        "ip",
        "link",
        "add",
        &port,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns.name(),
    ]);
    bridge.run(&["ip", "link", "set", &port, "master", "br0"]);
    bridge.run(&["ip", "link", "set", &port, "up"]);
    ns.run(&["sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"]);
    ns.run(&["ip", "link", "set", "eth0", "up"]);
    for a in addresses {
        ns.run(&["ip", "addr", "add", a, "dev", "eth0", "nodad"]);
    }
    for r in DOC_ROUTES {
        ns.run(&["ip", "route", "add", r, "dev", "eth0"]);
    }
    ns
}

fn listen(ns: &Netns, name: &str, ports: &BTreeSet<u16>) -> Killed {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = ns
        .command(exe.to_str().expect("utf-8 path"))
        .env(LISTEN_ENV, list.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn listener");
    let out = child.stdout.take().expect("stdout is piped");
    let l = Killed(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ready = BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .any(|line| line == "FWTOPO-READY");
        let _ = tx.send(ready);
    });
    let ready = rx.recv_timeout(Duration::from_secs(20)).unwrap_or(false);
    assert!(ready, "listener of {name} did not start");
    l
}

fn run_ok(c: &mut Command) -> String {
    let out = c.output().expect("run a tool");
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The keys: the nodes' host key and the controller's client key, made here.
fn keys(dir: &Path) -> (PathBuf, PathBuf) {
    let host = dir.join("host_ed25519");
    let client = dir.join("client_ed25519");
    for k in [&host, &client] {
        run_ok(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "fwtopo-test", "-f"])
                .arg(k),
        );
    }
    let public = dir.join("client_ed25519.pub");
    std::fs::copy(&public, dir.join("authorized_keys")).expect("authorized_keys");
    (host, client)
}

/// An sshd in the node's namespace: its addresses only, root by key only.
fn sshd(dir: &Path, h: &Host, host_key: &Path) -> Killed {
    let mut config = String::new();
    for a in &h.addresses {
        config.push_str(&format!("ListenAddress {a}\n"));
    }
    config.push_str(&format!(
        "Port 22\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\nPermitRootLogin prohibit-password\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
         Subsystem sftp /usr/lib/openssh/sftp-server\nLogLevel ERROR\n",
        host_key.display(),
        dir.join(format!("sshd-{}.pid", h.name)).display(),
        dir.join("authorized_keys").display(),
    ));
    let path = dir.join(format!("sshd-{}.conf", h.name));
    std::fs::write(&path, config).expect("sshd config");
    let sshd = support::find_tool("sshd").expect("sshd");
    let child =
        h.ns.command(sshd.to_str().expect("utf-8"))
            .args(["-D", "-e", "-f"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn sshd");
    child_ready(h, child)
}

/// Waits until the node's sshd answers on its first address.
fn child_ready(h: &Host, child: Child) -> Killed {
    let killed = Killed(child);
    let probe = format!("exec 3<>/dev/tcp/{}/22", h.addresses[0]);
    for _ in 0..100 {
        if h.ns
            .output(&["timeout", "1", "bash", "-c", &probe], None)
            .status
            .success()
        {
            return killed;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("sshd of {} did not start", h.name);
}

fn build(t: &Topology, dir: &Path) -> World {
    // sshd refuses to start without its privilege separation directory.
    std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
    let (host_key, _) = keys(dir);
    let ports = probed_ports(t);
    let bridge = Netns::new("anbr");
    bridge.run(&["ip", "link", "add", "br0", "type", "bridge"]);
    bridge.run(&["ip", "link", "set", "br0", "up"]);
    let mut hosts = Vec::new();
    for (i, node) in t.nodes.iter().enumerate() {
        let addrs: Vec<String> = node
            .addresses
            .iter()
            .map(|a| {
                assert!(is_documentation(&IpNet::from(*a)), "{}: {a}", node.name);
                IpNet::from(*a).to_string()
            })
            .collect();
        let ns = attach(&bridge, i, "an", &addrs);
        let windows = node.os.is_windows();
        // sshd serves port 22 on the Linux nodes.
        let mut listened = ports[i].clone();
        if !windows {
            listened.remove(&22);
        }
        let listener = (!listened.is_empty()).then(|| listen(&ns, &node.name, &listened));
        let mut h = Host {
            _listener: listener,
            _sshd: None,
            name: node.name.clone(),
            windows,
            addresses: node.addresses.clone(),
            ns,
        };
        if !windows {
            h._sshd = Some(sshd(dir, &h, &host_key));
        }
        hosts.push(h);
    }
    let controller = attach(&bridge, t.nodes.len(), "anctl", &[CONTROLLER.to_string()]);
    World {
        hosts,
        controller,
        _bridge: bridge,
    }
}

/// Ansible's configuration and the per-node directories: every "node" shares this machine's
/// file system, so each gets its own fwtopo_remote_dir (an inventory of host variables).
fn ansible_setup(dir: &Path, w: &World) -> (PathBuf, PathBuf) {
    let cfg = dir.join("ansible.cfg");
    let t = |s: &str| dir.join(s).display().to_string();
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\nhost_key_checking = False\nremote_user = root\nprivate_key_file = {key}\n\
             forks = 10\ntimeout = 5\nremote_tmp = {remote}\nlocal_tmp = {local}\n\
             interpreter_python = /usr/bin/python3\nretry_files_enabled = False\n\
             [ssh_connection]\npipelining = True\ncontrol_path_dir = {cp}\n\
             ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR\n",
            key = t("client_ed25519"),
            remote = t("remote-tmp"),
            local = t("local-tmp"),
            cp = t("cp"),
        ),
    )
    .expect("ansible.cfg");
    let mut overlay = String::from("all:\n  hosts:\n");
    for h in w.linux() {
        overlay.push_str(&format!(
            "    \"{}\":\n      fwtopo_remote_dir: \"{}\"\n",
            h.name,
            t(&format!("nodes/{}", h.name))
        ));
    }
    let path = dir.join("overlay.yml");
    std::fs::write(&path, overlay).expect("overlay inventory");
    (cfg, path)
}

/// `fwtopo export --target ansible --out DIR FILE`.
fn export(topology: &Path, out: &Path) {
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_fwtopo"))
            .args(["export", "--target", "ansible", "--out"])
            .arg(out)
            .arg(topology),
    );
}

/// Runs the playbook in `playbook_dir` from the controller: (success, output).
fn play(w: &World, dir: &Path, playbook_dir: &Path, cfg: &Path, overlay: &Path) -> (bool, String) {
    let out = w
        .controller
        .command("ansible-playbook")
        .current_dir(playbook_dir)
        .env("ANSIBLE_CONFIG", cfg)
        .env("ANSIBLE_ASYNC_DIR", dir.join("async"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORCE_COLOR", "0")
        .args(["-v", "-i", "inventory.yml", "-i"])
        .arg(overlay)
        .args([
            "site.yml",
            "--limit",
            "fwtopo_linux",
            "-e",
            "ansible_become=false",
            "-e",
            &format!("fwtopo_confirm_seconds={CONFIRM_SECONDS}"),
            "-e",
            &format!("fwtopo_reconnect_seconds={RECONNECT_SECONDS}"),
            "-e",
            "fwtopo_batch=6",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run ansible-playbook");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The PLAY RECAP line of a host: `ok=N changed=N unreachable=N failed=N ...` as a map.
fn recap(output: &str, host: &str) -> BTreeMap<String, u32> {
    let start = output.rfind("PLAY RECAP").expect("a PLAY RECAP");
    output[start..]
        .lines()
        .find(|l| l.split_whitespace().next() == Some(host))
        .unwrap_or_else(|| panic!("{host} not in the recap:\n{output}"))
        .split_whitespace()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap_or(0)))
        .collect()
}

fn run() -> String {
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temporary directory");
    let w = build(&t, dir.path());
    let (cfg, overlay) = ansible_setup(dir.path(), &w);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plesk-automation.ron");
    let good = dir.path().join("good");
    export(&example, &good);
    let linux: Vec<&Host> = w.linux().collect();
    let before: BTreeMap<&str, String> = linux
        .iter()
        .map(|h| (h.name.as_str(), h.ruleset()))
        .collect();

    // 1. The rollout: every Linux node gets fwtopo's table, every probe reaches every flow.
    let first = Instant::now();
    let (ok, out) = play(&w, dir.path(), &good, &cfg, &overlay);
    let first = first.elapsed().as_secs_f64();
    assert!(ok, "the first run failed:\n{out}");
    let mut applied = BTreeMap::new();
    for h in &linux {
        let r = h.ruleset();
        assert!(
            r.contains("table inet fwtopo"),
            "{}: no fwtopo table:\n{r}",
            h.name
        );
        assert_ne!(r, before[h.name.as_str()], "{}", h.name);
        let rc = recap(&out, &h.name);
        assert_eq!(rc.get("failed"), Some(&0), "{}:\n{out}", h.name);
        assert!(
            rc.get("changed").is_some_and(|&c| c > 0),
            "{}:\n{out}",
            h.name
        );
        applied.insert(h.name.as_str(), r);
    }
    let reached: Vec<&str> = out
        .lines()
        .flat_map(|l| l.split("\\n"))
        .filter(|l| l.trim_start_matches('"').starts_with("flows reached "))
        .collect();
    assert_eq!(reached.len(), linux.len(), "a probe line per node:\n{out}");
    for l in &reached {
        let n = l
            .trim_start_matches('"')
            .trim_start_matches("flows reached ");
        let n = n.split(['"', ',']).next().unwrap_or(n);
        let (a, b) = n.split_once('/').unwrap_or(("", "?"));
        assert!(a == b && !a.is_empty(), "a probe failed: {l}");
    }

    // 2. Again: nothing changes.
    let second = Instant::now();
    let (ok, out) = play(&w, dir.path(), &good, &cfg, &overlay);
    let second = second.elapsed().as_secs_f64();
    assert!(ok, "the second run failed:\n{out}");
    for h in &linux {
        assert_eq!(
            recap(&out, &h.name).get("changed"),
            Some(&0),
            "{}:\n{out}",
            h.name
        );
        assert_eq!(h.ruleset(), applied[h.name.as_str()], "{}", h.name);
    }

    // 3. An admin zone without the controller: the management node's fresh connection is
    // dropped, so it is never confirmed and rolls back; no other node is touched.
    let bad_topology = dir.path().join("bad.ron");
    let text = std::fs::read_to_string(&example).expect("example");
    let bad_text = text.replacen("\"198.51.100.0/28\"", &format!("\"{OTHER_ADMIN_ZONE}\""), 1);
    assert_ne!(bad_text, text);
    std::fs::write(&bad_topology, bad_text).expect("bad topology");
    let bad = dir.path().join("bad");
    export(&bad_topology, &bad);
    let third = Instant::now();
    let (ok, out) = play(&w, dir.path(), &bad, &cfg, &overlay);
    assert!(
        !ok,
        "the run with the controller outside the admin zone succeeded:\n{out}"
    );
    let mn = w.host(MANAGEMENT_NODE);
    let rc = recap(&out, MANAGEMENT_NODE);
    assert!(
        rc.get("failed").is_some_and(|&f| f > 0) || rc.get("unreachable").is_some_and(|&u| u > 0),
        "{MANAGEMENT_NODE} did not fail:\n{out}"
    );
    assert!(
        out.contains("was not confirmed over a fresh connection"),
        "{out}"
    );
    // The new rules were live (the script waited for its confirmation) before the reconnect.
    assert!(
        out.contains("TASK [Connect again, through the new rules]"),
        "{out}"
    );
    let deadline = Instant::now() + Duration::from_secs(CONFIRM_SECONDS + 30);
    loop {
        if mn.ruleset() == applied[MANAGEMENT_NODE] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{MANAGEMENT_NODE} was not rolled back:\n{}",
            mn.ruleset()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let third = third.elapsed().as_secs_f64();
    for h in linux.iter().filter(|h| h.name != MANAGEMENT_NODE) {
        assert_eq!(
            h.ruleset(),
            applied[h.name.as_str()],
            "{} was touched",
            h.name
        );
        assert!(
            !out.contains(&format!("ok: [{}]", h.name)),
            "{} was rolled out after the management node failed:\n{out}",
            h.name
        );
    }
    format!(
        "{} Linux nodes rolled out over SSH in {first:.1} s, probes passed; second run changed=0 in {second:.1} s; unconfirmed {MANAGEMENT_NODE} rolled back in {third:.1} s",
        linux.len()
    )
}
