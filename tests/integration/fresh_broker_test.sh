#!/usr/bin/env bash
# ebb against a broker that no group has used yet (its group coordinator is not loaded: the first
# group request finds no coordinator): `ebb lag` of a new group says the group does not exist, as
# Kafka's ConsumerGroupCommand does, and `ebb scale` starts its replicas at once instead of after
# a whole policy interval. Then the same broker without share groups (share.version downgraded
# to 0 with Kafka's FeatureCommand): share-group consume and lag say which feature to enable.
#   fresh_broker_test.sh EBB_BINARY
set -uo pipefail
# shellcheck source=tests/integration/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

ebb="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka="$here/../../tools/kafka/kafka.sh"
work="$(mktemp -d)"
scale_pid=""

cleanup() {
  [ -n "$scale_pid" ] && kill -9 "$scale_pid" 2>/dev/null
  bash "$kafka" stop --dir "$work/broker" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
contains() { grep -q -- "$2" "$1"; }
lacks() { ! grep -q -- "$2" "$1"; }

start_broker() {
  bash "$kafka" stop --dir "$work/broker" >/dev/null 2>&1
  bootstrap="$(bash "$kafka" start --dir "$work/broker" --owner-pid $$ 2>"$work/broker.err")" || {
    cat "$work/broker.err"
    exit 1
  }
}

# 1. The first request of all is about a group that does not exist.
start_broker
"$ebb" lag -b "$bootstrap" -g never-used --timeout 20 >"$work/lag.out" 2>"$work/lag.err"
check "lag of a new group on a fresh broker: non-zero exit" test $? -ne 0
check "lag says the group does not exist" contains "$work/lag.err" "group 'never-used' does not exist"
check "no empty reason from the broker" lacks "$work/lag.err" "ConsumerGroupDescribe: $"

# 2. A fresh broker again: ebb scale's first reading works and two replicas run within 10 s.
start_broker
topic="fresh-$$"
# Kafka's own topic tool: it creates the topic without any group request.
bash "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
  --create --topic "$topic" --partitions 4 >"$work/topic.out" 2>&1
check "topic created" test $? -eq 0
"$ebb" scale -b "$bootstrap" -t "$topic" -g fresh-group --policy static --set replicas=2 \
  --log-dir "$work/replicas" >"$work/scale.out" 2>"$work/scale.err" &
scale_pid=$!
started=""
for _ in $(seq 1 100); do
  if [ "$(pgrep -P "$scale_pid" | wc -l)" -ge 2 ]; then
    started=yes
    break
  fi
  sleep 0.1
done
check "scale on a fresh broker: 2 replicas within 10 s" test -n "$started"
kill -TERM "$scale_pid"
wait "$scale_pid"
check "scale stops cleanly" test $? -eq 0
scale_pid=""
check "scale: no round skipped with an empty reason" lacks "$work/scale.err" "ConsumerGroupDescribe: $"

# 3. Share groups off: every share-group path names the feature level to enable.
bash "$kafka" run-class org.apache.kafka.tools.FeatureCommand --bootstrap-server "$bootstrap" \
  downgrade --feature share.version=0 >"$work/feature.out" 2>&1
check "share.version downgraded to 0" test $? -eq 0
timeout 60 "$ebb" lag -b "$bootstrap" -g share-off -t "$topic" --group-type share \
  >"$work/share-lag.out" 2>"$work/share-lag.err"
check "share-group lag without share groups: non-zero exit" test $? -ne 0
check "share-group lag names share.version" contains "$work/share-lag.err" "upgrade --feature share.version=1"
timeout 60 "$ebb" consume -b "$bootstrap" -g share-off -t "$topic" --group-type share -n 1 \
  >"$work/share-consume.out" 2>"$work/share-consume.err"
check "share consumer without share groups: non-zero exit" test $? -ne 0
check "share consumer names share.version" contains "$work/share-consume.err" "upgrade --feature share.version=1"

bash "$kafka" stop --dir "$work/broker" >/dev/null 2>&1
check "the broker is gone" none_left "$work/broker"
finish
