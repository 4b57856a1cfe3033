#!/usr/bin/env bash
# A private PostgreSQL 15 server on loopback, for the tests, the benchmarks and trying several nodes.
#   scripts/postgres-test-server.sh start [DIR]   initdb into DIR (a new temp folder by default), start it on a
#                                                 free loopback port; prints REPUTE_TEST_POSTGRES=postgres://...
#   scripts/postgres-test-server.sh stop DIR      stops the server started in DIR and removes DIR
#   scripts/postgres-test-server.sh url DIR       prints the URL of the server running in DIR
# PG_DURABLE=1 start: fsync, full_page_writes and synchronous_commit on (PostgreSQL's defaults), for benchmarks
# that compare it with SQLite at synchronous=FULL; by default fsync is off (tests need no power-cut durability).
# Run as root, the server runs as the `postgres` user (initdb refuses root). Nothing listens beyond 127.0.0.1.
set -euo pipefail
command=${1:-}
dir=${2:-}

bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [[ ! -x $bin/pg_ctl ]]; then
  echo "postgres-test-server: no PostgreSQL 15 in $bin (scripts/install-deps.sh test installs postgresql-15)" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url_of() {
  local port
  port=$(cat "$1/port")
  echo "postgres://repute@127.0.0.1:$port/postgres"
}

case "$command" in
  start)
    if [[ -z $dir ]]; then dir=$(mktemp -d /tmp/repute-pg.XXXXXX); fi
    mkdir -p "$dir"
    [[ $(id -u) == 0 ]] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U repute --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    # Tests need no durability against a power cut, only against a killed repute: fsync off makes them fast.
    # Benchmarks (PG_DURABLE=1) keep every commit flushed to the disk before it is acknowledged.
    if [[ ${PG_DURABLE:-0} == 1 ]]; then
      durability="fsync = on
full_page_writes = on
synchronous_commit = on"
    else
      durability="fsync = off
full_page_writes = off"
    fi
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 600
$durability
shared_buffers = 128MB
shared_preload_libraries = 'pg_stat_statements'
log_min_messages = warning
EOF
    # A free port: the first one from 54320 up that nothing answers on and the server takes.
    for port in $(seq 54320 54420); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "-p $port" start >/dev/null; then
        echo "$port" >"$dir/port"
        [[ $(id -u) == 0 ]] && chown postgres: "$dir/port"
        echo "REPUTE_TEST_POSTGRES=$(url_of "$dir")"
        echo "REPUTE_TEST_POSTGRES_DIR=$dir"
        exit 0
      fi
    done
    echo "postgres-test-server: could not start a server; see $dir/server.log" >&2
    exit 1
    ;;
  stop)
    [[ -n $dir ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }
    if [[ -f $dir/data/postmaster.pid ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  url)
    [[ -n $dir ]] || { echo "usage: $0 url DIR" >&2; exit 2; }
    url_of "$dir"
    ;;
  *)
    echo "usage: $0 start [DIR] | stop DIR | url DIR" >&2
    exit 2
    ;;
esac
