#!/usr/bin/env bash
# Peak memory (maximum resident set size, from /usr/bin/time) and wall time of the release binary
# on generated sites, one per fixture shape (benches/fixtures): PA (one management node and N
# service nodes), MailStore SPE (one MGMT and N CAS/IH), mixed (N nodes), mesh (a Virtuozzo site
# whose N chunk servers are each a peer of every other, IPv6 one /64 per node) and mixed-mesh (the
# mixed site with every fifth node in such a mesh).
# Measures `fwtopo export FILE --target auto --out DIR`, `fwtopo rules FILE --json >/dev/null`
# and `fwtopo check FILE`. Goals: at most 50 MB at 10,000 nodes (PA, MailStore, mixed); memory
# linear in the input for the meshes (10,000-node mesh at most 100 MB, 100,000-node mixed-mesh at
# most 1 GB). A mesh's export and rules are inherently as large as the square of the mesh (every
# member lists every other): COMMANDS=check measures the meshes where their output would not fit.
#
# Usage: benches/peak-memory.sh                       (10,000 nodes, shapes pa mailstore mixed)
#        NODES="1000 10000 100000" SHAPES="pa mixed" benches/peak-memory.sh
#        NODES=100000 SHAPES=mixed-mesh COMMANDS=check benches/peak-memory.sh
# Needs /usr/bin/time (Debian package `time`). Uses only this machine; cleans up its temp files.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${NODES:-10000}
shapes=${SHAPES:-pa mailstore mixed}
commands=${COMMANDS:-export rules check}
work=$(mktemp -d)
# The export's files go to tmpfs when there is one: they are not part of the process's resident
# set either way, and fwtopo syncs every file it writes, which on a disk takes minutes for the
# 12,500 files of a 10,000-node site. OUT_ON_DISK=1 writes them under the temp dir instead.
outs=$work
if [ "${OUT_ON_DISK:-0}" != 1 ] && [ -d /dev/shm ]; then
    outs=$(mktemp -d -p /dev/shm)
fi
trap 'rm -rf "$work" "$outs"' EXIT
# An empty configuration directory, so no user catalog or theme changes what is measured.
export FWTOPO_CONFIG_DIR="$work/config"
mkdir -p "$FWTOPO_CONFIG_DIR"

cargo build --release --quiet
bin=target/release/fwtopo

# Runs a command under /usr/bin/time and prints its peak RSS and wall time.
measure() {
    local label=$1
    shift
    /usr/bin/time -f '%M %e' -o "$work/time" "$@" >/dev/null
    read -r kib secs <"$work/time"
    awk -v l="$label" -v k="$kib" -v s="$secs" \
        'BEGIN { printf "  %-28s %8d KiB  %6.1f MiB  %6.1f MB  %6.2f s\n", l, k, k / 1024, k * 1.024 / 1000, s }'
}

echo "fwtopo peak memory, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for nodes in $sizes; do
for shape in $shapes; do
    file="$work/$shape-$nodes.ron"
    FWTOPO_WRITE_FIXTURE="$file" FWTOPO_FIXTURE_SHAPE="$shape" FWTOPO_FIXTURE_NODES="$nodes" \
        cargo bench --quiet --bench export 2>"$work/fixture.log" || {
        cat "$work/fixture.log" >&2
        exit 1
    }
    echo "$shape: $(grep -o '[0-9]* nodes' "$work/fixture.log"), $(du -k "$file" | cut -f1) KiB topology file"
    for command in $commands; do
        case $command in
        export)
            rm -rf "$outs/out"
            measure "export --target auto --out" "$bin" export "$file" --target auto --out "$outs/out"
            echo "    ($(find "$outs/out" -type f | wc -l) files, $(du -sk "$outs/out" | cut -f1) KiB written to $outs)"
            rm -rf "$outs/out"
            ;;
        rules) measure "rules --json" "$bin" rules "$file" --json ;;
        check) measure "check" "$bin" check "$file" ;;
        *)
            echo "unknown command $command (export, rules, check)" >&2
            exit 2
            ;;
        esac
    done
    rm -f "$file"
done
done
