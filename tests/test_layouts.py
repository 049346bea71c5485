"""Geometry of the joint layouts and of the MediaPipe-33 / Azure-Kinect-32 -> NTU-25 mappings."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream.formats import load_sequence
from skelzs.stream.layouts import (AZURE_KINECT32, LAYOUTS, MEDIAPIPE33, NTU25, azure32_to_ntu25, bone_lengths,
                                   mediapipe33_to_ntu25, to_ntu25)

N = NTU25.index


def test_layout_tables():
    assert (NTU25.num_joints, MEDIAPIPE33.num_joints, AZURE_KINECT32.num_joints) == (25, 33, 32)
    for lay in LAYOUTS.values():
        assert len(set(lay.joints)) == lay.num_joints
        for child, parent in lay.bones:
            assert 0 <= child < lay.num_joints and 0 <= parent < lay.num_joints and child != parent
    # NTU-25 bones form a tree rooted at SpineShoulder (ST-GCN centre joint 21)
    assert len(NTU25.bones) == 24 and NTU25.center == N("SpineShoulder")
    assert len({c for c, _ in NTU25.bones}) == 24


@pytest.fixture(scope="module")
def ntu_bodies(ntu_dir):
    """Tracked single bodies from every real NTU file (frames x 25 x 3)."""
    out = []
    for p in sorted(ntu_dir.glob("*.skeleton")):
        seq = load_sequence(p)
        m = 0
        tracked = seq.confidence[:, m].min(axis=1) > 0
        out.append(seq.joints[tracked, m])
    return out


def test_ntu_bone_lengths_plausible(ntu_bodies):
    bones = np.concatenate([bone_lengths(b) for b in ntu_bodies])
    med = np.median(bones, axis=0)
    assert np.all(med > 0.02) and np.all(med < 0.5), med
    names = [f"{NTU25.joints[c]}-{NTU25.joints[p]}" for c, p in NTU25.bones]
    upper_arm = [med[names.index("ElbowLeft-ShoulderLeft")], med[names.index("ElbowRight-ShoulderRight")]]
    thigh = [med[names.index("KneeLeft-HipLeft")], med[names.index("KneeRight-HipRight")]]
    assert all(0.18 < v < 0.40 for v in upper_arm) and all(0.25 < v < 0.55 for v in thigh)
    # left and right limbs are alike
    assert abs(upper_arm[0] - upper_arm[1]) < 0.05 and abs(thigh[0] - thigh[1]) < 0.08


def test_ntu_axes_and_sides(ntu_bodies):
    """Kinect v2 camera space: y up, z away from the sensor, a person's left shoulder at smaller x."""
    for j in ntu_bodies[:6]:  # S001 camera 1: performers face the sensor
        assert np.median(j[:, N("ShoulderLeft"), 0] - j[:, N("ShoulderRight"), 0]) < 0
        assert np.median(j[:, N("HipLeft"), 0] - j[:, N("HipRight"), 0]) < 0
        assert np.median(j[:, N("Head"), 1] - j[:, N("SpineBase"), 1]) > 0.4
        assert np.median(j[:, N("FootLeft"), 1]) < np.median(j[:, N("KneeLeft"), 1])
        assert np.all(j[:, :, 2] > 0.5)  # in front of the sensor


def _mediapipe_person() -> np.ndarray:
    """A standing person facing the camera in MediaPipe world axes (x image-right, y down, z away)."""
    p = {
        "nose": (0, -0.62, -0.08), "left_eye_inner": (0.015, -0.66, -0.07), "left_eye": (0.03, -0.66, -0.07),
        "left_eye_outer": (0.045, -0.66, -0.07), "right_eye_inner": (-0.015, -0.66, -0.07),
        "right_eye": (-0.03, -0.66, -0.07), "right_eye_outer": (-0.045, -0.66, -0.07),
        "left_ear": (0.075, -0.64, 0.0), "right_ear": (-0.075, -0.64, 0.0),
        "mouth_left": (0.02, -0.58, -0.07), "mouth_right": (-0.02, -0.58, -0.07),
        "left_shoulder": (0.18, -0.45, 0.0), "right_shoulder": (-0.18, -0.45, 0.0),
        "left_elbow": (0.22, -0.18, 0.0), "right_elbow": (-0.22, -0.18, 0.0),
        "left_wrist": (0.24, 0.06, -0.02), "right_wrist": (-0.24, 0.06, -0.02),
        "left_pinky": (0.25, 0.13, -0.02), "right_pinky": (-0.25, 0.13, -0.02),
        "left_index": (0.23, 0.15, -0.03), "right_index": (-0.23, 0.15, -0.03),
        "left_thumb": (0.21, 0.11, -0.05), "right_thumb": (-0.21, 0.11, -0.05),
        "left_hip": (0.1, 0.0, 0.0), "right_hip": (-0.1, 0.0, 0.0),
        "left_knee": (0.11, 0.42, 0.0), "right_knee": (-0.11, 0.42, 0.0),
        "left_ankle": (0.11, 0.82, 0.02), "right_ankle": (-0.11, 0.82, 0.02),
        "left_heel": (0.11, 0.86, 0.06), "right_heel": (-0.11, 0.86, 0.06),
        "left_foot_index": (0.12, 0.88, -0.08), "right_foot_index": (-0.12, 0.88, -0.08),
    }
    return np.array([p[name] for name in MEDIAPIPE33.joints], np.float32)


def _between(mid, a, b, tol=1e-5) -> bool:
    """``mid`` lies on the segment a-b."""
    ab, am = b - a, mid - a
    t = float(np.dot(am, ab) / np.dot(ab, ab))
    return 0 <= t <= 1 and np.linalg.norm(am - t * ab) < tol


def _check_ntu_person(j: np.ndarray) -> None:
    assert j[N("ShoulderLeft"), 0] < j[N("ShoulderRight"), 0]         # left/right not swapped
    assert j[N("HandLeft"), 0] < j[N("HandRight"), 0]
    assert j[N("HipLeft"), 0] < j[N("HipRight"), 0]
    assert j[N("Head"), 1] > j[N("Neck"), 1] > j[N("SpineShoulder"), 1] > j[N("SpineMid"), 1] > j[N("SpineBase"), 1]
    assert j[N("FootLeft"), 1] < j[N("KneeLeft"), 1] < j[N("HipLeft"), 1]
    bl = bone_lengths(j)
    assert np.all(bl > 0.01) and np.all(bl < 0.6), bl


def test_mediapipe_mapping():
    mp = _mediapipe_person()
    j, conf = mediapipe33_to_ntu25(mp)
    assert j.shape == (25, 3) and conf.shape == (25,)
    _check_ntu_person(j)
    M = MEDIAPIPE33.index
    # axis conversion: a 180-degree rotation about z
    np.testing.assert_allclose(j[N("ElbowLeft")], mp[M("left_elbow")] * [-1, -1, 1])
    np.testing.assert_allclose(j[N("KneeRight")], mp[M("right_knee")] * [-1, -1, 1])
    # synthesized joints between their neighbours
    assert _between(j[N("SpineShoulder")], j[N("ShoulderLeft")], j[N("ShoulderRight")])
    assert _between(j[N("SpineBase")], j[N("HipLeft")], j[N("HipRight")])
    assert _between(j[N("SpineMid")], j[N("SpineBase")], j[N("SpineShoulder")])
    assert _between(j[N("Neck")], j[N("SpineShoulder")], j[N("Head")])
    left_pinky, left_index = mp[M("left_pinky")] * [-1, -1, 1], mp[M("left_index")] * [-1, -1, 1]
    assert _between(j[N("HandLeft")], left_pinky, left_index)
    # a proper rotation keeps handedness: (right - left shoulder) x (head - spine) keeps its sign
    def handedness(a, b, c, d):
        return np.sign(np.dot(np.cross(b - a, d - c), [0, 0, 1]))
    assert handedness(j[N("ShoulderLeft")], j[N("ShoulderRight")], j[N("SpineBase")], j[N("Head")]) == handedness(
        mp[M("left_shoulder")], mp[M("right_shoulder")], (mp[M("left_hip")] + mp[M("right_hip")]) / 2,
        (mp[M("left_ear")] + mp[M("right_ear")]) / 2)
    # confidence of synthesized joints = minimum of the sources
    vis = np.ones(33, np.float32)
    vis[M("left_hip")] = 0.3
    _, conf = mediapipe33_to_ntu25(mp, vis)
    assert conf[N("SpineBase")] == pytest.approx(0.3) and conf[N("HipLeft")] == pytest.approx(0.3)
    assert conf[N("HipRight")] == 1.0


def test_mediapipe_batched_and_dispatch():
    mp = np.stack([_mediapipe_person()] * 4).reshape(2, 2, 33, 3)
    j, conf = to_ntu25(mp, "mediapipe33")
    assert j.shape == (2, 2, 25, 3) and conf.shape == (2, 2, 25)
    with pytest.raises(ValueError):
        mediapipe33_to_ntu25(np.zeros((33, 2)))


def _azure_person() -> np.ndarray:
    """The MediaPipe person above as Azure Kinect joints: mm, x right, y down, z forward, 2 m away."""
    mp = _mediapipe_person()
    M = MEDIAPIPE33.index
    g = lambda n: mp[M(n)]  # noqa: E731
    mid = lambda a, b: (g(a) + g(b)) / 2  # noqa: E731
    pelvis = mid("left_hip", "right_hip")
    chest_top = mid("left_shoulder", "right_shoulder")
    a = {
        "PELVIS": pelvis, "SPINE_NAVEL": pelvis + 0.45 * (chest_top - pelvis),
        "SPINE_CHEST": pelvis + 0.85 * (chest_top - pelvis), "NECK": chest_top + (0, -0.08, 0),
        "CLAVICLE_LEFT": chest_top + (0.06, 0, 0), "SHOULDER_LEFT": g("left_shoulder"),
        "ELBOW_LEFT": g("left_elbow"), "WRIST_LEFT": g("left_wrist"), "HAND_LEFT": mid("left_pinky", "left_index"),
        "HANDTIP_LEFT": g("left_index"), "THUMB_LEFT": g("left_thumb"),
        "CLAVICLE_RIGHT": chest_top + (-0.06, 0, 0), "SHOULDER_RIGHT": g("right_shoulder"),
        "ELBOW_RIGHT": g("right_elbow"), "WRIST_RIGHT": g("right_wrist"),
        "HAND_RIGHT": mid("right_pinky", "right_index"), "HANDTIP_RIGHT": g("right_index"),
        "THUMB_RIGHT": g("right_thumb"),
        "HIP_LEFT": g("left_hip"), "KNEE_LEFT": g("left_knee"), "ANKLE_LEFT": g("left_ankle"),
        "FOOT_LEFT": g("left_foot_index"), "HIP_RIGHT": g("right_hip"), "KNEE_RIGHT": g("right_knee"),
        "ANKLE_RIGHT": g("right_ankle"), "FOOT_RIGHT": g("right_foot_index"),
        "HEAD": mid("left_ear", "right_ear"), "NOSE": g("nose"), "EYE_LEFT": g("left_eye"),
        "EAR_LEFT": g("left_ear"), "EYE_RIGHT": g("right_eye"), "EAR_RIGHT": g("right_ear"),
    }
    return (np.array([a[n] for n in AZURE_KINECT32.joints], np.float32) + (0, 0, 2.0)) * 1000.0


def test_azure_mapping():
    az = _azure_person()
    j, conf = azure32_to_ntu25(az)
    _check_ntu_person(j)
    A = AZURE_KINECT32.index
    np.testing.assert_allclose(j[N("WristRight")], az[A("WRIST_RIGHT")] * [-1e-3, -1e-3, 1e-3], rtol=1e-6)
    np.testing.assert_allclose(j[N("SpineBase"), 2], 2.0, atol=1e-6)   # metres, z forward
    assert _between(j[N("SpineShoulder")], az[A("SPINE_CHEST")] * [-1e-3, -1e-3, 1e-3],
                    az[A("NECK")] * [-1e-3, -1e-3, 1e-3])
    # same person through both mappings: same NTU skeleton up to the synthesized joints
    mp_j, _ = mediapipe33_to_ntu25(_mediapipe_person())
    direct = [N(n) for n in ("ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft", "ShoulderRight", "KneeLeft",
                             "AnkleRight", "FootLeft", "HipRight", "SpineBase", "HandTipLeft", "ThumbRight")]
    np.testing.assert_allclose(j[direct] - [0, 0, 2.0], mp_j[direct], atol=1e-5)
    c = np.full(32, 0.5, np.float32)
    c[A("NECK")] = 0.0
    _, conf = azure32_to_ntu25(az, c)
    assert conf[N("Neck")] == 0.0 and conf[N("SpineShoulder")] == 0.0 and conf[N("Head")] == 0.5
