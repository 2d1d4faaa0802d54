#!/usr/bin/python3
"""xtnn side by side with PyTorch on the MNIST MLP (784-128-10, relu, Adam 1e-3, softmax
cross-entropy): one epoch of 60,000 samples at batch 32 and 128, inference at batch 1000 and
single-sample latency, with 1 and 2 threads, each library run back to back on the same data:

    benchmarks/compare/compare.py [--build build/bench] [--threads 1 2] [--batches 32 128]

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


def measure(build, data, threads_list, batches, repeats):
    """Every measurement, as dicts with library, task, batch, threads and the figures."""
    binary = os.path.join(build, "benchmarks", "xtnn_compare")
    if not os.path.exists(os.path.join(data, "images.idx")):
        subprocess.run([binary, "--make-data", data], check=True, stdout=subprocess.DEVNULL)
    rows = []
    for threads in threads_list:
        for batch in batches:
            common = ["--data", data, "--batch", str(batch), "--repeats", str(repeats)]
            print(f"compare: {threads} thread(s), batch {batch}: xtnn …", file=sys.stderr)
            rows += run([binary] + common, threads)
            print(f"compare: {threads} thread(s), batch {batch}: PyTorch …", file=sys.stderr)
            rows += run(["/usr/bin/python3", os.path.join(HERE, "torch_compare.py"),
                         "--threads", str(threads)] + common, threads)
    return rows


def find(rows, library, task, threads, batch=None):
    """The median over the runs that measured this (inference is measured once per batch)."""
    values = [float(r.get("samples_per_s", r.get("microseconds"))) for r in rows
              if r["library"] == library and r["task"] == task and
              int(r["threads"]) == threads and (batch is None or int(r["batch"]) == batch)]
    values.sort()
    return values[len(values) // 2] if values else float("nan")


def tables(rows, threads_list, batches):
    """The results as Markdown tables."""
    out = ["| threads | batch | xtnn samples/s | PyTorch samples/s | xtnn / PyTorch |",
           "|---|---|---|---|---|"]
    for threads in threads_list:
        for batch in batches:
            x = find(rows, "xtnn", "train", threads, batch)
            t = find(rows, "pytorch", "train", threads, batch)
            out.append(f"| {threads} | {batch} | {x:,.0f} | {t:,.0f} | **{x / t:.2f}×** |")
    out += ["", "| threads | xtnn | PyTorch | xtnn / PyTorch |", "|---|---|---|---|"]
    for threads in threads_list:
        x = find(rows, "xtnn", "infer", threads)
        t = find(rows, "pytorch", "infer", threads)
        out.append(f"| {threads} | {x:,.0f} samples/s | {t:,.0f} samples/s | **{x / t:.2f}×** |")
    for threads in threads_list:
        x = find(rows, "xtnn", "latency", threads)
        t = find(rows, "pytorch", "latency", threads)
        out.append(f"| {threads} | {x:.2f} µs | {t:.2f} µs | **{t / x:.2f}× faster** |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--data", help="default: BUILD/compare-data (made on first use)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = args.data or os.path.join(args.build, "compare-data")
    rows = measure(args.build, data, args.threads, args.batches, args.repeats)
    print("Training, one epoch of 60,000 samples (median of "
          f"{args.repeats} epochs):\n")
    text = tables(rows, args.threads, args.batches)
    train, rest = text.split("\n\n", 1)
    print(train)
    print("\nInference: batch 1000 over the 60,000 samples, then one sample at a time "
          "(median latency):\n")
    print(rest)


if __name__ == "__main__":
    main()
