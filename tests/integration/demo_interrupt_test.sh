#!/usr/bin/env bash
# Ctrl-C in the middle of `ebb demo`: SIGINT once the load runs. The demo must stop the producer,
# let the replicas drain and commit, stop the broker it started, write the report for what ran and
# exit 130 (or 0), leaving no broker, replica or producer process behind.
#   demo_interrupt_test.sh EBB_BINARY
set -uo pipefail
# shellcheck source=tests/integration/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

ebb="$1"
# shellcheck source=tests/integration/demo_run.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo_run.sh"

start=$SECONDS
"$ebb" demo --duration 120 --out "$work/out" --plain >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!
demo_process=$demo_pid

# Wait for the load to run (the first progress line after the load started), then 5 s more.
loaded=""
for _ in $(seq 1 900); do  # at most 90 s for the broker and the first replica
  if grep -q '\[before the spike\]' "$work/demo.out" 2>/dev/null; then
    loaded=yes
    break
  fi
  kill -0 "$demo_pid" 2>/dev/null || break
  sleep 0.1
done
check "the load started" test -n "$loaded"
[ -n "$loaded" ] || { tail -n 20 "$work/demo.out" "$work/demo.err"; exit 1; }
sleep 5
run_dir="$(ls -d "$work"/out/demo-* | head -n 1)"
stamp="${run_dir##*/demo-}"
check "replicas and producer are running" pgrep -f -- "ebb-demo-slo-$stamp-$demo_process" >/dev/null

interrupted_at=$SECONDS
kill -INT "$demo_pid"
wait_for_demo 90  # to wind down
echo "ebb demo ended with status ${status:-none} $((SECONDS - interrupted_at)) s after SIGINT"
check "exit status 130 or 0" bash -c "[ '$status' = 130 ] || [ '$status' = 0 ]"
check "report.html written" test -s "$run_dir/report.html"
check "summary.json says interrupted" \
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; sys.exit(0 if r["interrupted"] and r["acknowledged"] > 0 else 1)' \
  "$run_dir/summary.json"
check "the report says so" grep -q 'interrupted' "$run_dir/report.html"
check "no broker left" none_left "$run_dir"
check "no replica or producer left" none_left "ebb-demo-slo-$stamp-$demo_process"
check "replicas stopped cleanly (SIGTERM, drained)" \
  bash -c "! grep -l 'did not stop within its grace period' '$run_dir/demo.log'"

finish "$((SECONDS - start)) s"
