"""``skelzs bench synth``: how many motion-library samples one core generates (and writes) a minute.

Each repeat generates one sample of every class with all variation on (a fresh seed per sample)
and, separately, writes those samples as ``.npz`` and as NTU ``.skeleton`` text; the figures are
medians over the repeats. The issue's target is "thousands of samples a minute on 2 cores".
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import typer

__all__ = ["run_synth_benchmark", "register"]


def run_synth_benchmark(repeats: int = 3, window: int | None = 64) -> dict:
    import numpy as np

    from skelzs.stream.formats import save_sequence
    from skelzs.train.synth.actions import ACTIONS
    from skelzs.train.synth.generator import generate_sample
    from skelzs.train.synth_cli import crop_window

    gen, npz, skel, frames = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            t0 = time.perf_counter()
            seqs = []
            for i in range(len(ACTIONS)):
                s = generate_sample(i, 1000 * r + i)
                if window:
                    s = crop_window(s, window, np.random.default_rng(i))
                seqs.append(s)
            gen.append(len(seqs) / (time.perf_counter() - t0) * 60)
            frames.append(int(np.mean([s.num_frames for s in seqs])))
            for suffix, sink in ((".npz", npz), (".skeleton", skel)):
                t0 = time.perf_counter()
                for i, s in enumerate(seqs):
                    save_sequence(Path(tmp) / f"s{i}{suffix}", s)
                sink.append(len(seqs) / (time.perf_counter() - t0) * 60)
    return {
        "classes": len(ACTIONS), "repeats": repeats, "window": window, "mean_frames": frames[0],
        "generate_per_min": round(statistics.median(gen)),
        "generate_and_write_npz_per_min": round(1 / (1 / statistics.median(gen) + 1 / statistics.median(npz))),
        "generate_and_write_skeleton_per_min": round(1 / (1 / statistics.median(gen) + 1 / statistics.median(skel))),
    }


def register(bench_app: typer.Typer) -> None:
    @bench_app.command("synth")
    def bench_synth(
        repeats: int = typer.Option(3, "--repeats"),
        window: int = typer.Option(64, "--window", help="Crop to this many frames as `synth --window` does (0: whole samples)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Motion-library samples per minute on one core: generation, and generation + writing."""
        res = run_synth_benchmark(repeats, window or None)
        if as_json:
            typer.echo(json.dumps(res))
            return
        typer.echo(f"motion library, {res['classes']} classes x {res['repeats']} repeats, one core "
                   f"(window {res['window']}, mean {res['mean_frames']} frames):")
        typer.echo(f"  generate:                 {res['generate_per_min']:>8,} samples/min")
        typer.echo(f"  generate + write .npz:    {res['generate_and_write_npz_per_min']:>8,} samples/min")
        typer.echo(f"  generate + write .skeleton: {res['generate_and_write_skeleton_per_min']:>6,} samples/min")
