"""PKU-MMD skeleton and label files: real 0160-L with its labels, the two-body extra file, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.pku import PkuSegment, cut_pku_clips, read_pku_labels, read_pku_skeleton, write_pku_skeleton


@pytest.fixture(scope="module")
def seq_0160(pku_dir):
    return read_pku_skeleton(pku_dir / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt")


def test_0160_skeleton(seq_0160, pku_dir):
    assert seq_0160.joints.shape == (2566, 2, 25, 3)
    assert seq_0160.present_persons() == 1
    first = np.array((pku_dir / "Data" / "PKU_Skeleton_Renew" / "0160-L.txt").open().readline().split(), float)
    np.testing.assert_allclose(seq_0160.joints[0].ravel(), first.astype(np.float32))


def test_0160_labels_and_clips(seq_0160, pku_dir):
    segs = read_pku_labels(pku_dir / "Label" / "Train_Label_PKU_final" / "0160-L.txt", seq_0160.num_frames)
    assert len(segs) == 16
    assert segs[0] == PkuSegment(4, 134, 207, 2)
    assert all(1 <= s.label <= 51 and s.confidence in (1, 2) for s in segs)
    clips = cut_pku_clips(seq_0160, segs)
    for seg, clip in clips:
        assert clip.num_frames == seg.end - seg.start + 1
        np.testing.assert_array_equal(clip.joints[0], seq_0160.joints[seg.start - 1])
        np.testing.assert_array_equal(clip.joints[-1], seq_0160.joints[seg.end - 1])
        assert clip.meta["action"] == seg.label - 1


def test_labels_match_the_official_csv(pku_dir):
    import csv

    rows = [r for r in csv.DictReader((pku_dir / "all_labels_PKU_MMD_v1.csv").open()) if r["video"] == "0160-L"]
    segs = read_pku_labels(pku_dir / "Label" / "Train_Label_PKU_final" / "0160-L.txt")
    assert [(s.label, s.start, s.end) for s in segs] == [
        (int(r["label"]), int(r["start_frame"]), int(r["end_frame"])) for r in rows]


def test_extra_second_body(pku_dir):
    seq = read_pku_skeleton(pku_dir / "extra" / "A10N08-L.txt")
    assert seq.num_frames == 1040
    assert int(np.any(seq.joints[:, 1] != 0, axis=(1, 2)).sum()) == 728
    assert seq.present_persons() == 2


def test_round_trip(pku_dir, tmp_path):
    seq = read_pku_skeleton(pku_dir / "extra" / "A10N08-L.txt")
    out = tmp_path / "x.txt"
    write_pku_skeleton(out, seq)
    np.testing.assert_array_equal(read_pku_skeleton(out).joints, seq.joints)


@pytest.mark.parametrize("content,line", [
    ("1 2 3\n", 1),
    (" ".join(["0.1"] * 150) + "\n" + " ".join(["0.1"] * 149) + "\n", 2),
    (" ".join(["0.1"] * 149 + ["nan"]) + "\n", 1),
    (" ".join(["0.1"] * 149 + ["x"]) + "\n", 1),
    ("", 1),
])
def test_bad_skeleton(tmp_path, content, line):
    p = tmp_path / "bad.txt"
    p.write_text(content)
    with pytest.raises(SkeletonFormatError) as exc:
        read_pku_skeleton(p)
    assert exc.value.line == line


def test_binary_skeleton(tmp_path):
    p = tmp_path / "bin.txt"
    p.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(SkeletonFormatError):
        read_pku_skeleton(p)


@pytest.mark.parametrize("row,reason", [
    ("52,1,10,1", "label"),
    ("0,1,10,1", "label"),
    ("3,20,10,1", "reversed"),
    ("3,0,10,1", "1-based"),
    ("3,10,2000,1", "beyond"),
    ("3,10,20", "fields"),
    ("3,a,20,1", "integers"),
])
def test_bad_labels(tmp_path, row, reason):
    p = tmp_path / "l.txt"
    p.write_text("4,134,207,2\n" + row + "\n")
    with pytest.raises(SkeletonFormatError) as exc:
        read_pku_labels(p, num_frames=1000)
    assert exc.value.line == 2 and reason in exc.value.reason
