"""Core performance: matmul peak, MLP/conv training-step utilisation, where a step's time goes,
eager vs channels-last vs bf16 autocast vs torch.compile, and DDP 1 vs 2 processes.

    python -m bench core [--compile] [--no-ddp]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch  # noqa: E402  (after common pins OMP_WAIT_POLICY)
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from bench.common import matmul_peak_flops, pin_threads, save_result, table, timeit


def step_flops(model, x, loss_fn) -> int:
    with FlopCounterMode(display=False) as fc:
        loss_fn(model, x).backward()
    model.zero_grad(set_to_none=True)
    return fc.get_total_flops()


def book_mlp_ae():
    from genlab.autoencoders.nets import mlp

    return nn.Sequential(mlp([784, 512, 256, 32]), nn.ReLU(), mlp([32, 256, 512, 784], nn.Sigmoid()))


def conv_net():
    """A ~1M-parameter conv classifier-like net (the issue's reference workload)."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 128, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(256, 256, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(256, 10),
    )


def mse_loss(model, x):
    return F.mse_loss(model(x.flatten(1)), x.flatten(1))


def ce_loss(model, x):
    return F.cross_entropy(model(x), torch.zeros(len(x), dtype=torch.long))


def train_step_profile(model, data, batch, loss_fn, steps=20):
    """Median seconds per phase of a training step: data, forward, backward, optimiser."""
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    phases = {"data": [], "forward": [], "backward": [], "optim": []}
    g = torch.Generator().manual_seed(0)
    for i in range(steps + 3):
        t0 = time.perf_counter()
        x = data[torch.randint(len(data), (batch,), generator=g)]
        t1 = time.perf_counter()
        loss = loss_fn(model, x)
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        if i >= 3:  # warm-up steps excluded
            for k, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                phases[k].append(dt)
    med = {k: sorted(v)[len(v) // 2] for k, v in phases.items()}
    med["total"] = sum(med.values())
    return med


def mlp_utilisation(peak: float) -> dict:
    from genlab.data.datasets import embedded_mnist

    data = embedded_mnist().x_train
    model = book_mlp_ae()
    flops = step_flops(model, data[:512], mse_loss)
    prof = train_step_profile(model, data, 512, mse_loss)
    return {
        "workload": "book AE MLP 784-512-256-32, batch 512, fp32",
        "step_ms": prof["total"] * 1e3,
        "samples_per_s": 512 / prof["total"],
        "gflop_per_step": flops / 1e9,
        "mfu": flops / prof["total"] / peak,
        **{f"{k}_ms": v * 1e3 for k, v in prof.items() if k != "total"},
    }


def conv_variants(peak: float, compile_too: bool) -> list[dict]:
    x = torch.rand(64, 1, 28, 28)
    rows = []

    def run(name, model, x, autocast=False):
        opt = torch.optim.Adam(model.parameters(), 1e-3)

        def step():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                loss = ce_loss(model, x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        t_first = time.perf_counter()
        step()
        first = time.perf_counter() - t_first
        sec = timeit(step, warmup=2, repeat=7)
        rows.append({"variant": name, "step_ms": sec * 1e3, "first_step_s": first})
        return sec

    torch.manual_seed(0)
    base = conv_net()
    flops = step_flops(base, x, ce_loss)
    eager = run("eager fp32", base, x)
    torch.manual_seed(0)
    run("channels-last", conv_net().to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last))
    torch.manual_seed(0)
    run("bf16 autocast", conv_net(), x, autocast=True)
    if compile_too:
        torch.manual_seed(0)
        run("torch.compile", torch.compile(conv_net()), x)
    for r in rows:
        r["vs_eager"] = r["step_ms"] / (eager * 1e3)
        r["mfu_fp32_peak"] = flops / (r["step_ms"] / 1e3) / peak
    return rows


def ddp_throughput(steps: int = 60) -> list[dict]:
    """genlab train ae (book MLP) for STEPS steps, 1 process vs torchrun 2 processes, same global batch."""
    rows = []
    common = [
        "train",
        "ae",
        "--steps",
        str(steps),
        "--set",
        "arch=mlp",
        "--set",
        "batch_size=256",
        "--set",
        "log_every=10",
        "--set",
        "ckpt_every=100000",
        "--set",
        "tensorboard=false",
        "--set",
        "progress=false",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for procs in (1, 2):
            out = Path(tmp) / f"p{procs}"
            threads = str(max(1, (os.cpu_count() or 2) // procs))
            env = dict(os.environ, OMP_NUM_THREADS=threads, GENLAB_THREADS=threads)
            cmd = [sys.executable, "-m", "genlab", *common, "--out", str(out)]
            if procs > 1:
                cmd = [
                    "torchrun",
                    "--standalone",
                    "--nproc_per_node",
                    str(procs),
                    "-m",
                    "genlab",
                    *common,
                    "--out",
                    str(out),
                ]
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if r.returncode != 0:
                rows.append({"processes": procs, "error": r.stderr.strip().splitlines()[-1][:120]})
                continue
            rec = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            first, last = rec[0], rec[-1]
            sec = last["elapsed_s"] - first["elapsed_s"]
            n = (last["step"] - first["step"]) * 256
            rows.append(
                {"processes": procs, "threads_each": int(threads), "samples_per_s": n / sec, "final_loss": last["loss"]}
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench core", description=__doc__.splitlines()[0])
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd convolution steps")
    p.add_argument("--no-ddp", action="store_true", help="skip the two-process DDP throughput")
    a = p.parse_args(argv)
    settings = pin_threads()
    peak = matmul_peak_flops()
    print(f"threads: {settings}; fp32 matmul peak (best of 1024^3-3072^3): {peak / 1e9:.1f} GFLOP/s")
    mlp = mlp_utilisation(peak)
    print(
        table(
            [mlp],
            [
                "workload",
                "step_ms",
                "samples_per_s",
                "gflop_per_step",
                "mfu",
                "data_ms",
                "forward_ms",
                "backward_ms",
                "optim_ms",
            ],
        )
    )
    conv = conv_variants(peak, a.compile)
    print(table(conv, ["variant", "step_ms", "vs_eager", "first_step_s", "mfu_fp32_peak"]))
    ddp = [] if a.no_ddp else ddp_throughput()
    if ddp:
        print(table(ddp))
    path = save_result(
        "core", {"settings": settings, "matmul_peak_gflops": peak / 1e9, "mlp": mlp, "conv": conv, "ddp": ddp}
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
