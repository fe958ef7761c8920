#!/bin/bash
# Regenerates the captures tests/verify.rs reads: the plesk-automation example's pa-mn node, its own
# exports applied in a throw-away network namespace, captured with the tools verify reads.
# Usage (as root): bash tests/verify-captures/capture.sh path/to/fwtopo
set -euo pipefail
fwtopo=${1:?path to the fwtopo binary}
here=$(cd "$(dirname "$0")" && pwd)
site="$here/../../examples/plesk-automation.ron"
ns=fwtopo-capture-$$
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
for egress in strict open; do
    "$fwtopo" export "$site" --node pa-mn -t nftables --egress "$egress" > "$here/pa-mn.nft"
    ip netns exec "$ns" nft -f "$here/pa-mn.nft"
    ip netns exec "$ns" nft -j list ruleset > "$here/pa-mn.$egress.nft.json"
    ip netns exec "$ns" nft delete table inet fwtopo
done
# iptables last: iptables-nft leaves its (empty) tables behind, which an nft capture names.
for egress in strict open; do
    "$fwtopo" export "$site" --node pa-mn -t iptables --egress "$egress" > "$here/pa-mn.sh"
    ip netns exec "$ns" bash "$here/pa-mn.sh"
    # The tools' dated comments stay: verify reads the family from them.
    ip netns exec "$ns" iptables-save > "$here/pa-mn.$egress.v4"
    ip netns exec "$ns" ip6tables-save > "$here/pa-mn.$egress.v6"
    ip netns exec "$ns" bash "$here/pa-mn.sh" --remove
done
rm -f "$here/pa-mn.nft" "$here/pa-mn.sh"
