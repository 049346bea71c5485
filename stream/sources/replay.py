"""Replay of recorded skeletons: NTU RGB+D ``.skeleton``, PKU-MMD text (with or without its
label file) and skelzs ``.npz`` — the tested Kinect (v2) path.

Frames are paced at the recording's fps (30 for NTU/PKU) with ``realtime=True`` or handed over
as fast as they are consumed; timestamps are recording time (``frame / fps``), so windows are the
same either way. A PKU-MMD label file attaches the ground-truth segment of each frame to
``SkeletonFrame.meta["truth"]`` (1-based PKU label) for evaluation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from skelzs.stream.errors import SourceError
from skelzs.stream.skeleton import SkeletonSequence
from skelzs.stream.sources.base import PersonSkeleton, SkeletonFrame, SkeletonSource

__all__ = ["ReplayOptions", "ReplaySource", "load_recording"]


@dataclass
class ReplayOptions:
    path: str | Path
    realtime: bool = False
    source_id: int = 0
    labels_path: str | Path | None = None   # PKU-MMD label file (label,start,end,confidence rows)
    max_persons: int = 2


def load_recording(path: str | Path) -> SkeletonSequence:
    """Any supported recording as an NTU-25 sequence (errors are one-line SkelzsErrors)."""
    from skelzs.stream.formats import load_sequence

    p = Path(path)
    if not p.exists():
        raise SourceError(f"recording not found: {p}")
    return load_sequence(p)


class ReplaySource(SkeletonSource):
    """A recording as a skeleton source; see the module docstring."""

    def __init__(self, options: ReplayOptions, sequence: SkeletonSequence | None = None):
        self.options = options
        self.sequence = sequence if sequence is not None else load_recording(options.path)
        if self.sequence.layout != "ntu25":
            from skelzs.stream.layouts import to_ntu25

            j, c = to_ntu25(self.sequence.joints, self.sequence.layout, self.sequence.confidence)
            self.sequence = SkeletonSequence(j, "ntu25", self.sequence.fps, c, dict(self.sequence.meta))
        self.source_id = options.source_id
        self.name = Path(options.path).name
        self.fps = float(self.sequence.fps)
        self.frames_dropped = 0
        self._stopped = False
        self.truth = np.zeros(self.sequence.num_frames, np.int32)
        if options.labels_path is not None:
            from skelzs.stream.pku import read_pku_labels

            for seg in read_pku_labels(options.labels_path):
                self.truth[max(seg.start - 1, 0): seg.end] = seg.label

    @classmethod
    def create_from_options(cls, options: ReplayOptions) -> "ReplaySource":
        return cls(options)

    @property
    def num_frames(self) -> int:
        return self.sequence.num_frames

    def __iter__(self) -> Iterator[SkeletonFrame]:
        seq = self.sequence
        m = min(seq.num_persons, self.options.max_persons)
        present = np.any(seq.joints[:, :m] != 0, axis=(2, 3))          # (T, m)
        conf = seq.confidence if seq.confidence is not None else None
        start = time.monotonic()
        for t in range(seq.num_frames):
            if self._stopped:
                return
            if self.options.realtime:
                due = start + t / self.fps
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
            people = [PersonSkeleton(p, seq.joints[t, p],
                                     conf[t, p] if conf is not None else np.ones(seq.num_joints, np.float32))
                      for p in range(m) if present[t, p]]
            meta = {"truth": int(self.truth[t])} if self.options.labels_path is not None else {}
            yield SkeletonFrame(self.source_id, t, t / self.fps, people, time.monotonic(), None, {}, meta)
