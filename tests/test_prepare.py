"""``skelzs-train prepare`` over real NTU RGB+D and PKU-MMD files, corrupt files, resume."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from skelzs.train.dataset import PreparedDataset
from skelzs.train.prepare import PrepareOptions, prepare


def _opts(dataset, raw, out, **kw):
    return PrepareOptions(dataset=dataset, raw=raw, out=out, workers=kw.pop("workers", 1), progress=False, **kw)


def test_prepare_real_ntu_files(ntu_dir, tmp_path):
    rep = prepare(_opts("ntu60", ntu_dir, tmp_path / "p", workers=2, shard_size=3))
    files = sorted(ntu_dir.glob("*.skeleton"))
    assert rep.num_samples == len(files) == 8 and not rep.corrupt
    assert rep.count_check["status"] == "partial release"
    ds = PreparedDataset.open(tmp_path / "p")
    assert ds.data.shape == (8, 3, 50, 25, 2) and ds.data.dtype == np.float16
    assert isinstance(ds.data, np.memmap)
    assert ds.names == [f.name[: -len(".skeleton")] for f in files]  # file order, whatever the workers
    i = ds.names.index("S001C003P008R002A058")
    assert ds.labels[i] == 57
    assert (ds.meta["setup"][i], ds.meta["camera"][i], ds.meta["performer"][i], ds.meta["replication"][i]) == (1, 3, 8, 2)
    assert ds.meta["subset"][i] == 1  # performer 8 is a cross-subject training performer
    assert ds.meta["subset"][ds.names.index("S002C001P003R001A003")] == 0  # performer 3: test
    assert np.any(ds.data[i, :, :, :, 1] != 0)  # the second person of the handshake is kept
    assert ds.classes[0] and len(ds.classes) == 60 and np.isfinite(ds.data[:].astype(np.float32)).all()
    # idempotent: a rerun finds the finished folder and does nothing
    again = prepare(_opts("ntu60", ntu_dir, tmp_path / "p"))
    assert again.reused and again.num_samples == 8


def test_corrupt_file_is_reported_and_skipped(ntu_dir, tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in sorted(ntu_dir.glob("*.skeleton"))[:3]:
        shutil.copy(f, raw / f.name)
    good = sorted(ntu_dir.glob("*.skeleton"))[0].read_text().splitlines()
    bad = raw / "S001C002P002R001A009.skeleton"
    bad.write_text("\n".join(good[: len(good) // 2] + ["0.1 0.2 oops"]) + "\n")
    from skelzs.train.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["prepare", "ntu60", "--raw", str(raw), "--out", str(tmp_path / "p"), "--workers", "1"])
    assert ex.value.code == 0
    out = capsys.readouterr().out
    assert "3 samples" in out and "1 corrupt" in out and bad.name in out
    man = json.loads((tmp_path / "p" / "dataset.json").read_text())
    assert [c["file"] for c in man["source"]["corrupt"]] == [str(bad)]
    assert "\n" not in man["source"]["corrupt"][0]["error"]


def test_known_missing_sample_is_skipped_and_counted(ntu_dir, tmp_path):
    from skelzs.stream.protocols import missing_skeletons

    raw = tmp_path / "raw"
    raw.mkdir()
    missing = sorted(missing_skeletons("ntu60"))[0]
    shutil.copy(ntu_dir / "S001C001P001R001A001.skeleton", raw / "S001C001P001R001A001.skeleton")
    shutil.copy(ntu_dir / "S001C001P001R001A002.skeleton", raw / f"{missing}.skeleton")
    rep = prepare(_opts("ntu60", raw, tmp_path / "p"))
    assert rep.num_samples == 1 and rep.known_missing_skipped == 1


def test_interrupted_prepare_resumes(ntu_dir, tmp_path, monkeypatch):
    import skelzs.train.prepare as P

    real_run = P._run_jobs

    def first_shard_then_die(jobs, workers, infos, total, done, show):
        real_run(jobs[:1], 1, infos, total, done, False)
        raise KeyboardInterrupt

    monkeypatch.setattr(P, "_run_jobs", first_shard_then_die)
    with pytest.raises(KeyboardInterrupt):
        prepare(_opts("ntu60", ntu_dir, tmp_path / "p", shard_size=3))
    assert not (tmp_path / "p" / "dataset.json").exists()
    monkeypatch.setattr(P, "_run_jobs", real_run)
    rep = prepare(_opts("ntu60", ntu_dir, tmp_path / "p", shard_size=3))
    assert rep.shards_reused == 1 and rep.num_samples == 8
    clean = prepare(_opts("ntu60", ntu_dir, tmp_path / "q", shard_size=3))
    a, b = PreparedDataset.open(tmp_path / "p"), PreparedDataset.open(tmp_path / "q")
    assert np.array_equal(a.data[:], b.data[:]) and a.names == b.names and clean.shards_reused == 0


def test_prepare_real_pku_sequence(pku_dir, tmp_path):
    rep = prepare(_opts("pku", pku_dir, tmp_path / "p", pipeline="ctrgcn64"))
    ds = PreparedDataset.open(tmp_path / "p")
    assert ds.name == "pku51" and len(ds.classes) == 51 and ds.frames == 64
    rows = [ln.split(",") for ln in (pku_dir / "Label/Train_Label_PKU_final/0160-L.txt").read_text().split()]
    assert rep.num_samples == len(rows) == 16
    assert sorted(ds.labels.tolist()) == sorted(int(r[0]) - 1 for r in rows)
    assert set(ds.meta["video"].tolist()) == {160} and set(ds.meta["view"].tolist()) == {1}
    assert sorted(zip(ds.meta["start"].tolist(), ds.meta["end"].tolist())) == sorted((int(r[1]), int(r[2])) for r in rows)
    assert ds.names[0].startswith("F160V001C")
    train_ids = (pku_dir / "Split/cross-subject.txt").read_text().splitlines()[1]  # "Training videos:" list
    assert "0160-L" in train_ids and ds.meta["subset"].tolist() == [1] * 16


def test_bad_options_are_one_line_errors(tmp_path):
    from skelzs.train.cli import main

    for args in (["prepare", "ntu60", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
                 ["prepare", "ntu60", "--raw", str(tmp_path), "--out", str(tmp_path / "o"), "--pipeline", "zzz"],
                 ["prepare", "mocap", "--raw", str(tmp_path), "--out", str(tmp_path / "o")]):
        with pytest.raises(SystemExit) as ex:
            main(args)
        assert ex.value.code == 2


def test_official_count_check():
    from skelzs.train.prepare import _count_check

    assert _count_check("ntu60", "ntu60", 56_578, 302, 56_578, 0, 0)["status"] == "ok"
    bad = _count_check("ntu60", "ntu60", 56_578, 302, 56_575, 3, 0)
    assert bad["status"] == "mismatch" and bad["found"] == 56_575 and bad["corrupt"] == 3
    assert _count_check("ntu120", "ntu120", 8, 0, 8, 0, 0)["status"] == "partial release"
    assert _count_check("pku", "pku51", 1076, 4, 21_541, 0, 0)["status"] == "ok"  # 4 missing clips
    assert _count_check("folder", "custom", 5, 0, 5, 0, 0)["status"] == "not applicable"
