"""Native MediaPipe/LiteRT notices on fd 2 are dropped by the console script; real lines are not.

The filter is tried on a real pipe in a fresh interpreter (``os.write(2, …)`` as C++ code writes),
and ``skelzs live`` is run as a user runs it, on the NTU video whose run printed these notices.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skelzs.stream.events import DECISION_LINE
from skelzs.stream.native_log import LineFilter, is_noise, verbose_requested

# what a `skelzs live --video … --mirrored` run printed before the filter (ids and pointers vary)
NOISE = [
    "WARNING: Logging before InitGoogle() is written to STDERR",
    "W0000 00:00:1796506917.071977   16236 inference_runner_litert.cc:1433] Input tensor memory is not aligned "
    "according to LiteRt's memory alignment requirements. Reallocating memory and copying data.",
    "W0000 00:00:1796506917.114642   16236 landmark_projection_calculator.cc:81] Using NORM_RECT without "
    "IMAGE_DIMENSIONS is only supported for the square ROI.",
    "I0000 00:00:1733412345.123456   16236 gl_context.cc:369] GL version: 3.2",
    "INFO: [accelerator_registry.cc:43] DestroyAccelerator: ptr=0x7efc4c0035d0, name=CpuAccelerator",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "Created TensorFlow Lite XNNPACK delegate for CPU.",
    "WARNING: [interpreter_builder.cc:142] Feedback manager requires a model with a single signature",
]
DEL_NOISE = [
    "Exception ignored in: <function PoseLandmarker.__del__ at 0x7f00deadbeef>",
    "Traceback (most recent call last):",
    '  File "/x/mediapipe/tasks/python/vision/pose_landmarker.py", line 611, in __del__',
    "    self.close()",
    "TypeError: 'NoneType' object is not callable",
]
REAL = [
    "E0000 00:00:1796506917.2 16236 calculator_graph.cc:887] INTERNAL: real native error",
    "F0000 00:00:1796506917.3 16236 tensor.cc:12] Check failed: fatal native error",
    "error: a real one-line error",
    "Exception ignored in: <function Other.__del__ at 0x1>",
    "Traceback (most recent call last):",
    "ValueError: a real exception in a __del__",
]


def test_noise_patterns_drop_native_notices_and_keep_errors():
    assert all(is_noise(line) for line in NOISE)
    assert not any(is_noise(line) for line in REAL)


def test_line_filter_joins_partial_writes_and_holds_del_blocks():
    f = LineFilter()
    out = b""
    data = "\n".join(NOISE + DEL_NOISE + REAL).encode() + b"\n"
    for i in range(0, len(data), 7):             # lines arriving in pieces, as from a pipe
        out += f.feed(data[i:i + 7])
    out += f.flush()
    assert out.decode().splitlines() == REAL
    assert f.feed(b"no newline yet") == b"" and f.flush() == b"no newline yet"


def test_verbose_is_read_from_the_root_options_only():
    assert verbose_requested(["-v", "live"]) and verbose_requested(["--verbose", "replay", "x"])
    assert not verbose_requested(["live", "-v"]) and not verbose_requested([])


_CHILD = textwrap.dedent("""
    import os, sys
    from skelzs.stream.native_log import install
    print("installed" if install(verbose=sys.argv[1] == "verbose") else "not installed", flush=True)
    os.write(2, ({lines!r} + "\\n").encode())      # as C++ code writes: fd 2, not sys.stderr
    print("python-level stderr line", file=sys.stderr)
    if sys.argv[2] == "abort":
        os.write(2, b"F0000 00:00:1.0 1 check.cc:1] Check failed: before abort\\n")
        os.abort()
""")


def _child(mode: str, end: str = "exit") -> subprocess.CompletedProcess:
    code = _CHILD.format(lines="\n".join(NOISE + DEL_NOISE + REAL))
    return subprocess.run([sys.executable, "-c", code, mode, end], capture_output=True, text=True, timeout=60)


def test_filter_on_a_real_pipe_forwards_only_real_lines():
    proc = _child("quiet")
    assert proc.returncode == 0 and proc.stdout == "installed\n"
    assert proc.stderr.splitlines() == REAL + ["python-level stderr line"]


def test_verbose_forwards_everything():
    proc = _child("verbose")
    assert proc.returncode == 0 and proc.stdout == "not installed\n"
    assert proc.stderr.splitlines() == NOISE + DEL_NOISE + REAL + ["python-level stderr line"]


def test_a_fatal_line_before_abort_is_not_lost():
    """glog's F lines come just before abort(); the forked filter still writes them."""
    proc = _child("quiet", "abort")
    assert proc.returncode < 0
    lines = proc.stderr.splitlines()
    assert lines[-1] == "F0000 00:00:1.0 1 check.cc:1] Check failed: before abort"
    assert not any(is_noise(x) for x in lines)


_NATIVE_LINE = re.compile(r"^(?:[IW]\d{4} |WARNING: Logging before InitGoogle|INFO: |WARNING: \[|"
                          r"Created TensorFlow Lite|Exception ignored in)", re.M)


def test_only_a_program_run_installs_the_filter():
    """``main(argv)`` called in-process (tests, scripts) leaves fd 2 alone; the console script
    (``argv`` None) installs the filter, and ``-v`` on its command line does not."""
    code = textwrap.dedent("""
        import sys
        from skelzs.stream import native_log
        print(native_log.install_for_program(["eval-real"]), flush=True)
        print(native_log.install_for_program(None), flush=True)
    """)
    for argv, expected in ((["x", "live"], ["False", "True"]), (["x", "-v", "live"], ["False", "False"])):
        proc = subprocess.run([sys.executable, "-c", code, *argv[1:]], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == expected, (argv, proc.stdout, proc.stderr)


def _console_script(name: str = "skelzs") -> list[str]:
    exe = Path(sys.executable).with_name(name)
    module = {"skelzs": "skelzs.stream.cli", "skelzs-train": "skelzs.train.cli"}[name]
    return [str(exe)] if exe.exists() else [sys.executable, "-c", f"from {module} import main; main()"]


@pytest.mark.slow
def test_live_run_on_the_ntu_video_prints_no_native_lines(shared_data):
    """The command from issue 12, stdout and stderr pipes: stderr keeps the one summary log
    record, stdout has one decision line per window."""
    video = shared_data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"
    labels = ["waving", "drinking water"]
    proc = subprocess.run(_console_script() + ["live", "--video", str(video), "--mirrored", "--labels", ",".join(labels)],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert not _NATIVE_LINE.search(proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    windows = int(re.search(r"processed \d+ frames, (\d+) windows", proc.stderr).group(1))
    decisions = [m for m in map(DECISION_LINE.match, proc.stdout.splitlines()) if m]
    assert windows >= 1 and len(decisions) == windows, proc.stdout
    assert all(m.group(3) in labels + ["no action"] for m in decisions)
    assert "summary" in proc.stdout and "person 0" in proc.stdout


@pytest.mark.slow
def test_eval_real_on_the_mediapipe_clip_prints_no_native_lines(shared_data, tmp_path):
    """``skelzs-train eval-real`` runs MediaPipe on the NTU clip too: the same filter applies."""
    out = tmp_path / "eval.json"
    proc = subprocess.run(_console_script("skelzs-train") + [
        "eval-real", "--data", str(shared_data), "--json", str(out),
        "--skip", "pku", "--skip", "utkinect", "--skip", "msr", "--skip", "ntu"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert not _NATIVE_LINE.search(proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "MediaPipe NTU clip" in proc.stdout and out.is_file()
