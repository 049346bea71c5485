"""The built wheel holds only the ``skelzs`` package (plus its package data)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_SKIP = {".venv", ".git", "build", "dist", ".pytest_cache", "__pycache__"}


def _copy_tree(dst: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in _SKIP or n.endswith(".egg-info")}

    shutil.copytree(REPO, dst, ignore=ignore)


@pytest.mark.slow
def test_wheel_contents(tmp_path):
    src = tmp_path / "src"
    _copy_tree(src)                        # build a copy: never write build/ into the work tree
    out = tmp_path / "wheel"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        str(src), "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = out.glob("skelzs-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"skelzs", next(t for t in top if t.endswith(".dist-info"))}, top
    for bad in ("models", "train", "stream", "tools", "assets", "tests"):
        assert bad not in top
    for sub in ("stream", "models", "train", "tools"):
        assert f"skelzs/{sub}/__init__.py" in names
    assert "skelzs/stream/data/ntu60_missing_skeletons.txt" in names
    assert "skelzs/stream/data/ntu120_missing_skeletons.txt" in names
    assert not any(n.endswith(".skeleton") and "shared" in n for n in names)
    splits = sorted(Path(n).name for n in names if n.startswith("skelzs/train/data/real_splits/"))
    assert splits == sorted(f.name for f in (REPO / "train" / "data" / "real_splits").glob("*.json")) and splits
    for f in ("model.onnx", "model.safetensors", "config.json"):
        assert f"skelzs/assets/default/{f}" in names
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "skelzs = skelzs.stream.cli:main" in meta and "skelzs-train" in meta
    # the installed wheel imports from another directory and finds its package data
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in site.iterdir() if not p.name.endswith(".dist-info")) in (["skelzs"], ["bin", "skelzs"])
    code = ("import skelzs.stream.ntu as n, skelzs.stream.protocols as p; "
            "print(n.__file__); print(len(p.missing_skeletons('ntu60')))")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    where, count = r.stdout.split()
    assert where.startswith(str(site)) and count == "302"


def test_import_from_another_directory(tmp_path):
    code = ("import skelzs.stream.ntu, skelzs.stream.protocols as p, importlib.util as u; "
            "assert u.find_spec('stream') is None and u.find_spec('tools') is None; "
            "print(len(p.missing_skeletons('ntu120')))")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "535"
