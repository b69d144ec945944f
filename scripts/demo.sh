#!/usr/bin/env bash
# The README's demo command: builds ebb, starts a local KRaft broker (unless EBB_BOOTSTRAP_SERVERS
# points at a cluster), pushes 100,000 messages through it at full speed and then a paced stream,
# and prints throughput and end-to-end latency. The broker is stopped at the end and on Ctrl-C.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" release
ebb="$root/build/release/apps/ebb/ebb"

bootstrap="${EBB_BOOTSTRAP_SERVERS:-}"
if [ -z "$bootstrap" ]; then
  run_dir="$EBB_CACHE/kafka-run/demo"
  "$root/tools/kafka/kafka.sh" stop --dir "$run_dir"
  trap '"$root/tools/kafka/kafka.sh" stop --dir "$run_dir"' EXIT
  trap 'exit 130' INT TERM
  bootstrap="$("$root/tools/kafka/kafka.sh" start --dir "$run_dir" --owner-pid $$)"
fi

log "1/2: 100,000 messages of 100 B as fast as the producer takes them (12 partitions, 1,000 keys)"
"$ebb" --log-level warn roundtrip -b "$bootstrap" --count 100000 --size 100 --partitions 12
log "2/2: 20,000 messages paced at 2,000 msg/s: latency when the cluster is not saturated"
"$ebb" --log-level warn roundtrip -b "$bootstrap" --count 20000 --size 100 --partitions 12 --rate 2000
