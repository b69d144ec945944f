#!/usr/bin/env bash
# tools/kafka/kafka.sh against real JVMs: a 3-node KRaft cluster comes up and goes away, and the bad
# cases (no Java, port taken, a broker that cannot start) fail with a clear message and leave nothing.
set -uo pipefail
# shellcheck source=tests/integration/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka="$here/../../tools/kafka/kafka.sh"
work="$(mktemp -d)"
listener_pid=""

cleanup() {
  [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null
  for dir in "$work"/*/; do [ -d "$dir" ] && bash "$kafka" stop --dir "$dir" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT

# No JVM may be left behind with this run directory on its command line.
nothing_running() { ! pgrep -f -- "$1" >/dev/null; }
contains() { grep -q -- "$2" "$1"; }

# A 3-node cluster: every node registered, reachable, and gone after stop.
out="$(bash "$kafka" start --nodes 3 --dir "$work/three" 2>"$work/three.err")"
check "3-node cluster starts" test $? -eq 0
check "3-node cluster lists three bootstrap servers" test "$(echo "$out" | tr ',' '\n' | wc -l)" -eq 3
bash "$kafka" status --dir "$work/three" >"$work/three.status" 2>&1
check "status sees three brokers" grep -q 'brokers=1@.*,2@.*,3@' "$work/three.status"
bash "$kafka" stop --dir "$work/three"
check "3-node cluster stops" nothing_running "$work/three"

# No Java on PATH: the script says so before doing anything.
mkdir -p "$work/bin"
for tool in bash dirname sed cat head tr cut mkdir rm python3 base64 sort tail sleep kill grep; do
  ln -sf "$(command -v "$tool")" "$work/bin/$tool"
done
PATH="$work/bin" bash "$kafka" start --dir "$work/nojava" >/dev/null 2>"$work/nojava.err"
check "no Java: non-zero exit" test $? -ne 0
check "no Java: says Java is missing" contains "$work/nojava.err" "Java is not installed"

# No Maven and no cached jars: fetching says Maven is needed (Java present, jars not yet fetched).
ln -sf "$(command -v java)" "$work/bin/java"
EBB_CACHE="$work/empty-cache" PATH="$work/bin" bash "$kafka" fetch >/dev/null 2>"$work/nomaven.err"
check "no Maven: non-zero exit" test $? -ne 0
check "no Maven: says Maven is missing" contains "$work/nomaven.err" "Maven is not installed"

# The requested port is taken: refused up front, nothing started.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(120)' "$port" &
listener_pid=$!
sleep 0.5
bash "$kafka" start --port "$port" --dir "$work/taken" >/dev/null 2>"$work/taken.err"
check "port taken: non-zero exit" test $? -ne 0
check "port taken: names the port" contains "$work/taken.err" "port $port on 127.0.0.1 is taken"
check "port taken: nothing left running" nothing_running "$work/taken"

# A heartbeat interval below the broker's minimum: refused up front, naming the setting.
EBB_KAFKA_HEARTBEAT_MS=50 bash "$kafka" start --dir "$work/heartbeat" >/dev/null 2>"$work/heartbeat.err"
check "heartbeat below the minimum: non-zero exit" test $? -ne 0
check "heartbeat below the minimum: names the setting" contains "$work/heartbeat.err" "group.consumer.heartbeat.interval.ms"
check "heartbeat below the minimum: nothing left running" nothing_running "$work/heartbeat"

# The JVM cannot start (heap too small): the log tail is shown, nothing is left running.
EBB_KAFKA_HEAP_OPTS="-Xmx2m" bash "$kafka" start --dir "$work/broken" >/dev/null 2>"$work/broken.err"
check "broker fails: non-zero exit" test $? -ne 0
check "broker fails: says so" contains "$work/broken.err" "exited during start-up"
check "broker fails: shows the JVM's own output" contains "$work/broken.err" "Error occurred during initialization of VM"
check "broker fails: nothing left running" nothing_running "$work/broken"

# A bad broker property: storage formatting rejects it with Kafka's own message.
bash "$kafka" start --set num.partitions=many --dir "$work/badprop" >/dev/null 2>"$work/badprop.err"
check "bad property: non-zero exit" test $? -ne 0
check "bad property: names the property" contains "$work/badprop.err" "num.partitions"
check "bad property: nothing left running" nothing_running "$work/badprop"

finish
