#!/usr/bin/env bash
# Runs a command with REPUTE_TEST_POSTGRES pointing at a PostgreSQL server for the pg.* tests: the one already in
# REPUTE_TEST_POSTGRES, or a private one started here (scripts/postgres-test-server.sh) and stopped when the
# command ends, also when it fails. Without PostgreSQL 15 installed the command runs without one (the pg.* tests
# then skip with one line), unless REPUTE_REQUIRE_POSTGRES=1 (CI), where that is a failure.
#   scripts/with-test-postgres.sh COMMAND [ARGS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pg_dir=""
stop_postgres() { if [[ -n $pg_dir ]]; then "$here/postgres-test-server.sh" stop "$pg_dir" || true; fi; }
trap stop_postgres EXIT
if [[ -z ${REPUTE_TEST_POSTGRES:-} ]]; then
  if started=$("$here/postgres-test-server.sh" start); then
    export "$(grep '^REPUTE_TEST_POSTGRES=' <<<"$started")"
    pg_dir=$(sed -n 's/^REPUTE_TEST_POSTGRES_DIR=//p' <<<"$started")
    echo "PostgreSQL for the pg.* tests: $REPUTE_TEST_POSTGRES"
  elif [[ ${REPUTE_REQUIRE_POSTGRES:-0} == 1 ]]; then
    echo "no PostgreSQL server for the pg.* tests, and REPUTE_REQUIRE_POSTGRES=1" >&2
    exit 1
  fi
fi
"$@"
