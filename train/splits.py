"""Named zero-shot class splits and the sample partitions they induce.

The class lists live in ``train/data/zssar_splits.json`` (0-based class ids, transcribed from
the public repositories named per split; papers.md A.8, C.1). A split names its dataset, its
unseen classes and a set of **validation-unseen** classes carved from the seen classes (the
SynSE ``rv*_0`` lists where they exist, otherwise a seeded draw stored in the same file).

Given a prepared dataset the partitions are (papers.md A.2, C.1):

* ``train``      training-side (cross-subject) samples of the training classes
* ``val_unseen`` training-side samples of the validation classes (never trained on when the
                 validation split is used); with ``val_seen`` a small GZSL rehearsal that
                 selects the epoch and calibrates GZSL
* ``val_seen``   a fixed fraction of the training-side samples of the training classes, held out
* ``zsl_test``   test-side samples of the unseen classes
* ``gzsl_test``  all test-side samples

With ``use_validation=False`` (``--select-on test|last``: the papers' protocol) the training
classes are all seen classes and the validation partitions are empty.

A split file may name its **label space** (``"classes": [...]``): then the seen classes are the
label space minus the unseen classes (not every class of the dataset), GZSL predicts over that
space only and ``gzsl_test`` keeps the test-side samples of its classes. Validation classes may
lie outside it: they then only rehearse GZSL on training-side samples (calibration) and are never
candidates at test time, so every "seen" class is one the model was trained on. The real-data protocols
of ``train/data/real_splits`` use it so that classes with no training windows never act as "seen"
(``docs/real-zero-shot.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkelzsError

__all__ = [
    "SplitError",
    "ZeroShotSplit",
    "SplitPartitions",
    "load_split_table",
    "split_names",
    "real_split_names",
    "real_split_file",
    "get_split",
    "resolve_split",
    "partition",
]

DATASET_CLASSES = {"ntu60": 60, "ntu120": 120, "pku51": 51}


class SplitError(SkelzsError):
    """An unknown split name, or a split that does not fit the dataset it is applied to."""


@dataclass(frozen=True)
class ZeroShotSplit:
    name: str
    dataset: str  # ntu60 | ntu120 | pku51 | custom
    unseen: tuple[int, ...]
    val_unseen: tuple[int, ...]
    family: str = "custom"
    protocol: str = ""
    source: str = ""
    classes: tuple[int, ...] = ()  # the label space (seen ∪ unseen); empty: every class of the dataset

    def seen(self, num_classes: int) -> tuple[int, ...]:
        u = set(self.unseen)
        pool = self.classes if self.classes else range(num_classes)
        return tuple(c for c in pool if c not in u)

    def train_classes(self, num_classes: int, use_validation: bool) -> tuple[int, ...]:
        v = set(self.val_unseen) if use_validation else set()
        return tuple(c for c in self.seen(num_classes) if c not in v)

    @property
    def title(self) -> str:
        return f"{self.name} ({self.dataset}, {len(self.unseen)} unseen)"


@dataclass(frozen=True)
class SplitPartitions:
    """Sample indices (into the prepared dataset) and the class sets they are scored against."""

    split: ZeroShotSplit
    num_classes: int
    train_classes: tuple[int, ...]
    unseen_classes: tuple[int, ...]
    val_classes: tuple[int, ...]
    train: np.ndarray
    val_seen: np.ndarray
    val_unseen: np.ndarray
    zsl_test: np.ndarray
    gzsl_test: np.ndarray

    @property
    def seen_classes(self) -> tuple[int, ...]:
        return self.split.seen(self.num_classes)

    def summary(self) -> dict[str, int]:
        return {
            "train": int(self.train.size),
            "val_seen": int(self.val_seen.size),
            "val_unseen": int(self.val_unseen.size),
            "zsl_test": int(self.zsl_test.size),
            "gzsl_test": int(self.gzsl_test.size),
            "train_classes": len(self.train_classes),
            "val_classes": len(self.val_classes),
            "unseen_classes": len(self.unseen_classes),
        }


@lru_cache(maxsize=1)
def load_split_table() -> dict:
    text = resources.files("skelzs.train.data").joinpath("zssar_splits.json").read_text()
    return json.loads(text)


def split_names() -> list[str]:
    table = load_split_table()
    return [s["name"] for s in table["splits"]] + sorted(table["aliases"])


def real_split_names() -> list[str]:
    """The real-data protocol files shipped in ``train/data/real_splits`` (``docs/real-zero-shot.md``)."""
    folder = resources.files("skelzs.train.data").joinpath("real_splits")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json")) if folder.is_dir() else []


def real_split_file(name: str) -> Path:
    return Path(str(resources.files("skelzs.train.data").joinpath("real_splits", f"{name}.json")))


def get_split(name: str) -> ZeroShotSplit:
    table = load_split_table()
    canonical = table["aliases"].get(name, name)
    for entry in table["splits"]:
        if entry["name"] == canonical:
            family = entry["family"]
            return ZeroShotSplit(
                name=entry["name"],
                dataset=entry["dataset"],
                unseen=tuple(entry["unseen"]),
                val_unseen=tuple(entry["val_unseen"]),
                family=family,
                protocol=table["families"].get(family, {}).get("protocol", ""),
                source=entry.get("source", ""),
            )
    close = [n for n in split_names() if name.split("_")[0] in n][:6]
    hint = f"; e.g. {', '.join(close)}" if close else "; see `skelzs-train splits`"
    raise SplitError(f"unknown split {name!r}{hint}")


def resolve_split(name_or_file: str, classes: list[str] | None = None) -> ZeroShotSplit:
    """A named split, or a JSON file ``{"unseen": [...], "val_unseen": [...]}`` for own data
    (optionally ``"classes"``: the label space, see the module docstring); the shipped real-data
    protocol files (``train/data/real_splits``) resolve by name too.

    In a file, classes may be given by 0-based id or by name (resolved against ``classes``).
    """
    path = Path(name_or_file)
    if not (path.suffix.lower() == ".json" and path.is_file()):
        if name_or_file in real_split_names():  # a shipped real-data protocol, by name
            path = real_split_file(name_or_file)
        else:
            return get_split(name_or_file)
    try:
        spec = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SplitError(f"{path}: unreadable split file ({err})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("unseen"), list) or not spec["unseen"]:
        raise SplitError(f"{path}: expected an object with a non-empty 'unseen' list")

    def ids(values: list, key: str) -> tuple[int, ...]:
        out = []
        lookup = {c.lower(): i for i, c in enumerate(classes or [])}
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool):
                out.append(v)
            elif isinstance(v, str) and v.lower() in lookup:
                out.append(lookup[v.lower()])
            else:
                raise SplitError(f"{path}: {key} entry {v!r} is not a class id or a known class name")
        return tuple(sorted(set(out)))

    unseen = ids(spec["unseen"], "unseen")
    val_unseen = ids(spec.get("val_unseen", []), "val_unseen")
    space = ids(spec.get("classes", []), "classes")
    if space:
        outside = sorted(set(unseen) - set(space))
        if outside:
            raise SplitError(f"{path}: unseen classes {outside} are not in its 'classes' label space")
    return ZeroShotSplit(
        name=str(spec.get("name", path.stem)),
        dataset=str(spec.get("dataset", "custom")),
        unseen=unseen,
        val_unseen=val_unseen,
        family="custom",
        source=str(path),
        classes=space,
    )


def partition(
    labels: np.ndarray,
    train_side: np.ndarray,
    split: ZeroShotSplit,
    num_classes: int,
    *,
    dataset: str | None = None,
    use_validation: bool = True,
    val_seen_fraction: float = 0.1,
    seed: int = 0,
) -> SplitPartitions:
    """Partition a dataset's samples for ``split`` (see the module docstring)."""
    labels = np.asarray(labels, np.int64)
    train_side = np.asarray(train_side, bool)
    if dataset is not None and split.dataset != "custom" and dataset != split.dataset:
        raise SplitError(
            f"split {split.name} is for {split.dataset}, the prepared dataset is {dataset} "
            f"(prepare it with `skelzs-train prepare {split.dataset.replace('pku51', 'pku')}`)"
        )
    bad = [c for c in split.unseen + split.val_unseen + split.classes if not 0 <= c < num_classes]
    if bad:
        raise SplitError(f"split {split.name}: class ids {bad} out of range for {num_classes} classes")
    if set(split.unseen) & set(split.val_unseen):
        raise SplitError(f"split {split.name}: validation classes overlap the unseen classes")
    use_validation = use_validation and bool(split.val_unseen)
    train_classes = split.train_classes(num_classes, use_validation)
    val_classes = tuple(split.val_unseen) if use_validation else ()
    in_train_cls = np.isin(labels, train_classes)
    train = np.flatnonzero(train_side & in_train_cls)
    val_seen = np.empty(0, np.int64)
    if use_validation and val_seen_fraction > 0:
        rng = np.random.default_rng(seed)
        pick = np.zeros(len(labels), bool)
        for c in train_classes:  # the same fraction of every class, at least one sample
            members = train[labels[train] == c]
            if members.size >= 2:
                k = max(1, int(round(val_seen_fraction * members.size)))
                pick[rng.choice(members, k, replace=False)] = True
        val_seen = np.flatnonzero(pick)
        train = np.flatnonzero(train_side & in_train_cls & ~pick)
    val_unseen = np.flatnonzero(train_side & np.isin(labels, val_classes)) if use_validation else np.empty(0, np.int64)
    zsl = np.flatnonzero(~train_side & np.isin(labels, split.unseen))
    gzsl = np.flatnonzero(~train_side & np.isin(labels, split.classes)) if split.classes else np.flatnonzero(~train_side)
    if train.size == 0:
        raise SplitError(f"split {split.name}: no training samples (no training-side samples of seen classes)")
    if zsl.size == 0:
        raise SplitError(f"split {split.name}: no test-side samples of the unseen classes")
    return SplitPartitions(
        split=split,
        num_classes=num_classes,
        train_classes=tuple(train_classes),
        unseen_classes=tuple(split.unseen),
        val_classes=val_classes,
        train=train,
        val_seen=val_seen,
        val_unseen=val_unseen,
        zsl_test=zsl,
        gzsl_test=gzsl,
    )
