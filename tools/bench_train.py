"""``skelzs bench train``: training, data-loading and preparation throughput.

* **train**: PGFA ST-GCN (papers.md A.3) optimiser steps at batch 128 on 50-frame NTU windows
  (forward, KL loss, backward, SGD); median over timed steps after warm-up; bf16 autocast on CUDA.
* **loader**: batches of 128 read from a prepared float16 memory map through the training
  ``DataLoader`` (BatchSampler, one fancy index per batch) with 0 and 2+ workers — what the GPU
  would wait for; it must exceed the train figure.
* **prepare**: ``skelzs-train prepare folder`` over a folder of NTU ``.skeleton`` files (copies of
  ``--ntu-dir`` files, or generated ones), files per second with all cores.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer


def _train_throughput(device_name: str, batch: int, steps: int, warmup: int, amp: bool) -> dict:
    import torch

    from skelzs.train.methods import MethodContext, create_pgfa

    device = torch.device(device_name)
    torch.manual_seed(0)
    method = create_pgfa(MethodContext(dataset="ntu60", num_classes=60, frames=50, text_dim=384))
    model = method.model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, 50, 25, 2, device=device)
    y = torch.randint(0, 55, (batch,), device=device)
    text = torch.nn.functional.normalize(torch.randn(60, 384, device=device), dim=-1)
    amp = torch.bfloat16 if amp and device.type == "cuda" else None
    times = []
    for i in range(warmup + steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            loss, _ = method.training_step(model, x, y, text)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"batch": batch, "steps": steps, "median_step_s": med, "samples_per_s": batch / med,
            "precision": "bf16 autocast" if amp else "fp32",
            "params": sum(p.numel() for p in model.parameters())}


def _loader_throughput(tmp: Path, n: int, batch: int, workers: list[int]) -> dict:
    import numpy as np
    import torch
    from numpy.lib.format import open_memmap
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler

    from skelzs.train.dataset import BatchArrayDataset

    path = tmp / "data.npy"
    arr = open_memmap(path, mode="w+", dtype=np.float16, shape=(n, 3, 50, 25, 2))
    rng = np.random.default_rng(0)
    for i in range(0, n, 1024):
        arr[i : i + 1024] = rng.standard_normal((min(1024, n - i), 3, 50, 25, 2)).astype(np.float16)
    arr.flush()
    del arr
    data = np.load(path, mmap_mode="r")
    ds = BatchArrayDataset(data, np.zeros(n, np.int64), np.arange(n), dtype=data.dtype)  # as the training loop
    out = {}
    for w in workers:
        g = torch.Generator().manual_seed(0)
        loader = DataLoader(ds, sampler=BatchSampler(RandomSampler(ds, generator=g), batch, drop_last=True),
                            batch_size=None, num_workers=w)
        count, t0 = 0, None
        for x, _ in loader:  # the clock starts after the first batch (worker start-up excluded)
            if t0 is None:
                t0 = time.perf_counter()
                continue
            count += x.shape[0]
        out[f"workers_{w}"] = count / (time.perf_counter() - t0)
    return {"samples": n, "batch": batch, "samples_per_s": out}


def _prepare_throughput(tmp: Path, ntu_dir: Optional[Path], files: int, workers: int) -> dict:
    import numpy as np

    from skelzs.train.prepare import PrepareOptions, prepare

    raw = tmp / "raw"
    raw.mkdir()
    sources = sorted(ntu_dir.glob("*.skeleton")) if ntu_dir and ntu_dir.is_dir() else []
    if not sources:
        from skelzs.stream.ntu import write_ntu_skeleton
        from skelzs.stream.skeleton import SkeletonSequence

        rng = np.random.default_rng(0)
        for a in range(1, 4):
            j = rng.normal(0, 0.3, (100, 1, 25, 3)).astype(np.float32) + np.array([0, 0, 3], np.float32)
            p = tmp / f"S001C001P001R001A{a:03d}.skeleton"
            write_ntu_skeleton(p, SkeletonSequence(j))
            sources.append(p)
    (raw / "classes.txt").write_text("".join(f"class {i}\n" for i in range(120)))
    total_bytes = 0
    for i in range(files):
        src = sources[i % len(sources)]
        # unique names: setup and replication count the copies, camera/performer/action stay
        name = f"S{1 + i // 999:03d}{src.name[4:12]}R{1 + i % 999:03d}{src.name[16:]}"
        dst = raw / name
        shutil.copyfile(src, dst)
        total_bytes += dst.stat().st_size
    t0 = time.perf_counter()
    rep = prepare(PrepareOptions(dataset="folder", raw=raw, out=tmp / "prepared", workers=workers, progress=False))
    dt = time.perf_counter() - t0
    return {"files": files, "source": str(ntu_dir) if ntu_dir and ntu_dir.is_dir() else "generated",
            "workers": workers, "seconds": dt, "files_per_s": files / dt, "MB_per_s": total_bytes / dt / 1e6,
            "samples": rep.num_samples}


def bench_train(
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    device: str = typer.Option("cpu", "--device", help="cpu | cuda"),
    batch: int = typer.Option(128, "--batch", help="Training batch (PGFA: 128)."),
    steps: int = typer.Option(5, "--steps", help="Timed training steps."),
    threads: int = typer.Option(0, "--threads", help="torch CPU threads (0: torch default)."),
    ntu_dir: Optional[Path] = typer.Option(None, "--ntu-dir", help="NTU .skeleton files to copy for the prepare test "
                                           "(default: ../shared/data/ntu_skeleton if present, else generated)."),
    prepare_files: int = typer.Option(200, "--prepare-files", help="Files in the prepare test."),
    loader_samples: int = typer.Option(8192, "--loader-samples", help="Samples in the loader test."),
    skip: str = typer.Option("", "--skip", help="Comma-separated parts to skip: train,loader,prepare."),
) -> None:
    """Training throughput (samples/s), loader throughput and preparation throughput (files/s)."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        from skelzs.stream.errors import SkelzsError

        raise SkelzsError("--device cuda: CUDA is not available on this machine")
    if threads:
        torch.set_num_threads(threads)
    if ntu_dir is None:
        guess = Path(__file__).resolve().parents[2] / "shared" / "data" / "ntu_skeleton"
        ntu_dir = guess if guess.is_dir() else None
    skipped = {s.strip() for s in skip.split(",") if s.strip()}
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                    "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"},
    }
    with tempfile.TemporaryDirectory(prefix="skelzs-bench-train-") as d:
        tmp = Path(d)
        if "train" not in skipped:
            warm = 3 if device == "cpu" else 10
            if device.startswith("cuda"):  # fp32 and bf16 autocast side by side, same process
                result["train_fp32"] = _train_throughput(device, batch, max(steps, 20), warm, amp=False)
                result["train"] = _train_throughput(device, batch, max(steps, 20), warm, amp=True)
            else:
                result["train"] = _train_throughput(device, batch, steps, warm, amp=False)
        if "loader" not in skipped:
            (tmp / "loader").mkdir()
            result["loader"] = _loader_throughput(tmp / "loader", loader_samples, batch, [0, min(4, os.cpu_count() or 1)])
        if "prepare" not in skipped:
            (tmp / "prep").mkdir()
            result["prepare"] = _prepare_throughput(tmp / "prep", ntu_dir, prepare_files, os.cpu_count() or 1)
    if json_out:
        typer.echo(json.dumps(result, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    m = result["machine"]
    t = Table(title=f"skelzs bench train — {m['device']}, {m['cores']} cores, torch {m['torch']}")
    t.add_column("what")
    t.add_column("throughput", justify="right")
    t.add_column("details")
    for key in ("train_fp32", "train"):
        if key in result:
            r = result[key]
            t.add_row("train step (PGFA ST-GCN)", f"{r['samples_per_s']:.1f} samples/s",
                      f"batch {r['batch']}, median {1000 * r['median_step_s']:.1f} ms/step, {r['precision']}")
    if "loader" in result:
        for k, v in result["loader"]["samples_per_s"].items():
            t.add_row(f"loader ({k.replace('_', ' ')})", f"{v:.0f} samples/s", "float16 memmap, batch 128")
    if "prepare" in result:
        r = result["prepare"]
        t.add_row("prepare (frame50)", f"{r['files_per_s']:.1f} files/s",
                  f"{r['files']} NTU files ({r['source']}), {r['workers']} workers, {r['MB_per_s']:.1f} MB/s")
    Console().print(t)


def register(bench_app: typer.Typer) -> None:
    bench_app.command("train")(bench_train)
