#!/usr/bin/env bash
# The action's summary step: the Markdown verdict cargo tracer wrote, into this step's own job
# summary file (the trace step's could hold whatever the build put there).
set -euo pipefail
if [ -n "${TRACER_SUMMARY:-}" ] && [ -s "$TRACER_SUMMARY" ]; then
    cat "$TRACER_SUMMARY" >> "$GITHUB_STEP_SUMMARY"
else
    echo "cargo-tracer wrote no summary (see the trace step's log)"
fi
