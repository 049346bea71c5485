"""``skelzs bench ...``: each benchmark module exposes ``register(bench_app)``."""

from __future__ import annotations

import importlib
import importlib.util

import typer

_BENCH_MODULES = (
    "skelzs.tools.bench_parse",     # skelzs bench parse
    "skelzs.tools.bench_encoder",   # skelzs bench encoder
    "skelzs.tools.bench_pipeline",  # skelzs bench pipeline
    "skelzs.tools.bench_train",     # skelzs bench train
    "skelzs.tools.bench_synth",     # skelzs bench synth
)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    for name in _BENCH_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(bench_app)
