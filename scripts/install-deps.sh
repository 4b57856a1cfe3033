#!/usr/bin/env bash
# Installs the Debian packages repute needs, skipping those already present.
#   scripts/install-deps.sh build   compiler, libraries, ccache
#   scripts/install-deps.sh test    build + what the test suite starts (node, npm, PostgreSQL 15, chromium)
#   scripts/install-deps.sh bench   test + wrk and nginx
#   scripts/install-deps.sh cluster build + PostgreSQL 15 and curl (scripts/cluster.sh)
set -euo pipefail
profile=${1:-build}

packages=(build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev
  libspdlog-dev libfmt-dev libcli11-dev)
case "$profile" in
  build) ;;
  cluster) packages+=(postgresql-15 curl) ;;
  test) packages+=(libgtest-dev libgmock-dev nodejs npm sqlite3 curl postgresql-15 chromium) ;;
  bench) packages+=(libgtest-dev libgmock-dev nodejs npm sqlite3 curl postgresql-15 chromium wrk nginx-light
    libbenchmark-dev python3) ;;
  *) echo "usage: $0 build|test|bench|cluster" >&2; exit 2 ;;
esac
# clang-14 for the fuzz targets; libtsan2 is g++ 12's ThreadSanitizer runtime (scripts/tsan.sh).
case "$profile" in test | bench) packages+=(clang-14 libclang-rt-14-dev libtsan2) ;; esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm may come from outside Debian on some machines; any working pair will do.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # The tests start private PostgreSQL servers of their own (scripts/postgres-test-server.sh): Debian's package
  # need not make and start a cluster of its own.
  if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
    "${sudo_cmd[@]}" mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" |
      "${sudo_cmd[@]}" tee /etc/postgresql-common/createcluster.d/repute-no-main-cluster.conf >/dev/null
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
