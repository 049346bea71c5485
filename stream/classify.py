"""Whole-recording zero-shot classification (``skelzs classify``): each recording (or each
labelled PKU-MMD segment) is preprocessed exactly as the checkpoint was trained
(``PIPELINES[checkpoint preprocess]``, e.g. PGFA/SMIE's 50-frame resize), encoded in one
batched call, and ranked against the label texts by ``softmax(logit_scale · cos)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from skelzs.stream.matcher import softmax
from skelzs.stream.pipeline import normalizer_for, window_config_for
from skelzs.stream.sources.replay import load_recording

__all__ = ["classify_recordings"]


def classify_recordings(model, labels: list[str], paths: list[Path], *, template: str | None = None,
                        top_k: int = 3, threshold: float | None = None, pku_labels: Path | None = None,
                        max_batch: int | None = None) -> list[dict[str, Any]]:
    """One result per recording (or per PKU segment with ``pku_labels``): label, score, top-k."""
    cfg = window_config_for(model)
    normalize = normalizer_for(model, live=False)
    items: list[tuple[dict[str, Any], np.ndarray]] = []
    for path in paths:
        seq = load_recording(path)
        base = {"path": str(path), "frames": seq.num_frames}
        if seq.meta.get("action") is not None:
            base["action"] = int(seq.meta["action"])
        if pku_labels is not None:
            from skelzs.stream.pku import cut_pku_clips, read_pku_labels

            for seg, clip in cut_pku_clips(seq, read_pku_labels(pku_labels)):
                row = dict(base, start=seg.start, end=seg.end, action=seg.label - 1, frames=clip.num_frames)
                items.append((row, normalize(clip.with_persons(cfg.persons), cfg.frames)))
        else:
            items.append((base, normalize(seq.with_persons(cfg.persons), cfg.frames)))
    text = model.encode_text(labels, template)
    scale = float(getattr(model, "logit_scale", 1.0))
    k = min(top_k, len(labels))
    out: list[dict[str, Any]] = []
    max_batch = int(max_batch or getattr(model, "preferred_batch", 64))
    for i in range(0, len(items), max_batch):
        chunk = items[i: i + max_batch]
        batch = np.stack([x for _, x in chunk]).astype(np.float32)
        if getattr(model, "supports_embeddings", True):
            sims = np.asarray(model.encode_skeleton(batch), np.float32) @ np.asarray(text, np.float32).T
        else:
            sims = np.asarray(model.score(batch, text), np.float32)
        probs = softmax(scale * sims.astype(np.float64))
        for (row, _), s, p in zip(chunk, sims, probs):
            order = np.argsort(-p)[:k]
            best = int(order[0])
            label = labels[best] if threshold is None or s[best] >= threshold else None
            out.append(dict(row, label=label, score=round(float(p[best]), 4), cosine=round(float(s[best]), 4),
                            topk=[[labels[int(j)], round(float(p[int(j)]), 4)] for j in order]))
    return out
