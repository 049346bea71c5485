"""Typed errors. ``str(error)`` is always the one line the CLI prints; never a traceback."""

from __future__ import annotations

__all__ = ["SkelzsError", "SkeletonFormatError", "CheckpointError", "SourceError", "WireFormatError"]


class SkelzsError(Exception):
    """Base class of every error skelzs reports to a user as one line."""


class SkeletonFormatError(SkelzsError, ValueError):
    """A skeleton file that does not follow its format; names the file and the line."""

    def __init__(self, path: object, line: int | None, reason: str):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class CheckpointError(SkelzsError):
    """A checkpoint that is missing, corrupt, or does not match what loads it."""


class SourceError(SkelzsError):
    """A capture source that cannot be opened or read (camera, video, URL, Kinect)."""


class WireFormatError(SkelzsError, ValueError):
    """A ZeroMQ message that is not a valid skelzs frame."""


def read_text_file(path, max_bytes: int, encoding: str, what: str) -> str:
    """A skeleton text file's contents, or a one-line :class:`SkeletonFormatError`: unreadable,
    larger than ``max_bytes``, not decodable as ``encoding`` (binary data, line named), or empty."""
    from pathlib import Path

    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise SkeletonFormatError(path, None, f"file too large ({size} bytes > {max_bytes})")
        data = p.read_bytes()
    except OSError as err:
        raise SkeletonFormatError(path, None, f"cannot read file: {err.strerror or err}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise SkeletonFormatError(path, line, f"binary data, not a {what} text file") from None
    if not text.strip():
        raise SkeletonFormatError(path, 1, "empty file")
    return text
