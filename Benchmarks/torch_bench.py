#!/usr/bin/env python3
"""The saed-bench recipe in PyTorch (CPU), for the side-by-side table of scripts/bench-train.sh.

Same data, same recipe, same figures as Benchmarks/TrainBench:
  - the Fashion-MNIST training images read from the same gzip IDX file with gzip and numpy,
    kept as bytes and scaled to [0, 1] per batch, as saed does;
  - x -> relu(x W_enc + b_enc) -> relu(h W_dec + b_dec), nn.Linear's initialisation (uniform
    in +-1/sqrt(fan_in) for weights and biases, which is saed's), MSE (mean over elements)
    plus 3e-4 * sum|h| / batch rows, or top-k (keep the k largest pre-activations per row,
    relu after selection) with no penalty;
  - Adam with torch's defaults at lr 1e-3; every epoch visits the rows in a fresh random order
    (torch's own generator, seeded), the last smaller batch included;
  - torch.set_num_threads(--threads), to match OpenBLAS's threads in the Swift run.

Prints seconds per epoch (median of the epochs after the first), samples per second and peak
RSS (getrusage ru_maxrss), then one tab-separated `result` line of key=value fields. Without
--shape it runs each shape in a child process of its own, so the peaks do not mix.

Not here: the sgemm share and the time outside the products, which only saed-bench measures.
"""

import argparse
import gzip
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
L1_BETA = 3e-4  # saed-bench's BenchShape.l1Beta (mean reduction); change both together

# name -> (hidden size, batch size, top-k or None); the names and order of BenchShape.all.
SHAPES = {
    "784x128-b64": (128, 64, None),
    "784x128-b256": (128, 256, None),
    "784x1024-b256": (1024, 256, None),
    "784x1024-b256-topk8": (1024, 256, 8),
    "784x1024-b256-topk32": (1024, 256, 32),
    "784x1024-b256-topk128": (1024, 256, 128),
}


def load_idx_bytes(path):
    """Returns a (rows, width) uint8 array from a gzip IDX file of unsigned bytes."""
    with gzip.open(path, "rb") as stream:
        head = stream.read(4)
        if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08:
            raise ValueError(f"{path}: not an IDX file of unsigned bytes")
        dims = np.frombuffer(stream.read(4 * head[3]), dtype=">u4").astype(np.int64)
        rows, width = int(dims[0]), int(np.prod(dims[1:]))
        # Read straight into the array, so the file's bytes are never held twice.
        data = np.empty(rows * width, dtype=np.uint8)
        if stream.readinto(memoryview(data)) != data.size or stream.read(1):
            raise ValueError(f"{path}: expected exactly {rows} x {width} bytes of data")
    return data.reshape(rows, width)


def resident_kib():
    """Current VmRSS in KiB, from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


class SAE(torch.nn.Module):
    def __init__(self, width, hidden, top_k):
        super().__init__()
        self.enc = torch.nn.Linear(width, hidden)
        self.dec = torch.nn.Linear(hidden, width)
        self.top_k = top_k

    def forward(self, x):
        pre = self.enc(x)
        if self.top_k is None:
            h = F.relu(pre)
        else:
            values, indices = pre.topk(self.top_k, dim=1)
            h = torch.zeros_like(pre).scatter(1, indices, F.relu(values))
        return h, F.relu(self.dec(h))


def train_epoch(model, optimizer, data, batch, generator, is_l1):
    """One shuffled pass; returns (mean loss over batches, mean L0 per row)."""
    rows = data.shape[0]
    order = torch.randperm(rows, generator=generator)
    loss_sum, active, batches = 0.0, 0, 0
    for first in range(0, rows, batch):
        x = data[order[first:first + batch]].float().mul_(1 / 255)
        h, out = model(x)
        loss = F.mse_loss(out, x)
        if is_l1:
            loss = loss + L1_BETA / x.shape[0] * h.abs().sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item()
        active += int((h != 0).sum())
        batches += 1
    return loss_sum / batches, active / rows


def run_shape(name, args):
    hidden, batch, top_k = SHAPES[name]
    torch.set_num_threads(args.threads)
    data = torch.from_numpy(load_idx_bytes(args.data))
    after_load = resident_kib()
    rows, width = data.shape

    torch.manual_seed(args.seed)
    model = SAE(width, hidden, top_k)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    penalty = f"top-k {top_k}" if top_k else f"L1 (beta {L1_BETA}, mean)"
    print(f"torch-bench {name}: hidden {hidden}, batch {batch}, relu/relu, MSE, {penalty}, "
          f"Adam lr 0.001, seed {args.seed}, {args.epochs} epochs, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")

    seconds = []
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        loss, l0 = train_epoch(model, optimizer, data, batch, generator, top_k is None)
        seconds.append(time.perf_counter() - started)
        print(f"  epoch {epoch}: {seconds[-1]:.3f} s, loss {loss:.5f}, L0 {l0:.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    timed = seconds[1:] or seconds
    per_epoch = statistics.median(timed)
    span = f"median of epochs 2-{len(seconds)}" if len(seconds) > 1 else "epoch 1 alone"
    print(f"  seconds/epoch: {per_epoch:.3f} ({span})")
    print(f"  samples/s: {rows / per_epoch:.0f}")
    print(f"  peak RSS: {peak / 1024:.1f} MiB "
          f"(after loading the data: {after_load / 1024:.1f} MiB)")
    fields = [("shape", name), ("epochs", len(seconds)), ("threads", torch.get_num_threads()),
              ("seconds_per_epoch", f"{per_epoch:.4f}"),
              ("samples_per_second", f"{rows / per_epoch:.0f}"), ("peak_rss_kib", peak),
              ("loss", f"{loss:.5f}"), ("l0", f"{l0:.1f}")]
    print("\t".join(["result"] + [f"{key}={value}" for key, value in fields]), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=list(SHAPES), help="run this shape in this process")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args()
    if args.epochs < 1 or args.threads < 1:
        parser.error("--epochs and --threads must be positive")
    if args.shape:
        run_shape(args.shape, args)
        return 0
    failed = 0
    for name in SHAPES:
        command = [sys.executable, os.path.abspath(__file__), "--shape", name,
                   "--epochs", str(args.epochs), "--threads", str(args.threads),
                   "--seed", str(args.seed), "--data", args.data]
        failed += subprocess.run(command).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
