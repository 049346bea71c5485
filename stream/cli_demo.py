"""``skelzs demo``: the embedded default, end to end, on a machine with no camera.

Replays the bundled multi-action recording (``assets/demo_recording.npz``, made by the motion
library: several actions in a row, two people in part) in real time through the same pipeline as
``skelzs live`` (capture thread -> ZeroMQ -> window buffers -> ONNX Runtime encoder -> matcher ->
live view), then scores the decisions against the recording's ground-truth segments
(``assets/demo_recording.json``): how many segments were recognized, and how long after each
action started its label was first decided. ``--camera N`` / ``--video FILE`` run the same
command on real input (MediaPipe pose), without ground truth.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from skelzs.stream.errors import SkelzsError, SourceError

log = logging.getLogger("skelzs.stream")

__all__ = ["register", "load_demo_truth", "score_segments", "SegmentResult", "DEMO_RECORDING", "DEMO_TRUTH"]

DEMO_RECORDING = "demo_recording.npz"
DEMO_TRUTH = "demo_recording.json"
SHORT_SEGMENTS = 3


@dataclass
class SegmentResult:
    label: str
    start: int
    end: int
    recognized: bool
    first_correct_s: float | None   # seconds from the action's first frame to its first correct decision
    decided: str | None             # most frequent decision while the segment was in view
    in_labels: bool


def load_demo_truth(path: Path | None = None) -> dict:
    """The ground truth of the bundled recording: ``{fps, frames, labels, segments: [...]}``."""
    from skelzs.assets import asset_path

    p = Path(path) if path is not None else asset_path(DEMO_TRUTH)
    if not p.is_file():
        raise SourceError(f"demo ground truth not found: {p}")
    try:
        truth = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SourceError(f"{p}: unreadable demo ground truth ({err})") from None
    if not isinstance(truth, dict) or not isinstance(truth.get("segments"), list):
        raise SourceError(f"{p}: expected an object with a 'segments' list")
    return truth


def score_segments(history: list[tuple], segments: list[dict], *, fps: float, window_frames: int,
                   labels: list[str]) -> list[SegmentResult]:
    """Score per-window decisions ``(source, person, frame, decision)`` against segments.

    A window is *on* a segment when its last frame lies in ``[start + T/4, end + T/2]`` (it holds
    a good part of the action; a window lags the action by up to half its length). A segment is
    recognized when any person's decision on one of its windows is its label.
    """
    from collections import Counter

    known = {lab.lower() for lab in labels}
    out = []
    for seg in segments:
        lab = str(seg["label"])
        lo, hi = int(seg["start"]) + window_frames // 4, int(seg["end"]) + window_frames // 2
        on = sorted(((frame, d.label) for (_src, _person, frame, d) in history if frame is not None and lo <= frame <= hi),
                    key=lambda fl: fl[0])  # two persons may decide on one frame, one with no label
        hits = [frame for frame, got in on if got is not None and got.lower() == lab.lower()]
        counts = Counter(got or "no action" for _f, got in on)
        out.append(SegmentResult(
            label=lab, start=int(seg["start"]), end=int(seg["end"]), recognized=bool(hits),
            first_correct_s=(min(hits) - int(seg["start"])) / fps if hits else None,
            decided=counts.most_common(1)[0][0] if counts else None, in_labels=lab.lower() in known,
        ))
    return out


def _print_summary(results: list[SegmentResult], stats, fps: float, realtime: bool = True) -> dict:
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    con = Console()
    table = Table(title="skelzs demo: decisions against the recording's ground truth")
    for col in ("#", "action (ground truth)", "frames", "seconds", "recognized", "first correct after", "most frequent decision"):
        table.add_column(col)
    for i, r in enumerate(results, 1):
        table.add_row(str(i), r.label, f"{r.start}-{r.end}", f"{r.start / fps:.1f}-{r.end / fps:.1f}",
                      "[green]yes[/]" if r.recognized else ("[red]no[/]" if r.in_labels else "not a label"),
                      f"{r.first_correct_s:.2f} s" if r.first_correct_s is not None else "-", r.decided or "-")
    con.print(table)
    scored = [r for r in results if r.in_labels]
    hit = [r for r in scored if r.recognized]
    lat = [r.first_correct_s for r in hit if r.first_correct_s is not None]
    summary = stats.summary() if stats is not None else {}
    dec = summary.get("latency_ms", {}).get("decision", {})
    comp = summary.get("latency_ms", {}).get("compute", {})
    out = {
        "segments": len(scored), "recognized": len(hit),
        "median_first_correct_s": round(float(np.median(lat)), 3) if lat else None,
        "decision_latency_ms_p50": dec.get("p50"), "compute_latency_ms_p50": comp.get("p50"),
        "windows": summary.get("counters", {}).get("windows"),
    }
    line = f"recognized {len(hit)}/{len(scored)} segments"
    if lat:
        line += f"; first correct decision a median {out['median_first_correct_s']:.2f} s after an action starts"
    if dec and realtime:
        line += f"; decision latency p50 {dec['p50']:.0f} ms (window fill + compute), compute p50 {comp.get('p50', 0):.1f} ms"
    elif not realtime:
        line += " (--short replays as fast as possible, so no latency is measured)"
        out["decision_latency_ms_p50"] = out["compute_latency_ms_p50"] = None
    con.print(line)
    return out


def _demo_labels(truth: dict, labels: Optional[str]) -> list[str]:
    from skelzs.stream.matcher import parse_labels

    if labels:
        return parse_labels(labels)
    names = truth.get("labels") or sorted({s["label"] for s in truth["segments"]})
    return [str(n) for n in names]


def _load_model(checkpoint: Optional[Path], backend: str):
    from skelzs.assets import asset_path
    from skelzs.models.api import load
    from skelzs.stream.errors import CheckpointError

    path = Path(checkpoint) if checkpoint else asset_path("default")
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    return load(path, backend=backend)


def _real_source(camera: Optional[int], video: Optional[Path], mirrored: bool):
    """Camera or video + MediaPipe pose: the ``skelzs live`` source."""
    from skelzs.stream.sources.pose import PoseOptions, PoseSource

    if camera is not None and video is not None:
        raise SourceError("give either --camera or --video")
    if video is not None:
        from skelzs.stream.sources.video import VideoOptions, VideoSource

        images = VideoSource.create_from_options(VideoOptions(video, realtime=True))
    else:
        from skelzs.stream.sources.camera import CameraOptions, CameraSource

        images = CameraSource.create_from_options(CameraOptions(camera))
    try:
        return PoseSource(images, PoseOptions(max_persons=2, mirrored=mirrored))
    except BaseException:
        images.close()
        raise


def _run(sources, model, recognizer, *, live: bool, view: bool, stop):
    """The streaming pipeline in one process: capture thread -> ZeroMQ -> windows -> encoder -> matcher."""
    from contextlib import ExitStack

    from skelzs.stream.events import SinkSet
    from skelzs.stream.pipeline import PipelineStats, normalizer_for, run_in_process, window_config_for
    from skelzs.stream.window import WindowAssembler

    stats = PipelineStats()
    assembler = WindowAssembler(window_config_for(model, 8), normalizer_for(model, live=True))
    with ExitStack() as stack:
        tick = None
        if view:
            from skelzs.stream.live_view import LiveView

            tick = stack.enter_context(LiveView(stats, "skelzs demo")).tick
        sinks = stack.enter_context(SinkSet())
        run_in_process(sources, recognizer, assembler, sinks, live=live, stop=stop, stats=stats, on_tick=tick)
    return stats


def register(app: typer.Typer, bench_app: typer.Typer) -> None:

    @app.command()
    def demo(
        camera: Optional[int] = typer.Option(None, "--camera", help="Run on a camera instead of the bundled recording."),
        video: Optional[Path] = typer.Option(None, "--video", help="Run on a video file instead of the bundled recording."),
        short: bool = typer.Option(False, "--short", help="Only the first actions, as fast as possible (CI)."),
        labels: Optional[str] = typer.Option(None, "--labels", help="Comma-separated labels (default: the demo's list)."),
        checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", "-c", help="Checkpoint folder (default: assets/default)."),
        backend: str = typer.Option("onnxruntime", "--backend", help="onnxruntime | torch | auto | tensorrt."),
        threshold: Optional[float] = typer.Option(None, "--threshold", help="Open-set cosine threshold (default: the checkpoint's)."),
        recording: Optional[Path] = typer.Option(None, "--recording", help="Another recording with a <name>.json ground truth."),
        mirrored: bool = typer.Option(False, "--mirrored", help="--camera/--video images are mirrored."),
        no_view: bool = typer.Option(False, "--no-view", help="No rich live panel."),
        summary_json: Optional[Path] = typer.Option(None, "--summary-json", help="Also write the summary here."),
    ) -> None:
        """The embedded default: replay the bundled recording live, then score it against its ground truth."""
        import sys
        import threading
        from contextlib import ExitStack

        from skelzs.stream.matcher import DEFAULT_THRESHOLD, MatcherConfig
        from skelzs.stream.pipeline import Recognizer

        stop = threading.Event()
        with ExitStack() as stack:
            truth = None
            if camera is not None or video is not None:
                source = _real_source(camera, video, mirrored)   # a missing camera/video fails fast
                stack.callback(source.close)
                sources = [source]
                names = _demo_labels(load_demo_truth(), labels)
            else:
                from skelzs.assets import asset_path
                from skelzs.stream.sources.replay import ReplayOptions, ReplaySource, load_recording

                rec = Path(recording) if recording is not None else asset_path(DEMO_RECORDING)
                truth = load_demo_truth(rec.with_suffix(".json") if recording is not None else None)
                seq = load_recording(rec)
                segments = truth["segments"]
                if short:
                    segments = segments[:SHORT_SEGMENTS]
                    seq = seq.slice(0, min(seq.num_frames, int(segments[-1]["end"]) + int(seq.fps)))
                truth = dict(truth, segments=segments)
                names = _demo_labels(truth, labels)
                sources = [ReplaySource(ReplayOptions(rec, realtime=not short), sequence=seq)]
            model = _load_model(checkpoint, backend)
            cfg = getattr(model, "config", {}) or {}
            thr = threshold if threshold is not None else float(cfg.get("open_set_threshold", DEFAULT_THRESHOLD))
            recognizer = Recognizer(model, names, matcher=MatcherConfig(threshold=thr, top_k=3))
            recognizer.keep_history = True
            log.info("skelzs demo: %s, %d labels, backend %s, threshold %.2f",
                     "bundled recording" if truth else "real input", len(names), backend, thr)
            try:
                stats = _run(sources, model, recognizer, live=not short, stop=stop,
                             view=not no_view and sys.stderr.isatty())
            except KeyboardInterrupt:
                stop.set()
                stats = None
            if truth is None:
                from collections import Counter

                counts = Counter(d.label or "no action" for (_s, _p, _f, d) in recognizer.history)
                typer.echo("decisions over windows: " + ", ".join(f"{k} x{v}" for k, v in counts.most_common(6)))
                return
            frames = int(getattr(model, "window_frames", None) or cfg.get("window", {}).get("frames", 64))
            fps = float(truth.get("fps", 30.0))
            results = score_segments(recognizer.history, truth["segments"], fps=fps, window_frames=frames,
                                     labels=names)
            summary = _print_summary(results, stats, fps, realtime=not short)
            if summary_json is not None:
                summary["results"] = [r.__dict__ for r in results]
                summary_json.write_text(json.dumps(summary, indent=1))
            if not recognizer.history:
                raise SkelzsError("the demo produced no decisions (no window filled)")
