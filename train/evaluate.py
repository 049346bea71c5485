"""Zero-shot evaluation of a trained method on a split: ZSL and GZSL (papers.md A.7, C.1).

* **ZSL**: top-1/top-5 over the unseen classes, per-class accuracy, confusion matrix; with
  ``align="batch"`` PGFA's transductive prototype alignment over the whole unseen test set
  (:func:`skelzs.models.pgfa.prototype_alignment`, support factor α per dataset, A.7), with
  ``align="online"`` the streaming variant (:class:`skelzs.models.alignment.OnlinePrototypes`,
  each sample classified before it updates the prototypes, test set in file order).
* **GZSL**: S and U predicting over all seen ∪ unseen classes, H = 2SU/(S+U): plain, calibrated
  stacking with γ chosen on the validation split, and the gating variant with its temperature
  and threshold chosen on the validation split (:mod:`skelzs.train.metrics`). The validation
  split is a GZSL rehearsal: training classes play "seen", validation classes "unseen".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from skelzs.models.pgfa import DEFAULT_SUPPORT_FACTOR, SUPPORT_FACTOR
from skelzs.stream.errors import SkelzsError
from skelzs.train import metrics as M
from skelzs.train.dataset import BatchArrayDataset, PreparedDataset
from skelzs.train.splits import SplitPartitions

__all__ = ["SUPPORT_FACTOR", "Outputs", "compute_outputs", "align_scores", "EpochEval", "evaluate_partitions",
           "evaluate_full", "format_report"]

log = logging.getLogger("skelzs.train")

ALIGN_MODES = ("none", "batch", "online")


@dataclass
class Outputs:
    labels: np.ndarray  # (N,) global class ids
    scores: np.ndarray  # (N, K) similarities to every class
    embeddings: np.ndarray | None  # (N, D) L2-normalised, or None (class-conditional methods)


@torch.no_grad()
def compute_outputs(method, model, ds: PreparedDataset, indices: np.ndarray, text, *, device, amp_dtype=None,
                    batch_size: int = 64) -> Outputs:
    """Scores (and embeddings) of the samples ``indices`` in file order."""
    model.eval()
    subset = BatchArrayDataset(ds.data, ds.labels, indices, transform=ds.input_transform())
    scores, embeds = [], []
    for start in range(0, len(subset), batch_size):
        x, _ = subset[range(start, min(start + batch_size, len(subset)))]
        x = x.to(device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            if method.supports_embeddings:
                e = method.embed(model, x).float()
                embeds.append(e.cpu())
                s = e @ text.float().t()
            else:
                s = method.scores(model, x, text)
        scores.append(s.float().cpu())
    n_cls = ds.num_classes
    sc = torch.cat(scores).numpy() if scores else np.zeros((0, n_cls), np.float32)
    em = torch.cat(embeds).numpy() if embeds else None
    return Outputs(ds.labels[indices], sc, em)


def align_scores(out: Outputs, text, classes: tuple[int, ...], mode: str, alpha: float) -> np.ndarray:
    """Scores over ``classes`` (N, len(classes)) after prototype alignment ``mode``."""
    sub = out.scores[:, list(classes)]
    if mode == "none":
        return sub
    if out.embeddings is None:
        raise SkelzsError(f"--align {mode}: this method has no skeleton embeddings (class-conditional scores)")
    t = torch.as_tensor(np.asarray(text.float().cpu() if torch.is_tensor(text) else text)[list(classes)])
    z = torch.as_tensor(out.embeddings)
    if mode == "batch":
        from skelzs.models.pgfa import prototype_alignment

        return _as_numpy(prototype_alignment(z, t, alpha))
    if mode == "online":
        from skelzs.models.alignment import OnlinePrototypes

        online = OnlinePrototypes(t, support_factor=alpha)
        rows = []
        for i in range(z.shape[0]):  # classify with the current prototypes, then update them
            rows.append(_as_numpy(online.scores(z[i : i + 1]))[0])
            online.update(z[i : i + 1])
        return np.stack(rows) if rows else sub
    raise SkelzsError(f"--align {mode!r}: expected one of {', '.join(ALIGN_MODES)}")


def _as_numpy(x) -> np.ndarray:
    return x.detach().float().cpu().numpy() if torch.is_tensor(x) else np.asarray(x, np.float32)


def _full_from_sub(sub: np.ndarray, classes: tuple[int, ...], k: int) -> np.ndarray:
    full = np.full((sub.shape[0], k), -np.inf, np.float32)
    full[:, list(classes)] = sub
    return full


@dataclass
class EpochEval:
    values: dict = field(default_factory=dict)

    def get(self, key):
        return self.values.get(key)

    def summary(self) -> dict:
        return dict(self.values)


def evaluate_partitions(method, model, ds, parts: SplitPartitions, text, *, device, amp_dtype=None,
                        which=("val",), batch_size: int = 64) -> EpochEval:
    """The cheap per-epoch numbers: val ZSL top-1 and H, or test ZSL top-1 (raw and batch-aligned)."""
    ev = EpochEval()
    alpha = SUPPORT_FACTOR.get(ds.name, DEFAULT_SUPPORT_FACTOR)
    if "val" in which and parts.val_unseen.size:
        idx = np.concatenate([parts.val_seen, parts.val_unseen])
        out = compute_outputs(method, model, ds, idx, text, device=device, amp_dtype=amp_dtype, batch_size=batch_size)
        mu = np.isin(out.labels, parts.val_classes)
        ev.values["val_zsl_top1"] = M.topk_accuracy(out.scores[mu], out.labels[mu], parts.val_classes, 1)
        if parts.val_seen.size:
            g = M.gzsl_calibrated(out.scores, out.labels, parts.train_classes, parts.val_classes, 0.0)
            ev.values["val_gzsl_H"] = g.harmonic
    if "test" in which:
        out = compute_outputs(method, model, ds, parts.zsl_test, text, device=device, amp_dtype=amp_dtype,
                              batch_size=batch_size)
        ev.values["test_zsl_top1"] = M.topk_accuracy(out.scores, out.labels, parts.unseen_classes, 1)
        if out.embeddings is not None:
            al = align_scores(out, text, parts.unseen_classes, "batch", alpha)
            ev.values["test_zsl_top1_aligned"] = M.topk_accuracy(
                _full_from_sub(al, parts.unseen_classes, ds.num_classes), out.labels, parts.unseen_classes, 1)
    return ev


def evaluate_full(method, model, ds: PreparedDataset, parts: SplitPartitions, text, *, device, amp_dtype=None,
                  align: str = "batch", gzsl: bool = True, batch_size: int = 64, alpha: float | None = None) -> dict:
    """The full report: ZSL (raw and aligned), per-class accuracy, confusion, GZSL variants."""
    alpha = SUPPORT_FACTOR.get(ds.name, DEFAULT_SUPPORT_FACTOR) if alpha is None else alpha
    K = ds.num_classes
    names = ds.classes
    test = compute_outputs(method, model, ds, parts.zsl_test, text, device=device, amp_dtype=amp_dtype,
                           batch_size=batch_size)
    report: dict = {"zsl": {}, "classes": {c: names[c] for c in parts.unseen_classes}}
    modes = ["none"] + ([align] if align != "none" else [])
    hook = _class_conditional_alignment(method)
    if test.embeddings is None and align != "none" and (align != "batch" or hook is None):
        raise SkelzsError(f"--align {align}: {method.name} has no single skeleton embedding; use --align none"
                          + ("" if hook is None else " or batch"))
    for mode in modes:
        if mode == "batch" and test.embeddings is None:
            _, _, sub = hook(method, model, ds, parts.zsl_test, text, parts.unseen_classes, device=device,
                             alpha=alpha, batch_size=batch_size)
        else:
            sub = align_scores(test, text, parts.unseen_classes, mode, alpha)
        m = M.zsl_metrics(_full_from_sub(sub, parts.unseen_classes, K), test.labels, parts.unseen_classes)
        report["zsl"][mode] = {
            "top1": m["top1"], "top5": m["top5"], "mean_per_class": m["mean_per_class"],
            "per_class": {names[c]: v for c, v in m["per_class"].items()},
            "confusion": m["confusion"].tolist(), "num_samples": m["num_samples"],
        }
    report["alignment"] = {"mode": align, "support_factor": alpha}
    if gzsl:
        report["gzsl"] = _gzsl_report(method, model, ds, parts, text, device, amp_dtype, batch_size)
    return report


def _class_conditional_alignment(method):
    """A method module's ``aligned_zsl_scores`` (batch alignment for class-conditional methods), if any."""
    import sys

    return getattr(sys.modules.get(type(method).__module__), "aligned_zsl_scores", None)


def _gzsl_report(method, model, ds, parts, text, device, amp_dtype, batch_size) -> dict:
    seen, unseen = parts.seen_classes, parts.unseen_classes
    g = compute_outputs(method, model, ds, parts.gzsl_test, text, device=device, amp_dtype=amp_dtype,
                        batch_size=batch_size)
    res = {"plain": M.gzsl_calibrated(g.scores, g.labels, seen, unseen, 0.0).as_dict()}
    if parts.val_unseen.size and parts.val_seen.size:
        idx = np.concatenate([parts.val_seen, parts.val_unseen])
        v = compute_outputs(method, model, ds, idx, text, device=device, amp_dtype=amp_dtype, batch_size=batch_size)
        gamma = M.choose_gamma(v.scores, v.labels, parts.train_classes, parts.val_classes)
        temp, thr = M.choose_gate(v.scores, v.labels, parts.train_classes, parts.val_classes)
        res["calibrated"] = M.gzsl_calibrated(g.scores, g.labels, seen, unseen, gamma).as_dict()
        res["gated"] = M.gzsl_gated(g.scores, g.labels, seen, unseen, temp, thr).as_dict()
        res["calibration_source"] = "validation split (training classes as seen, validation classes as unseen)"
    else:
        res["calibration_source"] = "none: this run has no validation split (trained with --select-on test|last)"
    return res


def format_report(report: dict, console=None) -> None:
    """Print a report (from ``evaluate_full`` plus ``published``/``notes``) as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    head = report.get("header", {})
    console.print(f"[bold]{head.get('split', '')}[/] — {head.get('method', '')} checkpoint {head.get('checkpoint', '')}")
    if head.get("selection"):
        console.print(head["selection"])
    t = Table(title="ZSL (unseen classes only)")
    for col in ("alignment", "top-1 %", "top-5 %", "mean per-class %", "samples"):
        t.add_column(col)
    for mode, m in report["zsl"].items():
        t.add_row(mode, f"{100 * m['top1']:.2f}", f"{100 * m['top5']:.2f}", f"{100 * m['mean_per_class']:.2f}",
                  str(m["num_samples"]))
    console.print(t)
    if "gzsl" in report:
        t = Table(title="GZSL (all classes)")
        for col in ("variant", "S %", "U %", "H %", "parameters"):
            t.add_column(col)
        for name in ("plain", "calibrated", "gated"):
            if name in report["gzsl"]:
                r = report["gzsl"][name]
                params = ", ".join(f"{k}={r[k]:.3g}" for k in ("gamma", "temperature", "threshold") if k in r)
                t.add_row(name, f"{100 * r['S']:.2f}", f"{100 * r['U']:.2f}", f"{100 * r['H']:.2f}", params)
        console.print(t)
        console.print(f"calibration: {report['gzsl']['calibration_source']}")
    pub = report.get("published", [])
    if pub:
        t = Table(title="Published (same class split)")
        for col in ("method", "protocol", "metric", "value %", "source"):
            t.add_column(col)
        for r in pub:
            t.add_row(r["method"], r["protocol"], r["metric"], f"{r['value']:.2f}",
                      r["tag"] + (f" ({r['note']})" if r.get("note") else ""))
        console.print(t)
    for note in report.get("protocol_notes", []):
        console.print(f"• {note}")


def to_json(report: dict) -> str:
    return json.dumps(report, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))


def load_for_eval(checkpoint: str | Path, device):
    """(method, model, config) from a checkpoint folder."""
    from skelzs.models.checkpoint import load_checkpoint

    from skelzs.train.methods import MethodContext, get_method

    model, config = load_checkpoint(checkpoint)
    name = config.get("method")
    if not name:
        raise SkelzsError(f"{checkpoint}: config.json names no method")
    labels = config.get("labels", {})
    ctx = MethodContext(dataset=labels.get("dataset", "custom"), num_classes=len(labels.get("classes", [])),
                        frames=int(config.get("window", {}).get("frames", 50)), model=model, checkpoint_config=config)
    method = get_method(name)(ctx)
    return method, method.model.to(device), config
