"""The project's own ``.npz`` layout for skeleton sequences.

Keys (loaded with ``allow_pickle=False``; nothing else is read):

==============  =====================  ==================================================
key             dtype / shape          meaning
==============  =====================  ==================================================
``joints``      float32 ``(T,M,V,3)``  xyz in metres, Kinect v2 camera axes
``layout``      str scalar             a :data:`~skelzs.stream.layouts.LAYOUTS` name
``fps``         float scalar           frames per second (> 0)
``confidence``  float32 ``(T,M,V)``    optional, per-joint confidence in [0, 1]
``meta_json``   str scalar             optional, JSON object (``action`` 0-based or null, ...)
==============  =====================  ==================================================
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.layouts import LAYOUTS
from skelzs.stream.skeleton import SkeletonSequence

__all__ = ["load_npz", "save_npz", "NPZ_KEYS"]

NPZ_KEYS = ("joints", "layout", "fps", "confidence", "meta_json")
_REQUIRED = ("joints", "layout", "fps")


def save_npz(path: str | Path, seq: SkeletonSequence) -> None:
    """Write ``seq`` in the layout above (uncompressed)."""
    arrays = {
        "joints": seq.joints.astype(np.float32),
        "layout": np.array(seq.layout),
        "fps": np.array(float(seq.fps)),
        "meta_json": np.array(json.dumps({k: v for k, v in seq.meta.items() if k not in ("path",)},
                                         default=_json_default)),
    }
    if seq.confidence is not None:
        arrays["confidence"] = seq.confidence.astype(np.float32)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _json_default(obj: object) -> object:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def load_npz(path: str | Path) -> SkeletonSequence:
    """Load and validate; any deviation is a :class:`SkeletonFormatError` naming the key."""
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            missing = [k for k in _REQUIRED if k not in keys]
            if missing:
                raise SkeletonFormatError(path, None, f"npz lacks key(s) {', '.join(missing)}")
            unknown = keys - set(NPZ_KEYS)
            if unknown:
                raise SkeletonFormatError(path, None, f"npz has unknown key(s) {', '.join(sorted(unknown))}")
            data = {k: z[k] for k in keys}
    except SkeletonFormatError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise SkeletonFormatError(path, None, f"not a readable npz file ({type(err).__name__}: {err})".split("\n")[0]) from None
    joints = data["joints"]
    if joints.dtype.kind != "f" or joints.ndim != 4 or joints.shape[-1] != 3:
        raise SkeletonFormatError(path, None, f"joints must be float (T, M, V, 3), got {joints.dtype} {joints.shape}")
    layout = data["layout"]
    if layout.shape != () or layout.dtype.kind != "U" or str(layout) not in LAYOUTS:
        raise SkeletonFormatError(path, None, f"layout must be one of {', '.join(LAYOUTS)}")
    layout = str(layout)
    if joints.shape[2] != LAYOUTS[layout].num_joints:
        raise SkeletonFormatError(path, None, f"layout {layout} has {LAYOUTS[layout].num_joints} joints, joints has {joints.shape[2]}")
    if not np.isfinite(joints).all():
        raise SkeletonFormatError(path, None, "joints hold NaN or inf")
    fps = data["fps"]
    if fps.shape != () or fps.dtype.kind not in "fi" or not float(fps) > 0 or not np.isfinite(fps):
        raise SkeletonFormatError(path, None, "fps must be a positive number")
    conf = data.get("confidence")
    if conf is not None and (conf.shape != joints.shape[:3] or conf.dtype.kind != "f" or not np.isfinite(conf).all()):
        raise SkeletonFormatError(path, None, f"confidence must be finite float {joints.shape[:3]}, got {conf.dtype} {conf.shape}")
    meta: dict = {}
    if "meta_json" in data:
        try:
            meta = json.loads(str(data["meta_json"]))
        except json.JSONDecodeError as err:
            raise SkeletonFormatError(path, None, f"meta_json is not JSON: {err.msg}") from None
        if not isinstance(meta, dict):
            raise SkeletonFormatError(path, None, "meta_json must hold a JSON object")
    action = meta.get("action")
    if action is not None and not (isinstance(action, int) and action >= 0):
        raise SkeletonFormatError(path, None, "meta_json action must be a non-negative integer or null")
    meta.update(format="npz", path=str(path), action=action)
    return SkeletonSequence(joints.astype(np.float32), layout, float(fps), conf, meta)
