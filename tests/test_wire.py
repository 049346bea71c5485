"""The single-frame wire format: round trips, and every kind of malformed message rejected."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from skelzs.stream.errors import WireFormatError
from skelzs.stream.wire import (
    HEADER, MAGIC, WireControl, WireFrame, decode, decode_frame, encode_control, encode_frame,
)


def _frame(v: int = 25, layout: str = "ntu25", conf: bool = True) -> WireFrame:
    rng = np.random.default_rng(0)
    return WireFrame(7, 1, 123456789012, 4.125, rng.normal(size=(v, 3)).astype(np.float32),
                     rng.uniform(size=v).astype(np.float32) if conf else None, layout, 2, False)


@pytest.mark.parametrize("layout,v", [("ntu25", 25), ("mediapipe33", 33), ("azure32", 32)])
def test_frame_round_trip(layout, v):
    f = _frame(v, layout)
    data = encode_frame(f)
    assert len(data) == HEADER.size + v * 16
    g = decode_frame(data)
    assert (g.source, g.person, g.frame, g.timestamp, g.layout, g.persons_in_frame, g.last_person) == \
        (7, 1, 123456789012, 4.125, layout, 2, False)
    np.testing.assert_array_equal(g.joints, f.joints)
    np.testing.assert_array_equal(g.confidence, f.confidence)


def test_frame_without_confidence():
    g = decode_frame(encode_frame(_frame(conf=False)))
    assert g.confidence is None and g.joints.shape == (25, 3)


def test_control_round_trip():
    msg = decode(encode_control(WireControl("end", 3, 99, 1.5, {"frames": 103, "name": "S001.skeleton"})))
    assert isinstance(msg, WireControl)
    assert (msg.kind, msg.source, msg.frame, msg.info) == ("end", 3, 99, {"frames": 103, "name": "S001.skeleton"})
    with pytest.raises(WireFormatError, match="control"):
        decode_frame(encode_control(WireControl("hello", 0)))


def _patch(data: bytes, fmt: str, offset: int, value) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


GOOD = encode_frame(_frame())


@pytest.mark.parametrize("bad,reason", [
    (b"", "shorter than"),
    (GOOD[:39], "shorter than"),
    (GOOD[:-4], "payload length"),                     # truncated payload
    (GOOD + b"\0\0\0\0", "payload length"),            # trailing garbage
    (b"XXXX" + GOOD[4:], "bad magic"),
    (_patch(GOOD, "<B", 4, 9), "version"),
    (_patch(GOOD, "<B", 5, 77), "kind"),
    (_patch(GOOD, "<H", 6, 0x80), "flag"),
    (_patch(GOOD, "<B", 14, 42), "layout code"),
    (_patch(GOOD, "<B", 15, 2), "dtype"),
    (_patch(GOOD, "<H", 16, 24), "joints"),            # joint count disagrees with the layout
    (_patch(GOOD, "<H", 18, 0), "persons"),
    (_patch(GOOD, "<d", 28, float("nan")), "timestamp"),
    (_patch(GOOD, "<f", 40, float("inf")), "NaN or infinite"),
    (_patch(GOOD, "<f", 40 + 75 * 4, 1.5), "confidence"),
    (_patch(GOOD[:-100], "<I", 36, len(GOOD) - 140), "expected"),   # consistent length, wrong size
    (MAGIC + b"\x01\x02" + b"\0" * 30 + struct.pack("<I", 5) + b"\x80abcd", "control payload"),
])
def test_malformed_messages_are_rejected_with_one_line(bad, reason):
    with pytest.raises(WireFormatError, match=reason) as info:
        decode(bad)
    assert "\n" not in str(info.value)


def test_pickle_is_never_decoded():
    import pickle

    with pytest.raises(WireFormatError):
        decode(pickle.dumps({"joints": np.zeros((25, 3))}))
