#!/usr/bin/env bash
# The README's first command: set up this host, build the sample machine as an LXC container,
# then start it with vmgen verify (lxc-start) and check it against its config.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-demo.sh
mkdir -p out
archive=$(npx vmgen build examples/debian-web.conf --target lxc --out out | tail -n 1)
echo "archive: $archive"
npx vmgen verify "$archive" --config examples/debian-web.conf
