"""The pipeline end to end on real recordings with a real (untrained, timing-only) PGFA checkpoint:
window accounting, batching across sources, malformed messages on a live socket, and a replay
through separate ``skelzs capture`` and ``skelzs serve`` processes with every frame accounted for."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zmq

from skelzs.stream.events import MemorySink, SinkSet
from skelzs.stream.pipeline import (
    PipelineStats, Recognizer, StreamServer, normalizer_for, run_in_process, window_config_for,
)
from skelzs.stream.sources.replay import ReplayOptions, ReplaySource
from skelzs.stream.transport import FrameReceiver, FrameSender
from skelzs.stream.window import WindowAssembler
from skelzs.stream.wire import WireFrame, encode_frame

LABELS = ["drink water", "handshaking", "brushing teeth", "falling"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained PGFA checkpoint (timing/plumbing only), made once per test session."""
    from skelzs.tools.bench_pipeline import untrained_checkpoint

    folder = tmp_path_factory.getbasetemp() / "untrained_pgfa"
    return folder if (folder / "config.json").exists() else untrained_checkpoint(folder)


@pytest.fixture(scope="module")
def model(checkpoint):
    from skelzs.models.api import load

    return load(checkpoint, backend="torch")


class CountingModel:
    """The real model, recording the batch size of each encoder call."""

    def __init__(self, model):
        self._m = model
        self.batches: list[int] = []

    def __getattr__(self, name):
        return getattr(self._m, name)

    def encode_skeleton(self, windows):
        self.batches.append(len(windows))
        return self._m.encode_skeleton(windows)


def _expected_windows(frames: int, t: int, stride: int) -> int:
    return 1 + (frames - t) // stride if frames >= t else 1


def test_replay_windows_are_all_accounted_for_and_batched(model, ntu_dir, pku_dir):
    cm = CountingModel(model)
    rec = Recognizer(cm, LABELS)
    cfg = window_config_for(model, stride=8)
    asm = WindowAssembler(cfg, normalizer_for(model, live=True))
    files = [ntu_dir / "S001C003P008R002A058.skeleton", ntu_dir / "S001C001P001R001A002.skeleton",
             ntu_dir / "S001C001P001R001A005.skeleton"]
    sources = [ReplaySource(ReplayOptions(f, source_id=i)) for i, f in enumerate(files)]
    mem = MemorySink()
    server = run_in_process(sources, rec, asm, SinkSet([mem]), live=False)
    t = cfg.frames
    expected = {0: 2 * _expected_windows(70, t, 8), 1: _expected_windows(158, t, 8), 2: _expected_windows(54, t, 8)}
    got: dict[int, int] = {}
    for src, _person, _frame in server.window_log:
        got[src] = got.get(src, 0) + 1
    assert got == expected
    ends = [e for e in mem.events if e.kind == "end"]
    assert [e.info["frames_received"] for e in ends] == [140, 158, 54]
    assert all(e.info["messages"] == e.info["frames_received"] for e in ends)
    assert server.stats.counters["malformed"] == 0 and server.stats.counters["gaps"] == 0
    # windows are encoded in batches, not one call each
    assert sum(cm.batches) == sum(expected.values()) and max(cm.batches) > 1
    labels = [e for e in mem.events if e.kind == "label"]
    assert labels and all(e.label in LABELS + [None] for e in labels)
    assert all(len(e.topk) == 3 and e.topk[0][1] >= e.topk[1][1] >= e.topk[2][1] for e in labels)


def test_one_encoder_call_for_the_ready_windows_of_all_sources(model):
    cm = CountingModel(model)
    rec = Recognizer(cm, LABELS)
    cfg = window_config_for(model, stride=8)
    ctx = zmq.Context()
    try:
        a = FrameSender("tcp://127.0.0.1:0", "push", source=1, context=ctx)
        b = FrameSender("tcp://127.0.0.1:0", "push", source=2, context=ctx)
        rx = FrameReceiver([a.endpoint, b.endpoint], "push", context=ctx)
        assert a.wait_ready(5) and b.wait_ready(5)
        server = StreamServer(rx, rec, WindowAssembler(cfg, normalizer_for(model)), SinkSet([MemorySink()]), live=True)
        rng = np.random.default_rng(0)
        pose = rng.normal(size=(25, 3)).astype(np.float32)

        def send(f: int) -> None:
            for tx in (a, b):
                tx.send_frame(WireFrame(tx.source, 0, f, f / 30.0, pose + 0.01 * f, np.ones(25, np.float32)))

        for f in range(cfg.frames - 1):      # everything but the last frame: buffered, nothing ready
            send(f)
        deadline = time.monotonic() + 10
        while server.stats.counters["frames_in"] < 2 * (cfg.frames - 1) and time.monotonic() < deadline:
            server.step(0.1)
        assert server.stats.counters["windows"] == 0
        send(cfg.frames - 1)                  # both sources complete a window; one tick takes both
        time.sleep(0.5)
        server.step(1.0)
        assert server.stats.counters["windows"] == 2
        assert cm.batches == [2]
        for s in (a, b, rx):
            s.close()
    finally:
        ctx.term()


def test_malformed_messages_on_the_frame_socket_are_dropped_and_counted(model):
    rec = Recognizer(model, LABELS)
    cfg = window_config_for(model, stride=8)
    ctx = zmq.Context()
    try:
        raw = ctx.socket(zmq.PUSH)
        raw.setsockopt(zmq.LINGER, 0)
        port = raw.bind_to_random_port("tcp://127.0.0.1")
        rx = FrameReceiver(f"tcp://127.0.0.1:{port}", "push", context=ctx)
        server = StreamServer(rx, rec, WindowAssembler(cfg, normalizer_for(model)), SinkSet([MemorySink()]), live=False)
        pose = np.zeros((25, 3), np.float32)
        pose[:, 1] = np.linspace(0, 1.5, 25)
        for f in range(cfg.frames):
            good = encode_frame(WireFrame(9, 0, f, f / 30.0, pose, np.ones(25, np.float32)))
            raw.send(good)
            if f % 10 == 0:
                raw.send(good[: len(good) // 2])          # truncated
                raw.send(b"\x80\x04junk-that-is-not-a-frame")  # pickle-looking garbage
        deadline = time.monotonic() + 5
        while server.stats.counters["windows"] < 1 and time.monotonic() < deadline:
            server.step(0.1)
        c = server.stats.counters
        n_bad = 2 * len(range(0, cfg.frames, 10))
        assert c["malformed"] == n_bad and c["frames_in"] == cfg.frames and c["windows"] == 1
        raw.close()
        rx.close()
    finally:
        ctx.term()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _skelzs(*args: str) -> list[str]:
    return [sys.executable, "-c", "from skelzs.stream.cli import main; main()", *args]


def test_capture_process_delivers_its_tail_to_a_slow_serve(pku_dir):
    """A capture process that finishes sending before a slow receiver has read everything must still
    deliver every message and each ``end`` (it used to exit with LINGER 0 and drop its queued tail,
    so ``serve --exit-on-end`` could wait forever)."""
    import zmq

    from skelzs.stream.transport import FrameReceiver
    from skelzs.stream.wire import WireControl

    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    pku = pku_dir / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"
    ctx = zmq.Context()
    rx = FrameReceiver(f"tcp://127.0.0.1:{port}", "push", context=ctx, hwm=50)
    got = {"frames": 0, "ends": []}
    done = threading.Event()

    def slow_reader() -> None:            # ~0.3 ms per message: slower than the capture sends
        quiet_since = time.monotonic()
        while len(got["ends"]) < 4 and time.monotonic() - quiet_since < 20 and not done.is_set():
            msg = rx.recv(timeout=0.5)
            if msg is None:
                continue
            quiet_since = time.monotonic()
            if isinstance(msg, WireControl):
                if msg.kind == "end":
                    got["ends"].append(msg)
            else:
                got["frames"] += 1
                time.sleep(0.0003)

    reader = threading.Thread(target=slow_reader, daemon=True)
    reader.start()
    cap = subprocess.Popen(_skelzs("capture", *["--replay", str(pku)] * 4, "--publish", f"tcp://127.0.0.1:{port}",
                                   "--no-realtime", "--source-id", "5", "--wait", "60"),
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = cap.communicate(timeout=180)
        assert cap.returncode == 0, err
        reader.join(60)
        assert len(got["ends"]) == 4, f"{len(got['ends'])} of 4 end messages after {got['frames']} frames"
        assert [e.info["messages"] for e in got["ends"]] == [2566] * 4
        assert got["frames"] == 4 * 2566 and rx.stats.malformed == 0
    finally:
        done.set()
        if cap.poll() is None:
            cap.kill()
        reader.join(5)
        rx.close()
        ctx.term()


@pytest.mark.slow
def test_replay_through_separate_capture_and_serve_processes(checkpoint, ntu_dir, pku_dir, tmp_path):
    """Two capture processes (an NTU two-person file; a PKU-MMD file with its labels) feed one
    serve process over tcp; serve exits after both ends of stream and every frame is accounted for."""
    ports = [_free_port(), _free_port()]
    stats_path = tmp_path / "stats.json"
    events_path = tmp_path / "events.jsonl"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    serve = subprocess.Popen(_skelzs("serve", *sum((["--connect", f"tcp://127.0.0.1:{p}"] for p in ports), []),
                                     "--checkpoint", str(checkpoint), "--labels", ",".join(LABELS),
                                     "--exit-on-end", "--events", str(events_path), "--stats-json", str(stats_path),
                                     "--every-window", "--stride", "32", "--no-view"),
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pku = pku_dir / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"
    caps = [subprocess.Popen(_skelzs("capture", "--replay", str(path), "--publish", f"tcp://127.0.0.1:{port}",
                                     "--no-realtime", "--source-id", str(sid), "--wait", "300"),
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for path, port, sid in ((ntu_dir / "S001C003P008R002A058.skeleton", ports[0], 11), (pku, ports[1], 22))]
    try:
        for p in caps:
            out, err = p.communicate(timeout=300)   # generous: a loaded CI machine loads models slowly
            assert p.returncode == 0, err
        out, err = serve.communicate(timeout=300)
        assert serve.returncode == 0, err
    finally:
        for p in caps + [serve]:
            if p.poll() is None:
                p.kill()
    stats = json.loads(stats_path.read_text())
    src = stats["sources"]
    assert src["11"]["frames_received"] == src["11"]["messages"] == 140 and src["11"]["frames"] == 70
    assert src["22"]["frames_received"] == src["22"]["messages"] == 2566 and src["22"]["frames"] == 2566
    assert stats["counters"]["malformed"] == 0 and stats["counters"]["gaps"] == 0
    rows = [json.loads(line) for line in events_path.read_text().splitlines()]
    windows = [r for r in rows if r["kind"] in ("label", "window")]
    assert {r["source"] for r in windows} == {11, 22}
    assert sum(r["kind"] == "end" for r in rows) == 2
    assert len(windows) == stats["counters"]["windows"]


class SlowModel(CountingModel):
    """The real model behind a slow link: every encoder call takes at least ``delay`` seconds."""

    def __init__(self, model, delay: float):
        super().__init__(model)
        self.delay = delay

    def encode_skeleton(self, windows):
        time.sleep(self.delay)
        return super().encode_skeleton(windows)


def test_live_slow_encoder_skips_stale_windows_and_stays_bounded(model, ntu_dir):
    """A live source (monotonic clock) faster than the encoder: only the newest window per person
    is encoded each tick, the skipped ones are counted, and nothing piles up."""
    slow = SlowModel(model, delay=0.25)
    rec = Recognizer(slow, LABELS)
    cfg = window_config_for(model, stride=2)
    asm = WindowAssembler(cfg, normalizer_for(model))
    src = ReplaySource(ReplayOptions(ntu_dir / "S001C003P008R002A058.skeleton", realtime=True))
    stats = PipelineStats()
    server = run_in_process([src], rec, asm, SinkSet([MemorySink()]), live=True, stats=stats)
    c = stats.counters
    assert c["frames_captured"] == 70 and c["dropped_send"] == 0
    assert c["windows_skipped"] > 0
    # wall-clock timestamps jitter by a tick or so around the 30 fps grid
    assert abs(c["windows"] + c["windows_skipped"] - 2 * (1 + (70 - cfg.frames) // 2)) <= 4
    assert max(slow.batches) <= 2                  # never more than one window per person per call
    assert asm.ready_count() == 0 and server.stats.counters["windows_dropped"] == 0


def test_online_prototype_alignment_runs_in_the_stream(model, ntu_dir):
    rec = Recognizer(model, LABELS, align="online")
    cfg = window_config_for(model, stride=8)
    src = ReplaySource(ReplayOptions(ntu_dir / "S001C001P001R001A002.skeleton"))
    mem = MemorySink()
    server = run_in_process([src], rec, WindowAssembler(cfg, normalizer_for(model)), SinkSet([mem]), live=False)
    n = server.stats.counters["windows"]
    assert n == _expected_windows(158, cfg.frames, 8)
    assert rec.aligner.steps == n and sum(rec.aligner.support()) >= 1
    assert any(e.kind == "label" for e in mem.events)
