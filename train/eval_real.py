"""``skelzs-train eval-real``: one table of how a checkpoint does on real, held-out recordings.

Every row is recordings the default recipe never trains on (``skelzs-train prepare mix`` keeps
UTKinect subjects 8-10 and MSR Action3D's even subjects on the test side, and never reads
PKU-MMD ``val/``), each classified as ``skelzs classify`` does
(:func:`skelzs.stream.classify.classify_sequences`: live-style sliding windows, mean embedding):

* **PKU-MMD val**: the 142 labelled segments of the 16 cross-subject *test* sequences in
  ``pku_mmd_more/val`` against the 51 PKU-MMD names (top-1 and top-5), and the same for its
  single-person segments alone (the eight two-person classes, 123 of the 142, dominate the first);
* **UTKinect** subjects 8-10 against its 10 class names, **MSR Action3D** even subjects against
  its 20 names, and **MSR zero-shot**: the MSR classes the checkpoint never trained on (its
  ``labels.unseen``) ranked among themselves only;
* **streams**: the PKU-MMD val sequences and the UTKinect held-out recordings played whole, as
  ``skelzs replay`` cuts them: the raw top-1 of every live window centred inside a labelled
  action, without and with ``--align online``;
* **NTU RGB+D**: the 8 ``.skeleton`` files against the 60 NTU-60 names;
* **MediaPipe clip**: the RGB video paired with ``S001C001P001R001A001`` (drink water) through
  MediaPipe, per live window: the share of windows whose top-1 is *drink water*, and against the
  same windows of the Kinect file, the mean cosine of the two embeddings and how often their
  top-1 labels agree.

A short segment is classified with the recording's own frames around it as context (the window
the live buffer would hold when the action is centred in it), never with invented frames.
Chance levels are printed beside every figure.

Beside the plain top-1, each row of recordings also gets the top-1 after PGFA's prototype
alignment over that row's recordings (``skelzs classify --align batch``; papers.md A.7). It is
transductive: the row's other recordings, unlabelled, shape the prototypes. The support factor is
PGFA's for PKU-MMD (1.0) and NTU-60 (0.9), and its NTU-60 value for the Kinect v1 sets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelzs.stream.skeleton import SkeletonSequence

__all__ = ["EvalRealOptions", "eval_real", "format_table", "pku_two_person"]

NTU_MEDIAPIPE_PAIR = "S001C001P001R001A001"


@dataclass
class EvalRealOptions:
    checkpoint: Path
    data: Path
    backend: str = "onnxruntime"
    mediapipe_cache: Path | None = None   # an .npz of the clip's MediaPipe sequence (made when absent)
    skip: tuple[str, ...] = ()
    out: Path | None = None
    rows: list = field(default_factory=list)


def _names(data: Path, fname: str) -> list[str]:
    return [n.strip() for n in (data / "class_names" / fname).read_text().splitlines() if n.strip()]


def _with_context(seq: SkeletonSequence, start: int, end: int, seconds: float) -> SkeletonSequence:
    """Frames [start, end) widened symmetrically to ``seconds`` with the recording's own frames."""
    need = int(round(seconds * seq.fps)) - (end - start)
    if need > 0:
        start, end = max(0, start - need // 2), min(seq.joints.shape[0], end + need - need // 2)
    conf = None if seq.confidence is None else seq.confidence[start:end]
    return SkeletonSequence(seq.joints[start:end], seq.layout, seq.fps, conf, dict(seq.meta))


def pku_two_person(data: Path) -> frozenset[int]:
    """0-based indices of PKU-MMD's two-person classes, from the ``two_person`` column of the data's
    ``class_names/pku51_official_classes.csv`` (the 8 labels of the interaction sequences)."""
    import csv

    with open(data / "class_names" / "pku51_official_classes.csv", newline="") as fh:
        return frozenset(int(r["label_index0"]) for r in csv.DictReader(fh) if r["two_person"].strip() == "1")


def _accuracy(rows: list[dict], labels: list[str], k: int = 5) -> dict:
    top1 = [r["topk"][0][0] == labels[r["action"]] for r in rows]
    topk = [labels[r["action"]] in [lab for lab, _ in r["topk"][:k]] for r in rows]
    out = {"n": len(rows), "classes": len(labels), "top1": float(np.mean(top1)) if rows else None,
           "top5": float(np.mean(topk)) if rows else None, "chance_top1": 1 / len(labels),
           "chance_top5": min(k, len(labels)) / len(labels)}
    if rows and "aligned_top1" in rows[0]:
        out["top1_aligned"] = float(np.mean([r["aligned_top1"] == labels[r["action"]] for r in rows]))
        out["support_factor"] = rows[0]["support_factor"]
    return out


def eval_real(opts: EvalRealOptions) -> dict:
    from skelzs.models.api import load
    from skelzs.models.pgfa import DEFAULT_SUPPORT_FACTOR, SUPPORT_FACTOR
    from skelzs.stream.classify import aligned_scores, classify_sequences
    from skelzs.stream.formats import load_sequence

    model = load(opts.checkpoint, backend=opts.backend)
    window_s = model.window_frames / model.fps
    data = Path(opts.data)
    out: dict = {"checkpoint": str(opts.checkpoint), "backend": opts.backend, "rows": {}}
    rows = out["rows"]
    unseen = [model.config["labels"]["classes"][i] for i in model.config.get("labels", {}).get("unseen", [])]
    out["unseen_classes"] = unseen

    def run(labels, seqs, k=5, support_factor=DEFAULT_SUPPORT_FACTOR):
        res, emb = classify_sequences(model, labels, seqs, top_k=k, return_embeddings=True)
        if emb is not None and len(res):
            best = aligned_scores(emb, model.encode_text(labels), support_factor).argmax(1)
            for r, b in zip(res, best):
                r["aligned_top1"], r["support_factor"] = labels[int(b)], support_factor
        return res

    # PKU-MMD val
    if "pku" not in opts.skip and (data / "pku_mmd_more" / "val").is_dir():
        from skelzs.stream.pku import read_pku_labels

        pku51 = _names(data, "pku51_official_names.txt")
        seqs, streams = [], []
        for f in sorted((data / "pku_mmd_more" / "val").glob("*.npz")):
            seq = load_sequence(f)
            spans = []
            for seg in read_pku_labels(f.with_name(f.stem + ".labels.txt")):
                seqs.append(({"file": f.stem, "start": seg.start, "action": seg.label - 1},
                             _with_context(seq, seg.start - 1, seg.end, window_s)))
                spans.append((seg.label - 1, (seg.start - 1) / seq.fps, seg.end / seq.fps))
            streams.append((seq, spans))
        res = run(pku51, seqs, support_factor=SUPPORT_FACTOR["pku51"])
        rows["PKU-MMD val (51 names)"] = _accuracy(res, pku51) | {"predictions": _preds(res, pku51)}
        two = pku_two_person(data)
        single = [r for r in res if r["action"] not in two]
        rows["PKU-MMD val, single-person segments only (51 names)"] = _accuracy(single, pku51) | {
            "predictions": _preds(single, pku51)}
        rows["PKU-MMD val as a stream: live windows inside labelled actions (51 names)"] = \
            _stream_accuracy(model, streams, pku51)

    # UTKinect and MSR held-out subjects
    from skelzs.train.prepare_mix import MSR_CLASSES, UTKINECT_TEST_SUBJECTS, load_vocabulary

    vocab = load_vocabulary()
    utk = data / "kinect_v1" / "UTKinect" / "joints"
    if "utkinect" not in opts.skip and utk.is_dir():
        from skelzs.stream.kinect_v1 import read_utkinect_labels

        labels_of = read_utkinect_labels(utk / "actionLabel.txt")
        src_labels = ["walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands", "clapHands"]
        names = [vocab.classes[vocab.lookup("utkinect", s)] for s in src_labels]
        seqs, streams = [], []
        for f in sorted(utk.glob("joints_s*_e*.txt")):
            m = re.match(r"joints_s(\d+)_e(\d+)", f.stem)
            if int(m.group(1)) not in UTKINECT_TEST_SUBJECTS:
                continue
            seq = load_sequence(f)
            ids = np.asarray(seq.meta["frame_ids"])
            spans = []
            for label, a, b in labels_of.get(f"s{m.group(1)}_e{m.group(2)}", []):
                r = np.nonzero((ids >= a) & (ids <= b))[0]
                if r.size > 1:
                    seqs.append(({"file": f.stem, "start": int(a), "action": src_labels.index(label)},
                                 _with_context(seq, int(r[0]), int(r[-1]) + 1, window_s)))
                    spans.append((src_labels.index(label), r[0] / seq.fps, r[-1] / seq.fps))
            streams.append((seq, spans))
        res = run(names, seqs)
        subjects = f"{min(UTKINECT_TEST_SUBJECTS)}-{max(UTKINECT_TEST_SUBJECTS)}"
        rows[f"UTKinect subjects {subjects} (10 names)"] = _accuracy(res, names) | {"predictions": _preds(res, names)}
        rows[f"UTKinect subjects {subjects} as a stream: live windows inside labelled actions (10 names)"] = \
            _stream_accuracy(model, streams, names)

    msr = data / "kinect_v1" / "MSRAction3D" / "real_world_coordinates"
    if "msr" not in opts.skip and msr.is_dir():
        names = [vocab.classes[vocab.lookup("msr", s)] for s in MSR_CLASSES]
        seqs = []
        for f in sorted(msr.glob("a*_s*_e*_skeleton3D.txt")):
            m = re.match(r"a(\d+)_s(\d+)_e(\d+)", f.name)
            if int(m.group(2)) % 2:
                continue
            try:
                seq = load_sequence(f)
            except Exception:  # noqa: BLE001 - counted below, like prepare mix skips it
                out.setdefault("unreadable", []).append(f.name)
                continue
            seqs.append(({"file": f.stem, "start": 0, "action": int(m.group(1)) - 1}, seq))
        res = run(names, seqs)
        rows["MSR Action3D even subjects (20 names)"] = _accuracy(res, names) | {"predictions": _preds(res, names)}
        zs = [n for n in names if n in unseen]
        if zs:
            zseqs = [(dict(r, action=zs.index(names[r["action"]])), s) for r, s in seqs if names[r["action"]] in zs]
            res = run(zs, zseqs, k=min(5, len(zs)))
            rows[f"MSR zero-shot, {len(zs)} classes never trained ({', '.join(zs)})"] = \
                _accuracy(res, zs, k=min(5, len(zs))) | {"predictions": _preds(res, zs)}

    # NTU files
    ntu60 = _names(data, "mmaction2_label_map_ntu60.txt")
    if "ntu" not in opts.skip and (data / "ntu_skeleton").is_dir():
        seqs = []
        for f in sorted((data / "ntu_skeleton").glob("*.skeleton")):
            seq = load_sequence(f)
            seqs.append(({"file": f.stem, "start": 0, "action": int(f.stem[-3:]) - 1}, seq))
        res = run(ntu60, seqs, support_factor=SUPPORT_FACTOR["ntu60"])
        rows["NTU RGB+D files (60 names)"] = _accuracy(res, ntu60) | {"predictions": _preds(res, ntu60)}

    # MediaPipe clip vs its Kinect recording
    video = data / "videos" / f"mmaction2_{NTU_MEDIAPIPE_PAIR}_rgb.avi"
    if "mediapipe" not in opts.skip and video.is_file():
        rows["MediaPipe NTU clip, per window (60 names)"] = _mediapipe_pair(model, data, video, ntu60, opts)

    if opts.out:
        Path(opts.out).write_text(json.dumps(out, indent=1))
    return out


def _stream_accuracy(model, streams: list[tuple[SkeletonSequence, list[tuple[int, float, float]]]],
                     labels: list[str], stride: int = 8) -> dict:
    """Each recording played as ``skelzs replay`` cuts it (live windows every ``stride`` frames at
    the checkpoint's fps, in time order): the top-1 of every window whose centre lies inside a
    labelled action ``(label, t0, t1)`` seconds, without and with ``--align online`` (one
    :class:`~skelzs.models.alignment.OnlinePrototypes` per recording, as per live session). Raw
    top-1, before the matcher's smoothing and open-set threshold."""
    import torch

    from skelzs.models.alignment import OnlinePrototypes
    from skelzs.stream.pipeline import preprocess_key
    from skelzs.stream.preprocess import checkpoint_windows

    text = np.asarray(model.encode_text(labels), np.float32)
    frames, fps, key = model.window_frames, model.fps, preprocess_key(model, live=True)
    hits = {"none": 0, "online": 0}
    n = 0
    for seq, spans in streams:
        windows, starts = checkpoint_windows(seq.with_persons(model.persons), frames, fps, key, stride,
                                             return_starts=True)
        centre = (starts + frames / 2) / fps
        truth = np.full(len(windows), -1)
        for label, t0, t1 in spans:
            truth[(centre >= t0) & (centre <= t1)] = label
        emb = np.asarray(model.encode_skeleton(windows), np.float32)
        hits["none"] += int(((emb @ text.T).argmax(1) == truth)[truth >= 0].sum())
        aligner = OnlinePrototypes(torch.from_numpy(text))
        online = []
        for z in torch.from_numpy(emb).split(1):   # score with the current prototypes, then update
            online.append(int(aligner.scores(z).argmax()))
            aligner.update(z)
        hits["online"] += int((np.asarray(online) == truth)[truth >= 0].sum())
        n += int((truth >= 0).sum())
    return {"n": n, "classes": len(labels), "top1": hits["none"] / max(n, 1), "top1_online": hits["online"] / max(n, 1),
            "chance_top1": 1 / len(labels), "stride": stride}


def _preds(res: list[dict], labels: list[str]) -> list[dict]:
    return [{"file": r["file"], "start": r["start"], "truth": labels[r["action"]],
             "top3": [lab for lab, _ in r["topk"][:3]]}
            | ({"aligned_top1": r["aligned_top1"]} if "aligned_top1" in r else {}) for r in res]


def _mediapipe_pair(model, data: Path, video: Path, ntu60: list[str], opts: EvalRealOptions) -> dict:
    from skelzs.stream.formats import load_sequence, save_sequence
    from skelzs.stream.pipeline import preprocess_key
    from skelzs.stream.preprocess import checkpoint_windows

    cache = opts.mediapipe_cache
    if cache is not None and Path(cache).is_file():
        mp = load_sequence(cache)
    else:
        from skelzs.tools.eval_real_recordings import video_to_sequence

        mp = video_to_sequence(video, mirrored=True)
        if cache is not None:
            save_sequence(cache, mp)
    kin = load_sequence(data / "ntu_skeleton" / f"{NTU_MEDIAPIPE_PAIR}.skeleton")
    n = min(kin.joints.shape[0], mp.joints.shape[0])
    frames, fps, key = model.window_frames, model.fps, preprocess_key(model, live=True)

    def windows(seq):
        s = SkeletonSequence(seq.joints[:n], seq.layout, seq.fps, None, {}).with_persons(model.persons)
        return checkpoint_windows(s, frames, fps, key, stride=max(1, frames // 8))

    text = model.encode_text(ntu60)
    ek, em = model.encode_skeleton(windows(kin)), model.encode_skeleton(windows(mp))
    pk, pm = (ek @ text.T).argmax(1), (em @ text.T).argmax(1)
    drink = ntu60.index("drink water")
    return {"n": int(len(pm)), "classes": len(ntu60), "drink_water_share": float((pm == drink).mean()),
            "kinect_drink_water_share": float((pk == drink).mean()),
            "kinect_mediapipe_cosine": float((ek * em).sum(1).mean()), "top1_agreement": float((pk == pm).mean()),
            "chance_top1": 1 / len(ntu60), "mediapipe_top1": [ntu60[i] for i in pm],
            "kinect_top1": [ntu60[i] for i in pk]}


def format_table(out: dict) -> str:
    """The result as a Markdown table (what the README's "what to expect" table holds)."""
    lines = ["| recordings (held out from training) | n | top-1 | top-5 | top-1, prototype-aligned (α) | "
             "chance top-1 / top-5 |", "|---|---|---|---|---|---|"]
    for name, r in out["rows"].items():
        if "top1_online" in r:
            lines.append(f"| {name} | {r['n']} | {r['top1']:.1%} | | online: {r['top1_online']:.1%} | "
                         f"{r['chance_top1']:.1%} |")
        elif "drink_water_share" in r:
            lines.append(f"| {name}: windows saying *drink water* | {r['n']} | {r['drink_water_share']:.0%} | | | "
                         f"{r['chance_top1']:.1%} |")
            lines.append(f"| {name}: Kinect vs MediaPipe embedding cosine / top-1 agreement | {r['n']} | "
                         f"{r['kinect_mediapipe_cosine']:.2f} / {r['top1_agreement']:.0%} | | | |")
        else:
            aligned = f"{r['top1_aligned']:.1%} ({r['support_factor']:g})" if "top1_aligned" in r else ""
            lines.append(f"| {name} | {r['n']} | {r['top1']:.1%} | {r['top5']:.1%} | {aligned} | "
                         f"{r['chance_top1']:.1%} / {r['chance_top5']:.1%} |")
    return "\n".join(lines)
