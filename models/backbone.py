"""The pooled head both GCN encoders (ST-GCN, Shift-GCN) share: per-person token maps
``(N, M, C, T', V)`` → mean over time and joints → mean over the person slots → ``(N, C)``
(the global average pooling of ST-GCN and of PGFA's encoders; papers.md A.3).

A subclass provides ``forward_features`` (all slots at once) and ``forward_person_features`` (one
slot, already pooled); the per-person fast path of the runtime (:func:`skelzs.models.backends.embed_by_person`)
relies on ``forward(x) == forward_from_person_features(stack of forward_person_features per slot)``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PersonPooledBackbone"]


class PersonPooledBackbone(nn.Module):
    """``forward_head(tokens (N,M,C,T',V)) -> (N, C)``: space-time mean per person, then person mean."""

    def forward_from_person_features(self, features: torch.Tensor) -> torch.Tensor:
        """``(N, M, C)`` per-person pooled features -> ``(N, C)``: the person mean of :meth:`forward_head`."""
        return features.mean(dim=1)

    def forward_head(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.forward_from_person_features(tokens.mean(dim=(-2, -1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
