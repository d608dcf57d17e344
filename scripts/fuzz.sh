#!/usr/bin/env bash
# Runs every fuzz target (fuzz/) for SECONDS each (default 20), two at a time, with the nightly
# pinned for the probes: libFuzzer with AddressSanitizer, starting from the committed corpus in
# fuzz/corpus/<target>, crashes in fuzz/artifacts/<target>/. New inputs go to a temporary
# directory (a test run leaves the tree as it was); `--grow` adds them to fuzz/corpus instead
# (then `cargo fuzz cmin` keeps it small). Exits non-zero if any target failed.
# CI runs it for a few seconds a target so the harnesses keep building and running;
# `scripts/fuzz.sh 600` is the long run (figures in the closing note of the fuzzing work).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-20}
grow=${2:-}
export PATH="$HOME/.cargo/bin:$PATH"
nightly=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$root/tracer-ebpf/rust-toolchain.toml")
cd "$root/fuzz"
targets=$(cargo "+$nightly" fuzz list)
echo "fuzz: building $(echo "$targets" | wc -l) targets with $nightly" >&2
cargo "+$nightly" fuzz build -O >&2
# The built harnesses are run directly: an edit to the tree during a long run cannot rebuild
# (or break) a target between two runs.
bin="$root/fuzz/target/$(rustc "+$nightly" -vV | sed -n 's/^host: //p')/release"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
run() {
    local t=$1
    mkdir -p "corpus/$t" "artifacts/$t"
    # libFuzzer writes new inputs into the first corpus directory it is given.
    local dirs=("$logs/new-$t" "corpus/$t")
    if [ "$grow" = "--grow" ]; then dirs=("corpus/$t"); else mkdir -p "$logs/new-$t"; fi
    if "$bin/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" \
        -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 "${dirs[@]}" >"$logs/$t.log" 2>&1; then
        local runs
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
        echo "fuzz: $t: ${runs:-?} runs in ${seconds}s, no crash" >&2
    else
        echo "fuzz: $t FAILED (log: $logs/$t.log)" >&2
        tail -30 "$logs/$t.log" >&2
        return 1
    fi
}
set -- $targets
while [ $# -gt 0 ]; do
    run "$1" & a=$!
    b=""
    if [ $# -gt 1 ]; then run "$2" & b=$!; fi
    wait "$a" || status=1
    if [ -n "$b" ]; then wait "$b" || status=1; fi
    shift; [ $# -gt 0 ] && shift
done
exit "$status"
