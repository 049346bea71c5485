"""Readers of the real sources into NTU-25 Kinect v2 space: PKU-MMD npz, UTKinect-Action3D and
MSR Action3D (Kinect v1), BVH. Real files come from ``../shared/data`` (skipped when absent) and,
for BVH takes, the Bandai-Namco set (``$SKELZS_BANDAI``, skipped when absent); corrupt inputs are
truncated copies written to ``tmp_path``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.formats import detect_format, load_sequence
from skelzs.stream.kinect_v1 import (KINECT_V1_DEPTH_FOCAL_320, MSR_ACTION3D_CLASSES, UTKINECT_CLASSES,
                                     msr_label, read_msr_action3d, read_utkinect, read_utkinect_labels,
                                     utkinect_clips)
from skelzs.stream.layouts import KINECT_V1_SDK, LAYOUTS, MSR_ACTION3D, NTU25, kinect_v1_to_ntu25, to_ntu25
from skelzs.stream.pku import read_pku_labels
from skelzs.stream.pku_npz import pku_npz_labels_path, read_pku_npz, read_pku_npz_clips

BANDAI = Path(os.environ.get("SKELZS_BANDAI", "/work/data/bandai"))


def _body(seq):
    j = seq.joints[:, 0]
    return j[np.any(j != 0, axis=(1, 2))]


def _torso(seq) -> float:
    j = _body(seq)
    return float(np.median(np.linalg.norm(j[:, 20] - j[:, 0], axis=-1)))


def _right_minus_left_shoulder_x(seq) -> float:
    j = _body(seq)
    return float(np.mean(j[:, 8, 0] - j[:, 4, 0]))


def _one_line_error(path, *needles):
    with pytest.raises(SkeletonFormatError) as err:
        load_sequence(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg, msg
    for n in needles:
        assert n in msg, msg
    return err.value


@pytest.fixture(scope="module")
def utk_root(shared_data):
    root = shared_data / "kinect_v1" / "UTKinect" / "joints"
    if not root.is_dir():
        pytest.skip(f"no UTKinect joints at {root}")
    return root


@pytest.fixture(scope="module")
def msr_root(shared_data):
    root = shared_data / "kinect_v1" / "MSRAction3D" / "real_world_coordinates"
    if not root.is_dir():
        pytest.skip(f"no MSR Action3D skeletons at {root}")
    return root


# -- PKU-MMD npz ------------------------------------------------------------------------------------
def test_pku_npz_sequence_labels_and_truncation(shared_data, tmp_path):
    files = sorted((shared_data / "pku_mmd_more" / "val").glob("*.npz"))
    if not files:
        pytest.skip("no pku_mmd_more/val")
    f = files[0]
    assert detect_format(f) == "pku_npz"
    seq = load_sequence(f)
    with np.load(f) as z:
        t = z["joints_mm"].shape[0]
    assert seq.joints.shape == (t, 2, 25, 3) and seq.layout == "ntu25" and seq.fps == 30.0
    assert 0.35 < _torso(seq) < 0.65                                  # metres, not millimetres
    assert _right_minus_left_shoulder_x(seq) > 0.1                    # NTU / Kinect v2 sides
    assert np.median(_body(seq)[:, 0, 2]) > 1.0                       # in front of the sensor
    clips = read_pku_npz_clips(f)
    segs = read_pku_labels(pku_npz_labels_path(f))
    assert [c[0] for c in clips] == segs and len(segs) > 0
    for seg, clip in clips:
        assert clip.num_frames == seg.end - seg.start + 1 and clip.meta["action"] == seg.label - 1
    bad = tmp_path / f.name
    bad.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    _one_line_error(bad)


def test_pku_npz_wrong_array(tmp_path):
    f = tmp_path / "odd.npz"
    np.savez(f, joints_mm=np.zeros((4, 149), np.int16))
    assert detect_format(f) == "pku_npz"
    with pytest.raises(SkeletonFormatError, match=r"odd\.npz: joints_mm has shape \(4, 149\)"):
        read_pku_npz(f)


def test_pku_txt_still_detected(pku_dir):
    files = sorted((pku_dir / "Data" / "PKU_Skeleton_Renew").glob("*.txt"))
    if not files:
        pytest.skip("no PKU-MMD skeleton text")
    assert detect_format(files[0]) == "pku"


# -- UTKinect -------------------------------------------------------------------------------------
def test_utkinect_ids_are_a_2_per_frame_counter(utk_root):
    """The evidence for the time base: every frame id is even, and all label bounds but one."""
    ids = np.concatenate([np.loadtxt(f, usecols=0) for f in sorted(utk_root.glob("joints_s0[1-3]_*.txt"))])
    assert np.all(ids % 2 == 0)
    bounds = [int(v) for v in re.findall(r":\s*(\d+)\s+(\d+)", (utk_root / "actionLabel.txt").read_text())
              for v in v]
    assert len(bounds) == 398 and sum(b % 2 for b in bounds) == 1      # s06_e02 carry: 2031


def test_utkinect_file(utk_root, tmp_path):
    f = utk_root / "joints_s01_e01.txt"
    assert detect_format(f) == "utkinect"
    seq = load_sequence(f, persons=1)
    raw_ids = np.loadtxt(f, usecols=0).astype(int)
    ids = np.asarray(seq.meta["frame_ids"])
    assert seq.layout == "ntu25" and seq.fps == 30.0 and seq.joints.shape == (len(ids), 1, 25, 3)
    assert ids[0] == raw_ids[0] and ids[-1] == raw_ids[-1] and np.all(np.diff(ids) == 2)
    observed = np.asarray(seq.meta["observed"])
    assert observed.sum() == len(np.unique(raw_ids)) < len(raw_ids)   # repeated ids dropped
    assert np.all(seq.confidence[observed, 0] == 1) and np.all(seq.confidence[~observed, 0] < 1)
    # an observed row is the file's first row with that id (no interpolation there)
    first = np.loadtxt(f, max_rows=1)
    sdk = first[1:].reshape(20, 3)
    np.testing.assert_allclose(seq.joints[0, 0, 3], sdk[3], atol=1e-6)          # Head
    np.testing.assert_allclose(seq.joints[0, 0, 20], sdk[2], atol=1e-6)         # SpineShoulder
    assert 0.35 < _torso(seq) < 0.65
    assert _right_minus_left_shoulder_x(seq) > 0.1
    native = read_utkinect(f, resample=False)
    assert native.num_frames == observed.sum() and 12.0 < native.fps < 20.0
    assert read_utkinect(f, ntu25=False).layout == "kinect_v1_sdk"
    lines = f.read_text().splitlines()
    bad = tmp_path / f.name
    bad.write_text("\n".join(lines[:5] + [lines[5][: len(lines[5]) // 2]]) + "\n")
    _one_line_error(bad, ":6:", "found")


def test_utkinect_labels_map_to_rows(utk_root):
    labels = read_utkinect_labels(utk_root / "actionLabel.txt")
    assert len(labels) == 20
    assert sum(len(s) for s in labels.values()) == 199                # 200 less the NaN 'carry' of s10_e02
    assert [c for c, _, _ in labels["s10_e02"]] == [c for c in UTKINECT_CLASSES if c != "carry"]
    assert all([c for c, _, _ in segs] == list(UTKINECT_CLASSES) for k, segs in labels.items() if k != "s10_e02")
    seq = read_utkinect(utk_root / "joints_s01_e01.txt")
    clips = utkinect_clips(seq, labels["s01_e01"])
    assert [lab for lab, _ in clips] == list(UTKINECT_CLASSES)
    walk = clips[0][1]
    assert walk.meta["action"] == 0 and walk.meta["frame_ids"][0] >= 252 and walk.meta["frame_ids"][-1] <= 390
    assert walk.num_frames == (390 - 252) // 2 + 1                    # one row per id step of 2
    # walking pace on the 30 fps grid: the hips travel at a human 0.4-1.5 m/s
    hips = walk.joints[:, 0, 0]
    speed = np.linalg.norm(np.diff(hips, axis=0), axis=-1).sum() / (walk.num_frames / walk.fps)
    assert 0.4 < speed < 1.5


# -- MSR Action3D ---------------------------------------------------------------------------------
def test_msr_file_units_sides_and_label(msr_root, tmp_path):
    f = msr_root / "a01_s01_e01_skeleton3D.txt"                       # high arm wave, right arm
    assert detect_format(f) == "msr"
    raw = np.loadtxt(f).reshape(-1, 20, 4)
    assert 1.0 < raw[..., 2].min() and raw[..., 2].max() < 4.5        # z already metres
    seq = load_sequence(f, persons=1)
    assert seq.joints.shape == (raw.shape[0], 1, 25, 3) and seq.fps == 15.0
    assert seq.meta["action"] == 0 and seq.meta["action_name"] == "high arm wave" == MSR_ACTION3D_CLASSES[0]
    assert (seq.meta["subject"], seq.meta["take"], seq.meta["units"]) == (1, 1, "metres")
    assert msr_label(f) == (0, "high arm wave") and msr_label("a20_s01_e01_skeleton3D.txt")[1] == "pick up & throw"
    assert 0.35 < _torso(seq) < 0.65
    assert _right_minus_left_shoulder_x(seq) > 0.1
    motion = seq.joints[:, 0].std(axis=0).sum(-1)
    assert motion[10] > 3 * motion[6] and motion[11] > 3 * motion[7]  # the right wrist and hand wave
    j = seq.joints[:, 0]
    assert j[:, 11, 1].max() > j[:, 8, 1].max() + 0.2 and j[:, 7, 1].max() < j[:, 4, 1].min()  # right hand up
    native = read_msr_action3d(f, ntu25=False)
    assert native.layout == "msr_action3d"
    np.testing.assert_array_equal(native.joints[:, 0], raw[..., :3].astype(np.float32))
    np.testing.assert_allclose(to_ntu25(native.joints, "msr_action3d")[0], seq.joints, atol=1e-6)
    lines = f.read_text().splitlines()
    bad = tmp_path / f.name
    bad.write_text("\n".join(lines[:-3]) + "\n")
    _one_line_error(bad, "multiple of 20")
    bad.write_text("\n".join(lines[:30] + ["0.1 0.2 x 1"] + lines[31:]) + "\n")
    _one_line_error(bad, ":31:", "not a number")


def test_msr_other_one_limb_actions_use_the_right_side(msr_root):
    for name, right, left in (("a14_s01_e01", 18, 14), ("a05_s03_e01", 10, 6)):   # forward kick, punch
        seq = read_msr_action3d(msr_root / f"{name}_skeleton3D.txt")
        motion = seq.joints[:, 0].std(axis=0).sum(-1)
        assert motion[right] > 2 * motion[left], name


def test_msr_all_zero_file(msr_root):
    f = msr_root / "a13_s09_e02_skeleton3D.txt"                       # the one take with no body
    if not f.is_file():
        pytest.skip("a13_s09_e02 absent")
    _one_line_error(f, "no skeleton")


def test_msr_screen_coordinates_back_projected(msr_root, tmp_path):
    """Synthetic screen-coordinate copy of a real take (u, v pixels of 320x240, depth mm)."""
    f = msr_root / "a01_s01_e01_skeleton3D.txt"
    raw = np.loadtxt(f).reshape(-1, 20, 4)
    x, y, z = raw[..., 0], raw[..., 1], raw[..., 2]
    scr = np.stack([x * KINECT_V1_DEPTH_FOCAL_320 / z + 160, 120 - y * KINECT_V1_DEPTH_FOCAL_320 / z,
                    z * 1000, raw[..., 3]], -1)
    g = tmp_path / f.name
    np.savetxt(g, scr.reshape(-1, 4), fmt="%.7f")
    seq = read_msr_action3d(g)
    assert seq.meta["units"].startswith("screen coordinates")
    np.testing.assert_allclose(seq.joints, read_msr_action3d(f).joints, atol=1e-5)


# -- layouts --------------------------------------------------------------------------------------
def test_kinect_v1_layouts_and_mapping():
    assert LAYOUTS["kinect_v1_sdk"] is KINECT_V1_SDK and LAYOUTS["msr_action3d"] is MSR_ACTION3D
    assert KINECT_V1_SDK.joints[8] == "ShoulderRight" and MSR_ACTION3D.joints[1] == "ShoulderRight"
    assert {KINECT_V1_SDK.joints[c] for c, _ in KINECT_V1_SDK.bones} == {MSR_ACTION3D.joints[c] for c, _ in
                                                                        MSR_ACTION3D.bones}
    # a straight synthetic body: SpineMid lands 58 % up the torso, hand tips beyond the hands
    j = np.zeros((20, 3), np.float32)
    j[0], j[1], j[2], j[3] = [0, 0, 3], [0, 0.1, 3], [0, 0.5, 3], [0, 0.7, 3]
    j[6], j[7] = [0.5, 0.5, 3], [0.6, 0.5, 3]
    out, conf = kinect_v1_to_ntu25(j)
    N = NTU25.index
    np.testing.assert_allclose(out[N("SpineMid")], [0, 0.29, 3], atol=1e-6)
    np.testing.assert_allclose(out[N("Neck")], [0, 0.57, 3], atol=1e-6)
    np.testing.assert_allclose(out[N("HandTipLeft")], [0.7, 0.5, 3], atol=1e-6)
    np.testing.assert_allclose(out[N("ThumbLeft")], [0.67, 0.5, 3], atol=1e-6)
    assert conf.shape == (25,) and np.all(conf == 1)
    assert np.all(kinect_v1_to_ntu25(np.zeros((2, 20, 3)))[0] == 0)          # an absent body stays absent


# -- BVH ------------------------------------------------------------------------------------------
_CHAIN = """HIERARCHY
ROOT A
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT B
  {
    OFFSET 10 0 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 10 0 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 0 0 0 0 0 0 0 0
1 2 3 90 0 0 90 0 0
"""


def test_bvh_two_joint_chain_rotated_90_degrees(tmp_path):
    from skelzs.stream.bvh import forward_kinematics, read_bvh

    f = tmp_path / "chain.bvh"
    f.write_text(_CHAIN)
    bvh = read_bvh(f)
    pos, rot = forward_kinematics(bvh, return_rotations=True)
    end = pos[:, 1] + np.einsum("fab,b->fa", rot[:, 1], [10, 0, 0])
    # frame 0: straight along +x; frame 1: root at (1,2,3) turned 90 deg about z (x -> y), B turned
    # 90 deg more, so its end points along -x
    np.testing.assert_allclose(pos[0], [[0, 0, 0], [10, 0, 0]], atol=1e-9)
    np.testing.assert_allclose(end[0], [20, 0, 0], atol=1e-9)
    np.testing.assert_allclose(pos[1], [[1, 2, 3], [1, 12, 3]], atol=1e-9)
    np.testing.assert_allclose(end[1], [-9, 12, 3], atol=1e-9)
    assert bvh.fps == 30.0
    g = tmp_path / "chain_without_suffix"
    g.write_text(_CHAIN)
    assert detect_format(f) == detect_format(g) == "bvh"
    t = tmp_path / "cut.bvh"
    t.write_text(_CHAIN.rsplit("\n", 2)[0] + "\n")                   # last frame line dropped
    _one_line_error(t, "truncated")


def test_bvh_real_take(tmp_path):
    takes = sorted(BANDAI.glob("dataset-2_wave-right-hand_*.bvh")) if BANDAI.is_dir() else []
    if not takes:
        pytest.skip(f"Bandai-Namco takes not found at {BANDAI} (set SKELZS_BANDAI)")
    f = takes[0]
    assert detect_format(f) == "bvh"
    seq = load_sequence(f, persons=1)
    assert seq.layout == "ntu25" and seq.fps == 30.0 and seq.meta["label"] == "wave-right-hand"
    assert 0.35 < _torso(seq) < 0.65
    assert _right_minus_left_shoulder_x(seq) > 0.1
    j = seq.joints[:, 0]
    motion = np.linalg.norm(j - j[:, :1], axis=-1).std(axis=0)        # relative to SpineBase
    assert motion[10] > 3 * motion[6]                                 # the right wrist waves
    assert np.mean(j[:, [15, 19], 2]) < np.mean(j[:, [14, 18], 2])    # toes point at the camera
    lines = f.read_text().splitlines()
    bad = tmp_path / f.name
    bad.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    _one_line_error(bad, "truncated")
