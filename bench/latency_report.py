"""The latency-vs-load section of docs/BENCHMARKS.md from bench/latency_bench.sh's points.

    python3 bench/latency_report.py POINTS.jsonl CHART.svg > section.md

Each point is one run; a row is the median over the runs of one (tool, setting, shape, acks, rate),
with the spread (min-max) of the end-to-end p99 beside it. The chart (gnuplot) draws end-to-end p99
against the achieved rate for every setting on the first shape, with the Java floor as a line.
"""
import json
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=2):
    return "–" if value is None else f"{value:,.{digits}f}"


def rows_of(points):
    groups = defaultdict(list)
    for point in points:
        key = (point["tool"], point["setting"], point["shape"], point["acks"], point["target"])
        groups[key].append(point)
    return groups


def floor_table(groups):
    lines = [
        "| shape | acks | runs | avg ms | p50 ms | p99 ms | p99.9 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (tool, setting, shape, acks, _), runs in sorted(groups.items()):
        if setting != "EndToEndLatency":
            continue
        e2e = lambda q: median([r["e2e"][q] for r in runs])
        lines.append(
            f"| {shape} | {acks} | {len(runs)} | {fmt(median([r['avg_ms'] for r in runs]))} | "
            f"{fmt(e2e('p50_ms'))} | {fmt(e2e('p99_ms'))} | {fmt(e2e('p999_ms'))} |"
        )
    return lines


def load_table(groups):
    lines = [
        "| shape | acks | client | runs | target msg/s | achieved msg/s | ack p50 / p99 ms | "
        "e2e p50 ms | e2e p99 ms (min–max) | e2e p99.9 ms | p99 to broker / from broker ms | "
        "produce req/s | client CPU s | broker CPU s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = lambda item: (item[0][2], item[0][3], item[0][4] or float("inf"), item[0][0], item[0][1])
    for (tool, setting, shape, acks, target), runs in sorted(groups.items(), key=order):
        if setting == "EndToEndLatency":
            continue
        client = f"ebb {setting}" if tool == "ebb" else f"Java {setting}"
        ack = lambda q: median([r["ack"].get(q) for r in runs])
        e2e = lambda q: median([r["e2e"][q] for r in runs]) if tool == "ebb" else None
        half = lambda side: median([r.get(side, {}).get("p99_ms") for r in runs]) if tool == "ebb" else None
        spread = [r["e2e"]["p99_ms"] for r in runs] if tool == "ebb" else []
        p99 = fmt(e2e("p99_ms"))
        if spread:
            p99 += f" ({fmt(min(spread))}–{fmt(max(spread))})"
        lines.append(
            f"| {shape} | {acks} | {client} | {len(runs)} | {'max' if not target else f'{target:,.0f}'} | "
            f"{fmt(median([r['rate'] for r in runs]), 0)} | "
            f"{fmt(ack('p50_ms'))} / {fmt(ack('p99_ms'))} | {fmt(e2e('p50_ms'))} | {p99} | "
            f"{fmt(e2e('p999_ms'))} | {fmt(half('to_broker'))} / {fmt(half('from_broker'))} | "
            f"{fmt(median([r.get('requests_per_s') for r in runs]), 0)} | "
            f"{fmt(median([r.get('client_cpu_s') for r in runs]), 1)} | "
            f"{fmt(median([r.get('broker_cpu_s') for r in runs]), 1)} |"
        )
    return lines


def saturation(groups, tool, setting, shape, acks):
    runs = groups.get((tool, setting, shape, acks, 0.0), [])
    return median([r["rate"] for r in runs])


def targets_table(groups):
    """The issue's targets, per shape and acks, from the same invocation's points."""
    lines = [
        "| shape | acks | default's saturation msg/s | best ceiling (setting) | default / best | "
        "default / Java ProducerPerformance | floor p50 / p99 ms | rates ≤ 70 % of saturation: "
        "default e2e p50 / p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    combos = sorted({(k[2], k[3]) for k in groups if k[0] == "ebb"})
    for shape, acks in combos:
        settings = {k[1] for k in groups if k[0] == "ebb" and k[2] == shape and k[3] == acks}
        ceilings = {st: saturation(groups, "ebb", st, shape, acks) for st in settings}
        ceilings = {st: c for st, c in ceilings.items() if c}
        default = ceilings.get("default")
        best = max(ceilings.items(), key=lambda item: item[1]) if ceilings else None
        java = saturation(groups, "java", "ProducerPerformance", shape, acks)
        floor = [r for (t, st, sh, a, _), rs in groups.items()
                 if st == "EndToEndLatency" and sh == shape and a == acks for r in rs]
        floor_p50 = median([r["e2e"]["p50_ms"] for r in floor])
        floor_p99 = median([r["e2e"]["p99_ms"] for r in floor])
        cells = []
        for (t, st, sh, a, target), runs in sorted(groups.items(), key=lambda item: item[0][4]):
            if (t, st, sh, a) != ("ebb", "default", shape, acks) or not target or not default:
                continue
            if target > 0.7 * default:
                continue
            p50s = [r["e2e"]["p50_ms"] for r in runs]
            p99s = [r["e2e"]["p99_ms"] for r in runs]
            cells.append(f"{target:,.0f}: {fmt(min(p50s))}–{fmt(max(p50s))} / "
                         f"{fmt(min(p99s))}–{fmt(max(p99s))}")
        lines.append(
            f"| {shape} | {acks} | {fmt(default, 0)} | "
            f"{fmt(best[1], 0) if best else '–'} ({best[0] if best else '–'}) | "
            f"{fmt(default / best[1] * 100, 0) + ' %' if default and best else '–'} | "
            f"{fmt(default / java) + '×' if default and java else '–'} | "
            f"{fmt(floor_p50)} / {fmt(floor_p99)} | {'; '.join(cells)} |"
        )
    return lines


def chart(groups, path):
    shapes = sorted({key[2] for key in groups})
    if not shapes:
        return
    shape = "keyed:12" if "keyed:12" in shapes else shapes[0]
    acks = "all" if any(k[3] == "all" for k in groups) else sorted({k[3] for k in groups})[0]
    series = defaultdict(list)
    for (tool, setting, s, a, target), runs in groups.items():
        if tool != "ebb" or s != shape or a != acks:
            continue
        series[setting].append((median([r["rate"] for r in runs]), median([r["e2e"]["p99_ms"] for r in runs])))
    floor = [r["e2e"]["p99_ms"] for (t, st, s, a, _), rs in groups.items() if st == "EndToEndLatency" and a == acks for r in rs]
    with tempfile.TemporaryDirectory() as work:
        plots = []
        for setting, points in sorted(series.items()):
            data = f"{work}/{setting}.dat"
            with open(data, "w") as out:
                for rate, p99 in sorted(points):
                    out.write(f"{rate} {p99}\n")
            plots.append(f"'{data}' using 1:2 with linespoints title 'ebb {setting}'")
        if floor:
            plots.append(f"{median(floor)} with lines dashtype 2 title 'Java EndToEndLatency p99 (floor)'")
        script = f"""
set terminal svg size 900,500 dynamic font 'sans,11'
set output '{path}'
set title 'End-to-end p99 against load ({shape}, acks={acks}, 100 B)'
set xlabel 'achieved rate, msg/s'
set ylabel 'end-to-end p99, ms'
set logscale xy
set grid
set key top left
plot {', '.join(plots)}
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    points = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    groups = rows_of(points)
    chart(groups, sys.argv[2])
    out = [
        "## Latency against load",
        "",
        "Reproduce with `bench/latency_bench.sh` (release build, one local KRaft broker started by the",
        "script, 2 cores shared by broker and client). 100 B messages; keyed = 1,000 uniform keys;",
        "`SHAPE` is keys:partitions. Every row is the median of its runs (the runs column); the e2e",
        "p99 column gives the spread (min–max). ebb rows are `ebb roundtrip` (producer and consumer in one process, end-to-end =",
        "send to processing); Java ProducerPerformance gives send→ack only (it sends no keys);",
        "EndToEndLatency is the single-message floor (one record in flight). Each point writes a new",
        "topic after 2 s of the same load as warm-up (`ebb roundtrip --warmup`, ProducerPerformance",
        "`--warmup-records`, a discarded first EndToEndLatency pass): a new topic's first half second",
        "of appends takes tens of ms a request on the broker, and was the unstable tail of short runs.",
        "The roundtrip's topics stamp LogAppendTime, which splits end-to-end at the broker: send →",
        "append (\"to broker\") and append → processing (\"from broker\"), each within 1 ms (the stamp",
        "is in ms).",
        "",
        "![End-to-end p99 against load](img/latency-vs-load.svg)",
        "",
        "### Against the targets (each shape and acks: one broker, the same invocation)",
        "",
        *targets_table(groups),
        "",
        "### The floor: Kafka's EndToEndLatency (5,000 records, one at a time)",
        "",
        *floor_table(groups),
        "",
        "### Every point",
        "",
        *load_table(groups),
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
