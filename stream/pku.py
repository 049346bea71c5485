"""PKU-MMD (phase I) skeleton and label files; labelled clip cutting.

Skeleton file (papers.md D.6, anchors.md 5.4): one line per frame with 150 floats, person 1's
25 joints x (x, y, z) then person 2's (zeros when absent); Kinect v2 order, metres, 30 fps.
Label file: ``label,start,end,confidence`` per line; labels 1..51, frames 1-based inclusive,
confidence 1 or 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.skeleton import SkeletonSequence

__all__ = ["PkuSegment", "read_pku_skeleton", "read_pku_labels", "cut_pku_clips", "write_pku_skeleton",
           "NUM_PKU_CLASSES", "MAX_FILE_BYTES"]

NUM_PKU_CLASSES = 51
VALUES_PER_LINE = 150
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class PkuSegment:
    """One labelled action instance: ``label`` 1..51, frames ``start..end`` 1-based inclusive."""

    label: int
    start: int
    end: int
    confidence: int

    @property
    def num_frames(self) -> int:
        return self.end - self.start + 1


def _read_text(path: str | Path) -> str:
    from skelzs.stream.errors import read_text_file

    return read_text_file(path, MAX_FILE_BYTES, "ascii", "PKU-MMD")


def read_pku_skeleton(path: str | Path) -> SkeletonSequence:
    """Read a PKU-MMD skeleton file into ``(T, 2, 25, 3)`` float32 (NTU-25 layout)."""
    text = _read_text(path)
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    counts = [len(ln.split()) for ln in lines]
    for i, n in enumerate(counts):
        if n != VALUES_PER_LINE:
            raise SkeletonFormatError(path, i + 1, f"expected {VALUES_PER_LINE} values, found {n}")
    try:
        flat = np.array(" ".join(lines).split(), dtype=np.float64)
    except ValueError:
        for i, ln in enumerate(lines):
            for tok in ln.split():
                try:
                    float(tok)
                except ValueError:
                    raise SkeletonFormatError(path, i + 1, f"not a number: {tok[:20]!r}") from None
        raise
    arr = flat.reshape(len(lines), 2, 25, 3)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise SkeletonFormatError(path, int(np.argwhere(bad)[0][0]) + 1, "non-finite value (NaN or inf)")
    conf = np.any(arr != 0, axis=-1).astype(np.float32)
    meta = {"format": "pku", "path": str(path), "action": None, "video": Path(path).stem}
    return SkeletonSequence(arr.astype(np.float32), "ntu25", 30.0, conf, meta)


def read_pku_labels(path: str | Path, num_frames: int | None = None) -> list[PkuSegment]:
    """Read ``label,start,end,confidence`` rows; check labels 1..51 and 1 <= start <= end (<= num_frames)."""
    text = _read_text(path)
    segments: list[PkuSegment] = []
    for i, ln in enumerate(text.splitlines(), start=1):
        if not ln.strip():
            continue
        parts = [p.strip() for p in ln.split(",")]
        if len(parts) != 4:
            raise SkeletonFormatError(path, i, f"expected label,start,end,confidence; found {len(parts)} fields")
        if not all(p.isdigit() for p in parts):
            raise SkeletonFormatError(path, i, "label, start, end and confidence must be non-negative integers")
        label, start, end, conf = (int(p) for p in parts)
        if not 1 <= label <= NUM_PKU_CLASSES:
            raise SkeletonFormatError(path, i, f"label {label} outside 1..{NUM_PKU_CLASSES}")
        if start < 1:
            raise SkeletonFormatError(path, i, f"start frame {start} < 1 (frames are 1-based)")
        if end < start:
            raise SkeletonFormatError(path, i, f"reversed interval {start}..{end}")
        if num_frames is not None and end > num_frames:
            raise SkeletonFormatError(path, i, f"interval {start}..{end} beyond the {num_frames} frames")
        segments.append(PkuSegment(label, start, end, conf))
    return segments


def cut_pku_clips(seq: SkeletonSequence, segments: list[PkuSegment]) -> list[tuple[PkuSegment, SkeletonSequence]]:
    """One clip per segment (frames ``start..end`` inclusive); ``meta["action"]`` = label - 1."""
    clips = []
    for seg in segments:
        if seg.end > seq.num_frames or seg.start < 1 or seg.end < seg.start:
            raise SkeletonFormatError(seq.meta.get("path", "<sequence>"), None,
                                      f"segment {seg.start}..{seg.end} outside the {seq.num_frames} frames")
        clip = seq.slice(seg.start - 1, seg.end)
        clip.meta.update(action=seg.label - 1, pku_label=seg.label, start=seg.start, end=seg.end,
                         confidence_level=seg.confidence)
        clips.append((seg, clip))
    return clips


def write_pku_skeleton(path: str | Path, seq: SkeletonSequence) -> None:
    """Write ``(T, M<=2, 25, 3)`` NTU-25 joints as 150 values per line (person 2 zeros if absent)."""
    if seq.layout != "ntu25":
        raise ValueError(f"a PKU-MMD file holds ntu25 joints, not {seq.layout}")
    j = seq.with_persons(2).joints.reshape(seq.num_frames, VALUES_PER_LINE)
    lines = [" ".join(np.format_float_positional(v, unique=True, trim="-") for v in row) for row in j]
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")
