"""Recognition events and where they go: JSON Lines (stdout or a file) and a ZeroMQ PUB socket.

One event is one JSON object on one line (jsonlines.org): ``t`` (wall-clock seconds since the
epoch), ``source``, ``person``, ``frame``, ``label`` (``null`` = no action), ``score``, ``topk``
as ``[label, score]`` pairs, ``latency_ms`` (compute latency: the window's last frame reaching
the pipeline → this event) and, in addition, ``kind`` (``"label"``, ``"window"``,
``"source_lost"``, ``"source_recovered"``, ``"end"``) and ``stages_ms`` (per-stage latency).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Protocol

__all__ = ["Event", "EventSink", "JsonLinesSink", "ZmqEventSink", "MemorySink", "SinkSet", "DecisionLog", "DECISION_LINE",
           "merge_spans", "NO_ACTION"]

NO_ACTION = "no action"


@dataclass
class Event:
    t: float
    source: int | str
    person: int | None
    frame: int | None
    label: str | None
    score: float
    topk: list[list[Any]] = field(default_factory=list)
    latency_ms: float | None = None
    kind: str = "label"
    stages_ms: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(float(self.score), 4)
        d["topk"] = [[str(lab), round(float(s), 4)] for lab, s in self.topk]
        if self.latency_ms is not None:
            d["latency_ms"] = round(float(self.latency_ms), 3)
        d["stages_ms"] = {k: round(float(v), 3) for k, v in self.stages_ms.items()}
        if not self.info:
            d.pop("info")
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def control(cls, kind: str, source: int | str, **info: Any) -> "Event":
        """A non-recognition event (source lost/recovered, end of stream)."""
        return cls(time.time(), source, None, None, None, 0.0, [], None, kind, {}, dict(info))


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...
    def close(self) -> None: ...


class JsonLinesSink:
    """Writes one JSON object per line to a stream or a file; flushed per event and on close."""

    def __init__(self, target: IO[str] | str | Path | None = None):
        self._own = isinstance(target, (str, Path))
        if self._own:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] = open(target, "a", encoding="utf-8")
        else:
            self._fh = target if target is not None else sys.stdout
        self._lock = threading.Lock()
        self.count = 0

    def emit(self, event: Event) -> None:
        line = event.to_json()
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()
            self.count += 1

    def close(self) -> None:
        with self._lock:
            try:
                self._fh.flush()
            except ValueError:     # already closed
                pass
            if self._own:
                self._fh.close()


class ZmqEventSink:
    """Publishes each event as one UTF-8 JSON message on a PUB socket (``--publish-events``).
    ``close`` gives events still queued (the last ones, the ``end``) up to ``flush`` seconds to
    reach connected subscribers before the process exits."""

    def __init__(self, endpoint: str, context=None, flush: float = 2.0):
        import zmq

        from skelzs.stream.transport import _bind

        self._own_context = context is None
        self._ctx = context or zmq.Context()
        self.flush = flush
        self.sock = self._ctx.socket(zmq.PUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 10_000)
        self.endpoint = _bind(self.sock, endpoint)
        self._noblock = zmq.NOBLOCK
        self.count = 0

    def emit(self, event: Event) -> None:
        try:
            self.sock.send(event.to_json().encode(), self._noblock)
            self.count += 1
        except Exception:   # a full queue drops the event rather than blocking recognition
            pass

    def close(self) -> None:
        if self.sock.closed:
            return
        self.sock.close(linger=int(self.flush * 1000) if self._own_context else 0)
        if self._own_context:
            self._ctx.term()         # returns once queued events are out or the flush time is up


class MemorySink:
    """Keeps events in a list (live view, tests, classify)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


class SinkSet:
    """Fan-out to several sinks; closing flushes and closes each exactly once."""

    def __init__(self, sinks: list[EventSink] | None = None):
        self.sinks: list[EventSink] = list(sinks or [])
        self.emitted = 0
        self._closed = False

    def add(self, sink: EventSink) -> None:
        self.sinks.append(sink)

    def emit(self, event: Event) -> None:
        self.emitted += 1
        for sink in self.sinks:
            sink.emit(event)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for sink in self.sinks:
            sink.close()

    def __enter__(self) -> "SinkSet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def merge_spans(decisions: Iterable[tuple[float, str | None]]) -> list[tuple[str | None, float, float, int]]:
    """Time-ordered ``(time_s, label)`` decisions of one person → ``(label, start_s, end_s, count)``
    spans: consecutive decisions with the same label (``None`` = no action) make one span, from the
    first decision's time to the last one's."""
    spans: list[list] = []
    for t, label in decisions:
        if spans and spans[-1][0] == label:
            spans[-1][2] = t
            spans[-1][3] += 1
        else:
            spans.append([label, t, t, 1])
    return [tuple(sp) for sp in spans]  # type: ignore[misc]


#: One :class:`DecisionLog` line: time, person (after the source's name when there are several),
#: label or "no action", the best cosine, the top-k probabilities.
DECISION_LINE = re.compile(r"^ *(-?\d+\.\d\d)s  (?:.+  )?person (\d+)  (.+?)  cos (-?\d\.\d\d)   \((.*)\)$")


class DecisionLog:
    """What ``skelzs live | replay`` print on stdout when it is not a terminal and ``--json`` is
    not given: one plain line per window decision as it is made, and a summary of each person's
    label spans at the end.

    ``  3.20s  person 0  drinking water  cos 0.41   (drinking water 0.61, waving 0.20, clapping 0.09)``

    ``cos`` is the best label's cosine, the number the open-set threshold is compared with (a
    "no action" line shows why it is one); the brackets hold the top-3 label probabilities.

    Times are stream seconds since the source's first frame (``origins``: source → first
    timestamp, the window assembler's; a source's first decision is taken as the origin when it
    is missing). With several sources each line names its source (``names``: source → name)."""

    def __init__(self, out: IO[str] | None = None, names: dict | None = None, origins: dict | None = None):
        self.out = out if out is not None else sys.stdout
        self.names = dict(names or {})
        self.origins = origins if origins is not None else {}
        self._origin: dict = {}
        self.rows: list[tuple[Any, Any, float, str | None, float, list]] = []
        enc = (getattr(self.out, "encoding", None) or "").lower().replace("-", "")
        self.dash = "\u2013" if enc.startswith("utf") else "-"

    def _who(self, source, person) -> str:
        who = f"person {person}"
        return f"{self.names.get(source, source)}  {who}" if len(self.names) > 1 else who

    def record(self, source, person, timestamp: float, label: str | None, cosine: float, topk) -> None:
        origin = self._origin.get(source)
        if origin is None:
            origin = self._origin[source] = float(self.origins.get(source, timestamp))
        t = float(timestamp) - origin
        topk = [(str(lab), float(p)) for lab, p in topk]
        self.rows.append((source, person, t, label, float(cosine), topk))
        top = ", ".join(f"{lab} {p:.2f}" for lab, p in topk)
        self.out.write(f"{t:7.2f}s  {self._who(source, person)}  {label or NO_ACTION}  cos {cosine:.2f}   ({top})\n")
        self.out.flush()

    def on_decision(self, window, decision) -> None:
        """``Recognizer.on_decision``: one window's decision."""
        self.record(window.source, window.person, window.timestamp, decision.label, decision.cosine, decision.topk)

    def summary(self) -> str:
        """Per person, each label (``no action`` included) with its time spans, in order of first
        appearance: ``    drinking water   2.13–5.33 s, 7.00–8.10 s  (12 windows)``."""
        if not self.rows:
            return "summary: no decisions (no window was filled)\n"
        people: dict[tuple, list[tuple[float, str | None]]] = {}
        for source, person, t, label, _score, _topk in self.rows:
            people.setdefault((source, person), []).append((t, label))
        lines = ["summary (label: time spans in stream seconds)"]
        for (source, person), decisions in people.items():
            decisions.sort(key=lambda d: d[0])
            lines.append(f"  {self._who(source, person)}")
            by_label: dict[str | None, list] = {}
            for label, start, end, n in merge_spans(decisions):
                by_label.setdefault(label, []).append((start, end, n))
            width = max(len(lab or NO_ACTION) for lab in by_label)
            for label, spans in by_label.items():
                text = ", ".join(f"{a:.2f}{self.dash}{b:.2f} s" for a, b, _n in spans)
                n = sum(k for _a, _b, k in spans)
                lines.append(f"    {(label or NO_ACTION):<{width}}  {text}  ({n} window{'s' if n != 1 else ''})")
        return "\n".join(lines) + "\n"

    def print_summary(self) -> None:
        self.out.write(self.summary())
        self.out.flush()
