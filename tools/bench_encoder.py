"""``skelzs bench encoder``: skeleton-encoder latency and throughput per backend.

For each backend: batch-1 latency (median, p95 over ``--repeat`` calls after warm-up) and throughput
(windows/s) at batch 32 and 256, through the same ``embed`` path ``skelzs.models.api`` uses (numpy in,
numpy out). ``--device cuda`` measures the torch CUDA variants instead: eager fp32, eager fp16
autocast, CUDA graphs (fp32, fp16) and optionally ``torch.compile``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

__all__ = ["register", "bench_callable", "machine_info"]


def machine_info(device: str = "cpu") -> dict:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count()}
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    if device == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    return info


def bench_callable(fn: Callable[[np.ndarray], object], make_batch: Callable[[int], np.ndarray], *, repeat: int = 50,
                   throughput_batches: tuple[int, ...] = (32, 256), budget_s: float = 3.0,
                   sync: Callable[[], None] = lambda: None) -> dict:
    """Batch-1 latency (median, p95, ms) and throughput (windows/s) at each of ``throughput_batches``."""
    x1 = make_batch(1)
    for _ in range(5):
        fn(x1)
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(x1)
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    out = {"batch1_median_ms": round(statistics.median(times), 3),
           "batch1_p95_ms": round(float(np.percentile(times, 95)), 3)}
    for b in throughput_batches:
        xb = make_batch(b)
        fn(xb)
        sync()
        n, t0 = 0, time.perf_counter()
        while True:
            fn(xb)
            sync()
            n += 1
            el = time.perf_counter() - t0
            if (n >= 3 and el > budget_s / 3) or el > budget_s:
                break
        out[f"batch{b}_windows_per_s"] = round(b * n / el, 1)
    return out


def _model(checkpoint: Optional[Path], arch: str, frames: Optional[int]):
    """(PGFA model, frames, persons, folder or None)."""
    if checkpoint is not None:
        from skelzs.models.checkpoint import load_checkpoint

        model, config = load_checkpoint(checkpoint)
        if config["method"] != "pgfa":
            from skelzs.stream.errors import SkelzsError

            raise SkelzsError("bench encoder measures PGFA-style checkpoints (one embedding per window)")
        w = config.get("window", {})
        return model, int(frames or w.get("frames", 50)), int(w.get("persons", 2)), Path(checkpoint), config
    import torch

    from skelzs.models.pgfa import PGFAConfig, PGFAModel

    torch.manual_seed(0)
    t = int(frames or (64 if arch == "shiftgcn" else 50))
    return PGFAModel(PGFAConfig(encoder=arch)).eval(), t, 2, None, None


def _cpu_results(model, frames, persons, folder, config, backends, repeat, threads, budget) -> dict:
    import torch

    from skelzs.models.backends import OnnxRuntimeBackend, TorchBackend, available_backends

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    make = lambda b: (rng.standard_normal((b, 3, frames, 25, persons)) * 0.3).astype(np.float32)  # noqa: E731
    have = available_backends()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = None
        if any(b.startswith("onnxruntime") for b in backends) or "tensorrt" in backends:
            if folder is not None:
                from skelzs.models.api import onnx_for_checkpoint

                onnx_path = onnx_for_checkpoint(folder, model, config)
            else:
                from skelzs.models.export import export_onnx

                onnx_path = export_onnx(model, Path(tmp) / "model.onnx", frames=frames, persons=persons)
        for name in backends:
            if name.split("-")[0] not in have:
                results[name] = {"skipped": _why_missing(name)}
                continue
            if name == "torch":
                be = TorchBackend(model, "cpu")
            elif name == "onnxruntime":
                be = OnnxRuntimeBackend(onnx_path, threads=threads)
            elif name == "onnxruntime-int8":
                be = _int8_backend(model, frames, persons, folder, config, onnx_path, threads, Path(tmp))
            else:
                from skelzs.models.backends import TensorRTBackend
                from skelzs.models.export import build_engine

                be = TensorRTBackend(build_engine(onnx_path))
            results[name] = bench_callable(be.embed, make, repeat=repeat, budget_s=budget)
    if "batch1_median_ms" in results.get("torch", {}) and "batch1_median_ms" in results.get("onnxruntime", {}):
        results["onnxruntime"]["speedup_vs_torch_batch1"] = round(
            results["torch"]["batch1_median_ms"] / results["onnxruntime"]["batch1_median_ms"], 2)
    fp32, int8 = results.get("onnxruntime", {}), results.get("onnxruntime-int8", {})
    if "batch1_median_ms" in fp32 and "batch1_median_ms" in int8:
        int8["speedup_vs_onnxruntime_fp32_batch1"] = round(fp32["batch1_median_ms"] / int8["batch1_median_ms"], 2)
        if fp32.get("batch32_windows_per_s") and int8.get("batch32_windows_per_s"):
            int8["speedup_vs_onnxruntime_fp32_batch32"] = round(
                int8["batch32_windows_per_s"] / fp32["batch32_windows_per_s"], 2)
    return results


def _int8_backend(model, frames, persons, folder, config, onnx_path, threads, tmp: Path):
    """ORT with the int8 per-person graphs (what ``load(..., precision="int8")`` runs)."""
    from skelzs.models.api import _torch_head
    from skelzs.models.backends import OnnxRuntimeBackend
    from skelzs.models.quantize import int8_person_graphs

    if folder is not None:
        from skelzs.models.api import person_onnx_for_checkpoint

        person = person_onnx_for_checkpoint(folder, model, config, for_int8=True)
    else:
        from skelzs.models.export import export_person_onnx

        person = export_person_onnx(model, tmp / "person", frames=frames, persons=persons, adjacency_first=False)

    return OnnxRuntimeBackend(onnx_path, threads=threads, providers=["CPUExecutionProvider"],
                              person_graphs=_int8_graphs(person, frames, config), head=_torch_head(model))


def _int8_graphs(person, frames, config):
    """The int8 graphs ``load(precision="int8")`` builds: calibrated at the checkpoint's fps and
    normalization (the ``stream`` pipeline at 30 fps without a checkpoint)."""
    from skelzs.models.quantize import int8_person_graphs
    from skelzs.stream.preprocess import PIPELINES

    config = config or {}
    window = config.get("window") or {}
    normalize = PIPELINES.get(config.get("stream_preprocess") or "stream", PIPELINES["stream"])
    return int8_person_graphs(person, frames, normalize, fps=float(window.get("fps", 30.0)))


def _why_missing(name: str) -> str:
    if name == "tensorrt":
        from skelzs.models.export import tensorrt_status

        return tensorrt_status()[1]
    return f"{name} is not installed"


def _cuda_results(model, frames, persons, repeat, budget, compile_: bool) -> dict:
    import torch
    import torch.nn.functional as F

    if not torch.cuda.is_available():
        from skelzs.stream.errors import SkelzsError

        raise SkelzsError("--device cuda: no CUDA GPU visible to torch")
    torch.backends.cudnn.benchmark = True
    model = model.cuda().eval()
    rng = np.random.default_rng(0)
    make = lambda b: (rng.standard_normal((b, 3, frames, 25, persons)) * 0.3).astype(np.float32)  # noqa: E731
    sync = torch.cuda.synchronize
    results = {}

    def eager(fp16: bool):
        def fn(x):
            t = torch.from_numpy(x).cuda(non_blocking=True)
            with torch.inference_mode(), torch.autocast("cuda", torch.float16, enabled=fp16):
                z = model(t)
            return F.normalize(z.float(), dim=-1).cpu().numpy()
        return fn

    def graphed(fp16: bool):
        graphs: dict[int, tuple] = {}

        def fn(x):
            b = x.shape[0]
            if b not in graphs:
                static_in = torch.zeros(x.shape, device="cuda")
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s), torch.inference_mode(), torch.autocast("cuda", torch.float16, enabled=fp16):
                    for _ in range(3):
                        model(static_in)
                torch.cuda.current_stream().wait_stream(s)
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g), torch.inference_mode(), torch.autocast("cuda", torch.float16, enabled=fp16):
                    static_out = F.normalize(model(static_in).float(), dim=-1)
                graphs[b] = (g, static_in, static_out)
            g, static_in, static_out = graphs[b]
            static_in.copy_(torch.from_numpy(x), non_blocking=True)
            g.replay()
            return static_out.cpu().numpy()
        return fn

    variants = {"torch-cuda-eager-fp32": eager(False), "torch-cuda-eager-fp16": eager(True),
                "torch-cuda-graph-fp32": graphed(False), "torch-cuda-graph-fp16": graphed(True)}
    if compile_:
        compiled = torch.compile(model, dynamic=False)  # default mode: max-autotune took minutes per shape

        def comp(x):
            t = torch.from_numpy(x).cuda(non_blocking=True)
            with torch.inference_mode(), torch.autocast("cuda", torch.float16):
                z = compiled(t)
            return F.normalize(z.float(), dim=-1).cpu().numpy()
        variants["torch-compile-fp16"] = comp
    ref = eager(False)(make(4))
    for name, fn in variants.items():
        t0 = time.perf_counter()
        try:
            got = fn(make(4))
        except Exception as err:  # noqa: BLE001 - report the variant as failed, keep measuring others
            results[name] = {"error": str(err).splitlines()[0][:200]}
            continue
        res = bench_callable(fn, make, repeat=repeat, budget_s=budget, sync=sync)
        res["first_call_s"] = round(time.perf_counter() - t0, 2)
        res["min_cosine_vs_fp32"] = round(float((got * ref).sum(1).min()), 5) if got.shape == ref.shape else None
        results[name] = res
    return results


def register(bench_app) -> None:
    import typer

    @bench_app.command("encoder")
    def encoder(
        checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="PGFA checkpoint folder (default: an untrained model of --arch)."),
        arch: str = typer.Option("stgcn", "--arch", help="stgcn | shiftgcn (when no --checkpoint)."),
        frames: Optional[int] = typer.Option(None, "--frames", help="Window length T (default: checkpoint, else 50 / 64)."),
        device: str = typer.Option("cpu", "--device", help="cpu: torch vs ONNX Runtime (vs TensorRT); cuda: torch CUDA variants."),
        backends: str = typer.Option("torch,onnxruntime,onnxruntime-int8,tensorrt", "--backends",
                                     help="CPU backends to measure (onnxruntime-int8: --precision int8)."),
        threads: int = typer.Option(0, "--threads", help="Intra-op threads for torch and ORT alike (0: CPU count, at most 4)."),
        repeat: int = typer.Option(50, "--repeat", help="Batch-1 calls measured after warm-up."),
        budget: float = typer.Option(3.0, "--budget", help="Seconds spent per throughput figure."),
        compile_: bool = typer.Option(False, "--compile", help="CUDA: also torch.compile (slow first call)."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object backend → figures."),
    ) -> None:
        """Latency (median, p95) at batch 1 and throughput at batch 32 and 256 per backend."""
        from skelzs.models.encoders import ENCODERS
        from skelzs.stream.errors import SkelzsError

        if checkpoint is None and arch not in ENCODERS:
            raise SkelzsError(f"--arch {arch!r}: expected one of {', '.join(ENCODERS)}")
        model, t, m, folder, config = _model(checkpoint, arch, frames)
        n_threads = threads or min(4, os.cpu_count() or 1)
        if device == "cuda":
            results = _cuda_results(model, t, m, repeat, budget, compile_)
        elif device == "cpu":
            results = _cpu_results(model, t, m, folder, config, [b.strip() for b in backends.split(",") if b.strip()],
                                   repeat, n_threads, budget)
        else:
            raise SkelzsError(f"--device must be cpu or cuda, got {device!r}")
        meta = {"model": str(checkpoint) if checkpoint else f"untrained PGFA {arch}", "window": [t, 25, m],
                "device": device, "threads": n_threads if device == "cpu" else None, "machine": machine_info(device)}
        if json_out:
            print(json.dumps({**results, "_meta": meta}))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"encoder: {meta['model']}, window T={t} M={m}, {device}"
                            + (f", {n_threads} threads" if device == "cpu" else ""))
        for col in ("backend", "b=1 median ms", "b=1 p95 ms", "b=32 win/s", "b=256 win/s", "note"):
            table.add_column(col)
        for name, r in results.items():
            if "batch1_median_ms" not in r:
                table.add_row(name, "-", "-", "-", "-", r.get("skipped") or r.get("error", ""))
                continue
            note = ""
            if "speedup_vs_torch_batch1" in r:
                note = f"{r['speedup_vs_torch_batch1']}x vs torch at b=1"
            if "speedup_vs_onnxruntime_fp32_batch1" in r:
                note = (f"{r['speedup_vs_onnxruntime_fp32_batch1']}x vs fp32 ORT at b=1, "
                        f"{r.get('speedup_vs_onnxruntime_fp32_batch32', '-')}x at b=32")
            table.add_row(name, f"{r['batch1_median_ms']:.2f}", f"{r['batch1_p95_ms']:.2f}",
                          f"{r.get('batch32_windows_per_s', 0):.0f}", f"{r.get('batch256_windows_per_s', 0):.0f}", note)
        Console().print(table)
