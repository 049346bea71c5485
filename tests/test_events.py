"""Events: the JSON Lines schema, file and stdout sinks, the ZeroMQ PUB sink."""

from __future__ import annotations

import io
import json
import time

import zmq

from skelzs.stream.events import Event, JsonLinesSink, SinkSet, ZmqEventSink


def _event(label="waving") -> Event:
    return Event(time.time(), 1, 0, 63, label, 0.8123456, [["waving", 0.8123456], ["falling", 0.1]], 12.345678,
                 stages_ms={"encoder": 5.55555})


def test_json_lines_schema():
    buf = io.StringIO()
    sink = JsonLinesSink(buf)
    sink.emit(_event())
    sink.emit(_event(None))
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    a, b = (json.loads(x) for x in lines)
    for key in ("t", "source", "person", "frame", "label", "score", "topk", "latency_ms"):
        assert key in a
    assert a["label"] == "waving" and a["score"] == 0.8123 and a["topk"][0] == ["waving", 0.8123]
    assert a["latency_ms"] == 12.346 and a["stages_ms"] == {"encoder": 5.556}
    assert b["label"] is None


def test_file_sink_appends_and_flushes(tmp_path):
    path = tmp_path / "out" / "events.jsonl"
    with SinkSet([JsonLinesSink(path)]) as sinks:
        sinks.emit(_event())
        # flushed per event: readable before close
        assert len(path.read_text().splitlines()) == 1
        sinks.emit(Event.control("source_lost", 1, name="camera:0"))
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert rows[1]["kind"] == "source_lost" and rows[1]["info"] == {"name": "camera:0"}


def test_zmq_pub_sink_delivers_json():
    ctx = zmq.Context()
    try:
        sink = ZmqEventSink("tcp://127.0.0.1:0", context=ctx)
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(sink.endpoint)
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:   # PUB/SUB joins late: resend until seen
            sink.emit(_event())
            if sub.poll(100):
                got = json.loads(sub.recv())
        assert got is not None and got["label"] == "waving"
        sub.close()
        sink.close()
    finally:
        ctx.term()


def test_zmq_pub_sink_flushes_queued_events_on_close():
    """Events still queued when a run ends (its last labels, the ``end``) reach a connected
    subscriber: ``close`` waits, boundedly, for the queue instead of dropping it."""
    sub_ctx = zmq.Context()
    sub = sub_ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.RCVHWM, 0)                  # no limit: the test counts what arrives
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.RCVBUF, 4096)               # small kernel buffers on both ends, so that the
    sink = ZmqEventSink("tcp://127.0.0.1:0", flush=5.0)
    sink.sock.setsockopt(zmq.SNDBUF, 4096)         # tail is still in ZeroMQ's queue at close
    try:
        sub.connect(sink.endpoint)
        deadline = time.monotonic() + 5
        while not sub.poll(50) and time.monotonic() < deadline:   # PUB/SUB joins late: wait until joined
            sink.emit(_event())
        while sub.poll(100):
            sub.recv()
        n, before = 5_000, sink.count
        for _ in range(n):
            sink.emit(_event())
        sent = sink.count - before
        sink.close()                               # returns once the queue is delivered
        got = 0
        while sub.poll(500):
            sub.recv()
            got += 1
        assert sent == n and got == n, (sent, got)
    finally:
        sub.close()
        sub_ctx.term()
