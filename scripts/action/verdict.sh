#!/usr/bin/env bash
# The action's last step: the job fails as cargo tracer did (1 violated, 2 incomplete or a
# tracer failure), after the SARIF upload had its chance.
set -euo pipefail
case "${TRACER_EXIT:-}" in
    0) echo "cargo-tracer: passed" ;;
    1) echo "cargo-tracer: the policy was violated (see the job summary and annotations)"; exit 1 ;;
    '') echo "::error title=cargo-tracer::the trace step did not run"; exit 2 ;;
    *) echo "cargo-tracer: ${TRACER_VERDICT:-incomplete} (exit $TRACER_EXIT)"; exit "$TRACER_EXIT" ;;
esac
