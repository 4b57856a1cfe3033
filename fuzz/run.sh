#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs them.
#   fuzz/run.sh [fuzz] [TARGET...]   fuzz each target for FUZZ_SECONDS (default 20) from its checked-in corpus
#   fuzz/run.sh regressions [TARGET...]   run every corpus and fuzz/crashes input once, no mutation
#   fuzz/run.sh build                build only
# The checked-in corpus is only read; new inputs go to a temporary folder. A crashing input is copied to
# fuzz/crashes/TARGET/ (commit it: it is a regression input from then on) and the script exits non-zero.
# Env: FUZZ_SECONDS, FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (parallel build jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
all_targets=(json_body scan_result url cursor base64_time)

mode=fuzz
if [[ ${1:-} == fuzz || ${1:-} == regressions || ${1:-} == build ]]; then
  mode=$1
  shift
fi
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

build_fuzzers() {
  local cc=${CC:-clang-14} cxx=${CXX:-clang++-14}
  [[ $cc == *clang* ]] || cc=clang-14
  [[ $cxx == *clang* ]] || cxx=clang++-14
  if ! command -v "$cxx" >/dev/null; then
    echo "fuzz: $cxx not found (scripts/install-deps.sh test installs clang-14 and libclang-rt-14-dev)" >&2
    exit 2
  fi
  CC=$cc CXX=$cxx cmake -S "$root/fuzz" -B "$build" -G Ninja >/dev/null
  cmake --build "$build" ${FUZZ_JOBS:+-j "$FUZZ_JOBS"}
}

# Files of a folder, if it exists.
inputs_of() {
  [[ -d $1 ]] && find "$1" -type f ! -name '.*' | sort
  return 0
}

# Runs each checked-in input once; every crash input is run on its own so that all failing ones are listed.
run_regressions() {
  local failed=0 target input
  for target in "${targets[@]}"; do
    local fuzzer=$build/${target}_fuzzer
    mapfile -t corpus < <(inputs_of "$root/fuzz/corpus/$target")
    if ((${#corpus[@]})); then
      if "$fuzzer" "${corpus[@]}" >"$work/$target.corpus.log" 2>&1; then
        echo "regressions: $target corpus: ${#corpus[@]} inputs pass"
      else
        echo "regressions: $target corpus FAILS:"
        grep -a -E 'invariant broken|ERROR|runtime error|Running: ' "$work/$target.corpus.log" | tail -n 6
        failed=1
      fi
    fi
    while IFS= read -r input; do
      if "$fuzzer" "$input" >"$work/one.log" 2>&1; then
        echo "regressions: $target ${input#"$root"/}: pass"
      else
        echo "regressions: $target ${input#"$root"/}: FAILS"
        grep -a -E 'invariant broken|ERROR|runtime error' "$work/one.log" | head -n 3
        failed=1
      fi
    done < <(inputs_of "$root/fuzz/crashes/$target")
  done
  return $failed
}

# Fuzzes each target for $seconds; prints libFuzzer's figures; keeps any crash under fuzz/crashes.
run_fuzzers() {
  local failed=0 target
  for target in "${targets[@]}"; do
    local fuzzer=$build/${target}_fuzzer out=$work/$target.new artifacts=$work/$target.artifacts/
    mkdir -p "$out" "$artifacts"
    local seeds
    seeds=$(inputs_of "$root/fuzz/corpus/$target" | wc -l)
    local status=0 started=$SECONDS
    "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts" "$out" "$root/fuzz/corpus/$target" >"$work/$target.log" 2>&1 || status=$?
    local execs per_second
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log" | tail -n 1)
    per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$target.log" | tail -n 1)
    echo "fuzz: $target: ${execs:-?} executions in $((SECONDS - started))s (${per_second:-?}/s)," \
      "corpus $seeds seeds + $(find "$out" -type f | wc -l) new"
    local crash found=0
    for crash in "$artifacts"*; do
      [[ -f $crash ]] || continue
      found=1
      mkdir -p "$root/fuzz/crashes/$target"
      cp "$crash" "$root/fuzz/crashes/$target/"
      echo "fuzz: $target: CRASH kept as fuzz/crashes/$target/$(basename "$crash")"
      echo "fuzz:   reproduce: $fuzzer fuzz/crashes/$target/$(basename "$crash")"
    done
    if ((status != 0 || found)); then
      grep -a -E -A3 'invariant broken|ERROR: |runtime error' "$work/$target.log" | head -n 20 || tail -n 20 "$work/$target.log"
      failed=1
    fi
  done
  return $failed
}

build_fuzzers
[[ $mode == build ]] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $mode == regressions ]]; then
  run_regressions
else
  run_fuzzers
fi
