#!/usr/bin/env bash
# `ebb demo` end to end, shortened: its own broker (tools/kafka/kafka.sh), a 50 s load with an 8x
# spike, the slo policy with a 15 s scale-in delay so that the run shows both directions. Checks
# that the replicas scaled out during the spike and back in after it, that nothing was lost, that
# report.html, timeseries.csv and summary.json exist, and that headless chromium renders the report
# (charts in the DOM, no console errors); its screenshot is kept as a test artifact.
#   demo_test.sh EBB_BINARY ARTIFACT_DIR
set -uo pipefail
# shellcheck source=tests/integration/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

ebb="$1"
artifacts="$2"
# shellcheck source=tests/integration/demo_run.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo_run.sh"
mkdir -p "$artifacts"

start=$SECONDS
"$ebb" demo --duration 50 --profile spike:8:14:8 --rate 500 --set scale-in-delay=15s \
  --out "$work/out" --plain >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!
demo_process=$demo_pid
wait_for_demo 150
echo "ebb demo ended with status ${status:-none (still running)} after $((SECONDS - start)) s"
check "demo exits 0 within 150 s" test "$status" = 0
if [ "$status" != 0 ]; then
  tail -n 20 "$work/demo.out" "$work/demo.err"
  exit 1
fi

run_dir="$(ls -d "$work"/out/demo-* | head -n 1)"
for file in report.html timeseries.csv summary.json; do
  check "$file written" test -s "$run_dir/$file"
done
check "live view printed plain lines" grep -q '\[ebb demo\] .* slo \[spike\]' "$work/demo.out"

# The figures, from summary.json and timeseries.csv.
if python3 - "$run_dir" <<'PY'

import csv, json, sys
run_dir = sys.argv[1]
summary = json.load(open(f"{run_dir}/summary.json"))
run = summary["runs"][0]
problems = []
if run["policy"] != "slo": problems.append(f"policy {run['policy']}")
if not run["verified"]: problems.append("audit not verified")
if run["lost"] != 0: problems.append(f"{run['lost']} lost")
if run["acknowledged"] < 10000: problems.append(f"only {run['acknowledged']} sent")
if run["processed"] < run["acknowledged"]: problems.append("fewer processed than sent")
if run["peak_replicas"] < 2: problems.append(f"peak {run['peak_replicas']} replicas: no scale-out")
events = run["events"]
ups = [e for e in events if e["to"] > e["from"] and 8 <= e["t_s"] <= 22 + 5]
downs = [e for e in events if e["to"] < e["from"] and e["t_s"] >= 22]
if not ups: problems.append(f"no scale-out during the spike: {events}")
if not downs: problems.append(f"no scale-in after the spike: {events}")
# Each scale event's cost is measured from the replicas' files.
if not any(e.get("longest_gap_ms") is not None for e in events):
    problems.append(f"no partition gap measured for any scale event: {events}")
if not any(e.get("excess_p99_ms") is not None for e in ups):
    problems.append(f"no excess p99 for the scale-out: {ups}")
rows = list(csv.DictReader(open(f"{run_dir}/timeseries.csv")))
if len(rows) < 45: problems.append(f"{len(rows)} timeline rows")
if max(float(r["produce_rate"]) for r in rows) < 2000: problems.append("no spike in produce_rate")
if not any(r["p99_ms"] for r in rows): problems.append("no latency in the timeline")
if problems:
    print("FAILED: figures: " + "; ".join(problems))
    sys.exit(1)
print(f"ok: figures: lost 0, peak {run['peak_replicas']} replicas, scaled out at "
      f"{ups[0]['t_s']:.0f} s and in at {downs[0]['t_s']:.0f} s, spike p99 "
      f"{(run['spike_latency'] or {}).get('p99_ms', 0):.0f} ms")
PY
then
  passed=$((passed + 1))
else
  failures=$((failures + 1))
fi

# Nothing left running: the broker (its command line names the run directory), the replicas and
# the producer (theirs name the topic, which carries the run's timestamp and the demo's pid).
stamp="${run_dir##*/demo-}"
check "no broker left behind" none_left "$run_dir"
check "no replica or producer left behind" none_left "ebb-demo-slo-$stamp-$demo_process"

# The report in a real browser: rendered, charts in the DOM, no console errors.
png="$artifacts/demo-report.png"
rm -f "$png"
timeout 60 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
  --screenshot="$png" --window-size=1400,2000 "file://$run_dir/report.html" \
  >"$work/chromium.out" 2>"$work/chromium.err"
check "chromium screenshot taken" test -s "$png"
check "screenshot is not a blank page" test "$(stat -c %s "$png")" -gt 50000
check "no console errors or failed loads" \
  bash -c "! grep -E 'CONSOLE|Uncaught|Failed to load resource|net::ERR_' '$work/chromium.err'"
timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$run_dir/report.html" \
  >"$work/dom.html" 2>/dev/null
check "charts rendered in the DOM" \
  bash -c "[ \"\$(grep -o 'class=\"chart\"' '$work/dom.html' | wc -l)\" -ge 1 ] &&
           [ \"\$(grep -o '<path' '$work/dom.html' | wc -l)\" -ge 20 ]"
check "summary table in the DOM" grep -q '<td class="num good">0</td>' "$work/dom.html"
cp "$run_dir/report.html" "$artifacts/demo-report.html"

finish "$((SECONDS - start)) s"
