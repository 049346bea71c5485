"""Split logic against the SGN-style per-sample statistics in ../shared/data."""

from __future__ import annotations

import pytest

from skelzs.stream import protocols
from skelzs.stream.errors import SkeletonFormatError


def _names(ntu_dir, dataset):
    return (ntu_dir / f"statistics_{dataset}" / "skes_available_name.txt").read_text().split()


def test_missing_lists_match_shared_data(ntu_dir):
    for dataset, fname, n in (("ntu60", "NTU_RGBD_samples_with_missing_skeletons.txt", 302),
                              ("ntu120", "NTU_RGBD120_samples_with_missing_skeletons.txt", 535)):
        ids = protocols.missing_skeletons(dataset)
        assert len(ids) == n
        assert ids == frozenset((ntu_dir / fname).read_text().split())
    assert protocols.missing_skeletons("ntu60") < protocols.missing_skeletons("ntu120")


@pytest.mark.parametrize("protocol,train,test", [
    ("ntu60-xsub", 40091, 16487),
    ("ntu60-xview", 37646, 18932),
    ("ntu120-xsub", 63026, 50919),
    ("ntu120-xset", 54468, 59477),
])
def test_split_counts(ntu_dir, protocol, train, test):
    names = _names(ntu_dir, protocol.split("-")[0])
    tr, te = protocols.split_samples(names, protocol)
    assert (len(tr), len(te)) == (train, test)


def test_split_uses_the_name_fields(ntu_dir):
    """Performer/camera/setup read from the names agree with the statistics files."""
    d = ntu_dir / "statistics_ntu120"
    names = _names(ntu_dir, "ntu120")[::97]
    cols = {k: (d / f"{k}.txt").read_text().split()[::97] for k in ("performer", "camera", "setup", "label")}
    from skelzs.stream.ntu import parse_ntu_name

    for i, n in enumerate(names):
        s = parse_ntu_name(n)
        assert (s.performer, s.camera, s.setup, s.action) == tuple(
            int(cols[k][i]) for k in ("performer", "camera", "setup", "label"))


def test_missing_samples_are_skipped(caplog):
    missing = sorted(protocols.missing_skeletons("ntu60"))[:3]
    kept = protocols.filter_missing(missing + ["S001C001P001R001A001"], "ntu60")
    assert kept == ["S001C001P001R001A001"]
    assert "missing skeletons" in caplog.text


def test_pku_splits(pku_dir):
    tr, te = protocols.read_pku_split(pku_dir / "Split" / "cross-subject.txt")
    assert not set(tr) & set(te)
    assert (len(tr), len(te)) == (944, 132)
    vtr, vte = protocols.read_pku_split(pku_dir / "Split" / "cross-view.txt")
    assert not set(vtr) & set(vte)
    assert (len(vtr), len(vte)) == (717, 359)
    assert all(v.endswith(("-L", "-R")) for v in vtr) and all(v.endswith("-M") for v in vte)


def test_pku_split_rejects_garbage(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("Training videos:\n0002-L, banana\nValidation videos:\n0003-L\n")
    with pytest.raises(SkeletonFormatError):
        protocols.read_pku_split(p)


def test_unknown_benchmark():
    with pytest.raises(ValueError):
        protocols.split_samples(["S001C001P001R001A001"], "ntu60-xfoo")
