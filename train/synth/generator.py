"""Samples of the motion library: per-sample variation, rendering to Kinect space, sensor noise.

:func:`generate_sample` turns one :class:`~.actions.Action` and a seed into a
:class:`~skelzs.stream.skeleton.SkeletonSequence` ``(T, 2, 25, 3)`` at 30 fps (the second slot is
empty for one-person actions). Everything random comes from ``numpy.random.default_rng(seed)``,
so a seed always gives the same sample. :func:`generate_recording` strings several actions into
one continuous recording with ground-truth segments.

Pipeline per sample: keyframe track (speed, timing jitter, amplitude, repetitions, left/right,
idle lead-in/out) -> eased DOF curves plus slow idle sway -> forward kinematics of a sampled body
-> scene placement (camera yaw, distance, height, tilt) -> Kinect-like joint noise, jitter bursts
on the extremities and held (dropped) frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from skelzs.stream.skeleton import SkeletonSequence
from skelzs.train.synth.actions import ACTIONS, REST, SIT, Action, Key, get_action
from skelzs.train.synth.body import (
    DOF_INDEX, DOFS, MIRROR_PERM, MIRROR_SIGN, BodyShape, body_to_kinect, forward_kinematics,
)

__all__ = ["Variation", "generate_sample", "generate_recording", "ActionTrack", "action_track", "FPS"]

FPS = 30.0
D = len(DOFS)
_ANGLE = np.array([n not in ("tx", "ty", "tz", "lift") for n in DOFS])
_EXTREMITIES = np.array([7, 11, 21, 22, 23, 24, 15, 19, 6, 10, 14, 18])
_TIPS = np.array([21, 22, 23, 24])
#: per-joint scale of the sensor noise (``_sensor_noise``), by ``Variation.noise_profile``:
#: ``legacy`` (x2.5 on wrists, hands, ankles and feet, x4 on hand tips), the library's noise since
#: it was written; ``kinect`` (x2.5 wrists, x3.5 hands, x4.5 tips; trunk, head and feet x1),
#: calibrated on real recordings (``Variation.kinect_noise``)
NOISE_SCALES: dict[str, np.ndarray] = {"legacy": np.ones(25), "kinect": np.ones(25)}
NOISE_SCALES["legacy"][_EXTREMITIES] = 2.5
NOISE_SCALES["legacy"][_TIPS] = 4.0
NOISE_SCALES["kinect"][[6, 10]] = 2.5
NOISE_SCALES["kinect"][[7, 11]] = 3.5
NOISE_SCALES["kinect"][_TIPS] = 4.5


@dataclass(frozen=True)
class Variation:
    """Ranges of the per-sample variation. :meth:`canonical` switches every one of them off."""

    speed: tuple[float, float] = (0.7, 1.5)
    timing_jitter: float = 0.15          # relative, per key
    amplitude: tuple[float, float] = (0.7, 1.2)  # of the repeated part, around its mean pose
    pose_jitter_deg: float = 5.0         # per key, on the DOFs the key sets
    mirror_prob: float = 0.5             # performed with the other hand / leg
    lead_in: tuple[float, float] = (0.2, 1.2)   # idle seconds before the action
    lead_out: tuple[float, float] = (0.2, 1.0)
    start_offset: float = 0.2            # drop up to this fraction of the lead-in + intro
    extra_reps: bool = True              # repetitions drawn from the action's range (else its minimum)
    sway_deg: float = 2.5                # slow idle sway of the body and arms
    random_body: bool = True
    camera_yaw: tuple[float, float] = (-50.0, 50.0)
    distance: tuple[float, float] = (2.4, 3.8)
    camera_height: tuple[float, float] = (0.7, 1.3)
    tilt: tuple[float, float] = (-2.0, 20.0)     # NTU RGB+D sensors look down ~15 deg, PKU-MMD ~3
    lateral: tuple[float, float] = (-0.4, 0.4)
    noise_m: tuple[float, float] = (0.003, 0.012)  # per-joint noise, metres (times NOISE_SCALES[noise_profile])
    noise_white: float = 0.5             # frame-wise part of the noise, beside the AR(1) wobble
    noise_profile: str = "legacy"
    jitter_prob: float = 0.4             # chance of jitter bursts on a sample
    drop_rate: tuple[float, float] = (0.0, 0.03)   # fraction of frames held (dropped by the sensor)
    seated_prob: float = 0.25            # upper-body actions performed sitting on a chair (as in many NTU clips)
    hold_prob: float = 0.0               # upper-body actions begun and ended with the hands held in front

    @classmethod
    def kinect_noise(cls, **overrides) -> "Variation":
        """The default variation with sensor noise calibrated on real Kinect recordings
        (``python -m skelzs.tools.sensor_noise``). At 15 fps the frame-to-frame residual median of
        PKU-MMD, UTKinect and MSR Action3D is 1.0-4.1 mm on the trunk and 7.0-19.4 mm on the
        hands; this gives 2.2 and 10.9 mm. The default (``legacy``) gives 6.5 and 25 mm, noisier
        than any of them."""
        return cls(**{"noise_m": (0.0015, 0.0055), "noise_white": 0.2, "jitter_prob": 0.6,
                      "noise_profile": "kinect", **overrides})

    @classmethod
    def canonical(cls) -> "Variation":
        """No randomness at all: reference body, speed 1, minimum reps, frontal camera, no noise."""
        return cls(speed=(1.0, 1.0), timing_jitter=0.0, amplitude=(1.0, 1.0), pose_jitter_deg=0.0,
                   mirror_prob=0.0, lead_in=(0.3, 0.3), lead_out=(0.3, 0.3), start_offset=0.0,
                   extra_reps=False, sway_deg=0.0, random_body=False, camera_yaw=(0.0, 0.0),
                   distance=(3.0, 3.0), camera_height=(1.0, 1.0), tilt=(0.0, 0.0), lateral=(0.0, 0.0),
                   noise_m=(0.0, 0.0), jitter_prob=0.0, drop_rate=(0.0, 0.0), seated_prob=0.0)


def _u(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    lo, hi = lo_hi
    return float(lo) if lo == hi else float(rng.uniform(lo, hi))


# -- keyframe tracks --------------------------------------------------------------------------
@dataclass
class ActionTrack:
    """DOF curves of one performance: ``dofs`` ``(T, D)`` (person 1) and ``partner`` or None."""

    dofs: np.ndarray
    partner: np.ndarray | None
    active: tuple[int, int]  # frames [start, end) in which the action itself happens
    distance: float
    mirrored: bool


def _ease(w: np.ndarray, kind: np.ndarray) -> np.ndarray:
    out = w.copy()
    inout = kind == 0
    out[inout] = w[inout] * w[inout] * (3 - 2 * w[inout])
    out[kind == 1] = w[kind == 1] ** 2
    out[kind == 2] = 1 - (1 - w[kind == 2]) ** 2
    return out


_EASE_CODE = {"inout": 0, "in": 1, "out": 2, "linear": 3}


def _keys_to_arrays(start: np.ndarray, keys: list[tuple[Key, dict | None]], rng: np.random.Generator,
                    var: Variation, cycle_mask: np.ndarray, amp: float, speed: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Key list -> (times (K+1,), values (K+1, D), ease codes (K+1,)), first row the start pose."""
    vals = [start.copy()]
    times = [0.0]
    eases = [0]
    cur = start.copy()
    for key, pose in keys:
        nxt = cur.copy()
        for name, v in (pose or {}).items():
            j = DOF_INDEX[name]
            jit = rng.normal(0.0, var.pose_jitter_deg) if (var.pose_jitter_deg and _ANGLE[j]) else 0.0
            nxt[j] = v + jit
        vals.append(nxt)
        cur = nxt
        dt = key.dt / speed
        if var.timing_jitter:
            dt *= float(rng.uniform(1 - var.timing_jitter, 1 + var.timing_jitter))
        times.append(times[-1] + max(dt, 1.0 / FPS))
        eases.append(_EASE_CODE[key.ease])
    v = np.array(vals)
    if cycle_mask.any() and amp != 1.0:
        center = v[cycle_mask].mean(0)
        v[cycle_mask] = center + amp * (v[cycle_mask] - center)
    return np.array(times), v, np.array(eases)


def _sample_curve(times: np.ndarray, vals: np.ndarray, eases: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Eased piecewise interpolation of keyframes at times ``t`` -> ``(len(t), D)``."""
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    span = np.maximum(times[k + 1] - times[k], 1e-9)
    w = np.clip((t - times[k]) / span, 0.0, 1.0)
    w = _ease(w, eases[k + 1])
    return vals[k] + w[:, None] * (vals[k + 1] - vals[k])


def _sway(rng: np.random.Generator, t: np.ndarray, deg: float) -> np.ndarray:
    """Slow random sway (sum of low-frequency sines) on the torso, head and arms, ``(T, D)``."""
    out = np.zeros((len(t), D))
    if not deg:
        return out
    for name, scale in (("pitch", 0.5), ("roll", 0.5), ("bend", 1.0), ("side", 0.6), ("nod", 1.5),
                        ("shake", 2.0), ("tilt", 1.0), ("l_sh_flex", 1.5), ("r_sh_flex", 1.5),
                        ("l_elbow", 2.0), ("r_elbow", 2.0), ("l_sh_abd", 1.0), ("r_sh_abd", 1.0)):
        f = rng.uniform(0.1, 0.6, 2)
        ph = rng.uniform(0, 2 * np.pi, 2)
        out[:, DOF_INDEX[name]] = deg * scale * 0.5 * (np.sin(2 * np.pi * f[0] * t + ph[0])
                                                       + np.sin(2 * np.pi * f[1] * t + ph[1]))
    out[:, DOF_INDEX["tx"]] = 0.01 * deg * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 6.3))
    return out


def _start_pose(pose: dict) -> np.ndarray:
    v = np.zeros(D)
    for name, val in {**REST, **pose}.items():
        v[DOF_INDEX[name]] = val
    return v


_LEG_DOFS = [DOF_INDEX[f"{s}_{n}"] for s in "lr" for n in ("hip_flex", "hip_abd", "knee", "ankle")]
_WHOLE_BODY = ("lift", "pitch", "roll", "yaw", "tx", "tz")


_ARM_DOFS = {side: [f"{side}_{n}" for n in ("sh_flex", "sh_abd", "sh_rot", "elbow", "pron", "wrist", "shrug")]
             for side in "lr"}
#: the idle arm of a person holding something (a cup, food, a book, a phone) in front of the belly
#: instead of letting the arms hang: trimmed action clips (NTU RGB+D) mostly begin and end so
HOLD_ARMS = {"l_sh_flex": 20.0, "l_sh_abd": 10.0, "l_elbow": 85.0,
             "r_sh_flex": 20.0, "r_sh_abd": 10.0, "r_elbow": 85.0}


def _holding(pose: dict) -> dict:
    """``pose`` with every arm that it puts at rest (all seven DOFs at REST) held in front instead."""
    out = dict(pose)
    for side, names in _ARM_DOFS.items():
        if all(n in pose and pose[n] == REST[n] for n in names):
            out.update({n: HOLD_ARMS.get(n, REST[n]) for n in names})
    return out


def seatable(action: Action) -> bool:
    """An upper-body action (no key moves the legs or the whole body): it can be done seated."""
    if action.persons != 1 or action.start or not action.can_sit:
        return False
    for key in action.intro + action.cycle + action.outro:
        for name, v in key.pose.items():
            if v and (DOF_INDEX[name] in _LEG_DOFS or name in _WHOLE_BODY):
                return False
    return True


def action_track(action: Action, rng: np.random.Generator, var: Variation = Variation(),
                 *, mirrored: bool | None = None) -> ActionTrack:
    """Sample one performance of ``action`` as DOF curves at 30 fps."""
    seated = bool(var.seated_prob) and seatable(action) and bool(rng.random() < var.seated_prob)
    speed = _u(rng, var.speed)
    amp = _u(rng, var.amplitude)
    lo, hi = action.reps
    reps = int(rng.integers(lo, hi + 1)) if var.extra_reps else lo
    if mirrored is None:
        mirrored = bool(rng.random() < var.mirror_prob)
    lead_in, lead_out = _u(rng, var.lead_in), _u(rng, var.lead_out)
    distance = _u(rng, action.distance) if var.extra_reps or action.distance[0] == action.distance[1] \
        else float(np.mean(action.distance))

    keys = list(action.intro) + list(action.cycle) * reps + list(action.outro)
    n_intro, n_cycle = len(action.intro), len(action.cycle) * reps
    cycle_mask = np.zeros(len(keys) + 1, bool)
    cycle_mask[1 + n_intro:1 + n_intro + n_cycle] = True

    def build(start: dict, poses: list[dict | None]):
        st = _start_pose(start)
        # One rng stream for person 1 and 2 would couple them; each gets its own child seed.
        sub = np.random.default_rng(rng.integers(2**63))
        return _keys_to_arrays(st, list(zip(keys, poses)), sub, var, cycle_mask, amp, speed)

    holding = bool(var.hold_prob) and seatable(action) and bool(rng.random() < var.hold_prob)
    if holding:
        t1, v1, e1 = build(_holding({**REST, **action.start}), [_holding(k.pose) for k in keys])
    else:
        t1, v1, e1 = build(action.start, [k.pose for k in keys])
    if seated:
        sit = _start_pose(SIT)
        v1[:, _LEG_DOFS] = sit[_LEG_DOFS]
    tracks = [(t1, v1, e1)]
    if action.persons == 2:
        t2, v2, e2 = build(action.partner_start or {}, [k.partner or {} for k in keys])
        tracks.append((t1, v2, e1))  # same clock: the two persons act together
    total = lead_in + t1[-1] + lead_out
    n = max(2, int(round(total * FPS)))
    t = np.arange(n) / FPS - lead_in
    curves = []
    for times, vals, eases in tracks:
        c = _sample_curve(times, vals, eases, t) + _sway(rng, np.arange(n) / FPS, var.sway_deg)
        if mirrored:
            c = c[:, MIRROR_PERM] * MIRROR_SIGN
        curves.append(c)
    active = (int(round(lead_in * FPS)), min(n, int(round((lead_in + t1[-1]) * FPS))))
    if var.start_offset:
        drop = int(rng.uniform(0, var.start_offset) * (active[0] + (t1[n_intro] if n_intro else 0) * FPS))
        curves = [c[drop:] for c in curves]
        active = (max(0, active[0] - drop), active[1] - drop)
    return ActionTrack(curves[0], curves[1] if len(curves) > 1 else None, active, distance, mirrored)


# -- rendering ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scene:
    yaw: float
    distance: float
    camera_height: float
    tilt: float
    lateral: float

    @classmethod
    def sample(cls, rng: np.random.Generator, var: Variation) -> "Scene":
        return cls(_u(rng, var.camera_yaw), _u(rng, var.distance), _u(rng, var.camera_height),
                   _u(rng, var.tilt), _u(rng, var.lateral))


def _render(dofs1: np.ndarray, dofs2: np.ndarray | None, present2: np.ndarray | None, partner_x: np.ndarray | None,
            shapes: tuple[BodyShape, BodyShape], scene: Scene) -> np.ndarray:
    """DOF curves -> Kinect-space joints ``(T, 2, 25, 3)``; person 2 stands at ``partner_x`` (world X)."""
    n = dofs1.shape[0]
    world = np.zeros((n, 2, 25, 3))
    world[:, 0] = forward_kinematics(dofs1, shapes[0])
    if dofs2 is not None:
        p2 = forward_kinematics(dofs2, shapes[1])
        p2[..., 0] += partner_x[:, None]
        world[:, 1] = p2
    present = np.zeros((n, 2), bool)
    present[:, 0] = True
    if present2 is not None:
        present[:, 1] = present2
    # Centre the scene on the persons' mean root position over the whole recording.
    roots = world[:, :, 0, [0, 2]][present]
    world[..., 0] -= roots[:, 0].mean()
    world[..., 2] -= roots[:, 1].mean()
    cam = body_to_kinect(world, yaw_deg=scene.yaw, distance=scene.distance, lateral=scene.lateral,
                         camera_height=scene.camera_height, tilt_deg=scene.tilt)
    cam[~present] = 0.0
    return cam


def _sensor_noise(joints: np.ndarray, rng: np.random.Generator, var: Variation) -> np.ndarray:
    """Kinect-like noise: correlated per-joint noise, jitter bursts on extremities, held frames."""
    out = joints.copy()
    n, m = joints.shape[:2]
    present = np.any(joints != 0, axis=(2, 3))
    sigma = _u(rng, var.noise_m)
    if sigma:
        scale = NOISE_SCALES[var.noise_profile]
        white = rng.normal(0.0, 1.0, (n, m, 25, 3))
        # AR(1) smoothing gives the slow wobble of depth-based tracking; plus a white part.
        ar = np.empty_like(white)
        ar[0] = white[0]
        a = 0.8
        for i in range(1, n):
            ar[i] = a * ar[i - 1] + np.sqrt(1 - a * a) * white[i]
        noise = sigma * scale[None, None, :, None] * (0.7 * ar + var.noise_white * rng.normal(0.0, 1.0, (n, m, 25, 3)))
        noise[..., 2] *= 1.6  # depth is the noisiest axis
        out += noise * present[..., None, None]
    if var.jitter_prob and rng.random() < var.jitter_prob:
        for _ in range(int(rng.integers(1, 4))):
            f0 = int(rng.integers(0, n))
            length = int(rng.integers(2, 7))
            p = int(rng.integers(0, m))
            joint = int(rng.choice(_EXTREMITIES))
            jump = rng.normal(0.0, 1.0, 3)
            jump *= rng.uniform(0.05, 0.2) / (np.linalg.norm(jump) + 1e-9)
            sl = slice(f0, min(n, f0 + length))
            out[sl, p, joint] += jump * present[sl, p, None]
    rate = _u(rng, var.drop_rate)
    if rate:
        held = np.flatnonzero(rng.random(n) < rate)
        for i in held[held > 0]:
            out[i] = out[i - 1]
    return out


def _shapes(rng: np.random.Generator, var: Variation) -> tuple[BodyShape, BodyShape]:
    if not var.random_body:
        return BodyShape(), BodyShape(height=1.75)
    return BodyShape.sample(rng), BodyShape.sample(rng)


def generate_sample(action: Action | str | int, seed: int, var: Variation = Variation()) -> SkeletonSequence:
    """One performance of ``action``: ``(T, 2, 25, 3)`` Kinect-space metres at 30 fps.

    ``meta``: ``action`` (0-based class index), ``label``, ``seed``, ``mirrored``, ``segment``
    (the ``[start, end)`` frames of the action itself, after lead-in and before lead-out).
    """
    act = action if isinstance(action, Action) else get_action(action)
    rng = np.random.default_rng(seed)
    track = action_track(act, rng, var)
    shapes = _shapes(rng, var)
    scene = Scene.sample(rng, var)
    n = track.dofs.shape[0]
    side = -1.0 if track.mirrored else 1.0
    px = np.full(n, side * track.distance) if track.partner is not None else None
    joints = _render(track.dofs, track.partner, None if track.partner is None else np.ones(n, bool), px, shapes, scene)
    joints = _sensor_noise(joints, rng, var)
    idx = ACTIONS.index(act) if act in ACTIONS else -1
    return SkeletonSequence(joints.astype(np.float32), fps=FPS, meta={
        "action": idx, "label": act.name, "seed": int(seed), "mirrored": track.mirrored,
        "segment": [int(track.active[0]), int(track.active[1])], "source": "skelzs.train.synth",
    })


def _blend(prev: np.ndarray, nxt: np.ndarray, frames: int) -> np.ndarray:
    """``frames`` frames easing from the last row of ``prev`` to the first row of ``nxt``."""
    w = np.linspace(0.0, 1.0, frames + 2)[1:-1]
    w = w * w * (3 - 2 * w)
    return prev[-1] + w[:, None] * (nxt[0] - prev[-1])


def generate_recording(actions: list[Action | str | int], seed: int, var: Variation = Variation(),
                       *, transition_s: float = 0.5) -> tuple[SkeletonSequence, list[dict]]:
    """Several actions performed one after the other by the same person, in one continuous recording.

    Two-person actions bring in person 2 (slot 1) for their duration only. Returns the sequence
    and its ground-truth segments ``[{label, action, start, end}]`` (frames, end exclusive).
    """
    rng = np.random.default_rng(seed)
    var_one = replace(var, start_offset=0.0, mirror_prob=0.0)
    shapes = _shapes(rng, var)
    scene = Scene.sample(rng, var)
    parts1: list[np.ndarray] = []
    parts2: list[np.ndarray] = []
    present2: list[np.ndarray] = []
    partner_x: list[np.ndarray] = []
    segments: list[dict] = []
    pos = 0
    rest2 = _start_pose({"yaw": -90.0})
    for item in actions:
        act = item if isinstance(item, Action) else get_action(item)
        track = action_track(act, rng, var_one, mirrored=False)
        n = track.dofs.shape[0]
        if parts1:
            tr = max(1, int(transition_s * FPS))
            blend = _blend(parts1[-1], track.dofs, tr)
            parts1.append(blend)
            parts2.append(np.repeat(rest2[None], tr, 0))
            present2.append(np.zeros(tr, bool))
            partner_x.append(np.zeros(tr))
            pos += tr
        parts1.append(track.dofs)
        has2 = track.partner is not None
        parts2.append(track.partner if has2 else np.repeat(rest2[None], n, 0))
        present2.append(np.full(n, has2))
        partner_x.append(np.full(n, track.distance if has2 else 0.0))
        idx = ACTIONS.index(act) if act in ACTIONS else -1
        segments.append({"label": act.name, "action": idx, "start": pos + track.active[0],
                         "end": pos + track.active[1], "persons": act.persons})
        pos += n
    d1 = np.concatenate(parts1)
    d2 = np.concatenate(parts2)
    p2 = np.concatenate(present2)
    joints = _render(d1, d2, p2, np.concatenate(partner_x), shapes, scene)
    joints = _sensor_noise(joints, rng, var)
    seq = SkeletonSequence(joints.astype(np.float32), fps=FPS, meta={
        "seed": int(seed), "source": "skelzs.train.synth", "segments": segments, "action": None,
    })
    return seq, segments
