"""``skelzs bench parse``: both readers agree and the report has its fields (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from skelzs.stream.ntu import read_ntu_skeleton
from skelzs.tools.bench_parse import read_skeleton_plain, run_parse_benchmark


def test_plain_reader_agrees(ntu_dir):
    for p in sorted(ntu_dir.glob("*.skeleton")):
        np.testing.assert_array_equal(read_skeleton_plain(p).astype(np.float32),
                                      read_ntu_skeleton(p).to_sequence().joints)


def test_benchmark_report(ntu_dir):
    files = sorted(ntu_dir.glob("*A00[15].skeleton"))
    res = run_parse_benchmark(files, repeat=1)
    assert res["files"] == 2 and res["repeat"] == 1
    assert res["skelzs_files_per_s"] > 0 and res["plain_files_per_s"] > 0
    assert np.isclose(res["ratio"], res["skelzs_files_per_s"] / res["plain_files_per_s"])


def test_cli_json(ntu_dir):
    r = subprocess.run([sys.executable, "-m", "skelzs.stream.cli", "bench", "parse",
                        str(ntu_dir / "S001C001P001R001A005.skeleton"), "--repeat", "1", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert set(res) == {"files", "repeat", "tokenizer", "skelzs_files_per_s", "plain_files_per_s", "ratio"}
    assert res["tokenizer"] in ("C extension", "numpy")
