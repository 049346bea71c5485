"""Readers of the real sources in ../shared/data: PKU-MMD npz, UTKinect, MSR Action3D (Kinect v1)."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.formats import detect_format, load_sequence
from skelzs.stream.kinect_v1 import read_msr_action3d, read_utkinect, read_utkinect_labels


def _torso(seq):
    j = seq.joints[:, 0]
    ok = np.any(j != 0, axis=(1, 2))
    return float(np.median(np.linalg.norm(j[ok, 20] - j[ok, 0], axis=-1)))


def _right_minus_left_shoulder_x(seq):
    j = seq.joints[:, 0]
    return float(np.mean(j[:, 8, 0] - j[:, 4, 0]))


@pytest.fixture
def kinect_v1(shared_data):
    return shared_data / "kinect_v1"


def test_pku_npz(shared_data, tmp_path):
    f = sorted((shared_data / "pku_mmd_more" / "train").glob("*.npz"))[0]
    assert detect_format(f) == "pku_npz"
    seq = load_sequence(f)
    assert seq.layout == "ntu25" and seq.fps == 30.0 and seq.joints.shape[1:] == (2, 25, 3)
    assert 0.4 < _torso(seq) < 0.7
    assert _right_minus_left_shoulder_x(seq) > 0.1          # NTU/Kinect v2 axes
    bad = tmp_path / "cut.npz"
    bad.write_bytes(f.read_bytes()[:2000])
    with pytest.raises(SkeletonFormatError) as err:
        load_sequence(bad)
    assert "cut.npz" in str(err.value) and "\n" not in str(err.value)


def test_utkinect_file_and_labels(kinect_v1, tmp_path):
    root = kinect_v1 / "UTKinect" / "joints"
    f = root / "joints_s01_e01.txt"
    assert detect_format(f) == "utkinect"
    seq = read_utkinect(f)
    ids = seq.meta["frame_ids"]
    assert len(ids) == len(set(ids)) == seq.num_frames       # repeated ids dropped
    assert seq.fps == 30.0 and seq.joints.shape[1:] == (1, 25, 3)
    assert 0.3 < _torso(seq) < 0.6
    assert _right_minus_left_shoulder_x(seq) > 0.1
    labels = read_utkinect_labels(root / "actionLabel.txt")
    assert len(labels) == 20
    classes = {c for segs in labels.values() for c, _, _ in segs}
    assert classes == {"walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands", "clapHands"}
    assert 190 <= sum(len(s) for s in labels.values()) <= 200
    assert all(a <= b for segs in labels.values() for _, a, b in segs)
    lines = f.read_text().splitlines()
    bad = tmp_path / "joints_s01_e01.txt"
    bad.write_text("\n".join(lines[:5] + [lines[5][: len(lines[5]) // 2]]) + "\n")
    with pytest.raises(SkeletonFormatError) as err:
        load_sequence(bad)
    assert ":6:" in str(err.value) and "\n" not in str(err.value)


def test_msr_action3d_right_arm_wave(kinect_v1, tmp_path):
    root = kinect_v1 / "MSRAction3D" / "real_world_coordinates"
    f = root / "a01_s01_e01_skeleton3D.txt"                  # high arm wave, right arm
    assert detect_format(f) == "msr"
    seq = read_msr_action3d(f)
    assert seq.fps == 15.0 and seq.meta["action_id"] == 1 and seq.meta["subject"] == 1
    assert 0.35 < _torso(seq) < 0.6
    assert _right_minus_left_shoulder_x(seq) > 0.1
    motion = seq.joints[:, 0].std(axis=0).sum(-1)           # (25,)
    assert int(np.argmax(motion[[6, 7, 10, 11]])) in (2, 3)  # the right wrist/hand moves most
    lines = f.read_text().splitlines()
    bad = tmp_path / "a01_s01_e01_skeleton3D.txt"
    bad.write_text("\n".join(lines[:-3]) + "\n")
    with pytest.raises(SkeletonFormatError) as err:
        load_sequence(bad)
    assert "multiple of 20" in str(err.value) and "\n" not in str(err.value)


def test_existing_pku_txt_still_detected(pku_dir):
    f = pku_dir / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"
    assert detect_format(f) == "pku"
