#!/bin/bash
# The lab driver of tests/csf_apf_tools.rs: installs the real CSF or APF once from its upstream
# tarball, then runs node after node's fwtopo export through it, inside the node's network namespace
# and a private mount namespace (`ip netns exec NODE unshare -m --propagation private bash this`).
#
# Nothing outside the namespaces changes: /etc, /usr and /var are overlays on LAB_SCRATCH, /run is a
# fresh tmpfs, and stubs stand in for modprobe (no module into the shared kernel), systemctl (no
# service manager) and curl/wget (nothing is fetched).
#
# Input (environment): LAB_TOOL csf|apf, LAB_TARBALL, LAB_SCRATCH, LAB_OUT, LAB_PEER_NS (the peer's
# /run/netns file), LAB_IFACE, LAB_ROUTES (the
# documentation ranges, routed on both ends), LAB_PORTS (listeners, the union over all cases), LAB_HOSTS (lines for
# /etc/hosts), LAB_CASES (a directory of case directories, run in name order), each holding:
#   script    the export          addrs    the node's addresses, one CIDR a line
#   sources   the peer's addresses          probes   lines "NAME DESTINATION PORT SOURCE ok|no" (socat
#                                           syntax; ok: the plan allows it)
#   full      (present or not) also an unconfirmed safe apply first and a second apply last
# Results go to LAB_OUT/CASE/, for the test to read:
#   failures            one line per step that went wrong (absent when all went right)
#   state-PHASE         iptables-save, ip6tables-save and the files the export touches
#   probes-PHASE        one line per probe: NAME ok|no
#   *.log, times        what each step printed, when each step ended
# and LAB_OUT/failures for what went wrong before any case.
set -u
s=$LAB_SCRATCH
out=$LAB_OUT
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
# Host names of the design resolve to documentation addresses, never through DNS.
printf '%s\n' "$LAB_HOSTS" > /etc/hosts

LISTENERS=()
for p in $LAB_PORTS; do
    socat "TCP6-LISTEN:$p,fork,reuseaddr,ipv6only=0" EXEC:/bin/true 2>/dev/null &
    LISTENERS+=($!)
done
trap 'kill "${LISTENERS[@]}" 2>/dev/null' EXIT
peer() { nsenter --net="$s/peer.ns" "$@"; }

# connect SECONDS DST PORT SRC: one TCP connect from the peer's namespace.
connect() {
    timeout $(($1 + 3)) nsenter --net="$s/peer.ns" socat -u OPEN:/dev/null \
        "TCP:$2:$3,bind=$4,connect-timeout=$1" 2>/dev/null
}
# probes PHASE: every probe of the case at once. A drop costs the first try's second; a probe the
# plan allows (or any, in phase open) gets a second, longer try before it counts as dropped.
probes() {
    local pids=() n dst port src allowed
    mkdir -p "$o/p.$1"
    while read -r n dst port src allowed; do
        [ "$1" = open ] && allowed=ok
        (
            if connect 1 "$dst" "$port" "$src" ||
                { [ "$allowed" = ok ] && connect 3 "$dst" "$port" "$src"; }; then
                echo "$n ok"
            else
                echo "$n no"
            fi > "$o/p.$1/$n"
        ) &
        pids+=($!)
    done < "$c/probes"
    wait "${pids[@]}"
    cat "$o/p.$1"/* > "$o/probes-$1"
    rm -rf "$o/p.$1"
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
    } > "$o/state-$1" 2>&1
}

mark start
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
        # `apf -r` waits 2 s between its flush and its start; nothing here needs the pause, and
        # 44 restarts would spend minutes in it.
        sed -i 's/^\([[:space:]]*\)sleep 2$/\1:/' /etc/apf/apf
        ;;
esac
command -v "$LAB_TOOL" > /dev/null || die "$LAB_TOOL not on PATH after install.sh"
# The operator's firewall before fwtopo: the tool running with its own defaults. Every case starts
# from what the roll-back of the one before left, which must be this again.
"$LAB_TOOL" -r > "$out/defaults.log" 2>&1 || die "$LAB_TOOL -r with its defaults failed"
mark install

for c in "$LAB_CASES"/*/; do
    c=${c%/}
    o="$out/$(basename "$c")"
    mkdir -p "$o"
    # The case's addresses on both ends (link-local ones stay).
    ip addr flush dev "$LAB_IFACE" scope global
    peer ip addr flush dev eth0 scope global
    while read -r a; do ip addr add "$a" dev "$LAB_IFACE" nodad 2>/dev/null ||
        ip addr add "$a" dev "$LAB_IFACE"; done < "$c/addrs"
    while read -r a; do peer ip addr add "$a" dev eth0 nodad 2>/dev/null ||
        peer ip addr add "$a" dev eth0; done < "$c/sources"
    # An interface that loses its last IPv4 address loses its IPv4 routes with it.
    for r in $LAB_ROUTES; do
        ip route replace "$r" dev "$LAB_IFACE"
        peer ip route replace "$r" dev eth0
    done
    echo "start $(date +%s.%N)" > "$o/times"
    mark() { echo "$1 $(date +%s.%N)" >> "$o/times"; }
    fail() { echo "$*" >> "$o/failures"; }
    state before
    # The lab itself: with the filter tables open for a moment every probe connects (listeners,
    # addresses, routes), so a probe dropped later is the firewall's doing. The tool's rules are
    # saved and loaded back as they were (the roll-back check compares with `before`).
    iptables-save > "$o/keep.v4" && ip6tables-save > "$o/keep.v6" || fail "cannot save the rules"
    printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' > "$o/open"
    iptables-restore < "$o/open" && ip6tables-restore < "$o/open" || fail "cannot open the filter tables"
    probes open
    iptables-restore < "$o/keep.v4" && ip6tables-restore < "$o/keep.v6" || fail "cannot load the rules back"
    mark lab
    if [ -e "$c/full" ]; then
        # A safe apply that is not confirmed rolls back by itself (an empty answer on a terminal).
        printf '\n' | FWTOPO_CONFIRM_SECONDS=2 script -qec "bash '$c/script'" /dev/null \
            > "$o/unconfirmed.log" 2>&1
        state unconfirmed
        mark unconfirmed
    fi
    # Applied without confirmation: the design holds. (The state directory goes first, so the
    # roll-back script below can only be the one this run wrote.)
    rm -rf /var/lib/fwtopo
    bash "$c/script" --no-confirm > "$o/apply.log" 2>&1 || fail "apply --no-confirm failed (apply.log)"
    state applied
    mark apply
    probes applied
    mark probes
    # The roll-back script that run left restores the state before it.
    rollback="/var/lib/fwtopo/$LAB_TOOL-rollback.sh"
    if [ -f "$rollback" ]; then
        bash "$rollback" > "$o/rollback.log" 2>&1 || fail "the roll-back script failed (rollback.log)"
    else
        fail "apply --no-confirm left no roll-back script"
    fi
    state rolled-back
    mark rollback
    if [ -e "$c/full" ]; then
        # Applied again: the same rules as the first time; its roll-back (backed up from the
        # defaults) leads back to them, for the next case.
        bash "$c/script" --no-confirm > "$o/again.log" 2>&1 || fail "second apply failed (again.log)"
        state again
        bash "$rollback" > "$o/rollback-again.log" 2>&1 || fail "the second roll-back failed"
        state rolled-back-again
        mark again
    fi
    touch "$o/done"
done
exit 0
