#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, type check, lint, the import layers, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Only the tests use them: docker-compose starts an OCI lab's compose file against podman's API;
# systemd's systemd-analyze verifies contrib/systemd's units; bash, zsh and fish run the completion
# scripts of `vmgen completion`; vagrant (with vagrant-libvirt, whose libvirt daemon it does not
# need for that) adds a built box.
bash scripts/ensure-debs.sh docker-compose systemd bash zsh fish vagrant vagrant-libvirt
npm run --silent typecheck
npm run --silent lint
npm run --silent depcheck
node scripts/run-tests.mjs test
