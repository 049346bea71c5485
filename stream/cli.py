"""The ``skelzs`` command line: a Typer app whose commands live next to the code they drive.

Each module in ``_COMMAND_MODULES`` exposes ``register(app, bench_app)``; heavy imports (torch,
mediapipe, onnxruntime) happen inside the command functions so ``skelzs --help`` stays fast.
Every :class:`~skelzs.stream.errors.SkelzsError` ends the program with its one-line message.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import typer
from rich.logging import RichHandler

from skelzs.stream.errors import SkelzsError

app = typer.Typer(
    name="skelzs",
    help="Real-time zero-shot action recognition from 3D skeletons against labels you type.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks (parse speed, encoder, pipeline).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

_COMMAND_MODULES = (
    "skelzs.stream.cli_files",    # inspect, convert
    "skelzs.stream.cli_stream",   # live, replay, classify, capture, serve
    "skelzs.models.cli",          # export
    "skelzs.tools.cli",           # bench parse | encoder | pipeline | train
    "skelzs.stream.cli_demo",     # demo (the embedded default)
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    setup_logging(logging.DEBUG if verbose else logging.INFO)


def setup_logging(level: int = logging.INFO) -> None:
    """Rich logging on stderr, once."""
    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        from rich.console import Console

        root.addHandler(RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False))
    root.setLevel(level)
    # The ONNX exporter's optimizer logs every graph rewrite at INFO; keep that for --verbose.
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)


_CHATTY_LOGGERS = ("onnxscript", "onnx_ir", "torch.onnx", "torch._dynamo", "torch.export")


def _register_commands() -> None:
    for name in _COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).register(app, bench_app)


def run_app(typer_app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run a Typer app, turning skelzs errors into one line on stderr and exit status 2."""
    try:
        rc = typer_app(args=argv, standalone_mode=False)
    except SkelzsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except SystemExit as err:  # typer's own exits (--help, usage errors already printed)
        return int(err.code or 0) if isinstance(err.code, int) else 1
    except Exception as err:  # click usage errors and the like
        import click

        # typer >= 0.2x vendors its own click (typer._click) next to the real one: accept both
        usage_errors: tuple[type, ...] = (click.exceptions.ClickException,)
        try:
            from typer._click.exceptions import ClickException as _TyperClickException

            usage_errors += (_TyperClickException,)
        except ImportError:
            pass
        if isinstance(err, usage_errors):
            err.show()
            return err.exit_code
        if isinstance(err, click.exceptions.Abort) or type(err).__name__ == "Abort":
            return 130
        raise
    # with standalone_mode=False click returns the code of a `typer.Exit(n)` instead of exiting
    return rc if isinstance(rc, int) else 0


def main(argv: list[str] | None = None) -> None:
    from skelzs.stream import native_log

    native_log.install_for_program(argv)   # MediaPipe/LiteRT notices on fd 2; never on import
    _register_commands()
    sys.exit(run_app(app, argv))


if __name__ == "__main__":
    main()
