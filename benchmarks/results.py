#!/usr/bin/python3
"""Writes benchmarks/RESULTS.md: runs every microbenchmark (single thread, medians of
repetitions), the side-by-side comparison with PyTorch (benchmarks/compare) and the compile
times (benchmarks/compile), and formats the tables. Never edit RESULTS.md by hand; run benchmarks/run.sh (which builds first).

    benchmarks/results.py [--build build/bench] [--repetitions 15] [--output benchmarks/RESULTS.md]
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "compare"))
sys.path.insert(0, os.path.join(HERE, "compile"))
import compare  # noqa: E402
import compile_time  # noqa: E402

BINARIES = ["xtnn_bench_training_step", "xtnn_bench_dense", "xtnn_bench_activations",
            "xtnn_bench_losses", "xtnn_bench_optimizers", "xtnn_bench_conv2d", "xtnn_bench_cnn",
            "xtnn_bench_threads"]


def run_benchmark(build, name, repetitions):
    """{run name: median row} of one Google Benchmark binary, one BLAS thread."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    command = [os.path.join(build, "benchmarks", name), "--benchmark_format=json",
               f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true",
               # Many short repetitions rather than a few long ones: medians then shrug off
               # the seconds-long bursts of load this shared machine sees.
               "--benchmark_min_time=0.1",
               # Repetitions of all benchmarks in random order: a burst of the neighbour's
               # load then spreads over them instead of sinking one.
               "--benchmark_enable_random_interleaving=true"]
    print(f"results: {name} …", file=sys.stderr)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    rows = json.loads(done.stdout)["benchmarks"]
    medians = {r["run_name"]: r for r in rows if r.get("aggregate_name") == "median"}
    # Interleaved runs report in random order: list them in the binary's own order.
    listed = subprocess.run(command[:1] + ["--benchmark_list_tests=true"], env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    return {name: medians[name] for name in listed if name in medians}


def machine(build):
    lines = []
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = open("/proc/cpuinfo").read()
    simd = "AVX-512" if " avx512f" in flags else ("AVX2" if " avx2" in flags else "SSE")
    info = subprocess.run([os.path.join(build, "benchmarks", "xtnn_compare"), "--info"],
                          capture_output=True, text=True).stdout
    blas = dict(line.split("=", 1) for line in info.splitlines() if "=" in line)
    compiler = subprocess.run(["c++", "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
    torch = subprocess.run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"],
                           capture_output=True, text=True).stdout.strip() or "not installed"
    lines.append(f"| CPU | {cpu}, {os.cpu_count()} logical cores, {simd} |")
    lines.append(f"| OpenBLAS | {blas.get('openblas_config', '?')}; kernel "
                 f"{blas.get('openblas_corename', '?')} |")
    lines.append(f"| compiler | {compiler}, `-O3 -march=native` (preset bench) |")
    lines.append(f"| PyTorch | {torch} (Debian python3-torch, /usr/bin/python3) |")
    lines.append(f"| OS | {platform.platform()} |")
    lines.append(f"| measured | {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC |")
    return "\n".join(lines)


def microseconds(row):
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[row["time_unit"]]
    return row["real_time"] * scale


def per_second(row):
    return row.get("items_per_second", 0.0)


def fmt(value, digits=0):
    return f"{value:,.{digits}f}"


def step_table(b):
    out = ["| batch | step: samples/s | GFLOP/s | ceiling (5 sgemm alone): samples/s | "
           "step / ceiling |", "|---|---|---|---|---|"]
    for batch in (1, 32, 128, 256):
        step = b[f"mlp_training_step/batch:{batch}"]
        ceiling = b[f"mlp_sgemm_ceiling/batch:{batch}"]
        out.append(f"| {batch} | {fmt(per_second(step))} | {step['GFLOP/s']:.1f} | "
                   f"{fmt(per_second(ceiling))} | **{per_second(step) / per_second(ceiling):.0%}** |")
    out += ["", "| | batch | samples/s | GFLOP/s |", "|---|---|---|---|"]
    for batch in (32, 128):
        fit = b[f"mlp_fit_epoch/batch:{batch}"]
        step = b[f"mlp_training_step/batch:{batch}"]
        out.append(f"| `trainer::fit`, one epoch of 8,192 (vs the bare step: "
                   f"{per_second(fit) / per_second(step):.0%}) | {batch} | "
                   f"{fmt(per_second(fit))} | {fit['GFLOP/s']:.1f} |")
    for batch in (32, 128, 256):
        wide = b[f"wide_mlp_training_step/batch:{batch}"]
        out.append(f"| wide MLP 784-1024-1024-10, step | {batch} | {fmt(per_second(wide))} | "
                   f"{wide['GFLOP/s']:.1f} |")
    out += ["", "| inference, forward only | batch | samples/s | GFLOP/s | "
            "ceiling (2 sgemm alone): samples/s | of ceiling |", "|---|---|---|---|---|---|"]
    for batch in (1, 32, 256, 1000):
        inf = b[f"mlp_inference/batch:{batch}"]
        ceiling = b[f"mlp_inference_sgemm_ceiling/batch:{batch}"]
        latency = f" ({microseconds(inf):.2f} µs per call)" if batch == 1 else ""
        out.append(f"| forward{latency} | {batch} | {fmt(per_second(inf))} | "
                   f"{inf['GFLOP/s']:.1f} | {fmt(per_second(ceiling))} | "
                   f"**{per_second(inf) / per_second(ceiling):.0%}** |")
    return "\n".join(out)


def mark(ok):
    return "met" if ok else "**not met**"


ALGORITHMS = ("unfold", "direct", "Winograd")  # conv2d_bench's algorithm:0, 1, 2
CONV = re.compile(r"conv2d_(forward|weight_gradient|backward)/batch:(\d+)/in:(\d+)/out:(\d+)/"
                  r"side:(\d+)/padding:(\d+)/algorithm:(\d)")


def conv_rows(b):
    """{(batch, in, out, side, padding): {pass: {algorithm: GFLOP/s}}} of xtnn_bench_conv2d."""
    shapes = {}
    for name, row in b.items():
        m = CONV.fullmatch(name)
        if m:
            kind, *dims, algorithm = m.groups()
            shapes.setdefault(tuple(int(d) for d in dims), {}).setdefault(kind, {})[
                int(algorithm)] = row["GFLOP/s"]
    return shapes


def cnn_goals(b, rows):
    """The convnet's goals (issues 12 and 25), each against what this run measured."""
    out = []
    for batch in (64, 128):
        _, _, ratio, ratios = compare.pair(rows, "train", 1, batch)
        out.append(f"| convnet training, batch {batch}, 1 thread: ≥ 2× PyTorch | {ratio:.2f}× "
                   f"(rounds {compare.spread(ratios)}) | {mark(ratio >= 2.0)} |")
    # Each layer and pass by its fastest algorithm (automatic's choice where it chose well);
    # of a 1-channel layer, the passes a first layer runs (it computes no input gradient).
    peak = b["xtnn::bench::fma_peak"]["GFLOP/s"]
    best = [(max(by.values()) / peak, f"conv2d_{kind}/batch:{d[0]}/in:{d[1]}/out:{d[2]}/"
             f"side:{d[3]}", d[1] == 1) for d, passes in conv_rows(b).items() if d[0] >= 32
            for kind, by in passes.items() if d[1] > 1 or kind != "backward"]
    first_layer = "the first, 1-channel conv layer (forward, weight gradient)"
    for first, goal, what in ((False, 0.75, "conv layers"), (True, 0.5, first_layer)):
        low = min(((r, n) for r, n, f in best if f == first), default=(0.0, "none"))
        out.append(f"| {what} at batch ≥ 32, fastest algorithm: ≥ {goal:.0%} of the FMA peak | "
                   f"lowest {low[0]:.0%} (`{low[1]}`) | {mark(low[0] >= goal)} |")
    _, _, ratio, ratios = compare.pair(rows, "latency", 1, faster=lambda x, t: t / x)
    out.append(f"| convnet single-image latency, 1 thread: ≥ 3× faster than PyTorch | "
               f"{ratio:.2f}× (rounds {compare.spread(ratios)}) | {mark(ratio >= 3.0)} |")
    small, large = (per_second(b[f"cnn_inference/batch:{n}"]) for n in (32, 1000))
    out.append(f"| convnet inference per image, batch 1,000 within 15% of batch 32 | "
               f"{large / small:.2f}× batch 32's rate | {mark(large / small >= 0.85)} |")
    one, _, _, _ = compare.pair(rows, "train", 1, 128)
    two, _, _, _ = compare.pair(rows, "train", 2, 128)
    out.append(f"| convnet training, batch 128: 2 threads ≥ 1.7× 1 thread | {two / one:.2f}× | "
               f"{mark(two / one >= 1.7)} |")
    return out


def resnet18_goals(rows):
    """torchvision's resnet18 against PyTorch at its best (issue 25): ≥ 1.5× on every task."""
    out = []
    for task, batch, side in compare.RESNET18:
        _, _, ratio, ratios = compare.pair(rows, task, 1, batch, side=side)
        name = "SGD training" if task == "train" else "inference"
        out.append(f"| resnet18 {name}, batch {batch}, {side}², 1 thread: ≥ 1.5× PyTorch | "
                   f"{ratio:.2f}× (rounds {compare.spread(ratios)}) | {mark(ratio >= 1.5)} |")
    return out


def conv_table(b):
    """Each convolution by each algorithm it runs, next to the FMA peak and the sgemm
    ceiling."""
    peak_row = b["xtnn::bench::fma_peak"]
    peak = peak_row["GFLOP/s"]
    out = [f"The core's FMA peak (`fma_peak`, {peak_row.get('label', '?')}): **{peak:.1f} "
           "GFLOP/s**.", "",
           "| layer | batch | pass | unfold GFLOP/s | direct GFLOP/s | Winograd GFLOP/s | "
           "fastest / peak | sgemm ceiling |", "|---|---|---|---|---|---|---|---|"]
    ceilings = {"forward": "sgemm_forward_ceiling", "backward": "sgemm_backward_ceiling"}
    for d, passes in sorted(conv_rows(b).items(), key=lambda item: (item[0][1], item[0][0])):
        batch, c_in, c_out, side, padding = d
        same = ", same" if padding == 1 else ""
        label = f"{c_in} → {c_out}, 3×3 on {side}×{side}{same}"
        for kind in ("forward", "weight_gradient", "backward"):
            by = passes.get(kind)
            if not by:
                continue
            cells = " | ".join(f"{by[a]:.1f}" if a in by else "" for a in range(3))
            ceiling = b.get(f"{ceilings.get(kind)}/batch:{batch}/in:{c_in}/out:{c_out}/"
                            f"side:{side}/padding:{padding}/algorithm:0")
            limit = f"{ceiling['GFLOP/s']:.1f}" if ceiling else ""
            out.append(f"| {label} | {batch} | {kind.replace('_', ' ')} | {cells} | "
                       f"**{max(by.values()) / peak:.0%}** | {limit} |")
    return "\n".join(out)


def cnn_table(b):
    out = ["| batch | step: samples/s | GFLOP/s | ceiling (its products alone): samples/s | "
           "step / ceiling |", "|---|---|---|---|---|"]
    for batch in (32, 64, 128):
        step = b[f"cnn_training_step/batch:{batch}"]
        ceiling = b[f"cnn_sgemm_ceiling/batch:{batch}"]
        out.append(f"| {batch} | {fmt(per_second(step))} | {step['GFLOP/s']:.1f} | "
                   f"{fmt(per_second(ceiling))} | **{per_second(step) / per_second(ceiling):.0%}** |")
    out += ["", "| inference, forward only | batch | samples/s | GFLOP/s |", "|---|---|---|---|"]
    for name, batch in (("cnn_inference", 1), ("cnn_inference", 32), ("cnn_inference", 1000),
                        ("cnn_inference_whole", 1000)):
        inf = b[f"{name}/batch:{batch}"]
        what = "forward, whole batch per layer (no groups)" if "whole" in name else "forward"
        latency = f" ({microseconds(inf):.1f} µs per image)" if batch == 1 else ""
        out.append(f"| {what}{latency} | {batch} | {fmt(per_second(inf))} | "
                   f"{inf['GFLOP/s']:.1f} |")
    out += ["", "| memory-bound layer, batch 64 × 32 × 26 × 26 | time | GB/s |", "|---|---|---|"]
    for name in ("max_pool2d_forward", "max_pool2d_backward", "batch_norm2d_forward",
                 "batch_norm2d_backward"):
        row = b[f"{name}/batch:64"]
        out.append(f"| `{name}` | {microseconds(row):,.0f} µs | "
                   f"{row.get('bytes_per_second', 0.0) / 1e9:.1f} |")
    return "\n".join(out)


def goals(b, rows, compiled, cnn_rows, resnet_rows):
    """The project's speed goals (issues 5 and 25), compile-time goal (issue 11), the
    convnet's (issues 12 and 25) and resnet18's (issue 25), each against what this run
    measured."""
    out = ["## Against the goals", "",
           "| goal | measured | |", "|---|---|---|"]
    for batch, goal in ((32, 3.0), (128, 2.0)):
        _, _, ratio, ratios = compare.pair(rows, "train", 1, batch)
        out.append(f"| MLP training, batch {batch}, 1 thread: ≥ {goal:.0f}× PyTorch | "
                   f"{ratio:.2f}× "
                   f"(rounds {compare.spread(ratios)}) | {mark(ratio >= goal)} |")
    for batch, goal in ((32, 0.70), (128, 0.75)):
        step = per_second(b[f"mlp_training_step/batch:{batch}"])
        ceiling = per_second(b[f"mlp_sgemm_ceiling/batch:{batch}"])
        out.append(f"| training step, batch {batch}: ≥ {goal:.0%} of its 5-sgemm ceiling | "
                   f"{step / ceiling:.0%} | {mark(step / ceiling >= goal)} |")
    latency = microseconds(b["mlp_inference/batch:1"])
    out.append(f"| single-sample inference latency ≤ 5 µs | {latency:.2f} µs (microbenchmark) | "
               f"{mark(latency <= 5.0)} |")
    _, _, ratio, ratios = compare.pair(rows, "infer", 1)
    out.append(f"| batch-1000 inference, 1 thread: ≥ 1.2× PyTorch | {ratio:.2f}× (rounds "
               f"{compare.spread(ratios)}) | {mark(ratio >= 1.2)} |")
    for batch in (32, 128):
        one, _, _, _ = compare.pair(rows, "train", 1, batch)
        two, _, _, _ = compare.pair(rows, "train", 2, batch)
        out.append(f"| training, batch {batch}: 2 threads not slower than 1 (beyond ±10 % "
                   f"noise) | {two / one:.2f}× the 1-thread rate | {mark(two / one >= 0.9)} |")
    out.append(compile_time.goal_row(compiled))
    out += cnn_goals(b, cnn_rows)
    out += resnet18_goals(resnet_rows)
    return "\n".join(out)


def layer_table(b, layer, dims, label):
    """Forward and backward of each `layer` benchmark next to its sgemm ceilings; `dims` matches
    what follows the batch in the name, `label` turns its groups into the layer's column."""
    out = ["| layer | batch | forward GFLOP/s | of sgemm | backward GFLOP/s | of 2 sgemm |",
           "|---|---|---|---|---|---|"]
    pattern = re.compile(layer + r"_forward/batch:(\d+)" + dims)
    for name, row in b.items():
        m = pattern.fullmatch(name)
        if not m:
            continue
        suffix = name[len(layer + "_forward"):]
        fwd_ceiling = b["sgemm_forward_ceiling" + suffix]["GFLOP/s"]
        bwd = b[layer + "_backward" + suffix]["GFLOP/s"]
        bwd_ceiling = b["sgemm_backward_ceiling" + suffix]["GFLOP/s"]
        out.append(f"| {label(m.groups()[1:])} | {m.group(1)} | {row['GFLOP/s']:.1f} | "
                   f"{row['GFLOP/s'] / fwd_ceiling:.0%} | {bwd:.1f} | {bwd / bwd_ceiling:.0%} |")
    return "\n".join(out)


def dense_table(b):
    return layer_table(b, "dense", r"/in:(\d+)/out:(\d+)", lambda g: f"{g[0]} → {g[1]}")


def products_table(b):
    """Each dense product through xtnn::gemm, xtnn's kernels and OpenBLAS directly, and the
    peak (xtnn's kernels are skipped on CPUs without AVX-512: a dash)."""
    peak = b["xtnn::bench::fma_peak"]["GFLOP/s"]
    out = ["| product | m × n × k | xtnn::gemm GFLOP/s | of peak | xtnn's kernels GFLOP/s | "
           "OpenBLAS GFLOP/s | of peak | xtnn::gemm / OpenBLAS |",
           "|---|---|---|---|---|---|---|---|"]
    pattern = re.compile(r"product/xtnn/ta:(\d)/tb:(\d)/m:(\d+)/n:(\d+)/k:(\d+)")
    for name, row in b.items():
        m = pattern.fullmatch(name)
        if not m:
            continue
        blas = b[name.replace("/xtnn/", "/openblas/")]["GFLOP/s"]
        ta, tb = m.group(1) == "1", m.group(2) == "1"
        form = f"{'Aᵀ' if ta else 'A'}·{'Bᵀ' if tb else 'B'}"
        own = row["GFLOP/s"]
        kernels = b.get(name.replace("/xtnn/", "/kernels/"), {}).get("GFLOP/s")
        kernels = "–" if kernels is None else f"{kernels:.1f}"
        out.append(f"| {form} | {m.group(3)} × {m.group(4)} × {m.group(5)} | {own:.1f} | "
                   f"{own / peak:.0%} | {kernels} | {blas:.1f} | {blas / peak:.0%} | "
                   f"**{own / blas:.2f}×** |")
    return "\n".join(out)


def simple_table(b, prefix, unit, header):
    out = [header, "|---|---|---|"]
    for name, row in b.items():
        if name.startswith(prefix):
            out.append(f"| `{name}` | {microseconds(row):,.2f} µs | "
                       f"{per_second(row) / unit:,.2f} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    args = parser.parse_args()

    b = {}
    for name in BINARIES:
        b.update(run_benchmark(args.build, name, args.repetitions))
    threads, batches = [1, 2], [32, 128]
    rows = compare.measure(args.build, os.path.join(args.build, "compare-data"), threads,
                           batches, repeats=2, rounds=5)
    comparison = compare.tables(rows, threads, batches)
    train_vs, infer_vs = comparison.split("\n\n", 1)
    cnn_batches = [64, 128]
    cnn_rows = compare.measure(args.build, os.path.join(args.build, "compare-data"), threads,
                               cnn_batches, repeats=1, rounds=3, model="cnn")
    cnn_train_vs, cnn_infer_vs = compare.tables(cnn_rows, threads, cnn_batches).split("\n\n", 1)
    resnet_rows = compare.measure(args.build, os.path.join(args.build, "compare-data"), [1],
                                  [], repeats=3, rounds=3, model="resnet18")
    compiled = compile_time.measure(args.build, repetitions=3)

    text = f"""# Benchmark results

Generated by `benchmarks/run.sh` (which builds the `bench` preset and runs
`benchmarks/results.py`); do not edit by hand. Microbenchmarks run with one BLAS thread
(`OPENBLAS_NUM_THREADS=1`) and report the median of {args.repetitions} repetitions, run in
random order across benchmarks (at least 0.1 s each); the comparison alternates the libraries
over 5 rounds (each run times 2 epochs) and reports medians over the rounds and the range of the per-round ratios.
The machine is a shared virtual machine: expect ±10 % between runs on one thread and much
more on two (the neighbour's load).

{goals(b, rows, compiled, cnn_rows, resnet_rows)}

Why the goals not met are missed, layer by layer, and what each kernel measured:
docs/performance.md.

## Machine

| | |
|---|---|
{machine(args.build)}

## xtnn and PyTorch side by side

The MNIST MLP (784-128-10, relu, Adam 1e-3, softmax cross-entropy), one epoch of 60,000
MNIST-shaped samples (seeded, the same file for both), shuffled; xtnn through `trainer::fit`,
PyTorch through the usual loop, **at its best**: glibc's malloc kept from handing freed buffers
back to the kernel (`MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` at 1 GiB, as an
allocator swap would), and the faster of `torch.set_flush_denormal` on and off for each task;
the last column gives PyTorch as installed (flush-denormal on, glibc's defaults) and xtnn's
ratio to it. Threads: both `OPENBLAS_NUM_THREADS` and `torch.set_num_threads`. Command:
`benchmarks/compare/compare.py`.

{train_vs}

Inference over the same 60,000 samples in batches of 1,000 (samples/s), then the median
latency of one sample at a time (PyTorch under `torch.inference_mode()`):

{infer_vs}

## The Keras convnet side by side with PyTorch

The Keras tutorial's convnet (conv 32 3×3, relu, max-pool 2, conv 64 3×3, relu, max-pool 2,
flatten, dropout 0.5, dense 10; Adam 1e-3, softmax cross-entropy), one epoch of the first
6,000 samples of the same file as (N, 1, 28, 28) images; PyTorch's `nn.Sequential` of the
same layers. 3 rounds, each one epoch per library. Command:
`benchmarks/compare/compare.py --model cnn --batches 64 128`.

{cnn_train_vs}

Inference over the 6,000 images in batches of 1,000, then one image at a time (median):

{cnn_infer_vs}

## torchvision's resnet18 side by side with PyTorch

torchvision's resnet18 (Debian's python3-torchvision 0.14) and the same architecture as an
xtnn type (`tests/onnx/torchvision_models.hpp`), random weights, seeded images: SGD steps
(momentum 0.9) at batch 8 on 64 × 64 images, and inference at batch 1 and 8 on 64 × 64 and
224 × 224. 3 rounds, each the median of 3 runs per library. Command:
`benchmarks/compare/compare.py --model resnet18 --threads 1`.

{compare.resnet18_table(resnet_rows, [1])}

## The convnet's training step, its layers and their sgemm ceilings

One training step of the convnet (`xtnn_bench_cnn`) next to its eight products alone, each
one sgemm over the whole batch's unfolded shapes (2.48 MFLOP per sample of GEMM work);
single-image and batched inference; and the memory-bound layers in bytes moved per second.

{cnn_table(b)}

Each convolution (`xtnn_bench_conv2d`) by the algorithms it can run: unfold (im2col and one
product per chunk of samples, col2im included), xtnn's direct kernels and Winograd's F(4 × 4,
3 × 3) (at the CPU's widest vectors, chosen at run time; Winograd counted at the direct
convolution's FLOPs, so it can pass the peak); forward, the weight gradient alone (a first
layer's backward) and backward (weight and input gradients), next to the core's FMA peak and
to the same products as single sgemm calls over the whole batch. The first layers are the
Keras convnet's, then a ResNet stage's, then resnet18's deepest layers at 64 × 64 (unfolded in
training) and the layers where automatic chooses Winograd by shape:

{conv_table(b)}

## The MNIST MLP's training step and its sgemm ceiling

One step (forward, loss, backward, Adam) on a fixed batch, next to its five matrix products
timed alone with the same shapes and transposes, through `xtnn::gemm` as the layers call them
(`xtnn_bench_training_step`). Inference likewise next to its two products. GFLOP/s count
the GEMM work only (409,088 FLOP per sample).

{step_table(b)}

## Dense layers against their sgemm calls

`xtnn_bench_dense`: forward (one product) and backward (weight and input gradients: two
products, bias included in the layer's time), each next to the bare sgemm calls.

{dense_table(b)}

Each product of the MLP's step (batch 32 and 128), of batch-1,000 inference and of the wide
net's step, through `xtnn::gemm` (which runs xtnn's own AVX-512 sgemm kernels on the shapes
they were measured faster at beside this OpenBLAS kernel, see docs/performance.md), through
xtnn's kernels alone whatever the BLAS, and through OpenBLAS directly, next to the core's FMA
peak ({b["xtnn::bench::fma_peak"]["GFLOP/s"]:.1f} GFLOP/s):

{products_table(b)}

## Elementwise work

Activations over a (256, 1024) batch (`xtnn_bench_activations`), in giga-elements per second:

{simple_table(b, "activation_", 1e9, "| benchmark | time | Gelem/s |")}

Dropout 0.5 in training over the same batch, its masks drawn anew each time:

{simple_table(b, "dropout_", 1e9, "| benchmark | time | Gelem/s |")}

The fused softmax cross-entropy, 10 classes (`xtnn_bench_losses`), in million samples per
second:

{simple_table(b, "softmax_cross_entropy", 1e6, "| benchmark | time | M samples/s |")}

One optimizer step over the MLP's 101,770 parameters (`xtnn_bench_optimizers`), in giga-
parameters per second:

{simple_table(b, "optimizer_step", 1e9, "| benchmark | time | G params/s |")}

## Threads

An empty run of xtnn's thread team (`xtnn_bench_threads`), one part per thread, back to back:
what each parallel convolution or pooling pays beyond its work.

{simple_table(b, "thread_team_run", 1e6, "| benchmark | time | M runs/s |")}

## Compile time

{compile_time.section(compiled)}
"""
    with open(args.output, "w") as f:
        f.write(text)
    print(f"results: wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
