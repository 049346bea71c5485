"""The zero-shot model API: ``load(path, backend) -> ZeroShotModel`` (CLIP-like and tiny).

>>> model = load("assets/default", backend="onnxruntime")
>>> text = model.encode_text(["wave hand", "fall down"], template="a person {label}")   # (K, D), cached
>>> sims = model.score(windows, text)                         # (N, K) cosine similarities
>>> probs = softmax(model.logit_scale * sims)

``load`` dispatches on ``config["method"]`` through :data:`LOADERS` (PGFA here; SCoPLe's
class-conditional view lives in :mod:`skelzs.models.scople_export`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np

from skelzs.stream.errors import CheckpointError, SkelzsError

__all__ = ["ZeroShotModel", "load", "LOADERS", "onnx_for_checkpoint", "person_onnx_for_checkpoint"]

log = logging.getLogger("skelzs.models")


class ZeroShotModel:
    """A PGFA-style checkpoint behind one backend.

    ``encode_text(labels, template=None) -> (K, D)``, ``encode_skeleton(windows (N,3,T,25,M)) -> (N, D)``
    (both L2-normalized float32), ``score(windows, text) -> (N, K)`` cosines; ``logit_scale``,
    ``config`` (the checkpoint's ``config.json``), ``window_frames``, ``persons``, ``preprocess``.
    """

    supports_embeddings = True

    def __init__(self, config: dict, backend, *, logit_scale: float, text_name: str, text_sha256: str | None,
                 text_dim: int, text_encoder=None, precision: str = "fp32"):
        self.config = config
        self.backend = backend
        self.backend_name = backend.name
        self.precision = precision
        self.logit_scale = float(logit_scale)
        window = config.get("window") or {}
        self.window_frames = int(window.get("frames", 50))
        self.persons = int(window.get("persons", 2))
        self.fps = float(window.get("fps", 30.0))
        self.preprocess = config.get("preprocess", "stream")
        self.dim = int(text_dim)
        self._text_name, self._text_sha = text_name, text_sha256
        self._text = text_encoder

    @property
    def text_encoder(self):
        """The frozen text encoder (loaded on first use; its weights hash was checked at load)."""
        if self._text is None:
            from skelzs.models.checkpoint import text_matches
            from skelzs.models.text import load_text_encoder

            enc = load_text_encoder(self._text_name)
            if not text_matches(enc.sha256, self._text_sha):
                raise CheckpointError(f"text model {self._text_name!r} hashes to {enc.sha256[:16]}, the checkpoint "
                                      f"was trained with {self._text_sha[:16]}")
            self._text = enc
        return self._text

    def encode_text(self, labels: list[str], template: str | None = None) -> np.ndarray:
        """``(K, D)`` L2-normalized label embeddings (on-disk cache keyed by model identity + text)."""
        if isinstance(labels, str):
            labels = [labels]
        return self.text_encoder.encode(list(labels), template=template).numpy().astype(np.float32)

    def _check(self, windows) -> np.ndarray:
        w = np.asarray(windows)
        if w.ndim == 4:
            w = w[None]
        if w.ndim != 5 or w.shape[1] != 3 or w.shape[3] != 25 or w.shape[4] != self.persons:
            raise SkelzsError(f"skeleton windows of shape {tuple(w.shape)}: expected (N, 3, T, 25, {self.persons})")
        if w.shape[2] != self.window_frames and self.backend_name != "torch":
            raise SkelzsError(f"windows have {w.shape[2]} frames; this {self.backend_name} model takes "
                              f"{self.window_frames}")
        return np.ascontiguousarray(w, dtype=np.float32)

    def encode_skeleton(self, windows: np.ndarray) -> np.ndarray:
        """``(N, D)`` L2-normalized skeleton embeddings of windows ``(N, 3, T, 25, M)``."""
        w = self._check(windows)
        if w.shape[0] == 0:
            return np.zeros((0, self.dim), np.float32)
        z = np.asarray(self.backend.embed(w), np.float32)
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    def score(self, windows: np.ndarray, text_features: np.ndarray) -> np.ndarray:
        """``(N, K)`` cosine similarities of windows to (normalized) text features."""
        t = np.asarray(text_features, np.float32)
        if t.ndim != 2 or t.shape[1] != self.dim:
            raise SkelzsError(f"text features of shape {tuple(t.shape)}: expected (K, {self.dim})")
        return self.encode_skeleton(windows) @ t.T

    @property
    def preferred_batch(self) -> int:
        """Windows per encoder call that give this backend its best throughput."""
        return int(getattr(self.backend, "preferred_batch", 64))

    def __repr__(self) -> str:
        return (f"ZeroShotModel(method={self.config.get('method')!r}, backend={self.backend_name!r}, "
                f"precision={self.precision!r}, window={self.window_frames}x{self.persons}, dim={self.dim})")


def onnx_for_checkpoint(folder: Path, model, config: dict) -> Path:
    """The checkpoint's ``model.onnx`` when it was exported from these weights, else an export
    cached under ``$SKELZS_CACHE/onnx`` keyed by the weights hash and window."""
    from skelzs.models.checkpoint import ONNX, weights_sha256
    from skelzs.models.export import GRAPH_REVISION, ONNX_OPSET, export_onnx, onnx_weights_sha256
    from skelzs.models.text import cache_root

    sha = weights_sha256(folder)
    window = config.get("window") or {}
    frames, persons = int(window.get("frames", 50)), int(window.get("persons", 2))
    bundled = folder / ONNX
    if bundled.is_file():
        recorded = onnx_weights_sha256(bundled)
        if recorded in (None, sha):
            return bundled
        log.warning("%s was exported from other weights; exporting these again", bundled)
    cached = cache_root() / "onnx" / f"{sha[:24]}-t{frames}-m{persons}-op{ONNX_OPSET}-g{GRAPH_REVISION}" / ONNX
    if cached.is_file():
        return cached
    log.info("exporting %s to ONNX (once; cached in %s)", folder, cached.parent)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")   # two processes never share a temp file
    export_onnx(model, tmp, frames=frames, persons=persons, weights_sha256=sha)
    tmp.replace(cached)
    return cached


def person_onnx_for_checkpoint(folder: Path, model, config: dict, *, for_int8: bool = False) -> list[Path]:
    """The per-person graph(s) of :func:`skelzs.models.export.export_person_onnx` for these weights,
    exported once into ``$SKELZS_CACHE/onnx_person`` keyed by the weights hash and window.
    ``for_int8``: the form int8 quantization starts from (ST-GCN graph convolutions conv-first: measured
    int8 at batch 64, 238 ms per call vs 281 ms from the adjacency-first graph, whose adjacency
    matmul the quantizer must leave in fp32)."""
    from skelzs.models.checkpoint import weights_sha256
    from skelzs.models.export import GRAPH_REVISION, ONNX_OPSET, export_person_onnx
    from skelzs.models.text import cache_root

    sha = weights_sha256(folder)
    window = config.get("window") or {}
    frames, persons = int(window.get("frames", 50)), int(window.get("persons", 2))
    form = "-cf" if for_int8 else ""
    cached = cache_root() / "onnx_person" / f"{sha[:24]}-t{frames}-m{persons}-op{ONNX_OPSET}-g{GRAPH_REVISION}{form}"
    names = ["person.onnx"] if model.person_slots_shared else [f"person{m}.onnx" for m in range(persons)]
    if all((cached / name).is_file() for name in names):
        return [cached / name for name in names]
    log.info("exporting the per-person graph of %s to ONNX (once; cached in %s)", folder, cached)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    paths = export_person_onnx(model, tmp, frames=frames, persons=persons, weights_sha256=sha,
                               adjacency_first=not for_int8)
    cached.mkdir(parents=True, exist_ok=True)
    for path in paths:
        path.replace(cached / path.name)
    try:
        tmp.rmdir()
    except OSError:
        pass
    return [cached / path.name for path in paths]


def _torch_head(model) -> Callable[[np.ndarray], np.ndarray]:
    """Per-person features ``(N, M, C)`` -> L2-normalized embeddings, by the torch model's own head."""
    import torch
    import torch.nn.functional as F

    def head(features: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return F.normalize(model.forward_from_person_features(torch.from_numpy(features)), dim=-1).numpy()
    return head


def _load_pgfa(folder: Path, backend: str, device: str | None, precision: str = "fp32") -> ZeroShotModel:
    from skelzs.models.backends import OnnxRuntimeBackend, TensorRTBackend, TorchBackend
    from skelzs.models.checkpoint import load_checkpoint, text_matches
    from skelzs.models.text import _resolve, _weights_sha256

    model, config = load_checkpoint(folder)
    text = config.get("text") or {}
    name = text.get("name") or "all-MiniLM-L6-v2"
    want = text.get("sha256")
    have = _cached_weights_hash(_resolve(name))
    if not text_matches(have, want):
        raise CheckpointError(f"{folder}: trained with text model {name!r} sha256 {want[:16]}, but the installed "
                              f"one hashes to {have[:16]}")
    arch = config.get("architecture") or {}
    logit_scale = float(model.logit_scale.detach()) if hasattr(model, "logit_scale") else float(np.exp(arch.get("temperature_init", np.log(1 / 0.07))))
    kw = dict(logit_scale=logit_scale, text_name=name, text_sha256=want or have, text_dim=int(model.config.text_dim))
    if backend == "torch":
        return ZeroShotModel(config, TorchBackend(model, device), **kw)
    onnx_path = onnx_for_checkpoint(folder, model, config)
    if backend == "tensorrt":
        try:
            from skelzs.models.export import build_engine

            return ZeroShotModel(config, TensorRTBackend(build_engine(onnx_path)), **kw)
        except (ImportError, SkelzsError, RuntimeError) as err:
            log.warning("TensorRT unusable (%s); falling back to ONNX Runtime", str(err).splitlines()[0])
    person = person_onnx_for_checkpoint(folder, model, config, for_int8=precision == "int8")
    providers = None
    if precision == "int8":
        from skelzs.models.quantize import int8_person_graphs
        from skelzs.stream.preprocess import PIPELINES

        window = config.get("window") or {}
        normalize = PIPELINES.get(config.get("stream_preprocess") or "stream", PIPELINES["stream"])
        person = int8_person_graphs(person, int(window.get("frames", 50)), normalize, fps=float(window.get("fps", 30.0)))
        providers = ["CPUExecutionProvider"]    # QLinearConv is a CPU kernel
    backend_impl = OnnxRuntimeBackend(onnx_path, person_graphs=person, head=_torch_head(model.eval()),
                                      providers=providers)
    return ZeroShotModel(config, backend_impl, precision=precision, **kw)


_HASHES: dict[tuple, str] = {}


def _cached_weights_hash(path: Path) -> str:
    """Weights hash of a text model folder, memoized per process by file sizes and mtimes."""
    from skelzs.models.text import _weights_sha256

    files = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    key = (str(path), tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files))
    if key not in _HASHES:
        _HASHES[key] = _weights_sha256(path)
    return _HASHES[key]


def _load_scople(folder: Path, backend: str, device: str | None, precision: str = "fp32"):
    from skelzs.models.checkpoint import ONNX, load_checkpoint
    from skelzs.models.scople_export import SCoPLeZeroShotModel

    if precision != "fp32":
        raise SkelzsError(f"{folder}: --precision {precision} is available for PGFA checkpoints only (this is SCoPLe)")
    model, config = load_checkpoint(folder)
    onnx_path = folder / ONNX
    if backend == "tensorrt":
        log.warning("TensorRT is not available for SCoPLe checkpoints; using ONNX Runtime")
        backend = "onnxruntime"
    if backend == "onnxruntime" and not onnx_path.is_file():
        log.warning("%s has no %s; using torch (run `skelzs export` for ONNX Runtime)", folder, ONNX)
        backend = "torch"
    return SCoPLeZeroShotModel(model, config, backend=backend, onnx_path=onnx_path, device=device or "cpu")


#: ``config["method"]`` → ``loader(folder, backend, device, precision)``.
LOADERS: dict[str, Callable] = {"pgfa": _load_pgfa, "scople": _load_scople}


def load(path: str | Path, backend: str = "auto", *, device: str | None = None, precision: str = "fp32"):
    """Load a checkpoint folder as a :class:`ZeroShotModel` (or SCoPLe's class-conditional view).

    ``backend``: ``auto`` (TensorRT if it imports and a GPU is present, else ONNX Runtime, else torch),
    ``torch``, ``onnxruntime`` or ``tensorrt`` (falls back to ONNX Runtime with a warning).
    ``precision``: ``fp32`` (exact) or ``int8`` (statically quantized per-person graphs on ONNX
    Runtime's CPU provider, see :mod:`skelzs.models.quantize`; ``auto`` then means ONNX Runtime).
    """
    from skelzs.models.backends import resolve_backend
    from skelzs.models.checkpoint import read_config
    from skelzs.models.quantize import PRECISIONS

    if precision not in PRECISIONS:
        raise SkelzsError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "int8":
        if backend == "auto":
            backend = "onnxruntime"
        elif backend != "onnxruntime":
            raise SkelzsError(f"--precision int8 runs on ONNX Runtime's CPU provider; --backend {backend} "
                              "has no int8 path (use --backend onnxruntime or auto)")

    folder = Path(path)
    config = read_config(folder)
    if folder.is_file():
        folder = folder.parent
    method = config["method"]
    if method not in LOADERS:
        raise CheckpointError(f"{folder}: no inference loader for method {method!r}")
    return LOADERS[method](folder, resolve_backend(backend), device, precision)
