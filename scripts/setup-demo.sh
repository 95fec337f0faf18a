#!/usr/bin/env bash
# What the README's first command needs, and nothing more: the tools an LXC build and its
# `vmgen verify` run, then the npm packages and the build. scripts/setup.sh adds what the other
# targets and the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
step() { echo "setup: $* ($((SECONDS - started)) s)" >&2; }
# mmdebstrap makes the root file system (in namespaces: util-linux's unshare), tar and zstd pack
# it, and lxc starts it for vmgen verify.
step "Debian packages for an LXC build"
bash scripts/ensure-debs.sh mmdebstrap util-linux tar zstd lxc
# better-sqlite3, the service's database, is an optional dependency the demo leaves out: where no
# prebuilt binary can be fetched it compiles for a minute. `--all` (scripts/setup.sh) includes it.
step "npm packages and the build"
if [ "${1:-}" = "--all" ]; then
  omit=() have=node_modules/better-sqlite3/package.json
else
  omit=(--omit=optional) have=node_modules/.package-lock.json
fi
if [ ! -f "$have" ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund "${omit[@]}"
else
  npm run --silent build
fi
step "ready"
