#!/usr/bin/env python3
"""The real KEDA + HPA's replica trajectory against ebb's keda policy fed the same lag.

  compare_trajectories.py REAL.txt MODEL.jsonl RECORDED.jsonl OUT_DIR [--sync S] [--slack N]
                          [--model-name NAME]

REAL.txt: lines "EPOCH SPEC READY HPA_DESIRED METRIC" (tests/k8s/lib.sh record_real), once a second.
MODEL.jsonl: ebb_keda_replay's lines (time: epoch seconds; replicas: the policy's decision).
RECORDED.jsonl: the lag recorder's `ebb scale --decisions` lines (the group's lag and members).

Writes OUT_DIR/k8s-keda-real.tsv, k8s-keda-NAME.tsv (default model) and k8s-keda-lag.tsv (seconds
from the first real sample) and
prints one JSON object: the peak of each, the points where the two differ by more than SLACK
replicas with no model decision within one sync period either side that comes within SLACK, and
whether they agree. Exit 0 when they agree, 1 when not, 2 on bad input.
"""
import json
import math
import sys


def parse_quantity(text):
    """A Kubernetes quantity as the HPA status writes it: 1500, 1500m, 2k."""
    if not text:
        return math.nan
    suffixes = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}
    if text[-1] in suffixes:
        return float(text[:-1]) * suffixes[text[-1]]
    return float(text)


def read_real(path):
    rows = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 2:
                continue  # the API server did not answer that second
            spec = int(fields[1]) if fields[1].isdigit() else None
            if spec is None:
                continue
            ready = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
            desired = int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None
            metric = parse_quantity(fields[4]) if len(fields) > 4 else math.nan
            rows.append((float(fields[0]), spec, ready, desired, metric))
    return rows


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_model(path):
    return [(float(s["time"]), s["replicas"]) for s in read_jsonl(path) if "time" in s]


def read_lag(path):
    rows = []
    for step in read_jsonl(path):
        if "time" not in step:
            continue
        partitions = step["observation"]["partitions"]
        lag = sum(max(0, p[2] - p[3]) for p in partitions if p[3] >= 0)
        rows.append((float(step["time"]), lag, step["observation"]["replicas"]))
    return rows


def model_at(model, t):
    """The model's decision in force at time t (the last one at or before t)."""
    current = None
    for row in model:
        if row[0] > t:
            break
        current = row[1]
    return current


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    real_path, model_path, recorded_path, out_dir = argv[1:5]
    sync = 15.0
    slack = 1
    model_name = "model"
    rest = argv[5:]
    while rest:
        if rest[0] == "--sync":
            sync = float(rest[1])
        elif rest[0] == "--slack":
            slack = int(rest[1])
        elif rest[0] == "--model-name":
            model_name = rest[1]
        else:
            print(f"unknown option {rest[0]}", file=sys.stderr)
            return 2
        rest = rest[2:]
    real = read_real(real_path)
    model = read_model(model_path)
    if not real or not model:
        print(json.dumps({"error": f"no samples: real {len(real)}, model {len(model)}"}))
        return 2
    origin = real[0][0]
    # Before its first sync the model holds the replicas it started from, the real starting count.
    if model[0][0] > origin:
        model.insert(0, (origin, real[0][1]))
    with open(f"{out_dir}/k8s-keda-real.tsv", "w") as f:
        f.write("# seconds\tspec_replicas\tready_replicas\thpa_desired\thpa_metric_per_replica\n")
        for t, spec, ready, desired, metric in real:
            f.write(f"{t - origin:.1f}\t{spec}\t{ready}\t{'' if desired is None else desired}\t"
                    f"{'' if math.isnan(metric) else f'{metric:.0f}'}\n")
    with open(f"{out_dir}/k8s-keda-{model_name}.tsv", "w") as f:
        f.write("# seconds\tmodel_replicas\n")
        for t, replicas in model:
            f.write(f"{t - origin:.1f}\t{replicas}\n")
    with open(f"{out_dir}/k8s-keda-lag.tsv", "w") as f:
        f.write("# seconds\tgroup_lag\tgroup_members\n")
        for t, lag, members in read_lag(recorded_path):
            f.write(f"{t - origin:.1f}\t{lag}\t{members}\n")

    # Each real sample against the model's decisions within one sync period either side, widened by
    # the sampling step: the real trajectory is read once a second or so, so when it changed is known
    # only to within one step.
    steps = sorted(b[0] - a[0] for a, b in zip(real, real[1:]))
    reach = sync + (steps[len(steps) // 2] if steps else 0)
    misses = []
    covered = 0
    for t, spec, _, _, _ in real:
        if t < model[0][0] or t > model[-1][0]:
            continue
        covered += 1
        window = [model_at(model, t)] + [r[1] for r in model if t - reach <= r[0] <= t + reach]
        window = [w for w in window if w is not None]
        if not any(abs(spec - w) <= slack for w in window):
            misses.append({"seconds": round(t - origin, 1), "real": spec,
                           "model_in_window": sorted(set(window))})
    verdict = {
        "real_peak": max(r[1] for r in real),
        "model_peak": max(r[1] for r in model),
        "samples_compared": covered,
        "misses": misses[:20],
        "miss_count": len(misses),
        "sync_seconds": sync,
        "window_seconds": round(reach, 2),
        "slack_replicas": slack,
        "agree": covered > 0 and not misses,
    }
    print(json.dumps(verdict))
    return 0 if verdict["agree"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
