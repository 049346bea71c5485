"""Accuracy of a checkpoint on the real recordings in ``../shared/data`` (research-only test data).

Three measurements, each through :func:`skelzs.stream.classify.classify_recordings` (what
``skelzs classify`` runs):

* NTU RGB+D ``.skeleton`` files against the 60 NTU-60 class names;
* the PKU-MMD ``0160-L`` clips (cut at their labelled segments) against the 51 PKU-MMD names;
* the paired RGB video of S001C001P001R001A001 through MediaPipe (mirrored images: the NTU RGB
  videos are the Kinect's mirrored colour stream) against the 60 NTU-60 names.

Top-1 and top-5 accuracy are printed next to chance (1/K, 5/K).
``python -m skelzs.tools.eval_real_recordings --checkpoint assets/default --data ../shared/data``
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["evaluate_rows", "video_to_sequence", "main"]


def evaluate_rows(rows: list[dict], labels: list[str], k: int = 5) -> dict:
    """Top-1/top-k accuracy of ``classify_recordings`` rows whose ``action`` is known."""
    scored = [r for r in rows if r.get("action") is not None]
    top1 = [r["topk"][0][0] == labels[r["action"]] for r in scored]
    topk = [labels[r["action"]] in [lab for lab, _ in r["topk"][:k]] for r in scored]
    n = len(scored)
    return {"n": n, "classes": len(labels), "top1": float(np.mean(top1)) if n else None,
            "top5": float(np.mean(topk)) if n else None, "chance_top1": 1 / len(labels),
            "chance_top5": min(k, len(labels)) / len(labels),
            "predictions": [{"file": Path(r["path"]).name, "start": r.get("start"), "truth": labels[r["action"]],
                             "top5": [lab for lab, _ in r["topk"][:k]]} for r in scored]}


def video_to_sequence(video: Path, *, mirrored: bool = True, max_persons: int = 2):
    """Every frame of a video through MediaPipe (the ``skelzs live --video`` source) -> NTU-25 sequence."""
    from skelzs.stream.skeleton import SkeletonSequence
    from skelzs.stream.sources.pose import PoseOptions, PoseSource
    from skelzs.stream.sources.video import VideoOptions, VideoSource

    images = VideoSource.create_from_options(VideoOptions(video, realtime=False))
    frames: list[np.ndarray] = []
    with PoseSource(images, PoseOptions(max_persons=max_persons, mirrored=mirrored)) as src:
        for fr in src:
            j = np.zeros((max_persons, 25, 3), np.float32)
            for slot, person in enumerate(fr.persons[:max_persons]):
                j[slot] = person.joints
            frames.append(j)
        fps = float(getattr(src, "fps", 30.0) or 30.0)
    return SkeletonSequence(np.stack(frames), fps=fps, meta={"source": str(video)})


def main(argv: list[str] | None = None) -> dict:
    from skelzs.models.api import load
    from skelzs.stream.classify import classify_recordings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=None, help="default: assets/default")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--backend", default="onnxruntime")
    ap.add_argument("--template", default=None)
    ap.add_argument("--json", type=Path, default=None, help="Write the results here.")
    args = ap.parse_args(argv)
    if args.checkpoint is None:
        from skelzs.assets import asset_path

        args.checkpoint = asset_path("default")
    model = load(args.checkpoint, backend=args.backend)
    names = args.data / "class_names"
    ntu60 = (names / "mmaction2_label_map_ntu60.txt").read_text().splitlines()
    pku51 = (names / "pku51_official_names.txt").read_text().splitlines()
    out: dict = {"checkpoint": str(args.checkpoint), "backend": args.backend}

    ntu_files = sorted((args.data / "ntu_skeleton").glob("*.skeleton"))
    rows = classify_recordings(model, ntu60, ntu_files, template=args.template, top_k=5)
    out["ntu60_skeleton"] = evaluate_rows(rows, ntu60)

    pku = args.data / "pku_mmd"
    rows = classify_recordings(model, pku51, [pku / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt"],
                               template=args.template, top_k=5,
                               pku_labels=pku / "Label" / "Train_Label_PKU_final" / "0160-L.txt")
    out["pku51_0160L"] = evaluate_rows(rows, pku51)

    video = args.data / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"
    if video.is_file():
        from skelzs.stream.formats import save_sequence

        seq = video_to_sequence(video)
        seq.meta["action"] = 0  # A001 drink water, the paired skeleton file's class
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "S001C001P001R001A001_mediapipe.npz"
            save_sequence(p, seq)
            rows = classify_recordings(model, ntu60, [p], template=args.template, top_k=5)
        skel = [r for r in rows]
        paired = classify_recordings(model, ntu60, [args.data / "ntu_skeleton" / "S001C001P001R001A001.skeleton"],
                                     template=args.template, top_k=5)
        out["ntu60_mediapipe_video"] = evaluate_rows(skel, ntu60)
        out["ntu60_mediapipe_video"]["paired_kinect"] = evaluate_rows(paired, ntu60)["predictions"]
        out["ntu60_mediapipe_video"]["frames_with_pose"] = int(np.any(seq.joints != 0, axis=(1, 2, 3)).sum())
    for key in ("ntu60_skeleton", "pku51_0160L", "ntu60_mediapipe_video"):
        if key in out:
            r = out[key]
            print(f"{key}: n={r['n']} top-1 {r['top1']:.3f} (chance {r['chance_top1']:.3f}), "
                  f"top-5 {r['top5']:.3f} (chance {r['chance_top5']:.3f})")
            for p in r["predictions"]:
                print(f"   {p['file']}{'' if p['start'] is None else ' @' + str(p['start'])}: {p['truth']!r} -> {p['top5']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
