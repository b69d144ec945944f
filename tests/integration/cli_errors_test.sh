#!/usr/bin/env bash
# The ebb binary and the test fixture with bad input: each case exits non-zero, in bounded time,
# with a message that says what to fix.
#   cli_errors_test.sh EBB_BINARY INTEGRATION_TEST_BINARY
set -uo pipefail

ebb="$1"
fixture="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

# expect NAME EXPECTED_TEXT -- COMMAND...: non-zero exit within 60 s and EXPECTED_TEXT on stderr.
expect() {
  local name="$1" text="$2"
  shift 3
  local start=$SECONDS status
  timeout 60 "$@" >"$work/out" 2>"$work/err"
  status=$?
  if [ $status -ne 0 ] && [ $status -ne 124 ] && grep -q -- "$text" "$work/err" "$work/out"; then
    passed=$((passed + 1))
    echo "ok: $name (exit $status after $((SECONDS - start)) s)"
  else
    failures=$((failures + 1))
    echo "FAILED: $name (exit $status, expected '$text'); stderr:"
    tail -n 5 "$work/err"
  fi
}

# absent NAME TEXT: TEXT appears in neither output of the last expect (a secret must never show).
absent() {
  if grep -q -- "$2" "$work/err" "$work/out"; then
    failures=$((failures + 1))
    echo "FAILED: $1 (the output shows '$2')"
  else
    passed=$((passed + 1))
    echo "ok: $1"
  fi
}

unset EBB_BOOTSTRAP_SERVERS
expect "no subcommand" "A subcommand is required" -- "$ebb"
expect "no bootstrap server" "bootstrap-server is required" -- "$ebb" roundtrip
expect "malformed -X" "key=value" -- "$ebb" roundtrip -b 127.0.0.1:1 -X linger.ms
expect "unknown -X property" "invalid Kafka client property 'no.such'" -- \
  "$ebb" roundtrip -b 127.0.0.1:1 -X no.such=1 --timeout 5
expect "missing -F file" "cannot read the properties file $work/none.properties" -- \
  "$ebb" roundtrip -b 127.0.0.1:1 -F "$work/none.properties"
printf 'sasl.username=ebb\nhunter2-secret\n' >"$work/secret.properties"
expect "malformed -F line" "secret.properties:2: expected a librdkafka property" -- \
  "$ebb" roundtrip -b 127.0.0.1:1 -F "$work/secret.properties"
absent "malformed -F line is not shown" hunter2
# The producer's self-clocking default gives way to the user's settings; settings that contradict
# each other are librdkafka's clear error before anything is sent.
expect "idempotence with a window wider than 5" "max.in.flight. must be set <= 5" -- \
  "$ebb" produce -b 127.0.0.1:1 -t t -n 1 -X enable.idempotence=true \
  -X max.in.flight.requests.per.connection=10
expect "idempotence with acks=1" "acks.*all" -- \
  "$ebb" produce -b 127.0.0.1:1 -t t -n 1 -X enable.idempotence=true -X acks=1
expect "unknown group protocol" "group-protocol" -- \
  "$ebb" roundtrip -b 127.0.0.1:1 --group-protocol eager
expect "unknown group type" "group-type" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --group-type queue
expect "share group with client-managed offsets" "for consumer groups, not share groups" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --group-type share --offsets "file:$work/offsets"
expect "share group with static membership" "for consumer groups, not share groups" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --group-type share --instance-id a
expect "share-group lag without the share-admin helper" "ebb-share-admin helper" -- \
  env EBB_SHARE_ADMIN="$work/no-such-helper" "$ebb" lag -b 127.0.0.1:1 -g g --group-type share
expect "share-group lag with a SASL mechanism the helper lacks" "sasl.mechanism" -- \
  "$ebb" lag -b 127.0.0.1:1 -g g --group-type share -X security.protocol=SASL_PLAINTEXT \
  -X sasl.mechanism=OAUTHBEARER
expect "max deliveries out of range" "max-deliveries" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --group-type share --max-deliveries -1
expect "share group on an unreachable cluster" "cannot fetch cluster metadata" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --group-type share --startup-timeout 2
expect "bad log level" "log-level" -- "$ebb" --log-level loud roundtrip -b 127.0.0.1:1
expect "negative rate" "rate" -- "$ebb" roundtrip -b 127.0.0.1:1 --rate -5
expect "negative warm-up" "warmup" -- "$ebb" roundtrip -b 127.0.0.1:1 --warmup -5
expect "no producer connection" "connections" -- "$ebb" roundtrip -b 127.0.0.1:1 --connections 0
expect "too many producer connections" "connections" -- \
  "$ebb" produce -b 127.0.0.1:1 -t t -n 1 --connections 17
expect "negative key count" "keys" -- "$ebb" roundtrip -b 127.0.0.1:1 --keys -5
expect "negative produce count" "count" -- "$ebb" produce -b 127.0.0.1:1 -t t -n -5
expect "negative consume count" "count" -- "$ebb" consume -b 127.0.0.1:1 -t t -g g -n -5
expect "unreachable broker" "cannot create topic" -- "$ebb" roundtrip -b 127.0.0.1:1 --timeout 5
expect "EBB_BOOTSTRAP_SERVERS pointing nowhere" "does not answer" -- \
  env EBB_BOOTSTRAP_SERVERS=127.0.0.1:1 "$fixture"
expect "verify: missing audit file" "cannot open the audit file $work/none.audit" -- \
  "$ebb" verify --audit "$work/none.audit" --expect p=1
expect "verify: malformed --expect" "PRODUCER=COUNT, got 'p:10'" -- \
  "$ebb" verify --audit "$work/none.audit" --expect p:10
printf '0\t0\tk\tp\t0\nnot an audit line\n0\t1\tk\tp\t1\n' >"$work/bad.audit"
expect "verify: malformed audit line" "bad.audit:2:" -- \
  "$ebb" verify --audit "$work/bad.audit" --expect p=2
expect "produce: bad --profile" "--profile 'wobble'" -- \
  "$ebb" produce -b 127.0.0.1:1 -t t --profile wobble
expect "produce: bad --keys" "keys" -- "$ebb" produce -b 127.0.0.1:1 -t t --keys zipf:0:1
expect "produce: unknown partitioner" "round-robin" -- \
  "$ebb" produce -b 127.0.0.1:1 -t t --partitioner hashing
expect "produce: lag-aware without a group" "--lag-group" -- \
  "$ebb" produce -b 127.0.0.1:1 -t t --partitioner lag-aware
expect "consume: bad --work" "bad --work 'nap:1ms'" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --work nap:1ms
expect "consume: bad --offsets" "--offsets must be kafka or file:PATH" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --offsets disk
expect "lag: no group" "--group is required" -- "$ebb" lag -b 127.0.0.1:1
expect "lag: bad --interval" "interval" -- "$ebb" lag -b 127.0.0.1:1 -g g --interval 0
expect "lag: unreachable broker" "cannot fetch cluster metadata" -- \
  "$ebb" lag -b 127.0.0.1:1 -g g --timeout 3
expect "scale: unknown policy" "--policy" -- "$ebb" scale -b 127.0.0.1:1 -t t -g g --policy magic
expect "scale: --set without =" "expected KEY=VALUE, got 'objective'" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --set objective
expect "scale: unknown setting" "setting 'lagthreshold' is unknown" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --policy keda --set lagthreshold=5
expect "scale: bad value" "lagThreshold" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --policy keda --set lagThreshold=-5
expect "scale: --serve-keda without a port" "expected HOST:PORT or :PORT for --serve-keda" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --serve-keda localhost
expect "scale: --serve-keda with a replica command" "KEDA runs the replicas" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --serve-keda :0 -- consume -t t
expect "scale: --serve-keda with --backend" "excludes" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --serve-keda :0 --backend local
expect "scale: --warm with --serve-keda" "--warm is for the local backend" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --serve-keda :0 --warm 2
expect "scale: negative --warm" "--warm" -- "$ebb" scale -b 127.0.0.1:1 -t t -g g --warm=-1
expect "scale: cycle with bad counts" "counts" -- \
  "$ebb" scale -b 127.0.0.1:1 -t t -g g --policy cycle --set counts=2,x
expect "scale-cost: no decisions file" "--decisions" -- \
  "$ebb" scale-cost --decisions /nonexistent/decisions.jsonl --replicas /tmp
expect "consume: bad --http" "HOST:PORT" -- "$ebb" consume -b 127.0.0.1:1 -t t -g g --http nowhere
# The metrics server is up when start-up fails (here on the audit file): it must stop, not hang.
expect "consume: --http and an unwritable --audit" "cannot open the audit file" -- \
  "$ebb" consume -b 127.0.0.1:1 -t t -g g --http 127.0.0.1:0 --audit "$work/none/a.audit"
expect "demo: missing -F file" "cannot read the properties file $work/none.properties" -- \
  "$ebb" demo -F "$work/none.properties" --out "$work/out"
expect "demo: unknown policy" "--policy" -- "$ebb" demo --policy magic --out "$work/out"
expect "demo: unknown policy in --compare" "--compare" -- "$ebb" demo --compare slo,magic --out "$work/out"
expect "demo: bad --profile" "--profile 'wobble'" -- "$ebb" demo --profile wobble --out "$work/out"
expect "demo: bad --slo" "--slo" -- "$ebb" demo --slo soon --out "$work/out"
expect "demo: unknown setting" "setting 'lagthreshold' is unknown" -- \
  "$ebb" demo --policy keda --set lagthreshold=5 --out "$work/out"
expect "demo: --set for a policy not run" "which this demo does not run" -- \
  "$ebb" demo --policy slo --set keda.lagThreshold=5 --out "$work/out"
expect "demo: unreachable -b" "cannot reach the Kafka cluster at 127.0.0.1:1" -- \
  "$ebb" demo -b 127.0.0.1:1 --out "$work/out"
touch "$work/not-a-dir"
expect "demo: unwritable --out" "cannot write the report to $work/not-a-dir" -- \
  "$ebb" demo --out "$work/not-a-dir"

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
