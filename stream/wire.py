"""The skelzs wire format: one skeleton frame (or one control message) per ZeroMQ message.

Every message is a single ZeroMQ frame (so it survives ``CONFLATE`` and needs no multipart
bookkeeping): a fixed 40-byte little-endian header followed by a float32 payload.

=========  ======  ==========================================================================
offset     type    field
=========  ======  ==========================================================================
0          4s      magic ``b"SKLZ"``
4          u8      version (``WIRE_VERSION``)
5          u8      kind: 1 frame, 2 hello (readiness), 3 end of stream, 4 heartbeat
6          u16     flags: bit 0 ``FLAG_CONFIDENCE`` (payload carries per-joint confidence),
                   bit 1 ``FLAG_LAST_PERSON`` (last person message of this frame index)
8          u32     source id
12         u16     person id (tracker id, stable across frames)
14         u8      layout code (``LAYOUT_CODES``: 1 ntu25, 2 mediapipe33, 3 azure32)
15         u8      dtype code (1 = float32; the only one)
16         u16     joint count V
18         u16     persons in this frame (so a receiver can tell "nobody" from "not yet")
20         i64     frame index
28         f64     timestamp, seconds (sender's monotonic clock)
36         u32     payload length in bytes
40         ...     payload: joints ``(V, 3)`` float32, then confidence ``(V,)`` float32 if flagged
=========  ======  ==========================================================================

Control messages use the same header with ``V = 0``; their payload is UTF-8 JSON (a hello
carries the source name and fps, an end of stream the number of frames sent). Nothing is ever
unpickled: :func:`decode` validates length, magic, version, kind, counts and finiteness and
raises :class:`~skelzs.stream.errors.WireFormatError` (one line) for anything else.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skelzs.stream.errors import WireFormatError
from skelzs.stream.layouts import LAYOUTS

__all__ = [
    "MAGIC", "WIRE_VERSION", "HEADER", "KIND_FRAME", "KIND_HELLO", "KIND_END", "KIND_HEARTBEAT",
    "FLAG_CONFIDENCE", "FLAG_LAST_PERSON", "LAYOUT_CODES", "MAX_JOINTS",
    "WireFrame", "WireControl", "encode_frame", "decode_frame", "encode_control", "decode",
]

MAGIC = b"SKLZ"
WIRE_VERSION = 1
HEADER = struct.Struct("<4sBBHIHBBHHqdI")
assert HEADER.size == 40

KIND_FRAME = 1
KIND_HELLO = 2
KIND_END = 3
KIND_HEARTBEAT = 4
_CONTROL_KINDS = {KIND_HELLO: "hello", KIND_END: "end", KIND_HEARTBEAT: "heartbeat"}

FLAG_CONFIDENCE = 1 << 0
FLAG_LAST_PERSON = 1 << 1
_KNOWN_FLAGS = FLAG_CONFIDENCE | FLAG_LAST_PERSON

DTYPE_FLOAT32 = 1
LAYOUT_CODES: dict[str, int] = {"ntu25": 1, "mediapipe33": 2, "azure32": 3}
_LAYOUT_NAMES = {code: name for name, code in LAYOUT_CODES.items()}
MAX_JOINTS = 64
MAX_PERSONS = 64
MAX_CONTROL_BYTES = 4096


@dataclass
class WireFrame:
    """One person's skeleton in one frame, as it travels between processes."""

    source: int
    person: int
    frame: int
    timestamp: float
    joints: np.ndarray                 # (V, 3) float32, metres, Kinect axes for ntu25
    confidence: np.ndarray | None = None  # (V,) float32 in [0, 1]
    layout: str = "ntu25"
    persons_in_frame: int = 1
    last_person: bool = True


@dataclass
class WireControl:
    """A control message: ``hello`` (readiness), ``end`` (end of stream) or ``heartbeat``."""

    kind: str
    source: int
    frame: int = 0
    timestamp: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


def encode_frame(frame: WireFrame) -> bytes:
    """Serialize one :class:`WireFrame` to bytes (header + float32 payload)."""
    joints = np.ascontiguousarray(frame.joints, dtype=np.float32)
    if joints.ndim != 2 or joints.shape[1] != 3:
        raise ValueError(f"joints must be (V, 3), got {joints.shape}")
    v = joints.shape[0]
    if frame.layout not in LAYOUT_CODES:
        raise ValueError(f"layout {frame.layout!r} has no wire code")
    flags = FLAG_LAST_PERSON if frame.last_person else 0
    payload = joints.tobytes()
    if frame.confidence is not None:
        conf = np.ascontiguousarray(frame.confidence, dtype=np.float32).reshape(-1)
        if conf.shape[0] != v:
            raise ValueError(f"confidence must have {v} values, got {conf.shape[0]}")
        payload += conf.tobytes()
        flags |= FLAG_CONFIDENCE
    header = HEADER.pack(MAGIC, WIRE_VERSION, KIND_FRAME, flags, frame.source, frame.person,
                         LAYOUT_CODES[frame.layout], DTYPE_FLOAT32, v, frame.persons_in_frame,
                         frame.frame, float(frame.timestamp), len(payload))
    return header + payload


def encode_control(control: WireControl) -> bytes:
    """Serialize a control message; its ``info`` travels as UTF-8 JSON (never pickle)."""
    kinds = {name: code for code, name in _CONTROL_KINDS.items()}
    if control.kind not in kinds:
        raise ValueError(f"unknown control kind {control.kind!r}")
    body = json.dumps(control.info, separators=(",", ":")).encode()
    if len(body) > MAX_CONTROL_BYTES:
        raise ValueError("control payload too large")
    header = HEADER.pack(MAGIC, WIRE_VERSION, kinds[control.kind], 0, control.source, 0,
                         0, DTYPE_FLOAT32, 0, 0, control.frame, float(control.timestamp), len(body))
    return header + body


def decode(message: bytes | memoryview) -> WireFrame | WireControl:
    """Validate and parse one message; raise :class:`WireFormatError` when it is not valid."""
    buf = memoryview(message).cast("B") if not isinstance(message, bytes) else message
    n = len(buf)
    if n < HEADER.size:
        raise WireFormatError(f"message of {n} bytes is shorter than the {HEADER.size}-byte header")
    (magic, version, kind, flags, source, person, layout_code, dtype_code, v, persons,
     frame_index, timestamp, payload_len) = HEADER.unpack_from(buf, 0)
    if magic != MAGIC:
        raise WireFormatError(f"bad magic {bytes(magic)!r}, expected {MAGIC!r}")
    if version != WIRE_VERSION:
        raise WireFormatError(f"wire version {version} not supported (this build speaks {WIRE_VERSION})")
    if payload_len != n - HEADER.size:
        raise WireFormatError(f"payload length field says {payload_len} bytes, message carries {n - HEADER.size}")
    if not math.isfinite(timestamp):
        raise WireFormatError("timestamp is not finite")
    if kind in _CONTROL_KINDS:
        if payload_len > MAX_CONTROL_BYTES:
            raise WireFormatError(f"control payload of {payload_len} bytes exceeds {MAX_CONTROL_BYTES}")
        try:
            info = json.loads(bytes(buf[HEADER.size:]).decode("utf-8")) if payload_len else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise WireFormatError(f"control payload is not UTF-8 JSON ({err.__class__.__name__})") from None
        if not isinstance(info, dict):
            raise WireFormatError("control payload is not a JSON object")
        return WireControl(_CONTROL_KINDS[kind], source, frame_index, timestamp, info)
    if kind != KIND_FRAME:
        raise WireFormatError(f"unknown message kind {kind}")
    if flags & ~_KNOWN_FLAGS:
        raise WireFormatError(f"unknown flag bits 0x{flags & ~_KNOWN_FLAGS:x}")
    if dtype_code != DTYPE_FLOAT32:
        raise WireFormatError(f"dtype code {dtype_code} not supported (only float32 = 1)")
    layout = _LAYOUT_NAMES.get(layout_code)
    if layout is None:
        raise WireFormatError(f"unknown layout code {layout_code}")
    if v != LAYOUTS[layout].num_joints or v > MAX_JOINTS:
        raise WireFormatError(f"layout {layout} has {LAYOUTS[layout].num_joints} joints, header says {v}")
    if not 1 <= persons <= MAX_PERSONS:
        raise WireFormatError(f"persons-in-frame {persons} out of range")
    has_conf = bool(flags & FLAG_CONFIDENCE)
    expected = v * 3 * 4 + (v * 4 if has_conf else 0)
    if payload_len != expected:
        raise WireFormatError(f"payload of {payload_len} bytes, expected {expected} for {v} joints")
    values = np.frombuffer(buf, dtype="<f4", count=expected // 4, offset=HEADER.size).astype(np.float32)
    # A float64 sum of float32 values is finite exactly when every value is (no overflow possible).
    if not math.isfinite(float(np.add.reduce(values, dtype=np.float64))):
        raise WireFormatError("payload holds NaN or infinite values")
    joints = values[: v * 3].reshape(v, 3)
    conf = None
    if has_conf:
        conf = values[v * 3:]
        if conf.min() < 0.0 or conf.max() > 1.0:
            raise WireFormatError("confidence outside [0, 1]")
    return WireFrame(source, person, frame_index, timestamp, joints, conf, layout, persons,
                     bool(flags & FLAG_LAST_PERSON))


def decode_frame(message: bytes | memoryview) -> WireFrame:
    """Like :func:`decode` but a control message is an error too."""
    msg = decode(message)
    if not isinstance(msg, WireFrame):
        raise WireFormatError(f"expected a frame message, got control {msg.kind!r}")
    return msg
