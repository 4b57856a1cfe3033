#!/usr/bin/env bash
# Builds the project and its tests in the given folder and runs the whole suite with ctest.
#   scripts/test.sh [BUILD_DIR]        REPUTE_SANITIZE=1 for the ASan+UBSan build
# The pg.* tests run on PostgreSQL: the server at REPUTE_TEST_POSTGRES, or a private one for the run
# (scripts/with-test-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=$(nproc)
sanitize=OFF
build_type=RelWithDebInfo
if [[ ${REPUTE_SANITIZE:-0} == 1 ]]; then sanitize=ON; build_type=Debug; fi

scripts/install-npm.sh

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DREPUTE_SANITIZE="$sanitize" >/dev/null
cmake --build "$build" -j "$jobs"
# Under the sanitizers the PostgreSQL run is the unit tests' (its integration tests are the SQLite ones again).
exclude=()
if [[ $sanitize == ON ]]; then exclude=(-E '^pg\.integration\.'); fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
scripts/with-test-postgres.sh ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600 "${exclude[@]+"${exclude[@]}"}"
