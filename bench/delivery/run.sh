#!/usr/bin/env bash
# Delivery benchmark (issue 4 "Measured"): the wrk ceiling, a drain of 100,000 queued deliveries to 16 subscriptions
# and an offered load of 500 events/s through the API, all against Debian's nginx on loopback. See bench.py for
# what each part measures, and docs/BENCHMARKS.md for the figures.
#
#   bench/delivery/run.sh                          3 runs, medians
#   RUNS=5 PARTS="ceiling drain" bench/delivery/run.sh
#   PROFILE=1 RUNS=1 bench/delivery/run.sh         also perf-profile the first drain
#
# Settings (environment): RUNS=3  PARTS="ceiling drain offered"  SUBSCRIPTIONS=16  DELIVERIES=100000
#   RATE=500 (events/s)  RATE_SECONDS=20  WRK_SECONDS=10  WRK_CONNECTIONS=256  WRK_THREADS=2
#   NGINX_WORKERS=$(nproc)  EXTRA_ARGS= (more `repute serve` options)  REPUTE_BIN=build/repute
#   NICE=0 (e.g. -10: run repute and nginx ahead of other work on a shared machine; needs root)
#   BENCH_TMP=${TMPDIR:-/tmp}  QUIET_WAIT=120 QUIET_BELOW=0.3 (wait up to QUIET_WAIT s for the machine to use
#   less than QUIET_BELOW cores before each measured part)  OUT=file (the medians table)  KEEP_TMP=1
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

missing=()
for tool in python3 nginx wrk; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[[ ${PROFILE:-0} == 0 ]] || command -v perf >/dev/null || missing+=(perf)
((${#missing[@]} == 0)) || { echo "bench/delivery: missing ${missing[*]}: run scripts/install-deps.sh bench" >&2; exit 1; }

export REPUTE_BIN=${REPUTE_BIN:-$root/build/repute}
if [[ ! -x $REPUTE_BIN ]]; then
  [[ $REPUTE_BIN == "$root/build/repute" ]] || { echo "bench/delivery: $REPUTE_BIN is not an executable" >&2; exit 1; }
  [[ -f $root/build/CMakeCache.txt ]] || cmake -S "$root" -B "$root/build" -G Ninja >&2
  cmake --build "$root/build" --target repute >&2
fi
exec python3 "$here/bench.py"
