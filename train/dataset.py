"""Prepared datasets: what ``skelzs-train prepare`` writes and what ``fit``/``eval`` read.

A **prepared dataset** is a folder::

    dataset.json    manifest: classes, class texts, pipeline, frames, dtype, sample count,
                    provenance (raw folder, skipped/corrupt files, official-count check)
    data.npy        (N, 3, T, 25, 2) float16|float32, read memory-mapped (never re-parsed)
    label.npy       (N,) int64, 0-based class ids into ``classes``
    meta.npz        per-sample int32 metadata (setup, camera, performer, replication; PKU video,
                    view, start, end) and ``subset`` (1 = training side of the dataset's protocol,
                    0 = test side; cross-subject for NTU and PKU-MMD)
    names.txt       one sample name per line (NTU file stem, PKU clip id, own file path)

A **raw folder of your own recordings** (``skelzs-train prepare folder --raw DIR``) needs::

    classes.txt         one class name per line; line i is class i
    class_texts.txt     optional: one description per class (same order) used as the class text
    labels.csv          optional: ``file,label[,subset]`` rows (label = class name or 0-based id,
                        subset = train|test; file relative to DIR)
    **/*.skeleton|*.npz recordings in any format ``skelzs.stream.formats`` reads

Without ``labels.csv`` a file's class comes from its own metadata (NTU file names carry the
action, npz files an ``action`` field) or, failing that, from its parent folder's name
(``DIR/waving/take1.npz``, ``DIR/waving/test/take2.npz``). Its subset comes from an NTU file name (cross-subject), a ``train``
or ``test`` folder in its path, or else a fixed hash of its name (one file in five is test).
"""

from __future__ import annotations

import csv
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skelzs.stream.errors import SkelzsError

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_FORMAT",
    "DatasetError",
    "PreparedDataset",
    "BatchArrayDataset",
    "RawFolderSpec",
    "RawSample",
    "scan_raw_folder",
    "read_class_texts",
]

MANIFEST_NAME = "dataset.json"
MANIFEST_FORMAT = "skelzs-prepared/1"
RECORDING_SUFFIXES = (".skeleton", ".npz")


class DatasetError(SkelzsError):
    """A prepared dataset or raw folder that is missing, incomplete or inconsistent."""


@dataclass
class PreparedDataset:
    """A prepared dataset folder, its arrays memory-mapped (nothing is copied until indexed)."""

    root: Path
    manifest: dict[str, Any]
    data: np.ndarray
    labels: np.ndarray
    meta: dict[str, np.ndarray]
    names: list[str]

    @classmethod
    def open(cls, root: str | Path) -> "PreparedDataset":
        root = Path(root)
        man_path = root / MANIFEST_NAME
        if not man_path.is_file():
            raise DatasetError(f"{root}: not a prepared dataset (no {MANIFEST_NAME}; run `skelzs-train prepare`)")
        try:
            manifest = json.loads(man_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise DatasetError(f"{man_path}: unreadable manifest ({err})") from None
        if manifest.get("format") != MANIFEST_FORMAT:
            raise DatasetError(f"{man_path}: format {manifest.get('format')!r}, expected {MANIFEST_FORMAT!r}")
        try:
            data = np.load(root / "data.npy", mmap_mode="r", allow_pickle=False)
            labels = np.load(root / "label.npy", allow_pickle=False)
            with np.load(root / "meta.npz", allow_pickle=False) as z:
                meta = {k: z[k] for k in z.files}
            names = (root / "names.txt").read_text().splitlines()
        except (OSError, ValueError) as err:
            raise DatasetError(f"{root}: incomplete prepared dataset ({err})") from None
        n = int(manifest["num_samples"])
        if data.shape[0] != n or labels.shape[0] != n or len(names) != n:
            raise DatasetError(
                f"{root}: array lengths disagree with the manifest ({data.shape[0]}, {labels.shape[0]}, "
                f"{len(names)} vs {n})"
            )
        if data.ndim != 5 or data.shape[1] != 3:
            raise DatasetError(f"{root}: data.npy has shape {data.shape}, expected (N, 3, T, V, M)")
        return cls(root, manifest, data, labels.astype(np.int64), meta, names)

    # -- what the manifest says ------------------------------------------------------------
    @property
    def name(self) -> str:
        """Dataset id: ``ntu60``, ``ntu120``, ``pku51`` or ``custom``."""
        return str(self.manifest["dataset"])

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    @property
    def num_classes(self) -> int:
        return len(self.manifest["classes"])

    @property
    def class_texts(self) -> list[str] | None:
        texts = self.manifest.get("class_texts")
        return list(texts) if texts else None

    @property
    def frames(self) -> int:
        return int(self.data.shape[2])

    @property
    def pipeline(self) -> str:
        return str(self.manifest["pipeline"])

    @property
    def window_normalization(self) -> str | None:
        """For a dataset of ``raw`` windows, the normalization the model input gets batch by
        batch (after augmentation) and the checkpoint's pipeline: the manifest's ``normalize``."""
        return self.manifest.get("normalize") if self.pipeline == "raw" else None

    def input_transform(self):
        """The evaluation-time transform of this dataset's stored arrays (None: stored as input)."""
        if self.window_normalization is None:
            return None
        from skelzs.train.augment import WindowTransform

        return WindowTransform(normalize=self.window_normalization)

    @property
    def train_side(self) -> np.ndarray:
        """Boolean (N,): True for samples on the training side of the protocol (cross-subject)."""
        return self.meta["subset"].astype(bool)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


class BatchArrayDataset:
    """A torch map-style dataset whose items are whole batches: ``ds[list_of_positions]``.

    One fancy index into the memory map per batch (sorted for locality) instead of one per
    sample; use with ``DataLoader(ds, sampler=BatchSampler(...), batch_size=None)``.
    """

    def __init__(self, data: np.ndarray, labels: np.ndarray, indices: np.ndarray, dtype=np.float32,
                 transform=None):
        self.data = data
        self.dtype = np.dtype(dtype)  # the stored dtype moves half the bytes; convert on the device
        self.labels = np.asarray(labels, np.int64)
        self.indices = np.asarray(indices, np.int64)
        self.transform = transform  # (x float32, labels, rows) -> (x, labels): raw windows -> model input

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, positions):
        import torch

        pos = np.asarray(positions, np.int64)
        rows = self.indices[pos]
        order = np.argsort(rows, kind="stable")
        x = np.empty((len(rows),) + self.data.shape[1:], self.dtype)
        x[order] = self.data[rows[order]]
        y = self.labels[rows]
        if self.transform is not None:
            x, y = self.transform(x.astype(np.float32), y, rows)
        return torch.from_numpy(x), torch.from_numpy(np.asarray(y, np.int64))


# -- raw folders of one's own recordings -----------------------------------------------------
@dataclass(frozen=True)
class RawSample:
    path: Path
    label: int
    subset: int  # 1 train side, 0 test side
    name: str


@dataclass
class RawFolderSpec:
    root: Path
    classes: list[str]
    class_texts: list[str] | None
    samples: list[RawSample] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)


def read_class_texts(path: str | Path, num_classes: int | None = None) -> list[str]:
    """One text per class, one per line (a ``.txt`` file) or an ``idx,label`` CSV (SA-DVAE style)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise DatasetError(f"{path}: cannot read class texts ({err.strerror})") from None
    lines = [ln.strip() for ln in raw.splitlines()]
    if path.suffix.lower() == ".csv":
        rows = list(csv.reader(lines))
        if rows and rows[0] and rows[0][0].strip().lower() in ("idx", "index", "id"):
            rows = rows[1:]
        lines = [",".join(r[1:]).strip() if len(r) > 1 else r[0] for r in rows if r]
    while lines and not lines[-1]:
        lines.pop()
    if any(not ln for ln in lines):
        raise DatasetError(f"{path}: empty line {lines.index('') + 1}; every class needs a text")
    if num_classes is not None and len(lines) != num_classes:
        raise DatasetError(f"{path}: {len(lines)} class texts for {num_classes} classes")
    return lines


def _subset_from_path(rel: Path, meta: dict[str, Any]) -> int:
    parts = {p.lower() for p in rel.parts[:-1]}
    if "test" in parts:
        return 0
    if "train" in parts:
        return 1
    return 0 if zlib.crc32(rel.as_posix().encode()) % 5 == 0 else 1


def scan_raw_folder(root: str | Path, *, read_meta=None) -> RawFolderSpec:
    """Resolve every recording under ``root`` to (path, class, subset) per the module docstring.

    ``read_meta(path) -> dict`` returns a recording's metadata (``action``, ``performer``); the
    default reads NTU names without opening the file and opens npz files lazily.
    """
    root = Path(root)
    classes_file = root / "classes.txt"
    if not classes_file.is_file():
        raise DatasetError(f"{root}: no classes.txt (one class name per line) in the raw folder")
    classes = read_class_texts(classes_file)
    texts_file = root / "class_texts.txt"
    texts = read_class_texts(texts_file, len(classes)) if texts_file.is_file() else None
    index = {c.lower(): i for i, c in enumerate(classes)}

    def parse_label(value: str, where: str) -> int:
        v = value.strip()
        if v.lower() in index:
            return index[v.lower()]
        if v.isdigit() and int(v) < len(classes):
            return int(v)
        raise DatasetError(f"{where}: label {v!r} is neither a class name in classes.txt nor a 0-based id")

    table: dict[str, tuple[int, int | None]] = {}
    labels_csv = root / "labels.csv"
    if labels_csv.is_file():
        with labels_csv.open(newline="") as fh:
            for lineno, row in enumerate(csv.reader(fh), 1):
                if not row or (lineno == 1 and row[0].strip().lower() == "file"):
                    continue
                if len(row) < 2:
                    raise DatasetError(f"{labels_csv}:{lineno}: expected file,label[,subset]")
                subset = None
                if len(row) > 2 and row[2].strip():
                    s = row[2].strip().lower()
                    if s not in ("train", "test"):
                        raise DatasetError(f"{labels_csv}:{lineno}: subset {s!r} is not train or test")
                    subset = 1 if s == "train" else 0
                table[Path(row[0].strip()).as_posix()] = (parse_label(row[1], f"{labels_csv}:{lineno}"), subset)

    read_meta = read_meta or _default_meta
    spec = RawFolderSpec(root, classes, texts)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES)
    for path in files:
        rel = path.relative_to(root)
        key = rel.as_posix()
        label, subset = table.get(key, (None, None))
        meta: dict[str, Any] = {}
        if label is None or subset is None:
            meta = read_meta(path)
        if label is None:
            action = meta.get("action")
            if action is not None and 0 <= int(action) < len(classes):
                label = int(action)
            else:  # the nearest enclosing folder named like a class
                label = next((index[p.lower()] for p in reversed(rel.parts[:-1]) if p.lower() in index), None)
        if label is None:
            spec.unlabelled.append(key)
            continue
        if subset is None:
            subset = meta.get("subset")
            if subset is None:
                subset = _subset_from_path(rel, meta)
        spec.samples.append(RawSample(path, int(label), int(subset), key))
    return spec


def _default_meta(path: Path) -> dict[str, Any]:
    """Class and subset hints without parsing the whole recording where the name suffices."""
    if path.suffix.lower() == ".skeleton":
        from skelzs.stream.ntu import parse_ntu_name

        try:
            name = parse_ntu_name(path.name)
        except (SkelzsError, ValueError):
            return {}
        from skelzs.train.prepare import ntu_cross_subject_train

        return {"action": name.action - 1, "subset": int(ntu_cross_subject_train(name.performer))}
    if path.suffix.lower() == ".npz":
        from skelzs.stream.formats import load_sequence

        try:
            action = load_sequence(path).meta.get("action")
        except (SkelzsError, OSError, ValueError):
            return {}  # unreadable: prepare reports it by name
        return {"action": int(action)} if action is not None and int(action) >= 0 else {}
    return {}
