"""PNG plots written next to checkpoints: training curves and the unseen-class confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_history", "plot_confusion"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: list[dict], path: str | Path) -> Path:
    """Loss (left) and accuracy curves (right) per epoch from ``metrics.jsonl`` records."""
    plt = _pyplot()
    path = Path(path)
    epochs = [h["epoch"] + 1 for h in history]
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_l.plot(epochs, [h["train_loss"] for h in history], marker=".", label="train loss")
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("loss")
    ax_l.grid(alpha=0.3)
    ax_l.legend()
    for key, label in (("train_acc", "train (seen classes)"), ("val_zsl_top1", "val ZSL top-1"),
                       ("val_gzsl_H", "val GZSL H"), ("test_zsl_top1", "test ZSL top-1"),
                       ("test_zsl_top1_aligned", "test ZSL top-1, aligned")):
        pts = [(h["epoch"] + 1, h[key]) for h in history if h.get(key) is not None]
        if pts:
            ax_a.plot(*zip(*pts), marker=".", label=label)
    ax_a.set_xlabel("epoch")
    ax_a.set_ylabel("accuracy")
    ax_a.set_ylim(0, 1)
    ax_a.grid(alpha=0.3)
    ax_a.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def plot_confusion(confusion, class_names: list[str], path: str | Path, title: str = "unseen classes") -> Path:
    """Row-normalised confusion matrix (rows true, columns predicted) with counts."""
    plt = _pyplot()
    path = Path(path)
    m = np.asarray(confusion, float)
    rows = m.sum(axis=1, keepdims=True)
    norm = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    n = len(class_names)
    size = max(4.0, 0.45 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    short = [c if len(c) <= 28 else c[:26] + "…" for c in class_names]
    ax.set_xticks(range(n), short, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), short, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
