"""``skelzs-train prepare mix`` on real Kinect v1 recordings, then a short ``fit --augment`` on it:
held-out subjects on the test side, corrupt files skipped by name, the checkpoint is a live
window model (body normalization, 15 fps) that classifies a recording by sliding windows."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from skelzs.train.dataset import DatasetError, PreparedDataset
from skelzs.train.prepare_mix import MixOptions, load_vocabulary, prepare_mix, window_starts


def test_window_starts_cover_a_segment():
    assert window_starts(10, 30, 40, 10) == [-((40 - 20) // 2) + 10]   # short: one window centred on it
    assert window_starts(0, 100, 40, 25) == [0, 25, 50, 60]            # the last ends at the segment end


def test_vocabulary_names_every_source_label_once():
    v = load_vocabulary()
    assert len(set(v.classes)) == len(v.classes) and all(v.descriptions)
    assert v.classes[v.lookup("utkinect", "waveHands")] == v.classes[v.lookup("pku", "hand waving")] == "hand waving"
    assert v.classes[v.lookup("msr", "hand clap")] == "clapping"
    with pytest.raises(DatasetError, match="not in the action vocabulary"):
        v.lookup("msr", "moonwalk")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    from conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA}")
    tmp = tmp_path_factory.mktemp("mix")
    utk_src = SHARED_DATA / "kinect_v1" / "UTKinect" / "joints"
    msr_src = SHARED_DATA / "kinect_v1" / "MSRAction3D" / "real_world_coordinates"
    utk, msr = tmp / "utk", tmp / "msr"
    utk.mkdir(), msr.mkdir()
    for name in ("joints_s01_e01.txt", "joints_s09_e01.txt", "actionLabel.txt"):
        shutil.copy(utk_src / name, utk / name)
    for name in ("a01_s01_e01", "a01_s02_e01", "a09_s01_e01", "a09_s02_e01"):
        shutil.copy(msr_src / f"{name}_skeleton3D.txt", msr / f"{name}_skeleton3D.txt")
    lines = (msr_src / "a10_s01_e01_skeleton3D.txt").read_text().splitlines()
    (msr / "a10_s01_e01_skeleton3D.txt").write_text("\n".join(lines[:-7]) + "\n")   # truncated
    rep = prepare_mix(MixOptions(sources=[("utkinect", utk), ("msr", msr)], out=tmp / "prepared", fps=15.0,
                                 frames=40, stride=10, progress=False))
    return tmp, rep


def test_mix_windows_subjects_and_skips(mixed):
    tmp, rep = mixed
    assert [s["file"].rsplit("/", 1)[-1] for s in rep.skipped] == ["a10_s01_e01_skeleton3D.txt"]
    assert "multiple of 20" in rep.skipped[0]["error"]
    assert "a10_s01_e01" not in rep.skipped[0]["error"]          # the file is named once, by the skip line
    ds = PreparedDataset.open(tmp / "prepared")
    assert ds.pipeline == "raw" and ds.window_normalization == "body"
    assert ds.data.shape[1:] == (3, 40, 25, 2) and ds.manifest["fps"] == 15.0
    assert np.all(ds.data[..., 1] == 0)                                   # one-person sources
    per = ds.manifest["source"]["per_source"]
    assert per["utkinect"]["recordings"] == 2 and per["msr"]["recordings"] == 4
    names = np.array(ds.names)
    test = ~ds.train_side
    assert all(n.startswith("utkinect:s09") or "_s02_" in n for n in names[test])    # subject 9, MSR even
    assert all(n.startswith("utkinect:s01") or "_s01_" in n for n in names[~test])
    got = {ds.classes[c] for c in ds.labels}
    assert {"high arm wave", "draw circle", "hand waving", "walking"} <= got
    assert not any("a10_" in n for n in names)                          # the corrupt file gave no window


def test_fit_with_augmentation_gives_a_live_window_checkpoint(mixed):
    from train_synth import TINY_PGFA

    from skelzs.models.api import load
    from skelzs.stream.classify import classify_sequences
    from skelzs.stream.formats import load_sequence
    from skelzs.train.loop import FitConfig, fit

    tmp, _ = mixed
    (tmp / "split.json").write_text(json.dumps({"unseen": ["draw circle"]}))
    res = fit(FitConfig(method="pgfa", data=str(tmp / "prepared"), split=str(tmp / "split.json"), out=str(tmp / "run"),
                        epochs=1, batch_size=8, warmup_epochs=0, lr=0.05, select_on="last", progress=False,
                        device="cpu", config=TINY_PGFA, augment="monocular"))
    cfg = json.loads((res.out / "last" / "config.json").read_text())
    assert cfg["preprocess"] == cfg["stream_preprocess"] == "body"
    assert cfg["window"] == {"frames": 40, "persons": 2, "fps": 15.0}
    assert cfg["training"]["augment"] == "monocular"
    model = load(res.out / "last", backend="torch")
    seq = load_sequence(tmp / "utk" / "joints_s01_e01.txt")
    rows = classify_sequences(model, ["walking", "hand waving", "clapping"], [({"file": "s01"}, seq)], top_k=3)
    assert len(rows) == 1 and {lab for lab, _ in rows[0]["topk"]} == {"walking", "hand waving", "clapping"}
    assert 0.0 <= rows[0]["score"] <= 1.0


def test_fit_refuses_augmenting_a_preprocessed_dataset(tmp_path):
    from train_synth import TINY_PGFA, prepared

    from skelzs.stream.errors import SkelzsError
    from skelzs.train.loop import FitConfig, fit

    root = prepared(tmp_path, per_class_train=2, per_class_test=1, classes=[0, 1, 2, 3])
    with pytest.raises(SkelzsError, match="needs a dataset of raw windows"):
        fit(FitConfig(method="pgfa", data=str(root), split=str(root.parent / "split.json"), out=str(tmp_path / "r"),
                      epochs=1, batch_size=4, progress=False, device="cpu", config=TINY_PGFA, augment="monocular"))
