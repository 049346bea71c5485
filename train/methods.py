"""Training methods as small plug-ins: ``METHODS`` maps a name to a factory.

The plug-in protocol (one training loop, :mod:`skelzs.train.loop`, drives every method):

``METHODS[name](ctx: MethodContext) -> Method`` where a :class:`Method` provides

* ``model``: the ``nn.Module`` that is trained and checkpointed (built from ``ctx``, or
  ``ctx.model`` when a checkpoint was loaded);
* ``defaults``: a :class:`TrainDefaults` (optimiser and schedule; may depend on ``ctx.dataset``);
* ``param_groups(model) -> list[dict]``: optimiser parameter groups;
* ``prepare_text(text_encoder, texts) -> T``: the class-text representation, computed once per
  run for all classes (PGFA: the ``(K, D)`` L2-normalised sentence embeddings);
* ``training_step(model, x, y, text) -> (loss, logits)``: ``model`` may be DDP-wrapped (call it,
  do not reach into it); ``logits`` are ``(B, K)`` over all classes, used for the running
  training accuracy (the loop masks them to the training classes);
* ``scores(model, x, text) -> (N, K)``: similarity of each sample to every class (evaluation);
* ``embed(model, x) -> (N, D) | None``: L2-normalised skeleton embeddings for prototype
  alignment, ``None`` when the skeleton side is class-conditional (SCoPLe);
* ``checkpoint_config() -> dict``: ``method`` plus the architecture part of ``config.json``.

A method without single skeleton embeddings may define, in its module, ``aligned_zsl_scores(method,
model, ds, indices, text, classes, *, device, alpha, batch_size) -> (labels, raw, aligned)`` for
``--align batch``.

A method module registers itself by adding its factory to the plain dict ``METHODS``
(``METHODS["scople"] = create_scople``); nothing else in the loop changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

__all__ = ["TrainDefaults", "MethodContext", "Method", "PGFAMethod", "create_pgfa", "METHODS", "get_method"]


@dataclass(frozen=True)
class TrainDefaults:
    """Optimiser and schedule (PGFA official code, papers.md A.6, unless a method says otherwise)."""

    optimizer: str = "sgd"  # sgd | adamw
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    warmup_epochs: int = 5  # linear from 0: epoch e < warmup has lr * e / warmup
    lr_steps: tuple[int, ...] = (50, 80)  # x0.1 at these epochs
    epochs: int = 50
    batch_size: int = 128
    drop_last: bool = True
    eval_batch_size: int = 64

    def lr_at(self, epoch: int) -> float:
        """Learning rate of ``epoch`` (0-based); a pure function, so resuming needs no scheduler state."""
        if epoch < self.warmup_epochs:
            return self.lr * epoch / self.warmup_epochs
        return self.lr * (0.1 ** sum(epoch >= s for s in self.lr_steps))

    def with_overrides(self, **kw: Any) -> "TrainDefaults":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})

    def as_dict(self) -> dict:
        d = asdict(self)
        d["lr_steps"] = list(self.lr_steps)
        return d


@dataclass
class MethodContext:
    """What a method factory may use to build itself."""

    dataset: str  # ntu60 | ntu120 | pku51 | custom
    num_classes: int
    frames: int
    persons: int = 2
    text_dim: int = 384
    overrides: dict[str, Any] = field(default_factory=dict)  # from --config (architecture keys)
    model: Any = None  # a loaded model (evaluation / fine-tuning); None builds a fresh one
    checkpoint_config: dict[str, Any] | None = None
    train_classes: tuple[int, ...] | None = None  # the classes trained on (the rest are never negatives)
    vocab_loss: float = 0.0  # weight of the whole-vocabulary cross-entropy (methods that support it)


class Method:
    """Base class with the defaults most methods share; see the module docstring."""

    name = "base"
    supports_embeddings = True

    def __init__(self, model, defaults: TrainDefaults):
        self.model = model
        self.defaults = defaults

    def param_groups(self, model) -> list[dict]:
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]

    def prepare_text(self, text_encoder, texts: list[str]):
        return text_encoder.encode(texts)

    def training_step(self, model, x, y, text):
        raise NotImplementedError

    def scores(self, model, x, text):
        raise NotImplementedError

    def embed(self, model, x):
        return None

    def checkpoint_config(self) -> dict:
        raise NotImplementedError


class PGFAMethod(Method):
    """PGFA (Zhou et al., TIP 2025): skeleton encoder + linear projection trained with the
    symmetric multi-positive KL loss against frozen sentence embeddings (papers.md A.5).

    ``vocab_loss`` > 0 (an addition, not in the paper) adds that weight times a cross-entropy of
    ``logit_scale · cos(f, t_c)`` over the texts of *all* training classes: the batch KL loss only
    contrasts a window with the classes that happen to share its batch (about 45 of 112 at batch
    64), so look-alike classes (drink water, brushing teeth) rarely meet as negatives. Unseen
    classes are never negatives."""

    name = "pgfa"
    supports_vocab_loss = True

    def __init__(self, model, defaults: TrainDefaults, config, *, vocab_loss: float = 0.0,
                 train_classes: tuple[int, ...] | None = None):
        super().__init__(model, defaults)
        self.config = config
        self.vocab_loss = float(vocab_loss)
        self.train_classes = tuple(train_classes) if train_classes is not None else None
        if self.vocab_loss > 0 and not self.train_classes:
            raise ValueError("vocab_loss needs the training classes")
        self._vocab_index = None  # (training class ids, class id -> position among them), on the device

    def _vocab(self, num_classes: int, device):
        import torch

        if self._vocab_index is None or self._vocab_index[0].device != device:
            classes = torch.as_tensor(self.train_classes, device=device)
            position = torch.full((num_classes,), -1, dtype=torch.long, device=device)
            position[classes] = torch.arange(len(classes), device=device)
            self._vocab_index = (classes, position)
        return self._vocab_index

    def training_step(self, model, x, y, text):
        import torch
        import torch.nn.functional as F

        from skelzs.models.pgfa import pgfa_kl_loss

        feats = model(x)  # (B, D) projected skeleton features
        scale = getattr(model, "module", model).logit_scale  # fixed 1/0.07 unless learnable (A.0)
        loss = pgfa_kl_loss(feats, text[y], y, logit_scale=scale)
        with torch.set_grad_enabled(self.vocab_loss > 0):  # (B, K) against every class text
            cos = F.normalize(feats.float(), dim=-1) @ text.float().t()
        if self.vocab_loss > 0:
            classes, position = self._vocab(text.shape[0], y.device)
            loss = loss + self.vocab_loss * F.cross_entropy(scale * cos[:, classes], position[y])
        return loss, cos.detach()

    def embed(self, model, x):
        import torch.nn.functional as F

        return F.normalize(model(x).float(), dim=-1)

    def scores(self, model, x, text):
        return self.embed(model, x) @ text.float().t()

    def checkpoint_config(self) -> dict:
        return {"method": "pgfa", "architecture": _config_dict(self.config)}


def _config_dict(cfg) -> dict:
    if hasattr(cfg, "to_dict"):
        return cfg.to_dict()
    from dataclasses import is_dataclass

    if is_dataclass(cfg):
        return asdict(cfg)
    return dict(cfg)


def pgfa_defaults(dataset: str) -> TrainDefaults:
    """PGFA official: lr 0.05 (NTU-60, PKU-MMD), 0.005 on NTU-120 (papers.md A.6)."""
    return TrainDefaults(lr=0.005 if dataset == "ntu120" else 0.05)


def create_pgfa(ctx: MethodContext) -> PGFAMethod:
    from skelzs.models.pgfa import PGFAConfig, PGFAModel

    if ctx.model is not None:
        model = ctx.model
        config = model.config
    else:
        try:
            config = PGFAConfig.from_dict({"text_dim": ctx.text_dim, **ctx.overrides})
            model = PGFAModel(config)
        except (TypeError, ValueError) as err:
            from skelzs.stream.errors import SkelzsError

            raise SkelzsError(f"--config for pgfa: {err}") from None
    return PGFAMethod(model, pgfa_defaults(ctx.dataset), config, vocab_loss=ctx.vocab_loss,
                      train_classes=ctx.train_classes)


METHODS: dict[str, Callable[[MethodContext], Method]] = {
    "pgfa": create_pgfa,
}


def get_method(name: str) -> Callable[[MethodContext], Method]:
    # Method modules that live elsewhere add themselves to METHODS on import.
    if name not in METHODS:
        import importlib.util

        if importlib.util.find_spec(f"skelzs.train.{name}_method") is not None:
            import importlib

            importlib.import_module(f"skelzs.train.{name}_method")
    if name not in METHODS:
        from skelzs.stream.errors import SkelzsError

        raise SkelzsError(f"unknown method {name!r}; available: {', '.join(sorted(METHODS))}")
    return METHODS[name]
