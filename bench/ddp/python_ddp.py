#!/usr/bin/python3
"""The Python side of bench/ddp: the char_lstm training step under PyTorch's
DistributedDataParallel, started through torch.distributed.run.

    python_ddp.py launch --nproc 2 -- --batch 256 --steps 40 --warmup 3
        starts the workers through torch.distributed.run (patched, see below);
    python_ddp.py --batch 256 ...
        is one worker (torch.distributed.run sets RANK, WORLD_SIZE, ...).

Rank 0 prints one JSON line: {"impl": "python_ddp", "samples_per_s": ...}.
The model, loss, data and optimizer mirror bench/ddp/bench_ddp.cpp exactly.
"""
import argparse
import json
import os
import re
import sys
import time

ALPHABET = 31  # pad, stop, a-z, '-', '.', space (data/text/alphabet.h)
PAD = 0


def launch(argv):
    # Debian's torch 1.13.1 on Python 3.11: Std.from_str("0") iterates an
    # IntFlag, which no longer yields the zero member, and returns None;
    # torch.distributed.run then crashes on its default flags. Parse it directly.
    from torch.distributed.elastic.multiprocessing import api

    def from_str(vm):
        if re.fullmatch(r"[0-3]", vm):
            return api.Std(int(vm))
        if re.fullmatch(r"(\d:[0-3],)*\d:[0-3]", vm):
            return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        raise ValueError(f"{vm} is not a redirect setting")

    api.Std.from_str = staticmethod(from_str)
    from torch.distributed import run

    parser = argparse.ArgumentParser()
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--master-port", type=int, default=29631)
    args, rest = parser.parse_known_args(argv)
    if rest and rest[0] == "--":
        rest = rest[1:]
    run.main(["--nproc_per_node", str(args.nproc), "--master_addr", "127.0.0.1",
              "--master_port", str(args.master_port), os.path.abspath(__file__)] + rest)


def worker(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--context", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-sync", action="store_true", help="skip gradient communication (the bound)")
    args = parser.parse_args(argv)

    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()

    class CharLstm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(ALPHABET, args.hidden, num_layers=args.layers,
                                      dropout=0.1 if args.layers > 1 else 0.0, batch_first=True)
            self.head = torch.nn.Linear(args.hidden, ALPHABET)

        def forward(self, inputs):
            x = F.one_hot(inputs, ALPHABET).float()
            return self.head(self.lstm(x)[0])

    def loss_of(logits, target):
        per_position = F.cross_entropy(logits.reshape(-1, ALPHABET), target.reshape(-1), reduction="none")
        mask = (target != PAD).float()
        return ((per_position.view_as(mask) * mask).sum(1) / mask.sum(1).clamp_min(1.0)).mean()

    torch.manual_seed(1)
    model = torch.nn.parallel.DistributedDataParallel(CharLstm())
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    torch.manual_seed(100 + rank)
    batches = [(torch.randint(2, ALPHABET, (args.batch, args.context)),
                torch.randint(1, ALPHABET, (args.batch, args.context))) for _ in range(4)]

    def step(k):
        inputs, target = batches[k % len(batches)]
        opt.zero_grad()
        if args.no_sync:
            with model.no_sync():
                loss = loss_of(model(inputs), target)
                loss.backward()
        else:
            loss = loss_of(model(inputs), target)
            loss.backward()
        opt.step()
        return loss

    for k in range(args.warmup):
        step(k)
    dist.barrier()
    start = time.perf_counter()
    for k in range(args.steps):
        loss = step(k)
    dist.barrier()
    elapsed = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"impl": "python_ddp_nosync" if args.no_sync else "python_ddp", "world": world,
                          "batch": args.batch, "steps": args.steps, "seconds": elapsed,
                          "samples_per_s": world * args.batch * args.steps / elapsed,
                          "loss": float(loss)}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "launch":
        launch(sys.argv[2:])
    else:
        worker(sys.argv[1:])
