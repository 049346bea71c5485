"""``skelzs-train prepare mix``: real recordings of several sources and the procedural library in
one prepared set of live-style windows, every class named by one shared vocabulary.

Sources (``--source KIND=PATH``, any number, each at most once):

=========  ===================================================================  =====================
kind       what PATH holds                                                       test side
=========  ===================================================================  =====================
pku        PKU-MMD sequences as ``*.npz`` (``joints_mm``) + ``*.labels.txt``     none (all training)
pku_val    the same format (e.g. ``pku_mmd_more/val``), for evaluation only         all of it
utkinect   UTKinect-Action3D ``joints_sXX_eYY.txt`` + ``actionLabel.txt``       subjects 8-10
msr        MSR Action3D ``aXX_sYY_eZZ_skeleton3D.txt``                           even subjects
bvh        BVH takes named ``dataset-N_<content>_<style>_NNN.bvh`` (Bandai-Namco)  none
synth      a ``skelzs-train synth`` folder (``classes.txt``, ``labels.csv``)      its ``test`` rows
=========  ===================================================================  =====================

Every labelled segment is resampled to ``fps`` and cut into ``frames``-long windows every
``stride`` frames, as the live buffer cuts a stream; a window keeps the recording's frames around
its segment as context and repeats the edge frame where the recording ends. Windows are stored
``raw`` (camera space, metres, :func:`skelzs.stream.preprocess.raw`) so that ``fit --augment``
can move the camera and perturb depth before the checkpoint's ``normalize`` runs (``body``).

Class names come from ``train/data/action_vocabulary.csv``: one row per class with a
one-sentence description and its aliases ``source:label`` (``utkinect:waveHands`` and
``pku:hand waving`` are one class, *hand waving*; ``pku_val`` uses the ``pku:`` aliases). A label the vocabulary does not know is an
error naming it, never a silent new class. ``--max-windows KIND=N`` caps the training windows of
one class from one source (a seeded random choice; default ``bvh=150``) so the mocap takes do not
drown the Kinect data. ``--all-test KIND`` (repeatable) puts every recording of that source on the
test side, for cross-dataset protocols that never train on it (``docs/real-zero-shot.md``).

Unreadable files are skipped with a one-line warning naming the file and counted in the
manifest; the run never stops on one bad file.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SkeletonFormatError, SkelzsError
from skelzs.stream.skeleton import SkeletonSequence
from skelzs.train.dataset import MANIFEST_FORMAT, MANIFEST_NAME, DatasetError

__all__ = ["MIX_SOURCES", "MixOptions", "MixReport", "Vocabulary", "load_vocabulary", "prepare_mix", "source_recordings",
           "window_starts", "resample"]

log = logging.getLogger("skelzs.train")

MIX_SOURCES = ("pku", "utkinect", "msr", "bvh", "synth", "pku_val")
SOURCE_IDS = {k: i + 1 for i, k in enumerate(MIX_SOURCES)}  # stored in the ``setup`` meta field
UTKINECT_TEST_SUBJECTS = frozenset({8, 9, 10})
MSR_CLASSES = ("high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch", "high throw",
               "draw x", "draw tick", "draw circle", "hand clap", "two hand wave", "side-boxing", "bend",
               "forward kick", "side kick", "jogging", "tennis swing", "tennis serve", "golf swing",
               "pick up & throw")  # MSR Action3D a01..a20 (Li et al., CVPRW 2010)
META_FIELDS = ("setup", "camera", "performer", "replication", "video", "view", "start", "end", "subset")


# -- vocabulary -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vocabulary:
    classes: tuple[str, ...]
    descriptions: tuple[str, ...]
    alias: dict  # "source:label" (lower case) -> class index

    def lookup(self, source: str, label: str) -> int:
        key = f"{source}:{label}".lower()
        if key not in self.alias:
            raise DatasetError(f"label {label!r} of source {source} is not in the action vocabulary "
                               "(train/data/action_vocabulary.csv); add a row or an alias for it")
        return self.alias[key]


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """The shipped vocabulary, or a CSV with the same columns (``class,description,aliases``)."""
    if path is None:
        text = resources.files("skelzs.train.data").joinpath("action_vocabulary.csv").read_text()
    else:
        text = Path(path).read_text()
    rows = list(csv.DictReader(text.splitlines()))
    classes, descs, alias = [], [], {}
    for i, row in enumerate(rows):
        classes.append(row["class"].strip())
        descs.append(row["description"].strip())
        for a in filter(None, (x.strip() for x in row["aliases"].split("|"))):
            if a.lower() in alias:
                raise DatasetError(f"vocabulary: alias {a!r} names two classes")
            alias[a.lower()] = i
    return Vocabulary(tuple(classes), tuple(descs), alias)


# -- windows ------------------------------------------------------------------------------------
def resample(seq: SkeletonSequence, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Joints (T', M, V, 3) on a ``fps`` grid (nearest source frame) and, per new frame, the index
    of the source frame it came from (to map labelled frame ranges)."""
    n = seq.joints.shape[0]
    dur = n / float(seq.fps)
    src = np.minimum(np.rint(np.arange(0.0, dur, 1.0 / fps) * seq.fps).astype(np.int64), n - 1)
    return seq.joints[src], src


def window_starts(start: int, end: int, frames: int, stride: int) -> list[int]:
    """Window starts covering segment [start, end): every ``stride`` frames, the last window ending
    at the segment's end; a short segment gets one window centred on it."""
    length = end - start
    if length <= frames:
        return [start - (frames - length) // 2]
    starts = list(range(start, end - frames + 1, stride))
    if starts[-1] != end - frames:
        starts.append(end - frames)
    return starts


def _window(joints: np.ndarray, start: int, frames: int) -> np.ndarray:
    """(3, T, V, M) raw window at ``start`` (edge frames repeated past either end)."""
    idx = np.clip(np.arange(start, start + frames), 0, len(joints) - 1)
    return joints[idx].transpose(3, 0, 2, 1)


# -- sources: a file list and a per-file reader each ------------------------------------------------
@dataclass
class _Recording:
    seq: SkeletonSequence
    segments: list[tuple[str, int, int]]  # (source label, first source frame, end source frame)
    subject: int
    test: bool
    name: str


class _Skip(Exception):
    """A file the mix leaves out, with the one-line reason."""


def _pku_files(root: Path) -> list[Path]:
    return sorted(root.glob("*.npz"))


def _pku_read(f: Path, root: Path) -> _Recording:
    from skelzs.stream.formats import load_sequence
    from skelzs.stream.pku import read_pku_labels

    labels = f.with_name(f.stem + ".labels.txt")
    if not labels.is_file():
        raise _Skip("no .labels.txt beside it")
    seq = load_sequence(f)
    segs = [(str(s.label), s.start - 1, s.end) for s in read_pku_labels(labels)]  # 1-based inclusive
    return _Recording(seq, segs, int(re.sub(r"\D", "", f.stem.split("-")[0]) or 0), False, f.stem)


def _pku_label(label: str) -> str:
    """PKU-MMD label ids (1-based, Actions.xlsx order) -> official names."""
    from skelzs.train.prepare import class_names

    return class_names("pku51")[int(label) - 1]


def _utkinect_files(root: Path) -> list[Path]:
    return sorted(root.glob("joints_s*_e*.txt"))


def _utkinect_read(f: Path, root: Path) -> _Recording:
    from skelzs.stream.formats import load_sequence
    from skelzs.stream.kinect_v1 import read_utkinect_labels

    labels = read_utkinect_labels(root / "actionLabel.txt")
    m = re.match(r"joints_s(\d+)_e(\d+)", f.stem)
    key = f"s{m.group(1)}_e{m.group(2)}"
    if key not in labels:
        raise _Skip(f"no entry {key} in actionLabel.txt")
    seq = load_sequence(f)
    ids = np.asarray(seq.meta["frame_ids"])
    segs = []
    for label, a, b in labels[key]:
        rows = np.nonzero((ids >= a) & (ids <= b))[0]
        if rows.size:
            segs.append((label, int(rows[0]), int(rows[-1]) + 1))
    subject = int(m.group(1))
    return _Recording(seq, segs, subject, subject in UTKINECT_TEST_SUBJECTS, key)


def _msr_files(root: Path) -> list[Path]:
    return sorted(root.glob("a*_s*_e*_skeleton3D.txt"))


def _msr_read(f: Path, root: Path) -> _Recording:
    from skelzs.stream.formats import load_sequence

    m = re.match(r"a(\d+)_s(\d+)_e(\d+)", f.name)
    action, subject = int(m.group(1)), int(m.group(2))
    seq = load_sequence(f)
    return _Recording(seq, [(MSR_CLASSES[action - 1], 0, seq.joints.shape[0])], subject, subject % 2 == 0,
                      f.stem.replace("_skeleton3D", ""))


def _bvh_files(root: Path) -> list[Path]:
    return sorted(root.glob("*.bvh"))


def _bvh_read(f: Path, root: Path) -> _Recording:
    from skelzs.stream.bvh import bvh_label
    from skelzs.stream.formats import load_sequence

    label, _style = bvh_label(f)
    seq = load_sequence(f)
    return _Recording(seq, [(label, 0, seq.joints.shape[0])], 0, False, f.stem)


def _synth_files(root: Path) -> list[Path]:
    with open(root / "labels.csv", newline="") as fh:
        return [root / row["file"] for row in csv.DictReader(fh)]


def _synth_read(f: Path, root: Path) -> _Recording:
    from skelzs.stream.formats import load_sequence

    classes, rows = _synth_index(root)
    row = rows[str(f.relative_to(root))]
    seq = load_sequence(f)
    return _Recording(seq, [(classes[int(row["label"])], 0, seq.joints.shape[0])], 0,
                      row.get("subset", "train") == "test", f.stem)


_SYNTH_CACHE: dict = {}


def _synth_index(root: Path):
    if root not in _SYNTH_CACHE:
        classes = [c for c in (root / "classes.txt").read_text().splitlines() if c.strip()]
        with open(root / "labels.csv", newline="") as fh:
            _SYNTH_CACHE[root] = (classes, {r["file"]: r for r in csv.DictReader(fh)})
    return _SYNTH_CACHE[root]


_SOURCES = {"pku": (_pku_files, _pku_read), "utkinect": (_utkinect_files, _utkinect_read),
            "msr": (_msr_files, _msr_read), "bvh": (_bvh_files, _bvh_read), "synth": (_synth_files, _synth_read),
            "pku_val": (_pku_files, _pku_read)}
ALL_TEST_SOURCES = frozenset({"pku_val"})     # every recording on the test side, as with --all-test
_ALIASES_OF = {"pku_val": "pku"}              # the vocabulary aliases a source kind's labels use


def source_recordings(kind: str, root: Path, skipped: list[dict], progress=None):
    """The readable recordings of one source; a file that fails is reported by name, counted, skipped."""
    files_of, read = _SOURCES[kind]
    files = files_of(root)
    if not files:
        raise DatasetError(f"--source {kind}={root}: no {kind} recordings found there")
    task = progress.add_task(kind, total=len(files)) if progress is not None else None
    for f in files:
        try:
            yield read(f, root)
        except _Skip as err:
            skipped.append({"source": kind, "file": str(f), "error": str(err)})
            log.warning("skipped %s: %s", f, err)
        except (SkelzsError, ValueError, OSError, KeyError, IndexError) as err:
            msg = str(err).splitlines()[0] if str(err) else type(err).__name__
            if isinstance(err, SkeletonFormatError) and err.path == str(f):   # the skip line names the file
                msg = f"line {err.line}: {err.reason}" if err.line is not None else err.reason
            skipped.append({"source": kind, "file": str(f), "error": msg})
            log.warning("skipped %s: %s", f, msg)
        finally:
            if task is not None:
                progress.advance(task)


# -- options, report, driver ------------------------------------------------------------------------
@dataclass
class MixOptions:
    sources: list[tuple[str, Path]]
    out: Path
    fps: float = 15.0
    frames: int = 40
    stride: int = 10
    max_windows: dict = field(default_factory=lambda: {"bvh": 150})  # per (source, class) training windows
    normalize: str = "body"     # the checkpoint's window normalization (fit applies it)
    vocabulary: Path | None = None
    dtype: str = "float16"
    seed: int = 0
    force: bool = False
    progress: bool = True
    all_test: tuple[str, ...] = ()  # source kinds whose every recording goes to the test side


@dataclass
class MixReport:
    out: Path
    num_samples: int
    per_source: dict = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def prepare_mix(opts: MixOptions) -> MixReport:
    """Prepare the mix described in the module docstring into ``opts.out``."""
    from skelzs.stream.preprocess import WINDOW_NORMALIZERS

    t0 = time.perf_counter()
    if not opts.sources:
        raise DatasetError("prepare mix: give at least one --source KIND=PATH")
    kinds = [k for k, _ in opts.sources]
    for k, p in opts.sources:
        if k not in MIX_SOURCES:
            raise DatasetError(f"--source {k}={p}: unknown kind {k!r}; expected one of {', '.join(MIX_SOURCES)}")
        if not Path(p).is_dir():
            raise DatasetError(f"--source {k}={p}: folder not found")
    if len(set(kinds)) != len(kinds):
        raise DatasetError("prepare mix: each source kind at most once")
    for k in opts.all_test:
        if k not in kinds:
            raise DatasetError(f"--all-test {k}: no --source {k}=PATH given")
    if opts.normalize not in WINDOW_NORMALIZERS:
        raise DatasetError(f"--normalize {opts.normalize!r}: expected one of {', '.join(WINDOW_NORMALIZERS)}")
    out = Path(opts.out)
    if (out / MANIFEST_NAME).is_file() and not opts.force:
        raise DatasetError(f"{out} already holds a prepared dataset; use --force to replace it")
    vocab = load_vocabulary(opts.vocabulary)
    rng = np.random.default_rng(opts.seed)

    windows: dict[tuple[str, int], list] = defaultdict(list)  # (source, class) -> [(array, meta, name)]
    skipped: list[dict] = []
    recordings = defaultdict(int)
    progress = _progress(opts.progress)
    with progress if progress is not None else nullcontext():
        for kind, root in opts.sources:
            _collect(kind, Path(root), opts, vocab, windows, recordings, skipped, progress)
            log.info("%s: %d recordings, %d windows", kind, recordings[kind],
                     sum(len(v) for (k, _), v in windows.items() if k == kind))

    chosen = []
    for key in sorted(windows):
        items = windows[key]
        train = [w for w in items if w[1][-1] == 1]
        test = [w for w in items if w[1][-1] == 0]
        cap = int(opts.max_windows.get(key[0], 0))
        if cap and len(train) > cap:
            keep = rng.choice(len(train), cap, replace=False)
            train = [train[i] for i in sorted(keep)]
        chosen.extend(train + test)
    if not chosen:
        raise DatasetError("prepare mix: no windows (every source empty or unreadable)")

    out.mkdir(parents=True, exist_ok=True)
    data = np.stack([w[0] for w in chosen]).astype(opts.dtype)
    labels = np.asarray([w[3] for w in chosen], np.int64)
    meta = np.asarray([w[1] for w in chosen], np.int32)
    np.save(out / "data.npy", data)
    np.save(out / "label.npy", labels)
    np.savez(out / "meta.npz", **{f: meta[:, i] for i, f in enumerate(META_FIELDS)})
    (out / "names.txt").write_text("".join(w[2] + "\n" for w in chosen))
    per_source = {}
    for kind in kinds:
        sel = meta[:, 0] == SOURCE_IDS[kind]
        per_source[kind] = {"recordings": recordings[kind], "windows": int(sel.sum()),
                            "test_windows": int((sel & (meta[:, -1] == 0)).sum()),
                            "classes": sorted({vocab.classes[c] for c in labels[sel]})}
    manifest = {
        "format": MANIFEST_FORMAT, "dataset": "mix", "classes": list(vocab.classes), "class_texts": None,
        "class_descriptions": list(vocab.descriptions), "pipeline": "raw", "normalize": opts.normalize,
        "frames": opts.frames, "persons": 2, "joints": 25, "layout": "ntu25", "fps": float(opts.fps),
        "stride": opts.stride, "max_windows": dict(opts.max_windows), "dtype": opts.dtype,
        "num_samples": int(len(chosen)), "meta_fields": list(META_FIELDS), "meta_setup": dict(SOURCE_IDS),
        "subset_protocol": "held-out subjects (utkinect 8-10, msr even), synth test rows, pku_val all"
                           + "".join(f", {k} all (--all-test)" for k in opts.all_test),
        "all_test": list(opts.all_test),
        "source": {"sources": {k: str(Path(p).resolve()) for k, p in opts.sources}, "per_source": per_source,
                   "skipped": skipped, "seed": opts.seed},
    }
    tmp = out / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, out / MANIFEST_NAME)
    log.info("prepared %d windows into %s (%d files skipped)", len(chosen), out, len(skipped))
    return MixReport(out, len(chosen), per_source, skipped, time.perf_counter() - t0)


def _collect(kind, root, opts, vocab, windows, recordings, skipped, progress) -> None:
    src_id = SOURCE_IDS[kind]
    alias_source = _ALIASES_OF.get(kind, kind)
    all_test = kind in ALL_TEST_SOURCES or kind in opts.all_test
    for rec in source_recordings(kind, root, skipped, progress):
        recordings[kind] += 1
        rec.test = rec.test or all_test
        joints, src_frames = resample(rec.seq.with_persons(2), opts.fps)
        for label, a, b in rec.segments:
            cls = vocab.lookup(alias_source, _pku_label(label) if alias_source == "pku" else label)
            lo, hi = int(np.searchsorted(src_frames, a)), int(np.searchsorted(src_frames, b))
            if hi - lo < 2:
                continue
            for s in window_starts(lo, hi, opts.frames, opts.stride):
                meta = (src_id, 0, rec.subject, 0, 0, 0, s, s + opts.frames, 0 if rec.test else 1)
                windows[(kind, cls)].append((_window(joints, s, opts.frames).astype(opts.dtype), meta, f"{kind}:{rec.name}:{s}", cls))


def _progress(enabled: bool):
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())

