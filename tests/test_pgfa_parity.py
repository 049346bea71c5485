"""PGFA parity with the official code (issue 14 part 3), pinned as reference numbers.

How the references were produced (the official code is not needed to run this test):

* Official repository kaai520/PGFA at commit ``3e09542b98ac3af8a1ec84df85247c060d0932b8``. Its ``main.py``,
  ``tool.py``, ``KLLoss.py`` and ``module/adapter.py`` were copied unchanged to ``/tmp/pgfa_official/``
  (outside this repository), with stub modules for the imports that are not used (sacred ``config``, ``dataset``,
  ``logger``, the two encoders) and ``.cuda()`` made the identity so that it runs on the CPU.
* Runner: ``.venv/bin/python /tmp/pgfa_official/run_official.py``. It generates the tensors of
  :func:`_tensors` below and calls the official code as written:

  - loss and gradient: ``main.Processor.train_epoch(loss_type="kl")``, i.e. ``tool.gen_label``,
    ``tool.create_logits(..., logit_scale, exp=True)`` with ``logit_scale`` from ``module.adapter.Linear``
    (``log(1/0.07)`` in float32), and ``KLLoss.KLLoss`` on both logit matrices, ``(L_skl + L_txt) / 2``. The
    encoder is a stub returning the fixed features and the adapter the identity, so the gradient is w.r.t. the
    projected skeleton features; the optimizer is a stub that neither zeroes nor steps.
  - prototype alignment: ``main.Processor.test_epoch(DA=True, support_factor=α)`` (``tool.get_acc_v2``,
    ``tool.softmax_entropy``, the ``torch.topk(-class_ent, int(n·α))`` prototypes, the text-feature fallback,
    then ``tool.get_acc`` against the prototypes), test batches of 16; ``get_acc`` is wrapped to record its
    inputs and predictions, and the scores are ``tool.create_sim_matrix(feature, prototypes)[1]``.
* ``/tmp/pgfa_official/compare.py`` ran :func:`skelzs.models.pgfa.pgfa_kl_loss` and
  :func:`skelzs.models.pgfa.prototype_alignment` on the same tensors: loss and gradient identical to the last
  bit (max abs difference 0 for both, with the scale as python ``1/0.07`` or as the float32 ``exp(log(1/0.07))``
  buffer); alignment scores max abs difference 3.0e-7, prototypes (normalized) identical, predictions identical
  for α = 0.9, 0.4 and 1.0. No fix was needed.

Sizes are the project's: text dim 384 (MiniLM), batch 16 over 10 classes, 40 test windows over 5 unseen classes.
"""

from __future__ import annotations

import pytest
import torch

from skelzs.models.pgfa import PGFAConfig, pgfa_kl_loss, prototype_alignment

D, B, C, N, K = 384, 16, 10, 40, 5
UNSEEN = [1, 3, 4, 7, 9]


def _tensors():
    """The runner's tensors, drawn in the same order from one generator (seed 0)."""
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(B, D, generator=g)
    text = torch.randn(C, D, generator=g)
    labels = torch.randint(0, C, (B,), generator=g)
    # skewed class frequencies so that a rare class falls back to its text feature at α = 0.4
    y_local = torch.multinomial(torch.tensor([10.0, 6.0, 4.0, 2.0, 1.0]), N, replacement=True, generator=g)
    z = text[UNSEEN][y_local] + 8.0 * torch.randn(N, D, generator=g)
    y_test = torch.tensor(UNSEEN)[y_local]
    return feats, text, labels, z, y_test


# ---- reference values printed by the official code (run_official.py) ----
REF_LABELS = [3, 6, 8, 0, 9, 3, 6, 9, 6, 2, 1, 8, 5, 0, 3, 2]
REF_Y_TEST = [1, 3, 3, 9, 3, 3, 3, 1, 1, 7, 1, 3, 1, 1, 1, 4, 1, 3, 3, 3,
              4, 4, 4, 3, 3, 1, 1, 1, 9, 1, 4, 1, 7, 1, 3, 1, 1, 4, 1, 1]
REF_INPUT_SUMS = {"feats": -95.9198870549153, "text": -13.914055993576767, "z": -283.1449066735804}
REF_LOGIT_SCALE = 14.285714149475098
REF_LOSS = 2.309626817703247
REF_GRAD_SUM = 0.01191952527989315
REF_GRAD_SUMSQ = 0.03250817661684463
REF_GRAD_ENTRIES = {(0, 0): -0.0018637016182765365, (0, 1): 0.00027139048324897885, (0, 2): 0.0017113126814365387,
                    (0, 3): 0.003676748601719737, (3, 10): 0.0019964666571468115, (3, 11): -0.0017265918431803584,
                    (3, 12): 0.0008476700750179589, (5, 100): -0.0016232456546276808,
                    (15, 383): -0.0016384486807510257}
# text-only prediction (no alignment), official tool.get_acc_v3: accuracy 0.85
REF_TEXT_PRED = [1, 3, 3, 3, 3, 7, 3, 1, 1, 7, 1, 3, 1, 1, 1, 4, 1, 3, 3, 7,
                 4, 4, 4, 7, 3, 1, 1, 1, 9, 1, 4, 1, 3, 1, 3, 1, 9, 4, 1, 1]
REF_ALIGN = {
    0.9: {"pred": [1, 3, 3, 4, 3, 7, 3, 1, 1, 7, 1, 3, 1, 1, 1, 4, 1, 3, 3, 7,
                   4, 4, 4, 4, 3, 1, 1, 1, 9, 1, 4, 1, 3, 1, 3, 1, 3, 4, 1, 9],
          "fallback": [False] * 5,
          "scores0": [0.31491467356681824, 0.012170837260782719, -0.045695461332798004, 0.10499309003353119,
                      -0.01425995770841837],
          "scores39": [0.0022758617997169495, 0.04943165183067322, 0.05307219177484512, -0.020808573812246323,
                       0.06110324338078499],
          "sum": 12.978973522927845},
    0.4: {"pred": [7, 3, 3, 3, 3, 1, 1, 1, 9, 3, 1, 3, 1, 7, 1, 4, 9, 3, 3, 7,
                   1, 4, 4, 7, 3, 1, 3, 1, 9, 1, 1, 1, 3, 1, 7, 3, 9, 9, 1, 4],
          "fallback": [False, False, False, False, True],  # class 9: 2 pseudo-labels, int(2·0.4) = 0
          "scores0": [0.05492587015032768, 0.054259877651929855, 0.011542130261659622, 0.1374557763338089,
                      -0.025675728917121887],
          "scores39": [0.016797102987766266, 0.03863430768251419, 0.05169609189033508, 0.00119752436876297,
                       0.02860543131828308],
          "sum": 8.263655401933192},
    1.0: {"pred": [1, 3, 3, 3, 3, 7, 3, 1, 1, 7, 1, 3, 1, 1, 1, 4, 1, 3, 3, 7,
                   4, 4, 4, 7, 3, 1, 1, 1, 9, 1, 4, 1, 3, 1, 3, 1, 9, 4, 1, 1],
          "fallback": [False] * 5,
          "scores0": [0.30496007204055786, 0.014448192901909351, -0.045830484479665756, 0.12339485436677933,
                      -0.0018624125514179468],
          "scores39": [0.20032252371311188, 0.06046699732542038, 0.05999041348695755, -0.023382723331451416,
                       0.019473349675536156],
          "sum": 15.123538638465106},
}


def test_inputs_are_the_runners():
    """Guards the RNG: a failure here means the inputs changed, not the math."""
    feats, text, labels, z, y_test = _tensors()
    assert labels.tolist() == REF_LABELS
    assert y_test.tolist() == REF_Y_TEST
    for name, t in (("feats", feats), ("text", text), ("z", z)):
        assert t.double().sum().item() == pytest.approx(REF_INPUT_SUMS[name], abs=1e-3)


@pytest.mark.parametrize("scale", ["buffer", "python"])
def test_kl_loss_and_gradient_match_official(scale):
    feats, text, labels, _, _ = _tensors()
    # the project's fixed scale is the float32 buffer exp(log(1/0.07)) (PGFAModel.logit_scale), as official
    s = torch.tensor(PGFAConfig().temperature_init).exp() if scale == "buffer" else 1 / 0.07
    if scale == "buffer":
        assert float(s) == pytest.approx(REF_LOGIT_SCALE, abs=1e-6)
    f = feats.clone().requires_grad_(True)
    loss = pgfa_kl_loss(f, text[labels], labels, logit_scale=s)
    loss.backward()
    assert loss.item() == pytest.approx(REF_LOSS, abs=1e-6)
    g = f.grad.double()
    assert g.sum().item() == pytest.approx(REF_GRAD_SUM, abs=1e-6)
    assert g.pow(2).sum().item() == pytest.approx(REF_GRAD_SUMSQ, rel=1e-5)
    for (i, j), v in REF_GRAD_ENTRIES.items():
        assert f.grad[i, j].item() == pytest.approx(v, abs=1e-7), (i, j)


def test_text_only_prediction_matches_official():
    _, text, _, z, _ = _tensors()
    t = torch.nn.functional.normalize(text[UNSEEN], dim=-1)
    pred = torch.tensor(UNSEEN)[(torch.nn.functional.normalize(z, dim=-1) @ t.t()).argmax(1)]
    assert pred.tolist() == REF_TEXT_PRED


@pytest.mark.parametrize("alpha", [0.9, 0.4, 1.0])
def test_prototype_alignment_matches_official(alpha):
    _, text, _, z, _ = _tensors()
    ref = REF_ALIGN[alpha]
    scores, protos = prototype_alignment(z, text[UNSEEN], alpha, return_prototypes=True)
    assert torch.tensor(UNSEEN)[scores.argmax(1)].tolist() == ref["pred"]
    assert scores[0].tolist() == pytest.approx(ref["scores0"], abs=1e-6)
    assert scores[39].tolist() == pytest.approx(ref["scores39"], abs=1e-6)
    assert scores.double().sum().item() == pytest.approx(ref["sum"], abs=1e-4)
    tn = torch.nn.functional.normalize(text[UNSEEN], dim=-1)
    fallback = [bool(torch.allclose(torch.nn.functional.normalize(protos[c], dim=0), tn[c], atol=1e-6))
                for c in range(K)]
    assert fallback == ref["fallback"]
