"""PKU-MMD sequences stored as ``.npz`` with ``joints_mm``: int16 millimetres ``(T, 150)``, the
PKU-MMD skeleton text layout (2 persons × 25 NTU joints × xyz, Kinect v2 camera axes) in a
quarter of the bytes. 30 fps; labels live beside it in ``<name>.labels.txt`` (PKU-MMD label rows,
:func:`skelzs.stream.pku.read_pku_labels`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.skeleton import SkeletonSequence

__all__ = ["read_pku_npz", "is_pku_npz", "PKU_FPS"]

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
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise SkeletonFormatError(path, None, f"unreadable npz ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    if a.ndim != 2 or a.shape[1] != 150 or a.shape[0] == 0:
        raise SkeletonFormatError(path, None, f"joints_mm has shape {a.shape}, expected (T, 150)")
    joints = (a.astype(np.float32) / 1000.0).reshape(-1, 2, 25, 3)
    return SkeletonSequence(joints, "ntu25", PKU_FPS, None, {"format": "pku_npz", "path": str(path), "action": None})
