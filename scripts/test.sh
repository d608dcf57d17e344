#!/usr/bin/env bash
# Runs every test: formatting, lints, unit tests, and the tests with the real eBPF probes (which
# need root: CI runs as root; elsewhere they skip with a printed reason). Installs missing
# prerequisites first (scripts/setup.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$PATH"

echo "test: cargo fmt --check" >&2
cargo fmt --all --check
echo "test: cargo clippy -D warnings (host crates; the probes build only for BPF)" >&2
cargo clippy --locked --all-targets -- -D warnings
echo "test: cargo test" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
# The fuzz targets, briefly: the harnesses keep building and find nothing in their corpus.
echo "test: fuzz targets (a few seconds each; scripts/fuzz.sh 600 is the long run)" >&2
"$root/scripts/fuzz.sh" "${TRACER_FUZZ_SECONDS:-10}" || status=$?
# One closing line with the totals over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1); if ($i ~ /^ignored;?$/) s += $(i-1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
