"""Sensor-noise texture of real skeleton recordings and of the motion library, side by side.

What a model sees of a tracker's noise at its input rate is the frame-to-frame residual: each
joint minus the mean of itself and its two neighbouring frames (a 3-tap high-pass), as a 3-D
distance, at the checkpoint's 15 fps. This prints its median and 90th percentile per joint group
(trunk, head, wrists, hands, feet) for the real Kinect recordings (PKU-MMD train, UTKinect
subjects 1-7, MSR Action3D odd subjects) and for samples of the motion library under both of its
noise settings (``skelzs-train synth --noise``): ``legacy``, the default, is noisier than every
real source (trunk 6.5 mm against 1.0-4.1 mm); ``kinect``
(:meth:`~skelzs.train.synth.generator.Variation.kinect_noise`) was calibrated with this table to
lie inside their span. A mismatch is a texture by which a model could tell procedural windows
from real ones (the default checkpoint's run D measured what removing it changes:
docs/default-model.md).

``python -m skelzs.tools.sensor_noise --data ../shared/data``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

__all__ = ["JOINT_GROUPS", "person_at_rate", "residual_norms", "noise_table", "library_residuals", "real_residuals", "main"]

#: NTU-25 joint groups of the table
JOINT_GROUPS: dict[str, list[int]] = {
    "trunk": [0, 1, 2, 20], "head": [3], "wrists": [6, 10], "hands": [7, 11, 21, 22, 23, 24], "feet": [15, 19],
}


def residual_norms(joints: np.ndarray) -> np.ndarray:
    """(T, V, 3) joints of one person at the model rate -> (T-2, V) norms of ``x_t - mean(x_{t-1..t+1})``,
    only where all three frames hold the person (other rows dropped)."""
    x = np.asarray(joints, np.float64)
    present = np.any(x != 0, axis=(1, 2))
    ok = present[:-2] & present[1:-1] & present[2:]
    r = x[1:-1] - (x[:-2] + x[1:-1] + x[2:]) / 3.0
    return np.linalg.norm(r, axis=-1)[ok]


def noise_table(norms: np.ndarray) -> dict[str, tuple[float, float]]:
    """(N, V) residual norms (metres) -> group -> (median, 90th percentile) in millimetres."""
    return {g: (float(np.median(norms[:, js]) * 1e3), float(np.percentile(norms[:, js], 90) * 1e3))
            for g, js in JOINT_GROUPS.items()}


def person_at_rate(seq, fps: float) -> np.ndarray:
    """Person 0 of a sequence on a ``fps`` grid (nearest frame, :func:`~skelzs.train.prepare_mix.resample`,
    as ``prepare mix`` cuts its windows): (T', V, 3)."""
    from skelzs.train.prepare_mix import resample

    j = resample(seq, fps)[0]
    return j if j.ndim == 3 else j[:, 0]


def library_residuals(per_class: int = 3, fps: float = 15.0, seed: int = 1000, variation=None) -> np.ndarray:
    """Residual norms of ``per_class`` samples of every motion-library class (person 0), under
    ``variation`` (default: the library's default :class:`~skelzs.train.synth.generator.Variation`)."""
    from skelzs.train.synth.actions import ACTIONS
    from skelzs.train.synth.generator import Variation, generate_sample

    variation = variation or Variation()
    out = [residual_norms(person_at_rate(generate_sample(a, seed=seed + 7 * i + s, var=variation), fps))
           for i, a in enumerate(ACTIONS) for s in range(per_class)]
    return np.concatenate(out)


def real_residuals(data: Path, fps: float = 15.0) -> dict[str, np.ndarray]:
    """Residual norms of the training sides of the real Kinect sources under ``data``: the recordings
    ``prepare mix`` reads and keeps on the training side (an unreadable file is named and skipped)."""
    from skelzs.train.prepare_mix import source_recordings

    sources = {
        "PKU-MMD train (Kinect v2)": ("pku", data / "pku_mmd_more" / "train"),
        "UTKinect s1-7 (Kinect v1)": ("utkinect", data / "kinect_v1" / "UTKinect" / "joints"),
        "MSR Action3D odd subjects (Kinect v1)": ("msr", data / "kinect_v1" / "MSRAction3D" / "real_world_coordinates"),
    }
    out = {}
    for name, (kind, root) in sources.items():
        if root.is_dir():
            out[name] = np.concatenate([residual_norms(person_at_rate(rec.seq, fps))
                                        for rec in source_recordings(kind, root, []) if not rec.test])
    return out


def main(argv: list[str] | None = None) -> dict[str, dict[str, tuple[float, float]]]:
    from rich.console import Console
    from rich.table import Table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--per-class", type=int, default=3, help="Motion-library samples per class.")
    args = ap.parse_args(argv)
    rows = {name: noise_table(n) for name, n in real_residuals(args.data).items()}
    from skelzs.train.synth.generator import Variation

    rows["motion library, --noise legacy (default)"] = noise_table(library_residuals(args.per_class))
    rows["motion library, --noise kinect"] = noise_table(library_residuals(args.per_class, variation=Variation.kinect_noise()))
    table = Table(title="frame-to-frame residual at 15 fps, mm: median / p90")
    table.add_column("source")
    for g in JOINT_GROUPS:
        table.add_column(g, justify="right")
    for name, row in rows.items():
        table.add_row(name, *(f"{med:.1f} / {p90:.1f}" for med, p90 in row.values()))
    Console().print(table)
    return rows


if __name__ == "__main__":
    main()
