"""Small generated action datasets for the training tests (not a test module itself).

Ten classes of clearly different parametric motions on an NTU-25 rest pose (Kinect v2 axes:
x to the sensor's left, y up, z away from the sensor; the person faces the sensor), each with
an informative class text. Written as real NTU ``.skeleton`` files whose names carry the action
(``A001``...) and the performer (cross-subject side), plus ``classes.txt`` and
``class_texts.txt`` — the raw-folder dataset spec of :mod:`skelzs.train.dataset`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASSES = [
    "raise left arm",
    "raise right arm",
    "kick left leg",
    "kick right leg",
    "wave left hand",
    "wave right hand",
    "squat down",
    "bow forward",
    "jump up",
    "lean sideways",
]
CLASS_TEXTS = [
    "a person raises the left arm sideways up above the head and lowers it again",
    "a person raises the right arm sideways up above the head and lowers it again",
    "a person kicks forward with the left leg and puts the foot back down",
    "a person kicks forward with the right leg and puts the foot back down",
    "a person waves the left hand above the head, moving the forearm left and right",
    "a person waves the right hand above the head, moving the forearm left and right",
    "a person bends both knees to squat down and stands up again",
    "a person bows the upper body forward from the hips and straightens up",
    "a person jumps up in the air with both feet and lands",
    "a person leans the upper body to the side and back to upright",
]
UNSEEN = [3, 5]  # kick right leg, wave right hand
VAL = [8, 9]  # jump up, lean sideways
TRAIN_PERFORMERS = (1, 2, 4, 5, 8, 9, 13, 14)  # NTU cross-subject training performers
TEST_PERFORMERS = (3, 6, 7)

# NTU-25 rest pose, metres, relative to the spine base; +x is the person's right for a person
# facing the sensor (their left shoulder has the smaller x).
_REST = np.array([
    [0.00, 0.00, 0.00], [0.00, 0.28, 0.00], [0.00, 0.60, 0.00], [0.00, 0.72, 0.00],  # spine base/mid, neck, head
    [-0.18, 0.52, 0.00], [-0.22, 0.26, 0.00], [-0.23, 0.02, 0.00], [-0.23, -0.06, 0.00],  # left arm
    [0.18, 0.52, 0.00], [0.22, 0.26, 0.00], [0.23, 0.02, 0.00], [0.23, -0.06, 0.00],  # right arm
    [-0.09, -0.04, 0.00], [-0.10, -0.46, 0.00], [-0.10, -0.86, 0.02], [-0.10, -0.90, -0.08],  # left leg
    [0.09, -0.04, 0.00], [0.10, -0.46, 0.00], [0.10, -0.86, 0.02], [0.10, -0.90, -0.08],  # right leg
    [0.00, 0.52, 0.00], [-0.23, -0.14, 0.00], [-0.20, -0.08, -0.03], [0.23, -0.14, 0.00], [0.20, -0.08, -0.03],
], np.float32)
_LEFT_ARM, _RIGHT_ARM = [5, 6, 7, 21, 22], [9, 10, 11, 23, 24]
_LEFT_FORE, _RIGHT_FORE = [6, 7, 21, 22], [10, 11, 23, 24]
_LEFT_LEG, _RIGHT_LEG = [13, 14, 15], [17, 18, 19]
_UPPER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24]


def _rot(points: np.ndarray, pivot: np.ndarray, axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    r = {"x": [[1, 0, 0], [0, c, -s], [0, s, c]], "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]],
         "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]]}[axis]
    return (points - pivot) @ np.asarray(r, np.float32).T + pivot


def _frame(cls: int, phase: float, amp: float, wiggle: float) -> np.ndarray:
    j = _REST.copy()
    bump = 0.5 * (1 - np.cos(2 * np.pi * phase))  # 0 → 1 → 0 over one cycle
    if cls in (0, 1):  # raise arm sideways (rotation about the forward axis at the shoulder)
        idx, sh, sign = (_LEFT_ARM, 4, -1) if cls == 0 else (_RIGHT_ARM, 8, 1)
        j[idx] = _rot(j[idx], j[sh], "z", sign * 2.5 * amp * bump)
    elif cls in (2, 3):  # kick forward (foot towards the sensor, -z)
        idx, hip = (_LEFT_LEG, 12) if cls == 2 else (_RIGHT_LEG, 16)
        j[idx] = _rot(j[idx], j[hip], "x", 1.3 * amp * bump)
    elif cls in (4, 5):  # wave above the head
        arm, fore, sh, el, sign = (_LEFT_ARM, _LEFT_FORE, 4, 5, -1) if cls == 4 else (_RIGHT_ARM, _RIGHT_FORE, 8, 9, 1)
        j[arm] = _rot(j[arm], j[sh], "z", sign * 2.6)
        j[fore] = _rot(j[fore], j[el], "z", 0.6 * amp * np.sin(2 * np.pi * 3 * phase + wiggle))
    elif cls == 6:  # squat
        d = 0.35 * amp * bump
        j[_UPPER + [0, 12, 16]] -= [0, d, 0]
        j[[13, 17]] += [0, -0.5 * d, -0.7 * d]
    elif cls == 7:  # bow forward from the hips
        j[_UPPER] = _rot(j[_UPPER], j[0], "x", 1.0 * amp * bump)
    elif cls == 8:  # jump
        h = 0.3 * amp * max(0.0, np.sin(2 * np.pi * phase))
        j += [0, h, 0]
        j[[14, 15, 18, 19]] += [0, 0.05 * h, 0]
    elif cls == 9:  # lean sideways
        j[_UPPER] = _rot(j[_UPPER], j[0], "z", 0.5 * amp * np.sin(2 * np.pi * phase + wiggle))
    return j


def make_sequence(cls: int, rng: np.random.Generator) -> np.ndarray:
    """(T, 1, 25, 3) joints of one sample of class ``cls`` in Kinect camera space."""
    t = int(rng.integers(40, 70))
    amp = float(rng.uniform(0.75, 1.1))
    wiggle = float(rng.uniform(0, 2 * np.pi))
    scale = float(rng.uniform(0.9, 1.1))
    yaw = float(rng.uniform(-0.3, 0.3))
    origin = np.array([rng.uniform(-0.4, 0.4), rng.uniform(-0.1, 0.1), rng.uniform(2.6, 3.4)], np.float32)
    frames = []
    for i in range(t):
        phase = i / (t - 1)
        j = _frame(cls, phase, amp, wiggle) * scale
        j = _rot(j, np.zeros(3, np.float32), "y", yaw) + origin
        frames.append(j + rng.normal(0, 0.004, j.shape))
    return np.asarray(frames, np.float32)[:, None]


def write_dataset(root: Path, per_class_train: int = 8, per_class_test: int = 3, seed: int = 0,
                  classes: list[int] | None = None) -> Path:
    """Write the raw-folder dataset (real ``.skeleton`` files) and return ``root``."""
    from skelzs.stream.ntu import write_ntu_skeleton
    from skelzs.stream.skeleton import SkeletonSequence

    root.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    (root / "class_texts.txt").write_text("\n".join(CLASS_TEXTS) + "\n")
    rng = np.random.default_rng(seed)
    for cls in classes if classes is not None else range(len(CLASSES)):
        for k in range(per_class_train + per_class_test):
            perf = TRAIN_PERFORMERS[k % len(TRAIN_PERFORMERS)] if k < per_class_train else TEST_PERFORMERS[k % len(TEST_PERFORMERS)]
            name = f"S001C{1 + k % 3:03d}P{perf:03d}R{k + 1:03d}A{cls + 1:03d}.skeleton"  # unique per class
            seq = SkeletonSequence(make_sequence(cls, rng), "ntu25", 30.0)
            write_ntu_skeleton(root / name, seq)
    return root


def write_split(path: Path) -> Path:
    path.write_text(json.dumps({"name": "synth_8_2", "unseen": [CLASSES[c] for c in UNSEEN],
                                "val_unseen": [CLASSES[c] for c in VAL]}))
    return path


# A small ST-GCN for CPU tests (PGFA's has ten blocks up to 256 channels): ``--config`` overrides.
TINY_PGFA = {"encoder_overrides": {"widths": [16, 32, 64], "strides": [1, 2, 2]}}


def prepared(root: Path, frames: int = 20, **kw) -> Path:
    """Write the raw folder under ``root/raw`` and prepare it (``frames`` per sample) into ``root/prepared``."""
    from skelzs.train.prepare import PrepareOptions, prepare

    raw = write_dataset(root / "raw", **kw)
    prepare(PrepareOptions(dataset="folder", raw=raw, out=root / "prepared", frames=frames, workers=1,
                           progress=False))
    write_split(root / "split.json")
    return root / "prepared"
