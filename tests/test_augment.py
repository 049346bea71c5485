"""Training-time augmentation of raw windows and the batch transform fit uses."""

from __future__ import annotations

import numpy as np

from skelzs.stream.preprocess import normalize_windows, sliding_windows
from skelzs.stream.skeleton import SkeletonSequence
from skelzs.train.augment import AUGMENTATIONS, WindowTransform, augment_raw_windows, mirror_class_map


def _windows(n=6, t=20, seed=0):
    rng = np.random.default_rng(seed)
    body = rng.normal(0, 0.3, (25, 3)) + np.array([0, 0, 3.0])
    body[20] = body[0] + [0, 0.5, 0]                          # a torso of 0.5 m
    x = np.zeros((n, 3, t, 25, 2), np.float32)
    for i in range(n):
        x[i, :, :, :, 0] = (body[None] + rng.normal(0, 0.01, (t, 25, 3))).transpose(2, 0, 1)
    return x


def test_augment_is_seeded_keeps_absent_zero_and_changes_the_window():
    x = _windows()
    y = np.arange(6) % 3
    cfg = AUGMENTATIONS["monocular"]
    a1, l1 = augment_raw_windows(x, y, np.random.default_rng(1), cfg)
    a2, l2 = augment_raw_windows(x, y, np.random.default_rng(1), cfg)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(l1, l2)
    assert a1.shape == x.shape and a1.dtype == np.float32
    assert np.all(a1[..., 1] == 0)                             # the absent second person stays absent
    assert np.abs(a1 - x).max() > 0.05


def test_mirror_maps_left_and_right_classes():
    classes = ["wave left hand", "wave right hand", "clapping", "raise left hand"]
    m = mirror_class_map(classes)
    assert m.tolist() == [1, 0, 2, 3]                          # no "raise right hand": stays itself
    x = _windows(n=40)
    y = np.zeros(40, np.int64)
    cfg = AUGMENTATIONS["view"]
    _, labels = augment_raw_windows(x, y, np.random.default_rng(0), cfg, m)
    assert set(labels.tolist()) == {0, 1}                       # about half mirrored


def test_window_transform_normalizes_after_augmenting():
    x = _windows()
    tr = WindowTransform(normalize="body", augment=AUGMENTATIONS["monocular"], seed=3)
    rows = np.arange(6)
    out, _ = tr(x, np.zeros(6, np.int64), rows)
    again, _ = tr(x, np.zeros(6, np.int64), rows)
    np.testing.assert_array_equal(out, again)                  # a pure function of seed and rows
    j = out.transpose(0, 2, 4, 3, 1)[:, :, 0]                   # (N, T, V, 3)
    np.testing.assert_allclose(j[..., 0, :], 0, atol=1e-6)      # SpineBase-centred
    torso = np.median(np.linalg.norm(j[..., 20, :], axis=-1), axis=1)
    np.testing.assert_allclose(torso, 0.5, atol=1e-5)
    plain = WindowTransform(normalize="body")(x, np.zeros(6, np.int64), rows)[0]
    np.testing.assert_allclose(plain, normalize_windows(x, "body"))


def test_sliding_windows_cover_a_recording_at_the_model_rate():
    j = np.zeros((90, 2, 25, 3), np.float32)
    j[:, 0, :, 0] = np.arange(90)[:, None]                     # x = source frame number
    seq = SkeletonSequence(j, fps=30.0)
    w = sliding_windows(seq, frames=20, fps=15.0, stride=5)    # 45 frames at 15 fps
    assert w.shape == (6, 3, 20, 25, 2)
    assert w[0, 0, :, 0, 0].tolist() == list(range(0, 40, 2))
    assert w[-1, 0, -1, 0, 0] == 88                            # the last window ends at the end
    short = sliding_windows(SkeletonSequence(j[:10], fps=30.0), frames=20, fps=15.0)
    assert short.shape == (1, 3, 20, 25, 2)
    assert short[0, 0, 0, 0, 0] == 0 and short[0, 0, -1, 0, 0] == 8   # edge frames repeated
