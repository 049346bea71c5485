"""Checkpoints: safetensors + config.json round trip, and one-line errors for every bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from skelzs.models.checkpoint import MODEL_BUILDERS, from_pretrained, load_checkpoint, save_checkpoint
from skelzs.models.pgfa import PGFAConfig, PGFAModel, pgfa_checkpoint_config
from skelzs.stream.errors import CheckpointError

SMALL = {"encoder_overrides": {"widths": [8, 16], "strides": [1, 2]}, "embed_dim": 16}
TEXT = {"name": "all-MiniLM-L6-v2", "sha256": None}


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(0)
    model = PGFAModel(PGFAConfig(**SMALL)).eval()
    with torch.no_grad():   # non-default BN statistics, so the round trip covers buffers
        model.encoder.data_bn.running_mean.uniform_()
    cfg = pgfa_checkpoint_config(model.config, text=TEXT, frames=12, labels={"classes": ["a", "b"]})
    save_checkpoint(tmp_path / "ckpt", model, cfg)
    return tmp_path / "ckpt", model


def _one_line(err) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_round_trip(saved):
    folder, model = saved
    assert {p.name for p in folder.iterdir()} == {"model.safetensors", "config.json"}
    assert folder.joinpath("model.safetensors").read_bytes()[8:9] == b"{"      # safetensors header, not pickle
    loaded, config = load_checkpoint(folder)
    assert config["method"] == "pgfa" and config["window"]["frames"] == 12 and config["format_version"] == 1
    assert config["labels"]["classes"] == ["a", "b"] and config["layout"] == "ntu25"
    assert loaded.config == model.config and not loaded.training
    x = torch.randn(3, 3, 12, 25, 2)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    assert from_pretrained is load_checkpoint
    loaded2, _ = load_checkpoint(folder / "config.json")                  # the config file path also works
    assert loaded2.config == model.config


def test_missing_and_corrupt_files(saved, tmp_path):
    folder, _ = saved
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "nope")
    assert "not found" in _one_line(err)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])                            # truncated
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert "corrupt" in _one_line(err)
    weights.write_bytes(b"\x80\x04\x95 not a pickle we would ever load")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert "corrupt" in _one_line(err)
    weights.unlink()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert "missing model.safetensors" in _one_line(err)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert "not valid JSON" in _one_line(err)
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert "missing config.json" in _one_line(err)


def _edit_config(folder, **changes):
    cfg = json.loads((folder / "config.json").read_text())
    for k, v in changes.items():
        if k == "architecture":
            cfg["architecture"].update(v)
        else:
            cfg[k] = v
    (folder / "config.json").write_text(json.dumps(cfg))


def test_mismatched_architecture(saved):
    folder, _ = saved
    _edit_config(folder, architecture={"text_dim": 512})
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert "projection.weight" in _one_line(err) and "(384, 16)" in str(err.value)
    _edit_config(folder, architecture={"text_dim": 384, "encoder": "shiftgcn", "encoder_overrides": {}})
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    assert "missing tensors" in _one_line(err) and "unexpected" in str(err.value)
    _edit_config(folder, architecture={"bogus": 1})
    with pytest.raises(CheckpointError, match="invalid"):
        load_checkpoint(folder)
    _edit_config(folder, method="clip")
    with pytest.raises(CheckpointError, match="unknown method 'clip'"):
        load_checkpoint(folder)


def test_text_encoder_mismatch_is_refused_at_load(saved):
    from skelzs.models.api import load

    folder, _ = saved
    _edit_config(folder, text={"name": "all-MiniLM-L6-v2", "sha256": "ab" * 32})
    with pytest.raises(CheckpointError) as err:
        load(folder, backend="torch")
    assert "hashes to" in _one_line(err)
    _edit_config(folder, text={"name": "missing-text-model", "sha256": None})
    with pytest.raises(CheckpointError, match="not available offline"):
        load(folder, backend="torch")


def test_builders_table_is_a_plain_dict():
    assert isinstance(MODEL_BUILDERS, dict) and {"pgfa", "scople"} <= set(MODEL_BUILDERS)


def test_api_torch_backend(saved, tmp_path, monkeypatch):
    from skelzs.models.api import load

    monkeypatch.setenv("SKELZS_CACHE", str(tmp_path / "cache"))
    folder, model = saved
    zs = load(folder, backend="torch", device="cpu")
    assert zs.supports_embeddings and zs.window_frames == 12 and zs.preprocess == "frame50"
    assert zs.logit_scale == pytest.approx(1 / 0.07, rel=1e-6)
    text = zs.encode_text(["wave", "fall"], template="a person {label}")
    assert text.shape == (2, 384) and text.dtype == np.float32
    x = np.random.default_rng(0).standard_normal((4, 3, 12, 25, 2)).astype(np.float32)
    emb = zs.encode_skeleton(x)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    with torch.no_grad():
        ref = model.encode_skeleton(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(emb, ref, atol=1e-5)
    np.testing.assert_allclose(zs.score(x, text), emb @ text.T, atol=1e-6)
    assert zs.encode_skeleton(x[:0]).shape == (0, 384)
    from skelzs.stream.errors import SkelzsError

    with pytest.raises(SkelzsError, match="expected"):
        zs.encode_skeleton(x[:, :2])
    with pytest.raises(SkelzsError, match="expected"):
        zs.score(x, text[:, :5])
