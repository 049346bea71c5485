"""What a person watching sees: a rich Live panel (per person top-k bars, fps, per-stage latency,
drop counters) and, with ``--show`` / ``--output annotated.mp4``, the video with the skeletons
and current labels drawn on it (OpenCV; mp4v is the writer that works with OpenCV 5 here)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from skelzs.stream.errors import SourceError
from skelzs.stream.layouts import NTU25

__all__ = ["LiveView", "FrameAnnotator", "render_status"]


def _bar(p: float, width: int = 20) -> str:
    n = int(round(max(0.0, min(1.0, p)) * width))
    return "█" * n + "·" * (width - n)


def render_status(stats, title: str = "skelzs"):
    """A rich renderable of the pipeline state (used by :class:`LiveView`, handy in tests)."""
    from rich.console import Group
    from rich.table import Table

    people = Table(title=title, expand=False, show_lines=False)
    people.add_column("source/person")
    people.add_column("label")
    people.add_column("top-k")
    for (src, person), cur in sorted(stats.current.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        name = stats.sources.get(src, {}).get("name", src)
        bars = "\n".join(f"{_bar(s)} {s:5.2f} {lab}" for lab, s in cur.get("topk", []))
        people.add_row(f"{name}/{person}", cur.get("label") or "[dim]no action[/dim]", bars)
    lat = Table(show_header=True, expand=False)
    lat.add_column("stage")
    lat.add_column("p50 ms", justify="right")
    lat.add_column("p95 ms", justify="right")
    for stage in stats.STAGES:
        p50, p95 = stats.percentile(stage, 50), stats.percentile(stage, 95)
        if p50 is not None:
            lat.add_row(stage, f"{p50:.1f}", f"{p95:.1f}")
    c = stats.counters
    footer = (f"fps {stats.fps:5.1f} | frames {c['frames_in']} | windows {c['windows']} "
              f"(skipped {c['windows_skipped']}) | events {c['events']} | dropped: capture "
              f"{c['dropped_capture']}, send {c['dropped_send']}, gaps {c['gaps']}, malformed {c['malformed']}")
    return Group(people, lat, footer)


class LiveView:
    """A rich ``Live`` display on stderr, refreshed at most ``hz`` times a second."""

    def __init__(self, stats, title: str = "skelzs live", hz: float = 4.0):
        from rich.console import Console
        from rich.live import Live

        self.stats = stats
        self.title = title
        self._period = 1.0 / hz
        self._next = 0.0
        self._live = Live(render_status(stats, title), console=Console(stderr=True), auto_refresh=False)

    def __enter__(self) -> "LiveView":
        self._live.__enter__()
        return self

    def tick(self) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._period
            self._live.update(render_status(self.stats, self.title), refresh=True)

    def __exit__(self, *exc) -> None:
        self._live.update(render_status(self.stats, self.title), refresh=True)
        self._live.__exit__(*exc)


class FrameAnnotator:
    """Draws skeletons and the current labels on each frame; shows and/or writes them."""

    def __init__(self, stats, *, show: bool = False, output: str | Path | None = None, fps: float = 30.0):
        import os
        import sys

        import cv2

        if show and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            # OpenCV's Qt backend aborts the whole process without a display: refuse up front.
            raise SourceError("--show needs a display (DISPLAY is not set); use --output annotated.mp4 instead")
        self._cv2 = cv2
        self.stats = stats
        self.show = show
        self.output = Path(output) if output else None
        self.fps = fps
        self._writer = None
        self.written = 0
        self._window = "skelzs"

    def _open_writer(self, shape: tuple[int, ...]) -> None:
        cv2 = self._cv2
        h, w = shape[:2]
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._writer = cv2.VideoWriter(str(self.output), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
        if not self._writer.isOpened():
            raise SourceError(f"cannot write video {self.output} (mp4v writer did not open)")

    def draw(self, frame) -> np.ndarray | None:
        """The annotated BGR image of a :class:`SkeletonFrame` (None if it carries no image)."""
        cv2 = self._cv2
        if frame.image is None:
            return None
        img = frame.image.copy()
        h = img.shape[0]
        thick = max(1, h // 360)
        for p in frame.persons:
            if p.image_points is None:
                continue
            color = [(0, 200, 255), (255, 120, 0), (0, 255, 0), (255, 0, 255)][p.person % 4]
            pts = p.image_points.astype(int)
            for child, parent in NTU25.bones:
                ok = p.confidence[child] >= 0.5 and p.confidence[parent] >= 0.5
                cv2.line(img, tuple(pts[child]), tuple(pts[parent]), color if ok else (128, 128, 128), thick)
            cur: dict[str, Any] = self.stats.current.get((frame.source, p.person), {})
            label = cur.get("label") or "-"
            score = cur.get("score", 0.0)
            x, y = pts[3]
            cv2.putText(img, f"#{p.person} {label} {score:.2f}", (int(x) - 40, max(20, int(y) - 20)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick, color, thick, cv2.LINE_AA)
        cv2.putText(img, f"{self.stats.fps:4.1f} fps", (10, 25 * thick), cv2.FONT_HERSHEY_SIMPLEX,
                    0.6 * thick, (255, 255, 255), thick, cv2.LINE_AA)
        return img

    def __call__(self, frame) -> None:
        img = self.draw(frame)
        if img is None:
            return
        if self.output is not None:
            if self._writer is None:
                self._open_writer(img.shape)
            self._writer.write(img)
            self.written += 1
        if self.show:
            try:
                self._cv2.imshow(self._window, img)
                self._cv2.waitKey(1)
            except self._cv2.error as err:
                self.show = False
                raise SourceError(f"--show cannot open a window here ({str(err).splitlines()[0][:120]}); "
                                  "use --output annotated.mp4") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self.show:
            try:
                self._cv2.destroyAllWindows()
            except self._cv2.error:
                pass
