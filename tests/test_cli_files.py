"""``skelzs inspect`` / ``skelzs convert`` through the real console entry point (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from skelzs.stream.formats import load_sequence

EXPECTED = {  # frames, bodies (../shared/data/README.md section 1)
    "S001C001P001R001A001": (103, 1), "S001C001P001R001A002": (158, 1),
    "S001C001P001R001A003": (104, 1), "S001C001P001R001A004": (99, 1),
    "S001C001P001R001A005": (54, 1), "S001C001P001R001A011": (82, 1),
    "S001C003P008R002A058": (70, 2), "S002C001P003R001A003": (100, 1),
}


def skelzs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skelzs.stream.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_inspect_every_ntu_file_json(ntu_dir, pku_dir):
    files = sorted(ntu_dir.glob("*.skeleton"))
    assert len(files) == len(EXPECTED)
    r = skelzs("inspect", "--json", *files, pku_dir / "extra" / "A10N08-L.txt")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == len(files) + 1
    for row in rows:
        assert {"path", "format", "frames", "persons", "joints", "action"} <= set(row)
    for f, row in zip(files, rows):
        frames, bodies = EXPECTED[f.stem]
        assert (row["path"], row["format"], row["frames"], row["persons"], row["joints"]) == (
            str(f), "ntu", frames, bodies, 25)
        assert row["action"] == int(f.stem[-3:]) - 1
    pku = rows[-1]
    assert (pku["format"], pku["frames"], pku["persons"], pku["action"]) == ("pku", 1040, 2, None)


def test_inspect_table(ntu_dir):
    r = skelzs("inspect", ntu_dir / "S001C003P008R002A058.skeleton")
    assert r.returncode == 0 and "70" in r.stdout and "ntu" in r.stdout


def test_inspect_bad_input_one_line(ntu_dir, tmp_path):
    lines = (ntu_dir / "S001C001P001R001A005.skeleton").read_bytes().split(b"\n")
    lines[3] = b"24"
    bad = tmp_path / "bad.skeleton"
    bad.write_bytes(b"\n".join(lines))
    r = skelzs("inspect", bad)
    assert r.returncode != 0
    assert r.stderr.splitlines() == [f"{bad}:4: joint count must be 25, found 24"]
    assert "Traceback" not in r.stderr + r.stdout
    junk = tmp_path / "junk.skeleton"
    junk.write_bytes(b"\x00\x01\x02" * 50)
    r = skelzs("inspect", "--json", junk)
    assert r.returncode != 0 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith(f"{junk}:1: ")


def test_convert_round_trips(ntu_dir, tmp_path):
    src = ntu_dir / "S001C003P008R002A058.skeleton"
    ref = load_sequence(src)
    npz, txt, skel = tmp_path / "a.npz", tmp_path / "a.txt", tmp_path / "a.skeleton"
    assert skelzs("convert", src, npz).returncode == 0
    assert skelzs("convert", npz, txt).returncode == 0
    assert skelzs("convert", txt, skel).returncode == 0
    for p in (npz, txt, skel):
        np.testing.assert_array_equal(load_sequence(p).joints, ref.joints)


def test_convert_with_pipeline(ntu_dir, tmp_path):
    from skelzs.stream.preprocess import frame50

    src = ntu_dir / "S001C003P008R002A058.skeleton"
    out = tmp_path / "f50.npz"
    r = skelzs("convert", src, out, "--pipeline", "frame50")
    assert r.returncode == 0, r.stderr
    seq = load_sequence(out)
    assert seq.meta["preprocess"] == "frame50" and seq.num_frames == 50
    np.testing.assert_array_equal(seq.joints.transpose(3, 0, 2, 1), frame50(load_sequence(src), 50))
    r = skelzs("convert", src, out, "--pipeline", "nope")
    assert r.returncode != 0 and "Traceback" not in r.stderr


def test_convert_bad_input(tmp_path):
    bad = tmp_path / "e.skeleton"
    bad.write_text("")
    r = skelzs("convert", bad, tmp_path / "o.npz")
    assert r.returncode != 0 and r.stderr.splitlines() == [f"{bad}:1: empty file"]


def test_help():
    for cmd in ("inspect", "convert"):
        r = skelzs(cmd, "--help")
        assert r.returncode == 0 and "Usage" in r.stdout
    r = skelzs("bench", "parse", "--help")
    assert r.returncode == 0 and "--repeat" in r.stdout
