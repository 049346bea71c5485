"""Joint layouts (names, bones) and the mappings from other layouts to NTU-25.

Axes. Everything skelzs feeds its encoders is in **Kinect v2 camera space**: x grows to the
sensor's left, y up, z away from the sensor, metres. (For a person facing the sensor, their
left shoulder therefore has a *smaller* x than their right shoulder.)

* MediaPipe world landmarks: metres, origin at the hip midpoint, x to the image right, y down,
  z away from the camera. Kinect = rotate 180 degrees about z: ``(x, y, z) -> (-x, -y, z)``;
  a proper rotation, so left and right are not swapped.
* Azure Kinect body tracking: millimetres, depth-camera space, x right, y down, z forward.
  Kinect v2 = ``(-x, -y, z) / 1000``.
* Kinect v1 (UTKinect-Action3D, MSR Action3D ``real_world_coordinates``): already metres in
  Kinect v2's axes (checked on the data: the right shoulder has the larger x on average in 564 of
  the 566 MSR files holding a body and in all 20 UTKinect files; the arm of MSR's one-arm
  actions, done with the right arm, lies on the larger-x side); only the joint set differs
  (:func:`kinect_v1_to_ntu25`).

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
    "KINECT_V1_SDK",
    "MSR_ACTION3D",
    "LAYOUTS",
    "mediapipe33_to_ntu25",
    "azure32_to_ntu25",
    "kinect_v1_to_ntu25",
    "msr_action3d_to_ntu25",
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

# Kinect for Windows SDK v1 ``NUI_SKELETON_POSITION_INDEX`` order (UTKinect-Action3D files).
KINECT_V1_SDK = JointLayout(
    name="kinect_v1_sdk",
    joints=(
        "HipCenter", "Spine", "ShoulderCenter", "Head",
        "ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft",
        "ShoulderRight", "ElbowRight", "WristRight", "HandRight",
        "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft",
        "HipRight", "KneeRight", "AnkleRight", "FootRight",
    ),
    bones=(
        (1, 0), (2, 1), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 2), (9, 8), (10, 9), (11, 10),
        (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18),
    ),
    center=2,
)

# MSR Action3D row order (``aXX_sYY_eZZ_skeleton3D.txt``, 20 rows per frame), named as in
# KINECT_V1_SDK. Sides verified on the data (see the module docstring): of each left/right pair the
# first row is the subject's left.
_MSR_NAMES = (
    "ShoulderLeft", "ShoulderRight", "ShoulderCenter", "Spine", "HipLeft", "HipRight", "HipCenter",
    "ElbowLeft", "ElbowRight", "WristLeft", "WristRight", "HandLeft", "HandRight",
    "KneeLeft", "KneeRight", "AnkleLeft", "AnkleRight", "FootLeft", "FootRight", "Head",
)
MSR_ACTION3D = JointLayout(
    name="msr_action3d",
    joints=_MSR_NAMES,
    bones=tuple((_MSR_NAMES.index(KINECT_V1_SDK.joints[c]), _MSR_NAMES.index(KINECT_V1_SDK.joints[p]))
                for c, p in KINECT_V1_SDK.bones),
    center=_MSR_NAMES.index("ShoulderCenter"),
)
#: ``msr_rows[MSR_TO_SDK]`` is in KINECT_V1_SDK order
MSR_TO_SDK = np.array([_MSR_NAMES.index(n) for n in KINECT_V1_SDK.joints])

LAYOUTS: dict[str, JointLayout] = {
    lay.name: lay for lay in (NTU25, MEDIAPIPE33, AZURE_KINECT32, KINECT_V1_SDK, MSR_ACTION3D)
}


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


# Kinect v1 -> NTU-25 synthesis constants, from NTU/PKU-MMD Kinect v2 medians (PKU-MMD train
# sequences): SpineMid sits 58 % of the way up the torso; Neck 35 % of the way from SpineShoulder
# to Head; HandTip is as far beyond the hand as the hand is beyond the wrist (0.072 vs 0.068 m);
# the thumb is 0.7 of that (0.047 m), along the same line (Kinect v1 has no hand orientation).
SPINE_MID_FRACTION = 0.58
NECK_FRACTION = 0.35
HAND_TIP_EXTENT = 1.0
THUMB_EXTENT = 0.7

# NTU-25 joints copied from a Kinect v1 SDK joint
_V1_DIRECT = {0: 0, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10, 11: 11, 12: 12, 13: 13, 14: 14,
              15: 15, 16: 16, 17: 17, 18: 18, 19: 19, 20: 2}


def _along_chain(a: np.ndarray, b: np.ndarray, c: np.ndarray, frac: float) -> np.ndarray:
    """The point ``frac`` of the arc length along the polyline a -> b -> c (vectorised)."""
    ab = np.linalg.norm(b - a, axis=-1, keepdims=True)
    bc = np.linalg.norm(c - b, axis=-1, keepdims=True)
    s = frac * (ab + bc)
    lower = a + (b - a) * np.divide(s, ab, out=np.zeros_like(s), where=ab > 0)
    upper = b + (c - b) * np.divide(s - ab, bc, out=np.zeros_like(s), where=bc > 0)
    return np.where(s <= ab, lower, upper)


def kinect_v1_to_ntu25(joints: np.ndarray, confidence: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Map Kinect v1 joints ``(..., 20, 3)`` in :data:`KINECT_V1_SDK` order (metres, Kinect
    axes) to NTU-25. Returns ``(joints (..., 25, 3), confidence (..., 25))``.

    Direct: SpineBase = HipCenter, SpineShoulder = ShoulderCenter, Head, shoulders, elbows, wrists,
    hands, hips, knees, ankles, feet. Synthesized (Kinect v1 lacks them, or places them
    differently): SpineMid = the point 58 % of the way along HipCenter -> Spine -> ShoulderCenter
    (Kinect v1's Spine sits only 17 % up the torso in UTKinect, 48 % in MSR; Kinect v2's SpineMid
    58 %); Neck = 35 % of the way from ShoulderCenter to Head; HandTip = hand + (hand - wrist);
    Thumb = hand + 0.7 (hand - wrist). A synthesized joint's confidence is the minimum of its
    sources'.
    """
    j = np.asarray(joints, np.float32)
    if j.shape[-2:] != (20, 3):
        raise ValueError(f"expected (..., 20, 3) Kinect v1 joints, got {j.shape}")
    c = np.ones(j.shape[:-1], np.float32) if confidence is None else np.asarray(confidence, np.float32)
    out = np.empty(j.shape[:-2] + (25, 3), np.float32)
    conf = np.empty(j.shape[:-2] + (25,), np.float32)
    for ntu, v1 in _V1_DIRECT.items():
        out[..., ntu, :] = j[..., v1, :]
        conf[..., ntu] = c[..., v1]
    out[..., 1, :] = _along_chain(j[..., 0, :], j[..., 1, :], j[..., 2, :], SPINE_MID_FRACTION)
    conf[..., 1] = np.minimum(np.minimum(c[..., 0], c[..., 1]), c[..., 2])
    out[..., 2, :] = _lerp(j[..., 2, :], j[..., 3, :], NECK_FRACTION)
    conf[..., 2] = np.minimum(c[..., 2], c[..., 3])
    for tip, thumb, hand, wrist in ((21, 22, 7, 6), (23, 24, 11, 10)):
        step = j[..., hand, :] - j[..., wrist, :]
        out[..., tip, :] = j[..., hand, :] + HAND_TIP_EXTENT * step
        out[..., thumb, :] = j[..., hand, :] + THUMB_EXTENT * step
        conf[..., tip] = conf[..., thumb] = np.minimum(c[..., hand], c[..., wrist])
    # a missing body (all zeros) stays all zeros
    absent = ~np.any(j != 0, axis=(-2, -1))
    out[absent] = 0.0
    return out, conf


def msr_action3d_to_ntu25(joints: np.ndarray, confidence: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Map MSR Action3D rows ``(..., 20, 3)`` (:data:`MSR_ACTION3D` order) to NTU-25 via
    :func:`kinect_v1_to_ntu25`."""
    j = np.asarray(joints, np.float32)
    if j.shape[-2:] != (20, 3):
        raise ValueError(f"expected (..., 20, 3) MSR Action3D joints, got {j.shape}")
    c = None if confidence is None else np.asarray(confidence, np.float32)[..., MSR_TO_SDK]
    return kinect_v1_to_ntu25(j[..., MSR_TO_SDK, :], c)


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
    if layout == "kinect_v1_sdk":
        return kinect_v1_to_ntu25(joints, confidence)
    if layout == "msr_action3d":
        return msr_action3d_to_ntu25(joints, confidence)
    raise ValueError(f"no mapping from layout {layout!r} to ntu25")


def bone_lengths(joints: np.ndarray, layout: JointLayout = NTU25) -> np.ndarray:
    """Euclidean length of every bone of ``layout``: ``(..., V, 3) -> (..., num_bones)``."""
    j = np.asarray(joints, np.float32)
    child = np.array([b[0] for b in layout.bones])
    parent = np.array([b[1] for b in layout.bones])
    return np.linalg.norm(j[..., child, :] - j[..., parent, :], axis=-1)
