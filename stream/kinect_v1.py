"""Kinect v1 (20-joint) recordings: UTKinect-Action3D and MSR Action3D, read into NTU-25.

Both datasets hold Kinect v1 skeletons in metres, camera space, with Kinect v2's axes (y up,
z depth; a subject's right side has the larger x, as in NTU RGB+D). They differ in joint order:

* **UTKinect** (``joints_sXX_eYY.txt``): one line per frame, the frame id then 20 × (x, y, z) in
  the Kinect SDK's ``NUI_SKELETON_POSITION`` order (:data:`KINECT_V1_SDK`). Frame ids count at
  ~30 fps, skip frames and repeat some; repeated ids are dropped (first kept) and the ids are kept
  in ``meta["frame_ids"]`` so ``actionLabel.txt`` ranges map to rows. The rate used is 30 fps.
* **MSR Action3D** (``aXX_sYY_eZZ_skeleton3D.txt``): 20 lines of ``x y z confidence`` per
  frame, 15 fps, in the order :data:`MSR_ACTION3D`. Verified on the data: shoulders are rows 0/1,
  hips 4/5 and hip centre 6, neck 2, spine 3, head 19; in *high arm wave* (``a01``, done with the
  right arm) rows 8, 10, 12 move most (std 0.33-0.71 m vs < 0.1 m) and lie on the larger-x side
  with rows 1, 5, 14, 16, 18, so odd rows of each pair are the subject's right side.

Kinect v1 has no neck, hand tips or thumbs: the NTU neck is placed 30 % of the way from
ShoulderCenter to Head, hand tips extend the wrist → hand vector once more beyond the hand, and
thumbs copy the hand (:func:`kinect_v1_to_ntu25`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.skeleton import SkeletonSequence

__all__ = ["KINECT_V1_SDK", "MSR_ACTION3D", "kinect_v1_to_ntu25", "read_utkinect", "read_utkinect_labels",
           "read_msr_action3d", "UTKINECT_FPS", "MSR_FPS"]

UTKINECT_FPS = 30.0
MSR_FPS = 15.0

#: Kinect v1 SDK joint order (UTKinect)
KINECT_V1_SDK = ("HipCenter", "Spine", "ShoulderCenter", "Head", "ShoulderLeft", "ElbowLeft", "WristLeft",
                 "HandLeft", "ShoulderRight", "ElbowRight", "WristRight", "HandRight", "HipLeft", "KneeLeft",
                 "AnkleLeft", "FootLeft", "HipRight", "KneeRight", "AnkleRight", "FootRight")
#: MSR Action3D row order, in the names of :data:`KINECT_V1_SDK`
MSR_ACTION3D = ("ShoulderLeft", "ShoulderRight", "ShoulderCenter", "Spine", "HipLeft", "HipRight", "HipCenter",
                "ElbowLeft", "ElbowRight", "WristLeft", "WristRight", "HandLeft", "HandRight", "KneeLeft",
                "KneeRight", "AnkleLeft", "AnkleRight", "FootLeft", "FootRight", "Head")
_MSR_TO_SDK = np.array([MSR_ACTION3D.index(n) for n in KINECT_V1_SDK])
# NTU-25 joints taken directly from a Kinect v1 SDK joint
_DIRECT = {0: 0, 1: 1, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10, 11: 11, 12: 12, 13: 13, 14: 14, 15: 15,
           16: 16, 17: 17, 18: 18, 19: 19, 20: 2}
NECK_FRACTION = 0.3


def kinect_v1_to_ntu25(joints: np.ndarray) -> np.ndarray:
    """``(..., 20, 3)`` Kinect v1 SDK order -> ``(..., 25, 3)`` NTU-25 (see the module docstring)."""
    j = np.asarray(joints, np.float32)
    out = np.zeros(j.shape[:-2] + (25, 3), np.float32)
    for ntu, v1 in _DIRECT.items():
        out[..., ntu, :] = j[..., v1, :]
    out[..., 2, :] = j[..., 2, :] + NECK_FRACTION * (j[..., 3, :] - j[..., 2, :])
    for tip, thumb, hand, wrist in ((21, 22, 7, 6), (23, 24, 11, 10)):
        out[..., tip, :] = j[..., hand, :] + (j[..., hand, :] - j[..., wrist, :])
        out[..., thumb, :] = j[..., hand, :]
    return out


def _read_lines(path: Path) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise SkeletonFormatError(path, None, f"cannot read file: {getattr(err, 'strerror', None) or err}") from None


def read_utkinect(path: str | Path) -> SkeletonSequence:
    """One UTKinect ``joints_sXX_eYY.txt`` file -> NTU-25 sequence (1 person, 30 fps)."""
    rows, ids = [], []
    seen: set[int] = set()
    for n, line in enumerate(_read_lines(Path(path)), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 61:
            raise SkeletonFormatError(path, n, f"expected a frame id and 60 coordinates, found {len(parts)} values")
        try:
            vals = np.array(parts, np.float64)
        except ValueError:
            raise SkeletonFormatError(path, n, "non-numeric value") from None
        fid = int(vals[0])
        if fid in seen:
            continue
        seen.add(fid)
        ids.append(fid)
        rows.append(vals[1:].reshape(20, 3))
    if not rows:
        raise SkeletonFormatError(path, None, "no frames")
    joints = kinect_v1_to_ntu25(np.stack(rows))[:, None]
    return SkeletonSequence(joints, "ntu25", UTKINECT_FPS, None,
                            {"format": "utkinect", "path": str(path), "action": None, "frame_ids": ids})


def read_utkinect_labels(path: str | Path) -> dict[str, list[tuple[str, int, int]]]:
    """``actionLabel.txt`` -> ``{"s01_e01": [(class, first_id, last_id), ...]}`` (frame ids,
    inclusive); a ``NaN`` range (an action the file lacks) is left out."""
    out: dict[str, list[tuple[str, int, int]]] = {}
    current = None
    for n, line in enumerate(_read_lines(Path(path)), start=1):
        s = line.strip()
        if not s:
            continue
        if re.fullmatch(r"s\d+_e\d+", s):
            current = s
            out[current] = []
            continue
        m = re.fullmatch(r"(\w+):\s*(\S+)\s+(\S+)", s)
        if m is None or current is None:
            raise SkeletonFormatError(path, n, f"expected 'sXX_eYY' or 'class: start end', found {s[:40]!r}")
        if "nan" in (m.group(2).lower(), m.group(3).lower()):
            continue
        try:
            out[current].append((m.group(1), int(m.group(2)), int(m.group(3))))
        except ValueError:
            raise SkeletonFormatError(path, n, f"frame ids {m.group(2)!r} {m.group(3)!r} are not integers") from None
    return out


def read_msr_action3d(path: str | Path) -> SkeletonSequence:
    """One MSR Action3D ``*_skeleton3D.txt`` file -> NTU-25 sequence (1 person, 15 fps)."""
    lines = [ln for ln in _read_lines(Path(path)) if ln.strip()]
    if not lines:
        raise SkeletonFormatError(path, None, "no frames")
    if len(lines) % 20:
        raise SkeletonFormatError(path, len(lines), f"{len(lines)} joint rows, not a multiple of 20 (truncated?)")
    vals = np.empty((len(lines), 4), np.float64)
    for n, line in enumerate(lines):
        parts = line.split()
        if len(parts) != 4:
            raise SkeletonFormatError(path, n + 1, f"expected 'x y z confidence', found {len(parts)} values")
        try:
            vals[n] = [float(p) for p in parts]
        except ValueError:
            raise SkeletonFormatError(path, n + 1, "non-numeric value") from None
    frames = vals.reshape(-1, 20, 4)
    sdk = frames[:, _MSR_TO_SDK, :3]
    conf20 = frames[:, _MSR_TO_SDK, 3]
    joints = kinect_v1_to_ntu25(sdk)[:, None]
    conf = np.ones(joints.shape[:3], np.float32)
    for ntu, v1 in _DIRECT.items():
        conf[:, 0, ntu] = conf20[:, v1]
    m = re.match(r"a(\d+)_s(\d+)_e(\d+)", Path(path).name)
    meta = {"format": "msr", "path": str(path), "action": None}
    if m:
        meta.update(action_id=int(m.group(1)), subject=int(m.group(2)), take=int(m.group(3)))
    return SkeletonSequence(joints, "ntu25", MSR_FPS, conf, meta)
