"""ONNX export of the skeleton side (encoder + projection + L2 normalization) and TensorRT engines.

ONNX: input ``windows`` ``(N, 3, T, 25, M)`` float32 with T, V, M fixed and N dynamic, output
``embeddings`` ``(N, D)`` L2-normalized; the dynamo exporter (``torch.onnx.export(dynamo=True)``) at
the pinned :data:`ONNX_OPSET`; ``onnx.checker`` runs on every export. The graph records the sha256
of the weights it was exported from (metadata ``skelzs.weights_sha256``), so a stale graph is noticed.

TensorRT (optional; not installable on the development machines, so this path is written against
the documented TensorRT 10/11 Python API and unverified): an engine is built from the ONNX with an
optimization profile over the batch; FP16 through ``BuilderFlag.FP16`` on TensorRT 10 and through an
fp16 ONNX on TensorRT ≥ 11 (which removed the flag: networks are strongly typed); engines are cached
under a key of ONNX sha256, TensorRT version, GPU name and compute capability, profile and precision,
with a persisted timing cache.

Per-person graph (:func:`export_person_onnx`): input ``person`` ``(P, 3, T, 25)``, output
``person_features`` ``(P, C)``, the encoder branch of one person slot before the person mean; ONNX
Runtime runs it only on the present persons of each window (:func:`skelzs.models.backends.embed_by_person`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skelzs.stream.errors import CheckpointError, SkelzsError

__all__ = ["ONNX_OPSET", "INPUT_NAME", "OUTPUT_NAME", "PERSON_INPUT_NAME", "PERSON_OUTPUT_NAME", "SkeletonEmbedder",
           "PersonBranch", "export_onnx", "export_person_onnx", "onnx_parity",
           "onnx_weights_sha256", "tensorrt_status", "TensorRTUnavailable", "build_engine", "engine_cache_key",
           "export_checkpoint"]

log = logging.getLogger("skelzs.models")

ONNX_OPSET = 18
#: Bumped whenever the exported graph of the same weights changes form (2: ST-GCN adjacency-first
#: graph convolution), so graphs cached by an older skelzs are exported again.
GRAPH_REVISION = 2
INPUT_NAME, OUTPUT_NAME = "windows", "embeddings"
PERSON_INPUT_NAME, PERSON_OUTPUT_NAME = "person", "person_features"
MAX_BATCH = 4096


class TensorRTUnavailable(SkelzsError):
    """TensorRT (or a CUDA GPU) is missing."""


class SkeletonEmbedder(nn.Module):
    """``windows (N,3,T,V,M) -> normalize(model(windows))``: what the ONNX graph computes."""

    def __init__(self, model: nn.Module, half: bool = False):
        super().__init__()
        self.model, self.half = model, half

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        if self.half:
            windows = windows.half()
        return F.normalize(self.model(windows), dim=-1).float()


class PersonBranch(nn.Module):
    """``person (P,3,T,V) -> model.forward_person_features(person, slot)``: the per-person ONNX graph."""

    def __init__(self, model: nn.Module, slot: int):
        super().__init__()
        self.model, self.slot = model, slot

    def forward(self, person: torch.Tensor) -> torch.Tensor:
        return self.model.forward_person_features(person, self.slot)


def _export(wrapper: nn.Module, example: torch.Tensor, path: Path, input_name: str, output_name: str,
            opset: int, meta: dict[str, str]) -> Path:
    """Dynamo export with a dynamic batch, ``onnx.checker``, and ``meta`` as metadata properties."""
    import warnings

    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(wrapper, (example,), str(path), input_names=[input_name], output_names=[output_name],
                          dynamic_shapes={input_name: {0: batch}}, dynamo=True, opset_version=opset,
                          external_data=False, optimize=True, verbose=False)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(proto, str(path))
    return path


def export_onnx(model: nn.Module, path: str | Path, *, frames: int, persons: int = 2, opset: int = ONNX_OPSET,
                weights_sha256: str | None = None, fp16: bool = False) -> Path:
    """Export ``model`` (PGFA: encoder + projection) to ``path``; returns the path.

    ``fp16`` exports fp16 weights and compute with float32 input/output (for TensorRT ≥ 11).
    """
    import copy

    net = copy.deepcopy(model).cpu().eval()
    if fp16:
        net = net.half()
    meta = {"skelzs.frames": str(frames), "skelzs.persons": str(persons), "skelzs.precision": "fp16" if fp16 else "fp32"}
    if weights_sha256:
        meta["skelzs.weights_sha256"] = weights_sha256
    return _export(SkeletonEmbedder(net, half=fp16).eval(), torch.zeros(2, 3, frames, 25, persons), Path(path),
                   INPUT_NAME, OUTPUT_NAME, opset, meta)


def export_person_onnx(model: nn.Module, folder: str | Path, *, frames: int, persons: int = 2,
                       opset: int = ONNX_OPSET, weights_sha256: str | None = None,
                       adjacency_first: bool = True) -> list[Path]:
    """Export the per-person branch ``person (P,3,T,25) -> person_features (P,C)`` (PGFA
    ``forward_person_features``) into ``folder``: ``person.onnx`` when the branch is the same for every
    slot, else ``person0.onnx`` … one per slot. Returns the paths in slot order.
    ``adjacency_first=False`` exports ST-GCN graph convolutions in the textbook order (the int8 source)."""
    import copy

    from skelzs.models.stgcn import set_graph_conv_order

    net = set_graph_conv_order(copy.deepcopy(model).cpu().eval(), adjacency_first)
    slots = [None] if getattr(net, "person_slots_shared", False) else list(range(persons))
    paths = []
    for slot in slots:
        meta = {"skelzs.frames": str(frames), "skelzs.person_slot": "any" if slot is None else str(slot)}
        if weights_sha256:
            meta["skelzs.weights_sha256"] = weights_sha256
        name = "person.onnx" if slot is None else f"person{slot}.onnx"
        paths.append(_export(PersonBranch(net, slot or 0).eval(), torch.zeros(2, 3, frames, 25), Path(folder) / name,
                             PERSON_INPUT_NAME, PERSON_OUTPUT_NAME, opset, meta))
    return paths


def onnx_metadata(path: str | Path) -> dict[str, str]:
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # noqa: BLE001 - any parse failure is a corrupt file
        raise CheckpointError(f"{path}: not a readable ONNX file ({str(err).splitlines()[0]})") from None
    return {p.key: p.value for p in proto.metadata_props}


def onnx_weights_sha256(path: str | Path) -> str | None:
    return onnx_metadata(path).get("skelzs.weights_sha256")


def onnx_parity(model: nn.Module, path: str | Path, *, frames: int, persons: int = 2, batch: int = 8,
                text: torch.Tensor | None = None, seed: int = 0) -> dict:
    """Torch vs ONNX Runtime on fixed random windows: ``min_cosine`` per embedding and whether top-1
    over ``text`` (random unit vectors when None) agrees for every window."""
    import onnxruntime as ort

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, frames, 25, persons, generator=g) * 0.5
    with torch.no_grad():
        ref = SkeletonEmbedder(model.cpu().eval())(x).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
    cos = (ref * got).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1))
    if text is None:
        text = F.normalize(torch.randn(12, ref.shape[1], generator=g), dim=-1)
    t = np.asarray(text, np.float32)
    return {"min_cosine": float(cos.min()), "top1_equal": bool(((ref @ t.T).argmax(1) == (got @ t.T).argmax(1)).all()),
            "max_abs_diff": float(np.abs(ref - got).max())}


# ----------------------------------------------------------------------------- TensorRT


def tensorrt_status() -> tuple[bool, str]:
    """``(available, reason)``: TensorRT imports and a CUDA GPU is present."""
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return False, "TensorRT is not installed (pip install 'skelzs[trt]' on a machine with an NVIDIA GPU)"
    if not torch.cuda.is_available():
        return False, "TensorRT needs a CUDA GPU; none is visible to torch"
    return True, f"TensorRT {tensorrt.__version__}"


def _trt():
    ok, reason = tensorrt_status()
    if not ok:
        raise TensorRTUnavailable(reason)
    import tensorrt as trt

    return trt


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def engine_cache_key(onnx_path: str | Path, *, trt_version: str, gpu_name: str, capability: tuple[int, int],
                     profile: tuple[int, int, int], precision: str) -> str:
    """Key of a built engine: everything that makes an engine invalid when it changes."""
    parts = {"onnx": _sha256_file(Path(onnx_path)), "trt": trt_version, "gpu": gpu_name,
             "sm": f"{capability[0]}.{capability[1]}", "profile": list(profile), "precision": precision}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _trt_major(trt) -> int:
    return int(str(trt.__version__).split(".")[0])


def build_engine(onnx_path: str | Path, *, fp16: bool = False, profile: tuple[int, int, int] = (1, 32, 256),
                 cache_dir: str | Path | None = None, workspace_bytes: int = 1 << 30) -> Path:
    """Build (or reuse from the cache) a TensorRT engine for ``onnx_path``; returns the engine path.

    ``profile`` = (min, opt, max) batch. With ``fp16`` on TensorRT ≥ 11 pass an fp16 ONNX
    (:func:`export_onnx` ``fp16=True``); on TensorRT 10 the builder flag is set.
    """
    from skelzs.models.text import cache_root

    trt = _trt()
    onnx_path = Path(onnx_path)
    props = torch.cuda.get_device_properties(0)
    precision = "fp16" if fp16 else "fp32"
    key = engine_cache_key(onnx_path, trt_version=trt.__version__, gpu_name=props.name,
                           capability=(props.major, props.minor), profile=profile, precision=precision)
    folder = Path(cache_dir) if cache_dir else cache_root() / "tensorrt"
    folder.mkdir(parents=True, exist_ok=True)
    engine_path = folder / f"{key}.engine"
    if engine_path.is_file():
        return engine_path
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode on TensorRT 10+
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise CheckpointError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if fp16 and _trt_major(trt) < 11:
        config.set_flag(trt.BuilderFlag.FP16)
    timing_path = folder / f"timing-{trt.__version__}-{props.name.replace(' ', '_')}.cache"
    timing = config.create_timing_cache(timing_path.read_bytes() if timing_path.is_file() else b"")
    config.set_timing_cache(timing, ignore_mismatch=False)
    opt = builder.create_optimization_profile()
    shape = tuple(network.get_input(0).shape)[1:]
    lo, mid, hi = profile
    opt.set_shape(INPUT_NAME, (lo, *shape), (mid, *shape), (hi, *shape))
    config.add_optimization_profile(opt)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise CheckpointError(f"TensorRT failed to build an engine from {onnx_path}")
    engine_path.write_bytes(bytes(serialized))
    timing_path.write_bytes(bytes(config.get_timing_cache().serialize()))
    return engine_path


# ----------------------------------------------------------------------------- checkpoint → export


def export_checkpoint(checkpoint: str | Path, out: str | Path, *, format: str = "onnx", fp16: bool = False) -> dict:
    """``skelzs export``: write ``out`` as a checkpoint folder with ``model.onnx`` (checked for
    parity with torch) and, for ``format="tensorrt"``, a TensorRT engine. Returns a summary dict."""
    from skelzs.models.checkpoint import ONNX, copy_checkpoint, load_checkpoint, weights_sha256

    if format not in ("onnx", "tensorrt"):
        raise SkelzsError(f"--format must be onnx or tensorrt, got {format!r}")
    if format == "tensorrt":
        _trt()  # fail before the slow ONNX export when TensorRT is missing
    model, config = load_checkpoint(checkpoint)
    if config["method"] == "scople":
        from skelzs.models.scople_export import export_scople_onnx, scople_onnx_parity

        out = copy_checkpoint(checkpoint, out)
        window = config.get("window", {})
        frames, persons = int(window.get("frames", 64)), int(window.get("persons", 2))
        path = export_scople_onnx(model, out / ONNX, frames=frames, persons=persons)
        worst = scople_onnx_parity(model, path, frames=frames, persons=persons)
        if worst > 1e-4:
            raise SkelzsError(f"exported SCoPLe ONNX disagrees with torch: max |score difference| {worst:.2e}")
        if format == "tensorrt":
            raise SkelzsError("TensorRT export is available for PGFA checkpoints only")
        return {"onnx": str(path), "parity": {"max_abs_score_diff": worst}, "opset": ONNX_OPSET}
    window = config.get("window", {})
    frames, persons = int(window.get("frames", 50)), int(window.get("persons", 2))
    out = copy_checkpoint(checkpoint, out)
    sha = weights_sha256(out)
    path = export_onnx(model, out / ONNX, frames=frames, persons=persons, weights_sha256=sha)
    parity = onnx_parity(model, path, frames=frames, persons=persons)
    if parity["min_cosine"] < 0.9999 or not parity["top1_equal"]:
        raise SkelzsError(f"exported ONNX disagrees with torch: {parity}")
    summary = {"onnx": str(path), "parity": parity, "opset": ONNX_OPSET}
    if format == "tensorrt":
        trt = _trt()
        src = path
        if fp16 and _trt_major(trt) >= 11:
            src = export_onnx(model, out / "model.fp16.onnx", frames=frames, persons=persons,
                              weights_sha256=sha, fp16=True)
        engine = build_engine(src, fp16=fp16, cache_dir=out / "tensorrt")
        summary["engine"] = str(engine)
    return summary
