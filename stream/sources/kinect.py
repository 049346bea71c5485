"""Azure Kinect body tracking as a skeleton source (``--kinect``). **Unverified**: no Azure
Kinect, Sensor SDK or Body Tracking SDK exists on the development machine, so this path is
written against pykinect_azure's documented API (``initialize_libraries(track_body=True)``,
``start_device``, ``start_body_tracker``, ``tracker.update()`` → frame with
``get_num_bodies`` / ``get_body_id`` / ``get_body_skeleton``; joints carry ``position.xyz`` in
millimetres and ``confidence_level`` 0–3) and has never run against a device.
pyk4a wraps only the sensor SDK (no body tracking), so it cannot be a skeleton source by itself.
Joints are mapped with :func:`skelzs.stream.layouts.azure32_to_ntu25`. The tested Kinect path
is the replay of Kinect v2 recordings (NTU RGB+D, PKU-MMD): :mod:`skelzs.stream.sources.replay`.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from skelzs.stream.errors import SourceError
from skelzs.stream.layouts import azure32_to_ntu25
from skelzs.stream.sources.base import PersonSkeleton, SkeletonFrame, SkeletonSource

__all__ = ["KinectOptions", "KinectSource", "kinect_support"]

K4ABT_JOINT_COUNT = 32


@dataclass
class KinectOptions:
    device: int = 0
    source_id: int = 0
    fps: float = 30.0
    max_persons: int = 2


def kinect_support() -> tuple[bool, str]:
    """Whether a body-tracking binding is importable, and if not, what is missing (one line)."""
    if importlib.util.find_spec("pykinect_azure") is None:
        has_k4a = importlib.util.find_spec("pyk4a") is not None
        extra = " (pyk4a is installed but has no body tracking)" if has_k4a else ""
        return False, ("Azure Kinect body tracking needs the Azure Kinect Sensor SDK, the Body Tracking "
                       f"SDK and the pykinect_azure package, none usable here{extra}; replay Kinect "
                       "recordings with `skelzs replay FILE` instead")
    return True, ""


class KinectSource(SkeletonSource):
    """Bodies from an Azure Kinect through pykinect_azure (unverified; see module docstring)."""

    def __init__(self, options: KinectOptions):
        ok, why = kinect_support()
        if not ok:
            raise SourceError(why)
        import pykinect_azure as pykinect

        try:
            pykinect.initialize_libraries(track_body=True)
            config = pykinect.default_configuration
            config.color_resolution = pykinect.K4A_COLOR_RESOLUTION_OFF
            config.depth_mode = pykinect.K4A_DEPTH_MODE_NFOV_UNBINNED
            self._device = pykinect.start_device(device_index=options.device, config=config)
            self._tracker = pykinect.start_body_tracker()
        except Exception as err:  # libk4a/libk4abt missing or no device: the SDK's own message
            first = str(err).splitlines()[0] if str(err) else err.__class__.__name__
            raise SourceError(f"cannot start Azure Kinect body tracking: {first}") from None
        self.options = options
        self.source_id = options.source_id
        self.name = f"kinect:{options.device}"
        self.fps = options.fps
        self._stopped = False

    @classmethod
    def create_from_options(cls, options: KinectOptions) -> "KinectSource":
        return cls(options)

    def __iter__(self) -> Iterator[SkeletonFrame]:
        index = 0
        start = time.monotonic()
        while not self._stopped:
            self._device.update()
            body_frame = self._tracker.update()
            arrival = time.monotonic()
            people: list[PersonSkeleton] = []
            for i in range(min(body_frame.get_num_bodies(), self.options.max_persons)):
                skeleton = body_frame.get_body_skeleton(i)
                mm = np.array([[j.position.xyz.x, j.position.xyz.y, j.position.xyz.z]
                               for j in skeleton.joints[:K4ABT_JOINT_COUNT]], np.float32)
                level = np.array([j.confidence_level for j in skeleton.joints[:K4ABT_JOINT_COUNT]], np.float32)
                joints, conf = azure32_to_ntu25(mm, np.clip(level / 2.0, 0.0, 1.0))
                people.append(PersonSkeleton(int(body_frame.get_body_id(i)), joints, conf))
            yield SkeletonFrame(self.source_id, index, arrival - start, people, arrival)
            index += 1

    def close(self) -> None:
        self._stopped = True
        for obj in (getattr(self, "_tracker", None), getattr(self, "_device", None)):
            for method in ("destroy", "close"):
                if obj is not None and hasattr(obj, method):
                    try:
                        getattr(obj, method)()
                    except Exception:
                        pass
                    break
