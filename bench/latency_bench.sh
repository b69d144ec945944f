#!/usr/bin/env bash
# Latency against load: ebb's producer settings and Kafka's own Java tools on the same local broker in
# the same run, from 100 msg/s up to saturation. Writes its section of docs/BENCHMARKS.md (or $1) and
# docs/img/latency-vs-load.svg; the raw points stay in build/latency-bench/points.jsonl.
#
#   bench/latency_bench.sh [OUTPUT.md]
#
# Each point is one `ebb roundtrip` (producer and consumer in one process, consumer in its group
# before the first send): achieved rate, send->ack and send->processing (end-to-end) p50/p99/p99.9,
# produce requests per second (librdkafka statistics) and the CPU seconds of the client and of the
# broker. The Java producer runs at the same rates (ProducerPerformance --throughput: send->ack), and
# EndToEndLatency gives the single-message floor. Knobs (environment):
#   EBB_LB_RATES     "100 1000 5000 10000 50000 100000 0"  (0: as fast as it goes, the saturation point)
#   EBB_LB_SHAPES    "keyed:12 unkeyed:12 unkeyed:1 keyed:48"  (keys:partitions; keyed = 1,000 keys)
#   EBB_LB_ACKS      "all 1"
#   EBB_LB_COMBOS    every shape with every acks; or a list of SHAPE/ACKS to run only those,
#                    e.g. "keyed:12/all keyed:12/1 unkeyed:1/all"
#   EBB_LB_SETTINGS  "default latency throughput librdkafka"  ebb's default, each --tune preset,
#                    and librdkafka's own defaults (linger.ms 5, a window of 1,000,000 requests, no
#                    idempotence, Nagle on: ebb's default before the self-clocking one); windowN
#                    is the default with N requests in flight per connection, connN the default
#                    over N producer clients (--connections N)
#   EBB_LB_RUNS      3      runs per point (the spread is reported)
#   EBB_LB_SECONDS   5      seconds of load per point (at least 1,000 messages)
#   EBB_LB_JAVA      1      0 skips the Java tools
#   EBB_LB_FIRST_RUN 1      the first run's number; with EBB_LB_KEEP=1 the points of an earlier
#                           (or interrupted) invocation are kept and the report covers them all
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
bench_setup "$@"
rates="${EBB_LB_RATES:-100 1000 5000 10000 50000 100000 0}"
shapes="${EBB_LB_SHAPES:-keyed:12 unkeyed:12 unkeyed:1 keyed:48}"
acks_list="${EBB_LB_ACKS:-all 1}"
settings="${EBB_LB_SETTINGS:-default latency throughput librdkafka}"
runs="${EBB_LB_RUNS:-3}"
seconds="${EBB_LB_SECONDS:-5}"
java="${EBB_LB_JAVA:-1}"
combos="${EBB_LB_COMBOS:-}"
if [ -z "$combos" ]; then
  for shape in $shapes; do
    for acks in $acks_list; do combos+="$shape/$acks "; done
  done
fi
size=100
out="$root/build/latency-bench"
run_dir="$EBB_CACHE/kafka-run/latency-bench"
mkdir -p "$out"
points="$out/points.jsonl"
[ "${EBB_LB_KEEP:-0}" = 1 ] || : >"$points"
first_run="${EBB_LB_FIRST_RUN:-1}"

"$kafka" stop --dir "$run_dir"
trap '"$kafka" stop --dir "$run_dir"' EXIT
bootstrap="$("$kafka" start --dir "$run_dir" --owner-pid $$)"
broker_pid="$(cat "$run_dir"/node-*/pid 2>/dev/null | head -n 1 || true)"

# CPU seconds (user + system) the broker has used so far, from /proc.
broker_cpu() {
  [ -n "$broker_pid" ] && [ -r "/proc/$broker_pid/stat" ] || {
    echo 0
    return
  }
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$broker_pid/stat"
}

create_topic() {  # NAME PARTITIONS
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$1" --partitions "$2" --replication-factor 1 >/dev/null
}

# Messages for one point: SECONDS of load at RATE, at least 1,000; saturation points send 1M.
count_for() {  # RATE
  if [ "$1" -eq 0 ]; then echo 1000000; else echo $(($1 * seconds > 1000 ? $1 * seconds : 1000)); fi
}

# Untimed messages before each point's measured ones: 2 s of the same load (at least 200; 200k
# before a saturation point). Every point writes a new topic, and a new topic's first half second
# of appends takes tens of ms a request on the broker (request log: localTime 50-85 ms): without
# this, that start-up transient was the unstable tail of every short point, for the Java producer
# too.
warmup_for() {  # RATE
  if [ "$1" -eq 0 ]; then echo 200000; else echo $(($1 * 2 > 200 ? $1 * 2 : 200)); fi
}

ebb_point() {  # SHAPE ACKS SETTING RATE RUN
  local keys="${1%%:*}" partitions="${1##*:}" count warmup topic tune=()
  count="$(count_for "$4")"
  warmup="$(warmup_for "$4")"
  topic="lb-ebb-$keys-$partitions-$2-$3-$4-$5"
  case "$3" in
    default) ;;
    latency | throughput) tune=(--tune "$3") ;;
    librdkafka)
      tune=(-X linger.ms=5 -X max.in.flight.requests.per.connection=1000000
        -X enable.idempotence=false -X socket.nagle.disable=false)
      ;;
    window*) tune=(-X "max.in.flight.requests.per.connection=${3#window}") ;;
    conn*) tune=(--connections "${3#conn}") ;;
    *) die "unknown setting $3" ;;
  esac
  local key_count=0
  [ "$keys" = keyed ] && key_count=1000
  local before after
  before="$(broker_cpu)"
  /usr/bin/time -f '%U %S' -o "$out/time" "$ebb" --log-level warn roundtrip -b "$bootstrap" \
    -t "$topic" -p "$partitions" -n "$count" --warmup "$warmup" -s "$size" --keys "$key_count" \
    --rate "$4" "${tune[@]}" -X "acks=$2" --timeout 600 -o json >"$out/point.json"
  after="$(broker_cpu)"
  python3 - "$out/point.json" "$out/time" "$1" "$2" "$3" "$4" "$5" "$before" "$after" \
    >>"$points" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
shape, acks, setting, rate, run, before, after = sys.argv[3:10]
seconds = result["produce_seconds"] or 1
print(json.dumps({
    "tool": "ebb", "setting": setting, "shape": shape, "acks": acks, "target": float(rate),
    "run": int(run), "rate": result["produce_rate_msgs_per_s"],
    "ack": result["ack_latency"], "e2e": result["end_to_end_latency"],
    "to_broker": result.get("producer_to_broker_latency", {}),
    "from_broker": result.get("broker_to_consumer_latency", {}),
    "requests_per_s": result.get("produce_requests", 0) / seconds,
    "lost": result["messages"]["lost"], "client_cpu_s": user + system,
    "broker_cpu_s": float(after) - float(before)}))
PY
}

# Kafka's producer at the same rate (unkeyed: ProducerPerformance sends no keys).
java_point() {  # SHAPE ACKS RATE RUN
  local partitions="${1##*:}" count warmup topic throughput="$3"
  count="$(count_for "$3")"
  warmup="$(warmup_for "$3")"
  topic="lb-java-$partitions-$2-$3-$4"
  [ "$3" -eq 0 ] && throughput=-1
  create_topic "$topic" "$partitions"
  local before after
  before="$(broker_cpu)"
  "$kafka" run-class org.apache.kafka.tools.ProducerPerformance --topic "$topic" \
    --num-records "$((count + warmup))" --warmup-records "$warmup" --record-size "$size" \
    --throughput "$throughput" \
    --producer-props bootstrap.servers="$bootstrap" acks="$2" >"$out/java.txt"
  after="$(broker_cpu)"
  python3 - "$out/java.txt" "$1" "$2" "$3" "$4" "$before" "$after" >>"$points" <<'PY'
import json, re, sys
last = [l for l in open(sys.argv[1]).read().splitlines() if "records sent" in l][-1]
number = lambda pattern: float(re.search(pattern, last).group(1))
shape, acks, rate, run, before, after = sys.argv[2:8]
print(json.dumps({
    "tool": "java", "setting": "ProducerPerformance", "shape": shape, "acks": acks,
    "target": float(rate), "run": int(run), "rate": number(r"([\d.]+) records/sec"),
    "ack": {"p50_ms": number(r"([\d.]+) ms 50th"), "p99_ms": number(r"([\d.]+) ms 99th"),
            "p999_ms": number(r"([\d.]+) ms 99.9th")},
    "broker_cpu_s": float(after) - float(before)}))
PY
}

# The single-message floor: one record in flight at a time, produce to consume. It has no warm-up
# of its own: a first pass over the new topic is discarded.
floor_point() {  # SHAPE ACKS RUN
  local partitions="${1##*:}" topic="lb-floor-${1##*:}-$2-$3" pass
  create_topic "$topic" "$partitions"
  for pass in warmup measured; do
    "$kafka" run-class org.apache.kafka.tools.EndToEndLatency --bootstrap-server "$bootstrap" \
      --topic "$topic" --num-records 5000 --producer-acks "$2" --record-size "$size" \
      >"$out/floor-$pass.txt"
  done
    python3 - "$out/floor-measured.txt" "$1" "$2" "$3" >>"$points" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
avg = float(re.search(r"Avg latency: ([\d.]+) ms", text).group(1))
p = dict((k, float(v)) for k, v in re.findall(r"(50th|99th|99.9th) = ([\d.]+)", text))
print(json.dumps({
    "tool": "java", "setting": "EndToEndLatency", "shape": sys.argv[2], "acks": sys.argv[3],
    "target": 0, "run": int(sys.argv[4]), "avg_ms": avg,
    "e2e": {"p50_ms": p.get("50th"), "p99_ms": p.get("99th"), "p999_ms": p.get("99.9th")}}))
PY
}

# A fresh broker JIT-compiles and loads its coordinators during the first minute of load: warm it
# (and the idempotent producer id path) with one discarded run first.
log "warming the broker up (discarded)"
"$ebb" --log-level warn roundtrip -b "$bootstrap" -t lb-warmup -p 12 -n 100000 --keys 1000 \
  --rate 20000 --timeout 120 -o json >/dev/null

for run in $(seq "$first_run" $((first_run + runs - 1))); do
  for combo in $combos; do
    shape="${combo%/*}" acks="${combo#*/}"
    [ "$java" = 1 ] && floor_point "$shape" "$acks" "$run"
    for rate in $rates; do
      for setting in $settings; do
        log "run $run: $shape acks=$acks $setting at ${rate/#0/max} msg/s"
        ebb_point "$shape" "$acks" "$setting" "$rate" "$run"
      done
      if [ "$java" = 1 ] && [ "${shape%%:*}" = unkeyed ]; then java_point "$shape" "$acks" "$rate" "$run"; fi
    done
  done
done

python3 "$root/bench/latency_report.py" "$points" "$root/docs/img/latency-vs-load.svg" |
  python3 "$root/bench/write_section.py" "$report" latency-bench
log "latency-vs-load: $(wc -l <"$points") points; section latency-bench of $report"
