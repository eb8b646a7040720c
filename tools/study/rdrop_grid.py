#!/usr/bin/env python3
"""The R-Drop study grid: trains the sample network on a Fashion-MNIST subset in Kiln (kiln-cli train) or in
PyTorch (tools/recipe/repvgg_recipe.py), same network, recipe and seeds, and appends one JSON line per
finished run to a results file. Resumable: a run whose options are already in the results file is skipped,
so the same command continues an interrupted grid.

Run one process per engine, each on one core (`--threads 1` / `torch.set_num_threads(1)`), niced:

  nice -n 15 /usr/bin/python3 tools/study/rdrop_grid.py --engine pytorch &
  nice -n 15 /usr/bin/python3 tools/study/rdrop_grid.py --engine kiln &

The Kiln half runs a private copy of samples/cli/target/kiln-cli.jar (build it first with
`mvn -q -DskipTests package`), so rebuilding the jar does not disturb a running grid. The R-Drop runs use the
KL summed over the batch (--kl-reduction sum, the networks' @RDrop) with alpha_sum = alpha_mean / 64: with
full batches of 64 that is the batch-mean loss at alpha_mean, bit for bit (the last, partial batch of an
epoch is the exception: its KL weight per sample is alpha_sum, not alpha_mean / its size).

Every run evaluates the full 10,000-image test set once, after training. Each line records the engine, all
options, the seed, the test accuracy, the wall time, the child's CPU time (which a SIGSTOP pause does not
inflate) and the engine's own training time. The driver and its running child are listed, one pid per line,
in --pids (default /work/rdrop-grid.pids), so `kill -STOP $(cat /work/rdrop-grid.pids)` pauses the grid and
`kill -CONT ...` resumes it; nothing here times out.

Grid (defaults): training subset 1,000 images, 30 epochs, dropout at head/blocks, p 0.3/0.5, alpha_mean
0 / 1 / 0.25, plus plain training for twice the epochs (the forward passes of an R-Drop run), seeds 1-3.
The runs are ordered cell by cell, the cell where R-Drop has most to work with (dropout after every block,
p 0.5) first and today's network (head, p 0.3) third, so a partial grid has whole cells with all seeds.
"""
import argparse
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RECIPE = os.path.join(ROOT, "tools", "recipe", "repvgg_recipe.py")
JAR = os.path.join(ROOT, "samples", "cli", "target", "kiln-cli.jar")
BATCH = 64
LR = 0.05
KEY_FIELDS = ("engine", "dataset", "train_samples", "epochs", "dropout_at", "dropout", "kl_reduction",
              "rdrop_alpha", "seed")

child = None  # the running training process


def plan(a):
    """The runs, in the order they run: cell by cell (in --cells order), seed by seed within a cell, and for
    each seed the first two alphas, the equal-cost plain run, then the other alphas."""
    runs = []
    for n in a.train_samples:
        for cell in a.cells:
            at, p = cell.split(":")
            for seed in a.seeds:
                specs = [run_spec(a, n, a.epochs, at, float(p), alpha_mean, seed) for alpha_mean in a.alpha_mean]
                if a.equal_cost:
                    specs.insert(2, run_spec(a, n, 2 * a.epochs, at, float(p), 0.0, seed))
                runs += specs
    return runs


def run_spec(a, n, epochs, at, p, alpha_mean, seed):
    if a.kl_reduction == "sum":
        alpha = alpha_mean / BATCH
    else:
        alpha = alpha_mean
    return {"engine": a.engine, "dataset": "fashion-mnist", "train_samples": n, "epochs": epochs,
            "dropout_at": at, "dropout": p, "kl_reduction": a.kl_reduction, "rdrop_alpha": alpha, "seed": seed,
            "alpha_mean": alpha_mean, "alpha_sum": alpha_mean / BATCH,
            "kind": "rdrop" if alpha_mean > 0 else ("plain" if epochs == a.epochs else "plain-equal-cost")}


def key(r):
    return tuple(repr(float(r[k])) if isinstance(r[k], float) else r[k] for k in KEY_FIELDS)


def done_keys(path):
    keys = set()
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    keys.add(key(json.loads(line)))
    return keys


def write_pids(path, engine, pids):
    """Keeps one line per running pid; this engine's pids replace its earlier ones (a side file maps them)."""
    with open(path + ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        owners = {}
        if os.path.exists(path + ".owners"):
            with open(path + ".owners") as f:
                owners = json.load(f)
        owners[engine] = [pid for pid in pids if pid]
        owners = {e: [pid for pid in ps if alive(pid)] for e, ps in owners.items()}
        atomic_write(path + ".owners", json.dumps(owners))
        atomic_write(path, "".join(f"{pid}\n" for ps in owners.values() for pid in ps))


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def command(r, work, jar, threads):
    if r["engine"] == "kiln":
        return ["java", "--add-modules", "jdk.incubator.vector", "-jar", jar, "train", "--dataset", r["dataset"],
                "--train-samples", str(r["train_samples"]), "--epochs", str(r["epochs"]),
                "--dropout-at", r["dropout_at"], "--dropout", repr(r["dropout"]),
                "--rdrop-alpha", repr(r["rdrop_alpha"]), "--kl-reduction", r["kl_reduction"],
                "--seed", str(r["seed"]), "--threads", str(threads), "-q", "--final-test-only",
                "--out", os.path.join(work, "model.safetensors"), "--report", os.path.join(work, "report.json"),
                "--plot", os.path.join(work, "curve.svg"), "--checkpoint", os.path.join(work, "ckpt.safetensors")]
    return [sys.executable if sys.executable else "/usr/bin/python3", RECIPE, "--dataset", r["dataset"],
            "--train-samples", str(r["train_samples"]), "--epochs", str(r["epochs"]),
            "--dropout-at", r["dropout_at"], "--dropout", repr(r["dropout"]),
            "--rdrop-alpha", repr(r["rdrop_alpha"]), "--kl-reduction", r["kl_reduction"],
            "--seeds", str(r["seed"]), "--threads", str(threads)]


def execute(r, work, jar, a):
    """Runs one training process; returns the result fields, or None if it failed."""
    global child
    cmd = command(r, work, jar, a.threads)
    start = time.time()
    with open(os.path.join(work, "stdout.txt"), "w") as out, open(os.path.join(work, "stderr.txt"), "w") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        write_pids(a.pids, r["engine"], [os.getpid(), child.pid])
        while True:
            try:
                _, status, usage = os.wait4(child.pid, 0)
                break
            except ChildProcessError:
                status, usage = None, None
                break
            except InterruptedError:
                continue
    wall = time.time() - start
    code = os.waitstatus_to_exitcode(status) if status is not None else -1
    child.returncode = code
    child = None
    write_pids(a.pids, r["engine"], [os.getpid()])
    stdout = open(os.path.join(work, "stdout.txt")).read()
    if code != 0:
        print(f"run failed (exit {code}): {' '.join(cmd)}\n{stdout[-2000:]}"
              f"{open(os.path.join(work, 'stderr.txt')).read()[-2000:]}", file=sys.stderr, flush=True)
        return None
    fields = {"wall_seconds": round(wall, 2),
              "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2) if usage else None}
    if r["engine"] == "kiln":
        with open(os.path.join(work, "report.json")) as f:
            rep = json.load(f)
        fields.update({"test_accuracy": rep["test_accuracy"], "fused_test_accuracy": rep["fused_test_accuracy"],
                       "test_samples": rep["test_samples"], "train_seconds": round(rep["train_seconds"], 2),
                       "engine_version": "kiln " + rep["kiln_version"], "model": rep["model"],
                       "check_train_samples": rep["train_samples"], "check_dropout": rep["dropout"]})
    else:
        summary = json.loads(stdout.strip().splitlines()[-1])
        fields.update({"test_accuracy": summary["test_accuracy"][0], "test_samples": 10000,
                       "train_seconds": round(summary["train_seconds"][0], 2),
                       "engine_version": "torch " + summary["torch"]})
    return fields


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_head():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def stop(signum, frame):
    if child is not None and child.returncode is None:
        child.terminate()
    sys.exit(128 + signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", required=True, choices=["kiln", "pytorch"])
    ap.add_argument("--results", default=os.path.join(ROOT, "bench-results", "rdrop-study", "results.jsonl"))
    ap.add_argument("--pids", default="/work/rdrop-grid.pids")
    ap.add_argument("--jar", default=JAR, help="kiln-cli.jar to copy and run (default: the worktree's build)")
    ap.add_argument("--train-samples", type=int, nargs="+", default=[1000])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--cells", nargs="+", default=["blocks:0.5", "blocks:0.3", "head:0.3", "head:0.5"],
                    metavar="WHERE:P", help="dropout placement (head or blocks) and probability of each cell, "
                    "in the order they run")
    ap.add_argument("--alpha-mean", type=float, nargs="+", default=[0.0, 1.0, 0.25],
                    help="R-Drop alphas on the batch-mean scale (0: plain cross-entropy), in the order they run")
    ap.add_argument("--kl-reduction", default="sum", choices=["sum", "batchmean"],
                    help="the reduction the runs use (sum: alpha_sum = alpha_mean / 64)")
    ap.add_argument("--no-equal-cost", dest="equal_cost", action="store_false",
                    help="leave out plain training for twice the epochs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-runs", type=int, default=None, help="stop after this many new runs")
    ap.add_argument("--dry-run", action="store_true", help="list the runs still to do and exit")
    a = ap.parse_args()

    runs = plan(a)
    done = done_keys(a.results)
    todo = [r for r in runs if key(r) not in done]
    print(f"{a.engine}: {len(runs)} runs in the grid, {len(runs) - len(todo)} already in {a.results}, "
          f"{len(todo)} to do", flush=True)
    if a.dry_run:
        for r in todo:
            print(json.dumps(r))
        return
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    os.makedirs(os.path.dirname(os.path.abspath(a.results)), exist_ok=True)
    work = tempfile.mkdtemp(prefix=f"rdrop-grid-{a.engine}-")
    jar = None
    provenance = {"git": git_head()}
    if a.engine == "kiln":
        jar = os.path.join(work, "kiln-cli.jar")
        shutil.copyfile(a.jar, jar)
        provenance["kiln_jar_sha256"] = sha256(jar)[:16]
    write_pids(a.pids, a.engine, [os.getpid()])
    try:
        for i, r in enumerate(todo[:a.max_runs] if a.max_runs else todo):
            load = os.getloadavg()[0]
            fields = execute(r, work, jar, a)
            if fields is None:
                continue
            line = dict(r, threads=a.threads, batch_size=BATCH, lr=LR, **fields, load_at_start=round(load, 2),
                        finished=time.strftime("%Y-%m-%dT%H:%M:%S"), **provenance)
            with open(a.results, "a") as f:
                f.write(json.dumps(line) + "\n")
                f.flush()
                os.fsync(f.fileno())
            print(f"[{i + 1}/{len(todo)}] {r['engine']} n={r['train_samples']} {r['dropout_at']} p={r['dropout']} "
                  f"alpha_mean={r['alpha_mean']} epochs={r['epochs']} seed={r['seed']}: "
                  f"{fields['test_accuracy']:.4f} in {fields['wall_seconds']:.0f}s", flush=True)
    finally:
        write_pids(a.pids, a.engine, [])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
