"""``skelzs live | replay | classify | capture | serve``: the streaming product on the command line.

Stopping: Ctrl-C or SIGTERM sets a stop flag that every loop checks between ticks (a second
signal interrupts at once); the sources stop, queued windows are not waited for, events are
flushed, sockets closed, and the command exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import zlib
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from skelzs.stream.errors import CheckpointError, SkelzsError, SourceError

log = logging.getLogger("skelzs.stream")

_LABELS = typer.Option(None, "--labels", help='Comma-separated labels, e.g. "waving,falling,drinking water".')
_LABELS_FILE = typer.Option(None, "--labels-file", help="A file with one label per line (# comments).")
_TEMPLATE = typer.Option(None, "--template", help='Prompt template, e.g. "a person {}." (default: the checkpoint\'s).')
_CHECKPOINT = typer.Option(None, "--checkpoint", "-c", help="Checkpoint folder (default: assets/default).")
_BACKEND = typer.Option("auto", "--backend", help="auto | torch | onnxruntime | tensorrt.")
_LOOPS = typer.Option(1, "--loops", help="Play --video this many times in a row (0: until stopped).")
_PRECISION = typer.Option("fp32", "--precision",
                          help="fp32 (exact) | int8 (quantized encoder on ONNX Runtime's CPU provider: ~1.3x the fp32 replay throughput on 2 cores, cosine ≥ 0.99 to fp32).")
_THRESHOLD = typer.Option(None, "--threshold", help="Open-set cosine threshold (default: the checkpoint's, else 0.2).")
_TOPK = typer.Option(3, "--top-k", help="Labels listed per decision.")
_EVERY = typer.Option(False, "--every-window", help="An event for every window, not only label changes.")
_ALIGN = typer.Option("none", "--align", help="none | online (online prototype alignment, PGFA checkpoints).")
_JSON = typer.Option(False, "--json", help="JSON Lines events on stdout.")
_EVENTS = typer.Option(None, "--events", help="Append JSON Lines events to this file.")
_PUBLISH_EVENTS = typer.Option(None, "--publish-events", help="Publish events on a ZeroMQ PUB socket, e.g. tcp://*:5556.")
_STRIDE = typer.Option(8, "--stride", help="Frames between two windows of one person.")
_MAX_PERSONS = typer.Option(2, "--max-persons", help="People tracked per camera/video (MediaPipe num_poses).")
_MIRRORED = typer.Option(False, "--mirrored", help="The images are mirrored (Kinect v2 colour / NTU RGB videos, mirrored webcams).")
_POSE_ENGINE = typer.Option("auto", "--pose-engine",
                            help="litert: PoseLandmarker finds people, its landmark model tracks them on --pose-threads "
                                 "threads (about 2x faster on 2 cores); mediapipe: PoseLandmarker on every frame "
                                 "(one thread); auto: litert when installed.")
_POSE_THREADS = typer.Option(0, "--pose-threads", help="Threads of the litert landmark model (0: the cores, at most 4).")


# ----------------------------------------------------------------------------- helpers
@contextmanager
def _graceful_stop() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM set the returned event; a second signal raises KeyboardInterrupt."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("stopping (%s)…", signal.Signals(signum).name)
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _checkpoint_path(checkpoint: Optional[Path]) -> Path:
    """The checkpoint folder to load (default: the bundled one); a missing one is a one-line error."""
    from skelzs.assets import asset_path

    path = Path(checkpoint) if checkpoint else asset_path("default")
    if not path.exists():
        if checkpoint:
            raise CheckpointError(f"checkpoint not found: {path}")
        raise CheckpointError(f"no default checkpoint at {path}; pass --checkpoint DIR")
    return path


def _load_model(checkpoint: Optional[Path], backend: str, precision: str = "fp32"):
    from skelzs.models.api import load

    return load(_checkpoint_path(checkpoint), backend=backend, precision=precision)


def _matcher_config(model, threshold, top_k, every_window):
    from skelzs.stream.matcher import DEFAULT_THRESHOLD, MatcherConfig

    cfg = getattr(model, "config", {}) or {}
    thr = threshold if threshold is not None else float(cfg.get("open_set_threshold", DEFAULT_THRESHOLD))
    return MatcherConfig(threshold=thr, top_k=top_k, every_window=every_window)


def _recognizer(model, names, template, threshold, top_k, every_window, align):
    from skelzs.stream.pipeline import Recognizer

    return Recognizer(model, names, template=template,
                      matcher=_matcher_config(model, threshold, top_k, every_window), align=align)


def _sinks(json_out: bool, events: Optional[Path], publish: Optional[str]):
    from skelzs.stream.events import JsonLinesSink, SinkSet, ZmqEventSink

    sinks = SinkSet()
    if json_out:
        sinks.add(JsonLinesSink(sys.stdout))
    if events:
        sinks.add(JsonLinesSink(events))
    if publish:
        sinks.add(ZmqEventSink(publish))
    return sinks


def _default_source_id() -> int:
    return zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) & 0x7FFF0000


def _image_source(camera: Optional[int], url: Optional[str], video: Optional[Path], realtime: bool,
                  source_id: int, loops: int = 1):
    given = sum(x is not None for x in (camera, url, video))
    if given > 1:
        raise SourceError("give one of --camera, --url, --video")
    if video is not None:
        from skelzs.stream.sources.video import VideoOptions, VideoSource

        return VideoSource.create_from_options(VideoOptions(video, realtime=realtime, source_id=source_id,
                                                            loops=loops))
    from skelzs.stream.sources.camera import CameraOptions, CameraSource

    return CameraSource.create_from_options(CameraOptions(url if url is not None else (camera or 0),
                                                          source_id=source_id))


def _pose_source(images, max_persons: int, keep_images: bool, mirrored: bool = False, engine: str = "auto",
                 threads: int = 0):
    from skelzs.stream.sources.pose import PoseOptions, PoseSource

    try:
        return PoseSource(images, PoseOptions(max_persons=max_persons, mirrored=mirrored, engine=engine,
                                              threads=threads), keep_images=keep_images)
    except BaseException:
        images.close()
        raise


def _replay_sources(paths: List[Path], realtime: bool, first_id: int, pku_labels: Optional[Path]):
    from skelzs.stream.sources.replay import ReplayOptions, ReplaySource

    if pku_labels is not None and len(paths) != 1:
        raise SkelzsError("--pku-labels goes with exactly one PKU-MMD skeleton file")
    return [ReplaySource.create_from_options(ReplayOptions(p, realtime=realtime, source_id=first_id + i,
                                                           labels_path=pku_labels))
            for i, p in enumerate(paths)]


def _decision_log(json_out: bool, sources):
    """Plain decision lines on stdout when it is not a terminal and ``--json`` is not given
    (a TTY keeps the rich view, ``--json`` its JSON Lines); None otherwise."""
    if json_out or sys.stdout.isatty():
        return None
    from skelzs.stream.events import DecisionLog

    return DecisionLog(sys.stdout, names={s.source_id: getattr(s, "name", s.source_id) for s in sources})


def _run_pipeline(sources, model, recognizer, sinks, *, live: bool | None, stride: int, view: bool,
                  annotator=None, stop: threading.Event, decisions=None):
    from skelzs.stream.pipeline import PipelineStats, normalizer_for, run_in_process, window_config_for
    from skelzs.stream.window import WindowAssembler

    stats = PipelineStats()
    assembler = WindowAssembler(window_config_for(model, stride), normalizer_for(model, live=True))
    if decisions is not None:
        decisions.origins = assembler.origins       # stream time: seconds since a source's first frame
        recognizer.on_decision = decisions.on_decision
    on_frame = None
    if annotator is not None:
        annotator.stats = stats
        on_frame = annotator
    with ExitStack() as stack:
        tick = None
        if view:
            from skelzs.stream.live_view import LiveView

            tick = stack.enter_context(LiveView(stats, "skelzs replay" if live is False else "skelzs live")).tick
        server = run_in_process(sources, recognizer, assembler, sinks, live=live, stop=stop, stats=stats,
                                on_frame=on_frame, on_tick=tick)
    return server, stats


def _want_view(json_out: bool, no_view: bool) -> bool:
    return not json_out and not no_view and sys.stderr.isatty()


# ----------------------------------------------------------------------------- commands
def register(app: typer.Typer, bench_app: typer.Typer) -> None:

    @app.command()
    def live(
        camera: Optional[int] = typer.Option(None, "--camera", help="Camera index (default 0 when no other source)."),
        url: Optional[str] = typer.Option(None, "--url", help="RTSP/HTTP stream URL."),
        video: Optional[Path] = typer.Option(None, "--video", help="A video file instead of a camera."),
        labels: Optional[str] = _LABELS,
        labels_file: Optional[Path] = _LABELS_FILE,
        template: Optional[str] = _TEMPLATE,
        checkpoint: Optional[Path] = _CHECKPOINT,
        backend: str = _BACKEND,
        precision: str = _PRECISION,
        max_persons: int = _MAX_PERSONS,
        threshold: Optional[float] = _THRESHOLD,
        top_k: int = _TOPK,
        every_window: bool = _EVERY,
        align: str = _ALIGN,
        json_out: bool = _JSON,
        events: Optional[Path] = _EVENTS,
        publish_events: Optional[str] = _PUBLISH_EVENTS,
        show: bool = typer.Option(False, "--show", help="An OpenCV window with skeletons and labels."),
        output: Optional[Path] = typer.Option(None, "--output", help="Write the annotated video (mp4v), e.g. annotated.mp4."),
        realtime: bool = typer.Option(True, "--realtime/--no-realtime", help="Play --video at its fps (as a camera) or as fast as possible."),
        mirrored: bool = _MIRRORED,
        pose_engine: str = _POSE_ENGINE,
        pose_threads: int = _POSE_THREADS,
        loops: int = _LOOPS,
        stride: int = _STRIDE,
        no_view: bool = typer.Option(False, "--no-view", help="No rich live panel."),
    ) -> None:
        """Recognize actions live from a camera, a stream URL or a video, against your labels."""
        from skelzs.stream.matcher import parse_labels

        names = parse_labels(labels, labels_file)     # bad input fails before anything heavy loads
        _checkpoint_path(checkpoint)
        with _graceful_stop() as stop, ExitStack() as stack:
            images = _image_source(camera, url, video, realtime, 0, loops)     # a missing camera fails fast
            stack.callback(images.close)
            source = _pose_source(images, max_persons, keep_images=show or output is not None, mirrored=mirrored,
                                  engine=pose_engine, threads=pose_threads)
            stack.callback(source.close)
            annotator = None
            if show or output is not None:
                from skelzs.stream.live_view import FrameAnnotator

                annotator = FrameAnnotator(None, show=show, output=output, fps=source.fps)
                stack.callback(annotator.close)
            model = _load_model(checkpoint, backend, precision)
            recognizer = _recognizer(model, names, template, threshold, top_k, every_window, align)
            sinks = _sinks(json_out, events, publish_events)
            stack.callback(sinks.close)
            decisions = _decision_log(json_out, [source])
            server, stats = _run_pipeline([source], model, recognizer, sinks, live=None, stride=stride,
                                          view=_want_view(json_out, no_view), annotator=annotator, stop=stop,
                                          decisions=decisions)
            if decisions is not None:
                decisions.print_summary()
            log.info("processed %d frames, %d windows, %d events; dropped %d at capture",
                     stats.counters["frames_captured"], stats.counters["windows"], stats.counters["events"],
                     stats.counters["dropped_capture"])

    @app.command()
    def replay(
        paths: List[Path] = typer.Argument(..., help="NTU .skeleton, PKU-MMD .txt or .npz recordings."),
        labels: Optional[str] = _LABELS,
        labels_file: Optional[Path] = _LABELS_FILE,
        template: Optional[str] = _TEMPLATE,
        checkpoint: Optional[Path] = _CHECKPOINT,
        backend: str = _BACKEND,
        precision: str = _PRECISION,
        threshold: Optional[float] = _THRESHOLD,
        top_k: int = _TOPK,
        every_window: bool = _EVERY,
        align: str = _ALIGN,
        json_out: bool = _JSON,
        events: Optional[Path] = _EVENTS,
        publish_events: Optional[str] = _PUBLISH_EVENTS,
        realtime: bool = typer.Option(False, "--realtime/--no-realtime", help="Pace at the recording's 30 fps."),
        pku_labels: Optional[Path] = typer.Option(None, "--pku-labels", help="PKU-MMD label file of the (one) recording."),
        stride: int = _STRIDE,
        no_view: bool = typer.Option(False, "--no-view", help="No rich live panel."),
    ) -> None:
        """Run recordings through the same streaming pipeline as live capture."""
        from skelzs.stream.matcher import parse_labels

        names = parse_labels(labels, labels_file)
        with _graceful_stop() as stop, ExitStack() as stack:
            sources = _replay_sources(paths, realtime, 0, pku_labels)   # a bad file fails before the model loads
            model = _load_model(checkpoint, backend, precision)
            recognizer = _recognizer(model, names, template, threshold, top_k, every_window, align)
            recognizer.keep_history = True
            sinks = _sinks(json_out, events, publish_events)
            stack.callback(sinks.close)
            decisions = _decision_log(json_out, sources)
            server, stats = _run_pipeline(sources, model, recognizer, sinks, live=False, stride=stride,
                                          view=_want_view(json_out, no_view), stop=stop, decisions=decisions)
            if decisions is not None:
                decisions.print_summary()
            if not json_out:
                _print_replay_summary(sources, recognizer, stats)

    @app.command()
    def classify(
        paths: List[Path] = typer.Argument(..., help="Recordings to classify, one answer each."),
        labels: Optional[str] = _LABELS,
        labels_file: Optional[Path] = _LABELS_FILE,
        template: Optional[str] = _TEMPLATE,
        checkpoint: Optional[Path] = _CHECKPOINT,
        backend: str = _BACKEND,
        precision: str = _PRECISION,
        top_k: int = _TOPK,
        threshold: Optional[float] = typer.Option(None, "--threshold", help="Open-set cosine threshold (default: none, always name the best label)."),
        pku_labels: Optional[Path] = typer.Option(None, "--pku-labels", help="PKU-MMD label file: one answer per labelled segment."),
        align: str = typer.Option("none", "--align", help="none | batch: score against label prototypes aligned "
                                  "on all the given recordings together (PGFA, transductive)."),
        support_factor: Optional[float] = typer.Option(None, "--support-factor", help="--align batch: the share of "
                                                       "each label's most confident recordings kept (default 0.9)."),
        json_out: bool = _JSON,
    ) -> None:
        """One whole-recording answer per file (top-k with scores), for offline use and evaluation."""
        from skelzs.models.pgfa import DEFAULT_SUPPORT_FACTOR
        from skelzs.stream.classify import classify_recordings
        from skelzs.stream.matcher import parse_labels

        if align not in ("none", "batch"):
            raise SkelzsError(f"--align {align!r}: expected none or batch")
        if support_factor is not None and align != "batch":
            raise SkelzsError("--support-factor applies to --align batch")
        names = parse_labels(labels, labels_file)
        model = _load_model(checkpoint, backend, precision)
        rows = classify_recordings(model, names, paths, template=template, top_k=top_k,
                                   threshold=threshold, pku_labels=pku_labels,
                                   align=(DEFAULT_SUPPORT_FACTOR if support_factor is None else support_factor)
                                   if align == "batch" else None)
        if json_out:
            for r in rows:
                sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"skelzs classify ({len(names)} labels)")
        for col in ("recording", "label", "score", "top-k"):
            table.add_column(col)
        for r in rows:
            where = Path(r["path"]).name + (f" [{r['start']}-{r['end']}]" if "start" in r else "")
            table.add_row(where, str(r["label"]), f"{r['score']:.3f}",
                          ", ".join(f"{lab} {s:.2f}" for lab, s in r["topk"]))
        Console().print(table)

    @app.command()
    def capture(
        camera: Optional[int] = typer.Option(None, "--camera", help="Camera index."),
        url: Optional[str] = typer.Option(None, "--url", help="RTSP/HTTP stream URL."),
        video: Optional[Path] = typer.Option(None, "--video", help="A video file."),
        replay_paths: List[Path] = typer.Option([], "--replay", help="Recordings to replay (repeatable)."),
        publish: str = typer.Option("tcp://*:5555", "--publish", help="Where to bind, e.g. tcp://*:5555 or ipc:///tmp/skelzs."),
        pattern: str = typer.Option("push", "--pattern", help="push (nothing lost; one serve) or pub (many serves)."),
        source_id: Optional[int] = typer.Option(None, "--source-id", help="Source id on the wire (default: from host and pid)."),
        max_persons: int = _MAX_PERSONS,
        mirrored: bool = _MIRRORED,
        pose_engine: str = _POSE_ENGINE,
        pose_threads: int = _POSE_THREADS,
        loops: int = _LOOPS,
        realtime: bool = typer.Option(True, "--realtime/--no-realtime", help="Pace video/recordings at their fps."),
        pku_labels: Optional[Path] = typer.Option(None, "--pku-labels", help="PKU-MMD label file of the (one) replayed recording."),
        wait: float = typer.Option(60.0, "--wait", help="Seconds to wait for a serve to connect."),
    ) -> None:
        """Capture skeletons and publish them over ZeroMQ for `skelzs serve` (no model needed here)."""
        from skelzs.stream.pipeline import PipelineStats, run_capture
        from skelzs.stream.transport import FrameSender

        sid = _default_source_id() if source_id is None else source_id
        with _graceful_stop() as stop, ExitStack() as stack:
            if replay_paths:
                if any(x is not None for x in (camera, url, video)):
                    raise SourceError("give either --replay or one of --camera/--url/--video")
                sources = _replay_sources(replay_paths, realtime, sid, pku_labels)
                live = False
            else:
                images = _image_source(camera, url, video, realtime, sid, loops)
                sources = [_pose_source(images, max_persons, keep_images=False, mirrored=mirrored,
                                        engine=pose_engine, threads=pose_threads)]
                live = None          # from the source's clock: camera/URL/real-time video are live
            for s in sources:
                stack.callback(s.close)
            sender = FrameSender(publish, pattern, source=sid)
            # deliver the stream's tail and its end message before exiting (at most 10 s; 2 s after Ctrl-C)
            stack.callback(lambda: sender.close(flush=2.0 if stop.is_set() else 10.0))
            log.info("capture: %d source(s) on %s (%s); waiting for a serve", len(sources), sender.endpoint, pattern)
            stats = PipelineStats()
            result = run_capture(sources, sender, live=live, stop=stop, stats=stats, ready_timeout=wait)
            log.info("capture: sent %d frames in %d messages; dropped %d at capture, %d at send",
                     result.frames, result.messages, result.dropped_capture, result.dropped_send)

    @app.command()
    def serve(
        connect: List[str] = typer.Option(..., "--connect", help="A capture's endpoint, e.g. tcp://host:5555 (repeatable)."),
        pattern: str = typer.Option("push", "--pattern", help="Must match the captures' --pattern."),
        labels: Optional[str] = _LABELS,
        labels_file: Optional[Path] = _LABELS_FILE,
        template: Optional[str] = _TEMPLATE,
        checkpoint: Optional[Path] = _CHECKPOINT,
        backend: str = _BACKEND,
        precision: str = _PRECISION,
        threshold: Optional[float] = _THRESHOLD,
        top_k: int = _TOPK,
        every_window: bool = _EVERY,
        align: str = _ALIGN,
        json_out: bool = _JSON,
        events: Optional[Path] = _EVENTS,
        publish_events: Optional[str] = _PUBLISH_EVENTS,
        live: Optional[bool] = typer.Option(None, "--live/--replay", help="Live: newest window per person wins; replay: every window (default: from each capture's clock)."),
        stride: int = _STRIDE,
        exit_on_end: bool = typer.Option(False, "--exit-on-end", help="Exit once every capture has sent its end of stream."),
        stats_json: Optional[Path] = typer.Option(None, "--stats-json", help="Write counters and latencies here on exit."),
        no_view: bool = typer.Option(False, "--no-view", help="No rich live panel."),
    ) -> None:
        """Receive skeletons from one or more captures; batch every ready window into one encoder call."""
        from skelzs.stream.pipeline import PipelineStats, StreamServer, normalizer_for, window_config_for
        from skelzs.stream.transport import FrameReceiver
        from skelzs.stream.window import WindowAssembler

        from skelzs.stream.matcher import parse_labels

        names = parse_labels(labels, labels_file)
        with _graceful_stop() as stop, ExitStack() as stack:
            model = _load_model(checkpoint, backend, precision)
            recognizer = _recognizer(model, names, template, threshold, top_k, every_window, align)
            sinks = _sinks(json_out, events, publish_events)
            stack.callback(sinks.close)
            receiver = FrameReceiver(connect, pattern)
            stack.callback(receiver.close)
            stats = PipelineStats()
            assembler = WindowAssembler(window_config_for(model, stride), normalizer_for(model, live=True))
            server = StreamServer(receiver, recognizer, assembler, sinks, live=live, stats=stats,
                                  expect_ends=len(connect) if exit_on_end else None)
            log.info("serve: connected to %s (%s)", ", ".join(connect), pattern)
            if _want_view(json_out, no_view):
                from skelzs.stream.live_view import LiveView

                view = stack.enter_context(LiveView(stats, "skelzs serve"))
                while not stop.is_set() and not server.done:
                    server.step(0.05)
                    view.tick()
            else:
                server.run(stop)
            if stats_json is not None:
                summary = stats.summary()
                summary["sources"] = {str(k): {"name": v.name, "frames_received": v.frames, **v.end_info}
                                      for k, v in server.sources.items()}
                stats_json.write_text(json.dumps(summary, indent=1))


def _print_replay_summary(sources, recognizer, stats) -> None:
    from collections import Counter

    from rich.console import Console
    from rich.table import Table

    table = Table(title="skelzs replay")
    for col in ("recording", "frames", "windows", "labels over windows (most frequent first)"):
        table.add_column(col)
    hist = getattr(recognizer, "history", [])
    for s in sources:
        mine = [d for (src, _person, _frame, d) in hist if src == s.source_id]
        counts = Counter(d.label or "no action" for d in mine)
        table.add_row(s.name, str(s.num_frames), str(len(mine)),
                      ", ".join(f"{lab} ×{n}" for lab, n in counts.most_common(3)))
    Console().print(table)
    c = stats.counters
    Console().print(f"frames {c['frames_in']}, windows {c['windows']}, encoder calls {c['encoder_calls']}, "
                    f"events {c['events']}, malformed {c['malformed']}")
