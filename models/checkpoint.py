"""Checkpoints: a folder with ``model.safetensors`` + ``config.json`` (+ optional ``model.onnx``).

``config.json`` holds ``method`` (a key of :data:`MODEL_BUILDERS`), ``architecture`` (the method's
config dataclass as a dict), ``text`` (text model identity ``{"name", "sha256"}``), ``layout``,
``window`` ``{frames, persons, fps}``, ``preprocess`` (a :data:`skelzs.stream.preprocess.PIPELINES`
key) and ``labels`` (label-space information). Weights are read with safetensors only; nothing is
ever unpickled.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from skelzs.stream.errors import CheckpointError

__all__ = ["MODEL_BUILDERS", "FORMAT_VERSION", "WEIGHTS", "CONFIG", "ONNX", "save_checkpoint",
           "load_checkpoint", "from_pretrained", "read_config", "weights_sha256", "text_matches"]

FORMAT_VERSION = 1
WEIGHTS, CONFIG, ONNX = "model.safetensors", "config.json", "model.onnx"


def _build_pgfa(config: dict):
    from skelzs.models.pgfa import build_pgfa

    return build_pgfa(config)


def _build_scople(config: dict):
    from skelzs.models.scople import build_scople

    return build_scople(config)


#: ``config["method"]`` → factory building the (untrained) model from the config dict.
MODEL_BUILDERS: dict[str, Callable[[dict], Any]] = {
    "pgfa": _build_pgfa,
    "scople": _build_scople,
}


def weights_sha256(folder: str | Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(Path(folder) / WEIGHTS, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def text_matches(a: str | None, b: str | None) -> bool:
    """Two weights hashes agree (a shorter one may be a prefix of the longer one); unknown passes."""
    if not a or not b:
        return True
    return a.startswith(b) or b.startswith(a)


def save_checkpoint(folder: str | Path, model, config: dict) -> Path:
    """Write ``model.safetensors`` (the state dict) and ``config.json`` into ``folder``."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    if "method" not in config:
        raise CheckpointError("checkpoint config has no 'method'")
    folder.mkdir(parents=True, exist_ok=True)
    # clones: safetensors refuses tensors that share storage (tied or viewed parameters)
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items() if torch.is_tensor(v)}
    tmp = folder / f".{WEIGHTS}.{os.getpid()}.tmp"
    # one metadata key only: safetensors writes its metadata map in hash order, and the ONNX graph's
    # link to these weights is their byte hash, so the bytes must not depend on that order
    save_file(state, str(tmp), metadata={"format": "pt"})
    tmp.replace(folder / WEIGHTS)
    cfg = {"format_version": FORMAT_VERSION, **config}
    tmp = folder / f".{CONFIG}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(cfg, indent=1, default=_json_default))
    tmp.replace(folder / CONFIG)
    stale = folder / ONNX   # an exported graph of older weights would disagree with these
    if stale.exists() and not _onnx_matches(stale, folder):
        stale.unlink()
    return folder


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def _onnx_matches(onnx_path: Path, folder: Path) -> bool:
    from skelzs.models.export import onnx_weights_sha256

    return onnx_weights_sha256(onnx_path) == weights_sha256(folder)


def read_config(folder: str | Path) -> dict:
    """The ``config.json`` of a checkpoint folder, checked for the required keys."""
    folder = Path(folder)
    if folder.is_file() and folder.name in (CONFIG, WEIGHTS):
        folder = folder.parent
    if not folder.exists():
        raise CheckpointError(f"checkpoint not found: {folder}")
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: a checkpoint is a folder with {WEIGHTS} and {CONFIG}")
    path = folder / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{folder}: missing {CONFIG}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({str(err).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    method = config.get("method")
    if method not in MODEL_BUILDERS:
        raise CheckpointError(f"{path}: unknown method {method!r}; known: {', '.join(sorted(MODEL_BUILDERS))}")
    version = config.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format_version {version!r} is newer than this skelzs ({FORMAT_VERSION})")
    return config


def load_checkpoint(folder: str | Path, *, device: str = "cpu") -> tuple[Any, dict]:
    """``(model, config)`` from a checkpoint folder; the model is in eval mode.

    Raises :class:`CheckpointError` (one line) for a missing folder or file, invalid JSON, an unknown
    method, an architecture the config cannot build, corrupt weights, or missing / unexpected /
    wrongly shaped tensors.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    if folder.is_file() and folder.name in (CONFIG, WEIGHTS):
        folder = folder.parent
    config = read_config(folder)
    wpath = folder / WEIGHTS
    if not wpath.is_file():
        raise CheckpointError(f"{folder}: missing {WEIGHTS}")
    try:
        state = load_file(str(wpath), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{wpath}: corrupt or not a safetensors file ({str(err).splitlines()[0]})") from None
    model = MODEL_BUILDERS[config["method"]](config)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing tensors (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
        raise CheckpointError(f"{wpath}: weights do not match the {config['method']} architecture in {CONFIG}: "
                              + ", ".join(parts))
    for k, v in own.items():
        if tuple(v.shape) != tuple(state[k].shape):
            raise CheckpointError(f"{wpath}: tensor {k} has shape {tuple(state[k].shape)}, the architecture in "
                                  f"{CONFIG} expects {tuple(v.shape)}")
    model.load_state_dict(state, strict=True)
    return model.to(device).eval(), config


#: ``from_pretrained(path)`` is :func:`load_checkpoint`.
from_pretrained = load_checkpoint


def copy_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Copy a checkpoint folder's files (weights, config, ONNX) to ``dst``."""
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for name in (WEIGHTS, CONFIG, ONNX):
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)
    return dst
