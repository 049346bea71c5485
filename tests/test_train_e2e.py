"""End to end through the CLI on generated actions: prepare → fit → eval (ZSL and GZSL).

Ten parametric motions written as real NTU ``.skeleton`` files with informative class texts; two
classes (kick with the right leg, wave the right hand) are never trained on. The skeleton
encoder must place them by their texts: zero-shot top-1 clearly above the 50 % of chance.
"""

from __future__ import annotations

import json

import pytest

from train_synth import CLASSES, TINY_PGFA, UNSEEN, write_dataset, write_split


@pytest.mark.slow
def test_prepare_fit_eval_zero_shot_above_chance(tmp_path, train_cli):
    raw = write_dataset(tmp_path / "raw", per_class_train=8, per_class_test=4)
    split = write_split(tmp_path / "split.json")

    run = train_cli
    out = run("prepare", "folder", "--raw", raw, "--out", tmp_path / "data", "--workers", "2", "--frames", "20")
    assert "120 samples" in out
    (tmp_path / "tiny.json").write_text(json.dumps(TINY_PGFA))
    run("fit", "--method", "pgfa", "--data", tmp_path / "data", "--split", split, "--out", tmp_path / "run",
        "--epochs", "8", "--batch-size", "8", "--lr", "0.05", "--warmup-epochs", "1", "--config",
        tmp_path / "tiny.json", "--device", "cpu")
    run_dir = tmp_path / "run"
    for name in ("best/model.safetensors", "last/train_state.json", "metrics.jsonl", "curves.png", "results.json",
                 "best/confusion_unseen.png"):
        assert (run_dir / name).is_file(), name
    report = json.loads(run("eval", "--checkpoint", run_dir / "best", "--data", tmp_path / "data", "--split", split,
                            "--gzsl", "--json", "--align", "online"))
    zsl = report["zsl"]["none"]
    assert zsl["num_samples"] == 8 and set(zsl["per_class"]) == {CLASSES[c] for c in UNSEEN}
    assert zsl["top1"] >= 0.75, zsl  # chance is 0.5
    assert 0 <= report["zsl"]["online"]["top1"] <= 1
    g = report["gzsl"]
    assert {"plain", "calibrated", "gated"} <= set(g)
    for v in ("plain", "calibrated", "gated"):
        s, u, h = g[v]["S"], g[v]["U"], g[v]["H"]
        assert h == pytest.approx(0 if s + u == 0 else 2 * s * u / (s + u))
    assert "held-out seen classes" in report["header"]["selection"]
    text = run("eval", "--checkpoint", run_dir / "best", "--data", tmp_path / "data", "--split", split)
    assert "ZSL" in text and "batch" in text


def test_eval_rejects_a_wrong_checkpoint(tmp_path, capsys):
    from skelzs.train.cli import main

    (tmp_path / "ckpt").mkdir()
    with pytest.raises(SystemExit) as ex:
        main(["eval", "--checkpoint", str(tmp_path / "ckpt"), "--data", str(tmp_path), "--split", "ntu60_55_5"])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
