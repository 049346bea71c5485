"""Inference backends for the skeleton side: ``embed(windows (N,3,T,V,M) float32) -> (N, D)``.

* :class:`TorchBackend`: the PyTorch module (CPU or CUDA; optional fp16 autocast on CUDA).
* :class:`OnnxRuntimeBackend`: an exported graph in ONNX Runtime (CPU; CUDA provider when installed).
* :class:`TensorRTBackend`: a serialized TensorRT engine (optional; unverified here, see
  :mod:`skelzs.models.export`).

``resolve_backend("auto")`` picks TensorRT when it imports and a GPU is present, else ONNX Runtime,
else torch.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from skelzs.stream.errors import CheckpointError

__all__ = ["SkeletonBackend", "present_persons", "embed_by_person", "TorchBackend", "OnnxRuntimeBackend",
           "TensorRTBackend", "BACKENDS", "resolve_backend", "available_backends"]

log = logging.getLogger("skelzs.models")

BACKENDS = ("torch", "onnxruntime", "tensorrt")


#: Windows per encoder call on a CPU. On the replay's real windows the default ST-GCN in ONNX Runtime
#: ran fastest at 64 (fp32: 147 windows/s vs 118 at 8 and 120 at 1; int8: 202 vs 174 and 150; medians
#: of 7 interleaved rounds on the 2-core development CPU).
CPU_PREFERRED_BATCH = 64


class SkeletonBackend(Protocol):
    name: str

    def embed(self, windows: np.ndarray) -> np.ndarray: ...


def _onnxruntime_ok() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def available_backends() -> list[str]:
    from skelzs.models.export import tensorrt_status

    out = ["torch"]
    if _onnxruntime_ok():
        out.append("onnxruntime")
    if tensorrt_status()[0]:
        out.append("tensorrt")
    return out


def resolve_backend(name: str = "auto") -> str:
    """A concrete backend name for ``name`` (``auto`` | torch | onnxruntime | tensorrt)."""
    if name == "auto":
        from skelzs.models.export import tensorrt_status

        if tensorrt_status()[0]:
            return "tensorrt"
        return "onnxruntime" if _onnxruntime_ok() else "torch"
    if name not in BACKENDS:
        raise CheckpointError(f"unknown backend {name!r}; expected auto, {', '.join(BACKENDS)}")
    return name


def present_persons(windows: np.ndarray) -> np.ndarray:
    """``(N, M)`` bool: person slot m of window n holds any non-zero value (absent slots are all zeros)."""
    n, m = windows.shape[0], windows.shape[-1]
    return (windows != 0).reshape(n, -1, m).any(axis=1)


def embed_by_person(windows: np.ndarray, person_features: Callable[[np.ndarray, int], np.ndarray],
                    absent_features: np.ndarray, head: Callable[[np.ndarray], np.ndarray], *,
                    slots_shared: bool) -> np.ndarray:
    """Exact fast path of ``head(stack_m(person_features(windows[..., m], m)))`` that runs the per-person
    encoder only on present (window, slot) pairs, batched (one call, or one per slot when the branch
    depends on the slot); absent slots get ``absent_features[m]`` (the features of an all-zero slot,
    computed once). In eval mode each person's branch depends only on its own input and the encoder
    averages persons only at the end, so this equals the full forward."""
    present = present_persons(windows)
    features = np.empty((windows.shape[0], windows.shape[-1], absent_features.shape[-1]), np.float32)
    absent_n, absent_m = np.nonzero(~present)
    features[absent_n, absent_m] = absent_features[absent_m]
    for slot in [None] if slots_shared else range(windows.shape[-1]):
        n_idx, m_idx = np.nonzero(present if slot is None else present & (np.arange(present.shape[1]) == slot))
        if n_idx.size:
            persons = np.ascontiguousarray(windows[n_idx, ..., m_idx])   # (P, 3, T, V)
            features[n_idx, m_idx] = person_features(persons, slot or 0)
    return head(features)


class TorchBackend:
    """The PyTorch module: ``embed`` = L2-normalized ``model(windows)``, through :func:`embed_by_person`
    when the model splits into per-person features and a head (PGFA)."""

    name = "torch"

    def __init__(self, model, device: str | None = None, *, fp16: bool = False):
        import torch

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.fp16 = fp16 and self.device.type == "cuda"
        self.by_person = hasattr(model, "forward_person_features")
        self._absent: dict[tuple[int, int], np.ndarray] = {}   # (frames, slot) -> features of an all-zero slot
        self.preferred_batch = 256 if self.device.type == "cuda" else CPU_PREFERRED_BATCH

    def _run(self, fn, x: np.ndarray, *args) -> np.ndarray:
        import torch

        t = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(self.device, non_blocking=True)
        with torch.inference_mode(), torch.autocast(self.device.type, torch.float16, enabled=self.fp16):
            return fn(t, *args).float().cpu().numpy()

    def _person_features(self, persons: np.ndarray, slot: int) -> np.ndarray:
        return self._run(self.model.forward_person_features, persons, slot)

    def _head(self, features: np.ndarray) -> np.ndarray:
        import torch.nn.functional as F

        return self._run(lambda f: F.normalize(self.model.forward_from_person_features(f).float(), dim=-1), features)

    def absent_features(self, frames: int, slots: int) -> np.ndarray:
        """``(M, C)`` features of an all-zero person slot per slot (computed once per window length)."""
        for slot in range(slots):
            if (frames, slot) not in self._absent:
                self._absent[frames, slot] = self._person_features(np.zeros((1, 3, frames, 25), np.float32), slot)[0]
        return np.stack([self._absent[frames, slot] for slot in range(slots)])

    def embed(self, windows: np.ndarray) -> np.ndarray:
        import torch.nn.functional as F

        if self.by_person:
            absent = self.absent_features(windows.shape[2], windows.shape[-1])
            return embed_by_person(windows, self._person_features, absent, self._head,
                                   slots_shared=self.model.person_slots_shared)
        return self._run(lambda x: F.normalize(self.model(x).float(), dim=-1), windows)


def _ort_session(path: str | Path, threads: int | None, providers: list[str] | None, input_name: str):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = int(threads or min(4, os.cpu_count() or 1))
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    if providers is None:
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
    try:
        session = ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as err:  # noqa: BLE001 - ORT raises its own exception types
        raise CheckpointError(f"{path}: ONNX Runtime cannot load it ({str(err).splitlines()[0]})") from None
    names = [i.name for i in session.get_inputs()]
    if names != [input_name]:
        raise CheckpointError(f"{path}: inputs {names}, expected [{input_name!r}] (not a skelzs encoder graph)")
    return session


class OnnxRuntimeBackend:
    """An exported ONNX graph (:func:`skelzs.models.export.export_onnx`) in ONNX Runtime.

    Full graph optimization (BatchNorm folding, fusions), ``threads`` intra-op threads (default: the
    CPU count, at most 4), sequential execution. With ``person_graphs`` (one per-person graph from
    :func:`skelzs.models.export.export_person_onnx`, or one per slot) and ``head`` (per-person features
    ``(N, M, C)`` -> embeddings), ``embed`` takes the exact fast path :func:`embed_by_person`.
    """

    name = "onnxruntime"

    def __init__(self, onnx_path: str | Path, *, threads: int | None = None, providers: list[str] | None = None,
                 person_graphs: list[Path] | None = None, head: Callable[[np.ndarray], np.ndarray] | None = None):
        from skelzs.models.export import INPUT_NAME, OUTPUT_NAME, PERSON_INPUT_NAME

        self.session = _ort_session(onnx_path, threads, providers, INPUT_NAME)
        self.input_shape = tuple(self.session.get_inputs()[0].shape)
        self._out = [OUTPUT_NAME]
        self.providers = self.session.get_providers()
        self.person_sessions = [_ort_session(p, threads, providers, PERSON_INPUT_NAME) for p in person_graphs or []]
        self.head = head
        self.preferred_batch = CPU_PREFERRED_BATCH if self.providers[0] == "CPUExecutionProvider" else 64
        self._absent: np.ndarray | None = None

    def _person_features(self, persons: np.ndarray, slot: int) -> np.ndarray:
        from skelzs.models.export import PERSON_INPUT_NAME

        session = self.person_sessions[slot if len(self.person_sessions) > 1 else 0]
        return session.run(None, {PERSON_INPUT_NAME: persons})[0]

    def embed(self, windows: np.ndarray) -> np.ndarray:
        from skelzs.models.export import INPUT_NAME

        windows = np.ascontiguousarray(windows, np.float32)
        if not self.person_sessions or self.head is None:
            return self.session.run(self._out, {INPUT_NAME: windows})[0]
        if self._absent is None:   # the graph's window shape is fixed, so one constant per slot
            zeros = np.zeros((1, *windows.shape[1:4]), np.float32)
            self._absent = np.concatenate([self._person_features(zeros, m) for m in range(windows.shape[-1])])
        return embed_by_person(windows, self._person_features, self._absent, self.head,
                               slots_shared=len(self.person_sessions) == 1)


class TensorRTBackend:
    """A serialized TensorRT engine run with the TensorRT 10 tensor API (``set_input_shape``,
    ``set_tensor_address``, ``execute_async_v3``) on torch CUDA buffers. Unverified here: TensorRT
    is not installable on the development machines."""

    name = "tensorrt"

    def __init__(self, engine_path: str | Path):
        import torch

        from skelzs.models.export import INPUT_NAME, OUTPUT_NAME, _trt

        trt = _trt()
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(Path(engine_path).read_bytes())
        if self.engine is None:
            raise CheckpointError(f"{engine_path}: TensorRT could not deserialize the engine "
                                  "(built with another TensorRT version or GPU?)")
        self.context = self.engine.create_execution_context()
        self._in, self._out = INPUT_NAME, OUTPUT_NAME
        self._dim = int(self.engine.get_tensor_shape(OUTPUT_NAME)[-1])
        self.preferred_batch = 32    # the opt point of build_engine's default profile
        self._stream = torch.cuda.Stream()

    def embed(self, windows: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(windows, np.float32)).cuda()
        y = torch.empty(x.shape[0], self._dim, device="cuda", dtype=torch.float32)
        self.context.set_input_shape(self._in, tuple(x.shape))
        self.context.set_tensor_address(self._in, x.data_ptr())
        self.context.set_tensor_address(self._out, y.data_ptr())
        with torch.cuda.stream(self._stream):
            if not self.context.execute_async_v3(self._stream.cuda_stream):
                raise CheckpointError("TensorRT execution failed")
        self._stream.synchronize()
        return y.cpu().numpy()
