"""Window buffers: resampling to the model fps, stride, gap reset, person slots, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream.window import WindowAssembler, WindowBuffer, WindowConfig
from skelzs.stream.wire import WireFrame


def _pose(value: float) -> np.ndarray:
    return np.full((25, 3), value, np.float32)


def test_windows_every_stride_after_the_first_fill():
    asm = WindowAssembler(WindowConfig(frames=16, stride=4, persons=2))
    for f in range(40):
        asm.push_joints(0, 0, f, f / 30.0, _pose(f), np.ones(25))
    windows, skipped = asm.take_ready()
    assert skipped == 0
    assert [w.frame for w in windows] == [15, 19, 23, 27, 31, 35, 39]
    w = windows[0]
    assert w.data.shape == (3, 16, 25, 2)
    # (3, T, V, M): slot 0 holds frames 0..15 in order, slot 1 is empty (nobody else)
    np.testing.assert_allclose(w.data[0, :, 0, 0], np.arange(16))
    assert not w.data[..., 1].any() and w.persons_present == 1


def test_latest_only_keeps_newest_window_per_person_and_counts_the_rest():
    asm = WindowAssembler(WindowConfig(frames=16, stride=4))
    for f in range(40):
        asm.push_joints(0, 0, f, f / 30.0, _pose(f), np.ones(25))
    windows, skipped = asm.take_ready(latest_only=True)
    assert [w.frame for w in windows] == [39] and skipped == 6


def test_timestamps_are_resampled_to_the_model_fps():
    # a 15 fps source with a linear motion: a 30 fps window interpolates the missing ticks
    asm = WindowAssembler(WindowConfig(frames=10, stride=2, fps=30.0))
    for f in range(8):
        asm.push_joints(0, 0, f, f / 15.0, _pose(f * 2.0), np.ones(25))
    windows, _ = asm.take_ready()
    assert windows, "a window is due after 10 ticks at 30 fps (5 frames at 15 fps)"
    w = windows[0]
    np.testing.assert_allclose(w.data[0, :, 0, 0], w.first_tick + np.arange(10, dtype=np.float32), atol=1e-5)
    assert w.first_tick in (0, 1)
    # a 60 fps source: every second sample lands on a tick
    asm = WindowAssembler(WindowConfig(frames=10, stride=2, fps=30.0))
    for f in range(40):
        asm.push_joints(0, 0, f, f / 60.0, _pose(f / 2.0), np.ones(25))
    windows, _ = asm.take_ready()
    np.testing.assert_allclose(windows[0].data[0, :, 0, 0], np.arange(10, dtype=np.float32), atol=1e-5)


def test_a_gap_resets_the_window_instead_of_stitching():
    cfg = WindowConfig(frames=10, stride=5, gap_s=0.5)
    asm = WindowAssembler(cfg)
    for f in range(8):
        asm.push_joints(0, 0, f, f / 30.0, _pose(1), np.ones(25))
    for f in range(8, 16):                      # 2 s later
        asm.push_joints(0, 0, f, 2.0 + f / 30.0, _pose(2), np.ones(25))
    windows, _ = asm.take_ready()
    assert windows == []                        # 8 + 8 frames never make one 10-frame window
    assert asm.buffers[(0, 0)].resets == 1
    for f in range(16, 20):
        asm.push_joints(0, 0, f, 2.0 + f / 30.0, _pose(2), np.ones(25))
    windows, _ = asm.take_ready()
    assert len(windows) == 1 and np.all(windows[0].data[:, :, :, 0] == 2)


def test_second_person_fills_slot_one_on_the_same_ticks():
    asm = WindowAssembler(WindowConfig(frames=8, stride=4, persons=2))
    for f in range(8):
        asm.push_joints(3, 0, f, f / 30.0, _pose(1), np.ones(25))
        if f >= 4:                               # person 1 appears halfway
            asm.push_joints(3, 1, f, f / 30.0, _pose(5), np.ones(25))
    (w,), _ = asm.take_ready()
    assert (w.source, w.person, w.persons_present) == (3, 0, 2)
    assert np.all(w.data[0, :4, :, 1] == 0) and np.all(w.data[0, 4:, :, 1] == 5)


def test_low_confidence_joints_hold_their_last_confident_position():
    buf = WindowBuffer(WindowConfig(frames=4, stride=1), origin=0.0)
    conf = np.ones(25, np.float32)
    buf.push(0.0, _pose(1), conf)
    low = conf.copy()
    low[6] = 0.1
    j = _pose(2)
    j[6] = 100.0                                  # a wild, low-visibility wrist
    buf.push(1 / 30, j, low)
    first, joints, c = buf.take_padded()
    assert joints[-1, 6, 0] == 1.0 and joints[-1, 5, 0] == 2.0
    assert c[-1, 6] == pytest.approx(0.1)


def test_layouts_are_mapped_to_ntu25_on_the_way_in():
    asm = WindowAssembler(WindowConfig(frames=4, stride=1, persons=1))
    mp = np.random.default_rng(0).normal(size=(33, 3)).astype(np.float32)
    for f in range(4):
        asm.push(WireFrame(0, 0, f, f / 30, mp, np.ones(33, np.float32), "mediapipe33"))
    (w,), _ = asm.take_ready()
    assert w.data.shape == (3, 4, 25, 1)


def test_memory_is_bounded_when_nobody_takes_windows():
    cfg = WindowConfig(frames=8, stride=1, max_pending=50, max_tracks=4)
    asm = WindowAssembler(cfg)
    for f in range(3000):
        for p in range(3):                       # three people stay...
            asm.push_joints(0, p, f, f / 30.0, _pose(f), np.ones(25))
        asm.push_joints(0, 1000 + f, f, f / 30.0, _pose(f), np.ones(25))   # ...one new id per frame
    assert asm.tracks_dropped > 2900
    assert asm.ready_count() <= 50 and asm.windows_dropped > 0
    assert len(asm.buffers) <= 4
    assert all(b.capacity == 2 * 8 + 1 for b in asm.buffers.values())


def test_short_recording_gets_one_padded_window_at_the_end():
    asm = WindowAssembler(WindowConfig(frames=64, stride=8))
    for f in range(40):
        asm.push_joints(0, 0, f, f / 30.0, _pose(f), np.ones(25))
    assert asm.take_ready()[0] == []
    asm.flush_partial(source=0)
    (w,), _ = asm.take_ready()
    assert w.frame == 39
    np.testing.assert_allclose(w.data[0, :40, 0, 0], np.arange(40))
    np.testing.assert_allclose(w.data[0, 40:, 0, 0], np.arange(24))


def test_out_of_order_samples_are_ignored():
    buf = WindowBuffer(WindowConfig(frames=4, stride=1), origin=0.0)
    conf = np.ones(25, np.float32)
    buf.push(0.1, _pose(1), conf)
    assert buf.push(0.05, _pose(2), conf) == 0 and buf.out_of_order == 1
