"""ZSL/GZSL metric math on hand-computed cases, and the published-results table."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.train import metrics as M
from skelzs.train.published import PUBLISHED, protocol_notes, published_for


def test_zsl_topk_per_class_and_confusion():
    # classes 0..3; unseen = (1, 3); scores over all 4 classes
    scores = np.array([
        [9.0, 0.9, 0.0, 0.1],   # true 1 -> predicts 1 among unseen (class 0 ignored)
        [0.0, 0.2, 0.0, 0.8],   # true 1 -> predicts 3
        [0.0, 0.1, 0.0, 0.7],   # true 3 -> 3
        [0.0, 0.6, 5.0, 0.5],   # true 3 -> 1
    ])
    labels = np.array([1, 1, 3, 3])
    m = M.zsl_metrics(scores, labels, (1, 3))
    assert m["top1"] == pytest.approx(0.5)
    assert m["top5"] == pytest.approx(1.0)  # k capped at the 2 unseen classes
    assert m["per_class"] == {1: 0.5, 3: 0.5}
    assert m["confusion"].tolist() == [[1, 1], [1, 1]]


def test_gzsl_hand_computed():
    # seen (0, 1), unseen (2,). Six samples; scores chosen by hand.
    scores = np.array([
        [0.9, 0.1, 0.5],  # true 0: plain -> 0 ok
        [0.2, 0.9, 0.7],  # true 1: -> 1 ok (0.78 > 0.7 with gamma .12)
        [0.6, 0.1, 0.55],  # true 0: plain -> 0 ok; with gamma .1 -> 2 (wrong)
        [0.7, 0.0, 0.6],  # true 2: plain -> 0 wrong; with gamma .15 -> 2
        [0.1, 0.1, 0.9],  # true 2: -> 2 ok
        [0.5, 0.3, 0.45],  # true 2: plain wrong; gamma .1 -> 2
    ])
    labels = np.array([0, 1, 0, 2, 2, 2])
    plain = M.gzsl_calibrated(scores, labels, (0, 1), (2,), 0.0)
    assert (plain.seen, plain.unseen) == (1.0, pytest.approx(1 / 3))
    assert plain.harmonic == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))  # 0.5
    cal = M.gzsl_calibrated(scores, labels, (0, 1), (2,), 0.12)
    # seen: sample 2 -> 0.48 vs 0.55 -> unseen (wrong): S = 2/3; unseen: 0.58<0.6, 0.38<0.45 -> U = 1
    assert cal.seen == pytest.approx(2 / 3) and cal.unseen == pytest.approx(1.0)
    assert cal.harmonic == pytest.approx(0.8)
    g = M.choose_gamma(scores, labels, (0, 1), (2,))
    assert M.gzsl_calibrated(scores, labels, (0, 1), (2,), g).harmonic >= cal.harmonic - 1e-9
    assert M.harmonic_mean(0.0, 0.5) == 0.0


def test_gzsl_gate():
    scores = np.array([[5.0, 0.0, 1.0], [0.3, 0.2, 0.9], [0.0, 4.0, 0.0], [0.25, 0.3, 0.1]])
    labels = np.array([0, 2, 1, 2])
    # temperature 1: seen posteriors max = .993, .525, .982, .512 -> threshold .9 routes rows 1, 3 to unseen
    r = M.gzsl_gated(scores, labels, (0, 1), (2,), temperature=1.0, threshold=0.9)
    assert (r.seen, r.unseen, r.harmonic) == (1.0, 1.0, 1.0)
    t, thr = M.choose_gate(scores, labels, (0, 1), (2,))
    assert M.gzsl_gated(scores, labels, (0, 1), (2,), t, thr).harmonic == 1.0


def test_published_lookup_and_notes():
    rows = published_for("synse_ntu60_55_5")
    assert rows[0].value == max(r.value for r in rows)
    assert any(r.method.startswith("PGFA") and r.value == 80.26 for r in rows)
    avg = published_for("smie_ntu120_split2")
    assert [r.value for r in avg] == [71.38, 58.85]
    notes = protocol_notes("smie_ntu120_split2", {"encoder": "stgcn", "pipeline": "frame50", "select_on": "val"})
    assert any("3-split averages" in n for n in notes)
    assert all(r.metric in ("zsl_top1", "gzsl_h", "gzsl_s", "gzsl_u") for r in PUBLISHED)


def test_alignment_modes_on_shifted_embeddings():
    """Skeleton embeddings sit off their class texts by a shared shift; prototypes recover them."""
    import torch

    from skelzs.train.evaluate import Outputs, align_scores

    rng = np.random.default_rng(0)
    text = np.linalg.qr(rng.normal(size=(16, 16)))[0][:3].astype(np.float32)  # 3 orthonormal class texts
    labels = np.repeat([0, 1, 2], 20)
    shift = np.float32(0.5) * (text[1] - text[0])  # pulls class-0 samples towards class 1
    z = text[labels] + 0.15 * rng.normal(size=(60, 16)).astype(np.float32)
    z[labels == 0] += shift
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    out = Outputs(labels, z @ text.T, z)
    t = torch.from_numpy(text)
    raw = M.topk_accuracy(out.scores, labels, (0, 1, 2))
    batch = align_scores(out, t, (0, 1, 2), "batch", alpha=0.9)
    online = align_scores(out, t, (0, 1, 2), "online", alpha=0.9)
    assert batch.shape == online.shape == (60, 3)
    assert np.array_equal(align_scores(out, t, (0, 1, 2), "none", 0.9), out.scores)
    assert raw < 0.85  # the shift costs accuracy before alignment (0.82 here)
    assert M.topk_accuracy(batch, labels, (0, 1, 2)) > raw  # transductive prototypes (0.90)
    assert M.topk_accuracy(online, labels, (0, 1, 2)) > raw  # streaming prototypes (0.85)
