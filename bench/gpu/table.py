#!/usr/bin/env python3
"""The GPU benchmark's table: PyTorch's and Tandem's JSON lines (pytorch_char_lstm.py,
bench_gpu) side by side in markdown, with the issue's targets marked met or not met.

  table.py PYTORCH.jsonl TANDEM.jsonl [BATCHES PRECISIONS]

BATCHES and PRECISIONS (comma-separated) are what the run asked for: a row that neither side
reached then shows as not run, and no target is met on rows that are missing. Plain Python 3
(no torch): it only reads the files.
"""
import json
import sys

TARGET_SMALL = 1.5  # Tandem / PyTorch DDP at batch 64 and 256
TARGET_LARGE = 1.0  # Tandem / PyTorch DDP at batch >= 4,096
TARGET_BF16_SPS = 2.5e6  # bf16-mixed samples/s at 65,536


def read(path):
    header, rows = {}, {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if "variant" in r:
                    rows[(r["variant"], r["precision"], r["batch"])] = r
                else:
                    header = r
    except OSError:
        pass
    return header, rows


def cell(r, why_missing="not run"):
    if r is None:
        return why_missing
    if "skipped" in r:
        return r["skipped"]
    if "error" in r:
        return "failed: " + r["error"][:80].replace("|", "/")
    return f"{r['samples_per_s']:,.0f} ({r['step_ms']:.2f} ms)"


def rate(r):
    return r["samples_per_s"] if r is not None and "samples_per_s" in r else None


def ratio(a, b):
    return a / b if a is not None and b is not None and b > 0 else None


def fmt_ratio(x):
    return f"{x:.2f}x" if x is not None else "n/a"


def verdict(ok, have, what):
    if not have:
        return f"- not measured: {what}"
    return f"- **{'met' if ok else 'not met'}**: {what}"


def main(pytorch_path, tandem_path, batches="", precisions=""):
    ph, prows = read(pytorch_path)
    th, trows = read(tandem_path)
    device = th.get("device") or ph.get("device") or "?"
    on_gpu = device.startswith("cuda")
    asked = {(p, int(b)) for p in precisions.split(",") if p for b in batches.split(",") if b}
    keys = sorted(asked | {(k[1], k[2]) for k in list(prows) + list(trows)}, key=lambda k: (k[0] != "fp32", k[0], k[1]))
    out = []
    gpu = ph.get("gpu", "no GPU")
    out.append(f"char_lstm (bench/gpu/char_lstm_4x128.yaml), world 1, data on the device; device {device} ({gpu}); "
               f"PyTorch {ph.get('torch', '?')}, Tandem's LibTorch {th.get('torch', '?')}; "
               f"samples/s (median step time over timed windows)")
    out.append("")
    ddp_name = "PyTorch DDP (NCCL)" if on_gpu else "PyTorch DDP (Gloo, CPU)"
    out.append(f"| batch | precision | PyTorch eager | {ddp_name} | PyTorch CUDA graph | Tandem DDP "
               f"| Tandem / PyTorch DDP | Tandem / eager |")
    out.append("|---|---|---|---|---|---|---|---|")
    checks_small, checks_eager, checks_large, bf16_big = [], [], [], None
    for precision, batch in keys:
        e, d, g = (prows.get((v, precision, batch)) for v in ("eager", "ddp", "graph"))
        t = trows.get(("ddp", precision, batch))
        t_over_d, t_over_e = ratio(rate(t), rate(d)), ratio(rate(t), rate(e))
        out.append(f"| {batch:,} | {precision} | {cell(e)} | {cell(d)} | {cell(g, 'n/a (no GPU)' if not on_gpu else 'not run')} "
                   f"| {cell(t)} | {fmt_ratio(t_over_d)} | {fmt_ratio(t_over_e)} |")
        if batch >= 4096:
            checks_large.append((precision, batch, t_over_d))
        checks_eager.append((precision, batch, t_over_e))
        if precision == "bf16" and batch == 65536:
            bf16_big = rate(t)
    diffs = []
    for (variant, precision, batch), r in prows.items():
        t = trows.get(("ddp", precision, batch))
        if variant == "eager" and t and "first_loss" in r and "first_loss" in t:
            diffs.append((abs(t["first_loss"] - r["first_loss"]) / max(abs(r["first_loss"]), 1e-12), precision, batch))
    if diffs:
        worst = max(diffs)
        out.append("")
        out.append(f"Same model, data and seed on both sides: the first step's loss differs between PyTorch eager and "
                   f"Tandem by at most {worst[0]:.1e} relative ({worst[1]}, batch {worst[2]:,}; "
                   f"{len(diffs)} pairs).")
    # The small-batch target needs both batches in every precision of the run, measured or not.
    for precision in sorted({p for p, _ in keys}, key=lambda p: (p != "fp32", p)):
        for batch in (64, 256):
            t, d = trows.get(("ddp", precision, batch)), prows.get(("ddp", precision, batch))
            checks_small.append((precision, batch, ratio(rate(t), rate(d))))
    out.append("")
    out.append("Targets (issue 15, on one H100; ratios from this run):" if on_gpu else
               "Targets (issue 15; they are for one H100, so on this CPU run they only prove the plumbing):")

    def listed(checks, bound):
        """The rows below the bound, or the lowest one when none is."""
        if not checks:
            return "no such batch in this run"
        missing = [f"{p} {b:,}" for p, b, x in checks if x is None]
        if missing:
            return "no ratio for " + ", ".join(missing)
        below = [(p, b, x) for p, b, x in checks if x < bound]
        shown = below or [min(checks, key=lambda c: c[2])]
        return (("below: " if below else "lowest: ") + ", ".join(f"{p} {b:,}: {fmt_ratio(x)}" for p, b, x in shown)
                + f"; {len(checks)} rows")

    def judge(checks, bound, what):
        have = bool(checks) and all(x is not None for _, _, x in checks)
        ok = have and all(x >= bound for _, _, x in checks)
        return verdict(ok, have, f"{what} ({listed(checks, bound)})")

    out.append(judge(checks_small, TARGET_SMALL, "Tandem >= 1.5x PyTorch DDP at batch 64 and 256"))
    out.append(judge(checks_eager, 1.0, "Tandem never below PyTorch eager"))
    out.append(judge(checks_large, TARGET_LARGE, "Tandem >= 1.0x PyTorch DDP at batch >= 4,096"))
    out.append(verdict(bf16_big is not None and bf16_big >= TARGET_BF16_SPS, bf16_big is not None,
                       "Tandem bf16-mixed >= 2.5M samples/s at batch 65,536"
                       + (f" ({bf16_big:,.0f})" if bf16_big is not None else "")))
    out.append("")
    out.append("Tandem at world 1 runs its DDP buckets and hooks over the local communicator (no collective); "
               "PyTorch DDP at world 1 all-reduces through its process group. The CUDA-graph column is the "
               "ceiling a captured Tandem step will aim past; it has no target.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
