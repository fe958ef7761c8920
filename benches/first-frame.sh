#!/usr/bin/env bash
# Designer start to first frame, whole process: runs the release binary's `fwtopo design FILE` in
# a 120x40 pseudo-terminal and times from just before the fork to the moment the first frame has
# been written (the name of the first node, pa-mn-0, has appeared after the switch to the alternate
# screen; the rules pane says they are being derived), and to the frame with the rules (the pane's
# title counts them: "inbound," has appeared), then quits with q. FILE is a generated PA site
# (benches/fixtures) of 1,000 and 10,000 nodes. Goal: at most 50 ms. The in-process part of the same path is the criterion bench
# `render` group designer_start_to_first_frame.
#
# Usage: benches/first-frame.sh            (RUNS=20 benches/first-frame.sh)
# Uses only this machine; cleans up its temp files.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FWTOPO_CONFIG_DIR="$work/config" FWTOPO_DATA_DIR="$work/data"
mkdir -p "$FWTOPO_CONFIG_DIR" "$FWTOPO_DATA_DIR"

cargo build --release --quiet
bin=target/release/fwtopo

echo "fwtopo design: start to first frame, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $runs runs"
for n in 1000 10000; do
    file="$work/pa-$n.ron"
    # PA shape: one management node and n - 1 service nodes, n nodes in all.
    FWTOPO_WRITE_FIXTURE="$file" FWTOPO_FIXTURE_SHAPE=pa FWTOPO_FIXTURE_NODES=$((n - 1)) \
        cargo bench --quiet --bench export 2>"$work/err" || {
        cat "$work/err" >&2
        exit 1
    }
    python3 - "$bin" "$file" "$runs" "$n" <<'PY'
import fcntl, os, pty, select, signal, struct, sys, termios, time

bin, path, runs, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ALT_SCREEN, MARKER, RULES = b"\x1b[?1049h", b"pa-mn-0", b"inbound,"

def once():
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(bin, [bin, "design", path])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen, first, rules = b"", None, None
    deadline = start + 30
    while rules is None and time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen += chunk
        alt = seen.find(ALT_SCREEN)
        if first is None and alt >= 0 and seen.find(MARKER, alt) >= 0:
            first = time.perf_counter() - start
        if first is not None and seen.find(RULES, alt) >= 0:
            rules = time.perf_counter() - start
    os.write(fd, b"q")
    end = time.perf_counter() + 5
    while time.perf_counter() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                os.read(fd, 65536)
            except OSError:
                pass
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    if rules is None:
        sys.exit(f"no first frame with rules within 30 s for {path}")
    return first, rules

both = [once() for _ in range(runs)]
for label, times in (("first frame", sorted(f for f, _ in both)), ("with rules", sorted(r for _, r in both))):
    ms = [t * 1000 for t in times]
    print(f"  {n:>6} nodes, {label:<11}: min {ms[0]:7.1f} ms  median {ms[len(ms) // 2]:7.1f} ms  max {ms[-1]:7.1f} ms")
PY
done
