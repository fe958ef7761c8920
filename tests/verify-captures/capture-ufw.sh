#!/bin/bash
# Regenerates pa-mn.{strict,open}.ufw: pa-mn's own ufw export applied to the real ufw in a private
# mount and network namespace (copies of /etc/ufw and /etc/default/ufw bound over them), captured
# as `fwtopo verify --help` says: ufw status verbose; ufw show added.
# Usage (as root): bash tests/verify-captures/capture-ufw.sh path/to/fwtopo
set -euo pipefail
fwtopo=${1:?path to the fwtopo binary}
here=$(cd "$(dirname "$0")" && pwd)
site="$here/../../examples/plesk-automation.ron"
for egress in strict open; do
    tmp=$(mktemp -d)
    cp -a /etc/ufw "$tmp/etc-ufw"
    : > "$tmp/etc-ufw/sysctl.conf"
    cp -a /etc/default/ufw "$tmp/default-ufw"
    "$fwtopo" export "$site" --node pa-mn -t ufw --egress "$egress" > "$tmp/pa-mn.ufw.sh"
    unshare -m -n bash -c "mount --make-rprivate / && mount --bind '$tmp/etc-ufw' /etc/ufw \
        && mount --bind '$tmp/default-ufw' /etc/default/ufw && mount -t tmpfs tmpfs /run \
        && ip link set lo up && export FWTOPO_STATE_DIR='$tmp/state' \
        && bash '$tmp/pa-mn.ufw.sh' --no-confirm >/dev/null 2>&1 \
        && { ufw status verbose; ufw show added; }" > "$here/pa-mn.$egress.ufw"
    rm -rf "$tmp"
done
