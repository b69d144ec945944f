#!/usr/bin/env bash
# `ebb meta` against its own 3-node KRaft cluster: cluster id, brokers, controller, a topic with
# replication factor 3 (replicas and in-sync replicas), internal topics hidden unless --all, and the
# failure paths (unknown topic, unreachable broker) exiting non-zero in bounded time.
#   meta_test.sh EBB_BINARY
set -uo pipefail
# shellcheck source=tests/integration/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

ebb="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka="$here/../../tools/kafka/kafka.sh"
work="$(mktemp -d)"

cleanup() {
  bash "$kafka" stop --dir "$work/cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# json_check EXPRESSION: a Python expression over `m` (the parsed meta.json) that must be true.
json_check() {
  python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
    "$work/meta.json" "$1"
}
contains() { grep -q -- "$2" "$1"; }
# Every row of the TOPIC table starts each cell at the column where its header cell starts.
columns_aligned() {
  python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
top = next(i for i, line in enumerate(lines) if line.startswith("TOPIC "))
starts = lambda line: [m.start() for m in re.finditer(r"\S+", line)]
header = starts(lines[top])
rows = [starts(line) for line in lines[top + 1:lines.index("", top)]]
sys.exit(0 if rows and all(row == header[:len(row)] for row in rows) else 1)
PY
}

unset EBB_BOOTSTRAP_SERVERS EBB_TOPIC EBB_ALL EBB_OUTPUT EBB_TIMEOUT
bootstrap="$(bash "$kafka" start --nodes 3 --dir "$work/cluster" --owner-pid $$ 2>"$work/start.err")"
if [ -z "$bootstrap" ]; then
  cat "$work/start.err" >&2
  echo "0 passed, 1 failed (the 3-node cluster did not start)"
  exit 1
fi
cluster_id="$(bash "$kafka" status --dir "$work/cluster" | sed -n 's/^cluster_id=\([^ ]*\) .*/\1/p')"
topic="ebb-meta-test-$$-$RANDOM"

bash "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
  --create --topic "$topic" --partitions 6 --replication-factor 3 >"$work/create.log" 2>&1
check "TopicCommand creates a 6-partition topic with 3 replicas" test $? -eq 0
# A consumer group makes the broker create __consumer_offsets, so hiding it is tested for real.
# Kafka's own consumer, which retries while the broker it asks does not know the new topic yet.
timeout 120 bash "$kafka" run-class org.apache.kafka.tools.consumer.ConsoleConsumer \
  --bootstrap-server "$bootstrap" --topic "$topic" --group "$topic-group" --timeout-ms 2000 \
  >"$work/consumer.log" 2>&1
status=$?
check "a consumer group creates __consumer_offsets" test $status -eq 0
[ $status -eq 0 ] || tail -n 20 "$work/consumer.log"

# The answering broker may learn of the topic, or of its full ISR, a moment late: wait for both.
deadline=$((SECONDS + 60))
while :; do
  timeout 30 "$ebb" meta -b "$bootstrap" -o json >"$work/meta.json" 2>"$work/meta.err"
  status=$?
  [ $status -ne 0 ] || [ $SECONDS -ge $deadline ] && break
  json_check "[len(p['isr']) for t in m['topics'] if t['name'] == '$topic' for p in t['partitions']] == [3] * 6" &&
    break
  sleep 0.5
done
check "meta -o json exits 0" test $status -eq 0
check "json: cluster id is the one kafka.sh status prints ($cluster_id)" \
  json_check "m['cluster_id'] == '$cluster_id' and len('$cluster_id') > 0"
check "json: three brokers with ids 1, 2, 3 on 127.0.0.1" \
  json_check "sorted(b['id'] for b in m['brokers']) == [1, 2, 3] and all(b['host'] == '127.0.0.1' for b in m['brokers'])"
check "json: broker ports are those of the bootstrap list" \
  json_check "sorted('127.0.0.1:%d' % b['port'] for b in m['brokers']) == sorted('$bootstrap'.split(','))"
check "json: the controller is one of the brokers, and only it is marked" \
  json_check "[b['id'] for b in m['brokers'] if b['controller']] == [m['controller_id']]"
check "json: the topic has partitions 0..5" \
  json_check "[p['partition'] for t in m['topics'] if t['name'] == '$topic' for p in t['partitions']] == list(range(6))"
check "json: every partition has 3 replicas, 3 in sync, a leader among them, not under-replicated" \
  json_check "all(sorted(p['replicas']) == [1, 2, 3] and sorted(p['isr']) == [1, 2, 3] and p['leader'] in p['replicas'] and not p['under_replicated'] for t in m['topics'] if t['name'] == '$topic' for p in t['partitions'])"
check "json: internal topics hidden without --all" \
  json_check "all(not t['name'].startswith('__') and not t['internal'] for t in m['topics']) and m['hidden_internal_topics'] >= 1"

timeout 30 "$ebb" meta -b "$bootstrap" --all -o json >"$work/meta.json" 2>"$work/meta.err"
check "meta --all -o json exits 0" test $? -eq 0
check "json --all: __consumer_offsets is listed as internal" \
  json_check "any(t['name'] == '__consumer_offsets' and t['internal'] for t in m['topics'])"

timeout 30 "$ebb" meta -b "$bootstrap" -t "$topic" -o json >"$work/meta.json" 2>"$work/meta.err"
check "meta -t TOPIC exits 0" test $? -eq 0
check "json -t: only that topic" json_check "[t['name'] for t in m['topics']] == ['$topic']"

timeout 30 "$ebb" meta -b "$bootstrap" >"$work/meta.txt" 2>"$work/meta.err"
check "meta (text) exits 0" test $? -eq 0
check "text: shows the cluster id" contains "$work/meta.txt" "cluster id  $cluster_id"
check "text: has the partition table header" contains "$work/meta.txt" "^TOPIC  *PARTITION  *LEADER  *REPLICAS  *ISR"
check "text: lists the topic's six partitions" \
  test "$(grep -c "^$topic  *[0-5]  " "$work/meta.txt")" -eq 6
check "text: marks one broker as the controller" test "$(grep -c ' controller$' "$work/meta.txt")" -eq 1
check "text: the partition table's columns are aligned under its header" columns_aligned "$work/meta.txt"
check "text: the topic's partitions are not marked under-replicated" \
  test "$(grep "^$topic " "$work/meta.txt" | grep -c under-replicated)" -eq 0

timeout 30 "$ebb" meta -b "$bootstrap" -t "missing-$topic" >"$work/missing.out" 2>"$work/missing.err"
status=$?
check "-t missing: non-zero exit (got $status)" test $status -ne 0 -a $status -ne 124
check "-t missing: says unknown topic" contains "$work/missing.err" "unknown topic"

start=$SECONDS
timeout 30 "$ebb" meta -b 127.0.0.1:1 --timeout 3 >"$work/down.out" 2>"$work/down.err"
status=$?
check "unreachable broker: non-zero exit within 30 s (exit $status after $((SECONDS - start)) s)" \
  test $status -ne 0 -a $status -ne 124
check "unreachable broker: says it cannot fetch metadata" contains "$work/down.err" "cannot fetch cluster metadata"

# One broker stops (SIGTERM: a controlled shutdown takes it out of every ISR, then its session
# expires and Metadata no longer lists it): the topic's partitions keep 3 replicas but 2 in sync,
# and both outputs say they are under-replicated.
kill -TERM "$(cat "$work/cluster/node-3/pid")"
deadline=$((SECONDS + 60))
while :; do
  timeout 30 "$ebb" meta -b "${bootstrap%%,*}" -t "$topic" -o json >"$work/meta.json" 2>"$work/meta.err"
  json_check "len(m['brokers']) == 2 and all(p['under_replicated'] for p in m['topics'][0]['partitions'])" &&
    break
  [ $SECONDS -ge $deadline ] && break
  sleep 0.5
done
check "broker 3 stopped: json lists two brokers" json_check "sorted(b['id'] for b in m['brokers']) == [1, 2]"
check "broker 3 stopped: every partition has 3 replicas, 2 in sync and is under-replicated" \
  json_check "all(len(p['replicas']) == 3 and sorted(p['isr']) == [1, 2] and p['under_replicated'] for p in m['topics'][0]['partitions'])"
timeout 30 "$ebb" meta -b "${bootstrap%%,*}" -t "$topic" >"$work/meta.txt" 2>"$work/meta.err"
cat "$work/meta.txt"
check "broker 3 stopped: text marks the six partitions under-replicated" \
  test "$(grep "^$topic " "$work/meta.txt" | grep -c ' under-replicated$')" -eq 6

finish
