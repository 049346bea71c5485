"""The exact absent-person fast path of ``encode_skeleton`` (torch and ONNX Runtime): the per-person
branch runs only on present person slots, absent (all-zero) slots get a constant computed once, and
the embeddings match the full two-person forward on real NTU windows (one-person and two-person A058)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skelzs.assets import asset_path

DEFAULT = asset_path("default")
ONE_PERSON = ["S001C001P001R001A001", "S001C001P001R001A002", "S001C001P001R001A003", "S001C001P001R001A011"]
TWO_PERSON = "S001C003P008R002A058"


@pytest.fixture(scope="module")
def windows(ntu_dir) -> np.ndarray:
    """Real live-style windows: four one-person, one two-person, one with no one at all."""
    import json

    from skelzs.stream.formats import load_sequence
    from skelzs.stream.preprocess import checkpoint_windows

    cfg = json.loads((DEFAULT / "config.json").read_text())
    t, fps, norm = int(cfg["window"]["frames"]), float(cfg["window"]["fps"]), cfg.get("stream_preprocess") or "stream"
    wins = [checkpoint_windows(load_sequence(ntu_dir / f"{name}.skeleton"), t, fps, norm)[0]
            for name in ONE_PERSON + [TWO_PERSON]]
    wins.append(np.zeros_like(wins[0]))
    return np.stack(wins).astype(np.float32)


def _agree(full: np.ndarray, fast: np.ndarray, text: np.ndarray) -> None:
    assert (full * fast).sum(1).min() >= 0.99999
    assert ((full @ text.T).argmax(1) == (fast @ text.T).argmax(1)).all()


def test_windows_cover_both_cases(windows):
    from skelzs.models.backends import present_persons

    present = present_persons(windows)
    assert present[:4].tolist() == [[True, False]] * 4 and present[4].all() and not present[5].any()


@pytest.mark.slow
def test_torch_and_onnxruntime_fast_path_match_the_full_graph(windows):
    from skelzs.models.api import load

    torch_model, ort_model = load(DEFAULT, backend="torch", device="cpu"), load(DEFAULT, backend="onnxruntime")
    text = torch_model.encode_text(torch_model.config["labels"]["classes"])
    assert torch_model.backend.by_person and ort_model.backend.person_sessions
    with torch.inference_mode():
        full_torch = F.normalize(torch_model.backend.model(torch.from_numpy(windows)), dim=-1).numpy()
    full_ort = ort_model.backend.session.run(None, {"windows": windows})[0]
    _agree(full_torch, torch_model.encode_skeleton(windows), text)
    _agree(full_ort, ort_model.encode_skeleton(windows), text)
    for i in range(len(windows)):   # batch of one, as live inference calls it
        _agree(full_ort[i:i + 1], ort_model.encode_skeleton(windows[i:i + 1]), text)


def test_shiftgcn_person_branch_uses_its_slot_of_the_input_batchnorm(windows):
    """Shift-GCN's input BN has per-slot parameters (over M·V·C): the per-slot branch must match."""
    from skelzs.models.backends import TorchBackend
    from skelzs.models.pgfa import PGFAConfig, PGFAModel

    torch.manual_seed(0)
    model = PGFAModel(PGFAConfig(encoder="shiftgcn")).eval()
    with torch.no_grad():
        bn = model.encoder.data_bn
        bn.running_mean.uniform_(-0.3, 0.3), bn.running_var.uniform_(0.5, 2.0), bn.weight.uniform_(0.5, 1.5)
        x = torch.from_numpy(windows[:, :, :16])
        full = F.normalize(model(x), dim=-1).numpy()
    assert not model.person_slots_shared
    fast = TorchBackend(model, "cpu").embed(windows[:, :, :16])
    assert (full * fast).sum(1).min() >= 0.99999
