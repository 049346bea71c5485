"""``skelzs-train prepare``: raw NTU RGB+D / PKU-MMD / own recordings → a prepared dataset.

Raw files are parsed in parallel (``workers`` processes), preprocessed by one of
``skelzs.stream.preprocess.PIPELINES`` and written as the memory-mappable arrays described in
:mod:`skelzs.train.dataset`. Work is cut into shards of ``shard_size`` files; a finished shard is
a file under ``OUT/.shards/`` named by the hash of its inputs, so an interrupted run resumes
where it stopped and a rerun over the same inputs does nothing. ``dataset.json`` is written
last: its presence means the folder is complete.

Skipped, never fatal: the official missing-skeleton samples (papers.md D.3; counted), files
whose skeleton is empty (listed), corrupt files (reported by name with the parser's one-line
reason, listed in the manifest and the log). With the complete release the sample count is
checked against the official statistics.

PKU-MMD: each long sequence ``NNNN-V.txt`` is cut into its labelled clips (papers.md D.6),
named like AimCLR's conversion ``F{video}V{view}C{class}L{instance}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skelzs.stream.errors import SkelzsError
from skelzs.train.dataset import MANIFEST_FORMAT, MANIFEST_NAME, DatasetError, scan_raw_folder

__all__ = ["PIPELINE_FRAMES", "PrepareOptions", "PrepareReport", "prepare", "ntu_cross_subject_train",
           "class_names", "DATASETS", "OFFICIAL_COUNTS"]

log = logging.getLogger("skelzs.train")

DATASETS = ("ntu60", "ntu120", "pku", "folder")
PIPELINE_FRAMES = {"frame50": 50, "ctrgcn64": 64, "agcn": 300}
META_FIELDS = ("setup", "camera", "performer", "replication", "video", "view", "start", "end", "subset")
PKU_VIEWS = {"L": 1, "M": 2, "R": 3}


# -- protocol facts ----------------------------------------------------------------------------
# usable samples of the complete releases (papers.md D.3, D.6): NTU 56,880 - 302 and 114,480 - 535
# files; PKU-MMD I 21,545 labelled instances
OFFICIAL_COUNTS = {"ntu60": 56_578, "ntu120": 113_945, "pku51": 21_545}
# PKU-MMD I clips with missing skeletons (papers.md D.3: Flora data/pkummd/part1)
PKU_MISSING_CLIPS = frozenset({"F043V001C001L021", "F089V001C023L001", "F089V002C023L001", "F089V003C023L001"})


def ntu_cross_subject_train(performer: int, dataset: str = "ntu120") -> bool:
    """Cross-subject side of an NTU performer (NTU-60's list is NTU-120's restricted to 1..40)."""
    from skelzs.stream.protocols import NTU60_CS_TRAIN_PERFORMERS, NTU120_CSUB_TRAIN_PERFORMERS

    return performer in (NTU60_CS_TRAIN_PERFORMERS if dataset == "ntu60" else NTU120_CSUB_TRAIN_PERFORMERS)


def _known_missing(dataset: str) -> frozenset[str]:
    if dataset == "pku51":
        return PKU_MISSING_CLIPS
    from skelzs.stream.protocols import missing_skeletons

    return missing_skeletons(dataset)


def _official_count(dataset: str) -> int | None:
    return OFFICIAL_COUNTS.get(dataset)


def class_names(dataset: str) -> list[str]:
    """Official class names, 0-based (NTU-60 = the first 60 of NTU-120; PKU-MMD: Actions.xlsx order)."""
    from importlib import resources

    fname = "pku51_class_names.txt" if dataset == "pku51" else "ntu120_class_names.txt"
    names = resources.files("skelzs.train.data").joinpath(fname).read_text().splitlines()
    return [n.strip() for n in names if n.strip()][: {"ntu60": 60, "ntu120": 120, "pku51": 51}[dataset]]


# -- options and report -----------------------------------------------------------------------
@dataclass
class PrepareOptions:
    dataset: str  # ntu60 | ntu120 | pku | folder
    raw: Path
    out: Path
    pipeline: str = "frame50"
    frames: int | None = None
    workers: int = 0  # 0: all cores
    dtype: str = "float16"
    shard_size: int = 64
    force: bool = False
    progress: bool = True


@dataclass
class PrepareReport:
    out: Path
    num_samples: int
    files_found: int
    known_missing_skipped: int
    corrupt: list[dict] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    reused: bool = False
    shards_reused: int = 0
    count_check: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


# -- work items ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    kind: str  # ntu | pku | file
    path: str
    label: int  # for ntu/file; -1 for a pku sequence (labels come from label_path)
    meta: tuple  # META_FIELDS values except those filled per clip
    name: str
    label_path: str = ""
    size: int = 0


def _ntu_items(raw: Path, dataset: str) -> tuple[list[_Item], int, list[dict]]:
    from skelzs.stream.ntu import parse_ntu_name

    missing = _known_missing(dataset)
    items, skipped, bad_names = [], 0, []
    for path in sorted(raw.rglob("*.skeleton")):
        stem = path.name[: -len(".skeleton")]
        try:
            n = parse_ntu_name(path.name)
        except (SkelzsError, ValueError) as err:
            bad_names.append({"file": str(path), "error": f"not an NTU sample name ({err})"})
            continue
        if dataset == "ntu60" and (n.setup > 17 or n.action > 60):
            continue
        if stem in missing:
            skipped += 1
            continue
        subset = int(ntu_cross_subject_train(n.performer, dataset))
        meta = (n.setup, n.camera, n.performer, n.replication, 0, 0, 0, 0, subset)
        items.append(_Item("ntu", str(path), n.action - 1, meta, stem, size=path.stat().st_size))
    return items, skipped, bad_names


def _find_dir(raw: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        hits = sorted(p for p in raw.rglob(name) if p.is_dir())
        if hits:
            return hits[0]
    return None


def _pku_cross_subject(raw: Path) -> dict[str, int] | None:
    from skelzs.stream.protocols import read_pku_split

    hits = sorted(raw.rglob("cross-subject.txt"))
    if not hits:
        return None
    train, test = read_pku_split(hits[0])
    return {**{v: 0 for v in test}, **{v: 1 for v in train}}


def _pku_items(raw: Path) -> tuple[list[_Item], int, list[dict]]:
    skel_dir = _find_dir(raw, ("PKU_Skeleton_Renew", "Skeleton"))
    label_dir = _find_dir(raw, ("Train_Label_PKU_final", "Label"))
    if skel_dir is None or label_dir is None:
        raise DatasetError(f"{raw}: expected PKU-MMD folders PKU_Skeleton_Renew/ (or Skeleton/) and "
                           "Train_Label_PKU_final/ (or Label/)")
    sides = _pku_cross_subject(raw)
    if sides is None:
        raise DatasetError(f"{raw}: no Split/cross-subject.txt (needed for the cross-subject protocol)")
    items, problems = [], []
    for path in sorted(skel_dir.glob("*.txt")):
        m = re.fullmatch(r"(\d{4})-([LMR])", path.stem)
        if not m:
            continue
        label_path = label_dir / path.name
        if not label_path.is_file():
            problems.append({"file": str(path), "error": "no label file"})
            continue
        if path.stem not in sides:
            problems.append({"file": str(path), "error": "video not in Split/cross-subject.txt"})
            continue
        video, view = int(m.group(1)), PKU_VIEWS[m.group(2)]
        meta = (0, 0, 0, 0, video, view, 0, 0, sides[path.stem])
        items.append(_Item("pku", str(path), -1, meta, path.stem, label_path=str(label_path),
                           size=path.stat().st_size + label_path.stat().st_size))
    return items, 0, problems


def _folder_items(raw: Path) -> tuple[list[_Item], Any]:
    spec = scan_raw_folder(raw)
    items = [_Item("file", str(s.path), s.label, (0, 0, 0, 0, 0, 0, 0, 0, s.subset), s.name,
                   size=s.path.stat().st_size) for s in spec.samples]
    return items, spec


# -- the worker ---------------------------------------------------------------------------------
def _sequence_of(item: _Item):
    if item.kind == "ntu":
        from skelzs.stream.ntu import read_ntu_skeleton

        return read_ntu_skeleton(item.path).to_sequence(persons=2)
    from skelzs.stream.formats import load_sequence

    seq = load_sequence(item.path)
    if seq.layout != "ntu25":
        from skelzs.stream.layouts import to_ntu25
        from skelzs.stream.skeleton import SkeletonSequence

        joints, conf = to_ntu25(seq.joints, seq.layout, seq.confidence)
        seq = SkeletonSequence(joints, "ntu25", seq.fps, conf, dict(seq.meta))
    return seq.with_persons(2)


def _run_shard(job: tuple) -> dict:
    """Parse and preprocess one shard of items; write ``<shard>.npz`` and ``<shard>.json``."""
    shard_path, items, pipeline, frames, dtype, missing_clips = job
    from skelzs.stream.preprocess import PIPELINES

    fn = PIPELINES[pipeline]
    arrays, labels, metas, names, corrupt, empty = [], [], [], [], [], []
    missing = 0

    def add(seq, label, meta, name):
        if not np.any(seq.joints):
            empty.append(name)
            return
        arrays.append(np.asarray(fn(seq, frames), np.float32).astype(dtype))
        labels.append(label)
        metas.append(meta)
        names.append(name)

    for item in items:
        try:
            if item.kind == "pku":
                from skelzs.stream.pku import cut_pku_clips, read_pku_labels, read_pku_skeleton

                seq = read_pku_skeleton(item.path)
                segments = read_pku_labels(item.label_path)
                clips = cut_pku_clips(seq, segments)
                for instance, (seg, clip) in enumerate(clips, 1):
                    video, view = item.meta[4], item.meta[5]
                    cname = f"F{video:03d}V{view:03d}C{seg.label:03d}L{instance:03d}"
                    if cname in missing_clips:
                        missing += 1
                        continue
                    meta = item.meta[:6] + (seg.start, seg.end) + item.meta[8:]
                    add(clip.with_persons(2), seg.label - 1, meta, cname)
            else:
                add(_sequence_of(item), item.label, item.meta, item.name)
        except Exception as err:  # reported by name and skipped: one bad file never stops the run
            msg = str(err).splitlines()[0] if str(err) else type(err).__name__
            if not isinstance(err, (SkelzsError, ValueError, OSError)):
                msg = f"{type(err).__name__}: {msg}"
            corrupt.append({"file": item.path, "error": msg})
    n = len(arrays)
    out = {
        "data": np.stack(arrays) if n else np.zeros((0, 3, frames, 25, 2), dtype),
        "label": np.asarray(labels, np.int64),
        "meta": np.asarray(metas, np.int32).reshape(n, len(META_FIELDS)),
        "names": np.asarray(names, dtype=str) if n else np.zeros(0, "<U1"),
    }
    tmp = shard_path.with_name(shard_path.name + ".tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, shard_path.with_suffix(".npz"))
    info = {"count": n, "corrupt": corrupt, "empty": empty, "files": len(items), "missing": missing}
    tmpj = shard_path.with_name(shard_path.name + ".tmp.json")
    tmpj.write_text(json.dumps(info))
    os.replace(tmpj, shard_path.with_suffix(".json"))  # the .json marks the shard finished
    return info


# -- driver ---------------------------------------------------------------------------------
def _fingerprint(opts: PrepareOptions, frames: int, items: list[_Item]) -> str:
    h = hashlib.sha256(f"{opts.dataset}|{opts.pipeline}|{frames}|{opts.dtype}|".encode())
    for it in items:
        h.update(f"{it.name}|{it.size}|{it.label}\n".encode())
    return h.hexdigest()


def _class_names(dataset: str, spec) -> tuple[str, list[str], list[str] | None]:
    if dataset == "folder":
        return "custom", spec.classes, spec.class_texts
    ds = "pku51" if dataset == "pku" else dataset
    return ds, class_names(ds), None


def prepare(opts: PrepareOptions) -> PrepareReport:
    """Prepare ``opts.raw`` into ``opts.out`` (idempotent, resumable; see the module docstring)."""
    import time

    t0 = time.perf_counter()
    if opts.dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {opts.dataset!r}; expected one of {', '.join(DATASETS)}")
    from skelzs.stream.preprocess import PIPELINES

    if opts.pipeline not in PIPELINES or opts.pipeline == "stream":
        raise DatasetError(f"unknown pipeline {opts.pipeline!r}; expected one of "
                           f"{', '.join(k for k in PIPELINES if k != 'stream')}")
    if opts.dtype not in ("float16", "float32"):
        raise DatasetError(f"--dtype {opts.dtype!r}: expected float16 or float32")
    raw, out = Path(opts.raw), Path(opts.out)
    if not raw.is_dir():
        raise DatasetError(f"{raw}: raw folder not found")
    frames = opts.frames or PIPELINE_FRAMES.get(opts.pipeline, 64)

    spec = None
    problems: list[dict] = []
    if opts.dataset in ("ntu60", "ntu120"):
        items, skipped, problems = _ntu_items(raw, opts.dataset)
    elif opts.dataset == "pku":
        items, skipped, problems = _pku_items(raw)
    else:
        items, spec = _folder_items(raw)
        skipped = 0
        problems = [{"file": f, "error": "no class (not in labels.csv, no action in the file, "
                     "parent folder is not a class name)"} for f in spec.unlabelled]
    if not items:
        raise DatasetError(f"{raw}: no {opts.dataset} recordings found")
    for p in problems:
        log.warning("skipped %s: %s", p["file"], p["error"])
    ds_name, classes, class_texts = _class_names(opts.dataset, spec)
    fingerprint = _fingerprint(opts, frames, items)

    manifest_path = out / MANIFEST_NAME
    if manifest_path.is_file() and not opts.force:
        try:
            old = json.loads(manifest_path.read_text())
        except json.JSONDecodeError:
            old = {}
        if old.get("fingerprint") == fingerprint:
            log.info("%s is already prepared from these inputs; nothing to do", out)
            src = old.get("source", {})
            return PrepareReport(out, int(old["num_samples"]), src.get("files_found", len(items)),
                                 src.get("known_missing_skipped", 0), src.get("corrupt", []), src.get("empty", []),
                                 reused=True, count_check=old.get("count_check", {}),
                                 seconds=time.perf_counter() - t0)
        raise DatasetError(f"{out} holds a dataset prepared from other inputs or options; "
                           "use --force to replace it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    shard_dir = out / ".shards"
    shard_dir.mkdir(exist_ok=True)
    missing_clips = frozenset(_known_missing("pku51")) if opts.dataset == "pku" else frozenset()

    jobs, done_infos, reused = [], {}, 0
    for i in range(0, len(items), opts.shard_size):
        chunk = items[i : i + opts.shard_size]
        key = hashlib.sha256(f"{fingerprint}|{i}".encode()).hexdigest()[:12]
        shard = shard_dir / f"{i // opts.shard_size:06d}-{key}"
        if shard.with_suffix(".json").is_file() and shard.with_suffix(".npz").is_file():
            done_infos[shard] = json.loads(shard.with_suffix(".json").read_text())
            reused += 1
        else:
            jobs.append((shard, chunk, opts.pipeline, frames, opts.dtype, missing_clips))
    shards = sorted([j[0] for j in jobs] + list(done_infos))
    if reused:
        log.info("resuming: %d of %d shards already done", reused, len(shards))

    workers = opts.workers or os.cpu_count() or 1
    _run_jobs(jobs, workers, done_infos, len(items), len(items) - sum(len(j[1]) for j in jobs), opts.progress)

    # ---- assemble ------------------------------------------------------------------------
    corrupt = problems + [c for s in shards for c in done_infos[s]["corrupt"]]
    empty = [e for s in shards for e in done_infos[s]["empty"]]
    total = sum(done_infos[s]["count"] for s in shards)
    skipped += sum(done_infos[s].get("missing", 0) for s in shards)  # PKU clips, found while cutting
    for c in corrupt[len(problems):]:
        log.warning("corrupt file skipped: %s: %s", c["file"], c["error"])
    if total == 0:
        raise DatasetError(f"{raw}: no usable samples ({len(corrupt)} corrupt, {len(empty)} empty)")
    from numpy.lib.format import open_memmap

    data = open_memmap(out / "data.npy.tmp", mode="w+", dtype=opts.dtype, shape=(total, 3, frames, 25, 2))
    labels = np.empty(total, np.int64)
    meta = np.empty((total, len(META_FIELDS)), np.int32)
    names: list[str] = []
    pos = 0
    for s in shards:
        with np.load(s.with_suffix(".npz"), allow_pickle=False) as z:
            n = z["label"].shape[0]
            data[pos : pos + n] = z["data"]
            labels[pos : pos + n] = z["label"]
            meta[pos : pos + n] = z["meta"]
            names.extend(z["names"].tolist())
        pos += n
    data.flush()
    del data
    os.replace(out / "data.npy.tmp", out / "data.npy")
    np.save(out / "label.npy", labels)
    np.savez(out / "meta.npz", **{f: meta[:, i] for i, f in enumerate(META_FIELDS)})
    (out / "names.txt").write_text("".join(n + "\n" for n in names))

    count_check = _count_check(opts.dataset, ds_name, len(items), skipped, total, len(corrupt), len(empty))
    if count_check.get("status") == "mismatch":
        log.warning("sample count %d differs from the official %d", total, count_check["expected"])
    manifest = {
        "format": MANIFEST_FORMAT,
        "dataset": ds_name,
        "classes": classes,
        "class_texts": class_texts,
        "pipeline": opts.pipeline,
        "frames": frames,
        "persons": 2,
        "joints": 25,
        "layout": "ntu25",
        "fps": 30.0,
        "dtype": opts.dtype,
        "num_samples": total,
        "meta_fields": list(META_FIELDS),
        "subset_protocol": "custom" if opts.dataset == "folder" else "cross-subject",
        "fingerprint": fingerprint,
        "count_check": count_check,
        "source": {
            "raw": str(raw.resolve()),
            "files_found": len(items),
            "known_missing_skipped": skipped,
            "corrupt": corrupt,
            "empty": empty,
        },
    }
    tmp = out / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, manifest_path)
    shutil.rmtree(shard_dir, ignore_errors=True)
    log.info("prepared %d samples into %s (%d known-missing skipped, %d corrupt, %d empty)", total, out, skipped,
             len(corrupt), len(empty))
    return PrepareReport(out, total, len(items), skipped, corrupt, empty, False, reused, count_check,
                         time.perf_counter() - t0)


def _count_check(dataset: str, ds_name: str, files: int, skipped: int, total: int, corrupt: int, empty: int) -> dict:
    """Compare with the official usable-sample count when the complete release was given."""
    expected = _official_count(ds_name)
    if expected is None or dataset == "folder":
        return {"status": "not applicable"}
    if dataset == "pku":  # units are labelled instances: produced + known-missing clips + empty clips
        found, produced = total + skipped + empty, total + skipped
    else:  # units are usable files (known-missing ones already left out)
        found, produced = files, total
    if found < expected:
        return {"status": "partial release", "expected": expected, "found": found,
                "note": "the count is checked when the complete release is given"}
    return {"status": "ok" if produced == expected else "mismatch", "expected": expected, "found": produced,
            "corrupt": corrupt, "empty": empty}


def _run_jobs(jobs: list, workers: int, infos: dict, total_files: int, done_files: int, show: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]prepare"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
               TimeRemainingColumn())
    with Progress(*columns, disable=not show) as bar:
        task = bar.add_task("prepare", total=total_files, completed=done_files)
        if not jobs:
            return
        if workers <= 1 or len(jobs) == 1:
            for job in jobs:
                infos[job[0]] = _run_shard(job)
                bar.advance(task, len(job[1]))
            return
        import multiprocessing as mp

        with mp.get_context("fork").Pool(min(workers, len(jobs))) as pool:
            for job, info in zip(jobs, pool.imap(_run_shard, jobs)):
                infos[job[0]] = info
                bar.advance(task, len(job[1]))
