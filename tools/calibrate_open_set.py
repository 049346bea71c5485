"""Open-set threshold of a window checkpoint, from real held-out recordings.

Live windows are cut from the 16 PKU-MMD ``val`` sequences (cross-subject test side, never
trained on) at the checkpoint's rate and length, every ``frames // 4`` frames. A window whose
middle frame lies inside a labelled segment is an *action* window; one more than half a window
away from every segment is an *idle* window (people standing, walking to their marks). For each
candidate threshold on the best cosine over the 51 PKU-MMD names this prints the share of action
windows kept and of idle windows rejected; ``--pick`` is the highest threshold that still keeps
``--keep`` of the action windows.

``python -m skelzs.tools.calibrate_open_set --checkpoint assets/default --data ../shared/data``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

__all__ = ["open_set_scores", "main"]


def open_set_scores(model, data: Path) -> tuple[np.ndarray, np.ndarray]:
    """Best cosines of the action windows and of the idle windows (see the module docstring)."""
    from skelzs.stream.formats import load_sequence
    from skelzs.stream.pku import read_pku_labels
    from skelzs.stream.preprocess import normalize_windows, sliding_windows

    names = [n for n in (data / "class_names" / "pku51_official_names.txt").read_text().splitlines() if n.strip()]
    text = np.asarray(model.encode_text(names), np.float32)
    frames, fps = model.window_frames, model.fps
    stride = max(1, frames // 4)
    act, idle = [], []
    for f in sorted((data / "pku_mmd_more" / "val").glob("*.npz")):
        seq = load_sequence(f).with_persons(model.persons)
        segs = read_pku_labels(f.with_name(f.stem + ".labels.txt"))
        w = sliding_windows(seq, frames, fps, stride)
        best = (np.asarray(model.encode_skeleton(normalize_windows(w, model.preprocess)), np.float32) @ text.T).max(1)
        ratio = seq.fps / fps
        mid = (np.arange(len(w)) * stride + frames / 2) * ratio + 1         # 1-based source frame
        inside = np.zeros(len(w), bool)
        near = np.zeros(len(w), bool)
        for s in segs:
            inside |= (mid >= s.start) & (mid <= s.end)
            near |= (mid >= s.start - frames * ratio / 2) & (mid <= s.end + frames * ratio / 2)
        act.append(best[inside])
        idle.append(best[~near])
    return np.concatenate(act), np.concatenate(idle)


def main(argv: list[str] | None = None) -> dict:
    from skelzs.models.api import load

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--keep", type=float, default=0.9, help="Share of action windows the picked threshold keeps.")
    ap.add_argument("--backend", default="onnxruntime")
    args = ap.parse_args(argv)
    model = load(args.checkpoint, backend=args.backend)
    act, idle = open_set_scores(model, args.data)
    rows = []
    print(f"{len(act)} action windows, {len(idle)} idle windows (PKU-MMD val)")
    print("threshold  actions kept  idle rejected")
    for t in np.arange(0.10, 0.61, 0.05):
        kept, rej = float((act >= t).mean()), float((idle < t).mean()) if len(idle) else float("nan")
        rows.append({"threshold": round(float(t), 2), "actions_kept": kept, "idle_rejected": rej})
        print(f"  {t:.2f}      {kept:6.1%}        {rej:6.1%}")
    pick = float(np.floor(np.quantile(act, 1 - args.keep) * 100) / 100)
    print(f"pick: {pick:.2f} keeps {float((act >= pick).mean()):.1%} of action windows, rejects "
          f"{float((idle < pick).mean()):.1%} of idle ones")
    out = {"rows": rows, "pick": pick, "n_action": int(len(act)), "n_idle": int(len(idle))}
    print(json.dumps({"pick": pick}))
    return out


if __name__ == "__main__":
    main()
