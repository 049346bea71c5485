"""``skelzs bench pipeline``: the streaming pipeline's speed, measured end to end.

1. **live**: MediaPipe on a real video played as a 30 fps camera (``VideoSource`` realtime: a
   grabber paced at the file's fps that keeps only the newest image) through the whole in-process
   pipeline (pose → inproc ZeroMQ → windows → encoder → matcher → events). Reports input vs
   processed fps, frames dropped at capture, per-stage latency, *compute latency* (a window's last
   frame grabbed → its event, window fill excluded) and *decision latency* (the window's first
   frame grabbed → its event, window fill included). Torch gets one thread (MediaPipe has the
   other core), the fair split on a 2-core machine.
2. **replay**: recordings (the real NTU/PKU files) pushed as fast as possible through the same
   pipeline (``live=False``: every window encoded), once with one window per encoder call and once
   with batching (up to 64 windows per call); windows per second end to end.
3. **hop**: ZeroMQ cost per frame (encode + send + receive + validate) over inproc, ipc and tcp
   (127.0.0.1), and the one-way latency of a single frame over tcp.

Without ``--checkpoint`` (and no ``assets/default``), an *untrained* PGFA ST-GCN checkpoint is
created in a temporary folder with ``skelzs.models`` — right for timing, meaningless for labels.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

__all__ = ["register", "bench_hop", "bench_live", "bench_replay", "untrained_checkpoint"]

LABELS = ["drink water", "wave hand", "fall down", "sit down", "stand up", "jump up", "throw", "clapping"]


def untrained_checkpoint(folder: Path) -> Path:
    """An untrained PGFA (ST-GCN) checkpoint saved with ``save_checkpoint`` (timing only)."""
    from skelzs.models.checkpoint import save_checkpoint
    from skelzs.models.pgfa import PGFAConfig, PGFAModel, pgfa_checkpoint_config

    cfg = PGFAConfig()
    model = PGFAModel(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint(folder, model, pgfa_checkpoint_config(cfg))
    return folder


def _shared_data() -> Path:
    repo = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("SKELZS_SHARED_DATA", repo.parent / "shared" / "data")).resolve()


def _machine() -> str:
    try:
        import torch

        tv = torch.__version__
    except ImportError:
        tv = "-"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {tv}"


# ----------------------------------------------------------------------------- hop
def bench_hop(n: int = 20000) -> dict[str, Any]:
    import zmq

    from skelzs.stream.transport import FrameReceiver, FrameSender
    from skelzs.stream.wire import WireFrame

    joints = np.random.default_rng(0).normal(size=(25, 3)).astype(np.float32)
    conf = np.ones(25, np.float32)
    out: dict[str, Any] = {}
    for transport in ("inproc", "ipc", "tcp"):
        ctx = zmq.Context()
        ep = {"inproc": "inproc://bench-hop", "ipc": f"ipc://{tempfile.mkdtemp()}/hop",
              "tcp": "tcp://127.0.0.1:0"}[transport]
        tx = FrameSender(ep, "push", context=ctx, hwm=100_000)
        rx = FrameReceiver(tx.endpoint, "push", context=ctx, hwm=100_000)
        tx.wait_ready(5)

        def send() -> None:
            for i in range(n):
                tx.send_frame(WireFrame(1, 0, i, i / 30.0, joints, conf))

        t0 = time.perf_counter()
        th = threading.Thread(target=send)
        th.start()
        got = 0
        while got < n:
            if rx.poll(5.0):
                got += len(rx.drain())
            else:
                break
        dt = time.perf_counter() - t0
        th.join()
        out[transport] = {"frames": got, "us_per_frame": round(dt / max(got, 1) * 1e6, 2),
                          "frames_per_s": round(got / dt)}
        tx.close()
        rx.close()
        ctx.term()
    # one-way latency of a lone frame over tcp (sender stamps time.monotonic())
    ctx = zmq.Context()
    tx = FrameSender("tcp://127.0.0.1:0", "push", context=ctx)
    rx = FrameReceiver(tx.endpoint, "push", context=ctx)
    tx.wait_ready(5)
    lat = []
    for i in range(500):
        tx.send_frame(WireFrame(1, 0, i, time.monotonic(), joints, conf))
        msg = rx.recv(1.0)
        lat.append((time.monotonic() - msg.timestamp) * 1e6)
    tx.close()
    rx.close()
    ctx.term()
    out["tcp_one_way_us"] = {"p50": round(float(np.percentile(lat, 50)), 1),
                             "p95": round(float(np.percentile(lat, 95)), 1)}
    return out


# ----------------------------------------------------------------------------- live
def bench_live(model, video: Path, *, max_persons: int = 2, stride: int = 8) -> dict[str, Any]:
    import torch

    from skelzs.stream.events import MemorySink, SinkSet
    from skelzs.stream.pipeline import PipelineStats, Recognizer, normalizer_for, run_in_process, window_config_for
    from skelzs.stream.sources.pose import PoseOptions, PoseSource
    from skelzs.stream.sources.video import VideoOptions, VideoSource
    from skelzs.stream.window import WindowAssembler

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rec = Recognizer(model, LABELS)
        stats = PipelineStats()
        asm = WindowAssembler(window_config_for(model, stride), normalizer_for(model, live=True))
        src = PoseSource(VideoSource(VideoOptions(video, realtime=True)), PoseOptions(max_persons=max_persons))
        input_fps = src.fps
        n_in = src.images.frame_count
        # warm up MediaPipe and the encoder outside the timed run
        import cv2

        cap = cv2.VideoCapture(str(video))
        ok, img = cap.read()
        cap.release()
        for i in range(3):
            src.estimator.estimate(img, -10.0 + i * 0.033)
        src.estimator.tracker.tracks.clear()
        cfg = window_config_for(model, stride)
        model.encode_skeleton(np.zeros((1, 3, cfg.frames, 25, cfg.persons), np.float32))
        sinks = SinkSet([MemorySink()])
        t0 = time.monotonic()
        with src:
            run_in_process([src], rec, asm, sinks, live=True, stats=stats)
        wall = time.monotonic() - t0
    finally:
        torch.set_num_threads(threads)
    s = stats.summary()
    c = s["counters"]
    processed = c["frames_captured"]
    return {
        "video": video.name, "frames_in_file": n_in, "input_fps": round(input_fps, 2),
        "wall_s": round(wall, 2), "frames_processed": processed,
        "processed_fps": round(processed / (n_in / input_fps), 2) if n_in else None,
        "pose_fps_capacity": round(1000.0 / s["latency_ms"]["pose"]["p50"], 1) if "pose" in s["latency_ms"] else None,
        "dropped_capture": c["dropped_capture"], "dropped_send": c["dropped_send"],
        "windows": c["windows"], "windows_skipped": c["windows_skipped"], "events": c["events"],
        "latency_ms": s["latency_ms"],
    }


# ----------------------------------------------------------------------------- replay
def bench_replay(model, files: list[Path], *, repeat: int = 4, stride: int = 8) -> dict[str, Any]:
    from skelzs.stream.events import MemorySink, SinkSet
    from skelzs.stream.pipeline import PipelineStats, Recognizer, normalizer_for, run_in_process, window_config_for
    from skelzs.stream.sources.replay import ReplayOptions, ReplaySource, load_recording
    from skelzs.stream.window import WindowAssembler

    seqs = [(f, load_recording(f)) for f in files]
    cfg = window_config_for(model, stride)
    model.encode_skeleton(np.zeros((4, 3, cfg.frames, 25, cfg.persons), np.float32))   # warm-up
    out: dict[str, Any] = {"files": [f.name for f in files], "repeat": repeat}
    for batch in (1, 64):
        rec = Recognizer(model, LABELS, max_batch=batch)
        stats = PipelineStats()
        asm = WindowAssembler(window_config_for(model, stride), normalizer_for(model, live=True))
        sources = [ReplaySource(ReplayOptions(f, source_id=i * len(seqs) + j), sequence=s)
                   for i in range(repeat) for j, (f, s) in enumerate(seqs)]
        t0 = time.perf_counter()
        run_in_process(sources, rec, asm, SinkSet([MemorySink()]), live=False, stats=stats)
        dt = time.perf_counter() - t0
        c = stats.counters
        out[f"batch_{batch}"] = {"windows": c["windows"], "frames": c["frames_in"], "seconds": round(dt, 3),
                                 "windows_per_s": round(c["windows"] / dt, 1),
                                 "frames_per_s": round(c["frames_in"] / dt),
                                 "encoder_calls": c["encoder_calls"]}
    out["batching_speedup"] = round(out["batch_64"]["windows_per_s"] / out["batch_1"]["windows_per_s"], 2)
    # The same run with the encoder call replaced by a precomputed answer: what the stream stages
    # (parse, ZeroMQ, windows, normalization, matcher, events) sustain without the model.
    rec = Recognizer(_NoEncoder(model), LABELS, max_batch=64)
    stats = PipelineStats()
    asm = WindowAssembler(window_config_for(model, stride), normalizer_for(model, live=True))
    sources = [ReplaySource(ReplayOptions(f, source_id=i * len(seqs) + j), sequence=s)
               for i in range(repeat) for j, (f, s) in enumerate(seqs)]
    t0 = time.perf_counter()
    run_in_process(sources, rec, asm, SinkSet([MemorySink()]), live=False, stats=stats)
    dt = time.perf_counter() - t0
    out["stages_without_encoder"] = {"windows": stats.counters["windows"], "seconds": round(dt, 3),
                                     "windows_per_s": round(stats.counters["windows"] / dt, 1)}
    # The encoder alone on batches of 64 windows (its ceiling for end-to-end windows/s).
    x = np.random.default_rng(0).normal(size=(64, 3, cfg.frames, 25, cfg.persons)).astype(np.float32)
    model.encode_skeleton(x)
    t0 = time.perf_counter()
    for _ in range(3):
        model.encode_skeleton(x)
    out["encoder_only_batch_64"] = {"windows_per_s": round(3 * 64 / (time.perf_counter() - t0), 1)}
    return out


class _NoEncoder:
    """Stands in for the encoder call only (fixed unit embeddings); everything else is real."""

    supports_embeddings = True

    def __init__(self, model):
        self._m = model
        self.logit_scale = model.logit_scale
        self.config = model.config
        self._text = None

    def encode_text(self, labels, template=None):
        self._text = self._m.encode_text(labels, template)
        return self._text

    def encode_skeleton(self, windows):
        return np.repeat(self._text[:1], len(windows), axis=0)


def register(bench_app: typer.Typer) -> None:

    @bench_app.command("pipeline")
    def pipeline(
        checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", "-c", help="Checkpoint (default: assets/default, else an untrained PGFA)."),
        backend: str = typer.Option("auto", "--backend"),
        video: Optional[Path] = typer.Option(None, "--video", help="Video for the live run (default: the shared basketball clip)."),
        json_out: bool = typer.Option(False, "--json", help="Machine-readable result on stdout."),
        repeat: int = typer.Option(4, "--repeat", help="Replay the recordings this many times."),
        skip_live: bool = typer.Option(False, "--skip-live"),
    ) -> None:
        """MediaPipe live at 30 fps, replay windows/s with and without batching, ZeroMQ hop cost."""
        from skelzs.assets import asset_path
        from skelzs.models.api import load

        data = _shared_data()
        with tempfile.TemporaryDirectory() as tmp:
            note = "given checkpoint"
            if checkpoint is None:
                if asset_path("default").exists():
                    checkpoint, note = asset_path("default"), "assets/default"
                else:
                    checkpoint = untrained_checkpoint(Path(tmp) / "untrained")
                    note = "untrained PGFA ST-GCN created for timing (labels meaningless)"
            model = load(checkpoint, backend=backend)
            result: dict[str, Any] = {"machine": _machine(), "checkpoint": note,
                                      "window_frames": getattr(model, "window_frames", None),
                                      "backend": getattr(model, "backend_name", backend)}
            result["hop"] = bench_hop()
            files = sorted((data / "ntu_skeleton").glob("*.skeleton")) + \
                [data / "pku_mmd" / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"]
            result["replay"] = bench_replay(model, [f for f in files if f.exists()], repeat=repeat)
            if not skip_live:
                vids = [video] if video else [data / "videos" / "mmaction2_test_video_structuralize_basketball.mp4",
                                              data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"]
                result["live"] = [bench_live(model, v) for v in vids if v.exists()]
        if json_out:
            print(json.dumps(result, indent=1))
            return
        from rich.console import Console
        from rich.table import Table

        con = Console()
        con.print(f"[bold]skelzs bench pipeline[/bold] — {result['machine']}; checkpoint: {note}")
        t = Table(title="replay, as fast as possible")
        for col in ("encoder batch", "windows", "windows/s", "frames/s", "encoder calls"):
            t.add_column(col)
        for b in ("batch_1", "batch_64"):
            r = result["replay"][b]
            t.add_row(b.split("_")[1], str(r["windows"]), str(r["windows_per_s"]), str(r["frames_per_s"]), str(r["encoder_calls"]))
        con.print(t)
        r = result["replay"]
        con.print(f"stream stages without the encoder: {r['stages_without_encoder']['windows_per_s']} windows/s; "
                  f"encoder alone (batch 64): {r['encoder_only_batch_64']['windows_per_s']} windows/s")
        for lv in result.get("live", []):
            lat = lv["latency_ms"]
            t = Table(title=f"live: {lv['video']} at {lv['input_fps']} fps input")
            t.add_column("measure")
            t.add_column("value")
            t.add_row("processed fps", f"{lv['processed_fps']} (capacity by pose p50: {lv['pose_fps_capacity']})")
            t.add_row("dropped at capture", str(lv["dropped_capture"]))
            for stage in ("pose", "capture", "hop", "buffer", "encoder", "matcher", "server", "compute", "decision"):
                if stage in lat:
                    t.add_row(f"{stage} ms p50 / p95", f"{lat[stage]['p50']} / {lat[stage]['p95']}")
            con.print(t)
        h = result["hop"]
        con.print("ZeroMQ hop per frame (µs): " + ", ".join(f"{k} {h[k]['us_per_frame']}" for k in ("inproc", "ipc", "tcp"))
                  + f"; tcp one-way p50 {h['tcp_one_way_us']['p50']} µs")
