#!/usr/bin/env bash
# Installs the npm packages of the node test suites from their lock files: the interop tests (verification
# libraries and linters written by others) and the console tests (playwright-core, which never downloads a
# browser: they drive Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/../tests"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for suite in interop console; do
  [[ -f $suite/package.json ]] || continue
  if [[ ! -d $suite/node_modules ]] || [[ $suite/package-lock.json -nt $suite/node_modules ]]; then
    (cd "$suite" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
