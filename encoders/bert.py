"""A BERT encoder in plain torch, enough to run all-MiniLM-L6-v2 from its ``model.safetensors``.

Why not ``transformers.AutoModel``: importing transformers and its BERT module costs seconds at every
process start (``sensegraph search`` embeds one query), more than the model's forward pass. This is the
same computation as ``transformers``' ``BertModel`` in eval mode (post-LayerNorm encoder layers, exact
erf GELU, absolute positions, token type 0), checked against the sentence-transformers pipeline by
``tests/encoders/test_encoders_text.py`` to 1e-5.

    h_0 = LN(E_word[t] + E_pos[i] + E_type[0])
    a   = LN(h + W_o · softmax(Q Kᵀ / √d_head + mask) V)         (12 heads of 32 for MiniLM)
    h'  = LN(a + W_2 · GELU(W_1 · a))

Shapes: ``input_ids`` and ``attention_mask`` (n, L) → last hidden state (n, L, hidden).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class BertConfig:
    """The fields of a Hugging Face ``config.json`` this encoder uses (``model_type`` must be bert)."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12

    @classmethod
    def from_json(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("model_type") != "bert" or raw.get("hidden_act", "gelu") != "gelu" or \
                raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{path}: not a plain BERT (model_type bert, gelu, absolute positions)")
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


class BertLayer(nn.Module):
    """Self-attention and feed-forward, each followed by a residual LayerNorm (parameter names as in HF)."""

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        h, eps = cfg.hidden_size, cfg.layer_norm_eps
        self.heads = cfg.num_attention_heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out, self.attn_norm = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)
        self.ff_in, self.ff_out = nn.Linear(h, cfg.intermediate_size), nn.Linear(cfg.intermediate_size, h)
        self.ff_norm = nn.LayerNorm(h, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n, length, h = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(n, length, self.heads, h // self.heads).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)), split(self.value(x)),
                                             attn_mask=mask)
        a = self.attn_norm(x + self.attn_out(ctx.transpose(1, 2).reshape(n, length, h)))
        return self.ff_norm(a + self.ff_out(F.gelu(self.ff_in(a))))


class BertEncoder(nn.Module):
    """Embeddings plus ``num_hidden_layers`` ``BertLayer``s; no pooler (mean pooling happens outside)."""

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        h = cfg.hidden_size
        self.word = nn.Embedding(cfg.vocab_size, h)
        self.position = nn.Embedding(cfg.max_position_embeddings, h)
        self.token_type = nn.Embedding(cfg.type_vocab_size, h)
        self.norm = nn.LayerNorm(h, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.num_hidden_layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.size(1), device=input_ids.device)
        x = self.norm(self.word(input_ids) + self.position(positions) + self.token_type.weight[0])
        mask = attention_mask.bool()[:, None, None, :]  # (n, 1, 1, L): keys that are real tokens
        for layer in self.layers:
            x = layer(x, mask)
        return x


def _hf_name(name: str) -> str:
    """Our parameter name → the Hugging Face BertModel checkpoint key."""
    fixed = {"word.weight": "embeddings.word_embeddings.weight", "position.weight": "embeddings.position_embeddings.weight",
             "token_type.weight": "embeddings.token_type_embeddings.weight", "norm.weight": "embeddings.LayerNorm.weight",
             "norm.bias": "embeddings.LayerNorm.bias"}
    if name in fixed:
        return fixed[name]
    _, i, part, leaf = name.split(".")
    hf = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
          "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
          "ff_in": "intermediate.dense", "ff_out": "output.dense", "ff_norm": "output.LayerNorm"}[part]
    return f"encoder.layer.{i}.{hf}.{leaf}"


def load_bert(model_dir: Path) -> BertEncoder:
    """A ``BertEncoder`` in eval mode with every parameter loaded from ``model_dir/model.safetensors``."""
    from safetensors.torch import load_file

    model = BertEncoder(BertConfig.from_json(model_dir / "config.json"))
    weights = load_file(str(model_dir / "model.safetensors"))
    state: dict[str, Any] = {}
    for name in model.state_dict():
        key = _hf_name(name)
        if key not in weights:
            raise KeyError(f"{model_dir}/model.safetensors has no {key!r}")
        state[name] = weights[key]
    model.load_state_dict(state, strict=True)
    return model.eval()
