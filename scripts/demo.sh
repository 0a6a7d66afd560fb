#!/usr/bin/env bash
# The README's first command: installs what is needed on Debian 12, builds, and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec node_modules/.bin/bun scripts/demo.ts
