#!/usr/bin/python3
"""xtnn side by side with PyTorch on the MNIST MLP (784-128-10, relu, Adam 1e-3, softmax
cross-entropy): one epoch of 60,000 samples at batch 32 and 128, inference at batch 1000 and
single-sample latency, with 1 and 2 threads, each library run back to back on the same data;
with --model cnn the Keras convnet, on the first 6,000 samples as (N, 1, 28, 28) images:

    benchmarks/compare/compare.py [--build build/bench] [--threads 1 2] [--batches 32 128]
                                  [--repeats 3] [--rounds 3] [--model mlp|cnn]

xtnn's side is build/bench/benchmarks/xtnn_compare (cmake --preset bench && cmake --build
--preset bench --target xtnn_compare); PyTorch's is torch_compare.py under /usr/bin/python3
(Debian's python3-torch). Both get OPENBLAS_NUM_THREADS, PyTorch also torch.set_num_threads.
benchmarks/run.sh builds everything and writes benchmarks/RESULTS.md with these tables.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def parse(output):
    rows = []
    for line in output.splitlines():
        if line.startswith("library="):
            rows.append(dict(item.split("=", 1) for item in line.split()))
    return rows


def run(command, threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare: {' '.join(command)} failed:\n{done.stderr}")
    return parse(done.stdout)


# Samples per training epoch and single-sample calls timed, per model: the convnet's epoch
# is ~50x the MLP's work per sample.
SIZES = {"mlp": (0, 20000), "cnn": (6000, 2000)}


def measure(build, data, threads_list, batches, repeats, rounds=3, model="mlp"):
    """Every measurement, as dicts with library, task, batch, threads, round and the figures.

    For each thread count and batch, `rounds` rounds each run xtnn and then PyTorch (each
    timing `repeats` epochs): pairs measured seconds apart see the same background load, and
    the per-round ratios show how far that load moved the result."""
    binary = os.path.join(build, "benchmarks", "xtnn_compare")
    if not os.path.exists(os.path.join(data, "images.idx")):
        subprocess.run([binary, "--make-data", data], check=True, stdout=subprocess.DEVNULL)
    rows = []
    for threads in threads_list:
        for batch in batches:
            train_samples, calls = SIZES[model]
            common = ["--data", data, "--batch", str(batch), "--repeats", str(repeats),
                      "--model", model, "--train-samples", str(train_samples),
                      "--latency-calls", str(calls)]
            for r in range(rounds):
                tag = (f"compare: {model}, {threads} thread(s), batch {batch}, "
                       f"round {r + 1}/{rounds}")
                print(f"{tag}: xtnn …", file=sys.stderr)
                measured = run([binary] + common, threads)
                print(f"{tag}: PyTorch …", file=sys.stderr)
                measured += run(["/usr/bin/python3", os.path.join(HERE, "torch_compare.py"),
                                 "--threads", str(threads)] + common, threads)
                for row in measured:
                    row["round"] = str(r)
                rows += measured
    return rows


def values(rows, library, task, threads, batch=None):
    """{round: figure} of one measurement (inference is measured once per batch: median)."""
    by_round = {}
    for r in rows:
        if (r["library"] == library and r["task"] == task and int(r["threads"]) == threads and
                (batch is None or int(r["batch"]) == batch)):
            by_round.setdefault(r["round"], []).append(
                float(r.get("samples_per_s", r.get("microseconds"))))
    return {k: median(v) for k, v in by_round.items()}


def median(v):
    v = sorted(v)
    if not v:
        return float("nan")
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def pair(rows, task, threads, batch=None, faster=lambda x, t: x / t):
    """Medians over the rounds of xtnn, PyTorch, and their per-round ratio, with its range."""
    x = values(rows, "xtnn", task, threads, batch)
    t = values(rows, "pytorch", task, threads, batch)
    ratios = [faster(x[k], t[k]) for k in x if k in t]
    return median(list(x.values())), median(list(t.values())), median(ratios), ratios


def spread(ratios):
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else "-"


def tables(rows, threads_list, batches):
    """The results as Markdown tables."""
    out = ["| threads | batch | xtnn samples/s | PyTorch samples/s | xtnn / PyTorch | "
           "range over rounds |", "|---|---|---|---|---|---|"]
    for threads in threads_list:
        for batch in batches:
            x, t, ratio, ratios = pair(rows, "train", threads, batch)
            out.append(f"| {threads} | {batch} | {x:,.0f} | {t:,.0f} | **{ratio:.2f}×** | "
                       f"{spread(ratios)} |")
    out += ["", "| threads | xtnn | PyTorch | xtnn / PyTorch | range over rounds |",
            "|---|---|---|---|---|"]
    for threads in threads_list:
        x, t, ratio, ratios = pair(rows, "infer", threads)
        out.append(f"| {threads} | {x:,.0f} samples/s | {t:,.0f} samples/s | "
                   f"**{ratio:.2f}×** | {spread(ratios)} |")
    for threads in threads_list:
        x, t, ratio, ratios = pair(rows, "latency", threads, faster=lambda x, t: t / x)
        out.append(f"| {threads} | {x:.2f} µs | {t:.2f} µs | **{ratio:.2f}× faster** | "
                   f"{spread(ratios)} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--data", help="default: BUILD/compare-data (made on first use)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each library, alternating xtnn and PyTorch")
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    args = parser.parse_args()
    data = args.data or os.path.join(args.build, "compare-data")
    rows = measure(args.build, data, args.threads, args.batches, args.repeats, args.rounds,
                   args.model)
    samples = SIZES[args.model][0] or 60000
    print(f"Training the {args.model}, one epoch of {samples:,} samples ({args.rounds} rounds, "
          f"each the median of {args.repeats} epochs per library; medians over the rounds):\n")
    text = tables(rows, args.threads, args.batches)
    train, rest = text.split("\n\n", 1)
    print(train)
    print(f"\nInference: batch 1000 over the {samples:,} samples, then one sample at a time "
          "(median latency):\n")
    print(rest)


if __name__ == "__main__":
    main()
