#!/usr/bin/python3
"""The PyTorch side of benchmarks/compare: the same MLP, data, schedule and measurements as
xtnn_compare, with PyTorch at its best on the CPU (flush-denormal on, inference under
torch.inference_mode). Prints the same key=value lines.

    OPENBLAS_NUM_THREADS=T /usr/bin/python3 torch_compare.py --data DIR --batch 32 --threads T
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


def make_model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                               torch.nn.Linear(128, 10))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-calls", type=int, default=20000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    x = torch.from_numpy(read_idx(os.path.join(args.data, "images.idx"), ">f4").astype(np.float32))
    y = torch.from_numpy(read_idx(os.path.join(args.data, "labels.idx"), ">i4").astype(np.int64))
    n = len(x)

    epochs = []
    for r in range(args.repeats):
        model = make_model(r)
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
    print(f"library=pytorch task=train batch={args.batch} threads={torch.get_num_threads()} "
          f"samples_per_s={n / seconds:.1f} seconds={seconds:.4f}")

    model = make_model(0).eval()
    passes = []
    with torch.inference_mode():
        for _ in range(args.repeats):
            start = time.perf_counter()
            for chunk in x.split(1000):
                model(chunk)
            passes.append(time.perf_counter() - start)
        print(f"library=pytorch task=infer batch=1000 threads={torch.get_num_threads()} "
              f"samples_per_s={n / statistics.median(passes):.1f}")
        calls = []
        for i in range(args.latency_calls):
            one = x[i % n].unsqueeze(0)
            start = time.perf_counter()
            model(one)
            calls.append(time.perf_counter() - start)
    print(f"library=pytorch task=latency batch=1 threads={torch.get_num_threads()} "
          f"microseconds={1e6 * statistics.median(calls):.2f}")


if __name__ == "__main__":
    main()
