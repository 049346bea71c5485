"""SCoPLe (models/scople.py): gradients, leak-free class-conditional scoring, ablations, ONNX, training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from skelzs.models.prompted_text import load_hf_text_model
from skelzs.models.scople import (
    SCoPLeConfig,
    SCoPLeModel,
    SCoPLeScorer,
    TextQueriedSampler,
    class_conditional_prototype_alignment,
    scople_infonce_loss,
)

FRAMES = 32
# A small Shift-GCN (the SCoPLe default backbone) so every test stays fast on 2 CPU cores.
BACKBONE = "shiftgcn"
SMALL_BACKBONE = {"widths": (16, 32), "strides": (1, 2)}
LABELS = ["drink water", "wave a hand", "fall down", "kick something", "sit down"]


@pytest.fixture(scope="module")
def minilm():
    return load_hf_text_model()


@pytest.fixture(scope="module")
def make_model(minilm):
    model_, tok, identity = minilm

    def make(seed: int = 0, **overrides) -> SCoPLeModel:
        torch.manual_seed(seed)
        kw = dict(backbone=BACKBONE, backbone_overrides=dict(SMALL_BACKBONE), frames=FRAMES, projector_hidden=64,
                  sampler_dim=16, text_prompt_depth=2)
        kw.update(overrides)
        return SCoPLeModel(SCoPLeConfig(**kw), text_model=model_, tokenizer=tok, text_identity=identity)

    return make


def _windows(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, FRAMES, 25, 2, generator=g) * 0.3


# ----------------------------------------------------------------------------- gradients


def test_gradients_reach_only_prompts_sampler_projector_when_frozen(make_model):
    model = make_model(freeze_backbone=True, couple_joint_prompts=True).train()
    scores, scale, consistency = model(_windows(4), LABELS[:3], return_aux=True)
    loss = scople_infonce_loss(scores, torch.tensor([0, 1, 2, 0]), scale) + 0.5 * consistency
    loss.backward()
    allowed = ("text.ctx", "text.deep_prompts", "text.fusion_weight", "joint_prompts.", "sampler.", "projector.",
               "logit_scale")
    for name, p in model.named_parameters():
        if name.startswith(allowed):
            assert p.requires_grad and p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert not p.requires_grad and p.grad is None, name
    groups = model.trainable_groups()
    assert groups["backbone"] == [] and groups["prompts"] and groups["sampler"] and groups["projector"]


def test_end_to_end_backbone_trains_but_text_tower_does_not(make_model):
    model = make_model(freeze_backbone=False).train()
    scores = model(_windows(3), LABELS[:2])
    scores.sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.backbone.parameters())
    assert all(p.grad is None and not p.requires_grad for p in model.text.tower.parameters())


# ----------------------------------------------------------------------------- class-conditional sampler


def test_sampler_scores_labels_one_by_one_as_batched(make_model):
    model = make_model().eval()
    x = _windows(4, seed=1)
    with torch.no_grad():
        text = model.encode_text(LABELS)
        batched = model.score(x, text)
        single = torch.cat([model.score(x, text[k : k + 1]) for k in range(len(LABELS))], 1)
        one_window = torch.cat([model.score(x[i : i + 1], text) for i in range(4)], 0)
    assert batched.shape == (4, len(LABELS))
    torch.testing.assert_close(batched, single, atol=1e-6, rtol=0)
    torch.testing.assert_close(batched, one_window, atol=1e-6, rtol=0)
    # the sampler pools one vector per (window, label), the attention of label k from its text only
    sampler = TextQueriedSampler(channels=8, text_dim=6, dim=4, heads=2)
    tok, txt = torch.randn(2, 10, 8), torch.randn(3, 6)
    attn = sampler.attention(tok, txt)
    assert attn.shape == (2, 3, 10)
    torch.testing.assert_close(attn.sum(-1), torch.ones(2, 3))
    torch.testing.assert_close(sampler(tok, txt)[:, 1], sampler(tok, txt[1:2])[:, 0])


def test_no_label_information_enters_the_skeleton_side(make_model):
    model = make_model().eval()
    x = _windows(3, seed=2)
    with torch.no_grad():
        text = model.encode_text(LABELS)
        base = model.score(x, text)
        perm = torch.tensor([3, 0, 4, 2, 1])
        torch.testing.assert_close(model.score(x, text[perm]), base[:, perm], atol=1e-6, rtol=0)
        # withhold each window's would-be ground truth: the other labels' scores do not move
        for gt in range(len(LABELS)):
            keep = [k for k in range(len(LABELS)) if k != gt]
            torch.testing.assert_close(model.score(x, text[keep]), base[:, keep], atol=1e-6, rtol=0)
    # the exported skeleton side takes only windows and the label set's text tensor
    import inspect

    assert list(inspect.signature(SCoPLeScorer.forward).parameters) == ["self", "windows", "text"]


# ----------------------------------------------------------------------------- ablations


def _names(model) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_each_ablation_switch_changes_the_parameter_set_as_documented(make_model):
    full = _names(make_model(freeze_backbone=True))
    no_lang = _names(make_model(freeze_backbone=True, use_language_prompts=False))
    no_joint = _names(make_model(freeze_backbone=True, use_joint_prompts=False))
    no_sampler = _names(make_model(freeze_backbone=True, use_sampler=False))
    coupled = _names(make_model(freeze_backbone=True, couple_joint_prompts=True))
    text_proj = _names(make_model(freeze_backbone=True, projector_prompts="text"))
    free_proj = _names(make_model(freeze_backbone=True, projector_prompts="free"))
    no_proj = _names(make_model(freeze_backbone=True, projector_prompts="none"))
    assert free_proj == full  # "free" (SkelMaPLe vectors) is the default
    assert full - no_lang == {"text.ctx", "text.deep_prompts", "text.fusion_weight"} and no_lang < full
    assert full - no_joint == {"joint_prompts.prompt"} and no_joint < full
    assert full - no_sampler == {"sampler.query.weight", "sampler.query.bias", "sampler.key.weight",
                                 "sampler.key.bias"} and no_sampler < full
    assert coupled - full == {"joint_prompts.couple_map.weight", "joint_prompts.couple_mix"}
    assert text_proj - free_proj == {n for n in text_proj if n.startswith("projector.text_prompt_maps.")} != set()
    assert free_proj - no_proj == {n for n in free_proj if n.startswith("projector.deep_prompts.")} != set()
    with pytest.raises(ValueError, match="couple_joint_prompts"):
        SCoPLeConfig(couple_joint_prompts=True, use_language_prompts=False)
    # the per-segment joint prompt is (S, V, C); a shared one (1, V, C)
    m = make_model(freeze_backbone=True, joint_prompts_per_segment=False)
    assert m.joint_prompts.prompt.shape == (1, 25, m.channels)
    assert make_model(freeze_backbone=True).joint_prompts.prompt.shape == (3, 25, m.channels)


def test_every_ablation_still_scores(make_model):
    x = _windows(2)
    for kw in ({"use_language_prompts": False}, {"use_joint_prompts": False}, {"use_sampler": False},
               {"projector_prompts": "none"}, {"projector_prompts": "text"},
               {"time_segments": None, "joint_prompts_per_segment": False}):
        model = make_model(**kw).eval()
        with torch.no_grad():
            s = model(x, LABELS)
        assert s.shape == (2, len(LABELS)) and torch.isfinite(s).all() and (s.abs() <= 1 + 1e-5).all(), kw


# ----------------------------------------------------------------------------- loss and alignment


def test_infonce_is_clip_cross_entropy_with_one_window_per_label():
    g = torch.Generator().manual_seed(0)
    s = torch.rand(4, 4, generator=g) * 2 - 1
    y = torch.arange(4)
    scale = torch.tensor(10.0)
    clip = 0.5 * (torch.nn.functional.cross_entropy(scale * s, y) + torch.nn.functional.cross_entropy(scale * s.t(), y))
    torch.testing.assert_close(scople_infonce_loss(s, y, scale), clip)
    # two windows of label 0: the text side averages over both positives
    y2 = torch.tensor([0, 0, 1])
    s2 = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.1, 0.7]])
    lp = (10 * s2).t().log_softmax(-1)
    want = 0.5 * (torch.nn.functional.cross_entropy(10 * s2, y2) + (-(lp[0, 0] + lp[0, 1]) / 2 - lp[1, 2]) / 2)
    torch.testing.assert_close(scople_infonce_loss(s2, y2, torch.tensor(10.0)), want)


def test_class_conditional_prototype_alignment():
    torch.manual_seed(0)
    D = 8
    text = torch.nn.functional.normalize(torch.randn(2, D), dim=-1)
    proto = torch.nn.functional.normalize(torch.randn(2, D), dim=-1)
    z = torch.nn.functional.normalize(proto[None].repeat(6, 1, 1) + 0.05 * torch.randn(6, 2, D), dim=-1)
    scores = torch.tensor([[0.9, 0.1]] * 3 + [[0.1, 0.9]] * 3)
    aligned = class_conditional_prototype_alignment(z, scores, text, support_factor=1.0)
    assert aligned.shape == (6, 2) and (aligned > 0.9).all()  # cos to the pseudo-labelled prototypes
    # no confident window for a class: its prototype falls back to the text
    only0 = torch.tensor([[0.9, 0.1]] * 6)
    fall = class_conditional_prototype_alignment(z, only0, text, support_factor=1.0)
    torch.testing.assert_close(fall[:, 1], (z[:, 1] * text[1]).sum(-1))


def test_cosine_schedule_with_warmup():
    from skelzs.train.scople_method import SCoPLeTrainDefaults

    hp = SCoPLeTrainDefaults(lr=1e-3, warmup_epochs=5, epochs=50)
    assert hp.optimizer == "adamw"
    assert math.isclose(hp.lr_at(0), 2e-4) and math.isclose(hp.lr_at(4), 1e-3) and math.isclose(hp.lr_at(5), 1e-3)
    assert math.isclose(hp.lr_at(49), 1e-5) and hp.lr_at(20) > hp.lr_at(30) > hp.lr_at(40)
    assert hp.with_overrides(epochs=10).lr_at(9) == pytest.approx(1e-5)


# ----------------------------------------------------------------------------- export and API


def _save_scople_checkpoint(model, folder):
    from skelzs.models.checkpoint import save_checkpoint

    config = {"method": "scople", "architecture": model.config.to_dict(), "text_identity": model.text_identity,
              "text": model.text_identity, "layout": "ntu25",
              "window": {"frames": FRAMES, "persons": 2, "fps": 30.0}, "preprocess": "stream",
              "labels": {"dataset": "custom", "classes": LABELS}}
    return save_checkpoint(folder, model, config)


@pytest.mark.slow
def test_export_onnx_parity_and_api_load_on_both_backends(make_model, tmp_path, monkeypatch, ntu_dir, capsys):
    """checkpoint → ``skelzs export`` (parity-checked ONNX, N and K dynamic) → ``api.load`` → classify."""
    from skelzs.models.api import load
    from skelzs.models.export import export_checkpoint
    from skelzs.stream.errors import SkelzsError

    monkeypatch.setenv("SKELZS_CACHE", str(tmp_path / "cache"))
    model = make_model(couple_joint_prompts=True).eval()
    ckpt = _save_scople_checkpoint(model, tmp_path / "ckpt")
    summary = export_checkpoint(ckpt, tmp_path / "exported")
    assert summary["parity"]["max_abs_score_diff"] < 1e-4
    ort_view = load(tmp_path / "exported", backend="onnxruntime")
    torch_view = load(tmp_path / "exported", backend="torch")
    assert ort_view.backend_name == "onnxruntime" and torch_view.backend_name == "torch"
    assert not ort_view.supports_embeddings and ort_view.window_frames == FRAMES
    text = torch_view.encode_text(LABELS)
    assert text.shape == (len(LABELS), 384) and list((tmp_path / "cache" / "scople_text").glob("*.npy"))
    np.testing.assert_allclose(ort_view.encode_text(LABELS), text, atol=1e-6)  # same prompts, same tensor
    with torch.no_grad():
        want = model.score(_windows(3, seed=5), model.encode_text(LABELS)).numpy()
    w = _windows(3, seed=5).numpy()
    np.testing.assert_allclose(torch_view.score(w, text), want, atol=1e-5)
    np.testing.assert_allclose(ort_view.score(w, text), want, atol=1e-4)
    assert ort_view.score(w, text[:0]).shape == (3, 0) and ort_view.score(w[0], text).shape == (1, len(LABELS))
    with pytest.raises(SkelzsError, match="class-conditional"):
        ort_view.encode_skeleton(w)
    with pytest.raises(SkelzsError, match="do not match"):
        ort_view.score(w, text[:, :10])
    # the stream side takes it like any checkpoint: one answer for a real NTU recording
    from skelzs.stream.cli import _register_commands, app, run_app

    _register_commands()
    code = run_app(app, ["classify", str(ntu_dir / "S001C001P001R001A001.skeleton"), "--checkpoint",
                         str(tmp_path / "exported"), "--backend", "onnxruntime", "--labels", ",".join(LABELS),
                         "--json"])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, captured.err
    row = json.loads(out.splitlines()[-1])
    assert row["label"] in LABELS and len(row["topk"]) == 3
    # PGFA's prototype alignment needs single skeleton embeddings: one line, no traceback
    code = run_app(app, ["classify", str(ntu_dir / "S001C001P001R001A001.skeleton"), "--checkpoint",
                         str(tmp_path / "exported"), "--labels", ",".join(LABELS), "--align", "batch"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "class-conditionally (SCoPLe)" in err.strip().splitlines()[-1]


def test_checkpoint_with_another_text_model_is_refused(make_model, tmp_path):
    from skelzs.models.checkpoint import load_checkpoint
    from skelzs.stream.errors import CheckpointError

    model = make_model(freeze_backbone=True)
    ckpt = _save_scople_checkpoint(model, tmp_path / "ckpt")
    config = json.loads((ckpt / "config.json").read_text())
    config["text_identity"] = {"name": "all-MiniLM-L6-v2", "sha256": "0" * 64}
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="hashes to"):
        load_checkpoint(ckpt)


# ----------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_fit_scople_on_generated_actions_beats_chance_on_held_out_classes(tmp_path, train_cli):
    """``skelzs-train fit --method scople`` on ten generated motions; two classes never trained on."""
    from train_synth import CLASSES, UNSEEN, write_dataset, write_split

    run = train_cli
    raw = write_dataset(tmp_path / "raw", per_class_train=8, per_class_test=4)
    split = write_split(tmp_path / "split.json")
    run("prepare", "folder", "--raw", raw, "--out", tmp_path / "data", "--workers", "1")
    arch = tmp_path / "scople.json"
    arch.write_text(json.dumps({"backbone_overrides": SMALL_BACKBONE, "projector_hidden": 128, "sampler_dim": 32,
                                "text_prompt_depth": 2}))
    run("fit", "--method", "scople", "--data", tmp_path / "data", "--split", split, "--out", tmp_path / "run",
        "--config", arch, "--epochs", "10", "--batch-size", "16", "--lr", "3e-3", "--warmup-epochs", "2",
        "--workers", "0", "--device", "cpu", "--align", "batch", "--select-on", "last")
    report = json.loads((tmp_path / "run" / "results.json").read_text())
    zsl = report["zsl"]["none"]
    assert zsl["num_samples"] >= 6 and set(zsl["per_class"]) == {CLASSES[c] for c in UNSEEN}
    assert zsl["top1"] >= 0.75, zsl  # chance is 0.5
    assert 0 <= report["zsl"]["batch"]["top1"] <= 1  # class-conditional prototype alignment
    assert "plain" in report["gzsl"]
    config = json.loads((tmp_path / "run" / "last" / "config.json").read_text())
    assert config["method"] == "scople" and config["architecture"]["use_sampler"] is True
    run_info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run_info["hyperparameters"]["optimizer"] == "adamw"
