"""``skelzs-train synth``: write samples of the procedural motion library to disk.

The output folder is a raw folder ``skelzs-train prepare folder --raw DIR`` reads (see
:mod:`skelzs.train.dataset`): ``classes.txt``, ``labels.csv`` (``file,label,subset``), optional
``class_texts.txt``, one sub-folder of recordings per class, plus ``synth.json`` (how it was
made) and, with ``--multi-action``, one ``.segments.json`` ground-truth file per recording.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Optional

import typer

from skelzs.stream.errors import SkelzsError

#: ``--noise``: the sensor-noise settings of the samples (see ``skelzs.train.synth.generator.Variation``)
SENSOR_NOISE = ("legacy", "kinect")

log = logging.getLogger(__name__)

__all__ = ["register", "synth_cmd", "SynthOptions", "write_synth_dataset", "crop_window"]


def _slug(name: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in name.lower())
    return "_".join(p for p in out.split("_") if p)[:40]


def crop_window(seq, frames: int, rng):
    """Exactly ``frames`` frames of a sample, placed over its action segment the way a live
    sliding window sees it: a random window that covers at least 3/4 of the action (or of the
    window, for actions longer than it); shorter samples are padded with their first/last frame."""
    import numpy as np

    from skelzs.stream.skeleton import SkeletonSequence

    j = seq.joints
    n = j.shape[0]
    a, b = seq.meta.get("segment", [0, n])
    if n < frames:
        pad = frames - n
        before = int(rng.integers(0, pad + 1))
        j = np.concatenate([np.repeat(j[:1], before, 0), j, np.repeat(j[-1:], pad - before, 0)])
        a, b, n = a + before, b + before, frames
        start = 0
    else:
        length = b - a
        need = int(0.75 * min(length, frames))
        lo = max(0, min(a + need - frames, n - frames))
        hi = max(lo, min(b - need, n - frames))
        start = int(rng.integers(lo, hi + 1))
    meta = dict(seq.meta)
    meta["segment"] = [int(max(0, a - start)), int(min(frames, b - start))]
    meta["window_start"] = int(start)
    return SkeletonSequence(j[start:start + frames], seq.layout, seq.fps, None, meta)


class SynthOptions:
    """What ``write_synth_dataset`` writes (the CLI options, as a plain object for reuse)."""

    def __init__(self, out: Path, classes: list[int], per_class: int, seed: int = 0, fmt: str = "npz",
                 window: int | None = None, test_fraction: float = 0.2, descriptions: bool = False,
                 multi_action: bool = False, recordings: int = 10, actions_per_recording: tuple[int, int] = (3, 6),
                 workers: int = 1, noise: str = "legacy", hold_prob: float = 0.0):
        self.out, self.classes, self.per_class, self.seed, self.fmt = Path(out), classes, per_class, seed, fmt
        self.window, self.test_fraction, self.descriptions = window, test_fraction, descriptions
        self.multi_action, self.recordings, self.actions_per_recording = multi_action, recordings, actions_per_recording
        self.workers = workers
        if noise not in SENSOR_NOISE:
            raise SkelzsError(f"--noise {noise!r}: expected one of {', '.join(SENSOR_NOISE)}")
        self.noise = noise
        if not 0.0 <= hold_prob <= 1.0:
            raise SkelzsError(f"--hold-prob {hold_prob}: expected a probability in [0, 1]")
        self.hold_prob = hold_prob


def _save(path: Path, seq, fmt: str) -> None:
    if fmt == "skeleton":
        from skelzs.stream.ntu import write_ntu_skeleton

        write_ntu_skeleton(path, seq)
    else:
        from skelzs.stream.formats import save_sequence

        save_sequence(path, seq)


def _sample_seed(seed: int, cls: int, i: int) -> int:
    # Independent of the class list and count: the same (seed, class, i) is always the same sample.
    return (seed * 1_000_003 + cls * 100_003 + i) % (2**63)


def _variation(noise: str, hold_prob: float = 0.0):
    from skelzs.train.synth.generator import Variation

    return {"legacy": Variation, "kinect": Variation.kinect_noise}[noise](hold_prob=hold_prob)


def _write_one(job: tuple) -> tuple[str, int, int]:
    out, rel, cls, local_label, sample_seed, fmt, window, subset, noise, hold_prob = job
    import numpy as np

    from skelzs.train.synth.generator import generate_sample

    seq = generate_sample(cls, sample_seed, _variation(noise, hold_prob))
    if window:
        seq = crop_window(seq, window, np.random.default_rng(sample_seed + 1))
    seq.meta["action"] = local_label
    _save(Path(out) / rel, seq, fmt)
    return rel, local_label, subset


def _write_recording(job: tuple) -> tuple[str, list[dict]]:
    out, rel, names, rec_seed, fmt, noise, hold_prob = job
    from skelzs.train.synth.generator import generate_recording

    seq, segments = generate_recording(names, rec_seed, _variation(noise, hold_prob))
    seq.meta["action"] = None
    _save(Path(out) / rel, seq, fmt)
    seg_path = (Path(out) / rel).with_suffix(".segments.json")
    seg_path.write_text(json.dumps({"fps": seq.fps, "frames": seq.num_frames, "segments": segments}, indent=1))
    return rel, segments


def write_synth_dataset(opts: SynthOptions, progress=None) -> dict:
    """Write the folder; returns the provenance dict also saved as ``synth.json``."""
    import numpy as np

    from skelzs.train.synth.actions import ACTIONS

    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    names = [ACTIONS[c].name for c in opts.classes]
    (out / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    if opts.descriptions:
        (out / "class_texts.txt").write_text("\n".join(ACTIONS[c].description for c in opts.classes) + "\n",
                                             encoding="utf-8")
    suffix = ".skeleton" if opts.fmt == "skeleton" else ".npz"
    jobs: list[tuple] = []
    rec_jobs: list[tuple] = []
    if opts.multi_action:
        rng = np.random.default_rng(opts.seed)
        lo, hi = opts.actions_per_recording
        for r in range(opts.recordings):
            k = int(rng.integers(lo, hi + 1))
            picked = [names[i] for i in rng.choice(len(names), size=min(k, len(names)), replace=False)]
            rec_jobs.append((str(out), f"recordings/recording_{r:04d}{suffix}", picked, int(rng.integers(2**62)),
                             opts.fmt, opts.noise, opts.hold_prob))
        (out / "recordings").mkdir(exist_ok=True)
    else:
        for local, cls in enumerate(opts.classes):
            folder = _slug(ACTIONS[cls].name)
            (out / folder).mkdir(exist_ok=True)
            for i in range(opts.per_class):
                s = _sample_seed(opts.seed, cls, i)
                subset = 0 if (np.random.default_rng(s + 7).random() < opts.test_fraction) else 1
                jobs.append((str(out), f"{folder}/{folder}_{i:05d}{suffix}", cls, local, s, opts.fmt, opts.window, subset,
                             opts.noise, opts.hold_prob))

    total = len(jobs) + len(rec_jobs)
    task = progress.add_task("synth", total=total) if progress is not None else None
    rows: list[tuple[str, int, int]] = []
    recs: list[tuple[str, list[dict]]] = []

    def run(fn, items, sink):
        if opts.workers > 1 and len(items) > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(opts.workers) as pool:
                for res in pool.imap(fn, items, chunksize=8):
                    sink.append(res)
                    if task is not None:
                        progress.advance(task)
        else:
            for item in items:
                sink.append(fn(item))
                if task is not None:
                    progress.advance(task)

    run(_write_one, jobs, rows)
    run(_write_recording, rec_jobs, recs)
    if rows:
        with (out / "labels.csv").open("w", encoding="utf-8") as fh:
            fh.write("file,label,subset\n")
            for rel, label, subset in rows:
                fh.write(f"{rel},{label},{'train' if subset else 'test'}\n")
    info = {
        "generator": "skelzs.train.synth", "seed": opts.seed, "format": opts.fmt, "window": opts.window,
        "noise": opts.noise, "hold_prob": opts.hold_prob, "per_class": opts.per_class, "classes": names, "class_ids": list(opts.classes),
        "test_fraction": opts.test_fraction, "samples": len(rows),
        "recordings": [{"file": r, "segments": s} for r, s in recs],
    }
    (out / "synth.json").write_text(json.dumps(info, indent=1))
    return info


def _resolve_classes(spec: str | None, exclude: str | None) -> list[int]:
    from skelzs.train.synth.actions import ACTIONS, action_index

    def parse(s: str) -> list[int]:
        out = []
        for part in s.split(","):
            p = part.strip()
            if not p:
                continue
            if p.isdigit():
                if not 0 <= int(p) < len(ACTIONS):
                    raise SkelzsError(f"class id {p} out of range (0..{len(ACTIONS) - 1})")
                out.append(int(p))
            else:
                try:
                    out.append(action_index(p))
                except KeyError:
                    raise SkelzsError(f"unknown synthetic class {p!r} (see `skelzs-train synth --list`)") from None
        return out

    chosen = list(range(len(ACTIONS))) if not spec or spec.strip().lower() == "all" else parse(spec)
    drop = set(parse(exclude)) if exclude else set()
    chosen = [c for c in dict.fromkeys(chosen) if c not in drop]
    if not chosen:
        raise SkelzsError("no classes selected")
    return chosen


def synth_cmd(
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (a raw folder for `skelzs-train prepare folder`)."),
    classes: Optional[str] = typer.Option(None, "--classes", help="Comma-separated class names or ids (default: all)."),
    exclude: Optional[str] = typer.Option(None, "--exclude", help="Comma-separated classes to leave out."),
    per_class: int = typer.Option(100, "--per-class", help="Samples per class."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same samples."),
    fmt: str = typer.Option("npz", "--format", help="skeleton (NTU RGB+D text) | npz"),
    window: Optional[int] = typer.Option(None, "--window", help="Crop every sample to exactly this many frames, "
                                         "over its action, as a live sliding window sees it (e.g. 64)."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Share of samples marked test in labels.csv."),
    descriptions: bool = typer.Option(False, "--descriptions", help="Also write class_texts.txt (one-sentence descriptions)."),
    multi_action: bool = typer.Option(False, "--multi-action", help="Write recordings of several actions in sequence "
                                      "with ground-truth .segments.json files instead of one sample per file."),
    recordings: int = typer.Option(10, "--recordings", help="With --multi-action: how many recordings."),
    workers: int = typer.Option(1, "--workers", help="Parallel writer processes."),
    list_classes: bool = typer.Option(False, "--list", help="Print the class table and exit."),
    noise: str = typer.Option("legacy", "--noise", help="Sensor noise: legacy (the library's default, noisier "
                              "than real sensors) | kinect (calibrated on real Kinect recordings)."),
    hold_prob: float = typer.Option(0.0, "--hold-prob", help="Share of upper-body samples that begin and end "
                                    "with the hands held in front (an object in hand) instead of hanging."),
) -> None:
    """Generate samples of the procedural motion library (deterministic by seed)."""
    from skelzs.train.synth.actions import ACTIONS

    if list_classes:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"skelzs motion library: {len(ACTIONS)} classes")
        for col in ("id", "label", "persons", "description"):
            t.add_column(col)
        for i, a in enumerate(ACTIONS):
            t.add_row(str(i), a.name, str(a.persons), a.description)
        Console().print(t)
        return
    if out is None:
        raise SkelzsError("--out is required")
    if fmt not in ("skeleton", "npz"):
        raise SkelzsError(f"--format must be skeleton or npz, not {fmt!r}")
    if per_class < 1:
        raise SkelzsError("--per-class must be at least 1")
    if window is not None and window < 8:
        raise SkelzsError("--window must be at least 8 frames")
    ids = _resolve_classes(classes, exclude)
    opts = SynthOptions(out, ids, per_class, seed, fmt, window, test_fraction, descriptions, multi_action,
                        recordings, workers=max(1, min(workers, os.cpu_count() or 1)), noise=noise, hold_prob=hold_prob)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as progress:
        info = write_synth_dataset(opts, progress)
    what = f"{len(info['recordings'])} recordings" if multi_action else f"{info['samples']} samples"
    typer.echo(f"{out}: {what} of {len(ids)} classes ({fmt}, seed {seed})")


def register(app: typer.Typer) -> None:
    app.command("synth")(synth_cmd)
