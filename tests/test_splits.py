"""Zero-shot split table (transcribed class lists) and the sample partitions it induces."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skelzs.train.splits import SplitError, get_split, load_split_table, partition, resolve_split, split_names

N_CLASSES = {"ntu60": 60, "ntu120": 120, "pku51": 51}


def test_table_holds_every_named_family():
    table = load_split_table()
    names = {s["name"] for s in table["splits"]}
    for name in ("synse_ntu60_55_5", "synse_ntu60_48_12", "synse_ntu120_110_10", "synse_ntu120_96_24",
                 "purls_ntu60_40_20", "purls_ntu60_30_30", "purls_ntu120_80_40", "purls_ntu120_60_60",
                 "star_pku51_39_12", "sadvae_ntu60_split1", "sadvae_pku51_split3"):
        assert name in names
    assert sum(n.startswith("smie_") for n in names) == 9
    for alias in ("smie_split1", "smie_split9", "ntu60_55_5", "pku51_46_5"):
        assert alias in split_names()


@pytest.mark.parametrize("entry", load_split_table()["splits"], ids=lambda e: e["name"])
def test_every_split_is_consistent(entry):
    k = N_CLASSES[entry["dataset"]]
    unseen, val = set(entry["unseen"]), set(entry["val_unseen"])
    assert len(unseen) == len(entry["unseen"]) and all(0 <= c < k for c in unseen)
    assert val and not (val & unseen) and all(0 <= c < k for c in val)


def test_known_class_lists():
    assert get_split("ntu60_55_5").unseen == (10, 11, 19, 26, 56)
    assert get_split("ntu60_55_5").val_unseen == (16, 21, 25, 31, 48)  # SynSE rv5_0
    assert get_split("synse_ntu60_48_12").unseen == (3, 5, 9, 12, 15, 40, 42, 47, 51, 56, 58, 59)
    assert get_split("smie_split7").unseen == (1, 9, 20, 34, 50)
    assert get_split("smie_split7").dataset == "pku51"
    assert get_split("smie_split4").unseen == (3, 18, 26, 38, 41, 60, 87, 99, 102, 110)
    assert len(get_split("purls_ntu120_60_60").unseen) == 60


def test_transcription_matches_the_shared_collection(shared_data):
    src = json.loads((shared_data / "zssar/splits/zssar_unseen_splits.json").read_text())["splits"]
    ours = {s["name"]: s for s in load_split_table()["splits"]}
    renamed = {"star_pku51_ablation_split3": "star_pku51_46_5_alt3"}
    for name, s in src.items():
        assert ours[renamed.get(name, name)]["unseen"] == sorted(s["unseen_0based"]), name


def test_unknown_split_is_one_line_error():
    with pytest.raises(SplitError) as err:
        get_split("ntu60_54_6")
    assert "\n" not in str(err.value) and "ntu60_54_6" in str(err.value)


def _toy(n_classes=10, per=20, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per)
    train_side = rng.random(labels.size) < 0.6
    return labels, train_side


def test_partition_protocol(tmp_path):
    labels, side = _toy()
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"unseen": [2, "c7"], "val_unseen": [4, 5]}))
    split = resolve_split(str(f), [f"c{i}" for i in range(10)])
    assert split.unseen == (2, 7) and split.val_unseen == (4, 5)
    p = partition(labels, side, split, 10, val_seen_fraction=0.2)
    assert set(p.train_classes) == {0, 1, 3, 6, 8, 9}
    assert side[p.train].all() and np.isin(labels[p.train], p.train_classes).all()
    assert side[p.val_seen].all() and not set(p.val_seen) & set(p.train)
    assert set(labels[p.val_seen]) == set(p.train_classes)
    assert side[p.val_unseen].all() and set(labels[p.val_unseen]) == {4, 5}
    assert (~side[p.zsl_test]).all() and set(labels[p.zsl_test]) == {2, 7}
    assert np.array_equal(p.gzsl_test, np.flatnonzero(~side))
    # the papers' protocol: every seen class trains, no validation
    q = partition(labels, side, split, 10, use_validation=False)
    assert set(q.train_classes) == set(range(10)) - {2, 7}
    assert q.val_seen.size == 0 and q.val_unseen.size == 0
    assert np.array_equal(q.train, np.flatnonzero(side & ~np.isin(labels, [2, 7])))


def test_partition_rejects_wrong_dataset():
    labels, side = _toy(60, 2)
    with pytest.raises(SplitError, match="prepare it"):
        partition(labels, side, get_split("ntu120_110_10"), 60, dataset="ntu60")
