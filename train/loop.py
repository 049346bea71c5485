"""The one training loop (nanoGPT style): ``fit(FitConfig) -> FitResult``.

One preamble sets up the device, mixed precision and, when launched by ``torchrun``, DDP
(``RANK`` in the environment: one process per GPU, NCCL on GPUs, Gloo on CPUs; only rank 0 logs,
evaluates and writes checkpoints). ``--batch-size`` is the global batch; each rank takes
``batch_size / world_size`` samples through a ``DistributedSampler``.

Single node, all GPUs::

    torchrun --standalone --nproc_per_node=gpu -m skelzs.train.cli fit --method pgfa \\
        --data prepared/ntu60 --split smie_ntu60_split1 --out runs/pgfa-s1

Two nodes (run on each; ``--node_rank`` 0 on the node whose address is given)::

    torchrun --nnodes=2 --nproc_per_node=8 --node_rank=0 --rdzv_backend=c10d \\
        --rdzv_endpoint=10.0.0.1:29500 --rdzv_id=pgfa-s1 -m skelzs.train.cli fit ...

Every epoch the loop writes ``OUT/last/`` (a :mod:`skelzs.models.checkpoint` folder plus
``train_state.safetensors`` + ``train_state.json``: optimiser, epoch, RNG states, scaler;
no pickle anywhere), ``OUT/best/`` when the selection metric improves, one line of
``OUT/metrics.jsonl`` and the PNG plots. ``resume=True`` continues from ``OUT/last/``: the data
order is a pure function of (seed, epoch) and the learning rate of the epoch, so a killed and
resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler

from skelzs.stream.errors import CheckpointError, SkelzsError
from skelzs.train.dataset import BatchArrayDataset, PreparedDataset, read_class_texts
from skelzs.train.methods import MethodContext, TrainDefaults, get_method
from skelzs.train.splits import partition, resolve_split

__all__ = ["FitConfig", "FitResult", "fit", "load_train_state", "save_train_state", "DEFAULT_TEMPLATE"]

log = logging.getLogger("skelzs.train")

DEFAULT_TEMPLATE = "{}"
TRAIN_STATE_FORMAT = "skelzs-train-state/1"


@dataclass
class FitConfig:
    method: str
    data: str
    split: str
    out: str = "runs/run"
    class_text: str | None = None  # file: one text per class; default: manifest texts, else names
    template: str = DEFAULT_TEMPLATE  # applied to class names when no text file is given
    text_encoder: str = "all-MiniLM-L6-v2"
    config: dict[str, Any] = field(default_factory=dict)  # architecture overrides (--config)
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    warmup_epochs: int | None = None
    lr_steps: tuple[int, ...] | None = None  # epochs at which the lr drops x0.1 (PGFA 50, 80)
    resume: bool = False
    select_on: str = "val"  # val | test | last
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto (bf16 on CUDA, fp32 on CPU) | fp32 | bf16 | fp16
    workers: int = 0  # loader processes; 0 reads the memory map in the main process (fastest when cached)
    seed: int = 0
    augment: str = "none"  # skelzs.train.augment.AUGMENTATIONS; needs a dataset of raw windows
    vocab_loss: float = 0.0  # PGFA: + this weight x cross-entropy over all training-class texts
    val_seen_fraction: float = 0.1
    eval_every: int = 1
    progress: bool = True
    on_step: Callable[[int, int], None] | None = None  # (epoch, step) after each optimiser step


@dataclass
class FitResult:
    out: Path
    best_epoch: int
    best_metric: float
    selection: str
    epochs_run: int
    history: list[dict]


# ----------------------------------------------------------------------------------------------
# train state (no pickle: tensors in safetensors, everything else in JSON)
def save_train_state(folder: Path, optimizer, scaler, epoch: int, best: dict, rng: dict[str, torch.Tensor],
                     extra: dict | None = None) -> None:
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    sd = optimizer.state_dict()
    state_index: dict[str, dict[str, str]] = {}
    for pid, st in sd["state"].items():
        kinds = {}
        for k, v in st.items():
            if v is None:
                kinds[k] = "none"
                continue
            kinds[k] = "tensor" if torch.is_tensor(v) else "number"
            tensors[f"optim.{pid}.{k}"] = (v.detach() if torch.is_tensor(v) else torch.tensor(v)).cpu().contiguous()
        state_index[str(pid)] = kinds
    for k, v in rng.items():
        tensors[f"rng.{k}"] = v.cpu().contiguous()
    np_state = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(np.asarray(np_state[1], np.int64))
    meta = {
        "format": TRAIN_STATE_FORMAT,
        "epoch": epoch,  # epochs completed
        "best": best,
        "param_groups": sd["param_groups"],
        "optimizer_state": state_index,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "numpy_rng": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python_rng": _py_rng_to_json(random.getstate()),
        **(extra or {}),
    }
    save_file(tensors, str(folder / "train_state.safetensors"))
    (folder / "train_state.json").write_text(json.dumps(meta, indent=1))


def load_train_state(folder: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    from safetensors.torch import load_file

    try:
        meta = json.loads((folder / "train_state.json").read_text())
        tensors = load_file(str(folder / "train_state.safetensors"))
    except (OSError, json.JSONDecodeError, Exception) as err:  # safetensors raises its own types
        raise CheckpointError(f"{folder}: unreadable training state ({err})") from None
    if meta.get("format") != TRAIN_STATE_FORMAT:
        raise CheckpointError(f"{folder}: training state format {meta.get('format')!r} is not {TRAIN_STATE_FORMAT}")
    return meta, tensors


def _restore_optimizer(optimizer, meta: dict, tensors: dict[str, torch.Tensor]) -> None:
    state = {}
    for pid, kinds in meta["optimizer_state"].items():
        st = {}
        for k, kind in kinds.items():
            if kind == "none":
                st[k] = None
            elif kind == "number":
                st[k] = tensors[f"optim.{pid}.{k}"].item()
            else:
                st[k] = tensors[f"optim.{pid}.{k}"]
        state[int(pid)] = st
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def _py_rng_to_json(state) -> list:
    return [state[0], list(state[1]), state[2]]


def _py_rng_from_json(obj) -> tuple:
    return (obj[0], tuple(obj[1]), obj[2])


# ----------------------------------------------------------------------------------------------
def _atomic_replace_dir(tmp: Path, final: Path) -> None:
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SkelzsError(f"--device {name}: CUDA is not available on this machine")
    return dev


def _class_texts(cfg: FitConfig, ds: PreparedDataset) -> list[str]:
    if cfg.class_text:
        return read_class_texts(cfg.class_text, ds.num_classes)
    if ds.class_texts:
        return ds.class_texts
    return [cfg.template.format(c) for c in ds.classes]


def _rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    out = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    return out


def _set_rng_state(tensors: dict[str, torch.Tensor], device: torch.device, rank: int) -> None:
    """``tensors`` keyed ``torch.<rank>``/``cuda.<rank>``; a rank beyond the saved ones takes rank 0's."""
    key = f"torch.{rank}" if f"torch.{rank}" in tensors else "torch.0"
    torch.set_rng_state(tensors[key].to(torch.uint8))
    ckey = f"cuda.{rank}" if f"cuda.{rank}" in tensors else "cuda.0"
    if device.type == "cuda" and ckey in tensors:
        torch.cuda.set_rng_state(tensors[ckey].to(torch.uint8), device)


def _gather_rng(device: torch.device, world: int, ddp: bool) -> dict[str, torch.Tensor]:
    """Every rank's RNG state, keyed ``torch.<rank>``/``cuda.<rank>`` (tensor all-gather, no pickle)."""
    local = _rng_state(device)
    if not ddp:
        return {f"{k}.0": v for k, v in local.items()}
    out = {}
    comm_dev = device if dist.get_backend() == "nccl" else torch.device("cpu")
    for k, v in local.items():
        t = v.to(comm_dev)
        parts = [torch.empty_like(t) for _ in range(world)]
        dist.all_gather(parts, t)
        for r, p in enumerate(parts):
            out[f"{k}.{r}"] = p.cpu()
    return out


# ----------------------------------------------------------------------------------------------
def fit(cfg: FitConfig) -> FitResult:
    """Train ``cfg.method`` on ``cfg.split`` of the prepared dataset ``cfg.data``."""
    # ---- preamble: distributed, device, precision ------------------------------------------
    ddp = int(os.environ.get("RANK", -1)) != -1
    if ddp:
        rank, local_rank, world = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", 0)), int(os.environ["WORLD_SIZE"])
        if cfg.device in ("auto", "cuda") and torch.cuda.is_available():
            device = torch.device(f"cuda:{local_rank}")
            torch.cuda.set_device(device)
        else:
            device = _resolve_device("cpu" if cfg.device == "auto" else cfg.device)
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    else:
        rank, local_rank, world = 0, 0, 1
        device = _resolve_device(cfg.device)
    master = rank == 0
    precision = cfg.precision
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if device.type != "cuda" and precision in ("fp16", "bf16"):
        precision = "fp32"  # autocast on CPU is slower than fp32 for these convolutions
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    out = Path(cfg.out)

    try:
        return _fit(cfg, out, device, rank, world, ddp, master, precision, amp_dtype, scaler)
    finally:
        if ddp and dist.is_initialized():
            dist.destroy_process_group()


def _train_transform(cfg: FitConfig, ds: PreparedDataset):
    """Augmentation + window normalization for a dataset of ``raw`` windows; None otherwise."""
    from skelzs.train.augment import AUGMENTATIONS, WindowTransform, mirror_class_map

    if cfg.augment not in AUGMENTATIONS:
        raise SkelzsError(f"--augment {cfg.augment!r}: expected one of {', '.join(AUGMENTATIONS)}")
    if ds.window_normalization is None:
        if cfg.augment != "none":
            raise SkelzsError(f"--augment {cfg.augment} needs a dataset of raw windows (prepared with "
                              f"--pipeline raw); {ds.root} is prepared with {ds.pipeline}")
        return None
    return WindowTransform(normalize=ds.window_normalization, augment=AUGMENTATIONS[cfg.augment],
                           mirror_classes=mirror_class_map(ds.classes), seed=cfg.seed)


def quiet_text_loading() -> None:
    """No Hugging Face progress bars on stderr (skelzs prints its own progress)."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def _fit(cfg, out, device, rank, world, ddp, master, precision, amp_dtype, scaler) -> FitResult:
    from skelzs.models.text import load_text_encoder

    from skelzs.train.evaluate import evaluate_partitions
    from skelzs.train.plots import plot_history

    # ---- data ----------------------------------------------------------------------------
    ds = PreparedDataset.open(cfg.data)
    split = resolve_split(cfg.split, ds.classes)
    if cfg.select_on not in ("val", "test", "last"):
        raise SkelzsError(f"--select-on {cfg.select_on!r}: expected val, test or last")
    parts = partition(ds.labels, ds.train_side, split, ds.num_classes, dataset=ds.name,
                      use_validation=cfg.select_on == "val", val_seen_fraction=cfg.val_seen_fraction, seed=cfg.seed)
    if cfg.select_on == "val" and not parts.val_classes:
        raise SkelzsError(f"split {split.name} has no validation classes; use --select-on last or test")
    texts = _class_texts(cfg, ds)

    # ---- method, model, text -------------------------------------------------------------
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    quiet_text_loading()
    text_encoder = load_text_encoder(cfg.text_encoder)
    if cfg.vocab_loss < 0:
        raise SkelzsError(f"--vocab-loss {cfg.vocab_loss}: expected a weight >= 0")
    factory = get_method(cfg.method)
    method = factory(MethodContext(dataset=ds.name, num_classes=ds.num_classes, frames=ds.frames,
                                   persons=int(ds.data.shape[-1]), text_dim=int(text_encoder.dim),
                                   overrides=dict(cfg.config), train_classes=tuple(parts.train_classes),
                                   vocab_loss=cfg.vocab_loss))
    if cfg.vocab_loss and not getattr(method, "supports_vocab_loss", False):
        raise SkelzsError(f"--vocab-loss: method {cfg.method} has no single skeleton embedding to score "
                          "against every class text; use it with pgfa")
    hp: TrainDefaults = method.defaults.with_overrides(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                                                      warmup_epochs=cfg.warmup_epochs,
                                                      lr_steps=tuple(cfg.lr_steps) if cfg.lr_steps else None)
    model = method.model.to(device)
    with torch.no_grad():
        text = method.prepare_text(text_encoder, texts)
    text = text.to(device) if torch.is_tensor(text) else text
    train_model = torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None) if ddp else model
    if hp.optimizer == "sgd":
        optimizer = torch.optim.SGD(method.param_groups(model), lr=hp.lr, momentum=hp.momentum,
                                    nesterov=hp.nesterov, weight_decay=hp.weight_decay)
    else:
        optimizer = torch.optim.AdamW(method.param_groups(model), lr=hp.lr, weight_decay=hp.weight_decay)
    torch.manual_seed(cfg.seed + rank)  # per-rank stream for dropout

    per_rank_batch = hp.batch_size // world
    if per_rank_batch < 1:
        raise SkelzsError(f"batch size {hp.batch_size} is smaller than the {world} processes")
    train_set = BatchArrayDataset(ds.data, ds.labels, parts.train, dtype=ds.data.dtype,
                                  transform=_train_transform(cfg, ds))
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed, drop_last=False)
    batches = BatchSampler(sampler, per_rank_batch, drop_last=hp.drop_last)
    if len(batches) == 0:
        raise SkelzsError(f"{len(parts.train)} training samples make no full batch of {hp.batch_size}; lower --batch-size")
    loader = DataLoader(train_set, sampler=batches, batch_size=None, num_workers=cfg.workers,
                        pin_memory=device.type == "cuda", persistent_workers=False)

    # ---- resume ----------------------------------------------------------------------------
    start_epoch, best = 0, {"epoch": -1, "metric": -math.inf}
    history: list[dict] = []
    metrics_path = out / "metrics.jsonl"
    last_dir = out / "last"
    if cfg.resume and (last_dir / "train_state.json").is_file():
        from skelzs.models.checkpoint import load_checkpoint

        meta, tensors = load_train_state(last_dir)
        loaded, ckpt_cfg = load_checkpoint(last_dir)
        model.load_state_dict(loaded.state_dict())
        _restore_optimizer(optimizer, meta, tensors)
        if meta.get("scaler"):
            scaler.load_state_dict(meta["scaler"])
        _set_rng_state({k[4:]: v for k, v in tensors.items() if k.startswith("rng.")}, device, rank)
        if "rng.numpy" in tensors:
            st = meta["numpy_rng"]
            np.random.set_state((st[0], tensors["rng.numpy"].numpy().astype(np.uint32), st[1], st[2], st[3]))
        random.setstate(_py_rng_from_json(meta["python_rng"]))
        start_epoch, best = int(meta["epoch"]), meta["best"]
        if metrics_path.is_file():
            history = [json.loads(l) for l in metrics_path.read_text().splitlines() if l.strip()]
            history = [h for h in history if h["epoch"] < start_epoch]
        if master:
            log.info("resuming %s from epoch %d", out, start_epoch)
    elif cfg.resume and master:
        log.info("--resume: no checkpoint in %s, starting fresh", last_dir)
    if master and cfg.select_on == "test":
        log.warning("--select-on test: the epoch is chosen on the test split, as PGFA and SMIE report "
                    "(optimistic; the default --select-on val uses held-out seen classes)")
    if master:
        out.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text("".join(json.dumps(h) + "\n" for h in history))
        log.info("%s on %s: %s | %s, %d processes, %s", cfg.method, ds.name, split.title,
                 ", ".join(f"{k} {v}" for k, v in parts.summary().items()), world, precision)

    run_info = {
        "method": cfg.method, "split": split.name, "select_on": cfg.select_on, "seed": cfg.seed,
        "hyperparameters": hp.as_dict(), "world_size": world, "precision": precision,
        "pipeline": ds.pipeline, "augment": cfg.augment, "vocab_loss": cfg.vocab_loss, "dataset": ds.name, "text_encoder": getattr(text_encoder, "identity", cfg.text_encoder),
    }

    def checkpoint_config(epoch: int, metric: float) -> dict:
        arch = method.checkpoint_config()
        return {
            **arch,
            "text": getattr(text_encoder, "identity", {"name": cfg.text_encoder}),
            "layout": "ntu25",
            "window": {"frames": ds.frames, "persons": int(ds.data.shape[-1]), "fps": float(ds.manifest.get("fps", 30.0))},
            "preprocess": ds.window_normalization or ds.pipeline,
            **({"stream_preprocess": ds.window_normalization} if ds.window_normalization else {}),
            "labels": {
                "dataset": ds.name, "classes": ds.classes, "class_texts": texts, "split": split.name,
                "seen": list(parts.seen_classes), "unseen": list(parts.unseen_classes),
                "train_classes": list(parts.train_classes), "val_classes": list(parts.val_classes),
            },
            "training": {**run_info, "epoch": epoch, "selection_metric": metric},
        }

    def save(folder_name: str, epoch: int, metric: float, with_state: bool, rng) -> None:
        from skelzs.models.checkpoint import save_checkpoint

        tmp = out / f".{folder_name}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        save_checkpoint(tmp, model, checkpoint_config(epoch, metric))
        if with_state:
            save_train_state(tmp, optimizer, scaler, epoch + 1, best, rng)
        _atomic_replace_dir(tmp, out / folder_name)

    # ---- training --------------------------------------------------------------------------
    total_steps = len(batches) * hp.epochs
    progress = _Progress(enabled=master and cfg.progress, total=total_steps, done=len(batches) * start_epoch)
    train_mask = torch.full((ds.num_classes,), float("-inf"), device=device)
    train_mask[list(parts.train_classes)] = 0.0
    last_plot = time.perf_counter()
    with progress:
        for epoch in range(start_epoch, hp.epochs):
            lr = hp.lr_at(epoch)
            for g in optimizer.param_groups:
                g["lr"] = lr
            sampler.set_epoch(epoch)
            model.train()
            t0 = time.perf_counter()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device)
            seen = 0
            for step, (x, y) in enumerate(loader):
                x = x.to(device, non_blocking=True).float()
                y = y.to(device, non_blocking=True)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    loss, logits = method.training_step(train_model, x, y, text)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                with torch.no_grad():
                    loss_sum += loss.detach().float() * y.shape[0]
                    correct += ((logits.float() + train_mask).argmax(1) == y).sum()
                    seen += y.shape[0]
                if cfg.on_step is not None:
                    cfg.on_step(epoch, step)
                if progress.enabled and (step % 5 == 0 or step == len(batches) - 1):
                    dt = time.perf_counter() - t0
                    progress.update(epoch, hp.epochs, step + 1, float(loss_sum) / max(seen, 1),
                                    float(correct) / max(seen, 1), seen * world / max(dt, 1e-9))
                else:
                    progress.advance()
            stats = torch.stack([loss_sum, correct, torch.tensor(float(seen), device=device)])
            if ddp:
                dist.all_reduce(stats)
            elapsed = time.perf_counter() - t0
            record = {
                "epoch": epoch, "lr": lr, "train_loss": float(stats[0] / stats[2]), "train_acc": float(stats[1] / stats[2]),
                "samples_per_s": float(stats[2]) / elapsed, "epoch_time_s": elapsed,
            }
            # ---- evaluation and checkpoints (rank 0) ------------------------------------------
            rng = _gather_rng(device, world, ddp)
            if master:
                model.eval()
                evaluate_now = (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == hp.epochs
                if evaluate_now:
                    ev = evaluate_partitions(method, model, ds, parts, text, device=device, amp_dtype=amp_dtype,
                                             which=("val",) if cfg.select_on == "val" else ("test",),
                                             batch_size=hp.eval_batch_size)
                    record.update(ev.summary())
                    metric = {"val": ev.get("val_zsl_top1"), "test": ev.get("test_zsl_top1"),
                              "last": float(epoch)}[cfg.select_on]
                    if metric is not None and metric >= best["metric"]:  # ties: the later epoch
                        best = {"epoch": epoch, "metric": float(metric)}
                        save("best", epoch, float(metric), False, rng)
                save("last", epoch, best["metric"], True, rng)
                history.append(record)
                with metrics_path.open("a") as fh:
                    fh.write(json.dumps(record) + "\n")
                if epoch + 1 == hp.epochs or time.perf_counter() - last_plot > 60:
                    plot_history(history, out / "curves.png")  # ~0.5 s: at most once a minute
                    last_plot = time.perf_counter()
                progress.log_epoch(record)
            if ddp:
                dist.barrier()
    if master:
        log.info("best epoch %d (%s %.4f, selected on %s)", best["epoch"], "val ZSL top-1" if cfg.select_on == "val"
                 else "test ZSL top-1" if cfg.select_on == "test" else "last epoch", best["metric"], cfg.select_on)
        (out / "run.json").write_text(json.dumps({**run_info, "best": best, "partitions": parts.summary()}, indent=1))
    return FitResult(out, int(best["epoch"]), float(best["metric"]), cfg.select_on, hp.epochs - start_epoch, history)


class _Progress:
    """A rich progress bar over all training steps (loss, accuracy, samples/s, ETA), rank 0 only."""

    def __init__(self, enabled: bool, total: int, done: int):
        self.enabled = enabled
        self._bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[stats]}"), TimeRemainingColumn(), transient=False)
            self._task = self._bar.add_task("train", total=total, completed=done, stats="")

    def __enter__(self):
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def update(self, epoch, epochs, step, loss, acc, rate) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"epoch {epoch + 1}/{epochs}",
                             stats=f"loss {loss:.4f} acc {acc:.3f} {rate:.0f} samples/s")

    def log_epoch(self, record: dict) -> None:
        if self._bar is not None:
            keys = [k for k in ("val_zsl_top1", "test_zsl_top1", "val_gzsl_H") if k in record]
            extra = " ".join(f"{k} {record[k]:.3f}" for k in keys)
            self._bar.console.log(f"epoch {record['epoch'] + 1}: loss {record['train_loss']:.4f} "
                                  f"acc {record['train_acc']:.3f} lr {record['lr']:.4g} {extra}")
