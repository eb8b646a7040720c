#!/usr/bin/env python3
"""What HotSpot's compilers did, and when, from a -XX:+LogCompilation file.

Run any Java command with
  -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=FILE
and give FILE to this script. It prints one line per compilation: when it was queued, when the compiler took it
and when it was done (seconds since the JVM started), how long the compiler spent on it, whether it was an
on-stack replacement (OSR) and the method. A long C2 compilation holds up every one queued behind it (a
2-processor machine has one C2 thread), so the lines to look for are those with a late start after an early
queue time, and the long one before them.

Usage:
  tools/bench/compile_timeline.py FILE [--from S] [--to S] [--min-ms MS] [--c1] [--sort]

  --from/--to  only compilations that overlap this window (seconds since the JVM started)
  --min-ms     only those that took at least this long
  --c1         C1's compilations (tiers 1-3) too; by default only C2's (tier 4)
  --sort       longest first instead of in the order they started

Example (RepVGG-A0's cold start, N=8, two threads; the benchmark jar built):
  java --add-modules jdk.incubator.vector -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation \
      -XX:LogFile=/tmp/comp.log -cp samples/benchmark/target/kiln-benchmarks.jar \
      dev.kiln.samples.benchmark.ColdStart bench-networks REPVGG_A0 KILN 2 8
  tools/bench/compile_timeline.py /tmp/comp.log --to 1.5 --min-ms 10

A diagnostic for developers; nothing in the build uses it.
"""
import argparse
import html
import re
import sys

TASK = re.compile(r"<task (compile_id='(\d+)'[^>]*)>(.*?)<task_done[^>]*?stamp='([\d.]+)'", re.S)
QUEUED = re.compile(r"<task_queued compile_id='(\d+)'[^>]*?stamp='([\d.]+)'")
STAMP = re.compile(r"stamp='([\d.]+)'")
LEVEL = re.compile(r"level='(\d)'")
METHOD = re.compile(r"method='([^']*)'")


def main():
    parser = argparse.ArgumentParser(description="compilations from a -XX:+LogCompilation file")
    parser.add_argument("file")
    parser.add_argument("--from", dest="start", type=float, default=0.0)
    parser.add_argument("--to", dest="end", type=float, default=float("inf"))
    parser.add_argument("--min-ms", type=float, default=0.0)
    parser.add_argument("--c1", action="store_true")
    parser.add_argument("--sort", action="store_true")
    args = parser.parse_args()
    try:
        with open(args.file, encoding="utf-8", errors="replace") as f:
            log = f.read()
    except OSError as e:
        sys.exit(f"compile_timeline: cannot read {args.file}: {e.strerror}")
    queued = {m.group(1): float(m.group(2)) for m in QUEUED.finditer(log)}
    rows = []
    for m in TASK.finditer(log):
        attrs, cid, done = m.group(1), m.group(2), float(m.group(4))
        level = LEVEL.search(attrs)
        tier = int(level.group(1)) if level else 4  # C2's tasks carry no level attribute
        if tier != 4 and not args.c1:
            continue
        start = float(STAMP.search(attrs).group(1))
        ms = (done - start) * 1000
        if done < args.start or start > args.end or ms < args.min_ms:
            continue
        method = html.unescape(METHOD.search(attrs).group(1)).split(" (")[0]
        osr = "OSR" if "compile_kind='osr'" in attrs else ""
        rows.append((start, queued.get(cid, start), done, ms, tier, osr, method))
    if not rows:
        print("no compilation matched (is the file a -XX:+LogCompilation log?)", file=sys.stderr)
        return
    rows.sort(key=(lambda r: -r[3]) if args.sort else (lambda r: r[0]))
    print(f"{'queued':>7} {'start':>7} {'done':>7} {'ms':>6} tier     method")
    for start, q, done, ms, tier, osr, method in rows:
        print(f"{q:7.3f} {start:7.3f} {done:7.3f} {ms:6.0f} {tier:>4} {osr:3} {method}")
    total = sum(r[3] for r in rows)
    print(f"{len(rows)} compilations, {total:.0f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
