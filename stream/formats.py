"""One entry point for every skeleton file format: detect, load, save.

``.skeleton`` -> NTU RGB+D (:mod:`~skelzs.stream.ntu`); ``.npz`` -> the project layout
(:mod:`~skelzs.stream.npzio`) or, holding ``joints_mm``, PKU-MMD (:mod:`~skelzs.stream.pku_npz`);
``.bvh`` -> motion capture (:mod:`~skelzs.stream.bvh`); ``.txt`` -> by its first line: 150 values
PKU-MMD, 61 values UTKinect, 4 values MSR Action3D (:mod:`~skelzs.stream.kinect_v1`). Files with
another suffix are recognised by content (zip magic; ``HIERARCHY`` = BVH; first line a single
integer = NTU, 150 / 61 / 4 values as for ``.txt``).
"""

from __future__ import annotations

from pathlib import Path

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.skeleton import SkeletonSequence

__all__ = ["FORMATS", "detect_format", "load_sequence", "save_sequence"]

FORMATS = ("ntu", "pku", "npz", "pku_npz", "utkinect", "msr", "bvh")
_SUFFIX = {".skeleton": "ntu", ".npz": "npz", ".txt": "pku", ".bvh": "bvh"}
_TXT_BY_VALUES = {150: "pku", 61: "utkinect", 4: "msr"}


def detect_format(path: str | Path) -> str:
    """One of :data:`FORMATS`, from the suffix (and a ``.txt``'s first line, an ``.npz``'s arrays)
    or else the first bytes."""
    p = Path(path)
    fmt = _SUFFIX.get(p.suffix.lower())
    if fmt == "npz":
        from skelzs.stream.pku_npz import is_pku_npz

        return "pku_npz" if is_pku_npz(p) else "npz"
    if fmt == "pku":  # .txt: by the number of values on the first line
        try:
            with open(p, "rb") as f:
                first = f.readline(65536).split()
        except OSError as err:
            raise SkeletonFormatError(path, None, f"cannot read file: {err.strerror or err}") from None
        return _TXT_BY_VALUES.get(len(first), "pku")  # anything else: the PKU reader names the problem
    if fmt is not None:
        return fmt
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError as err:
        raise SkeletonFormatError(path, None, f"cannot read file: {err.strerror or err}") from None
    if head.startswith(b"PK\x03\x04"):
        from skelzs.stream.pku_npz import is_pku_npz

        return "pku_npz" if is_pku_npz(p) else "npz"
    if head.lstrip().startswith(b"HIERARCHY"):
        return "bvh"
    first = head.split(b"\n", 1)[0].split()
    if len(first) == 1 and first[0].isdigit():
        return "ntu"
    if len(first) in _TXT_BY_VALUES:
        return _TXT_BY_VALUES[len(first)]
    raise SkeletonFormatError(path, 1, "unknown skeleton format (expected .skeleton, .txt, .npz or .bvh)")


def load_sequence(path: str | Path, persons: int = 2) -> SkeletonSequence:
    """Load any supported file as a :class:`SkeletonSequence` with ``persons`` slots.

    ``meta`` holds at least ``format``, ``path`` and ``action`` (0-based class index or None).
    """
    fmt = detect_format(path)
    if fmt == "ntu":
        from skelzs.stream.ntu import read_ntu_skeleton

        return read_ntu_skeleton(path, max_bodies=max(persons, 1)).to_sequence(persons)
    if fmt == "pku":
        from skelzs.stream.pku import read_pku_skeleton

        return read_pku_skeleton(path).with_persons(persons)
    if fmt == "pku_npz":
        from skelzs.stream.pku_npz import read_pku_npz

        return read_pku_npz(path).with_persons(persons)
    if fmt == "utkinect":
        from skelzs.stream.kinect_v1 import read_utkinect

        return read_utkinect(path).with_persons(persons)
    if fmt == "msr":
        from skelzs.stream.kinect_v1 import read_msr_action3d

        return read_msr_action3d(path).with_persons(persons)
    if fmt == "bvh":
        from skelzs.stream.bvh import load_bvh

        return load_bvh(path).with_persons(persons)
    from skelzs.stream.npzio import load_npz

    return load_npz(path)


def save_sequence(path: str | Path, seq: SkeletonSequence, fmt: str | None = None) -> None:
    """Save ``seq``; the format comes from ``fmt`` or the suffix (``.skeleton``, ``.txt``, ``.npz``)."""
    fmt = fmt or _SUFFIX.get(Path(path).suffix.lower())
    if fmt == "ntu":
        from skelzs.stream.ntu import write_ntu_skeleton

        write_ntu_skeleton(path, seq)
    elif fmt == "pku":
        from skelzs.stream.pku import write_pku_skeleton

        write_pku_skeleton(path, seq)
    elif fmt == "npz":
        from skelzs.stream.npzio import save_npz

        save_npz(path, seq)
    else:
        raise SkeletonFormatError(path, None, "cannot tell the output format; use .skeleton, .txt or .npz")
