"""The dataset spec for own recordings and the memory-mapped prepared-dataset reader."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skelzs.train.dataset import BatchArrayDataset, DatasetError, PreparedDataset, read_class_texts, scan_raw_folder


def _touch_npz(path, action=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    from skelzs.stream.formats import save_sequence
    from skelzs.stream.skeleton import SkeletonSequence

    j = np.random.default_rng(len(str(path))).normal(0, 0.2, (12, 1, 25, 3)).astype(np.float32) + [0, 0, 3]
    meta = {} if action is None else {"action": action}
    save_sequence(path, SkeletonSequence(j, meta=meta))


def test_raw_folder_resolution(tmp_path):
    root = tmp_path / "raw"
    root.mkdir()
    (root / "classes.txt").write_text("waving\nfalling\nsitting down\n")
    _touch_npz(root / "waving" / "a.npz")              # class from the folder name
    _touch_npz(root / "falling" / "test" / "b.npz")    # test subset from a 'test' folder
    _touch_npz(root / "misc" / "c.npz")                # listed in labels.csv
    _touch_npz(root / "misc" / "d.npz")                # nothing says its class
    (root / "labels.csv").write_text("file,label,subset\nmisc/c.npz,sitting down,test\n")
    spec = scan_raw_folder(root)
    got = {s.name: (s.label, s.subset) for s in spec.samples}
    assert got["waving/a.npz"][0] == 0
    assert got["falling/test/b.npz"] == (1, 0)
    assert got["misc/c.npz"] == (2, 0)
    assert spec.unlabelled == ["misc/d.npz"]
    assert spec.class_texts is None


def test_raw_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="classes.txt"):
        scan_raw_folder(tmp_path)
    (tmp_path / "classes.txt").write_text("a\nb\n")
    (tmp_path / "class_texts.txt").write_text("only one\n")
    with pytest.raises(DatasetError, match="1 class texts for 2 classes"):
        scan_raw_folder(tmp_path)
    (tmp_path / "class_texts.txt").unlink()
    (tmp_path / "labels.csv").write_text("x.npz,zebra\n")
    with pytest.raises(DatasetError) as err:
        scan_raw_folder(tmp_path)
    assert "zebra" in str(err.value) and "\n" not in str(err.value)


def test_class_texts_formats(tmp_path):
    (tmp_path / "d.txt").write_text("drink water.\r\neat meal.\r\n")
    assert read_class_texts(tmp_path / "d.txt") == ["drink water.", "eat meal."]
    (tmp_path / "d.csv").write_text("idx,label\n0,lift a cup, then drink\n1,eat\n")
    assert read_class_texts(tmp_path / "d.csv", 2) == ["lift a cup, then drink", "eat"]


def test_prepared_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="not a prepared dataset"):
        PreparedDataset.open(tmp_path)
    (tmp_path / "dataset.json").write_text(json.dumps({"format": "other/1"}))
    with pytest.raises(DatasetError, match="format"):
        PreparedDataset.open(tmp_path)


def test_batch_dataset_reads_memmap_in_batch_order(tmp_path):
    data = np.arange(6 * 3 * 2 * 25 * 2, dtype=np.float16).reshape(6, 3, 2, 25, 2)
    np.save(tmp_path / "d.npy", data)
    mm = np.load(tmp_path / "d.npy", mmap_mode="r")
    ds = BatchArrayDataset(mm, np.array([0, 1, 2, 3, 4, 5]), np.array([5, 1, 3]))
    x, y = ds[[2, 0, 1]]
    assert x.dtype.is_floating_point and str(x.dtype) == "torch.float32"
    assert y.tolist() == [3, 5, 1]
    assert np.array_equal(x.numpy(), data[[3, 5, 1]].astype(np.float32))
