"""Copy Bandai-Namco Research Motion takes out of a git mirror of its repository, at most
``--per-label`` takes per (dataset part, content label), in file-name order.

The dataset (CC BY-NC 4.0, research / non-commercial) is the public repository
``BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset``; its takes are
``dataset/Bandai-Namco-Research-Motiondataset-{1,2}/data/*.bvh``. Keep the output outside the
repository: it is training input only, never shipped.

``python -m skelzs.tools.extract_bandai --git <mirror>.git --out data/bandai --per-label 60``
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections import Counter
from pathlib import Path

__all__ = ["select_takes", "main"]

TAKE = re.compile(r"dataset/Bandai-Namco-Research-Motiondataset-(\d)/data/(dataset-\d_.+\.bvh)$")


def select_takes(paths: list[str], per_label: int) -> list[str]:
    """The first ``per_label`` takes of every (part, content label), labels read with
    :func:`skelzs.stream.bvh.bvh_label`."""
    from skelzs.stream.bvh import bvh_label

    count: Counter = Counter()
    out = []
    for p in sorted(paths):
        m = TAKE.search(p)
        if not m:
            continue
        label, _style = bvh_label(m.group(2))
        key = (m.group(1), label)
        count[key] += 1
        if label is not None and count[key] <= per_label:
            out.append(p)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git", type=Path, required=True, help="The mirror's git directory.")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-label", type=int, default=60)
    args = ap.parse_args(argv)
    listing = subprocess.run(["git", "-C", str(args.git), "ls-tree", "-r", "--name-only", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    takes = select_takes(listing, args.per_label)
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for p in takes:
        blob = subprocess.run(["git", "-C", str(args.git), "show", f"HEAD:{p}"], capture_output=True)
        if blob.returncode != 0 or not blob.stdout:  # a large file the mirror holds only as a pointer
            print(f"skipped {p}: not in the mirror")
            continue
        (args.out / Path(p).name).write_bytes(blob.stdout)
        written += 1
    print(f"wrote {written} of {len(takes)} selected takes to {args.out}")


if __name__ == "__main__":
    main()
