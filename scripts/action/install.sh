#!/usr/bin/env bash
# The action's install step: uses a cargo-tracer already on PATH when it is this action's
# version (a self-hosted runner, a cached ~/.cargo/bin), else builds it from the action's own
# checkout. Building needs the eBPF toolchain (setup.sh --tool installs what is missing; LLVM 22
# must be available to apt, as on Debian 12 with its backports or from apt.llvm.org).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
want=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
have=$(cargo-tracer tracer --version 2>/dev/null | awk '{print $NF}' || true)
if [ -n "$want" ] && [ "$have" = "$want" ]; then
    echo "cargo-tracer $have: $(command -v cargo-tracer)"
else
    echo "installing cargo-tracer $want (found: ${have:-none})"
    # As this user (setup.sh uses sudo for apt and the mount only), and from the action's
    # checkout so its pinned toolchain builds it.
    "$root/scripts/setup.sh" --tool
    (cd "$root" && cargo install --locked --path tracer-user)
fi
# Later steps find it whatever PATH sudo gives them.
echo "$HOME/.cargo/bin" >> "$GITHUB_PATH"
