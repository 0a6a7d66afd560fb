#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine as root: installs what it needs, then `bun test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec node_modules/.bin/bun test "$@"
