"""The real console script's whole stderr (native libraries included) is one line on bad input.

In-process tests capture Python's ``sys.stderr`` only; OpenCV and MediaPipe write to file
descriptor 2 directly, so these run ``skelzs`` as a subprocess and read everything it printed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LABELS = "waving,falling"


def _skelzs(*args, timeout=120) -> subprocess.CompletedProcess:
    code = "from skelzs.stream.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, f"expected one stderr line, got:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_missing_camera_prints_exactly_one_line():
    import cv2

    if cv2.VideoCapture(0).isOpened():
        pytest.skip("a camera is attached")
    line = _one_error_line(_skelzs("live", "--camera", 0, "--labels", LABELS))
    assert line.startswith("error: no camera at index 0") and "--video" in line


def test_missing_checkpoint_fails_before_the_pose_model_starts(shared_data, tmp_path):
    video = shared_data / "videos" / "mmaction2_ntu_sample.avi"
    line = _one_error_line(_skelzs("live", "--video", video, "--labels", LABELS, "--checkpoint", tmp_path / "none"))
    assert line == f"error: checkpoint not found: {tmp_path / 'none'}"


def test_corrupt_skeleton_prints_path_line_reason(tmp_path):
    bad = tmp_path / "S001C001P001R001A001.skeleton"
    bad.write_text("3\n1\n")
    line = _one_error_line(_skelzs("inspect", bad))
    assert line.startswith(f"{bad}:3: ")


def test_unknown_pose_engine_prints_exactly_one_line(shared_data):
    video = shared_data / "videos" / "mmaction2_ntu_sample.avi"
    line = _one_error_line(_skelzs("live", "--video", video, "--labels", LABELS, "--pose-engine", "gpu"))
    assert line == "error: unknown pose engine 'gpu'; choose one of auto, litert, mediapipe"


def test_a_live_run_with_the_litert_engine_prints_no_native_notices(shared_data):
    """LiteRT announces its XNNPACK delegate on fd 2 when the landmark model loads; users see none."""
    video = shared_data / "videos" / "mmaction2_ntu_sample.avi"
    proc = _skelzs("live", "--video", video, "--labels", LABELS, "--no-realtime", "--no-view", "--json",
                   "--pose-engine", "litert", "--pose-threads", "2", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "XNNPACK" not in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["kind"] == "end"
