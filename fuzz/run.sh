#!/usr/bin/env bash
# Coverage-guided fuzzing of fwtopo with cargo-fuzz (libFuzzer): installs cargo-fuzz when it is
# missing, builds every target once, runs each for SECONDS_PER_TARGET seconds (default 30), prints
# one line per target, and exits non-zero on any crash, timeout or out-of-memory (the input is saved
# under fuzz/artifacts/<target>/). See README.md, "Fuzzing".
#
#   fuzz/run.sh [SECONDS_PER_TARGET]
#
# Environment:
#   FUZZ_TARGETS    targets to run, space-separated (default: load export topology)
#   FUZZ_SANITIZER  none (default; fwtopo has no unsafe code, and none runs 10-20x faster) or address
#                   (needs the nightly toolchain)
#   FUZZ_TOOLCHAIN  rustup toolchain (default: nightly when installed, else stable: cargo-fuzz builds
#                   and runs with the sanitizer none on stable too)
#   FUZZ_JOBS       processes per target, -fork=N (default 1)
# With FWTOPO_REQUIRE_SYSTEM_TESTS=1 (CI) a missing toolchain or cargo-fuzz is a failure; otherwise it
# is a visible SKIPPED and exit 0, like the system tests.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
case $secs in
'' | *[!0-9]*)
    echo "usage: fuzz/run.sh [SECONDS_PER_TARGET]" >&2
    exit 2
    ;;
esac
read -r -a targets <<<"${FUZZ_TARGETS:-load export topology}"
sanitizer=${FUZZ_SANITIZER:-none}
jobs=${FUZZ_JOBS:-1}

unavailable() {
    if [ "${FWTOPO_REQUIRE_SYSTEM_TESTS:-}" = 1 ]; then
        echo "fuzz: FAILED: $1 (FWTOPO_REQUIRE_SYSTEM_TESTS=1)" >&2
        exit 1
    fi
    echo "fuzz: SKIPPED ($1)" >&2
    exit 0
}

if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    toolchain=$FUZZ_TOOLCHAIN
elif cargo +nightly --version >/dev/null 2>&1; then
    toolchain=nightly
else
    toolchain=stable
    echo "fuzz: note: no nightly toolchain; using stable (sanitizer $sanitizer)" >&2
fi
cargo +"$toolchain" --version >/dev/null 2>&1 || unavailable "no $toolchain toolchain (rustup toolchain list)"
if [ "$sanitizer" != none ] && [ "$toolchain" != nightly ]; then
    unavailable "FUZZ_SANITIZER=$sanitizer needs the nightly toolchain, have $toolchain"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
    cargo install cargo-fuzz --locked || unavailable "cargo install cargo-fuzz failed"
fi

fuzz() { cargo +"$toolchain" fuzz "$@"; }

started=$SECONDS
echo "fuzz: building ${targets[*]} with $(cargo +"$toolchain" --version), $(cargo fuzz --version | head -1), sanitizer $sanitizer"
fuzz build -s "$sanitizer"
echo "fuzz: built in $((SECONDS - started)) s"

logs=fuzz/target/logs
mkdir -p "$logs"
failed=()
for t in "${targets[@]}"; do
    corpus=fuzz/corpus/$t
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    # New inputs go to the first directory (fuzz/corpus/<target>/, under SHA-1 names git ignores);
    # the examples and the crash reproducers of tests/fuzz-corpus/ are read as seeds as well.
    args=(-max_total_time="$secs" -max_len=8192 -timeout=60 -rss_limit_mb=4096 -print_final_stats=1)
    if [ "$t" != topology ]; then
        args+=(-dict=fuzz/fwtopo.dict)
    fi
    if [ "$jobs" -gt 1 ]; then
        args+=(-fork="$jobs")
    fi
    log=$logs/$t.log
    t0=$SECONDS
    rc=0
    fuzz run -s "$sanitizer" "$t" "$corpus" examples tests/fuzz-corpus -- "${args[@]}" >"$log" 2>&1 || rc=$?
    took=$((SECONDS - t0))
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | tail -1 || true)
    corp=$(grep -oE 'corp: [0-9]+' <<<"$last" | tail -1 || true)
    if [ "$rc" = 0 ]; then
        echo "fuzz $t: ok, ${runs:-?} runs in $took s, ${cov:-cov: ?}, ${corp:-corp: ?} inputs (log $log)"
    else
        artifact=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/^Test unit written to //' || true)
        echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} runs in $took s; input ${artifact:-none saved}"
        grep -m1 -A4 -E "panicked at|ERROR: libFuzzer|ALARM|out-of-memory|==ERROR" "$log" | sed 's/^/    /' || tail -20 "$log" | sed 's/^/    /'
        if [ -n "$artifact" ]; then
            echo "    reproduce: cargo +$toolchain fuzz run -s $sanitizer $t $artifact"
            if [ "$t" = topology ]; then
                echo "    as RON:    cargo +$toolchain fuzz fmt -s $sanitizer $t $artifact"
            fi
        fi
        failed+=("$t")
    fi
done

echo "fuzz: ${#targets[@]} targets, ${secs} s each, $((SECONDS - started)) s in all"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
