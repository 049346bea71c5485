"""NTU .skeleton reader/writer on the real files in ../shared/data and on corrupted copies."""

from __future__ import annotations

import numpy as np
import pytest

from skelzs.stream import ntu
from skelzs.stream.errors import SkeletonFormatError
from skelzs.stream.ntu import NtuSampleName, parse_ntu_name, read_ntu_skeleton, write_ntu_skeleton
from skelzs.stream.skeleton import SkeletonSequence

# frames and bodies per file, from ../shared/data/README.md section 1
EXPECTED = {
    "S001C001P001R001A001": (103, 1, "CRLF"),
    "S001C001P001R001A002": (158, 1, "LF"),
    "S001C001P001R001A003": (104, 1, "LF"),
    "S001C001P001R001A004": (99, 1, "LF"),
    "S001C001P001R001A005": (54, 1, "LF"),
    "S001C001P001R001A011": (82, 1, "CRLF"),
    "S001C003P008R002A058": (70, 2, "CRLF"),
    "S002C001P003R001A003": (100, 1, "CRLF"),
}


def _plain_values(path) -> np.ndarray:
    """Independent reference: every joint line of the file as float() values."""
    lines = path.read_text().splitlines()
    out, i = [], 1
    for _ in range(int(lines[0])):
        nb = int(lines[i]); i += 1
        for _ in range(nb):
            i += 2
            out.extend([float(v) for v in lines[i + j].split()] for j in range(25))
            i += 25
    return np.array(out)


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_real_files(ntu_dir, sample):
    path = ntu_dir / f"{sample}.skeleton"
    frames, bodies, eol = EXPECTED[sample]
    assert (b"\r\n" in path.read_bytes()) == (eol == "CRLF")
    f = read_ntu_skeleton(path)
    assert f.num_frames == frames
    assert f.max_bodies == bodies
    assert f.present.sum(axis=1).max() == bodies
    np.testing.assert_array_equal(f.values[f.present].reshape(-1, 12), _plain_values(path))
    assert f.name == parse_ntu_name(sample)
    assert set(np.unique(f.tracking_state)) <= {0, 1, 2}
    assert f.body_ids[0, 0] > 2**56  # 64-bit Kinect tracking ids survive exactly
    seq = f.to_sequence()
    assert seq.joints.shape == (frames, 2, 25, 3) and seq.joints.dtype == np.float32
    assert seq.meta["action"] == int(sample[-3:]) - 1
    conf = seq.confidence[f.present]
    np.testing.assert_array_equal(conf, np.array([0.0, 0.5, 1.0])[f.tracking_state[f.present]])
    assert not seq.joints[:, bodies:].any()


def test_body_info_fields(ntu_dir):
    f = read_ntu_skeleton(ntu_dir / "S001C001P001R001A001.skeleton")
    first = (ntu_dir / "S001C001P001R001A001.skeleton").read_text().splitlines()[2].split()
    assert str(int(f.body_ids[0, 0])) == first[0]
    np.testing.assert_array_equal(f.body_info[0, 0, 1:], [float(v) for v in first[1:]])


def test_lf_and_crlf_read_identically(ntu_dir, tmp_path):
    src = ntu_dir / "S001C001P001R001A001.skeleton"
    lf = tmp_path / "lf.skeleton"
    lf.write_bytes(src.read_bytes().replace(b"\r\n", b"\n"))
    np.testing.assert_array_equal(read_ntu_skeleton(src).values, read_ntu_skeleton(lf).values)


def test_parse_name():
    n = parse_ntu_name("/x/S017C003P020R002A120.skeleton")
    assert n == NtuSampleName(17, 3, 20, 2, 120) and str(n) == "S017C003P020R002A120"
    with pytest.raises(SkeletonFormatError):
        parse_ntu_name("clip.skeleton")
    assert ntu.try_parse_ntu_name("clip.skeleton") is None


@pytest.mark.parametrize("sample", ["S001C001P001R001A001", "S001C003P008R002A058"])
def test_round_trip(ntu_dir, tmp_path, sample):
    f = read_ntu_skeleton(ntu_dir / f"{sample}.skeleton")
    out = tmp_path / f"{sample}.skeleton"
    write_ntu_skeleton(out, f)                       # full fidelity: all 12 values + body info
    g = read_ntu_skeleton(out)
    np.testing.assert_array_equal(g.values, f.values)
    np.testing.assert_array_equal(g.body_info, f.body_info)
    np.testing.assert_array_equal(g.body_ids, f.body_ids)
    seq = f.to_sequence()
    write_ntu_skeleton(out, seq)                     # from a SkeletonSequence: xyz + tracking
    back = read_ntu_skeleton(out).to_sequence()
    np.testing.assert_array_equal(back.joints, seq.joints)
    np.testing.assert_array_equal(back.confidence, seq.confidence)


def test_zero_body_frames_and_more_than_two_bodies(ntu_dir, tmp_path):
    seq = read_ntu_skeleton(ntu_dir / "S001C003P008R002A058.skeleton").to_sequence()
    j = np.zeros((seq.num_frames, 3, 25, 3), np.float32)
    j[:, :2] = seq.joints
    j[:, 2] = seq.joints[0, 0] + np.float32(1.5)      # a static third "body" (no motion)
    j[5:8] = 0                                         # three frames with no body at all
    path = tmp_path / "crowd.skeleton"
    write_ntu_skeleton(path, SkeletonSequence(j, meta={"body_ids": [11, 12, 13]}))
    f = read_ntu_skeleton(path)
    assert f.bodies_per_frame.tolist() == [3] * 5 + [0] * 3 + [3] * (seq.num_frames - 8)
    assert f.warnings
    got = f.to_sequence().joints
    np.testing.assert_array_equal(got, j[:, :2])   # the two moving bodies, in file order
    assert set(np.unique(f.body_ids[f.present]).tolist()) == {11, 12}
    assert not got[5:8].any()


# ------------------------------------------------------------------ corrupted variants

def _lines(path):
    return path.read_bytes().split(b"\n")


def _expect_error(path, line=None):
    with pytest.raises(SkeletonFormatError) as exc:
        read_ntu_skeleton(path)
    err = exc.value
    assert err.path == str(path)
    assert "\n" not in str(err)
    if line is not None:
        assert err.line == line, str(err)
    return err


def test_truncated_at_every_structural_boundary(ntu_dir, tmp_path):
    src = ntu_dir / "S001C003P008R002A058.skeleton"   # two bodies per frame
    data = src.read_bytes()
    ends = [i + 1 for i, b in enumerate(data) if b == 0x0A]
    # every line of the first two frames (2 x (1 + 2 x 27) lines) and every frame boundary
    frame_len = 1 + 2 * 27
    cuts = set(ends[: 1 + 2 * frame_len]) | set(ends[frame_len::frame_len][:-1])
    cuts |= {e - 2 for e in ends[:60]}                 # inside a line, before the CRLF
    cuts |= {1, 3, 7, 20, 100}
    cuts.discard(len(data))
    path = tmp_path / "t.skeleton"
    for cut in sorted(c for c in cuts if 0 < c < len(data) - 2):
        path.write_bytes(data[:cut])
        _expect_error(path)


def test_wrong_joint_count(ntu_dir, tmp_path):
    lines = _lines(ntu_dir / "S001C001P001R001A005.skeleton")
    for bad in (b"24", b"26", b"0"):
        mod = list(lines)
        mod[3] = bad
        p = tmp_path / "j.skeleton"
        p.write_bytes(b"\n".join(mod))
        err = _expect_error(p, 4)
        assert "joint count" in err.reason


@pytest.mark.parametrize("token", [b"nan", b"NaN", b"inf", b"-inf", b"1e999"])
def test_non_finite_values(ntu_dir, tmp_path, token):
    lines = _lines(ntu_dir / "S001C001P001R001A005.skeleton")
    vals = lines[40].split()
    vals[1] = token
    lines[40] = b" ".join(vals)
    p = tmp_path / "nan.skeleton"
    p.write_bytes(b"\n".join(lines))
    _expect_error(p, 41)


@pytest.mark.parametrize("where,text,line", [
    (10, b"hello world", 11),       # garbage line among joint lines
    (2, b"garbage", 3),             # in place of the body-info line
    (1, b"1.5", 2),                 # non-integer body count
    (1, b"-1", 2),                  # negative body count
    (0, b"-3", 1),                  # negative frame count
    (0, b"abc", 1),                 # non-numeric frame count
])
def test_garbage_and_bad_counts(ntu_dir, tmp_path, where, text, line):
    lines = _lines(ntu_dir / "S001C001P001R001A005.skeleton")
    lines[where] = text
    p = tmp_path / "g.skeleton"
    p.write_bytes(b"\n".join(lines))
    _expect_error(p, line)


def test_wrong_value_count_on_a_line(ntu_dir, tmp_path):
    for change in (lambda v: v[:-1], lambda v: v + [b"0"]):
        lines = _lines(ntu_dir / "S001C001P001R001A005.skeleton")
        lines[30] = b" ".join(change(lines[30].split()))
        p = tmp_path / "c.skeleton"
        p.write_bytes(b"\n".join(lines))
        _expect_error(p, 31)
    lines = _lines(ntu_dir / "S001C001P001R001A005.skeleton")
    lines[2] = b" ".join(lines[2].split()[:9])          # body-info line with 9 values
    p = tmp_path / "b.skeleton"
    p.write_bytes(b"\n".join(lines))
    _expect_error(p, 3)


def test_tracking_state_out_of_range(ntu_dir, tmp_path):
    lines = _lines(ntu_dir / "S001C001P001R001A005.skeleton")
    vals = lines[8].split()
    vals[-1] = b"3"
    lines[8] = b" ".join(vals)
    p = tmp_path / "ts.skeleton"
    p.write_bytes(b"\n".join(lines))
    _expect_error(p, 9)


def test_empty_and_blank_files(tmp_path):
    for content in (b"", b"\n", b"  \r\n\r\n"):
        p = tmp_path / "e.skeleton"
        p.write_bytes(content)
        assert "empty" in _expect_error(p).reason


def test_binary_junk(ntu_dir, tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "bin.skeleton"
    for _ in range(5):
        p.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        _expect_error(p)
    data = (ntu_dir / "S001C001P001R001A005.skeleton").read_bytes()
    p.write_bytes(data[:5000] + b"\x00\xff\xfe" + data[5000:])
    _expect_error(p)
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + data)
    _expect_error(p, 1)


def test_trailing_garbage(ntu_dir, tmp_path):
    data = (ntu_dir / "S001C001P001R001A005.skeleton").read_bytes()
    nlines = data.count(b"\n")
    p = tmp_path / "tr.skeleton"
    p.write_bytes(data + b"1\n")
    assert "trailing" in _expect_error(p, nlines + 1).reason
    p.write_bytes(data + b"\n\n")                       # blank lines at the end are harmless
    assert read_ntu_skeleton(p).num_frames == 54


def test_absurd_sizes(ntu_dir, tmp_path, monkeypatch):
    lines = _lines(ntu_dir / "S001C001P001R001A005.skeleton")
    p = tmp_path / "big.skeleton"
    p.write_bytes(b"\n".join([b"999999999"] + lines[1:]))
    assert "absurd" in _expect_error(p, 1).reason
    p.write_bytes(b"\n".join([lines[0], b"5000"] + lines[2:]))
    assert "absurd" in _expect_error(p, 2).reason
    p.write_bytes(b"\n".join(lines))
    monkeypatch.setattr(ntu, "MAX_FILE_BYTES", 1000)
    assert "too large" in _expect_error(p).reason


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "nope.skeleton")


def test_fast_tokenizer_matches_float_on_mutations(ntu_dir):
    """Differential fuzz: wherever the vectorized parser accepts bytes, it equals float() per value."""
    lines = (ntu_dir / "S001C001P001R001A003.skeleton").read_bytes().split(b"\n")  # has E-05 exponents
    small = b"\n".join([b"10"] + lines[1:1 + 10 * 28]) + b"\n"
    rng = np.random.default_rng(7)
    alphabet = b"0123456789.-eE \n\r\tx+"
    accepted = 0
    for _ in range(300):
        d = bytearray(small)
        for _ in range(int(rng.integers(1, 4))):
            op, i = int(rng.integers(0, 3)), int(rng.integers(0, len(d)))
            if op == 0:
                d[i] = alphabet[int(rng.integers(0, len(alphabet)))]
            elif op == 1:
                del d[i:i + int(rng.integers(1, 5))]
            else:
                d[i:i] = bytes(alphabet[int(j)] for j in rng.integers(0, len(alphabet), int(rng.integers(1, 6))))
        fast = ntu._fast_tokens(bytes(d))
        if fast is None:
            continue
        accepted += 1
        slow = ntu._slow_tokens(bytes(d), "x")
        np.testing.assert_array_equal(fast.values, slow.values)
        np.testing.assert_array_equal(fast.line_ntok, slow.line_ntok)
        np.testing.assert_array_equal(fast.line_start, slow.line_start)
    assert accepted > 50
