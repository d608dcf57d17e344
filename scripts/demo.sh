#!/usr/bin/env bash
# The main job: trace a build of the bundled demo workspace (demo/) and print what each crate
# did, per phase. Installs missing prerequisites first (scripts/setup.sh). Needs root.
# The build runs offline with a private CARGO_HOME and a fake $HOME in a temp dir; its network
# activity goes to loopback addresses only.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
echo "demo: building cargo-tracer" >&2
cargo build --quiet --release --locked -p cargo-tracer --manifest-path "$root/Cargo.toml"

work=$(mktemp -d "${TMPDIR:-/tmp}/cargo-tracer-demo.XXXXXX")
# The demo build must not see the real home or cargo cache.
export HOME="$work/home" CARGO_HOME="$work/cargo-home"
mkdir -p "$HOME/.config" "$CARGO_HOME"
echo "demo-secret-token" > "$HOME/.config/demo-token"

echo "demo: tracing \`cargo build\` of demo/ (events: $work/events.jsonl)" >&2
cd "$work"
# The demo's crates misbehave on purpose: --audit shows the verdict without failing (in CI,
# without --audit, these violations make `cargo tracer build` exit 1).
"$root/target/release/cargo-tracer" build --fresh --audit --events "$work/events.jsonl" \
    --output "html=$work/report.html" --offline --locked --manifest-path "$root/demo/Cargo.toml"
echo "demo: the same as one page: $work/report.html (open it in a browser)" >&2
echo "demo: judge it again offline, no root: cargo tracer report $work/events.jsonl --manifest-path $root/demo/Cargo.toml [--policy FILE] [--format json|sarif|markdown|html]" >&2
