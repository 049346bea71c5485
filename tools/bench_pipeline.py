"""``skelzs bench pipeline``: the streaming pipeline's speed, measured end to end.

1. **live**: MediaPipe on a real video played as a 30 fps camera (``VideoSource`` realtime: a
   grabber paced at the file's fps that keeps only the newest image) through the whole in-process
   pipeline (pose → inproc ZeroMQ → windows → encoder → matcher → events). Reports input vs
   processed fps, frames dropped at capture, per-stage latency, *compute latency* (a window's last
   frame grabbed → its event, window fill excluded) and *decision latency* (the window's first
   frame grabbed → its event, window fill included). Torch gets one thread (MediaPipe has the
   other core), the fair split on a 2-core machine. Once per ``--precision`` and ``--pose-engine``,
   over ``--live-rounds`` rounds in alternating order, with latencies pooled per configuration.
2. **replay**: recordings (the real NTU/PKU files) pushed as fast as possible through the same
   pipeline (``live=False``: every window encoded): fp32 with one window per encoder call and with
   batching (the backend's preferred batch, 64 on a CPU), and each other ``--precision`` (int8)
   batched; the runs interleaved over ``--rounds`` rounds, medians and ratios reported; windows
   per second end to end, the stream stages without the encoder, and each encoder alone.
3. **host noise**: the same fixed CPU work (numpy ufuncs over 400 k floats on one thread, a few ms) timed
   ``n`` times with pauses between, nothing else running: its p95/p50 says how much this machine
   alone stretches a fixed piece of work at the tail, to read the latency percentiles against.
4. **hop**: ZeroMQ cost per frame (encode + send + receive + validate) over inproc, ipc and tcp
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

__all__ = ["register", "bench_hop", "bench_host_noise", "bench_live", "bench_replay", "untrained_checkpoint"]

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


# ----------------------------------------------------------------------------- host noise
def bench_host_noise(n: int = 200, pause_s: float = 0.02) -> dict[str, Any]:
    """p50/p95/p99 (ms) of one fixed single-thread CPU job repeated ``n`` times, ``pause_s`` apart
    (the cadence of a frame loop, so the core may idle in between as it does live)."""
    a = np.random.default_rng(0).random(400_000)
    out = np.empty_like(a)
    times = []
    for i in range(n + 10):
        time.sleep(pause_s)
        t0 = time.perf_counter()
        for _ in range(4):                                # numpy ufuncs run on one thread
            np.exp(a, out=out)
            np.sqrt(out, out=out)
        if i >= 10:                                       # the first few warm caches and clocks up
            times.append((time.perf_counter() - t0) * 1e3)
    p50, p95, p99 = (float(np.percentile(times, q)) for q in (50, 95, 99))
    return {"runs": n, "p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "p99_ms": round(p99, 2),
            "p95_over_p50": round(p95 / p50, 2)}


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
def bench_live(model, video: Path, *, max_persons: int = 2, stride: int = 8, loops: int = 1,
               engine: str = "auto") -> dict[str, Any]:
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
        src = PoseSource(VideoSource(VideoOptions(video, realtime=True, loops=loops)), PoseOptions(max_persons=max_persons, engine=engine))
        input_fps = src.fps
        n_in = src.images.frame_count * loops
        # warm up MediaPipe and the encoder outside the timed run
        import cv2

        cap = cv2.VideoCapture(str(video))
        ok, img = cap.read()
        cap.release()
        for i in range(3):
            src.estimator.estimate(img, -10.0 + i * 0.033)
        src.estimator.reset()
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
        "video": video.name, "pose_engine": src.estimator.engine, "loops": loops, "frames_in": n_in, "input_fps": round(input_fps, 2),
        "wall_s": round(wall, 2), "frames_processed": processed,
        "processed_fps": round(processed / (n_in / input_fps), 2) if n_in else None,
        "pose_fps_capacity": round(1000.0 / s["latency_ms"]["pose"]["p50"], 1) if "pose" in s["latency_ms"] else None,
        "dropped_capture": c["dropped_capture"], "dropped_send": c["dropped_send"],
        "windows": c["windows"], "windows_skipped": c["windows_skipped"], "events": c["events"],
        "latency_ms": s["latency_ms"],
        "samples_ms": {k: [round(x, 3) for x in stats.lat[k]] for k in ("pose", "encoder", "compute")},
    }


def pool_live_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pool the per-window (and per-frame) latencies of repeated live runs of one configuration
    (video, pose engine, precision): percentiles over all their samples, counts summed. The
    ``samples_ms`` lists are taken out of the runs."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["video"], run["pose_engine"], run.get("precision")), []).append(run)
    pooled = []
    for (video, engine, precision), group in groups.items():
        row: dict[str, Any] = {"video": video, "pose_engine": engine, "precision": precision, "runs": len(group),
                               "frames_in": sum(r["frames_in"] for r in group),
                               "dropped_capture": sum(r["dropped_capture"] for r in group),
                               "windows": sum(r["windows"] for r in group),
                               "processed_fps": [r["processed_fps"] for r in group], "latency_ms": {}}
        for stage in ("pose", "encoder", "compute"):
            xs = np.concatenate([np.asarray(r["samples_ms"][stage], float) for r in group])
            if xs.size:
                row["latency_ms"][stage] = {"p50": round(float(np.percentile(xs, 50)), 2),
                                            "p95": round(float(np.percentile(xs, 95)), 2), "n": int(xs.size),
                                            "p95_by_run": [r["latency_ms"].get(stage, {}).get("p95") for r in group]}
        pooled.append(row)
    for run in runs:
        run.pop("samples_ms", None)
    return pooled


# ----------------------------------------------------------------------------- replay
def _replay_once(model, seqs, repeat: int, stride: int, batch: int | None) -> dict[str, Any]:
    from skelzs.stream.events import MemorySink, SinkSet
    from skelzs.stream.pipeline import PipelineStats, Recognizer, normalizer_for, run_in_process, window_config_for
    from skelzs.stream.sources.replay import ReplayOptions, ReplaySource
    from skelzs.stream.window import WindowAssembler

    rec = Recognizer(model, LABELS, max_batch=batch)
    stats = PipelineStats()
    asm = WindowAssembler(window_config_for(model, stride), normalizer_for(model, live=True))
    sources = [ReplaySource(ReplayOptions(f, source_id=i * len(seqs) + j), sequence=s)
               for i in range(repeat) for j, (f, s) in enumerate(seqs)]
    t0 = time.perf_counter()
    run_in_process(sources, rec, asm, SinkSet([MemorySink()]), live=False, stats=stats)
    dt = time.perf_counter() - t0
    c = stats.counters
    return {"batch": rec.max_batch, "windows": c["windows"], "frames": c["frames_in"], "seconds": round(dt, 3),
            "windows_per_s": round(c["windows"] / dt, 1), "frames_per_s": round(c["frames_in"] / dt),
            "encoder_calls": c["encoder_calls"]}


def bench_replay(models: dict[str, Any], files: list[Path], *, repeat: int = 4, stride: int = 8,
                 rounds: int = 3) -> dict[str, Any]:
    """Windows/s end to end for each ``name -> model`` (fp32 at batch 1 and at the backend's preferred
    batch, other precisions at the preferred batch), the runs interleaved over ``rounds`` rounds and
    medians reported, so that every configuration sees the same machine."""
    from skelzs.stream.pipeline import window_config_for
    from skelzs.stream.sources.replay import load_recording

    seqs = [(f, load_recording(f)) for f in files]
    first = next(iter(models.values()))
    cfg = window_config_for(first, stride)
    runs: list[tuple[str, Any, int | None]] = []
    for name, model in models.items():
        model.encode_skeleton(np.zeros((4, 3, cfg.frames, 25, cfg.persons), np.float32))   # warm-up
        batches = [1, model.preferred_batch] if name == "fp32" else [model.preferred_batch]
        runs += [(f"{name}_batch_{b}", model, b) for b in dict.fromkeys(batches)]
    samples: dict[str, list[dict[str, Any]]] = {key: [] for key, _, _ in runs}
    for _ in range(rounds):
        for key, model, batch in runs:
            samples[key].append(_replay_once(model, seqs, repeat, stride, batch))
    out: dict[str, Any] = {"files": [f.name for f in files], "repeat": repeat, "rounds": rounds}
    for key, rows in samples.items():
        med = sorted(rows, key=lambda r: r["windows_per_s"])[len(rows) // 2]
        out[key] = dict(med, windows_per_s_all=[r["windows_per_s"] for r in rows])
    if "fp32_batch_1" in out:
        base = out["fp32_batch_1"]["windows_per_s"]
        out["speedup_vs_fp32_batch_1"] = {k: round(v["windows_per_s"] / base, 2) for k, v in out.items()
                                          if isinstance(v, dict) and "windows_per_s" in v}
    # The same run with the encoder call replaced by a precomputed answer: what the stream stages
    # (parse, ZeroMQ, windows, normalization, matcher, events) sustain without the model.
    out["stages_without_encoder"] = _replay_once(_NoEncoder(first), seqs, repeat, stride, 64)
    # Each encoder alone on the replay's own windows (its ceiling for end-to-end windows/s).
    windows = _replay_windows(first, seqs, stride)
    for name, model in models.items():
        b = model.preferred_batch
        t0 = time.perf_counter()
        for i in range(0, len(windows), b):
            model.encode_skeleton(windows[i: i + b])
        out[f"encoder_only_{name}"] = {"windows": len(windows), "batch": b,
                                       "windows_per_s": round(len(windows) / (time.perf_counter() - t0), 1)}
    return out


def _replay_windows(model, seqs, stride: int) -> np.ndarray:
    """The normalized windows one pass of the replay encodes (every ``stride`` frames per recording)."""
    from skelzs.stream.pipeline import normalizer_for, window_config_for

    cfg = window_config_for(model, stride)
    normalize = normalizer_for(model, live=True)
    out = []
    for _, seq in seqs:
        seq = seq.with_persons(cfg.persons)
        for start in range(0, max(1, seq.num_frames - cfg.frames + 1), stride):
            out.append(normalize(seq.slice(start, start + cfg.frames), cfg.frames))
    return np.stack(out).astype(np.float32)


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
        precisions: str = typer.Option("fp32,int8", "--precision",
                                       help="Encoder precisions to compare (fp32, int8; comma-separated). "
                                            "int8 needs ONNX Runtime."),
        rounds: int = typer.Option(3, "--rounds", help="Interleaved rounds of the replay runs (medians)."),
        loops: int = typer.Option(4, "--loops", help="Play each live video this many times in a row (more windows "
                                                      "for the latency percentiles)."),
        pose_engines: str = typer.Option("litert,mediapipe", "--pose-engine",
                                         help="Pose engines to compare in the live runs (litert, mediapipe; "
                                              "comma-separated), run alternately."),
        live_rounds: int = typer.Option(1, "--live-rounds",
                                        help="Rounds of the live runs, in alternating order; latency "
                                             "percentiles are pooled over the rounds (live_pooled)."),
    ) -> None:
        """MediaPipe live at 30 fps, replay windows/s by batch and precision, ZeroMQ hop cost."""
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
            names = [p.strip() for p in precisions.split(",") if p.strip()]
            models = {p: load(checkpoint, backend=backend, precision=p) for p in names}
            model = models[names[0]]
            result: dict[str, Any] = {"machine": _machine(), "checkpoint": note,
                                      "window_frames": getattr(model, "window_frames", None),
                                      "backend": getattr(model, "backend_name", backend),
                                      "precisions": names}
            result["host_noise"] = bench_host_noise()
            result["hop"] = bench_hop()
            files = sorted((data / "ntu_skeleton").glob("*.skeleton")) + \
                [data / "pku_mmd" / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"]
            result["replay"] = bench_replay(models, [f for f in files if f.exists()], repeat=repeat, rounds=rounds)
            if not skip_live:
                vids = [video] if video else [data / "videos" / "mmaction2_test_video_structuralize_basketball.mp4",
                                              data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"]
                engines = [e.strip() for e in pose_engines.split(",") if e.strip()]
                configs = [(v, p, e) for v in vids if v.exists() for p in models for e in engines]
                runs = []
                for r in range(max(1, live_rounds)):
                    for v, p, e in (configs if r % 2 == 0 else configs[::-1]):
                        runs.append(dict(bench_live(models[p], v, loops=loops, engine=e), precision=p, round=r))
                result["live_pooled"] = pool_live_runs(runs)
                result["live"] = runs
        if json_out:
            print(json.dumps(result, indent=1))
            return
        from rich.console import Console
        from rich.table import Table

        con = Console()
        con.print(f"[bold]skelzs bench pipeline[/bold] — {result['machine']}; checkpoint: {note}")
        r = result["replay"]
        t = Table(title=f"replay, as fast as possible (median of {r['rounds']} interleaved rounds)")
        for col in ("precision", "encoder batch", "windows", "windows/s", "vs fp32 batch 1", "frames/s", "encoder calls"):
            t.add_column(col)
        for key, row in r.items():
            if isinstance(row, dict) and "_batch_" in key and "windows_per_s" in row:
                t.add_row(key.split("_batch_")[0], str(row["batch"]), str(row["windows"]), str(row["windows_per_s"]),
                          f"{r.get('speedup_vs_fp32_batch_1', {}).get(key, '-')}x", str(row["frames_per_s"]),
                          str(row["encoder_calls"]))
        con.print(t)
        alone = ", ".join(f"{k[len('encoder_only_'):]} {v['windows_per_s']}" for k, v in r.items()
                          if k.startswith("encoder_only_"))
        con.print(f"stream stages without the encoder: {r['stages_without_encoder']['windows_per_s']} windows/s; "
                  f"encoder alone on the same windows (windows/s): {alone}")
        for lv in result.get("live", []):
            lat = lv["latency_ms"]
            t = Table(title=f"live: {lv['video']} at {lv['input_fps']} fps input, pose engine {lv['pose_engine']}, "
                            f"encoder {lv['precision']}")
            t.add_column("measure")
            t.add_column("value")
            t.add_row("processed fps", f"{lv['processed_fps']} (capacity by pose p50: {lv['pose_fps_capacity']})")
            t.add_row("dropped at capture", str(lv["dropped_capture"]))
            for stage in ("pose", "capture", "hop", "buffer", "encoder", "matcher", "server", "compute", "decision"):
                if stage in lat:
                    t.add_row(f"{stage} ms p50 / p95", f"{lat[stage]['p50']} / {lat[stage]['p95']}")
            con.print(t)
        if any(row["runs"] > 1 for row in result.get("live_pooled", [])):
            t = Table(title="live, pooled over the rounds: latency ms p50 / p95")
            for col in ("video", "pose engine", "precision", "runs", "windows", "dropped", "pose", "encoder", "compute"):
                t.add_column(col)
            for row in result["live_pooled"]:
                lat = row["latency_ms"]
                t.add_row(row["video"], row["pose_engine"], str(row["precision"]), str(row["runs"]), str(row["windows"]),
                          f"{row['dropped_capture']} of {row['frames_in']}",
                          *(f"{lat[k]['p50']} / {lat[k]['p95']}" if k in lat else "-" for k in ("pose", "encoder", "compute")))
            con.print(t)
        hn = result["host_noise"]
        con.print(f"host noise: a fixed {hn['p50_ms']} ms CPU job takes {hn['p95_ms']} ms at p95 "
                  f"({hn['p95_over_p50']}x) with nothing else running")
        h = result["hop"]
        con.print("ZeroMQ hop per frame (µs): " + ", ".join(f"{k} {h[k]['us_per_frame']}" for k in ("inproc", "ipc", "tcp"))
                  + f"; tcp one-way p50 {h['tcp_one_way_us']['p50']} µs")
