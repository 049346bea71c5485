"""SCoPLe at inference: the cached text side, the ONNX skeleton side, and the ``ZeroShotModel`` view.

SCoPLe's skeleton side is class-conditional (:mod:`skelzs.models.scople`): it needs the label set's
prepared text tensor ``(K, D)`` to score a window. So

* the prompted text side runs once per label set (torch; it needs the frozen text transformer) and its
  output is cached in memory and on disk, keyed by the checkpoint's text parameters and the labels;
* the skeleton side ``(windows (N,3,T,V,M), text (K,D)) -> scores (N,K)`` (cosine) runs in torch or
  as one ONNX graph with both as inputs, dynamic in N and K (:func:`export_scople_onnx`);
* :class:`SCoPLeZeroShotModel` offers the ``skelzs.models.api`` surface with
  ``supports_embeddings = False``: ``encode_text`` returns the prepared text tensor, ``score`` does the
  work, ``encode_skeleton`` is refused.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["export_scople_onnx", "scople_onnx_parity", "SCoPLeZeroShotModel", "text_cache_dir"]

log = logging.getLogger("skelzs.models")

ONNX_INPUTS = ("windows", "text")
ONNX_OUTPUT = "scores"


def text_cache_dir() -> Path:
    from skelzs.models.text import cache_root

    return cache_root() / "scople_text"


def export_scople_onnx(model, path: str | Path, *, frames: int, persons: int = 2, opset: int = 18) -> Path:
    """Export the skeleton side to ONNX: inputs ``windows (N,3,T,25,M)``, ``text (K,D)``; output
    ``scores (N,K)``; N and K dynamic. Returns the path."""
    import torch

    from skelzs.models.scople import SCoPLeScorer

    path = Path(path)
    scorer = SCoPLeScorer(model).eval()
    windows = torch.zeros(2, 3, frames, 25, persons)
    text = torch.nn.functional.normalize(torch.randn(3, model.text.dim), dim=-1)
    batch, labels = torch.export.Dim("batch", min=1), torch.export.Dim("labels", min=1)
    was = model.training
    model.eval()
    try:
        torch.onnx.export(scorer, (windows, text), str(path), input_names=list(ONNX_INPUTS),
                          output_names=[ONNX_OUTPUT], dynamic_shapes={"windows": {0: batch}, "text": {0: labels}},
                          dynamo=True, opset_version=opset, external_data=False, verbose=False)
    finally:
        model.train(was)
    return path


def scople_onnx_parity(model, path: str | Path, *, frames: int, persons: int = 2,
                       shapes: tuple[tuple[int, int], ...] = ((1, 1), (3, 5), (8, 2)), seed: int = 0) -> float:
    """Largest |torch − ONNX Runtime| score difference over random windows and label counts."""
    import onnxruntime as ort
    import torch

    from skelzs.models.scople import SCoPLeScorer

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    scorer = SCoPLeScorer(model).eval()
    g = torch.Generator().manual_seed(seed)
    worst = 0.0
    for n, k in shapes:
        w = torch.randn(n, 3, frames, 25, persons, generator=g) * 0.3
        t = torch.nn.functional.normalize(torch.randn(k, model.text.dim, generator=g), dim=-1)
        with torch.no_grad():
            ref = scorer(w, t).numpy()
        got = sess.run([ONNX_OUTPUT], {"windows": w.numpy(), "text": t.numpy()})[0]
        worst = max(worst, float(np.abs(ref - got).max()))
    return worst


class SCoPLeZeroShotModel:
    """The ``ZeroShotModel`` surface for a SCoPLe checkpoint (torch or ONNX Runtime skeleton side)."""

    supports_embeddings = False

    def __init__(self, model, config: dict, *, backend: str = "torch", onnx_path: str | Path | None = None,
                 device: str = "cpu", cache_dir: Path | None = None):
        from skelzs.stream.errors import CheckpointError

        self.model = model.eval()
        self.config = config
        self.backend = backend
        window = config.get("window") or {}
        self.window_frames = int(window.get("frames", model.config.frames))
        self.persons = int(window.get("persons", model.config.persons))
        self.fps = float(window.get("fps", 30.0))
        self.backend_name = backend
        self.preprocess = config.get("preprocess", "stream")
        self.logit_scale = float(model.logit_scale.detach().exp().clamp(max=model.config.logit_scale_max))
        self.dim = int(model.text.dim)
        self.device = device
        self._cache_dir = cache_dir if cache_dir is not None else text_cache_dir()
        self._memory: dict[tuple, np.ndarray] = {}
        self._session = None
        if backend == "onnxruntime":
            if onnx_path is None or not Path(onnx_path).is_file():
                raise CheckpointError(f"SCoPLe checkpoint has no model.onnx for the onnxruntime backend "
                                      f"(run `skelzs export` first)")
            import onnxruntime as ort

            providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                         if p in ort.get_available_providers()]
            self._session = ort.InferenceSession(str(onnx_path), providers=providers)
            names = [i.name for i in self._session.get_inputs()]
            if names != list(ONNX_INPUTS):
                raise CheckpointError(f"{onnx_path}: inputs {names}, expected {list(ONNX_INPUTS)} (not a SCoPLe graph)")
        elif backend == "torch":
            self.model.to(device)
        else:
            raise CheckpointError(f"backend {backend!r} is not available for SCoPLe (torch | onnxruntime)")
        self._text_key = self._text_params_digest()

    def _text_params_digest(self) -> str:
        h = hashlib.sha256()
        for name, t in sorted(self.model.text.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().float().cpu().numpy().tobytes())
        h.update(repr(self.model.text_identity.get("sha256")).encode())
        return h.hexdigest()[:20]

    def encode_text(self, labels: list[str], template: str | None = None) -> np.ndarray:
        """Prepared ``(K, D)`` text tensor of a label set (computed once; memory and disk cache)."""
        import torch

        texts = [template.format(l) if template else l for l in labels]
        key = (self._text_key, tuple(texts))
        if key in self._memory:
            return self._memory[key]
        digest = hashlib.sha256(("\x1f".join((self._text_key, *texts))).encode()).hexdigest()[:24]
        f = self._cache_dir / f"{digest}.npy"
        out = None
        if f.is_file():
            try:
                out = np.load(f, allow_pickle=False)
                if out.shape != (len(texts), self.dim):
                    out = None
            except (OSError, ValueError):
                out = None
        if out is None:
            with torch.no_grad():
                out = self.model.encode_text(texts).float().cpu().numpy().astype(np.float32)
            try:
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                tmp = f.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, out)
                tmp.replace(f)
            except OSError as err:  # a read-only home is not an error, just no disk cache
                log.debug("SCoPLe text cache not written: %s", err)
        self._memory[key] = out
        return out

    def encode_skeleton(self, windows: np.ndarray) -> np.ndarray:
        from skelzs.stream.errors import SkelzsError

        raise SkelzsError("SCoPLe scores windows against a label set (class-conditional); use score(windows, text)")

    def score(self, windows: np.ndarray, text_features: Any) -> np.ndarray:
        """Cosine score of each window with each label: ``(N, K)``."""
        import torch

        w = np.ascontiguousarray(windows, dtype=np.float32)
        if w.ndim == 4:
            w = w[None]
        t = np.ascontiguousarray(text_features, dtype=np.float32)
        if w.ndim != 5 or w.shape[1] != 3 or t.ndim != 2 or t.shape[1] != self.dim:
            from skelzs.stream.errors import SkelzsError

            raise SkelzsError(f"SCoPLe score: windows {w.shape} / text {t.shape} do not match "
                              f"(N,3,T,25,M) / (K,{self.dim})")
        if w.shape[0] == 0 or t.shape[0] == 0:
            return np.zeros((w.shape[0], t.shape[0]), np.float32)
        if self._session is not None:
            return self._session.run([ONNX_OUTPUT], {"windows": w, "text": t})[0]
        from skelzs.models.scople import SCoPLeScorer

        with torch.no_grad():
            s = SCoPLeScorer(self.model)(torch.from_numpy(w).to(self.device), torch.from_numpy(t).to(self.device))
        return s.float().cpu().numpy()

    def __repr__(self) -> str:
        return (f"SCoPLeZeroShotModel(backend={self.backend_name}, window={self.window_frames}x{self.persons}, "
                f"dim={self.dim}, class-conditional)")
