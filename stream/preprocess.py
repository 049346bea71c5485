"""Preprocessing pipelines as pure functions, each following its published recipe step by step.

Every pipeline takes an NTU-25 :class:`~skelzs.stream.skeleton.SkeletonSequence` and a frame
count ``T`` and returns float32 ``(3, T, 25, 2)`` (C, T, V, M: the ST-GCN/PGFA convention).
An empty person slot stays all zeros.

* ``frame50``  AimCLR/SMIE/PGFA (papers.md A.2): first two bodies in file order, per-frame
  spine-shoulder centring, linear resize of the valid frames to ``T`` (OpenCV ``INTER_LINEAR``),
  per-frame rotation about y putting the shoulder vector (ShoulderLeft -> ShoulderRight) on +x.
* ``ctrgcn64`` CTR-GCN (papers.md E.1), the deterministic test-time variant: denoising (bodies
  of <= 11 frames and "spread-noisy" bodies dropped, actor order by motion, frames without actor
  1 dropped), one origin (SpineMid of actor 1 in the first frame), centre crop 0.95 and linear
  resize to ``T`` (``F.interpolate(..., align_corners=False)``).
* ``agcn``     2s-AGCN / Shift-GCN ``pre_normalization`` (papers.md E.3) on a ``T``-frame
  zero-padded array: null frames padded by repetition, per-frame SpineMid of person 1
  subtracted, first-frame hip->spine bone rotated onto +z, then the first-frame
  left->right shoulder vector rotated onto +x.
* ``stream``   one live window: per-frame spine-shoulder centring and the ``frame50`` rotation,
  no resizing (the last ``T`` frames; a shorter window is zero-padded at the end).
* ``body``     one live window for any 3-D skeleton source, monocular pose included: per-frame
  SpineBase centring (MediaPipe's world origin is the hip midpoint), each person scaled to a
  0.5 m median torso, no rotation (its angle would come from depth, which monocular pose
  estimates worst). View and depth robustness come from training augmentation
  (:mod:`skelzs.train.augment`), which works on ``raw`` windows.
* ``raw``      the last ``T`` frames as they are (camera space, metres), zero-padded.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from skelzs.stream.skeleton import SkeletonSequence

__all__ = [
    "PIPELINES",
    "frame50",
    "ctrgcn64",
    "agcn",
    "stream",
    "body",
    "raw",
    "normalize_body",
    "WINDOW_NORMALIZERS",
    "normalize_windows",
    "sliding_windows",
    "checkpoint_windows",
    "resize_time",
    "center_per_frame",
    "rotate_shoulders_to_x",
    "denoise_ctrgcn",
    "rotation_matrix",
]

SPINE_BASE, SPINE_MID, SHOULDER_LEFT, SHOULDER_RIGHT, SPINE_SHOULDER = 0, 1, 4, 8, 20
NOISE_LENGTH = 11            # CTR-GCN get_raw_denoised_data.py: bodies of <= 11 frames are noise
NOISE_SPREAD_RATIO = 0.69754  # ... and bodies whose ratio of spread-noisy frames reaches this
NOISE_SPREAD_XY = 0.8         # a frame is spread-noisy when x-spread > 0.8 * y-spread
CTRGCN_TEST_CROP = 0.95


def _persons2(seq: SkeletonSequence) -> np.ndarray:
    if seq.layout != "ntu25":
        raise ValueError(f"preprocessing expects ntu25 joints, got {seq.layout}; map with layouts.to_ntu25")
    return seq.with_persons(2).joints.astype(np.float64)  # (T, 2, 25, 3)


def _present(x: np.ndarray) -> np.ndarray:
    """(T, M) True where the person has any non-zero joint."""
    return np.any(x != 0, axis=(-1, -2))


def _to_ctvm(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(3, 0, 2, 1), dtype=np.float32)  # (T,M,V,C) -> (C,T,V,M)


def resize_time(x: np.ndarray, num_frames: int) -> np.ndarray:
    """Linear resize along axis 0 with half-pixel centres, as OpenCV ``INTER_LINEAR`` and
    ``torch.nn.functional.interpolate(mode="linear"/"bilinear", align_corners=False)``."""
    t = x.shape[0]
    if t == num_frames:
        return x.copy()
    if t == 0:
        return np.zeros((num_frames,) + x.shape[1:], x.dtype)
    src = (np.arange(num_frames) + 0.5) * (t / num_frames) - 0.5
    src = np.clip(src, 0.0, t - 1)
    i0 = np.floor(src).astype(np.intp)
    i1 = np.minimum(i0 + 1, t - 1)
    w = (src - i0).reshape((-1,) + (1,) * (x.ndim - 1))
    return x[i0] * (1.0 - w) + x[i1] * w


def center_per_frame(x: np.ndarray, joint: int = SPINE_SHOULDER) -> np.ndarray:
    """Subtract ``joint`` of each person in each frame (absent persons stay zero)."""
    present = _present(x)[..., None, None]
    return np.where(present, x - x[:, :, joint:joint + 1, :], 0.0)


def rotate_shoulders_to_x(x: np.ndarray) -> np.ndarray:
    """Per frame and person, rotate about y so ShoulderLeft->ShoulderRight lies along +x."""
    v = x[:, :, SHOULDER_RIGHT] - x[:, :, SHOULDER_LEFT]           # (T, M, 3)
    theta = np.arctan2(v[..., 2], v[..., 0])                      # angle of v in the x-z plane
    degenerate = np.hypot(v[..., 0], v[..., 2]) < 1e-9
    c = np.where(degenerate, 1.0, np.cos(theta))[..., None]
    s = np.where(degenerate, 0.0, np.sin(theta))[..., None]
    out = x.copy()
    out[..., 0] = c * x[..., 0] + s * x[..., 2]
    out[..., 2] = -s * x[..., 0] + c * x[..., 2]
    return out


def _valid_frames(x: np.ndarray) -> np.ndarray:
    """AimCLR/CTR-GCN: the frames holding any body, in order."""
    return x[np.any(x != 0, axis=(1, 2, 3))]


def frame50(seq: SkeletonSequence, num_frames: int = 50) -> np.ndarray:
    """AimCLR ``frame50`` (papers.md A.2 steps 1-5)."""
    x = _persons2(seq)                                  # 1. xyz of the first two bodies
    x = center_per_frame(x, SPINE_SHOULDER)             # 2. minus joint 21 per frame/person
    x = resize_time(_valid_frames(x), num_frames)       # 3. linear resize of the valid frames
    x = rotate_shoulders_to_x(x)                        # 4. shoulder vector along x
    return _to_ctvm(x)                                  # 5. (3, T, 25, 2)


def denoise_ctrgcn(x: np.ndarray) -> np.ndarray:
    """CTR-GCN denoising on person slots: ``(T, M, 25, 3) -> (T', 2, 25, 3)``.

    With more than one body: drop bodies present in <= 11 frames, then bodies whose ratio of
    spread-noisy frames is >= 0.69754; order the rest by motion (summed joint variance), keep 2
    (actor 1 = most motion). Frames without actor 1 are dropped. If every body is dropped the
    one with most motion is kept.
    """
    present = _present(x)
    bodies = [m for m in range(x.shape[1]) if present[:, m].any()]
    if not bodies:
        return np.zeros((0, 2) + x.shape[2:])

    def motion(m: int) -> float:
        return float(x[present[:, m], m].var(axis=0).sum())

    kept = bodies
    if len(bodies) > 1:
        kept = [m for m in bodies if present[:, m].sum() > NOISE_LENGTH]
        def noisy_ratio(m: int) -> float:
            b = x[present[:, m], m]
            xs = b[..., 0].max(-1) - b[..., 0].min(-1)
            ys = b[..., 1].max(-1) - b[..., 1].min(-1)
            return float(np.mean(xs > NOISE_SPREAD_XY * ys))
        kept = [m for m in kept if noisy_ratio(m) < NOISE_SPREAD_RATIO]
        if not kept:
            kept = [max(bodies, key=motion)]
    kept = sorted(kept, key=motion, reverse=True)[:2]
    out = np.zeros((x.shape[0], 2) + x.shape[2:])
    for slot, m in enumerate(kept):
        out[:, slot] = x[:, m]
    return out[_present(out)[:, 0]]


def ctrgcn64(seq: SkeletonSequence, num_frames: int = 64) -> np.ndarray:
    """CTR-GCN data pipeline, test-time (papers.md E.1): denoise, one origin, crop 0.95, resize."""
    x = denoise_ctrgcn(_persons2(seq))                  # 1-2. denoise, frames with actor 1
    if x.shape[0] == 0:
        return np.zeros((3, num_frames, 25, 2), np.float32)
    origin = x[0, 0, SPINE_MID].copy()                  # 3. SpineMid of actor 1, first frame
    present = _present(x)[..., None, None]
    x = np.where(present, x - origin, 0.0)              #    (a missing actor 2 stays zero)
    valid = x.shape[0]                                  # 5. feeder: centre crop 0.95 ...
    bias = int((1 - CTRGCN_TEST_CROP) * valid / 2)
    x = x[bias:valid - bias]
    x = resize_time(x, num_frames)                      #    ... and linear resize to 64
    return _to_ctvm(x)


def rotation_matrix(axis: np.ndarray, theta: float) -> np.ndarray:
    """Euler-Rodrigues rotation by ``theta`` about ``axis`` (2s-AGCN ``rotation.py``)."""
    axis = np.asarray(axis, np.float64)
    if np.abs(axis).sum() < 1e-6 or abs(theta) < 1e-6:
        return np.eye(3)
    axis = axis / np.sqrt(axis @ axis)
    a = np.cos(theta / 2.0)
    b, c, d = -axis * np.sin(theta / 2.0)
    aa, bb, cc, dd = a * a, b * b, c * c, d * d
    bc, ad, ac, ab, bd, cd = b * c, a * d, a * c, a * b, b * d, c * d
    return np.array([[aa + bb - cc - dd, 2 * (bc + ad), 2 * (bd - ac)],
                     [2 * (bc - ad), aa + cc - bb - dd, 2 * (cd + ab)],
                     [2 * (bd + ac), 2 * (cd - ab), aa + dd - bb - cc]])


def _angle_between(v1: np.ndarray, v2: np.ndarray) -> float:
    n1, n2 = np.linalg.norm(v1), np.linalg.norm(v2)
    if n1 < 1e-12 or n2 < 1e-12:
        return 0.0
    return float(np.arccos(np.clip(np.dot(v1 / n1, v2 / n2), -1.0, 1.0)))


def _align(x: np.ndarray, v: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotate every non-zero joint so that ``v`` points along ``target``."""
    r = rotation_matrix(np.cross(v, target), _angle_between(v, target))
    nonzero = np.any(x != 0, axis=-1, keepdims=True)
    return np.where(nonzero, x @ r.T, 0.0)


def agcn(seq: SkeletonSequence, num_frames: int = 300) -> np.ndarray:
    """2s-AGCN/Shift-GCN ``pre_normalization`` (papers.md E.3) on a ``num_frames`` array."""
    src = _persons2(seq)[:num_frames]
    x = np.zeros((num_frames,) + src.shape[1:])
    x[: src.shape[0]] = src
    x = x.transpose(1, 0, 2, 3).copy()                  # (M, T, V, C) as in the original
    # 1. pad null frames with the previous frames
    for m in range(x.shape[0]):
        person = x[m]
        if not person.any():
            continue
        if not person[0].any():
            valid = person[np.any(person != 0, axis=(1, 2))].copy()
            person[:] = 0
            person[: len(valid)] = valid
        frame_sum = np.abs(person).sum(axis=(1, 2))
        for i in range(1, num_frames):
            if frame_sum[i] == 0 and frame_sum[i:].sum() == 0:
                rest = num_frames - i
                reps = int(np.ceil(rest / i))
                person[i:] = np.concatenate([person[:i]] * reps)[:rest]
                break
    # 2. subtract SpineMid (joint 2) of person 1, per frame
    center = x[0, :, SPINE_MID:SPINE_MID + 1, :].copy()
    for m in range(x.shape[0]):
        if not x[m].any():
            continue
        mask = np.any(x[m] != 0, axis=-1, keepdims=True)
        x[m] = (x[m] - center) * mask
    # 3. first-frame hip (SpineBase) -> spine (SpineMid) of person 1 along +z
    x = _align(x, x[0, 0, SPINE_MID] - x[0, 0, SPINE_BASE], np.array([0.0, 0.0, 1.0]))
    # 4. first-frame ShoulderLeft -> ShoulderRight of person 1 along +x
    x = _align(x, x[0, 0, SHOULDER_RIGHT] - x[0, 0, SHOULDER_LEFT], np.array([1.0, 0.0, 0.0]))
    return _to_ctvm(x.transpose(1, 0, 2, 3))


def stream(seq: SkeletonSequence, num_frames: int) -> np.ndarray:
    """One live window: ``frame50``'s centring and rotation per frame, no resize."""
    x = _persons2(seq)[-num_frames:] if num_frames > 0 else _persons2(seq)[:0]
    out = np.zeros((num_frames,) + x.shape[1:])
    out[: x.shape[0]] = rotate_shoulders_to_x(center_per_frame(x, SPINE_SHOULDER))
    return _to_ctvm(out)


BODY_TORSO_M = 0.5   # the torso length (SpineBase -> SpineShoulder) every person is scaled to


def _last_frames(seq: SkeletonSequence, num_frames: int) -> np.ndarray:
    """The last ``num_frames`` frames, (T, 2, 25, 3) float64, zero-padded at the end."""
    x = _persons2(seq)[-num_frames:] if num_frames > 0 else _persons2(seq)[:0]
    out = np.zeros((num_frames,) + x.shape[1:])
    out[: x.shape[0]] = x
    return out


def normalize_body(x: np.ndarray) -> np.ndarray:
    """``body`` on arrays: (..., T, M, V, 3) camera-space joints -> the same shape, each person
    centred on its SpineBase in every frame and scaled to a median torso of ``BODY_TORSO_M``.
    Absent persons and frames stay zero. Used by the ``body`` pipeline and by training, after
    augmentation, so both see the same function."""
    x = np.asarray(x, np.float64)
    present = np.any(x != 0, axis=(-1, -2))                                   # (..., T, M)
    centred = np.where(present[..., None, None], x - x[..., SPINE_BASE:SPINE_BASE + 1, :], 0.0)
    torso = np.linalg.norm(centred[..., SPINE_SHOULDER, :], axis=-1)           # (..., T, M)
    torso = np.where(present, torso, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)                        # an absent person
        median = np.nanmedian(torso, axis=-2)                                  # (..., M)
    median = np.where(np.isfinite(median) & (median > 1e-3), median, BODY_TORSO_M)
    return centred * (BODY_TORSO_M / median)[..., None, :, None, None]


def body(seq: SkeletonSequence, num_frames: int) -> np.ndarray:
    """One live window, ``normalize_body`` of its last ``T`` frames (see the module docstring)."""
    return _to_ctvm(normalize_body(_last_frames(seq, num_frames)))


def raw(seq: SkeletonSequence, num_frames: int) -> np.ndarray:
    """The last ``T`` frames unchanged (camera space, metres): what training augments."""
    return _to_ctvm(_last_frames(seq, num_frames))


#: pipelines whose per-window step is an array function, so training can run it on (augmented)
#: ``raw`` windows batch by batch: name -> function on (..., T, M, V, 3)
WINDOW_NORMALIZERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"body": normalize_body}


def normalize_windows(x: np.ndarray, name: str) -> np.ndarray:
    """``WINDOW_NORMALIZERS[name]`` on a batch of ``raw`` windows (N, 3, T, V, M) -> float32, same shape."""
    j = np.asarray(x).transpose(0, 2, 4, 3, 1)
    return np.ascontiguousarray(WINDOW_NORMALIZERS[name](j).transpose(0, 4, 1, 3, 2), np.float32)


def sliding_windows(seq: SkeletonSequence, frames: int, fps: float, stride: int | None = None, *,
                    return_starts: bool = False):
    """A whole recording as the live buffer would cut it: resampled to ``fps`` (nearest frame),
    ``frames``-long windows every ``stride`` frames (default ``frames // 4``), the last one ending
    at the recording's end; a recording shorter than a window gives one window, its edge frames
    repeated. Raw float32 ``(N, 3, frames, V, M)``; with ``return_starts`` also each window's
    first frame on the ``fps`` grid (``start / fps`` seconds into the recording; negative when
    padded)."""
    j = np.asarray(seq.joints, np.float32)
    n = j.shape[0]
    src = np.minimum(np.rint(np.arange(0.0, n / float(seq.fps), 1.0 / fps) * seq.fps).astype(np.int64), n - 1)
    j = j[src]
    n = j.shape[0]
    stride = max(1, stride or frames // 4)
    if n <= frames:
        starts = [-((frames - n) // 2)]
    else:
        starts = list(range(0, n - frames + 1, stride))
        if starts[-1] != n - frames:
            starts.append(n - frames)
    idx = np.clip(np.asarray(starts)[:, None] + np.arange(frames)[None], 0, n - 1)
    windows = np.ascontiguousarray(j[idx].transpose(0, 4, 1, 3, 2))
    return (windows, np.asarray(starts, np.int64)) if return_starts else windows


def checkpoint_windows(seq: SkeletonSequence, frames: int, fps: float, normalize: str,
                       stride: int | None = None, *, return_starts: bool = False):
    """A recording's live windows as a checkpoint sees them: :func:`sliding_windows` at its
    ``fps``, then its window pipeline ``normalize`` (a :data:`WINDOW_NORMALIZERS` name on the whole
    batch, or a :data:`PIPELINES` name per window). Float32 ``(N, 3, frames, V, M)``, and with
    ``return_starts`` each window's first frame on the ``fps`` grid."""
    raw, starts = sliding_windows(seq, frames, fps, stride, return_starts=True)
    if normalize in WINDOW_NORMALIZERS:
        out = normalize_windows(raw, normalize)
    else:
        fn = PIPELINES[normalize]
        out = np.stack([fn(SkeletonSequence(w.transpose(1, 3, 2, 0), fps=fps), frames) for w in raw]).astype(np.float32)
    return (out, starts) if return_starts else out


PIPELINES: dict[str, Callable[[SkeletonSequence, int], np.ndarray]] = {
    "frame50": frame50,
    "ctrgcn64": ctrgcn64,
    "agcn": agcn,
    "stream": stream,
    "body": body,
    "raw": raw,
}
