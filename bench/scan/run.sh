#!/usr/bin/env bash
# Scan scheduler benchmark (issue 3 "Measured", DESIGN §4 and §6): one million sandbox accounts whose
# periodic scans are spread over the refresh period, 100,000 of them due at once. Builds
# bench/scan/scan_bench.cpp against the repute libraries, runs every scenario RUNS times, prints each
# run, then a table of medians and whether the targets are met:
#   peak resident memory < 300 MB, idle CPU < 2 % of a core, burst >= 20,000 sandbox scans/s
#   (events and deliveries committed, synchronous=FULL).
#
#   bench/scan/run.sh                         3 runs of each scenario, medians
#   RUNS=5 SCENARIOS=periodic bench/scan/run.sh
#
# Scenarios (the due accounts; every other account has a reputation and is due in a day or more):
#   periodic  periodic scans of accounts that have a reputation, change probability 0.3 (the default):
#             ~30 % emit reputations.updated with one delivery per subscription
#   changed   the same with change probability 1: every scan emits an event and its deliveries
#   first     first scans of accounts never scanned: every scan adds a reputation and emits
#             reputations.added with its deliveries
#
# Settings (environment):
#   RUNS=3  SCENARIOS="periodic changed first"  ACCOUNTS=1000000  DUE=100000  WEBHOOKS=2
#   IDLE_SECONDS=20      CPU is measured over this long once nothing is due
#   SYNC=full            synchronous=FULL as in production (normal: for attributing time to fsync)
#   EXTRA_ARGS=          more scan_bench options (--claim-batch=N, --max-batch=N, --batch=N ...)
#   BUILD_DIR=build-bench  the CMake build dir used (configured with REPUTE_TESTS=OFF)
#   BENCH_TMP=${TMPDIR:-/tmp}  where the scenarios' databases (~1.4 GB each for a million accounts) and
#                        each run's copy are made; all are removed at the end
#   OUT=file             also write the medians table (markdown) there
#   STRICT=1             exit 1 when a target is missed
#   QUIET_BUSY=25        before each run, wait until the rest of the machine uses less than this % of
#   QUIET_WAIT=900       all CPUs (sampled over 3 s), at most QUIET_WAIT seconds; the busy % seen is
#                        printed with each run (other work on a 2-core machine skews every figure)
#
# Every run is bounded in time (scan_bench --burst-timeout); scan_bench removes its temp dir.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

RUNS=${RUNS:-3}
SCENARIOS=${SCENARIOS:-periodic changed first}
ACCOUNTS=${ACCOUNTS:-1000000}
DUE=${DUE:-100000}
WEBHOOKS=${WEBHOOKS:-2}
IDLE_SECONDS=${IDLE_SECONDS:-20}
SYNC=${SYNC:-full}
EXTRA_ARGS=${EXTRA_ARGS:-}
BUILD_DIR=${BUILD_DIR:-$root/build-bench}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}
OUT=${OUT:-}
STRICT=${STRICT:-0}
QUIET_BUSY=${QUIET_BUSY:-25}
QUIET_WAIT=${QUIET_WAIT:-900}

# ---- build ---------------------------------------------------------------------------------------
# With `add_subdirectory(bench)` in the top-level CMakeLists.txt the scan_bench target exists; until
# then the driver is compiled by hand against the component libraries of the same build dir.
echo "== building in $BUILD_DIR"
cmake -S "$root" -B "$BUILD_DIR" -G Ninja -DREPUTE_TESTS=OFF -DREPUTE_BENCH=ON >/dev/null
if ninja -C "$BUILD_DIR" -t targets all 2>/dev/null | grep -q '^scan_bench:'; then
  ninja -C "$BUILD_DIR" scan_bench >/dev/null
  bench_bin="$BUILD_DIR/bench/scan_bench"
else
  ninja -C "$BUILD_DIR" repute_scan repute_store repute_delivery repute_obs repute_core >/dev/null
  bench_bin="$BUILD_DIR/scan_bench"
  if [[ ! -x $bench_bin || $here/scan_bench.cpp -nt $bench_bin || -n $(find "$BUILD_DIR" -maxdepth 1 -name 'librepute_*.a' -newer "$bench_bin") ]]; then
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
    opt="-O2 -g -DNDEBUG"  # RelWithDebInfo, the project's default
    [[ $build_type == Release ]] && opt="-O3 -DNDEBUG"
    # shellcheck disable=SC2086
    g++ -std=c++20 $opt -Wall -Wextra -Wpedantic -I "$root/src" \
      -DBOOST_JSON_DYN_LINK -DBOOST_JSON_NO_LIB -DBOOST_URL_DYN_LINK -DBOOST_URL_NO_LIB \
      -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL -DSPDLOG_SHARED_LIB -DFMT_SHARED \
      "$here/scan_bench.cpp" -o "$bench_bin" \
      "$BUILD_DIR/librepute_scan.a" "$BUILD_DIR/librepute_delivery.a" "$BUILD_DIR/librepute_store.a" \
      "$BUILD_DIR/librepute_obs.a" "$BUILD_DIR/librepute_core.a" \
      -lsqlite3 -lcurl -lspdlog -lfmt -lboost_json -lboost_url -lssl -lcrypto -pthread
  fi
fi

# ---- machine -------------------------------------------------------------------------------------
model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
fs=$(df -T "$BENCH_TMP" | awk 'NR == 2 {print $2}')
echo "== machine: $(nproc) CPUs ($model), $mem memory; databases on $fs ($BENCH_TMP)"
echo "== $ACCOUNTS accounts, $DUE due at once, $WEBHOOKS subscriptions, synchronous=$SYNC, $RUNS runs per scenario"

log=$(mktemp "${BENCH_TMP%/}/repute-scan-bench-log.XXXXXX")
run_log=$(mktemp "${BENCH_TMP%/}/repute-scan-bench-run.XXXXXX")
trap 'rm -f "$log" "$run_log"' EXIT

args_of() {
  case $1 in
    periodic) echo "--mode=periodic --change-probability=0.3" ;;
    changed) echo "--mode=periodic --change-probability=1" ;;
    first) echo "--mode=first --change-probability=0.3" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
  esac
}

# machine_busy: the % of all CPUs busy over the next 3 s (this script is idle meanwhile).
machine_busy() {
  local a b
  read -r -a a < <(head -1 /proc/stat)
  sleep 3
  read -r -a b < <(head -1 /proc/stat)
  local idle=$(((b[4] + b[5]) - (a[4] + a[5]))) total=0 i
  for ((i = 1; i < ${#b[@]}; i++)); do total=$((total + b[i] - a[i])); done
  echo $((total > 0 ? 100 * (total - idle) / total : 0))
}
# wait_quiet: waits (at most QUIET_WAIT s) until the machine is below QUIET_BUSY %; prints the last %.
wait_quiet() {
  local started=$SECONDS busy
  while :; do
    busy=$(machine_busy)
    if ((busy < QUIET_BUSY || SECONDS - started >= QUIET_WAIT)); then
      echo "$busy"
      return
    fi
  done
}

# Each scenario's database is built once (scan_bench --build-only, through WriteTx in units of work of
# 10,000 accounts, synchronous=FULL); every run measures a fresh copy of it.
failed=0
declare -A db_of=()
trap 'rm -f "$log" "$run_log"; for f in "${db_of[@]}"; do rm -f "$f" "$f-wal" "$f-shm"; done' EXIT
for scenario in $SCENARIOS; do
  db_of[$scenario]=$(mktemp -u "${BENCH_TMP%/}/repute-scan-bench-$scenario.XXXXXX.db")
  echo "-- building the $scenario database (${db_of[$scenario]})"
  # shellcheck disable=SC2046,SC2086
  "$bench_bin" $(args_of "$scenario") --accounts="$ACCOUNTS" --due="$DUE" --webhooks="$WEBHOOKS" --sync="$SYNC" \
    --build-only="${db_of[$scenario]}" $EXTRA_ARGS
done

for ((run = 1; run <= RUNS; run++)); do
  for scenario in $SCENARIOS; do
    busy=$(wait_quiet)
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "-- run $run, $scenario (machine ${busy} % busy before it, load average $load)"
    status=0
    # shellcheck disable=SC2086
    "$bench_bin" --from="${db_of[$scenario]}" --idle-seconds="$IDLE_SECONDS" --sync="$SYNC" --dir="$BENCH_TMP" \
      --burst-timeout=600 $EXTRA_ARGS >"$run_log" 2>&1 || status=$?
    cat "$run_log"
    sed -n "s/^RESULT /scenario=$scenario busy_before=$busy load=$load /p" "$run_log" >>"$log"
    if ((status != 0)); then
      echo "!! run $run of $scenario failed (exit $status)"
      failed=1
    fi
  done
done

# ---- medians -------------------------------------------------------------------------------------
# median FIELD SCENARIO: the median of FIELD over the scenario's runs.
median() {
  awk -v key="$1" -v scenario="$2" '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (f["scenario"] == scenario) print f[key] }' "$log" |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
count_ok() { awk -v scenario="$1" '$1 == "scenario=" scenario && / ok=1/' "$log" | wc -l; }

table=$(
  echo "| scenario | runs ok | burst scans/s | 10–90 % scans/s | burst s | events | deliveries | CPU per scan (system) | burst CPU (cores) | busiest thread | its CPU per scan → scans/s bound | others' CPU during burst | idle CPU | peak RSS (VmHWM) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for scenario in $SCENARIOS; do
    printf '| %s | %s/%s | %s | %s | %s | %s | %s | %s µs (%s µs) | %s | %s %% | %s µs → %s | %s cores | %s %% | %s MB |\n' "$scenario" \
      "$(count_ok "$scenario")" "$RUNS" \
      "$(median scans_per_s "$scenario")" "$(median scans_per_s_10_90 "$scenario")" "$(median burst_s "$scenario")" \
      "$(median events "$scenario")" "$(median deliveries "$scenario")" \
      "$(median cpu_us_per_scan "$scenario")" "$(median sys_us_per_scan "$scenario")" "$(median burst_cores "$scenario")" \
      "$(median busiest_thread_pct "$scenario")" "$(median writer_us_per_scan "$scenario")" \
      "$(median writer_bound_scans_per_s "$scenario")" "$(median others_cores "$scenario")" \
      "$(median idle_cpu_pct "$scenario")" "$(median hwm_mb "$scenario")"
  done
)
echo
echo "== medians of $RUNS runs ($ACCOUNTS accounts, $DUE due, synchronous=$SYNC)"
echo "$table"
[[ -n $OUT ]] && echo "$table" >"$OUT"

# ---- targets -------------------------------------------------------------------------------------
echo
missed=0
for scenario in $SCENARIOS; do
  rate=$(median scans_per_s "$scenario")
  idle=$(median idle_cpu_pct "$scenario")
  hwm=$(median hwm_mb "$scenario")
  verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; missed=1; fi; }
  printf '%-9s burst %s scans/s (target >= 20000): %s; idle %s %% (target < 2): %s; peak RSS %s MB (target < 300): %s\n' \
    "$scenario" "$rate" "$(verdict "$rate >= 20000")" "$idle" "$(verdict "$idle < 2")" "$hwm" "$(verdict "$hwm < 300")"
done
# verdict runs in a subshell inside $(...); recompute the overall verdict here.
for scenario in $SCENARIOS; do
  awk "BEGIN { exit !($(median scans_per_s "$scenario") >= 20000 && $(median idle_cpu_pct "$scenario") < 2 && $(median hwm_mb "$scenario") < 300) }" || missed=1
done
[[ $failed == 1 ]] && echo "some runs failed their correctness check" >&2
if [[ $STRICT == 1 && ($missed == 1 || $failed == 1) ]]; then exit 1; fi
exit 0
