"""Files that ship with skelzs (pose model, default checkpoint, demo recording, label lists).
Provenance and licences: ``assets/README.md``."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent


def asset_path(name: str) -> Path:
    """Path of a bundled asset (it may not exist; callers report a missing file clearly)."""
    return ASSETS_DIR / name
