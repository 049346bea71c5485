"""Online prototype-guided text feature alignment for streams (an extension of papers.md A.7).

PGFA's alignment is transductive: it needs the whole unlabeled test pool. :class:`OnlinePrototypes`
keeps, per label, a bounded memory (``capacity``) of the lowest-entropy recent window embeddings
pseudo-labelled as that label. The label's prototype is the mean of the lowest-entropy ``α`` share of
its memory (α = the support factor, as in the batch form), blended with the text feature until
enough support exists: ``p_c = normalize(w·proto_c + (1 − w)·t_c)``, ``w = n_c / (n_c + k0)``.
Entries older than ``horizon`` updates are forgotten, so the memory follows the recent stream.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["OnlinePrototypes"]


class OnlinePrototypes:
    """``scores(z) -> (N, C)`` cosines to the current prototypes; ``update(z)`` adds windows;
    ``reset()`` forgets them all.

    ``assign``: ``"text"`` pseudo-labels windows against the text features (as the batch form does),
    ``"prototypes"`` against the current prototypes (self-training; can drift).
    """

    def __init__(self, text: torch.Tensor, *, capacity: int = 32, support_factor: float = 1.0, k0: float = 4.0,
                 horizon: int | None = None, assign: str = "text"):
        if assign not in ("text", "prototypes"):
            raise ValueError(f"assign must be 'text' or 'prototypes', got {assign!r}")
        self.text = F.normalize(torch.as_tensor(text).float(), dim=-1)
        self.capacity, self.support_factor, self.k0 = int(capacity), float(support_factor), float(k0)
        self.horizon, self.assign = horizon, assign
        self.reset()

    @property
    def num_classes(self) -> int:
        return int(self.text.shape[0])

    def reset(self) -> None:
        c, d = self.text.shape
        self._emb = [torch.zeros(0, d) for _ in range(c)]
        self._ent = [torch.zeros(0) for _ in range(c)]
        self._step = [torch.zeros(0, dtype=torch.long) for _ in range(c)]
        self.steps = 0
        self._protos = self.text.clone()

    def support(self) -> list[int]:
        """Windows currently in each label's memory."""
        return [int(e.numel()) for e in self._ent]

    def prototypes(self) -> torch.Tensor:
        """Current ``(C, D)`` normalized prototypes (text features where no support exists)."""
        return self._protos

    def _refresh(self, c: int) -> None:
        n = self._ent[c].numel()
        keep = int(math.floor(self.support_factor * n))
        if keep < 1:
            self._protos[c] = self.text[c]
            return
        order = self._ent[c].argsort()[:keep]
        proto = F.normalize(self._emb[c][order].mean(0), dim=-1)
        w = keep / (keep + self.k0)
        self._protos[c] = F.normalize(w * proto + (1 - w) * self.text[c], dim=-1)

    @torch.no_grad()
    def scores(self, z: torch.Tensor) -> torch.Tensor:
        """Cosine similarities ``(N, C)`` of embeddings ``z`` to the current prototypes."""
        zn = F.normalize(torch.as_tensor(z).float().cpu(), dim=-1)
        return zn @ self._protos.t()

    @torch.no_grad()
    def update(self, z: torch.Tensor) -> None:
        """Pseudo-label ``z`` (N, D), store each window in its label's memory when it is among the
        ``capacity`` lowest-entropy recent ones, and refresh the touched prototypes."""
        zn = F.normalize(torch.as_tensor(z).float().cpu(), dim=-1)
        if zn.ndim == 1:
            zn = zn[None]
        ref = self.text if self.assign == "text" else self._protos
        logits = zn @ ref.t()
        p = logits.softmax(dim=1)
        entropy = -(p * p.clamp_min(1e-12).log()).sum(dim=1)
        labels = logits.argmax(dim=1)
        touched = set()
        for i in range(zn.shape[0]):
            self.steps += 1
            c = int(labels[i])
            emb = torch.cat([self._emb[c], zn[i: i + 1]])
            ent = torch.cat([self._ent[c], entropy[i: i + 1]])
            step = torch.cat([self._step[c], torch.tensor([self.steps])])
            if self.horizon is not None:
                fresh = step > self.steps - self.horizon
                emb, ent, step = emb[fresh], ent[fresh], step[fresh]
            if ent.numel() > self.capacity:
                order = ent.argsort()[: self.capacity]
                emb, ent, step = emb[order], ent[order], step[order]
            self._emb[c], self._ent[c], self._step[c] = emb, ent, step
            touched.add(c)
        if self.horizon is not None:
            touched = range(self.num_classes)
            for c in touched:
                fresh = self._step[c] > self.steps - self.horizon
                self._emb[c], self._ent[c], self._step[c] = self._emb[c][fresh], self._ent[c][fresh], self._step[c][fresh]
        for c in touched:
            self._refresh(c)
