"""PGFA (Zhou et al., IEEE TIP 2025) exactly as its official code does it (papers.md A.5–A.7).

* :class:`PGFAModel`: skeleton encoder + ``Linear(256 → text dim)`` (kaiming-normal fan_out, zero bias);
  ``forward(x)`` gives the projected (unnormalized) features, ``encode_skeleton`` the L2-normalized ones.
* :func:`pgfa_kl_loss`: symmetric multi-positive KL (A.5).
* :func:`prototype_alignment`: prototype-guided text feature alignment, batch/transductive form (A.7).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from skelzs.models.configs import strict_from_dict

__all__ = ["PGFAConfig", "PGFAModel", "pgfa_kl_loss", "prototype_alignment", "SUPPORT_FACTOR", "DEFAULT_SUPPORT_FACTOR",
           "pgfa_checkpoint_config", "build_pgfa"]

#: Support factor α of the prototype alignment per dataset (PGFA test_config.py; papers.md A.7).
SUPPORT_FACTOR: dict[str, float] = {"ntu60": 0.9, "ntu120": 0.4, "pku51": 1.0, "pku": 1.0}
#: α for a dataset PGFA gives none (its NTU-60 value).
DEFAULT_SUPPORT_FACTOR = 0.9

TEMPERATURE_INIT = math.log(1 / 0.07)


@dataclass
class PGFAConfig:
    """PGFA architecture.

    ``learnable_temperature``: the official code creates ``logit_scale = nn.Parameter(log(1/0.07)).cuda()``;
    ``.cuda()`` returns a non-leaf tensor that is never registered, so the optimizer never sees it and
    the logit multiplier stays exp(log(1/0.07)) ≈ 14.29 (papers.md A.0). Fixed (False) is therefore the
    reproduction default; True makes it a parameter.
    """

    encoder: str = "stgcn"
    encoder_overrides: dict[str, Any] = field(default_factory=dict)
    embed_dim: int = 256
    text_dim: int = 384
    learnable_temperature: bool = False
    temperature_init: float = TEMPERATURE_INIT

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "PGFAConfig":
        return strict_from_dict(cls, d, "PGFA")

    @property
    def logit_scale(self) -> float:
        return math.exp(self.temperature_init)


class PGFAModel(nn.Module):
    """Skeleton encoder + linear projection to the text space (papers.md A.5 step 1)."""

    def __init__(self, config: PGFAConfig | None = None):
        super().__init__()
        from skelzs.models.encoders import create_encoder

        self.config = cfg = config or PGFAConfig()
        self.encoder = create_encoder(cfg.encoder, **cfg.encoder_overrides)
        width = int(getattr(self.encoder, "num_features", cfg.embed_dim))
        if width != cfg.embed_dim:
            cfg.embed_dim = width
        self.projection = nn.Linear(width, cfg.text_dim)
        nn.init.kaiming_normal_(self.projection.weight, mode="fan_out")
        nn.init.zeros_(self.projection.bias)
        t = torch.tensor(float(cfg.temperature_init))
        if cfg.learnable_temperature:
            self.log_logit_scale = nn.Parameter(t)
        else:
            self.register_buffer("log_logit_scale", t)

    @property
    def logit_scale(self) -> torch.Tensor:
        return self.log_logit_scale.exp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, T, V, M) -> (N, text_dim)`` projected features (not normalized)."""
        return self.projection(self.encoder(x))

    @property
    def person_slots_shared(self) -> bool:
        return bool(getattr(self.encoder, "person_slots_shared", False))

    def forward_person_features(self, x: torch.Tensor, slot: int = 0) -> torch.Tensor:
        """One person slot ``(P, 3, T, V) -> (P, C)`` encoder features before the person mean (eval mode)."""
        return self.encoder.forward_person_features(x, slot)

    def forward_from_person_features(self, features: torch.Tensor) -> torch.Tensor:
        """``(N, M, C)`` per-person features -> ``(N, text_dim)``: person mean, then the projection, so that
        ``forward(x) == forward_from_person_features(stack_m(forward_person_features(x[..., m], m)))``."""
        return self.projection(self.encoder.forward_from_person_features(features))

    def encode_skeleton(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalized skeleton embeddings ``(N, text_dim)``."""
        return F.normalize(self(x), dim=-1)


def pgfa_kl_loss(features: torch.Tensor, text: torch.Tensor, labels: torch.Tensor,
                 logit_scale: float | torch.Tensor = 1 / 0.07) -> torch.Tensor:
    """Symmetric multi-positive KL loss (papers.md A.5).

    ``features`` (B, D) skeleton features, ``text`` (B, D) the text feature of each sample's own class
    (duplicated rows for repeated classes), ``labels`` (B,). With S = s · f̂ t̂ᵀ and
    P = row-softmax(10·G), G[i,k] = [y_i = y_k]: L = ½ (KL(P ‖ softmax S) + KL(P ‖ softmax Sᵀ)), each
    KL computed as ``KLDivLoss(reduction="mean")`` over the B² entries times B (= mean over rows).
    """
    f = F.normalize(features.float(), dim=-1)
    t = F.normalize(text.float(), dim=-1)
    s = logit_scale if torch.is_tensor(logit_scale) else torch.tensor(float(logit_scale), device=f.device)
    logits = s.float() * f @ t.t()
    g = (labels[:, None] == labels[None, :]).float()
    target = F.softmax(10 * g, dim=1)
    b = f.shape[0]
    # KLDivLoss(reduction="mean") · B = Σ / B² · B = Σ / B (written out; "mean" is deprecated in torch)
    l_skel = F.kl_div(F.log_softmax(logits, dim=1), target, reduction="sum") / b
    l_text = F.kl_div(F.log_softmax(logits.t(), dim=1), target, reduction="sum") / b
    return (l_skel + l_text) / 2


@torch.no_grad()
def prototype_alignment(z: torch.Tensor, text: torch.Tensor, alpha: float, *,
                        return_prototypes: bool = False):
    """Prototype-guided text feature alignment, batch (transductive) form (papers.md A.7).

    ``z`` (N, D) skeleton embeddings, ``text`` (C, D) class text features, ``alpha`` the support factor.
    Cosine logits (no temperature) → pseudo-labels and softmax entropies; per class keep the
    floor(α·n_c) lowest-entropy samples, prototype = mean of their normalized features (the text
    feature when none is kept); replace the text features by the prototypes and re-classify by cosine,
    once. Returns the (N, C) re-classified cosine scores (and the (C, D) prototypes on request).
    """
    zn = F.normalize(z.float(), dim=-1)
    tn = F.normalize(text.float(), dim=-1)
    logits = zn @ tn.t()
    pseudo = logits.argmax(dim=1)
    p = logits.softmax(dim=1)
    entropy = -(p * p.clamp_min(1e-12).log()).sum(dim=1)
    protos = tn.clone()
    for c in range(tn.shape[0]):
        idx = (pseudo == c).nonzero().flatten()
        keep = int(math.floor(alpha * idx.numel()))
        if keep < 1:
            continue
        chosen = idx[entropy[idx].argsort()[:keep]]
        protos[c] = zn[chosen].mean(dim=0)
    scores = zn @ F.normalize(protos, dim=-1).t()
    return (scores, protos) if return_prototypes else scores


def pgfa_checkpoint_config(config: PGFAConfig, *, text: dict | None = None, frames: int = 50, persons: int = 2,
                           fps: float = 30.0, preprocess: str = "frame50", labels: dict | None = None) -> dict:
    """A ``config.json`` dict for a PGFA checkpoint (see :mod:`skelzs.models.checkpoint`)."""
    if text is None:
        from skelzs.models.text import load_text_encoder

        text = load_text_encoder().identity
    return {
        "method": "pgfa",
        "architecture": config.to_dict(),
        "text": dict(text),
        "layout": "ntu25",
        "window": {"frames": int(frames), "persons": int(persons), "fps": float(fps)},
        "preprocess": preprocess,
        "labels": dict(labels or {}),
    }


def build_pgfa(config: dict) -> PGFAModel:
    """An untrained :class:`PGFAModel` from a checkpoint ``config.json`` dict (weights loaded after)."""
    from skelzs.stream.errors import CheckpointError

    try:
        cfg = PGFAConfig.from_dict(dict(config.get("architecture") or {}))
        return PGFAModel(cfg)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"PGFA architecture in config.json is invalid: {err}") from None
