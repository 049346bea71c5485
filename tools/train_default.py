"""``skelzs-train fit`` on a machine without the text model (e.g. a GPU box with no internet).

PGFA's text side is frozen: the class texts are encoded once and the table is all training needs
(papers.md A.0 — the official code ships precomputed ``.npy`` tables too). So the table is
computed where the text model is, and ``fit`` runs unchanged elsewhere with that table standing in
for the text encoder (same identity ``{"name", "sha256"}``, so the checkpoint records the real
text model and loads against it)::

    # where all-MiniLM-L6-v2 is installed
    python -m skelzs.tools.train_default text --data prepared/synth --out text_features.npz
    # anywhere (same arguments as `skelzs-train fit`)
    python -m skelzs.tools.train_default fit --text text_features.npz -- --data prepared/synth ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["PrecomputedTextEncoder", "write_text_table", "main"]


class PrecomputedTextEncoder:
    """The part of :class:`skelzs.models.text.TextEncoder` that training uses, from a saved table."""

    def __init__(self, path: str | Path):
        with np.load(path, allow_pickle=False) as z:
            self.identity = json.loads(str(z["identity"]))
            texts = [str(t) for t in z["texts"]]
            emb = z["embeddings"].astype(np.float32)
        self.table = dict(zip(texts, emb))
        self.dim = int(emb.shape[1])
        self.name, self.sha256 = self.identity["name"], self.identity["sha256"]
        self.model_calls = 0

    def to(self, device) -> "PrecomputedTextEncoder":
        return self

    def encode(self, texts, template: str | None = None):
        import torch

        from skelzs.models.text import apply_template
        from skelzs.stream.errors import SkelzsError

        if isinstance(texts, str):
            texts = [texts]
        texts = apply_template(list(texts), template)
        missing = [t for t in texts if t not in self.table]
        if missing:
            raise SkelzsError(f"text {missing[0]!r} is not in the precomputed table; recompute it with "
                              "`python -m skelzs.tools.train_default text`")
        return torch.from_numpy(np.stack([self.table[t] for t in texts])) if texts else torch.zeros(0, self.dim)

    __call__ = encode


def write_text_table(texts: list[str], out: Path, text_encoder: str = "all-MiniLM-L6-v2") -> dict:
    from skelzs.models.text import load_text_encoder

    enc = load_text_encoder(text_encoder)
    emb = enc.encode(texts).numpy().astype(np.float32)
    np.savez(out, identity=np.array(json.dumps(enc.identity)), texts=np.array(texts), embeddings=emb)
    return enc.identity


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("text", help="Encode the class texts of a prepared dataset or raw synth folder.")
    t.add_argument("--data", type=Path, required=True, help="Prepared dataset (dataset.json) or raw folder (classes.txt).")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--template", default="{}")
    t.add_argument("--text-encoder", default="all-MiniLM-L6-v2")
    f = sub.add_parser("fit", help="skelzs-train fit with the table standing in for the text encoder.")
    f.add_argument("--text", type=Path, required=True)
    if "--" in argv:
        cut = argv.index("--")
        own, rest = argv[:cut], argv[cut + 1:]
    else:
        own, rest = argv, []
    args = ap.parse_args(own)
    if args.cmd == "text":
        if (args.data / "dataset.json").is_file():
            man = json.loads((args.data / "dataset.json").read_text())
            texts = man.get("class_texts") or [args.template.format(c) for c in man["classes"]]
        else:
            names = (args.data / "classes.txt").read_text().splitlines()
            texts = [args.template.format(c) for c in names if c.strip()]
        ident = write_text_table(texts, args.out, args.text_encoder)
        print(f"wrote {args.out}: {len(texts)} texts, {ident}")
        return
    import skelzs.models.text as text_mod

    table = PrecomputedTextEncoder(args.text)
    text_mod.load_text_encoder = lambda *a, **k: table  # noqa: E731 - every caller in this process
    from skelzs.train.cli import main as train_main

    train_main(["fit", *rest])


if __name__ == "__main__":
    main()
