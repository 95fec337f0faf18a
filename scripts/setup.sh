#!/usr/bin/env bash
# Everything vmgen and its tests need on a Debian 12 host: Debian packages, npm packages, the build.
set -euo pipefail
cd "$(dirname "$0")/.."
# Reference parser for the config tests; apt for the catalog tests.
bash scripts/ensure-debs.sh python3-configobj apt
# What builds run: mmdebstrap makes root file systems; tar, zstd, pigz and zip pack archives;
# lxc, systemd-container (systemd-nspawn) and podman (with runc and skopeo) start guests for
# `vmgen verify` and the integration tests.
bash scripts/ensure-debs.sh mmdebstrap util-linux tar zstd pigz zip unzip \
  lxc systemd-container podman runc skopeo nftables
# The catalog tests ask apt-cache whether every package name exists: they need package lists.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then apt-get update -qq; fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run --silent build
fi
