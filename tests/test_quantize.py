"""``--precision int8``: the statically quantized per-person graph of the default checkpoint against
its exact fp32 graph, on real NTU RGB+D windows (the calibration set is the bundled synthetic demo
recording, so the real windows are data the quantizer never saw)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from skelzs.assets import asset_path
from skelzs.stream.errors import SkelzsError

DEFAULT = asset_path("default")
# Measured when int8 was added: embedding cosine to fp32 min 0.9987, median 0.9994 over the
# real NTU windows; top-1 over the 60 NTU class names agreed on every window. The bounds below
# leave room for ONNX Runtime versions and CPUs with other int8 kernels (AVX2 vs AVX-512 VNNI).
MIN_COSINE = 0.98
MIN_TOP1_AGREEMENT = 0.9


@pytest.fixture(scope="module")
def models():
    from skelzs.models.api import load

    return load(DEFAULT, backend="onnxruntime"), load(DEFAULT, precision="int8")


def _windows(paths, model, stride: int = 4) -> np.ndarray:
    """Live windows of the recordings as ``model`` sees them (its fps and window pipeline)."""
    from skelzs.stream.formats import load_sequence
    from skelzs.stream.preprocess import checkpoint_windows

    norm = model.config.get("stream_preprocess") or "stream"
    return np.concatenate([checkpoint_windows(load_sequence(p).with_persons(2), model.window_frames, model.fps, norm,
                                              stride) for p in paths]).astype(np.float32)


def test_calibration_windows_are_live_style_present_persons():
    from skelzs.models.quantize import calibration_windows

    calib = calibration_windows(64)
    assert calib.ndim == 4 and calib.shape[1:] == (3, 64, 25) and calib.dtype == np.float32
    assert len(calib) >= 60
    assert np.all(np.abs(calib).reshape(len(calib), -1).max(axis=1) > 0)   # no absent slots
    # the stream pipeline centres every frame on SpineShoulder (joint 20)
    np.testing.assert_allclose(calib[:, :, :, 20], 0.0, atol=1e-5)


def test_int8_runs_quantized_graphs_on_the_cpu(models):
    import onnx

    fp32, int8 = models
    assert int8.precision == "int8" and fp32.precision == "fp32" and int8.backend_name == "onnxruntime"
    sessions = int8.backend.person_sessions
    assert sessions and all(s.get_providers() == ["CPUExecutionProvider"] for s in sessions)
    ops = {n.op_type for n in onnx.load(sessions[0]._model_path).graph.node}
    assert "QLinearConv" in ops and "Conv" not in ops


def test_int8_matches_fp32_on_real_ntu_windows(models, ntu_dir, shared_data):
    fp32, int8 = models
    windows = _windows(sorted(ntu_dir.glob("*.skeleton")), fp32)
    a, b = fp32.encode_skeleton(windows), int8.encode_skeleton(windows)
    cos = (a * b).sum(axis=1)                # both L2-normalized
    assert cos.min() >= MIN_COSINE, f"min cosine {cos.min():.4f}"
    names = [line.split(",", 1)[-1].strip() for line in
             (shared_data / "class_names" / "mmaction2_label_map_ntu60.txt").read_text().splitlines() if line.strip()]
    text = fp32.encode_text(names)
    agree = np.mean((a @ text.T).argmax(1) == (b @ text.T).argmax(1))
    assert agree >= MIN_TOP1_AGREEMENT, f"top-1 agreement {agree:.2f}"


def test_int8_keeps_the_demo_answers(models):
    from skelzs.stream.formats import load_sequence
    from skelzs.stream.preprocess import checkpoint_windows

    fp32, int8 = models
    truth = json.loads(asset_path("demo_recording.json").read_text())
    seq = load_sequence(asset_path("demo_recording.npz")).with_persons(2)
    span = int(round(fp32.window_frames * seq.fps / fp32.fps))    # one window, in recording frames
    norm = fp32.config.get("stream_preprocess") or "stream"
    wins = np.concatenate([checkpoint_windows(seq.slice(max(0, s["end"] - span), s["end"]), fp32.window_frames,
                                              fp32.fps, norm)[-1:] for s in truth["segments"]]).astype(np.float32)
    text = fp32.encode_text(truth["labels"])
    np.testing.assert_array_equal((fp32.score(wins, text)).argmax(1), (int8.score(wins, text)).argmax(1))


def test_int8_graph_is_cached(models, tmp_path, monkeypatch):
    from skelzs.models.api import load
    from skelzs.models.text import cache_root

    folder = cache_root() / "onnx_person_int8"
    graphs = sorted(folder.rglob("*.onnx"))
    assert graphs
    before = {p: p.stat().st_mtime_ns for p in graphs}
    load(DEFAULT, precision="int8")
    assert {p: p.stat().st_mtime_ns for p in sorted(folder.rglob("*.onnx"))} == before


@pytest.mark.parametrize("backend,precision,message", [
    ("torch", "int8", "has no int8 path"),
    ("auto", "fp16", "--precision must be one of fp32, int8"),
])
def test_bad_precision_is_a_clear_error(backend, precision, message):
    from skelzs.models.api import load

    with pytest.raises(SkelzsError, match=message):
        load(DEFAULT, backend=backend, precision=precision)


def test_replay_cli_with_int8(ntu_dir):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    path = ntu_dir / "S001C001P001R001A001.skeleton"
    proc = subprocess.run([sys.executable, "-m", "skelzs.stream.cli", "replay", str(path), "--labels",
                           "drink water,hand waving,falling", "--precision", "int8", "--json", "--every-window"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    windows = [e for e in events if e.get("kind") in ("label", "window")]
    assert len(windows) >= 2 and all(e["frame"] >= 63 and len(e["topk"]) == 3 for e in windows)   # 103 frames

    bad = subprocess.run([sys.executable, "-m", "skelzs.stream.cli", "replay", str(path), "--labels", "a,b",
                          "--precision", "int4"], capture_output=True, text=True, timeout=120, env=env)
    lines = [ln for ln in bad.stderr.splitlines() if ln.strip()]
    assert bad.returncode == 2 and len(lines) == 1 and "--precision must be one of" in lines[0], bad.stderr
