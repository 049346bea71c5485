"""Each preprocessing pipeline, step by step, against direct computation on real NTU files."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream.formats import load_sequence
from skelzs.stream.preprocess import (PIPELINES, agcn, ctrgcn64, denoise_ctrgcn, frame50, resize_time,
                                      rotation_matrix, stream)
from skelzs.stream.skeleton import SkeletonSequence

SS, SL, SR, SM, SB = 20, 4, 8, 1, 0


@pytest.fixture(scope="module")
def one(ntu_dir):
    return load_sequence(ntu_dir / "S001C001P001R001A001.skeleton")


@pytest.fixture(scope="module")
def two(ntu_dir):
    return load_sequence(ntu_dir / "S001C003P008R002A058.skeleton")


def test_pipeline_table_shapes(one, two):
    for name, fn in PIPELINES.items():
        for seq in (one, two):
            out = fn(seq, 40)
            assert out.shape == (3, 40, 25, 2) and out.dtype == np.float32, name
            assert np.isfinite(out).all()
        assert not fn(one, 40)[..., 1].any(), f"{name}: empty second person must stay zero"


def test_resize_time_matches_half_pixel_linear():
    x = np.arange(5.0)[:, None]
    np.testing.assert_allclose(resize_time(x, 10)[:, 0],
                               [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4])
    np.testing.assert_allclose(resize_time(np.arange(10.0)[:, None], 5)[:, 0], [0.5, 2.5, 4.5, 6.5, 8.5])
    torch = pytest.importorskip("torch")
    y = np.random.default_rng(0).normal(size=(37, 6))
    ref = torch.nn.functional.interpolate(torch.tensor(y.T[None]), size=64, mode="linear", align_corners=False)
    np.testing.assert_allclose(resize_time(y, 64), ref[0].numpy().T, atol=1e-12)


def test_frame50_steps(two):
    out = frame50(two, 50).transpose(1, 3, 2, 0)            # (T, M, V, 3)
    x = two.joints.astype(np.float64)
    # step 2 by hand: spine-shoulder per frame and person; step 3: linear resize
    centred = np.where(np.any(x != 0, axis=(2, 3), keepdims=True), x - x[:, :, SS:SS + 1], 0)
    resized = resize_time(centred, 50)
    np.testing.assert_allclose(out[:, :, SS], 0, atol=1e-6)   # spine-shoulder at the origin
    sh = out[:, :, SR] - out[:, :, SL]
    assert np.all(sh[..., 0] > 0)                             # shoulder vector along +x ...
    np.testing.assert_allclose(sh[..., 2], 0, atol=1e-6)      # ... with no z component
    # step 4 is a rotation about y: y unchanged, per-joint distances to the origin unchanged
    np.testing.assert_allclose(out[..., 1], resized[..., 1], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(resized, axis=-1), atol=1e-5)


def test_frame50_of_shorter_clip_upsamples(one):
    out = frame50(one, 200)
    assert out.shape == (3, 200, 25, 2)
    np.testing.assert_allclose(out[:, :, SS, 0], 0, atol=1e-6)


def test_ctrgcn64_steps(two):
    out = ctrgcn64(two, 64).transpose(1, 3, 2, 0)
    x = denoise_ctrgcn(two.joints.astype(np.float64))
    assert x.shape[0] == 70                                   # both bodies are long and clean
    origin = x[0, 0, SM]
    centred = np.where(np.any(x != 0, axis=(2, 3), keepdims=True), x - origin, 0)
    bias = int(0.05 * 70 / 2)
    ref = resize_time(centred[bias:70 - bias], 64)
    np.testing.assert_allclose(out, ref, atol=1e-6)
    # single origin: only the first frame's SpineMid of actor 1 sits at zero
    np.testing.assert_allclose(resize_time(centred, 64)[0, 0, SM], resize_time(centred, 64)[0, 0, SM])
    assert np.linalg.norm(centred[-1, 0, SM]) > 1e-3 and np.allclose(centred[0, 0, SM], 0)


def test_ctrgcn_denoising_drops_short_and_noisy_bodies(two):
    x = two.joints.astype(np.float64)
    j = np.zeros((70, 3, 25, 3))
    j[:, :2] = x
    j[:8, 2] = x[:8, 0] + 2.0                                 # a body of 8 frames: noise
    out = denoise_ctrgcn(j)
    assert out.shape == (70, 2, 25, 3)
    flat = j.copy()
    flat[:, 1, :, 1] = x[:, 1, :, 1].mean(axis=-1, keepdims=True)   # y spread 0 -> spread-noisy
    out = denoise_ctrgcn(flat[:, :2])
    assert not out[:, 1].any()
    # actor 1 = the body with most motion; frames without actor 1 are dropped
    motion = [x[:, m].var(axis=0).sum() for m in (0, 1)]
    actor1 = int(np.argmax(motion))
    j2 = x.copy()
    other = x[:, 1 - actor1]
    j2[:, 1 - actor1] = other.mean(axis=0) + 0.5 * (other - other.mean(axis=0))  # a quieter actor 2
    j2[:10, actor1] = 0
    assert j2[10:, actor1].var(axis=0).sum() > j2[:, 1 - actor1].var(axis=0).sum()
    out = denoise_ctrgcn(j2)
    assert out.shape[0] == 60
    np.testing.assert_array_equal(out[:, 0], j2[10:, actor1])


def test_agcn_steps(two):
    out = agcn(two, 300).transpose(1, 3, 2, 0)               # (T, M, V, 3)
    # 1. null frames padded by repetition: 70 valid frames tile the 300
    np.testing.assert_allclose(out[70:140], out[:70], atol=1e-6)
    # 2. SpineMid of person 1 is the per-frame origin
    np.testing.assert_allclose(out[:, 0, SM], 0, atol=1e-6)
    # 4. first-frame shoulder vector of person 1 along +x
    v = out[0, 0, SR] - out[0, 0, SL]
    assert v[0] > 0 and np.allclose(v[1:], 0, atol=1e-6)
    # 3. before step 4 the hip->spine bone was along +z: undo step 4 and check
    x = two.joints.astype(np.float64)
    centred = x - x[:, :1, SM:SM + 1]
    spine = centred[0, 0, SM] - centred[0, 0, SB]
    r3 = rotation_matrix(np.cross(spine, [0, 0, 1.0]), np.arccos(spine[2] / np.linalg.norm(spine)))
    s3 = r3 @ spine
    np.testing.assert_allclose(s3[:2], 0, atol=1e-9)
    assert s3[2] > 0
    # rigid transform: bone lengths preserved
    from skelzs.stream.layouts import bone_lengths
    np.testing.assert_allclose(bone_lengths(out[:70, 0]), bone_lengths(x[:, 0]), atol=1e-5)


def test_rotation_matrix_is_a_rotation():
    r = rotation_matrix(np.array([0.3, -1.0, 0.2]), 0.7)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(r), 1.0)


def test_stream_window_equals_frame50_without_resize(two):
    """A T-frame live window is normalized like frame50 would normalize a T-frame clip."""
    window = two.slice(10, 40)
    np.testing.assert_allclose(stream(window, 30), frame50(window, 30), atol=1e-6)
    # longer input: the last T frames; shorter: zero-padded at the end
    np.testing.assert_allclose(stream(two, 30), frame50(two.slice(40, 70), 30), atol=1e-6)
    short = stream(two.slice(0, 10), 30)
    assert short[:, 10:].sum() == 0 and np.abs(short[:, :10]).sum() > 0


def test_pipelines_are_pure(two):
    before = two.joints.copy()
    for fn in PIPELINES.values():
        fn(two, 32)
    np.testing.assert_array_equal(two.joints, before)


def test_non_ntu_layout_rejected():
    seq = SkeletonSequence(np.zeros((4, 1, 33, 3), np.float32), layout="mediapipe33")
    with pytest.raises(ValueError):
        frame50(seq, 50)
