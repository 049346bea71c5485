"""Capture sources: one-line errors for a missing camera/video/recording, latest-wins grabbing,
reconnection with backoff, paced and unpaced video, replay of real NTU/PKU files, Kinect."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from skelzs.stream.errors import SkelzsError, SourceError

cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> Path:
    return shared_data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"


def _one_line(err: BaseException) -> str:
    msg = str(err)
    assert msg and "\n" not in msg
    return msg


def test_missing_camera_is_one_line_suggesting_video():
    from skelzs.stream.sources.camera import CameraOptions, CameraSource

    if cv2.VideoCapture(0).isOpened():
        pytest.skip("a camera is attached to this machine")
    with pytest.raises(SourceError) as info:
        CameraSource.create_from_options(CameraOptions(0))
    assert "--video" in _one_line(info.value) and "camera" in str(info.value)


def test_unreachable_url_is_one_line():
    from skelzs.stream.sources.camera import CameraOptions, CameraSource

    with pytest.raises(SourceError) as info:
        CameraSource.create_from_options(CameraOptions("/nonexistent/stream.mjpg"))
    assert "cannot open stream" in _one_line(info.value)


def test_missing_and_corrupt_video_are_one_line(tmp_path):
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    with pytest.raises(SourceError, match="video not found") as info:
        VideoSource(VideoOptions(tmp_path / "nope.mp4"))
    _one_line(info.value)
    bad = tmp_path / "corrupt.avi"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" * 100)
    with pytest.raises(SourceError, match="cannot decode video") as info:
        VideoSource(VideoOptions(bad))
    _one_line(info.value)


def test_video_as_fast_as_possible_gives_every_frame(clip):
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    with VideoSource(VideoOptions(clip, realtime=False)) as v:
        frames = list(v.frames())
    assert len(frames) == 103 and [f.frame for f in frames] == list(range(103))
    assert frames[0].image.shape == (1080, 1920, 3)
    assert frames[-1].timestamp == pytest.approx(102 / 30.0)


def test_video_loops_play_the_file_again_with_continuous_time(clip):
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    with VideoSource(VideoOptions(clip, realtime=False)) as v:
        once = [f.image for f in v.frames()]
    with VideoSource(VideoOptions(clip, realtime=False, loops=3)) as v:
        frames = list(v.frames())
    n = len(once)
    assert len(frames) == 3 * n
    assert [f.frame for f in frames] == list(range(3 * n))
    assert np.all(np.diff([f.timestamp for f in frames]) > 0)
    assert np.array_equal(frames[n].image, once[0]) and np.array_equal(frames[2 * n - 1].image, once[-1])
    with VideoSource(VideoOptions(clip, realtime=False, loops=0, max_frames=5 * n)) as v:
        assert sum(1 for _ in v.frames()) == 5 * n          # 0: until stopped
    with pytest.raises(SourceError, match="--loops"):
        VideoSource(VideoOptions(clip, loops=-1))


def test_realtime_video_keeps_only_the_newest_frame_for_a_slow_consumer(clip):
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    with VideoSource(VideoOptions(clip, realtime=True, max_frames=45)) as v:
        assert v.fps == pytest.approx(30.0)
        t0 = time.monotonic()
        got = []
        for f in v.frames():
            got.append(f.frame)
            time.sleep(0.1)            # a consumer at 10 fps on a 30 fps source
        elapsed = time.monotonic() - t0
        # paced at the file's fps (45 frames ≈ 1.5 s), newest frame each time, the rest counted
        assert 1.2 < elapsed < 4.0
        assert got == sorted(got) and len(got) < 30
        assert v.frames_dropped == 45 - len(got)


def test_realtime_video_is_decoded_when_due_on_one_thread(clip):
    """Played as a camera, an image is decoded inside read(), when it is due: one FFmpeg thread (no
    frame threads decoding ahead on the cores the pose model uses) and no read-ahead; the arrival
    stamp follows the due time."""
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    with VideoSource(VideoOptions(clip, realtime=True, max_frames=10)) as v:
        assert v._cap.get(cv2.CAP_PROP_N_THREADS) == 1
        frames = list(v.frames())
    assert [f.frame for f in frames] == list(range(10)) or v.frames_dropped > 0
    start = frames[0].arrival - frames[0].timestamp
    assert all(f.arrival - start >= f.timestamp - 1e-3 for f in frames)     # never before its due time
    with VideoSource(VideoOptions(clip, realtime=False)) as v:
        assert v._cap.get(cv2.CAP_PROP_N_THREADS) >= 1                       # FFmpeg's own choice
    with VideoSource(VideoOptions(clip, realtime=False, decode_threads=1)) as v:
        assert v._cap.get(cv2.CAP_PROP_N_THREADS) == 1


def test_grabber_reconnects_with_backoff_and_reports_it(clip):
    """A capture whose reads fail is reopened with exponential backoff (a video file stands in
    for a camera that drops out: at its end the read fails and the reopen starts it again)."""
    from skelzs.stream.sources.camera import CameraOptions, CameraSource

    with CameraSource.create_from_options(CameraOptions(str(clip), reconnect_initial_s=0.05,
                                                        max_reconnects=3)) as cam:
        seen = 0
        t0 = time.monotonic()
        for _ in cam.frames(timeout=0.5):
            seen += 1
            if cam.reconnects >= 1 and seen > 5 or time.monotonic() - t0 > 20:
                break
        events = cam.poll_events()
    assert cam.reconnects >= 1
    kinds = [e.kind for e in events]
    assert "source_lost" in kinds and "source_recovered" in kinds
    assert kinds.index("source_lost") < kinds.index("source_recovered")


def test_replay_of_real_ntu_and_pku_files(ntu_dir, pku_dir):
    from skelzs.stream.sources.replay import ReplayOptions, ReplaySource

    two = ReplaySource.create_from_options(ReplayOptions(ntu_dir / "S001C003P008R002A058.skeleton", source_id=4))
    frames = list(two)
    assert len(frames) == 70 and all(len(f.persons) == 2 for f in frames)
    assert {f.source for f in frames} == {4} and frames[-1].timestamp == pytest.approx(69 / 30)
    assert frames[0].persons[0].joints.shape == (25, 3)
    pku = pku_dir / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"
    labels = pku_dir / "Label" / "Train_Label_PKU_final" / "0160-L.txt"
    src = ReplaySource(ReplayOptions(pku, labels_path=labels))
    truth = [f.meta["truth"] for f in src]
    assert len(truth) == 2566 and len({t for t in truth if t}) >= 5


def test_replay_paced_at_30_fps(ntu_dir):
    from skelzs.stream.sources.replay import ReplayOptions, ReplaySource

    src = ReplaySource(ReplayOptions(ntu_dir / "S001C001P001R001A005.skeleton", realtime=True))
    t0 = time.monotonic()
    n = sum(1 for _ in src)
    assert n == 54 and 53 / 30 - 0.05 < time.monotonic() - t0 < 53 / 30 + 1.0


def test_missing_or_corrupt_recording_is_one_line(tmp_path):
    from skelzs.stream.sources.replay import ReplayOptions, ReplaySource

    with pytest.raises(SkelzsError) as info:
        ReplaySource(ReplayOptions(tmp_path / "none.skeleton"))
    _one_line(info.value)
    bad = tmp_path / "S001C001P001R001A001.skeleton"
    bad.write_text("3\n1\nnot numbers\n")
    with pytest.raises(SkelzsError) as info:
        ReplaySource(ReplayOptions(bad))
    _one_line(info.value)


def test_kinect_without_sdk_names_what_is_missing():
    from skelzs.stream.sources.kinect import KinectOptions, KinectSource, kinect_support

    ok, why = kinect_support()
    if ok:
        pytest.skip("pykinect_azure is importable here; the device path is unverified")
    with pytest.raises(SourceError) as info:
        KinectSource.create_from_options(KinectOptions())
    msg = _one_line(info.value)
    assert "pykinect_azure" in msg and "Body Tracking SDK" in msg and "skelzs replay" in msg


def test_one_euro_filter_smooths_jitter_but_follows_motion():
    from skelzs.stream.sources.pose import OneEuroFilter

    rng = np.random.default_rng(0)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5)
    still = [f(np.array([1.0]) + rng.normal(0, 0.01, 1), i / 30) for i in range(60)]
    assert np.std(still[30:]) < 0.5 * 0.01
    g = OneEuroFilter(min_cutoff=1.0, beta=0.5)
    ramp = [g(np.array([i * 0.1]), i / 30)[0] for i in range(60)]
    assert abs(ramp[-1] - 5.9) < 0.3           # a fast motion is followed with little lag


def test_tracker_keeps_ids_when_people_swap_list_order():
    from skelzs.stream.sources.pose import PersonTracker

    tr = PersonTracker(max_distance=0.2)
    a, b = np.array([0.2, 0.5]), np.array([0.8, 0.5])
    ids0 = [t.pid for t in tr.assign([a, b])]
    ids1 = [t.pid for t in tr.assign([b + 0.01, a - 0.01])]
    assert ids1 == ids0[::-1]
    ids2 = [t.pid for t in tr.assign([np.array([0.5, 0.1])])]   # someone new far away
    assert ids2[0] not in ids0
