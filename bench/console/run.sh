#!/usr/bin/env bash
# The console's measured figures (issue 12): its first load in headless chromium (bytes transferred, time to
# interactive), and how fast the pages' API calls answer with 10,000 subscriptions and 1,000,000 deliveries
# (one attempt each, spread evenly over the last 24 hours) in the store.
#   bench/console/run.sh            RUNS (7) loads and requests per figure; REPUTE_BIN (build/repute)
# Needs sqlite3, node with tests/console's packages (scripts/install-npm.sh) and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-7}
bin=$(realpath "${REPUTE_BIN:-build/repute}")
work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== first load (empty store), median of $runs"
REPUTE_BINARY=$bin node tests/console/measure.mjs "$runs"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db="$work/repute.db"
start() {
  "$bin" serve "$@" --listen "127.0.0.1:$port" --database "sqlite://$db" >"$work/key" 2>>"$work/log" &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "repute did not start" >&2; exit 1
}
stop() { kill "$server_pid"; wait "$server_pid" || true; server_pid=; }

start --dev  # makes the schema, the sandbox tenant and its key
key=$(head -1 "$work/key" | python3 -c 'import json,sys; k=json.load(sys.stdin); print(k["api_key_id"] + ":" + k["api_key_secret"])')
stop
tenant=$(sqlite3 "$db" "SELECT id FROM tenants WHERE name = 'sandbox'")
now=$(date +%s%6N)
echo "== seeding 10,000 subscriptions and 1,000,000 deliveries"
sqlite3 "$db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
INSERT INTO webhooks(id, tenant_id, events, name, url, secret, include_resource, enabled, last_sent_at, created_at,
                     updated_at)
SELECT printf('00000000-0000-7000-8000-%012x', i), '$tenant', '*', 'endpoint ' || i, 'http://127.0.0.1:9/' || i,
       'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0, 1, $now, $now - 86400000000, $now - 86400000000 FROM n;
-- 2 % pending (due tomorrow, so that nothing is sent), 3 % failed, the rest delivered.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
INSERT INTO deliveries(id, tenant_id, event_id, webhook_id, event_type, body, state, attempts, next_attempt_at,
                       last_status, created_at, updated_at, delivered_at)
SELECT printf('00000001-0000-7000-8000-%012x', i), '$tenant', printf('00000002-0000-7000-8000-%012x', i / 3),
       printf('00000000-0000-7000-8000-%012x', i % 10000), 'reputations.added',
       '{"event":"reputations.added","name":"x","data":{"account":"a","user":"u","reputation":"r"}}',
       CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 33 = 0 THEN 'failed' ELSE 'delivered' END, 1,
       CASE WHEN i % 50 = 0 THEN $now + 86400000000 END, CASE WHEN i % 33 = 0 AND i % 50 != 0 THEN 500 ELSE 200 END,
       $now - 86400000000 + i * 86400, $now - 86400000000 + i * 86400,
       CASE WHEN i % 50 != 0 AND i % 33 != 0 THEN $now - 86400000000 + i * 86400 END FROM n;
INSERT INTO delivery_attempts(delivery_id, attempted_at, duration_us, status_code, response_excerpt)
SELECT id, created_at, 1000 + (seq % 7) * 300, last_status, 'ok' FROM deliveries;
COMMIT;
ANALYZE;
SQL
start
hook=00000000-0000-7000-8000-000000000007
echo "== what the pages ask, median of $runs after one warm-up (seconds)"
for path in "/v1/overview?minutes=60" "/v1/webhooks?limit=20" "/v1/webhooks/$hook/stats" \
  "/v1/webhooks/$hook/deliveries?limit=25" "/v1/webhooks/$hook/deliveries?limit=25&state=failed" \
  "/v1/webhooks/$hook/deliveries?limit=25&created_before=$(date -u -d '-12 hours' +%Y-%m-%dT%H:%M:%SZ)" \
  "/v1/events?limit=25" "/v1/accounts?limit=20"; do
  curl -s -o /dev/null -u "$key" "http://127.0.0.1:$port$path"
  times=$(for _ in $(seq "$runs"); do curl -s -o /dev/null -w '%{time_total}\n' -u "$key" "http://127.0.0.1:$port$path"; done)
  printf '%-90s %s\n' "$path" "$(sort -n <<<"$times" | sed -n "$(((runs + 1) / 2))p")"
done
