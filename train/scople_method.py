"""The SCoPLe training plug-in: ``skelzs-train fit --method scople`` (see :mod:`skelzs.train.methods`).

Importing this module adds ``METHODS["scople"]``; :func:`skelzs.train.methods.get_method` imports it on
demand. SCoPLe's optimisation is not published (papers.md B.1); these defaults are this project's
choices, recorded in every run's ``run.json``:

* AdamW, lr 1e-3, weight decay 0.01 (none on prompts, fusion weight and temperature), batch 64;
* linear warm-up over 5 epochs (epoch e < 5 runs at lr·(e+1)/5), then cosine decay per epoch to
  ``min_lr_ratio`` · lr at the last epoch; 50 epochs;
* loss: symmetric InfoNCE over the labels present in the batch (a leak-free label set: unseen classes
  never enter training) with the learnable CLIP temperature, + ``consistency_weight`` × the text
  consistency term (:func:`skelzs.models.scople.scople_infonce_loss`).

The running training accuracy the loop shows is over the labels present in each batch (other columns
are −inf), since scoring every class per step would run the prompted text side on all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from skelzs.train.methods import METHODS, Method, MethodContext, TrainDefaults

__all__ = ["SCoPLeTrainDefaults", "SCoPLeMethod", "create_scople", "aligned_zsl_scores"]


@dataclass(frozen=True)
class SCoPLeTrainDefaults(TrainDefaults):
    """AdamW + warm-up + cosine (this project's choice; SCoPLe's schedule is unpublished)."""

    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_epochs: int = 5
    lr_steps: tuple[int, ...] = ()
    epochs: int = 50
    batch_size: int = 64
    min_lr_ratio: float = 0.01

    def lr_at(self, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            return self.lr * (epoch + 1) / self.warmup_epochs
        span = max(1, self.epochs - 1 - self.warmup_epochs)
        progress = min(1.0, (epoch - self.warmup_epochs) / span)
        floor = self.lr * self.min_lr_ratio
        return floor + (self.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


class SCoPLeMethod(Method):
    """SCoPLe: the class texts are a trainable part of the model, so ``prepare_text`` keeps the raw
    label texts and the model encodes them (with gradients) inside each step."""

    name = "scople"
    supports_embeddings = False

    def __init__(self, model, defaults: TrainDefaults, config):
        super().__init__(model, defaults)
        self.config = config
        self._text_cache: tuple[tuple, object] | None = None

    def param_groups(self, model) -> list[dict]:
        groups = model.trainable_groups()
        no_decay = groups["prompts"] + groups["temperature"]
        decay = groups["sampler"] + groups["projector"] + groups["backbone"]
        out = [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]
        return [g for g in out if g["params"]]

    def prepare_text(self, text_encoder, texts: list[str]) -> list[str]:
        return list(texts)

    def training_step(self, model, x, y, text):
        import torch

        from skelzs.models.scople import scople_infonce_loss

        classes, targets = torch.unique(y, sorted=True, return_inverse=True)
        labels = [text[c] for c in classes.tolist()]
        scores, scale, consistency = model(x, labels, return_aux=True)
        loss = scople_infonce_loss(scores.float(), targets, scale.float())
        if self.config.consistency_weight and self.config.use_language_prompts:
            loss = loss + self.config.consistency_weight * consistency.float()
        with torch.no_grad():
            logits = torch.full((x.shape[0], len(text)), float("-inf"), device=scores.device)
            logits[:, classes] = scores.detach().float()
        return loss, logits

    def _text_tensor(self, model, text):
        """Prepared (K, D) text tensor, recomputed only when the labels or the text prompts changed."""
        import torch

        params = [p for p in model.text.parameters()]
        key = (tuple(text), tuple(p._version for p in params), tuple(p.data_ptr() for p in params),
               str(next(model.parameters()).device))
        if self._text_cache is None or self._text_cache[0] != key:
            with torch.no_grad():
                self._text_cache = (key, model.encode_text(list(text)).float())
        return self._text_cache[1]

    def scores(self, model, x, text):
        t = text if not isinstance(text, (list, tuple)) else self._text_tensor(model, text)
        return model(x, t)

    def embed(self, model, x):
        return None

    def checkpoint_config(self) -> dict:
        return {"method": "scople", "architecture": self.config.to_dict(),
                "text_identity": dict(self.model.text_identity)}


def aligned_zsl_scores(method: SCoPLeMethod, model, ds, indices, text, classes, *, device, alpha: float,
                       batch_size: int = 64):
    """PGFA's batch prototype alignment on SCoPLe's class-conditional embeddings (papers.md A.7).

    Scores the samples ``indices`` of a prepared dataset against ``classes`` only (the unseen
    classes in ZSL), keeps every (window, class) embedding z[n, c], and re-scores with
    :func:`skelzs.models.scople.class_conditional_prototype_alignment`. Returns
    ``(labels (N,), raw (N, C), aligned (N, C))`` as numpy arrays.
    """
    import numpy as np
    import torch

    from skelzs.models.scople import class_conditional_prototype_alignment
    from skelzs.train.dataset import BatchArrayDataset

    model.eval()
    t = method._text_tensor(model, [text[c] for c in classes]).to(device)
    subset = BatchArrayDataset(ds.data, ds.labels, np.asarray(indices), transform=ds.input_transform())
    zs, scores = [], []
    with torch.no_grad():
        for start in range(0, len(subset), batch_size):
            x, _ = subset[range(start, min(start + batch_size, len(subset)))]
            z = model.embed_pairs(x.to(device), t).float().cpu()
            zs.append(z)
            scores.append((z * torch.nn.functional.normalize(t.float().cpu(), dim=-1)[None]).sum(-1))
    z = torch.cat(zs)
    raw = torch.cat(scores)
    aligned = class_conditional_prototype_alignment(z, raw, t.float().cpu(), alpha)
    return ds.labels[np.asarray(indices)], raw.numpy(), aligned.numpy()


def scople_defaults(dataset: str) -> SCoPLeTrainDefaults:
    return SCoPLeTrainDefaults()


def create_scople(ctx: MethodContext) -> SCoPLeMethod:
    from skelzs.models.scople import SCoPLeConfig, SCoPLeModel

    if ctx.model is not None:
        model = ctx.model
        config = model.config
    else:
        from skelzs.stream.errors import SkelzsError

        arch = {"frames": ctx.frames, "persons": ctx.persons, **ctx.overrides}
        try:
            config = SCoPLeConfig.from_dict(arch)
        except (TypeError, ValueError) as err:
            raise SkelzsError(f"--config for scople: {err}") from None
        model = SCoPLeModel(config)
    return SCoPLeMethod(model, scople_defaults(ctx.dataset), config)


METHODS["scople"] = create_scople
