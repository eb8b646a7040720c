#!/usr/bin/env python3
"""Summarizes the R-Drop study (tools/study/rdrop_grid.py's results file) as Markdown tables.

For each engine and cell (training-set size, dropout placement, drop probability), test accuracy on the
full 10,000-image Fashion-MNIST test set as mean +- sample standard deviation over the seeds (n = seeds):
- plain cross-entropy, R-Drop at each alpha (on both scales: alpha_mean is the KL averaged over the batch,
  alpha_sum = alpha_mean / 64 summed over it, the same loss on full batches of 64), and plain training for
  twice the epochs (the forward passes of an R-Drop run);
- R-Drop minus plain at equal epochs and at equal cost (the plain run with twice the epochs), with the
  differences' spread; a difference under two seed standard deviations is marked "needs 5 seeds" until it
  has them;
- Kiln against PyTorch, cell by cell: the two means agree when they differ by at most two pooled seed
  standard deviations, sqrt((sd_kiln^2 + sd_pytorch^2) / 2).

Usage: python3 tools/study/rdrop_analysis.py [--results bench-results/rdrop-study/results.jsonl] [--out FILE]
"""
import argparse
import json
import math
import os
from collections import defaultdict

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load(path):
    runs = []
    with open(path) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    return runs


def stats(values):
    n = len(values)
    if n == 0:
        return None
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else float("nan")
    return {"n": n, "mean": mean, "sd": sd}


def fmt(s, scale=100.0):
    if s is None:
        return ""
    if s["n"] == 1:
        return f"{scale * s['mean']:.2f} (n=1)"
    return f"{scale * s['mean']:.2f} ± {scale * s['sd']:.2f} (n={s['n']})"


def pooled_engines(table):
    """Adds an engine 'both' per cell whose seeds are (engine, seed) pairs of Kiln and PyTorch."""
    both = defaultdict(lambda: defaultdict(dict))
    for (engine, *rest), columns in table.items():
        for column, accs in columns.items():
            for seed, acc in accs.items():
                both[("both", *rest)][column][(engine, seed)] = acc
    table.update(both)


def cells(runs):
    """accuracies[(engine, n, at, p)][column] = {seed: accuracy}; column is ('plain', epochs), ('rdrop',
    alpha_mean, epochs) or ('plain', 2 * epochs)."""
    out = defaultdict(lambda: defaultdict(dict))
    for r in runs:
        cell = (r["engine"], r["train_samples"], r["dropout_at"], r["dropout"])
        alpha_mean = r["alpha_mean"] if "alpha_mean" in r else r["rdrop_alpha"] * 64
        column = ("plain", r["epochs"]) if alpha_mean == 0 else ("rdrop", alpha_mean, r["epochs"],
                                                                 r.get("kl_reduction", "sum"))
        out[cell][column][r["seed"]] = r["test_accuracy"]
    return out


def diff(a, b):
    """Mean and spread of a - b over the seeds both have (paired), and the unpaired difference of means."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    d = [a[s] - b[s] for s in seeds]
    return stats(d)


def readme_table(table, runs):
    """One row per (training images, dropout placement, p), one column per run kind: 'Kiln / PyTorch' means in %
    with the seed count, e.g. '79.5 / 79.4 (3+3)'."""
    base = min(r["epochs"] for r in runs)
    alphas = sorted({c[1] for cell in table.values() for c in cell if c[0] == "rdrop" and c[2] == base
                     and c[3] == "sum"})
    columns = [("plain", base)] + [("rdrop", am, base, "sum") for am in alphas] + [("plain", 2 * base)]
    names = [f"plain, {base} epochs"] + [f"R-Drop α_mean {am:g} (α_sum {am / 64:g})" for am in alphas]
    names += [f"plain, {2 * base} epochs (equal cost)"]
    lines = ["| training images | dropout | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for n, at, p in sorted({k[1:] for k in table}, key=lambda c: (c[0], c[1] != "head", c[2])):
        row = [f"{n:,}", ("before the classifier" if at == "head" else "after every block too") + f", p {p:g}"]
        for column in columns:
            parts = []
            counts = []
            for engine in ("kiln", "pytorch"):
                s = stats(list(table.get((engine, n, at, p), {}).get(column, {}).values()))
                parts.append(f"{100 * s['mean']:.1f}" if s else "–")
                counts.append(str(s["n"]) if s else "0")
            row.append(" / ".join(parts) + f" ({'+'.join(counts)})" if counts != ["0", "0"] else "")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(ROOT, "bench-results", "rdrop-study", "results.jsonl"))
    ap.add_argument("--out", default=None, help="also write the Markdown here")
    ap.add_argument("--readme", action="store_true",
                    help="print only the README's table: Kiln / PyTorch means per cell and run")
    a = ap.parse_args()
    runs = load(a.results)
    table = cells(runs)
    if a.readme:
        print(readme_table(table, runs))
        return
    pooled_engines(table)
    lines = [f"R-Drop study: {len(runs)} runs from {os.path.relpath(a.results, ROOT)}; test accuracy in % on the "
             "10,000 Fashion-MNIST test images, mean ± sample sd over seeds (n).", ""]
    base_epochs = min(r["epochs"] for r in runs)
    alphas = sorted({c[1] for cell in table.values() for c in cell if c[0] == "rdrop" and c[2] == base_epochs
                     and c[3] == "sum"})
    header = ["engine", "train images", "dropout at", "p", f"plain, {base_epochs} ep"]
    header += [f"R-Drop α_mean {am:g} (α_sum {am / 64:g})" for am in alphas]
    header += [f"plain, {2 * base_epochs} ep (equal cost)"]
    lines += ["## Accuracy per cell", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    keys = sorted(table, key=lambda k: (k[1], k[2] != "head", k[3], ["kiln", "pytorch", "both"].index(k[0])))
    for k in keys:
        c = table[k]
        if k[0] == "both":
            continue
        row = [k[0], f"{k[1]:,}", k[2], f"{k[3]:g}", fmt(stats(list(c.get(("plain", base_epochs), {}).values())))]
        row += [fmt(stats(list(c.get(("rdrop", am, base_epochs, "sum"), {}).values()))) for am in alphas]
        row += [fmt(stats(list(c.get(("plain", 2 * base_epochs), {}).values())))]
        lines.append("| " + " | ".join(row) + " |")

    lines += ["", "## R-Drop minus plain (points; paired by seed: mean ± sd of the differences)", "",
              "Equal epochs: against plain training for the same epochs. Equal cost: against plain training for "
              "twice the epochs (an R-Drop step runs the batch twice). A difference smaller than two seed "
              "standard deviations of the cells compared is marked (within noise). Engine 'both' pools the "
              "Kiln and PyTorch runs of a cell (each engine's seed paired with itself).", ""]
    header = ["engine", "train images", "dropout at", "p", "α_mean (α_sum)", "equal epochs", "equal cost"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    noisy = []
    for k in keys:
        c = table[k]
        plain = c.get(("plain", base_epochs), {})
        plain2 = c.get(("plain", 2 * base_epochs), {})
        for am in alphas:
            rd = c.get(("rdrop", am, base_epochs, "sum"), {})
            if not rd:
                continue
            cols = []
            for ref in (plain, plain2):
                d = diff(rd, ref)
                if d is None:
                    cols.append("")
                    continue
                s_rd, s_ref = stats(list(rd.values())), stats(list(ref.values()))
                sd = max(s_rd["sd"], s_ref["sd"]) if s_rd["n"] > 1 and s_ref["n"] > 1 else float("nan")
                within = not (abs(d["mean"]) >= 2 * sd) if not math.isnan(sd) else True
                text = (f"{100 * d['mean']:+.2f}" + (f" ± {100 * d['sd']:.2f}" if d["n"] > 1 else "")
                        + f" (n={d['n']})" + (" (within noise)" if within else ""))
                cols.append(text)
                if within and d["n"] < 5 and k[0] != "both":
                    noisy.append((k, am, "equal epochs" if ref is plain else "equal cost", d["n"]))
            lines.append("| " + " | ".join([k[0], f"{k[1]:,}", k[2], f"{k[3]:g}", f"{am:g} ({am / 64:g})"]
                                           + cols) + " |")
    if noisy:
        lines += ["", "Differences within two seed standard deviations with fewer than 5 seeds (candidates for "
                  "seeds 4 and 5): " + "; ".join(f"{k[0]} n={k[1]} {k[2]} p={k[3]:g} α_mean {am:g} ({what}, "
                                                  f"{n} seeds)" for k, am, what, n in noisy) + "."]

    checks = []
    for k in keys:
        for column, accs in table[k].items():
            if k[0] != "both" and column[0] == "rdrop" and column[3] != "sum":
                same = table[k].get(("rdrop", column[1], column[2], "sum"), {})
                d = diff(accs, same)
                if d:
                    checks.append(f"| {k[0]} | {k[1]:,} | {k[2]} | {k[3]:g} | {column[1]:g} | {fmt(stats(list(same.values())))} "
                                  f"| {fmt(stats(list(accs.values())))} | {100 * d['mean']:+.2f} |")
    if checks:
        lines += ["", "## KL summed with α_sum = α_mean / 64 against KL averaged with α_mean", "",
                  "The same loss on full batches of 64; they differ on each epoch's last, partial batch only.", "",
                  "| engine | train images | dropout at | p | α_mean | sum | batchmean | batchmean - sum |",
                  "|---|---|---|---|---|---|---|---|"] + checks

    lines += ["", "## Kiln against PyTorch, cell by cell", "",
              "Agree: |mean_kiln - mean_pytorch| <= 2 sqrt((sd_kiln² + sd_pytorch²) / 2).", ""]
    header = ["train images", "dropout at", "p", "run", "Kiln", "PyTorch", "difference", "agree"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    agree = total = 0
    for k in keys:
        if k[0] != "kiln":
            continue
        other = table.get(("pytorch",) + k[1:])
        if other is None:
            continue
        for column in sorted(table[k], key=str):
            if column not in other:
                continue
            sk, st = stats(list(table[k][column].values())), stats(list(other[column].values()))
            if sk["n"] < 2 or st["n"] < 2:
                continue
            pooled = math.sqrt((sk["sd"] ** 2 + st["sd"] ** 2) / 2)
            ok = abs(sk["mean"] - st["mean"]) <= 2 * pooled
            agree += ok
            total += 1
            name = (f"plain, {column[1]} ep" if column[0] == "plain"
                    else f"R-Drop α_mean {column[1]:g}, {column[2]} ep" + (f", {column[3]}" if column[3] != "sum" else ""))
            lines.append("| " + " | ".join([f"{k[1]:,}", k[2], f"{k[3]:g}", name, fmt(sk), fmt(st),
                                            f"{100 * (sk['mean'] - st['mean']):+.2f}", "yes" if ok else "NO"]) + " |")
    lines += ["", f"{agree} of {total} cells with at least 2 seeds in both engines agree."]

    times = defaultdict(list)
    for r in runs:
        times[(r["engine"], r["train_samples"], r["dropout_at"], "rdrop" if r.get("alpha_mean", 0) > 0 else "plain",
               r["epochs"])].append(r)
    lines += ["", "## Time per run (median; wall includes start-up and the final test pass)", "",
              "| engine | train images | dropout at | kind | epochs | runs | wall s | CPU s | training s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for k in sorted(times):
        rs = times[k]

        def median(xs):
            xs = sorted(x for x in xs if x is not None)
            return xs[len(xs) // 2] if xs else float("nan")
        lines.append(f"| {k[0]} | {k[1]:,} | {k[2]} | {k[3]} | {k[4]} | {len(rs)} | "
                     f"{median([r['wall_seconds'] for r in rs]):.0f} | {median([r.get('cpu_seconds') for r in rs]):.0f} | "
                     f"{median([r['train_seconds'] for r in rs]):.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
