#!/usr/bin/env bash
# The elastic loop on the real broker: the same load spike for the static, keda and slo policies
# (time until lag recovers, p99 end-to-end latency during the spike, SLO-violation seconds,
# replica-seconds, scale events, messages lost); what one scale event costs is
# bench/handoff_bench.sh. Writes its section of docs/BENCHMARKS.md
# (or $1) and the chart docs/img/scaling-spike.svg.
#   bench/scaling_bench.sh [OUTPUT.md]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" release
need gnuplot "run scripts/bootstrap.sh (it installs gnuplot-nox)"
ebb="$root/build/release/apps/ebb/ebb"
kafka="$root/tools/kafka/kafka.sh"
report="${1:-$root/docs/BENCHMARKS.md}"
chart="$root/docs/img/scaling-spike.svg"
work="$(mktemp -d)"
run_dir="$EBB_CACHE/kafka-run/scaling-bench"

# The scenario: 400 msg/s, 8x (3,200 msg/s) from 30 s for 60 s, then 400 again until 180 s.
# One replica with 1 ms of I/O-bound work per message serves about 900 msg/s.
base_rate=400
profile="spike:30:60:8"
duration=180
objective_ms=500

"$kafka" stop --dir "$run_dir"
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  "$kafka" stop --dir "$run_dir"
  rm -rf "$work"
}
trap cleanup EXIT
bootstrap="$("$kafka" start --dir "$run_dir" --owner-pid $$)"

create_topic() {
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$1" --partitions 12 --replication-factor 1 >/dev/null
}

# run_policy NAME POLICY SETTING...: the spike against `ebb scale --policy POLICY`.
run_policy() {
  local name="$1" policy="$2"
  shift 2
  local dir="$work/$name" sets=()
  mkdir -p "$dir/replicas"
  for setting in "$@"; do sets+=(--set "$setting"); done
  create_topic "spike-$name"
  log "spike with policy $name ($*)"
  "$ebb" --log-level warn scale -b "$bootstrap" -t "spike-$name" -g "spike-$name" \
    --policy "$policy" "${sets[@]}" --decisions "$dir/decisions.jsonl" --log-dir "$dir/replicas" \
    -o json -- --log-level warn consume -b "$bootstrap" -t "spike-$name" -g "spike-$name" \
    --work sleep:1ms --audit "$dir/replicas/replica-{replica}.audit" \
    --stats "$dir/replicas/replica-{replica}.stats" >"$dir/scale.json" 2>"$dir/scale.err" &
  local scaler=$!
  "$ebb" lag -b "$bootstrap" -g "spike-$name" -t "spike-$name" --watch -o json --interval 1 \
    >"$dir/lag.jsonl" 2>/dev/null &
  local watcher=$!
  date +%s.%N >"$dir/start"
  "$ebb" --log-level warn produce -b "$bootstrap" -t "spike-$name" --producer-id p1 \
    --keys uniform:500 --rate "$base_rate" --profile "$profile" --duration "$duration" \
    -o json >"$dir/producer.json"
  # Let the group catch up (or give up after a minute) before stopping it.
  local waited=0
  while [ "$waited" -lt 60 ]; do
    if python3 - "$dir/lag.jsonl" <<'PY'; then break; fi
import json, sys
lines = open(sys.argv[1]).read().splitlines()
sys.exit(0 if lines and json.loads(lines[-1])["lag"] == 0 else 1)
PY
    sleep 1
    waited=$((waited + 1))
  done
  kill "$watcher"
  kill -TERM "$scaler"
  wait "$scaler" || die "ebb scale ($name) failed: $(tail -5 "$dir/scale.err")"
  "$ebb" verify -o json --expect "p1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["acknowledged"])' "$dir/producer.json")" \
    $(printf -- '--audit %s ' "$dir"/replicas/*.audit) >"$dir/verify.json" || true
}

run_policy static static replicas=2
# KEDA as shipped (30 s polling, 15 s HPA sync, 5 min scale-down window), with the lag threshold a
# user would size for this workload: what one replica clears within the objective (900 x 0.5 s).
run_policy keda keda lagThreshold=450 minReplicaCount=1
run_policy slo slo objective=${objective_ms}ms service-rate=900

mkdir -p "$(dirname "$chart")"
PYTHONPATH="$root/bench" python3 - "$work" "$report" "$chart" "$objective_ms" "$base_rate" "$profile" "$duration" <<'PY'
import glob, io, json, os, subprocess, sys
work, report, chart, objective_ms = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
base_rate, profile, duration = sys.argv[5], sys.argv[6], int(sys.argv[7])
spike_start, spike_end = 30, 90
policies = ["static", "keda", "slo"]

def lines(path):
    return [json.loads(l) for l in open(path).read().splitlines() if l.strip()]

rows, series = [], {}
for name in policies:
    d = os.path.join(work, name)
    start = float(open(os.path.join(d, "start")).read())
    lag = [(r["_t"] if "_t" in r else None, r) for r in lines(os.path.join(d, "lag.jsonl"))]
    # lag readings are one per second from just before the producer started
    lag_series = [(i, r["lag"], r["topics"][0]["produce_rate"], r["topics"][0]["consume_rate"])
                  for i, (_, r) in enumerate(lag)]
    decisions = lines(os.path.join(d, "decisions.jsonl"))
    t0 = decisions[0]["observation"]["at_ms"] / 1000 if decisions else 0
    replicas = [(x["observation"]["at_ms"] / 1000 - t0, x["observation"]["replicas"], x["replicas"]) for x in decisions]
    # Per second: the worst p99 of any replica (an upper bound of the group's p99).
    p99 = {}
    consumed = {}
    for path in glob.glob(os.path.join(d, "replicas", "*.stats")):
        for s in lines(path):
            second = int(s["time"] - start)
            if s["consumed"] > 0:
                p99[second] = max(p99.get(second, 0), s["p99_ms"])
            consumed[second] = consumed.get(second, 0) + s["consumed"]
    verify = json.load(open(os.path.join(d, "verify.json")))
    lost, duplicates = verify["lost"], verify["duplicates"]
    peak_lag = max((l for _, l, _, _ in lag_series), default=0)
    # Recovered: the first second after the spike from which lag stays below one second of base load.
    recover = None
    for i, l, _, _ in lag_series:
        if i >= spike_end and all(l2 < float(base_rate) for j, l2, _, _ in lag_series if j >= i):
            recover = i - spike_end
            break
    spike_p99 = max((v for s, v in p99.items() if spike_start <= s < spike_end + 30), default=0)
    violation = sum(1 for v in p99.values() if v > objective_ms)
    replica_seconds = sum(replicas[i][1] * (replicas[i + 1][0] - replicas[i][0]) for i in range(len(replicas) - 1))
    events = sum(1 for x in decisions if x["replicas"] != x["observation"]["replicas"])
    peak = max((x["replicas"] for x in decisions), default=0)
    rows.append((name, recover, spike_p99, violation, replica_seconds, events, peak, peak_lag, lost, duplicates))
    series[name] = (lag_series, replicas, p99)
    with open(os.path.join(work, name + ".dat"), "w") as out:
        for i, l, pr, cr in lag_series:
            out.write(f"{i} {l} {pr} {cr}\n")
    with open(os.path.join(work, name + "-replicas.dat"), "w") as out:
        for t, running, desired in replicas:
            out.write(f"{t:.1f} {running} {desired}\n")
    with open(os.path.join(work, name + "-p99.dat"), "w") as out:
        for s in sorted(p99):
            out.write(f"{s} {p99[s] / 1000:.4f}\n")

colors = {"static": "#888888", "keda": "#d62728", "slo": "#1f77b4"}
plot = io.StringIO()
plot.write(f"""set terminal svg size 1000,1100 dynamic font "sans,11" background "white"
set output "{chart}"
set multiplot layout 4,1 title "Spike {profile} at {base_rate} msg/s, 12 partitions, 1 ms of work per message"
set grid
set key outside right
set xrange [0:{duration + 60}]
""")
def panel(title, ylabel, plots, extra=""):
    plot.write(f'set title "{title}"\nset ylabel "{ylabel}"\n{extra}plot ' + ", \\\n  ".join(plots) + "\nunset logscale y\n")
panel("Consume rate (produce rate dashed)", "msg/s",
      [f'"{work}/{n}.dat" using 1:4 with lines lw 2 lc rgb "{colors[n]}" title "{n}"' for n in policies] +
      [f'"{work}/slo.dat" using 1:3 with lines dt 2 lc rgb "black" title "produced"'])
panel("Lag", "messages", [f'"{work}/{n}.dat" using 1:2 with lines lw 2 lc rgb "{colors[n]}" title "{n}"' for n in policies])
panel("Replicas (the policy's decision)", "replicas", [f'"{work}/{n}-replicas.dat" using 1:3 with steps lw 2 lc rgb "{colors[n]}" title "{n}"' for n in policies])
panel("End-to-end p99 (worst replica, per second)", "seconds",
      [f'"{work}/{n}-p99.dat" using 1:2 with lines lw 2 lc rgb "{colors[n]}" title "{n}"' for n in policies] +
      [f'{objective_ms / 1000} with lines dt 3 lc rgb "black" title "objective"'],
      "set logscale y\nset xlabel \"seconds since the producer started\"\n")
plot.write("unset multiplot\n")
open(os.path.join(work, "chart.gp"), "w").write(plot.getvalue())
subprocess.run(["gnuplot", os.path.join(work, "chart.gp")], check=True)

out = io.StringIO()
out.write(f"""## Elastic scaling on the real broker

Reproduce with `bench/scaling_bench.sh` (release build, one local KRaft broker, 2 cores). Load:
`ebb produce --rate {base_rate} --profile {profile} --duration {duration}` (3,200 msg/s for 60 s from
30 s), 500 keys, 12 partitions; replicas run `ebb consume --work sleep:1ms` (about 900 msg/s each).
Policies: `static` with 2 replicas; `keda` as shipped (polling 30 s, HPA sync 15 s, 5 min scale-down
window, 100%/4 pods per 15 s) with `lagThreshold=450`, what one replica clears within the objective;
`slo` with `objective={objective_ms:.0f}ms service-rate=900`. Latency per second is the worst replica's
p99 for that second (an upper bound of the group's p99); SLO-violation seconds are the seconds in which
it exceeded the {objective_ms:.0f} ms objective.

| policy | lag recovered after spike s | p99 during spike s | SLO-violation s | replica-seconds | scale events | peak replicas | max lag | lost | duplicates |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
""")
for name, recover, spike_p99, violation, rs, events, peak, peak_lag, lost, dup in rows:
    out.write(f"| {name} | {recover if recover is not None else 'not within run'} | {spike_p99 / 1000:.2f} | {violation} | {rs:,.0f} | {events} | {peak} | {peak_lag:,} | {lost} | {dup} |\n")
out.write(f"""
![rates, lag, replicas and p99 over time per policy](img/scaling-spike.svg)

The cost of each scale event (excess p99, partition gaps, decision to capacity) is measured by
`bench/handoff_bench.sh`, below.
""")

from write_section import write_section
write_section(report, "scaling-bench", out.getvalue())
print(out.getvalue())
PY
