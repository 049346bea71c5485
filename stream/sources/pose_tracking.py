"""Landmark tracking with MediaPipe's own pose landmark model, run by LiteRT on several threads.

MediaPipe's PoseLandmarker runs its landmark model on one CPU thread, and its Python API has no
setting for that (``BaseOptions`` takes only a delegate). On the 2-core CPU that one model is most
of a frame's cost: 15 ms on one thread, 8 ms on two (same ``.tflite``, LiteRT). So once
PoseLandmarker has found a person, :class:`LandmarkTracker` follows them from frame to frame by
doing what MediaPipe's tracking graph does, with the same model file taken out of the ``.task``
bundle:

1. crop the region of interest (RoI) of the previous frame, rotated upright, to the model's
   256×256 input, RGB in [0, 1];
2. run ``pose_landmarks_detector.tflite``: 39 landmarks (33 body + 2 alignment points + 4 more)
   as (x, y, z, visibility logit, presence logit) in crop pixels, the pose presence score, and 39
   world landmarks in metres (hip-centred, in the crop's rotated frame);
3. map the landmarks back to the image and rotate the world landmarks by the RoI's rotation
   (MediaPipe's LandmarkProjection and WorldLandmarkProjection calculators);
4. the next RoI from alignment points 33 (hip centre) and 34 (a point whose distance sets the
   body's size and whose direction its rotation): MediaPipe's AlignmentPointsRects with a target
   angle of 90°, then a square of 1.25× that size.

What is left out: the heatmap refinement of the 2-D landmarks and the smoothing of the RoI and of
the landmarks (skelzs smooths world landmarks itself, One-Euro). A pose whose presence score falls
below the tracking confidence is lost, and PoseLandmarker looks for people again.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelzs.stream.errors import SourceError

__all__ = ["RegionOfInterest", "TrackedPose", "LandmarkTracker", "roi_from_alignment_points",
           "roi_from_landmarks", "default_pose_threads"]

LANDMARK_MODEL = "pose_landmarks_detector.tflite"
_INPUT = 256            # the landmark model's square input
_ROI_SCALE = 1.25       # RectTransformation scale after AlignmentPointsRects (pose graphs)
_HIP_LEFT, _HIP_RIGHT, _SHOULDER_LEFT, _SHOULDER_RIGHT = 23, 24, 11, 12


def default_pose_threads() -> int:
    """Threads for the landmark model: the machine's cores, at most 4 (more gains nothing on a
    model this size and takes cores from the encoder)."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class RegionOfInterest:
    """A rotated square in image pixels: centre, side, rotation (radians, counter-clockwise
    turns the crop's up towards the image's left, as MediaPipe's ``NormalizedRect.rotation``)."""

    cx: float
    cy: float
    size: float
    rotation: float

    def crop_to_image(self) -> np.ndarray:
        """2×3 affine map from model-input pixels to image pixels."""
        a = self.size / _INPUT
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        lin = np.array([[c, -s], [s, c]]) * a
        t = np.array([self.cx, self.cy]) - lin @ np.array([_INPUT / 2.0, _INPUT / 2.0])
        return np.hstack([lin, t[:, None]])


def _normalize_radians(angle: float) -> float:
    return angle - 2.0 * math.pi * math.floor((angle + math.pi) / (2.0 * math.pi))


def roi_from_alignment_points(center: np.ndarray, scale_point: np.ndarray,
                              scale: float = _ROI_SCALE) -> RegionOfInterest:
    """MediaPipe's AlignmentPointsRectsCalculator (target angle 90°) + RectTransformation
    (square, ×``scale``): centred on ``center``, side 2·|scale_point − center|·scale, rotated so
    that ``center → scale_point`` points up in the crop."""
    dx, dy = float(scale_point[0] - center[0]), float(scale_point[1] - center[1])
    size = 2.0 * math.hypot(dx, dy) * scale
    rotation = _normalize_radians(math.pi / 2.0 - math.atan2(-dy, dx))
    return RegionOfInterest(float(center[0]), float(center[1]), size, rotation)


def roi_from_landmarks(points: np.ndarray, visibility: np.ndarray | None = None) -> RegionOfInterest:
    """A starting RoI from PoseLandmarker's 33 image landmarks (pixels), which do not include the
    alignment points: hip centre, the body's radius as the farthest landmark from it, turned
    towards the shoulders. The first tracked frame then gives the model's own alignment points."""
    pts = np.asarray(points, np.float64)[:33, :2]
    center = pts[[_HIP_LEFT, _HIP_RIGHT]].mean(0)
    up = pts[[_SHOULDER_LEFT, _SHOULDER_RIGHT]].mean(0) - center
    norm = float(np.hypot(*up))
    up = up / norm if norm > 1e-6 else np.array([0.0, -1.0])
    use = pts if visibility is None or (np.asarray(visibility) >= 0.5).sum() < 4 else pts[np.asarray(visibility)[:33] >= 0.5]
    radius = max(float(np.linalg.norm(use - center, axis=1).max()), 1.0)
    return roi_from_alignment_points(center, center + up * radius)


@dataclass
class TrackedPose:
    """One tracked person in one image."""

    world: np.ndarray        # (33, 3) metres, hip-centred, image-aligned axes (MediaPipe world)
    image: np.ndarray        # (33, 2) pixels
    visibility: np.ndarray   # (33,) in [0, 1]
    presence: float          # the model's pose presence score
    next_roi: RegionOfInterest

    @property
    def hip_center(self) -> np.ndarray:
        return self.image[[_HIP_LEFT, _HIP_RIGHT]].mean(0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def _read_landmark_model(task_path: Path) -> bytes:
    try:
        with zipfile.ZipFile(task_path) as bundle:
            return bundle.read(LANDMARK_MODEL)
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise SourceError(f"cannot read {LANDMARK_MODEL} from pose model {task_path}: {err}") from None


class LandmarkTracker:
    """The pose landmark model of a PoseLandmarker ``.task`` bundle, run by LiteRT on ``threads``
    CPU threads on one RoI at a time (see the module docstring)."""

    def __init__(self, task_path: str | Path, threads: int | None = None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise SourceError(f"LiteRT is not installed ({err}); pip install ai-edge-litert, "
                              "or use --pose-engine mediapipe") from None
        self.threads = threads or default_pose_threads()
        model = _read_landmark_model(Path(task_path))
        try:
            self._interpreter = Interpreter(model_content=model, num_threads=self.threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise SourceError(f"cannot load {LANDMARK_MODEL} from {task_path}: {str(err).splitlines()[0]}") from None
        inputs = self._interpreter.get_input_details()
        outputs = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        try:
            if len(inputs) != 1 or tuple(inputs[0]["shape"]) != (1, _INPUT, _INPUT, 3):
                raise KeyError("input")
            self._in = inputs[0]["index"]
            self._landmarks = outputs[(1, 195)]      # 39 × (x, y, z, visibility, presence)
            self._presence = outputs[(1, 1)]
            self._world = outputs[(1, 117)]          # 39 × (x, y, z) metres
        except KeyError:
            raise SourceError(f"{task_path}: {LANDMARK_MODEL} is not MediaPipe's pose landmark model "
                              "(expected a 256×256 RGB input and 39-landmark outputs)") from None

    def track(self, rgb: np.ndarray, roi: RegionOfInterest) -> TrackedPose:
        """The pose inside ``roi`` of an RGB uint8 image."""
        import cv2

        m = roi.crop_to_image()
        crop = cv2.warpAffine(rgb, m, (_INPUT, _INPUT), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT)
        x = crop.astype(np.float32)
        x *= 1.0 / 255.0
        self._interpreter.set_tensor(self._in, x[None])
        self._interpreter.invoke()
        lm = self._interpreter.get_tensor(self._landmarks).reshape(39, 5).astype(np.float64)
        presence = float(self._interpreter.get_tensor(self._presence).reshape(()))
        world = self._interpreter.get_tensor(self._world).reshape(39, 3).astype(np.float64)
        image = lm[:, :2] @ m[:, :2].T + m[:, 2]
        c, s = math.cos(roi.rotation), math.sin(roi.rotation)
        world_xy = world[:, :2] @ np.array([[c, s], [-s, c]])      # rotate by +rotation (z unchanged)
        world = np.concatenate([world_xy, world[:, 2:]], axis=1)
        return TrackedPose(world[:33].astype(np.float32), image[:33].astype(np.float32),
                           _sigmoid(lm[:33, 3]).astype(np.float32), presence,
                           roi_from_alignment_points(image[33], image[34]))

    def close(self) -> None:
        self._interpreter = None
