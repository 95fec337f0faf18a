import type { TopologyRenderer } from './types.js';

/**
 * topology/bridges.sh for LXC: `up` makes one bridge per network (what lxc.net.N.link names), `down`
 * removes them. Bridge names are lab-derived hashes (labBridgeName), never a value from the file,
 * so the script carries no user text but comments; it acts on the current network namespace, which
 * `vmgen lab up` makes the lab's own.
 */
export const lxcTopology: TopologyRenderer = (lab, networks) => {
  const names = networks.map((n) => n.bridge);
  for (const b of names) if (!/^[a-z0-9]{1,15}$/.test(b)) throw new Error(`bridge name ${JSON.stringify(b)} is not a safe interface name`);
  const lines = [
    '#!/bin/sh',
    `# The bridges of lab ${lab.name}, one per network: run it in the lab's network namespace.`,
    ...networks.map((n) => `#   ${n.bridge}  ${n.name} ${n.subnet}`),
    'set -eu',
    `BRIDGES="${names.join(' ')}"`,
    'case "${1:-}" in',
    '  up)',
    '    for b in $BRIDGES; do',
    '      ip link show "$b" >/dev/null 2>&1 || ip link add "$b" type bridge',
    '      ip link set "$b" up',
    '    done ;;',
    '  down)',
    '    for b in $BRIDGES; do',
    '      ! ip link show "$b" >/dev/null 2>&1 || ip link del "$b"',
    '    done ;;',
    '  *) echo "usage: $0 up|down" >&2; exit 2 ;;',
    'esac',
    '',
  ];
  return [{ role: 'bridges', path: 'topology/bridges.sh', content: lines.join('\n'), mode: 0o755 }];
};
