"""ONNX export (through ``skelzs export``), parity with torch, ONNX Runtime / TensorRT backends."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
import typer

from skelzs.models.export import ONNX_OPSET, export_onnx, onnx_metadata, onnx_parity, tensorrt_status
from skelzs.models.pgfa import PGFAConfig, PGFAModel, pgfa_checkpoint_config

TRT_OK, TRT_REASON = tensorrt_status()
FRAMES = 50
LABELS = ["drink water", "wave hand", "fall down", "sit down", "stand up", "jump up", "throw", "clapping"]


def _cli(*argv) -> int:
    from skelzs.models.cli import register
    from skelzs.stream.cli import run_app

    app = typer.Typer()
    app.callback()(lambda: None)
    register(app, typer.Typer())
    return run_app(app, [str(a) for a in argv])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An untrained PGFA ST-GCN (the real size) saved and exported with ``skelzs export``."""
    from skelzs.models.checkpoint import save_checkpoint
    from skelzs.models.text import load_text_encoder

    torch.manual_seed(0)
    model = PGFAModel(PGFAConfig()).eval()
    with torch.no_grad():   # BN statistics away from identity, so folding is exercised
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    root = tmp_path_factory.mktemp("export")
    save_checkpoint(root / "ckpt", model, pgfa_checkpoint_config(model.config, text=load_text_encoder().identity,
                                                                  frames=FRAMES))
    assert _cli("export", "--checkpoint", root / "ckpt", "--format", "onnx", "--out", root / "out") == 0
    return model, root / "out"


@pytest.mark.slow
def test_export_checker_opset_and_dynamic_batch(exported):
    model, out = exported
    proto = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(proto)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) == ONNX_OPSET
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [3, FRAMES, 25, 2]
    meta = onnx_metadata(out / "model.onnx")
    from skelzs.models.checkpoint import weights_sha256

    assert meta["skelzs.weights_sha256"] == weights_sha256(out) and meta["skelzs.frames"] == str(FRAMES)
    assert {p.name for p in out.iterdir()} >= {"model.safetensors", "config.json", "model.onnx"}


@pytest.mark.slow
def test_parity_with_torch_over_a_label_set(exported, tmp_path, monkeypatch):
    """Cosine ≥ 0.9999 per embedding and identical top-1 over real label embeddings (CLIP-style)."""
    from skelzs.models.api import load

    monkeypatch.setenv("SKELZS_CACHE", str(tmp_path / "cache"))
    model, out = exported
    torch_model = load(out, backend="torch", device="cpu")
    ort_model = load(out, backend="onnxruntime")
    assert ort_model.backend_name == "onnxruntime" and not (tmp_path / "cache" / "onnx").exists()  # used model.onnx
    text = torch_model.encode_text(LABELS, template="a person {label}")
    rng = np.random.default_rng(1)
    for n in (1, 6):
        x = (rng.standard_normal((n, 3, FRAMES, 25, 2)) * 0.5).astype(np.float32)
        a, b = torch_model.encode_skeleton(x), ort_model.encode_skeleton(x)
        assert (a * b).sum(1).min() >= 0.9999
        assert (torch_model.score(x, text).argmax(1) == ort_model.score(x, text).argmax(1)).all()
    report = onnx_parity(model, out / "model.onnx", frames=FRAMES, text=torch.from_numpy(text))
    assert report["min_cosine"] >= 0.9999 and report["top1_equal"]
    from skelzs.stream.errors import SkelzsError

    with pytest.raises(SkelzsError, match="takes 50"):
        ort_model.encode_skeleton(np.zeros((1, 3, 40, 25, 2), np.float32))


@pytest.mark.slow
def test_person_graph_forms_match_the_eager_person_features(exported, tmp_path):
    """Both evaluation orders of the ST-GCN graph convolution export to per-person graphs that give
    the eager model's per-person features (the adjacency-first one for fp32, the other for int8)."""
    import onnxruntime as ort

    from skelzs.models.export import PERSON_INPUT_NAME, export_person_onnx

    model, _ = exported
    x = (np.random.default_rng(2).standard_normal((5, 3, FRAMES, 25)) * 0.5).astype(np.float32)
    with torch.no_grad():
        want = model.encoder.forward_person_features(torch.from_numpy(x)).numpy()
    transposes = {}
    for adjacency_first in (True, False):
        (path,) = export_person_onnx(model, tmp_path / str(adjacency_first), frames=FRAMES,
                                     adjacency_first=adjacency_first)
        transposes[adjacency_first] = sum(n.op_type == "Transpose" for n in onnx.load(str(path)).graph.node)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(None, {PERSON_INPUT_NAME: x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
    assert transposes[True] < transposes[False]            # the adjacency-first form drops the per-block transposes
    assert all(m.adjacency_first for m in model.modules() if hasattr(m, "adjacency_first"))   # eager untouched


@pytest.mark.slow
def test_shiftgcn_exports_with_parity(tmp_path):
    torch.manual_seed(0)
    model = PGFAModel(PGFAConfig(encoder="shiftgcn", encoder_overrides={"widths": [16, 16, 32, 32], "strides": [1, 2, 1, 2]},
                                 embed_dim=32)).eval()
    path = export_onnx(model, tmp_path / "shift.onnx", frames=16)
    report = onnx_parity(model, path, frames=16, batch=4)
    assert report["min_cosine"] >= 0.9999 and report["top1_equal"], report


def test_save_removes_a_stale_onnx_graph(exported, tmp_path):
    import shutil

    from skelzs.models.checkpoint import load_checkpoint, save_checkpoint

    _, out = exported
    model, _ = load_checkpoint(out)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    cfg = pgfa_checkpoint_config(model.config, text={"name": "all-MiniLM-L6-v2", "sha256": None}, frames=FRAMES)
    save_checkpoint(copy, model, cfg)                   # same weights: the graph stays valid
    assert (copy / "model.onnx").exists()
    other = PGFAModel(PGFAConfig())
    save_checkpoint(copy, other, cfg)                   # new weights: the old graph would lie
    assert not (copy / "model.onnx").exists()


def test_export_errors_are_one_line(tmp_path, capsys):
    assert _cli("export", "--checkpoint", tmp_path / "missing", "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and [l for l in err.splitlines() if l.startswith("error:")]
    assert _cli("export", "--checkpoint", tmp_path, "--format", "coreml", "--out", tmp_path / "o") == 2


def test_backend_auto_and_tensorrt_fallback(exported, caplog):
    from skelzs.models.api import load
    from skelzs.models.backends import resolve_backend

    _, out = exported
    assert resolve_backend("auto") == ("tensorrt" if TRT_OK else "onnxruntime")
    if TRT_OK:
        pytest.skip("TensorRT present: the fallback path is not taken")
    with caplog.at_level("WARNING", logger="skelzs.models"):
        model = load(out, backend="tensorrt")
    assert model.backend_name == "onnxruntime"
    assert any("TensorRT unusable" in r.getMessage() for r in caplog.records)


@pytest.mark.trt
@pytest.mark.skipif(not TRT_OK, reason=TRT_REASON)
def test_tensorrt_engine_parity_and_cache(exported, tmp_path):
    from skelzs.models.backends import TensorRTBackend
    from skelzs.models.export import build_engine

    model, out = exported
    engine = build_engine(out / "model.onnx", cache_dir=tmp_path)
    assert build_engine(out / "model.onnx", cache_dir=tmp_path) == engine          # cache hit
    assert list(tmp_path.glob("timing-*.cache"))
    x = (np.random.default_rng(0).standard_normal((8, 3, FRAMES, 25, 2)) * 0.5).astype(np.float32)
    got = TensorRTBackend(engine).embed(x)
    with torch.no_grad():
        ref = model.encode_skeleton(torch.from_numpy(x)).numpy()
    assert (got * ref).sum(1).min() >= 0.9999


def test_tensorrt_absence_is_a_clear_message(tmp_path):
    if TRT_OK:
        pytest.skip("TensorRT is installed")
    from skelzs.models.export import TensorRTUnavailable, build_engine

    with pytest.raises(TensorRTUnavailable, match="TensorRT"):
        build_engine(tmp_path / "model.onnx")
    assert "not installed" in TRT_REASON or "GPU" in TRT_REASON
