"""BVH (Biovision hierarchy) motion capture files; retargeting to NTU-25 in Kinect v2 space.

:func:`read_bvh` is a general parser (``HIERARCHY`` with ``ROOT``/``JOINT``/``End Site``,
``OFFSET``, ``CHANNELS`` with any order of position and rotation channels, then ``MOTION`` with
``Frames`` and ``Frame Time``). Anything that does not follow the format raises
:class:`~skelzs.stream.errors.SkeletonFormatError` naming the file and the line.

:func:`forward_kinematics` gives world positions, vectorised over frames. A joint's local
rotation is the product of its per-axis rotations in the order the channels are listed
(``Zrotation Xrotation Yrotation`` gives ``R = Rz @ Rx @ Ry`` on column vectors, angles in
degrees); ``global_R = parent_global_R @ local_R`` and
``pos = parent_pos + parent_global_R @ local_translation``.

Translation of joints with position channels. Two readings exist in the wild; ``translation``
picks one:

* ``"replace"`` (default): a position channel *is* the joint's local translation on that axis
  and replaces the ``OFFSET`` component (axes without a channel keep the offset). This is how
  Blender and most exporters read root channels, and the only reading that fits files which give
  every joint 6 channels, such as the Bandai-Namco Research Motion dataset: there the position
  channels of ``Spine`` repeat its ``OFFSET`` (15.7357 0 0), so adding them would double every
  bone (torso 0.82 m instead of 0.41 m).
* ``"add"``: local translation = ``OFFSET + channels``.

:func:`bvh_to_ntu25` retargets the Bandai-Namco skeleton (``Hips``, ``Spine``, ``Chest``,
``Neck``, ``Head``, ``Shoulder_L``, ``UpperArm_L``, ``LowerArm_L``, ``Hand_L``, ``UpperLeg_L``,
``LowerLeg_L``, ``Foot_L``, ``Toes_L`` and ``_R``; other names of the same joints are accepted,
see ``_ALIASES``) to the NTU-25 Kinect v2 layout, centimetres to metres, and places it in Kinect
camera space (y up, z away from the camera, the person 3 m away facing it on the first frame,
their right side at larger x). :func:`load_bvh` does all of it and returns a
:class:`~skelzs.stream.skeleton.SkeletonSequence` with one person slot.

Bandai-Namco file names are ``dataset-N_<label>_<style>_<NNN>.bvh``; :func:`bvh_label` splits
them with the dataset's list of styles (:data:`BANDAI_STYLES`), so hyphenated labels such as
``wave-right-hand`` and styles such as ``not-confident`` parse right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.skeleton import SkeletonSequence

__all__ = [
    "BvhMotion",
    "read_bvh",
    "forward_kinematics",
    "bvh_to_ntu25",
    "load_bvh",
    "bvh_label",
    "BANDAI_STYLES",
    "MAX_FILE_BYTES",
]

MAX_FILE_BYTES = 512 * 1024 * 1024

#: Styles of the Bandai-Namco Research Motion datasets: the 15 of dataset-1, then the two that
#: only dataset-2 uses (``elderly``, ``exhausted``; dataset-2 also uses ``active`` and ``normal``).
BANDAI_STYLES: tuple[str, ...] = (
    "active", "angry", "childish", "chimpira", "feminine", "giant", "happy", "masculinity",
    "musical", "normal", "not-confident", "old", "proud", "sad", "tired",
    "elderly", "exhausted",
)

_CHANNELS = {
    "xposition": "Xposition", "yposition": "Yposition", "zposition": "Zposition",
    "xrotation": "Xrotation", "yrotation": "Yrotation", "zrotation": "Zrotation",
}
_AXIS = {"X": 0, "Y": 1, "Z": 2}


@dataclass
class BvhMotion:
    """A parsed BVH file.

    ``names[j]``, ``parents[j]`` (-1 for a root; parents precede children), ``offsets[j]``
    (``(J, 3)``, file units), ``channels[j]`` (canonical names such as ``"Zrotation"``, in file
    order), ``motion`` ``(F, C)`` float64 with the joints' channels in hierarchy order,
    ``frame_time`` in seconds. ``end_sites`` holds ``(joint index, offset)`` for each ``End Site``.
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[tuple[str, ...]]
    motion: np.ndarray
    frame_time: float
    end_sites: list[tuple[int, np.ndarray]] = field(default_factory=list)
    path: str | None = None

    @property
    def num_joints(self) -> int:
        return len(self.names)

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def fps(self) -> float:
        """``1 / frame_time``, snapped to a whole number when within 0.01 % of one (0.0333333 -> 30)."""
        fps = 1.0 / self.frame_time
        whole = round(fps)
        return float(whole) if whole > 0 and abs(fps - whole) <= 1e-4 * fps else fps

    def channel_start(self) -> np.ndarray:
        """Column in ``motion`` of each joint's first channel, ``(J,)``."""
        counts = np.array([len(c) for c in self.channels], dtype=np.int64)
        return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    def index(self, name: str) -> int:
        return self.names.index(name)


# --------------------------------------------------------------------------------------- reading

def _read_text(path: str | Path) -> str:
    from skelzs.stream.errors import read_text_file

    return read_text_file(path, MAX_FILE_BYTES, "utf-8-sig", "BVH")


def _float(path, line: int, tok: str, what: str) -> float:
    try:
        value = float(tok)
    except ValueError:
        raise SkeletonFormatError(path, line, f"{what}: {tok[:40]!r} is not a number") from None
    if not np.isfinite(value):
        raise SkeletonFormatError(path, line, f"{what}: {tok[:40]!r} is not a finite number")
    return value


class _Hierarchy:
    """Recursive-descent parser over ``(token, line)`` pairs of the HIERARCHY section."""

    def __init__(self, path, tokens: list[tuple[str, int]], end_line: int):
        self.path = path
        self.tokens = tokens
        self.pos = 0
        self.end_line = end_line
        self.names: list[str] = []
        self.parents: list[int] = []
        self.offsets: list[tuple[float, float, float]] = []
        self.channels: list[tuple[str, ...]] = []
        self.end_sites: list[tuple[int, np.ndarray]] = []

    def error(self, line: int | None, reason: str) -> SkeletonFormatError:
        return SkeletonFormatError(self.path, line, reason)

    def next(self, what: str) -> tuple[str, int]:
        if self.pos >= len(self.tokens):
            raise self.error(self.end_line, f"HIERARCHY ends early: expected {what}")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, word: str) -> int:
        tok, line = self.next(repr(word))
        if tok != word:
            raise self.error(line, f"expected {word!r}, found {tok[:40]!r}")
        return line

    def offset(self, line: int) -> tuple[float, float, float]:
        vals = []
        for _ in range(3):
            tok, ln = self.next("3 OFFSET values")
            if ln != line:
                raise self.error(line, "OFFSET needs 3 values on its line")
            vals.append(_float(self.path, ln, tok, "OFFSET"))
        return vals[0], vals[1], vals[2]

    def parse(self) -> None:
        self.expect("HIERARCHY")
        while self.pos < len(self.tokens):
            tok, line = self.next("ROOT")
            if tok.upper() != "ROOT":
                raise self.error(line, f"expected ROOT, found {tok[:40]!r}")
            self.joint(line, -1)
        if not self.names:
            raise self.error(self.end_line, "HIERARCHY has no ROOT joint")

    def joint(self, line: int, parent: int) -> None:
        name_toks = []
        while self.pos < len(self.tokens) and self.tokens[self.pos][1] == line and self.tokens[self.pos][0] != "{":
            name_toks.append(self.tokens[self.pos][0])
            self.pos += 1
        if not name_toks:
            raise self.error(line, "joint without a name")
        name = " ".join(name_toks)
        if name in self.names:
            raise self.error(line, f"joint name {name!r} used twice")
        self.expect("{")
        index = len(self.names)
        self.names.append(name)
        self.parents.append(parent)
        self.offsets.append((0.0, 0.0, 0.0))
        self.channels.append(())
        have_offset = False
        while True:
            tok, ln = self.next("'}'")
            key = tok.upper()
            if tok == "}":
                break
            if key == "OFFSET":
                self.offsets[index] = self.offset(ln)
                have_offset = True
            elif key == "CHANNELS":
                ntok, nln = self.next("channel count")
                try:
                    n = int(ntok)
                except ValueError:
                    raise self.error(nln, f"CHANNELS count {ntok[:40]!r} is not an integer") from None
                if not 0 <= n <= 6:
                    raise self.error(nln, f"CHANNELS count {n} outside 0..6")
                chans = []
                for _ in range(n):
                    ctok, cln = self.next(f"{n} channel names")
                    canon = _CHANNELS.get(ctok.lower())
                    if canon is None:
                        raise self.error(cln, f"unknown channel {ctok[:40]!r}")
                    if canon in chans:
                        raise self.error(cln, f"channel {canon} listed twice")
                    chans.append(canon)
                self.channels[index] = tuple(chans)
            elif key == "JOINT":
                self.joint(ln, index)
            elif key == "END":
                self.expect_ci("Site")
                self.expect("{")
                oline = self.expect_ci("OFFSET")
                off = self.offset(oline)
                self.expect("}")
                self.end_sites.append((index, np.array(off, dtype=np.float64)))
            else:
                raise self.error(ln, f"unexpected {tok[:40]!r} in joint {name!r}")
        if not have_offset:
            raise self.error(line, f"joint {name!r} has no OFFSET")

    def expect_ci(self, word: str) -> int:
        tok, line = self.next(repr(word))
        if tok.upper() != word.upper():
            raise self.error(line, f"expected {word!r}, found {tok[:40]!r}")
        return line


def _header_value(path, lines: list[str], i: int, key: str) -> tuple[str, int]:
    """Find the ``key: value`` line at or after ``i`` (skipping blank lines); returns (value, next i)."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise SkeletonFormatError(path, len(lines), f"MOTION section lacks '{key}:'")
    text = lines[i].strip()
    head, sep, value = text.partition(":")
    if not sep or " ".join(head.split()).lower() != key.lower():
        raise SkeletonFormatError(path, i + 1, f"expected '{key}:', found {text[:40]!r}")
    return value.strip(), i + 1


def read_bvh(path: str | Path) -> BvhMotion:
    """Parse a BVH file. Raises :class:`SkeletonFormatError` (file, line, reason) on bad input."""
    text = _read_text(path)
    lines = text.splitlines()
    motion_i = None
    tokens: list[tuple[str, int]] = []
    for i, raw in enumerate(lines):
        parts = raw.split()
        if parts and parts[0].upper() == "MOTION":
            motion_i = i
            break
        # "{" and "}" glued to names ("Hips{") are split off
        for part in parts:
            for piece in re.split(r"([{}])", part):
                if piece:
                    tokens.append((piece, i + 1))
    if motion_i is None:
        raise SkeletonFormatError(path, len(lines), "no MOTION section (truncated or not a BVH file)")
    if len(lines[motion_i].split()) > 1:
        raise SkeletonFormatError(path, motion_i + 1, "unexpected text after MOTION")
    hier = _Hierarchy(path, tokens, motion_i + 1)
    hier.parse()

    value, i = _header_value(path, lines, motion_i + 1, "Frames")
    try:
        frames = int(value)
    except ValueError:
        raise SkeletonFormatError(path, i, f"Frames: {value[:40]!r} is not an integer") from None
    if frames < 0:
        raise SkeletonFormatError(path, i, f"Frames: {frames} is negative")
    value, i = _header_value(path, lines, i, "Frame Time")
    frame_time = _float(path, i, value, "Frame Time")
    if frame_time <= 0:
        raise SkeletonFormatError(path, i, f"Frame Time {frame_time} must be positive")

    n_channels = sum(len(c) for c in hier.channels)
    rows: list[str] = []
    row_lines: list[int] = []
    for j in range(i, len(lines)):
        raw = lines[j]
        if not raw.strip():
            continue
        if len(rows) >= frames:
            raise SkeletonFormatError(path, j + 1, f"more frame lines than the {frames} announced")
        count = len(raw.split())
        if count != n_channels:
            raise SkeletonFormatError(path, j + 1, f"frame {len(rows) + 1} has {count} values, "
                                      f"the hierarchy has {n_channels} channels")
        rows.append(raw)
        row_lines.append(j + 1)
    if len(rows) < frames:
        raise SkeletonFormatError(path, len(lines), f"truncated: {frames} frames announced, "
                                  f"{len(rows)} found")
    if n_channels == 0 or frames == 0:
        motion = np.zeros((frames, n_channels), np.float64)
    else:
        try:
            motion = np.array(" ".join(rows).split(), dtype=np.float64).reshape(frames, n_channels)
        except ValueError:
            motion = None
        if motion is None or not np.isfinite(motion).all():
            for ln, raw in zip(row_lines, rows):
                for tok in raw.split():
                    _float(path, ln, tok, "frame value")
            raise SkeletonFormatError(path, None, "unreadable frame values")  # not reached
    return BvhMotion(
        names=hier.names,
        parents=np.array(hier.parents, dtype=np.int64),
        offsets=np.array(hier.offsets, dtype=np.float64).reshape(-1, 3),
        channels=hier.channels,
        motion=motion,
        frame_time=frame_time,
        end_sites=hier.end_sites,
        path=str(path),
    )


# ----------------------------------------------------------------------------- forward kinematics

def _axis_rotation(axis: int, degrees: np.ndarray) -> np.ndarray:
    """``(F, 3, 3)`` right-handed rotations about x/y/z by ``degrees`` (column-vector convention)."""
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(a.shape + (3, 3), np.float64)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def forward_kinematics(motion: BvhMotion, translation: str = "replace",
                       return_rotations: bool = False):
    """World positions ``(F, J, 3)`` (file units) of every joint on every frame.

    ``translation`` is ``"replace"`` (position channels replace the OFFSET on their axis) or
    ``"add"`` (OFFSET + channels); see the module docstring. With ``return_rotations`` also
    returns the global rotations ``(F, J, 3, 3)``.
    """
    if translation not in ("replace", "add"):
        raise ValueError(f"translation must be 'replace' or 'add', got {translation!r}")
    f = motion.num_frames
    n = motion.num_joints
    pos = np.zeros((f, n, 3), np.float64)
    rot = np.zeros((f, n, 3, 3), np.float64)
    starts = motion.channel_start()
    eye = np.broadcast_to(np.eye(3), (f, 3, 3))
    for j in range(n):
        local_r = eye
        local_t = np.broadcast_to(motion.offsets[j], (f, 3)).copy()
        for k, ch in enumerate(motion.channels[j]):
            col = motion.motion[:, starts[j] + k]
            axis = _AXIS[ch[0]]
            if ch.endswith("rotation"):
                local_r = local_r @ _axis_rotation(axis, col)
            elif translation == "replace":
                local_t[:, axis] = col
            else:
                local_t[:, axis] += col
        p = motion.parents[j]
        if p < 0:
            rot[:, j] = local_r
            pos[:, j] = local_t
        else:
            rot[:, j] = rot[:, p] @ local_r
            pos[:, j] = pos[:, p] + np.einsum("fab,fb->fa", rot[:, p], local_t)
    return (pos, rot) if return_rotations else pos


# ------------------------------------------------------------------------------------ retargeting

#: Accepted names (case-insensitive) for each source joint the NTU mapping uses.
_ALIASES: dict[str, tuple[str, ...]] = {
    "hips": ("Hips", "Hip", "Pelvis", "joint_Hips"),
    "spine": ("Spine", "Spine1", "LowerBack"),
    "chest": ("Chest", "Spine2", "UpperChest", "Spine1"),
    "neck": ("Neck", "Neck1"),
    "head": ("Head",),
    "upperarm_l": ("UpperArm_L", "LeftArm", "LeftUpperArm", "l_upperarm"),
    "lowerarm_l": ("LowerArm_L", "LeftForeArm", "LeftLowerArm", "l_forearm"),
    "hand_l": ("Hand_L", "LeftHand", "l_hand"),
    "upperarm_r": ("UpperArm_R", "RightArm", "RightUpperArm", "r_upperarm"),
    "lowerarm_r": ("LowerArm_R", "RightForeArm", "RightLowerArm", "r_forearm"),
    "hand_r": ("Hand_R", "RightHand", "r_hand"),
    "upperleg_l": ("UpperLeg_L", "LeftUpLeg", "LeftUpperLeg", "LeftThigh"),
    "lowerleg_l": ("LowerLeg_L", "LeftLeg", "LeftLowerLeg", "LeftShin"),
    "foot_l": ("Foot_L", "LeftFoot"),
    "toes_l": ("Toes_L", "LeftToeBase", "LeftToe", "LeftToes"),
    "upperleg_r": ("UpperLeg_R", "RightUpLeg", "RightUpperLeg", "RightThigh"),
    "lowerleg_r": ("LowerLeg_R", "RightLeg", "RightLowerLeg", "RightShin"),
    "foot_r": ("Foot_R", "RightFoot"),
    "toes_r": ("Toes_R", "RightToeBase", "RightToe", "RightToes"),
}
_OPTIONAL = {"spine", "chest", "toes_l", "toes_r"}

#: Synthesized joints, metres: HandLeft/Right this far beyond the wrist along LowerArm->Hand,
#: HandTip this much further, Thumb this far from the hand point towards the body's front, and
#: the NTU Head (head centre) this far beyond the BVH Head joint along Neck->Head.
HAND_M = 0.08
HANDTIP_M = 0.08
THUMB_M = 0.04
HEAD_M = 0.10
#: Toes stand-in when a skeleton has none: this far in front of the ankle.
FOOT_M = 0.12
CAMERA_DISTANCE_M = 3.0
HEIGHT_SHIFT_M = 1.0


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-9, n, 1.0)


def bvh_to_ntu25(positions: np.ndarray, names: list[str], units_per_metre: float = 100.0) -> np.ndarray:
    """Retarget world positions ``(F, J, 3)`` (BVH space, y up) to NTU-25 ``(F, 25, 3)`` metres in
    Kinect camera space.

    Mapping: SpineBase = Hips; SpineMid = Chest (the Chest joint sits 0.60 of the way up the
    Hips->Neck chain, NTU's SpineMid at ~0.57; Spine-Chest midpoint without a Chest joint is not
    needed here, Spine alone is used then); SpineShoulder = Neck (the chest top, level with the
    shoulders); NTU Neck = BVH Head joint (top of the neck, 6.5 cm up on the Bandai skeleton; NTU
    puts Neck ~7 cm above SpineShoulder); NTU Head = head centre, ``HEAD_M`` beyond the BVH Head
    along Neck->Head; shoulders = UpperArm; elbows = LowerArm; wrists = Hand; HandLeft/Right,
    HandTip and Thumb synthesized (the skeleton has no fingers); hips = UpperLeg; knees =
    LowerLeg; ankles = Foot; feet = Toes.

    Placement: units to metres; rotated about the vertical so that the first frame's facing
    (``up x (hip_right - hip_left)``) points at the camera (-z) and the person's right side has
    larger x; the first frame's SpineBase moved to x = 0, z = 3 m; y = height - 1 m. Later frames
    keep their global translation. A proper rotation: nothing is mirrored.
    """
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[-1] != 3 or positions.shape[1] != len(names):
        raise ValueError(f"positions must be (F, {len(names)}, 3), got {positions.shape}")
    if positions.shape[0] == 0:
        raise ValueError("no frames")
    lower = {n.lower(): i for i, n in enumerate(names)}
    idx: dict[str, int] = {}
    for key, cands in _ALIASES.items():
        for c in cands:
            if c.lower() in lower:
                idx[key] = lower[c.lower()]
                break
        else:
            if key not in _OPTIONAL:
                raise ValueError(f"skeleton has no {key} joint (tried {', '.join(cands)})")
    p = positions / units_per_metre
    g = {k: p[:, i] for k, i in idx.items()}

    up = np.array([0.0, 1.0, 0.0])
    right = g["upperleg_r"] - g["upperleg_l"]
    fwd = _unit(np.cross(up, right))                                   # (F, 3) per frame

    out = np.zeros((p.shape[0], 25, 3), np.float64)
    out[:, 0] = g["hips"]
    if "chest" in g:
        out[:, 1] = g["chest"]
    elif "spine" in g:
        out[:, 1] = g["spine"]
    else:
        out[:, 1] = 0.5 * (g["hips"] + g["neck"])
    out[:, 20] = g["neck"]
    out[:, 2] = g["head"]
    out[:, 3] = g["head"] + HEAD_M * _unit(g["head"] - g["neck"])
    for side, (sh, el, wr, hand, tip, thumb) in (("l", (4, 5, 6, 7, 21, 22)), ("r", (8, 9, 10, 11, 23, 24))):
        out[:, sh] = g[f"upperarm_{side}"]
        out[:, el] = g[f"lowerarm_{side}"]
        out[:, wr] = g[f"hand_{side}"]
        d = _unit(g[f"hand_{side}"] - g[f"lowerarm_{side}"])
        out[:, hand] = out[:, wr] + HAND_M * d
        out[:, tip] = out[:, hand] + HANDTIP_M * d
        side_dir = fwd - np.sum(fwd * d, axis=-1, keepdims=True) * d  # body front, across the forearm
        out[:, thumb] = out[:, hand] + THUMB_M * _unit(side_dir)
    for side, (hip, knee, ankle, foot) in (("l", (12, 13, 14, 15)), ("r", (16, 17, 18, 19))):
        out[:, hip] = g[f"upperleg_{side}"]
        out[:, knee] = g[f"lowerleg_{side}"]
        out[:, ankle] = g[f"foot_{side}"]
        out[:, foot] = g[f"toes_{side}"] if f"toes_{side}" in g else g[f"foot_{side}"] + FOOT_M * fwd

    # camera placement from the first frame
    r0 = right[0].copy()
    r0[1] = 0.0
    if np.linalg.norm(r0) < 1e-9:
        raise ValueError("cannot tell the facing: hips coincide horizontally on the first frame")
    r0 /= np.linalg.norm(r0)
    f0 = np.cross(up, r0)
    rotation = np.stack([r0, up, -f0])                                 # rows: r0 -> +x, f0 -> -z
    base0 = out[0, 0].copy()
    base0[1] = 0.0
    out = (out - base0) @ rotation.T
    out[..., 1] -= HEIGHT_SHIFT_M
    out[..., 2] += CAMERA_DISTANCE_M
    return out


# ---------------------------------------------------------------------------------------- loading

_NAME_RE = re.compile(
    r"^(?:dataset-(?P<ds>\d+)_)?(?P<label>.+)_(?P<style>" + "|".join(re.escape(s) for s in BANDAI_STYLES)
    + r")_(?P<num>\d+)$")


def bvh_label(path: str | Path) -> tuple[str | None, str | None]:
    """``(label, style)`` from a Bandai-Namco file name ``dataset-N_<label>_<style>_<NNN>.bvh``;
    ``(None, None)`` for a name that does not follow it."""
    stem = Path(path).name
    if stem.lower().endswith(".bvh"):
        stem = stem[:-4]
    m = _NAME_RE.match(stem)
    if not m:
        return None, None
    return m.group("label"), m.group("style")


def load_bvh(path: str | Path, translation: str = "replace") -> SkeletonSequence:
    """A BVH take as a one-person NTU-25 :class:`SkeletonSequence` in Kinect v2 camera space."""
    motion = read_bvh(path)
    if motion.num_frames == 0:
        raise SkeletonFormatError(path, None, "no frames")
    pos = forward_kinematics(motion, translation=translation)
    try:
        ntu = bvh_to_ntu25(pos, motion.names)
    except ValueError as err:
        raise SkeletonFormatError(path, None, f"cannot map to NTU-25: {err}") from None
    label, style = bvh_label(path)
    meta = {"format": "bvh", "path": str(path), "action": None, "label": label, "style": style}
    return SkeletonSequence(ntu[:, None].astype(np.float32), "ntu25", motion.fps, None, meta)
