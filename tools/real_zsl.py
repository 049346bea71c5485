"""PGFA and SCoPLe side by side on real zero-shot protocols (issue 14; ``docs/real-zero-shot.md``).

One reproducible driver: it prepares the data it needs (when absent), runs the grid of
``skelzs-train fit`` runs (methods × protocols, SCoPLe ablations, class-text variants, a second
seed) one after the other, then writes every figure as JSON and as markdown tables::

    python -m skelzs.tools.real_zsl --data ../shared/data --work /tmp/zsl            # everything
    python -m skelzs.tools.real_zsl --data ../shared/data --work /tmp/zsl --groups main
    python -m skelzs.tools.real_zsl --work /tmp/zsl --tables-only                    # re-tabulate

Resumable: a run whose ``results.json`` exists is not run again (delete its folder to rerun).
Each run is a subprocess ``python -m skelzs.train.cli fit ...`` (the exact command is stored in
``RUN/command.txt``); its wall time and CPU time (user + system of the child) go to
``RUN/timing.json``.

Data (under ``--work``, never in the repository):

* ``synth/``: ``skelzs-train synth --per-class 30 --window 80 --seed 2 --test-fraction 0``
  (the procedural library, all on the training side);
* ``prepared_pku/``: ``prepare mix`` of PKU-MMD ``pku_mmd_more/train`` (training side) and
  ``pku_mmd_more/val`` (``pku_val``: test side);
* ``prepared_cross/``: PKU-MMD train/ + the procedural library (training side), every UTKinect and
  MSR Action3D recording on the test side (``--all-test``);
* both at ``--fps 7.5 --frames 20 --stride 5`` (2.7 s windows every 0.67 s: the default model's
  15 fps / 40-frame window at half the frame rate, for CPU time), training windows capped per
  (source, class) by ``MAX_WINDOWS`` (PKU-MMD 100 within PKU; PKU-MMD 50 and procedural 10 across
  datasets); test windows are never capped;
* ``texts/{name,desc,pgfa_des,parts}.txt``: one class text per vocabulary class (see
  :func:`write_class_texts`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from skelzs.train.splits import real_split_file

__all__ = ["ENCODER", "RunSpec", "grid", "write_class_texts", "chance_levels", "collect", "build_tables", "main"]

log = logging.getLogger("skelzs.tools.real_zsl")

# The one encoder both methods use: a 3-block ST-GCN (PGFA's graph, edge importance) on 20-frame
# windows; ~0.1 M parameters. PGFA: encoder + linear projection; SCoPLe: the same network as backbone.
ENCODER = {"widths": [16, 32, 64], "strides": [2, 2, 1], "temporal_kernel": 5}
FPS, FRAMES, STRIDE = 7.5, 20, 5
EPOCHS, BATCH, WARMUP = 10, 64, 2
MAX_WINDOWS = {"pku": ("pku=100",), "cross": ("pku=50", "synth=10")}  # training windows per (source, class): CPU time
PROTOCOLS = {  # split name -> prepared set
    "pku_zs_a": "pku", "pku_zs_b": "pku", "pku_zs_c": "pku", "cross_kinect_v1": "cross",
}
ABLATIONS = {  # SCoPLe, each prompt module off in turn
    "no_language_prompts": {"use_language_prompts": False},
    "no_joint_prompts": {"use_joint_prompts": False},
    "no_sampler": {"use_sampler": False},
    "projector_prompts_none": {"projector_prompts": "none"},
}
TEXTS = ("name", "desc", "pgfa_des", "parts")
DEFAULT_TEXT = "desc"
GROUPS = ("main", "ablation", "text", "seed", "names", "seeds")
EXTRA_SEEDS = (1, 2)


@dataclass(frozen=True)
class RunSpec:
    group: str
    method: str
    split: str
    text: str = DEFAULT_TEXT
    ablation: str = ""
    seed: int = 0
    overrides: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def run_id(self) -> str:
        parts = [self.split, self.method, self.text]
        if self.ablation:
            parts.append(self.ablation)
        if self.seed:
            parts.append(f"seed{self.seed}")
        return "__".join(parts)

    def config(self) -> dict:
        if self.method == "pgfa":
            return {"encoder": "stgcn", "encoder_overrides": dict(ENCODER), **self.overrides}
        return {"backbone": "stgcn", "backbone_overrides": dict(ENCODER), **self.overrides}


def grid(groups=GROUPS) -> list[RunSpec]:
    """The runs, most important first: main grid, SCoPLe ablation, class texts and a second seed."""
    runs: list[RunSpec] = []
    if "main" in groups:
        runs += [RunSpec("main", m, s) for s in PROTOCOLS for m in ("pgfa", "scople")]
    if "ablation" in groups:
        runs += [RunSpec("ablation", "scople", "pku_zs_a", ablation=a, overrides=o) for a, o in ABLATIONS.items()]
    # then by cost: PGFA's class-text variants and second seed (about 3 min each) before SCoPLe's (about 7)
    for method in ("pgfa", "scople"):
        if "text" in groups:
            runs += [RunSpec("text", method, "pku_zs_a", text=t) for t in ("name", "parts")]
        if "seed" in groups:
            runs.append(RunSpec("seed", method, "pku_zs_a", seed=1))
    if "text" in groups:
        runs += [RunSpec("text", m, "pku_zs_a", text="pgfa_des") for m in ("pgfa", "scople")]
    if "names" in groups:  # added after names beat descriptions on pku_zs_a: PGFA with names everywhere
        runs += [RunSpec("names", "pgfa", s, text="name") for s in PROTOCOLS if s != "pku_zs_a"]
    if "seeds" in groups:  # seeds 1 and 2 of both methods and of every ablation on pku_zs_a (noise)
        for seed in EXTRA_SEEDS:
            runs += [RunSpec("seed", m, "pku_zs_a", seed=seed) for m in ("pgfa", "scople")]
            runs += [RunSpec("ablation", "scople", "pku_zs_a", ablation=a, seed=seed, overrides=o)
                     for a, o in ABLATIONS.items()]
    return runs


# -- data -------------------------------------------------------------------------------------------
def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "skelzs.train.cli", *args]


def _run_logged(cmd: list[str], log_file: Path) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as fh:
        fh.write("$ " + shlex.join(cmd) + "\n")
        fh.flush()
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "120"}).returncode


def prepare_data(data: Path, work: Path) -> None:
    """The procedural library and the two prepared sets, each only when absent."""
    synth = work / "synth"
    if not (synth / "labels.csv").is_file():
        log.info("generating the procedural library into %s", synth)
        if _run_logged(_cli("synth", "--out", str(synth), "--per-class", "30", "--window", "80", "--seed", "2",
                            "--format", "npz", "--test-fraction", "0"), work / "logs" / "synth.log"):
            raise SystemExit(f"synth failed: see {work / 'logs' / 'synth.log'}")
    pku, kv1 = data / "pku_mmd_more", data / "kinect_v1"
    common = ["--fps", str(FPS), "--frames", str(FRAMES), "--stride", str(STRIDE)]
    sets = {
        "pku": ["--source", f"pku={pku / 'train'}", "--source", f"pku_val={pku / 'val'}"],
        "cross": ["--source", f"pku={pku / 'train'}", "--source", f"synth={synth}",
                  "--source", f"utkinect={kv1 / 'UTKinect' / 'joints'}",
                  "--source", f"msr={kv1 / 'MSRAction3D' / 'real_world_coordinates'}",
                  "--all-test", "utkinect", "--all-test", "msr"],
    }
    for name, src in sets.items():
        out = work / f"prepared_{name}"
        if (out / "dataset.json").is_file():
            continue
        log.info("preparing %s", out)
        caps = [a for cap in MAX_WINDOWS[name] for a in ("--max-windows", cap)]
        if _run_logged(_cli("prepare", "mix", *src, *common, *caps, "--out", str(out)), work / "logs" / f"prepare_{name}.log"):
            raise SystemExit(f"prepare {name} failed: see {work / 'logs' / f'prepare_{name}.log'}")


def write_class_texts(data: Path, out: Path) -> dict[str, Path]:
    """One text per vocabulary class, one per line, for every variant in ``TEXTS``:

    * ``name``: the class name;
    * ``desc``: the vocabulary's one-sentence description (``train/data/action_vocabulary.csv``);
    * ``pgfa_des``: PKU-MMD classes take PGFA's published one-sentence definitions
      (``zssar/pgfa/pku_des.txt``), the others the vocabulary description;
    * ``parts``: PKU-MMD classes take STAR's part descriptions (``zssar/star/pkuv1_part_descriptions.txt``:
      ``name; Head: …; Hand: …; Arm: …; Hip: …; Leg: …; Foot: …``, the whole line), the others the
      vocabulary description.
    """
    from skelzs.train.prepare import class_names
    from skelzs.train.prepare_mix import load_vocabulary

    vocab = load_vocabulary()
    pku_names = class_names("pku51")
    pku_index = {vocab.lookup("pku", n): i for i, n in enumerate(pku_names)}  # vocabulary id -> PKU line

    def published(rel: str) -> list[str]:
        lines = [ln.strip() for ln in (data / "zssar" / rel).read_text(encoding="utf-8").splitlines() if ln.strip()]
        if len(lines) != len(pku_names):
            raise SystemExit(f"{rel}: {len(lines)} lines, expected {len(pku_names)}")
        return lines

    sources = {"pgfa_des": published("pgfa/pku_des.txt"), "parts": published("star/pkuv1_part_descriptions.txt")}
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for variant in TEXTS:
        rows = []
        for c, (name, desc) in enumerate(zip(vocab.classes, vocab.descriptions)):
            if variant == "name":
                rows.append(name)
            elif variant in sources and c in pku_index:
                rows.append(sources[variant][pku_index[c]])
            else:
                rows.append(desc)
        paths[variant] = out / f"{variant}.txt"
        text = "".join(" ".join(r.split()) + "\n" for r in rows)
        if not paths[variant].is_file() or paths[variant].read_text(encoding="utf-8") != text:
            paths[variant].write_text(text, encoding="utf-8")  # never rewritten under a running fit
    return paths


# -- runs -------------------------------------------------------------------------------------------
def fit_command(spec: RunSpec, work: Path, epochs: int, batch: int) -> list[str]:
    run = work / "runs" / spec.run_id
    return _cli("fit", "--method", spec.method, "--data", str(work / f"prepared_{PROTOCOLS[spec.split]}"),
                "--split", str(real_split_file(spec.split)), "--class-text", str(work / "texts" / f"{spec.text}.txt"),
                "--config", str(run / "config.json"), "--epochs", str(epochs), "--batch-size", str(batch),
                "--warmup-epochs", str(WARMUP),
                "--seed", str(spec.seed), "--select-on", "val", "--augment", "none", "--device", "cpu",
                "--out", str(run))


def last_epoch_results(spec: RunSpec, work: Path) -> None:
    """``RUN/results_last.json``: the report of the last epoch's checkpoint (``fit`` reports the epoch
    chosen on the validation classes; with 4 small validation classes that choice is noisy, so both
    are kept). Same as ``results.json`` when the chosen epoch is the last one."""
    run = work / "runs" / spec.run_id
    out = run / "results_last.json"
    if out.is_file():
        return
    info = json.loads((run / "run.json").read_text())
    metrics = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines() if ln.strip()]
    if info["best"]["epoch"] == metrics[-1]["epoch"]:
        out.write_text((run / "results.json").read_text())
        return
    cmd = _cli("eval", "--checkpoint", str(run / "last"), "--data", str(work / f"prepared_{PROTOCOLS[spec.split]}"),
               "--split", str(real_split_file(spec.split)), "--class-text", str(work / "texts" / f"{spec.text}.txt"),
               "--gzsl", "--json", "--device", "cpu")
    (run / "command_last.txt").write_text(shlex.join(cmd) + "\n")
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env={**os.environ, "COLUMNS": "120"})
    if res.returncode != 0:
        raise RuntimeError(f"{spec.run_id}: eval of last/ exited {res.returncode}")
    text = res.stdout[res.stdout.index("{"):]
    json.loads(text)
    out.write_text(text)


def run_one(spec: RunSpec, work: Path, epochs: int, batch: int) -> dict:
    run = work / "runs" / spec.run_id
    if (run / "results.json").is_file() and (run / "timing.json").is_file():
        last_epoch_results(spec, work)
        return json.loads((run / "timing.json").read_text())
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(spec.config(), indent=1))
    cmd = fit_command(spec, work, epochs, batch)
    (run / "command.txt").write_text(shlex.join(cmd) + "\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    rc = _run_logged(cmd, run / "fit.log")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    timing = {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
              "returncode": rc, "epochs": epochs, "batch_size": batch, "load_avg_after": os.getloadavg()[0]}
    if rc != 0:
        raise RuntimeError(f"{spec.run_id}: fit exited {rc}; see {run / 'fit.log'}")
    (run / "timing.json").write_text(json.dumps(timing, indent=1))
    t0 = time.perf_counter()
    last_epoch_results(spec, work)
    timing["eval_last_wall_s"] = time.perf_counter() - t0
    (run / "timing.json").write_text(json.dumps(timing, indent=1))
    return timing


# -- tables -----------------------------------------------------------------------------------------
def chance_levels(num_unseen: int, label_space: int, class_counts: dict | None = None) -> dict:
    """Uniform guessing: ZSL top-1 (and mean per-class) 1/U, top-5 min(5, U)/U; GZSL S = U = H =
    1/|label space|. With the test windows per unseen class, ``majority``: the top-1 of always
    answering the most frequent unseen class (the test sets are imbalanced)."""
    out = {"zsl_top1": 1.0 / num_unseen, "zsl_top5": min(5, num_unseen) / num_unseen,
           "gzsl": 1.0 / label_space if label_space else float("nan")}
    if class_counts:
        out["majority"] = max(class_counts.values()) / max(1, sum(class_counts.values()))
    return out


def _figures(res: dict) -> dict:
    zsl, gz = res["zsl"], res.get("gzsl", {})
    cal = gz.get("calibrated", gz.get("plain", {}))
    return {
        "zsl_top1": zsl["none"]["top1"], "zsl_top5": zsl["none"]["top5"],
        "zsl_mean_per_class": zsl["none"]["mean_per_class"], "zsl_samples": zsl["none"]["num_samples"],
        "zsl_top1_aligned": zsl.get("batch", {}).get("top1"), "zsl_top5_aligned": zsl.get("batch", {}).get("top5"),
        "per_class": zsl["none"]["per_class"],
        "class_counts": dict(zip(zsl["none"]["per_class"], [int(sum(r)) for r in zsl["none"]["confusion"]])),
        "gzsl_S": cal.get("S"), "gzsl_U": cal.get("U"), "gzsl_H": cal.get("H"), "gamma": cal.get("gamma"),
        "gzsl_plain": {k: gz.get("plain", {}).get(k) for k in ("S", "U", "H")},
    }


def collect(work: Path, specs: list[RunSpec]) -> dict:
    """Every finished run's figures (fractions in [0, 1]) keyed by run id: the last epoch's checkpoint
    (``results_last.json``) at the top level, the validation-selected epoch's under ``selected``."""
    out = {}
    for spec in specs:
        run = work / "runs" / spec.run_id
        if not (run / "results.json").is_file():
            continue
        selected = _figures(json.loads((run / "results.json").read_text()))
        last_file = run / "results_last.json"
        last = _figures(json.loads(last_file.read_text())) if last_file.is_file() else None
        info = json.loads((run / "run.json").read_text()) if (run / "run.json").is_file() else {}
        metrics = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines() if ln.strip()] \
            if (run / "metrics.jsonl").is_file() else []
        timing = json.loads((run / "timing.json").read_text()) if (run / "timing.json").is_file() else {}
        split = json.loads(real_split_file(spec.split).read_text())
        out[spec.run_id] = {
            "group": spec.group, "method": spec.method, "split": spec.split, "text": spec.text,
            "ablation": spec.ablation, "seed": spec.seed,
            "unseen": split["unseen"], "num_unseen": len(split["unseen"]), "label_space": len(split.get("classes", [])),
            **(last or {k: None for k in selected}),
            "selected": {**selected, "epoch": (info.get("best") or {}).get("epoch")},
            "epochs": len(metrics), "partitions": info.get("partitions", {}),
            "wall_s": timing.get("wall_s"), "cpu_s": timing.get("cpu_s"),
            "chance": chance_levels(len(split["unseen"]), len(split.get("classes", [])), selected["class_counts"]),
        }
    return out


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _mean_sd(values) -> str:
    v = [x for x in values if x is not None]
    if not v:
        return "–"
    m = sum(v) / len(v)
    if len(v) == 1:
        return f"{100 * m:.1f}"
    sd = (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5
    return f"{100 * m:.1f} ± {100 * sd:.1f}"


def _min(x) -> str:
    return "–" if x is None else f"{x / 60:.1f}"


def build_tables(results: dict) -> str:
    """Markdown tables of :func:`collect`'s figures: main grid, ablation, class texts, seeds, times."""
    rows = list(results.values())
    md: list[str] = []

    def table(title: str, head: list[str], body: list[list[str]]) -> None:
        if not body:
            return
        md.append(f"### {title}\n")
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "|".join("---" for _ in head) + "|")
        md.extend("| " + " | ".join(r) + " |" for r in body)
        md.append("")

    head = ["protocol", "method", "ZSL top-1", "mean per-class", "top-5", "top-1 aligned", "GZSL S", "U",
            "H (calibrated)", "chance: top-1 (majority) / top-5 / GZSL", "CPU min (wall)"]

    def line(r: dict, first: str) -> list[str]:
        c = r["chance"]
        maj = f" ({_pct(c['majority'])})" if "majority" in c else ""
        return [first, r["method"], _pct(r["zsl_top1"]), _pct(r["zsl_mean_per_class"]), _pct(r["zsl_top5"]),
                _pct(r["zsl_top1_aligned"]), _pct(r["gzsl_S"]), _pct(r["gzsl_U"]), _pct(r["gzsl_H"]),
                f"{_pct(c['zsl_top1'])}{maj} / {_pct(c['zsl_top5'])} / {_pct(c['gzsl'])}",
                f"{_min(r['cpu_s'])} ({_min(r['wall_s'])})"]

    main = sorted((r for r in rows if r["group"] == "main"), key=lambda r: (r["split"], r["method"]))
    table("PGFA vs SCoPLe per protocol (last epoch; class texts: one-sentence descriptions; %)", head,
          [line(r, f"{r['split']} ({r['num_unseen']} unseen)") for r in main])
    base = sorted((r for r in rows if r["split"] == "pku_zs_a" and r["method"] == "scople" and r["text"] == DEFAULT_TEXT
                   and not r["ablation"] and r["group"] in ("main", "seed")), key=lambda r: r["seed"])
    abl = sorted((r for r in rows if r["group"] == "ablation"), key=lambda r: (r["ablation"], r["seed"]))
    if abl:
        table("SCoPLe ablation on pku_zs_a (each module off in turn; %)", ["variant", "seed"] + head[2:],
              [["full SCoPLe", str(r["seed"])] + line(r, "")[2:] for r in base]
              + [[r["ablation"], str(r["seed"])] + line(r, "")[2:] for r in abl])
        variants = [("full SCoPLe", base)] + [(a, [r for r in abl if r["ablation"] == a])
                                              for a in sorted({r["ablation"] for r in abl})]
        table("SCoPLe ablation on pku_zs_a, mean ± standard deviation over seeds (%)",
              ["variant", "seeds", "ZSL top-1", "mean per-class", "top-1 aligned", "GZSL H (calibrated)"],
              [[name, str(len(rs))] + [_mean_sd([r[k] for r in rs]) for k in
                                       ("zsl_top1", "zsl_mean_per_class", "zsl_top1_aligned", "gzsl_H")]
               for name, rs in variants if rs])
    txt = sorted((r for r in rows if r["split"] == "pku_zs_a" and r["group"] in ("main", "text")),
                 key=lambda r: (r["method"], TEXTS.index(r["text"]) if r["text"] in TEXTS else 99))
    if any(r["group"] == "text" for r in txt):
        table("Class texts on pku_zs_a (%)", ["class text", "method"] + head[2:],
              [[r["text"]] + line(r, "")[1:] for r in txt])
    seeds = sorted((r for r in rows if r["split"] == "pku_zs_a" and r["text"] == DEFAULT_TEXT and not r["ablation"]
                    and r["group"] in ("main", "seed")), key=lambda r: (r["method"], r["seed"]))
    if any(r["group"] == "seed" for r in seeds):
        table("Seed noise on pku_zs_a (%)", ["seed", "method"] + head[2:], [[str(r["seed"])] + line(r, "")[1:] for r in seeds])
    names = {r["split"]: r for r in rows if r["method"] == "pgfa" and r["text"] == "name" and not r["seed"]}
    if len(names) > 1:
        table("PGFA with class names vs descriptions on every protocol (%)", ["protocol", "class text"] + head[2:],
              [[f"{r['split']} ({r['num_unseen']} unseen)", r["text"]] + line(r, "")[2:]
               for sp in sorted(names) for r in sorted((x for x in main if x["split"] == sp and x["method"] == "pgfa"),
                                                       key=lambda x: x["text"]) + [names[sp]]])
    table("The epoch chosen on the validation classes (fit's own report; %)",
          ["protocol", "method", "chosen epoch", "ZSL top-1", "mean per-class", "GZSL H (calibrated)"],
          [[r["split"], r["method"], f"{r['selected']['epoch']} of {r['epochs']}", _pct(r["selected"]["zsl_top1"]),
            _pct(r["selected"]["zsl_mean_per_class"]), _pct(r["selected"]["gzsl_H"])] for r in main])
    per = []
    for r in main:
        counts = r.get("class_counts") or {}
        pcs = ", ".join(f"{k} {_pct(v)} (n={counts.get(k, '?')})" for k, v in (r["per_class"] or {}).items())
        per.append([r["split"], r["method"], pcs])
    table("Per unseen class ZSL top-1 (%, last epoch, no alignment)", ["protocol", "method", "per class"], per)
    wall = sum(r["wall_s"] or 0 for r in rows)
    cpu = sum(r["cpu_s"] or 0 for r in rows)
    md.append(f"Runs: {len(rows)}; total wall time {wall / 60:.1f} min, CPU time (user + system) {cpu / 60:.1f} min.\n")
    return "\n".join(md)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m skelzs.tools.real_zsl", description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared research data folder")
    ap.add_argument("--work", type=Path, default=Path("/tmp/zsl"), help="prepared data, runs, tables (not the repo)")
    ap.add_argument("--groups", default=",".join(GROUPS), help=f"comma-separated subset of {','.join(GROUPS)}")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--batch-size", type=int, default=BATCH)
    ap.add_argument("--tables-only", action="store_true", help="only tabulate the finished runs")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        ap.error(f"unknown groups {bad}; expected {GROUPS}")
    specs = grid(groups)
    work = args.work.resolve()
    if not args.tables_only:
        prepare_data(args.data.resolve(), work)
        write_class_texts(args.data.resolve(), work / "texts")
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as bar:
            task = bar.add_task("runs", total=len(specs))
            for spec in specs:
                bar.update(task, description=spec.run_id)
                t = run_one(spec, work, args.epochs, args.batch_size)
                bar.console.log(f"{spec.run_id}: {t['wall_s'] / 60:.1f} min wall, {t['cpu_s'] / 60:.1f} min CPU")
                bar.advance(task)
    results = collect(work, grid(GROUPS))
    (work / "real_zsl_results.json").write_text(json.dumps(results, indent=1))
    (work / "real_zsl_tables.md").write_text(build_tables(results))
    print(f"{len(results)} runs tabulated: {work / 'real_zsl_tables.md'}, {work / 'real_zsl_results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
