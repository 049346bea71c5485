"""skelzs.models: skeleton encoders, the text encoder, PGFA and SCoPLe heads, checkpoints,
ONNX/TensorRT export and inference backends.

``load(path, backend="auto") -> ZeroShotModel`` is the entry point (:mod:`skelzs.models.api`).
"""

from __future__ import annotations

__all__ = ["load", "ZeroShotModel"]


def __getattr__(name):  # lazy: `import skelzs.models.graph` must not pull in torch.onnx / transformers
    if name in ("load", "ZeroShotModel"):
        from skelzs.models import api

        return getattr(api, name)
    raise AttributeError(name)
