#!/usr/bin/env bash
# Runs the benchmarks: every bench/*/run.sh that exists, in name order, or only those named.
#   bench/run.sh          all of them
#   bench/run.sh api      only bench/api/run.sh
# Settings are passed through the environment; see each script's header. Exit status: the first
# failing benchmark's, after all have run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scripts=()
if (($#)); then
  for name in "$@"; do
    [[ -f $here/$name/run.sh ]] || { echo "bench: no bench/$name/run.sh" >&2; exit 2; }
    scripts+=("$here/$name/run.sh")
  done
else
  for script in "$here"/*/run.sh; do [[ -f $script ]] && scripts+=("$script"); done
fi
((${#scripts[@]})) || { echo "bench: no bench/*/run.sh found" >&2; exit 1; }
status=0
for script in "${scripts[@]}"; do
  name=$(basename "$(dirname "$script")")
  echo "## bench/$name"
  rc=0
  bash "$script" || rc=$?
  if ((rc != 0)); then
    echo "bench/$name failed (exit $rc)" >&2
    ((status != 0)) || status=$rc
  fi
  echo
done
exit "$status"
