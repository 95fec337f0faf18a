#!/usr/bin/env bash
# Everything vmgen and its tests need on a Debian 12 host: Debian packages, npm packages, the build.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-configobj: the reference parser the config tests compare against.
bash scripts/ensure-debs.sh python3-configobj apt
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run --silent build
fi
