"""The real zero-shot protocols of issue 14 (``docs/real-zero-shot.md``): the shipped split files,
the PKU-MMD val/ test side of ``prepare mix``, the label space of a split file, the class texts
and the table builder of ``python -m skelzs.tools.real_zsl``."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from skelzs.train.prepare_mix import MixOptions, load_vocabulary, prepare_mix
from skelzs.train.splits import SplitError, partition, real_split_file, real_split_names, resolve_split

PKU_SPLITS = ("pku_zs_a", "pku_zs_b", "pku_zs_c")
INTERACTIONS = {12, 14, 16, 18, 21, 24, 26, 27}  # PKU-MMD 1-based labels seen in the interaction sequences


def _spec(name: str) -> dict:
    return json.loads(real_split_file(name).read_text())


def test_real_splits_are_registered_and_resolve_by_name_and_file():
    assert set(real_split_names()) == {*PKU_SPLITS, "cross_kinect_v1"}
    vocab = load_vocabulary()
    for name in real_split_names():
        spec = _spec(name)
        for key in ("unseen", "val_unseen", "classes"):  # every entry a vocabulary class name
            assert all(isinstance(c, str) and c in vocab.classes for c in spec[key]), (name, key)
        by_name, by_file = resolve_split(name, list(vocab.classes)), resolve_split(str(real_split_file(name)), list(vocab.classes))
        assert by_name == by_file and by_name.name == name
        assert [vocab.classes[c] for c in by_name.unseen] == sorted(spec["unseen"], key=vocab.classes.index)
        assert set(by_name.unseen) <= set(by_name.classes)
        assert not set(by_name.val_unseen) & set(by_name.classes)   # validation classes never GZSL candidates
        assert all(u in spec["about"] for u in spec["unseen"])        # the about text names the held-out classes
        seen = by_name.seen(len(vocab.classes))
        assert set(seen) == set(by_name.classes) - set(by_name.unseen)


def test_pku_splits_hold_out_two_interactions_and_three_single_person_labels():
    from skelzs.train.prepare import class_names

    pku = class_names("pku51")
    held = [frozenset(_spec(n)["unseen"]) for n in PKU_SPLITS]
    assert len(set(held)) == 3                                         # three different held-out sets
    for name in PKU_SPLITS:
        labels = {pku.index(c) + 1 for c in _spec(name)["unseen"]}
        assert len(labels & INTERACTIONS) == 2 and len(labels - INTERACTIONS) == 3, name


def test_cross_split_unseen_names_never_reach_the_training_sources():
    """No unseen class of cross_kinect_v1 has a PKU-MMD or procedural alias: no PKU-MMD label and
    no procedural class maps to it, so its name cannot appear on the training side (PKU + synth)."""
    from importlib import resources

    text = resources.files("skelzs.train.data").joinpath("action_vocabulary.csv").read_text()
    aliases = {row["class"]: row["aliases"].split("|") for row in csv.DictReader(text.splitlines())}
    vocab = load_vocabulary()
    synth_rows = list(csv.DictReader(resources.files("skelzs.assets").joinpath("synth_classes.csv")
                                     .read_text().splitlines()))
    synth_classes = {vocab.classes[vocab.lookup("synth", r["label"])] for r in synth_rows}
    spec = _spec("cross_kinect_v1")
    assert len(spec["unseen"]) >= 10
    for c in spec["unseen"]:
        assert not any(a.split(":")[0] in ("pku", "synth") for a in aliases[c]), c
        assert c not in synth_classes
    assert not set(spec["val_unseen"]) & set(spec["unseen"])


def test_label_space_keeps_gzsl_to_trained_and_unseen_classes(tmp_path):
    labels = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    train_side = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bool)
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"unseen": [2], "val_unseen": [4], "classes": [0, 1, 2]}))
    sp = resolve_split(str(f))
    parts = partition(labels, train_side, sp, 5, use_validation=True, val_seen_fraction=0.0)
    assert parts.seen_classes == (0, 1) and parts.train_classes == (0, 1) and parts.val_classes == (4,)
    assert labels[parts.train].tolist() == [0, 1] and labels[parts.val_unseen].tolist() == [4]
    assert labels[parts.gzsl_test].tolist() == [0, 1, 2]             # class 3 (outside the space) is left out
    f.write_text(json.dumps({"unseen": [3], "classes": [0, 1, 2]}))
    with pytest.raises(SplitError, match="not in its 'classes' label space"):
        resolve_split(str(f))


@pytest.fixture(scope="module")
def pku_mix(tmp_path_factory):
    from conftest import SHARED_DATA

    src = SHARED_DATA / "pku_mmd_more"
    if not src.is_dir():
        pytest.skip(f"real test data not found at {src}")
    tmp = tmp_path_factory.mktemp("pkuval")
    for side, stems in (("train", ("0005-L", "0015-M")), ("val", ("0312-R",))):
        (tmp / side).mkdir()
        for stem in stems:
            if not (src / side / f"{stem}.npz").is_file():
                pytest.skip(f"{src / side / stem}.npz not found")
            for suffix in (".npz", ".labels.txt"):
                shutil.copy(src / side / f"{stem}{suffix}", tmp / side / f"{stem}{suffix}")
    rep = prepare_mix(MixOptions(sources=[("pku", tmp / "train"), ("pku_val", tmp / "val")], out=tmp / "prepared",
                                 fps=7.5, frames=20, stride=5, progress=False))
    return tmp, rep


def test_pku_val_recordings_go_to_the_test_side_with_pku_class_names(pku_mix):
    from skelzs.stream.pku import read_pku_labels
    from skelzs.train.dataset import PreparedDataset
    from skelzs.train.prepare import class_names

    tmp, rep = pku_mix
    ds = PreparedDataset.open(tmp / "prepared")
    meta = np.load(tmp / "prepared" / "meta.npz")
    setup, subset = meta["setup"], meta["subset"]
    from skelzs.train.prepare_mix import SOURCE_IDS

    val = setup == SOURCE_IDS["pku_val"]
    assert val.any() and (~val).any()
    assert np.all(subset[val] == 0) and np.all(subset[~val] == 1)      # pku_val: test side; pku: training side
    assert rep.per_source["pku"]["test_windows"] == 0
    assert rep.per_source["pku_val"]["test_windows"] == rep.per_source["pku_val"]["windows"] > 0
    pku = class_names("pku51")
    expected = {pku[int(s.label) - 1] for s in read_pku_labels(tmp / "val" / "0312-R.labels.txt")}
    assert {ds.classes[c] for c in ds.labels[val]} == expected          # the pku: aliases name its labels
    assert ds.data.shape[1:] == (3, 20, 25, 2) and ds.manifest["fps"] == 7.5


def test_pku_split_trains_on_no_held_out_class(pku_mix):
    from skelzs.train.dataset import PreparedDataset

    tmp, _ = pku_mix
    ds = PreparedDataset.open(tmp / "prepared")
    checked = 0
    for name in PKU_SPLITS:
        sp = resolve_split(name, ds.classes)
        present = set(ds.labels[~ds.train_side].tolist()) & set(sp.unseen)
        if not present:
            continue  # these few files hold none of this split's unseen classes
        parts = partition(ds.labels, ds.train_side, sp, ds.num_classes, use_validation=True)
        assert not set(ds.labels[parts.train].tolist()) & (set(sp.unseen) | set(sp.val_unseen))
        assert not ds.train_side[parts.zsl_test].any() and not ds.train_side[parts.gzsl_test].any()
        assert set(ds.labels[parts.gzsl_test].tolist()) <= set(sp.classes)
        checked += 1
    assert checked >= 2   # 0312-R (val) holds jump up, pickup, throw and the touch labels


def test_all_test_puts_every_recording_of_a_source_on_the_test_side(tmp_path):
    from conftest import SHARED_DATA

    src = SHARED_DATA / "kinect_v1" / "UTKinect" / "joints"
    if not src.is_dir():
        pytest.skip(f"real test data not found at {src}")
    utk = tmp_path / "utk"
    utk.mkdir()
    for name in ("joints_s01_e01.txt", "actionLabel.txt"):                 # subject 1: training side by default
        shutil.copy(src / name, utk / name)
    rep = prepare_mix(MixOptions(sources=[("utkinect", utk)], out=tmp_path / "p", fps=7.5, frames=20, stride=5,
                                 progress=False, all_test=("utkinect",)))
    assert rep.per_source["utkinect"]["test_windows"] == rep.per_source["utkinect"]["windows"] > 0
    from skelzs.train.dataset import DatasetError

    with pytest.raises(DatasetError, match="--all-test msr"):
        prepare_mix(MixOptions(sources=[("utkinect", utk)], out=tmp_path / "q", progress=False, all_test=("msr",)))


def test_class_texts_take_published_pku_texts_and_vocabulary_descriptions(tmp_path, shared_data):
    from skelzs.tools.real_zsl import TEXTS, write_class_texts

    if not (shared_data / "zssar" / "star" / "pkuv1_part_descriptions.txt").is_file():
        pytest.skip("zssar descriptions not found")
    vocab = load_vocabulary()
    paths = write_class_texts(shared_data, tmp_path)
    lines = {v: paths[v].read_text(encoding="utf-8").splitlines() for v in TEXTS}
    assert all(len(lines[v]) == len(vocab.classes) and all(lines[v]) for v in TEXTS)
    bow = vocab.classes.index("bow")
    assert lines["name"][bow] == "bow"
    assert lines["desc"][bow] == vocab.descriptions[bow]
    assert lines["pgfa_des"][bow].startswith('"Bow" is')
    assert lines["parts"][bow].startswith("bow; Head:")
    walk = vocab.classes.index("walking")                                   # not a PKU-MMD class
    assert lines["parts"][walk] == lines["pgfa_des"][walk] == vocab.descriptions[walk]


def _fake(run_id, group, method, split, text="desc", ablation="", seed=0, top1=0.5):
    return run_id, {
        "group": group, "method": method, "split": split, "text": text, "ablation": ablation, "seed": seed,
        "unseen": ["a", "b", "c"], "num_unseen": 3, "label_space": 10, "zsl_top1": top1, "zsl_top5": 1.0,
        "zsl_mean_per_class": top1, "zsl_samples": 30, "zsl_top1_aligned": top1 + 0.1, "zsl_top5_aligned": 1.0,
        "per_class": {"a": 1.0, "b": 0.25, "c": 0.0}, "class_counts": {"a": 20, "b": 8, "c": 2}, "gzsl_S": 0.8, "gzsl_U": 0.2, "gzsl_H": 0.32, "gamma": 0.1,
        "gzsl_plain": {"S": 0.9, "U": 0.0, "H": 0.0},
        "selected": {"zsl_top1": 0.75, "zsl_mean_per_class": 0.5, "gzsl_H": 0.5, "epoch": 4},
        "epochs": 10, "partitions": {}, "wall_s": 120.0,
        "cpu_s": 200.0, "chance": {"zsl_top1": 1 / 3, "zsl_top5": 1.0, "gzsl": 0.1, "majority": 20 / 30},
    }


def test_build_tables_formats_every_group_with_chance_levels():
    from skelzs.tools.real_zsl import build_tables, chance_levels

    assert chance_levels(5, 20) == {"zsl_top1": 0.2, "zsl_top5": 1.0, "gzsl": 0.05}
    assert chance_levels(5, 20, {"a": 54, "b": 19, "c": 3})["majority"] == pytest.approx(54 / 76)
    assert chance_levels(22, 87)["zsl_top5"] == pytest.approx(5 / 22)
    results = dict([
        _fake("m1", "main", "pgfa", "pku_zs_a", top1=0.5), _fake("m2", "main", "scople", "pku_zs_a", top1=0.25),
        _fake("a1", "ablation", "scople", "pku_zs_a", ablation="no_sampler", top1=0.125),
        _fake("a2", "ablation", "scople", "pku_zs_a", ablation="no_sampler", seed=1, top1=0.375),
        _fake("t1", "text", "pgfa", "pku_zs_a", text="name", top1=0.375),
        _fake("s1", "seed", "pgfa", "pku_zs_a", seed=1, top1=0.625),
    ])
    md = build_tables(results)
    assert "### PGFA vs SCoPLe per protocol" in md and "### SCoPLe ablation on pku_zs_a" in md
    assert "### Class texts on pku_zs_a" in md and "### Seed noise on pku_zs_a" in md
    assert "| pku_zs_a (3 unseen) | pgfa | 50.0 | 50.0 | 100.0 | 60.0 | 80.0 | 20.0 | 32.0 | 33.3 (66.7) / 100.0 / 10.0 | 3.3 (2.0) |" in md
    assert "| full SCoPLe | 0 | 25.0 |" in md and "| no_sampler | 0 | 12.5 |" in md
    assert "| no_sampler | 1 | 37.5 |" in md
    assert "| no_sampler | 2 | 25.0 ± 17.7 |" in md and "| full SCoPLe | 1 | 25.0 |" in md  # mean ± sd
    assert "| pku_zs_a | pgfa | 4 of 10 | 75.0 | 50.0 | 50.0 |" in md
    assert "| name | pgfa | 37.5 |" in md and "| 1 | pgfa | 62.5 |" in md
    assert "a 100.0 (n=20), b 25.0 (n=8), c 0.0 (n=2)" in md
    assert "Runs: 6; total wall time 12.0 min, CPU time (user + system) 20.0 min." in md
