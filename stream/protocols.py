"""Official evaluation protocols: NTU-60/120 cross-subject, cross-view, cross-setup; PKU-MMD splits.

Performer, camera and setup lists: papers.md D.4 (CTR-GCN ``seq_transformation.py``, AimCLR
``ntu_gendata.py``). Samples with missing skeletons (302 NTU-60 ids, 535 NTU-120 ids) ship as
package data (``skelzs/stream/data/ntu{60,120}_missing_skeletons.txt``, papers.md D.3); dataset
building skips them with a warning.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.ntu import NtuSampleName, parse_ntu_name

__all__ = [
    "NTU60_CS_TRAIN_PERFORMERS",
    "NTU120_CSUB_TRAIN_PERFORMERS",
    "NTU60_CV_TRAIN_CAMERAS",
    "NTU_BENCHMARKS",
    "missing_skeletons",
    "is_train",
    "split_samples",
    "filter_missing",
    "read_pku_split",
]

log = logging.getLogger(__name__)

NTU60_CS_TRAIN_PERFORMERS = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38))
NTU120_CSUB_TRAIN_PERFORMERS = NTU60_CS_TRAIN_PERFORMERS | frozenset(
    (45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86,
     89, 91, 92, 93, 94, 95, 97, 98, 100, 103))
NTU60_CV_TRAIN_CAMERAS = frozenset((2, 3))

# benchmark name -> (dataset, rule); the rule says whether a sample is in the training part
NTU_BENCHMARKS = {
    "ntu60-xsub": "performer in NTU60_CS_TRAIN_PERFORMERS",
    "ntu60-xview": "camera in (2, 3)",
    "ntu120-xsub": "performer in NTU120_CSUB_TRAIN_PERFORMERS",
    "ntu120-xset": "setup id even",
}


@lru_cache(maxsize=None)
def missing_skeletons(dataset: str = "ntu60") -> frozenset[str]:
    """The official sample ids with missing or incomplete skeletons (``ntu60``: 302, ``ntu120``: 535)."""
    if dataset not in ("ntu60", "ntu120"):
        raise ValueError(f"unknown dataset {dataset!r}; expected ntu60 or ntu120")
    text = resources.files("skelzs.stream.data").joinpath(f"{dataset}_missing_skeletons.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_train(name: NtuSampleName | str, benchmark: str) -> bool:
    """True when the sample belongs to the training part of ``benchmark`` (see :data:`NTU_BENCHMARKS`)."""
    s = parse_ntu_name(name) if isinstance(name, str) else name
    if benchmark == "ntu60-xsub":
        return s.performer in NTU60_CS_TRAIN_PERFORMERS
    if benchmark == "ntu60-xview":
        return s.camera in NTU60_CV_TRAIN_CAMERAS
    if benchmark == "ntu120-xsub":
        return s.performer in NTU120_CSUB_TRAIN_PERFORMERS
    if benchmark == "ntu120-xset":
        return s.setup % 2 == 0
    raise ValueError(f"unknown benchmark {benchmark!r}; known: {', '.join(NTU_BENCHMARKS)}")


def _dataset_of(benchmark: str) -> str:
    return benchmark.split("-")[0]


def filter_missing(names: Iterable[str], dataset: str = "ntu60", warn: bool = True) -> list[str]:
    """Drop the official missing-skeleton samples (with one warning naming how many)."""
    missing = missing_skeletons(dataset)
    names = list(names)
    kept = [n for n in names if Path(n).name.split(".")[0] not in missing]
    if warn and len(kept) != len(names):
        log.warning("skipping %d %s samples with missing skeletons", len(names) - len(kept), dataset)
    return kept


def split_samples(names: Iterable[str], benchmark: str, skip_missing: bool = True) -> tuple[list[str], list[str]]:
    """``(train, test)`` sample names of ``benchmark``; NTU-60 benchmarks keep only S001-S017."""
    names = list(names)
    dataset = _dataset_of(benchmark)
    if benchmark not in NTU_BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; known: {', '.join(NTU_BENCHMARKS)}")
    if skip_missing:
        names = filter_missing(names, dataset)
    train: list[str] = []
    test: list[str] = []
    for n in names:
        s = parse_ntu_name(n)
        if dataset == "ntu60" and (s.setup > 17 or s.action > 60):
            continue
        (train if is_train(s, benchmark) else test).append(n)
    return train, test


def read_pku_split(path: str | Path) -> tuple[list[str], list[str]]:
    """Parse an official PKU-MMD ``Split/cross-{subject,view}.txt``: ``(train_ids, test_ids)``.

    Format (papers.md D.6): a header line, a comma-separated list of training video ids
    (``0002-L``), a header line, the comma-separated test ids.
    """
    p = Path(path)
    try:
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8", errors="strict").splitlines()]
    except (OSError, UnicodeDecodeError) as err:
        raise SkeletonFormatError(path, None, f"cannot read split file: {err}") from None
    lines = [ln for ln in lines if ln]
    if len(lines) != 4:
        raise SkeletonFormatError(path, None, f"expected 4 non-empty lines (header, ids, header, ids), found {len(lines)}")
    parts = []
    for k in (1, 3):
        ids = [x.strip() for x in lines[k].split(",") if x.strip()]
        for x in ids:
            if len(x) != 6 or not x[:4].isdigit() or x[4] != "-" or x[5] not in "LMR":
                raise SkeletonFormatError(path, k + 1, f"not a PKU-MMD video id: {x!r}")
        parts.append(ids)
    return parts[0], parts[1]
