#!/usr/bin/env bash
# fwtopo against Aerleon (https://github.com/aerleon/aerleon, `aclgen`) on the same hosts: a Plesk
# Automation site of one management node and N = 10, 100, 1,000 service nodes (benches/fixtures,
# Layout::Blocks), for the targets nftables and Windows netsh (Aerleon: windows_advfirewall), one
# output file per host. Prints wall and CPU time of both and the ratio aclgen / fwtopo.
#
# What Aerleon gets: one YAML policy per host, written here from the fixture's inventory (names,
# OS, roles and addresses, read from `fwtopo rules --json`; the derived rules are not used), with
# one INPUT filter (default drop; Aerleon adds established/related) holding the inbound side of
# every Plesk Automation flow that fwtopo's catalog (assets/catalog/plesk-automation.ron) turns on
# by default, with the catalog's default ports:
#   every node        SSH 22 (Linux) or RDP 3389 and WinRM-HTTPS 5986 (Windows) from the admin zone
#   mn                8880, 8443, 8440 from admin; 80, 8352-8364, 8400, 8412, 8490, 8532 and the
#                     PA.sn_test port 51618 from every service node
#   every SN          8352-8364, 8412, 8490, 8532, 8443 and 51619 from the MN
#   sn-iis            5985 from the MN; 80, 443, 21, 60000-65000 from any
#   sn-smartermail    5985, 9998 from the MN; 25, 465, 587, 110, 995, 143, 993 from any
#   sn-apache         80, 443, 21, 60000-65000 from any
#   sn-postfix        587, 143, 995, 465, 993, 25 from any (110 is off by default)
#   sn-webmail        80, 443 from any
#   sn-database       3306, 5432 from the web nodes (Apache, IIS), webmail nodes and the MN
#   sn-dns            53 tcp and udp from any
#   sn-backup         21, 60000-65000 from every service node and the MN
# Not given to Aerleon, so fwtopo does more per host: the outbound side (fwtopo lists it as
# comments with the default --egress open), DNS/NTP out, the provenance comments, findings,
# apply and roll-back instructions in every header, a node's own address taken out of its peer
# sets, and fwtopo's atomic (fsync'd) write of every file. Aerleon's nftables output has one
# inet table per host with a chain per term; its windows_advfirewall output one netsh line per term.
#
# fwtopo syncs every file it writes (fsync), Aerleon does not; on a disk that dominates fwtopo's
# time. OUT_IN_MEMORY=1 puts both tools' output directories on tmpfs (/dev/shm) instead, where a
# sync costs nothing, to compare the work itself.
#
# Usage: benches/compare-aerleon.sh        (SIZES="10 100" RUNS=1 OUT_IN_MEMORY=1 benches/compare-aerleon.sh)
# Network: only `pip install aerleon` from PyPI into a temporary virtualenv. Everything it creates
# (virtualenv, fixtures, policies, outputs) is under one temporary directory, removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${SIZES:-"10 100 1000"}
runs=${RUNS:-3}
work=$(mktemp -d)
outs=$work
if [ "${OUT_IN_MEMORY:-0}" = 1 ]; then
    outs=$(mktemp -d -p /dev/shm)
fi
trap 'rm -rf "$work" "$outs"' EXIT
export FWTOPO_CONFIG_DIR="$work/config"
mkdir -p "$FWTOPO_CONFIG_DIR"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check aerleon
aclgen="$work/venv/bin/aclgen"
aerleon_version=$("$work/venv/bin/pip" show aerleon | sed -n 's/^Version: //p')

cargo build --release --quiet
bin=target/release/fwtopo

# Writes Aerleon definitions and one policy per host for one target, from fwtopo's inventory.
write_policies() {
    "$work/venv/bin/python" - "$@" <<'PY'
import json, pathlib, sys

inventory, target, base, defs = sys.argv[1:5]
nodes = json.load(open(inventory))["nodes"]
base, defs = pathlib.Path(base), pathlib.Path(defs)
(base / "pol").mkdir(parents=True, exist_ok=True)
defs.mkdir(parents=True, exist_ok=True)

def role(n):
    return n["roles"][0].split("/", 1)[1]

def prefix(a):
    return a + ("/128" if ":" in a else "/32")

groups = {"MN": [], "SN": [], "DB_CLIENTS": []}
for n in nodes:
    r = role(n)
    addrs = [prefix(a) for a in n["addresses"]]
    groups["MN" if r == "mn" else "SN"] += addrs
    if r in ("mn", "sn-apache", "sn-iis", "sn-webmail"):
        groups["DB_CLIENTS"] += addrs
groups["ADMIN"] = ["192.0.2.0/28", "2001:db8:ad::/64"]

with open(defs / "networks.yaml", "w") as f:
    f.write("networks:\n")
    for name, addrs in groups.items():
        f.write(f"  {name}:\n    values:\n")
        f.writelines(f"      - address: {a}\n" for a in addrs)

services = {
    "SSH": [22], "RDP": [3389], "WINRM_HTTPS": [5986], "WINRM_HTTP": [5985],
    "PA_PANEL": [8880, 8443], "PA_API": [8440], "HTTP": [80], "HTTPS": [443],
    "PA_MN_INTERNAL": ["8352-8364", 8400, 8412, 8490, 8532],
    "PA_SN_INTERNAL": ["8352-8364", 8412, 8490, 8532, 8443],
    "PA_MN_TEST": [51618], "PA_SN_TEST": [51619], "FTP": [21], "FTP_PASSIVE": ["60000-65000"],
    "SMARTERMAIL_ADMIN": [9998], "SMTP": [25], "SMTPS": [465], "SUBMISSION": [587],
    "POP3": [110], "POP3S": [995], "IMAP": [143], "IMAPS": [993], "MYSQL": [3306],
    "POSTGRESQL": [5432], "DNS": [53],
}
with open(defs / "services.yaml", "w") as f:
    f.write("services:\n")
    for name, ports in services.items():
        f.write(f"  {name}:\n")
        for p in ports:
            for proto in (["tcp", "udp"] if name == "DNS" else ["tcp"]):
                f.write(f"    - port: {p}\n      protocol: {proto}\n")

MAIL = ["SMTP", "SMTPS", "SUBMISSION", "POP3S", "IMAP", "IMAPS"]
def terms(n):
    r = role(n)
    windows = n["os"].startswith("windows")
    t = [("mgmt", "ADMIN", ["RDP", "WINRM_HTTPS"] if windows else ["SSH"])]
    if r == "mn":
        t += [("panel", "ADMIN", ["PA_PANEL", "PA_API"]),
              ("from-sn", "SN", ["HTTP", "PA_MN_INTERNAL", "PA_MN_TEST"])]
        return t
    t.append(("from-mn", "MN", ["PA_SN_INTERNAL", "PA_SN_TEST"]))
    t += {
        "sn-iis": [("winrm", "MN", ["WINRM_HTTP"]), ("web", None, ["HTTP", "HTTPS", "FTP", "FTP_PASSIVE"])],
        "sn-smartermail": [("admin", "MN", ["WINRM_HTTP", "SMARTERMAIL_ADMIN"]), ("mail", None, MAIL + ["POP3"])],
        "sn-apache": [("web", None, ["HTTP", "HTTPS", "FTP", "FTP_PASSIVE"])],
        "sn-postfix": [("mail", None, MAIL)],
        "sn-webmail": [("web", None, ["HTTP", "HTTPS"])],
        "sn-database": [("db", "DB_CLIENTS", ["MYSQL", "POSTGRESQL"])],
        "sn-dns": [("dns", None, ["DNS"])],
        "sn-backup": [("backup", "MN SN", ["FTP", "FTP_PASSIVE"])],
    }[r]
    return t

header = "nftables: mixed INPUT" if target == "nftables" else "windows_advfirewall: in"
for n in nodes:
    lines = ["filters:\n", "  - header:\n", "      targets:\n", f"        {header}\n", "    terms:\n"]
    for name, src, svcs in terms(n):
        lines.append(f"      - name: {name}\n")
        if src:
            lines.append(f"        source-address: {src}\n")
        lines.append(f"        destination-port: {' '.join(svcs)}\n")
        lines.append("        protocol: " + ("tcp udp" if "DNS" in svcs else "tcp") + "\n")
        lines.append("        action: accept\n")
    (base / "pol" / f"{n['name']}.yaml").write_text("".join(lines))
PY
}

# Runs a command $runs times, each into a fresh directory; sets BEST (the best wall time, from
# bash's EPOCHREALTIME) and CPU (user + system seconds of that run, from /usr/bin/time).
timed() {
    local out=$1
    shift
    BEST=""
    CPU=""
    for _ in $(seq "$runs"); do
        rm -rf "$out"
        mkdir -p "$out"
        local t0=$EPOCHREALTIME
        /usr/bin/time -f '%U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
            cat "$work/err" >&2
            exit 1
        }
        local t1=$EPOCHREALTIME
        local wall
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        if [ -z "$BEST" ] || awk -v a="$wall" -v b="$BEST" 'BEGIN { exit !(a < b) }'; then
            BEST=$wall
            CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$work/time")
        fi
    done
}

echo "fwtopo vs Aerleon $aerleon_version, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), best of $runs, output in $( [ "$outs" = "$work" ] && echo "a directory on disk" || echo "tmpfs")"
printf '%-6s %-26s %6s %10s %9s %10s %9s %8s\n' N target hosts "fwtopo s" "cpu s" "aclgen s" "cpu s" ratio
for n in $sizes; do
    fixture="$work/pa-$n.ron"
    FWTOPO_WRITE_FIXTURE="$fixture" FWTOPO_FIXTURE_SHAPE=pa FWTOPO_FIXTURE_NODES="$n" \
        cargo bench --quiet --bench export 2>"$work/err" || {
        cat "$work/err" >&2
        exit 1
    }
    "$bin" rules "$fixture" --json >"$work/inventory.json"
    for pair in nftables:nftables netsh:windows_advfirewall; do
        ours=${pair%%:*}
        theirs=${pair#*:}
        write_policies "$work/inventory.json" "$theirs" "$work/pol-$theirs-$n" "$work/def-$theirs-$n"
        timed "$outs/out-fwtopo" "$bin" export "$fixture" --target "$ours" --out "$outs/out-fwtopo"
        fw=$BEST fwcpu=$CPU
        timed "$outs/out-aerleon" "$aclgen" --base_directory "$work/pol-$theirs-$n" \
            --definitions_directory "$work/def-$theirs-$n" --output_directory "$outs/out-aerleon"
        ae=$BEST aecpu=$CPU
        hosts=$(find "$outs/out-aerleon" -type f | wc -l)
        ours_files=$(find "$outs/out-fwtopo" -type f ! -name index.txt | wc -l)
        if [ "$hosts" != "$ours_files" ]; then
            echo "host count differs: aclgen wrote $hosts files, fwtopo $ours_files" >&2
            exit 1
        fi
        printf '%-6s %-26s %6s %10s %9s %10s %9s %8s\n' "$n" "$ours/$theirs" "$hosts" "$fw" "$fwcpu" "$ae" "$aecpu" \
            "$(awk -v a="$ae" -v f="$fw" 'BEGIN { if (f > 0) printf "%.1fx", a / f; else print "n/a" }')"
    done
done
echo "ratio = aclgen wall / fwtopo wall (above 1: fwtopo is faster); cpu = user + system (/usr/bin/time, 10 ms steps)."
