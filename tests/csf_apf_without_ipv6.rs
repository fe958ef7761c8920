//! CSF and APF safe apply on a kernel without IPv6 (booted with `ipv6.disable=1`): there
//! `/proc/sys/net/ipv6` does not exist and `ip6tables-save` fails. The backup before the apply
//! must not refuse there: it keeps the IPv4 rules only and says so, turns the tool's IPv6 filtering
//! off (the tool would fail on it), and the roll-back restores IPv4 alone. Where IPv6 exists, a
//! failing `ip6tables-save` still refuses with nothing changed, and IPv6 filtering is turned on.
//!
//! Each script runs live (no `FWTOPO_ROOT`) in a private mount and network namespace: `/etc` is
//! an overlay holding the tool's configuration, stubs stand in for the tool and the netfilter
//! save and restore commands (they record what they are asked), and a tmpfs over `/proc/sys/net`
//! is the kernel without IPv6. Needs root (`SKIPPED` otherwise, a failure in CI).

#[path = "support/linux_exports.rs"]
mod linux_exports;
#[allow(dead_code)]
#[path = "support/linux_tools_grammar.rs"]
mod linux_tools_grammar;
mod support;

use fwtopo::export::Egress;
use fwtopo::target::Target;
use linux_exports::{catalog, sandbox};
use std::path::Path;

/// The IPv4 rules before the apply, as the `iptables-save` stub prints them.
const V4_BEFORE: &str = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 198.51.100.77/32 -j ACCEPT\nCOMMIT\n";
const CSF_CONF: &str = "TESTING = \"1\"\nTCP_IN = \"22\"\nTCP_OUT = \"1:65535\"\nUDP_IN = \"\"\nUDP_OUT = \"1:65535\"\nIPV6 = \"0\"\nTCP6_IN = \"22\"\nTCP6_OUT = \"1:65535\"\nUDP6_IN = \"\"\nUDP6_OUT = \"1:65535\"\nDYNDNS = \"0\"\n";
const APF_CONF: &str = "DEVEL_MODE=\"1\"\nUSE_IPV6=\"0\"\nIG_TCP_CPORTS=\"22\"\nIG_UDP_CPORTS=\"\"\nEGF=\"0\"\nEG_TCP_CPORTS=\"21,25,80,443,43\"\nEG_UDP_CPORTS=\"20,21,53\"\n";

/// The kernel the script meets.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kernel {
    /// Booted with ipv6.disable=1: no /proc/sys/net/ipv6, ip6tables-save fails.
    NoIpv6,
    /// IPv6 present, but ip6tables-save fails all the same.
    Ipv6SaveFails,
    /// IPv6 present and working.
    Ipv6,
    /// A first apply kept with IPv6 working, then a second refused by a failing ip6tables-save:
    /// the first apply's roll-back must still restore the rules from before it.
    KeptThenIpv6SaveFails,
}

/// What one run left: the apply's exit status and stderr, the configuration, the recorded calls.
struct Run {
    ok: bool,
    stderr: String,
    conf: String,
    calls: String,
    rollback_ok: bool,
}

fn write_exec(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write stub");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod stub");
}

/// Applies pa-mn's export (IPv4 and IPv6 addresses) for `tool` with `--no-confirm` on `kernel`,
/// then runs the roll-back script it wrote.
fn apply(tool: Target, kernel: Kernel) -> Run {
    let t = support::example("plesk-automation");
    let script = support::render(&catalog(), &t, "pa-mn", tool, Egress::Open);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (bin, calls) = (d.join("bin"), d.join("calls"));
    std::fs::create_dir_all(&bin).expect("mkdir bin");
    std::fs::write(d.join("export.sh"), script).expect("write export");
    std::fs::write(d.join("v4"), V4_BEFORE).expect("write v4");
    let log = |what: &str| format!("echo \"{what} $*\" >> '{}'", calls.display());
    write_exec(&bin.join(tool.as_str()), &log(tool.as_str()));
    write_exec(
        &bin.join("iptables-save"),
        &format!("cat '{}'", d.join("v4").display()),
    );
    let fail = "echo 'ip6tables-save v1.8.9 (nf_tables): Failed to initialize nft: Protocol not supported' >&2; exit 1";
    let v6_save = match kernel {
        Kernel::Ipv6 => String::new(),
        // Works until the driver creates the flag file, between the two applies.
        Kernel::KeptThenIpv6SaveFails => {
            format!("[ ! -e '{}' ] || {{ {fail}; }}", d.join("v6fail").display())
        }
        _ => fail.into(),
    };
    write_exec(&bin.join("ip6tables-save"), &v6_save);
    for restore in ["iptables-restore", "ip6tables-restore"] {
        write_exec(
            &bin.join(restore),
            &format!(
                "{}; cat > '{}'",
                log(restore),
                d.join(format!("{restore}.in")).display()
            ),
        );
    }
    let (dir_name, conf_name, conf) = match tool {
        Target::Csf => ("csf", "csf.conf", CSF_CONF),
        _ => ("apf", "conf.apf", APF_CONF),
    };
    let no_ipv6 = if kernel == Kernel::NoIpv6 {
        "mount -t tmpfs tmpfs /proc/sys/net"
    } else {
        ":"
    };
    let driver = format!(
        r#"set -u
d='{d}'
mkdir -p "$d/etc.u" "$d/etc.w"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/etc.u,workdir=$d/etc.w" /etc || exit 90
mkdir -p /etc/{dir_name}
printf '%s' '{conf}' > /etc/{dir_name}/{conf_name}
printf '# operator\n' > /etc/{dir_name}/{allow}
echo 'version: 2.0.2' > /etc/{dir_name}/VERSION
{no_ipv6} || exit 91
export PATH="$d/bin:$PATH"
{second}bash "$d/export.sh" --no-confirm
echo "apply=$?" > "$d/status"
cp /etc/{dir_name}/{conf_name} "$d/conf"
if [ -f "$FWTOPO_STATE_DIR/{tool}-rollback.sh" ]; then
    bash "$FWTOPO_STATE_DIR/{tool}-rollback.sh" > "$d/rollback.log" 2>&1
    echo "rollback=$?" >> "$d/status"
fi
"#,
        d = d.display(),
        // The first apply, kept; then the rules it made are what iptables-save prints.
        second = if kernel == Kernel::KeptThenIpv6SaveFails {
            "bash \"$d/export.sh\" --no-confirm > \"$d/first.log\" 2>&1 || exit 92\ntouch \"$d/v6fail\"\nprintf '*filter\\n:INPUT DROP [0:0]\\nCOMMIT\\n' > \"$d/v4\"\n"
        } else {
            ""
        },
        allow = if tool == Target::Csf {
            "csf.allow"
        } else {
            "allow_hosts.rules"
        },
        tool = tool.as_str(),
    );
    let out = sandbox(d, true, &[], &[], &driver);
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap_or_default();
    let status = read("status");
    assert!(
        status.contains("apply="),
        "{tool:?} on {kernel:?}: the driver stopped ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        ok: status.contains("apply=0"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        conf: read("conf"),
        calls: read("calls"),
        rollback_ok: status.contains("rollback=0")
            && read("iptables-restore.in").contains("-A INPUT -s 198.51.100.77/32 -j ACCEPT"),
    }
}

fn ipv6_key(tool: Target) -> (&'static str, &'static str) {
    match tool {
        Target::Csf => ("IPV6 = \"1\"", "IPV6 = \"0\""),
        _ => ("USE_IPV6=\"1\"", "USE_IPV6=\"0\""),
    }
}

#[test]
fn csf_and_apf_apply_on_a_kernel_without_ipv6() {
    if !support::require_root() || !support::require("unshare") {
        return;
    }
    for tool in [Target::Csf, Target::Apf] {
        let (on, off) = ipv6_key(tool);
        let r = apply(tool, Kernel::NoIpv6);
        let who = format!("{tool:?} without IPv6");
        assert!(r.ok, "{who}: the apply refused:\n{}", r.stderr);
        assert!(
            r.stderr.contains("IPv4 rules only"),
            "{who}: the apply does not say the backup holds IPv4 only:\n{}",
            r.stderr
        );
        assert!(
            r.conf.contains(off),
            "{who}: IPv6 filtering not off:\n{}",
            r.conf
        );
        assert!(
            r.calls.contains(&format!("{} -r", tool.as_str())),
            "{who}: the tool was not restarted: {}",
            r.calls
        );
        assert!(
            r.rollback_ok,
            "{who}: the roll-back did not restore IPv4: {}",
            r.calls
        );
        assert!(
            !r.calls.contains("ip6tables-restore"),
            "{who}: the roll-back fed ip6tables-restore on a kernel without IPv6: {}",
            r.calls
        );

        let r = apply(tool, Kernel::Ipv6SaveFails);
        let who = format!("{tool:?} with IPv6 and a failing ip6tables-save");
        assert!(!r.ok, "{who}: applied without a backup of the IPv6 rules");
        assert!(
            r.stderr
                .contains("ip6tables-save failed: nothing was changed"),
            "{who}:\n{}",
            r.stderr
        );
        assert!(
            r.conf.contains(off) && !r.calls.contains(" -r"),
            "{who}: refused, but changed something: {}\n{}",
            r.calls,
            r.conf
        );

        // A refused run changes nothing, not even the previous apply's backup and roll-back.
        let r = apply(tool, Kernel::KeptThenIpv6SaveFails);
        let who = format!("{tool:?} kept, then refused by a failing ip6tables-save");
        assert!(!r.ok, "{who}: the second apply went through");
        assert!(
            r.rollback_ok,
            "{who}: the first apply's roll-back no longer restores the rules from before it: {}",
            r.calls
        );

        let r = apply(tool, Kernel::Ipv6);
        let who = format!("{tool:?} with IPv6");
        assert!(r.ok, "{who}: the apply refused:\n{}", r.stderr);
        assert!(
            r.conf.contains(on),
            "{who}: IPv6 filtering not on:\n{}",
            r.conf
        );
        assert!(
            r.rollback_ok && r.calls.contains("ip6tables-restore"),
            "{who}: the roll-back did not restore both families: {}",
            r.calls
        );
    }
}
