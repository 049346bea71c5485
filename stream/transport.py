"""ZeroMQ ends of the frame stream: :class:`FrameSender` (capture side, binds) and
:class:`FrameReceiver` (window side, connects to one or more senders).

Two patterns (zguide ch. 2; anchors §4.6):

* ``"push"`` — PUSH → PULL. Nothing is lost: a blocking send waits while the receiver is
  behind (replay). A live source sends non-blocking instead and counts a frame the receiver
  has no room for as dropped (``FrameSender.dropped``).
* ``"pub"`` — XPUB → SUB. Many receivers may watch one feed; a full queue drops at the
  publisher. The receiver counts the frames it never saw from gaps in the frame index.

Both ends set ``LINGER = 0`` (a closing socket never blocks on unsent data) and every wait has a
timeout. The one exception is the end of a capture: ``FrameSender.close(flush=s)`` gives the
messages still queued (the stream's tail and its ``end``) up to ``s`` seconds to reach the
receiver before the process exits — with LINGER 0 a replay that finished faster than the network
delivered it lost its last frames, and ``serve --exit-on-end`` waited for an ``end`` that never came. Readiness handshake (no slow-joiner loss): a PUSH socket becomes writable only once a
receiver has connected, and an XPUB socket receives the subscriber's subscription message;
:meth:`FrameSender.wait_ready` waits for that before the first frame. Each sender then announces
itself with a ``hello`` control message and ends with ``end`` (frames sent), so a replay through
separate processes can account for every frame.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Iterable

import zmq

from skelzs.stream.errors import SourceError, WireFormatError
from skelzs.stream.wire import (
    WireControl, WireFrame, decode, encode_control, encode_frame,
)

__all__ = ["PATTERNS", "FrameSender", "FrameReceiver", "ReceiverStats", "connect_endpoint"]

log = logging.getLogger(__name__)

PATTERNS = ("push", "pub")
DEFAULT_HWM = 1000


def connect_endpoint(endpoint: str) -> str:
    """A bind address such as ``tcp://*:5555`` turned into one a local peer can connect to."""
    return endpoint.replace("tcp://*:", "tcp://127.0.0.1:").replace("tcp://0.0.0.0:", "tcp://127.0.0.1:")


def _bind(sock: zmq.Socket, endpoint: str) -> str:
    """Bind and return the actual endpoint; ``tcp://HOST:0`` binds a random port."""
    try:
        if endpoint.startswith("tcp://") and endpoint.endswith(":0"):
            host = endpoint[len("tcp://"):-2]
            port = sock.bind_to_random_port(f"tcp://{host}")
            return f"tcp://{host}:{port}"
        sock.bind(endpoint)
        return sock.getsockopt_string(zmq.LAST_ENDPOINT) or endpoint
    except zmq.ZMQError as err:
        raise SourceError(f"cannot bind {endpoint}: {err}") from None


class FrameSender:
    """The capture end: binds ``endpoint`` and sends encoded frames and control messages."""

    def __init__(self, endpoint: str, pattern: str = "push", *, source: int = 0,
                 context: zmq.Context | None = None, hwm: int = DEFAULT_HWM):
        if pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
        self.pattern = pattern
        self.source = source
        self._own_context = context is None      # then close(flush=...) can wait on it
        self._ctx = context or zmq.Context()
        self.sock = self._ctx.socket(zmq.PUSH if pattern == "push" else zmq.XPUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        if pattern == "pub":
            self.sock.setsockopt(zmq.XPUB_VERBOSE, 1)
        self.endpoint = _bind(self.sock, endpoint)
        self.sent = 0
        self.dropped = 0
        self.ready = False

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Block until a receiver is connected (PUSH) or subscribed (XPUB), at most ``timeout`` s."""
        if self.ready:
            return True
        poller = zmq.Poller()
        flag = zmq.POLLOUT if self.pattern == "push" else zmq.POLLIN
        poller.register(self.sock, flag)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if dict(poller.poll(max(1, int(min(left, 0.1) * 1000)))).get(self.sock):
                if self.pattern == "pub":
                    msg = self.sock.recv(zmq.NOBLOCK)
                    if not msg or msg[0] != 1:   # an unsubscribe: keep waiting
                        continue
                self.ready = True
                return True
        return False

    def _send(self, data: bytes, block: bool, timeout: float) -> bool:
        if self.pattern == "pub":
            self._drain_subscriptions()
        if not block:
            try:
                self.sock.send(data, zmq.NOBLOCK)
                return True
            except zmq.Again:
                return False
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.send(data, zmq.NOBLOCK)
                return True
            except zmq.Again:
                if time.monotonic() >= deadline:
                    return False
                self.sock.poll(50, zmq.POLLOUT)

    def _drain_subscriptions(self) -> None:
        while self.sock.poll(0, zmq.POLLIN):
            self.sock.recv(zmq.NOBLOCK)

    def send_frame(self, frame: WireFrame, *, block: bool = True, timeout: float = 10.0) -> bool:
        """Send one frame; a non-blocking send that finds no room counts a drop and returns False."""
        ok = self._send(encode_frame(frame), block, timeout)
        if ok:
            self.sent += 1
        else:
            self.dropped += 1
        return ok

    def send_control(self, kind: str, *, frame: int = 0, timestamp: float | None = None,
                     timeout: float = 5.0, **info) -> bool:
        ctl = WireControl(kind, self.source, frame, time.monotonic() if timestamp is None else timestamp, info)
        return self._send(encode_control(ctl), True, timeout)

    def close(self, flush: float = 0.0) -> None:
        """Close; with ``flush`` > 0 wait up to that many seconds for queued messages to be delivered
        (only when this sender owns its ZeroMQ context; a shared one is the caller's to terminate)."""
        if self.sock.closed:
            return
        if flush > 0 and self._own_context:
            self.sock.close(linger=int(flush * 1000))
            self._ctx.term()          # returns once the queue is delivered or the linger expired
            return
        self.sock.close(linger=0)
        if self._own_context:
            self._ctx.term()

    def __enter__(self) -> "FrameSender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class ReceiverStats:
    """Counters of a :class:`FrameReceiver` (per source where it matters)."""

    received: int = 0                 # valid frame messages
    malformed: int = 0                # dropped: failed validation
    gaps: int = 0                     # frames never seen (frame-index jumps), per all sources
    controls: int = 0
    frames_by_source: dict[int, int] = field(default_factory=dict)
    last_error: str = ""


class FrameReceiver:
    """The window end: connects to every endpoint, validates each message, counts the bad ones."""

    def __init__(self, endpoints: str | Iterable[str], pattern: str = "push", *,
                 context: zmq.Context | None = None, hwm: int = DEFAULT_HWM, bind: bool = False):
        if pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
        self.pattern = pattern
        self._ctx = context or zmq.Context.instance()
        self.sock = self._ctx.socket(zmq.PULL if pattern == "push" else zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, hwm)
        if pattern == "pub":
            self.sock.setsockopt(zmq.SUBSCRIBE, b"")
        self.endpoints = [endpoints] if isinstance(endpoints, str) else list(endpoints)
        for ep in self.endpoints:
            try:
                if bind:
                    _bind(self.sock, ep)
                else:
                    self.sock.connect(connect_endpoint(ep))
            except zmq.ZMQError as err:
                raise SourceError(f"cannot connect to {ep}: {err}") from None
        self.stats = ReceiverStats()
        self._last_frame: dict[int, int] = {}

    def poll(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for a message."""
        return bool(self.sock.poll(max(0, int(timeout * 1000)), zmq.POLLIN))

    def _account(self, msg: WireFrame | WireControl) -> None:
        if isinstance(msg, WireFrame):
            self.stats.received += 1
            self.stats.frames_by_source[msg.source] = self.stats.frames_by_source.get(msg.source, 0) + 1
        else:
            self.stats.controls += 1
        if isinstance(msg, WireFrame) or msg.kind == "heartbeat":
            last = self._last_frame.get(msg.source)
            if last is not None and msg.frame > last + 1:
                self.stats.gaps += msg.frame - last - 1
            if last is None or msg.frame > last:
                self._last_frame[msg.source] = msg.frame
        elif msg.kind == "hello":
            self._last_frame.pop(msg.source, None)

    def recv(self, timeout: float = 1.0) -> WireFrame | WireControl | None:
        """The next valid message, or None after ``timeout`` s (malformed ones are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.poll(max(0.0, deadline - time.monotonic())):
                return None
            msg = self._recv_one()
            if msg is not None:
                return msg
            if time.monotonic() >= deadline:
                return None

    def _recv_one(self) -> WireFrame | WireControl | None:
        try:
            data = self.sock.recv(zmq.NOBLOCK, copy=True)
        except zmq.Again:
            return None
        try:
            msg = decode(data)
        except WireFormatError as err:
            self.stats.malformed += 1
            self.stats.last_error = str(err)
            log.debug("dropped malformed message: %s", err)
            return None
        self._account(msg)
        return msg

    def drain(self, max_messages: int = 100_000) -> list[WireFrame | WireControl]:
        """Every message waiting now (latest-wins callers keep what they need of it)."""
        out: list[WireFrame | WireControl] = []
        while len(out) < max_messages and self.sock.poll(0, zmq.POLLIN):
            msg = self._recv_one()
            if msg is not None:
                out.append(msg)
        return out

    def close(self) -> None:
        self.sock.close(linger=0)

    def __enter__(self) -> "FrameReceiver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
