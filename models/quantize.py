"""Int8 per-person graphs for ONNX Runtime on CPUs (``--precision int8``).

The skeleton encoder of a window is compute-bound on a CPU: in the default ST-GCN the last block's
256×256×9 temporal convolution alone takes ~40 % of the time, and ONNX Runtime's fp32 convolution
already runs near the cores' FMA peak. Static int8 quantization (ONNX Runtime's
``quantize_static``: QOperator format, uint8 activations, int8 per-channel weights, MinMax ranges)
turns the convolutions into ``QLinearConv`` and roughly halves that time on an AVX2 CPU.

It is an *approximation* of the fp32 graph, so it is opt-in, never the default: the activation
ranges are calibrated on live-style windows cut from the bundled demo recording (``assets/
demo_recording.npz``, the project's own synthetic motions) normalized exactly as the streaming
pipeline normalizes windows, and the tests check it against fp32 on *real* NTU RGB+D windows
(cosine of embeddings and agreement of the top label). The quantized graph is cached under
``$SKELZS_CACHE/onnx_person_int8`` keyed by the fp32 graph's hash and the calibration set.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from skelzs.stream.errors import CheckpointError, SkelzsError

__all__ = ["PRECISIONS", "calibration_windows", "quantize_person_onnx", "int8_person_graphs"]

log = logging.getLogger("skelzs.models")

#: Precisions an ONNX Runtime model can run at.
PRECISIONS = ("fp32", "int8")

CALIBRATION_STRIDE = 16     # frames between calibration windows (the recording is 1,230 frames)


def calibration_windows(frames: int, normalize: Callable | None = None, stride: int = CALIBRATION_STRIDE,
                        recording: Path | None = None, fps: float | None = None) -> np.ndarray:
    """``(P, 3, T, 25)`` present-person windows cut every ``stride`` frames from ``recording``
    (default: the bundled demo recording), resampled to the checkpoint's ``fps`` as the live
    buffer does, and normalized by ``normalize(seq, frames)`` (default: the ``stream`` pipeline,
    what live and replay windows go through)."""
    from skelzs.assets import asset_path
    from skelzs.stream.formats import load_sequence
    from skelzs.stream.preprocess import PIPELINES

    path = Path(recording) if recording is not None else asset_path("demo_recording.npz")
    if not path.is_file():
        raise SkelzsError(f"int8 calibration needs {path}, which is missing")
    normalize = normalize or PIPELINES["stream"]
    seq = load_sequence(path)
    if fps and abs(float(fps) - seq.fps) > 1e-6:
        from skelzs.stream.skeleton import SkeletonSequence

        idx = np.minimum(np.rint(np.arange(0.0, seq.num_frames / seq.fps, 1.0 / fps) * seq.fps).astype(int),
                         seq.num_frames - 1)
        seq = SkeletonSequence(seq.joints[idx], seq.layout, float(fps), None, dict(seq.meta))
        stride = max(1, int(round(stride * fps / 30.0)))
    persons = []
    for start in range(0, max(1, seq.num_frames - frames + 1), stride):
        window = np.asarray(normalize(seq.slice(start, start + frames), frames), np.float32)   # (3, T, V, M)
        persons.extend(window[..., m] for m in range(window.shape[-1]) if np.any(window[..., m]))
    if not persons:
        raise SkelzsError(f"{path}: no calibration windows of {frames} frames")
    return np.ascontiguousarray(np.stack(persons))


def quantize_person_onnx(fp32_path: str | Path, out_path: str | Path, calibration: np.ndarray,
                         batch: int = 8) -> Path:
    """Static int8 quantization of a per-person graph (input ``person``): QOperator, U8 activations,
    S8 per-channel weights, MinMax calibration over ``calibration`` ``(P, 3, T, 25)``."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from skelzs.models.export import PERSON_INPUT_NAME

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches: Iterator[dict] = iter(
                {PERSON_INPUT_NAME: calibration[i: i + batch]} for i in range(0, len(calibration), batch))

        def get_next(self):
            return next(self._batches, None)

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pre = out.with_name(f".{out.stem}.{os.getpid()}.pre.onnx")      # per process: two loads may race
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        quant_pre_process(str(fp32_path), str(pre))
        quantize_static(str(pre), str(tmp), _Reader(), quant_format=QuantFormat.QOperator,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)
        tmp.replace(out)
    except Exception as err:  # noqa: BLE001 - the quantizer raises many types; one clear line instead
        raise CheckpointError(f"{fp32_path}: int8 quantization failed ({str(err).splitlines()[0]})") from None
    finally:
        for p in (pre, tmp, pre.with_name(pre.name + ".data")):
            p.unlink(missing_ok=True)
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def int8_person_graphs(person_graphs: list[Path], frames: int, normalize: Callable | None = None,
                       fps: float | None = None) -> list[Path]:
    """Int8 versions of fp32 per-person graphs, quantized once and cached under
    ``$SKELZS_CACHE/onnx_person_int8/<fp32 sha>-<calibration sha>/``; calibrated on windows at the
    checkpoint's ``fps`` and normalization."""
    from skelzs.models.text import cache_root

    calib = calibration_windows(frames, normalize, fps=fps)
    calib_sha = hashlib.sha256(calib.tobytes()).hexdigest()[:16]
    out = []
    for fp32 in person_graphs:
        folder = cache_root() / "onnx_person_int8" / f"{_sha256(fp32)[:24]}-{calib_sha}"
        target = folder / fp32.name
        if not target.is_file():
            log.info("quantizing %s to int8 (once; cached in %s)", fp32.name, folder)
            quantize_person_onnx(fp32, target, calib)
        out.append(target)
    return out
