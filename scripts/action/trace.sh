#!/usr/bin/env bash
# The action's trace step: `cargo tracer $TRACER_COMMAND` with the events file, SARIF, HTML,
# the Markdown summary and GitHub annotations written under $RUNNER_TEMP; then the annotations
# printed (the runner reads them from the log), the outputs set, and the step fails as cargo
# tracer did (1 policy violated, 2 incomplete or a tracer failure).
#
# The traced build runs as this user and can write what this user can: this script (so all of
# it is read before the build starts: one function, called on the last line), the step's
# outputs and summary files, the log. So the verdict is this step's own exit status — never a
# step output a later step trusts — workflow commands are stopped while the build writes to
# the log, and the summary is added by a later step from the file cargo tracer wrote.
set -uo pipefail

main() {
    local out="$RUNNER_TEMP/cargo-tracer"
    mkdir -p "$out"
    local events="$out/events.jsonl.zst" sarif="$out/tracer.sarif" html="$out/tracer.html"
    local notes="$out/annotations.txt" summary="$out/summary.md"
    rm -f "$events" "$sarif" "$html" "$notes" "$summary"

    case "${TRACER_COMMAND:-test}" in
        build|test) ;;
        *) echo "::error title=cargo-tracer::input \`command\` must be build or test"; return 2 ;;
    esac
    local bin
    bin=$(command -v cargo-tracer) || { echo "::error title=cargo-tracer::cargo-tracer is not installed"; return 2; }
    local args=(tracer "$TRACER_COMMAND" --events "$events" --output "sarif=$sarif"
        --output "html=$html" --output "markdown=$summary" --output "github=$notes")
    [ "${TRACER_FRESH:-true}" = true ] && args+=(--fresh)
    [ "${TRACER_AUDIT:-false}" = true ] && args+=(--audit)
    if [ -n "${TRACER_SCAN_CACHE:-}" ]; then
        local cache=${TRACER_SCAN_CACHE/#\~/$HOME}
        mkdir -p "$cache"
        args+=(--scan-cache "$cache")
    fi
    # Split at whitespace, across lines; no quotes, globs or substitutions are interpreted.
    local extra=()
    read -r -d '' -a extra <<< "${TRACER_ARGS:-}" || true
    args+=("${extra[@]}")

    # While the build writes to the log, nothing in it is a workflow command (a build printing
    # `::stop-commands::` or `::add-mask::` does nothing); the token is not in any process's
    # arguments or environment.
    local token
    token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    echo "::stop-commands::$token"
    # The probes need root; cargo then runs as this user (cargo tracer switches back), with this
    # PATH and cargo whatever sudo's secure_path says. The job summary comes from --output.
    local cargo code
    cargo=$(command -v cargo || true)
    if [ "$(id -u)" -eq 0 ]; then
        env -u GITHUB_STEP_SUMMARY "CARGO=${CARGO:-$cargo}" "$bin" "${args[@]}"
    else
        sudo --preserve-env env -u GITHUB_STEP_SUMMARY "PATH=$PATH" "CARGO=${CARGO:-$cargo}" \
            "$bin" "${args[@]}"
    fi
    code=$?
    echo "::$token::"

    [ -s "$notes" ] && cat "$notes"
    local verdict=incomplete
    case $code in
        0) verdict=passed ;;
        1) verdict=failed ;;
    esac
    {
        echo "exit-code=$code"
        echo "verdict=$verdict"
        [ -s "$events" ] && echo "events=$events"
        [ -s "$sarif" ] && echo "sarif=$sarif"
        [ -s "$html" ] && echo "html=$html"
        [ -s "$summary" ] && echo "summary=$summary"
    } >> "$GITHUB_OUTPUT"
    case $code in
        0) echo "cargo-tracer: passed" ;;
        1) echo "cargo-tracer: the policy was violated (see the job summary and annotations)" ;;
        *) echo "cargo-tracer: the trace is incomplete or tracing failed (exit $code)" ;;
    esac
    # 1 and 2 as they are; anything else (a crash, a signal) is a failure of the tracer.
    case $code in 0|1|2) return "$code" ;; *) return 2 ;; esac
}

main "$@"; exit
