"""BVH reader: parser, forward kinematics, NTU-25 retargeting, Bandai-Namco file names.

Real-take checks read the Bandai-Namco Research Motion dataset (CC BY-NC 4.0) from
``/work/data/bandai`` (or ``$SKELZS_BANDAI``); they skip when it is absent (CI has no copy).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from skelzs.stream.bvh import (
    BANDAI_STYLES,
    bvh_label,
    bvh_to_ntu25,
    forward_kinematics,
    load_bvh,
    read_bvh,
)
from skelzs.stream.errors import SkeletonFormatError

BANDAI = Path(os.environ.get("SKELZS_BANDAI", "/work/data/bandai"))

# A 3-joint chain A -> B -> C (+ End Site), bones 10 units along +y. Frame 1: root moved to
# (1, 2, 3); frame 2: B turned 90 degrees about z; frame 3: root turned 90 degrees about x.
CHAIN = """HIERARCHY
ROOT A
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT B
\t{
\t\tOFFSET 0 10 0
\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\tJOINT C
\t\t{
\t\t\tOFFSET 0 10 0
\t\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\t\tEnd Site
\t\t\t{
\t\t\t\tOFFSET 0 5 0
\t\t\t}
\t\t}
\t}
}
MOTION
Frames: 3
Frame Time: 0.0333333
1 2 3 0 0 0  0 0 0  0 0 0
0 0 0 0 0 0  90 0 0  0 0 0
0 0 0 0 90 0  0 0 0  0 0 0
"""


def _write(tmp_path: Path, text: str, name: str = "take.bvh") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_parse_chain(tmp_path):
    m = read_bvh(_write(tmp_path, CHAIN))
    assert m.names == ["A", "B", "C"]
    assert m.parents.tolist() == [-1, 0, 1]
    np.testing.assert_allclose(m.offsets, [[0, 0, 0], [0, 10, 0], [0, 10, 0]])
    assert m.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
    assert m.channels[1] == ("Zrotation", "Xrotation", "Yrotation")
    assert m.motion.shape == (3, 12)
    assert m.frame_time == pytest.approx(1 / 30, rel=1e-5)
    assert m.fps == 30.0
    assert len(m.end_sites) == 1 and m.end_sites[0][0] == 2
    np.testing.assert_allclose(m.end_sites[0][1], [0, 5, 0])


def test_forward_kinematics_hand_computed(tmp_path):
    pos = forward_kinematics(read_bvh(_write(tmp_path, CHAIN)))
    assert pos.shape == (3, 3, 3)
    # frame 1: pure root translation
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [1, 12, 3], [1, 22, 3]], atol=1e-9)
    # frame 2: Rz(90) at B sends C's offset (0, 10, 0) to (-10, 0, 0); B itself does not move
    np.testing.assert_allclose(pos[1], [[0, 0, 0], [0, 10, 0], [-10, 10, 0]], atol=1e-9)
    # frame 3: Rx(90) at the root sends +y to +z for the whole chain
    np.testing.assert_allclose(pos[2], [[0, 0, 0], [0, 0, 10], [0, 0, 20]], atol=1e-9)


def _two_rotations(order: str) -> str:
    """Chain whose joint B is turned 90 degrees about x and 90 about z, channels in ``order``."""
    values = {"Xrotation": "90", "Yrotation": "0", "Zrotation": "90"}
    row = " ".join(values[c] for c in order.split())
    return f"""HIERARCHY
ROOT A
{{
  OFFSET 0 0 0
  CHANNELS 3 Xposition Yposition Zposition
  JOINT B
  {{
    OFFSET 0 10 0
    CHANNELS 3 {order}
    End Site
    {{
      OFFSET 0 10 0
    }}
  }}
  JOINT C
  {{
    OFFSET 0 10 0
    CHANNELS 3 {order}
    JOINT D
    {{
      OFFSET 0 10 0
      CHANNELS 0
      End Site
      {{
        OFFSET 0 0 0
      }}
    }}
  }}
}}
MOTION
Frames: 1
Frame Time: 0.04
0 0 0 0 0 0 {row}
"""


def test_channel_order(tmp_path):
    zxy = forward_kinematics(read_bvh(_write(tmp_path, _two_rotations("Zrotation Xrotation Yrotation"), "zxy.bvh")))
    xyz = forward_kinematics(read_bvh(_write(tmp_path, _two_rotations("Xrotation Yrotation Zrotation"), "xyz.bvh")))
    # joint D hangs off C (offset (0, 10, 0)), C turned Rx(90) and Rz(90).
    # Z X Y: R = Rz @ Rx: Rx sends (0,10,0) to (0,0,10), Rz keeps it -> D = C + (0, 0, 10)
    np.testing.assert_allclose(zxy[0, 3], [0, 10, 10], atol=1e-9)
    # X Y Z: R = Rx @ Rz: Rz sends (0,10,0) to (-10,0,0), Rx keeps it -> D = C + (-10, 0, 0)
    np.testing.assert_allclose(xyz[0, 3], [-10, 10, 0], atol=1e-9)
    m = read_bvh(tmp_path / "xyz.bvh")
    assert m.fps == 25.0 and m.channels[3] == ()


def test_translation_modes(tmp_path):
    # position channels on a non-root joint: "replace" uses them as the local translation,
    # "add" adds them to the OFFSET
    text = CHAIN.replace("CHANNELS 3 Zrotation Xrotation Yrotation\n\t\tJOINT C",
                         "CHANNELS 4 Yposition Zrotation Xrotation Yrotation\n\t\tJOINT C")
    text = text.replace("1 2 3 0 0 0  0 0 0  0 0 0\n", "0 0 0 0 0 0  4 0 0 0  0 0 0\n")
    text = text.replace("0 0 0 0 0 0  90 0 0  0 0 0\n", "0 0 0 0 0 0  10 0 0 0  0 0 0\n")
    text = text.replace("0 0 0 0 90 0  0 0 0  0 0 0\n", "0 0 0 0 0 0  10 0 0 0  0 0 0\n")
    m = read_bvh(_write(tmp_path, text))
    replace = forward_kinematics(m)
    add = forward_kinematics(m, translation="add")
    np.testing.assert_allclose(replace[0, 1], [0, 4, 0], atol=1e-9)
    np.testing.assert_allclose(add[0, 1], [0, 14, 0], atol=1e-9)
    np.testing.assert_allclose(replace[1, 2], [0, 20, 0], atol=1e-9)
    with pytest.raises(ValueError):
        forward_kinematics(m, translation="bogus")


@pytest.mark.parametrize("mutate, line, words", [
    (lambda t: t[: t.index("MOTION")], 20, "no MOTION section"),
    (lambda t: t.rsplit("\n", 2)[0] + "\n", 25, "truncated: 3 frames announced, 2 found"),
    (lambda t: t.rsplit("\n", 2)[0] + "\n0 0 0 0 90\n", 26, "has 5 values"),
    (lambda t: t.replace("0 0 0 0 90 0  0", "0 0 0 0 abc 0  0"), 26, "'abc' is not a number"),
    (lambda t: t.replace("0 0 0 0 90 0  0", "0 0 0 0 nan 0  0"), 26, "not a finite number"),
    (lambda t: t.replace("Frames: 3", "Frames: three"), 22, "Frames"),
    (lambda t: t.replace("Frame Time: 0.0333333", "Frame Time: 0"), 23, "must be positive"),
    (lambda t: t.replace("OFFSET 0 10 0\n\t\tCHANNELS 3", "OFFSET 0 10\n\t\tCHANNELS 3"), 8, "OFFSET"),
    (lambda t: t.replace("CHANNELS 3 Zrotation Xrotation Yrotation\n\t\tJOINT",
                         "CHANNELS 3 Zrotation Wrotation Yrotation\n\t\tJOINT"), 9, "unknown channel"),
    (lambda t: t.replace("\t}\n}\nMOTION", "\t}\nMOTION"), 20, "HIERARCHY ends early"),
    (lambda t: t + "0 0 0 0 0 0  0 0 0  0 0 0\n", 27, "more frame lines"),
    (lambda t: "", 1, "empty file"),
])
def test_corrupt_input_one_line_error(tmp_path, mutate, line, words):
    path = _write(tmp_path, mutate(CHAIN), "broken.bvh")
    with pytest.raises(SkeletonFormatError) as ex:
        read_bvh(path)
    msg = str(ex.value)
    assert "\n" not in msg
    assert msg.startswith(str(path))
    assert words in msg
    assert ex.value.line == line


def test_missing_file_is_format_error(tmp_path):
    with pytest.raises(SkeletonFormatError, match="cannot read file"):
        read_bvh(tmp_path / "absent.bvh")


def test_bvh_label():
    assert len(BANDAI_STYLES) == 17
    assert bvh_label("dataset-2_wave-right-hand_active_001.bvh") == ("wave-right-hand", "active")
    assert bvh_label("/x/y/dataset-1_bow_angry_001.bvh") == ("bow", "angry")
    assert bvh_label("dataset-1_walk-back_not-confident_001.bvh") == ("walk-back", "not-confident")
    assert bvh_label("dataset-2_raise-up-both-hands_elderly_012.bvh") == ("raise-up-both-hands", "elderly")
    assert bvh_label(Path("dataset-1_dash_chimpira_001.bvh")) == ("dash", "chimpira")
    assert bvh_label("something_else.bvh") == (None, None)


_BANDAI_NAMES = ["joint_Root", "Hips", "Spine", "Chest", "Neck", "Head",
                 "Shoulder_L", "UpperArm_L", "LowerArm_L", "Hand_L",
                 "Shoulder_R", "UpperArm_R", "LowerArm_R", "Hand_R",
                 "UpperLeg_L", "LowerLeg_L", "Foot_L", "Toes_L",
                 "UpperLeg_R", "LowerLeg_R", "Foot_R", "Toes_R"]


def _standing_facing_plus_x() -> np.ndarray:
    """A standing pose in BVH space (cm, y up) facing +x: the right side is +z (y x z = x)."""
    p = {
        "joint_Root": (0, 0, 0), "Hips": (0, 90, 0), "Spine": (0, 105, 0), "Chest": (0, 115, 0),
        "Neck": (0, 131, 0), "Head": (0, 138, 0),
        "Shoulder_L": (0, 128, -5), "UpperArm_L": (0, 128, -18), "LowerArm_L": (0, 103, -20),
        "Hand_L": (0, 80, -20),
        "Shoulder_R": (0, 128, 5), "UpperArm_R": (0, 128, 18), "LowerArm_R": (0, 103, 20),
        "Hand_R": (0, 80, 20),
        "UpperLeg_L": (0, 88, -7), "LowerLeg_L": (0, 49, -7), "Foot_L": (0, 8, -7), "Toes_L": (11, 2, -7),
        "UpperLeg_R": (0, 88, 7), "LowerLeg_R": (0, 49, 7), "Foot_R": (0, 8, 7), "Toes_R": (11, 2, 7),
    }
    frame = np.array([p[n] for n in _BANDAI_NAMES], dtype=np.float64) + [250.0, 0.0, -400.0]
    walked = frame + [100.0, 0.0, 0.0]          # one metre forward
    return np.stack([frame, walked])


def test_retarget_places_person_facing_camera():
    ntu = bvh_to_ntu25(_standing_facing_plus_x(), _BANDAI_NAMES)
    assert ntu.shape == (2, 25, 3)
    np.testing.assert_allclose(ntu[0, 0], [0.0, -0.10, 3.0], atol=1e-9)     # 90 cm hips - 1 m
    assert ntu[0, 8, 0] > ntu[0, 4, 0] + 0.3                                  # right shoulder larger x
    assert ntu[0, 16, 0] > ntu[0, 12, 0]                                      # right hip too
    assert (ntu[0, [15, 19], 2] < ntu[0, [14, 18], 2]).all()                  # toes point at the camera
    assert ntu[0, 3, 1] > ntu[0, 2, 1] > ntu[0, 20, 1] > ntu[0, 1, 1] > ntu[0, 0, 1]
    torso = np.linalg.norm(ntu[0, 20] - ntu[0, 0])
    assert torso == pytest.approx(0.41)
    # hands continue the forearm downwards; thumbs sit in front of the hands
    assert ntu[0, 23, 1] < ntu[0, 11, 1] < ntu[0, 10, 1]
    assert ntu[0, 24, 2] < ntu[0, 11, 2]
    # walking forward one metre moves the body one metre towards the camera
    np.testing.assert_allclose(ntu[1] - ntu[0], np.broadcast_to([0, 0, -1.0], (25, 3)), atol=1e-9)
    with pytest.raises(ValueError, match="no hand_l joint"):
        bvh_to_ntu25(_standing_facing_plus_x()[:, :9], _BANDAI_NAMES[:9])


# --------------------------------------------------------------------------------- real takes

def _take(pattern: str) -> Path:
    if not BANDAI.is_dir():
        pytest.skip(f"Bandai-Namco BVH takes not found at {BANDAI} (set SKELZS_BANDAI)")
    takes = sorted(BANDAI.glob(pattern))
    if not takes:
        pytest.skip(f"no take matching {pattern} in {BANDAI}")
    return takes[0]


def test_real_take_shape_fps_meta():
    path = _take("dataset-1_bow_angry_*.bvh")
    seq = load_bvh(path)
    assert seq.layout == "ntu25"
    assert seq.joints.shape[1:] == (1, 25, 3) and seq.num_frames == read_bvh(path).num_frames
    assert seq.joints.dtype == np.float32 and np.isfinite(seq.joints).all()
    assert seq.fps == 30.0
    assert seq.meta == {"format": "bvh", "path": str(path), "action": None, "label": "bow", "style": "angry"}


def test_real_take_torso_and_left_right():
    seq = load_bvh(_take("dataset-1_walk_normal_*.bvh"))
    j = seq.joints[:, 0]
    torso = np.linalg.norm(j[:, 20] - j[:, 0], axis=-1)
    assert 0.38 <= float(np.median(torso)) <= 0.6
    assert j[:10, 8, 0].mean() > j[:10, 4, 0].mean() + 0.1                   # right shoulder larger x
    np.testing.assert_allclose(j[0, 0, [0, 2]], [0.0, 3.0], atol=1e-6)
    assert -0.4 < j[0, 0, 1] < 0.2                                            # hips near y = 0
    assert j[:10, [15, 19], 2].mean() < j[:10, [14, 18], 2].mean()            # facing the camera
    # the walk keeps its global translation
    assert np.ptp(j[:, 0, 0]) + np.ptp(j[:, 0, 2]) > 1.0


def test_real_take_right_hand_wave():
    j = load_bvh(_take("dataset-2_wave-right-hand_active_*.bvh")).joints[:, 0]
    motion = np.linalg.norm(j.std(axis=0), axis=-1)
    tracked = [i for i in range(25) if i not in (7, 11, 21, 22, 23, 24)]     # not synthesized
    assert max(tracked, key=lambda i: motion[i]) == 10
    assert motion[10] > 3 * motion[6]
    assert j[:, 10, 1].mean() > j[:, 6, 1].mean() + 0.3                       # right wrist higher
    assert j[:10, 8, 0].mean() > j[:10, 4, 0].mean()
