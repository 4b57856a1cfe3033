#!/usr/bin/env bash
# CI: builds the libFuzzer targets (fuzz/), replays every checked-in corpus and crash input once, then fuzzes each
# target for FUZZ_SECONDS (default 15). Installs nothing: `scripts/install-deps.sh test` brings clang-14 and
# libclang-rt-14-dev. A new crash is kept under fuzz/crashes/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz/run.sh build
status=0
fuzz/run.sh regressions || status=1
FUZZ_SECONDS=${FUZZ_SECONDS:-15} fuzz/run.sh fuzz || status=1
exit $status
