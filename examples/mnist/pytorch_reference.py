#!/usr/bin/python3
"""The MNIST example's models and schedules in PyTorch, for a side-by-side accuracy figure.

Trains, with Adam (1e-3), softmax cross-entropy and shuffled batches, on the same IDX files as
xtnn_example_mnist, either the MLP (784 -> Linear(128) -> ReLU -> Dropout(0.2) -> Linear(10),
batch 32) or, with --model cnn, the Keras tutorial's convnet (Conv2d(1, 32, 3) -> ReLU ->
MaxPool2d(2) -> Conv2d(32, 64, 3) -> ReLU -> MaxPool2d(2) -> Flatten -> Dropout -> Linear(1600,
10); the Keras schedule is --epochs 10 --batch-size 128 --dropout 0.5), with PyTorch's default
initialization, and prints the test accuracy after each requested number of epochs, per seed
and as a mean:

    /usr/bin/python3 examples/mnist/pytorch_reference.py [--data data/mnist] [--epochs 5 10]
        [--seeds 1 2 3] [--model mlp|cnn] [--batch-size N] [--dropout R]

Needs Debian's python3-torch and python3-numpy (run with /usr/bin/python3).
"""

import argparse
import gzip
import os
import statistics

import numpy as np
import torch


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    assert data[0] == 0 and data[1] == 0 and data[2] == 0x08, f"{path}: not unsigned-byte IDX"
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def find(directory, name):
    for candidate in (name + ".gz", name):
        if os.path.exists(os.path.join(directory, candidate)):
            return os.path.join(directory, candidate)
    raise SystemExit(f"{directory}: no {name}[.gz]; run scripts/mnist_data.py")


def load(directory, prefix, convolutional):
    images = read_idx(find(directory, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find(directory, f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    if convolutional:
        x = x.reshape(len(images), 1, images.shape[1], images.shape[2])
    return x, torch.from_numpy(labels.astype(np.int64))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--data", default=os.path.join(root, "data", "mnist"))
    parser.add_argument("--epochs", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--batch-size", type=int, default=None, help="mlp: 32, cnn: 128")
    parser.add_argument("--dropout", type=float, default=None, help="mlp: 0.2, cnn: 0.5")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    cnn = args.model == "cnn"
    batch_size = args.batch_size or (128 if cnn else 32)
    dropout = args.dropout if args.dropout is not None else (0.5 if cnn else 0.2)
    x_train, y_train = load(args.data, "train", cnn)
    x_test, y_test = load(args.data, "t10k", cnn)
    results = {e: [] for e in args.epochs}
    for seed in args.seeds:
        torch.manual_seed(seed)
        nn = torch.nn
        if cnn:
            model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Dropout(dropout), nn.Linear(1600, 10))
        else:
            model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(128, 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        for epoch in range(1, max(args.epochs) + 1):
            model.train()
            for batch in torch.randperm(len(x_train)).split(batch_size):
                optimizer.zero_grad()
                loss_fn(model(x_train[batch]), y_train[batch]).backward()
                optimizer.step()
            if epoch in results:
                acc = accuracy(model, x_test, y_test)
                results[epoch].append(acc)
                print(f"seed {seed}, {epoch} epochs: test accuracy {100 * acc:.2f}%")
    for epoch, values in results.items():
        print(f"PyTorch {torch.__version__}, {args.model}, batch {batch_size}, dropout {dropout}, "
              f"{epoch} epochs: mean test accuracy "
              f"{100 * statistics.mean(values):.2f}% over seeds {args.seeds}")


if __name__ == "__main__":
    main()
