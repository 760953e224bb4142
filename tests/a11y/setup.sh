#!/usr/bin/env bash
# Installs axe-core from the npm registry for the accessibility browser tests (tests/a11y).
# Idempotent: returns at once when node_modules matches package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
STAMP=node_modules/.chorus-setup-stamp
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$STAMP"
