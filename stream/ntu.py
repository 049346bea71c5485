"""NTU RGB+D ``.skeleton`` files: a strict, fast reader and a writer that round-trips with it.

Format (papers.md D.1; ``Matlab/read_skeleton_file.m`` of the dataset): line 1 is the frame
count; each frame has a body-count line and, per body, a 10-value body-info line (bodyID,
clippedEdges, handLeftConfidence, handLeftState, handRightConfidence, handRightState,
isRestricted, leanX, leanY, trackingState), a joint-count line (25) and 25 joint lines of 12
values (x y z, depthX depthY, colorX colorY, orientation w x y z, trackingState).

Speed: the file is read once and tokenized in one pass, every value equal to what ``float()``
returns, by one of two tokenizers that give the same :class:`_Tokens`:

* the optional C extension :mod:`skelzs.stream._fastparse` (``stream/_fastparse.c``, built at
  install when a compiler is there; Clinger's exact fast path, else Python's own
  ``PyOS_string_to_double``), which also returns each line's leading integer;
* the numpy fallback (:func:`_fast_tokens`, a vectorized SWAR decimal parser), used when the
  extension is missing or ``SKELZS_NO_FASTPARSE=1``.

The structure is then checked on the per-line token counts: with the C tokenizer's leading
integers in a few array operations (:func:`_layout_vectorized`), otherwise (and whenever that
check declines) by the line-by-line walk :func:`_layout_walk`, one step per frame and per
body, which names the offending line. Bytes a tokenizer does not accept (NaN, letters, binary
bytes) go through a line-by-line ``float()`` path that names the line, so both tokenizers raise
the same errors.

Anything that breaks the format raises :class:`~skelzs.stream.errors.SkeletonFormatError` with
the file and the 1-based line (anchors.md 5.4).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.skeleton import SkeletonSequence

try:  # optional C tokenizer, built from stream/_fastparse.c when a compiler was there
    from skelzs.stream import _fastparse
except ImportError:
    _fastparse = None

__all__ = [
    "NtuSampleName",
    "NtuSkeletonFile",
    "parse_ntu_name",
    "read_ntu_skeleton",
    "write_ntu_skeleton",
    "tokenizer_name",
    "BODY_INFO_FIELDS",
    "JOINT_FIELDS",
    "MAX_FILE_BYTES",
    "MAX_FRAMES",
    "MAX_BODIES_PER_FRAME",
]

BODY_INFO_FIELDS = (
    "bodyID", "clippedEdges", "handLeftConfidence", "handLeftState", "handRightConfidence",
    "handRightState", "isRestricted", "leanX", "leanY", "trackingState",
)
JOINT_FIELDS = (
    "x", "y", "z", "depthX", "depthY", "colorX", "colorY",
    "orientationW", "orientationX", "orientationY", "orientationZ", "trackingState",
)
NUM_JOINTS = 25
MAX_FILE_BYTES = 256 * 1024 * 1024  # the largest NTU-120 file is ~3 MB
MAX_FRAMES = 100_000                # ~55 min at 30 fps; NTU clips have at most 300
MAX_BODIES_PER_FRAME = 6            # Kinect v2 tracks at most six bodies
# SKELZS_NO_FASTPARSE=1 (or setting this False) keeps the reader on its numpy tokenizer
USE_FASTPARSE = os.environ.get("SKELZS_NO_FASTPARSE", "") in ("", "0")

# trackingState 0 (not tracked) / 1 (inferred) / 2 (tracked) -> confidence in [0, 1]
_TRACKING_CONFIDENCE = np.array([0.0, 0.5, 1.0], np.float32)
_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
_P10 = 10.0 ** np.arange(23)
_U = np.uint64
_BLOCK_BYTES = 64 * 1024
_ONES = _U(0x0101010101010101)
_LOW7 = _U(0x7F7F7F7F7F7F7F7F)
_HIGH = _U(0x8080808080808080)


@dataclass(frozen=True)
class NtuSampleName:
    """``SsssCcccPpppRrrrAaaa``: all fields 1-based as in the name (``action`` 1..120)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    def __str__(self) -> str:
        return (f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
                f"R{self.replication:03d}A{self.action:03d}")


def parse_ntu_name(name: str | Path) -> NtuSampleName:
    """Parse an NTU sample name or path (``.../S001C002P003R001A058.skeleton``).

    Raises :class:`SkeletonFormatError` when the name does not follow the pattern.
    """
    stem = Path(str(name)).name.split(".")[0]
    m = _NAME_RE.fullmatch(stem)
    if m is None:
        raise SkeletonFormatError(name, None, "file name does not follow SsssCcccPpppRrrrAaaa")
    s, c, p, r, a = (int(g) for g in m.groups())
    if min(s, c, p, r, a) < 1:
        raise SkeletonFormatError(name, None, "NTU name fields are 1-based; found a zero")
    return NtuSampleName(s, c, p, r, a)


def try_parse_ntu_name(name: str | Path) -> NtuSampleName | None:
    """:func:`parse_ntu_name`, or ``None`` when the name does not follow the pattern."""
    try:
        return parse_ntu_name(name)
    except SkeletonFormatError:
        return None


@dataclass
class NtuSkeletonFile:
    """Everything a ``.skeleton`` file holds, for the (up to ``max_bodies``) kept body slots.

    ``values``: float64 ``(T, M, 25, 12)`` per-joint values in :data:`JOINT_FIELDS` order;
    ``body_info``: float64 ``(T, M, 10)`` in :data:`BODY_INFO_FIELDS` order (bodyID as float,
    exact 64-bit ids are in ``body_ids``); ``body_ids``: uint64 ``(T, M)``; ``present``: bool
    ``(T, M)``; ``bodies_per_frame``: the body count each frame declares (before dropping).
    Slots follow the file order inside each frame; in a frame with more than ``M`` bodies the
    ``M`` bodies with the largest summed joint variance over the whole file are kept (NTU FAQ).
    """

    path: str
    values: np.ndarray
    body_info: np.ndarray
    body_ids: np.ndarray
    present: np.ndarray
    bodies_per_frame: np.ndarray
    name: NtuSampleName | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def max_bodies(self) -> int:
        """Most bodies any frame declares (may exceed the kept slots)."""
        return int(self.bodies_per_frame.max(initial=0))

    @property
    def xyz(self) -> np.ndarray:
        return self.values[..., 0:3]

    @property
    def tracking_state(self) -> np.ndarray:
        return self.values[..., 11].astype(np.int8)

    def to_sequence(self, persons: int = 2) -> SkeletonSequence:
        """xyz as a :class:`SkeletonSequence` ``(T, persons, 25, 3)``; confidence from trackingState."""
        t, m = self.values.shape[:2]
        joints = np.zeros((t, persons, NUM_JOINTS, 3), np.float32)
        conf = np.zeros((t, persons, NUM_JOINTS), np.float32)
        k = min(m, persons)
        joints[:, :k] = self.values[:, :k, :, 0:3]
        conf[:, :k] = _TRACKING_CONFIDENCE[self.values[:, :k, :, 11].astype(np.intp)]
        conf[:, :k] *= self.present[:, :k, None]
        meta: dict[str, Any] = {"format": "ntu", "path": self.path, "action": None,
                                "bodies_per_frame_max": self.max_bodies}
        if self.name is not None:
            meta.update(sample=str(self.name), setup=self.name.setup, camera=self.name.camera,
                        performer=self.name.performer, replication=self.name.replication,
                        action=self.name.action - 1)
        if self.warnings:
            meta["warnings"] = list(self.warnings)
        return SkeletonSequence(joints, "ntu25", 30.0, conf, meta)


# --------------------------------------------------------------------------------------------
# Tokenizing: every whitespace-separated number of the file, with its line.


@dataclass
class _Tokens:
    values: np.ndarray       # float64 (N,)
    line_ntok: np.ndarray    # int (L,) tokens on each line
    line_tok0: np.ndarray    # int (L,) index of each line's first token
    line_start: np.ndarray   # int (L,) byte offset of each line
    line_int: np.ndarray | None = None  # int64 (L,) leading plain integer of each line or -1 (C only)


def _ge_table(w):
    out = []
    for c in range(-1, 20):
        s = min(max(c - 8 * w, 0), 8) * 8
        out.append(0 if s >= 64 else (0xFFFFFFFFFFFFFFFF << s) & 0xFFFFFFFFFFFFFFFF)
    return np.array(out, np.uint64)


_GE = (_ge_table(0), _ge_table(1))


def _ge_mask(c, w):
    """Byte mask of the columns >= c inside word w (columns 8w..8w+7); c in -1..19."""
    return _GE[w].take(c + 1)


def _eq(w, ch):
    """High bit set in exactly the bytes of w equal to ch (bytes < 0x80)."""
    t = w ^ _U(ch * 0x0101010101010101)
    y = (t & _LOW7) + _LOW7
    return ~(y | t | _LOW7)


def _digits(w):
    v = w & _LOW7
    return ((v + _U(0x5050505050505050)) & ~(v + _U(0x4646464646464646))) & _HIGH


def _swar8(w):
    w = (w * _U(10) + (w >> _U(8))) & _U(0x00FF00FF00FF00FF)
    w = (w * _U(100) + (w >> _U(16))) & _U(0x0000FFFF0000FFFF)
    return (w * _U(10000) + (w >> _U(32))) & _U(0xFFFFFFFF)


def _col_of_bit(d):
    """Column (0..7) of the single flagged byte in d (d != 0)."""
    return (np.bitwise_count(d - _U(1)) // 8).astype(np.int64)


def _fast_tokens(data: bytes) -> _Tokens | None:
    """SWAR decimal parser over the raw bytes; ``None`` when anything looks unusual.

    Each token is loaded as the 16 bytes that end at it (two little-endian uint64 words, so
    the token is right-aligned); byte masks select its characters, the dot is squeezed out
    with a 128-bit shift, and the classic 8-digits-per-word multiply/shift reduction gives the
    exact integer mantissa, which is divided once by an exact power of ten (= ``float()``).
    Tokens with an exponent (``8.157031E-05``) or more than 15 digits (64-bit body ids) are
    few and go through ``float()``. The file is processed in blocks of about
    :data:`_BLOCK_BYTES` cut after a newline, so every temporary array stays small enough for
    the allocator to reuse its memory (large fresh arrays cost a page fault per 4 KiB).
    """
    n = len(data)
    if n == 0:
        return None
    values: list[np.ndarray] = []
    ntoks: list[np.ndarray] = []
    newlines: list[np.ndarray] = []
    pos = 0
    while pos < n:
        cut = data.find(b"\n", pos + _BLOCK_BYTES)
        end = n if cut < 0 else cut + 1
        block = _fast_block(data, pos, end, last=end == n)
        if block is None:
            return None
        values.append(block[0])
        ntoks.append(block[1])
        newlines.append(block[2] + pos)
        pos = end
    line_ntok = np.concatenate(ntoks)
    nl = np.concatenate(newlines)
    return _Tokens(np.concatenate(values), line_ntok, np.cumsum(line_ntok) - line_ntok,
                   np.concatenate(([0], nl + 1)))


def _fast_block(data: bytes, pos: int, end: int, last: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Values, per-line token counts and newline offsets of ``data[pos:end]`` (or ``None``)."""
    b = np.frombuffer(data, np.uint8, count=end - pos, offset=pos)
    n = b.size
    if (b > 126).any() or ((b < 32) & (b != 9) & (b != 10) & (b != 13)).any():
        return None
    nonsp = b > 32
    edge = np.empty(n + 1, np.bool_)
    edge[0] = nonsp[0]
    np.not_equal(nonsp[1:], nonsp[:-1], out=edge[1:n])
    edge[n] = nonsp[-1]
    bounds = np.flatnonzero(edge)
    starts = bounds[0::2]
    ends = bounds[1::2]
    length = ends - starts
    padded = np.empty(n + 16, np.uint8)
    padded[:16] = 32
    padded[16:] = b
    words = np.ndarray((n + 9,), dtype="<u8", buffer=padded, strides=(1,))
    x0 = words[ends]          # columns 0..7 of the 16 bytes ending at the token end
    x1 = words[ends + 8]      # columns 8..15
    fc = 16 - np.minimum(length, 16)
    t0, t1 = _ge_mask(fc, 0), _ge_mask(fc, 1)
    pc = np.bitwise_count
    d0, d1 = _eq(x0, 46) & t0, _eq(x1, 46) & t1
    ndots = pc(d0) + pc(d1)
    g0, g1 = _digits(x0) & t0, _digits(x1) & t1
    ndig = pc(g0) + pc(g1)
    m0, m1 = _eq(x0, 45) & t0, _eq(x1, 45) & t1
    neg = b.take(starts) == 45
    nminus = pc(m0) + pc(m1)
    special = (length > 16) | (ndig > 15)
    ok = (ndig + ndots + neg == length) & (ndots <= 1) & (ndig >= 1) & (nminus == neg)
    if not np.all(ok | special):
        # exponents (e.g. 8.157031E-05) and 17-digit body ids go through float(); others: slow path
        e = (_eq(x0, 69) | _eq(x0, 101)) & t0 | (_eq(x1, 69) | _eq(x1, 101)) & t1
        special |= e != 0
        if not np.all(ok | special):
            return None
    hasdot = ndots > 0
    dc = np.where(d0 != 0, _col_of_bit(d0), np.where(d1 != 0, 8 + _col_of_bit(d1), -1))
    l0, l1 = ~_ge_mask(dc, 0), ~_ge_mask(dc, 1)
    r0, r1 = _ge_mask(dc + 1, 0), _ge_mask(dc + 1, 1)
    p0, p1 = x0 & l0, x1 & l1
    y0 = (x0 & r0) | (p0 << _U(8))
    y1 = (x1 & r1) | (p1 << _U(8)) | (p0 >> _U(56))
    kc = fc + hasdot + neg
    k0, k1 = _ge_mask(kc, 0), _ge_mask(kc, 1)
    z0 = (y0 & k0) - (_U(0x3030303030303030) & k0)
    z1 = (y1 & k1) - (_U(0x3030303030303030) & k1)
    z = np.empty((z0.size, 2), np.uint64)
    z[:, 0] = z0
    z[:, 1] = z1
    z = _swar8(z).astype(np.float64)
    mant = z[:, 0] * 1e8 + z[:, 1]
    values = mant / _P10.take(np.where(hasdot, 15 - dc, 0))
    np.negative(values, out=values, where=neg)
    for i in np.flatnonzero(special).tolist():
        try:
            v = float(data[pos + starts[i]:pos + ends[i]])
        except ValueError:
            return None
        if not np.isfinite(v):
            return None
        values[i] = v
    nl = np.flatnonzero(b == 10)
    nlines = nl.size + (1 if last else 0)
    # usual case: every line starts with a token (no blank lines, no leading blanks)
    first = b.take(starts - 1) == 10
    first[:1] |= starts[:1] == 0
    heads = np.flatnonzero(first)
    if heads.size == nlines - (1 if last and nl.size and nl[-1] == n - 1 else 0) and (starts.size == 0 or first[0]):
        line_ntok = np.zeros(nlines, np.intp)
        line_ntok[: heads.size] = np.diff(heads, append=starts.size)
    else:
        line_ntok = np.bincount(np.searchsorted(nl, starts), minlength=nlines)
    return values, line_ntok, nl


def _line_values(raw: bytes, lineno: int, path: str) -> list[float]:
    """The numbers of one line (without its ``\\n``) by ``float()``; names what is wrong with it."""
    bad = [c for c in raw if (c < 32 and c not in (9, 13)) or c > 126]
    if bad:
        raise SkeletonFormatError(path, lineno, f"binary data (byte 0x{bad[0]:02x}), not a text skeleton file")
    values = []
    for tok in raw.split():
        try:
            v = float(tok)
        except ValueError:
            shown = tok.decode("ascii", "replace")[:20]
            raise SkeletonFormatError(path, lineno, f"not a number: {shown!r}") from None
        if not np.isfinite(v):
            raise SkeletonFormatError(path, lineno, f"non-finite value {tok.decode()!r}")
        values.append(v)
    return values


def _slow_tokens(data: bytes, path: str) -> _Tokens:
    """Line-by-line tokenizer that names the first bad line (binary bytes, non-numbers, NaN/inf)."""
    values: list[float] = []
    ntoks: list[int] = []
    starts: list[int] = []
    pos = 0
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        starts.append(pos)
        pos += len(raw) + 1
        toks = _line_values(raw, lineno, path)
        values.extend(toks)
        ntoks.append(len(toks))
    line_ntok = np.asarray(ntoks, np.intp)
    return _Tokens(np.asarray(values, np.float64), line_ntok, np.cumsum(line_ntok) - line_ntok,
                   np.asarray(starts, np.intp))


def _c_tokens(data: bytes, path: str) -> _Tokens | None:
    """The C tokenizer (:mod:`skelzs.stream._fastparse`); ``None`` hands the file to the slow path.

    On a token it does not accept, C returns that token's line; the line is re-read by
    :func:`_line_values`, which raises the same error the slow path would (C accepts no line
    the slow path rejects, so no earlier line can be at fault). Spellings only ``float()``
    knows (``1_000``) make that line parse fine: then the whole file takes the slow path.
    """
    values, ntok, starts, first, bad = _fastparse.tokenize(data)
    if bad >= 0:
        _line_values(data.split(b"\n", bad + 1)[bad], bad + 1, path)
        return None
    line_ntok = np.frombuffer(ntok, np.intp)
    return _Tokens(np.frombuffer(values, np.float64), line_ntok, np.cumsum(line_ntok) - line_ntok,
                   np.frombuffer(starts, np.intp), np.frombuffer(first, np.int64))


def tokenizer_name() -> str:
    """Which tokenizer :func:`read_ntu_skeleton` uses: ``"C extension"`` or ``"numpy"``."""
    return "C extension" if _fastparse is not None and USE_FASTPARSE else "numpy"


def _tokens(data: bytes, path: str) -> _Tokens:
    tok = _c_tokens(data, path) if _fastparse is not None and USE_FASTPARSE else _fast_tokens(data)
    return tok if tok is not None else _slow_tokens(data, path)


# --------------------------------------------------------------------------------------------
# Reading


def _read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as err:
        raise SkeletonFormatError(path, None, f"cannot read file: {err.strerror or err}") from None
    if size > MAX_FILE_BYTES:
        raise SkeletonFormatError(path, None, f"file too large ({size} bytes > {MAX_FILE_BYTES})")
    try:
        return p.read_bytes()
    except OSError as err:
        raise SkeletonFormatError(path, None, f"cannot read file: {err.strerror or err}") from None


def _count(data: bytes, ntok: list[int], starts: np.ndarray, firsts: list[int] | None, line: int,
           path: str, what: str, cap: int) -> int:
    """The integer on 0-based ``line`` (a count line): one token, digits only, <= cap.

    ``firsts``: each line's leading plain integer or -1 when the tokenizer knows it (C path);
    the line's text is read only when it does not.
    """
    if line >= len(ntok):
        raise SkeletonFormatError(path, line + 1, f"unexpected end of file: expected {what}")
    n = ntok[line]
    if n != 1:
        if n == 0 and line >= len(ntok) - 1:
            raise SkeletonFormatError(path, line + 1, f"unexpected end of file: expected {what}")
        raise SkeletonFormatError(path, line + 1, f"expected 1 value ({what}), found {n}")
    value = firsts[line] if firsts is not None else -1
    if value < 0:
        end = starts[line + 1] - 1 if line + 1 < len(starts) else len(data)
        text = data[starts[line]:end].strip()
        if not text.isdigit():
            raise SkeletonFormatError(path, line + 1, f"{what} must be a non-negative integer, got {text.decode('ascii', 'replace')!r}")
        value = int(text)
    if value > cap:
        raise SkeletonFormatError(path, line + 1, f"absurd {what} {value} (limit {cap})")
    return value


def _body_id(data: bytes, starts: np.ndarray, line: int, path: str) -> int:
    """The exact 64-bit bodyID that starts the body-info ``line`` (0-based), from its text."""
    text = data[starts[line]:starts[line + 1]].split()[0]
    if not text.isdigit() or int(text) >= 2**64:
        raise SkeletonFormatError(path, line + 1, f"bodyID must be a non-negative 64-bit integer, got {text.decode('ascii', 'replace')!r}")
    return int(text)


@dataclass
class _Layout:
    """Where the records of a well-formed file are: one entry per frame or per body record."""

    num_frames: int
    bodies_per_frame: np.ndarray  # int (T,)
    info_lines: np.ndarray        # int (B,) 0-based line of each body-info line
    body_frame: np.ndarray        # int (B,) frame of each body record
    body_order: np.ndarray        # int (B,) position of the record inside its frame


def _layout_walk(data: bytes, tok: _Tokens, spath: str) -> _Layout:
    """Check the structure line by line (one step per frame and per body) and name the first
    line that breaks it. The reference for :func:`_layout_vectorized`, which it backs up."""
    nlines = tok.line_ntok.size
    ntok_list = tok.line_ntok.tolist()
    starts = tok.line_start  # read only where a line's text is needed
    firsts = tok.line_int.tolist() if tok.line_int is not None else None

    num_frames = _count(data, ntok_list, starts, firsts, 0, spath, "frame count", MAX_FRAMES)
    bodies_per_frame = np.zeros(num_frames, np.intp)
    info_lines: list[int] = []   # 0-based line of each body-info line
    body_frame: list[int] = []
    body_order: list[int] = []
    line = 1
    for f in range(num_frames):
        nb = _count(data, ntok_list, starts, firsts, line, spath, f"body count of frame {f + 1}", MAX_BODIES_PER_FRAME)
        bodies_per_frame[f] = nb
        line += 1
        for b in range(nb):
            if line >= nlines or (ntok_list[line] == 0 and line == nlines - 1):
                raise SkeletonFormatError(spath, line + 1, f"unexpected end of file in frame {f + 1}: expected body info")
            if ntok_list[line] != 10:
                raise SkeletonFormatError(spath, line + 1, f"body-info line must hold 10 values, found {ntok_list[line]}")
            info_lines.append(line)
            body_frame.append(f)
            body_order.append(b)
            nj = _count(data, ntok_list, starts, firsts, line + 1, spath, "joint count", 10**6)
            if nj != NUM_JOINTS:
                raise SkeletonFormatError(spath, line + 2, f"joint count must be {NUM_JOINTS}, found {nj}")
            first = line + 2
            last = first + NUM_JOINTS
            if last > nlines or (last == nlines and ntok_list[last - 1] == 0):
                raise SkeletonFormatError(spath, min(last, nlines), f"unexpected end of file in frame {f + 1}: expected {NUM_JOINTS} joint lines")
            block = ntok_list[first:last]
            if block.count(12) != NUM_JOINTS:
                bad = next(i for i, n in enumerate(block) if n != 12)
                raise SkeletonFormatError(spath, first + bad + 1, f"joint line must hold 12 values, found {block[bad]}")
            line = last
    for extra in range(line, nlines):
        if ntok_list[extra]:
            raise SkeletonFormatError(spath, extra + 1, f"trailing data after the {num_frames} declared frames")

    return _Layout(num_frames, bodies_per_frame, np.asarray(info_lines, np.intp),
                   np.asarray(body_frame, np.intp), np.asarray(body_order, np.intp))


def _layout_vectorized(tok: _Tokens) -> _Layout | None:
    """The layout of a well-formed file in a few array operations, or ``None`` as soon as
    anything differs from what :func:`_layout_walk` accepts (which then names the error).

    Needs each line's leading integer (``line_int``, from the C tokenizer). In a valid file the
    frame body-count lines are exactly the 1-value lines other than line 0 and the joint-count
    lines (those right after a 10-value body-info line); their counts fix where every record
    must be, and then every line is checked against its expected role.
    """
    first, ntok = tok.line_int, tok.line_ntok
    if first is None:
        return None
    n = ntok.size
    num_frames = int(first[0])             # -1 unless line 0 is a plain integer
    if ntok[0] != 1 or not 0 <= num_frames <= MAX_FRAMES:
        return None
    rec = 2 + NUM_JOINTS                   # lines per body record
    info = np.flatnonzero(ntok == 10)
    if info.size and info[-1] + rec > n:
        return None
    is_count = ntok == 1
    is_count[0] = False
    is_count[info + 1] = False
    frame_lines = np.flatnonzero(is_count)
    if frame_lines.size != num_frames:
        return None
    nb = first[frame_lines].astype(np.intp)
    if num_frames and not (0 <= nb.min() and nb.max() <= MAX_BODIES_PER_FRAME):
        return None
    step = 1 + rec * nb
    if not np.array_equal(frame_lines, 1 + np.cumsum(step) - step):
        return None
    end = 1 + int(step.sum())
    if end > n or ntok[end:].any():
        return None
    body_frame = np.repeat(np.arange(num_frames), nb)
    body_order = np.arange(body_frame.size) - (np.cumsum(nb) - nb)[body_frame]
    if not np.array_equal(info, frame_lines[body_frame] + 1 + rec * body_order):
        return None
    if not ((ntok[info + 1] == 1).all() and (first[info + 1] == NUM_JOINTS).all()
            and (ntok[info[:, None] + np.arange(2, rec)] == 12).all()):
        return None
    return _Layout(num_frames, nb, info, body_frame, body_order)


def read_ntu_skeleton(path: str | Path, max_bodies: int = 2) -> NtuSkeletonFile:
    """Read and validate an NTU ``.skeleton`` file; keep up to ``max_bodies`` body slots."""
    spath = str(path)
    data = _read_bytes(path)
    if not data or data.isspace():  # (no stripped copy of the whole file)
        raise SkeletonFormatError(spath, 1, "empty file")
    tok = _tokens(data, spath)
    layout = _layout_vectorized(tok) or _layout_walk(data, tok, spath)
    num_frames, bodies_per_frame, info_lines = layout.num_frames, layout.bodies_per_frame, layout.info_lines
    nlines = tok.line_ntok.size
    starts = tok.line_start  # read only where a line's text is needed

    nbody = info_lines.size
    info_idx = info_lines
    body_info = tok.values[tok.line_tok0.take(info_idx)[:, None] + np.arange(10)]
    # the joint lines' tokens, compacted in file order: (bodies, 25, 12) without index arrays
    joint_line = np.zeros(nlines, bool)
    joint_line[(info_idx[:, None] + np.arange(2, 2 + NUM_JOINTS)).ravel()] = True
    joints = tok.values[np.repeat(joint_line, tok.line_ntok)].reshape(nbody, NUM_JOINTS, 12)
    ts = joints[..., 11]
    bad_ts = (ts != 0) & (ts != 1) & (ts != 2)
    if bad_ts.any():
        bi, ji = np.argwhere(bad_ts)[0]
        raise SkeletonFormatError(spath, int(info_idx[bi]) + 3 + int(ji), f"joint trackingState must be 0, 1 or 2, got {ts[bi, ji]:g}")
    body_ids = tok.line_int.take(info_idx) if tok.line_int is not None else np.full(nbody, -1, np.int64)
    if (body_ids < 0).any():  # numpy path, or ids that are not plain integers below 2^63
        body_ids = np.array([_body_id(data, starts, i, spath) for i in info_lines.tolist()], np.uint64)
    body_ids = body_ids.astype(np.uint64)

    frames = layout.body_frame
    order = layout.body_order
    warnings: list[str] = []
    slot = order.copy()
    if nbody and bodies_per_frame.max() > max_bodies:
        slot = _slots_by_motion(joints, body_ids, frames, bodies_per_frame, max_bodies)
        warnings.append(f"up to {int(bodies_per_frame.max())} bodies in a frame; kept the {max_bodies} "
                        "with the largest joint variance")
    keep = slot < max_bodies
    if not keep.all():
        frames, slot, joints, body_info, body_ids = (a[keep] for a in (frames, slot, joints, body_info, body_ids))
    values = np.zeros((num_frames, max_bodies, NUM_JOINTS, 12))
    info = np.zeros((num_frames, max_bodies, 10))
    ids = np.zeros((num_frames, max_bodies), np.uint64)
    present = np.zeros((num_frames, max_bodies), bool)
    values[frames, slot] = joints
    info[frames, slot] = body_info
    ids[frames, slot] = body_ids
    present[frames, slot] = True
    if num_frames and not bodies_per_frame.any():
        warnings.append("no body in any frame")
    return NtuSkeletonFile(spath, values, info, ids, present, bodies_per_frame,
                           try_parse_ntu_name(spath), warnings)


def _slots_by_motion(joints: np.ndarray, body_ids: np.ndarray, frames: np.ndarray,
                     bodies_per_frame: np.ndarray, max_bodies: int) -> np.ndarray:
    """Slot of every body record: file order, except in crowded frames where only the
    ``max_bodies`` ids with the largest summed xyz variance (over the file) keep a slot."""
    motion: dict[int, float] = {}
    for bid in np.unique(body_ids):
        motion[int(bid)] = float(joints[body_ids == bid, :, 0:3].var(axis=0).sum())
    slot = np.full(frames.size, max_bodies, np.intp)
    start = 0
    for f, nb in enumerate(bodies_per_frame.tolist()):
        rec = np.arange(start, start + nb)
        if nb > max_bodies:
            best = sorted(rec.tolist(), key=lambda r: -motion[int(body_ids[r])])[:max_bodies]
            for s, r in enumerate(sorted(best)):
                slot[r] = s
        else:
            slot[rec] = np.arange(nb)
        start += nb
    return slot


# --------------------------------------------------------------------------------------------
# Writing


def _fmt(x: float) -> str:
    return np.format_float_positional(x, unique=True, trim="-")


def write_ntu_skeleton(path: str | Path, seq: SkeletonSequence | NtuSkeletonFile) -> None:
    """Write a ``.skeleton`` file that :func:`read_ntu_skeleton` reads back exactly.

    From a :class:`SkeletonSequence` (NTU-25): one body per non-empty person slot and frame,
    xyz as stored (float32, shortest exact decimal), trackingState from confidence (>=0.75 ->
    2, >=0.25 -> 1, else 0; 2 without confidence), the other joint fields and the body info 0
    (bodyID = slot + 1 unless ``meta["body_ids"]``). From an :class:`NtuSkeletonFile`: every
    kept value, as read.
    """
    out: list[str] = []
    if isinstance(seq, NtuSkeletonFile):
        values, present, info, ids = seq.values, seq.present, seq.body_info, seq.body_ids
        out.append(str(seq.num_frames))
        for t in range(seq.num_frames):
            slots = np.flatnonzero(present[t])
            out.append(str(slots.size))
            for m in slots:
                out.append(" ".join([str(int(ids[t, m]))] + [_fmt(v) for v in info[t, m, 1:]]))
                out.append(str(NUM_JOINTS))
                out.extend(" ".join(_fmt(v) for v in row) for row in values[t, m])
    else:
        if seq.layout != "ntu25":
            raise ValueError(f"an NTU .skeleton file holds ntu25 joints, not {seq.layout}")
        j = seq.joints
        t_, m_ = j.shape[:2]
        if seq.confidence is None:
            ts = np.full((t_, m_, NUM_JOINTS), 2, np.int8)
        else:
            ts = np.where(seq.confidence >= 0.75, 2, np.where(seq.confidence >= 0.25, 1, 0)).astype(np.int8)
        ids = seq.meta.get("body_ids") or list(range(1, m_ + 1))
        present = np.any(j != 0, axis=(2, 3))
        out.append(str(t_))
        for t in range(t_):
            slots = np.flatnonzero(present[t])
            out.append(str(slots.size))
            for m in slots:
                out.append(f"{int(ids[m])} 0 0 0 0 0 0 0 0 2")
                out.append(str(NUM_JOINTS))
                for v in range(NUM_JOINTS):
                    x, y, z = (_fmt(c) for c in j[t, m, v])
                    out.append(f"{x} {y} {z} 0 0 0 0 0 0 0 0 {int(ts[t, m, v])}")
    Path(path).write_text("\r\n".join(out) + "\r\n", encoding="ascii", newline="")
