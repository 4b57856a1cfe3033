#!/usr/bin/env bash
# Builds the project under ThreadSanitizer and runs the tests that exercise threads: the unit tests of the store
# (group-commit writer and its readers), the delivery engine, dispatcher and HTTP client, and the scan engine; and
# every integration test, each of which drives the multi-threaded server (API workers, writer, delivery engine,
# scans) through crashes, faulty receivers, hostile clients and concurrent writers. The repute binary those tests
# start is built with TSan too; a report from it fails the test (tests/integration/harness/repute_process.cpp).
#   scripts/tsan.sh [BUILD_DIR]        default build-tsan; TSAN_OPTIONS and TSAN_TESTS (a ctest -R regex) override
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-tsan}
jobs=$(nproc)

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREPUTE_SANITIZE=OFF -DREPUTE_TSAN=ON >/dev/null
cmake --build "$build" -j "$jobs"
build=$(cd "$build" && pwd)

# Self-check: a race inside the repute child must fail the integration test that started it. A preloaded library
# races in the child only; with halt_on_error=0 the child lives on, so only the harness's check can fail the test.
"${CXX:-g++}" -std=c++20 -O1 -g -fPIC -shared -fsanitize=thread tests/tsan/deliberate_race.cpp -o "$build/deliberate_race.so"
if LD_PRELOAD="$build/deliberate_race.so" REPUTE_RACE_DELAY_MS=500 TSAN_OPTIONS=halt_on_error=0 \
  "$build/tests/integration_delivery_test" --gtest_filter=DeliveryTest.RetryAfterIsHonoured >"$build/tsan-self-check.log" 2>&1 ||
  ! grep -q "reported a data race" "$build/tsan-self-check.log"; then
  echo "tsan self-check failed: a data race in repute did not fail its test ($build/tsan-self-check.log)" >&2
  exit 1
fi
echo "tsan self-check: a deliberate race in repute failed its test, as it must"

# halt_on_error: the first report ends the process with exit code 66, so a race fails its test at once.
# The suppressions path (third-party code only) is absolute: integration tests start repute in other folders.
options=halt_on_error=1:second_deadlock_stack=1
if [[ -f tests/tsan.supp ]]; then options+=":suppressions=$PWD/tests/tsan.supp"; fi
export TSAN_OPTIONS=${TSAN_OPTIONS:-$options}
tests=${TSAN_TESTS:-'^(pg\.)?unit\.(store|delivery|scan)\.|^integration\.'}
scripts/with-test-postgres.sh ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600 -R "$tests"
