"""``skelzs bench parse``: the project's NTU reader against a plain line-by-line ``float()`` reader.

The baseline follows the dataset's own sample reader (``read_skeleton_file`` in the NTU RGB+D
``Python/`` folder and its copies in AimCLR/ST-GCN): per line ``split()``, one ``float()`` per
value, a dict per body and per joint, then the xyz of the first two bodies gathered into an
array. Both readers parse the same files, alternating within each repeat; the figure is the
median files/s over the repeats and the ratio of those medians. The report names the
tokenizer the skelzs reader used (C extension or numpy fallback).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np
import typer

__all__ = ["read_skeleton_plain", "run_parse_benchmark", "register"]

_BODY_KEYS = ("bodyID", "clipedEdges", "handLeftConfidence", "handLeftState", "handRightConfidence",
              "handRightState", "isResticted", "leanX", "leanY", "trackingState")
_JOINT_KEYS = ("x", "y", "z", "depthX", "depthY", "colorX", "colorY",
               "orientationW", "orientationX", "orientationY", "orientationZ", "trackingState")


def read_skeleton_plain(path: str | Path, max_body: int = 2) -> np.ndarray:
    """Plain reader in the style of the dataset's sample code: returns xyz ``(T, max_body, 25, 3)``."""
    with open(path, "r") as f:
        frame_count = int(f.readline())
        frames = []
        for _ in range(frame_count):
            body_count = int(f.readline())
            bodies = []
            for _ in range(body_count):
                body = {k: float(v) for k, v in zip(_BODY_KEYS, f.readline().split())}
                joint_count = int(f.readline())
                body["jointInfo"] = [
                    {k: float(v) for k, v in zip(_JOINT_KEYS, f.readline().split())}
                    for _ in range(joint_count)
                ]
                bodies.append(body)
            frames.append(bodies)
    data = np.zeros((frame_count, max_body, 25, 3))
    for n, bodies in enumerate(frames):
        for m, body in enumerate(bodies[:max_body]):
            for j, v in enumerate(body["jointInfo"]):
                data[n, m, j] = [v["x"], v["y"], v["z"]]
    return data


def run_parse_benchmark(paths: list[Path], repeat: int = 10) -> dict:
    """Time both readers over ``paths`` ``repeat`` times, side by side; medians of files/s."""
    from skelzs.stream.ntu import read_ntu_skeleton, tokenizer_name

    # correctness first: both readers agree on every file
    for p in paths:
        ours = read_ntu_skeleton(p).to_sequence().joints
        plain = read_skeleton_plain(p).astype(np.float32)
        if not np.array_equal(ours, plain):
            raise RuntimeError(f"readers disagree on {p}")
    ours_fps: list[float] = []
    plain_fps: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for p in paths:
            read_ntu_skeleton(p).to_sequence()
        t1 = time.perf_counter()
        for p in paths:
            read_skeleton_plain(p)
        t2 = time.perf_counter()
        ours_fps.append(len(paths) / (t1 - t0))
        plain_fps.append(len(paths) / (t2 - t1))
    ours_med = statistics.median(ours_fps)
    plain_med = statistics.median(plain_fps)
    return {
        "files": len(paths),
        "repeat": repeat,
        "tokenizer": tokenizer_name(),
        "skelzs_files_per_s": ours_med,
        "plain_files_per_s": plain_med,
        "ratio": ours_med / plain_med,
    }


def register(bench_app: typer.Typer) -> None:
    @bench_app.command("parse")
    def parse(
        paths: list[Path] = typer.Argument(None, help="NTU .skeleton files or folders (default: ../shared/data/ntu_skeleton)."),
        repeat: int = typer.Option(10, "--repeat", "-n", min=1, help="Timed passes over all files."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Files/s of the skelzs NTU reader vs a plain float()-per-value reader, and the ratio.

        The JSON names the tokenizer that ran: "C extension" (stream/_fastparse.c, built at
        install when a compiler is there) or "numpy" (no extension, or SKELZS_NO_FASTPARSE=1).
        """
        from skelzs.stream.errors import SkeletonFormatError

        files: list[Path] = []
        roots = paths or [Path(__file__).resolve().parents[2] / "shared" / "data" / "ntu_skeleton"]
        for root in roots:
            files.extend(sorted(root.glob("*.skeleton")) if root.is_dir() else [root])
        if not files:
            raise SkeletonFormatError(", ".join(map(str, roots)), None, "no .skeleton files found")
        res = run_parse_benchmark(files, repeat)
        if as_json:
            print(json.dumps(res))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"NTU .skeleton parse: {res['files']} files, median of {repeat} repeats")
        table.add_column("reader")
        table.add_column("files/s", justify="right")
        table.add_row(f"skelzs ({res['tokenizer']} tokenizer)", f"{res['skelzs_files_per_s']:.1f}")
        table.add_row("plain float() per value", f"{res['plain_files_per_s']:.1f}")
        table.add_row("ratio", f"{res['ratio']:.1f}x")
        Console().print(table)
