"""Camera and network-stream images (``--camera N``, ``--url rtsp://...``) with OpenCV.

A grabber thread reads the capture as fast as it delivers and keeps only the newest image, so a
slow consumer never sees stale frames from the OS buffer (anchors §5.2; opencv #13145); every
image it overwrites unread is counted in ``frames_dropped``. Timestamps come from
``time.monotonic()`` (device clocks restart after a reconnect; MediaPipe needs increasing
times). A failed read closes the capture and reopens it with exponential backoff, reporting
``source_lost`` / ``source_recovered``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator

from skelzs.stream.errors import SourceError
from skelzs.stream.sources.base import ImageFrame, SourceEvent

__all__ = ["CameraOptions", "CameraSource", "LatestFrameGrabber"]

log = logging.getLogger(__name__)


@dataclass
class CameraOptions:
    device: int | str = 0              # camera index, or an rtsp:// / http(s):// URL
    width: int | None = None
    height: int | None = None
    source_id: int = 0
    reconnect_initial_s: float = 0.5   # first backoff after a failed read; doubles up to the max
    reconnect_max_s: float = 8.0
    max_reconnects: int | None = None  # None: keep trying until stopped


class LatestFrameGrabber:
    """A thread that reads ``read()`` into a one-slot mailbox (the newest image wins)."""

    def __init__(self, read: Callable[[], tuple[bool, object]], *, pace_fps: float | None = None,
                 on_fail: Callable[[], bool] | None = None, name: str = "grabber"):
        self._read = read
        self._pace = 1.0 / pace_fps if pace_fps else None
        self._on_fail = on_fail           # returns True to keep going (reconnected), False to end
        self._cond = threading.Condition()
        self._latest: ImageFrame | None = None
        self._stop = threading.Event()
        self.ended = False
        self.grabbed = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "LatestFrameGrabber":
        if not self._thread.is_alive() and not self.ended and self._thread.ident is None:
            self._thread.start()
        return self

    def _run(self) -> None:
        start = time.monotonic()
        index = 0
        try:
            while not self._stop.is_set():
                if self._pace is not None:
                    # a file played as if it were a camera: an image is decoded when it is due, as a
                    # camera delivers it, not read ahead while the consumer works on the one before
                    delay = start + index * self._pace - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                ok, image = self._read()
                if not ok:
                    if self._on_fail is not None and self._on_fail():
                        continue
                    break
                now = time.monotonic()
                with self._cond:
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = ImageFrame(image, index, now if self._pace is None else index * self._pace, now)
                    self.grabbed += 1
                    self._cond.notify_all()
                index += 1
        finally:
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    def get(self, timeout: float = 1.0) -> ImageFrame | None:
        """The newest unread image, waiting at most ``timeout`` s; None on timeout or end."""
        with self._cond:
            if self._latest is None and not self.ended:
                self._cond.wait(timeout)
            frame, self._latest = self._latest, None
            return frame

    def frames(self, timeout: float = 1.0) -> Iterator[ImageFrame]:
        """Start the thread, then yield each newest image until the source ends."""
        self.start()
        while True:
            frame = self.get(timeout)
            if frame is not None:
                yield frame
            elif self.ended:
                return

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def join(self, timeout: float = 2.0) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout)


def _quietly(cv2, open_capture):
    """Open a capture with OpenCV's own logging off: probing a missing camera makes V4L2, FFmpeg
    and the Orbbec backend each print warnings before our one-line error says the same."""
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    if log is None:
        return open_capture()
    level = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        return open_capture()
    finally:
        log.setLogLevel(level)


class CameraSource:
    """Images from a camera index or a stream URL; see the module docstring."""

    clock = "monotonic"     # frames are stamped with their grab time

    def __init__(self, options: CameraOptions):
        import cv2

        self._cv2 = cv2
        self.options = options
        self.source_id = options.source_id
        self.name = f"camera:{options.device}" if isinstance(options.device, int) else str(options.device)
        self.events: deque[SourceEvent] = deque(maxlen=100)
        self.reconnects = 0
        self._cap = self._open()
        if self._cap is None:
            if isinstance(options.device, int):
                raise SourceError(f"no camera at index {options.device} (OpenCV could not open it); "
                                  "use --video PATH to run on a video file")
            raise SourceError(f"cannot open stream {options.device}; check the URL, or use --video PATH")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else 30.0
        self._grabber = LatestFrameGrabber(self._read, on_fail=self._reconnect, name=f"grab-{self.name}")

    @classmethod
    def create_from_options(cls, options: CameraOptions) -> "CameraSource":
        return cls(options)

    def _open(self):
        cv2 = self._cv2
        dev = self.options.device
        cap = _quietly(cv2, lambda: cv2.VideoCapture(dev))
        if not cap.isOpened():
            cap.release()
            return None
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)     # honoured by some backends only; the grabber does the rest
        if self.options.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.options.width)
        if self.options.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.options.height)
        return cap

    def _read(self):
        if self._cap is None:
            return False, None
        return self._cap.read()

    def _reconnect(self) -> bool:
        """Exponential backoff until the capture reopens (True) or we are stopped/out of tries."""
        self.events.append(SourceEvent("source_lost", self.source_id, {"name": self.name}))
        log.warning("%s: read failed, reconnecting", self.name)
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        delay = self.options.reconnect_initial_s
        tries = 0
        while not self._grabber._stop.is_set():
            if self.options.max_reconnects is not None and tries >= self.options.max_reconnects:
                return False
            self._grabber._stop.wait(delay)
            tries += 1
            cap = self._open()
            if cap is not None:
                self._cap = cap
                self.reconnects += 1
                self.events.append(SourceEvent("source_recovered", self.source_id,
                                               {"name": self.name, "tries": tries}))
                log.info("%s: recovered after %d tries", self.name, tries)
                return True
            delay = min(delay * 2.0, self.options.reconnect_max_s)
        return False

    @property
    def frames_dropped(self) -> int:
        return self._grabber.dropped

    def poll_events(self) -> list[SourceEvent]:
        out = list(self.events)
        self.events.clear()
        return out

    def frames(self, timeout: float = 1.0) -> Iterator[ImageFrame]:
        """Newest images until the source ends or is stopped (the grabber starts here)."""
        yield from self._grabber.frames(timeout)

    def stop(self) -> None:
        self._grabber.stop()

    def close(self) -> None:
        self._grabber.stop()
        self._grabber.join()
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> "CameraSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
