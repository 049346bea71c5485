"""``skelzs export``: a checkpoint folder → ONNX (and optionally a TensorRT engine)."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("export")
    def export(
        checkpoint: Path = typer.Option(..., "--checkpoint", help="Checkpoint folder (model.safetensors + config.json)."),
        format: str = typer.Option("onnx", "--format", help="onnx | tensorrt"),
        fp16: bool = typer.Option(False, "--fp16", help="TensorRT: FP16 engine (builder flag on TRT 10, fp16 ONNX on TRT 11+)."),
        out: Path = typer.Option(..., "--out", help="Output folder (a complete checkpoint folder with model.onnx)."),
    ) -> None:
        """Export the skeleton encoder + projection to ONNX (parity-checked against torch), or build a
        TensorRT engine from it."""
        import logging

        from rich.console import Console

        from skelzs.models.export import export_checkpoint

        logging.getLogger("skelzs.models").info("exporting %s (%s)", checkpoint, format)
        summary = export_checkpoint(checkpoint, out, format=format, fp16=fp16)
        console = Console()
        console.print(f"wrote [bold]{summary['onnx']}[/bold]")
        if "parity" in summary:
            p = summary["parity"]
            console.print(f"parity with torch: min cosine {p['min_cosine']:.6f}, top-1 identical: {p['top1_equal']}")
        if "engine" in summary:
            console.print(f"TensorRT engine: {summary['engine']}")
