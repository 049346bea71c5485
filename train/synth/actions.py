"""The action classes of the motion library: keyframed joint rotations with easing.

An :class:`Action` is a start pose and three lists of :class:`Key` frames: ``intro`` (played
once), ``cycle`` (repeated ``reps`` times) and ``outro`` (played once). A key holds the time to
reach it from the previous key (seconds at normal speed), the DOF values it sets (degrees,
metres for translations; see :data:`~.body.DOFS`), and the easing of the move. DOFs a key does
not name keep their value. Arm poses that put a hand somewhere (mouth, ear, the other person's
hand) are solved once by :func:`~.body.solve_reach` and stored as angles.

One-handed actions are written for the right hand; the generator mirrors them for a left-handed
performance. Two-person interactions (``partner`` poses) have person 1 facing +X and person 2
standing ``distance`` metres away facing back (world X; yaw +90 and -90 degrees).

Class names follow NTU RGB+D 60/120 and PKU-MMD wording where the class exists there; the
description of each class is written for this project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from skelzs.train.synth.body import ANCHORS, DOF_INDEX, solve_reach

__all__ = ["Key", "Action", "REST", "ACTIONS", "ACTION_NAMES", "action_index", "get_action"]

Pose = Mapping[str, float]


@dataclass(frozen=True)
class Key:
    """Reach ``pose`` (and ``partner`` for person 2) ``dt`` seconds after the previous key."""

    dt: float
    pose: Pose = field(default_factory=dict)
    ease: str = "inout"  # inout | in | out | linear
    partner: Pose | None = None

    def __post_init__(self) -> None:
        for name in list(self.pose) + list(self.partner or {}):
            if name not in DOF_INDEX:
                raise ValueError(f"unknown DOF {name!r}")


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    intro: tuple[Key, ...]
    cycle: tuple[Key, ...] = ()
    outro: tuple[Key, ...] = ()
    reps: tuple[int, int] = (1, 1)
    start: Pose = field(default_factory=dict)
    partner_start: Pose | None = None  # two-person interaction when set
    distance: tuple[float, float] = (0.9, 1.0)  # metres between the two persons at the start
    aliases: tuple[str, ...] = ()  # the same class in NTU/PKU wording, when it differs
    can_sit: bool = True  # an upper-body action may also be performed seated (see the generator)

    @property
    def persons(self) -> int:
        return 2 if self.partner_start is not None else 1


# -- pose helpers ---------------------------------------------------------------------------
def _arm(side: str, flex=0.0, abd=6.0, rot=0.0, elbow=10.0, pron=0.0, wrist=0.0, shrug=0.0) -> dict:
    s = side + "_"
    return {s + "sh_flex": flex, s + "sh_abd": abd, s + "sh_rot": rot, s + "elbow": elbow,
            s + "pron": pron, s + "wrist": wrist, s + "shrug": shrug}


def R(**kw) -> dict:
    """Right-arm angles (unnamed ones at rest)."""
    return _arm("r", **kw)


def L(**kw) -> dict:
    return _arm("l", **kw)


def _leg(side: str, flex=0.0, abd=0.0, knee=0.0, ankle=0.0) -> dict:
    s = side + "_"
    return {s + "hip_flex": flex, s + "hip_abd": abd, s + "knee": knee, s + "ankle": ankle}


def legs(flex=0.0, knee=0.0, abd=0.0, ankle=0.0) -> dict:
    return {**_leg("l", flex, abd, knee, ankle), **_leg("r", flex, abd, knee, ankle)}


def reach(side: str, where: str | tuple[float, float, float], dx=0.0, dy=0.0, dz=0.0,
          hint: tuple[float, ...] | None = None, **extra: float) -> dict:
    """Arm angles putting the ``side`` ("r"/"l") hand at an anchor (right-arm coordinates) + offset.

    Offsets are in the body frame for the right hand (``dx`` > 0 is towards the body's left);
    the left hand gets the mirror point.
    """
    x, y, z = ANCHORS[where] if isinstance(where, str) else where
    target = (round(x + dx, 4), round(y + dy, 4), round(z + dz, 4))
    args = (side + "_", target) if hint is None else (side + "_", target, tuple(hint))
    pose = dict(solve_reach(*args))
    pose.update({f"{side}_{k}": v for k, v in extra.items()})
    return pose


def both(where: str | tuple[float, float, float], dx=0.0, dy=0.0, dz=0.0, **extra: float) -> dict:
    """Both hands at mirror points (``dx`` > 0 brings them apart)."""
    return {**reach("r", where, -dx, dy, dz, **extra), **reach("l", where, -dx, dy, dz, **extra)}


REST: dict[str, float] = {**L(), **R(), **legs(), "nod": 0.0, "shake": 0.0, "tilt": 0.0,
                          "bend": 0.0, "side": 0.0, "twist": 0.0, "pitch": 0.0, "roll": 0.0,
                          "lift": 0.0}
HEAD0 = {"nod": 0.0, "shake": 0.0, "tilt": 0.0}
SPINE0 = {"bend": 0.0, "side": 0.0, "twist": 0.0}
ARMS_REST = {**L(), **R()}
SIT = {**legs(flex=90.0, knee=90.0), **L(flex=25, elbow=50, abd=10), **R(flex=25, elbow=50, abd=10), "bend": 5.0}


def back_to_rest(dt: float = 0.6, **extra: float) -> Key:
    return Key(dt, {**REST, **extra})


def _walk_steps(step: float = 0.3, speed: float = 0.5) -> tuple[Key, ...]:
    """One walking cycle (two steps), arms swinging against the legs; ``step`` metres a step."""
    return (
        Key(speed, {**_leg("r", 28, 0, 15), **_leg("l", -12, 0, 30), "r_sh_flex": -18, "l_sh_flex": 22,
                    "tz": step}, "linear"),
        Key(speed, {**_leg("l", 28, 0, 15), **_leg("r", -12, 0, 30), "l_sh_flex": -18, "r_sh_flex": 22,
                    "tz": 2 * step}, "linear"),
    )


def _partner(**kw: float) -> dict:
    """Person 2's base: facing person 1 (yaw -90)."""
    return {**REST, "yaw": -90.0, **kw}


FACE_PARTNER = {**REST, "yaw": 90.0}


# -- the classes ----------------------------------------------------------------------------
def _single_person() -> list[Action]:
    a: list[Action] = []
    add = a.append
    add(Action(
        "drink water", "Raise a cup to the mouth with one hand, tip the head back a little to drink, "
        "then lower the arm.",
        intro=(Key(0.7, reach("r", "mouth", dz=0.04, wrist=15)), Key(0.35, {"nod": -15.0, "r_wrist": 35.0})),
        cycle=(Key(0.9, {"nod": -18.0}),),
        outro=(Key(0.3, {"nod": 0.0}), back_to_rest(0.7)),
        reps=(1, 2),
    ))
    add(Action(
        "eat meal/snack", "Bring food from the hand in front of the waist up to the mouth several times.",
        intro=(Key(0.6, {**reach("l", "front_of_waist", dx=0.05, dy=0.05), **reach("r", "front_of_waist")}),),
        cycle=(Key(0.45, reach("r", "mouth", dz=0.03)), Key(0.3, {"nod": 8.0}),
               Key(0.45, {**reach("r", "front_of_waist", dy=0.05), "nod": 0.0})),
        outro=(back_to_rest(),),
        reps=(2, 4), aliases=("eat meal", "eat"),
    ))
    add(Action(
        "brushing teeth", "Hold a toothbrush at the mouth and scrub quickly from side to side.",
        intro=(Key(0.6, reach("r", "mouth", dz=0.03, pron=40)),),
        cycle=(Key(0.14, reach("r", "mouth", dx=-0.045, dz=0.03, pron=40)),
               Key(0.14, reach("r", "mouth", dx=0.045, dz=0.03, pron=40))),
        outro=(back_to_rest(),),
        reps=(6, 12), aliases=("brush teeth",),
    ))
    add(Action(
        "brushing hair", "Stroke a brush over the side and top of the head from front to back.",
        intro=(Key(0.7, reach("r", "side_of_head", dz=0.08)),),
        cycle=(Key(0.35, reach("r", "top_of_head", dx=-0.06, dz=0.05)),
               Key(0.35, reach("r", "back_of_head", dx=-0.07, dy=-0.02))),
        outro=(back_to_rest(0.7),),
        reps=(3, 5), aliases=("brush hair",),
    ))
    add(Action(
        "drop", "Hold something in front of the body, let it fall, and look down after it.",
        intro=(Key(0.6, {**reach("r", "front_of_waist", dy=0.08, dz=0.05), "nod": 10.0}), Key(0.5, {})),
        cycle=(Key(0.15, {"r_wrist": -35.0, "r_elbow": 35.0}, "in"), Key(0.5, {"nod": 40.0, "bend": 10.0})),
        outro=(back_to_rest(0.7),),
    ))
    add(Action(
        "pickup", "Bend down with knees bent, reach to the floor with one hand, and stand up holding the object.",
        intro=(Key(0.8, {"bend": 75.0, **legs(35, 50), **R(flex=70, abd=10, elbow=5), "nod": 10.0,
                         **L(flex=20, elbow=30)}),
               Key(0.35, {"r_wrist": 25.0})),
        cycle=(Key(0.8, {**SPINE0, **legs(), **reach("r", "front_of_waist", dy=0.05), **L(), "nod": 0.0}),),
        outro=(back_to_rest(0.6),),
        aliases=("pick up",),
    ))
    add(Action(
        "throw", "Swing one arm back over the shoulder and whip it forward to throw an object.",
        intro=(Key(0.5, {**R(flex=120, abd=80, rot=-70, elbow=90), "twist": -25.0, **L(flex=45, elbow=30),
                         **_leg("r", -10, 0, 15)}),),
        cycle=(Key(0.22, {**R(flex=95, abd=10, rot=10, elbow=15, wrist=30), "twist": 25.0, "bend": 20.0,
                          **_leg("r", 0, 0, 0)}, "in"),
               Key(0.3, {**R(flex=30, abd=10, elbow=20), "bend": 10.0})),
        outro=(back_to_rest(0.7),),
    ))
    add(Action(
        "sitting down", "Lower the body from standing onto a chair by bending hips and knees.",
        intro=(Key(0.6, {"bend": 30.0, **legs(45, 50), **L(flex=25, elbow=20), **R(flex=25, elbow=20)}),
               Key(0.7, {**SIT})),
        cycle=(Key(0.8, {}),),
        aliases=("sit down",),
    ))
    add(Action(
        "standing up (from sitting position)", "Lean the upper body forward and push up from a chair to standing.",
        start=SIT,
        intro=(Key(0.6, {"bend": 35.0, **legs(70, 70)}), Key(0.7, {**REST})),
        cycle=(Key(0.6, {}),),
        aliases=("standing up", "stand up"),
    ))
    add(Action(
        "clapping", "Bring both palms together in front of the chest repeatedly.",
        intro=(Key(0.5, both("front_of_chest", dx=0.14, dy=0.02)),),
        cycle=(Key(0.12, both("front_of_chest", dx=0.015, dy=0.02)), Key(0.13, both("front_of_chest", dx=0.15, dy=0.02))),
        outro=(back_to_rest(),),
        reps=(4, 9),
    ))
    add(Action(
        "reading", "Hold a book open in front of the chest with both hands and look down at it, turning a page.",
        intro=(Key(0.7, {**both("front_of_chest", dx=0.12, dy=-0.05, dz=-0.03), "nod": 30.0}),),
        cycle=(Key(0.9, {}), Key(0.35, reach("r", "front_of_chest", dx=0.08, dy=-0.02, dz=-0.03)),
               Key(0.35, reach("r", "front_of_chest", dx=-0.12, dy=-0.05, dz=-0.03))),
        outro=(back_to_rest(0.7),),
        reps=(1, 2),
    ))
    add(Action(
        "writing", "Look down and move one hand in small strokes over paper held by the other hand.",
        intro=(Key(0.6, {**reach("l", "front_of_waist", dx=-0.05, dy=0.08), **reach("r", "front_of_waist", dy=0.1),
                         "nod": 35.0, "bend": 10.0}),),
        cycle=(Key(0.2, reach("r", "front_of_waist", dx=0.03, dy=0.11)),
               Key(0.2, reach("r", "front_of_waist", dx=-0.02, dy=0.09))),
        outro=(back_to_rest(0.6),),
        reps=(5, 10),
    ))
    add(Action(
        "tear up paper", "Grip a sheet with both hands in front of the chest and rip it by pulling one hand "
        "down and the other up.",
        intro=(Key(0.5, both("front_of_chest", dx=0.04, dy=-0.04)),),
        cycle=(Key(0.25, {**reach("r", "front_of_chest", dx=-0.06, dy=-0.14, dz=0.04),
                          **reach("l", "front_of_chest", dx=-0.06, dy=0.04, dz=-0.04)}, "out"),
               Key(0.35, both("front_of_chest", dx=0.04, dy=-0.04))),
        outro=(back_to_rest(),),
        reps=(2, 4),
    ))
    add(Action(
        "cheer up", "Throw both arms up above the head and pump them in celebration.",
        intro=(Key(0.4, {**L(flex=150, abd=25, elbow=30), **R(flex=150, abd=25, elbow=30)}),),
        cycle=(Key(0.22, {**L(flex=175, abd=20, elbow=5), **R(flex=175, abd=20, elbow=5), "lift": 0.03}),
               Key(0.22, {**L(flex=135, abd=30, elbow=60), **R(flex=135, abd=30, elbow=60), "lift": 0.0})),
        outro=(back_to_rest(0.5),),
        reps=(2, 4),
    ))
    add(Action(
        "hand waving", "Raise one hand beside the head and wave the forearm from side to side.",
        intro=(Key(0.5, R(flex=20, abd=75, rot=-80, elbow=95)),),
        cycle=(Key(0.22, {"r_elbow": 65.0}), Key(0.22, {"r_elbow": 120.0})),
        outro=(back_to_rest(0.5),),
        reps=(3, 6), aliases=("waving", "wave"),
    ))
    add(Action(
        "kicking something", "Swing one leg back and kick forward hard at something on the floor.",
        intro=(Key(0.35, {**_leg("r", -25, 0, 60), **L(abd=20, elbow=30), **R(abd=15, flex=-10, elbow=20)}),),
        cycle=(Key(0.2, {**_leg("r", 75, 0, 5), "bend": -10.0, **L(abd=35, flex=20, elbow=30)}, "in"),
               Key(0.4, {**_leg("r", 0, 0, 0), "bend": 0.0})),
        outro=(back_to_rest(0.4),),
        aliases=("kick",),
    ))
    add(Action(
        "hopping (one foot jumping)", "Lift one foot and jump up and down on the other foot.",
        intro=(Key(0.35, {**_leg("l", 20, 0, 85), **L(abd=25, elbow=40), **R(abd=25, elbow=40)}),),
        cycle=(Key(0.17, {"lift": 0.12, "r_knee": 5.0, "r_ankle": -20.0}, "out"),
               Key(0.17, {"lift": 0.0, "r_knee": 30.0, "r_hip_flex": 15.0, "r_ankle": 0.0}, "in")),
        outro=(back_to_rest(0.4),),
        reps=(3, 6), aliases=("hopping", "hop"),
    ))
    add(Action(
        "jump up", "Crouch, swing the arms and jump straight up with both feet, then land.",
        intro=(Key(0.4, {**legs(45, 70, ankle=15), "bend": 30.0, **L(flex=-35), **R(flex=-35)}),),
        cycle=(Key(0.2, {**legs(0, 0, ankle=-25), "bend": 0.0, **L(flex=150, abd=15), **R(flex=150, abd=15),
                         "lift": 0.28}, "out"),
               Key(0.22, {**legs(35, 55), "bend": 20.0, **L(flex=30), **R(flex=30), "lift": 0.0}, "in"),
               Key(0.35, {**legs(), **SPINE0, **ARMS_REST})),
        outro=(back_to_rest(0.3),),
        reps=(1, 2), aliases=("jumping up",),
    ))
    add(Action(
        "make a phone call/answer phone", "Take a phone from the pocket, hold it at the ear and talk.",
        intro=(Key(0.45, reach("r", "waist_pocket")), Key(0.7, {**reach("r", "ear", dz=0.02), "tilt": -8.0})),
        cycle=(Key(0.8, {"nod": 6.0}), Key(0.8, {"nod": -3.0})),
        outro=(back_to_rest(0.7),),
        reps=(1, 3), aliases=("phone call", "make a phone call"),
    ))
    add(Action(
        "playing with phone/tablet", "Hold a phone in both hands in front of the chest, look down at it and tap with the thumbs.",
        intro=(Key(0.6, {**both("front_of_chest", dx=0.05, dy=-0.1, dz=-0.04, wrist=20), "nod": 35.0}),),
        cycle=(Key(0.18, {"r_wrist": 35.0, "l_wrist": 15.0}), Key(0.18, {"r_wrist": 15.0, "l_wrist": 35.0})),
        outro=(back_to_rest(0.6),),
        reps=(4, 9),
    ))
    add(Action(
        "typing on a keyboard", "Hold both hands at desk height in front of the body and tap fingers quickly.",
        intro=(Key(0.6, {**both("front_of_waist", dx=0.1, dy=0.06, dz=0.03), "nod": 25.0, "bend": 8.0}),),
        cycle=(Key(0.13, {**reach("r", "front_of_waist", dx=-0.12, dy=0.09, dz=0.03),
                          **reach("l", "front_of_waist", dx=-0.09, dy=0.05, dz=0.05)}),
               Key(0.13, {**reach("r", "front_of_waist", dx=-0.09, dy=0.05, dz=0.05),
                          **reach("l", "front_of_waist", dx=-0.12, dy=0.09, dz=0.03)})),
        outro=(back_to_rest(0.5),),
        reps=(6, 12), aliases=("typing",),
    ))
    add(Action(
        "pointing to something with finger", "Stretch one arm out towards something and point at it with the index finger.",
        intro=(Key(0.55, {**R(flex=85, abd=30, elbow=5), "twist": -10.0, "shake": -15.0}),),
        cycle=(Key(1.0, {}),),
        outro=(back_to_rest(0.6),),
        aliases=("pointing", "point"),
    ))
    add(Action(
        "taking a selfie", "Hold a phone up and out in front of the face at arm's length and pose for a photo.",
        intro=(Key(0.7, {**R(flex=125, abd=25, rot=-25, elbow=25, wrist=-30), "nod": -8.0, "tilt": 10.0}),),
        cycle=(Key(1.1, {"tilt": 4.0}),),
        outro=(back_to_rest(0.6),),
    ))
    add(Action(
        "check time (from watch)", "Raise the wrist with the watch in front of the chest and look down at it.",
        intro=(Key(0.6, {**reach("l", "front_of_chest", dx=0.1, dy=0.0, dz=-0.05, pron=70), "nod": 30.0}),),
        cycle=(Key(0.9, {}),),
        outro=(back_to_rest(0.6),),
        aliases=("check time",),
    ))
    add(Action(
        "rub two hands together", "Hold the hands together in front of the body and rub the palms back and forth.",
        intro=(Key(0.5, both("front_of_chest", dx=0.02, dy=-0.12, dz=-0.03)),),
        cycle=(Key(0.14, {**reach("r", "front_of_chest", dx=0.02, dy=-0.12, dz=0.02),
                          **reach("l", "front_of_chest", dx=-0.02, dy=-0.12, dz=-0.08)}),
               Key(0.14, {**reach("r", "front_of_chest", dx=0.02, dy=-0.12, dz=-0.08),
                          **reach("l", "front_of_chest", dx=-0.02, dy=-0.12, dz=0.02)})),
        outro=(back_to_rest(0.5),),
        reps=(5, 10), aliases=("rub hands",),
    ))
    add(Action(
        "nod head", "Tip the head forward and back up several times to say yes.",
        intro=(Key(0.2, {}),),
        cycle=(Key(0.28, {"nod": 25.0}), Key(0.28, {"nod": -5.0})),
        outro=(Key(0.3, {"nod": 0.0}),),
        reps=(2, 4), aliases=("nod head/bow", "nod"),
    ))
    add(Action(
        "bow", "Bend the upper body forward from the hips with arms hanging, pause, and straighten up.",
        intro=(Key(0.9, {"bend": 55.0, "nod": 15.0, **L(flex=35), **R(flex=35)}),),
        cycle=(Key(0.5, {}),),
        outro=(back_to_rest(0.9),),
    ))
    add(Action(
        "shake head", "Turn the head left and right several times to say no.",
        intro=(Key(0.2, {}),),
        cycle=(Key(0.24, {"shake": 40.0, "tilt": 6.0}), Key(0.24, {"shake": -40.0, "tilt": -6.0})),
        outro=(Key(0.25, {"shake": 0.0}),),
        reps=(2, 4),
    ))
    add(Action(
        "wipe face", "Pass both hands down over the face from forehead to chin.",
        intro=(Key(0.55, both("forehead", dx=0.06, dz=0.02)),),
        cycle=(Key(0.5, both("mouth", dx=0.07, dy=-0.04, dz=0.02)), Key(0.35, both("forehead", dx=0.06, dz=0.02))),
        outro=(back_to_rest(0.6),),
        reps=(1, 3),
    ))
    add(Action(
        "salute", "Raise the right hand smartly to the brow with the elbow out and hold the salute.",
        intro=(Key(0.45, {**reach("r", "forehead", dx=-0.07, dy=0.01, wrist=-10)}),),
        cycle=(Key(1.0, {}),),
        outro=(back_to_rest(0.5),),
    ))
    add(Action(
        "put the palms together", "Press the palms together in front of the chest with the fingers pointing up.",
        intro=(Key(0.7, {**both("front_of_chest", dx=0.01, dy=-0.01, dz=-0.08, wrist=-45), "nod": 8.0}),),
        cycle=(Key(1.2, {}),),
        outro=(back_to_rest(0.6),),
        aliases=("put palms together",),
    ))
    add(Action(
        "cross hands in front (say stop)", "Cross both forearms in an X in front of the chest to signal stop.",
        intro=(Key(0.5, {**reach("r", "front_of_chest", dx=0.13, dy=0.1, dz=0.06),
                         **reach("l", "front_of_chest", dx=0.13, dy=0.06, dz=0.03)}),),
        cycle=(Key(1.0, {}),),
        outro=(back_to_rest(0.5),),
        aliases=("cross hands in front",),
    ))
    add(Action(
        "sneeze/cough", "Cover the mouth with one hand and jerk the head and upper body forward.",
        intro=(Key(0.45, reach("r", "mouth", dz=0.03)),),
        cycle=(Key(0.18, {"bend": 25.0, "nod": 25.0}, "in"), Key(0.45, {"bend": 0.0, "nod": 0.0})),
        outro=(back_to_rest(0.5),),
        reps=(1, 3),
    ))
    add(Action(
        "staggering", "Walk unsteadily, swaying from side to side as if about to lose balance.",
        intro=(Key(0.3, {}),),
        cycle=(Key(0.55, {**_leg("r", 25, 10, 20), **_leg("l", -10, 0, 25), "roll": 10.0, "tx": -0.1,
                          **L(abd=35, elbow=30), **R(abd=15)}),
               Key(0.55, {**_leg("l", 25, 10, 20), **_leg("r", -10, 0, 25), "roll": -12.0, "tx": 0.05,
                          **R(abd=35, elbow=30), **L(abd=15)})),
        outro=(back_to_rest(0.5),),
        reps=(2, 4),
    ))
    add(Action(
        "falling", "Lose balance, fall forward to the ground, and lie there.",
        intro=(Key(0.45, {"bend": 20.0, **legs(20, 35), **L(flex=60), **R(flex=60)}),
               Key(0.7, {"pitch": 82.0, "bend": 5.0, **legs(10, 20), **L(flex=150, abd=30), **R(flex=150, abd=30),
                         "nod": -35.0}, "in")),
        cycle=(Key(0.9, {"nod": -25.0}),),
        aliases=("fall", "fall down"),
    ))
    add(Action(
        "touch head (headache)", "Press one hand against the forehead and lower the head as if in pain.",
        intro=(Key(0.65, {**reach("r", "forehead", dx=-0.03, dy=0.01), "nod": 15.0}),),
        cycle=(Key(0.7, {"nod": 22.0, "tilt": -6.0}), Key(0.7, {"nod": 12.0, "tilt": 4.0})),
        outro=(back_to_rest(0.6),),
        reps=(1, 2), aliases=("touch head",),
    ))
    add(Action(
        "touch chest (stomachache/heart pain)", "Clutch the chest with one hand and hunch over a little.",
        intro=(Key(0.65, {**reach("r", "heart"), "bend": 15.0, "nod": 12.0}),),
        cycle=(Key(0.8, {"bend": 22.0}), Key(0.8, {"bend": 12.0})),
        outro=(back_to_rest(0.6),),
        reps=(1, 2), aliases=("touch chest",),
    ))
    add(Action(
        "touch back (backache)", "Put one hand on the lower back and lean back slightly as if it aches.",
        intro=(Key(0.75, {**reach("r", "lower_back"), "bend": -8.0}),),
        cycle=(Key(0.8, {"bend": -14.0}), Key(0.8, {"bend": -5.0})),
        outro=(back_to_rest(0.7),),
        reps=(1, 2), aliases=("touch back",),
    ))
    add(Action(
        "touch neck (neckache)", "Hold the back of the neck with one hand and tilt the head to ease it.",
        intro=(Key(0.75, {**reach("r", "neck_back", dz=0.03), "tilt": 12.0, "nod": 8.0}),),
        cycle=(Key(0.7, {"tilt": -6.0}), Key(0.7, {"tilt": 12.0})),
        outro=(back_to_rest(0.6),),
        reps=(1, 2), aliases=("touch neck",),
    ))
    add(Action(
        "use a fan (with hand or paper)/feeling warm", "Wave one hand quickly in front of the face to cool down.",
        intro=(Key(0.5, reach("r", "front_of_face", dx=-0.06, dy=-0.03, dz=-0.05)),),
        cycle=(Key(0.13, {"r_wrist": 45.0}),
               Key(0.13, {"r_wrist": -35.0})),
        outro=(back_to_rest(0.5),),
        reps=(6, 12), aliases=("use a fan", "fanning self"),
    ))
    add(Action(
        "squat down", "Bend the knees deeply into a squat with the arms forward for balance, then rise.",
        intro=(Key(0.9, {**legs(100, 125, ankle=20), "bend": 25.0, **L(flex=75, elbow=20), **R(flex=75, elbow=20)}),),
        cycle=(Key(0.6, {}),),
        outro=(back_to_rest(0.9),),
        aliases=("squat",),
    ))
    add(Action(
        "hands up (both hands)", "Raise both arms straight up above the head and hold them there.",
        intro=(Key(0.6, {**L(flex=170, abd=12, elbow=5), **R(flex=170, abd=12, elbow=5)}),),
        cycle=(Key(1.0, {}),),
        outro=(back_to_rest(0.6),),
        aliases=("hands up",),
    ))
    add(Action(
        "cross arms", "Fold both arms across the chest and stand still.",
        intro=(Key(0.8, {**reach("r", "front_of_chest", dx=0.15, dy=-0.08, dz=-0.12),
                         **reach("l", "front_of_chest", dx=0.14, dy=-0.13, dz=-0.09)}),),
        cycle=(Key(1.3, {}),),
        outro=(back_to_rest(0.7),),
    ))
    add(Action(
        "arm circles", "Hold both arms out to the sides and draw circles with them.",
        intro=(Key(0.5, {**L(abd=88, elbow=0), **R(abd=88, elbow=0)}),),
        cycle=(Key(0.15, {"l_sh_flex": 20.0, "r_sh_flex": 20.0, "l_sh_abd": 80.0, "r_sh_abd": 80.0}, "linear"),
               Key(0.15, {"l_sh_flex": 0.0, "r_sh_flex": 0.0, "l_sh_abd": 105.0, "r_sh_abd": 105.0}, "linear"),
               Key(0.15, {"l_sh_flex": -20.0, "r_sh_flex": -20.0, "l_sh_abd": 80.0, "r_sh_abd": 80.0}, "linear"),
               Key(0.15, {"l_sh_flex": 0.0, "r_sh_flex": 0.0, "l_sh_abd": 60.0, "r_sh_abd": 60.0}, "linear")),
        outro=(back_to_rest(0.5),),
        reps=(3, 6),
    ))
    add(Action(
        "arm swings", "Swing both straight arms forward up to shoulder height and back behind the body.",
        intro=(Key(0.3, {}),),
        cycle=(Key(0.4, {**L(flex=85, elbow=5), **R(flex=85, elbow=5), **legs(0, 10)}),
               Key(0.4, {**L(flex=-35, elbow=5), **R(flex=-35, elbow=5), **legs(0, 0)})),
        outro=(back_to_rest(0.5),),
        reps=(3, 5),
    ))
    add(Action(
        "running on the spot", "Jog in place, lifting the knees high with bent arms pumping.",
        intro=(Key(0.3, {**L(elbow=85), **R(elbow=85)}),),
        cycle=(Key(0.18, {**_leg("r", 65, 0, 85), **_leg("l", 0, 0, 10), "l_sh_flex": 35.0, "r_sh_flex": -25.0,
                          "lift": 0.04}),
               Key(0.18, {**_leg("l", 65, 0, 85), **_leg("r", 0, 0, 10), "r_sh_flex": 35.0, "l_sh_flex": -25.0,
                          "lift": 0.04})),
        outro=(back_to_rest(0.4),),
        reps=(4, 8), aliases=("running in place", "jogging"),
    ))
    add(Action(
        "walk in place", "Walk without moving forward, lifting each foot in turn and swinging the arms.",
        intro=(Key(0.3, {}),),
        cycle=(Key(0.45, {**_leg("r", 35, 0, 55), **_leg("l", 0, 0, 0), "l_sh_flex": 20.0, "r_sh_flex": -15.0}),
               Key(0.45, {**_leg("l", 35, 0, 55), **_leg("r", 0, 0, 0), "r_sh_flex": 20.0, "l_sh_flex": -15.0})),
        outro=(back_to_rest(0.5),),
        reps=(2, 4), aliases=("walking on the spot",),
    ))
    add(Action(
        "stretch oneself", "Reach both arms high overhead and arch the back in a long stretch.",
        intro=(Key(1.0, {**L(flex=175, abd=15, elbow=0), **R(flex=175, abd=15, elbow=0), "bend": -15.0, "nod": -15.0,
                         **legs(0, 0, ankle=-10)}),),
        cycle=(Key(0.8, {"side": 8.0}), Key(0.8, {"side": -8.0})),
        outro=(back_to_rest(0.9),),
        aliases=("stretch",),
    ))
    add(Action(
        "side kick", "Lean away and kick one leg out sideways, then bring it back.",
        intro=(Key(0.3, {**_leg("r", 10, 0, 60), "side": 5.0}),),
        cycle=(Key(0.22, {**_leg("r", 10, 65, 5), "side": 25.0, **L(abd=30, elbow=40)}, "in"),
               Key(0.4, {**_leg("r", 0, 0, 0), "side": 0.0, **L()})),
        outro=(back_to_rest(0.4),),
    ))
    add(Action(
        "butt kicks (kick backward)", "Jog in place kicking each heel up behind towards the buttocks.",
        intro=(Key(0.3, {**L(elbow=70), **R(elbow=70)}),),
        cycle=(Key(0.22, {**_leg("r", -10, 0, 120), **_leg("l", 0, 0, 5), "lift": 0.03}),
               Key(0.22, {**_leg("l", -10, 0, 120), **_leg("r", 0, 0, 5), "lift": 0.03})),
        outro=(back_to_rest(0.4),),
        reps=(3, 6), aliases=("butt kicks",),
    ))
    add(Action(
        "yawn", "Open the mouth wide behind a raised hand and tip the head back.",
        intro=(Key(0.8, {**reach("r", "mouth", dz=0.04), "nod": -20.0, "bend": -5.0}),),
        cycle=(Key(0.9, {"nod": -25.0}),),
        outro=(back_to_rest(0.8),),
    ))
    add(Action(
        "shake fist", "Raise a clenched fist in front of the shoulder and shake it angrily.",
        intro=(Key(0.5, R(flex=100, abd=35, rot=-10, elbow=85)),),
        cycle=(Key(0.14, {"r_elbow": 60.0}), Key(0.14, {"r_elbow": 100.0})),
        outro=(back_to_rest(0.5),),
        reps=(3, 6),
    ))
    add(Action(
        "turn around", "Turn the whole body round to face the other way, stepping on the spot.",
        intro=(Key(0.2, {}),),
        cycle=(Key(0.45, {"yaw": 60.0, **_leg("r", 30, 0, 45), **_leg("l", 0, 0, 0)}, "linear"),
               Key(0.45, {"yaw": 120.0, **_leg("l", 30, 0, 45), **_leg("r", 0, 0, 0)}, "linear"),
               Key(0.45, {"yaw": 180.0, **legs()})),
        outro=(Key(0.4, {}),),
    ))
    add(Action(
        "side bend", "With one arm raised overhead, bend the upper body to the side and come back up.",
        intro=(Key(0.6, {**R(abd=165, elbow=10), **reach("l", "waist_pocket", dy=0.12, dz=-0.02)}),),
        cycle=(Key(0.8, {"side": 30.0}), Key(0.8, {"side": 0.0})),
        outro=(back_to_rest(0.6),),
        reps=(1, 3),
    ))
    add(Action(
        "put on a hat/cap", "Lift a cap with both hands and pull it down onto the head.",
        intro=(Key(0.5, both("front_of_chest", dx=0.08)), Key(0.7, both("top_of_head", dx=0.08, dz=0.03))),
        cycle=(Key(0.35, both("top_of_head", dx=0.09, dy=-0.03, dz=0.02)),),
        outro=(back_to_rest(0.7),),
        aliases=("put on a hat",),
    ))
    add(Action(
        "take off a hat/cap", "Grasp the cap on the head with one hand, lift it off and lower it.",
        intro=(Key(0.6, reach("r", "top_of_head", dx=-0.02, dz=0.04)),),
        cycle=(Key(0.4, reach("r", "top_of_head", dx=-0.02, dy=0.12, dz=0.08)),
               Key(0.6, reach("r", "front_of_chest", dx=-0.1, dy=-0.05))),
        outro=(back_to_rest(0.5),),
        aliases=("take off a hat",),
    ))
    add(Action(
        "wear on glasses", "Hold glasses in front of the face with both hands and slide them on.",
        intro=(Key(0.6, both("front_of_face", dx=0.06, dy=-0.02)),),
        cycle=(Key(0.5, both("eyes", dx=0.08, dz=0.01)), Key(0.25, {"nod": 5.0})),
        outro=(back_to_rest(0.6),),
        aliases=("put on glasses",),
    ))
    add(Action(
        "reach into pocket", "Put one hand into the trouser pocket and pull something out.",
        intro=(Key(0.55, reach("r", "waist_pocket", dy=-0.04)),),
        cycle=(Key(0.5, {"nod": 15.0}), Key(0.5, {**reach("r", "front_of_waist", dy=0.06), "nod": 20.0})),
        outro=(back_to_rest(0.5),),
        aliases=("take out something from pocket",),
    ))
    add(Action(
        "standing still", "Stand relaxed in place with the arms at the sides, doing nothing in particular.",
        intro=(Key(0.8, {}),),
        cycle=(Key(0.8, {"nod": 4.0}), Key(0.8, {"nod": 0.0})),
        reps=(1, 2), aliases=("idle", "standing"), can_sit=False,
    ))
    return a


def _two_person() -> list[Action]:
    a: list[Action] = []
    add = a.append
    meet = (0.0, -0.30, 0.40)
    add(Action(
        "handshaking", "Two people face each other, grasp right hands between them and shake them up and down.",
        start=FACE_PARTNER, partner_start=_partner(), distance=(0.85, 0.95),
        intro=(Key(0.7, reach("r", meet), partner=reach("r", meet)),),
        cycle=(Key(0.16, reach("r", meet, dy=0.05), partner=reach("r", meet, dy=0.05)),
               Key(0.16, reach("r", meet, dy=-0.04), partner=reach("r", meet, dy=-0.04))),
        outro=(Key(0.6, {**ARMS_REST}, partner={**ARMS_REST}),),
        reps=(2, 4), aliases=("handshake", "shaking hands"),
    ))
    hug_a = {**reach("r", (0.10, -0.02, 0.45)), **reach("l", (-0.10, -0.10, 0.45))}
    hug_b = {**reach("r", (0.10, -0.12, 0.45)), **reach("l", (-0.10, -0.04, 0.45))}
    add(Action(
        "hugging other person", "Two people step close and wrap their arms around each other's back.",
        start=FACE_PARTNER, partner_start=_partner(), distance=(0.95, 1.05),
        intro=(Key(0.8, {"tx": 0.3, **_leg("r", 20, 0, 20)}, partner={"tx": -0.3, **_leg("l", 20, 0, 20)}),
               Key(0.6, {**hug_a, **legs()}, partner={**hug_b, **legs()})),
        cycle=(Key(1.0, {"bend": 8.0}, partner={"bend": 8.0}),),
        outro=(Key(0.7, {**ARMS_REST, "bend": 0.0}, partner={**ARMS_REST, "bend": 0.0}),
               Key(0.6, {"tx": 0.05}, partner={"tx": -0.05})),
        aliases=("hug", "hugging"),
    ))
    add(Action(
        "pushing other person", "One person shoves the other in the chest with both hands, who staggers back.",
        start=FACE_PARTNER, partner_start=_partner(), distance=(0.6, 0.7),
        intro=(Key(0.5, both((0.0, -0.12, 0.30), dx=0.12), partner={}),),
        cycle=(Key(0.22, {**both((0.0, -0.12, 0.52), dx=0.12), "tx": 0.12, "bend": 10.0},
                   partner={"tx": 0.35, "pitch": -8.0, **L(abd=35, flex=20), **R(abd=35, flex=20),
                            **_leg("r", -20, 0, 20)}, ease="in"),
               Key(0.5, {}, partner={"pitch": 0.0, **legs()})),
        outro=(Key(0.6, {**ARMS_REST, "bend": 0.0}, partner={**ARMS_REST}),),
        aliases=("push", "pushing"),
    ))
    five = (0.0, 0.38, 0.33)
    add(Action(
        "high-five", "Two people raise their right hands high and slap the palms together.",
        start=FACE_PARTNER, partner_start=_partner(), distance=(0.85, 0.95),
        intro=(Key(0.55, reach("r", five, dz=-0.08), partner=reach("r", five, dz=-0.08)),),
        cycle=(Key(0.16, reach("r", five, dz=0.04), partner=reach("r", five, dz=0.04), ease="in"),
               Key(0.3, reach("r", five, dz=-0.06), partner=reach("r", five, dz=-0.06))),
        outro=(Key(0.55, {**ARMS_REST}, partner={**ARMS_REST}),),
        aliases=("high five",),
    ))
    add(Action(
        "punching/slapping other person", "One person punches the other, whose head and body jerk back.",
        start=FACE_PARTNER, partner_start=_partner(), distance=(0.7, 0.8),
        intro=(Key(0.35, {**reach("r", "chest", dx=-0.12, dy=0.05), **reach("l", "chest", dx=-0.1, dy=0.12),
                          "twist": -15.0}, partner={}),),
        cycle=(Key(0.14, {**reach("r", (0.0, 0.1, 0.62)), "twist": 20.0}, partner={}, ease="in"),
               Key(0.3, {**reach("r", "chest", dx=-0.12, dy=0.05), "twist": -5.0},
                   partner={"nod": -20.0, "pitch": -8.0, "tx": 0.12, **L(flex=40, elbow=90), **R(flex=40, elbow=90)}),
               Key(0.35, {}, partner={"nod": 0.0, "pitch": 0.0})),
        outro=(Key(0.5, {**ARMS_REST, "twist": 0.0}, partner={**ARMS_REST}),),
        reps=(1, 3), aliases=("punching", "punch"),
    ))
    give = (0.0, -0.25, 0.42)
    add(Action(
        "giving something to other person", "One person holds an object out and the other takes it.",
        start=FACE_PARTNER, partner_start=_partner(), distance=(0.85, 0.95),
        intro=(Key(0.7, reach("r", give), partner={}),),
        cycle=(Key(0.6, {}, partner=reach("r", give, dz=0.02)),
               Key(0.5, {**ARMS_REST}, partner=reach("r", "front_of_chest", dy=-0.05))),
        outro=(Key(0.5, {}, partner={**ARMS_REST}),),
        aliases=("giving something", "hand over"),
    ))
    add(Action(
        "walking towards each other", "Two people walk up to each other from a few metres apart and stop face to face.",
        start=FACE_PARTNER, partner_start=_partner(), distance=(2.6, 3.0),
        intro=(Key(0.2, {}, partner={}),),
        cycle=tuple(
            Key(k.dt, {**k.pose, "tz": 0.0, "tx": (i + 1) * 0.3},
                partner={**{n: v for n, v in k.pose.items() if n != "tz"}, "tx": -(i + 1) * 0.3}, ease="linear")
            for i, k in enumerate(_walk_steps(0.3, 0.5) * 2)
        ),
        outro=(Key(0.4, {**legs(), **ARMS_REST}, partner={**legs(), **ARMS_REST}),),
    ))
    return a


ACTIONS: tuple[Action, ...] = tuple(_single_person() + _two_person())
ACTION_NAMES: tuple[str, ...] = tuple(x.name for x in ACTIONS)
_BY_NAME = {n.lower(): i for i, n in enumerate(ACTION_NAMES)}
for _i, _act in enumerate(ACTIONS):
    for _alias in _act.aliases:
        _BY_NAME.setdefault(_alias.lower(), _i)


def action_index(name: str) -> int:
    """0-based class index of an action name or alias (case-insensitive)."""
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        raise KeyError(f"unknown synthetic action {name!r}") from None


def get_action(name_or_index: str | int) -> Action:
    return ACTIONS[name_or_index if isinstance(name_or_index, int) else action_index(name_or_index)]
