"""The class table of the motion library: label, one-sentence description, persons, and the
NTU RGB+D 120 / PKU-MMD class each label coincides with (0-based, empty when none).

Shipped as ``assets/synth_classes.csv`` (written by :func:`write_class_table`); the texts are the
project's own.
"""

from __future__ import annotations

import csv
from pathlib import Path

from skelzs.train.synth.actions import ACTIONS

__all__ = ["CLASS_TABLE_COLUMNS", "class_rows", "write_class_table", "read_class_table", "match_names"]

CLASS_TABLE_COLUMNS = ("idx", "label", "description", "persons", "aliases", "ntu120", "pku51")


def _norm(name: str) -> str:
    return " ".join(name.lower().replace("’", "'").split())


def match_names(names: list[str]) -> dict[int, int]:
    """Synthetic class index -> index in ``names`` where a label or alias equals a name there.

    A dataset name also matches by its part before `` (`` or ``/`` (``touch head (headache)``).
    """
    lookup: dict[str, int] = {}
    for i, n in enumerate(names):
        for key in (_norm(n), _norm(n.split(" (")[0]), _norm(n.split("/")[0])):
            lookup.setdefault(key, i)
    out: dict[int, int] = {}
    for i, act in enumerate(ACTIONS):
        for cand in (act.name, *act.aliases):
            if _norm(cand) in lookup:
                out[i] = lookup[_norm(cand)]
                break
    return out


def class_rows(ntu120_names: list[str] | None = None, pku51_names: list[str] | None = None) -> list[dict]:
    ntu = match_names(ntu120_names) if ntu120_names else {}
    pku = match_names(pku51_names) if pku51_names else {}
    return [
        {"idx": i, "label": a.name, "description": a.description, "persons": a.persons,
         "aliases": "; ".join(a.aliases), "ntu120": ntu.get(i, ""), "pku51": pku.get(i, "")}
        for i, a in enumerate(ACTIONS)
    ]


def write_class_table(path: str | Path, ntu120_names: list[str] | None = None,
                      pku51_names: list[str] | None = None) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, CLASS_TABLE_COLUMNS)
        w.writeheader()
        w.writerows(class_rows(ntu120_names, pku51_names))


def read_class_table(path: str | Path | None = None) -> list[dict]:
    """Rows of the class table (default: the shipped ``assets/synth_classes.csv``)."""
    if path is None:
        from importlib import resources

        text = resources.files("skelzs.assets").joinpath("synth_classes.csv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))
