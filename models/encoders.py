"""Skeleton encoders by name: ``ENCODERS`` maps a name to a factory taking config overrides."""

from __future__ import annotations

from typing import Callable

from torch import nn

from skelzs.models.shiftgcn import ShiftGCN, ShiftGCNConfig, shiftgcn_pgfa
from skelzs.models.stgcn import STGCN, STGCNConfig, stgcn_pgfa

__all__ = ["ENCODERS", "ENCODER_CONFIGS", "create_encoder"]

ENCODERS: dict[str, Callable[..., nn.Module]] = {
    "stgcn": stgcn_pgfa,
    "shiftgcn": shiftgcn_pgfa,
}

ENCODER_CONFIGS = {"stgcn": STGCNConfig, "shiftgcn": ShiftGCNConfig}


def create_encoder(name: str, **overrides) -> nn.Module:
    """Build encoder ``name`` (a key of :data:`ENCODERS`) with config ``overrides``."""
    try:
        factory = ENCODERS[name]
    except KeyError:
        from skelzs.stream.errors import SkelzsError

        raise SkelzsError(f"unknown encoder {name!r}; available: {', '.join(sorted(ENCODERS))}") from None
    return factory(**overrides)
