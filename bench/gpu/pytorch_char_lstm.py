#!/usr/bin/env python3
"""PyTorch's side of the GPU benchmark (bench/gpu/run.sh puts Tandem's bench_gpu beside it).

The model, loss, optimizer and data are Tandem's char_lstm as the benchmark's recipe
(bench/gpu/char_lstm_4x128.yaml) builds it: the last `context` characters one-hot over the
31-symbol alphabet, an LSTM (hidden x layers, dropout between layers, batch first),
a Linear head at every position; cross-entropy per position with pad targets
masked out, averaged per sample, then over the batch; Adam at the recipe's lr.
The batch is rows (i * 7919) mod N of the corpus' training windows, built as
Tandem's CharWindows builds them, and stays on the device.

For each precision (fp32, bf16 autocast) and batch it measures
  eager  the plain training step;
  ddp    the model in torch.nn.parallel.DistributedDataParallel, world 1
         (NCCL on a GPU, Gloo on the CPU), initialised through a file store;
  graph  the whole step (forward, backward, Adam with capturable=True) captured
         in one CUDA graph and replayed (GPU only).
Timing as bench_gpu's: warm-up steps, then `windows` windows of k steps, each
bracketed by a device synchronisation, k chosen so that a window lasts about
--window-s; the step time printed is the median over windows. One JSON line per
measurement; a failed one prints its error and the others go on.
"""
import argparse
import gc
import json
import os
import re
import sys
import tempfile
import time
from datetime import timedelta

import torch
import torch.nn as nn
import torch.nn.functional as F

ALPHABET = 31  # 0 pad, 1 stop, 2-27 a-z, 28 '-', 29 '.', 30 space (data/text/alphabet.h)
PAD, STOP = 0, 1
ROW_STRIDE = 7919  # batch row i is window (i * ROW_STRIDE) mod N, as in bench_gpu


def symbol_index(c):
    if "a" <= c <= "z":
        return 2 + ord(c) - ord("a")
    return {"-": 28, ".": 29, " ": 30}.get(c, -1)


def read_recipe(path):
    """The `section.key: scalar` pairs of a recipe (the default recipe is flat
    enough that PyYAML, often absent beside torch, is not needed)."""
    values, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            m = re.match(r"^(\w+):\s*$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^\s+(\w+):\s*(\S.*)$", line)
            if m and section:
                values[f"{section}.{m.group(1)}"] = m.group(2).strip()
    return values


def char_windows(names_path, context):
    """Tandem's CharWindows (data/names/char_windows.cpp): one window per position
    of name + stop; input[j] = s[t-C+j], target[j] = s[t-C+1+j], pad before the start."""
    inputs, targets = [], []
    with open(names_path) as f:
        for line in f:
            name = line.lower().strip(" \t\r\n")
            if not name:
                continue
            s = [symbol_index(c) for c in name]
            if min(s) < 0:
                raise ValueError(f"{names_path}: '{name}' has a character outside the alphabet")
            s.append(STOP)
            for t in range(len(s)):
                inputs.append([s[t - context + j] if t - context + j >= 0 else PAD for j in range(context)])
                targets.append([s[t - context + j + 1] if t - context + j + 1 >= 0 else PAD for j in range(context)])
    return torch.tensor(inputs, dtype=torch.int64), torch.tensor(targets, dtype=torch.int64)


class CharLstm(nn.Module):
    """models/char_lstm/char_lstm.cpp in PyTorch."""

    def __init__(self, hidden, layers, dropout):
        super().__init__()
        self.lstm = nn.LSTM(ALPHABET, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0,
                            batch_first=True)
        self.head = nn.Linear(hidden, ALPHABET)

    def forward(self, idx):
        x = F.one_hot(idx, ALPHABET).to(torch.float32)
        return self.head(self.lstm(x)[0])


def char_lstm_loss(logits, target):
    """CharLstm::loss: per-position cross-entropy, pad targets masked, mean per sample, mean over samples."""
    per_position = F.cross_entropy(logits.reshape(-1, ALPHABET), target.reshape(-1), reduction="none")
    mask = (target != PAD).to(logits.dtype)
    per_sample = (per_position.view_as(mask) * mask).sum(1) / mask.sum(1).clamp_min(1.0)
    return per_sample.mean()


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step, device, a):
    """Warm up, pick the steps per window from the warm-up's pace, time the windows."""
    loss = step()
    first_loss = float(loss)
    for _ in range(1, max(1, a.warmup - 2)):
        loss = step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(2):
        loss = step()
    synchronize(device)
    pace = (time.perf_counter() - start) / 2
    steps = min(max(int(a.window_s / max(pace, 1e-6)), a.min_steps), a.max_steps)
    per_step = []
    for _ in range(a.windows):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        synchronize(device)
        per_step.append((time.perf_counter() - start) / steps)
    return steps, per_step, first_loss, float(loss)


class Bench:
    def __init__(self, a, device):
        self.a, self.device = a, device
        recipe = read_recipe(a.recipe)
        self.hidden = int(recipe["model.hidden"])
        self.layers = int(recipe["model.layers"])
        self.dropout = float(recipe["model.dropout"])
        self.lr = float(recipe["optim.lr"])
        self.inputs, self.targets = char_windows(a.names, int(recipe["model.context"]))
        self.ddp_backend = None

    def batch(self, size):
        rows = (torch.arange(size, dtype=torch.int64) * ROW_STRIDE) % self.inputs.shape[0]
        return self.inputs[rows].to(self.device), self.targets[rows].to(self.device)

    def model(self):
        torch.manual_seed(0)
        return CharLstm(self.hidden, self.layers, self.dropout).to(self.device).train()

    def autocast(self, bf16, cache_enabled=True):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16, cache_enabled=cache_enabled)

    def eager_step(self, module, x, y, bf16):
        opt = torch.optim.Adam(module.parameters(), lr=self.lr)

        def step():
            opt.zero_grad(set_to_none=True)
            with self.autocast(bf16):
                loss = char_lstm_loss(module(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        return step

    def eager(self, x, y, bf16):
        return self.eager_step(self.model(), x, y, bf16)

    def ddp(self, x, y, bf16):
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel

        if not dist.is_initialized():
            self.ddp_backend = "nccl" if self.device.type == "cuda" else "gloo"
            store = os.path.join(tempfile.mkdtemp(prefix="bench-gpu-"), "store")
            kwargs = dict(init_method=f"file://{store}", rank=0, world_size=1, timeout=timedelta(seconds=60))
            if self.device.type == "cuda":
                kwargs["device_id"] = self.device  # binds NCCL to the device (2.3+)
            dist.init_process_group(self.ddp_backend, **kwargs)
        ids = [self.device.index] if self.device.type == "cuda" else None
        return self.eager_step(DistributedDataParallel(self.model(), device_ids=ids), x, y, bf16)

    def graph(self, x, y, bf16):
        module = self.model()
        opt = torch.optim.Adam(module.parameters(), lr=self.lr, capturable=True)

        def eager_step():
            # Autocast's weight cache must be off under capture (the graph holds the casts).
            with self.autocast(bf16, cache_enabled=False):
                loss = char_lstm_loss(module(x), y)
            loss.backward()
            opt.step()
            return loss

        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(3):  # warm-up on a side stream, as the CUDA graphs documentation does
                opt.zero_grad(set_to_none=True)
                eager_step()
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            static_loss = eager_step()

        def step():
            graph.replay()
            return static_loss.detach()

        return step

    def run(self, variant, batch, precision):
        record = {"side": "pytorch", "variant": variant, "device": str(self.device), "precision": precision,
                  "batch": batch}
        if variant == "graph" and self.device.type != "cuda":
            return {**record, "skipped": "n/a (no GPU)"}
        try:
            x, y = self.batch(batch)
            step = getattr(self, variant)(x, y, precision == "bf16")
            steps, per_step, first_loss, loss = time_steps(step, self.device, self.a)
            per_step_sorted = sorted(per_step)
            n = len(per_step_sorted)
            median = per_step_sorted[n // 2] if n % 2 else 0.5 * (per_step_sorted[n // 2 - 1] + per_step_sorted[n // 2])
            record.update(steps=steps, windows=self.a.windows, step_ms=1e3 * median, step_ms_min=1e3 * min(per_step),
                          step_ms_max=1e3 * max(per_step), samples_per_s=batch / median, first_loss=first_loss,
                          loss=loss)
            if variant == "ddp":
                record["comm"] = self.ddp_backend
            return record
        except Exception as e:  # one failed measurement (out of memory, capture) must not stop the others
            return {**record, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]}
        finally:
            gc.collect()
            if self.device.type == "cuda":
                torch.cuda.empty_cache()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="auto", help="auto | cuda | cpu (cuda is cuda:LOCAL_RANK)")
    p.add_argument("--batches", default="64,256,1024,4096,16384,65536")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--variants", default="eager,ddp,graph")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--window-s", type=float, default=0.25)
    p.add_argument("--min-steps", type=int, default=3)
    p.add_argument("--max-steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: its default)")
    p.add_argument("--recipe", default=os.path.join(root, "bench/gpu/char_lstm_4x128.yaml"))
    p.add_argument("--names", default=os.path.join(root, "data/corpora/names.txt"))
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    cuda = torch.cuda.is_available()
    if a.device == "cuda" and not cuda:
        sys.exit("--device cuda: torch sees no CUDA device; use --device cpu")
    use_cuda = a.device == "cuda" or (a.device == "auto" and cuda)
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    bench = Bench(a, device)
    header = {"side": "pytorch", "torch": torch.__version__, "device": str(device),
              "threads": torch.get_num_threads(), "windows_in_corpus": bench.inputs.shape[0]}
    if use_cuda:
        header.update(cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                      gpu=torch.cuda.get_device_name(device))
    print(json.dumps(header), flush=True)
    failures = 0
    for precision in a.precisions.split(","):
        for batch in (int(b) for b in a.batches.split(",")):
            for variant in a.variants.split(","):
                record = bench.run(variant, batch, precision)
                failures += "error" in record
                print(json.dumps(record), flush=True)
    if bench.ddp_backend:
        import torch.distributed as dist
        dist.destroy_process_group()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
