#!/usr/bin/env bash
# The real KEDA + HPA against ebb's keda policy on the local Kubernetes cluster (tools/k8s): the
# chart in keda-kafka mode, a spike from `ebb produce`, the Deployment's replicas once a second and
# the keda policy's decisions on the same group's lag (tests/k8s/lib.sh run_keda_spike). Writes the
# chart docs/img/k8s-keda.svg and the k8s-keda-bench section of docs/BENCHMARKS.md.
#
#   bench/k8s_keda_bench.sh [--runs N] [OUTPUT.md]     N spikes (default 1), each on a fresh cluster
#   bench/k8s_keda_bench.sh --from DIR [OUTPUT.md]     chart and section from the artifacts of a
#                                                      run of `make test-k8s` (build/asan/test-artifacts)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
runs=1
from=""
[ "${1:-}" = "--runs" ] && { runs="$2"; shift 2; }
[ "${1:-}" = "--from" ] && { from="$2"; shift 2; }
if [ -n "$from" ]; then
  report="${1:-$root/docs/BENCHMARKS.md}"
else
  bench_setup "${1:-}"
fi
need gnuplot "run scripts/bootstrap.sh (it installs gnuplot-nox)"
why="$("$root/tools/k8s/cluster.sh" check)" || die "$why"

# shellcheck source=tests/integration/check.sh
source "$root/tests/integration/check.sh"
# shellcheck source=tests/k8s/lib.sh
source "$root/tests/k8s/lib.sh"
# The release build has no test targets: the replay comes from the test build (make test's).
replay="$root/build/asan/tests/ebb_keda_replay"
[ -n "$from" ] || [ -x "$replay" ] || "$root/scripts/build.sh" asan || die "cannot build ebb_keda_replay"
results="$(mktemp -d)"
if [ -n "$from" ]; then
  mkdir -p "$results/run-1"
  cp "$from"/k8s-keda-* "$results/run-1/" || die "no k8s-keda-* artifacts in $from"
  runs=0
fi
for run in $(seq 1 "$runs"); do
  work="$(mktemp -d)"
  chmod 755 "$work"
  artifacts="$results/run-$run"
  mkdir -p "$artifacts"
  trap '[ -n "${lag_recorder_pid:-}" ] && kill "$lag_recorder_pid"; "$cluster" stop --dir "$work/k8s"; "$kafka" stop --dir "$work/kafka"; rm -rf "$work"' EXIT
  start_everything || die "the cluster did not start"
  test_keda_kafka_scales
  "$cluster" stop --dir "$work/k8s" >/dev/null 2>&1
  "$kafka" stop --dir "$work/kafka" >/dev/null 2>&1
  rm -rf "$work"
  trap - EXIT
done

[ -n "$from" ] && runs=1
python3 - "$results" "$runs" "$report" "$root" "$spike_rate" "$spike_count" "$lag_threshold" \
  "$polling_interval" "$scale_down_window" "$max_replicas" "$partitions" "$from" <<'PY'
import io, json, os, subprocess, sys
results, runs, report, root = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rate, count, threshold, polling, window, max_replicas, partitions = sys.argv[5:12]
sys.path.insert(0, os.path.join(root, "bench"))
source = ("\n\nThe run below is the `make test-k8s` of a fresh clone, drawn with `--from` from its "
          "artifacts (build/asan/test-artifacts).") if sys.argv[12] else ""
rows = []
for run in range(1, runs + 1):
    d = os.path.join(results, f"run-{run}")
    verdict = json.load(open(os.path.join(d, "k8s-keda-compare.json")))
    broker = json.load(open(os.path.join(d, "k8s-keda-compare-broker.json")))
    path = os.path.join(d, "k8s-keda-verify.json")
    verify = json.load(open(path)) if os.path.exists(path) else {}
    rows.append((run, verdict, broker, verify))
last = os.path.join(results, f"run-{runs}")
chart = os.path.join(root, "docs", "img", "k8s-keda.svg")
gp = f"""set terminal svg size 900,560 dynamic font "sans,11"
set output "{chart}"
set multiplot layout 2,1 title "Spike of {int(count):,} messages at {rate}/s into {partitions} partitions, lagThreshold {threshold}"
set grid
set key outside right
set xrange [0:*]
set title "Replicas"
set ylabel "replicas"
set yrange [0:{int(max_replicas) + 1}]
plot "{last}/k8s-keda-real.tsv" using 1:2 with steps lw 2 lc rgb "#1f77b4" title "real KEDA + HPA", \\
  "{last}/k8s-keda-real.tsv" using 1:3 with steps lw 1 dt 2 lc rgb "#1f77b4" title "real: ready pods", \\
  "{last}/k8s-keda-model.tsv" using 1:2 with steps lw 2 dt 3 lc rgb "#d62728" title "ebb keda policy, fed KEDA's readings", \\
  "{last}/k8s-keda-model-broker.tsv" using 1:2 with steps lw 2 lc rgb "#2ca02c" title "ebb keda policy, reading the broker"
set title "The group's lag (what both read)"
set ylabel "messages"
set xlabel "seconds"
set yrange [0:*]
plot "{last}/k8s-keda-lag.tsv" using 1:2 with lines lw 2 lc rgb "black" title "lag"
unset multiplot
"""
open(os.path.join(results, "chart.gp"), "w").write(gp)
subprocess.run(["gnuplot", os.path.join(results, "chart.gp")], check=True)
out = io.StringIO()
out.write(f"""## Real KEDA + HPA against ebb's keda policy (Kubernetes on this machine)

Reproduce with `bench/k8s_keda_bench.sh` (tools/k8s: Kubernetes v1.35.4 and KEDA v2.20.2 built
from their own modules, the image from deploy/docker/Dockerfile, one local KRaft broker, 2 cores).
The chart in `keda-kafka` mode (`lagThreshold={threshold}`, `pollingInterval={polling}`, scale-down
stabilization {window} s, 1 to {max_replicas} replicas, `consumer.work=sleep:1ms`, commits every
second); `ebb produce --rate {rate} -n {count}` on {partitions} partitions. The real HPA's replicas
are read once a second. ebb's `keda` policy is replayed (`tests/k8s/keda_replay.cpp`) at the real
HPA's sync times (every 15 s from its first scale event) with the same settings, keeping its own
replica count, twice: fed exactly the metric KEDA's scaler served the HPA at each sync (from the
HPA's status), and reading the group's lag from the broker itself (recorded once a second by `ebb
scale`). Agreement: every second of the real trajectory within ±1 replica of a model decision
within one sync period, widened by the sampling step (when the real count changed is known to one
reading).{source}

| run | real peak | model peak (KEDA's readings / broker) | seconds compared | outside ±1 / 15 s: KEDA's readings | : broker | lost |
|---|---:|---:|---:|---:|---:|---:|
""")
for run, v, b, verify in rows:
    out.write(f"| {run} | {v['real_peak']} | {v['model_peak']} / {b['model_peak']} | {v['samples_compared']} | {v['miss_count']} | {b['miss_count']} | {verify.get('lost', '?')} |\n")
out.write("""
![replicas over time: the real KEDA + HPA and ebb's keda policy](img/k8s-keda.svg)
""")
from write_section import write_section
write_section(report, "k8s-keda-bench", out.getvalue())
print(out.getvalue())
PY
