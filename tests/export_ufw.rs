//! ufw exports in the real ufw, in a private mount and network namespace with copies of its
//! configuration bound over /etc/ufw and /etc/default/ufw: the rules it holds after a run must allow
//! exactly the plan (management first), re-runs must change nothing, stale rules of ours go, the
//! operator's stay, and safe apply rolls back unless confirmed (also after a dropped session).
//! Without root or a tool the tests print `SKIPPED (...)`; with `FWTOPO_REQUIRE_SYSTEM_TESTS=1`
//! that is a failure.

#[path = "support/linux_exports.rs"]
mod linux_exports;
// Shared with the fuzz crate; these tests use only its peer parser.
#[allow(dead_code)]
#[path = "support/linux_tools_grammar.rs"]
mod linux_tools_grammar;
mod support;

use fwtopo::export::Egress;
use fwtopo::target::Target;
use fwtopo::topology::Topology;
use linux_exports::*;
use linux_tools_grammar::peer_key;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// ufw in a private mount and network namespace

/// Copies of ufw's configuration, with an empty sysctl file (the namespace's sysctls are its own,
/// but nothing needs changing).
fn ufw_root(dir: &Path) -> (PathBuf, PathBuf) {
    let etc = dir.join("etc-ufw");
    cp_a("/etc/ufw", &etc);
    std::fs::write(etc.join("sysctl.conf"), "").expect("blank sysctl.conf");
    let default = dir.join("default-ufw");
    cp_a("/etc/default/ufw", &default);
    (etc, default)
}

fn ufw_sandbox(dir: &Path, etc: &Path, default: &Path, driver: &str) -> Output {
    let hosts = hosts_file(dir);
    sandbox(
        dir,
        true,
        &[
            (etc, "/etc/ufw"),
            (default, "/etc/default/ufw"),
            (&hosts, "/etc/hosts"),
        ],
        &["/run"],
        driver,
    )
}

/// What `ufw show added` lines tagged fwtopo allow; also checks every line's shape.
fn ufw_flows(added: &str) -> Result<(Flows, Vec<Line>), String> {
    let mut f = Flows::new();
    let mut order = Vec::new();
    for l in added.lines() {
        let Some(body) = l
            .strip_prefix("ufw ")
            .and_then(|b| b.strip_suffix(" comment 'fwtopo'"))
        else {
            continue;
        };
        let w: Vec<&str> = body.split_whitespace().collect();
        let (dir, proto, peer, ports) = match w.as_slice() {
            ["allow", pp] | ["allow", "out", pp] => {
                let (p, proto) = pp.split_once('/').ok_or(format!("bad rule {l}"))?;
                (
                    if w.len() == 3 { "out" } else { "in" },
                    proto,
                    "any".to_string(),
                    port_list(p),
                )
            }
            ["allow", "from", a, "to", "any", "port", p, "proto", proto] => {
                ("in", *proto, peer_key(a), port_list(p))
            }
            ["allow", "out", "to", a, "port", p, "proto", proto] => {
                ("out", *proto, peer_key(a), port_list(p))
            }
            _ => return Err(format!("unexpected rule {l}")),
        };
        add(&mut f, dir, proto, peer.clone(), &ports);
        order.push((dir.to_string(), proto.to_string(), peer, ports));
    }
    Ok((f, order))
}

const UFW_STATE: &str = "for f in user.rules user6.rules ufw.conf; do echo \"@@ $f\"; cat /etc/ufw/$f; done; echo '@@ default'; cat /etc/default/ufw; echo '@@ added'; ufw show added; echo '@@ status'; ufw status verbose; echo '@@ end'";

fn ufw_check(ex: &str, t: &Topology, node: &str, egress: Egress) -> Result<(), String> {
    let cat = catalog();
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let script = dir.path().join("ufw.sh");
    std::fs::write(&script, support::render(&cat, t, node, Target::Ufw, egress)).expect("write");
    let who = format!("ufw {ex}/{node}/{egress:?}");
    // A foreign rule that must survive; two runs, the state after each.
    let driver = format!(
        "set -e\nufw allow 8888/tcp comment operator >/dev/null\n\
         bash '{s}' --no-confirm >/dev/null 2>'{e}' || {{ cat '{e}'; exit 1; }}\n\
         echo @@one; {UFW_STATE}\n\
         bash '{s}' --no-confirm >/dev/null 2>&1\n\
         echo @@two; {UFW_STATE}\n\
         echo @@iptables; iptables -S ufw-user-input | wc -l\n",
        s = script.display(),
        e = dir.path().join("err1").display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || !text.contains("@@iptables") {
        return Err(format!(
            "{who}: failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let one = text
        .split("@@one")
        .nth(1)
        .and_then(|s| s.split("@@two").next())
        .unwrap_or_default();
    let two = text
        .split("@@two")
        .nth(1)
        .and_then(|s| s.split("@@iptables").next())
        .unwrap_or_default();
    if one != two {
        return Err(format!(
            "{who}: second run changed the rules:\n--- one\n{one}\n--- two\n{two}"
        ));
    }
    let added = one
        .split("@@ added")
        .nth(1)
        .and_then(|s| s.split("@@ status").next())
        .unwrap_or_default();
    if !added.contains("ufw allow 8888/tcp comment 'operator'") {
        return Err(format!("{who}: the operator's rule is gone"));
    }
    let status = one.split("@@ status").nth(1).unwrap_or_default();
    let out_policy = if egress == Egress::Strict {
        "deny (outgoing)"
    } else {
        "allow (outgoing)"
    };
    if !status.contains("Status: active")
        || !status.contains("deny (incoming)")
        || !status.contains(out_policy)
    {
        return Err(format!("{who}: status:\n{status}"));
    }
    let rules = enforced(&cat, t, node, egress);
    let (got, order) = ufw_flows(added).map_err(|e| format!("{who}: {e}"))?;
    let want = expected(&rules, true);
    if got != want {
        return Err(format!(
            "{who}: allows something else:\n{}",
            diff(&got, &want)
        ));
    }
    // Management first: ufw lists IPv4 rules, then IPv6 ones, each in the order they were added.
    let mgmt = expected(&management(&rules), true);
    for fam6 in [false, true] {
        // Rules open to any (both families) are listed once, among the IPv4 ones.
        let lines: Vec<_> = order
            .iter()
            .filter(|(_, _, p, _)| p.contains(':') == fam6)
            .collect();
        let k = lines
            .iter()
            .take_while(|(d, pr, p, ps)| covered(&mgmt, d, pr, p, ps))
            .count();
        let total = lines
            .iter()
            .filter(|(d, pr, p, ps)| covered(&mgmt, d, pr, p, ps))
            .count();
        if k != total {
            return Err(format!("{who}: a management rule comes after another rule"));
        }
    }
    let loaded: usize = text
        .rsplit("@@iptables")
        .next()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0);
    if loaded < 2 {
        return Err(format!("{who}: no rules loaded into the kernel"));
    }
    Ok(())
}

#[test]
fn ufw_accepts_every_export_and_reruns_identically() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let started = Instant::now();
    let mut jobs = Vec::new();
    for (ex, t, node) in representative_nodes() {
        jobs.push((ex.clone(), t.clone(), node.clone(), Egress::Open));
        if ex == "plesk-automation" || ex == "mailstore-spe" {
            jobs.push((ex, t, node, Egress::Strict));
        }
    }
    let n = jobs.len();
    run_parallel(jobs, |(ex, t, node, e)| ufw_check(&ex, &t, &node, e));
    eprintln!(
        "ufw: {n} exports applied twice in {:.1?}",
        started.elapsed()
    );
}

#[test]
fn ufw_removes_only_its_stale_rules() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let strict = dir.path().join("strict.sh");
    let open = dir.path().join("open.sh");
    std::fs::write(
        &strict,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Strict),
    )
    .expect("write");
    std::fs::write(
        &open,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
    )
    .expect("write");
    let driver = format!(
        "set -e\nbash '{o}' --no-confirm >/dev/null 2>&1\necho @@a; ufw show added\n\
         ufw allow from 192.0.2.9 to any port 7 proto tcp comment fwtopo >/dev/null\n\
         ufw allow 9/udp comment operator >/dev/null\n\
         bash '{s}' --no-confirm >/dev/null 2>&1\n\
         bash '{o}' --no-confirm >/dev/null 2>&1\necho @@b; ufw show added\necho @@end\n",
        o = open.display(),
        s = strict.display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("@@end"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = text
        .split("@@a")
        .nth(1)
        .and_then(|s| s.split("@@b").next())
        .unwrap_or_default();
    let b = text
        .split("@@b")
        .nth(1)
        .and_then(|s| s.split("@@end").next())
        .unwrap_or_default();
    assert!(!b.contains("192.0.2.9"), "stale tagged rule kept:\n{b}");
    assert!(
        !b.contains("allow out"),
        "strict outbound rules kept after switching to open:\n{b}"
    );
    assert!(
        b.contains("ufw allow 9/udp comment 'operator'"),
        "foreign rule removed:\n{b}"
    );
    assert_eq!(a, b.replace("ufw allow 9/udp comment 'operator'\n", ""));
}

#[test]
fn ufw_safe_apply_rolls_back_unless_confirmed() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("ufw")
        || !support::require("script")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    for (answer, kept) in [("", false), ("yes", true)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (etc, default) = ufw_root(dir.path());
        let s = dir.path().join("ufw.sh");
        let state = dir.path().join("state");
        std::fs::write(
            &s,
            support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
        )
        .expect("write");
        // `script` gives the run a terminal; the answer (or nothing) arrives on it.
        let driver = format!(
            "before=$(cat /etc/ufw/user.rules)\n\
             printf '{answer}\\n' | FWTOPO_CONFIRM_SECONDS=3 FWTOPO_STATE_DIR='{st}' script -qec \"bash '{s}'\" /dev/null >/dev/null 2>&1\n\
             echo \"@@rc=$?\"\n\
             if [ \"$(cat /etc/ufw/user.rules)\" = \"$before\" ]; then echo @@restored; fi\n\
             grep -q '^ENABLED=yes' /etc/ufw/ufw.conf && echo @@enabled\n\
             sleep 1; pgrep -f '{st}/ufw-rollback.sh --after' >/dev/null && echo @@timer-left\n\
             echo @@end\n",
            answer = if answer.is_empty() { "" } else { answer },
            st = state.display(),
            s = s.display()
        );
        // Without an answer the prompt would wait out its 3 s; an empty line answers "not yes".
        let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("@@end"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains("@@timer-left"),
            "the roll-back timer was left running"
        );
        if kept {
            assert!(
                text.contains("@@rc=0")
                    && text.contains("@@enabled")
                    && !text.contains("@@restored"),
                "{text}"
            );
        } else {
            assert!(
                text.contains("@@restored") && !text.contains("@@enabled"),
                "not rolled back: {text}"
            );
        }
        assert!(state.join("ufw-rollback.sh").exists() && state.join("ufw-backup.tar").exists());
    }
}

/// Automation's confirm channel (the Ansible rollout): with `FWTOPO_CONFIRM_FILE` the script
/// needs no terminal; it writes `FILE.waiting` once the new rules are live and keeps them only when
/// FILE appears within `FWTOPO_CONFIRM_SECONDS`.
#[test]
fn ufw_safe_apply_confirms_through_a_file() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    for confirmed in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (etc, default) = ufw_root(dir.path());
        let s = dir.path().join("ufw.sh");
        let state = dir.path().join("state");
        let confirm = dir.path().join("confirm");
        std::fs::write(
            &s,
            support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
        )
        .expect("write");
        let driver = format!(
            "before=$(cat /etc/ufw/user.rules)\n\
             FWTOPO_CONFIRM_FILE='{c}' FWTOPO_CONFIRM_SECONDS=4 FWTOPO_STATE_DIR='{st}' bash '{s}' </dev/null >/dev/null 2>&1 & job=$!\n\
             for i in $(seq 1 300); do [ -e '{c}.waiting' ] && break; sleep 0.1; done\n\
             [ -e '{c}.waiting' ] && echo @@waiting\n\
             {touch}\n\
             wait $job; echo \"@@rc=$?\"\n\
             if [ \"$(cat /etc/ufw/user.rules)\" = \"$before\" ]; then echo @@restored; fi\n\
             grep -q '^ENABLED=yes' /etc/ufw/ufw.conf && echo @@enabled\n\
             [ -e '{c}.waiting' ] && echo @@marker-left\n\
             echo @@end\n",
            c = confirm.display(),
            st = state.display(),
            s = s.display(),
            touch = if confirmed {
                format!("touch '{}'", confirm.display())
            } else {
                String::new()
            },
        );
        let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("@@end") && text.contains("@@waiting"),
            "{text}{err}"
        );
        assert!(!text.contains("@@marker-left"), "{text}");
        if confirmed {
            assert!(
                text.contains("@@rc=0")
                    && text.contains("@@enabled")
                    && !text.contains("@@restored"),
                "{text}{err}"
            );
        } else {
            assert!(
                !text.contains("@@rc=0")
                    && text.contains("@@restored")
                    && !text.contains("@@enabled"),
                "not rolled back: {text}{err}"
            );
        }
    }
}

/// The session dies (SIGKILL, no EXIT trap) while the script waits for `yes`: only the detached
/// timer is left, and it must restore the old rules on its own.
#[test]
fn ufw_detached_timer_rolls_back_after_a_dropped_session() {
    if !support::require_root()
        || !support::require("unshare")
        || !support::require("ufw")
        || !support::require("script")
    {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let s = dir.path().join("dropped.sh");
    let state = dir.path().join("state");
    std::fs::write(
        &s,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
    )
    .expect("write");
    let driver = format!(
        r#"before=$(cat /etc/ufw/user.rules)
# A terminal whose input stays open with nothing typed: script reads from a FIFO we hold open.
mkfifo '{st}.in'
sleep 120 > '{st}.in' &
FEED=$!
FWTOPO_CONFIRM_SECONDS=3 FWTOPO_STATE_DIR='{st}' script -qec "bash '{s}'" /dev/null < '{st}.in' >/dev/null 2>&1 &
# At the prompt: the short timer (3 s) has replaced the one armed for the apply itself.
for i in $(seq 1 600); do pgrep -f '{st}/ufw-rollback.sh --after 3 ' >/dev/null && break; sleep 0.1; done
grep -q '^ENABLED=yes' /etc/ufw/ufw.conf && echo @@applied
pkill -9 -f "bash {s}"
sleep 6
[ "$(cat /etc/ufw/user.rules)" = "$before" ] && echo @@restored
grep -q '^ENABLED=yes' /etc/ufw/ufw.conf || echo @@disabled
kill $FEED 2>/dev/null || true
echo @@end
"#,
        st = state.display(),
        s = s.display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("@@end"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("@@applied"),
        "the script never reached its prompt: {text}"
    );
    assert!(
        text.contains("@@restored") && text.contains("@@disabled"),
        "the detached timer did not roll back: {text}\n{}",
        std::fs::read_to_string(state.join("rollback.log")).unwrap_or_default()
    );
}

/// `--no-confirm` skips only the question: the backup and the roll-back script are written all the
/// same, and the roll-back restores every file the export changed, the outgoing policy of a strict
/// export included, and ufw's state (here: disabled, as before).
#[test]
fn ufw_no_confirm_still_leaves_a_complete_roll_back() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let s = dir.path().join("strict.sh");
    let state = dir.path().join("state");
    std::fs::write(
        &s,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Strict),
    )
    .expect("write");
    let driver = format!(
        "set -e\n{UFW_STATE} > '{d}/before'\n\
         FWTOPO_STATE_DIR='{st}' bash '{s}' --no-confirm >/dev/null 2>'{d}/apply.err'\n\
         ufw status verbose | grep -q 'deny (outgoing)' && echo @@strict\n\
         [ -f '{st}/ufw-rollback.sh' ] || {{ echo @@no-rollback; exit 0; }}\n\
         bash '{st}/ufw-rollback.sh' >/dev/null 2>&1\n\
         {UFW_STATE} > '{d}/after'\n\
         echo @@end\n",
        d = dir.path().display(),
        st = state.display(),
        s = s.display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout);
    let log = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap_or_default();
    assert!(
        text.contains("@@strict"),
        "the export was not applied: {text}{}",
        log("apply.err")
    );
    assert!(
        !text.contains("@@no-rollback"),
        "--no-confirm left no roll-back script"
    );
    assert!(text.contains("@@end"), "{text}");
    assert_eq!(
        log("before"),
        log("after"),
        "the roll-back restored something else"
    );
}

/// Rules fwtopo did not write are reported (and deleted only on `--remove-untagged`); an
/// operator's rule identical to one fwtopo wants stays the operator's: ufw would re-tag it
/// `fwtopo` (a rule that differs only by comment is the same rule), and a later run that no longer
/// wants it would delete it.
#[test]
fn ufw_reports_foreign_rules_and_leaves_the_operators_identical_rule_alone() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let open = dir.path().join("open.sh");
    let strict = dir.path().join("strict.sh");
    for (p, e) in [(&open, Egress::Open), (&strict, Egress::Strict)] {
        std::fs::write(p, support::render(&cat, &t, "pa-mn", Target::Ufw, e)).expect("write");
    }
    let mine = "ufw allow from 198.51.100.0/28 to any port 22 proto tcp";
    let driver = format!(
        "set -e\nufw allow 3306/tcp >/dev/null\nufw route allow 8080/tcp >/dev/null 2>&1\n{mine} >/dev/null\n\
         bash '{o}' --no-confirm >/dev/null 2>'{d}/one.err'\n\
         echo @@one; ufw show added\n\
         bash '{s}' --no-confirm >/dev/null 2>&1\nbash '{o}' --no-confirm >/dev/null 2>&1\n\
         echo @@two; ufw show added\n\
         bash '{o}' --no-confirm --remove-untagged >/dev/null 2>'{d}/three.err' || true\n\
         echo @@three; ufw show added\necho @@end\n",
        o = open.display(),
        s = strict.display(),
        d = dir.path().display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap_or_default();
    assert!(
        text.contains("@@end"),
        "{text}{}{}",
        String::from_utf8_lossy(&out.stderr),
        log("one.err")
    );
    let part = |a: &str, b: &str| -> String {
        text.split(a)
            .nth(1)
            .and_then(|s| s.split(b).next())
            .unwrap_or_default()
            .to_string()
    };
    let (one, two, three) = (
        part("@@one", "@@two"),
        part("@@two", "@@three"),
        part("@@three", "@@end"),
    );
    for (when, added) in [("first run", &one), ("after strict and open", &two)] {
        assert!(
            added.lines().any(|l| l == mine),
            "{when}: the operator's own SSH rule was taken over or removed:\n{added}"
        );
        assert!(
            added.lines().any(|l| l == "ufw allow 3306/tcp"),
            "{when}: {added}"
        );
    }
    let report = log("one.err");
    assert!(
        report.contains("ufw allow 3306/tcp") && report.contains("--remove-untagged"),
        "the foreign rule is not reported:\n{report}"
    );
    assert!(
        !three.lines().any(|l| l == "ufw allow 3306/tcp"),
        "--remove-untagged left the foreign rule:\n{three}{}",
        log("three.err")
    );
    // A forwarding rule is deleted as `ufw route delete ...` (`ufw delete route ...` fails, and
    // the failed run rolled everything back).
    assert!(
        one.lines().any(|l| l == "ufw route allow 8080/tcp"),
        "the test's forwarding rule is missing:\n{one}"
    );
    assert!(
        !three.lines().any(|l| l.starts_with("ufw route")),
        "--remove-untagged left the foreign forwarding rule:\n{three}{}",
        log("three.err")
    );
    assert!(
        three.lines().any(|l| l == mine),
        "--remove-untagged removed the operator's rule that the design wants anyway:\n{three}"
    );
}

/// After an edit the management rules are still the first rules: they are prepended, not appended.
#[test]
fn ufw_keeps_management_first_after_an_edit() {
    if !support::require_root() || !support::require("unshare") || !support::require("ufw") {
        return;
    }
    let cat = catalog();
    let t = support::example("plesk-automation");
    let mut edited = t.clone();
    let admin = edited
        .zones
        .iter_mut()
        .find(|z| z.name == "admin")
        .expect("admin zone");
    admin.cidrs = vec!["198.51.100.16/28".parse().expect("cidr")];
    let dir = tempfile::tempdir().expect("temp dir");
    let (etc, default) = ufw_root(dir.path());
    let before = dir.path().join("before.sh");
    let after = dir.path().join("after.sh");
    std::fs::write(
        &before,
        support::render(&cat, &t, "pa-mn", Target::Ufw, Egress::Open),
    )
    .expect("write");
    std::fs::write(
        &after,
        support::render(&cat, &edited, "pa-mn", Target::Ufw, Egress::Open),
    )
    .expect("write");
    let driver = format!(
        "set -e\nbash '{b}' --no-confirm >/dev/null 2>&1\nbash '{a}' --no-confirm >/dev/null 2>&1\n\
         echo @@added; ufw show added\necho @@end\n",
        b = before.display(),
        a = after.display()
    );
    let out = ufw_sandbox(dir.path(), &etc, &default, &driver);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("@@end"), "{text}");
    let first = text
        .split("@@added")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.starts_with("ufw ")))
        .unwrap_or_default();
    assert_eq!(
        first, "ufw allow from 198.51.100.16/28 to any port 22 proto tcp comment 'fwtopo'",
        "the edited admin SSH rule is not the first rule:\n{text}"
    );
}
