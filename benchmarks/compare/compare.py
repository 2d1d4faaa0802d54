#!/usr/bin/python3
"""xtnn side by side with PyTorch on the MNIST MLP (784-128-10, relu, Adam 1e-3, softmax
cross-entropy): one epoch of 60,000 samples at batch 32 and 128, inference at batch 1000 and
single-sample latency, with 1 and 2 threads, each library run back to back on the same data;
with --model cnn the Keras convnet, on the first 6,000 samples as (N, 1, 28, 28) images;
with --model resnet18 torchvision's resnet18 (SGD steps at batch 8 on 64 x 64 images,
inference at batch 1 and 8 on 64 x 64 and 224 x 224; --batches is not used):

    benchmarks/compare/compare.py [--build build/bench] [--threads 1 2] [--batches 32 128]
                                  [--repeats 3] [--rounds 3] [--model mlp|cnn|resnet18]

xtnn's side is build/bench/benchmarks/xtnn_compare (cmake --preset bench && cmake --build
--preset bench --target xtnn_compare); PyTorch's is torch_compare.py under /usr/bin/python3
(Debian's python3-torch). Both get OPENBLAS_NUM_THREADS, PyTorch also torch.set_num_threads.
benchmarks/run.sh builds everything and writes benchmarks/RESULTS.md with these tables.

PyTorch is compared at its best: glibc's malloc hands its freed buffers back to the kernel,
so every call page-faults them in again; PyTorch's CPU tuning guide swaps the allocator, and
here the environment keeps them (MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ at 1 GiB).
Each round runs PyTorch that way with torch.set_flush_denormal on and off (off is faster for
convolutions on some CPUs, on for Adam's denormal moments) and keeps the faster figure of
each task; it also runs PyTorch as installed (flush-denormal on, glibc's defaults), reported
beside it.
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


# glibc's malloc keeps freed memory instead of returning it to the kernel (PyTorch at its
# best; xtnn allocates nothing once warm, so it does not matter there).
KEEP_MEMORY = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def run(command, threads, extra_env=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env.update(extra_env or {})
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
        if model == "resnet18":
            rows += rounds_of(binary, ["--model", model, "--repeats", str(repeats)], threads,
                              rounds, f"compare: resnet18, {threads} thread(s)")
            continue
        for batch in batches:
            train_samples, calls = SIZES[model]
            common = ["--data", data, "--batch", str(batch), "--repeats", str(repeats),
                      "--model", model, "--train-samples", str(train_samples),
                      "--latency-calls", str(calls)]
            rows += rounds_of(binary, common, threads, rounds,
                              f"compare: {model}, {threads} thread(s), batch {batch}")
    return rows


def rounds_of(binary, common, threads, rounds, label):
    """`rounds` rounds of xtnn, PyTorch as installed and PyTorch at its best, with the
    arguments `common`; each row tagged with its round."""
    rows = []
    for r in range(rounds):
        tag = f"{label}, round {r + 1}/{rounds}"
        print(f"{tag}: xtnn …", file=sys.stderr)
        measured = run([binary] + common, threads)
        torch_run = ["/usr/bin/python3", os.path.join(HERE, "torch_compare.py"),
                     "--threads", str(threads)] + common
        print(f"{tag}: PyTorch as installed …", file=sys.stderr)
        measured += run(torch_run + ["--label", "pytorch-installed"], threads)
        tuned = []
        for flush in ("on", "off"):
            print(f"{tag}: PyTorch, allocator kept, flush-denormal {flush} …", file=sys.stderr)
            tuned += run(torch_run + ["--flush-denormal", flush], threads, KEEP_MEMORY)
        measured += best(tuned)
        for row in measured:
            row["round"] = str(r)
        rows += measured
    return rows


def best(rows):
    """Of several runs' rows, the best figure of each task and batch: the most samples per
    second, the fewest microseconds."""
    kept = {}
    for row in rows:
        key = (row["task"], row["batch"], row.get("side"))
        if "samples_per_s" in row:
            better = float(row["samples_per_s"]) > float(kept.get(key, {}).get(
                "samples_per_s", "-inf"))
        else:
            better = float(row["microseconds"]) < float(kept.get(key, {}).get(
                "microseconds", "inf"))
        if better:
            kept[key] = row
    return list(kept.values())


def values(rows, library, task, threads, batch=None, side=None):
    """{round: figure} of one measurement (inference is measured once per batch: median)."""
    by_round = {}
    for r in rows:
        if (r["library"] == library and r["task"] == task and int(r["threads"]) == threads and
                (batch is None or int(r["batch"]) == batch) and
                (side is None or int(r["side"]) == side)):
            by_round.setdefault(r["round"], []).append(
                float(r.get("samples_per_s", r.get("microseconds"))))
    return {k: median(v) for k, v in by_round.items()}


def median(v):
    v = sorted(v)
    if not v:
        return float("nan")
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def pair(rows, task, threads, batch=None, faster=lambda x, t: x / t, side=None):
    """Medians over the rounds of xtnn, PyTorch, and their per-round ratio, with its range."""
    x = values(rows, "xtnn", task, threads, batch, side)
    t = values(rows, "pytorch", task, threads, batch, side)
    ratios = [faster(x[k], t[k]) for k in x if k in t]
    return median(list(x.values())), median(list(t.values())), median(ratios), ratios


def spread(ratios):
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else "-"


def installed(rows, task, threads, batch=None, faster=lambda x, t: x / t, side=None):
    """xtnn against PyTorch as installed: the median over the rounds of the per-round ratio."""
    return pair([r for r in rows if r["library"] != "pytorch"] +
                [dict(r, library="pytorch") for r in rows
                 if r["library"] == "pytorch-installed"], task, threads, batch, faster, side)


# resnet18's measurements: (task, batch, side).
RESNET18 = [("train", 8, 64), ("infer", 1, 64), ("infer", 8, 64), ("infer", 1, 224),
            ("infer", 8, 224)]


def resnet18_table(rows, threads_list):
    """resnet18's results as one Markdown table."""
    out = ["| threads | task | batch | images | xtnn samples/s | PyTorch at its best, "
           "samples/s | xtnn / PyTorch | range over rounds | PyTorch as installed: samples/s, "
           "ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for threads in threads_list:
        for task, batch, side in RESNET18:
            x, t, ratio, ratios = pair(rows, task, threads, batch, side=side)
            _, ti, ri, _ = installed(rows, task, threads, batch, side=side)
            name = "SGD step" if task == "train" else "inference"
            out.append(f"| {threads} | {name} | {batch} | {side}² | {x:,.1f} | {t:,.1f} | "
                       f"**{ratio:.2f}×** | {spread(ratios)} | {ti:,.1f}, {ri:.2f}× |")
    return "\n".join(out)


def tables(rows, threads_list, batches):
    """The results as Markdown tables: against PyTorch at its best, and as installed."""
    out = ["| threads | batch | xtnn samples/s | PyTorch at its best, samples/s | "
           "xtnn / PyTorch | range over rounds | PyTorch as installed: samples/s, ratio |",
           "|---|---|---|---|---|---|---|"]
    for threads in threads_list:
        for batch in batches:
            x, t, ratio, ratios = pair(rows, "train", threads, batch)
            _, ti, ri, _ = installed(rows, "train", threads, batch)
            out.append(f"| {threads} | {batch} | {x:,.0f} | {t:,.0f} | **{ratio:.2f}×** | "
                       f"{spread(ratios)} | {ti:,.0f}, {ri:.2f}× |")
    out += ["", "| threads | xtnn | PyTorch at its best | xtnn / PyTorch | range over rounds | "
            "PyTorch as installed, ratio |", "|---|---|---|---|---|---|"]
    for threads in threads_list:
        x, t, ratio, ratios = pair(rows, "infer", threads)
        _, ti, ri, _ = installed(rows, "infer", threads)
        out.append(f"| {threads} | {x:,.0f} samples/s | {t:,.0f} samples/s | "
                   f"**{ratio:.2f}×** | {spread(ratios)} | {ti:,.0f} samples/s, {ri:.2f}× |")
    for threads in threads_list:
        faster = lambda x, t: t / x  # noqa: E731
        x, t, ratio, ratios = pair(rows, "latency", threads, faster=faster)
        _, ti, ri, _ = installed(rows, "latency", threads, faster=faster)
        out.append(f"| {threads} | {x:.2f} µs | {t:.2f} µs | **{ratio:.2f}× faster** | "
                   f"{spread(ratios)} | {ti:.2f} µs, {ri:.2f}× |")
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
    parser.add_argument("--model", choices=["mlp", "cnn", "resnet18"], default="mlp")
    args = parser.parse_args()
    data = args.data or os.path.join(args.build, "compare-data")
    rows = measure(args.build, data, args.threads, args.batches, args.repeats, args.rounds,
                   args.model)
    if args.model == "resnet18":
        print(f"torchvision's resnet18, random weights ({args.rounds} rounds, each the median "
              f"of {args.repeats} runs per library; medians over the rounds):\n")
        print(resnet18_table(rows, args.threads))
        return
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
