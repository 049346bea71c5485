"""The shipped default checkpoint (``assets/default``): it loads, records how it was trained, its
ONNX graph matches torch, and it recognizes the bundled demo recording's actions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skelzs.assets import asset_path

DEFAULT = asset_path("default")
# Stated rate: windows ending on the demo recording's ground-truth segments, top-1 among the
# demo's 14 labels (chance 1/14 = 7 %); measured 10/10 segments when the checkpoint was trained.
MIN_SEGMENT_TOP1 = 0.7


@pytest.fixture(scope="module")
def torch_model():
    from skelzs.models.api import load

    return load(DEFAULT, backend="torch")


@pytest.fixture(scope="module")
def onnx_model():
    from skelzs.models.api import load

    return load(DEFAULT, backend="onnxruntime")


@pytest.fixture(scope="module")
def demo_windows(torch_model):
    """One live-style window per ground-truth segment: the T frames ending at the segment's end
    (or T/2 frames after its start, for longer segments), normalized as ``skelzs live`` does."""
    from skelzs.stream.formats import load_sequence
    from skelzs.stream.preprocess import PIPELINES

    truth = json.loads(asset_path("demo_recording.json").read_text())
    seq = load_sequence(asset_path("demo_recording.npz"))
    t = int(torch_model.config["window"]["frames"])
    wins, labels = [], []
    for s in truth["segments"]:
        end = min(s["end"], s["start"] + t) if s["end"] - s["start"] > t else min(seq.num_frames, s["end"] + 8)
        start = max(0, end - t)
        wins.append(PIPELINES["stream"](seq.slice(start, end), t))
        labels.append(s["label"])
    return np.stack(wins).astype(np.float32), labels, truth["labels"]


def test_files_and_size():
    names = {p.name for p in DEFAULT.iterdir()}
    assert {"model.safetensors", "config.json", "model.onnx"} <= names
    total = sum(p.stat().st_size for p in DEFAULT.iterdir())
    assert total < 20_000_000, f"{total} bytes is too big for the repository"


def test_config_records_method_text_encoder_and_window(torch_model):
    cfg = torch_model.config
    assert cfg["method"] == "pgfa"
    text = json.dumps(cfg.get("text_model") or cfg.get("text_encoder") or cfg)
    assert "MiniLM" in text or "minilm" in text.lower()
    assert cfg["window"]["frames"] == torch_model.window_frames and cfg["window"]["fps"] == 30.0
    assert cfg["window"]["persons"] == 2
    from skelzs.stream.preprocess import PIPELINES

    assert cfg["preprocess"] in PIPELINES


def test_onnx_matches_torch(torch_model, onnx_model, demo_windows):
    x, _, _ = demo_windows
    a = torch_model.encode_skeleton(x)
    b = onnx_model.encode_skeleton(x)
    assert a.shape == b.shape and a.shape[0] == len(x)
    np.testing.assert_allclose(a, b, atol=2e-4)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_recognizes_the_demo_segments(onnx_model, demo_windows):
    x, truth, labels = demo_windows
    text = onnx_model.encode_text(labels)
    sims = onnx_model.encode_skeleton(x) @ np.asarray(text).T
    pred = [labels[i] for i in sims.argmax(1)]
    rate = np.mean([p == t for p, t in zip(pred, truth)])
    assert rate >= MIN_SEGMENT_TOP1, list(zip(truth, pred))
