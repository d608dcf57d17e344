#!/usr/bin/env bash
# The action's trace step: `cargo tracer $TRACER_COMMAND` with the events file, SARIF, HTML and
# GitHub annotations written under $RUNNER_TEMP, then the annotations printed (the runner reads
# them from the log) and the outputs set. It does not fail the step: the upload runs first,
# and the verdict step exits with cargo tracer's code.
set -uo pipefail
out="$RUNNER_TEMP/cargo-tracer"
mkdir -p "$out"
events="$out/events.jsonl.zst"
sarif="$out/tracer.sarif"
html="$out/tracer.html"
notes="$out/annotations.txt"
rm -f "$events" "$sarif" "$html" "$notes"

case "${TRACER_COMMAND:-test}" in
    build|test) ;;
    *) echo "::error title=cargo-tracer::input \`command\` must be build or test"
       echo "exit-code=2" >> "$GITHUB_OUTPUT"; echo "verdict=incomplete" >> "$GITHUB_OUTPUT"
       exit 0 ;;
esac
bin=$(command -v cargo-tracer) || { echo "::error title=cargo-tracer::cargo-tracer is not installed"; exit 1; }
args=(tracer "$TRACER_COMMAND" --events "$events" --output "sarif=$sarif"
      --output "html=$html" --output "github=$notes")
[ "${TRACER_FRESH:-true}" = true ] && args+=(--fresh)
[ "${TRACER_AUDIT:-false}" = true ] && args+=(--audit)
if [ -n "${TRACER_SCAN_CACHE:-}" ]; then
    cache=${TRACER_SCAN_CACHE/#\~/$HOME}
    mkdir -p "$cache"
    args+=(--scan-cache "$cache")
fi
# Split at whitespace only: no quotes, globs or substitutions are interpreted.
read -r -a extra <<< "${TRACER_ARGS:-}"
args+=("${extra[@]}")

# The probes need root; cargo then runs as this user (cargo tracer switches back), with this
# PATH and cargo, whatever sudo's secure_path says.
cargo=$(command -v cargo || true)
if [ "$(id -u)" -eq 0 ]; then
    CARGO="${CARGO:-$cargo}" "$bin" "${args[@]}"
else
    sudo --preserve-env env "PATH=$PATH" "CARGO=${CARGO:-$cargo}" "$bin" "${args[@]}"
fi
code=$?

[ -s "$notes" ] && cat "$notes"
case $code in
    0) verdict=passed ;;
    1) verdict=failed ;;
    *) verdict=incomplete ;;
esac
{
    echo "exit-code=$code"
    echo "verdict=$verdict"
    [ -s "$events" ] && echo "events=$events"
    [ -s "$sarif" ] && echo "sarif=$sarif"
    [ -s "$html" ] && echo "html=$html"
} >> "$GITHUB_OUTPUT"
exit 0
