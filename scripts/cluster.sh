#!/usr/bin/env bash
# Several repute nodes on one PostgreSQL, on this machine: a private PostgreSQL 15 server (durable settings, on a
# loopback port, its files in DIR/pg) and NODES nodes in development mode on 127.0.0.1:8080, :8081, ... sharing its
# `repute` database. Ctrl-C (or SIGTERM) stops the nodes, then the server; DIR is kept, so a second start finds
# the same data.
#   scripts/cluster.sh [DIR]    default DIR: /var/tmp/repute-cluster (the postgres user must be able to reach it)
#   settings: NODES=2  FIRST_PORT=8080  REPUTE_BIN=build/repute
# `make cluster` installs PostgreSQL 15, builds and runs this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(realpath -m "${1:-/var/tmp/repute-cluster}")
nodes=${NODES:-2}
first_port=${FIRST_PORT:-8080}
bin=${REPUTE_BIN:-$root/build/repute}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
[[ -x $bin ]] || { echo "cluster: no $bin (make build)" >&2; exit 1; }
[[ $nodes =~ ^[1-9][0-9]?$ ]] || { echo "cluster: NODES must be 1 to 99" >&2; exit 2; }

as_owner() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pids=()
pg_started=0
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]+"${pids[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]+"${pids[@]}"}"; do wait "$pid" 2>/dev/null || true; done
  if ((pg_started)); then as_owner "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null || true; fi
  echo "cluster: stopped (data kept in $dir)"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

mkdir -p "$dir"
if [[ -f $dir/pg/data/PG_VERSION ]]; then
  # A server made by an earlier start: the same port again.
  as_owner "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 -o "-p $(cat "$dir/pg/port")" \
    start >/dev/null
  url="postgres://repute@127.0.0.1:$(cat "$dir/pg/port")/postgres"
else
  started=$(PG_DURABLE=1 "$root/scripts/postgres-test-server.sh" start "$dir/pg")
  url=$(sed -n 's/^REPUTE_TEST_POSTGRES=//p' <<<"$started")
fi
pg_started=1
database=${url%/postgres}/repute
if ! psql -X -q -t -d "$url" -c "SELECT 1 FROM pg_database WHERE datname = 'repute'" | grep -q 1; then
  psql -X -q -d "$url" -c "CREATE DATABASE repute"
fi
echo "cluster: PostgreSQL at $database (files in $dir/pg)"
"$bin" migrate --database "$database" >/dev/null

for ((i = 0; i < nodes; i++)); do
  port=$((first_port + i))
  node=node-$((i + 1))
  "$bin" serve --dev --database "$database" --node-id "$node" --listen "127.0.0.1:$port" \
    >"$dir/$node.out" 2>"$dir/$node.log" &
  pids+=($!)
done
for ((i = 0; i < nodes; i++)); do
  port=$((first_port + i))
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "cluster: node-$((i + 1)) exited:" >&2; tail -5 "$dir/node-$((i + 1)).log" >&2; exit 1; }
    sleep 0.1
  done
  echo "cluster: node-$((i + 1)) on http://127.0.0.1:$port (log: $dir/node-$((i + 1)).log)"
done
echo "cluster: the development key (every node takes it):"
head -1 "$dir/node-1.out"
echo "cluster: Ctrl-C stops everything"
wait -n "${pids[@]}" || true
echo "cluster: a node exited; stopping the others" >&2
