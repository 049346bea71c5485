"""The project npz layout and format dispatch."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.formats import detect_format, load_sequence, save_sequence
from skelzs.stream.npzio import load_npz, save_npz


def test_npz_round_trip(ntu_dir, tmp_path):
    seq = load_sequence(ntu_dir / "S001C003P008R002A058.skeleton")
    out = tmp_path / "a.npz"
    save_npz(out, seq)
    back = load_npz(out)
    np.testing.assert_array_equal(back.joints, seq.joints)
    np.testing.assert_array_equal(back.confidence, seq.confidence)
    assert back.layout == "ntu25" and back.fps == 30.0
    assert back.meta["action"] == 57 and back.meta["format"] == "npz" and back.meta["path"] == str(out)
    with np.load(out, allow_pickle=False) as z:
        assert set(z.files) == {"joints", "layout", "fps", "confidence", "meta_json"}
        assert z["joints"].dtype == np.float32 and z["joints"].shape == (70, 2, 25, 3)


def _write(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


GOOD = dict(joints=np.zeros((4, 2, 25, 3), np.float32), layout=np.array("ntu25"), fps=np.array(30.0))


@pytest.mark.parametrize("change", [
    dict(joints=None),
    dict(joints=np.zeros((4, 2, 24, 3), np.float32)),
    dict(joints=np.zeros((4, 25, 3), np.float32)),
    dict(joints=np.full((4, 2, 25, 3), np.nan, np.float32)),
    dict(layout=np.array("coco17")),
    dict(fps=np.array(-1.0)),
    dict(confidence=np.zeros((4, 2, 3), np.float32)),
    dict(meta_json=np.array("{not json")),
    dict(meta_json=np.array('{"action": -2}')),
    dict(extra=np.zeros(3)),
    dict(joints=np.array([{"a": 1}], dtype=object)),
])
def test_npz_rejects(tmp_path, change):
    arrays = {**GOOD, **change}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    p = tmp_path / "bad.npz"
    if any(getattr(v, "dtype", None) == object for v in arrays.values()):
        np.savez(p, **arrays)                       # pickled object array: must not be unpickled
    else:
        _write(p, **arrays)
    with pytest.raises(SkeletonFormatError) as exc:
        load_npz(p)
    assert str(p) in str(exc.value) and "\n" not in str(exc.value)


def test_npz_not_a_zip(tmp_path):
    p = tmp_path / "junk.npz"
    p.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(SkeletonFormatError):
        load_npz(p)


def test_detect_and_dispatch(ntu_dir, pku_dir, tmp_path):
    ntu_file = ntu_dir / "S001C001P001R001A001.skeleton"
    pku_file = pku_dir / "extra" / "A10N08-L.txt"
    assert detect_format(ntu_file) == "ntu" and detect_format(pku_file) == "pku"
    seq = load_sequence(ntu_file)
    for name in ("x.npz", "x.skeleton", "x.txt"):
        save_sequence(tmp_path / name, seq)
        back = load_sequence(tmp_path / name)
        np.testing.assert_array_equal(back.joints, seq.joints)
    # by content when the suffix says nothing
    (tmp_path / "noext1").write_bytes(ntu_file.read_bytes())
    (tmp_path / "noext2").write_bytes((tmp_path / "x.npz").read_bytes())
    (tmp_path / "noext3").write_bytes(pku_file.read_bytes()[:20000].rsplit(b"\n", 1)[0] + b"\n")
    assert [detect_format(tmp_path / f"noext{i}") for i in (1, 2, 3)] == ["ntu", "npz", "pku"]
    (tmp_path / "noext4").write_text("hello\n")
    with pytest.raises(SkeletonFormatError):
        detect_format(tmp_path / "noext4")
    with pytest.raises(SkeletonFormatError):
        save_sequence(tmp_path / "x.csv", seq)


def test_meta_keys(ntu_dir, pku_dir):
    for p in (ntu_dir / "S001C001P001R001A011.skeleton", pku_dir / "extra" / "A10N08-L.txt"):
        meta = load_sequence(p).meta
        assert {"format", "path", "action"} <= set(meta)
    assert load_sequence(ntu_dir / "S001C001P001R001A011.skeleton").meta["action"] == 10
