"""PKU-MMD sequences stored as ``.npz`` with ``joints_mm``: int16 millimetres ``(T, 150)``, the
PKU-MMD skeleton text layout (2 persons × 25 NTU joints × xyz, Kinect v2 camera axes) in a
quarter of the bytes. 30 fps; labels live beside it in ``<name>.labels.txt`` (PKU-MMD label rows,
:func:`skelzs.stream.pku.read_pku_labels`)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.pku import PkuSegment, cut_pku_clips, read_pku_labels
from skelzs.stream.skeleton import SkeletonSequence

__all__ = ["read_pku_npz", "is_pku_npz", "pku_npz_labels_path", "read_pku_npz_clips", "PKU_FPS"]

PKU_FPS = 30.0


def is_pku_npz(path: str | Path) -> bool:
    """True when the npz holds a ``joints_mm`` array (and so is this format, not the project's)."""
    try:
        with zipfile.ZipFile(path) as z:
            return "joints_mm.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def read_pku_npz(path: str | Path) -> SkeletonSequence:
    """``joints_mm`` -> NTU-25 sequence of 2 persons in metres (an all-zero person stays absent)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "joints_mm" not in z.files:
                raise SkeletonFormatError(path, None, "no joints_mm array (not a PKU-MMD npz)")
            a = z["joints_mm"]
    except SkeletonFormatError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError, zlib.error) as err:
        why = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SkeletonFormatError(path, None, f"unreadable npz (truncated or corrupt?): {why}") from None
    if a.ndim != 2 or a.shape[1] != 150 or a.shape[0] == 0:
        raise SkeletonFormatError(path, None, f"joints_mm has shape {a.shape}, expected (T, 150)")
    if a.dtype.kind not in "iuf":
        raise SkeletonFormatError(path, None, f"joints_mm has dtype {a.dtype}, expected integer millimetres")
    joints = (a.astype(np.float32) / 1000.0).reshape(-1, 2, 25, 3)
    if not np.all(np.isfinite(joints)):
        raise SkeletonFormatError(path, None, "joints_mm holds non-finite values")
    conf = np.any(joints != 0, axis=-1).astype(np.float32)
    meta = {"format": "pku_npz", "path": str(path), "action": None, "video": Path(path).stem}
    return SkeletonSequence(joints, "ntu25", PKU_FPS, conf, meta)


def pku_npz_labels_path(path: str | Path) -> Path:
    """``<id>.npz`` -> ``<id>.labels.txt`` beside it."""
    p = Path(path)
    return p.with_name(p.stem + ".labels.txt")


def read_pku_npz_clips(path: str | Path) -> list[tuple[PkuSegment, SkeletonSequence]]:
    """The labelled clips of one sequence: its ``.labels.txt`` rows (checked against the frame
    count) cut by :func:`skelzs.stream.pku.cut_pku_clips` (``meta["action"]`` = label - 1)."""
    seq = read_pku_npz(path)
    labels = pku_npz_labels_path(path)
    if not labels.is_file():
        raise SkeletonFormatError(labels, None, "label file not found beside the npz")
    return cut_pku_clips(seq, read_pku_labels(labels, seq.num_frames))
