"""Online prototype alignment: on a stream of separated clusters with biased text anchors it
approaches the batch (transductive) result and beats text-only matching."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from skelzs.models.alignment import OnlinePrototypes
from skelzs.models.pgfa import prototype_alignment


def _stream(seed=0, classes=6, dim=32, per_class=60):
    g = torch.Generator().manual_seed(seed)
    centers = F.normalize(torch.randn(classes, dim, generator=g), dim=-1)
    labels = torch.arange(classes).repeat_interleave(per_class)
    labels = labels[torch.randperm(len(labels), generator=g)]
    z = F.normalize(centers[labels] + 1.2 * torch.randn(len(labels), dim, generator=g) / dim ** 0.5, dim=-1)
    # text anchors: the cluster centre pulled towards a shared direction plus its own offset (biased)
    shared = F.normalize(torch.randn(dim, generator=g), dim=0)
    text = F.normalize(centers + 1.5 * shared + 1.5 * F.normalize(torch.randn(classes, dim, generator=g), dim=-1), dim=-1)
    return z, labels, text


def _acc(scores, labels):
    return float((scores.argmax(1) == labels).float().mean())


def test_online_approaches_batch_and_beats_text_only():
    z, labels, text = _stream()
    text_only = _acc(z @ text.T, labels)
    batch = _acc(prototype_alignment(z, text, 1.0), labels)
    online = OnlinePrototypes(text, capacity=32, support_factor=1.0, k0=2.0)
    preds = []
    for i in range(len(z)):                      # classify with the current prototypes, then update
        preds.append(int(online.scores(z[i:i + 1]).argmax()))
        online.update(z[i:i + 1])
    preds = torch.tensor(preds)
    online_acc = float((preds == labels).float().mean())
    late = float((preds[len(z) // 2:] == labels[len(z) // 2:]).float().mean())   # after warm-up
    assert text_only < 0.9, text_only            # the bias costs accuracy
    assert batch > text_only + 0.1
    assert online_acc > text_only + 0.1
    assert late >= batch - 0.05                  # approaches the transductive result
    # final prototypes close to the batch prototypes
    _, batch_protos = prototype_alignment(z, text, 1.0, return_prototypes=True)
    cos = (online.prototypes() * F.normalize(batch_protos, dim=-1)).sum(1)
    assert float(cos.min()) > 0.9


def test_memory_is_bounded_keeps_lowest_entropy_and_resets():
    z, labels, text = _stream(seed=1)
    online = OnlinePrototypes(text, capacity=5, support_factor=1.0)
    online.update(z)                                          # one batch of 360 windows
    assert max(online.support()) == 5
    logits = F.normalize(z, dim=-1) @ text.T
    p = logits.softmax(1)
    ent = -(p * p.log()).sum(1)
    c = int(np.argmax(online.support()))
    members = (logits.argmax(1) == c).nonzero().flatten()
    lowest = set(members[ent[members].argsort()[:5]].tolist())
    kept = online._emb[c]
    expect = F.normalize(z[list(lowest)], dim=-1)
    assert torch.allclose(kept.sort(0).values, expect.sort(0).values, atol=1e-6)
    assert not torch.allclose(online.prototypes(), text)
    online.reset()
    assert online.support() == [0] * 6 and torch.allclose(online.prototypes(), text)
    aged = OnlinePrototypes(text, capacity=50, horizon=10)
    aged.update(z[:100])
    assert sum(aged.support()) <= 10


def test_blend_weight_grows_with_support():
    text = F.normalize(torch.eye(2, 4), dim=-1)
    online = OnlinePrototypes(text, k0=4.0)
    sample = F.normalize(torch.tensor([[1.0, 0.0, 1.0, 0.0]]), dim=-1)
    online.update(sample)
    one = float(online.prototypes()[0] @ sample[0])
    for _ in range(12):
        online.update(sample)
    many = float(online.prototypes()[0] @ sample[0])
    assert 0.70 < one < many < 1.0
