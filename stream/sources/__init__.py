"""Capture sources, each in the MediaPipe-Tasks shape (options dataclass, ``create_from_options``
factory, context manager, iteration over typed :class:`SkeletonFrame` results):
camera/URL (:mod:`.camera`), video file (:mod:`.video`), MediaPipe pose on images (:mod:`.pose`),
recordings (:mod:`.replay`), Azure Kinect (:mod:`.kinect`, unverified)."""

from skelzs.stream.sources.base import ImageFrame, PersonSkeleton, SkeletonFrame, SkeletonSource, SourceEvent

__all__ = ["ImageFrame", "PersonSkeleton", "SkeletonFrame", "SkeletonSource", "SourceEvent"]
