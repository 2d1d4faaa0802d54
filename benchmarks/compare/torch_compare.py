#!/usr/bin/python3
"""The PyTorch side of benchmarks/compare: the same model (the MLP, or with --model cnn the
Keras convnet), data, schedule and measurements as xtnn_compare, with PyTorch at its best on
the CPU (flush-denormal on, inference under torch.inference_mode). Prints the same key=value
lines.

    OPENBLAS_NUM_THREADS=T /usr/bin/python3 torch_compare.py --data DIR --batch 32 --threads T
        [--model cnn --train-samples 6000]
    OPENBLAS_NUM_THREADS=T /usr/bin/python3 torch_compare.py --model resnet18 --threads T

With --model resnet18: torchvision's resnet18 (Debian's python3-torchvision), SGD steps
(momentum 0.9) at batch 8 on 64 x 64 images, inference at batch 1 and 8 on 64 x 64 and
224 x 224, as xtnn_compare --model resnet18 measures them.
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch


def read_idx(path, dtype):
    data = open(path, "rb").read()
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=dtype, offset=4 + 4 * rank).reshape(shape)


def make_model(seed, cnn):
    torch.manual_seed(seed)
    nn = torch.nn
    if cnn:
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5),
                             nn.Linear(1600, 10))
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def seconds_per_call(repeats, steps, f):
    """The median over `repeats` runs of `steps` calls of f, seconds per call, after one
    untimed call."""
    f()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            f()
        runs.append((time.perf_counter() - start) / steps)
    return statistics.median(runs)


def resnet18(args):
    import torchvision  # only this model needs it

    threads = torch.get_num_threads()
    generator = torch.Generator().manual_seed(2026)
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    x = torch.rand(8, 3, 64, 64, generator=generator)
    y = torch.arange(8) * 127 % 1000
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    seconds = seconds_per_call(args.repeats, 5, step)
    print(f"library={args.label} task=train batch=8 side=64 threads={threads} "
          f"samples_per_s={8 / seconds:.2f}")
    model.eval()
    with torch.inference_mode():
        for side in (64, 224):
            for batch in (1, 8):
                x = torch.rand(batch, 3, side, side, generator=generator)
                seconds = seconds_per_call(args.repeats, 10 if side == 64 else 3,
                                           lambda: model(x))
                print(f"library={args.label} task=infer batch={batch} side={side} "
                      f"threads={threads} samples_per_s={batch / seconds:.2f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="the MNIST-shaped data (not read for resnet18)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-calls", type=int, default=20000)
    parser.add_argument("--model", choices=["mlp", "cnn", "resnet18"], default="mlp")
    parser.add_argument("--train-samples", type=int, default=0)
    parser.add_argument("--flush-denormal", choices=["on", "off"], default="on",
                        help="torch.set_flush_denormal (faster for Adam; slower convolutions "
                             "on some CPUs)")
    parser.add_argument("--label", default="pytorch", help="the library= of the output lines")
    args = parser.parse_args()
    cnn = args.model == "cnn"
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(args.flush_denormal == "on")
    if args.model == "resnet18":
        resnet18(args)
        return
    if not args.data:
        parser.error("--data is required for the mlp and the cnn")
    x = torch.from_numpy(read_idx(os.path.join(args.data, "images.idx"), ">f4").astype(np.float32))
    y = torch.from_numpy(read_idx(os.path.join(args.data, "labels.idx"), ">i4").astype(np.int64))
    if args.train_samples:
        x, y = x[:args.train_samples], y[:args.train_samples]
    if cnn:
        x = x.reshape(len(x), 1, 28, 28)
    n = len(x)

    epochs = []
    for r in range(args.repeats):
        model = make_model(r, cnn)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(r)
        start = time.perf_counter()
        for batch in torch.randperm(n, generator=generator).split(args.batch):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()
        epochs.append(time.perf_counter() - start)
    seconds = statistics.median(epochs)
    print(f"library={args.label} task=train batch={args.batch} threads={torch.get_num_threads()} "
          f"samples_per_s={n / seconds:.1f} seconds={seconds:.4f}")

    model = make_model(0, cnn).eval()
    passes = []
    with torch.inference_mode():
        for _ in range(args.repeats):
            start = time.perf_counter()
            for chunk in x.split(1000):
                model(chunk)
            passes.append(time.perf_counter() - start)
        print(f"library={args.label} task=infer batch=1000 threads={torch.get_num_threads()} "
              f"samples_per_s={n / statistics.median(passes):.1f}")
        calls = []
        for i in range(args.latency_calls):
            one = x[i % n].unsqueeze(0)
            start = time.perf_counter()
            model(one)
            calls.append(time.perf_counter() - start)
    print(f"library={args.label} task=latency batch=1 threads={torch.get_num_threads()} "
          f"microseconds={1e6 * statistics.median(calls):.2f}")


if __name__ == "__main__":
    main()
