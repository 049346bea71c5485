"""``skelzs inspect`` and ``skelzs convert``: look into skeleton files and convert between formats.

Bad input ends with exit status 2 and one line ``PATH:LINE: reason`` on stderr per bad file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from skelzs.stream.errors import SkelzsError

__all__ = ["register", "inspect_file"]


def inspect_file(path: Path) -> dict:
    """The facts ``skelzs inspect`` reports for one file (raises SkeletonFormatError)."""
    from skelzs.stream.formats import detect_format, load_sequence

    fmt = detect_format(path)
    seq = load_sequence(path)
    persons = int(seq.meta.get("bodies_per_frame_max", seq.present_persons()))
    return {
        "path": str(path),
        "format": fmt,
        "frames": seq.num_frames,
        "persons": persons,
        "joints": seq.num_joints,
        "layout": seq.layout,
        "fps": seq.fps,
        "duration": round(seq.duration, 3),
        "action": seq.meta.get("action"),
        "sample": seq.meta.get("sample"),
        "warnings": list(seq.meta.get("warnings", [])),
    }


def _fail(err: SkelzsError) -> None:
    print(str(err), file=sys.stderr)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect(
        paths: list[Path] = typer.Argument(..., help="Skeleton files: NTU .skeleton, PKU-MMD .txt or skelzs .npz."),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per file (keys path, format, "
                                     "frames, persons, joints, layout, fps, duration, action, sample, warnings)."),
    ) -> None:
        """Report format, frames, persons (most bodies in a frame), joints, fps, duration, action
        (0-based class index when the name carries one) and warnings for each file.

        A file that breaks its format prints `PATH:LINE: reason` on stderr; the exit status is then 2.
        """
        failed = False
        rows = []
        for p in paths:
            try:
                info = inspect_file(p)
            except SkelzsError as err:
                _fail(err)
                failed = True
                continue
            if as_json:
                print(json.dumps(info))
            else:
                rows.append(info)
        if rows:
            from rich.console import Console
            from rich.table import Table

            table = Table()
            for col in ("path", "format", "frames", "persons", "joints", "fps", "duration", "action", "warnings"):
                table.add_column(col, overflow="fold", no_wrap=col in ("format", "frames", "persons", "joints", "fps"))
            for r in rows:
                table.add_row(Path(r["path"]).name, r["format"], str(r["frames"]), str(r["persons"]), str(r["joints"]),
                              f"{r['fps']:g}", f"{r['duration']:.2f}s",
                              "-" if r["action"] is None else str(r["action"]),
                              "; ".join(r["warnings"]) or "-")
            Console().print(table)
        if failed:
            raise typer.Exit(2)

    @app.command("convert")
    def convert(
        src: Path = typer.Argument(..., help="Input: NTU .skeleton, PKU-MMD .txt or skelzs .npz."),
        dst: Path = typer.Argument(..., help="Output; format from the suffix (.skeleton, .txt, .npz)."),
        pipeline: Optional[str] = typer.Option(None, "--pipeline", "-p",
                                               help="Preprocess first: frame50, ctrgcn64, agcn or stream "
                                                    "(the result is stored as a (T, 2, 25, 3) sequence)."),
        frames: Optional[int] = typer.Option(None, "--frames", "-t", min=1,
                                             help="Frame count for --pipeline (default 50/64/300/all)."),
    ) -> None:
        """Convert between .skeleton, PKU-MMD text and npz, optionally through a preprocessing pipeline."""
        from skelzs.stream.formats import load_sequence, save_sequence

        try:
            seq = load_sequence(src)
            if pipeline is not None:
                import numpy as np

                from skelzs.stream.preprocess import PIPELINES
                from skelzs.stream.skeleton import SkeletonSequence

                if pipeline not in PIPELINES:
                    print(f"error: unknown --pipeline {pipeline!r}; choose from {', '.join(PIPELINES)}", file=sys.stderr)
                    raise typer.Exit(2)
                default = {"frame50": 50, "ctrgcn64": 64, "agcn": 300, "stream": seq.num_frames}[pipeline]
                out = PIPELINES[pipeline](seq, frames or default)
                meta = dict(seq.meta, preprocess=pipeline)
                seq = SkeletonSequence(np.ascontiguousarray(out.transpose(1, 3, 2, 0)), "ntu25", seq.fps, None, meta)
            save_sequence(dst, seq)
        except SkelzsError as err:
            _fail(err)
            raise typer.Exit(2)
        print(f"{src} -> {dst}: {seq.num_frames} frames, {seq.num_persons} person slots")
