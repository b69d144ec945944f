#!/usr/bin/env python3
"""The metric KEDA's Kafka scaler served the real HPA at each of its syncs, as lag observations.

  keda_readings.py REAL.txt FIRST_SYNC_EPOCH SYNC_SECONDS PARTITIONS > READINGS.jsonl

REAL.txt: lines "EPOCH SPEC READY HPA_DESIRED METRIC" (tests/k8s/lib.sh record_real). The HPA's
status shows the metric per replica (total / the replicas it had when it synced); times the
Deployment's replicas before that sync, it is the total KEDA served. Each sync (FIRST_SYNC plus or
minus whole SYNC_SECONDS) becomes one line in `ebb scale --decisions` form, the total spread evenly
over PARTITIONS partitions, so that ebb_keda_replay feeds the keda policy exactly what KEDA fed the
HPA: any difference left between the trajectories is the model's.
"""
import json
import math
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from compare_trajectories import read_real  # noqa: E402


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    real = read_real(argv[1])
    first_sync, period, partitions = float(argv[2]), float(argv[3]), int(argv[4])
    if not real:
        print("no samples", file=sys.stderr)
        return 2
    tick = first_sync - math.floor((first_sync - real[0][0]) / period) * period
    while tick <= real[-1][0]:
        before = [r for r in real if r[0] <= tick]
        after = [r for r in real if tick < r[0] <= tick + period and not math.isnan(r[4])]
        if before and after:
            total = round(after[0][4] * before[-1][1])
            share, rest = divmod(total, partitions)
            offsets = [[p, 0, share + (1 if p < rest else 0), 0] for p in range(partitions)]
            print(json.dumps({"observation": {"partitions": offsets, "replicas": before[-1][1]},
                              "time": tick}))
        tick += period
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
