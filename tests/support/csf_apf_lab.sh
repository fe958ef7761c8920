#!/bin/bash
# The lab driver of tests/csf_apf_tools.rs: installs the real CSF or APF from its upstream tarball
# and runs one node's fwtopo export through it, inside the node's network namespace and a private
# mount namespace (`ip netns exec NODE unshare -m --propagation private bash this`).
#
# Nothing outside the namespaces changes: /etc, /usr and /var are overlays on LAB_SCRATCH, /run is a
# fresh tmpfs, and stubs stand in for modprobe (no module into the shared kernel), systemctl (no
# service manager) and curl/wget (nothing is fetched). Results go to LAB_OUT, for the test to read:
#   failures            one line per step that went wrong (absent when all went right)
#   state-PHASE         iptables-save, ip6tables-save and the files the export touches
#   probes-PHASE        one line per probe: NAME ok|no
#   *.log               what each step printed
#
# Input (environment): LAB_TOOL csf|apf, LAB_TARBALL, LAB_SCRIPT (the export), LAB_SCRATCH, LAB_OUT,
# LAB_PEER_NS (the peer's /run/netns file), LAB_IFACE, LAB_PORTS (listeners), LAB_PROBES (a file of
# lines "NAME DESTINATION PORT SOURCE", in socat's address syntax).
set -u
out=$LAB_OUT
s=$LAB_SCRATCH
fail() { echo "$*" >> "$out/failures"; }
# mark STEP: when each step ended, for the test's timing line.
mark() { echo "$1 $(date +%s.%N)" >> "$out/times"; }
die() { fail "$*"; exit 1; }

# The stubs must land inside the overlays: /sbin and /bin have to be links into /usr.
[ "$(readlink -f /sbin)" = /usr/sbin ] && [ "$(readlink -f /bin)" = /usr/bin ] ||
    die "needs a merged /usr (/sbin and /bin linked into /usr)"
# The peer's namespace stays reachable after /run is replaced.
: > "$s/peer.ns"
mount --bind "$LAB_PEER_NS" "$s/peer.ns" || die "cannot bind $LAB_PEER_NS"
for d in etc usr var; do
    mkdir -p "$s/$d.upper" "$s/$d.work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$s/$d.upper,workdir=$s/$d.work" "/$d" ||
        die "cannot overlay /$d"
done
mount -t tmpfs tmpfs /run || die "cannot mount /run"
stub() { printf '#!/bin/sh\nexit %s\n' "$2" > "$1" && chmod 755 "$1"; }
stub /usr/sbin/modprobe 0
stub /usr/bin/systemctl 1
stub /usr/bin/curl 1
stub /usr/bin/wget 1

LISTENERS=()
for p in $LAB_PORTS; do
    socat "TCP6-LISTEN:$p,fork,reuseaddr,ipv6only=0" EXEC:/bin/true 2>/dev/null &
    LISTENERS+=($!)
done
trap 'kill "${LISTENERS[@]}" 2>/dev/null' EXIT

# probes PHASE: every probe at once, each a TCP connect from the peer's namespace.
probes() {
    local pids=() n dst port src
    mkdir -p "$out/p.$1"
    while read -r n dst port src; do
        (
            if timeout 6 nsenter --net="$s/peer.ns" socat -u OPEN:/dev/null \
                "TCP:$dst:$port,bind=$src,connect-timeout=2" 2>/dev/null; then
                echo "$n ok"
            else
                echo "$n no"
            fi > "$out/p.$1/$n"
        ) &
        pids+=($!)
    done < "$LAB_PROBES"
    wait "${pids[@]}"
    cat "$out/p.$1"/* > "$out/probes-$1"
    rm -rf "$out/p.$1"
}

case "$LAB_TOOL" in
    csf) FILES="/etc/csf/csf.conf /etc/csf/csf.allow /etc/csf/csf.dyndns /etc/csf/fwtopo.allow /etc/csf/fwtopo.dyndns" ;;
    apf) FILES="/etc/apf/conf.apf /etc/apf/allow_hosts.rules" ;;
    *) die "unknown tool $LAB_TOOL" ;;
esac
# state PHASE: the kernel's rules of both families and the files the export touches.
state() {
    {
        echo "@@ iptables"
        iptables-save
        echo "@@ ip6tables"
        ip6tables-save
        for f in $FILES; do
            echo "@@ $f"
            if [ -e "$f" ]; then cat "$f"; else echo "(absent)"; fi
        done
    } > "$out/state-$1" 2>&1
}

# Before any firewall: every probe must connect (the lab works).
mark start
sleep 0.2
probes open
mark lab

mkdir -p "$s/src"
tar -xzf "$LAB_TARBALL" -C "$s/src" || die "cannot unpack $LAB_TARBALL"
case "$LAB_TOOL" in
    csf)
        (cd "$s"/src/csf-*/src && sh install.sh) > "$out/install.log" 2>&1 || die "install.sh failed"
        ;;
    apf)
        (cd "$s"/src/apf-* && bash install.sh) > "$out/install.log" 2>&1 || die "install.sh failed"
        # The namespace's interface, and no flush every 5 minutes (README of shared/tools). The
        # lab's addresses are documentation ranges, which APF's reserved-networks list drops
        # (BLK_RESNET): real peers are not in it.
        sed -i -e "s/^IFACE_UNTRUSTED=.*/IFACE_UNTRUSTED=\"$LAB_IFACE\"/" \
            -e 's/^DEVEL_MODE=.*/DEVEL_MODE="0"/' -e 's/^BLK_RESNET=.*/BLK_RESNET="0"/' \
            /etc/apf/conf.apf
        ;;
esac
command -v "$LAB_TOOL" > /dev/null || die "$LAB_TOOL not on PATH after install.sh"
# The operator's firewall before fwtopo: the tool running with its own defaults.
"$LAB_TOOL" -r > "$out/defaults.log" 2>&1 || die "$LAB_TOOL -r with its defaults failed"
state before
mark install

# 1. A safe apply that is not confirmed rolls back by itself (an empty answer on a terminal).
printf '\n' | FWTOPO_CONFIRM_SECONDS=2 script -qec "bash '$LAB_SCRIPT'" /dev/null \
    > "$out/unconfirmed.log" 2>&1
state unconfirmed
mark unconfirmed

# 2. Applied without confirmation: the design holds. (The state directory goes first, so the
# roll-back script below can only be the one this run wrote.)
rm -rf /var/lib/fwtopo
bash "$LAB_SCRIPT" --no-confirm > "$out/apply.log" 2>&1 || fail "apply --no-confirm failed (apply.log)"
state applied
mark apply
probes applied
mark probes

# 3. The roll-back script that run left restores the state before it.
rollback="/var/lib/fwtopo/$LAB_TOOL-rollback.sh"
if [ -f "$rollback" ]; then
    bash "$rollback" > "$out/rollback.log" 2>&1 || fail "the roll-back script failed (rollback.log)"
else
    fail "apply --no-confirm left no roll-back script"
fi
state rolled-back
mark rollback

# 4. Applied again: the same rules as the first time.
bash "$LAB_SCRIPT" --no-confirm > "$out/again.log" 2>&1 || fail "second apply failed (again.log)"
state again
mark again
exit 0
