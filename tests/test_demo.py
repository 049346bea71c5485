"""``skelzs demo``: the bundled recording, its ground truth, scoring, and the short CI run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from skelzs.assets import asset_path
from skelzs.stream.cli_demo import load_demo_truth, score_segments

REPO = Path(__file__).resolve().parents[1]
SKELZS = [sys.executable, "-c", "from skelzs.stream.cli import main; main()"]


def _env() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.pop("DISPLAY", None)
    return env


def test_bundled_recording_matches_its_ground_truth():
    from skelzs.stream.formats import load_sequence

    truth = load_demo_truth()
    seq = load_sequence(asset_path("demo_recording.npz"))
    assert seq.num_frames == truth["frames"] and seq.fps == truth["fps"] == 30.0
    segs = truth["segments"]
    assert len(segs) >= 6 and all(0 <= s["start"] < s["end"] <= seq.num_frames for s in segs)
    assert all(a["end"] <= b["start"] for a, b in zip(segs, segs[1:]))
    assert {s["label"] for s in segs} <= set(truth["labels"])
    present2 = np.any(seq.joints[:, 1] != 0, axis=(1, 2))
    two = [s for s in segs if s["persons"] == 2]
    assert two and all(present2[s["start"]:s["end"]].all() for s in two)  # two people in part
    assert not present2.all()
    assert asset_path("demo_recording.npz").stat().st_size < 2_000_000


def test_demo_recording_is_reproducible(tmp_path):
    from skelzs.stream.formats import load_sequence
    from skelzs.tools.make_demo_recording import make_demo_recording

    rec, gt = make_demo_recording(tmp_path)
    np.testing.assert_array_equal(load_sequence(rec).joints, load_sequence(asset_path("demo_recording.npz")).joints)
    assert json.loads(gt.read_text())["segments"] == load_demo_truth()["segments"]


def test_score_segments_counts_hits_and_first_correct_time():
    d = lambda lab: SimpleNamespace(label=lab)  # noqa: E731 - a decision's label is all the scorer reads
    segs = [{"label": "clapping", "start": 100, "end": 160}, {"label": "bow", "start": 300, "end": 360},
            {"label": "salute", "start": 500, "end": 540}]
    history = [(0, 0, 110, d(None)), (0, 0, 130, d("clapping")), (0, 0, 150, d("clapping")),
               (0, 0, 330, d("clapping")), (0, 1, 340, d(None)), (0, 0, 900, d("bow"))]
    res = score_segments(history, segs, fps=30.0, window_frames=64, labels=["clapping", "bow"])
    assert [r.recognized for r in res] == [True, False, False]
    assert res[0].first_correct_s == pytest.approx(1.0)
    assert res[1].decided == "clapping"
    assert [r.in_labels for r in res] == [True, True, False]


def test_missing_video_is_one_line_error(tmp_path):
    p = subprocess.run(SKELZS + ["demo", "--video", str(tmp_path / "nope.avi"), "--no-view"],
                       capture_output=True, text=True, timeout=60, env=_env(), cwd=tmp_path)
    assert p.returncode != 0
    err = p.stderr.strip().splitlines()
    assert err and err[-1].startswith("error:") and "Traceback" not in p.stderr


@pytest.mark.slow
def test_make_demo_short_finishes(tmp_path):
    """What ``make demo DEMO_ARGS=--short`` runs (CI): finishes, with a summary against the ground truth."""
    if not asset_path("default").joinpath("model.onnx").is_file():
        pytest.fail("the default checkpoint (assets/default/model.onnx) is missing")
    summary = tmp_path / "summary.json"
    p = subprocess.run(SKELZS + ["demo", "--short", "--no-view", "--summary-json", str(summary)],
                       capture_output=True, text=True, timeout=180, env=_env(), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "recognized" in p.stdout
    s = json.loads(summary.read_text())
    assert s["segments"] == 3 and s["windows"] > 10
    assert 0 <= s["recognized"] <= 3
