"""A kinematic NTU-25 body: bone lengths from a parameterized body, forward kinematics from angles.

Body frame: X to the person's left, Y up, Z forward (the way the person faces), metres, origin
on the floor under the spine base. :func:`body_to_kinect` turns it into Kinect v2 camera space
(x to the sensor's left, y up, z away from the sensor) for a person facing the sensor.

Every bone ``parent -> child`` carries a rotation (the "bone rotation" convention): ``p_child =
p_parent + G_parent R_child offset_child`` and ``G_child = G_parent R_child``, so a rotation
turns its bone and everything below it. The rotations come from named degrees of freedom
(:data:`DOFS`, degrees), which is what the keyframes of :mod:`.actions` animate.

Reference bone lengths are medians measured on NTU RGB+D sample S001C001P001R001A001 (a
Kinect v2 skeleton) and scaled with body height; arms, legs, torso, shoulder and hip width scale
separately (:class:`BodyShape`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "DOFS",
    "DOF_INDEX",
    "MIRROR_SIGN",
    "MIRROR_PERM",
    "BodyShape",
    "rest_offsets",
    "forward_kinematics",
    "body_to_kinect",
    "solve_reach",
    "ANCHORS",
]

V = 25
# Kinematic parents (HandTip and Thumb hang off the hand, unlike the ST-GCN graph's edges).
PARENT = np.array([-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 7, 11, 11])
# Topological order for forward kinematics.
ORDER = (0, 1, 20, 2, 3, 4, 5, 6, 7, 21, 22, 8, 9, 10, 11, 23, 24, 12, 13, 14, 15, 16, 17, 18, 19)

# Degrees of freedom, degrees unless noted (tx, ty, tz, lift: metres).
#   root: world translation (tx lateral, tz forward), yaw (turn to the left), pitch (lean forward),
#         roll (lean to the left); lift raises the whole body off the floor (jumps)
#   spine: bend (forward), side (to the left), twist (to the left); split over two bones
#   head: nod (down), shake (turn to the left), tilt (ear to the left shoulder)
#   arms (l_/r_): shrug, sh_flex (raise forward), sh_abd (raise sideways, outward),
#         sh_rot (internal rotation), elbow (flexion), pron (forearm pronation), wrist (flexion)
#   legs (l_/r_): hip_flex (thigh forward), hip_abd (outward), knee (flexion), ankle (toes up)
_SIDE = ("shrug", "sh_flex", "sh_abd", "sh_rot", "elbow", "pron", "wrist", "hip_flex", "hip_abd", "knee", "ankle")
DOFS: tuple[str, ...] = (
    "tx", "ty", "tz", "lift", "yaw", "pitch", "roll",
    "bend", "side", "twist",
    "nod", "shake", "tilt",
    *(f"l_{n}" for n in _SIDE),
    *(f"r_{n}" for n in _SIDE),
)
DOF_INDEX = {n: i for i, n in enumerate(DOFS)}
# Mirroring a motion left <-> right: swap l_/r_ and negate the lateral DOFs.
_LATERAL = {"tx", "yaw", "roll", "side", "twist", "shake", "tilt"}
MIRROR_SIGN = np.array([-1.0 if n in _LATERAL else 1.0 for n in DOFS])
MIRROR_PERM = np.array([
    DOF_INDEX["r_" + n[2:]] if n.startswith("l_") else DOF_INDEX["l_" + n[2:]] if n.startswith("r_") else i
    for i, n in enumerate(DOFS)
])

# Reference offsets (body frame, person 1.70 m tall), child joint -> offset from its parent.
_REF = {
    1: (0.0, 0.27, -0.01), 20: (0.0, 0.20, -0.01), 2: (0.0, 0.07, 0.01), 3: (0.0, 0.12, 0.035),
    4: (0.16, -0.03, -0.01), 5: (0.0, -0.25, 0.0), 6: (0.0, -0.235, 0.0), 7: (0.0, -0.065, 0.0),
    21: (0.0, -0.06, 0.0), 22: (-0.015, -0.02, 0.04),
    12: (0.07, -0.015, 0.0), 13: (0.0, -0.35, 0.0), 14: (0.0, -0.345, 0.0), 15: (0.0, -0.05, 0.10),
}
_ARM = {5, 6, 7, 21, 22}
_LEG = {13, 14, 15}
_TORSO = {1, 20, 2, 3}
_MIRROR_OF = {4: 8, 5: 9, 6: 10, 7: 11, 21: 23, 22: 24, 12: 16, 13: 17, 14: 18, 15: 19}
FLOOR_TO_SPINE_BASE = 0.05 + 0.345 + 0.35 + 0.015  # ankle height + shin + thigh + hip drop


@dataclass(frozen=True)
class BodyShape:
    """Body size and proportions; every factor is relative to the 1.70 m reference body."""

    height: float = 1.70
    arm: float = 1.0
    leg: float = 1.0
    torso: float = 1.0
    shoulder_width: float = 1.0
    hip_width: float = 1.0

    @classmethod
    def sample(cls, rng: np.random.Generator) -> "BodyShape":
        """Adults and teenagers, 1.50-1.95 m, proportions within +-8 %."""
        p = rng.uniform(0.92, 1.08, 5)
        return cls(float(rng.uniform(1.50, 1.95)), *map(float, p))


def rest_offsets(shape: BodyShape) -> np.ndarray:
    """``(25, 3)`` offset of every joint from its kinematic parent in the rest pose (arms down)."""
    s = shape.height / 1.70
    off = np.zeros((V, 3))
    for j, o in _REF.items():
        o = np.array(o) * s
        if j in _ARM:
            o *= shape.arm
        elif j in _LEG:
            o *= shape.leg
        elif j in _TORSO:
            o *= shape.torso
        elif j == 4:
            o[0] *= shape.shoulder_width
        elif j == 12:
            o[0] *= shape.hip_width
        off[j] = o
        if j in _MIRROR_OF:
            off[_MIRROR_OF[j]] = o * np.array([-1.0, 1.0, 1.0])
    return off


# -- rotations (batched) -------------------------------------------------------------------
def _rx(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(a.shape + (3, 3))


def _ry(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(a.shape + (3, 3))


def _rz(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(a.shape + (3, 3))


def _bone_rotations(d: np.ndarray) -> dict[int, np.ndarray]:
    """Per-bone rotations ``(..., 3, 3)`` from DOF values ``(..., len(DOFS))`` in degrees."""
    r = np.deg2rad(d)
    g = lambda n: r[..., DOF_INDEX[n]]  # noqa: E731 - local shorthand
    rot: dict[int, np.ndarray] = {}
    # Root: turn, then lean forward, then lean sideways. Rx(+a) tips +Y towards +Z (forward).
    rot[0] = _ry(g("yaw")) @ _rx(g("pitch")) @ _rz(-g("roll"))
    half = lambda n: 0.5 * g(n)  # noqa: E731
    spine = _ry(half("twist")) @ _rx(half("bend")) @ _rz(-half("side"))
    rot[1] = spine
    rot[20] = spine
    rot[2] = _rx(half("nod"))
    rot[3] = _ry(g("shake")) @ _rx(half("nod")) @ _rz(-g("tilt"))
    for side, sign, (clav, upper, fore, hand, hip, thigh, shin, foot) in (
        ("l_", 1.0, (4, 5, 6, 7, 12, 13, 14, 15)),
        ("r_", -1.0, (8, 9, 10, 11, 16, 17, 18, 19)),
    ):
        rot[clav] = _rz(sign * g(side + "shrug"))
        # Raise forward (Rx(-a) tips -Y towards +Z), raise outward, rotate the arm inward.
        rot[upper] = _rz(sign * g(side + "sh_abd")) @ _rx(-g(side + "sh_flex")) @ _ry(-sign * g(side + "sh_rot"))
        rot[fore] = _rx(-g(side + "elbow")) @ _ry(-sign * g(side + "pron"))
        rot[hand] = _rx(-g(side + "wrist"))
        rot[thigh] = _rz(sign * g(side + "hip_abd")) @ _rx(-g(side + "hip_flex"))
        rot[shin] = _rx(g(side + "knee"))
        rot[foot] = _rx(-g(side + "ankle"))
    return rot


def forward_kinematics(dofs: np.ndarray, shape: BodyShape, *, ground: bool = True) -> np.ndarray:
    """Joint positions ``(..., 25, 3)`` in the body/world frame from DOF values ``(..., D)``.

    With ``ground``, every frame is shifted vertically so its lowest joint touches the floor
    (y = 0), then raised by ``lift``: standing, squatting, sitting on a chair-height support and
    lying on the floor all need no hand-set root height.
    """
    dofs = np.asarray(dofs, np.float64)
    lead = dofs.shape[:-1]
    off = rest_offsets(shape)
    rot = _bone_rotations(dofs)
    eye = np.broadcast_to(np.eye(3), lead + (3, 3))
    glob: dict[int, np.ndarray] = {}
    pos = np.zeros(lead + (V, 3))
    for j in ORDER:
        rj = rot.get(j, eye)
        if j == 0:
            glob[0] = rj
            continue
        gp = glob[PARENT[j]]
        gj = gp @ rj
        glob[j] = gj
        pos[..., j, :] = pos[..., PARENT[j], :] + gj @ off[j]
    # Translation: the spine base sits at its standing height, then the world offsets.
    pos[..., 1] += FLOOR_TO_SPINE_BASE * shape.height / 1.70 * shape.leg
    pos[..., 0] += dofs[..., [DOF_INDEX["tx"]]]
    pos[..., 1] += dofs[..., [DOF_INDEX["ty"]]]
    pos[..., 2] += dofs[..., [DOF_INDEX["tz"]]]
    if ground:
        pos[..., 1] -= pos[..., 1].min(-1, keepdims=True)
        pos[..., 1] += np.maximum(dofs[..., [DOF_INDEX["lift"]]], 0.0)
    return pos


def body_to_kinect(pos: np.ndarray, *, yaw_deg: float = 0.0, distance: float = 3.0, lateral: float = 0.0,
                   camera_height: float = 1.0, tilt_deg: float = 0.0) -> np.ndarray:
    """Body/world frame -> Kinect v2 camera space for a sensor the scene faces.

    The scene is turned by ``yaw_deg`` about the vertical, put ``distance`` metres in front of a
    sensor mounted ``camera_height`` above the floor and tilted down by ``tilt_deg``; body X
    (the person's left) becomes Kinect -x, body Z (towards the sensor) becomes Kinect -z.
    """
    p = np.asarray(pos, np.float64) @ _ry(np.deg2rad(np.float64(yaw_deg))).T
    cam = np.empty_like(p)
    cam[..., 0] = -p[..., 0] + lateral
    cam[..., 1] = p[..., 1] - camera_height
    cam[..., 2] = -p[..., 2] + distance
    # A sensor tilted down by t sees the scene rotated up by t about its x axis.
    return cam @ _rx(np.deg2rad(np.float64(-tilt_deg))).T


# -- reaching: arm angles that put a hand at a point ----------------------------------------
# Points on the reference body, in the frame of the spine shoulder (X left, Y up, Z forward).
ANCHORS: dict[str, tuple[float, float, float]] = {
    "mouth": (0.0, 0.15, 0.12),
    "face": (0.0, 0.20, 0.13),
    "forehead": (0.0, 0.27, 0.11),
    "eyes": (0.0, 0.22, 0.12),
    "top_of_head": (0.0, 0.34, 0.02),
    "side_of_head": (-0.11, 0.24, 0.02),
    "ear": (-0.10, 0.19, 0.0),
    "back_of_head": (0.0, 0.24, -0.11),
    "neck_back": (-0.02, 0.08, -0.08),
    "neck": (0.0, 0.06, 0.08),
    "chest": (0.0, -0.10, 0.13),
    "heart": (0.07, -0.10, 0.13),
    "stomach": (0.0, -0.30, 0.15),
    "lower_back": (-0.05, -0.38, -0.15),
    "front_of_chest": (0.0, -0.12, 0.30),
    "front_of_waist": (0.0, -0.38, 0.32),
    "front_of_face": (0.0, 0.20, 0.30),
    "waist_pocket": (-0.17, -0.50, 0.05),
}

_ARM_DOFS = ("sh_flex", "sh_abd", "sh_rot", "elbow")


def _hand_position(angles: np.ndarray, side: str) -> np.ndarray:
    """Hand joint ``(..., 3)`` of the reference body relative to the spine shoulder (arm chain only)."""
    r = np.deg2rad(angles)
    sign = 1.0 if side == "l_" else -1.0
    off = rest_offsets(BodyShape())
    sh, el, wr, ha = (4, 5, 6, 7) if side == "l_" else (8, 9, 10, 11)
    upper = _rz(sign * r[..., 1]) @ _rx(-r[..., 0]) @ _ry(-sign * r[..., 2])
    fore = upper @ _rx(-r[..., 3])
    return off[sh] + upper @ off[el] + fore @ (off[wr] + off[ha])


@lru_cache(maxsize=None)
def solve_reach(side: str, target: tuple[float, float, float], hint: tuple[float, ...] = (30.0, 20.0, 20.0, 60.0)
                ) -> dict[str, float]:
    """Arm angles (``sh_flex, sh_abd, sh_rot, elbow``) that put the hand at ``target``.

    ``target`` is for the right arm (``side="r_"``) in the spine-shoulder frame; the left arm
    gets the mirror point. Damped Gauss-Newton from ``hint`` with a small pull towards it, so
    the elbow takes a natural (hint-like) position; joint limits clamp every step.
    """
    tgt = np.array(target, np.float64)
    if side == "l_":
        tgt = tgt * np.array([-1.0, 1.0, 1.0])
    lo = np.array([-60.0, -20.0, -90.0, 0.0])
    hi = np.array([200.0, 180.0, 120.0, 155.0])
    x0 = np.array(hint, np.float64)
    x = x0.copy()
    eps = 0.5
    for _ in range(80):
        probes = np.vstack([x, x + np.eye(4) * eps])
        hp = _hand_position(probes, side)
        err = hp[0] - tgt
        jac = (hp[1:] - hp[0]).T / eps  # (3, 4)
        damp, pull = 2e-6, 2e-7
        a = jac.T @ jac + (damp + pull) * np.eye(4)
        b = -(jac.T @ err) - pull * (x - x0)
        step = np.clip(np.linalg.solve(a, b), -20.0, 20.0)
        x = np.clip(x + step, lo, hi)
        if np.linalg.norm(err) < 2e-3 and np.abs(step).max() < 0.05:
            break
    return {side + n: float(v) for n, v in zip(_ARM_DOFS, x)}
