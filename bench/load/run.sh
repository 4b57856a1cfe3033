#!/usr/bin/env bash
# Load with hostile traffic: wrk at high concurrency against `repute serve --dev` on loopback, with a Lua
# script that mixes valid requests (GETs, durable POSTs) and invalid ones (bad JSON, wrong types, unknown
# routes, wrong methods, missing and wrong credentials, bad query strings, oversized bodies both declared and
# real). Reports requests/s, the answers by status, the count of 5xx (must be 0) and the server's RSS sampled
# every second from /proc/PID/status (must be flat after the warm-up). Exit status 1 when a 5xx was seen,
# the server died, or RSS grew by more than RSS_GROWTH_LIMIT_KIB after the warm-up.
#
#   bench/load/run.sh                          256 connections, 5 s warm-up, then 30 s
#   CONNECTIONS=512 DURATION=60 bench/load/run.sh
#
# Settings (environment):
#   CONNECTIONS=256  DURATION=30  WARMUP=5  WRK_THREADS=2
#   RSS_GROWTH_LIMIT_KIB=32768   allowed RSS growth from the end of the warm-up to the end of the run
#   REPUTE_BIN=build/repute      the binary (copied to the temp dir first, so a parallel rebuild cannot swap it)
#   BENCH_TMP=${TMPDIR:-/tmp}    where the temp dir (database, logs, samples) is made; KEEP_TMP=1 keeps it
#
# Only loopback addresses are used; every load is bounded in time; the processes this script starts are
# stopped by their PIDs when it exits, however it exits.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

CONNECTIONS=${CONNECTIONS:-256}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
WRK_THREADS=${WRK_THREADS:-2}
RSS_GROWTH_LIMIT_KIB=${RSS_GROWTH_LIMIT_KIB:-32768}
REPUTE_BIN=${REPUTE_BIN:-$root/build/repute}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}
KEEP_TMP=${KEEP_TMP:-0}

die() { echo "bench/load: $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

for n in CONNECTIONS DURATION WARMUP WRK_THREADS RSS_GROWTH_LIMIT_KIB; do
  [[ ${!n} =~ ^[0-9]+$ ]] || die "$n must be a whole number, not '${!n}'"
done
((DURATION >= 1 && CONNECTIONS >= WRK_THREADS && WRK_THREADS >= 1)) || die "bad DURATION/CONNECTIONS/WRK_THREADS"
for tool in wrk curl ss timeout; do command -v "$tool" >/dev/null || die "missing $tool (scripts/install-deps.sh bench)"; done
[[ -x $REPUTE_BIN ]] || die "$REPUTE_BIN is not an executable (build the repute target first)"

# --- processes this script starts; all stopped by PID on exit --------------------------------------
server_pid= wrk_pid= sampler_pid= tmp=
stop_pid() {  # PID: TERM, up to 10 s to finish, then KILL
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$wrk_pid"
  stop_pid "$sampler_pid"
  stop_pid "$server_pid"
  if [[ -n $tmp && -d $tmp ]]; then
    if [[ $KEEP_TMP == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmp=$(mktemp -d "$BENCH_TMP/repute-load.XXXXXX")
cp "$REPUTE_BIN" "$tmp/repute"

free_port() {
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$((20000 + RANDOM % 40000))
    if [[ -z $(ss -Htan "( sport = :$p )") ]]; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

# --- repute ------------------------------------------------------------------------------------------
port=$(free_port)
log "starting repute serve --dev on 127.0.0.1:$port (database $tmp/repute.db)"
"$tmp/repute" serve --dev --listen "127.0.0.1:$port" --database "sqlite://$tmp/repute.db" \
  >"$tmp/repute.out" 2>"$tmp/repute.log" &
server_pid=$!
key_line=
for ((i = 0; i < 300; i++)); do
  if [[ -s $tmp/repute.out ]]; then
    key_line=$(head -n1 "$tmp/repute.out")
    [[ $key_line == *'}'* ]] && break
  fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/repute.log" >&2; die "repute exited before printing its key"; }
  sleep 0.1
done
[[ $key_line == *'}'* ]] || die "repute printed no key line within 30 s"
key_id=$(sed -n 's/.*"api_key_id" *: *"\([^"]*\)".*/\1/p' <<<"$key_line")
key_secret=$(sed -n 's/.*"api_key_secret" *: *"\([^"]*\)".*/\1/p' <<<"$key_line")
url=http://127.0.0.1:$port
code=$(curl -sS -m 10 -o "$tmp/created.json" -w '%{http_code}' -u "$key_id:$key_secret" \
  -H 'Content-Type: application/json' --data '{"url":"http://127.0.0.1:9/hook","events":["*"],"name":"load"}' \
  "$url/v1/webhooks")
[[ $code == 201 ]] || die "POST /v1/webhooks answered $code"
webhook_id=$(grep -o '"id" *: *"[0-9a-fA-F-]\{36\}"' "$tmp/created.json" | head -n1 | grep -o '[0-9a-fA-F-]\{36\}')

# --- the request mix ---------------------------------------------------------------------------------
cat >"$tmp/mixed.lua" <<'LUA'
-- Cycles through a fixed mix of valid and invalid requests; counts answers by status in each thread and
-- prints, in done(), one parseable line: LOAD requests=... rps=... s5xx=... statuses=code:count,...
local auth = "Basic " .. os.getenv("LOAD_AUTH")
local bad_auth = "Basic " .. os.getenv("LOAD_BAD_AUTH")
local webhook = os.getenv("LOAD_WEBHOOK")
local json = { ["Content-Type"] = "application/json", ["Authorization"] = auth }
local mix = {
  wrk.format("GET", "/v1/webhooks/" .. webhook, json),
  wrk.format("GET", "/v1/webhooks/" .. webhook, json),
  wrk.format("GET", "/v1/webhooks/" .. webhook, json),
  wrk.format("GET", "/v1/users?limit=5", json),
  wrk.format("GET", "/healthz", {}),
  wrk.format("POST", "/v1/users", json, '{"external_id": "load"}'),                  -- valid, durable
  wrk.format("POST", "/v1/webhooks", json, '{"url": "http://127.0.0.1:9/h", "events": '), -- bad JSON
  wrk.format("POST", "/v1/webhooks", json, '{"events": 5, "name": [], "url": 7}'),       -- wrong types
  wrk.format("POST", "/v1/webhooks", json, '{"events": ["nope"], "name": "x", "url": "ftp://x"}'),
  wrk.format("POST", "/v1/accounts", json, '{"user": "not-a-uuid", "employer": ""}'),
  wrk.format("POST", "/v1/users", json, string.rep("[", 5000) .. string.rep("]", 5000)), -- deep nesting
  wrk.format("POST", "/v1/users", json, '{"external_id": "\255\254"}'),                  -- invalid UTF-8
  wrk.format("GET", "/v1/no-such-route", json),
  wrk.format("DELETE", "/healthz", json),                                                -- wrong method
  wrk.format("GET", "/v1/webhooks", {}),                                                 -- no credentials
  wrk.format("GET", "/v1/webhooks", { ["Authorization"] = bad_auth }),                   -- wrong secret
  wrk.format("GET", "/v1/users?limit=abc", json),
  wrk.format("GET", "/v1/users?cursor=%%%garbage", json),
  wrk.format("GET", "/v1/webhooks/not-a-uuid", json),
  -- declared oversized (written raw: wrk.format would set the true Content-Length)
  "POST /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " .. auth ..
    "\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{}",
  wrk.format("POST", "/v1/users", json, '{"metadata": {"x": "' .. string.rep("x", 1048576) .. '"}}'), -- oversized
}
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  counts = {}
  index = 0
end
function request()
  index = index % #mix + 1
  return mix[index]
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local total, s5xx = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + n
      if status >= 500 then s5xx = s5xx + n end
    end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, status .. ":" .. n) end
  table.sort(parts)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format("LOAD requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f s5xx=%d " ..
    "connect_err=%d read_err=%d write_err=%d timeout_err=%d statuses=%s\n", summary.requests, seconds,
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, s5xx,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
LUA

# --- RSS, every second -------------------------------------------------------------------------------
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server_pid/status" 2>/dev/null; }
(
  start=$SECONDS
  while kill -0 "$server_pid" 2>/dev/null; do
    echo "$((SECONDS - start)) $(rss_kib)"
    sleep 1
  done
) >"$tmp/rss.txt" &
sampler_pid=$!

# run_wrk SECONDS FILE
run_wrk() {
  LOAD_AUTH=$(printf '%s:%s' "$key_id" "$key_secret" | base64 -w0) \
  LOAD_BAD_AUTH=$(printf '%s:%s' "$key_id" "wrong-secret" | base64 -w0) LOAD_WEBHOOK=$webhook_id \
    timeout -k 5 $(($1 + 60)) wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$1s" --timeout 10s -s "$tmp/mixed.lua" "$url" \
    >"$2" 2>&1 &
  wrk_pid=$!
  local rc=0
  wait "$wrk_pid" || rc=$?
  wrk_pid=
  ((rc == 0)) || { cat "$2" >&2; die "wrk failed (exit $rc)"; }
  grep -q '^LOAD ' "$2" || { cat "$2" >&2; die "no LOAD line from wrk"; }
}

rss_start=$(rss_kib)
if ((WARMUP > 0)); then
  log "warm-up: ${WARMUP}s at $CONNECTIONS connections"
  run_wrk "$WARMUP" "$tmp/warmup.txt"
fi
rss_warm=$(rss_kib)
log "run: ${DURATION}s at $CONNECTIONS connections"
run_wrk "$DURATION" "$tmp/run.txt"
rss_end=$(rss_kib)
alive=yes
kill -0 "$server_pid" 2>/dev/null || alive=no
health=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$url/healthz" || true)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2"; }
warm_5xx=0
[[ ! -f $tmp/warmup.txt ]] || warm_5xx=$(field s5xx "$tmp/warmup.txt")
s5xx=$(field s5xx "$tmp/run.txt")
rss_peak=$(awk 'NF == 2 && $2 > m { m = $2 } END { print m + 0 }' "$tmp/rss.txt")
# RSS after the warm-up: its samples' spread over the measured run.
rss_run=$(awk -v w="$WARMUP" 'NF == 2 && $1 > w + 1 { print $2 }' "$tmp/rss.txt" | sort -n | awk '{ a[NR] = $1 } END { print a[1] + 0, a[NR] + 0 }')

cat <<REPORT
# repute load run, $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs; $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)
# wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s (after ${WARMUP}s warm-up), 21-request mix of valid and invalid
$(sed -n 's/^LOAD /run:    /p' "$tmp/run.txt")
requests/s:         $(field rps "$tmp/run.txt")
latency p50/p99 ms: $(field p50_ms "$tmp/run.txt") / $(field p99_ms "$tmp/run.txt")
5xx answers:        $s5xx (warm-up: $warm_5xx)
RSS KiB:            start $rss_start, after warm-up $rss_warm, end $rss_end, peak $rss_peak; min/max after warm-up: $rss_run
RSS samples (s KiB): $(tr '\n' ' ' <"$tmp/rss.txt")
server alive:       $alive, /healthz after: $health
REPORT

failed=0
[[ $s5xx == 0 && $warm_5xx == 0 ]] || { echo "FAIL: the server answered 5xx" >&2; failed=1; }
[[ $alive == yes && $health == 200 ]] || { echo "FAIL: the server is not healthy after the run" >&2; failed=1; }
growth=$((rss_end - rss_warm))
((growth <= RSS_GROWTH_LIMIT_KIB)) || { echo "FAIL: RSS grew $growth KiB after the warm-up" >&2; failed=1; }
((failed == 0)) && echo "OK: no 5xx, server healthy, RSS growth after warm-up $growth KiB (limit $RSS_GROWTH_LIMIT_KIB)"
exit "$failed"
