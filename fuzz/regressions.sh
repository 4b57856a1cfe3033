#!/usr/bin/env bash
# Runs every fuzz target once over its checked-in corpus and fuzz/crashes inputs (no mutation): cheap, for CI.
exec "$(dirname "$0")/run.sh" regressions "$@"
