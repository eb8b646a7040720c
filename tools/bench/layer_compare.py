#!/usr/bin/env python3
"""Kiln's per-stage times next to ONNX Runtime's per-node times, convolution by convolution.

Reads the lines that `-Dkiln.blocked.profile=true` prints (NetworkBench's standard error: one line per stage,
"... median of the last half  X us ...") and an ONNX Runtime profile (the JSON that NetworkBench's
--ort-profile PREFIX writes), pairs the k-th convolution stage with the k-th Conv node (both networks list
them in the network's order), and prints each pair's times (ONNX Runtime's: the median of the last half of the
node's kernel times, the same statistic as Kiln's), Kiln's time over ONNX Runtime's, and the sums of the
convolutions and of the rest. Run both in one process so that the machine's phase is the same for both:

  java --add-modules jdk.incubator.vector -Dkiln.blocked.profile=true -cp samples/benchmark/target/kiln-benchmarks.jar \\
      dev.kiln.samples.benchmark.NetworkBench --net REPVGG_A0 --engine KILN --batch 8 --threads 1 --seconds 6 \\
      --alternate 10 --ort-profile /tmp/ort 2> /tmp/kiln.txt
  tools/bench/layer_compare.py /tmp/kiln.txt /tmp/ort_*.json

A diagnostic for developers; nothing in the build uses it.
"""
import json
import re
import statistics
import sys

STAGE = re.compile(r"^(?P<name>.*?)\s+median of the last half\s+(?P<us>[\d.]+) us")


def kiln_stages(path):
    stages = []
    with open(path) as f:
        for line in f:
            m = STAGE.match(line.rstrip())
            if m:
                stages.append((m.group("name").strip(), float(m.group("us"))))
    return stages


def ort_nodes(path):
    with open(path) as f:
        events = json.load(f)
    times, ops, order = {}, {}, []
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        name = e["name"][: -len("_kernel_time")]
        if name not in times:
            order.append(name)
            times[name] = []
            ops[name] = e.get("args", {}).get("op_name", "?")
        times[name].append(float(e["dur"]))
    return [(n, ops[n], statistics.median(times[n][len(times[n]) // 2:])) for n in order]


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: layer_compare.py KILN_PROFILE_LINES ORT_PROFILE_JSON", file=sys.stderr)
        return 2
    kiln = kiln_stages(argv[1])
    ort = ort_nodes(argv[2])
    if not kiln or not ort:
        print("no %s found" % ("Kiln stage lines" if not kiln else "ONNX Runtime node times"), file=sys.stderr)
        return 1
    kconv = [s for s in kiln if s[0].startswith("conv ")]
    oconv = [n for n in ort if n[1] == "Conv"]
    if len(kconv) != len(oconv):
        print("%d Kiln convolutions against %d ONNX Runtime Conv nodes: not the same network?"
              % (len(kconv), len(oconv)), file=sys.stderr)
        return 1
    print("%-48s %10s %10s %7s" % ("convolution (Kiln's stage)", "Kiln us", "ORT us", "K/O"))
    for (kn, kus), (_, _, ous) in zip(kconv, oconv):
        print("%-48s %10.1f %10.1f %7.2f" % (kn[:48], kus, ous, kus / ous))
    ks = sum(us for _, us in kconv)
    os_ = sum(us for _, _, us in oconv)
    krest = sum(us for n, us in kiln if not n.startswith("conv "))
    orest = sum(us for _, op, us in ort if op != "Conv")
    print("%-48s %10.1f %10.1f %7.2f" % ("all convolutions", ks, os_, ks / os_))
    print("%-48s %10.1f %10.1f" % ("the rest (Kiln: conversion, pooling, head)", krest, orest))
    print("%-48s %10.1f %10.1f %7.2f" % ("sum", ks + krest, os_ + orest, (ks + krest) / (os_ + orest)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
