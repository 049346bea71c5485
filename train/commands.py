"""``skelzs-train prepare | fit | eval | splits``: the commands behind the training CLI.

Heavy imports (torch, the models) happen inside the command bodies so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import typer

from skelzs.stream.errors import SkelzsError

log = logging.getLogger("skelzs.train")

DATASET_HELP = "ntu60 | ntu120 | pku | folder (your own recordings: see the dataset spec in `skelzs.train.dataset`)"


def _load_config_file(path: Optional[Path]) -> dict:
    if path is None:
        return {}
    try:
        cfg = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SkelzsError(f"{path}: unreadable --config ({err})") from None
    if not isinstance(cfg, dict):
        raise SkelzsError(f"{path}: --config must hold a JSON object of architecture options")
    return cfg


def prepare_cmd(
    dataset: str = typer.Argument(..., help=DATASET_HELP + " | mix (several real sources + the procedural "
                                  "library as live-style raw windows: see `skelzs.train.prepare_mix`)"),
    raw: Optional[Path] = typer.Option(None, "--raw", help="Raw release folder (.skeleton files; PKU-MMD Data/Label/Split; own folder)."),
    source: list[str] = typer.Option([], "--source", help="mix only, repeatable: KIND=PATH with KIND one of "
                                     "pku, utkinect, msr, bvh, synth, pku_val (PKU-MMD, all test side)."),
    all_test: list[str] = typer.Option([], "--all-test", help="mix only, repeatable: a source KIND whose every "
                                       "recording goes to the test side (cross-dataset protocols)."),
    fps: float = typer.Option(15.0, "--fps", help="mix only: window frame rate."),
    stride: int = typer.Option(10, "--stride", help="mix only: frames between windows of one segment."),
    max_windows: list[str] = typer.Option(["bvh=150"], "--max-windows", help="mix only, repeatable: KIND=N caps "
                                          "the training windows of one class from one source."),
    normalize: str = typer.Option("body", "--normalize", help="mix only: the window normalization fit applies."),
    seed: int = typer.Option(0, "--seed", help="mix only: seed of the --max-windows choice."),
    out: Path = typer.Option(..., "--out", help="Output folder for the prepared arrays and dataset.json."),
    pipeline: str = typer.Option("frame50", "--pipeline", help="Preprocessing: frame50 (PGFA/SMIE), ctrgcn64, agcn."),
    frames: Optional[int] = typer.Option(None, "--frames", help="Frames per sample (default: the pipeline's own)."),
    workers: int = typer.Option(0, "--workers", help="Parallel parser processes (0 = all cores)."),
    dtype: str = typer.Option("float16", "--dtype", help="Stored dtype: float16 (half the disk) or float32."),
    force: bool = typer.Option(False, "--force", help="Replace an output prepared from other inputs."),
) -> None:
    """Parse a raw dataset in parallel into memory-mappable arrays (idempotent and resumable)."""
    from skelzs.train.prepare import PrepareOptions, prepare

    dataset = dataset.lower()
    if dataset == "mix":
        _prepare_mix(source, out, fps, frames or 40, stride, max_windows, normalize, dtype, seed, force, all_test)
        return
    if raw is None:
        raise SkelzsError(f"prepare {dataset}: --raw is required")
    if dataset == "pku51":
        dataset = "pku"
    rep = prepare(PrepareOptions(dataset=dataset, raw=raw, out=out, pipeline=pipeline, frames=frames,
                                 workers=workers, dtype=dtype, force=force))
    what = "already prepared" if rep.reused else f"prepared in {rep.seconds:.1f} s"
    typer.echo(f"{rep.out}: {rep.num_samples} samples {what}; {rep.known_missing_skipped} known-missing skipped, "
               f"{len(rep.corrupt)} corrupt, {len(rep.empty)} empty")
    for c in rep.corrupt:
        typer.echo(f"  skipped {c['file']}: {c['error']}")
    chk = rep.count_check
    if chk.get("status") not in (None, "not applicable"):
        typer.echo(f"  official count check: {chk['status']} (expected {chk.get('expected')}, found {chk.get('found')})")


def _int_list(text: Optional[str], option: str) -> Optional[tuple[int, ...]]:
    if not text:
        return None
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise SkelzsError(f"{option} {text!r}: expected comma-separated integers") from None


def _prepare_mix(source, out, fps, frames, stride, max_windows, normalize, dtype, seed, force, all_test=()) -> None:
    from skelzs.train.prepare_mix import MixOptions, prepare_mix

    pairs = []
    for spec in source:
        kind, sep, path = spec.partition("=")
        if not sep or not path:
            raise SkelzsError(f"--source {spec!r}: expected KIND=PATH")
        pairs.append((kind.strip().lower(), Path(path)))
    caps = {}
    for spec in max_windows:
        kind, sep, n = spec.partition("=")
        if not sep or not n.strip().isdigit():
            raise SkelzsError(f"--max-windows {spec!r}: expected KIND=N")
        caps[kind.strip().lower()] = int(n)
    max_windows = caps
    rep = prepare_mix(MixOptions(sources=pairs, out=out, fps=fps, frames=frames, stride=stride,
                                 max_windows=max_windows, normalize=normalize, dtype=dtype, seed=seed, force=force,
                                 all_test=tuple(k.strip().lower() for k in all_test)))
    typer.echo(f"{rep.out}: {rep.num_samples} windows in {rep.seconds:.1f} s; {len(rep.skipped)} files skipped")
    for kind, info in rep.per_source.items():
        typer.echo(f"  {kind}: {info['recordings']} recordings, {info['windows']} windows "
                   f"({info['test_windows']} test side), {len(info['classes'])} classes")
    for c in rep.skipped:
        typer.echo(f"  skipped {c['file']}: {c['error']}")


def fit_cmd(
    method: str = typer.Option("pgfa", "--method", help="pgfa | scople"),
    data: Path = typer.Option(..., "--data", help="A prepared dataset folder (skelzs-train prepare)."),
    split: str = typer.Option(..., "--split", help="Split name (skelzs-train splits) or a split JSON file."),
    class_text: Optional[Path] = typer.Option(None, "--class-text", help="One text per class, one per line (e.g. PGFA descriptions)."),
    template: str = typer.Option("{}", "--template", help="Prompt template for class names when no --class-text, e.g. 'a person {}'."),
    text_encoder: str = typer.Option("all-MiniLM-L6-v2", "--text-encoder", help="Sentence encoder id or local folder."),
    config: Optional[Path] = typer.Option(None, "--config", help="JSON object of architecture overrides."),
    out: Path = typer.Option(Path("runs/run"), "--out", help="Run folder: checkpoints, metrics.jsonl, plots."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Default: the method's (PGFA 50)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Global batch (PGFA 128)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Base learning rate (PGFA 0.05; 0.005 on NTU-120)."),
    warmup_epochs: Optional[int] = typer.Option(None, "--warmup-epochs", help="Linear warm-up epochs (PGFA 5)."),
    lr_steps: Optional[str] = typer.Option(None, "--lr-steps", help="Epochs where the lr drops x0.1, e.g. '6,8' "
                                           "(PGFA 50,80)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/last/ (exact resume)."),
    select_on: str = typer.Option("val", "--select-on", help="val: held-out seen classes pick the epoch (default); "
                                  "test: best test epoch, as the papers report; last: the final epoch."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | cuda:N"),
    precision: str = typer.Option("auto", "--precision", help="auto (bf16 on CUDA) | fp32 | bf16 | fp16"),
    workers: int = typer.Option(0, "--workers", help="Data-loader processes (0: read the memory map in the main "
                                "process, fastest while the arrays fit in the page cache)."),
    seed: int = typer.Option(0, "--seed"),
    augment: str = typer.Option("none", "--augment", help="Augmentation of raw windows (datasets prepared with "
                                "--pipeline raw, e.g. `prepare mix`): none | monocular | view."),
    align: str = typer.Option("batch", "--align", help="Alignment for the final report: none | batch | online."),
    vocab_loss: float = typer.Option(0.0, "--vocab-loss", help="PGFA: add this weight x a cross-entropy over "
                                     "every training class's text (default 0: the paper's loss alone)."),
) -> None:
    """Train a zero-shot method on a split, then evaluate the selected checkpoint."""
    from skelzs.train.loop import FitConfig, fit

    res = fit(FitConfig(method=method, data=str(data), split=split, out=str(out),
                        class_text=str(class_text) if class_text else None, template=template,
                        text_encoder=text_encoder, config=_load_config_file(config), epochs=epochs,
                        batch_size=batch_size, lr=lr, warmup_epochs=warmup_epochs, resume=resume,
                        lr_steps=_int_list(lr_steps, "--lr-steps"),
                        select_on=select_on, device=device, precision=precision, workers=workers, seed=seed,
                        augment=augment, vocab_loss=vocab_loss))
    import os

    if int(os.environ.get("RANK", 0)) != 0:
        return
    ckpt = out / ("best" if (out / "best").is_dir() and select_on != "last" else "last")
    report = run_eval(ckpt, data, split, align=align, gzsl=True, device=device, class_text=class_text)
    (out / "results.json").write_text(_to_json(report))
    from skelzs.train.evaluate import format_report

    format_report(report)
    typer.echo(f"checkpoint: {ckpt}  results: {out / 'results.json'}")


def run_eval(checkpoint: Path, data: Path, split: str, *, align: str = "batch", gzsl: bool = True,
             device: str = "auto", class_text: Optional[Path] = None, plots: bool = True) -> dict:
    import torch

    from skelzs.train.dataset import PreparedDataset, read_class_texts
    from skelzs.train.evaluate import evaluate_full, load_for_eval
    from skelzs.train.loop import _resolve_device
    from skelzs.train.plots import plot_confusion
    from skelzs.train.published import protocol_notes, published_for
    from skelzs.train.splits import partition, resolve_split

    dev = _resolve_device(device)
    method, model, config = load_for_eval(checkpoint, dev)
    ds = PreparedDataset.open(data)
    labels = config.get("labels", {})
    if labels.get("classes") and len(labels["classes"]) != ds.num_classes:
        raise SkelzsError(f"{checkpoint} was trained on {len(labels['classes'])} classes, {data} has {ds.num_classes}")
    training = config.get("training", {})
    sp = resolve_split(split, ds.classes)
    val_classes = tuple(labels.get("val_classes", ())) if labels.get("split") == sp.name else ()
    parts = partition(ds.labels, ds.train_side, sp, ds.num_classes, dataset=ds.name,
                      use_validation=bool(val_classes) and tuple(sorted(val_classes)) == tuple(sorted(sp.val_unseen)),
                      seed=int(training.get("seed", 0)))
    if class_text:
        texts = read_class_texts(class_text, ds.num_classes)
    elif labels.get("class_texts") and len(labels["class_texts"]) == ds.num_classes:
        texts = labels["class_texts"]
    else:
        texts = ds.class_texts or ds.classes
    from skelzs.models.text import load_text_encoder

    text_id = config.get("text", {})
    text_name = text_id.get("name") if isinstance(text_id, dict) else None
    from skelzs.train.loop import quiet_text_loading

    quiet_text_loading()
    encoder = load_text_encoder(text_name or "all-MiniLM-L6-v2")
    with torch.no_grad():
        text = method.prepare_text(encoder, texts)
    text = text.to(dev) if torch.is_tensor(text) else text
    if not method.supports_embeddings and align == "online":
        align = "none"  # streaming prototypes need one embedding per window
    report = evaluate_full(method, model, ds, parts, text, device=dev, align=align, gzsl=gzsl)
    sel = training.get("select_on")
    selection = {
        "val": "epoch selected on held-out seen classes (validation split)",
        "test": "epoch selected on the TEST split (best test epoch, as PGFA/SMIE report): optimistic",
        "last": "last epoch, no selection",
    }.get(sel, "selection unknown")
    report["header"] = {"split": sp.title, "method": config.get("method"), "checkpoint": str(checkpoint),
                        "epoch": training.get("epoch"), "selection": f"{selection} (epoch {training.get('epoch')})"}
    pub = published_for(sp.name) + (published_for(sp.name, "gzsl_h") if gzsl else [])
    report["published"] = [r.__dict__ for r in pub]
    enc = config.get("architecture", {}).get("encoder", "stgcn") if isinstance(config.get("architecture"), dict) else "?"
    report["protocol_notes"] = protocol_notes(sp.name, {"encoder": enc, "pipeline": ds.pipeline, "select_on": sel,
                                                        "text_encoder": text_name})
    if plots:
        mode = align if align in report["zsl"] else "none"
        names = [ds.classes[c] for c in parts.unseen_classes]
        plot_confusion(report["zsl"][mode]["confusion"], names, Path(checkpoint) / "confusion_unseen.png",
                       title=f"{sp.name}: unseen classes (align {mode})")
    return report


def _to_json(report: dict) -> str:
    from skelzs.train.evaluate import to_json

    return to_json(report)


def eval_cmd(
    checkpoint: Path = typer.Option(..., "--checkpoint", help="A checkpoint folder (e.g. runs/x/best)."),
    data: Path = typer.Option(..., "--data", help="The prepared dataset folder."),
    split: str = typer.Option(..., "--split", help="Split name or split JSON file."),
    align: str = typer.Option("batch", "--align", help="none | batch (PGFA, transductive) | online (streaming)."),
    gzsl: bool = typer.Option(False, "--gzsl", help="Also compute GZSL S/U/H (plain, calibrated, gated)."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    class_text: Optional[Path] = typer.Option(None, "--class-text", help="Override the checkpoint's class texts."),
    device: str = typer.Option("auto", "--device"),
) -> None:
    """Evaluate a checkpoint: ZSL top-1/top-5, per-class, alignment, GZSL, published numbers."""
    from skelzs.train.evaluate import ALIGN_MODES, format_report

    if align not in ALIGN_MODES:
        raise SkelzsError(f"--align {align!r}: expected one of {', '.join(ALIGN_MODES)}")
    report = run_eval(checkpoint, data, split, align=align, gzsl=gzsl, device=device, class_text=class_text)
    if json_out:
        typer.echo(_to_json(report))
    else:
        format_report(report)


def splits_cmd(dataset: Optional[str] = typer.Argument(None, help="Only this dataset (ntu60, ntu120, pku51).")) -> None:
    """List the named zero-shot splits."""
    from rich.console import Console
    from rich.table import Table

    from skelzs.train.splits import load_split_table

    table = load_split_table()
    t = Table(title="zero-shot splits (0-based class ids)")
    t.add_column("name", no_wrap=True)
    for col in ("dataset", "protocol", "seen/unseen", "unseen", "validation classes"):
        t.add_column(col)
    for s in table["splits"]:
        if dataset and s["dataset"] != dataset:
            continue
        n = {"ntu60": 60, "ntu120": 120, "pku51": 51}[s["dataset"]]
        t.add_row(s["name"], s["dataset"], table["families"][s["family"]]["protocol"],
                  f"{n - len(s['unseen'])}/{len(s['unseen'])}", ",".join(map(str, s["unseen"])),
                  ",".join(map(str, s["val_unseen"])))
    Console().print(t)
    aliases = ", ".join(f"{a}={c}" for a, c in table["aliases"].items())
    Console().print(f"aliases: {aliases}")
    from skelzs.train.splits import real_split_file, real_split_names

    if dataset in (None, "mix"):
        t = Table(title="real-data protocols (split files on `prepare mix` sets, class names; docs/real-zero-shot.md)")
        for col in ("name", "seen/unseen", "unseen", "validation classes"):
            t.add_column(col, no_wrap=col == "name")
        for name in real_split_names():
            spec = json.loads(real_split_file(name).read_text())
            space = spec.get("classes") or []
            t.add_row(name, f"{len(space) - len(spec['unseen'])}/{len(spec['unseen'])}", ", ".join(spec["unseen"]),
                      ", ".join(spec.get("val_unseen", [])))
        Console().print(t)


def eval_real_cmd(
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Checkpoint folder (default: assets/default)."),
    data: Path = typer.Option(Path("../shared/data"), "--data", help="The shared research data folder."),
    backend: str = typer.Option("onnxruntime", "--backend", help="onnxruntime | torch"),
    mediapipe_cache: Optional[Path] = typer.Option(None, "--mediapipe-cache", help="An .npz to keep the clip's "
                                                   "MediaPipe skeletons in (made on the first run)."),
    skip: list[str] = typer.Option([], "--skip", help="Rows to leave out: pku, utkinect, msr, ntu, mediapipe."),
    out: Optional[Path] = typer.Option(None, "--json", help="Write the full result (predictions included) here."),
) -> None:
    """Accuracy on real recordings held out from training (PKU-MMD val, UTKinect, MSR, NTU, MediaPipe)."""
    from skelzs.train.eval_real import EvalRealOptions, eval_real, format_table

    if checkpoint is None:
        from skelzs.assets import asset_path

        checkpoint = asset_path("default")
    if not data.is_dir():
        raise SkelzsError(f"--data {data}: folder not found")
    res = eval_real(EvalRealOptions(checkpoint=checkpoint, data=data, backend=backend, mediapipe_cache=mediapipe_cache,
                                    skip=tuple(skip), out=out))
    typer.echo(format_table(res))
    if res.get("unseen_classes"):
        typer.echo(f"classes never trained (zero-shot): {', '.join(res['unseen_classes'])}")


def register(app: typer.Typer) -> None:
    app.command("prepare")(prepare_cmd)
    app.command("fit")(fit_cmd)
    app.command("eval")(eval_cmd)
    app.command("eval-real")(eval_real_cmd)
    app.command("splits")(splits_cmd)
