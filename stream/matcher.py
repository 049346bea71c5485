"""From window–label similarities to decisions: scale, softmax, top-k, open set, hysteresis.

For each window the pipeline hands over the cosine similarities to the K label embeddings
(CLIP-style zero-shot classification: ``logits = logit_scale · cos``, Radford et al. 2021 §3.1;
PGFA scores a skeleton against class texts the same way, PGFA §III-D). Per (source, person):

* the similarities are smoothed over windows with an exponential moving average (``smoothing``);
* ``probs = softmax(logit_scale · smoothed cos)`` ranks the labels (``topk``);
* **open set**: if the best smoothed cosine is below ``threshold`` the window matches nothing
  well and the decision is ``None`` (no action);
* **hysteresis**: the current label is kept while its cosine stays above
  ``threshold - release`` and its probability is within ``margin`` of the best one, so a label
  does not flicker between two close candidates; a new label must win ``confirm`` windows in a row.

:class:`Matcher` emits a :class:`~skelzs.stream.events.Event` when a person's label changes
(and for every window with ``every_window``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkelzsError
from skelzs.stream.events import Event

__all__ = ["MatcherConfig", "Decision", "Matcher", "parse_labels", "softmax", "DEFAULT_THRESHOLD"]

# Cosine below which a window "matches nothing well" when neither the user nor the checkpoint
# (config key ``open_set_threshold``) says otherwise.
DEFAULT_THRESHOLD = 0.2


class LabelError(SkelzsError):
    """No usable labels were given."""


def parse_labels(labels: str | None = None, labels_file: str | Path | None = None) -> list[str]:
    """Labels from ``"a,b,c"`` and/or a file (one per line, ``#`` comments), de-duplicated."""
    out: list[str] = []
    if labels:
        out += [x.strip() for x in labels.split(",")]
    if labels_file:
        path = Path(labels_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise LabelError(f"cannot read labels file {path}: {err.strerror or err}") from None
        out += [line.split("#", 1)[0].strip() for line in text.splitlines()]
    seen: set[str] = set()
    result = [x for x in out if x and not (x in seen or seen.add(x))]
    if not result:
        raise LabelError("no labels given: use --labels \"a,b,c\" or --labels-file PATH")
    return result


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


@dataclass
class MatcherConfig:
    logit_scale: float = 100.0 / 3.0
    threshold: float = DEFAULT_THRESHOLD   # open set: best cosine below this -> no action
    release: float = 0.05                  # hysteresis on the threshold (keep while cos >= thr - release)
    margin: float = 0.1                    # hysteresis on the probability of the current label
    confirm: int = 1                       # windows a new label must win in a row
    smoothing: float = 0.5                 # EMA weight of the newest window (1 = no smoothing)
    top_k: int = 3
    every_window: bool = False


@dataclass
class Decision:
    label: str | None
    score: float
    topk: list[list]
    changed: bool
    cosine: float


@dataclass
class _Track:
    sims: np.ndarray
    label: int | None = None          # index into labels, None = no action
    decided: bool = False
    candidate: int | None = None
    streak: int = 0
    windows: int = 0
    last_seen: float = field(default_factory=time.monotonic)


class Matcher:
    """Turns per-window label similarities into smoothed, thresholded decisions and events."""

    def __init__(self, labels: list[str], config: MatcherConfig | None = None):
        if not labels:
            raise LabelError("no labels given")
        self.labels = list(labels)
        self.cfg = config or MatcherConfig()
        self.tracks: dict[tuple, _Track] = {}
        self.last: dict[tuple, Decision] = {}

    def reset(self, key: tuple | None = None) -> None:
        if key is None:
            self.tracks.clear()
            self.last.clear()
        else:
            self.tracks.pop(key, None)
            self.last.pop(key, None)

    def decide(self, key: tuple, sims: np.ndarray) -> Decision:
        """Update ``key``'s state with one window's similarities ``(K,)``; return the decision."""
        sims = np.asarray(sims, np.float64).reshape(-1)
        if sims.shape[0] != len(self.labels):
            raise ValueError(f"{sims.shape[0]} similarities for {len(self.labels)} labels")
        c = self.cfg
        tr = self.tracks.get(key)
        if tr is None:
            tr = self.tracks[key] = _Track(sims.copy())
        else:
            tr.sims = c.smoothing * sims + (1.0 - c.smoothing) * tr.sims
        tr.windows += 1
        tr.last_seen = time.monotonic()
        probs = softmax(c.logit_scale * tr.sims)
        order = np.argsort(-probs)
        best = int(order[0])
        cand: int | None = best if tr.sims[best] >= c.threshold else None

        keep = False
        if tr.decided and tr.label is not None:
            cur = tr.label
            keep = tr.sims[cur] >= c.threshold - c.release and probs[cur] >= probs[best] - c.margin
        elif tr.decided and tr.label is None:
            keep = tr.sims[best] < c.threshold + c.release and cand is None
        previous = tr.label
        changed = False
        if not tr.decided:
            tr.label, tr.decided, changed = cand, True, True
        elif not keep and cand != tr.label:
            tr.streak = tr.streak + 1 if cand == tr.candidate else 1
            tr.candidate = cand
            if tr.streak >= c.confirm:
                tr.label, changed = cand, cand != previous
                tr.streak, tr.candidate = 0, None
        else:
            tr.streak, tr.candidate = 0, None
        k = min(c.top_k, len(self.labels))
        topk = [[self.labels[int(i)], float(probs[int(i)])] for i in order[:k]]
        score = float(probs[tr.label]) if tr.label is not None else float(probs[best])
        cosine = float(tr.sims[tr.label]) if tr.label is not None else float(tr.sims[best])
        d = Decision(None if tr.label is None else self.labels[tr.label], score, topk, changed, cosine)
        self.last[key] = d
        return d

    def events_for(self, key: tuple, sims: np.ndarray, *, frame: int | None,
                   latency_ms: float | None = None, stages_ms: dict | None = None) -> list[Event]:
        """Decide and return the events this window produces (label change / every window)."""
        d = self.decide(key, sims)
        if not (d.changed or self.cfg.every_window):
            return []
        source, person = key[0], key[1] if len(key) > 1 else None
        return [Event(time.time(), source, person, frame, d.label, d.score, d.topk, latency_ms,
                      "label" if d.changed else "window", dict(stages_ms or {}),
                      {"cosine": round(d.cosine, 4)})]
