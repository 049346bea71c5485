"""The litert pose engine: PoseLandmarker finds people, its own landmark model (run by LiteRT on
several threads) tracks them. Checked against PoseLandmarker itself on the same real frames
(the consistency test of a re-hosted model), against the geometry of MediaPipe's RoI calculators,
and for who calls what: PoseLandmarker only to find people, never on a tracked frame's path.

Tolerances (measured in brackets): on the paired NTU clip, NTU-25 joints of the two engines,
unsmoothed, differ by ≤ 3 cm on average [0.9 cm] and ≤ 6 cm at p95 [2.3 cm]; MediaPipe smooths
its own landmarks in VIDEO mode and skelzs' engine does not, hence not zero.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from skelzs.stream.errors import SourceError
from skelzs.stream.sources.pose_tracking import (LandmarkTracker, RegionOfInterest, roi_from_alignment_points,
                                                 roi_from_landmarks)

cv2 = pytest.importorskip("cv2")
pytest.importorskip("ai_edge_litert")

CLIP = "mmaction2_S001C001P001R001A001_rgb.avi"


@pytest.fixture(scope="module")
def clip_frames(shared_data: Path):
    """The clip's frames, decoded on demand (``clip_frames(n)``: the first n; 103 in all). Not
    cached: 103 decoded 1080p frames would hold 640 MB for the whole module."""
    def read(n: int | None = None) -> Iterator[np.ndarray]:
        cap = cv2.VideoCapture(str(shared_data / "videos" / CLIP))
        try:
            while n is None or n > 0:
                ok, img = cap.read()
                if not ok:
                    return
                yield img
                n = None if n is None else n - 1
        finally:
            cap.release()
    return read


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 90.0, -135.0, 180.0])
def test_roi_points_the_crop_up_along_the_alignment_points(angle_deg):
    """AlignmentPointsRects (target 90°) + ×1.25 square: the crop's top centre lies on the ray from
    the centre through the scale point, at 1.25× its distance; the crop centre is the centre."""
    center = np.array([400.0, 300.0])
    # direction of "up" in the image for a person leaning by angle_deg (y grows downwards)
    a = math.radians(angle_deg)
    direction = np.array([math.sin(a), -math.cos(a)])
    roi = roi_from_alignment_points(center, center + 80.0 * direction)
    assert roi.size == pytest.approx(2 * 80.0 * 1.25)
    assert -math.pi <= roi.rotation <= math.pi
    assert math.cos(roi.rotation - a) == pytest.approx(1.0, abs=1e-12)     # the same angle
    m = roi.crop_to_image()
    top = m[:, :2] @ np.array([128.0, 0.0]) + m[:, 2]
    mid = m[:, :2] @ np.array([128.0, 128.0]) + m[:, 2]
    np.testing.assert_allclose(mid, center, atol=1e-9)
    np.testing.assert_allclose(top, center + 1.25 * 80.0 * direction, atol=1e-9)


def test_starting_roi_from_landmarks_covers_the_body():
    rng = np.random.default_rng(0)
    pts = rng.uniform([300, 100], [400, 500], size=(33, 2))     # a standing person, 100×400 px
    pts[[23, 24]] = [[330, 300], [370, 300]]                    # hips
    pts[[11, 12]] = [[320, 180], [380, 180]]                    # shoulders
    roi = roi_from_landmarks(pts)
    assert abs(roi.rotation) < 1e-9                             # upright
    assert (roi.cx, roi.cy) == (350.0, 300.0)
    half = roi.size / 2
    assert (np.abs(pts - [roi.cx, roi.cy]) <= half).all()       # every landmark inside the square


def test_tracked_engine_agrees_with_poselandmarker_on_real_frames(clip_frames):
    from skelzs.stream.sources.pose import PoseEstimator, PoseOptions

    out = {}
    for engine in ("litert", "mediapipe"):
        with PoseEstimator(PoseOptions(max_persons=1, engine=engine, smoothing=False)) as est:
            assert est.engine == engine
            joints, image = [], []
            for i, img in enumerate(clip_frames()):
                people = est.estimate(img, i / 30.0)
                assert len(people) == 1, f"{engine}: frame {i}"
                joints.append(people[0].joints)
                image.append(people[0].image_points)
            out[engine] = np.stack(joints), np.stack(image)
            width = img.shape[1]
    assert len(out["litert"][0]) == 103
    d = np.linalg.norm(out["litert"][0] - out["mediapipe"][0], axis=-1)
    assert d.mean() <= 0.03 and np.percentile(d, 95) <= 0.06, (d.mean(), np.percentile(d, 95))
    px = np.linalg.norm(out["litert"][1] - out["mediapipe"][1], axis=-1)
    assert np.median(px) <= 0.01 * width, np.median(px)     # ≤ 1% of the width


def test_poselandmarker_only_finds_people_the_landmark_model_tracks_them(shared_data):
    """One person, max_persons=2: PoseLandmarker runs once on the frame path (the first frame) and
    then only as a probe on the worker thread (its own landmarker, whose MediaPipe threads run at
    nice 19 on Linux); every other frame is tracked; one stable id."""
    from skelzs.stream.sources.pose import PoseOptions, PoseSource
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    finder_threads: dict[str, list[str]] = {"_finder": [], "_probe_finder": []}
    tracked = 0
    persons = []
    with PoseSource(VideoSource(VideoOptions(shared_data / "videos" / CLIP, realtime=False, max_frames=40)),
                    PoseOptions(max_persons=2, probe_every=10, mirrored=True, engine="litert")) as src:
        est = src.estimator
        track = est._landmarks.track
        for name, calls in finder_threads.items():
            finder = getattr(est, name)

            def counted_find(image, _find=finder.detect, _calls=calls):
                _calls.append(threading.current_thread().name)
                return _find(image)
            finder.detect = counted_find

        def counted_track(rgb, roi):
            nonlocal tracked
            tracked += 1
            return track(rgb, roi)
        est._landmarks.track = counted_track
        for f in src:
            persons.append(tuple(p.person for p in f.persons))
        nice = [_nice(t) for t in os.listdir("/proc/self/task") if _comm(t) == "drishti"] \
            if sys.platform == "linux" else []
    assert len(persons) == 40 and set(persons) == {(0,)}, persons
    assert finder_threads["_finder"] == [threading.main_thread().name], finder_threads     # the first frame
    probes = finder_threads["_probe_finder"]
    assert 1 <= len(probes) <= 4 and set(probes) == {"pose-probe"}, finder_threads
    assert tracked == 39
    if sys.platform == "linux":
        assert 19 in nice and 0 in nice, nice   # the probe finder's executor threads, and the other finder's


def _comm(tid: str) -> str:
    try:
        return Path(f"/proc/self/task/{tid}/comm").read_text().strip()
    except OSError:        # the thread ended meanwhile
        return ""


def _nice(tid: str) -> int:
    return int(Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_a_lost_person_is_found_again(clip_frames):
    from skelzs.stream.sources.pose import PoseEstimator, PoseOptions

    frames = list(clip_frames(7))

    with PoseEstimator(PoseOptions(max_persons=1, engine="litert")) as est:
        for i in range(5):
            assert len(est.estimate(frames[i], i / 30.0)) == 1
        assert est._rois
        assert est.estimate(np.zeros_like(frames[0]), 5 / 30.0) == []     # nobody: track lost
        assert est._rois == []
        again = est.estimate(frames[6], 6 / 30.0)
        assert len(again) == 1 and np.isfinite(again[0].joints).all()


def test_presence_is_low_where_nobody_is(clip_frames):
    """The landmark model's presence score (a probability) decides when a track is lost."""
    from skelzs.assets import asset_path

    tracker = LandmarkTracker(asset_path("pose_landmarker.task"), threads=1)
    img = cv2.cvtColor(next(clip_frames(1)), cv2.COLOR_BGR2RGB)
    black = np.zeros_like(img)
    roi = RegionOfInterest(img.shape[1] / 2, img.shape[0] / 2, img.shape[0] * 0.8, 0.0)
    assert tracker.track(black, roi).presence < 0.5
    assert 0.0 <= tracker.track(img, roi).presence <= 1.0
    tracker.close()


@pytest.mark.parametrize("member, content, message", [
    ("pose_detector.tflite", b"x", "cannot read pose_landmarks_detector.tflite"),               # not in the bundle
    ("pose_landmarks_detector.tflite", b"not a flatbuffer", "cannot load pose_landmarks_detector.tflite"),
])
def test_bad_pose_bundles_are_one_line_errors(tmp_path, member, content, message):
    bundle = tmp_path / "bad.task"
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr(member, content)
    with pytest.raises(SourceError, match=message) as info:
        LandmarkTracker(bundle)
    assert "\n" not in str(info.value)


def test_unknown_pose_engine_is_a_one_line_error():
    from skelzs.stream.sources.pose import PoseEstimator, PoseOptions

    with pytest.raises(SourceError, match="unknown pose engine") as info:
        PoseEstimator(PoseOptions(engine="tensorrt"))
    assert "\n" not in str(info.value)


def test_one_of_two_people_lost_is_looked_for_again_on_that_frame(shared_data):
    """Two players; on frame 5 the landmark model's presence for the left one is forced below the
    tracking confidence (a momentary dip, as OpenCV 5.1's slightly different crops gave it on
    frame 8, presence 0.46; PoseLandmarker finds that player on frame 5). As
    MediaPipe's tracking graph does, PoseLandmarker looks again on that very frame, on the frame
    thread, so both players stay in view with their ids; before, the lost player waited for a
    probe and stayed lost for 15 frames or more."""
    import dataclasses

    from skelzs.stream.sources.pose import PoseOptions, PoseSource
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    video = shared_data / "videos" / "mmaction2_test_video_structuralize_basketball.mp4"
    finds: list[int] = []
    frame = 0
    with PoseSource(VideoSource(VideoOptions(video, realtime=False, max_frames=8)),
                    PoseOptions(max_persons=2, engine="litert")) as src:
        est = src.estimator
        find, track = est._finder.detect, est._landmarks.track
        calls = {"n": 0}

        def counted_find(image):
            assert threading.current_thread() is threading.main_thread()
            finds.append(frame)
            return find(image)

        def dipping_track(rgb, roi):
            pose = track(rgb, roi)
            calls["n"] += 1
            if frame == 5 and calls["n"] % 2 == 1:       # the first tracked player on frame 5
                pose = dataclasses.replace(pose, presence=0.1)
            return pose
        est._finder.detect, est._landmarks.track = counted_find, dipping_track
        ids = []
        for f in src:
            ids.append(tuple(p.person for p in f.persons))
            frame = f.frame + 1
    assert finds == [0, 5], finds                       # the first frame, and the frame of the dip
    assert ids == [(0, 1)] * 8, ids
