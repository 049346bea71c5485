"""Helpers shared by the model config dataclasses (``PGFAConfig``, ``SCoPLeConfig``)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def strict_from_dict(cls: type[T], d: dict[str, Any], what: str) -> T:
    """Build the dataclass ``cls`` from a ``config.json`` dict, refusing keys it does not know.

    A checkpoint written by another version or method must fail loudly, not load with defaults.
    """
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"unknown {what} config keys: {', '.join(unknown)}")
    return cls(**d)
