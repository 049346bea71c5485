"""People in camera/video images: MediaPipe PoseLandmarker (Tasks API) → NTU-25 skeletons.

* Model: ``assets/pose_landmarker.task`` (the "full" model; provenance in ``assets/README.md``).
* Two engines (``PoseOptions.engine``, ``--pose-engine``):

  - ``litert`` (the default when ``ai-edge-litert`` is installed): PoseLandmarker in IMAGE mode
    finds people; from then on :mod:`skelzs.stream.sources.pose_tracking` tracks each one with
    the same landmark model from the same ``.task`` bundle, run by LiteRT on ``threads`` threads
    (MediaPipe runs it on one, and its Python API has no setting for that). Measured on the 2-core
    CPU: 10 ms vs 20 ms per frame (p50), NTU-25 joints within 0.9 cm of PoseLandmarker's own.
    PoseLandmarker runs again on the frame's path only on a frame where a tracked person was
    lost (presence below the tracking confidence), as MediaPipe's own tracking graph does.
  - ``mediapipe``: PoseLandmarker in VIDEO mode on every frame.

* Up to ``max_persons`` poses per image; :class:`PersonTracker` keeps person ids stable from frame
  to frame by greedy nearest matching of the hip centres in the image. Looking for a further
  person costs a detector run, so while fewer than ``max_persons`` are in view a ``max_persons``
  landmarker *probes* every ``probe_every`` frames off the frame's critical path, on a worker
  thread (running it inline made every probe frame cost 40–65 ms, the pose p95). In the litert
  engine the probe landmarker's own threads run at the lowest CPU priority (nice 19), so a probe
  takes only CPU time the frame path leaves idle. In the mediapipe engine a one-pose landmarker
  runs every frame, and when a probe sees more people the multi-pose landmarker takes over until
  it has seen only one for ``probe_every`` frames.
* World landmarks (metres, hip-centred) are smoothed with a One-Euro filter (Casiez et al.,
  CHI 2012) per track, then mapped to NTU-25 Kinect axes by
  :func:`skelzs.stream.layouts.mediapipe33_to_ntu25`. A joint's confidence is its landmark
  visibility; the window buffer holds low-confidence joints at their last confident position.
* ``mirrored``: for mirrored images (the Kinect v2 colour stream, hence NTU RGB+D's RGB videos;
  webcams set to mirror), :func:`mirror_ntu25` undoes the mirror: x negated *and* left/right
  joints swapped (MediaPipe names sides by appearance, so on a mirrored image its "left" is the
  person's right). Measured on the paired NTU clip: without it bone directions agree with the
  Kinect skeleton at mean cosine 0.46, with it 0.66 (median 0.94), residual rotation 7°.
* ``detect_for_video`` (mediapipe engine) needs strictly increasing timestamps: they come from the
  source clock, forced monotonic here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from skelzs.assets import asset_path
from skelzs.stream.errors import SourceError
from skelzs.stream.layouts import NTU25, mediapipe33_to_ntu25
from skelzs.stream.sources.base import PersonSkeleton, SkeletonFrame, SourceEvent
from skelzs.stream.sources.pose_tracking import (LandmarkTracker, RegionOfInterest, TrackedPose,
                                                 roi_from_landmarks)

__all__ = ["PoseOptions", "PoseEstimator", "PoseSource", "PersonTracker", "OneEuroFilter",
           "DEFAULT_POSE_MODEL", "POSE_ENGINES", "mirror_ntu25"]

DEFAULT_POSE_MODEL = "pose_landmarker.task"
POSE_ENGINES = ("auto", "litert", "mediapipe")
log = logging.getLogger("skelzs.stream")

# NTU joint -> MediaPipe landmark used to place it in the image (for drawing only).
_NTU_IMAGE_FROM_MP = {0: (23, 24), 1: (11, 12, 23, 24), 2: (11, 12, 7, 8), 3: (7, 8), 4: (11,), 5: (13,),
                      6: (15,), 7: (17, 19), 8: (12,), 9: (14,), 10: (16,), 11: (18, 20), 12: (23,),
                      13: (25,), 14: (27,), 15: (31,), 16: (24,), 17: (26,), 18: (28,), 19: (32,),
                      20: (11, 12), 21: (19,), 22: (21,), 23: (20,), 24: (22,)}


@dataclass
class PoseOptions:
    model_path: str | Path | None = None      # default: assets/pose_landmarker.task
    max_persons: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    max_side: int = 960                        # larger images are downscaled to this longest side (smaller hurts small people)
    smoothing: bool = True                     # One-Euro filter on world landmarks
    min_cutoff: float = 1.0                    # One-Euro: Hz
    beta: float = 0.5
    track_distance: float = 0.25               # max hip-centre jump (fraction of image) to keep an id
    track_patience: int = 15                   # frames a lost track is kept
    probe_every: int = 10                      # frames between multi-person probes (0: always multi)
    mirrored: bool = False                     # images are mirrored (Kinect v2 colour, NTU videos)
    engine: str = "auto"                       # "litert" | "mediapipe" | "auto" (see PoseEstimator)
    threads: int = 0                           # litert: landmark-model threads (0: cores, at most 4)


_LEFT = [4, 5, 6, 7, 12, 13, 14, 15, 21, 22]
_RIGHT = [8, 9, 10, 11, 16, 17, 18, 19, 23, 24]
_MIRROR_PERM = np.arange(25)
_MIRROR_PERM[_LEFT], _MIRROR_PERM[_RIGHT] = _RIGHT, _LEFT


def mirror_ntu25(joints: np.ndarray, *per_joint: np.ndarray) -> tuple[np.ndarray, ...]:
    """The skeleton seen in a mirror: x negated and left/right joints swapped (NTU-25).
    Extra per-joint arrays (confidence, image points) get the same left/right swap."""
    j = np.asarray(joints)[..., _MIRROR_PERM, :] * np.array([-1.0, 1.0, 1.0], np.float32)
    return (j.astype(np.float32),) + tuple(np.asarray(a)[..., _MIRROR_PERM] if np.asarray(a).ndim == j.ndim - 1
                                           else np.asarray(a)[..., _MIRROR_PERM, :] for a in per_joint)


class OneEuroFilter:
    """One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) over an array of values."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.5, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.astype(np.float32)
        dt = t - self._t
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        self._t = t
        return self._x.astype(np.float32)


@dataclass
class _Track:
    pid: int
    center: np.ndarray
    missed: int = 0
    smoother: OneEuroFilter | None = None


@dataclass
class PersonTracker:
    """Greedy nearest-centre matching of detections to tracks; new ids for new people."""

    max_distance: float = 0.25
    patience: int = 15
    tracks: list[_Track] = field(default_factory=list)
    next_id: int = 0

    def assign(self, centers: list[np.ndarray]) -> list[_Track]:
        pairs = sorted(((float(np.linalg.norm(c - tr.center)), i, j)
                        for i, c in enumerate(centers) for j, tr in enumerate(self.tracks)))
        taken_d: set[int] = set()
        taken_t: set[int] = set()
        out: list[_Track | None] = [None] * len(centers)
        for d, i, j in pairs:
            if d > self.max_distance or i in taken_d or j in taken_t:
                continue
            taken_d.add(i)
            taken_t.add(j)
            out[i] = self.tracks[j]
        for j, tr in enumerate(self.tracks):
            tr.missed = 0 if j in taken_t else tr.missed + 1
        for i, c in enumerate(centers):
            if out[i] is None:
                out[i] = _Track(self.next_id, c)
                self.next_id += 1
                self.tracks.append(out[i])
            out[i].center = c
        self.tracks = [tr for tr in self.tracks if tr.missed <= self.patience]
        return out  # type: ignore[return-value]


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence what MediaPipe's native code writes to fd 2 while a landmarker is created.

    TFLite and abseil print start-up notices ("Created TensorFlow Lite XNNPACK delegate",
    "Feedback manager requires a model with a single signature") that no environment variable
    turns off; users saw them before every run. Python-level errors still raise normally, and
    ``skelzs -v`` (DEBUG logging) keeps the native output.
    """
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class PoseEstimator:
    """People in images: finding them, tracking their landmarks, NTU-25 with stable ids.

    Engines (``PoseOptions.engine``):

    * ``"litert"``: PoseLandmarker (IMAGE mode, ``max_persons`` poses) finds people, on the frame
      thread when nobody is tracked or a tracked person was just lost, and as a probe on a worker thread every ``probe_every`` frames
      while fewer than ``max_persons`` are; :class:`~skelzs.stream.sources.pose_tracking.LandmarkTracker`
      follows each one from frame to frame with the same landmark model on ``threads`` threads.
    * ``"mediapipe"``: PoseLandmarker (VIDEO mode) on every frame, its landmark model on one thread.
    * ``"auto"`` (default): ``"litert"`` when LiteRT is installed, else ``"mediapipe"``.
    """

    def __init__(self, options: PoseOptions | None = None):
        self.options = options or PoseOptions()
        o = self.options
        path = Path(o.model_path) if o.model_path else asset_path(DEFAULT_POSE_MODEL)
        if not path.is_file():
            raise SourceError(f"pose model not found: {path} (see assets/README.md for how to get it)")
        if o.engine not in POSE_ENGINES:
            raise SourceError(f"unknown pose engine {o.engine!r}; choose one of {', '.join(POSE_ENGINES)}")
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as err:
            raise SourceError(f"MediaPipe is not installed ({err}); pip install mediapipe") from None
        self._mp = mp
        engine = o.engine
        if engine == "auto":
            try:
                import ai_edge_litert.interpreter  # noqa: F401
                engine = "litert"
            except ImportError:
                engine = "mediapipe"
                log.debug("LiteRT not installed: MediaPipe runs the pose landmark model on one thread")
        self.engine = engine

        def make(num_poses: int, mode):
            lm_options = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(path)),
                running_mode=mode,
                num_poses=num_poses,
                min_pose_detection_confidence=o.min_detection_confidence,
                min_pose_presence_confidence=o.min_presence_confidence,
                min_tracking_confidence=o.min_tracking_confidence,
            )
            try:
                return vision.PoseLandmarker.create_from_options(lm_options)
            except Exception as err:  # a corrupt .task file
                raise SourceError(f"cannot load pose model {path}: {str(err).splitlines()[0]}") from None

        self._multi = self._single = self._finder = self._probe_finder = self._landmarks = None
        # the VIDEO-mode multi-pose landmarker is used by this thread and by the probe worker, one
        # at a time, and needs strictly increasing timestamps across both
        self._multi_lock = threading.Lock()
        self._probe: threading.Thread | None = None
        with _quiet_native_stderr():
            if engine == "litert":
                self._finder = make(max(1, o.max_persons), vision.RunningMode.IMAGE)
                try:
                    self._landmarks = LandmarkTracker(path, o.threads or None)
                    if o.max_persons > 1 and o.probe_every > 0:
                        self._probe_finder = _at_lowest_priority(
                            lambda: make(o.max_persons, vision.RunningMode.IMAGE))
                except BaseException:
                    self.close()
                    raise
            else:
                self._multi = make(max(1, o.max_persons), vision.RunningMode.VIDEO)
                self._single = make(1, vision.RunningMode.VIDEO) if o.max_persons > 1 and o.probe_every > 0 else None
        self._use_multi = self._single is None
        self._few = 0            # consecutive multi frames with at most one person
        self._count = 0
        self._multi_last_ms = -1
        self._probe_poses: list[TrackedPose] | None = None     # litert: a finished probe's people
        self._rois: list[RegionOfInterest] = []                  # litert: where to look next frame
        self.tracker = PersonTracker(o.track_distance, o.track_patience)
        self._last_ms = -1

    # ------------------------------------------------------------------ mediapipe engine
    def _detect_video(self, image, ts_ms: int):
        """Run the one-pose landmarker, the multi-pose one, or both (probe); see module doc."""
        o = self.options
        self._count += 1
        if self._single is None:
            return self._multi.detect_for_video(image, ts_ms)
        if self._use_multi:
            result = self._detect_multi(image, ts_ms)
            if result is None:       # only if a probe took a later timestamp, which frame order rules out
                return self._single.detect_for_video(image, ts_ms)
            self._few = self._few + 1 if len(result.pose_world_landmarks) <= 1 else 0
            if self._few >= o.probe_every:
                self._use_multi, self._few = False, 0
            return result
        if self._count % o.probe_every == 1 and (self._probe is None or not self._probe.is_alive()):
            self._probe = threading.Thread(target=self._run_probe, args=(image, ts_ms), name="pose-probe",
                                           daemon=True)
            self._probe.start()
        result = self._single.detect_for_video(image, ts_ms)
        if not result.pose_world_landmarks:
            probe = self._detect_multi(image, ts_ms)     # lost the one person: look again, now
            if probe is not None and probe.pose_world_landmarks:
                self._use_multi, self._few = len(probe.pose_world_landmarks) > 1, 0
                return probe
        return result

    def _detect_multi(self, image, ts_ms: int):
        """The multi-pose landmarker on ``image``; None if it already saw this or a later frame."""
        with self._multi_lock:
            if ts_ms <= self._multi_last_ms or self._multi is None:
                return None
            self._multi_last_ms = ts_ms
            return self._multi.detect_for_video(image, ts_ms)

    def _run_probe(self, image, ts_ms: int) -> None:
        """Worker: look for more people; the frame loop switches to multi-pose when one appears."""
        try:
            probe = self._detect_multi(image, ts_ms)
        except Exception as err:  # noqa: BLE001 - a failed probe must not stop the capture
            log.debug("pose probe failed: %s", err)
            return
        if probe is not None and len(probe.pose_world_landmarks) > 1:
            self._use_multi, self._few = True, 0

    # ------------------------------------------------------------------ litert engine
    def _find(self, finder, rgb: np.ndarray) -> list[TrackedPose]:
        """``finder`` (a PoseLandmarker in IMAGE mode) on a whole image: the people in it, with
        starting RoIs."""
        result = finder.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb))
        return _poses_from_result(result, rgb.shape[1], rgb.shape[0])

    def _run_finder_probe(self, rgb: np.ndarray) -> None:
        """Worker: the probe finder, whose MediaPipe threads run at the lowest CPU priority, so a
        probe takes only CPU time the frame path leaves idle."""
        try:
            poses = self._find(self._probe_finder, rgb)
        except Exception as err:  # noqa: BLE001 - a failed probe must not stop the capture
            log.debug("pose probe failed: %s", err)
            return
        self._probe_poses = poses

    def _detect_tracked(self, rgb: np.ndarray) -> list[TrackedPose]:
        o = self.options
        self._count += 1
        probe = None
        if self._probe is not None and not self._probe.is_alive():   # a finished probe: its people
            probe, self._probe_poses = self._probe_poses, None
        rois = list(self._rois)
        if probe:   # people a probe found that no RoI follows yet
            for p in probe:
                if len(rois) < o.max_persons and not any(_same_person(p.next_roi, r) for r in rois):
                    rois.append(p.next_roi)
        poses: list[TrackedPose] = []
        lost = False
        for roi in rois:
            pose = self._landmarks.track(rgb, roi)
            if pose.presence < o.min_tracking_confidence:
                lost = True
            elif not any(_same_person(pose.next_roi, q.next_roi) for q in poses):
                poses.append(pose)
        # As MediaPipe's tracking graph does: a pose whose presence fell below the tracking
        # confidence is looked for again on this very frame, also while others are still tracked
        # (left to a probe, a lost person stayed lost for probe_every frames or more).
        looked = not poses or lost
        if looked:
            for p in self._find(self._finder, rgb):
                if len(poses) < o.max_persons and not any(_same_person(p.next_roi, q.next_roi) for q in poses):
                    poses.append(p)
        self._rois = [p.next_roi for p in poses]
        # the probe finder exists when probes are on (probe_every > 0) and more than one person is wanted
        if (not looked and self._probe_finder is not None and len(poses) < o.max_persons
                and self._count % o.probe_every == 1
                and (self._probe is None or not self._probe.is_alive())):
            self._probe = threading.Thread(target=self._run_finder_probe, args=(rgb,), name="pose-probe",
                                           daemon=True)
            self._probe.start()
        return poses

    # ------------------------------------------------------------------ common
    @classmethod
    def create_from_options(cls, options: PoseOptions) -> "PoseEstimator":
        return cls(options)

    def reset(self) -> None:
        """Forget every track (a cut in the video, a new photo)."""
        if self._probe is not None:
            self._probe.join()
        self._rois, self._probe_poses = [], None
        self.tracker.tracks.clear()

    def estimate(self, image_bgr: np.ndarray, timestamp: float) -> list[PersonSkeleton]:
        """People in one BGR image at ``timestamp`` seconds, NTU-25, with stable ids."""
        import cv2

        h, w = image_bgr.shape[:2]
        scale = min(1.0, self.options.max_side / max(h, w))
        img = image_bgr if scale >= 1.0 else cv2.resize(image_bgr, (int(w * scale), int(h * scale)),
                                                        interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)   # 0.1 ms; a numpy [..., ::-1] copy costs 4 ms
        ts_ms = max(int(round(timestamp * 1000.0)), self._last_ms + 1)
        self._last_ms = ts_ms
        if self.engine == "litert":
            poses = self._detect_tracked(rgb)
        else:
            result = self._detect_video(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb), ts_ms)
            poses = _poses_from_result(result, rgb.shape[1], rgb.shape[0])
        if not poses:
            self.tracker.assign([])
            return []
        sh, sw = rgb.shape[:2]
        image_pts = [p.image / np.array([sw, sh], np.float32) for p in poses]     # normalized
        tracks = self.tracker.assign([pts[[23, 24]].mean(0) for pts in image_pts])
        people: list[PersonSkeleton] = []
        for pose, pts, tr in zip(poses, image_pts, tracks):
            wl = pose.world
            if self.options.smoothing:
                if tr.smoother is None:
                    tr.smoother = OneEuroFilter(self.options.min_cutoff, self.options.beta)
                wl = tr.smoother(wl, ts_ms / 1000.0)
            joints, conf = mediapipe33_to_ntu25(wl, np.clip(pose.visibility, 0.0, 1.0))
            px = pts * np.array([w, h], np.float32)
            img_ntu = np.stack([px[list(_NTU_IMAGE_FROM_MP[k])].mean(0) for k in range(NTU25.num_joints)])
            if self.options.mirrored:
                joints, conf, img_ntu = mirror_ntu25(joints, conf, img_ntu)
            people.append(PersonSkeleton(tr.pid, joints, np.clip(conf, 0.0, 1.0), img_ntu))
        people.sort(key=lambda p: p.person)
        return people

    def close(self) -> None:
        if self._probe is not None:
            self._probe.join()
        with self._multi_lock:
            for name in ("_multi", "_single", "_finder", "_probe_finder", "_landmarks"):
                lm = getattr(self, name, None)
                if lm is not None:
                    lm.close()
                    setattr(self, name, None)

    def __enter__(self) -> "PoseEstimator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _poses_from_result(result, width: int, height: int) -> list[TrackedPose]:
    """A PoseLandmarkerResult as arrays (image landmarks in pixels), with a starting RoI each."""
    poses = []
    for world, image in zip(result.pose_world_landmarks, result.pose_landmarks):
        pts = np.array([(p.x * width, p.y * height) for p in image], np.float32)
        vis = np.array([p.visibility if p.visibility is not None else 1.0 for p in image], np.float32)
        poses.append(TrackedPose(np.array([(p.x, p.y, p.z) for p in world], np.float32), pts, vis, 1.0,
                                 roi_from_landmarks(pts, vis)))
    return poses


def _at_lowest_priority(create):
    """``create()`` on a thread at nice 19 (Linux): threads it starts (MediaPipe's graph executor)
    inherit that priority. Elsewhere, or where it is refused, at the normal priority."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        try:
            box["value"] = create()
        except BaseException as err:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = err

    worker = threading.Thread(target=run, name="pose-probe-setup")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]


def _same_person(a: RegionOfInterest, b: RegionOfInterest) -> bool:
    """Two RoIs on one person: centres closer than a quarter of the smaller side."""
    return math.hypot(a.cx - b.cx, a.cy - b.cy) < 0.25 * min(a.size, b.size)


class PoseSource:
    """An image source (camera, URL, video) + :class:`PoseEstimator` = a skeleton source."""

    def __init__(self, images, options: PoseOptions | None = None, *, keep_images: bool = False):
        self.images = images
        self.estimator = PoseEstimator(options)
        self.source_id = images.source_id
        self.name = images.name
        self.fps = images.fps
        self.clock = getattr(images, "clock", "file")
        self.keep_images = keep_images
        self._stopped = False

    @property
    def frames_dropped(self) -> int:
        return self.images.frames_dropped

    def poll_events(self) -> list[SourceEvent]:
        return self.images.poll_events()

    def __iter__(self) -> Iterator[SkeletonFrame]:
        for img in self.images.frames():
            if self._stopped:
                return
            t0 = time.perf_counter()
            people = self.estimator.estimate(img.image, img.timestamp)
            pose_ms = (time.perf_counter() - t0) * 1000.0
            yield SkeletonFrame(self.source_id, img.frame, img.timestamp, people, img.arrival,
                                img.image if self.keep_images else None, {"pose": pose_ms})

    def stop(self) -> None:
        self._stopped = True
        self.images.stop()

    def close(self) -> None:
        self.stop()
        self.images.close()
        self.estimator.close()

    def __enter__(self) -> "PoseSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
