#!/usr/bin/env python3
"""The README's whole-network table from a round of network_bench.sh and cold_start.sh.

Reads the JSON lines network_bench.sh appended (NetworkBench's and pytorch_network_bench.py's) and, optionally,
those cold_start.sh appended (ColdStart's), and prints:

- one Markdown row per network, batch size and thread count, in the README's columns: Kiln's, ONNX Runtime's and
  PyTorch's steady times (medians over the round's processes, three significant figures: whole milliseconds
  from 100, with a thousands separator), Kiln's speed over ONNX Runtime's alternating in one process (the median
  over its processes), and the first results (each engine's median over its ColdStart runs, and the ratio of the
  two medians);
- per case, the range of the alternation's one-second slices and of the single first-result rounds;
- the settling runs (worst 1-second window after 2 s over the run's median) and the scalar-path runs.

A reading aid for whoever updates the README; nothing in the build runs it.

Usage: tools/bench/network_table.py NETWORKS.jsonl [COLD_START.jsonl]
"""
import json
import statistics
import sys
from collections import defaultdict

NAMES = {"REPVGG_A0": "RepVGG-A0", "MOBILENET_V1": "MobileNet v1", "MOBILENET_V1_160": "MobileNet v1 160"}


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def net_key(row):
    return row["net"].upper().replace("-", "_")


def ms(value):
    """Three significant figures: whole milliseconds from 100 (a thousands separator from 1,000), else one or two
    decimals."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    steady = defaultdict(lambda: defaultdict(list))
    slices = defaultdict(list)
    extra = []
    for r in rows(argv[1]):
        tag = r.get("tag", "")
        if tag in ("settling", "scalar path"):
            extra.append(r)
            continue
        key = (net_key(r), r["batch"], r["threads"])
        steady[key][r["engine"]].append(r["steady_median_ms"])
        if r["engine"] == "KILN" and "alternate_speed_median" in r:
            steady[key]["ALT"].append(r["alternate_speed_median"])
            slices[key] += [o / k for k, o in zip(r["alternate_kiln_ms"], r["alternate_ort_ms"])]
    cold = defaultdict(lambda: defaultdict(list))
    if len(argv) > 2:
        for r in rows(argv[2]):
            cold[(net_key(r), r["batch"], r["threads"])][r["engine"]].append(r["first_result_ms"])

    print("| network | N | threads | Kiln ms (steady, own process) | ONNX Runtime ms | PyTorch ms "
          "| in one process, alternating: Kiln speed vs ORT | first result Kiln / ORT (`ColdStart`, medians) |")
    print("|---|---|---|---|---|---|---|---|")
    order = sorted(steady, key=lambda k: (list(NAMES).index(k[0]) if k[0] in NAMES else 9, k[1], k[2]))
    notes = []
    for key in order:
        v = steady[key]
        cells = [ms(statistics.median(v[e])) if v[e] else "-" for e in ("KILN", "ORT", "PYTORCH")]
        alt = f"{statistics.median(v['ALT']):.3f}x" if v["ALT"] else "-"
        c = cold.get(key)
        first = "-"
        if c and c["KILN"] and c["ORT"]:
            k, o = statistics.median(c["KILN"]), statistics.median(c["ORT"])
            first = f"{k:,.0f} / {o:,.0f} ms = {k / o:.2f}x"
            rounds = [a / b for a, b in zip(c["KILN"], c["ORT"])]
            notes.append(f"{NAMES.get(key[0], key[0])} N={key[1]} T{key[2]}: first-result rounds "
                         f"{min(rounds):.2f}-{max(rounds):.2f}x")
        if slices[key]:
            notes.append(f"{NAMES.get(key[0], key[0])} N={key[1]} T{key[2]}: alternation slices "
                         f"{min(slices[key]):.3f}-{max(slices[key]):.3f}x")
        print(f"| {NAMES.get(key[0], key[0])} | {key[1]} | {key[2]} | {' | '.join(cells)} | {alt} | {first} |")
    print()
    for n in notes:
        print("- " + n)
    for r in extra:
        print(f"- {NAMES.get(net_key(r), r['net'])} {r['tag']}: steady {r['steady_median_ms']} ms, worst window "
              f"after 2 s {r.get('worst_over_steady')}x of it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
