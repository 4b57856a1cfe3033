#!/usr/bin/env bash
# Delivery benchmark (issues 4 and 10 "Measured"): the wrk ceiling, a drain of 100,000 queued deliveries to 16
# subscriptions and an offered load of 500 events/s through the API, all against Debian's nginx on loopback, for
# one node on SQLite, one node on PostgreSQL and two nodes on one PostgreSQL database, in turn in every run. See
# bench.py for what each part measures, and docs/BENCHMARKS.md for the figures.
#
#   bench/delivery/run.sh                          3 runs of every back end, medians and ratios
#   BACKENDS=sqlite bench/delivery/run.sh          SQLite only (the benchmark of issue 4)
#   RUNS=5 PARTS="ceiling drain" bench/delivery/run.sh
#   PROFILE=1 RUNS=1 bench/delivery/run.sh         also perf-profile (system-wide) the first drain of each back end
#
# Settings (environment): RUNS=3  PARTS="ceiling drain offered"  SUBSCRIPTIONS=16  DELIVERIES=100000
#   BACKENDS="sqlite pg pg2" (sqlite: one node, synchronous=FULL; pg: one node on PostgreSQL 15; pg2: two nodes,
#   distinct --node-id and ports, on one database). PostgreSQL is a private server in the temp dir
#   (scripts/postgres-test-server.sh with PG_DURABLE=1: fsync, full_page_writes, synchronous_commit on), at
#   priority NICE like repute; PG_POOL_SIZE=0 (repute's --pool-size; 0: its default)
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
if [[ " ${BACKENDS:-sqlite pg pg2} " == *" pg"* ]]; then
  command -v psql >/dev/null || missing+=(psql)
  [[ -x ${PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl ]] || missing+=(postgresql-15)
fi
[[ ${PROFILE:-0} == 0 ]] || command -v perf >/dev/null || missing+=(perf)
((${#missing[@]} == 0)) || { echo "bench/delivery: missing ${missing[*]}: run scripts/install-deps.sh bench" >&2; exit 1; }

export REPUTE_BIN=${REPUTE_BIN:-$root/build/repute}
if [[ ! -x $REPUTE_BIN ]]; then
  [[ $REPUTE_BIN == "$root/build/repute" ]] || { echo "bench/delivery: $REPUTE_BIN is not an executable" >&2; exit 1; }
  [[ -f $root/build/CMakeCache.txt ]] || cmake -S "$root" -B "$root/build" -G Ninja >&2
  cmake --build "$root/build" --target repute >&2
fi
exec python3 "$here/bench.py"
