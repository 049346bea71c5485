"""skelzs.stream: the skeleton data model, file formats, capture sources, ZeroMQ transport,
sliding windows, the matcher and the ``skelzs`` command line. Imports no torch at module level."""

from skelzs.stream.errors import CheckpointError, SkelzsError, SkeletonFormatError, SourceError
from skelzs.stream.layouts import AZURE_KINECT32, LAYOUTS, MEDIAPIPE33, NTU25, JointLayout
from skelzs.stream.skeleton import SkeletonSequence

__all__ = [
    "SkeletonSequence", "JointLayout", "NTU25", "MEDIAPIPE33", "AZURE_KINECT32", "LAYOUTS",
    "SkelzsError", "SkeletonFormatError", "CheckpointError", "SourceError",
]
