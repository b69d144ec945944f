#!/usr/bin/env bash
# Share groups past the partition count: on 12 partitions, M share consumers (`ebb consume
# --group-type share --work sleep:1ms`, about 900 msg/s each) drain a preloaded backlog; the group's
# consumption rate is read by `ebb lag --group-type share` over a window once every member fetches.
# A consumer group stops at 12 members; the target is 24 share members >= 1.8x the rate of 12.
# Two backlog shapes: small producer batches (about 15 records, -X batch.size=2000, what a live
# producer at moderate rates sends) and the producer's full-speed batches (thousands of records):
# the broker acquires whole batches for a share member, so batch size decides how many members a
# partition's record locks (share.partition.max.record.locks, 2000) can keep busy.
# Writes its section of docs/BENCHMARKS.md (or OUTPUT.md).
#   bench/share_bench.sh [--runs N] [--members A,B,...] [OUTPUT.md]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
runs=3
member_counts="12,24"
report="$root/docs/BENCHMARKS.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --members) member_counts="$2"; shift 2 ;;
    -*) die "usage: share_bench.sh [--runs N] [--members A,B,...] [OUTPUT.md]" ;;
    *) report="$1"; shift ;;
  esac
done
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" release
ebb="$root/build/release/apps/ebb/ebb"
kafka="$root/tools/kafka/kafka.sh"
work="$(mktemp -d)"
run_dir="$EBB_CACHE/kafka-run/share-bench"
partitions=12
settle=10   # seconds for every member to join and fetch
window=15   # seconds the rate is read over

cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  "$kafka" stop --dir "$run_dir"
  rm -rf "$work"
}
trap cleanup EXIT
bootstrap="$("$kafka" start --dir "$run_dir" --owner-pid $$)"

# measure SHAPE MEMBERS RUN: prints the group's consumption rate (msg/s) over the window.
measure() {
  local shape="$1" members="$2" run="$3" topic="share-bench-$1-$2-$3"
  local batching=()
  [ "$shape" = small ] && batching=(-X batch.size=2000)
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$topic" --partitions "$partitions" --replication-factor 1 >/dev/null
  # More than the members can drain in settle + window at 1 ms per message.
  local backlog=$(((settle + window + 10) * members * 1000))
  "$ebb" --log-level warn produce -b "$bootstrap" -t "$topic" --rate 0 -n "$backlog" \
    --keys uniform:1000 "${batching[@]}" -o json >"$work/produce-$topic.json"
  local i pids=()
  for ((i = 0; i < members; i++)); do
    "$ebb" --log-level warn consume -b "$bootstrap" -t "$topic" -g "$topic" --group-type share \
      --work sleep:1ms >/dev/null 2>"$work/member-$topic-$i.err" &
    pids+=($!)
  done
  sleep "$settle"
  "$ebb" --log-level warn lag -b "$bootstrap" -g "$topic" -t "$topic" --group-type share \
    --interval "$window" -o json >"$work/lag-$topic.json"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["topics"][0]["consume_rate"]))' \
    "$work/lag-$topic.json"
}

IFS=, read -r -a counts <<<"$member_counts"
: >"$work/results"
for ((run = 1; run <= runs; run++)); do
  for shape in small large; do
    for members in "${counts[@]}"; do
      rate="$(measure "$shape" "$members" "$run")"
      log "run $run, $shape batches: $members share members: $rate msg/s"
      printf '%s %s %s\n' "$shape" "$members" "$rate" >>"$work/results"
    done
  done
done

python3 - "$work/results" "$partitions" "$settle" "$window" "${counts[0]}" >"$work/section.md" <<'PY'
import statistics, sys
path, partitions, settle, window, base = sys.argv[1:6]
rates = {}
for line in open(path):
    shape, members, rate = line.split()
    rates.setdefault((shape, int(members)), []).append(float(rate))
print("## Share groups past the partition count\n")
print("Reproduce with `bench/share_bench.sh` (release build, one local KRaft broker, 2 cores shared by")
print(f"the broker and every member). {partitions} partitions, a preloaded backlog; M share consumers")
print(f"(`ebb consume --group-type share --work sleep:1ms`, about 900 msg/s each) start together; after")
print(f"{settle} s, `ebb lag --group-type share` reads the group's consumption rate over {window} s (the")
print("broker's own share-group lag, KIP-1226). A consumer group cannot use more than 12 members here.")
print("*small*: the backlog produced in batches of about 15 records (`-X batch.size=2000`); *large*: in")
print("the producer's full-speed batches (thousands of records). The broker acquires whole batches for a")
print("member, and a share partition lends at most `share.partition.max.record.locks` (2,000) records at")
print("once: with large batches one member holds a partition's every lock while it works through them.\n")
print(f"| backlog batches | members | runs | msg/s (median) | min–max | vs {base} members |")
print("|---|---:|---:|---:|---:|---:|")
for shape in ("small", "large"):
    base_values = rates.get((shape, int(base)))
    for (s, members), values in sorted(rates.items()):
        if s != shape:
            continue
        median = statistics.median(values)
        ratio = f"{median / statistics.median(base_values):.2f}×" if base_values else "–"
        print(f"| {shape} | {members} | {len(values)} | {median:,.0f} | "
              f"{min(values):,.0f}–{max(values):,.0f} | {ratio} |")
print()
PY
cat "$work/section.md"
python3 "$root/bench/write_section.py" "$report" share-bench <"$work/section.md"
