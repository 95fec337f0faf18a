#!/bin/sh
# The bridges of lab net101, one per network: run it in the lab's network namespace.
#   vl5c7d30d1  dmz 10.20.0.0/24
#   vl4eaeaedf  lan 10.10.0.0/24
set -eu
BRIDGES="vl5c7d30d1 vl4eaeaedf"
case "${1:-}" in
  up)
    for b in $BRIDGES; do
      ip link show "$b" >/dev/null 2>&1 || ip link add "$b" type bridge
      ip link set "$b" up
    done ;;
  down)
    for b in $BRIDGES; do
      ! ip link show "$b" >/dev/null 2>&1 || ip link del "$b"
    done ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
