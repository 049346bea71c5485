"""The training loop: checkpoints without pickle, exact resume, a 2-process DDP run on CPU."""

from __future__ import annotations

import json
import os
import socket

import pytest
import torch

from train_synth import TINY_PGFA, prepared


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    return prepared(root, per_class_train=4, per_class_test=2, classes=[0, 1, 2, 3, 4, 5, 8, 9])


def _cfg(synth, out, **kw):
    from skelzs.train.loop import FitConfig

    base = dict(method="pgfa", data=str(synth), split=str(synth.parent / "split.json"), out=str(out), epochs=3,
                batch_size=8, warmup_epochs=1, lr=0.05, workers=0, progress=False, device="cpu", config=TINY_PGFA)
    base.update(kw)
    return FitConfig(**base)


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def _strip_timing(path):
    rows = [json.loads(l) for l in path.read_text().splitlines()]
    for r in rows:
        r.pop("samples_per_s"), r.pop("epoch_time_s")
    return rows


class _Killed(Exception):
    pass


def test_killed_and_resumed_run_matches_uninterrupted(synth, tmp_path):
    from skelzs.train.loop import fit, load_train_state

    kw = dict(epochs=2, warmup_epochs=0)  # full lr from epoch 0: momentum and weights move every step
    full = fit(_cfg(synth, tmp_path / "full", **kw))
    assert full.epochs_run == 2 and len(full.history) == 2

    def kill(epoch, step):
        if epoch == 1 and step == 0:
            raise _Killed  # after an optimiser step of epoch 1: that work is lost and redone on resume

    with pytest.raises(_Killed):
        fit(_cfg(synth, tmp_path / "cut", on_step=kill, **kw))
    meta, tensors = load_train_state(tmp_path / "cut" / "last")
    assert meta["epoch"] == 1 and any(k.startswith("optim.") for k in tensors)
    resumed = fit(_cfg(synth, tmp_path / "cut", resume=True, **kw))
    assert resumed.epochs_run == 1
    a, b = _weights(tmp_path / "full" / "last"), _weights(tmp_path / "cut" / "last")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert _strip_timing(tmp_path / "full" / "metrics.jsonl") == _strip_timing(tmp_path / "cut" / "metrics.jsonl")


def test_run_folder_contents(synth, tmp_path):
    from skelzs.models.checkpoint import load_checkpoint
    from skelzs.train.loop import fit

    res = fit(_cfg(synth, tmp_path / "r", epochs=2))
    out = tmp_path / "r"
    assert {p.name for p in (out / "last").iterdir()} >= {"model.safetensors", "config.json",
                                                          "train_state.safetensors", "train_state.json"}
    assert not [p for p in out.rglob("*") if p.suffix in (".pt", ".pth", ".pkl", ".bin")]  # nothing pickled
    model, cfg = load_checkpoint(out / "best")
    assert cfg["method"] == "pgfa" and cfg["preprocess"] == "frame50" and cfg["window"]["frames"] == 20
    assert cfg["labels"]["unseen"] == [3, 5] and cfg["labels"]["val_classes"] == [8, 9]
    assert cfg["training"]["epoch"] == res.best_epoch
    assert (out / "curves.png").stat().st_size > 1000
    rows = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1] and rows[0]["lr"] == 0.0 and rows[1]["lr"] == 0.05
    assert all(0 <= r["val_zsl_top1"] <= 1 for r in rows)


def _ddp_worker(rank, world, port, cfg_kwargs):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from pathlib import Path

    from skelzs.train.loop import FitConfig, fit

    cfg_kwargs = dict(cfg_kwargs)
    res = fit(FitConfig(**cfg_kwargs))
    Path(cfg_kwargs["out"], f"rank{rank}.json").write_text(json.dumps({"epochs": res.epochs_run}))


@pytest.mark.slow
def test_two_process_ddp_on_cpu(synth, tmp_path):
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kwargs = dict(method="pgfa", data=str(synth), split=str(synth.parent / "split.json"), out=str(tmp_path / "ddp"),
                  epochs=2, batch_size=8, warmup_epochs=1, workers=0, progress=False, device="cpu", config=TINY_PGFA)
    mp.spawn(_ddp_worker, args=(2, port, kwargs), nprocs=2, join=True)
    out = tmp_path / "ddp"
    assert json.loads((out / "rank0.json").read_text())["epochs"] == 2
    assert json.loads((out / "rank1.json").read_text())["epochs"] == 2
    run = json.loads((out / "run.json").read_text())
    assert run["world_size"] == 2
    rows = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["train_loss"] > 0 for r in rows)
    assert (out / "last" / "model.safetensors").is_file()


def test_fit_bad_input_is_one_line(synth, tmp_path, capsys):
    from skelzs.train.cli import main

    cases = (["--split", "ntu60_55_5"],                      # a split of another dataset
             ["--split", "no_such_split"],
             ["--split", str(synth.parent / "split.json"), "--select-on", "best"],
             ["--split", str(synth.parent / "split.json"), "--batch-size", "1000"],
             ["--split", str(synth.parent / "split.json"), "--vocab-loss", "-1"],
             ["--split", str(synth.parent / "split.json"), "--method", "scople", "--vocab-loss", "1"])
    for extra in cases:
        with pytest.raises(SystemExit) as ex:
            main(["fit", "--data", str(synth), "--out", str(tmp_path / "r"), "--device", "cpu", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        assert ex.value.code == 2 and len(err) == 1 and err[0].startswith("error:"), (extra, err)


def test_vocab_loss_run_records_its_weight_and_changes_training(synth, tmp_path):
    from skelzs.train.loop import fit

    fit(_cfg(synth, tmp_path / "a", epochs=1, warmup_epochs=0))
    fit(_cfg(synth, tmp_path / "b", epochs=1, warmup_epochs=0, vocab_loss=1.0))
    run = json.loads((tmp_path / "b" / "run.json").read_text())
    assert run["vocab_loss"] == 1.0
    a, b = _weights(tmp_path / "a" / "last"), _weights(tmp_path / "b" / "last")
    assert any(not torch.equal(a[k], b[k]) for k in a if a[k].is_floating_point())


def test_eval_says_when_the_epoch_was_chosen_on_test(synth, tmp_path):
    from skelzs.train.commands import run_eval
    from skelzs.train.loop import fit

    fit(_cfg(synth, tmp_path / "r", epochs=1, select_on="test"))
    best = tmp_path / "r" / "best"
    cfg = json.loads((best / "config.json").read_text())
    assert cfg["training"]["select_on"] == "test" and cfg["labels"]["val_classes"] == []
    report = run_eval(best, synth, str(synth.parent / "split.json"), align="online", device="cpu")
    assert "TEST split" in report["header"]["selection"]
    assert "no validation split" in report["gzsl"]["calibration_source"] and "calibrated" not in report["gzsl"]
    assert set(report["zsl"]) == {"none", "online"} and (best / "confusion_unseen.png").is_file()
