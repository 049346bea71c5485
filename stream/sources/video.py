"""Images from a video file (``--video PATH``).

``realtime=True`` plays the file like a camera: a grabber thread paces reads at the file's fps
and keeps only the newest image, so a consumer slower than the video drops frames (counted)
instead of falling behind. ``realtime=False`` hands over every frame as fast as it is consumed.
Timestamps are file time (frame index / fps). ``loops`` plays the file several times in a row
(``0``: until stopped), for demos and for benchmarks that need more windows than a short clip has.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from skelzs.stream.errors import SourceError
from skelzs.stream.sources.base import ImageFrame, SourceEvent
from skelzs.stream.sources.camera import LatestFrameGrabber

__all__ = ["VideoOptions", "VideoSource"]


@dataclass
class VideoOptions:
    path: str | Path
    realtime: bool = True
    source_id: int = 0
    max_frames: int | None = None
    loops: int = 1                 # plays of the file in a row (0: forever); a loop is a cut, not a gap
    decode_threads: int | None = None   # FFmpeg decoding threads (None: 1 when realtime, else FFmpeg's default)


class VideoSource:
    """A video file as an image source; see the module docstring."""

    def __init__(self, options: VideoOptions):
        import cv2

        self.options = options
        self.source_id = options.source_id
        # played as a camera: grab-time stamps; as fast as possible: file time (frame / fps)
        self.clock = "monotonic" if options.realtime else "file"
        path = Path(options.path)
        self.name = path.name
        if not path.is_file():
            raise SourceError(f"video not found: {path}")
        # played as a camera, one decoding thread: an image is decoded inside read(), when it is
        # due, as a camera delivers it; FFmpeg's frame threads would go on decoding the next image
        # in the background, on the cores the pose model and the encoder are using
        threads = options.decode_threads if options.decode_threads is not None else (1 if options.realtime else 0)
        params = [cv2.CAP_PROP_N_THREADS, threads] if threads > 0 else []
        self._cap = cv2.VideoCapture(str(path), cv2.CAP_ANY, params)
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"cannot decode video {path} (corrupt, empty or unsupported format)")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else 30.0
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if options.loops < 0:
            raise SourceError(f"--loops must be 0 (forever) or more, got {options.loops}")
        self._plays = 1
        self._first = first
        self._read_count = 0
        self._grabber: LatestFrameGrabber | None = None
        self._stopped = False
        if options.realtime:
            self._grabber = LatestFrameGrabber(self._read, pace_fps=self.fps, name=f"grab-{self.name}")

    @classmethod
    def create_from_options(cls, options: VideoOptions) -> "VideoSource":
        return cls(options)

    def _read(self):
        if self.options.max_frames is not None and self._read_count >= self.options.max_frames:
            return False, None
        self._read_count += 1
        if self._first is not None:
            first, self._first = self._first, None
            return True, first
        ok, image = self._cap.read()
        if not ok and (self.options.loops == 0 or self._plays < self.options.loops):
            import cv2

            self._plays += 1
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._cap.read()
        return ok, image

    @property
    def frames_dropped(self) -> int:
        return self._grabber.dropped if self._grabber is not None else 0

    def poll_events(self) -> list[SourceEvent]:
        return []

    def frames(self, timeout: float = 1.0) -> Iterator[ImageFrame]:
        if self._grabber is not None:
            yield from self._grabber.frames(timeout)
            return
        index = 0
        while not self._stopped:
            ok, image = self._read()
            if not ok:
                return
            yield ImageFrame(image, index, index / self.fps, time.monotonic())
            index += 1

    def stop(self) -> None:
        self._stopped = True
        if self._grabber is not None:
            self._grabber.stop()

    def close(self) -> None:
        self.stop()
        if self._grabber is not None:
            self._grabber.join()
        self._cap.release()

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
