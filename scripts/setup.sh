#!/usr/bin/env bash
# Installs what cargo-tracer needs to build and run its eBPF probes, and only what is missing:
#   - Debian packages: LLVM 22 development files (bpf-linker links against them), and
#     chromium for the browser test of the HTML report
#   - rustup toolchains: the host toolchain pinned in rust-toolchain.toml, and the nightly pinned
#     in tracer-ebpf/rust-toolchain.toml with rust-src (the probes are built with -Z build-std)
#   - bpf-linker built against LLVM 22, the LLVM of that nightly
#   - cargo-fuzz (the fuzz targets run briefly in every test run)
#   - a tracefs mount (tracepoint ids are read from it)
# Idempotent: a second run checks and skips everything in a few seconds. Needs root for apt and
# the mount (CI and these machines run as root).
# `setup.sh --tool`: only what building and running cargo-tracer needs (the GitHub Action's
# install): no chromium, cargo-fuzz or SARIF schema, which only this repository's tests use.
set -euo pipefail
tool_only=0
case "${1:-}" in
    --tool) tool_only=1 ;;
    "") ;;
    *) printf 'setup: unknown argument %s (expected nothing or --tool)\n' "$1" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'setup: %s\n' "$*" >&2; }
channel() { sed -n 's/^channel *= *"\(.*\)"/\1/p' "$1"; }

host_tc=$(channel "$root/rust-toolchain.toml")
ebpf_tc=$(channel "$root/tracer-ebpf/rust-toolchain.toml")
llvm_major=22
export PATH="$HOME/.cargo/bin:$PATH"

# Only apt and the mount need root: the toolchains and bpf-linker are installed as the user
# who runs this (root-owned files in their ~/.cargo would break their next `cargo install`).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else say "need root for: $*"; return 1
    fi
}

# Debian packages.
need_pkgs=()
# chromium: the HTML report's browser test (headless); a font so its screenshot has text.
pkgs=("llvm-$llvm_major-dev" "libpolly-$llvm_major-dev" zlib1g-dev libzstd-dev)
[ "$tool_only" = 1 ] || pkgs+=(chromium fonts-dejavu-core)
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    say "installing Debian packages: ${need_pkgs[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# rustup itself.
if ! command -v rustup >/dev/null; then
    say "rustup is required (https://rustup.rs) and was not found"; exit 1
fi

# Toolchains.
installed=$(rustup toolchain list)
if ! grep -q "^$host_tc" <<<"$installed"; then
    say "installing Rust toolchain $host_tc (host)"
    rustup toolchain install "$host_tc" --profile minimal --component rustfmt,clippy
fi
if ! grep -q "^$ebpf_tc" <<<"$installed"; then
    say "installing Rust toolchain $ebpf_tc (eBPF probes)"
    rustup toolchain install "$ebpf_tc" --profile minimal --component rust-src
fi
# (Captured first: with pipefail, `… | grep -q` fails when grep closes the pipe early.)
host_components=$(rustup component list --toolchain "$host_tc" --installed)
for c in rustfmt clippy; do
    grep -q "^$c" <<<"$host_components" || {
        say "adding $c to $host_tc"; rustup component add "$c" --toolchain "$host_tc"; }
done
grep -q '^rust-src' <<<"$(rustup component list --toolchain "$ebpf_tc" --installed)" || {
    say "adding rust-src to $ebpf_tc"; rustup component add rust-src --toolchain "$ebpf_tc"; }

# bpf-linker, built against the nightly's LLVM major.
linker_ok() {
    local bin
    bin=$(command -v bpf-linker) || return 1
    grep -q "libLLVM.so.$llvm_major" <<<"$(ldd "$bin" 2>/dev/null)"
}
if ! linker_ok; then
    say "building bpf-linker against LLVM $llvm_major (a few minutes, once)"
    # llvm-sys reads LLVM_SYS_<major><minor>_PREFIX; bpf-linker's build reads LLVM_PREFIX.
    env LLVM_PREFIX="/usr/lib/llvm-$llvm_major" "LLVM_SYS_${llvm_major}1_PREFIX=/usr/lib/llvm-$llvm_major" \
        cargo "+$host_tc" install bpf-linker --locked --force --no-default-features --features "llvm-$llvm_major"
    linker_ok || { say "bpf-linker does not link LLVM $llvm_major after install"; exit 1; }
fi

# cargo-fuzz, for the fuzz targets' smoke run (scripts/fuzz.sh).
if [ "$tool_only" = 0 ] && ! command -v cargo-fuzz >/dev/null; then
    say "installing cargo-fuzz (once)"
    cargo "+$host_tc" install cargo-fuzz --locked --quiet
fi

# The SARIF 2.1.0 JSON schema, for the test that validates `cargo tracer scan --format sarif`
# (taken from the npm package that ships it; kept under target/, never committed).
schema="$root/target/test-assets/sarif-2.1.0-rtm.5.json"
if [ "$tool_only" = 0 ] && [ ! -s "$schema" ]; then
    say "fetching the SARIF 2.1.0 schema (npm package @microsoft/jest-sarif)"
    command -v npm >/dev/null || { as_root apt-get update -qq; DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq npm >/dev/null; }
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null \
        && tar xzf ./*.tgz package/lib/schemas/sarif-2.1.0-rtm.5.json)
    mkdir -p "$(dirname "$schema")"
    cp "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$schema"
    rm -rf "$tmp"
fi

# tracefs.
if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
    say "mounting tracefs at /sys/kernel/tracing"
    as_root mount -t tracefs tracefs /sys/kernel/tracing
fi
say "ready: host $host_tc, probes $ebpf_tc, bpf-linker $(bpf-linker --version | awk '{print $2}') (LLVM $llvm_major)"
