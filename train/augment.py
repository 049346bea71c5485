"""Training-time augmentation of raw skeleton windows, for one checkpoint that works on Kinect
recordings and on monocular (MediaPipe) skeletons alike.

Works on a batch of ``raw`` windows (:func:`skelzs.stream.preprocess.raw`): float ``(N, 3, T, V, M)``
in Kinect camera space (metres), before the checkpoint's normalization
(:func:`skelzs.stream.preprocess.normalize_body`) runs on the result. The perturbations model what
differs between a Kinect skeleton and a MediaPipe one of the same person, as measured on the paired
NTU clip S001C001P001R001A001 (``python -m skelzs.tools.monocular_gap``): a global tilt of 6.5°
(residual rotation after Kabsch alignment), per-joint offsets of 2-19 cm (legs, the idle hand,
the upper body 10 cm further back in MediaPipe's depth), depth that tracks motion but not its
size, and a camera at any angle (NTU's three Kinects stand at -45°, 0° and +45°).

1. a random camera: yaw about the vertical axis (``yaw_deg``), pitch and roll;
2. depth: each person's depth relative to its hip centre scaled by ``depth_scale`` and given a
   slowly varying per-joint offset (``depth_noise_m``);
3. per-joint offsets constant over the window (``joint_offset_m``) and frame-wise jitter
   (``jitter_m``) in all three axes;
4. body proportions: each axis scaled by up to ``axis_scale``;
5. speed: a random stretch of a shorter stretch of the window to its full length (motion up to
   ``1 / min_speed`` times slower);
6. mirror (``mirror_p``): x negated and left/right joints swapped, the label mapped to its mirror
   class (``wave left hand`` ↔ ``wave right hand``; most classes are their own mirror).

All randomness comes from the ``numpy.random.Generator`` passed in, so a seeded run is repeatable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["AugmentConfig", "AUGMENTATIONS", "augment_raw_windows", "mirror_class_map", "NTU25_MIRROR",
           "WindowTransform"]

_LEFT = [4, 5, 6, 7, 12, 13, 14, 15, 21, 22]
_RIGHT = [8, 9, 10, 11, 16, 17, 18, 19, 23, 24]
NTU25_MIRROR = np.arange(25)
NTU25_MIRROR[_LEFT], NTU25_MIRROR[_RIGHT] = _RIGHT, _LEFT
SPINE_BASE = 0


@dataclass(frozen=True)
class AugmentConfig:
    yaw_deg: float = 45.0
    pitch_deg: float = 12.0
    roll_deg: float = 6.0
    depth_scale: tuple[float, float] = (0.4, 1.2)
    depth_noise_m: float = 0.04
    joint_offset_m: float = 0.03
    jitter_m: float = 0.01
    axis_scale: float = 0.1
    min_speed: float = 0.8
    mirror_p: float = 0.5

    def to_dict(self) -> dict:
        return asdict(self)


#: name -> augmentation settings (``--augment`` of ``skelzs-train fit``); ``none`` turns it off.
AUGMENTATIONS: dict[str, AugmentConfig | None] = {
    "none": None,
    "monocular": AugmentConfig(),
    "view": AugmentConfig(depth_scale=(1.0, 1.0), depth_noise_m=0.0, joint_offset_m=0.0),
}


def mirror_class_map(classes: list[str]) -> np.ndarray:
    """Class id -> the id of its mirror image: a name with ``left`` and ``right`` swapped where that
    name exists, else the class itself."""
    index = {c.lower(): i for i, c in enumerate(classes)}
    out = np.arange(len(classes))
    for i, c in enumerate(classes):
        low = c.lower()
        swapped = low.replace("left", "\0").replace("right", "left").replace("\0", "right")
        out[i] = index.get(swapped, i)
    return out


def _rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations R = Rz(roll) Rx(pitch) Ry(yaw), radians."""
    n = yaw.shape[0]
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    ry = np.zeros((n, 3, 3)); ry[:, 0, 0] = cy; ry[:, 0, 2] = sy; ry[:, 1, 1] = 1; ry[:, 2, 0] = -sy; ry[:, 2, 2] = cy
    rx = np.zeros((n, 3, 3)); rx[:, 0, 0] = 1; rx[:, 1, 1] = cp; rx[:, 1, 2] = -sp; rx[:, 2, 1] = sp; rx[:, 2, 2] = cp
    rz = np.zeros((n, 3, 3)); rz[:, 0, 0] = cr; rz[:, 0, 1] = -sr; rz[:, 1, 0] = sr; rz[:, 1, 1] = cr; rz[:, 2, 2] = 1
    return rz @ rx @ ry


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], t_axis: int, knots: int = 4) -> np.ndarray:
    """Unit-variance noise that varies slowly along ``t_axis``: ``knots`` random values, linearly
    interpolated over the axis."""
    t = shape[t_axis]
    kshape = list(shape)
    kshape[t_axis] = knots
    k = rng.standard_normal(kshape)
    pos = np.linspace(0, knots - 1, t)
    i0 = np.floor(pos).astype(int).clip(0, knots - 2)
    w = (pos - i0).reshape([-1 if a == t_axis else 1 for a in range(len(shape))])
    return np.take(k, i0, axis=t_axis) * (1 - w) + np.take(k, i0 + 1, axis=t_axis) * w


def augment_raw_windows(x: np.ndarray, labels: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig,
                        mirror_classes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Augmented copies of raw windows ``x`` (N, 3, T, V, M) and their labels (see the module
    docstring for the steps). Absent persons (all-zero slots) and frames stay zero."""
    x = np.asarray(x, np.float64)
    n, _, t, v, m = x.shape
    labels = np.asarray(labels).copy()
    j = x.transpose(0, 2, 4, 3, 1).copy()                        # (N, T, M, V, 3)
    present = np.any(j != 0, axis=(-1, -2))                     # (N, T, M)

    # 5. speed: stretch frames [a, a + L) to the whole window, L = T * speed
    speed = rng.uniform(cfg.min_speed, 1.0, n)
    for i in np.nonzero(speed < 0.999)[0]:
        length = max(2.0, t * speed[i])
        a = rng.uniform(0, t - length)
        src = a + np.arange(t) * (length - 1) / (t - 1)
        i0 = np.floor(src).astype(int).clip(0, t - 2)
        w = (src - i0)[:, None, None, None]
        both = present[i, i0] & present[i, i0 + 1]
        j[i] = np.where(both[..., None, None], j[i, i0] * (1 - w) + j[i, i0 + 1] * w, j[i, np.rint(src).astype(int)])
        present[i] = present[i, np.rint(src).astype(int)]

    # 6. mirror
    if cfg.mirror_p > 0:
        flip = rng.random(n) < cfg.mirror_p
        j[flip] = j[flip][..., NTU25_MIRROR, :] * np.array([-1.0, 1.0, 1.0])
        if mirror_classes is not None:
            labels[flip] = mirror_classes[labels[flip]]

    # 1. camera: rotate about each window's first present hip centre (a camera move; the
    # normalization centres every frame afterwards)
    hip = j[:, :, :, SPINE_BASE, :]                                         # (N, T, M, 3)
    first = np.argmax(present.reshape(n, -1), axis=1)
    origin = hip.reshape(n, -1, 3)[np.arange(n), first]                    # (N, 3)
    rad = np.radians
    r = _rotation(rng.uniform(-1, 1, n) * rad(cfg.yaw_deg), rng.uniform(-1, 1, n) * rad(cfg.pitch_deg),
                  rng.uniform(-1, 1, n) * rad(cfg.roll_deg))
    j = np.einsum("nij,ntmvj->ntmvi", r, j - origin[:, None, None, None, :]) + origin[:, None, None, None, :]

    # 2. depth relative to each person's hip, scaled and slowly perturbed
    lo, hi = cfg.depth_scale
    hip_z = j[..., SPINE_BASE:SPINE_BASE + 1, 2]                            # (N, T, M, 1)
    scale = rng.uniform(lo, hi, (n, 1, m, 1))
    z = hip_z + (j[..., 2] - hip_z) * scale
    if cfg.depth_noise_m > 0:
        z = z + cfg.depth_noise_m * _smooth_noise(rng, (n, t, m, v), t_axis=1)
    j[..., 2] = z

    # 3. per-joint offsets and jitter
    if cfg.joint_offset_m > 0:
        j = j + cfg.joint_offset_m * rng.standard_normal((n, 1, m, v, 3))
    if cfg.jitter_m > 0:
        j = j + cfg.jitter_m * rng.standard_normal(j.shape)

    # 4. body proportions about the hip
    if cfg.axis_scale > 0:
        s = 1.0 + rng.uniform(-cfg.axis_scale, cfg.axis_scale, (n, 1, 1, 1, 3))
        hip = j[..., SPINE_BASE:SPINE_BASE + 1, :]
        j = hip + (j - hip) * s

    j = np.where(present[..., None, None], j, 0.0)
    return j.transpose(0, 4, 1, 3, 2).astype(np.float32), labels


@dataclass
class WindowTransform:
    """``raw`` windows -> model input, batch by batch: augmentation (training only), then the
    checkpoint's window normalization (:data:`skelzs.stream.preprocess.WINDOW_NORMALIZERS`).

    The random stream of a batch is a pure function of ``seed`` and the batch's sample rows, so
    a resumed run sees the same augmented batches as an uninterrupted one."""

    normalize: str = "body"
    augment: AugmentConfig | None = None
    mirror_classes: np.ndarray | None = None
    seed: int = 0

    def __call__(self, x: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from skelzs.stream.preprocess import normalize_windows

        if self.augment is not None:
            rng = np.random.default_rng([self.seed, len(rows), *np.asarray(rows[:16], np.int64).tolist()])
            x, labels = augment_raw_windows(x, labels, rng, self.augment, self.mirror_classes)
        return normalize_windows(x, self.normalize), labels
