"""Without a terminal on stdout and without ``--json``, ``skelzs live | replay`` print one plain line
per window decision and, at the end, each person's label spans."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from importlib.resources import files

from skelzs.stream.events import DECISION_LINE, DecisionLog, merge_spans

LABELS = ["drink water", "waving", "brushing teeth", "falling"]
_TOP = re.compile(r"^(.+) (\d\.\d\d)$")
_SPAN = re.compile(r"(\d+\.\d\d)[–-](\d+\.\d\d) s")


def test_merge_spans_joins_consecutive_equal_labels():
    got = merge_spans([(2.1, "a"), (2.4, "a"), (2.7, None), (3.0, "a"), (3.3, "b"), (3.6, "b")])
    assert got == [("a", 2.1, 2.4, 2), (None, 2.7, 2.7, 1), ("a", 3.0, 3.0, 1), ("b", 3.3, 3.6, 2)]
    assert merge_spans([]) == []


def test_decision_log_lines_and_summary_use_stream_time():
    out = io.StringIO()
    log = DecisionLog(out, names={7: "cam"}, origins={7: 100.0})
    for t, label in [(102.1, "waving"), (102.4, "waving"), (102.7, None), (103.0, "waving")]:
        log.record(7, 0, t, label, 0.41 if label else 0.12, [("waving", 0.6), ("falling", 0.3), ("drink water", 0.1)])
    lines = out.getvalue().splitlines()
    assert lines[0] == "   2.10s  person 0  waving  cos 0.41   (waving 0.60, falling 0.30, drink water 0.10)"
    assert lines[2].startswith("   2.70s  person 0  no action  cos 0.12   (waving 0.60")
    summary = log.summary().splitlines()
    assert summary[1:] == ["  person 0",
                           "    waving     2.10-2.40 s, 3.00-3.00 s  (3 windows)",
                           "    no action  2.70-2.70 s  (1 window)"]


def test_replay_without_a_tty_prints_a_line_per_decision_and_a_span_summary(ntu_dir):
    path = ntu_dir / "S001C001P001R001A001.skeleton"
    proc = subprocess.run([sys.executable, "-c", "from skelzs.stream.cli import main; main()", "replay", str(path),
                           "--labels", ",".join(LABELS)], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    windows = int(re.search(r"^frames \d+, windows (\d+),", proc.stdout, re.M).group(1))
    decisions = [m for m in map(DECISION_LINE.match, out) if m]
    assert windows >= 1 and len(decisions) == windows, proc.stdout
    threshold = float(json.loads((files("skelzs.assets") / "default" / "config.json").read_text())["open_set_threshold"])
    times = []
    for m in decisions:
        t, person, label, cosine, top = float(m.group(1)), int(m.group(2)), m.group(3), float(m.group(4)), m.group(5)
        assert person == 0 and label in LABELS + ["no action"] and -1.0 <= cosine <= 1.0
        # the open set: a label line's cosine reaches the default checkpoint's threshold, a
        # no-action line's best cosine may not (hysteresis keeps a label down to threshold - 0.05)
        assert label == "no action" or cosine >= threshold - 0.05 - 1e-6, m.group(0)
        tops = [_TOP.match(x) for x in top.split(", ")]
        assert len(tops) == 3 and all(x and x.group(1) in LABELS and 0 <= float(x.group(2)) <= 1 for x in tops)
        times.append((t, label))
    assert times == sorted(times, key=lambda x: x[0]) and 0 < times[0][0] < 10
    # the summary: person 0, each decided label with spans that hold every decision of that label
    start = out.index("summary (label: time spans in stream seconds)")
    assert out[start + 1] == "  person 0"
    spans: dict[str, list[tuple[float, float]]] = {}
    for line in out[start + 2:]:
        m = re.match(r"^    (.+?)  +(\d.*s)  \((\d+) windows?\)$", line)
        if not m:
            break
        spans[m.group(1)] = [(float(a), float(b)) for a, b in _SPAN.findall(m.group(2))]
    assert set(spans) == {label for _t, label in times}
    for t, label in times:
        assert any(a <= t <= b for a, b in spans[label]), (t, label, spans)
