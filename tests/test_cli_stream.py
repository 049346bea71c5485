"""``skelzs live | replay | classify | capture | serve`` as a user runs them: one-line errors,
JSON Lines output, an annotated video, and a clean exit (events flushed) on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LABELS = "drink water,handshaking,brushing teeth,falling"


@pytest.fixture(scope="module")
def cli():
    from skelzs.stream import cli as cli_mod

    if not getattr(cli_mod, "_stream_test_registered", False):
        cli_mod._register_commands()
        cli_mod._stream_test_registered = True
    return lambda *argv: cli_mod.run_app(cli_mod.app, [str(a) for a in argv])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained PGFA checkpoint (timing/plumbing only), made once per test session."""
    from skelzs.tools.bench_pipeline import untrained_checkpoint

    folder = tmp_path_factory.getbasetemp() / "untrained_pgfa"
    return folder if (folder / "config.json").exists() else untrained_checkpoint(folder)


def _err_line(capsys) -> str:
    """The one error line (log lines may precede it; no traceback may follow)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and err.rstrip().endswith(lines[0]), err
    return lines[0]


def test_live_without_a_camera_is_one_line_suggesting_video(cli, capsys):
    import cv2

    if cv2.VideoCapture(0).isOpened():
        pytest.skip("a camera is attached")
    assert cli("live", "--camera", 0, "--labels", LABELS) == 2
    line = _err_line(capsys)
    assert line.startswith("error:") and "--video" in line


def test_live_with_a_missing_video_is_one_line(cli, capsys, tmp_path):
    assert cli("live", "--video", tmp_path / "nope.mp4", "--labels", LABELS) == 2
    assert "video not found" in _err_line(capsys)


def test_missing_checkpoint_is_one_line(cli, capsys, tmp_path, ntu_dir):
    assert cli("classify", ntu_dir / "S001C001P001R001A001.skeleton", "--labels", LABELS,
               "--checkpoint", tmp_path / "none") == 2
    assert "checkpoint not found" in _err_line(capsys)


def test_no_labels_is_one_line(cli, capsys, ntu_dir, tmp_path):
    # labels are checked before anything heavy loads (here not even the checkpoint)
    assert cli("replay", ntu_dir / "S001C001P001R001A001.skeleton", "--checkpoint", tmp_path, "--json") == 2
    assert "no labels" in _err_line(capsys)


def test_classify_json_one_answer_per_file_and_per_pku_segment(cli, capsys, checkpoint, ntu_dir, pku_dir):
    files = [ntu_dir / "S001C001P001R001A001.skeleton", ntu_dir / "S001C003P008R002A058.skeleton"]
    assert cli("classify", *files, "--labels", LABELS, "--checkpoint", checkpoint, "--json", "--top-k", 2) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [Path(r["path"]).name for r in rows] == [f.name for f in files]
    assert [r["action"] for r in rows] == [0, 57]
    for r in rows:
        assert r["label"] in LABELS.split(",") and len(r["topk"]) == 2
        assert r["topk"][0][0] == r["label"] and r["topk"][0][1] >= r["topk"][1][1]
    pku = pku_dir / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"
    labels = pku_dir / "Label" / "Train_Label_PKU_final" / "0160-L.txt"
    assert cli("classify", pku, "--pku-labels", labels, "--labels", LABELS, "--checkpoint", checkpoint, "--json") == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 16 and all(r["end"] >= r["start"] for r in rows)


def test_replay_json_lines(cli, capsys, checkpoint, ntu_dir, tmp_path):
    events = tmp_path / "ev.jsonl"
    assert cli("replay", ntu_dir / "S001C001P001R001A002.skeleton", ntu_dir / "S001C001P001R001A005.skeleton",
               "--labels", LABELS, "--checkpoint", checkpoint, "--json", "--events", events) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rows == [json.loads(x) for x in events.read_text().splitlines()]
    for r in rows:
        for key in ("t", "source", "person", "frame", "label", "score", "topk", "latency_ms"):
            assert key in r
    ends = [r for r in rows if r["kind"] == "end"]
    assert [e["info"]["frames_received"] for e in ends] == [158, 54]
    assert {r["source"] for r in rows if r["kind"] == "label"} == {0, 1}


@pytest.mark.slow
def test_live_video_writes_events_and_an_annotated_video(cli, capsys, checkpoint, shared_data, tmp_path):
    import cv2

    out = tmp_path / "annotated.mp4"
    clip = shared_data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"
    assert cli("live", "--video", clip, "--no-realtime", "--mirrored", "--labels", LABELS, "--checkpoint", checkpoint,
               "--json", "--every-window", "--output", out) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    windows = [r for r in rows if r["kind"] in ("label", "window")]
    assert windows and all(r["person"] == 0 for r in windows)
    assert rows[-1]["kind"] == "end" and rows[-1]["info"]["frames"] == 103
    cap = cv2.VideoCapture(str(out))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, img = cap.read()
    cap.release()
    assert ok and img.shape == (1080, 1920, 3) and n == 103


@pytest.mark.slow
def test_sigint_ends_a_live_run_cleanly_with_events_flushed(checkpoint, shared_data, tmp_path):
    events = tmp_path / "events.jsonl"
    video = shared_data / "videos" / "mmaction2_test_video_structuralize_basketball.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from skelzs.stream.cli import main; main()", "live", "--video", str(video),
         "--labels", LABELS, "--checkpoint", str(checkpoint), "--every-window", "--events", str(events), "--no-view"],
        env=dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if events.exists() and events.read_text().count("\n") >= 1:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    text = events.read_text()
    assert text.endswith("\n")
    rows = [json.loads(x) for x in text.splitlines()]
    assert sum(r["kind"] in ("label", "window") for r in rows) >= 1
    assert rows[-1]["kind"] == "end" and rows[-1]["info"]["frames"] < 300   # stopped early


def test_show_without_a_display_is_one_line(cli, capsys, shared_data, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    clip = shared_data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"
    assert cli("live", "--video", clip, "--show", "--labels", LABELS) == 2
    assert "--output" in _err_line(capsys)


def test_live_view_renders_people_latency_and_drops():
    from rich.console import Console

    from skelzs.stream.live_view import render_status
    from skelzs.stream.pipeline import PipelineStats

    stats = PipelineStats()
    stats.sources[0] = {"name": "camera:0"}
    stats.current[(0, 1)] = {"label": "waving", "score": 0.8, "topk": [["waving", 0.8], ["falling", 0.15]]}
    stats.add("pose", 21.0)
    stats.add("compute", 30.0)
    stats.counters["dropped_capture"] = 7
    con = Console(record=True, width=140)
    con.print(render_status(stats))
    text = con.export_text()
    assert "camera:0/1" in text and "waving" in text and "falling" in text
    assert "pose" in text and "21.0" in text and "capture 7" in text


def test_capture_with_nobody_connecting_is_one_line(cli, capsys, ntu_dir):
    assert cli("capture", "--replay", ntu_dir / "S001C001P001R001A005.skeleton", "--publish", "tcp://127.0.0.1:0",
               "--wait", "0.5", "--no-realtime") == 2
    assert "no receiver connected" in _err_line(capsys)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_first_signal_asks_to_stop_second_interrupts(signum):
    from skelzs.stream.cli_stream import _graceful_stop

    before = signal.getsignal(signum)
    with _graceful_stop() as stop:
        os.kill(os.getpid(), signum)
        deadline = time.monotonic() + 2
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
            time.sleep(1)
    assert signal.getsignal(signum) == before      # the previous handler is back


def test_classify_align_batch_and_its_bad_options(cli, capsys, checkpoint, ntu_dir):
    files = sorted(ntu_dir.glob("*.skeleton"))[:4]
    assert cli("classify", *files, "--labels", LABELS, "--checkpoint", checkpoint, "--json", "--align", "batch") == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 4 and all(r["label"] in LABELS.split(",") for r in rows)
    for extra, words in ((["--align", "online"], "expected none or batch"),
                         (["--support-factor", "0.5"], "applies to --align batch"),
                         (["--align", "batch", "--support-factor", "1.5"], "expected a share in (0, 1]")):
        assert cli("classify", *files, "--labels", LABELS, "--checkpoint", checkpoint, *extra) == 2
        assert words in _err_line(capsys), extra
