#!/usr/bin/env bash
# ebb through SASL_SSL (SCRAM-SHA-512 over TLS) on a real broker started by `kafka.sh start
# --secure`: produce, consume, lag, scale with replicas and a short demo, all with -F; the password appears in
# no argv (/proc/*/cmdline), no log, no metric and no output file; a wrong password and an
# untrusted certificate fail fast with a clear error.
#   secure_broker_test.sh EBB_BINARY
set -uo pipefail
# shellcheck source=tests/integration/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

ebb="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka="$here/../../tools/kafka/kafka.sh"
work="$(mktemp -d)"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  bash "$kafka" stop --dir "$work/broker" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
contains() { grep -q -- "$2" "$1"; }

bootstrap="$(bash "$kafka" start --secure --dir "$work/broker" --owner-pid $$ 2>"$work/broker.err")" || {
  cat "$work/broker.err"
  exit 1
}
props="$work/broker/client.properties"
password="$(sed -n 's/^sasl.password=//p' "$props")"
check "the client properties file is private" test "$(stat -c %a "$props")" = 600
check "a password was generated" test -n "$password"
topic="secure-$$"
"$ebb" roundtrip -b "$bootstrap" -F "$props" -t "$topic" -p 4 --count 100 --timeout 60 \
  >"$work/roundtrip.out" 2>"$work/roundtrip.log"
check "roundtrip (creates the topic) through SASL_SSL" test $? -eq 0

"$ebb" --log-level info produce -b "$bootstrap" -F "$props" -t "$topic" --producer-id p1 \
  --keys uniform:100 --rate 0 -n 2000 -o json >"$work/produce.json" 2>"$work/produce.log"
check "produce through SASL_SSL" test $? -eq 0
# 2,100: the roundtrip's 100 and the producer's 2,000.
"$ebb" --log-level info consume -b "$bootstrap" -F "$props" -t "$topic" -g secure-group -n 2100 \
  --audit "$work/consume.audit" -o json >"$work/consume.json" 2>"$work/consume.log"
check "consume through SASL_SSL" test $? -eq 0
"$ebb" verify --audit "$work/consume.audit" --expect p1=2000 -o json >"$work/verify.json" 2>&1
check "nothing of p1 lost" python3 -c 'import json,sys; t=open(sys.argv[1]).read(); r=json.loads(t[t.index("{"):]); sys.exit(0 if r["lost"] == 0 else 1)' "$work/verify.json"
"$ebb" lag -b "$bootstrap" -F "$props" -g secure-group -t "$topic" -o json >"$work/lag.json" \
  2>"$work/lag.log"
check "lag through SASL_SSL" test $? -eq 0

# ebb scale with 2 replicas, its metrics served: the replicas get the properties in a private file.
"$ebb" --log-level info scale -b "$bootstrap" -F "$props" -t "$topic" -g scaled-group \
  --policy static --set replicas=2 --log-dir "$work/replicas" --http 127.0.0.1:0 \
  >"$work/scale.out" 2>"$work/scale.log" &
scale_pid=$!
pids+=("$scale_pid")
joined=""
for _ in $(seq 1 300); do
  if "$ebb" lag -b "$bootstrap" -F "$props" -g scaled-group -t "$topic" -o json 2>/dev/null |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["members"] == 2 else 1)' \
      2>/dev/null; then
    joined=yes
    break
  fi
  sleep 0.2
done
check "scale: both replicas authenticate and join" test -n "$joined"
leaked=""
for cmdline in /proc/[0-9]*/cmdline; do
  if tr '\0' ' ' <"$cmdline" 2>/dev/null | grep -qF -- "$password"; then leaked="$cmdline"; fi
done
check "the password is on no process's command line" test -z "$leaked"
address="$(sed -n 's|.*serving /metrics, /healthz and /readyz on http://\([0-9.:]*\).*|\1|p' \
  "$work/scale.log" | head -n 1)"
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "http://$address/metrics" >"$work/scale.metrics"
check "scale's /metrics answers (kept for the password search)" test -s "$work/scale.metrics"
kill -TERM "$scale_pid"
wait "$scale_pid"
check "scale stops cleanly" test $? -eq 0
pids=()

# A short demo on this cluster: its producer, replicas and scaler all authenticate from -F.
"$ebb" demo -b "$bootstrap" -F "$props" --duration 10 --rate 200 --partitions 4 --policy static \
  --set replicas=2 --out "$work/demo" --plain >"$work/demo.out" 2>"$work/demo.log"
check "a short demo through SASL_SSL exits 0" test $? -eq 0
check "the demo lost nothing" python3 -c '
import glob, json, sys
runs = json.load(open(glob.glob(sys.argv[1] + "/demo-*/summary.json")[0]))["runs"]
ok = all(r["verified"] and r["lost"] == 0 and r["acknowledged"] > 0 for r in runs)
sys.exit(0 if runs and ok else 1)' \
  "$work/demo"
found="$(grep -rlF --exclude=client.properties --exclude-dir=broker -- "$password" "$work" || true)"
check "the password is in no log, summary or metric file" test -z "$found"

# Bad credentials: a clear error in bounded time, not a wait for the whole timeout.
sed 's/^sasl.password=.*/sasl.password=wrong/' "$props" >"$work/wrong.properties"
start=$SECONDS
"$ebb" meta -b "$bootstrap" -F "$work/wrong.properties" --timeout 30 >/dev/null 2>"$work/wrong.log"
check "wrong password: non-zero exit" test $? -ne 0
check "wrong password: says authentication failed" contains "$work/wrong.log" \
  "cannot fetch cluster metadata: .*SASL authentication error"
check "wrong password: within 10 s" test $((SECONDS - start)) -le 10
grep -v '^ssl.ca.location' "$props" >"$work/untrusted.properties"
start=$SECONDS
"$ebb" meta -b "$bootstrap" -F "$work/untrusted.properties" --timeout 30 >/dev/null \
  2>"$work/untrusted.log"
check "untrusted certificate: non-zero exit" test $? -ne 0
check "untrusted certificate: says the certificate could not be verified" contains \
  "$work/untrusted.log" "cannot fetch cluster metadata: .*certificate verify failed"
check "untrusted certificate: within 10 s" test $((SECONDS - start)) -le 10

bash "$kafka" stop --dir "$work/broker" >/dev/null 2>&1
check "the broker and its secrets are gone" test ! -e "$work/broker/client.properties"
finish
