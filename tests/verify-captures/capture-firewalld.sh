#!/bin/bash
# Regenerates pa-mn.{strict,open}.firewalld: pa-mn's own firewalld export written with
# firewall-offline-cmd (no daemon) in a private mount and network namespace (a copy of
# /etc/firewalld bound over it, interface eth0), captured as `fwtopo verify --help` says, with
# firewall-offline-cmd for firewall-cmd.
# Usage (as root): bash tests/verify-captures/capture-firewalld.sh path/to/fwtopo
set -euo pipefail
fwtopo=${1:?path to the fwtopo binary}
here=$(cd "$(dirname "$0")" && pwd)
site="$here/../../examples/plesk-automation.ron"
capture='c=firewall-offline-cmd; $c --get-default-zone; $c --list-all-zones; $c --list-all-policies; for s in $($c --get-ipsets); do $c --info-ipset="$s"; done'
for egress in strict open; do
    tmp=$(mktemp -d)
    cp -a /etc/firewalld "$tmp/etc-firewalld"
    "$fwtopo" export "$site" --node pa-mn -t firewalld --egress "$egress" > "$tmp/pa-mn.firewalld.sh"
    unshare -m -n bash -c "mount --make-rprivate / && mount --bind '$tmp/etc-firewalld' /etc/firewalld \
        && mount -t tmpfs tmpfs /run && ip link set lo up && ip link add eth0 type veth peer name eth1 \
        && export FWTOPO_STATE_DIR='$tmp/state' \
        && FWTOPO_INTERFACES=eth0 bash '$tmp/pa-mn.firewalld.sh' --offline --no-confirm >/dev/null 2>&1 \
        && { $capture; }" > "$here/pa-mn.$egress.firewalld"
    rm -rf "$tmp"
done
