"""Joint layouts (names, bones) and the mappings from other layouts to NTU-25.

Axes. Everything skelzs feeds its encoders is in **Kinect v2 camera space**: x grows to the
sensor's left, y up, z away from the sensor, metres. (For a person facing the sensor, their
left shoulder therefore has a *smaller* x than their right shoulder.)

* MediaPipe world landmarks: metres, origin at the hip midpoint, x to the image right, y down,
  z away from the camera. Kinect = rotate 180 degrees about z: ``(x, y, z) -> (-x, -y, z)``;
  a proper rotation, so left and right are not swapped.
* Azure Kinect body tracking: millimetres, depth-camera space, x right, y down, z forward.
  Kinect v2 = ``(-x, -y, z) / 1000``.

Joints a source lacks are synthesized from neighbours (see each mapping's docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "JointLayout",
    "NTU25",
    "MEDIAPIPE33",
    "AZURE_KINECT32",
    "LAYOUTS",
    "mediapipe33_to_ntu25",
    "azure32_to_ntu25",
    "to_ntu25",
    "bone_lengths",
]


@dataclass(frozen=True)
class JointLayout:
    """A named joint set: ``bones`` are ``(child, parent)`` pairs of 0-based joint indices."""

    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    center: int

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        return self.joints.index(joint)


# Kinect v2 order (NTU RGB+D README; papers.md D.2), 0-based.
NTU25 = JointLayout(
    name="ntu25",
    joints=(
        "SpineBase", "SpineMid", "Neck", "Head",
        "ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft",
        "ShoulderRight", "ElbowRight", "WristRight", "HandRight",
        "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft",
        "HipRight", "KneeRight", "AnkleRight", "FootRight",
        "SpineShoulder", "HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight",
    ),
    # The standard ST-GCN "inward" edges (1-based in papers.md D.2), here 0-based.
    bones=(
        (0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6),
        (8, 20), (9, 8), (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14),
        (16, 0), (17, 16), (18, 17), (19, 18), (21, 22), (22, 7), (23, 24), (24, 11),
    ),
    center=20,
)

MEDIAPIPE33 = JointLayout(
    name="mediapipe33",
    joints=(
        "nose", "left_eye_inner", "left_eye", "left_eye_outer",
        "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
        "mouth_left", "mouth_right", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
        "left_heel", "right_heel", "left_foot_index", "right_foot_index",
    ),
    bones=(
        (1, 0), (2, 1), (3, 2), (7, 3), (4, 0), (5, 4), (6, 5), (8, 6), (10, 9),
        (12, 11), (13, 11), (15, 13), (17, 15), (19, 15), (21, 15), (19, 17),
        (14, 12), (16, 14), (18, 16), (20, 16), (22, 16), (20, 18),
        (23, 11), (24, 12), (24, 23), (25, 23), (27, 25), (29, 27), (31, 27), (31, 29),
        (26, 24), (28, 26), (30, 28), (32, 28), (32, 30),
    ),
    center=0,
)

# Azure Kinect Body Tracking SDK joint order (k4abt_joint_id_t).
AZURE_KINECT32 = JointLayout(
    name="azure32",
    joints=(
        "PELVIS", "SPINE_NAVEL", "SPINE_CHEST", "NECK",
        "CLAVICLE_LEFT", "SHOULDER_LEFT", "ELBOW_LEFT", "WRIST_LEFT", "HAND_LEFT", "HANDTIP_LEFT", "THUMB_LEFT",
        "CLAVICLE_RIGHT", "SHOULDER_RIGHT", "ELBOW_RIGHT", "WRIST_RIGHT", "HAND_RIGHT", "HANDTIP_RIGHT", "THUMB_RIGHT",
        "HIP_LEFT", "KNEE_LEFT", "ANKLE_LEFT", "FOOT_LEFT",
        "HIP_RIGHT", "KNEE_RIGHT", "ANKLE_RIGHT", "FOOT_RIGHT",
        "HEAD", "NOSE", "EYE_LEFT", "EAR_LEFT", "EYE_RIGHT", "EAR_RIGHT",
    ),
    bones=(
        (1, 0), (2, 1), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 7), (9, 8), (10, 7),
        (11, 2), (12, 11), (13, 12), (14, 13), (15, 14), (16, 15), (17, 14),
        (18, 0), (19, 18), (20, 19), (21, 20), (22, 0), (23, 22), (24, 23), (25, 24),
        (26, 3), (27, 26), (28, 26), (29, 26), (30, 26), (31, 26),
    ),
    center=0,
)

LAYOUTS: dict[str, JointLayout] = {lay.name: lay for lay in (NTU25, MEDIAPIPE33, AZURE_KINECT32)}


def _mid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 0.5 * (a + b)


def _lerp(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    return a + w * (b - a)


def mediapipe33_to_ntu25(
    world: np.ndarray, visibility: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Map MediaPipe world landmarks ``(..., 33, 3)`` to NTU-25 in Kinect axes.

    Returns ``(joints (..., 25, 3), confidence (..., 25))``. Synthesized joints:
    SpineBase = hip midpoint; SpineShoulder = shoulder midpoint; SpineMid = their midpoint;
    Neck = 40 % of the way from SpineShoulder to the ear midpoint; Head = ear midpoint;
    Hand = mean of index and pinky knuckles; HandTip = index; Thumb = thumb; Foot = foot index.
    A synthesized joint's confidence is the minimum of its sources' visibilities.
    """
    w = np.asarray(world, dtype=np.float32)
    if w.shape[-2:] != (33, 3):
        raise ValueError(f"expected (..., 33, 3) MediaPipe landmarks, got {w.shape}")
    vis = np.ones(w.shape[:-1], np.float32) if visibility is None else np.asarray(visibility, np.float32)
    # Kinect axes: rotate 180 degrees about z.
    p = w * np.array([-1.0, -1.0, 1.0], np.float32)
    j = lambda i: p[..., i, :]  # noqa: E731 - local shorthand
    v = lambda *ids: np.min(np.stack([vis[..., i] for i in ids], -1), -1)  # noqa: E731

    hip_mid = _mid(j(23), j(24))
    sh_mid = _mid(j(11), j(12))
    ear_mid = _mid(j(7), j(8))
    out = np.empty(w.shape[:-2] + (25, 3), np.float32)
    conf = np.empty(w.shape[:-2] + (25,), np.float32)
    spec: list[tuple[np.ndarray, np.ndarray]] = [
        (hip_mid, v(23, 24)),                               # 0 SpineBase
        (_mid(hip_mid, sh_mid), v(11, 12, 23, 24)),         # 1 SpineMid
        (_lerp(sh_mid, ear_mid, 0.4), v(7, 8, 11, 12)),     # 2 Neck
        (ear_mid, v(7, 8)),                                 # 3 Head
        (j(11), v(11)), (j(13), v(13)), (j(15), v(15)),     # 4-6 left shoulder, elbow, wrist
        (_mid(j(17), j(19)), v(17, 19)),                    # 7 HandLeft
        (j(12), v(12)), (j(14), v(14)), (j(16), v(16)),     # 8-10 right shoulder, elbow, wrist
        (_mid(j(18), j(20)), v(18, 20)),                    # 11 HandRight
        (j(23), v(23)), (j(25), v(25)), (j(27), v(27)), (j(31), v(31)),  # 12-15 left leg
        (j(24), v(24)), (j(26), v(26)), (j(28), v(28)), (j(32), v(32)),  # 16-19 right leg
        (sh_mid, v(11, 12)),                                # 20 SpineShoulder
        (j(19), v(19)), (j(21), v(21)),                     # 21 HandTipLeft, 22 ThumbLeft
        (j(20), v(20)), (j(22), v(22)),                     # 23 HandTipRight, 24 ThumbRight
    ]
    for k, (pos, c) in enumerate(spec):
        out[..., k, :] = pos
        conf[..., k] = c
    return out, conf


def azure32_to_ntu25(
    joints_mm: np.ndarray, confidence: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Map Azure Kinect body-tracking joints ``(..., 32, 3)`` in millimetres to NTU-25 metres.

    SpineMid = SPINE_NAVEL; SpineShoulder = midpoint of SPINE_CHEST and NECK (Kinect v2's
    spine-shoulder sits between the two); every other NTU joint has a direct counterpart.
    ``confidence`` is per joint in [0, 1] (e.g. k4abt confidence level / 2).
    """
    a = np.asarray(joints_mm, dtype=np.float32)
    if a.shape[-2:] != (32, 3):
        raise ValueError(f"expected (..., 32, 3) Azure Kinect joints, got {a.shape}")
    c = np.ones(a.shape[:-1], np.float32) if confidence is None else np.asarray(confidence, np.float32)
    p = a * np.array([-1e-3, -1e-3, 1e-3], np.float32)
    direct = {0: 0, 1: 1, 2: 3, 3: 26, 4: 5, 5: 6, 6: 7, 7: 8, 8: 12, 9: 13, 10: 14, 11: 15,
              12: 18, 13: 19, 14: 20, 15: 21, 16: 22, 17: 23, 18: 24, 19: 25,
              21: 9, 22: 10, 23: 16, 24: 17}
    out = np.empty(a.shape[:-2] + (25, 3), np.float32)
    conf = np.empty(a.shape[:-2] + (25,), np.float32)
    for ntu, az in direct.items():
        out[..., ntu, :] = p[..., az, :]
        conf[..., ntu] = c[..., az]
    out[..., 20, :] = _mid(p[..., 2, :], p[..., 3, :])
    conf[..., 20] = np.minimum(c[..., 2], c[..., 3])
    return out, conf


def to_ntu25(joints: np.ndarray, layout: str, confidence: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Map ``(..., V, 3)`` joints of any known layout to NTU-25 Kinect space."""
    if layout == "ntu25":
        j = np.asarray(joints, np.float32)
        c = np.ones(j.shape[:-1], np.float32) if confidence is None else np.asarray(confidence, np.float32)
        return j, c
    if layout == "mediapipe33":
        return mediapipe33_to_ntu25(joints, confidence)
    if layout == "azure32":
        return azure32_to_ntu25(joints, confidence)
    raise ValueError(f"no mapping from layout {layout!r} to ntu25")


def bone_lengths(joints: np.ndarray, layout: JointLayout = NTU25) -> np.ndarray:
    """Euclidean length of every bone of ``layout``: ``(..., V, 3) -> (..., num_bones)``."""
    j = np.asarray(joints, np.float32)
    child = np.array([b[0] for b in layout.bones])
    parent = np.array([b[1] for b in layout.bones])
    return np.linalg.norm(j[..., child, :] - j[..., parent, :], axis=-1)
