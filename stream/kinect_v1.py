"""Kinect v1 (20-joint) recordings: UTKinect-Action3D and MSR Action3D, read into NTU-25.

Both datasets hold Kinect v1 skeletons in metres, camera space, with Kinect v2's axes (x to the
sensor's left, y up, z depth; a facing subject's right side has the larger x, as in NTU RGB+D).
They differ in joint order, timing and labels. The 20 -> 25 joint mapping is
:func:`skelzs.stream.layouts.kinect_v1_to_ntu25` (SpineMid and Neck interpolated, hand tips and
thumbs extrapolated along wrist -> hand); ``ntu25=False`` keeps the source's own layout
(``kinect_v1_sdk`` / ``msr_action3d``).

**UTKinect** (``joints_sXX_eYY.txt``): one line per frame, a frame id then 20 x (x, y, z) in the
Kinect SDK's ``NUI_SKELETON_POSITION`` order (layout ``kinect_v1_sdk``). The ids are not one per
row: every id in the 20 files (15,860 rows) is even, as are 397 of the 398 ``actionLabel.txt``
bounds; consecutive rows are 2, 4, 6 or 8 ids apart (median 4; 10 gaps of 52-298 ids), with 3 % of
the ids repeated on rows that differ by about one frame's motion. Read as a 30 Hz frame counter
that advances 2 per frame (time = id / 60 s), the motion is human-paced: walks of ~0.45 m steps
come out at 0.75 m/s and ~1.7 steps/s (medians over the 20 walk segments), sitting down takes 1.9
s, hand waving ~0.8 Hz, clapping ~1.5 Hz; one row per 1/30 s would make those walks 2.7 steps/s at
1.2 m/s, one id per 1/30 s 0.85 steps/s at 0.38 m/s. So by default (``resample=True``) the rows are
put on a uniform 30 fps grid of ids ``first, first+2, ...``: repeated ids keep their first row,
observed rows land on the grid unchanged, the frames between them are linearly interpolated
(confidence 0.5, or 0 inside a gap longer than :data:`UTKINECT_MAX_GAP_IDS`). ``meta["frame_ids"]``
gives each row's id, so ``actionLabel.txt`` ranges (:func:`read_utkinect_labels`) map to rows
(:func:`utkinect_clips`). ``resample=False`` keeps the deduplicated rows at their mean rate.

**MSR Action3D** (``aXX_sYY_eZZ_skeleton3D.txt``, the ``real_world_coordinates`` release): 20 rows
of ``x y z c`` per frame, 15 fps ("about 15 frames per second", the dataset paper), in the order of
layout ``msr_action3d``. Verified on the data: x, y, z are metres (z 1.3-3.9 m over the 566 files
with a body; torso HipCenter -> ShoulderCenter median 0.45 m); shoulders are rows 0/1, hips 4/5,
hip centre 6, shoulder centre 2, spine 3, head 19; the first row of each pair is the subject's
left: in *high arm wave* (``a01``, like every one-limb action done with the right arm) rows 8, 10,
12 move most (wrist std summed over x, y, z 0.59-1.0 m against 0.03-0.40 m for row 9, in 26 of 27
takes; in the odd one, s02_e02, the shoulders read reversed too) and lie at the larger x with row
1; forward kick (``a14``), forward punch (``a05``) and hammer (``a03``) move rows 14/16/18 or
8/10/12 more than their partners in 29/30, 26/26 and 27/27 takes. The 4th value is not a tracking
confidence (ShoulderCenter, Spine, HipCenter and the feet average <= 0.05 in tracked frames) and is
not used: confidence is 1 for a frame holding a body, 0 for an all-zero frame. A file whose z
values are not metres (median > 20) is taken as screen coordinates (u, v in pixels of a 320 x 240
depth image or normalised to [0, 1], depth in millimetres) and back-projected with the Kinect v1
SDK's nominal depth focal length (:func:`kinect_v1_screen_to_camera`); no such file is in the
shared data, so that path is checked only on a synthetic round trip.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.layouts import MSR_TO_SDK, kinect_v1_to_ntu25
from skelzs.stream.skeleton import SkeletonSequence

__all__ = [
    "KINECT_V1_SDK", "MSR_ACTION3D", "UTKINECT_CLASSES", "MSR_ACTION3D_CLASSES", "UTKINECT_FPS", "MSR_FPS",
    "UTKINECT_IDS_PER_FRAME", "UTKINECT_MAX_GAP_IDS", "KINECT_V1_DEPTH_FOCAL_320",
    "read_utkinect", "read_utkinect_labels", "utkinect_clips", "read_msr_action3d", "msr_label",
    "kinect_v1_screen_to_camera",
]

UTKINECT_FPS = 30.0
UTKINECT_IDS_PER_FRAME = 2
#: interpolated UTKinect frames inside a longer gap (in ids; 16 ids = 0.27 s) get confidence 0
UTKINECT_MAX_GAP_IDS = 16
MSR_FPS = 15.0
#: NUI_CAMERA_DEPTH_NOMINAL_FOCAL_LENGTH_IN_PIXELS (Kinect v1 SDK), for a 320 x 240 depth image
KINECT_V1_DEPTH_FOCAL_320 = 285.63

#: Kinect v1 SDK joint order (UTKinect), as in :data:`skelzs.stream.layouts.KINECT_V1_SDK`
KINECT_V1_SDK = ("HipCenter", "Spine", "ShoulderCenter", "Head", "ShoulderLeft", "ElbowLeft", "WristLeft",
                 "HandLeft", "ShoulderRight", "ElbowRight", "WristRight", "HandRight", "HipLeft", "KneeLeft",
                 "AnkleLeft", "FootLeft", "HipRight", "KneeRight", "AnkleRight", "FootRight")
#: MSR Action3D row order, in the names of :data:`KINECT_V1_SDK`
MSR_ACTION3D = ("ShoulderLeft", "ShoulderRight", "ShoulderCenter", "Spine", "HipLeft", "HipRight", "HipCenter",
                "ElbowLeft", "ElbowRight", "WristLeft", "WristRight", "HandLeft", "HandRight", "KneeLeft",
                "KneeRight", "AnkleLeft", "AnkleRight", "FootLeft", "FootRight", "Head")
#: the 10 UTKinect classes, in ``actionLabel.txt`` order (``meta["action"]`` indexes this)
UTKINECT_CLASSES = ("walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands",
                    "clapHands")
#: MSR Action3D a01..a20 (Li, Zhang and Liu, CVPRW 2010); ``meta["action"]`` = aXX - 1
MSR_ACTION3D_CLASSES = ("high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch",
                        "high throw", "draw x", "draw tick", "draw circle", "hand clap", "two hand wave",
                        "side-boxing", "bend", "forward kick", "side kick", "jogging", "tennis swing",
                        "tennis serve", "golf swing", "pick up & throw")

_MSR_NAME = re.compile(r"a(\d+)_s(\d+)_e(\d+)")
_UTK_NAME = re.compile(r"s(\d+)_e(\d+)")


def _read_text(path: str | Path) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise SkeletonFormatError(path, None, f"cannot read file: {err.strerror or err}") from None
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as err:
        raise SkeletonFormatError(path, data[: err.start].count(b"\n") + 1, "binary data, not a text file") from None


def _parse_rows(path: str | Path, lines: list[tuple[int, str]], width: int, what: str) -> np.ndarray:
    """``(n, width)`` float64 from ``(line number, text)`` pairs; one-line errors naming the line."""
    for n, ln in lines:
        k = len(ln.split())
        if k != width:
            raise SkeletonFormatError(path, n, f"expected {what}, found {k} values")
    try:
        vals = np.array(" ".join(ln for _, ln in lines).split(), np.float64).reshape(len(lines), width)
    except ValueError:
        for n, ln in lines:
            for tok in ln.split():
                try:
                    float(tok)
                except ValueError:
                    raise SkeletonFormatError(path, n, f"not a number: {tok[:20]!r}") from None
        raise
    bad = ~np.isfinite(vals)
    if bad.any():
        raise SkeletonFormatError(path, lines[int(np.argwhere(bad)[0][0])][0], "non-finite value (NaN or inf)")
    return vals


def _nonblank(text: str) -> list[tuple[int, str]]:
    return [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]


def _to_layout(sdk: np.ndarray, conf: np.ndarray, ntu25: bool, native: str, native_rows: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray, str]:
    if ntu25:
        j, c = kinect_v1_to_ntu25(sdk, conf)
        return j, c, "ntu25"
    if native_rows is not None:
        return native_rows.astype(np.float32), conf[..., np.argsort(MSR_TO_SDK)], native
    return sdk.astype(np.float32), conf, native


# -- UTKinect ---------------------------------------------------------------------------------------
def read_utkinect(path: str | Path, resample: bool = True, ntu25: bool = True) -> SkeletonSequence:
    """One UTKinect ``joints_sXX_eYY.txt`` file -> a 1-person sequence (see the module docstring).

    ``resample=True``: 30 fps, one row per id step of 2 from the first id to the last.
    ``resample=False``: the rows with a new id, at their mean rate (``60 * (n - 1) / id span``).
    ``meta``: ``frame_ids`` (per row), ``observed`` (rows read from the file), ``subject``,
    ``take`` (from the name), ``action`` None (a file holds all 10 classes).
    """
    lines = _nonblank(_read_text(path))
    if not lines:
        raise SkeletonFormatError(path, 1, "empty file")
    vals = _parse_rows(path, lines, 61, "a frame id and 60 coordinates")
    ids = vals[:, 0]
    if np.any(ids != np.rint(ids)) or np.any(ids < 0):
        n = lines[int(np.argmax((ids != np.rint(ids)) | (ids < 0)))][0]
        raise SkeletonFormatError(path, n, "frame id is not a non-negative integer")
    ids = ids.astype(np.int64)
    back = np.nonzero(np.diff(ids) < 0)[0]
    if back.size:
        raise SkeletonFormatError(path, lines[int(back[0]) + 1][0], "frame id goes backwards")
    keep = np.concatenate([[True], np.diff(ids) > 0])          # repeated id: keep the first row
    ids, xyz = ids[keep], vals[keep, 1:].reshape(-1, 20, 3)
    if not np.any(xyz):
        raise SkeletonFormatError(path, None, "no skeleton in any frame (all joints zero)")
    if resample and len(ids) > 1:
        grid = np.arange(ids[0], ids[-1] + 1, UTKINECT_IDS_PER_FRAME, dtype=np.int64)
        hi = np.clip(np.searchsorted(ids, grid, side="left"), 1, len(ids) - 1)
        lo = hi - 1
        span = (ids[hi] - ids[lo]).astype(np.float64)
        w = np.clip((grid - ids[lo]) / span, 0.0, 1.0)[:, None, None]
        sdk = (1.0 - w) * xyz[lo] + w * xyz[hi]
        observed = np.isin(grid, ids)
        per_frame = np.where(observed, 1.0, np.where(span <= UTKINECT_MAX_GAP_IDS, 0.5, 0.0))
        frame_ids, fps = grid, UTKINECT_FPS
    else:
        sdk, observed, per_frame, frame_ids = xyz, np.ones(len(ids), bool), np.ones(len(ids)), ids
        fps = UTKINECT_FPS if len(ids) < 2 else UTKINECT_FPS * UTKINECT_IDS_PER_FRAME * (len(ids) - 1) / float(
            ids[-1] - ids[0])
    conf20 = np.repeat(per_frame[:, None], 20, axis=1).astype(np.float32)
    joints, conf, layout = _to_layout(sdk, conf20, ntu25, "kinect_v1_sdk", None)
    meta = {"format": "utkinect", "path": str(path), "action": None,
            "frame_ids": [int(i) for i in frame_ids], "observed": [bool(o) for o in observed]}
    m = _UTK_NAME.search(Path(path).stem)
    if m:
        meta.update(subject=int(m.group(1)), take=int(m.group(2)), video=f"s{m.group(1)}_e{m.group(2)}")
    return SkeletonSequence(joints[:, None], layout, fps, conf[:, None], meta)


def read_utkinect_labels(path: str | Path) -> dict[str, list[tuple[str, int, int]]]:
    """``actionLabel.txt`` -> ``{"s01_e01": [(class, first_id, last_id), ...]}`` (frame ids,
    inclusive); a ``NaN`` range (an action the file lacks: ``s10_e02 carry``) is left out."""
    out: dict[str, list[tuple[str, int, int]]] = {}
    current = None
    for n, line in enumerate(_read_text(path).splitlines(), start=1):
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
            a, b = int(m.group(2)), int(m.group(3))
        except ValueError:
            raise SkeletonFormatError(path, n, f"frame ids {m.group(2)!r} {m.group(3)!r} are not integers") from None
        if b < a:
            raise SkeletonFormatError(path, n, f"reversed range {a}..{b}")
        out[current].append((m.group(1), a, b))
    return out


def utkinect_clips(seq: SkeletonSequence, segments: list[tuple[str, int, int]]
                   ) -> list[tuple[str, SkeletonSequence]]:
    """One clip per ``(class, first_id, last_id)`` segment: the rows whose id lies in the range
    (inclusive); ``meta["action"]`` indexes :data:`UTKINECT_CLASSES` (None for another name).
    A segment with no row in the file is left out."""
    ids = np.asarray(seq.meta["frame_ids"])
    clips = []
    for label, a, b in segments:
        rows = np.nonzero((ids >= a) & (ids <= b))[0]
        if rows.size == 0:
            continue
        clip = seq.slice(int(rows[0]), int(rows[-1]) + 1)
        clip.meta.update(action=UTKINECT_CLASSES.index(label) if label in UTKINECT_CLASSES else None,
                         label=label, start_id=a, end_id=b, frame_ids=[int(i) for i in ids[rows]],
                         observed=list(np.asarray(seq.meta.get("observed", [True] * len(ids)))[rows]))
        clips.append((label, clip))
    return clips


# -- MSR Action3D -----------------------------------------------------------------------------------
def kinect_v1_screen_to_camera(u: np.ndarray, v: np.ndarray, depth_m: np.ndarray, width: int = 320,
                               height: int = 240) -> np.ndarray:
    """Back-project depth-image pixels to Kinect v1 camera space (metres): the SDK's
    ``NuiTransformDepthImageToSkeleton`` with the nominal focal length (285.63 px at 320 x 240,
    scaled with the width): ``x = (u - w/2) z / f``, ``y = -(v - h/2) z / f``."""
    f = KINECT_V1_DEPTH_FOCAL_320 * width / 320.0
    z = np.asarray(depth_m, np.float64)
    x = (np.asarray(u, np.float64) - width / 2.0) * z / f
    y = -(np.asarray(v, np.float64) - height / 2.0) * z / f
    return np.stack([x, y, z], axis=-1)


def _msr_screen_to_world(path: str | Path, xyz: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, str]:
    """Screen-coordinate MSR rows (u, v, depth) -> metres; ``(xyz, units note)``."""
    body = xyz[present]
    u, v, d = body[..., 0], body[..., 1], body[..., 2]
    if max(u.max(), v.max()) <= 1.5:
        u, v, scale = u * 320.0, v * 240.0, "u, v normalised"
    else:
        scale = "u, v pixels"
    width, height = (640, 480) if max(u.max(), v.max()) > 330 else (320, 240)
    med = float(np.median(d))
    if not 300.0 <= med <= 10000.0:
        raise SkeletonFormatError(path, None, f"depth values (median {med:.0f}) are neither metres nor millimetres")
    out = np.zeros_like(xyz)
    out[present] = kinect_v1_screen_to_camera(u, v, d / 1000.0, width, height)
    return out, f"screen coordinates ({scale}, {width}x{height}, depth mm) back-projected"


def msr_label(path: str | Path) -> tuple[int, str] | None:
    """``(0-based action, name)`` from an ``aXX_sYY_eZZ`` file name, or None."""
    m = _MSR_NAME.match(Path(path).name)
    if m is None or not 1 <= int(m.group(1)) <= len(MSR_ACTION3D_CLASSES):
        return None
    a = int(m.group(1)) - 1
    return a, MSR_ACTION3D_CLASSES[a]


def read_msr_action3d(path: str | Path, ntu25: bool = True) -> SkeletonSequence:
    """One MSR Action3D ``*_skeleton3D.txt`` file -> a 1-person sequence at 15 fps.

    ``meta``: ``action`` (aXX - 1, indexes :data:`MSR_ACTION3D_CLASSES`), ``action_id`` (aXX),
    ``action_name``, ``subject``, ``take``, ``units``.
    """
    lines = _nonblank(_read_text(path))
    if not lines:
        raise SkeletonFormatError(path, 1, "empty file")
    vals = _parse_rows(path, lines, 4, "'x y z confidence'")
    if len(vals) % 20:
        raise SkeletonFormatError(path, lines[-1][0],
                                  f"{len(vals)} joint rows, not a multiple of 20 (truncated?)")
    rows = vals.reshape(-1, 20, 4)[..., :3]
    present = np.any(rows != 0, axis=(1, 2))
    if not present.any():
        raise SkeletonFormatError(path, None, "no skeleton in any frame (all joints zero)")
    units = "metres"
    if np.median(rows[present][..., 2]) > 20.0:
        rows, units = _msr_screen_to_world(path, rows, present)
    conf20 = np.repeat(present[:, None], 20, axis=1).astype(np.float32)
    sdk = rows[:, MSR_TO_SDK]
    joints, conf, layout = _to_layout(sdk, conf20[:, MSR_TO_SDK], ntu25, "msr_action3d", rows)
    meta = {"format": "msr", "path": str(path), "action": None, "units": units}
    m = _MSR_NAME.match(Path(path).name)
    if m:
        meta.update(action_id=int(m.group(1)), subject=int(m.group(2)), take=int(m.group(3)),
                    video=m.group(0))
        lab = msr_label(path)
        if lab is not None:
            meta.update(action=lab[0], action_name=lab[1])
    return SkeletonSequence(joints[:, None], layout, MSR_FPS, conf[:, None], meta)
