"""Sliding windows over the frame stream, one ring buffer per (source, person).

Windows are built from **timestamps**, not message counts (anchors §5.1): every source gets
its own clock grid at the model's fps (30 for NTU/PKU checkpoints), origin at its first frame;
each person's samples are linearly interpolated onto the grid ticks. A jump longer than
``gap_s`` resets that person's window instead of stitching across it. A window is ready once
``frames`` consecutive ticks are filled and ``stride`` ticks have passed since the last one.

Person slots follow the checkpoint (``persons`` = M, 2 for NTU models): slot 0 holds the window's
own person, slot 1 the other person of the same source tracked on the same ticks (so two-person
interactions look like NTU samples), zeros where nobody is. Joints whose confidence is below
``min_confidence`` hold their last confident position (or the spine base) so a low-visibility
joint is never fed to the encoder as if it were measured.
Memory is bounded: ``capacity`` ticks per buffer and at most ``max_tracks`` buffers per source;
a buffer idle for ``idle_s`` is dropped.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from skelzs.stream.layouts import to_ntu25
from skelzs.stream.skeleton import SkeletonSequence
from skelzs.stream.wire import WireFrame

__all__ = ["WindowConfig", "Window", "WindowBuffer", "WindowAssembler"]

Normalizer = Callable[[SkeletonSequence, int], np.ndarray]
V = 25


@dataclass
class WindowConfig:
    frames: int = 64          # T: from the checkpoint's window
    stride: int = 8           # ticks between two windows of one person
    persons: int = 2          # M: person slots the checkpoint expects
    fps: float = 30.0         # the checkpoint's fps; input timestamps are resampled to it
    gap_s: float = 0.5        # a longer jump between two samples resets the window
    min_confidence: float = 0.5
    max_tracks: int = 8       # person buffers per source
    idle_s: float = 2.0       # a buffer with no sample for this long (stream time) is dropped
    max_pending: int = 1024   # ready windows waiting for the encoder before the oldest is dropped

    def __post_init__(self) -> None:
        if self.frames < 2 or self.stride < 1 or self.persons < 1 or not self.fps > 0:
            raise ValueError(f"invalid window config {self}")


@dataclass
class Window:
    """A ready window: ``data`` is the normalized ``(3, T, V, M)`` encoder input."""

    source: int
    person: int
    frame: int                 # index of the last source frame that went into it
    timestamp: float           # that frame's stream timestamp (s)
    arrival: float             # monotonic time that frame reached the buffer (latency origin)
    first_tick: int
    data: np.ndarray
    persons_present: int = 1
    stage_ms: dict[str, float] = field(default_factory=dict)
    first_arrival: float = 0.0  # monotonic time the window's first frame arrived (decision latency)
    received: float = 0.0       # monotonic time the window's last frame reached the window stage


class WindowBuffer:
    """The ring buffer of one (source, person): samples on a ``fps`` grid, reset on gaps."""

    def __init__(self, config: WindowConfig, origin: float):
        self.cfg = config
        self.origin = origin
        cap = 2 * config.frames + config.stride   # room for a partner's lookup after a batch
        self.capacity = cap
        self.joints = np.zeros((cap, V, 3), np.float32)
        self.conf = np.zeros((cap, V), np.float32)
        self.ticks = np.full(cap, -1, np.int64)
        self.arrivals = np.zeros(cap, np.float64)   # when the sample that filled each tick arrived
        self._arrival = 0.0
        self.resets = 0
        self.out_of_order = 0
        self._held = np.zeros((V, 3), np.float32)
        self._held_ok = np.zeros(V, bool)
        self._reset_state()

    def _reset_state(self) -> None:
        self.ticks[:] = -1
        self.run = 0                      # consecutive filled ticks up to last_tick
        self.last_tick = -1
        self.since_window = 0
        self.windows_emitted_in_run = 0
        self.prev_x: float | None = None
        self.prev_j: np.ndarray | None = None
        self.prev_c: np.ndarray | None = None
        self.last_time = -math.inf
        self.last_frame = -1

    def _clean(self, joints: np.ndarray, conf: np.ndarray) -> np.ndarray:
        """Replace low-confidence joints by their last confident position (or the spine base)."""
        ok = conf >= self.cfg.min_confidence
        out = joints.copy()
        if not ok.all():
            hold = np.where(self._held_ok[:, None], self._held, joints[0])
            out[~ok] = hold[~ok]
        self._held[ok] = joints[ok]
        self._held_ok |= ok
        return out

    def _put(self, tick: int, joints: np.ndarray, conf: np.ndarray) -> None:
        i = tick % self.capacity
        self.joints[i] = joints
        self.conf[i] = conf
        self.ticks[i] = tick
        self.arrivals[i] = self._arrival
        self.run = self.run + 1 if tick == self.last_tick + 1 else 1
        self.last_tick = tick
        self.since_window += 1

    def push(self, t: float, joints: np.ndarray, conf: np.ndarray, arrival: float = 0.0) -> int:
        """Add one sample at stream time ``t`` (s); returns how many grid ticks it completed."""
        self._arrival = arrival
        x = (t - self.origin) * self.cfg.fps
        if self.prev_x is not None and x <= self.prev_x:
            self.out_of_order += 1
            return 0
        joints = self._clean(np.asarray(joints, np.float32), np.asarray(conf, np.float32))
        conf = np.asarray(conf, np.float32)
        if self.prev_x is not None and (x - self.prev_x) > self.cfg.gap_s * self.cfg.fps:
            self.resets += 1
            self._reset_state()
        self.last_time = t
        if self.prev_x is None:
            self._put(int(round(x)), joints, conf)
            self.prev_x, self.prev_j, self.prev_c = x, joints, conf
            return 1
        added = 0
        for k in range(self.last_tick + 1, int(math.floor(x + 1e-6)) + 1):
            w = (k - self.prev_x) / (x - self.prev_x)
            w = min(max(w, 0.0), 1.0)
            self._put(k, self.prev_j + w * (joints - self.prev_j), np.minimum(self.prev_c, conf))
            added += 1
        self.prev_x, self.prev_j, self.prev_c = x, joints, conf
        return added

    def ready(self) -> bool:
        t = self.cfg.frames
        if self.run < t:
            return False
        if self.windows_emitted_in_run == 0:
            return True
        return self.since_window >= self.cfg.stride

    def take(self) -> tuple[int, np.ndarray, np.ndarray]:
        """The latest ``frames`` ticks: ``(first_tick, joints (T, V, 3), conf (T, V))``."""
        t = self.cfg.frames
        ticks = np.arange(self.last_tick - t + 1, self.last_tick + 1)
        idx = ticks % self.capacity
        self.since_window = 0
        self.windows_emitted_in_run += 1
        return int(ticks[0]), self.joints[idx].copy(), self.conf[idx].copy()

    def take_padded(self) -> tuple[int, np.ndarray, np.ndarray]:
        """A window from a run shorter than ``frames``: the run repeated (loop padding)."""
        n = min(self.run, self.capacity)
        ticks = np.arange(self.last_tick - n + 1, self.last_tick + 1)
        idx = ticks[np.arange(self.cfg.frames) % n] % self.capacity
        self.since_window = 0
        self.windows_emitted_in_run += 1
        return int(ticks[0]), self.joints[idx].copy(), self.conf[idx].copy()

    def samples_at(self, first_tick: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """This buffer's samples on ticks ``first_tick ..`` (zeros and mask False where absent)."""
        ticks = np.arange(first_tick, first_tick + count)
        idx = ticks % self.capacity
        mask = self.ticks[idx] == ticks
        j = np.where(mask[:, None, None], self.joints[idx], 0.0).astype(np.float32)
        return j, mask


class WindowAssembler:
    """All buffers of all sources: feed frames in, take normalized ready windows out."""

    def __init__(self, config: WindowConfig, normalize: Normalizer | None = None):
        self.cfg = config
        self.normalize = normalize
        self.buffers: dict[tuple[int, int], WindowBuffer] = {}
        self.origins: dict[int, float] = {}
        self.latest_time: dict[int, float] = {}
        self.frames_in = 0
        self.windows_out = 0
        self.tracks_dropped = 0
        self.windows_dropped = 0
        # Snapshots taken the moment a window became ready (so a batch of many frames loses none).
        self._pending: list[tuple] = []

    def reset_source(self, source: int) -> None:
        """Forget a source (a new ``hello`` from it, or it ended)."""
        for key in [k for k in self.buffers if k[0] == source]:
            del self.buffers[key]
        self.origins.pop(source, None)
        self.latest_time.pop(source, None)

    def push(self, frame: WireFrame, arrival: float | None = None) -> None:
        joints, conf = frame.joints, frame.confidence
        if frame.layout != "ntu25":
            joints, conf = to_ntu25(joints, frame.layout, conf)
        if conf is None:
            conf = np.ones(V, np.float32)
        self.push_joints(frame.source, frame.person, frame.frame, frame.timestamp, joints, conf, arrival)

    def push_joints(self, source: int, person: int, frame: int, t: float, joints: np.ndarray,
                    conf: np.ndarray, arrival: float | None = None) -> None:
        self.frames_in += 1
        origin = self.origins.setdefault(source, t)
        key = (source, person)
        buf = self.buffers.get(key)
        if buf is None:
            self._evict(source, t)
            buf = self.buffers[key] = WindowBuffer(self.cfg, origin)
        arrival = time.monotonic() if arrival is None else arrival
        buf.push(t, joints, conf, arrival)
        buf.last_frame = frame
        self.latest_time[source] = max(self.latest_time.get(source, t), t)
        if buf.ready():
            first, j, c = buf.take()
            self._pending.append((key, frame, t, (arrival, float(buf.arrivals[first % buf.capacity]), time.monotonic()),
                                  first, j, c))
            if len(self._pending) > self.cfg.max_pending:   # nobody is taking windows: keep memory bounded
                del self._pending[0]
                self.windows_dropped += 1

    def _evict(self, source: int, now: float) -> None:
        """Drop idle buffers of ``source``; keep at most ``max_tracks - 1`` before adding one."""
        mine = [k for k in self.buffers if k[0] == source]
        for key in mine:
            if now - self.buffers[key].last_time > self.cfg.idle_s:
                del self.buffers[key]
                self.tracks_dropped += 1
        mine = sorted((k for k in self.buffers if k[0] == source),
                      key=lambda k: (self.buffers[k].last_time, self.buffers[k].run))
        while len(mine) >= self.cfg.max_tracks:
            key = mine.pop(0)
            del self.buffers[key]
            self.tracks_dropped += 1

    def ready_count(self) -> int:
        return len(self._pending)

    def flush_partial(self, min_frames: int | None = None, source: int | None = None) -> None:
        """At end of stream: a buffer that never filled a window yields one padded by repetition
        (only if it holds at least ``min_frames`` ticks), so short recordings still get an answer."""
        need = self.cfg.frames // 4 if min_frames is None else min_frames
        for key, buf in self.buffers.items():
            if (source is not None and key[0] != source) or buf.windows_emitted_in_run or buf.run < need:
                continue
            first, j, c = buf.take_padded()
            now = time.monotonic()
            self._pending.append((key, buf.last_frame, buf.last_time,
                                  (now, float(buf.arrivals[first % buf.capacity]), now), first, j, c))

    def take_ready(self, latest_only: bool | Callable[[int], bool] = False) -> tuple[list[Window], int]:
        """Windows that became ready since the last call, normalized for the encoder.

        With ``latest_only`` (live, latest wins) only the newest window of each (source, person)
        is kept; a callable decides per source id. Returns ``(windows, skipped)``, ``skipped``
        counting the windows left out.
        """
        pending, self._pending = self._pending, []
        skipped = 0
        if latest_only:
            live = latest_only if callable(latest_only) else (lambda _source: True)
            newest: dict[tuple[int, int], int] = {}
            keep_all: list[int] = []
            for i, item in enumerate(pending):
                if live(item[0][0]):
                    newest[item[0]] = i
                else:
                    keep_all.append(i)
            keep = sorted(list(newest.values()) + keep_all)
            skipped = len(pending) - len(keep)
            pending = [pending[i] for i in keep]
        out: list[Window] = []
        t_cfg = self.cfg.frames
        for key, frame, ts, (arrival, first_arrival, received), first, joints, conf in pending:
            t0 = time.perf_counter()
            persons = np.zeros((t_cfg, self.cfg.persons, V, 3), np.float32)
            confs = np.zeros((t_cfg, self.cfg.persons, V), np.float32)
            persons[:, 0], confs[:, 0] = joints, conf
            present = 1
            if self.cfg.persons > 1:
                others = [b.samples_at(first, t_cfg) for k, b in self.buffers.items()
                          if k[0] == key[0] and k != key]
                others.sort(key=lambda o: -int(o[1].sum()))
                for slot, (j, mask) in enumerate(others[: self.cfg.persons - 1], start=1):
                    if mask.any():
                        persons[:, slot] = j
                        confs[:, slot] = mask.astype(np.float32)[:, None]
                        present += 1
            seq = SkeletonSequence(persons, "ntu25", self.cfg.fps, confs,
                                   {"source": key[0], "person": key[1]})
            data = self.normalize(seq, t_cfg) if self.normalize is not None else _default_layout(seq)
            out.append(Window(key[0], key[1], frame, ts, arrival, first, np.asarray(data, np.float32),
                              present, {"buffer": (time.perf_counter() - t0) * 1000.0}, first_arrival, received))
        self.windows_out += len(out)
        return out, skipped


def _default_layout(seq: SkeletonSequence) -> np.ndarray:
    """Un-normalized ``(3, T, V, M)`` (only for tests that pass no normalizer)."""
    return np.ascontiguousarray(seq.joints.transpose(3, 0, 2, 1))
