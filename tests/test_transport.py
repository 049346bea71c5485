"""ZeroMQ transport on real sockets (tcp://127.0.0.1 random ports, every receive with a timeout):
handshake, nothing lost over PUSH/PULL, latest-wins drops counted, malformed messages dropped."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import zmq

from skelzs.stream.transport import FrameReceiver, FrameSender
from skelzs.stream.wire import WireControl, WireFrame, encode_frame


@pytest.fixture
def context():
    ctx = zmq.Context()
    opened = []
    real_socket = ctx.socket

    def socket(*args, **kwargs):   # every socket is closed before termination, even on failure
        s = real_socket(*args, **kwargs)
        opened.append(s)
        return s

    ctx.socket = socket
    yield ctx
    for s in opened:
        s.close(linger=0)
    t = threading.Thread(target=ctx.term, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "context termination hung (a socket without LINGER=0?)"


def _frame(i: int, source: int = 1, person: int = 0) -> WireFrame:
    return WireFrame(source, person, i, i / 30.0, np.full((25, 3), i, np.float32), np.ones(25, np.float32))


def _collect(rx: FrameReceiver, n: int, timeout: float = 5.0) -> list:
    out, deadline = [], time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        msg = rx.recv(timeout=0.2)
        if msg is not None:
            out.append(msg)
    return out


@pytest.mark.parametrize("pattern", ["push", "pub"])
def test_handshake_then_nothing_lost(context, pattern):
    tx = FrameSender("tcp://127.0.0.1:0", pattern, source=1, context=context)
    assert not tx.wait_ready(0.2), "ready before anyone connected"
    rx = FrameReceiver(tx.endpoint, pattern, context=context)
    assert tx.wait_ready(5.0)
    tx.send_control("hello", name="test", fps=30.0)
    for i in range(500):
        assert tx.send_frame(_frame(i))
    tx.send_control("end", frames=500)
    msgs = _collect(rx, 502)
    assert isinstance(msgs[0], WireControl) and msgs[0].kind == "hello"
    assert [m.frame for m in msgs[1:-1]] == list(range(500))
    assert msgs[-1].kind == "end" and msgs[-1].info["frames"] == 500
    assert rx.stats.received == 500 and rx.stats.gaps == 0 and rx.stats.malformed == 0
    tx.close()
    rx.close()


def test_fan_in_from_two_senders(context):
    a = FrameSender("tcp://127.0.0.1:0", "push", source=1, context=context)
    b = FrameSender("tcp://127.0.0.1:0", "push", source=2, context=context)
    rx = FrameReceiver([a.endpoint, b.endpoint], "push", context=context)
    assert a.wait_ready(5) and b.wait_ready(5)
    for i in range(100):
        a.send_frame(_frame(i, 1))
        b.send_frame(_frame(i, 2))
    msgs = _collect(rx, 200)
    assert rx.stats.frames_by_source == {1: 100, 2: 100}
    for s in (1, 2):
        assert [m.frame for m in msgs if m.source == s] == list(range(100))
    for s in (a, b, rx):
        s.close()


def test_malformed_and_truncated_messages_are_dropped_and_counted(context):
    raw = context.socket(zmq.PUSH)
    raw.setsockopt(zmq.LINGER, 0)
    port = raw.bind_to_random_port("tcp://127.0.0.1")
    rx = FrameReceiver(f"tcp://127.0.0.1:{port}", "push", context=context)
    good = encode_frame(_frame(0))
    import pickle

    bad = [b"", good[:20], good[:-8], b"JUNK" + good[4:], pickle.dumps("x" * 100), good + b"\0"]
    for b in bad:
        raw.send(b)
    raw.send(good)
    msgs = _collect(rx, 1)
    time.sleep(0.1)
    msgs += rx.drain()
    assert len(msgs) == 1 and msgs[0].frame == 0
    assert rx.stats.malformed == len(bad) and rx.stats.received == 1
    assert rx.stats.last_error and "\n" not in rx.stats.last_error
    raw.close()
    rx.close()


def test_live_push_drops_when_consumer_is_slow_and_memory_stays_bounded(context):
    tx = FrameSender("tcp://127.0.0.1:0", "push", source=1, context=context, hwm=20)
    rx = FrameReceiver(tx.endpoint, "push", context=context, hwm=20)
    assert tx.wait_ready(5)
    n = 100_000                      # 44 MB: more than the queues and kernel buffers hold
    frame = _frame(0)
    for i in range(n):               # a live source never blocks: no room -> dropped, counted
        frame.frame = i
        tx.send_frame(frame, block=False)
    assert tx.dropped > 0 and tx.sent + tx.dropped == n
    got = _collect(rx, tx.sent, timeout=5)
    # The queues hold at most the high-water marks plus the kernel socket buffers.
    assert len(got) == tx.sent and len(got) < n / 2
    tx.close()
    rx.close()


def test_pub_sub_slow_subscriber_drops_are_counted_from_frame_gaps(context):
    tx = FrameSender("tcp://127.0.0.1:0", "pub", source=1, context=context, hwm=10)
    rx = FrameReceiver(tx.endpoint, "pub", context=context, hwm=10)
    assert tx.wait_ready(5)
    n = 100_000                                # 44 MB: more than the queues and kernel buffers hold
    frame = _frame(0)
    for i in range(n):
        frame.frame = i
        tx.send_frame(frame, block=False)
    got = _collect(rx, n, timeout=1.0)       # what got through the burst
    deadline = time.monotonic() + 5
    while (not got or got[-1].frame != n) and time.monotonic() < deadline:
        tx.send_frame(_frame(n), block=False)   # a last frame once the queues are empty: the gap shows
        got += _collect(rx, 1, timeout=0.2)
    assert got[-1].frame == n
    assert got[-1].frame == n and rx.stats.received == len(got) < n / 2
    assert rx.stats.received + rx.stats.gaps == n + 1 - got[0].frame
    tx.close()
    rx.close()


def test_receive_times_out_instead_of_hanging(context):
    rx = FrameReceiver("tcp://127.0.0.1:1", "push", context=context)
    t = time.monotonic()
    assert rx.recv(timeout=0.2) is None
    assert time.monotonic() - t < 2
    rx.close()


def test_close_with_unsent_messages_does_not_hang(context):
    tx = FrameSender("tcp://127.0.0.1:0", "push", source=1, context=context)
    peer = context.socket(zmq.PULL)
    peer.setsockopt(zmq.LINGER, 0)
    peer.setsockopt(zmq.RCVHWM, 1)
    peer.connect(tx.endpoint)
    assert tx.wait_ready(5)
    for i in range(2000):
        tx.send_frame(_frame(i), block=False)
    tx.close()
    peer.close()   # the context fixture checks that termination returns
