"""The streaming pipeline: capture → ZeroMQ → window buffers → one batched encoder call →
matcher → event sinks, in one process (``skelzs live``/``replay``) or split across processes
(``skelzs capture`` publishes, ``skelzs serve`` connects to one or more captures).

::

    capture thread/process                      server loop (one thread)
    ──────────────────────                      ──────────────────────────────────────────────
    source (camera+pose | video+pose | replay)  FrameReceiver.drain()  (validate, count bad ones)
      └─ run_capture ─ FrameSender ── ZeroMQ ──► WindowAssembler.push() per (source, person)
         hello … frames/heartbeats … end          └─ take_ready(): every ready window (replay) or the
                                                     newest per person (live, latest wins)
                                                  Recognizer.process(): ONE encoder call for all
                                                     ready windows of all sources → Matcher → Event
                                                  SinkSet.emit(): JSONL | ZeroMQ PUB | live view

Latency (all measured per frame/window, never estimated): a frame's *arrival* is when its image
was grabbed (live sources, whose wire timestamps are ``time.monotonic()``) or when its message
reached the server (recordings). Stages: ``pose`` (MediaPipe per frame), ``capture`` (grab →
skeleton sent: waiting for the pose thread + pose), ``hop`` (sent → received, in-process runs),
``buffer`` (window assembly + normalization), ``encoder`` (the batched call), ``matcher``,
``server`` (the window's last frame received → its event). *Compute latency* is the arrival of a
window's last frame → its event (window fill excluded); *decision latency* adds the window fill
(the window's first frame → its event).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from skelzs.stream.errors import SkelzsError, SourceError
from skelzs.stream.events import Event, SinkSet
from skelzs.stream.matcher import Matcher, MatcherConfig
from skelzs.stream.transport import FrameReceiver, FrameSender
from skelzs.stream.window import Window, WindowAssembler, WindowConfig
from skelzs.stream.wire import WireControl, WireFrame

__all__ = ["PipelineStats", "Recognizer", "StreamServer", "run_capture", "run_in_process",
           "window_config_for", "normalizer_for", "CaptureResult"]

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- statistics
class PipelineStats:
    """Counters and rolling per-stage latencies (ms) shared by the stages and the live view."""

    STAGES = ("pose", "capture", "hop", "buffer", "encoder", "matcher", "server", "compute", "decision")

    def __init__(self, keep: int = 4096):
        self.lat: dict[str, deque[float]] = {s: deque(maxlen=keep) for s in self.STAGES}
        self.counters: dict[str, int] = {
            "frames_captured": 0, "frames_in": 0, "malformed": 0, "gaps": 0, "dropped_capture": 0,
            "dropped_send": 0, "windows": 0, "windows_skipped": 0, "windows_dropped": 0,
            "encoder_calls": 0, "events": 0,
        }
        self._fps_times: deque[float] = deque(maxlen=256)
        self.started = time.monotonic()
        self.current: dict[tuple, dict[str, Any]] = {}   # (source, person) -> last decision (live view)
        self.sources: dict[int, dict[str, Any]] = {}
        self.sent_at: dict[tuple[int, int, int], float] = {}   # in-process runs: (source, person, frame) -> sent

    def mark_sent(self, key: tuple[int, int, int], t: float) -> None:
        if len(self.sent_at) > 10_000:      # nobody is collecting (separate processes): stay bounded
            self.sent_at.clear()
        self.sent_at[key] = t

    def add(self, stage: str, ms: float) -> None:
        self.lat[stage].append(float(ms))

    def tick_frame(self, now: float | None = None) -> None:
        self._fps_times.append(time.monotonic() if now is None else now)

    @property
    def fps(self) -> float:
        t = self._fps_times
        if len(t) >= 2 and t[-1] - t[0] >= 0.25:
            return (len(t) - 1) / (t[-1] - t[0])
        elapsed = time.monotonic() - self.started
        return self.counters["frames_in"] / elapsed if elapsed > 0 else 0.0

    def percentile(self, stage: str, q: float) -> float | None:
        vals = self.lat[stage]
        return float(np.percentile(np.fromiter(vals, float), q)) if vals else None

    def summary(self) -> dict[str, Any]:
        lat = {}
        for s in self.STAGES:
            if self.lat[s]:
                a = np.fromiter(self.lat[s], float)
                lat[s] = {"p50": round(float(np.percentile(a, 50)), 3), "p95": round(float(np.percentile(a, 95)), 3),
                          "n": int(a.size)}
        return {"counters": dict(self.counters), "latency_ms": lat, "fps": round(self.fps, 2),
                "elapsed_s": round(time.monotonic() - self.started, 3)}


# ----------------------------------------------------------------------------- model side
def window_config_for(model, stride: int = 8, frames: int | None = None) -> WindowConfig:
    """Window length, persons and fps from the checkpoint config (``window`` entry)."""
    cfg = getattr(model, "config", {}) or {}
    win = cfg.get("window", {}) if isinstance(cfg, dict) else {}
    t = int(frames or getattr(model, "window_frames", None) or win.get("frames") or 64)
    return WindowConfig(frames=t, stride=stride, persons=int(win.get("persons", 2)),
                        fps=float(win.get("fps", 30.0)))


def preprocess_key(model, live: bool = True) -> str:
    """The :data:`~skelzs.stream.preprocess.PIPELINES` name a window goes through: the checkpoint's
    ``stream_preprocess`` if it names one, else the ``"stream"`` pipeline for streaming windows
    (one live window, no resize). Recordings classified whole (``skelzs classify``) use the
    checkpoint's ``preprocess``."""
    from skelzs.stream.preprocess import PIPELINES

    cfg = getattr(model, "config", {}) or {}
    key = cfg.get("stream_preprocess") or ("stream" if live else (getattr(model, "preprocess", None)
                                                                   or cfg.get("preprocess", "stream")))
    if key not in PIPELINES:
        raise SkelzsError(f"checkpoint asks for preprocessing {key!r}, which this skelzs does not have "
                          f"(known: {', '.join(PIPELINES)})")
    return key


def normalizer_for(model, live: bool = True) -> Callable:
    """The preprocessing function of :func:`preprocess_key`."""
    from skelzs.stream.preprocess import PIPELINES

    return PIPELINES[preprocess_key(model, live)]


class Recognizer:
    """Label texts encoded once; windows → (one batched encoder call) → similarities → Matcher."""

    def __init__(self, model, labels: list[str], *, template: str | None = None,
                 matcher: MatcherConfig | None = None, align: str = "none", max_batch: int | None = None):
        self.model = model
        self.labels = list(labels)
        self.text = model.encode_text(self.labels, template)
        cfg = matcher or MatcherConfig()
        scale = getattr(model, "logit_scale", None)
        if scale is not None:
            cfg.logit_scale = float(scale)
        self.matcher = Matcher(self.labels, cfg)
        # windows per encoder call: the backend's best (64 on a CPU, 256 on a GPU) unless given
        self.max_batch = int(max_batch or getattr(model, "preferred_batch", 64))
        self.keep_history = False       # replay summaries: every window's decision
        self.history: list[tuple] = []
        # called with (window, decision) for every window, e.g. the CLI's plain decision lines
        self.on_decision: Callable | None = None
        self.aligner = None
        if align == "online":
            if not getattr(model, "supports_embeddings", True):
                raise SkelzsError("--align online needs a checkpoint whose skeleton side gives embeddings "
                                  "(PGFA); this one scores labels directly (SCoPLe)")
            import torch

            from skelzs.models.alignment import OnlinePrototypes

            self.aligner = OnlinePrototypes(torch.as_tensor(np.asarray(self.text, np.float32)))
        elif align != "none":
            raise SkelzsError(f"--align must be none or online, got {align!r}")

    def similarities(self, batch: np.ndarray) -> np.ndarray:
        """Cosine similarities ``(N, K)`` of windows ``(N, 3, T, V, M)`` to the labels."""
        if getattr(self.model, "supports_embeddings", True):
            emb = np.asarray(self.model.encode_skeleton(batch), np.float32)
            if self.aligner is not None:   # score with the current prototypes, then update them
                import torch

                z = torch.as_tensor(emb)
                sims = self.aligner.scores(z)
                self.aligner.update(z)
                return (sims.detach().float().cpu().numpy() if torch.is_tensor(sims)
                        else np.asarray(sims, np.float32))
            text = np.asarray(self.text, np.float32)
            return emb @ text.T
        return np.asarray(self.model.score(batch, self.text), np.float32)

    def process(self, windows: list[Window], stats: PipelineStats | None = None) -> list[Event]:
        events: list[Event] = []
        for i in range(0, len(windows), self.max_batch):
            chunk = windows[i: i + self.max_batch]
            t0 = time.perf_counter()
            sims = self.similarities(np.stack([w.data for w in chunk]))
            enc_ms = (time.perf_counter() - t0) * 1000.0
            if stats is not None:
                stats.counters["encoder_calls"] += 1
            for w, row in zip(chunk, sims):
                t1 = time.perf_counter()
                stages = dict(w.stage_ms)
                stages["encoder"] = enc_ms
                evs = self.matcher.events_for((w.source, w.person), row, frame=w.frame, stages_ms=stages)
                if self.keep_history:
                    self.history.append((w.source, w.person, w.frame, self.matcher.last[(w.source, w.person)]))
                now = time.monotonic()
                stages["matcher"] = (time.perf_counter() - t1) * 1000.0
                compute = (now - w.arrival) * 1000.0
                decision = (now - w.first_arrival) * 1000.0 if w.first_arrival else None
                for e in evs:
                    e.latency_ms = compute
                    e.stages_ms = dict(stages)
                    if decision is not None:
                        e.info["decision_latency_ms"] = round(decision, 3)
                if stats is not None:
                    for s in ("buffer", "encoder", "matcher"):
                        stats.add(s, stages.get(s, 0.0))
                    if w.received:
                        stats.add("server", (now - w.received) * 1000.0)
                    stats.add("compute", compute)
                    if decision is not None:
                        stats.add("decision", decision)
                    d = self.matcher.last[(w.source, w.person)]
                    stats.current[(w.source, w.person)] = {"frame": w.frame, "label": d.label,
                                                           "score": d.score, "topk": d.topk}
                if self.on_decision is not None:     # after the latencies: printing is not compute
                    self.on_decision(w, self.matcher.last[(w.source, w.person)])
                events.extend(evs)
        return events


# ----------------------------------------------------------------------------- capture side
@dataclass
class CaptureResult:
    sources: int = 0
    frames: int = 0
    messages: int = 0
    heartbeats: int = 0
    dropped_send: int = 0
    dropped_capture: int = 0


def run_capture(sources: Iterable, sender: FrameSender, *, live: bool | None, stop: threading.Event,
                stats: PipelineStats | None = None, ready_timeout: float = 30.0,
                on_frame: Callable[[Any], None] | None = None,
                on_source_event: Callable[[Any], None] | None = None) -> CaptureResult:
    """Send every source's frames: hello, one message per person per frame (a heartbeat for a
    frame with nobody in it), end. Live sources (``live``, or with ``live=None`` a source whose
    ``clock`` is ``"monotonic"``: camera, URL, real-time video) stamp frames with their grab time
    and send non-blocking (a full queue drops and counts); recordings and videos read as fast as
    possible use file time and block, so nothing is lost. Returns the counts the receiver can
    check against."""
    result = CaptureResult()
    if not sender.wait_ready(ready_timeout):
        raise SourceError(f"no receiver connected to {sender.endpoint} within {ready_timeout:g} s")
    sources = list(sources)
    for n_src, source in enumerate(sources):
        is_live = live if live is not None else getattr(source, "clock", "file") == "monotonic"
        sender.source = source.source_id
        sent_before = sender.sent
        dropped_before = sender.dropped
        frames = 0
        sender.send_control("hello", name=source.name, fps=float(source.fps),
                            clock="monotonic" if is_live else "file")
        try:
            for frame in source:
                if stop.is_set():
                    break
                ts = frame.arrival if is_live else frame.timestamp
                n = len(frame.persons)
                if stats is not None:
                    stats.counters["frames_captured"] += 1
                    if "pose" in frame.stages_ms:
                        stats.add("pose", frame.stages_ms["pose"])
                if n == 0:
                    sender.send_control("heartbeat", frame=frame.frame, timestamp=ts)
                    result.heartbeats += 1
                if is_live and stats is not None and n:
                    now = time.monotonic()
                    stats.add("capture", (now - frame.arrival) * 1000.0)
                    for p in frame.persons:
                        stats.mark_sent((source.source_id, p.person, frame.frame), now)
                for i, p in enumerate(frame.persons):
                    sender.send_frame(WireFrame(source.source_id, p.person, frame.frame, ts, p.joints,
                                                p.confidence, "ntu25", n, i == n - 1),
                                      block=not is_live, timeout=30.0)
                frames += 1
                if on_frame is not None:
                    on_frame(frame)
                if on_source_event is not None:
                    for ev in source.poll_events():
                        on_source_event(ev)
        finally:
            dropped_capture = int(getattr(source, "frames_dropped", 0))
            if stats is not None:
                stats.counters["dropped_capture"] += dropped_capture
                stats.counters["dropped_send"] = sender.dropped
            sender.send_control("end", frames=frames, messages=sender.sent - sent_before,
                                dropped_send=sender.dropped - dropped_before,
                                dropped_capture=dropped_capture, last=n_src == len(sources) - 1)
        result.sources += 1
        result.frames += frames
        result.messages += sender.sent - sent_before
        result.dropped_send += sender.dropped - dropped_before
        result.dropped_capture += dropped_capture
        if stop.is_set():
            break
    return result


# ----------------------------------------------------------------------------- server side
@dataclass
class SourceState:
    name: str = "?"
    fps: float = 30.0
    clock: str = "file"
    frames: int = 0
    ended: bool = False
    end_info: dict[str, Any] = field(default_factory=dict)


class StreamServer:
    """The window side: receive, buffer, batch-encode, match, emit. See the module docstring."""

    def __init__(self, receiver: FrameReceiver, recognizer: Recognizer, assembler: WindowAssembler,
                 sinks: SinkSet, *, live: bool | None, stats: PipelineStats | None = None,
                 expect_ends: int | None = None, flush_short: bool = True, max_drain: int = 4096):
        self.receiver = receiver
        self.recognizer = recognizer
        self.assembler = assembler
        self.sinks = sinks
        self.live = live
        self.stats = stats or PipelineStats()
        self.expect_ends = expect_ends
        self.flush_short = flush_short
        self.max_drain = max_drain
        self.sources: dict[int, SourceState] = {}
        self.last_ends = 0
        self.window_log: list[tuple[int, int, int]] = []   # (source, person, frame) of encoded windows

    @property
    def done(self) -> bool:
        return self.expect_ends is not None and self.last_ends >= self.expect_ends

    def step(self, timeout: float = 0.05) -> int:
        """One tick: wait ≤ ``timeout`` s, drain what is there, run ready windows. Returns messages."""
        if not self.receiver.poll(timeout):
            return 0
        msgs = self.receiver.drain(self.max_drain)
        now = time.monotonic()
        st = self.stats
        ended: list[int] = []
        for m in msgs:
            if isinstance(m, WireFrame):
                src = self.sources.setdefault(m.source, SourceState())
                src.frames += 1
                if src.clock == "monotonic":
                    sent = st.sent_at.pop((m.source, m.person, m.frame), None)
                    if sent is not None:
                        st.add("hop", (now - sent) * 1000.0)
                    arrival = m.timestamp
                else:
                    arrival = now
                self.assembler.push(m, arrival)
                if m.last_person:
                    st.tick_frame(now)
            elif m.kind == "heartbeat":
                st.tick_frame(now)
            elif m.kind == "hello":
                self.assembler.reset_source(m.source)
                for key in [k for k in self.recognizer.matcher.tracks if k[0] == m.source]:
                    self.recognizer.matcher.reset(key)
                self.sources[m.source] = SourceState(str(m.info.get("name", m.source)),
                                                     float(m.info.get("fps", 30.0)),
                                                     str(m.info.get("clock", "file")))
                st.sources[m.source] = {"name": self.sources[m.source].name}
            elif m.kind == "end":
                src = self.sources.setdefault(m.source, SourceState())
                src.ended, src.end_info = True, dict(m.info)
                ended.append(m.source)
                if m.info.get("last", True):
                    self.last_ends += 1
        st.counters["frames_in"] = self.receiver.stats.received
        st.counters["malformed"] = self.receiver.stats.malformed
        st.counters["gaps"] = self.receiver.stats.gaps
        if ended and self.flush_short:
            for s in ended:
                if not (self._is_live(s) if self.live is None else self.live):
                    self.assembler.flush_partial(source=s)
        self._run_windows()
        for s in ended:
            src = self.sources[s]
            self.sinks.emit(Event.control("end", s, name=src.name, frames_received=src.frames,
                                          **{k: v for k, v in src.end_info.items() if k != "last"}))
            self.assembler.reset_source(s)
        return len(msgs)

    def _is_live(self, source: int) -> bool:
        src = self.sources.get(source)
        return src is not None and src.clock == "monotonic"

    def _run_windows(self) -> None:
        # live=None: decide per source from its hello (camera/realtime video clocks are monotonic)
        latest = self._is_live if self.live is None else self.live
        windows, skipped = self.assembler.take_ready(latest_only=latest)
        st = self.stats
        st.counters["windows_skipped"] += skipped
        st.counters["windows_dropped"] = self.assembler.windows_dropped
        if not windows:
            return
        st.counters["windows"] += len(windows)
        self.window_log.extend((w.source, w.person, w.frame) for w in windows)
        for ev in self.recognizer.process(windows, st):
            st.counters["events"] += 1
            self.sinks.emit(ev)

    def run(self, stop: threading.Event, *, idle_timeout: float | None = None,
            until: Callable[[], bool] | None = None) -> None:
        """Loop until ``stop`` is set, every expected source has ended, or ``until()`` is true."""
        last_msg = time.monotonic()
        while not stop.is_set() and not self.done:
            if self.step(0.02):
                last_msg = time.monotonic()
            elif until is not None and until():
                # the producer is finished: take what is still queued, then stop
                while self.step(0.0):
                    pass
                break
            elif idle_timeout is not None and time.monotonic() - last_msg > idle_timeout:
                log.warning("no message for %.0f s; stopping", idle_timeout)
                break


# ----------------------------------------------------------------------------- one process
def run_in_process(sources: list, recognizer: Recognizer, assembler: WindowAssembler, sinks: SinkSet,
                   *, live: bool | None, stop: threading.Event | None = None, stats: PipelineStats | None = None,
                   on_frame: Callable | None = None, on_tick: Callable[[], None] | None = None) -> StreamServer:
    """Capture thread → inproc ZeroMQ → server loop in this thread. Returns the server (counters).
    ``live=None`` decides per source from its clock (see :func:`run_capture`)."""
    import zmq

    stop = stop or threading.Event()
    stats = stats or PipelineStats()
    ctx = zmq.Context()
    endpoint = f"inproc://skelzs-frames-{id(stats)}"
    sender = FrameSender(endpoint, "push", context=ctx, hwm=4096)
    receiver = FrameReceiver(endpoint, "push", context=ctx, hwm=4096)
    server = StreamServer(receiver, recognizer, assembler, sinks, live=live, stats=stats,
                          expect_ends=1)
    errors: list[BaseException] = []

    def on_source_event(ev) -> None:
        sinks.emit(Event.control(ev.kind, ev.source, **ev.info))

    def capture() -> None:
        try:
            run_capture(sources, sender, live=live, stop=stop, stats=stats, on_frame=on_frame,
                        on_source_event=on_source_event)
        except BaseException as err:  # reported in the main thread
            errors.append(err)
            stop.set()

    thread = threading.Thread(target=capture, name="skelzs-capture", daemon=True)
    thread.start()
    try:
        while not stop.is_set() and not server.done:
            server.step(0.02)
            if on_tick is not None:
                on_tick()
            if not thread.is_alive() and not receiver.poll(0):
                break
    finally:
        stop.set()
        for s in sources:
            try:
                s.stop()
            except Exception:
                pass
        thread.join(5.0)
        # what the capture sent before it stopped (its end of stream included) still gets through
        deadline = time.monotonic() + 1.0
        try:
            while time.monotonic() < deadline and server.step(0.05):
                pass
        except Exception as err:  # never let the flush hide the original error
            log.debug("flush after stop failed: %s", err)
        sender.close()
        receiver.close()
        ctx.term()
    if errors and not isinstance(errors[0], KeyboardInterrupt):
        raise errors[0]
    return server
