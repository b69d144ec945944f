#!/usr/bin/env bash
# Benchmarks ebb's producer and consumer against Kafka's own Java tools (ProducerPerformance,
# ConsumerPerformance from the kafka-tools jar) on the same local broker in the same run, and
# measures ebb's end-to-end latency at fixed rates. Writes docs/BENCHMARKS.md (or $1).
#   bench/services_bench.sh [OUTPUT.md]      EBB_BENCH_MESSAGES (default 1000000), EBB_BENCH_SIZE (100)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
bench_setup "$@"
messages="${EBB_BENCH_MESSAGES:-1000000}"
size="${EBB_BENCH_SIZE:-100}"
work="$(mktemp -d)"
run_dir="$EBB_CACHE/kafka-run/bench"

"$kafka" stop --dir "$run_dir"
trap '"$kafka" stop --dir "$run_dir"; rm -rf "$work"' EXIT
bootstrap="$("$kafka" start --dir "$run_dir" --owner-pid $$)"

create_topic() {
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$1" --partitions 12 --replication-factor 1 >/dev/null
}
# Runs a command under GNU time; its peak resident memory (KiB) goes to $work/$1.rss.
measured() {
  local name="$1"
  shift
  /usr/bin/time -f %M -o "$work/$name.rss" "$@"
}

log "producer: $messages x $size B, acks=all, 12 partitions, unkeyed"
for round in 1 2; do
  create_topic "java-$round"
  measured "java-produce-$round" "$kafka" run-class org.apache.kafka.tools.ProducerPerformance \
    --topic "java-$round" --num-records "$messages" --record-size "$size" --throughput -1 \
    --producer-props bootstrap.servers="$bootstrap" acks=all \
    >"$work/java-produce-$round.txt"
  create_topic "ebb-$round"
  measured "ebb-produce-$round" "$ebb" --log-level warn produce -b "$bootstrap" -t "ebb-$round" \
    --rate 0 -n "$messages" -s "$size" -X acks=all -o json >"$work/ebb-produce-$round.json"
done

log "consumer: the same topics, read from the start by a new group"
for round in 1 2; do
  measured "java-consume-$round" "$kafka" run-class org.apache.kafka.tools.ConsumerPerformance \
    --bootstrap-server "$bootstrap" --topic "java-$round" --messages "$messages" \
    --group "java-consume-$round" >"$work/java-consume-$round.txt"
  measured "ebb-consume-$round" "$ebb" --log-level warn consume -b "$bootstrap" -t "ebb-$round" \
    -g "ebb-consume-$round" -n "$messages" -o json >"$work/ebb-consume-$round.json"
done

log "end-to-end latency at fixed rates (10 s each, consumer already in its group)"
for rate in 1000 10000 50000; do
  create_topic "latency-$rate"
  "$ebb" --log-level warn consume -b "$bootstrap" -t "latency-$rate" -g "latency-$rate" \
    -n $((rate * 10)) -o json >"$work/latency-$rate.json" &
  consumer=$!
  sleep 6  # joining the group
  "$ebb" --log-level warn produce -b "$bootstrap" -t "latency-$rate" --rate "$rate" -n $((rate * 10)) \
    -s "$size" -o json >"$work/latency-produce-$rate.json"
  wait "$consumer" || die "the latency consumer at $rate msg/s failed"
done

python3 - "$work" "$report" "$messages" "$size" <<'PY'
import json, re, sys, os
work, report, messages, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def read(name): return open(os.path.join(work, name)).read()
def rss(name): return int(read(name + ".rss").strip().splitlines()[-1]) / 1024
def java_produce(r): return float(re.search(r"([\d.]+) records/sec", read(f"java-produce-{r}.txt").splitlines()[-1]).group(1))
def java_consume(r):
    lines = [l for l in read(f"java-consume-{r}.txt").splitlines() if l.strip()]
    header = [h.strip() for h in lines[-2].split(",")]; values = [v.strip() for v in lines[-1].split(",")]
    return float(values[header.index("fetch.nMsg.sec")])
rows = []
for what, java, ebb in [
    ("produce", java_produce, lambda r: json.loads(read(f"ebb-produce-{r}.json"))["rate_msgs_per_s"]),
    ("consume", java_consume, lambda r: json.loads(read(f"ebb-consume-{r}.json"))["rate_msgs_per_s"])]:
    j = max(java(1), java(2)); e = max(ebb(1), ebb(2))
    jm = max(rss(f"java-{what}-1"), rss(f"java-{what}-2")); em = max(rss(f"ebb-{what}-1"), rss(f"ebb-{what}-2"))
    rows.append((what, e, j, e / j, em, jm))
lat = []
for rate in (1000, 10000, 50000):
    c = json.loads(read(f"latency-{rate}.json"))["end_to_end_latency"]
    p = json.loads(read(f"latency-produce-{rate}.json"))
    lat.append((rate, p["rate_msgs_per_s"], c["p50_ms"], c["p99_ms"], c["p999_ms"], c["max_ms"]))
import io
out = io.StringIO()
if True:
    out.write(f"""## Producer and consumer services

Reproduce with `bench/services_bench.sh` (release build, one local KRaft broker started by the script,
2 cores shared by the broker, the client under test and nothing else). {messages:,} messages of {size} B,
12 partitions, acks=all; each tool runs twice, interleaved, and the better run counts. Peak memory is
the client process's maximum resident set (GNU time), the JVM's included for the Java tools.

### Throughput against Kafka's own tools

| client | ebb msg/s | Java tool msg/s | ratio ebb/Java | ebb peak RSS MiB | Java peak RSS MiB |
|---|---:|---:|---:|---:|---:|
""")
    for what, e, j, ratio, em, jm in rows:
        tool = "ProducerPerformance" if what == "produce" else "ConsumerPerformance (fetch.nMsg.sec)"
        out.write(f"| {what} vs {tool} | {e:,.0f} | {j:,.0f} | {ratio:.2f} | {em:.0f} | {jm:.0f} |\n")
    out.write("""
### End-to-end latency of ebb (producer send to consumer processing), 10 s per rate

| target msg/s | achieved msg/s | p50 ms | p99 ms | p99.9 ms | max ms |
|---:|---:|---:|---:|---:|---:|
""")
    for rate, achieved, p50, p99, p999, mx in lat:
        out.write(f"| {rate:,} | {achieved:,.0f} | {p50:.2f} | {p99:.2f} | {p999:.2f} | {mx:.2f} |\n")
# Only the section between the markers is this script's; the rest of the file is kept.
begin, end = "<!-- services-bench:begin -->\n", "<!-- services-bench:end -->\n"
text = open(report).read() if os.path.exists(report) else "# Benchmarks\n\n" + begin + end
head, _, rest = text.partition(begin)
_, _, tail = rest.partition(end)
open(report, "w").write(head + begin + out.getvalue() + end + tail)
print(out.getvalue())
PY
