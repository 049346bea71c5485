"""What every source yields, and the shape every source has (MediaPipe-Tasks style: an options
dataclass, ``create_from_options``, a context manager, iteration over typed results)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

__all__ = ["PersonSkeleton", "SkeletonFrame", "ImageFrame", "SkeletonSource", "SourceEvent"]


@dataclass
class PersonSkeleton:
    """One tracked person in one frame: NTU-25 joints in metres (Kinect axes) and confidences."""

    person: int
    joints: np.ndarray                 # (25, 3) float32
    confidence: np.ndarray             # (25,) float32 in [0, 1]
    image_points: np.ndarray | None = None   # (25, 2) pixel coordinates for drawing, if known


@dataclass
class SkeletonFrame:
    """Everything a source knows about one frame."""

    source: int
    frame: int                         # 0-based frame index in the source
    timestamp: float                   # seconds on the source's clock (file time or monotonic)
    persons: list[PersonSkeleton]
    arrival: float = 0.0               # time.monotonic() when the frame (image) was captured/read
    image: np.ndarray | None = None    # BGR image for --show/--output (camera and video only)
    stages_ms: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImageFrame:
    """A decoded camera/video image: BGR uint8, its index and its timestamp (s)."""

    image: np.ndarray
    frame: int
    timestamp: float
    arrival: float


@dataclass
class SourceEvent:
    """A change of a source's state (``source_lost``, ``source_recovered``)."""

    kind: str
    source: int
    info: dict[str, Any] = field(default_factory=dict)


class SkeletonSource:
    """Base of the skeleton sources: ``with Source.create_from_options(o) as s: for f in s: ...``."""

    source_id: int = 0
    name: str = "source"
    fps: float = 30.0
    frames_dropped: int = 0            # frames the source skipped (latest-wins capture)

    def __iter__(self) -> Iterator[SkeletonFrame]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def stop(self) -> None:
        """Ask a running iteration to end soon (thread-safe)."""
        self._stopped = True

    @property
    def stopped(self) -> bool:
        return getattr(self, "_stopped", False)

    def poll_events(self) -> list[SourceEvent]:
        return []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
