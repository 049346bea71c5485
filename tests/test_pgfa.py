"""PGFA: projection init, temperature, the symmetric multi-positive KL loss (A.5), batch alignment (A.7)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skelzs.models.pgfa import SUPPORT_FACTOR, PGFAConfig, PGFAModel, pgfa_kl_loss, prototype_alignment


def _softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_loss_equals_hand_computation_with_repeated_classes():
    rng = np.random.default_rng(3)
    f = rng.standard_normal((4, 6))
    class_text = rng.standard_normal((3, 6))
    y = np.array([0, 1, 0, 2])
    t = class_text[y]                                       # own-class text rows (duplicated for class 0)
    fn = f / np.linalg.norm(f, axis=1, keepdims=True)
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    s = 1 / 0.07
    S = s * fn @ tn.T
    G = (y[:, None] == y[None, :]).astype(float)
    P = _softmax(10 * G)

    def kl_rows(logits):                                    # Σ_ij P log(P/Q) / B² · B = mean over rows
        Q = _softmax(logits)
        return float((P * (np.log(P) - np.log(Q))).sum() / 16 * 4)

    expected = (kl_rows(S) + kl_rows(S.T)) / 2
    got = pgfa_kl_loss(torch.tensor(f, dtype=torch.float32), torch.tensor(t, dtype=torch.float32),
                       torch.tensor(y), logit_scale=s)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    assert P[0, 2] == pytest.approx(P[0, 0]) and P[0, 1] < 1e-4      # multi-positive targets


def test_model_projection_and_temperature():
    torch.manual_seed(0)
    model = PGFAModel(PGFAConfig(encoder_overrides={"widths": (8, 16), "strides": (1, 2)}, embed_dim=16, text_dim=384))
    assert model.projection.in_features == 16 and model.projection.out_features == 384
    assert torch.count_nonzero(model.projection.bias) == 0
    std = model.projection.weight.std().item()                     # kaiming-normal, fan_out = 384
    assert std == pytest.approx(math.sqrt(2 / 384), rel=0.1)
    assert model.logit_scale.item() == pytest.approx(1 / 0.07, rel=1e-6)
    assert "log_logit_scale" not in dict(model.named_parameters())   # fixed: as the official code behaves
    learn = PGFAModel(PGFAConfig(encoder_overrides={"widths": (8,), "strides": (1,)}, embed_dim=8, learnable_temperature=True))
    assert "log_logit_scale" in dict(learn.named_parameters())
    x = torch.randn(4, 3, 8, 25, 2)
    z = model.encode_skeleton(x)
    torch.testing.assert_close(z.norm(dim=-1), torch.ones(4))
    text = torch.nn.functional.normalize(torch.randn(3, 384), dim=-1)
    y = torch.tensor([0, 1, 0, 2])
    loss = pgfa_kl_loss(model(x), text[y], y, logit_scale=model.logit_scale)
    loss.backward()
    assert model.encoder.blocks[0].gcn.conv.weight.grad is not None and model.projection.weight.grad.abs().sum() > 0
    assert PGFAConfig.from_dict(model.config.to_dict()) == model.config
    with pytest.raises(ValueError, match="unknown PGFA config keys"):
        PGFAConfig.from_dict({"widths": 3})


def test_batch_alignment_equals_direct_computation():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((9, 5)).astype(np.float32)
    text = rng.standard_normal((4, 5)).astype(np.float32)
    alpha = 0.5
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    tn = text / np.linalg.norm(text, axis=1, keepdims=True)
    logits = zn @ tn.T
    pseudo = logits.argmax(1)
    p = _softmax(logits)
    ent = -(p * np.log(p)).sum(1)
    protos = []
    for c in range(4):
        members = [i for i in range(9) if pseudo[i] == c]
        k = int(math.floor(alpha * len(members)))
        if k < 1:
            protos.append(tn[c])
        else:
            chosen = sorted(members, key=lambda i: ent[i])[:k]
            protos.append(zn[chosen].mean(0))
    protos = np.stack(protos)
    expected = zn @ (protos / np.linalg.norm(protos, axis=1, keepdims=True)).T
    got, got_protos = prototype_alignment(torch.tensor(z), torch.tensor(text), alpha, return_prototypes=True)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(got_protos.numpy(), protos, atol=1e-5)
    counts = np.bincount(pseudo, minlength=4)
    assert (counts == 1).any() or (counts == 0).any()      # the case exercises the text fallback
    # α = 1 keeps every pseudo-labelled sample
    full = prototype_alignment(torch.tensor(z), torch.tensor(text), 1.0)
    assert full.shape == (9, 4)


def test_support_factors_match_the_paper():
    assert SUPPORT_FACTOR["ntu60"] == 0.9 and SUPPORT_FACTOR["ntu120"] == 0.4 and SUPPORT_FACTOR["pku51"] == 1.0


def test_vocab_loss_adds_cross_entropy_over_training_class_texts_only():
    from skelzs.train.methods import PGFAMethod, TrainDefaults

    torch.manual_seed(0)
    cfg = PGFAConfig(encoder_overrides={"widths": (8, 16), "strides": (1, 2)}, embed_dim=16, text_dim=384)
    model = PGFAModel(cfg).eval()
    x = torch.randn(4, 3, 20, 25, 2)
    y = torch.tensor([0, 2, 4, 2])
    text = torch.nn.functional.normalize(torch.randn(5, 384), dim=-1)
    train_classes = (0, 2, 4)  # 1 and 3 unseen
    plain = PGFAMethod(model, TrainDefaults(), cfg)
    with_vocab = PGFAMethod(model, TrainDefaults(), cfg, vocab_loss=0.5, train_classes=train_classes)
    with torch.no_grad():
        kl, _ = plain.training_step(model, x, y, text)
        total, _ = with_vocab.training_step(model, x, y, text)
        f = torch.nn.functional.normalize(model(x), dim=-1).double()
    logits = model.logit_scale.item() * f.numpy() @ text[list(train_classes)].double().numpy().T
    target = np.array([train_classes.index(int(c)) for c in y])
    ce = float(np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(4), target]))
    assert total.item() == pytest.approx(kl.item() + 0.5 * ce, rel=1e-5)
    other = text.clone()
    other[[1, 3]] = torch.nn.functional.normalize(torch.randn(2, 384), dim=-1)  # unseen texts: never negatives
    with torch.no_grad():
        assert with_vocab.training_step(model, x, y, other)[0].item() == pytest.approx(total.item(), rel=1e-6)
    with pytest.raises(ValueError):
        PGFAMethod(model, TrainDefaults(), cfg, vocab_loss=1.0)
