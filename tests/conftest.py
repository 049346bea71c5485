"""Shared fixtures. Real data is read from ``../shared/data`` (research-only; never copied here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SKELZS_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def train_cli(capsys):
    """Run ``skelzs-train`` in-process: ``train_cli("fit", ...)`` asserts exit status 0 (stderr as
    the failure message) and returns stdout."""
    from skelzs.train.cli import main

    def run(*args) -> str:
        with pytest.raises(SystemExit) as ex:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        assert ex.value.code == 0, captured.err
        return captured.out
    return run


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real NTU/PKU/video test data; tests that need it skip with a reason if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (set SKELZS_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ntu_dir(shared_data: Path) -> Path:
    return shared_data / "ntu_skeleton"


@pytest.fixture(scope="session")
def pku_dir(shared_data: Path) -> Path:
    return shared_data / "pku_mmd"


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    """Keep torch from oversubscribing the 2-core CI machine."""
    try:
        import torch

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    except ImportError:
        pass
    yield
