"""Whole-recording zero-shot classification (``skelzs classify``): each recording (or each
labelled PKU-MMD segment) is preprocessed exactly as the checkpoint was trained
(``PIPELINES[checkpoint preprocess]``, e.g. PGFA/SMIE's 50-frame resize), encoded in one
batched call, and ranked against the label texts by ``softmax(logit_scale · cos)``.

A checkpoint trained on live windows (its ``preprocess`` is a window normalization such as
``body``) sees a recording as the live buffer would: sliding windows at the checkpoint's fps
(:func:`skelzs.stream.preprocess.sliding_windows`), each normalized, their embeddings averaged
(and re-normalized) into the recording's embedding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from skelzs.stream.errors import SkelzsError
from skelzs.stream.matcher import softmax
from skelzs.stream.pipeline import normalizer_for, window_config_for
from skelzs.stream.sources.replay import load_recording

__all__ = ["aligned_scores", "classify_recordings", "classify_sequences"]


def classify_recordings(model, labels: list[str], paths: list[Path], *, template: str | None = None,
                        top_k: int = 3, threshold: float | None = None, pku_labels: Path | None = None,
                        max_batch: int | None = None, align: float | None = None) -> list[dict[str, Any]]:
    """One result per recording (or per PKU segment with ``pku_labels``): label, score, top-k."""
    seqs: list[tuple[dict[str, Any], Any]] = []
    for path in paths:
        seq = load_recording(path)
        base = {"path": str(path), "frames": seq.num_frames}
        if seq.meta.get("action") is not None:
            base["action"] = int(seq.meta["action"])
        if pku_labels is not None:
            from skelzs.stream.pku import cut_pku_clips, read_pku_labels

            for seg, clip in cut_pku_clips(seq, read_pku_labels(pku_labels)):
                row = dict(base, start=seg.start, end=seg.end, action=seg.label - 1, frames=clip.num_frames)
                seqs.append((row, clip))
        else:
            seqs.append((base, seq))
    return classify_sequences(model, labels, seqs, template=template, top_k=top_k, threshold=threshold,
                              max_batch=max_batch, align=align)


def aligned_scores(embeddings: np.ndarray, text: np.ndarray, support_factor: float) -> np.ndarray:
    """PGFA's prototype-guided alignment over a pool of recordings (papers.md A.7, transductive):
    each label's text feature is replaced by the mean of its most confident recordings (the
    lowest-entropy ``support_factor`` share of those it wins), then every recording is re-scored.
    ``(N, D)`` embeddings, ``(C, D)`` text -> ``(N, C)`` cosines."""
    import torch

    from skelzs.models.pgfa import prototype_alignment

    z = torch.from_numpy(np.ascontiguousarray(embeddings, np.float32))
    t = torch.from_numpy(np.ascontiguousarray(text, np.float32))
    return prototype_alignment(z, t, float(support_factor)).numpy()


def classify_sequences(model, labels: list[str], seqs: list[tuple[dict[str, Any], Any]], *,
                       template: str | None = None, top_k: int = 3, threshold: float | None = None,
                       max_batch: int | None = None, align: float | None = None, return_embeddings: bool = False):
    """``classify_recordings`` on sequences in memory: ``(row, SkeletonSequence)`` pairs, each row
    returned with ``label``, ``score``, ``cosine``, ``topk`` added.

    ``align``: a support factor; the recordings are then ranked against prototypes aligned on
    all of them together (:func:`aligned_scores`), which needs single skeleton embeddings.
    ``cosine`` and the ``threshold`` test stay the text cosine of the chosen label (what the
    open-set threshold is calibrated on).
    ``return_embeddings``: return ``(rows, embeddings)``, the ``(N, D)`` unit-norm recording
    embeddings in row order (``None`` for a class-conditional model such as SCoPLe)."""
    from skelzs.stream.preprocess import WINDOW_NORMALIZERS, normalize_windows, sliding_windows

    cfg = window_config_for(model)
    windowed = getattr(model, "preprocess", None) in WINDOW_NORMALIZERS
    has_embeddings = getattr(model, "supports_embeddings", True)
    if align is not None and not has_embeddings:
        raise SkelzsError("--align batch needs single skeleton embeddings; this checkpoint scores labels "
                          "class-conditionally (SCoPLe): use --align none")
    if align is not None and not 0 < align <= 1:
        raise SkelzsError(f"--support-factor {align}: expected a share in (0, 1]")
    if windowed:
        def normalize(seq, frames):  # (k, 3, T, V, M): the recording's windows
            return normalize_windows(sliding_windows(seq, frames, cfg.fps), model.preprocess)
    else:
        normalize = normalizer_for(model, live=False)
    items = [(row, normalize(seq.with_persons(cfg.persons), cfg.frames)) for row, seq in seqs]
    text = np.asarray(model.encode_text(labels, template), np.float32)
    max_batch = int(max_batch or getattr(model, "preferred_batch", 64))
    # one batch of windows per recording (windowed checkpoints: its windows, averaged after encoding)
    groups = [[x] if (not windowed or x.ndim == 4) else list(x) for _, x in items]
    flat = np.stack([w for g in groups for w in g]).astype(np.float32) if groups else np.zeros((0,), np.float32)
    bounds = np.cumsum([0] + [len(g) for g in groups])
    embeddings = None
    if not items:
        sims = np.zeros((0, len(labels)), np.float32)
    elif has_embeddings:
        embs = np.concatenate([np.asarray(model.encode_skeleton(flat[i: i + max_batch]), np.float32)
                               for i in range(0, len(flat), max_batch)])
        embeddings = np.stack([embs[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])
        embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        sims = embeddings @ text.T
    else:  # class-conditional scores: averaged over the windows
        sc = np.concatenate([np.asarray(model.score(flat[i: i + max_batch], text), np.float32)
                             for i in range(0, len(flat), max_batch)])
        sims = np.stack([sc[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])
    text_sims = sims  # the open-set threshold is calibrated on these, aligned or not
    if align is not None and len(items):
        sims = aligned_scores(embeddings, text, align)
    probs = softmax(float(getattr(model, "logit_scale", 1.0)) * sims.astype(np.float64))
    k = min(top_k, len(labels))
    out: list[dict[str, Any]] = []
    for (row, _), s, p in zip(items, text_sims, probs):
        order = np.argsort(-p)[:k]
        best = int(order[0])
        label = labels[best] if threshold is None or s[best] >= threshold else None
        out.append(dict(row, label=label, score=round(float(p[best]), 4), cosine=round(float(s[best]), 4),
                        topk=[[labels[int(j)], round(float(p[int(j)]), 4)] for j in order]))
    return (out, embeddings) if return_embeddings else out
