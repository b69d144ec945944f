#!/usr/bin/env bash
# What a scale event costs the group's users, per group protocol and handoff setting: at constant
# load with headroom, `ebb scale --policy cycle` scales N -> N+k -> N over and over (k = 1 and
# k = N); per event `ebb scale-cost` measures the excess p99 (worst per-second p99 of the group in
# the 15 s after the decision minus the steady p99 before it), the longest partition gap (old
# owner's last message to new owner's first, from the audit files' timestamps) and, for scale-out,
# decision to capacity (until every new replica processed its first message). Every case is
# checked with `ebb verify` (0 lost). Writes its section of docs/BENCHMARKS.md (or OUTPUT.md) and
# the chart docs/img/handoff.svg.
#   bench/handoff_bench.sh [--events N] [--quick-events M] [--cases A,B] [OUTPUT.md]
# --events: events per direction for the main case (default 10); --quick-events: for the others
# (default 3); --cases: run only these cases (names below).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
events=10
quick_events=3
only=""
report="$root/docs/BENCHMARKS.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --quick-events) quick_events="$2"; shift 2 ;;
    --cases) only=",$2,"; shift 2 ;;
    -*) die "usage: handoff_bench.sh [--events N] [--quick-events M] [--cases A,B] [OUTPUT.md]" ;;
    *) report="$1"; shift ;;
  esac
done
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" release
need gnuplot "run scripts/bootstrap.sh (it installs gnuplot-nox)"
ebb="$root/build/release/apps/ebb/ebb"
kafka="$root/tools/kafka/kafka.sh"
chart="$root/docs/img/handoff.svg"
work="$(mktemp -d)"
run_dir="$EBB_CACHE/kafka-run/handoff-bench"

# The load: 2,000 msg/s over 12 partitions, 1,000 keys; each replica spends 1 ms per message
# (about 900 msg/s), so N = 4 replicas run at ~55% and every count of the cycle has headroom.
rate=2000
partitions=12
base=4
period=15

cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  "$kafka" stop --dir "$run_dir"
  rm -rf "$work"
}
trap cleanup EXIT

broker_settings=""
bootstrap=""
# use_broker HEARTBEAT_MS[/ASSIGNMENT_MS]: a fresh local broker whose KIP-848 heartbeat interval is
# HEARTBEAT_MS and, when given, whose assignment interval is ASSIGNMENT_MS (else kafka.sh's).
use_broker() {
  [ "$broker_settings" = "$1" ] && return
  "$kafka" stop --dir "$run_dir"
  local heartbeat="${1%%/*}" extra=()
  [[ "$1" == */* ]] && extra=(--set "group.consumer.assignment.interval.ms=${1#*/}")
  bootstrap="$(EBB_KAFKA_HEARTBEAT_MS="$heartbeat" "$kafka" start --dir "$run_dir" \
    --owner-pid $$ "${extra[@]}")"
  broker_settings="$1"
}

# run_case NAME HEARTBEAT_MS[/ASSIGNMENT_MS] WARM K EVENTS CONSUME-ARG...: one cycle N <-> N+K,
# EVENTS each way.
run_case() {
  local name="$1" heartbeat="$2" warm="$3" k="$4" count="$5"
  shift 5
  [ -z "$only" ] || [[ "$only" == *",$name,"* ]] || return 0
  local dir="$work/$name" topic="handoff-$name"
  mkdir -p "$dir/replicas"
  use_broker "$heartbeat"
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$topic" --partitions "$partitions" --replication-factor 1 >/dev/null
  local seconds=$(((2 * count + 1) * period))
  # A share group's scaler reads the group as one (the replicas get the flag with the rest).
  local scale_extra=()
  [[ " $* " == *" --group-type share "* ]] && scale_extra=(--group-type share)
  log "case $name: $base <-> $((base + k)) replicas, $count events each way, $seconds s"
  "$ebb" --log-level warn scale -b "$bootstrap" -t "$topic" -g "$topic" "${scale_extra[@]}" \
    --policy cycle \
    --set "counts=$base,$((base + k))" --set "period=${period}s" --warm "$warm" \
    --decisions "$dir/decisions.jsonl" --log-dir "$dir/replicas" --duration "$((seconds + 20))" \
    -o json -- --log-level warn consume -b "$bootstrap" -t "$topic" -g "$topic" \
    --work sleep:1ms "$@" --audit "$dir/replicas/replica-{replica}.audit" \
    --stats "$dir/replicas/replica-{replica}.stats" >"$dir/scale.json" 2>"$dir/scale.err" &
  local scaler=$!
  sleep 5  # the first replicas join before the load
  "$ebb" --log-level warn produce -b "$bootstrap" -t "$topic" --producer-id p1 \
    --keys uniform:1000 --rate "$rate" --duration "$seconds" -o json >"$dir/producer.json"
  wait "$scaler" || die "ebb scale ($name) failed: $(tail -5 "$dir/scale.err")"
  "$ebb" verify -o json \
    --expect "p1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["acknowledged"])' "$dir/producer.json")" \
    $(printf -- '--audit %s ' "$dir"/replicas/*.audit) >"$dir/verify.json" || true
  "$ebb" scale-cost -o json --decisions "$dir/decisions.jsonl" --replicas "$dir/replicas" \
    >"$dir/cost.json"
  printf '%s\n' "$name" >>"$work/cases"
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$heartbeat" "$warm" "$k" "$*" >>"$work/case-info"
}

kip848=(--group-protocol consumer)
coop=(--group-protocol classic --assignor cooperative-sticky)
eager=(--group-protocol classic --assignor range)
# The main case (what ships: 250 ms heartbeats on the local broker, 2 warm standbys), k = 1 and
# k = N, then each knob against it.
run_case kip848-fast-warm-k1 250 2 1 "$events" "${kip848[@]}"
run_case kip848-fast-warm-kN 250 2 "$base" "$events" "${kip848[@]}"
run_case kip848-fast-cold-k1 250 0 1 "$quick_events" "${kip848[@]}"
run_case coop-fast-warm-k1 250 2 1 "$quick_events" "${coop[@]}" -X heartbeat.interval.ms=250
run_case eager-fast-warm-k1 250 2 1 "$quick_events" "${eager[@]}" -X heartbeat.interval.ms=250
run_case kip848-2s-cold-k1 2000 0 1 "$quick_events" "${kip848[@]}"
# The KIP-1263 assignment interval: the coordinator computes a new target assignment at most this
# often, so members that join within one interval of the first wait for the next computation.
run_case kip848-warm4-kN-assign1s 250/1000 "$base" "$base" "$quick_events" "${kip848[@]}"
run_case kip848-warm4-kN-assign100ms 250/100 "$base" "$base" "$quick_events" "${kip848[@]}"
run_case kip848-warm4-kN-assign0 250/0 "$base" "$base" "$quick_events" "${kip848[@]}"
# Share groups (KIP-932): members share the partitions, nothing is handed over; no standbys (a
# share member cannot wait outside its group), the share heartbeat at 250 ms as above.
run_case share-cold-k1 250 0 1 "$quick_events" --group-type share
run_case share-cold-kN 250 0 "$base" "$quick_events" --group-type share

mkdir -p "$(dirname "$chart")"
PYTHONPATH="$root/bench" python3 - "$work" "$report" "$chart" "$rate" "$partitions" "$base" "$period" <<'PY'
import io, json, os, subprocess, sys
work, report, chart = sys.argv[1], sys.argv[2], sys.argv[3]
rate, partitions, base, period = sys.argv[4:8]
labels = {
    "kip848-fast-warm-k1": "KIP-848, heartbeat 250 ms, --warm 2, k=1",
    "kip848-fast-warm-kN": f"KIP-848, heartbeat 250 ms, --warm 2, k=N={base}",
    "kip848-fast-cold-k1": "KIP-848, heartbeat 250 ms, cold starts, k=1",
    "coop-default-warm-k1": "classic cooperative-sticky, librdkafka's 3 s heartbeat, --warm 2, k=1",
    "coop-fast-warm-k1": "classic cooperative-sticky, heartbeat 250 ms, --warm 2, k=1",
    "eager-fast-warm-k1": "classic eager (range), heartbeat 250 ms, --warm 2, k=1",
    "kip848-2s-cold-k1": "KIP-848, heartbeat 2 s (ebb's old local setting), cold starts, k=1",
    "kip848-5s-cold-k1": "KIP-848, heartbeat 5 s (Kafka's default), cold starts, k=1",
    "kip848-warm4-kN-assign1s": f"KIP-848, heartbeat 250 ms, assignment interval 1 s (Kafka's default), --warm {base}, k=N={base}",
    "kip848-warm4-kN-assign100ms": f"KIP-848, heartbeat 250 ms, assignment interval 100 ms, --warm {base}, k=N={base}",
    "kip848-warm4-kN-assign0": f"KIP-848, heartbeat 250 ms, assignment interval 0, --warm {base}, k=N={base}",
    "share-cold-k1": "share group (KIP-932), heartbeat 250 ms, cold starts, k=1",
    "share-cold-kN": f"share group (KIP-932), heartbeat 250 ms, cold starts, k=N={base}",
}
cases = open(os.path.join(work, "cases")).read().split()
def fmt(spread):
    return "–" if spread["events"] == 0 else f"{spread['median_ms']:,.0f} / {spread['worst_ms']:,.0f}"
rows, points = [], []
for i, name in enumerate(cases):
    d = os.path.join(work, name)
    cost = json.load(open(os.path.join(d, "cost.json")))
    verify = json.load(open(os.path.join(d, "verify.json")))
    # The first decision (0 -> N at start-up) is not a scale event of the cycle.
    events = [e for e in cost["events"] if e["from"] > 0]
    out = [e for e in events if e["to"] > e["from"]]
    inn = [e for e in events if e["to"] < e["from"]]
    def spread(items, key):
        values = sorted(e[key] for e in items if e[key] is not None)
        if not values:
            return {"events": 0}
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        return {"events": len(values), "median_ms": median, "worst_ms": values[-1]}
    rows.append((labels.get(name, name), len(out), len(inn), fmt(spread(out, "excess_p99_ms")),
                 fmt(spread(inn, "excess_p99_ms")), fmt(spread(out, "longest_gap_ms")),
                 fmt(spread(inn, "longest_gap_ms")), fmt(spread(out, "decision_to_capacity_ms")),
                 verify["lost"], verify["duplicates"]))
    for e in events:
        points.append((i, 0 if e["to"] > e["from"] else 1, e["excess_p99_ms"] or 0, e["longest_gap_ms"] or 0))
with open(os.path.join(work, "points.dat"), "w") as f:
    for i, direction, excess, gap in points:
        f.write(f"{i + (0.15 if direction else -0.15)} {excess} {gap} {direction}\n")
tics = ", ".join(f'"{n}" {i}' for i, n in enumerate(cases))
open(os.path.join(work, "chart.gp"), "w").write(f"""set terminal svg size 1000,700 dynamic font "sans,11" background "white"
set output "{chart}"
set multiplot layout 2,1 title "The cost of one scale event ({rate} msg/s, {partitions} partitions, base {base} replicas, 1 ms of work per message)"
set grid
set xtics ({tics}) rotate by -20
set xrange [-0.5:{len(cases) - 0.5}]
set logscale y
set ylabel "excess p99 ms"
set key top left
plot "{work}/points.dat" using 1:($4==0 ? $2+1 : 1/0) with points pt 7 lc rgb "#1f77b4" title "scale-out (+1 ms)", \\
     "{work}/points.dat" using 1:($4==1 ? $2+1 : 1/0) with points pt 9 lc rgb "#d62728" title "scale-in (+1 ms)", \\
     251 with lines dt 2 lc rgb "black" title "target 250 ms"
set ylabel "longest partition gap ms"
plot "{work}/points.dat" using 1:($4==0 ? $3+1 : 1/0) with points pt 7 lc rgb "#1f77b4" title "scale-out (+1 ms)", \\
     "{work}/points.dat" using 1:($4==1 ? $3+1 : 1/0) with points pt 9 lc rgb "#d62728" title "scale-in (+1 ms)", \\
     301 with lines dt 2 lc rgb "black" title "target 300 ms"
unset multiplot
""")
subprocess.run(["gnuplot", os.path.join(work, "chart.gp")], check=True)

out = io.StringIO()
out.write(f"""## The cost of one scale event

Reproduce with `bench/handoff_bench.sh` (release build, one local KRaft broker, 2 cores shared by the
broker, the producer and every replica). Load: {rate} msg/s, 1,000 keys, {partitions} partitions;
replicas run `ebb consume --work sleep:1ms` (about 900 msg/s each), so {base} replicas run at ~55%.
`ebb scale --policy cycle` moves between {base} and {base}+k replicas every {period} s. Per event
(`ebb scale-cost`): **excess p99** = the group's worst per-second p99 in the {period} s after the
decision minus its median per-second p99 of the 10 s before; **gap** = over the partitions that
changed owner, the longest time from the old owner's last processed message to the new owner's
first (audit timestamps); **to capacity** = decision until every new replica processed its first
message. Figures are median / worst over the events, in ms; the broker's heartbeat is
`group.consumer.heartbeat.interval.ms` (KIP-848) or the client's `heartbeat.interval.ms` (classic).

| case | out events | in events | excess p99 out | excess p99 in | gap out | gap in | to capacity | lost | duplicates |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
""")
for r in rows:
    out.write("| " + " | ".join(str(x) for x in r) + " |\n")
out.write("\n![excess p99 and longest gap per event and case](img/handoff.svg)\n")

from write_section import write_section
write_section(report, "handoff-bench", out.getvalue())
print(out.getvalue())
PY
