"""The procedural motion library: determinism, class separation, body/camera geometry, writers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skelzs.stream.layouts import NTU25, bone_lengths
from skelzs.stream.preprocess import resize_time
from skelzs.train.synth.actions import ACTIONS, action_index
from skelzs.train.synth.body import DOFS, BodyShape, forward_kinematics, solve_reach, ANCHORS
from skelzs.train.synth.generator import Variation, generate_recording, generate_sample


def test_library_size_and_names():
    names = [a.name for a in ACTIONS]
    assert len(names) == len(set(names)) >= 40
    two = [a for a in ACTIONS if a.persons == 2]
    assert {"handshaking", "hugging other person", "pushing other person", "high-five"} <= {a.name for a in two}
    for wanted in ("drink water", "hand waving", "falling", "sitting down", "kicking something", "salute",
                   "arm circles", "squat down", "turn around", "side bend", "walk in place"):
        assert ACTIONS[action_index(wanted)].name == wanted
    assert action_index("waving") == action_index("hand waving")  # aliases
    assert all(a.description.endswith(".") and len(a.description) > 20 for a in ACTIONS)


def test_same_seed_same_sample_other_seed_other_sample():
    a = generate_sample("hand waving", 123)
    b = generate_sample("hand waving", 123)
    c = generate_sample("hand waving", 124)
    np.testing.assert_array_equal(a.joints, b.joints)
    assert a.meta == b.meta
    assert a.joints.shape != c.joints.shape or not np.allclose(a.joints, c.joints)


def _canonical_features() -> np.ndarray:
    feats = []
    for i in range(len(ACTIONS)):
        s = generate_sample(i, 0, Variation.canonical())
        a, b = s.meta["segment"]
        j = s.joints[a:b].astype(np.float64)
        feats.append(resize_time(j.reshape(len(j), -1), 48).reshape(48, 2, 25, 3))
    f = np.stack(feats)
    return f - f[:, :1, :1, :1, :]  # relative to person 1's spine base in the first frame


def test_every_class_differs_measurably():
    """Max over joints of the RMS (over time) distance between canonical performances: >= 2 cm."""
    f = _canonical_features()
    for i in range(len(f)):
        d = np.sqrt(((f[i][None] - f) ** 2).sum(-1).mean(1)).max(axis=(1, 2))
        d[i] = np.inf
        k = int(d.argmin())
        assert d[k] > 0.02, f"{ACTIONS[i].name!r} and {ACTIONS[k].name!r} differ by only {d[k]:.4f} m"


def test_forward_kinematics_keeps_bone_lengths_and_ground():
    rng = np.random.default_rng(0)
    shape = BodyShape.sample(rng)
    dofs = rng.normal(0, 40, (50, len(DOFS)))
    dofs[:, :4] = 0.0
    pos = forward_kinematics(dofs, shape)
    rest = forward_kinematics(np.zeros(len(DOFS)), shape)
    np.testing.assert_allclose(bone_lengths(pos), np.broadcast_to(bone_lengths(rest), (50, len(NTU25.bones))),
                               atol=1e-6)
    np.testing.assert_allclose(pos[..., 1].min(-1), 0.0, atol=1e-12)  # lowest joint on the floor


def test_rest_pose_in_kinect_axes_faces_the_sensor():
    s = generate_sample("standing still", 0, Variation.canonical())
    j = s.joints[0, 0]
    left, right = NTU25.index("ShoulderLeft"), NTU25.index("ShoulderRight")
    assert j[left, 0] < j[right, 0]  # the person's left is the sensor's right (smaller x)
    assert j[NTU25.index("Head"), 1] > j[NTU25.index("SpineBase"), 1] > j[NTU25.index("FootLeft"), 1]
    assert 2.7 < j[0, 2] < 3.3
    assert j[NTU25.index("FootLeft"), 2] < j[NTU25.index("AnkleLeft"), 2]  # toes point at the sensor
    assert not s.joints[:, 1].any()  # one-person action: second slot empty


def test_reach_solver_puts_the_hand_on_the_anchor():
    for name in ("mouth", "ear", "chest", "forehead"):
        angles = solve_reach("r_", ANCHORS[name])
        d = np.zeros(len(DOFS))
        for k, v in angles.items():
            d[DOFS.index(k)] = v
        p = forward_kinematics(d, BodyShape(), ground=False)
        assert np.linalg.norm(p[11] - p[20] - np.array(ANCHORS[name])) < 0.02, name


def test_variation_changes_body_and_mirror_swaps_hands():
    heights = {round(float(np.ptp(generate_sample("standing still", s).joints[0, 0, :, 1])), 3) for s in range(6)}
    assert len(heights) > 3
    var = Variation.canonical()
    right = generate_sample("hand waving", 0, var)
    from dataclasses import replace

    left = generate_sample("hand waving", 0, replace(var, mirror_prob=1.0))
    hand_l, hand_r = NTU25.index("HandLeft"), NTU25.index("HandRight")
    mid = (right.meta["segment"][0] + right.meta["segment"][1]) // 2
    assert right.joints[mid, 0, hand_r, 1] > right.joints[mid, 0, hand_l, 1] + 0.4
    assert left.joints[mid, 0, hand_l, 1] > left.joints[mid, 0, hand_r, 1] + 0.4


def test_interaction_has_two_people_facing_each_other():
    s = generate_sample("handshaking", 3)
    assert s.present_persons() == 2
    a, b = s.meta["segment"]
    mid = (a + b) // 2
    hands = s.joints[mid, :, NTU25.index("HandRight")]
    spine = s.joints[mid, :, 0]
    assert np.linalg.norm(hands[0] - hands[1]) < 0.25  # right hands meet
    assert 0.5 < np.linalg.norm(spine[0] - spine[1]) < 1.4


def test_recording_segments_and_second_person():
    seq, segs = generate_recording(["drink water", "handshaking", "sitting down"], 5)
    assert [s["label"] for s in segs] == ["drink water", "handshaking", "sitting down"]
    assert all(0 <= s["start"] < s["end"] <= seq.num_frames for s in segs)
    assert all(segs[i]["end"] <= segs[i + 1]["start"] for i in range(len(segs) - 1))
    present2 = np.any(seq.joints[:, 1] != 0, axis=(1, 2))
    hs = segs[1]
    assert present2[hs["start"]:hs["end"]].all()
    assert not present2[segs[0]["start"]:segs[0]["end"]].any()


def test_cli_writes_a_raw_folder_prepare_reads(tmp_path):
    from skelzs.stream.ntu import read_ntu_skeleton
    from skelzs.train.dataset import scan_raw_folder
    from skelzs.train.synth_cli import SynthOptions, write_synth_dataset

    ids = [action_index("hand waving"), action_index("handshaking")]
    write_synth_dataset(SynthOptions(tmp_path, ids, per_class=3, seed=7, fmt="skeleton", window=48))
    spec = scan_raw_folder(tmp_path)
    assert spec.classes == ["hand waving", "handshaking"]
    assert len(spec.samples) == 6 and not spec.unlabelled
    assert {s.label for s in spec.samples} == {0, 1}
    for s in spec.samples:
        f = read_ntu_skeleton(s.path)  # the strict reader
        seq = f.to_sequence(2)
        assert seq.num_frames == 48
        assert seq.present_persons() == (2 if s.label == 1 else 1)
    info = json.loads((tmp_path / "synth.json").read_text())
    assert info["samples"] == 6 and info["window"] == 48


def test_skeleton_round_trip_is_exact(tmp_path):
    from skelzs.stream.ntu import read_ntu_skeleton, write_ntu_skeleton

    s = generate_sample("hugging other person", 11)
    path = tmp_path / "hug.skeleton"
    write_ntu_skeleton(path, s)
    back = read_ntu_skeleton(path).to_sequence(2)
    np.testing.assert_array_equal(back.joints, s.joints)


def test_cli_rejects_unknown_class(tmp_path):
    from skelzs.train.cli import app
    from skelzs.stream.cli import run_app
    import skelzs.train.synth_cli as synth_cli

    synth_cli.register(app)
    assert run_app(app, ["synth", "--out", str(tmp_path), "--classes", "juggling chainsaws"]) == 2


@pytest.mark.parametrize("fmt", ["npz", "skeleton"])
def test_multi_action_recordings_with_segments(tmp_path, fmt):
    from skelzs.stream.formats import load_sequence
    from skelzs.train.synth_cli import SynthOptions, write_synth_dataset

    ids = [action_index(n) for n in ("clapping", "bow", "high-five", "salute")]
    info = write_synth_dataset(SynthOptions(tmp_path, ids, per_class=1, seed=1, fmt=fmt, multi_action=True,
                                            recordings=2, actions_per_recording=(2, 3)))
    assert len(info["recordings"]) == 2
    for rec in info["recordings"]:
        seq = load_sequence(tmp_path / rec["file"])
        truth = json.loads((tmp_path / rec["file"]).with_suffix(".segments.json").read_text())
        assert truth["frames"] == seq.num_frames
        assert 2 <= len(truth["segments"]) <= 3


def test_kinect_noise_lies_within_real_recordings_and_legacy_above(shared_data):
    """``--noise kinect``: the library's frame-to-frame noise at 15 fps lies within the span of
    the real Kinect sources (PKU-MMD v2, UTKinect and MSR Action3D v1), joint group by joint group.
    The default ``legacy`` settings are noisier than every real source on the trunk."""
    from skelzs.tools.sensor_noise import library_residuals, noise_table, real_residuals

    real = [noise_table(n) for n in real_residuals(shared_data).values()]
    assert len(real) == 3
    kinect = noise_table(library_residuals(per_class=1, variation=Variation.kinect_noise()))
    for group in ("trunk", "head", "wrists", "hands", "feet"):
        lo, hi = min(r[group][0] for r in real), max(r[group][0] for r in real)
        assert 0.8 * lo <= kinect[group][0] <= 1.2 * hi, (group, kinect[group], lo, hi)
    # still a noisy sensor: hands flicker several times more than the trunk, as on the Kinect
    assert kinect["hands"][0] > 3 * kinect["trunk"][0]
    assert all(r["hands"][0] > 3 * r["trunk"][0] for r in real)
    legacy = noise_table(library_residuals(per_class=1))
    assert legacy["trunk"][0] > 1.2 * max(r["trunk"][0] for r in real)


def test_noise_setting_changes_only_the_noise():
    """Same seed, other noise: the same performance (body, camera, timing), other sensor noise."""
    a = generate_sample("brushing teeth", seed=5)
    b = generate_sample("brushing teeth", seed=5, var=Variation.kinect_noise())
    assert a.joints.shape == b.joints.shape and a.meta["mirrored"] == b.meta["mirrored"]
    diff = np.linalg.norm(a.joints - b.joints, axis=-1)
    assert 0 < np.median(diff) < 0.03


def test_cli_noise_option_is_recorded_and_checked(tmp_path, capsys):
    from skelzs.stream.cli import run_app
    from skelzs.train.cli import app
    import skelzs.train.synth_cli as synth_cli

    synth_cli.register(app)
    out = tmp_path / "k"
    assert run_app(app, ["synth", "--out", str(out), "--classes", "clapping", "--per-class", "2", "--noise", "kinect"]) == 0
    assert json.loads((out / "synth.json").read_text())["noise"] == "kinect"
    from skelzs.stream.formats import load_sequence

    seq = load_sequence(sorted((out / "clapping").glob("*.npz"))[0])
    ref = generate_sample("clapping", seed=seq.meta["seed"], var=Variation.kinect_noise())
    assert np.array_equal(seq.joints, ref.joints)
    capsys.readouterr()
    assert run_app(app, ["synth", "--out", str(tmp_path / "x"), "--noise", "loud"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--noise 'loud'" in err[0]
    assert run_app(app, ["synth", "--out", str(tmp_path / "y"), "--hold-prob", "1.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--hold-prob 1.5" in err[0]
    held = tmp_path / "h"
    assert run_app(app, ["synth", "--out", str(held), "--classes", "drink water", "--per-class", "1", "--hold-prob", "1"]) == 0
    assert json.loads((held / "synth.json").read_text())["hold_prob"] == 1.0


def test_hold_prob_starts_upper_body_actions_with_the_hands_in_front():
    """``hold_prob=1``: an upper-body action begins and ends with both hands held in front of the
    belly (hand-head distance about 0.55 m rather than 0.8 m hanging), and still reaches the mouth;
    a whole-body action (jump up) is left as it is."""
    import dataclasses

    still = dataclasses.replace(Variation.canonical(), hold_prob=1.0)
    held = generate_sample("drink water", seed=0, var=still)
    free = generate_sample("drink water", seed=0, var=Variation.canonical())
    hand_head = lambda s, h: np.linalg.norm(s.joints[:, 0, h] - s.joints[:, 0, 3], axis=-1)  # noqa: E731
    for hand in (7, 11):
        assert hand_head(held, hand)[0] < 0.6 < 0.75 < hand_head(free, hand)[0]
        assert hand_head(held, hand)[-1] < 0.6
    assert hand_head(held, 11).min() < 0.2            # the drink still reaches the mouth
    jump_held = generate_sample("jump up", seed=0, var=still)
    assert np.array_equal(jump_held.joints, generate_sample("jump up", seed=0, var=Variation.canonical()).joints)
