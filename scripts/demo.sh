#!/usr/bin/env bash
# The README's first command: set up, then take the sample machine as far as vmgen goes today.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vmgen validate examples/debian-web.conf --target lxc
npx vmgen get examples/debian-web.conf hardware.os
# `vmgen build` (issue 3) is not there yet; when it is, this script builds the sample here.
