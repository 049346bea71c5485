"""Dual-stream prompted text encoder (SCoPLe module 1) on MiniLM and on a small random CLIP tower."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from skelzs.models.prompted_text import PromptedTextConfig, PromptedTextEncoder, load_hf_text_model

LABELS = ["drink water", "falling down", "waving a hand over the head", "kicking"]


@pytest.fixture(scope="module")
def minilm():
    model, tokenizer, identity = load_hf_text_model()
    return model, tokenizer, identity


@pytest.fixture(scope="module")
def tiny_clip_factory(minilm):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    _, tok, _ = minilm  # any offline tokenizer will do: the CLIP weights are random anyway

    def make(with_projection: bool):
        torch.manual_seed(0)
        cfg = CLIPTextConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                             num_attention_heads=4, max_position_embeddings=40, projection_dim=24,
                             bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id,
                             pad_token_id=tok.pad_token_id)
        cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
        return cls(cfg).eval(), tok

    return make


def _hf_mean_pooled(model, tok, labels):
    b = tok(labels, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = model(**b).last_hidden_state
    m = b["attention_mask"][..., None].float()
    return F.normalize((h * m).sum(1) / m.sum(1), dim=-1)


def test_frozen_stream_is_the_pretrained_minilm_embedding(minilm):
    model, tok, identity = minilm
    enc = PromptedTextEncoder(model, tok)
    assert enc.dim == 384 and identity["name"] == "all-MiniLM-L6-v2" and len(identity["sha256"]) == 64
    torch.testing.assert_close(enc.frozen(LABELS), _hf_mean_pooled(model, tok, LABELS), atol=1e-5, rtol=0)
    # ... and the plain text encoder's embedding, with the same identity
    from skelzs.models.text import load_text_encoder

    plain = load_text_encoder("all-MiniLM-L6-v2", use_cache=False)
    assert plain.identity == identity
    torch.testing.assert_close(enc.frozen(LABELS), plain.encode(LABELS).float(), atol=1e-5, rtol=0)


def test_only_prompts_and_fusion_weight_train(minilm):
    model, tok, _ = minilm
    torch.manual_seed(0)
    enc = PromptedTextEncoder(model, tok, PromptedTextConfig(n_ctx=3, prompt_depth=4))
    out = enc(LABELS)
    assert out.shape == (4, 384)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(4))
    loss = (out * torch.randn_like(out)).sum() + enc.last_consistency
    loss.backward()
    trainable = {n for n, p in enc.named_parameters() if p.requires_grad}
    assert trainable == {"ctx", "deep_prompts", "fusion_weight"}
    assert enc.deep_prompts.shape == (3, 3, 384)  # depth-1 deeper layers × n_ctx × hidden
    for n, p in enc.named_parameters():
        if n in trainable:
            assert p.grad is not None and p.grad.abs().sum() > 0, n
        else:
            assert p.grad is None, n
    # the frozen transformer is not in the state dict, and a fresh encoder loads it strictly
    sd = enc.state_dict()
    assert set(sd) == {"ctx", "deep_prompts", "fusion_weight"}
    other = PromptedTextEncoder(model, tok, PromptedTextConfig(n_ctx=3, prompt_depth=4))
    other.load_state_dict(sd, strict=True)
    torch.testing.assert_close(other(LABELS), out.detach())


def test_ctx_init_uses_word_embeddings_and_consistency_is_small(minilm):
    model, tok, _ = minilm
    enc = PromptedTextEncoder(model, tok, PromptedTextConfig(n_ctx=4, ctx_init="a person"))
    ids = tok("a person", add_special_tokens=False)["input_ids"]
    torch.testing.assert_close(enc.ctx.data[: len(ids)], model.embeddings.word_embeddings.weight[ids])
    with torch.no_grad():
        enc(LABELS)
    # the prompted stream starts close to the frozen one ("a person <label>"), and is not identical
    assert 0.0 < float(enc.last_consistency) < 0.3


def test_padding_does_not_change_a_label(minilm, tiny_clip_factory):
    """Masks are right: a label scores the same alone as batched with longer labels (both towers)."""
    model, tok, _ = minilm
    for m, t in ((model, tok), tiny_clip_factory(True)):
        torch.manual_seed(1)
        enc = PromptedTextEncoder(m, t, PromptedTextConfig(n_ctx=2, prompt_depth=2, ctx_init=None))
        with torch.no_grad():
            together = enc(LABELS)
            alone = torch.cat([enc([lab]) for lab in LABELS])
        torch.testing.assert_close(together, alone, atol=2e-5, rtol=0)


@pytest.mark.parametrize("with_projection", [True, False])
def test_clip_tower_eot_pooling_and_prompts(tiny_clip_factory, with_projection):
    model, tok = tiny_clip_factory(with_projection)
    enc = PromptedTextEncoder(model, tok, PromptedTextConfig(n_ctx=2, prompt_depth=3, ctx_init=None))
    assert enc.tower.kind == "clip" and enc.dim == (24 if with_projection else 32)
    b = tok(LABELS, padding=True, return_tensors="pt")
    with torch.no_grad():
        o = model(**b)
    ref = o.text_embeds if with_projection else o.pooler_output
    torch.testing.assert_close(enc.frozen(LABELS), F.normalize(ref, dim=-1), atol=1e-5, rtol=0)
    out = enc(LABELS)
    (out * torch.randn_like(out)).sum().backward()
    assert enc.ctx.grad.abs().sum() > 0 and enc.deep_prompts.grad.abs().sum() > 0
    assert all(p.grad is None for p in enc.tower.parameters())


def test_prompts_off_is_the_frozen_encoder_without_parameters(minilm):
    model, tok, _ = minilm
    enc = PromptedTextEncoder(model, tok, use_prompts=False)
    assert [n for n, p in enc.named_parameters() if p.requires_grad] == []
    assert enc.state_dict() == {}
    torch.testing.assert_close(enc(LABELS), enc.frozen(LABELS))
    assert enc([]).shape == (0, 384)


def test_bad_prompt_depth_is_rejected(minilm):
    model, tok, _ = minilm
    with pytest.raises(ValueError, match="prompt_depth"):
        PromptedTextEncoder(model, tok, PromptedTextConfig(prompt_depth=7))  # MiniLM has 6 layers


def test_unknown_text_model_is_a_checkpoint_error():
    from skelzs.stream.errors import CheckpointError

    with pytest.raises(CheckpointError, match="text-model"):
        load_hf_text_model("/nonexistent/text-model")


def test_depth_one_has_input_prompts_only(minilm):
    model, tok, _ = minilm
    enc = PromptedTextEncoder(model, tok, PromptedTextConfig(n_ctx=2, prompt_depth=1))
    assert {n for n, p in enc.named_parameters() if p.requires_grad} == {"ctx", "fusion_weight"}
    out = enc(LABELS[:2])
    (out * torch.randn_like(out)).sum().backward()
    assert enc.ctx.grad.abs().sum() > 0
