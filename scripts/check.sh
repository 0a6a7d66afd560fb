#!/usr/bin/env bash
# `bun run check`: the typecheck, the linter, the formatter (check only) and the dead-export check, each run even
# when one before it failed, so that one run shows every problem. Exit status 0 only when all four pass.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin
failed=()
run() {
  local name=$1
  shift
  echo "check: $name: $*"
  if "$@"; then echo "check: $name: ok"; else failed+=("$name"); echo "check: $name: FAILED"; fi
}
run typecheck "$bin/tsc" --noEmit -p .
run lint "$bin/biome" lint --error-on-warnings .
run format "$bin/biome" format .
run dead-exports "$bin/knip"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "check: failed: ${failed[*]}"
  exit 1
fi
echo "check: all passed"
