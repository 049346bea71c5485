"""ZSL and GZSL metrics on score matrices (pure numpy; papers.md C.1 for the GZSL conventions).

Scores are ``(N, K)`` with ``K`` over all classes of the dataset (higher = more likely); class
sets are tuples of global class ids; labels are global ids.

* ZSL: top-1/top-5 over the unseen classes only, per-class accuracy, confusion matrix.
* GZSL: S = accuracy of seen-class samples, U = accuracy of unseen-class samples, both
  predicting over seen ∪ unseen; H = 2SU / (S + U).
* Calibrated stacking (Chao et al., ECCV 2016): subtract γ from the seen-class scores.
* Gating (SynSE family): a sample whose temperature-scaled top-1 seen-class posterior reaches a
  threshold is classified among the seen classes, otherwise among the unseen classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "topk_accuracy",
    "confusion_matrix",
    "per_class_accuracy",
    "zsl_metrics",
    "GZSLResult",
    "harmonic_mean",
    "gzsl_calibrated",
    "gzsl_gated",
    "choose_gamma",
    "choose_gate",
]


def _restrict(scores: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    return np.asarray(scores)[:, list(classes)]


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, classes: tuple[int, ...], k: int = 1) -> float:
    """Fraction of samples whose label is among the ``k`` best of ``classes`` (k capped at |classes|)."""
    if len(labels) == 0:
        return float("nan")
    sub = _restrict(scores, classes)
    k = min(k, len(classes))
    top = np.argsort(-sub, axis=1, kind="stable")[:, :k]
    cls = np.asarray(classes)[top]
    return float(np.mean(np.any(cls == np.asarray(labels)[:, None], axis=1)))


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    """``(len(classes), len(classes))`` counts, rows = true class, columns = predicted."""
    pos = {c: i for i, c in enumerate(classes)}
    m = np.zeros((len(classes), len(classes)), np.int64)
    for t, p in zip(np.asarray(labels).tolist(), np.asarray(pred).tolist()):
        if t in pos and p in pos:
            m[pos[t], pos[p]] += 1
    return m


def per_class_accuracy(pred: np.ndarray, labels: np.ndarray, classes: tuple[int, ...]) -> dict[int, float]:
    pred, labels = np.asarray(pred), np.asarray(labels)
    out = {}
    for c in classes:
        mask = labels == c
        out[int(c)] = float(np.mean(pred[mask] == c)) if mask.any() else float("nan")
    return out


def zsl_metrics(scores: np.ndarray, labels: np.ndarray, unseen: tuple[int, ...]) -> dict:
    """ZSL over the unseen classes: top-1, top-5, per-class and mean per-class accuracy, confusion."""
    sub = _restrict(scores, unseen)
    pred = np.asarray(unseen)[np.argmax(sub, axis=1)] if len(labels) else np.empty(0, np.int64)
    per_class = per_class_accuracy(pred, labels, unseen)
    valid = [v for v in per_class.values() if not np.isnan(v)]
    return {
        "top1": topk_accuracy(scores, labels, unseen, 1),
        "top5": topk_accuracy(scores, labels, unseen, 5),
        "mean_per_class": float(np.mean(valid)) if valid else float("nan"),
        "per_class": per_class,
        "confusion": confusion_matrix(pred, labels, unseen),
        "pred": pred,
        "num_samples": int(len(labels)),
    }


def harmonic_mean(s: float, u: float) -> float:
    return 0.0 if s + u <= 0 else 2.0 * s * u / (s + u)


@dataclass(frozen=True)
class GZSLResult:
    seen: float  # S
    unseen: float  # U
    harmonic: float  # H
    variant: str
    params: dict

    def as_dict(self) -> dict:
        return {"S": self.seen, "U": self.unseen, "H": self.harmonic, "variant": self.variant, **self.params}


def _su(pred: np.ndarray, labels: np.ndarray, seen: tuple[int, ...], unseen: tuple[int, ...]) -> tuple[float, float]:
    labels = np.asarray(labels)
    ms, mu = np.isin(labels, seen), np.isin(labels, unseen)
    s = float(np.mean(pred[ms] == labels[ms])) if ms.any() else float("nan")
    u = float(np.mean(pred[mu] == labels[mu])) if mu.any() else float("nan")
    return s, u


def gzsl_calibrated(
    scores: np.ndarray, labels: np.ndarray, seen: tuple[int, ...], unseen: tuple[int, ...], gamma: float = 0.0
) -> GZSLResult:
    """Calibrated stacking: argmax over seen ∪ unseen of ``score - γ·[class is seen]``."""
    classes = tuple(seen) + tuple(unseen)
    sub = _restrict(scores, classes).astype(np.float64).copy()
    sub[:, : len(seen)] -= gamma
    pred = np.asarray(classes)[np.argmax(sub, axis=1)]
    s, u = _su(pred, labels, seen, unseen)
    return GZSLResult(s, u, harmonic_mean(s, u), "calibrated" if gamma else "plain", {"gamma": float(gamma)})


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def gzsl_gated(
    scores: np.ndarray,
    labels: np.ndarray,
    seen: tuple[int, ...],
    unseen: tuple[int, ...],
    temperature: float,
    threshold: float,
) -> GZSLResult:
    """Gating: seen branch if max softmax(seen scores / T) ≥ threshold, else the unseen branch."""
    s_seen, s_unseen = _restrict(scores, seen), _restrict(scores, unseen)
    conf = _softmax(s_seen / temperature).max(axis=1)
    to_seen = conf >= threshold
    pred = np.where(
        to_seen, np.asarray(seen)[np.argmax(s_seen, axis=1)], np.asarray(unseen)[np.argmax(s_unseen, axis=1)]
    )
    s, u = _su(pred, labels, seen, unseen)
    return GZSLResult(s, u, harmonic_mean(s, u), "gated", {"temperature": float(temperature), "threshold": float(threshold)})


def choose_gamma(
    scores: np.ndarray, labels: np.ndarray, seen: tuple[int, ...], unseen: tuple[int, ...], grid: np.ndarray | None = None
) -> float:
    """γ maximising H on a validation GZSL problem (ties: the smallest |γ|)."""
    if grid is None:
        sub = _restrict(scores, tuple(seen) + tuple(unseen))
        spread = float(np.ptp(sub)) if sub.size else 1.0
        grid = np.linspace(-spread, spread, 201)
    best, best_h = 0.0, -1.0
    for g in sorted(np.asarray(grid, float).tolist(), key=abs):
        h = gzsl_calibrated(scores, labels, seen, unseen, g).harmonic
        if h > best_h + 1e-12:
            best, best_h = g, h
    return float(best)


def choose_gate(
    scores: np.ndarray, labels: np.ndarray, seen: tuple[int, ...], unseen: tuple[int, ...]
) -> tuple[float, float]:
    """(temperature, threshold) maximising H on a validation GZSL problem."""
    best, best_h = (1.0, 0.5), -1.0
    for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        conf = _softmax(_restrict(scores, seen) / t).max(axis=1)
        for thr in np.unique(np.quantile(conf, np.linspace(0, 1, 41))):
            h = gzsl_gated(scores, labels, seen, unseen, t, float(thr)).harmonic
            if h > best_h + 1e-12:
                best, best_h = (t, float(thr)), h
    return best
