#!/usr/bin/env bash
# What fast KIP-848 heartbeats cost the broker: for each group.consumer.heartbeat.interval.ms, a
# fresh local broker, 12 idle `ebb consume` members of one group on a 12-partition topic, and over
# 30 s the broker JVM's CPU time (utime + stime from /proc) beside the heartbeat rate those members
# send (members x 1000 / interval: a settled member heartbeats once per interval). Writes its
# section of docs/BENCHMARKS.md (or $1).
#   bench/heartbeat_cost.sh [OUTPUT.md]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
bench_setup "$@"
work="$(mktemp -d)"
run_dir="$EBB_CACHE/kafka-run/heartbeat-cost"
members=12
window=30

cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  "$kafka" stop --dir "$run_dir"
  rm -rf "$work"
}
trap cleanup EXIT

cpu_seconds() {  # PID: utime + stime in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

: >"$work/rows"
for interval in 5000 2000 1000 500 250 100; do
  "$kafka" stop --dir "$run_dir"
  bootstrap="$(EBB_KAFKA_HEARTBEAT_MS="$interval" "$kafka" start --dir "$run_dir" --owner-pid $$)"
  broker_pid="$(cat "$run_dir/node-1/pid")"
  topic="hb-$interval"
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$topic" --partitions 12 --replication-factor 1 >/dev/null
  pids=()
  for m in $(seq 1 "$members"); do
    "$ebb" --log-level warn consume -b "$bootstrap" -t "$topic" -g "$topic" \
      >/dev/null 2>&1 &
    pids+=($!)
  done
  sleep 15  # joined and settled
  before="$(cpu_seconds "$broker_pid")"
  sleep "$window"
  after="$(cpu_seconds "$broker_pid")"
  kill -TERM "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  python3 - "$interval" "$members" "$window" "$before" "$after" >>"$work/rows" <<'PY'
import sys
interval, members, window, before, after = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
rate = members * 1000 / interval
cpu = (after - before) / window * 100
print(f"| {interval:,} | {members} | {rate:.1f} | {cpu:.1f} |")
PY
  log "heartbeat $interval ms: $(tail -1 "$work/rows")"
done

python3 - "$work/rows" "$members" "$window" <<'PY' >"$work/section.md"
import sys
rows, members, window = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
print(f"""## What fast heartbeats cost the broker

Reproduce with `bench/heartbeat_cost.sh`: a fresh local broker per setting, {members} idle members
of one KIP-848 group on a 12-partition topic, the broker JVM's CPU over {window} s after the group
settled (utime + stime, % of one core). Heartbeats/s is what the members send at that interval
(each sends one per interval while nothing changes; computed, not counted at the broker).

| `group.consumer.heartbeat.interval.ms` | members | heartbeats/s | broker CPU % of a core |
|---:|---:|---:|---:|
{rows}""", end="")
PY
python3 "$root/bench/write_section.py" "$report" heartbeat-cost <"$work/section.md"
cat "$work/section.md"
