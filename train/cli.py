"""The ``skelzs-train`` command line. Each module in ``_COMMAND_MODULES`` exposes ``register(app)``."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import typer

from skelzs.stream.cli import run_app, setup_logging

app = typer.Typer(
    name="skelzs-train",
    help="Prepare datasets, train and evaluate zero-shot skeleton encoders (PGFA, SCoPLe).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_COMMAND_MODULES = (
    "skelzs.train.commands",   # prepare, fit, eval
    "skelzs.train.synth_cli",  # synth
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    setup_logging(logging.DEBUG if verbose else logging.INFO)


def main(argv: list[str] | None = None) -> None:
    from skelzs.stream import native_log

    native_log.install_for_program(argv)   # eval-real runs MediaPipe: its notices on fd 2, as in `skelzs`
    for name in _COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(app)
    sys.exit(run_app(app, argv))


if __name__ == "__main__":
    main()
