"""Text encoder: sentence-transformers pooling, CLIP towers, prompt templates, the on-disk cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skelzs.models.text import (TextEncoder, apply_template, class_texts, load_text_encoder,
                                read_descriptions)
from skelzs.stream.errors import CheckpointError


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return load_text_encoder(cache_dir=tmp_path_factory.mktemp("textcache"))


def test_minilm_mean_pooling_matches_per_sentence_computation(encoder):
    texts = ["drink water", "a person falling down to the ground", "wave"]
    got = encoder.encode(texts)
    assert got.shape == (3, 384) and got.dtype == torch.float32
    torch.testing.assert_close(got.norm(dim=-1), torch.ones(3))
    # sentence-transformers (not installed here) = mean over the unpadded tokens, then L2; compute
    # that sentence by sentence, without padding, straight from the transformer
    for i, t in enumerate(texts):
        tok = encoder.tokenizer(t, return_tensors="pt")
        with torch.no_grad():
            h = encoder.model(**tok).last_hidden_state[0]
        torch.testing.assert_close(got[i], F.normalize(h.mean(0), dim=0), atol=2e-5, rtol=0)
    assert encoder.identity["name"] == "all-MiniLM-L6-v2" and len(encoder.identity["sha256"]) == 64
    assert not any(p.requires_grad for p in encoder.model.parameters())
    sims = (got @ got.T).numpy()
    assert sims[0, 1] < 0.9


def test_cache_hit_and_invalidation(encoder, tmp_path):
    fresh = TextEncoder(encoder.model, encoder.tokenizer, name=encoder.name, sha256=encoder.sha256,
                        cache_dir=tmp_path)
    a = fresh.encode(["jump up", "sit down"])
    assert fresh.model_calls == 1 and len(list(tmp_path.rglob("*.npz"))) == 2
    again = TextEncoder(encoder.model, encoder.tokenizer, name=encoder.name, sha256=encoder.sha256,
                        cache_dir=tmp_path)
    b = again.encode(["sit down", "jump up", "sit down"])
    assert again.model_calls == 0                               # hit: no model call at all
    torch.testing.assert_close(b[1], a[0]) and torch.testing.assert_close(b[0], a[1])
    again.encode(["jump up", "kick"])                           # one new text → one call, one text
    assert again.model_calls == 1
    other = TextEncoder(encoder.model, encoder.tokenizer, name=encoder.name, sha256="0" * 64, cache_dir=tmp_path)
    other.encode(["jump up"])                                   # another identity → miss
    assert other.model_calls == 1
    # a damaged entry is recomputed, not trusted
    for f in tmp_path.rglob("*.npz"):
        f.write_bytes(b"garbage")
    again.model_calls = 0
    torch.testing.assert_close(again.encode(["jump up"])[0], a[0])
    assert again.model_calls == 1


def test_templates_and_descriptions(encoder, tmp_path):
    assert apply_template(["wave"], "person") == ["a person wave"]
    assert apply_template(["wave"], "someone is {}") == ["someone is wave"]
    assert apply_template(["wave"], None) == ["wave"]
    with pytest.raises(CheckpointError, match="placeholder"):
        apply_template(["wave"], "no placeholder")
    torch.testing.assert_close(encoder.encode(["wave"], template="a person {label}"), encoder.encode(["a person wave"]))
    lines = tmp_path / "des.txt"
    lines.write_text("wave: raising a hand and moving it side to side\nfall: dropping to the floor\n")
    assert class_texts(["wave", "sit"], template="person", descriptions=read_descriptions(lines)) == [
        "raising a hand and moving it side to side", "a person sit"]
    js = tmp_path / "des.json"
    js.write_text(json.dumps({"sit": "lowering onto a chair"}))
    assert class_texts(["sit"], descriptions=read_descriptions(js)) == ["lowering onto a chair"]
    plain = tmp_path / "plain.txt"
    plain.write_text("first class text\nsecond class text\n")
    assert class_texts(["a", "b"], descriptions=read_descriptions(plain)) == ["first class text", "second class text"]
    js.write_text("{broken")
    with pytest.raises(CheckpointError, match="invalid JSON"):
        read_descriptions(js)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(CheckpointError, match="not available offline"):
        load_text_encoder("no-such-model-xyz")


def test_clip_text_tower_uses_eot_token_and_projection(encoder, tmp_path):
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    tok = encoder.tokenizer
    cfg = CLIPTextConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77, projection_dim=16,
                         eos_token_id=tok.sep_token_id, bos_token_id=tok.cls_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    CLIPTextModelWithProjection(cfg).save_pretrained(tmp_path / "clip")
    tok.save_pretrained(tmp_path / "clip")
    clip = load_text_encoder(str(tmp_path / "clip"), cache_dir=tmp_path / "cache")
    assert clip.pooling == "clip" and clip.dim == 16
    texts = ["wave", "a person drinking water"]
    got = clip.encode(texts)
    for i, t in enumerate(texts):
        ids = tok(t, return_tensors="pt")
        with torch.no_grad():
            out = clip.model.text_model(**ids)
            eot = int((ids["input_ids"][0] == tok.sep_token_id).nonzero()[0])
            ref = clip.model.text_projection(out.last_hidden_state[0, eot])
        torch.testing.assert_close(got[i], F.normalize(ref, dim=0), atol=1e-5, rtol=0)
