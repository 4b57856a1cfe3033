#!/usr/bin/env bash
# API benchmark: requests/s and p50/p99 latency of repute's GET /v1/webhooks/{id} and durable
# POST /v1/webhooks at 64 keep-alive connections with wrk, on SQLite and on PostgreSQL, and in the same
# run the same wrk against nginx serving the very same JSON body as a static file on loopback: the
# machine's ceiling. Prints every run, then a table of medians, the ratios and whether the targets are met.
#
#   bench/api/run.sh                      3 rounds of 10 s per target (nginx, then GET and POST per back end)
#   RUNS=5 DURATION=10 bench/api/run.sh   more rounds; medians are reported
#   BACKENDS=sqlite bench/api/run.sh      SQLite only (the benchmark of issue 2)
#
# Settings (environment):
#   RUNS=3            rounds; each round runs nginx, then GET and POST on every back end once,
#                     interleaved so that noise from other work on the machine spreads over all of them
#   BACKENDS="sqlite pg"  repute's database: sqlite (a file in the temp dir, synchronous=FULL) and/or pg
#                     (PostgreSQL 15, a private server in the temp dir started by
#                     scripts/postgres-test-server.sh with PG_DURABLE=1: fsync, full_page_writes,
#                     synchronous_commit on; pinned and niced like the server under test). One repute
#                     per back end runs for the whole benchmark; only the one under load is busy
#   DURATION=10       seconds per wrk run          WARMUP=2  seconds of unrecorded load per target
#   CONNECTIONS=64    keep-alive connections       WRK_THREADS=1  wrk threads (see docs/BENCHMARKS.md)
#   SERVER_THREADS=0  repute --threads and nginx worker_processes (0: one per core, both servers' default)
#   PIN=1             pin wrk to the last CPU and the server under test (repute or nginx) to the
#                     others (on 2 cores: wrk on CPU 1, server on CPU 0), so that the load generator
#                     never takes CPU from the server; PIN=0: no pinning, all share every core
#   WRK_CPUS=, SERVER_CPUS=   explicit taskset CPU lists instead (e.g. WRK_CPUS=1 SERVER_CPUS=0)
#   TARGETS="nginx get post"  which targets to run (get and post on every back end)
#   REPUTE_BIN=build/repute   the binary (copied to the temp dir first, so a parallel rebuild cannot swap it)
#   BENCH_TMP=${TMPDIR:-/tmp} where the temp dir (database, nginx prefix, logs) is made
#   QUIET_WAIT=20     before each run, wait up to this many seconds for the machine to be idle (other
#   QUIET_BELOW=0.3   processes using < QUIET_BELOW cores over 1 s); 0 disables; the wait is logged
#   NICE=             e.g. NICE=-10: run wrk, repute and nginx at this nice level (negative needs root),
#                     so that other work on a shared machine disturbs the measurement less. With the
#                     kernel's autogroup scheduling (sessions share the CPU equally whatever their
#                     processes' nice), this also sets the nice of the session's autogroup for the run
#                     and restores the old value on exit
#   OUT=file          also write the medians table (markdown) there
#   KEEP_TMP=1        keep the temp dir          STRICT=1  exit 1 when a target is missed
#
# Only loopback addresses are used; every load is bounded in time; the processes this script starts
# are stopped by their PIDs when it exits, however it exits.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-1}
SERVER_THREADS=${SERVER_THREADS:-0}
PIN=${PIN:-1}
WRK_CPUS=${WRK_CPUS:-}
SERVER_CPUS=${SERVER_CPUS:-}
TARGETS=${TARGETS:-nginx get post}
BACKENDS=${BACKENDS:-sqlite pg}
REPUTE_BIN=${REPUTE_BIN:-$root/build/repute}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}
QUIET_WAIT=${QUIET_WAIT:-20}
QUIET_BELOW=${QUIET_BELOW:-0.3}
NICE=${NICE:-}
OUT=${OUT:-}
KEEP_TMP=${KEEP_TMP:-0}
STRICT=${STRICT:-0}

# Targets (issue 2): GET at least 40 % of the nginx ceiling; durable POST at least 10,000/s, p99 < 20 ms.
GET_RATIO_TARGET=0.40
POST_RPS_TARGET=10000
POST_P99_TARGET_MS=20

die() { echo "bench/api: $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

for n in RUNS DURATION WARMUP CONNECTIONS WRK_THREADS SERVER_THREADS QUIET_WAIT; do
  [[ ${!n} =~ ^[0-9]+$ ]] || die "$n must be a whole number, not '${!n}'"
done
((RUNS >= 1 && DURATION >= 1 && CONNECTIONS >= 1 && WRK_THREADS >= 1)) || die "RUNS, DURATION, CONNECTIONS, WRK_THREADS must be >= 1"
((CONNECTIONS >= WRK_THREADS)) || die "CONNECTIONS must be >= WRK_THREADS"
for t in $TARGETS; do [[ $t == nginx || $t == get || $t == post ]] || die "unknown target '$t' (nginx, get, post)"; done
for b in $BACKENDS; do [[ $b == sqlite || $b == pg ]] || die "unknown back end '$b' (sqlite, pg)"; done
[[ -n $BACKENDS ]] || die "BACKENDS is empty"

missing=()
for tool in wrk nginx curl ss timeout; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ -n $WRK_CPUS || -n $SERVER_CPUS ]]; then command -v taskset >/dev/null || missing+=(taskset); fi
if [[ " $BACKENDS " == *" pg "* ]]; then
  command -v psql >/dev/null || missing+=(psql)
  [[ -x ${PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl ]] || missing+=(postgresql-15)
fi
((${#missing[@]} == 0)) || die "missing ${missing[*]}: run scripts/install-deps.sh bench (or make bench)"

# The only build step: the repute target, when the binary is missing.
if [[ ! -x $REPUTE_BIN ]]; then
  [[ $REPUTE_BIN == "$root/build/repute" ]] || die "$REPUTE_BIN is not an executable"
  log "build/repute is missing: building it"
  if [[ ! -f $root/build/CMakeCache.txt ]]; then cmake -S "$root" -B "$root/build" -G Ninja >&2; fi
  cmake --build "$root/build" --target repute >&2
fi

# --- processes this script starts; all stopped by PID on exit --------------------------------------
nginx_pid='' wrk_pid='' tmp='' autogroup_old='' pg_dir='' pg_pid=''
declare -A server_pid=() repute_url=() auth_b64=() get_path=() key_auth=()
# shellcheck disable=SC2317  # stop_pid and cleanup run from the traps
stop_pid() {  # PID: TERM, up to 10 s to finish, then KILL
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$wrk_pid"
  local b
  for b in "${!server_pid[@]}"; do stop_pid "${server_pid[$b]}"; done
  stop_pid "$nginx_pid"  # the master; it stops its workers
  # The PostgreSQL server started in $pg_dir, by its data directory (pg_ctl stop).
  if [[ -n $pg_dir ]]; then "$root/scripts/postgres-test-server.sh" stop "$pg_dir" >/dev/null 2>&1 || true; fi
  if [[ -n $autogroup_old ]]; then echo "$autogroup_old" >/proc/self/autogroup 2>/dev/null || true; fi
  if [[ -n $tmp && -d $tmp ]]; then
    if [[ $KEEP_TMP == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "$BENCH_TMP/repute-bench.XXXXXX")
cp "$REPUTE_BIN" "$tmp/repute"

cpus=$(nproc)
if [[ $PIN == 1 && -z $WRK_CPUS && -z $SERVER_CPUS ]] && ((cpus >= 2)) && command -v taskset >/dev/null; then
  WRK_CPUS=$((cpus - 1))
  SERVER_CPUS=0
  ((cpus == 2)) || SERVER_CPUS=0-$((cpus - 2))
fi
wrk_prefix=() server_prefix=()
[[ -z $WRK_CPUS ]] || wrk_prefix=(taskset -c "$WRK_CPUS")
[[ -z $SERVER_CPUS ]] || server_prefix=(taskset -c "$SERVER_CPUS")
if [[ -n $NICE ]]; then
  [[ $NICE =~ ^-?[0-9]+$ ]] || die "NICE must be a whole number, not '$NICE'"
  wrk_prefix=(nice -n "$NICE" "${wrk_prefix[@]}")
  server_prefix=(nice -n "$NICE" "${server_prefix[@]}")
  if [[ $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null) == 1 && -w /proc/self/autogroup ]]; then
    old=$(sed -n 's/.* nice \(-\{0,1\}[0-9]\{1,\}\)$/\1/p' /proc/self/autogroup)
    if echo "$NICE" 2>/dev/null >/proc/self/autogroup; then
      autogroup_old=${old:-0}
    else
      log "cannot set this session's autogroup nice to $NICE; other sessions keep an equal CPU share"
    fi
  fi
fi

# A loopback port nothing uses (in any state) right now.
free_port() {
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$((20000 + RANDOM % 40000))
    if [[ -z $(ss -Htan "( sport = :$p )") ]]; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

# CPU seconds (user+system) used so far by a process and its direct children (nginx's workers).
clk_tck=$(getconf CLK_TCK)
proc_ticks() {
  local pid=$1 total=0 p line rest
  local -a f
  for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    rest=${line##*) }  # after the command name, which may hold spaces
    read -ra f <<<"$rest"
    total=$((total + f[11] + f[12]))  # utime, stime (fields 14, 15)
  done
  echo "$total"
}
# Busy and total jiffies of the whole machine.
machine_ticks() {
  local _ user nice system idle iowait irq softirq steal
  read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
# CPU seconds used by the reaped children of this shell (wrk, once waited for), into $children_cpu_s.
# `times` must run in this shell, not in a $(...) subshell, whose counts start at zero.
children_cpu() {
  times >"$tmp/times.txt"
  children_cpu_s=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.3f\n", s }' "$tmp/times.txt")
}

# --- PostgreSQL ---------------------------------------------------------------------------------------
chmod 711 "$tmp"  # the postgres user (and nginx's workers) must reach their folders in it
pg_url=
if [[ " $BACKENDS " == *" pg "* ]]; then
  pg_dir=$tmp/pg
  pg_out=$(PG_DURABLE=1 "${server_prefix[@]}" "$root/scripts/postgres-test-server.sh" start "$pg_dir") ||
    die "PostgreSQL did not start"
  pg_url=$(sed -n 's/^REPUTE_TEST_POSTGRES=//p' <<<"$pg_out")
  pg_pid=$(head -n1 "$pg_dir/data/postmaster.pid")
  psql -X -q -v ON_ERROR_STOP=1 "$pg_url" -c 'CREATE DATABASE repute_api_bench' || die "cannot create the database"
  pg_url=${pg_url%/*}/repute_api_bench
  pg_settings=$(psql -X -A -t "$pg_url" -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers')")
  log "PostgreSQL at $pg_url: $pg_settings"
fi

# --- repute, one per back end ------------------------------------------------------------------------
# start_repute BACKEND: starts it, reads the dev key, creates one webhook and fetches it into $tmp/BACKEND.json.
start_repute() {
  local b=$1 port database key_line key_id key_secret code webhook_id i
  port=$(free_port)
  if [[ $b == sqlite ]]; then database=sqlite://$tmp/repute.db; else database=$pg_url; fi
  log "starting repute ($b) on 127.0.0.1:$port (database $database)"
  local args=(serve --dev --listen "127.0.0.1:$port" --database "$database")
  ((SERVER_THREADS == 0)) || args+=(--threads "$SERVER_THREADS")
  "${server_prefix[@]}" "$tmp/repute" "${args[@]}" >"$tmp/repute-$b.out" 2>"$tmp/repute-$b.log" &
  server_pid[$b]=$!
  key_line=
  for ((i = 0; i < 300; i++)); do
    if [[ -s $tmp/repute-$b.out ]]; then
      key_line=$(head -n1 "$tmp/repute-$b.out")
      [[ $key_line == *'}'* ]] && break
    fi
    kill -0 "${server_pid[$b]}" 2>/dev/null || { cat "$tmp/repute-$b.log" >&2; die "repute ($b) exited before printing its key"; }
    sleep 0.1
  done
  [[ $key_line == *'}'* ]] || { cat "$tmp/repute-$b.log" >&2; die "repute ($b) printed no key line within 30 s"; }
  key_id=$(sed -n 's/.*"api_key_id" *: *"\([^"]*\)".*/\1/p' <<<"$key_line")
  key_secret=$(sed -n 's/.*"api_key_secret" *: *"\([^"]*\)".*/\1/p' <<<"$key_line")
  [[ -n $key_id && -n $key_secret ]] || die "cannot read the dev key from: $key_line"
  key_auth[$b]=$key_id:$key_secret
  auth_b64[$b]=$(printf '%s:%s' "$key_id" "$key_secret" | base64 -w0)
  repute_url[$b]=http://127.0.0.1:$port
  for ((i = 0; i < 100; i++)); do
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "${repute_url[$b]}/healthz" || true)
    [[ $code == 200 ]] && break
    sleep 0.1
  done
  code=$(curl -sS -m 10 -o "$tmp/created-$b.json" -w '%{http_code}' -u "${key_auth[$b]}" \
    -H 'Content-Type: application/json' --data '{"url":"http://127.0.0.1:9/hook","events":["*"],"name":"bench"}' \
    "${repute_url[$b]}/v1/webhooks" || true)
  if [[ $code != 201 ]]; then
    cat "$tmp/created-$b.json" >&2 2>/dev/null || true
    tail -n 5 "$tmp/repute-$b.log" >&2 || true
    die "POST /v1/webhooks ($b) answered ${code:-nothing}, not 201"
  fi
  webhook_id=$(grep -o '"id" *: *"[0-9a-fA-F-]\{36\}"' "$tmp/created-$b.json" | head -n1 | grep -o '[0-9a-fA-F-]\{36\}')
  [[ -n $webhook_id ]] || die "no id in $(cat "$tmp/created-$b.json")"
  get_path[$b]=/v1/webhooks/$webhook_id
  code=$(curl -sS -m 10 -o "$tmp/$b.json" -w '%{http_code}' -u "${key_auth[$b]}" "${repute_url[$b]}${get_path[$b]}" || true)
  [[ $code == 200 ]] || die "GET ${get_path[$b]} ($b) answered $code, not 200"
}
for b in $BACKENDS; do start_repute "$b"; done
first_backend=${BACKENDS%% *}

mkdir -p "$tmp/www" "$tmp/nginx-tmp"
cp "$tmp/$first_backend.json" "$tmp/www/webhook.json"

# --- nginx: the same body as a static file ------------------------------------------------------------
nginx_port=$(free_port)
workers=$SERVER_THREADS
((workers > 0)) || workers=$(nproc)
sed -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$nginx_port|g" -e "s|@WORKERS@|$workers|g" \
  "$here/nginx.conf.template" >"$tmp/nginx.conf"
# nginx's workers run as an unprivileged user when started as root: let them reach the file.
chmod 755 "$tmp/www"
chmod 644 "$tmp/www/webhook.json"
log "starting nginx on 127.0.0.1:$nginx_port ($workers workers)"
"${server_prefix[@]}" nginx -p "$tmp/" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" \
  >"$tmp/nginx.out" 2>&1 &
nginx_pid=$!
for ((i = 0; i < 100; i++)); do
  code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nginx_port${get_path[$first_backend]}" || true)
  [[ $code == 200 ]] && break
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$tmp/nginx.out" "$tmp/nginx-error.log" >&2 2>/dev/null; die "nginx exited"; }
  sleep 0.1
done
[[ $code == 200 ]] || die "nginx did not answer 200 within 10 s"

sizes() { curl -s -m 10 -o /dev/null -w '%{size_header}+%{size_download}' "$@"; }
repute_sizes=
for b in $BACKENDS; do repute_sizes+="$b $(sizes -u "${key_auth[$b]}" "${repute_url[$b]}${get_path[$b]}"), "; done
nginx_sizes=$(sizes -u "${key_auth[$first_backend]}" "http://127.0.0.1:$nginx_port${get_path[$first_backend]}")

# --- the run -------------------------------------------------------------------------------------------
# Runs are named nginx, get-BACKEND, post-BACKEND.
describe() {
  local on
  case ${1#*-} in sqlite) on=", SQLite" ;; pg) on=", PostgreSQL" ;; *) on= ;; esac
  case $1 in
    nginx) echo "nginx static JSON (ceiling)" ;;
    get-*) echo "GET /v1/webhooks/{id}$on" ;;
    post-*) echo "POST /v1/webhooks (durable)$on" ;;
  esac
}
runs=()
for t in $TARGETS; do
  if [[ $t == nginx ]]; then runs+=(nginx); fi
done
for b in $BACKENDS; do
  for t in $TARGETS; do [[ $t == nginx ]] || runs+=("$t-$b"); done
done
has_run() { [[ " ${runs[*]} " == *" $1 "* ]]; }
fs_type=$(df -PT "$tmp" | awk 'NR == 2 { print $2 }')
cat <<EOF
# repute API benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)
# machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ { print $2 }') GiB memory, Linux $(uname -r)
# repute: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [[ -z $(git -C "$root" status --porcelain -- src CMakeLists.txt 2>/dev/null) ]] || echo ' (src modified)'), binary built $(date -u -r "$REPUTE_BIN" +%Y-%m-%dT%H:%M:%SZ); back ends $BACKENDS; database on $fs_type ($tmp), SQLite synchronous=FULL$( [[ -z $pg_url ]] || echo ", PostgreSQL $(psql -X -A -t "$pg_url" -c 'SHOW server_version' | cut -d' ' -f1) $pg_settings")
# $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3); wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --timeout 10s, ${RUNS} rounds, ${WARMUP}s warm-up
# server threads/workers: $workers; pinning: wrk ${WRK_CPUS:-none}, servers (and PostgreSQL) ${SERVER_CPUS:-none}; nice ${NICE:-0}; waits up to ${QUIET_WAIT}s for < $QUIET_BELOW busy cores before each run
# GET response header+body bytes: repute ${repute_sizes}nginx $nginx_sizes
# load average before: $(cut -d' ' -f1-3 /proc/loadavg)
EOF

# Others may be compiling on this machine: wait (bounded) until it is idle before a run.
wait_quiet() {
  ((QUIET_WAIT > 0)) || return 0
  local start=$SECONDS b0 t0 b1 t1 busy
  while :; do
    read -r b0 t0 <<<"$(machine_ticks)"
    sleep 1
    read -r b1 t1 <<<"$(machine_ticks)"
    busy=$(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v n="$(nproc)" 'BEGIN { printf "%.2f", (t > 0 ? b / t * n : 0) }')
    awk -v b="$busy" -v q="$QUIET_BELOW" 'BEGIN { exit !(b < q) }' && return 0
    if ((SECONDS - start >= QUIET_WAIT)); then
      log "machine still busy ($busy cores used by others) after ${QUIET_WAIT}s: running anyway"
      return 0
    fi
  done
}

# run_wrk TARGET SECONDS FILE: one bounded wrk run; appends CPU use (in cores) to wrk's BENCH line.
run_wrk() {
  local target=$1 seconds=$2 file=$3 script url pid b=${1#*-} db_pid=
  [[ $target != nginx ]] || b=$first_backend
  case $target in
    nginx) script=$here/get.lua url=http://127.0.0.1:$nginx_port pid=$nginx_pid ;;
    get-*) script=$here/get.lua url=${repute_url[$b]} pid=${server_pid[$b]} ;;
    post-*) script=$here/post.lua url=${repute_url[$b]} pid=${server_pid[$b]} ;;
  esac
  [[ $target == nginx || $b != pg ]] || db_pid=$pg_pid
  local srv0 mach0 wrk0 srv1 mach1 wrk1 db0=0 db1=0
  wait_quiet
  srv0=$(proc_ticks "$pid"); mach0=$(machine_ticks); children_cpu; wrk0=$children_cpu_s
  [[ -z $db_pid ]] || db0=$(proc_ticks "$db_pid")
  BENCH_PATH=${get_path[$b]} BENCH_AUTH=${auth_b64[$b]} timeout -k 5 $((seconds + 60)) \
    "${wrk_prefix[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 10s -s "$script" "$url" \
    >"$file" 2>&1 &
  wrk_pid=$!
  local rc=0
  wait "$wrk_pid" || rc=$?
  wrk_pid=
  srv1=$(proc_ticks "$pid"); mach1=$(machine_ticks); children_cpu; wrk1=$children_cpu_s
  [[ -z $db_pid ]] || db1=$(proc_ticks "$db_pid")
  ((rc == 0)) || { cat "$file" >&2; die "wrk against $target failed (exit $rc)"; }
  if ! kill -0 "$pid" 2>/dev/null; then
    if [[ $target == nginx ]]; then tail -n 5 "$tmp/nginx-error.log" >&2; else tail -n 5 "$tmp/repute-$b.log" >&2; fi
    die "$target's server exited during the run"
  fi
  grep -q '^BENCH ' "$file" || { cat "$file" >&2; die "no BENCH line from wrk against $target"; }
  read -r mb0 mt0 <<<"$mach0"
  read -r mb1 mt1 <<<"$mach1"
  awk -v s="$((srv1 - srv0))" -v d="$((db1 - db0))" -v hz="$clk_tck" -v w0="$wrk0" -v w1="$wrk1" -v mb="$((mb1 - mb0))" \
    -v mt="$((mt1 - mt0))" -v n="$(nproc)" '
    /^BENCH / {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "seconds") secs = kv[2] }
      server = s / hz / secs; db = d / hz / secs; wrk = (w1 - w0) / secs; machine = (mt > 0 ? mb / mt * n : 0)
      other = machine - server - db - wrk; if (other < 0) other = 0
      printf "%s server_cpu=%.2f db_cpu=%.2f wrk_cpu=%.2f other_cpu=%.2f\n", $0, server, db, wrk, other
    }' "$file" | tail -n1 >"$file.line"
}

if ((WARMUP > 0)); then
  for t in "${runs[@]}"; do log "warm-up: $t ${WARMUP}s"; run_wrk "$t" "$WARMUP" "$tmp/warmup-$t.txt"; done
fi

results=$tmp/results.txt
: >"$results"
printf '%-11s %5s %10s %8s %8s %8s %7s %7s %7s %7s\n' target round 'req/s' 'p50 ms' 'p99 ms' errors 'srv cpu' 'pg cpu' 'wrk cpu' 'oth cpu' >&2
for ((r = 1; r <= RUNS; r++)); do
  for t in "${runs[@]}"; do
    run_wrk "$t" "$DURATION" "$tmp/run-$t-$r.txt"
    line=$(cat "$tmp/run-$t-$r.txt.line")
    echo "$t $r $line" >>"$results"
    awk -v t="$t" -v r="$r" '{
      for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      err = v["non2xx"] + v["connect_err"] + v["read_err"] + v["write_err"] + v["timeout_err"]
      printf "%-11s %5d %10.0f %8.2f %8.2f %8d %7.2f %7.2f %7.2f %7.2f\n", t, r, v["rps"], v["p50_ms"], v["p99_ms"], err,
        v["server_cpu"], v["db_cpu"], v["wrk_cpu"], v["other_cpu"]
    }' <<<"$t $r $line" >&2
  done
done

# --- medians, ratios, targets ------------------------------------------------------------------------
# median TARGET KEY
median() {
  awk -v t="$1" -v k="$2" '$1 == t { for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' \
    "$results" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
errors_total() {
  awk -v t="$1" '$1 == t { for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] ~ /^(non2xx|connect_err|read_err|write_err|timeout_err)$/) s += kv[2] } } END { print s + 0 }' "$results"
}

table=$tmp/table.md
{
  echo "| target | req/s | p50 ms | p99 ms | errors | server CPU (cores) | PostgreSQL CPU | wrk CPU | other CPU |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for t in "${runs[@]}"; do
    printf '| %s | %.0f | %.2f | %.2f | %d | %.2f | %.2f | %.2f | %.2f |\n' "$(describe "$t")" "$(median "$t" rps)" \
      "$(median "$t" p50_ms)" "$(median "$t" p99_ms)" "$(errors_total "$t")" "$(median "$t" server_cpu)" \
      "$(median "$t" db_cpu)" "$(median "$t" wrk_cpu)" "$(median "$t" other_cpu)"
  done
} >"$table"

missed=0
verdicts=()
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
percent() { awk -v r="$1" 'BEGIN { printf "%.1f %%", r * 100 }'; }
nginx_rps=$(median nginx rps)
for b in $BACKENDS; do
  get_rps=$(median "get-$b" rps) post_rps=$(median "post-$b" rps) post_p99=$(median "post-$b" p99_ms)
  if has_run nginx && has_run "get-$b"; then
    ratio=$(ratio_of "$get_rps" "$nginx_rps")
    ok=$(awk -v r="$ratio" -v t="$GET_RATIO_TARGET" 'BEGIN { print (r >= t) ? "met" : "MISSED" }')
    [[ $ok == met ]] || missed=1
    verdicts+=("$(describe "get-$b") / nginx = $(percent "$ratio") (target >= 40 %): $ok")
  fi
  if has_run nginx && has_run "post-$b"; then
    verdicts+=("$(describe "post-$b") / nginx = $(percent "$(ratio_of "$post_rps" "$nginx_rps")") (for information)")
  fi
  if has_run "post-$b"; then
    ok=$(awk -v r="$post_rps" -v p="$post_p99" -v tr="$POST_RPS_TARGET" -v tp="$POST_P99_TARGET_MS" \
      'BEGIN { print (r >= tr && p < tp) ? "met" : "MISSED" }')
    [[ $ok == met ]] || missed=1
    verdicts+=("$(describe "post-$b") = $(printf '%.0f' "$post_rps")/s, p99 $(printf '%.2f' "$post_p99") ms (target >= 10000/s, p99 < 20 ms): $ok")
  fi
done
if [[ " $BACKENDS " == *" sqlite "* && " $BACKENDS " == *" pg "* ]]; then
  for t in get post; do
    if has_run "$t-sqlite" && has_run "$t-pg"; then
      verdicts+=("${t^^} PostgreSQL / SQLite = $(ratio_of "$(median "$t-pg" rps)" "$(median "$t-sqlite" rps)") req/s, p99 $(ratio_of "$(median "$t-pg" p99_ms)" "$(median "$t-sqlite" p99_ms)") (for information)")
    fi
  done
fi
for t in "${runs[@]}"; do
  e=$(errors_total "$t")
  ((e == 0)) || verdicts+=("WARNING: $(describe "$t") had $e errors (non-2xx or socket) over all rounds")
done

echo
echo "# medians of $RUNS rounds; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$table"
echo
for v in "${verdicts[@]}"; do echo "$v"; done
if [[ -n $OUT ]]; then
  { cat "$table"; echo; for v in "${verdicts[@]}"; do echo "$v  "; done; } >"$OUT"
fi
if [[ $STRICT == 1 && $missed == 1 ]]; then exit 1; fi
exit 0
