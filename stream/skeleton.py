"""The one array convention every part of skelzs shares.

A skeleton sequence is a float32 array of shape ``(T, M, V, 3)``:

* ``T`` frames, at ``fps`` frames per second;
* ``M`` person slots (2 by default; an absent person is all zeros);
* ``V`` joints of a named :mod:`~skelzs.stream.layouts` layout (NTU-25 for everything the
  encoders see);
* ``x, y, z`` in metres, in Kinect v2 camera space (x to the sensor's left, y up, z away from
  the sensor), whatever the source.

``confidence`` is an optional ``(T, M, V)`` float32 array in ``[0, 1]``: 1 for a tracked joint,
lower for inferred or low-visibility joints, 0 for a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skelzs.stream.layouts import LAYOUTS

__all__ = ["SkeletonSequence", "DEFAULT_FPS", "DEFAULT_PERSONS"]

DEFAULT_FPS = 30.0
DEFAULT_PERSONS = 2


@dataclass
class SkeletonSequence:
    """A recording or window of skeletons: ``joints`` is float32 ``(T, M, V, 3)`` in metres."""

    joints: np.ndarray
    layout: str = "ntu25"
    fps: float = DEFAULT_FPS
    confidence: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        joints = np.asarray(self.joints)
        if joints.ndim != 4 or joints.shape[-1] != 3:
            raise ValueError(f"joints must have shape (T, M, V, 3), got {joints.shape}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}; known: {', '.join(LAYOUTS)}")
        expected = LAYOUTS[self.layout].num_joints
        if joints.shape[2] != expected:
            raise ValueError(f"layout {self.layout} has {expected} joints, array has {joints.shape[2]}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        self.joints = np.ascontiguousarray(joints, dtype=np.float32)
        if self.confidence is not None:
            conf = np.asarray(self.confidence, dtype=np.float32)
            if conf.shape != joints.shape[:3]:
                raise ValueError(f"confidence must have shape {joints.shape[:3]}, got {conf.shape}")
            self.confidence = conf

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def num_persons(self) -> int:
        """Person slots in the array (some may be empty; see :meth:`present_persons`)."""
        return int(self.joints.shape[1])

    @property
    def num_joints(self) -> int:
        return int(self.joints.shape[2])

    @property
    def duration(self) -> float:
        """Seconds covered by the frames."""
        return self.num_frames / self.fps

    def present_persons(self) -> int:
        """Number of person slots that hold a body in at least one frame."""
        if self.num_frames == 0:
            return 0
        return int(np.any(self.joints != 0, axis=(0, 2, 3)).sum())

    def with_persons(self, m: int) -> "SkeletonSequence":
        """Pad with empty slots or drop trailing slots so the sequence has exactly ``m`` persons."""
        t, cur, v, _ = self.joints.shape
        if cur == m:
            return self
        out = np.zeros((t, m, v, 3), np.float32)
        out[:, : min(cur, m)] = self.joints[:, : min(cur, m)]
        conf = None
        if self.confidence is not None:
            conf = np.zeros((t, m, v), np.float32)
            conf[:, : min(cur, m)] = self.confidence[:, : min(cur, m)]
        return SkeletonSequence(out, self.layout, self.fps, conf, dict(self.meta))

    def slice(self, start: int, stop: int) -> "SkeletonSequence":
        """Frames ``[start, stop)`` as a new sequence sharing metadata."""
        conf = None if self.confidence is None else self.confidence[start:stop]
        return SkeletonSequence(self.joints[start:stop], self.layout, self.fps, conf, dict(self.meta))
